# Command-line tests (tests/cli.sh runs them): data sets: the downloader against a loopback HTTP server, folders, archives, fuzzing.
# shellcheck shell=bash

t_data_fetch() {
    # a good download, a redirect, a server that ignores Range, a 503 then success, file://:
    # each verified and renamed into place; a second fetch uses the cache
    blob_catalog || return
    local s
    for s in tok tredirect tnorange tflaky tfile; do
        fetch "$s" && expect_rc 0 && expect_out "$s/blob.bin: ok (fetched" || return
        cmp -s "$T/srv/blob.bin" "$T/cache/$s/blob.bin" || { echo "$s: the cached file differs from the served one"; return 1; }
        [ ! -e "$T/cache/$s/blob.bin.part" ] || { echo "$s: a .part file was left"; return 1; }
        [ $s != tflaky ] || expect_err "HTTP 503; retrying" || return
    done
    fetch tok && expect_rc 0 && expect_out "ok (in the cache" || return
    [ "$(grep -c '^/ok/blob.bin' "$T/requests.log")" = 2 ] || { echo "the cached file was fetched again: $(snippet "$T/requests.log")"; return 1; }
    db data verify tok tredirect --data-dir "$T/cache" --catalog "$T/catalog" && expect_rc 0 && expect_out "tredirect/blob.bin: ok" || return
    flip_byte "$T/cache/tok/blob.bin" 1000 # one byte changed
    db data verify tok --data-dir "$T/cache" --catalog "$T/catalog" && expect_rc 1 && expect_err "checksum mismatch" || return
    db data list --data-dir "$T/cache" --catalog "$T/catalog" && expect_rc 0 && expect_out "cifar10" && expect_out "tredirect" || return
}

t_data_fetch_resume() {
    # a connection cut halfway: retried with a Range request for the rest, the result verified;
    # a partial file from an earlier run is continued, not restarted
    blob_catalog || return
    fetch tcut && expect_rc 0 && expect_err "retrying" || return
    grep -q "^/cut/blob.bin bytes=150000-$" "$T/requests.log" || { echo "no range request: $(snippet "$T/requests.log")"; return 1; }
    cmp -s "$T/srv/blob.bin" "$T/cache/tcut/blob.bin" || { echo "the resumed file differs"; return 1; }
    fetch tshort && expect_rc 0 && expect_err "ended at 150000 of 300000" || return # no length, ended early: resumed
    cmp -s "$T/srv/blob.bin" "$T/cache/tshort/blob.bin" || { echo "the file that ended early differs"; return 1; }
    mkdir -p "$T/cache/tok" && head -c 100000 "$T/srv/blob.bin" >"$T/cache/tok/blob.bin.part"
    fetch tok && expect_rc 0 || return
    grep -q "^/ok/blob.bin bytes=100000-$" "$T/requests.log" || { echo "the partial file was not continued: $(snippet "$T/requests.log")"; return 1; }
    cmp -s "$T/srv/blob.bin" "$T/cache/tok/blob.bin" || { echo "the continued file differs"; return 1; }
    # a partial file and a server that ignores ranges (it announces the whole file): restarted
    # from zero, not taken for a file larger than the catalog's
    mkdir -p "$T/cache/tnorange" && head -c 100000 "$T/srv/blob.bin" >"$T/cache/tnorange/blob.bin.part"
    fetch tnorange && expect_rc 0 || return
    cmp -s "$T/srv/blob.bin" "$T/cache/tnorange/blob.bin" || { echo "the restarted file differs"; return 1; }
}

t_data_fetch_failures() {
    # a checksum mismatch (nothing kept), a 404, a stalled server (timeout, what arrived kept),
    # a full disk, offline mode, an unknown name, a broken catalog: clear errors, exit 1 or 2
    blob_catalog || return
    fetch tbad && expect_rc 1 && expect_err "checksum mismatch" && expect_err "deleted" || return
    [ -z "$(ls -A "$T/cache/tbad" 2>/dev/null)" ] || { echo "a bad download was kept: $(ls "$T/cache/tbad")"; return 1; }
    # a cached copy that fails verification is kept aside (blob.bin.bad, where no reader takes it)
    # when no good copy comes (here the catalog's checksum is the wrong one), removed when one does
    cp "$T/srv/blob.bin" "$T/cache/tbad/blob.bin" || return
    fetch tbad && expect_rc 1 && expect_err "is kept as $T/cache/tbad/blob.bin.bad and not used" || return
    cmp -s "$T/srv/blob.bin" "$T/cache/tbad/blob.bin.bad" && [ "$(ls -A "$T/cache/tbad")" = blob.bin.bad ] ||
        { echo "the cached copy was not kept aside: $(ls -l "$T/cache/tbad")"; return 1; }
    mkdir -p "$T/cache/tcut" && echo stale >"$T/cache/tcut/blob.bin.bad" || return # (a killed fetch's)
    fetch tcut && expect_rc 0 && [ "$(ls -A "$T/cache/tcut")" = blob.bin ] ||
        { echo "a stale .bad copy outlived a verified fetch: $(ls -A "$T/cache/tcut")"; return 1; }
    # a partial file whose earlier bytes are wrong: fetched whole once more, then good
    mkdir -p "$T/cache/tok" && head -c 1000 /dev/zero >"$T/cache/tok/blob.bin.part" && rm -f "$T/cache/tok/blob.bin" || return
    fetch tok && expect_rc 0 && expect_err "fetching it whole once more" && cmp -s "$T/srv/blob.bin" "$T/cache/tok/blob.bin" ||
        { echo "a bad partial file was not fetched whole again"; return 1; }
    # two fetches of one file: the second is refused while the first holds its partial file
    mkdir -p "$T/cache/tflaky" && : >"$T/cache/tflaky/blob.bin.part" || return
    flock "$T/cache/tflaky/blob.bin.part" -c "\"$DB\" data fetch tflaky --data-dir \"$T/cache\" --catalog \"$T/catalog\" >\"$out\" 2>\"$err\"; echo \$? >\"$T/rc\""
    [ "$(cat "$T/rc")" = 1 ] && grep -q "another process is downloading it now" "$err" ||
        { echo "a second fetch of one file: exit $(cat "$T/rc"), $(cat "$err")"; return 1; }
    # a server that trickles (64 bytes every 0.2 s) is a stall too
    fetch ttrickle --timeout 1 --retries 0 && expect_rc 1 && expect_err "under 1 KiB/s" || return
    mkdir -p "$T/cache/tok" && head -c 300000 /dev/urandom >"$T/cache/tok/blob.bin" || return
    fetch tok && expect_rc 0 && cmp -s "$T/srv/blob.bin" "$T/cache/tok/blob.bin" && [ "$(ls -A "$T/cache/tok")" = blob.bin ] ||
        { echo "a damaged cached copy not replaced: $(ls -l "$T/cache/tok")"; return 1; }
    fetch tmissing && expect_rc 1 && expect_err "HTTP 404" || return
    [ -z "$(ls -A "$T/cache/tmissing" 2>/dev/null)" ] || { echo "a 404 left a file"; return 1; }
    fetch tstall --timeout 1 --retries 0 && expect_rc 1 && expect_err "stalled" && expect_err "kept" || return
    [ -s "$T/cache/tstall/blob.bin.part" ] || { echo "what arrived before the stall was not kept"; return 1; }
    mkdir -p "$T/cache/tredirect" && ln -s /dev/full "$T/cache/tredirect/blob.bin.part"
    fetch tredirect && expect_rc 1 && expect_err "No space left on device" || return
    fetch tnorange --offline && expect_rc 1 && expect_err "offline" && expect_err "not in the cache" || return
    DROPBENCH_OFFLINE=1 "$DB" data fetch tnorange --data-dir "$T/cache" --catalog "$T/catalog" >"$out" 2>"$err"
    grep -q offline "$err" || { echo "DROPBENCH_OFFLINE=1 was not honoured"; return 1; }
    ! grep -q '^/norange' "$T/requests.log" || { echo "offline mode used the network"; return 1; }
    # a partial file a server cannot continue (no ranges) starts over: a checksum failure then is
    # the server's file, not fetched whole a third time
    echo "tnrbad blob.bin http://127.0.0.1:$port/norange/blob.bin 300000 $(printf '0%.0s' $(seq 32)) -" >>"$T/catalog"
    mkdir -p "$T/cache/tnrbad" && head -c 1000 "$T/srv/blob.bin" >"$T/cache/tnrbad/blob.bin.part" || return
    local before
    before=$(grep -c '^/norange/' "$T/requests.log" || true)
    fetch tnrbad && expect_rc 1 && expect_err "checksum mismatch" && ! grep -q "whole once more" "$err" &&
        [ $(( $(grep -c '^/norange/' "$T/requests.log") - before )) = 2 ] ||
        { echo "a restarted download fetched again: $(grep '^/norange/' "$T/requests.log" | tail -4)"; return 1; }
    fetch nosuch && expect_rc 2 && expect_err "unknown data set 'nosuch'" || return
    echo "x y z" >"$T/bad-catalog"
    db data list --catalog "$T/bad-catalog" && expect_rc 1 && expect_err "bad-catalog:1" || return
    echo "../../x b http://x/b 10 $(printf 'a%.0s' $(seq 32)) -" >"$T/bad-catalog"
    db data list --catalog "$T/bad-catalog" && expect_rc 1 && expect_err "plain name" || return
    echo "a b http://x/b 10 - -" >"$T/bad-catalog"
    db data list --catalog "$T/bad-catalog" && expect_rc 1 && expect_err "MD5 or a SHA-256" || return
    db data fetch && expect_rc 2 && expect_err "name a data set" || return
    db data fetch tok --retries x && expect_rc 2 || return
    # never past the catalog's size: an endless source and a server sending 300,000 bytes for a
    # 1,000-byte entry stop at once, and nothing of them is kept
    echo "tzero zero.bin file:///dev/zero 1000 - $(printf 'a%.0s' $(seq 64))" >>"$T/catalog"
    echo "tlong blob.bin http://127.0.0.1:$port/ok/blob.bin 1000 - $(printf 'a%.0s' $(seq 64))" >>"$T/catalog"
    local which
    for which in tzero tlong; do
        fetch "$which" --retries 0 && expect_rc 1 && expect_err "more than the catalog's 1000 bytes" || return
        [ -z "$(ls -A "$T/cache/$which" 2>/dev/null)" ] || { echo "$which: kept $(ls -l "$T/cache/$which")"; return 1; }
        [ "${secs%.*}" -lt 10 ] || { echo "$which took $secs s"; return 1; }
    done
}

t_data_cifar_train() {
    # fetch a (small, generated) CIFAR-10 archive through a user catalog into the default cache
    # ($XDG_CACHE_HOME/dropbench), then train on it without naming a folder: the run says where
    # its data came from and records the archive's SHA-256
    mkdir -p "$T/srv"
    python3 - "$T/srv/cifar-10-binary.tar.gz" <<'PY' || { echo "fixture failed"; return 1; }
import io, random, sys, tarfile
random.seed(3)
def batch(n):
    return b"".join(bytes([random.randrange(10)]) + bytes(random.randrange(256) for _ in range(3072)) for _ in range(n))
with tarfile.open(sys.argv[1], "w:gz") as t:
    for name, n in [("data_batch_%d.bin" % i, 64) for i in range(1, 6)] + [("test_batch.bin", 64)]:
        data = batch(n)
        info = tarfile.TarInfo("cifar-10-batches-bin/" + name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
PY
    serve "$T/srv" || return
    local f=$T/srv/cifar-10-binary.tar.gz sha
    sha=$(sha256sum "$f" | cut -c1-64)
    echo "cifar10 cifar-10-binary.tar.gz http://127.0.0.1:$port/ok/cifar-10-binary.tar.gz $(stat -c %s "$f") - $sha" >"$T/catalog"
    XDG_CACHE_HOME=$T/xdg "$DB" data fetch cifar10 --catalog "$T/catalog" >"$out" 2>"$err"
    [ -s "$T/xdg/dropbench/cifar10/cifar-10-binary.tar.gz" ] || { echo "not in the default cache: $(snippet "$err")"; return 1; }
    XDG_CACHE_HOME=$T/xdg db train --dataset cifar10 --epochs 1 --batch 64 --db "$T/c.db" && expect_rc 0 &&
        expect_out "the dropbench cache" || return
    sqlite3 "$T/c.db" "SELECT value FROM provenance WHERE key = 'dataset_files'" | grep -q "cifar-10-binary.tar.gz sha256 $sha" ||
        { echo "provenance: $(sqlite3 "$T/c.db" "SELECT value FROM provenance WHERE key = 'dataset_files'")"; return 1; }
    [ "$(sqlite3 "$T/c.db" "SELECT count(*) FROM metrics WHERE split = 'test' AND name = 'top1'")" = 1 ] ||
        { echo "no test accuracy recorded"; return 1; }
    printf 'garbage' >"$T/xdg/dropbench/cifar10/cifar-10-binary.tar.gz"
    XDG_CACHE_HOME=$T/xdg db train --dataset cifar10 --epochs 1 --batch 64 && expect_rc 1 &&
        expect_err "cifar-10-binary.tar.gz" || return
}

t_fuzz_smoke() {
    # the libFuzzer targets of the data readers (make fuzz-build; clang from scripts/deps) run
    # clean for a few thousand inputs from their seed corpora, ASan and UBSan on
    local t
    [ -x build/fuzz/fuzz_idx ] || { echo "build/fuzz/fuzz_idx missing: make fuzz-build (needs clang)"; return 1; }
    python3 tests/fuzz/seeds.py "$T/seeds" || return
    for t in fuzz_idx fuzz_cifar fuzz_catalog fuzz_jpeg fuzz_coco fuzz_png fuzz_detset; do
        mkdir -p "$T/corpus-$t" && cp "$T/seeds/$t"/* "$T/corpus-$t"/
        timeout 120 build/fuzz/$t -runs=3000 -seed=1 -artifact_prefix="$T/" "$T/corpus-$t" >"$T/$t.log" 2>&1 ||
            { echo "$t: $(grep -m1 -E 'ERROR|SUMMARY' "$T/$t.log")"; return 1; }
        grep -q "Done 3000 runs" "$T/$t.log" || { echo "$t did not run: $(tail -2 "$T/$t.log")"; return 1; }
    done
}

t_data_synthetic_bench() {
    # synthetic data of any shape trains (its classes differ in brightness, so a short run
    # learns them), and data bench reports what the batch pipeline delivers per worker count
    db train --dataset synthetic --synthetic 1024,256,3,16,16,4 --epochs 2 --batch 64 --metrics "$T/m.csv" &&
        expect_rc 0 || return
    awk -F, 'NR == 3 { exit !($4 > 0.7) }' "$T/m.csv" || { echo "synthetic data not learnt: $(snippet "$T/m.csv")"; return 1; }
    db train --dataset synthetic --synthetic 10,10,5,8,8,2 && expect_rc 2 && expect_err "channels" || return
    db data bench --dataset synthetic --synthetic 2048,16,3,32,32,10 --augment-pad 4 --workers 0,2 --seconds 0.3 --json &&
        expect_rc 0 || return
    [ "$(grep -c '"images_per_s"' "$out")" = 2 ] || { echo "bench output: $(snippet "$out")"; return 1; }
    python3 -c 'import json,sys; [json.loads(l)["images_per_s"] > 1000 or sys.exit(1) for l in open(sys.argv[1])]' "$out" ||
        { echo "implausible rates: $(snippet "$out")"; return 1; }
    db data bench --workers 0,x --seconds 0.1 && expect_rc 2 && expect_err "--workers" || return
}

t_data_imagenet_folder() {
    # an ImageNet-style folder of JPEGs trains with the paper's transforms (random resized crop,
    # flip; evaluation resize and centre crop), its throughput is benchmarked, and a corrupt
    # image stops the run with its name
    command -v cjpeg >/dev/null || { echo "cjpeg missing (libjpeg-turbo-progs, scripts/deps)"; return 1; }
    jpeg_folder "$T/inet" 4 32 96 80 || { echo "the JPEG fixture failed"; return 1; }
    db train --dataset imagenet --data-dir "$T/inet" --augment inception --image-size 32 --model resnet20 \
        --epochs 2 --batch 32 --metrics "$T/m.csv" --db "$T/i.db" && expect_rc 0 || return
    awk -F, 'NR == 3 { exit !($6 > 0.5) }' "$T/m.csv" || { echo "four colours not learnt: $(snippet "$T/m.csv")"; return 1; }
    db train --dataset imagenet --data-dir "$T/inet" --epochs 1 && expect_rc 2 && expect_err "takes inception" || return
    # Table 1's AutoAugment row on JPEG folders: the inception crop and flip, then the policy
    db train --dataset imagenet --data-dir "$T/inet" --augment autoaugment --image-size 32 --model resnet20 \
        --epochs 1 --batch 32 --db "$T/i.db" && expect_rc 0 || return
    [ "$(sqlite3 "$T/i.db" "SELECT count(*) FROM runs WHERE status = 'done' AND config LIKE '%augment=autoaugment%'")" = 1 ] ||
        { echo "the AutoAugment run on a folder was not recorded done"; return 1; }
    db data bench --dataset imagenet --data-dir "$T/inet" --augment inception --image-size 64 --batch 16 --workers 0,2 \
        --seconds 0.5 --json && expect_rc 0 || return
    [ "$(grep -c '"images_per_s"' "$out")" = 2 ] || { echo "bench output: $(snippet "$out")"; return 1; }
    # a class folder without JPEGs (PNGs, or nothing) is a class never seen: said so
    mkdir "$T/inet/train/n00000009" && printf "\x89PNG" >"$T/inet/train/n00000009/a.png" || return
    db data bench --dataset imagenet --data-dir "$T/inet" --augment inception --image-size 64 --batch 16 --workers 0 \
        --seconds 0.2 && expect_rc 0 && expect_err "1 class folder of $T/inet/train holds no JPEG images" || return
    rm -rf "$T/inet/train/n00000009"
    head -c 300 "$T/inet/train/n00000002/img0003.JPEG" >"$T/cut" && mv "$T/cut" "$T/inet/train/n00000002/img0003.JPEG"
    db train --dataset imagenet --data-dir "$T/inet" --augment inception --image-size 32 --model resnet20 \
        --epochs 1 --batch 32 && expect_rc 1 && expect_err "img0003.JPEG" || return
}

t_data_coco_unpack_train() {
    # COCO 2017's layout end to end at toy size: the three verified zips unpacked into the
    # cache's coco2017 folder (again: refused, nothing moved; an entry climbing out: refused),
    # then a small RetinaNet trained on its JPEGs with scale jitter and flips, scored in AP
    command -v cjpeg >/dev/null || { echo "cjpeg missing (libjpeg-turbo-progs, scripts/deps)"; return 1; }
    local cache=$T/xdgc/dropbench
    coco_zips "$T/cz" "$cache" 24 8 || { echo "the COCO fixture failed"; return 1; }
    local sets=(coco2017-annotations coco2017-train coco2017-val)
    XDG_CACHE_HOME=$T/xdgc db data unpack "${sets[@]}" --catalog "$T/cz/catalog" && expect_rc 0 &&
        expect_out "into $cache/coco2017 (val2017)" || return
    [ -s "$cache/coco2017/annotations/instances_val2017.json" ] && [ -s "$cache/coco2017/train2017/000000001023.jpg" ] &&
        ! ls -A "$cache/coco2017" | grep -q unpack || { echo "unpacked: $(ls -A "$cache/coco2017")"; return 1; }
    XDG_CACHE_HOME=$T/xdgc db data unpack coco2017-val --catalog "$T/cz/catalog" && expect_rc 1 &&
        expect_err "val2017 is there already" || return
    local args=(--model retinanet-resnet18-fpn --dataset coco2017 --image-size 64 --augment-pad 0 --width 4
        --fpn-width 8 --head-convs 1 --max-level 6 --batch 8 --epochs 2 --lr 0.01 --threads 2)
    XDG_CACHE_HOME=$T/xdgc db train "${args[@]}" --det-scale-min 0.75 --det-scale-max 1.25 --metrics "$T/coco.csv" &&
        expect_rc 0 && expect_out "AP50" || return
    awk -F, 'NR == 3 { exit !($6 >= 0 && $6 <= 1 && $4 > 0) }' "$T/coco.csv" ||
        { echo "AP not in [0, 1] or no positives: $(snippet "$T/coco.csv")"; return 1; }
    XDG_CACHE_HOME=$T/xdgc db train "${args[@]}" --det-scale-min 1.25 --det-scale-max 1.25 --epochs 1 && expect_rc 0 ||
        return
    # a folder reached through "..", and a split whose images are not there: named at load, both places
    mkdir -p "$T/sub" && XDG_CACHE_HOME=$T/xdgc db data unpack coco2017-annotations coco2017-train --catalog "$T/cz/catalog" \
        --into "$T/sub/../viadots" && expect_rc 0 && [ -s "$T/viadots/train2017/000000001000.jpg" ] || return
    XDG_CACHE_HOME=$T/xdgc db train "${args[@]}" --data-dir "$T/viadots" && expect_rc 1 &&
        expect_err "val2017/000000001000.jpg" && expect_err "are its images unpacked" || return
    XDG_CACHE_HOME=$T/xdgc db train "${args[@]}" --augment-pad 2 && expect_rc 2 && expect_err "not cropped" || return
    XDG_CACHE_HOME=$T/xdgc db train "${args[@]}" --scale-min 1.5 && expect_rc 2 && expect_err "above scale_max" ||
        return
    XDG_CACHE_HOME=$T/xdgn db train "${args[@]}" && expect_rc 1 && expect_err "dropbench data unpack" || return
    # an archive whose entry climbs out of the folder, and one that fails its checksum
    python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],"w"); z.writestr("../evil.txt","x"); z.close()' "$T/evil.zip"
    mkdir -p "$T/xdge/dropbench/evil-set" && cp "$T/evil.zip" "$T/xdge/dropbench/evil-set/evil.zip"
    echo "evil-set evil.zip http://127.0.0.1:9/e $(stat -c %s "$T/evil.zip") $(md5sum <"$T/evil.zip" | cut -c1-32) -" >"$T/evil.cat"
    XDG_CACHE_HOME=$T/xdge db data unpack evil-set --catalog "$T/evil.cat" && expect_rc 1 && expect_err "outside the folder" ||
        return
    [ ! -e "$T/xdge/dropbench/evil.txt" ] && [ ! -e "$T/xdge/evil.txt" ] || { echo "an entry escaped"; return 1; }
    printf 'x' >>"$cache/coco2017-val/val2017.zip"
    XDG_CACHE_HOME=$T/xdgc db data unpack coco2017-val --catalog "$T/cz/catalog" --into "$T/other" && expect_rc 1 &&
        expect_err "val2017.zip" && [ ! -e "$T/other/val2017" ] || return
    # a refused archive leaves no folder the unpack made for it
    XDG_CACHE_HOME=$T/xdge db data unpack evil-set --catalog "$T/evil.cat" --into "$T/fresh" && expect_rc 1 &&
        [ ! -e "$T/fresh" ] || { echo "a refused unpack left $(ls -a "$T/fresh" 2>&1)"; return 1; }
}

t_data_make_fmnist_detect() {
    # the detection set from the Debian Fashion-MNIST: built, its statistics printed, refused
    # over an existing set; its ground truth scored as detections by eval coco gives AP 1
    need_fmnist || return
    db data make fmnist-detect --out "$T/fmd" --train 20 --val 10 --size 64 --sides 16,32 && expect_rc 0 &&
        expect_out "val         10" || return
    [ -s "$T/fmd/annotations/instances_val.json" ] && [ -s "$T/fmd/val/00000010.png" ] && grep -q "^seed=1$" "$T/fmd/make.txt" ||
        { echo "the set's files are missing"; return 1; }
    db data make fmnist-detect --out "$T/fmd" --train 20 --val 10 --size 64 && expect_rc 2 && expect_err "already exists" || return
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); json.dump([{"image_id":a["image_id"],"category_id":a["category_id"],"bbox":a["bbox"],"score":1.0} for a in d["annotations"]], open(sys.argv[2],"w"))' \
        "$T/fmd/annotations/instances_val.json" "$T/fmd_dt.json" || return
    db eval coco --gt "$T/fmd/annotations/instances_val.json" --results "$T/fmd_dt.json" --json && expect_rc 0 || return
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert abs(d["AP"]-1)<1e-12 and d["APl"]==-1, d' "$out" ||
        { echo "ground truth as detections: $(snippet "$out")"; return 1; }
    db data make fmnist-detect --out "$T/fmd2" --items 0,3 && expect_rc 2 && expect_err "items per canvas" || return
    db data make fmnist-detect --out "$T/fmd2" --sides 16 && expect_rc 2 && expect_err "--sides" || return
    db data make nosuch && expect_rc 2 && expect_err "fmnist-detect" || return
    # a folder named with a trailing slash is the same folder: built beside, renamed into place
    db data make fmnist-detect --out "$T/fmd3/" --train 8 --val 4 --size 64 --sides 16,32 && expect_rc 0 &&
        [ -s "$T/fmd3/make.txt" ] && [ ! -e "$T/fmd3/.part" ] && [ ! -e "$T/fmd3.part" ] ||
        { echo "built with a trailing slash: $(ls -a "$T/fmd3" 2>&1)"; return 1; }
}

t_data_list_debian() {
    # Debian's Fashion-MNIST, which training reads before the cache, is named by list and verify
    need_fmnist || return
    db data list && expect_rc 0 && expect_out "fashion-mnist: training reads $FMNIST" || return
    XDG_CACHE_HOME=$T/cache db data verify fashion-mnist && expect_rc 1 &&
        expect_err "fashion-mnist is not in the cache, and training does not need it there: it reads $FMNIST" || return
    # another cache folder: only the Debian set is named, no cache set said to be read "before the cache"
    db data list --data-dir "$T/c" && expect_rc 0 && expect_out "fashion-mnist: training reads $FMNIST" &&
        ! grep -q "cifar10: training reads" "$out" || { echo "list: $(snippet "$out")"; return 1; }
    db data verify cifar10 --data-dir "$T/c" && expect_rc 1 && ! grep -q "Debian" "$err" || return
    # a folder whose name has glob characters is read as a name
    small_dataset "$T/fm[1]" || return
    db train --dataset fashion-mnist --data-dir "$T/fm[1]" --batch 32 --epochs 1 --no-db && expect_rc 0
}

t_data_absent_refused() {
    # a data set that is not there: the dry run says so once, a run is refused with nothing recorded
    printf 'study = elsewhere\ndataset = imagenet\ndata_dir = %s\nimage_size = 32\naugment = inception\nepochs = 1\nvary.seed = 1, 2\n' \
        "$T/none" >"$T/r.txt"
    db study "$T/r.txt" --dry-run --db "$T/d.db" && expect_rc 0 && expect_out "would run once its data is there" &&
        expect_out "$T/none: no imagenet there; ImageNet is downloaded by hand" || return
    [ "$(grep -c "no imagenet there" "$out")" = 1 ] || { echo "said per cell: $(snippet "$out")"; return 1; }
    db train --dataset imagenet --data-dir "$T/none" --image-size 32 --augment inception --epochs 1 --db "$T/d.db" &&
        expect_rc 1 &&
        expect_err "no imagenet there" || return
    [ ! -s "$T/d.db" ] || [ "$(sqlite3 "$T/d.db" 'SELECT count(*) FROM runs')" = 0 ] || { echo "a run was recorded"; return 1; }
}
