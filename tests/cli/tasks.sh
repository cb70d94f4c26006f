# Command-line tests (tests/cli.sh runs them): detection and segmentation: training, resuming, evaluators, predictions.
# shellcheck shell=bash

t_eval_coco() {
    # eval coco: the known answer through the command, clear errors
    printf '%s' '{"images":[{"id":1}],"categories":[{"id":1}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[214,41,348,244],"area":84912,"iscrowd":0}]}' >"$T/gt.json"
    printf '%s' '[{"image_id":1,"category_id":1,"bbox":[258,41,348,244],"score":0.536}]' >"$T/dt.json"
    db eval coco --gt "$T/gt.json" --results "$T/dt.json" --json && expect_rc 0 || return
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert abs(d["AP"]-0.6)<1e-12 and abs(d["AP50"]-1)<1e-12 and d["APs"]==-1, d' "$out" ||
        { echo "known answer: $(snippet "$out")"; return 1; }
    db eval coco --gt "$T/gt.json" --results "$T/dt.json" && expect_rc 0 && expect_out "area= large | maxDets=100 ] = 0.600" || return
    printf '%s' '[{"image_id":7,"category_id":1,"bbox":[0,0,1,1],"score":1}]' >"$T/bad.json"
    db eval coco --gt "$T/gt.json" --results "$T/bad.json" && expect_rc 1 && expect_err "bad.json: result 0: image_id 7" || return
    db eval coco --gt "$T/gt.json" && expect_rc 2 && expect_err "--results" || return
    # a category id not in the ground truth: left out and said; all of them so: refused (0-based indices?)
    printf '%s' '[{"image_id":1,"category_id":1,"bbox":[258,41,348,244],"score":0.536},{"image_id":1,"category_id":0,"bbox":[0,0,9,9],"score":0.9}]' >"$T/unk.json"
    db eval coco --gt "$T/gt.json" --results "$T/unk.json" && expect_rc 0 && expect_out "1 of the detections have a category_id not among" &&
        expect_out "area= large | maxDets=100 ] = 0.600" || return
    printf '%s' '[{"image_id":1,"category_id":0,"bbox":[258,41,348,244],"score":0.536}]' >"$T/unk.json"
    db eval coco --gt "$T/gt.json" --results "$T/unk.json" && expect_rc 1 && expect_err "indices counted from 0" || return
    # two annotations with one id: an error (pycocotools keys them in a dict and would lose one)
    printf '%s' '{"images":[{"id":1}],"categories":[{"id":1}],"annotations":[{"id":5,"image_id":1,"category_id":1,"bbox":[0,0,10,10],"area":100},{"id":5,"image_id":1,"category_id":1,"bbox":[20,20,10,10],"area":100}]}' >"$T/dup.json"
    db eval coco --gt "$T/dup.json" --results "$T/dt.json" && expect_rc 1 && expect_err "annotation id 5 appears twice" || return
    db eval coco --gt "$T/nope.json" --results "$T/dt.json" && expect_rc 1 && expect_err "nope.json: cannot read the file" &&
        ! grep -q "not JSON" "$err" || return
    db eval nosuch && expect_rc 2 || return
    need_fmnist || return # the scores stored as a run's metrics
    db train --epochs 1 --train-limit 256 --test-limit 128 --batch 64 --db "$T/r.db" && expect_rc 0 || return
    db eval coco --gt "$T/gt.json" --results "$T/dt.json" --db "$T/r.db" --run 1 --epoch 1 && expect_rc 0 || return
    [ "$(sqlite3 "$T/r.db" "SELECT round(value, 6) FROM metrics WHERE run_id = 1 AND split = 'eval' AND name = 'coco_AP'")" = 0.6 ] ||
        { echo "stored: $(sqlite3 "$T/r.db" "SELECT name, value FROM metrics WHERE split = 'eval'")"; return 1; }
    db eval coco --gt "$T/gt.json" --results "$T/dt.json" --db "$T/r.db" --run 9 && expect_rc 2 && expect_err "no run 9" || return
    db eval coco --gt "$T/gt.json" --results "$T/dt.json" --run 1 && expect_rc 2 && expect_err "--db" || return
}

t_eval_coco_pycocotools() {
    # the 12 numbers against pycocotools itself on random data (set DROPBENCH_PYCOCO_PYTHON to a
    # Python that has it; skipped with a note where it is absent: it is not a Debian package)
    local py=${DROPBENCH_PYCOCO_PYTHON:-python3} rc=0
    "$py" tests/coco_crosscheck.py "$DB" 8 >"$T/cross.txt" 2>&1 || rc=$?
    if [ $rc = 77 ]; then echo "pycocotools absent ($py): the cross-check did not run"; return 77; fi
    [ $rc = 0 ] || { echo "pycocotools disagrees: $(grep -v '^ok' "$T/cross.txt" | head -5)"; return 1; }
    tail -1 "$T/cross.txt" >"$T/note"
}

t_eval_miou() {
    # eval miou over folders of VOC-style palette PNGs: the known answer of metrics.md (three maps,
    # ignore 255), absent classes left out, mismatches and out-of-range predictions refused
    mkdir -p "$T/gt" "$T/pred"
    python3 - "$T" <<'PY' || { echo "fixture failed"; return 1; }
import struct, sys, zlib
def png(path, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
                + chunk(b"PLTE", bytes(range(256)) * 3) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
t = sys.argv[1]
maps = [([[1, 2], [3, 4], [5, 255]], [[0, 3], [5, 4], [6, 255]]),
        ([[2, 7], [9, 2], [3, 6]], [[1, 7], [9, 2], [3, 6]]),
        ([[2, 2, 3], [8, 2, 4], [3, 255, 2]], [[1, 2, 2], [8, 2, 1], [3, 255, 1]])]
for i, (pred, gt) in enumerate(maps):
    png("%s/pred/%d.png" % (t, i), pred)
    png("%s/gt/%d.png" % (t, i), gt)
png("%s/odd.png" % t, [[1, 2, 3]])
for d, rows in (("x", [[1, 255]]), ("y", [[6, 2]]), ("w", [[1, 2]])):  # faults, each in one file
    import os
    os.makedirs("%s/%s" % (t, d))
    png("%s/%s/m.png" % (t, d), rows)
PY
    db eval miou --gt "$T/gt" --pred "$T/pred" --classes 10 --ignore 255 --json && expect_rc 0 || return
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
want = [0, 0, 0.375, 0.4, 0.5, 0, 0.5, 1, 1, 1]
assert all(abs(a - b) < 1e-12 for a, b in zip(d["iou"], want)), d["iou"]
assert abs(d["miou"] - 0.4775) < 1e-12 and abs(d["pixel_accuracy"] - 10 / 19) < 1e-12, d
assert abs(d["mean_class_accuracy"] - 0.5916666666666667) < 1e-12 and d["ignored"] == 2, d' "$out" ||
        { echo "known answer: $(snippet "$out")"; return 1; }
    db eval miou --gt "$T/gt" --pred "$T/pred" --classes 12 && expect_rc 0 && expect_out "absent from both" &&
        expect_out "mIOU 0.4775 over 10 classes" || return
    cp "$T/odd.png" "$T/pred/1.png"
    db eval miou --gt "$T/gt" --pred "$T/pred" --classes 10 && expect_rc 1 && expect_err "1.png is 3x1" || return
    rm "$T/pred/1.png"
    db eval miou --gt "$T/gt" --pred "$T/pred" --classes 10 && expect_rc 1 && expect_err "1.png" || return
    db eval miou --gt "$T/gt" --pred "$T/gt" --classes 5 && expect_rc 1 && expect_err "is neither a class" || return
    # the file that holds the bad value is named, and only that one
    db eval miou --gt "$T/y" --pred "$T/x" --classes 5 && expect_rc 1 &&
        expect_err "$T/y/m.png: pixel 0: ground truth 6 is neither a class (0..4) nor the ignore label 255" &&
        ! grep -q "$T/x/" "$err" || return
    db eval miou --gt "$T/w" --pred "$T/x" --classes 5 && expect_rc 1 &&
        expect_err "$T/x/m.png: pixel 1: prediction 255 is not a class (0..4); a prediction may not use the ignore label" &&
        ! grep -q "$T/w/" "$err" || return
    db eval miou --gt "$T/gt" && expect_rc 2 || return
    cp "$T/gt/1.png" "$T/pred/1.png" # the map removed above, back as a perfect prediction
    need_fmnist || return
    db train --epochs 1 --train-limit 256 --test-limit 128 --batch 64 --db "$T/r.db" && expect_rc 0 || return
    db eval miou --gt "$T/gt" --pred "$T/pred" --classes 10 --db "$T/r.db" --run 1 && expect_rc 0 || return
    [ "$(sqlite3 "$T/r.db" "SELECT count(*) FROM metrics WHERE split = 'eval' AND name LIKE 'iou_%'")" = 10 ] &&
        [ "$(sqlite3 "$T/r.db" "SELECT count(*) FROM metrics WHERE split = 'eval' AND name = 'iou_0' AND value IS NULL")" = 0 ] ||
        { echo "stored: $(sqlite3 "$T/r.db" "SELECT name, value FROM metrics WHERE split = 'eval'" | tr '\n' ' ')"; return 1; }
}

t_train_detector() {
    # a small RetinaNet on a small Fashion-MNIST detection set: trains, scores AP, records it,
    # the same bits twice; DropBlock in its backbone; the combinations that make no sense refused
    need_fmnist || return
    db data make fmnist-detect --out "$T/det" --train 96 --val 32 --size 64 --sides 16,32 && expect_rc 0 || return
    local args=(--model retinanet-resnet18-fpn --dataset fmnist-detect --data-dir "$T/det" --width 8 --fpn-width 16
        --head-convs 1 --max-level 6 --batch 16 --epochs 2 --lr 0.02 --threads 2)
    db train "${args[@]}" --metrics "$T/det1.csv" --db "$T/det.db" && expect_rc 0 && expect_out "AP50" || return
    head -1 "$T/det1.csv" | grep -q "test_AP,test_AP50,test_AP75,test_APs,test_APm,test_APl,test_AR100" ||
        { echo "metrics columns: $(snippet "$T/det1.csv")"; return 1; }
    awk -F, 'NR == 3 { exit !($6 >= 0 && $6 <= 1 && $4 > 0) }' "$T/det1.csv" ||
        { echo "AP not in [0, 1] or no positives: $(snippet "$T/det1.csv")"; return 1; }
    sqlite3 "$T/det.db" "select count(*) from metrics where name = 'AP' and split = 'test'" | grep -qx 2 ||
        { echo "AP not recorded per epoch"; return 1; }
    db train "${args[@]}" --metrics "$T/det2.csv" && expect_rc 0 || return
    cmp -s <(cut -d, -f1-12 "$T/det1.csv") <(cut -d, -f1-12 "$T/det2.csv") ||
        { echo "two runs with one seed differ: $(snippet "$T/det2.csv")"; return 1; }
    db train "${args[@]}" --regularizer dropblock --keep-prob 0.9 --block-size 3 --reg-groups 3,4 --epochs 1 \
        --site-metrics "$T/detsites.csv" && expect_rc 0 || return
    awk -F, 'NR > 1 { n++; if ($4 < 3) bad++ } END { exit !(n > 0 && !bad) }' "$T/detsites.csv" ||
        { echo "DropBlock sites outside backbone groups 3 and 4: $(snippet "$T/detsites.csv")"; return 1; }
    db train "${args[@]}" --dataset fashion-mnist --data-dir "" && expect_rc 2 && expect_err "is a detector" || return
    db train --dataset fmnist-detect --data-dir "$T/det" && expect_rc 2 && expect_err "holds boxes" || return
    db train "${args[@]}" --cutout 8 && expect_rc 2 && expect_err "cutout" || return
    db train "${args[@]}" --data-dir "$T/nosuch" && expect_rc 1 && expect_err "dropbench data make fmnist-detect"
}

t_detector_init_from() {
    # the "pretrained" column at small scale: a ResNet-18 classifier trained on Fashion-MNIST,
    # its checkpoint the detector's starting backbone; another width is refused, saying why
    need_fmnist || return
    db data make fmnist-detect --out "$T/deti" --train 64 --val 32 --size 64 --sides 16,32 && expect_rc 0 || return
    # (trained with RMSProp and a moving average: the optimizer state it keeps besides is skipped)
    db train --model resnet18 --width 8 --train-limit 256 --test-limit 64 --epochs 1 --batch 32 \
        --optimizer rmsprop --ema-decay 0.99 --checkpoint-dir "$T/cls" --db "$T/cls.db" && expect_rc 0 || return
    local args=(--model retinanet-resnet18-fpn --dataset fmnist-detect --data-dir "$T/deti" --fpn-width 16 --head-convs 1
        --max-level 6 --batch 16 --epochs 1 --db "$T/deti.db")
    db train "${args[@]}" --width 8 --init-from "$T/cls" && expect_rc 0 &&
        expect_err "60 parameter tensors and 20 batch norms' running statistics copied from a 10-class classifier" || return
    # the weights it started from on record by checksum, as its data
    local sum
    sum=$(sha256sum "$T/cls/checkpoint.dbck" | cut -d' ' -f1)
    [ "$(sqlite3 "$T/deti.db" "select value from provenance where run_id = 1 and key = 'init_from'")" = \
        "$T/cls/checkpoint.dbck sha256 $sum" ] || { echo "init_from not in the provenance"; return 1; }
    db train "${args[@]}" --width 16 --init-from "$T/cls" && expect_rc 2 && expect_err "no classifier of this run's backbone" ||
        return
    # weights that are not there: refused before anything is recorded
    local before
    before=$(sqlite3 "$T/deti.db" 'select count(*) from runs')
    db train "${args[@]}" --width 8 --init-from "$T/nosuch" && expect_rc 2 && expect_err "no checkpoint there" || return
    [ "$(sqlite3 "$T/deti.db" 'select count(*) from runs')" = "$before" ] ||
        { echo "a run from a missing checkpoint was recorded"; return 1; }
    # the segmenter's backbone alike (Table 4's pretrained column)
    db train --model fcn-resnet18-fpn --dataset fmnist-segment --data-dir "$T/deti" --width 8 --fpn-width 16 --head-convs 1 \
        --batch 16 --epochs 1 --db "$T/segi.db" --init-from "$T/cls" && expect_rc 0 &&
        expect_err "60 parameter tensors and 20 batch norms' running statistics copied from a 10-class classifier"
}

t_detector_resume() {
    # a detector and a segmenter stopped after their first epoch and resumed give the
    # uninterrupted runs' metrics, AP and mIOU included, bit for bit (shared weights and all)
    need_fmnist || return
    db data make fmnist-detect --out "$T/detr" --train 128 --val 32 --size 64 --sides 16,32 && expect_rc 0 || return
    resume_same_bits detr AP --model retinanet-resnet18-fpn --dataset fmnist-detect --data-dir "$T/detr" --width 8 \
        --fpn-width 16 --head-convs 1 --max-level 6 --batch 16 || return
    resume_same_bits segr mIOU --model fcn-resnet18-fpn --dataset fmnist-segment --data-dir "$T/detr" --width 8 \
        --fpn-width 16 --head-convs 1 --batch 16 --regularizer dropblock --reg-groups head --block-size 3
}

t_study_detector() {
    # the quick detection recipe as a study on the set built into the cache: two cells that
    # record AP, and a report that names AP, compares nothing with Table 1 and sets the study beside Table 3
    need_fmnist || return
    XDG_CACHE_HOME=$T/xdgd db data make fmnist-detect --train 256 --val 64 --size 64 --sides 16,32 && expect_rc 0 || return
    XDG_CACHE_HOME=$T/xdgd db study bench/recipes/fmnist-detect-quick.txt --db "$T/sd.db" && expect_rc 0 &&
        expect_out "2 ran now" && expect_out "AP " || return
    db report --db "$T/sd.db" --out "$T/sdrep" --no-plots && expect_rc 0 || return
    grep -q "final test AP" "$T/sdrep/REPORT.md" && ! grep -q "Beside the paper (ResNet-50 on ImageNet, Table 1)" "$T/sdrep/REPORT.md" ||
        { echo "the report: $(grep -m3 -n "Results\|Table 1" "$T/sdrep/REPORT.md")"; return 1; }
    # beside the paper's Table 3 (random initialisation column): AP 36.8 without, 38.4 with DropBlock
    grep -q '^| regularizer=none | none | - | .* | 36.8 | - |$' "$T/sdrep/REPORT.md" &&
        grep -q '^| regularizer=dropblock | DropBlock | 3 | .* | 38.4 | +1.6 |$' "$T/sdrep/REPORT.md" ||
        { echo "Table 3: $(grep -A4 'Table 3 at this scale' "$T/sdrep/REPORT.md" | tail -3)"; return 1; }
    # and its verdict: DropBlock (the best block size) against the baseline, the paper's +1.60 beside
    grep -q '^- DropBlock − regularizer=none: .*; paper +1.60' "$T/sdrep/REPORT.md" ||
        { echo "Table 3 verdict: $(grep -m2 'DropBlock −' "$T/sdrep/REPORT.md")"; return 1; }
    ! grep -qiw 'nan' "$T/sdrep/REPORT.md" || { echo "NaN printed: $(grep -m1 -iw nan "$T/sdrep/REPORT.md")"; return 1; }
}

t_train_segmenter() {
    # a small ResNet-FPN + FCN head on the label maps of a small Fashion-MNIST set: trains, scores
    # mIOU, records it, the same bits twice; DropBlock in the head only; the quick recipe as a
    # study; the combinations that make no sense refused, and a set without label maps named
    need_fmnist || return
    db data make fmnist-detect --out "$T/seg" --train 96 --val 32 --size 64 --sides 16,32 && expect_rc 0 || return
    [ -s "$T/seg/segmentation/val/00000032.png" ] || { echo "no label maps written"; return 1; }
    local args=(--model fcn-resnet18-fpn --dataset fmnist-segment --data-dir "$T/seg" --width 8 --fpn-width 16
        --head-convs 1 --batch 16 --epochs 2 --lr 0.02 --threads 2)
    db train "${args[@]}" --metrics "$T/seg1.csv" --db "$T/seg.db" && expect_rc 0 && expect_out "mIOU" || return
    head -1 "$T/seg1.csv" | grep -q "test_mIOU,test_pixel_acc,test_class_acc" ||
        { echo "metrics columns: $(snippet "$T/seg1.csv")"; return 1; }
    awk -F, 'NR == 3 { exit !($7 > 0 && $7 <= 1 && $8 > 0.5 && $8 <= 1) }' "$T/seg1.csv" ||
        { echo "mIOU or pixel accuracy out of range: $(snippet "$T/seg1.csv")"; return 1; }
    sqlite3 "$T/seg.db" "select count(*) from metrics where name = 'mIOU' and split = 'test'" | grep -qx 2 ||
        { echo "mIOU not recorded per epoch"; return 1; }
    # each class's IoU recorded beside it (IoU/0 the background), their mean the mIOU
    local q="select count(*), abs(avg(c.value) - m.value) < 1e-12 from metrics c join metrics m on m.run_id = c.run_id
        and m.epoch = c.epoch and m.split = 'test' and m.name = 'mIOU' where c.split = 'test' and c.name like 'IoU/%'
        and c.epoch = 2"
    sqlite3 "$T/seg.db" "$q" | grep -qE '^(1[01]|[2-9])\|1$' ||
        { echo "per-class IoU: $(sqlite3 "$T/seg.db" "$q")"; return 1; }
    db train "${args[@]}" --metrics "$T/seg2.csv" && expect_rc 0 || return
    cmp -s <(cut -d, -f1-9 "$T/seg1.csv") <(cut -d, -f1-9 "$T/seg2.csv") ||
        { echo "two runs with one seed differ: $(snippet "$T/seg2.csv")"; return 1; }
    db train "${args[@]}" --regularizer dropblock --keep-prob 0.9 --block-size 3 --reg-groups head --epochs 1 \
        --site-metrics "$T/segsites.csv" && expect_rc 0 || return
    awk -F, 'NR > 1 { n++; if ($4 != 5) bad++ } END { exit !(n > 0 && !bad) }' "$T/segsites.csv" ||
        { echo "DropBlock sites outside the head: $(snippet "$T/segsites.csv")"; return 1; }
    db train "${args[@]}" --reg-groups head --regularizer dropblock --model retinanet-resnet18-fpn --dataset fmnist-detect \
        && expect_rc 2 && expect_err "reg_groups" || return
    db train "${args[@]}" --dataset fashion-mnist --data-dir "" && expect_rc 2 && expect_err "is a segmenter" || return
    db train --dataset fmnist-segment --data-dir "$T/seg" && expect_rc 2 && expect_err "holds label maps" || return
    db train "${args[@]}" --cutout 8 && expect_rc 2 && expect_err "cutout" || return
    # a set without its label maps (built before they were written), and a label outside the classes
    mv "$T/seg/segmentation" "$T/seg/seg.away"
    db train "${args[@]}" && expect_rc 1 && expect_err "build the set again" || return
    mv "$T/seg/seg.away" "$T/seg/segmentation"
    printf '\x89PNG garbage' >"$T/seg/segmentation/val/00000003.png"
    db train "${args[@]}" && expect_rc 1 && expect_err "00000003.png" || return
    XDG_CACHE_HOME=$T/xdgs db data make fmnist-detect --train 256 --val 64 --size 64 --sides 16,32 && expect_rc 0 || return
    XDG_CACHE_HOME=$T/xdgs db study bench/recipes/fmnist-segment-quick.txt --db "$T/ss.db" && expect_rc 0 &&
        expect_out "2 ran now" && expect_out "mIOU" || return
    # the report sets the study beside the paper's Table 4 (random initialisation: 47.2 without,
    # 53.4 with DropBlock in the FCN head) and gives its verdict in mIOU
    db report --db "$T/ss.db" --out "$T/ssrep" --no-plots && expect_rc 0 || return
    grep -q '^| regularizer=none | none | - | .* | 47.2 | - |$' "$T/ssrep/REPORT.md" &&
        grep -q '^| regularizer=dropblock | DropBlock (in FCN head) | 3 | .* | 53.4 | +6.2 |$' "$T/ssrep/REPORT.md" &&
        grep -q '^- DropBlock − regularizer=none: .*; paper +6.20' "$T/ssrep/REPORT.md" ||
        { echo "Table 4: $(grep -A5 'Table 4 at this scale' "$T/ssrep/REPORT.md" | tail -3)"; return 1; }
}

t_train_segmenter_voc() {
    # VOC 2012's layout end to end at toy size: the verified tar unpacked into the cache's voc2012
    # folder, a small segmenter trained on its JPEGs and palette label maps with the official
    # scale jitter (0.75-1.5) and flips, scored in mIOU at full resolution; bad input named
    command -v cjpeg >/dev/null || { echo "cjpeg missing (libjpeg-turbo-progs, scripts/deps)"; return 1; }
    local cache=$T/xdgv/dropbench
    voc_tar "$T/vt" "$cache" 24 8 || { echo "the VOC fixture failed"; return 1; }
    XDG_CACHE_HOME=$T/xdgv db data unpack voc2012 --catalog "$T/vt/catalog" && expect_rc 0 || return
    [ -s "$cache/voc2012/VOCdevkit/VOC2012/SegmentationClass/2012_000031.png" ] || { echo "not unpacked"; return 1; }
    local args=(--model fcn-resnet18-fpn --dataset voc2012 --image-size 64 --width 8 --fpn-width 16 --head-convs 1
        --batch 8 --epochs 2 --lr 0.02 --augment-pad 0 --scale-min 0.75 --scale-max 1.5 --threads 2)
    XDG_CACHE_HOME=$T/xdgv db train "${args[@]}" --metrics "$T/voc.csv" --db "$T/voc.db" && expect_rc 0 &&
        expect_out "mIOU" || return
    awk -F, 'NR == 3 { exit !($7 > 0 && $7 <= 1 && $8 > 0.3 && $8 <= 1) }' "$T/voc.csv" ||
        { echo "mIOU or pixel accuracy out of range: $(snippet "$T/voc.csv")"; return 1; }
    sqlite3 "$T/voc.db" "select config from runs where id = 1" | grep -qx "scale_max=1.5" ||
        { echo "the scale jitter not in the run's configuration"; return 1; }
    XDG_CACHE_HOME=$T/xdgv db train "${args[@]}" --augment-pad 4 && expect_rc 2 && expect_err "not cropped" || return
    # an image its list names but the folder lacks, and a label map of another size than its image
    local voc=$cache/voc2012/VOCdevkit/VOC2012
    echo 2012_000099 >>"$voc/ImageSets/Segmentation/val.txt"
    XDG_CACHE_HOME=$T/xdgv db train "${args[@]}" && expect_rc 1 && expect_err "JPEGImages/2012_000099.jpg" &&
        expect_err "val.txt line 9" || return
    sed -i '$d' "$voc/ImageSets/Segmentation/val.txt"
    cp "$voc/SegmentationClass/2012_000001.png" "$voc/SegmentationClass/2012_000030.png"
    XDG_CACHE_HOME=$T/xdgv db train "${args[@]}" && expect_rc 1 && expect_err "2012_000030.jpg" &&
        expect_err "its label map" || return
}

t_predictions_match_eval() {
    # predictions_dir: a detector's last evaluation written as COCO results scores the same AP
    # under eval coco, a segmenter's label maps (VOC's JPEGs at their own size) the same mIOU
    # under eval miou; a folder dropbench did not write is never replaced; classifiers refused
    need_fmnist || return
    command -v cjpeg >/dev/null || { echo "cjpeg missing (libjpeg-turbo-progs, scripts/deps)"; return 1; }
    db data make fmnist-detect --out "$T/det" --train 192 --val 24 --size 64 --sides 16,32 && expect_rc 0 || return
    db train --model retinanet-resnet18-fpn --dataset fmnist-detect --data-dir "$T/det" --width 8 --fpn-width 16 \
        --head-convs 1 --max-level 6 --batch 16 --epochs 3 --lr 0.02 --threads 2 --db "$T/p.db" \
        --predictions-dir "$T/dp" && expect_rc 0 || return
    db eval coco --gt "$T/det/annotations/instances_val.json" --results "$T/dp/detections.json" --json && expect_rc 0 &&
        cp "$out" "$T/ap.json" || return
    local run_ap
    run_ap=$(sqlite3 "$T/p.db" "select value from metrics where run_id = 1 and split = 'test' and name = 'AP' order by epoch desc limit 1")
    python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["AP"]; r=float(sys.argv[2]); sys.exit(not (a > 0 and abs(a - r) < 1e-12))' \
        "$T/ap.json" "$run_ap" || { echo "eval coco AP $(cat "$T/ap.json" | head -c 120) vs the run's $run_ap"; return 1; }
    # a run that scored the first 16 images (test_limit): eval coco --limit 16 scores the same
    db train --model retinanet-resnet18-fpn --dataset fmnist-detect --data-dir "$T/det" --width 8 --fpn-width 16 \
        --head-convs 1 --max-level 6 --batch 16 --epochs 3 --lr 0.02 --threads 2 --test-limit 16 --db "$T/l.db" \
        --predictions-dir "$T/dl" && expect_rc 0 || return
    db eval coco --gt "$T/det/annotations/instances_val.json" --results "$T/dl/detections.json" --limit 16 --json &&
        expect_rc 0 && cp "$out" "$T/apl.json" || return
    run_ap=$(sqlite3 "$T/l.db" "select value from metrics where run_id = 1 and split = 'test' and name = 'AP' order by epoch desc limit 1")
    python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["AP"]; r=float(sys.argv[2]); sys.exit(not (a > 0 and abs(a - r) < 1e-12))' \
        "$T/apl.json" "$run_ap" || { echo "eval coco --limit 16: $(head -c 120 "$T/apl.json") vs the run's $run_ap"; return 1; }
    db eval coco --gt "$T/det/annotations/instances_val.json" --results "$T/dl/detections.json" --limit 0 && expect_rc 2 &&
        expect_err "--limit wants a whole number" || return
    voc_tar "$T/vt" "$T/xdgv/dropbench" 64 12 || { echo "the VOC fixture failed"; return 1; }
    XDG_CACHE_HOME=$T/xdgv db data unpack voc2012 --catalog "$T/vt/catalog" && expect_rc 0 || return
    # at 64 pixels some images (40-80 pixels a side) are shrunk to fit: still scored at full resolution
    local seg=(--model fcn-resnet18-fpn --dataset voc2012 --image-size 64 --width 8 --fpn-width 16 --head-convs 1
        --batch 8 --epochs 4 --lr 0.02 --augment-pad 0 --threads 2)
    XDG_CACHE_HOME=$T/xdgv db train "${seg[@]}" --db "$T/p.db" --predictions-dir "$T/sp" && expect_rc 0 || return
    [ "$(ls "$T/sp" | wc -l)" = 12 ] && [ ! -e "$T/sp.part" ] || { echo "predictions: $(ls "$T/sp" | head -3)"; return 1; }
    mkdir -p "$T/valgt" && local f && for f in "$T"/sp/*.png; do
        cp "$T/xdgv/dropbench/voc2012/VOCdevkit/VOC2012/SegmentationClass/${f##*/}" "$T/valgt/" || return
    done
    db eval miou --gt "$T/valgt" --pred "$T/sp" --classes 21 --ignore 255 --json && expect_rc 0 &&
        cp "$out" "$T/miou.json" || return
    local run_miou
    run_miou=$(sqlite3 "$T/p.db" "select value from metrics where run_id = 2 and split = 'test' and name = 'mIOU' order by epoch desc limit 1")
    python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["miou"]; r=float(sys.argv[2]); sys.exit(not (a > 0 and abs(a - r) < 1e-12))' \
        "$T/miou.json" "$run_miou" || { echo "eval miou $(head -c 200 "$T/miou.json") vs the run's $run_miou"; return 1; }
    # a run killed between the two renames of a replacement (only DIR.old left): the next one puts
    # it back and replaces it whole; a trailing slash names the same folder
    mv "$T/sp" "$T/sp.old"
    XDG_CACHE_HOME=$T/xdgv db train "${seg[@]}" --epochs 1 --no-db --predictions-dir "$T/sp/" && expect_rc 0 || return
    [ "$(ls "$T/sp" | wc -l)" = 12 ] && [ ! -e "$T/sp.old" ] && [ ! -e "$T/sp.part" ] ||
        { echo "after a cut replacement: $(ls -d "$T"/sp*)"; return 1; }
    mkdir -p "$T/mine" && echo keep >"$T/mine/notes.txt"
    XDG_CACHE_HOME=$T/xdgv db train "${seg[@]}" --epochs 1 --no-db --predictions-dir "$T/mine" && expect_rc 1 &&
        expect_err "was not written by dropbench" && [ -s "$T/mine/notes.txt" ] || return
    ! grep -q "epoch   1/1" "$out" || { echo "a predictions folder refused only after training"; return 1; }
    XDG_CACHE_HOME=$T/xdgv db train "${seg[@]}" --epochs 1 --no-db --predictions-dir / && expect_rc 2 &&
        expect_err "a folder of its own" || return
    # in a study each cell writes a folder of its own, as its checkpoint
    { cat bench/recipes/fmnist-segment-quick.txt; echo "predictions_dir = $T/preds"; } >"$T/pq.txt"
    db study "$T/pq.txt" --dry-run --show-config --db "$T/pq.db" && expect_rc 0 &&
        expect_out "predictions_dir=$T/preds/fmnist-segment-quick/regularizer=none" &&
        expect_out "predictions_dir=$T/preds/fmnist-segment-quick/regularizer=dropblock" || return
    db train --model resnet20 --predictions-dir "$T/cp" --no-db && expect_rc 2 && expect_err "is a classifier" || return
}
