#!/usr/bin/env python3
"""Cross-check `dropbench eval coco` against pycocotools' COCOeval on randomly generated ground
truths and detections: many images, several categories with non-contiguous ids, crowd boxes,
annotation areas apart from box areas, boxes exactly on the area-range borders (32x32, 96x96),
ties in scores, more than 100 detections for an image, detections of unknown categories and on
images without ground truth. All 12 numbers must agree to 1e-6.
usage: coco_crosscheck.py DROPBENCH [ROUNDS]   exit 0 agree, 1 differ, 77 no pycocotools"""
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile

try:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
except ImportError as e:
    print("pycocotools is not importable (%s)" % e)
    sys.exit(77)

dropbench = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 6


def box(rng):
    kind = rng.random()
    if kind < 0.15:
        w, h = 32, 32                      # area exactly 32^2: small and medium both
    elif kind < 0.3:
        w, h = 96, 96                      # exactly 96^2
    elif kind < 0.6:
        w, h = rng.uniform(2, 40), rng.uniform(2, 40)
    else:
        w, h = rng.uniform(20, 300), rng.uniform(20, 300)
    return [round(rng.uniform(0, 400), 2), round(rng.uniform(0, 400), 2), round(w, 2), round(h, 2)]


def generate(seed):
    rng = random.Random(seed)
    n_img, cats = rng.randint(20, 80), rng.sample(range(1, 40), rng.randint(2, 6))
    images = [{"id": i * 3 + 7, "width": 640, "height": 480} for i in range(n_img)]
    anns, dets, aid = [], [], 1
    scores = [0.3, 0.5, 0.5, 0.7, 0.9] + [rng.random() for _ in range(20)]  # ties on purpose
    for im in images:
        if rng.random() < 0.1:
            continue                                    # an image without ground truth
        for _ in range(rng.randint(0, 12)):
            b, c = box(rng), rng.choice(cats)
            area = b[2] * b[3] if rng.random() < 0.7 else b[2] * b[3] * rng.uniform(0.4, 1.0)
            anns.append({"id": aid, "image_id": im["id"], "category_id": c, "bbox": b, "area": area,
                         "iscrowd": 1 if rng.random() < 0.1 else 0})
            aid += 1
            for _ in range(rng.randint(0, 3)):          # detections near the ground truth
                j = [b[0] + rng.uniform(-8, 8), b[1] + rng.uniform(-8, 8), b[2] * rng.uniform(0.8, 1.2),
                     b[3] * rng.uniform(0.8, 1.2)]
                dets.append({"image_id": im["id"], "category_id": c, "bbox": [round(v, 2) for v in j],
                             "score": rng.choice(scores)})
        for _ in range(rng.randint(0, 8)):              # background detections
            dets.append({"image_id": im["id"], "category_id": rng.choice(cats + [999]), "bbox": box(rng),
                         "score": rng.choice(scores)})
    crowded = rng.choice(images)["id"]                  # more than 100 for one image and category
    for _ in range(130):
        dets.append({"image_id": crowded, "category_id": cats[0], "bbox": box(rng), "score": rng.choice(scores)})
    gt = {"images": images, "categories": [{"id": c, "name": "c%d" % c} for c in cats], "annotations": anns}
    return gt, dets


def pycoco(gt_path, dt_path):
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(gt_path)
        d = g.loadRes(dt_path)
        e = COCOeval(g, d, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return [float(v) for v in e.stats]


def ours(gt_path, dt_path):
    out = subprocess.run([dropbench, "eval", "coco", "--gt", gt_path, "--results", dt_path, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit("dropbench eval failed: " + out.stderr)
    r = json.loads(out.stdout)
    return [r[k] for k in ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")]


def cases():
    # the single-box known answer of metrics.md
    yield "single box", ({"images": [{"id": 1}], "categories": [{"id": 1}],
                          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [214, 41, 348, 244],
                                           "area": 348 * 244, "iscrowd": 0}]},
                         [{"image_id": 1, "category_id": 1, "bbox": [258, 41, 348, 244], "score": 0.536}])
    for s in range(rounds):
        yield "random seed %d" % s, generate(s)


worst, bad = 0.0, 0
with tempfile.TemporaryDirectory() as tmp:
    for name, (gt, dets) in cases():
        gp, dp = os.path.join(tmp, "gt.json"), os.path.join(tmp, "dt.json")
        with open(gp, "w") as f:
            json.dump(gt, f)
        with open(dp, "w") as f:
            json.dump(dets, f)
        a, b = pycoco(gp, dp), ours(gp, dp)
        diff = max(abs(x - y) for x, y in zip(a, b))
        worst = max(worst, diff)
        ok = diff <= 1e-6
        bad += not ok
        print("%s %s: %d images, %d ground truths, %d detections, max |diff| %.2g%s" % (
            "ok  " if ok else "FAIL", name, len(gt["images"]), len(gt["annotations"]), len(dets), diff,
            "" if ok else "\n  pycocotools %s\n  dropbench   %s" % (a, b)))
print("%d of %d cases agree with pycocotools to 1e-6 (worst %.2g)" % (rounds + 1 - bad, rounds + 1, worst))
sys.exit(1 if bad else 0)
