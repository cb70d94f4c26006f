#!/usr/bin/env python3
"""Speed of `dropbench eval coco` against pycocotools' COCOeval on the same files, measured in
the same run: N images (default 5,000, COCO val2017's count), 80 categories, about 7 ground
truths and exactly 100 detections per image. Times the whole evaluation after the files are
read (pycocotools: evaluate + accumulate + summarize; dropbench: its eval_seconds), and the
reading as well, median of 3 runs each.
usage: bench_coco.py DROPBENCH [IMAGES]"""
import contextlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

try:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
except ImportError as e:
    print("bench_coco: pycocotools is not importable (%s)" % e)
    sys.exit(3)

dropbench, n_img = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5000
rng = random.Random(42)
images = [{"id": i + 1} for i in range(n_img)]
cats = list(range(1, 81))
anns, dets = [], []
for im in images:
    gts = []
    for _ in range(rng.randint(1, 14)):
        w, h = rng.uniform(4, 300), rng.uniform(4, 300)
        b = [rng.uniform(0, 500), rng.uniform(0, 400), w, h]
        c = rng.choice(cats)
        anns.append({"id": len(anns) + 1, "image_id": im["id"], "category_id": c, "bbox": b, "area": w * h * 0.8,
                     "iscrowd": int(rng.random() < 0.01)})
        gts.append((b, c))
    for _ in range(100):
        if gts and rng.random() < 0.3:
            b, c = rng.choice(gts)
            b = [b[0] + rng.uniform(-10, 10), b[1] + rng.uniform(-10, 10), b[2] * rng.uniform(0.8, 1.2), b[3] * rng.uniform(0.8, 1.2)]
        else:
            b, c = [rng.uniform(0, 500), rng.uniform(0, 400), rng.uniform(4, 300), rng.uniform(4, 300)], rng.choice(cats)
        dets.append({"image_id": im["id"], "category_id": c, "bbox": b, "score": rng.random()})
gt = {"images": images, "categories": [{"id": c} for c in cats], "annotations": anns}

with tempfile.TemporaryDirectory() as tmp:
    gp, dp = os.path.join(tmp, "gt.json"), os.path.join(tmp, "dt.json")
    json.dump(gt, open(gp, "w"))
    json.dump(dets, open(dp, "w"))
    py_eval, py_load, ours_eval, ours_all = [], [], [], []
    for _ in range(3):
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            g = COCO(gp)
            d = g.loadRes(dp)
            t1 = time.perf_counter()
            e = COCOeval(g, d, "bbox")
            e.evaluate()
            e.accumulate()
            e.summarize()
        t2 = time.perf_counter()
        py_load.append(t1 - t0)
        py_eval.append(t2 - t1)
        t0 = time.perf_counter()
        out = subprocess.run([dropbench, "eval", "coco", "--gt", gp, "--results", dp, "--json"], capture_output=True,
                             text=True, check=True)
        ours_all.append(time.perf_counter() - t0)
        r = json.loads(out.stdout)
        ours_eval.append(r["eval_seconds"])
    diff = max(abs(a - r[k]) for a, k in zip(e.stats, ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10",
                                                        "AR100", "ARs", "ARm", "ARl")))
    pe, pl, oe, oa = (statistics.median(v) for v in (py_eval, py_load, ours_eval, ours_all))
    print("%d images, %d ground truths, %d detections; the 12 numbers agree to %.1g" % (n_img, len(anns), len(dets), diff))
    print("pycocotools: read %.2f s, evaluate+accumulate+summarize %.2f s" % (pl, pe))
    print("dropbench:   evaluation %.3f s (the whole command, reading included: %.2f s)" % (oe, oa))
    print("evaluation %.1fx faster than pycocotools; read and evaluate %.1fx" % (pe / oe, (pl + pe) / oa))
