#!/usr/bin/env bash
# Command-line and fault tests of ./dropbench: exit codes and messages for usage errors, broken
# data files, unwritable and corrupt checkpoints, divergence; real training on Fashion-MNIST,
# resume, determinism, the store, studies and the report, data sets, detection, segmentation,
# data parallel, the GPU's scripts. This file holds the helpers and the runner; the tests, a
# t_NAME function each, are in tests/cli/*.sh by area, and run in the order of the list below.
#
# Run from anywhere (it changes to the repository root); `make` first. Each test prints
# "ok   NAME (SECONDS s)", "FAIL NAME: WHY" or "skip NAME: WHY"; the last line is
# "cli: N passed, N failed" and the exit status is 1 when any test failed.
# Tests that need /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist) are skipped
# when it is absent. About five minutes on 2 idle cores; training uses the default 2 threads.
# CLI_TESTS="name1 name2" runs only those tests (the resume family shares one checkpoint, so
# select resume_completed with checkpoint_corrupt and checkpoint_truncated).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

DB=./dropbench
FMNIST=/usr/share/datasets/fashion-mnist
LIMIT=${CLI_TIMEOUT:-240}   # seconds any one dropbench call may take

passed=0 failed=0 skipped=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dropbench-cli.XXXXXX") || exit 1
export DROPBENCH_DB=$tmp/cli.db   # runs the tests make stay out of the user's results database
trap 'if [ -f "$tmp/servers" ]; then kill $(cat "$tmp/servers") 2>/dev/null; fi; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if [ ! -x "$DB" ]; then
    echo "FAIL setup: $DB is missing; run make first"
    echo "cli: 0 passed, 1 failed"
    exit 1
fi

# ---- helpers (used inside tests; a test's output is its failure or skip reason) ----

# db ARGS...: runs dropbench under a time limit; sets rc and secs, output in $out and $err.
db() {
    local t0=$EPOCHREALTIME
    rc=0
    timeout "$LIMIT" "$DB" "$@" >"$out" 2>"$err" || rc=$?
    secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" -eq 124 ]; then echo "timed out after ${LIMIT}s: dropbench $*"; return 1; fi
    return 0
}
# db_from DIR ARGS...: as db, from the folder DIR (dropbench by its absolute path)
db_from() {
    local dir=$1 self
    self=$(realpath "$DB")
    shift
    rc=0
    (cd "$dir" && timeout "$LIMIT" "$self" "$@") >"$out" 2>"$err" || rc=$?
    if [ "$rc" -eq 124 ]; then echo "timed out after ${LIMIT}s: dropbench $* (in $dir)"; return 1; fi
    return 0
}
snippet() { tr '\n' ' ' <"$1" | head -c 400; }
# signalled SIG CMD...: runs CMD in the background (output in $out and $err), sends SIG once the
# run is under way, waits; sets rc. With --db FILE among CMD's arguments "under way" is a new
# 'running' record in FILE (so the signal lands in the first epoch however fast the machine:
# a fixed delay let a fast machine finish first); SIGNAL_DB=FILE names it for a command whose
# arguments do not (a job script); with neither, 1.5 s.
signalled() {
    local sig=$1 pid dbf=${SIGNAL_DB:-} a prev="" before=0 n
    shift
    for a in "$@"; do [ "$prev" = --db ] && dbf=$a; prev=$a; done
    [ -z "$dbf" ] || before=$(running_records "$dbf")
    rc=0
    "$@" >"$out" 2>"$err" & pid=$!
    if [ -z "$dbf" ]; then
        sleep 1.5
    else
        for _ in $(seq 3000); do
            n=$(running_records "$dbf")
            [ "$n" -gt "$before" ] || ! kill -0 "$pid" 2>/dev/null && break
            sleep 0.02
        done
    fi
    kill -"$sig" "$pid" 2>/dev/null
    wait "$pid" || rc=$?
}
running_records() { # (sqlite3 would create a missing file)
    [ -s "$1" ] && sqlite3 "$1" "SELECT count(*) FROM runs WHERE status = 'running'" 2>/dev/null || echo 0
}
expect_rc() {
    [ "$rc" -eq "$1" ] && return 0
    echo "exit $rc, expected $1; stderr: $(snippet "$err")"
    return 1
}
# expect_in FILE TEXT: FILE contains TEXT (fixed string, case-insensitive)
expect_in() {
    grep -qiF -- "$2" "$1" && return 0
    echo "$(basename "$1") lacks '$2'; stderr: $(snippet "$err") stdout: $(snippet "$out")"
    return 1
}
expect_err() { expect_in "$err" "$1"; }
expect_out() { expect_in "$out" "$1"; }
need_fmnist() {
    compgen -G "$FMNIST/train-images-idx3-ubyte*" >/dev/null && return 0
    echo "no Fashion-MNIST at $FMNIST (scripts/deps installs dataset-fashion-mnist)"
    return 77
}
# requires_fixture PRE MAIN ROWS: $T/pre.txt (study PRE: ResNet-20 on 256 Fashion-MNIST images, one
# epoch) and $T/main.txt (study MAIN alike at lr 0.05, requiring pre.txt, with the lines ROWS);
# checkpoints under $T/ck (DIR/STUDY/LABEL: pre's single cell in $T/ck/PRE/single)
requires_fixture() {
    local base="model = resnet20
dataset = fashion-mnist
train_limit = 256
test_limit = 64
epochs = 1
batch = 64"
    printf '%s\nstudy = %s\ncheckpoint_dir = %s/ck\n' "$base" "$1" "$T" >"$T/pre.txt"
    printf '%s\nstudy = %s\ncheckpoint_dir = %s/ck\nrequires = pre.txt\nlr = 0.05\n%s\n' "$base" "$2" "$T" "$3" >"$T/main.txt"
}
# be32 N: four big-endian bytes
be32() {
    local n=$1
    printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n >> 24 & 255)) $((n >> 16 & 255)) \
        $((n >> 8 & 255)) $((n & 255)))"
}
# idx_images FILE COUNT [MAGIC]: COUNT random 28x28 images, uncompressed
idx_images() {
    { be32 "${3:-2051}"; be32 "$2"; be32 28; be32 28; head -c $(($2 * 784)) /dev/urandom; } >"$1"
}
# idx_labels FILE COUNT: COUNT labels cycling 0..9, uncompressed
idx_labels() {
    { be32 2049; be32 "$2"; for ((i = 0; i < $2; i++)); do printf "\\x0$((i % 10))"; done; } >"$1"
}
# small_dataset DIR: a valid synthetic data set (128 training, 32 test images)
small_dataset() {
    mkdir -p "$1"
    idx_images "$1/train-images-idx3-ubyte" 128 && idx_labels "$1/train-labels-idx1-ubyte" 128 &&
        idx_images "$1/t10k-images-idx3-ubyte" 32 && idx_labels "$1/t10k-labels-idx1-ubyte" 32
}
# result_line: the "result:" line of $out
result_line() { grep '^result:' "$out"; }
test_top1() { sed -n 's/^result: test top1 \([0-9.]*\)%.*/\1/p' "$out"; }

CK2=$tmp/ck2   # shared by the resume and checkpoint-corruption tests
RESUME_ARGS=(train --train-limit 1024 --test-limit 512 --batch 64 --epochs 2 --seed 3)
# flip_byte FILE OFFSET: inverts the byte there, so it surely changes (a fixed value can be what is there)
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\x%02x' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# damaged_checkpoint HOW: copies ck2's checkpoint, damages it, resumes from it
damaged_checkpoint() {
    [ -s "$CK2/checkpoint.dbck" ] || { echo "no checkpoint from resume_completed"; return 1; }
    mkdir -p "$T/ck"
    local f=$T/ck/checkpoint.dbck size
    cp "$CK2/checkpoint.dbck" "$f"
    size=$(stat -c %s "$f")
    case $1 in
        flip) flip_byte "$f" $((size / 2)) ;; # one byte in the middle (the parameters)
        cut) truncate -s $((size / 2)) "$f" ;;
    esac
    db "${RESUME_ARGS[@]}" --checkpoint-dir "$T/ck" --resume
}

STORE_ARGS=(train --train-limit 512 --test-limit 256 --batch 64 --seed 2)
# kill_and_resume EPOCHS_RECORDED FRACTION: starts a 3-epoch run, SIGKILLs it once the store holds
# that many epochs and FRACTION of an epoch's training time more (as run 1 measured it: a fixed
# delay let a fast machine finish first), checks it shows as interrupted, then resumes it
kill_and_resume() {
    local k=$1 frac=$2 ck=$T/ck$1-$2 pid n=0 extra
    extra=$(sqlite3 "$T/k.db" "SELECT $frac * avg(value) FROM metrics WHERE run_id = 1 AND split = 'train' AND name = 'seconds'")
    "$DB" "${STORE_ARGS[@]}" --epochs 3 --checkpoint-dir "$ck" --db "$T/k.db" --quiet >/dev/null 2>&1 & pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        n=$(sqlite3 "$T/k.db" "SELECT count(DISTINCT epoch) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.checkpoint_dir = '$ck'" 2>/dev/null || echo 0)
        [ "${n:-0}" -ge "$k" ] && break
        sleep 0.02
    done
    sleep "${extra:-0}"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    db list --db "$T/k.db" && expect_rc 0 || return
    grep -q "interrupted" "$out" || { echo "after SIGKILL at epoch $k+${extra}s ($frac of an epoch): $(snippet "$out")"; return 1; }
    [ "$(sqlite3 "$T/k.db" "PRAGMA integrity_check")" = ok ] || { echo "integrity check failed after the kill"; return 1; }
    db "${STORE_ARGS[@]}" --epochs 3 --checkpoint-dir "$ck" --db "$T/k.db" --resume && expect_rc 0 &&
        expect_out "continuing run" || return
}
STOP_ARGS=(train --train-limit 1024 --test-limit 256 --batch 64 --seed 4 --epochs 2 --quiet)
# refused FILE CONTENT MESSAGE...: the recipe (printf format) is refused with exit 2 and every message
refused() {
    local f=$1
    printf "$2" >"$T/rc/$f"
    shift 2
    db study "$T/rc/$f" --dry-run --db "$T/rc.db" && expect_rc 2 || return
    local m
    for m in "$@"; do expect_err "$m" || return; done
}
REPORT_RECIPE='study = fixture
description = a report fixture: a baseline and two DropBlock block sizes, three seeds
train_limit = 256
test_limit = 128
batch = 64
epochs = 2
row.none.regularizer = none
row.k1.regularizer = dropblock
row.k1.block_size = 1
row.k3.regularizer = dropblock
row.k3.block_size = 3
vary.seed = 1, 2, 3'
# ---- data sets: the downloader against a loopback HTTP server (tests/http_server.py) ----

# serve DIR: starts the test server on DIR; sets port (the server stops with the test's folder)
serve() {
    python3 tests/http_server.py "$1" "$T/port" "$T/requests.log" >/dev/null 2>&1 &
    echo $! >>"$tmp/servers"
    local i
    for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
    port=$(cat "$T/port" 2>/dev/null) || { echo "the test HTTP server did not start"; return 1; }
}
# blob_catalog: a 300 kB random file served from $T/srv and a catalog line per server mode
blob_catalog() {
    mkdir -p "$T/srv"
    head -c 300000 /dev/urandom >"$T/srv/blob.bin"
    serve "$T/srv" || return
    local md5 sha m
    md5=$(md5sum "$T/srv/blob.bin" | cut -c1-32) sha=$(sha256sum "$T/srv/blob.bin" | cut -c1-64)
    for m in ok cut redirect norange flaky stall short trickle; do
        echo "t$m blob.bin http://127.0.0.1:$port/$m/blob.bin 300000 $md5 $sha"
    done >"$T/catalog"
    echo "tbad blob.bin http://127.0.0.1:$port/ok/blob.bin 300000 $(printf '0%.0s' $(seq 32)) -" >>"$T/catalog"
    echo "tmissing nothing.bin http://127.0.0.1:$port/ok/nothing.bin - $md5 -" >>"$T/catalog"
    echo "tfile blob.bin file://$T/srv/blob.bin 300000 - $sha" >>"$T/catalog"
}
fetch() { db data fetch "$@" --data-dir "$T/cache" --catalog "$T/catalog" --retry-delay 0.1; }
# jpeg_folder DIR CLASSES PER_CLASS W H: an image folder (train/ and val/) of PPM-made JPEGs whose
# classes differ in colour
jpeg_folder() {
    python3 - "$@" <<'PY' || return 1
import os, random, subprocess, sys
root, classes, per, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
random.seed(5)
for split, n in (("train", per), ("val", max(1, per // 4))):
    for c in range(classes):
        d = os.path.join(root, split, "n%08d" % c)
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            base = [(c * 97) % 256, (c * 57 + 80) % 256, (c * 23 + 160) % 256]
            px = bytes(max(0, min(255, base[k % 3] + random.randrange(-30, 31))) for k in range(w * h * 3))
            ppm = b"P6 %d %d 255\n" % (w, h) + px
            jpg = subprocess.run(["cjpeg", "-quality", "85"], input=ppm, capture_output=True, check=True).stdout
            with open(os.path.join(d, "img%04d.JPEG" % i), "wb") as f:
                f.write(jpg)
PY
}
coco_zips() {
    # COCO 2017 as its three zips, small (DIR CACHE N_TRAIN N_VAL [MIN_SIDE MAX_SIDE], sides 48-96
    # by default): DIR/annotations_trainval2017.zip (annotations/
    # instances_{train,val}2017.json), DIR/train2017.zip and DIR/val2017.zip (JPEGs of assorted
    # sizes, some grey, each with one to three bright rectangles of two categories, ids 1 and 7;
    # one crowd box, one image without boxes); DIR/catalog lists them with their MD5s, and each zip
    # is laid in CACHE/SET/ as dropbench data fetch would
    python3 - "$@" <<'PY' || return 1
import hashlib, io, json, os, random, subprocess, sys, zipfile
out, cache, n_train, n_val = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lo, hi = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else (48, 96)
random.seed(3)
os.makedirs(out, exist_ok=True)
zips = {"annotations_trainval2017.zip": {}, "train2017.zip": {}, "val2017.zip": {}}
ann_id = 1
for split, n in (("train2017", n_train), ("val2017", n_val)):
    images, anns = [], []
    for i in range(n):
        w, h, grey = random.randrange(lo, hi + 1), random.randrange(lo, hi + 1), i % 5 == 4
        px = bytearray(random.randrange(0, 40) for _ in range(w * h * 3))
        for k in range(random.randrange(1, 4) if i % 7 != 6 else 0):
            bw, bh = random.randrange(12, w // 2), random.randrange(12, h // 2)
            x0, y0, cat = random.randrange(0, w - bw), random.randrange(0, h - bh), random.choice((1, 7))
            for y in range(y0, y0 + bh):
                for x in range(x0, x0 + bw):
                    px[(y * w + x) * 3:(y * w + x) * 3 + 3] = bytes((250, 250, 250) if cat == 1 else (250, 40, 40))
            anns.append({"id": ann_id, "image_id": 1000 + i, "category_id": cat, "bbox": [x0, y0, bw, bh],
                         "area": bw * bh, "iscrowd": 1 if ann_id == 5 else 0})
            ann_id += 1
        if grey:
            ppm = b"P5 %d %d 255\n" % (w, h) + bytes(max(px[3 * j:3 * j + 3]) for j in range(w * h))
        else:
            ppm = b"P6 %d %d 255\n" % (w, h) + bytes(px)
        jpg = subprocess.run(["cjpeg", "-quality", "90"], input=ppm, capture_output=True, check=True).stdout
        name = "%012d.jpg" % (1000 + i)
        images.append({"id": 1000 + i, "file_name": name, "height": h, "width": w})
        zips[split + ".zip"][split + "/" + name] = jpg
    cats = [{"id": 1, "name": "white"}, {"id": 7, "name": "red"}]
    zips["annotations_trainval2017.zip"]["annotations/instances_%s.json" % split] = json.dumps(
        {"images": images, "annotations": anns, "categories": cats}).encode()
sets = {"annotations_trainval2017.zip": "coco2017-annotations", "train2017.zip": "coco2017-train",
        "val2017.zip": "coco2017-val"}
with open(os.path.join(out, "catalog"), "w") as cat:
    for zname, members in zips.items():
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for m, data in members.items():
                z.writestr(m, data)
        data = buf.getvalue()
        os.makedirs(os.path.join(cache, sets[zname]), exist_ok=True)
        for d in (out, os.path.join(cache, sets[zname])):
            with open(os.path.join(d, zname), "wb") as f:
                f.write(data)
        cat.write("%s %s http://127.0.0.1:9/%s %d %s -\n" % (sets[zname], zname, zname, len(data),
                                                             hashlib.md5(data).hexdigest()))
PY
}
resume_same_bits() {
    # NAME METRIC ARGS...: `train ARGS --epochs 4` stopped by SIGUSR1 after its first epoch and
    # resumed from the database gives the uninterrupted run's metrics bit for bit, METRIC 4 times.
    # The signal comes at the run's first rename (its first checkpoint's, the first epoch done),
    # injected by strace: a signal sent when the first epoch's line showed could come after the
    # last epoch on a fast machine
    local name=$1 metric=$2
    shift 2
    command -v strace >/dev/null || { echo "strace not installed (scripts/deps installs it)"; return 1; }
    local args=(train "$@" --epochs 4 --threads 2 --db "$T/$name.db")
    db "${args[@]}" --checkpoint-dir "$T/${name}_ref" && expect_rc 0 || return
    rc=0
    local bo="$T/${name}_int.out" be="$T/${name}_int.err"
    timeout "$LIMIT" strace -f -o /dev/null -e trace=rename -e inject=rename:signal=USR1:when=1 \
        "$DB" "${args[@]}" --checkpoint-dir "$T/${name}_int" >"$bo" 2>"$be" || rc=$?
    [ "$rc" = 4 ] && grep -q "stopped by signal 10" "$be" || { echo "after SIGUSR1: exit $rc, $(snippet "$be")"; return 1; }
    db resume 2 --db "$T/$name.db" --quiet && expect_rc 0 || return
    local differ
    differ=$(sqlite3 "$T/$name.db" "SELECT count(*) FROM metrics a JOIN metrics b ON b.epoch = a.epoch AND b.split = a.split AND b.name = a.name AND b.step = a.step WHERE a.run_id = 1 AND b.run_id = 2 AND a.name NOT IN ('seconds', 'images_per_s') AND a.value IS NOT b.value")
    [ "$differ" = 0 ] && [ "$(sqlite3 "$T/$name.db" "SELECT count(*) FROM metrics WHERE run_id = 2 AND name = '$metric'")" = 4 ] ||
        { echo "the resumed $name run differs in $differ metrics"; return 1; }
}
voc_tar() {
    # voc_tar DIR CACHE N_TRAIN N_VAL: PASCAL VOC 2012's archive at toy size, DIR/VOCtrainval_11-May-2012.tar
    # (VOCdevkit/VOC2012/: JPEGImages/ID.jpg of assorted sizes, dark with one or two bright
    # rectangles of classes 1-3, SegmentationClass/ID.png palette label maps with those rectangles,
    # a 255 border around each, ImageSets/Segmentation/train.txt and val.txt); DIR/catalog lists
    # it with its MD5, and the tar is laid in CACHE/voc2012/ as dropbench data fetch would
    python3 - "$@" <<'PY' || return 1
import hashlib, io, os, random, struct, subprocess, sys, tarfile, zlib
out, cache, n_train, n_val = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(5)
os.makedirs(out, exist_ok=True)
def png(lab, w, h):  # an 8-bit palette PNG of the indices, VOC's colour map
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    pal = bytearray()
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j); g |= ((c >> 1) & 1) << (7 - j); b |= ((c >> 2) & 1) << (7 - j); c >>= 3
        pal += bytes((r, g, b))
    raw = b"".join(b"\0" + bytes(lab[y * w:(y + 1) * w]) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)) +
            chunk(b"PLTE", bytes(pal)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
colours = {1: (250, 250, 250), 2: (250, 40, 40), 3: (40, 40, 250)}
members, lists = {}, {"train": [], "val": []}
for i in range(n_train + n_val):
    ident = "2012_%06d" % i
    w, h = random.randrange(40, 81), random.randrange(40, 81)
    px = bytearray(random.randrange(0, 40) for _ in range(w * h * 3))
    lab = bytearray(w * h)
    for k in range(random.randrange(1, 3)):
        bw, bh = random.randrange(12, w // 2), random.randrange(12, h // 2)
        x0, y0, cls = random.randrange(1, w - bw - 1), random.randrange(1, h - bh - 1), random.randrange(1, 4)
        for y in range(y0 - 1, y0 + bh + 1):
            for x in range(x0 - 1, x0 + bw + 1):
                inside = y0 <= y < y0 + bh and x0 <= x < x0 + bw
                lab[y * w + x] = cls if inside else 255
                if inside: px[(y * w + x) * 3:(y * w + x) * 3 + 3] = bytes(colours[cls])
    jpg = subprocess.run(["cjpeg", "-quality", "90"], input=b"P6 %d %d 255\n" % (w, h) + bytes(px),
                         capture_output=True, check=True).stdout
    root = "VOCdevkit/VOC2012/"
    members[root + "JPEGImages/%s.jpg" % ident] = jpg
    members[root + "SegmentationClass/%s.png" % ident] = png(lab, w, h)
    lists["train" if i < n_train else "val"].append(ident)
for split, ids in lists.items():
    members["VOCdevkit/VOC2012/ImageSets/Segmentation/%s.txt" % split] = ("\n".join(ids) + "\n").encode()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    for name, data in members.items():
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
data = buf.getvalue()
name = "VOCtrainval_11-May-2012.tar"
os.makedirs(os.path.join(cache, "voc2012"), exist_ok=True)
for d in (out, os.path.join(cache, "voc2012")):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
with open(os.path.join(out, "catalog"), "w") as cat:
    cat.write("voc2012 %s http://127.0.0.1:9/%s %d %s -\n" % (name, name, len(data), hashlib.md5(data).hexdigest()))
PY
}

# ---- the tests, by area (tests/cli/*.sh: each a t_NAME function per test) ----
for f in tests/cli/*.sh; do
    # shellcheck source=/dev/null
    . "$f"
done

# ---- runner ----

run_test() {
    local name=$1 why code t0=$EPOCHREALTIME dt
    if [ -n "${CLI_TESTS:-}" ] && [[ " $CLI_TESTS " != *" $name "* ]]; then return; fi
    T=$tmp/$name out=$tmp/$name/out err=$tmp/$name/err
    mkdir -p "$T"
    why=$("t_$name" 2>&1)
    code=$?
    dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if [ "$code" -eq 0 ]; then
        local note=""
        [ -f "$T/note" ] && note=", $(cat "$T/note")"
        echo "ok   $name (${dt}s$note)"
        passed=$((passed + 1))
    elif [ "$code" -eq 77 ]; then
        echo "skip $name: $why"
        skipped=$((skipped + 1))
    else
        echo "FAIL $name: ${why:-exit status $code}"
        failed=$((failed + 1))
    fi
}

# mpi N ARGS...: dropbench ARGS as N data-parallel processes (Open MPI's mpirun, as root where the
# tests run as root, more processes than cores allowed, none bound to a core)
mpi() {
    local n=$1
    shift
    rc=0
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive \
        timeout "$LIMIT" mpirun -np "$n" --oversubscribe --bind-to none "$DB" "$@" >"$out" 2>"$err" || rc=$?
    if [ "$rc" -eq 124 ]; then echo "timed out after ${LIMIT}s: mpirun -np $n dropbench $*"; return 1; fi
    return 0
}
need_mpi() {
    command -v mpirun >/dev/null && "$DB" version >/dev/null && return 0
    echo "no mpirun (scripts/deps installs openmpi-bin)"
    return 77
}
# columns 1-7 of a metrics file: epoch, lr, training loss and top-1, test loss, top-1, top-5
curve() { cut -d, -f1-7 "$1"; }

# rank_pid R: the pid of the dropbench process of rank R of the mpirun job now running
rank_pid() {
    local pid
    for pid in $(pgrep -f "$DB (train|study|resume)" || true); do
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && { echo "$pid"; return 0; }
    done
    return 1
}
# ranks_ended: waits until no process of an mpirun job is left (mpirun can end before its processes
# do, and a run whose process lives is refused as still running), up to 30 s
ranks_ended() {
    for _ in $(seq 300); do
        ! rank_pid 0 >/dev/null && ! rank_pid 1 >/dev/null && return 0
        sleep 0.1
    done
    echo "the job's processes outlived mpirun by 30 s"
    return 1
}

tests=(
    house_rules every_help help_texts option_values usage_no_args unknown_command train_unknown_key train_epochs_zero train_lr_not_number
    train_step_needs_milestones train_resume_needs_dir print_config
    data_missing_files data_truncated_gzip data_garbled_gzip data_wrong_magic data_count_mismatch
    data_trailing_bytes checkpoint_dir_unwritable metrics_unwritable batch_larger_than_data diverged diverged_weights_hidden_by_relu
    train_short resume_completed resume_other_config checkpoint_corrupt checkpoint_truncated
    deterministic bn_group dp_launcher_words dp_matches_ghost_bn dp_kill_resume dp_reshard dp_sharded_eval dp_buckets dp_timeout dp_study_cell
    bench_json bench_profile bench_bad_input bench_busy bench_amoebanet conv_choice model_resnet20 model_resnet50 model_resnet18 model_retinanet model_amoebanet model_network_keys study_amoebanet model_unknown
    kernel_dropout_json kernel_spatial_dropout kernel_dropblock_json kernel_dropblock_semantics kernel_device_cuda kernel_bad_args
    train_dropblock train_detector detector_init_from detector_resume study_detector train_segmenter train_segmenter_voc predictions_match_eval train_regularizer_bad_args
    data_fetch data_fetch_resume data_fetch_failures data_cifar_train data_synthetic_bench data_imagenet_folder data_coco_unpack_train data_make_fmnist_detect data_list_debian data_absent_refused eval_coco eval_coco_pycocotools eval_miou fuzz_smoke
    store_records_run eval_every store_concurrent store_kill_resume kill_at_syscalls resume_after_last_save store_fresh_not_taken_over resume_records_once store_bad_input store_readonly readers_never_create stop_signal_resume rmsprop_ema resume_elsewhere live_run_refused replay_marked resume_other_data study_stop_resume study_jobs study_versions study study_broken_checkpoints study_requires study_bad_recipes paper_recipes recipe_rows_include report_pools_runs_once autoaugment_row reproduce_script regress regress_statistical merge slurm slurm_requeue_takes_over slurm_elsewhere report report_drop_fractions report_browser device gpu_check gpu_check_script gpu_session gpu_program gpu_study
)
for t in "${tests[@]}"; do run_test "$t"; done

[ "$skipped" -eq 0 ] || echo "cli: $skipped skipped (not counted)"
echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
