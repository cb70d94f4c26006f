#!/usr/bin/env bash
# Command-line and fault tests of ./dropbench: exit codes and messages for usage errors, broken
# data files, unwritable and corrupt checkpoints, divergence; a short real training run on
# Fashion-MNIST, resume, determinism, bench and model.
#
# Run from anywhere (it changes to the repository root); `make` first. Each test prints
# "ok   NAME (SECONDS s)", "FAIL NAME: WHY" or "skip NAME: WHY"; the last line is
# "cli: N passed, N failed" and the exit status is 1 when any test failed.
# Tests that need /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist) are skipped
# when it is absent. About a minute on 2 idle cores; training uses the default 2 threads.
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
snippet() { tr '\n' ' ' <"$1" | head -c 400; }
# signalled SIG CMD...: runs CMD in the background (output in $out and $err), sends SIG 1.5 s
# later (mid-training for the small runs here), waits; sets rc.
signalled() {
    local sig=$1 pid
    shift
    rc=0
    "$@" >"$out" 2>"$err" & pid=$!
    sleep 1.5
    kill -"$sig" "$pid"
    wait "$pid" || rc=$?
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

# ---- usage errors ----

t_usage_no_args() {
    db || return
    expect_rc 2 && expect_err "usage: dropbench" || return
    [ ! -s "$out" ] || { echo "usage went to stdout, expected stderr"; return 1; }
}
t_unknown_command() { db frobnicate && expect_rc 2 && expect_err "frobnicate"; }
t_train_unknown_key() { db train --no-such-key 1 && expect_rc 2 && expect_err "no-such-key"; }
t_train_epochs_zero() { db train --epochs 0 && expect_rc 2 && expect_err "epochs"; }
t_train_lr_not_number() { db train --lr abc && expect_rc 2 && expect_err "lr" && expect_err "abc"; }
t_train_step_needs_milestones() {
    db train --lr-schedule step && expect_rc 2 && expect_err "milestones"
}
t_train_resume_needs_dir() { db train --resume && expect_rc 2 && expect_err "checkpoint-dir"; }
t_print_config() {
    db train --print-config --epochs 3 && expect_rc 0 || return
    grep -qx 'epochs=3' "$out" || { echo "no line epochs=3: $(snippet "$out")"; return 1; }
    local bad n
    bad=$(grep -cvE '^[a-z0-9_]+=' "$out")
    n=$(wc -l <"$out")
    [ "$bad" -eq 0 ] || { echo "$bad lines are not key=value"; return 1; }
    [ "$n" -ge 20 ] || { echo "only $n keys printed"; return 1; }
    grep -qx 'model=resnet20' "$out" || { echo "default model=resnet20 missing"; return 1; }
}

# ---- data errors: exit 1 and the message names the file ----

t_data_missing_files() {
    mkdir -p "$T/empty"
    db train --data-dir "$T/empty" --epochs 1 && expect_rc 1 &&
        expect_err "$T/empty/train-images-idx3-ubyte" && expect_err "missing"
}
t_data_truncated_gzip() {
    need_fmnist || return
    local d=$T/data
    mkdir -p "$d"
    head -c 300000 "$FMNIST/train-images-idx3-ubyte.gz" >"$d/train-images-idx3-ubyte.gz" &&
        cp "$FMNIST/train-labels-idx1-ubyte.gz" "$d/" || { echo "cannot copy the data set"; return 1; }
    db train --data-dir "$d" --epochs 1 && expect_rc 1 &&
        expect_err "$d/train-images-idx3-ubyte.gz" && expect_err "truncated"
}
t_data_garbled_gzip() {
    local d=$T/data
    mkdir -p "$d"
    # gzip header, then a deflate block of the reserved type 3 and junk: not inflatable
    { printf '\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x07'; head -c 4000 /dev/zero | tr '\0' 'x'; } \
        >"$d/train-images-idx3-ubyte.gz"
    idx_labels "$d/train-labels-idx1-ubyte" 10
    db train --data-dir "$d" --epochs 1 && expect_rc 1 &&
        expect_err "$d/train-images-idx3-ubyte.gz" && expect_err "corrupt gzip"
}
t_data_wrong_magic() {
    local d=$T/data
    mkdir -p "$d"
    idx_images "$d/train-images-idx3-ubyte" 10 2049   # the labels' magic on an images file
    idx_labels "$d/train-labels-idx1-ubyte" 10
    db train --data-dir "$d" --epochs 1 && expect_rc 1 &&
        expect_err "$d/train-images-idx3-ubyte" && expect_err "magic"
}
t_data_count_mismatch() {
    local d=$T/data
    mkdir -p "$d"
    idx_images "$d/train-images-idx3-ubyte" 10
    idx_labels "$d/train-labels-idx1-ubyte" 9
    db train --data-dir "$d" --epochs 1 && expect_rc 1 && expect_err "mismatch" &&
        expect_err "$d/train-images-idx3-ubyte" && expect_err "$d/train-labels-idx1-ubyte"
}
t_data_trailing_bytes() {
    local d=$T/data
    mkdir -p "$d"
    idx_images "$d/train-images-idx3-ubyte" 10
    printf 'extra' >>"$d/train-images-idx3-ubyte"
    idx_labels "$d/train-labels-idx1-ubyte" 10
    db train --data-dir "$d" --epochs 1 && expect_rc 1 &&
        expect_err "$d/train-images-idx3-ubyte" && expect_err "trailing"
}

# ---- checkpoint folder, divergence ----

t_checkpoint_dir_unwritable() {
    # root can write anywhere, so use a path below a regular file. 100000 epochs: if the
    # folder were checked only after training, this would run into the time limit.
    small_dataset "$T/data" || { echo "cannot write the synthetic data set"; return 1; }
    : >"$T/afile"
    db train --data-dir "$T/data" --batch 32 --epochs 100000 --checkpoint-dir "$T/afile/ckpt" || return
    expect_rc 1 && expect_err "$T/afile/ckpt" || return
    ! grep -q '^epoch' "$out" || { echo "trained before failing: $(snippet "$out")"; return 1; }
    awk -v s="$secs" 'BEGIN { exit !(s < 30) }' || { echo "took ${secs}s to fail"; return 1; }
}
t_metrics_unwritable() {
    small_dataset "$T/data" || return
    db train --data-dir "$T/data" --batch 32 --epochs 100000 --metrics "$T/no/such/dir/m.csv" || return
    expect_rc 1 && expect_err "$T/no/such/dir/m.csv" || return
    ! grep -q '^epoch' "$out" || { echo "trained before failing: $(snippet "$out")"; return 1; }
}
t_diverged() {
    need_fmnist || return
    # lr 100 with weight decay 1 multiplies the weights by -99 per step: they overflow within
    # about 20 steps (the run stops there); 256 steps leave a wide margin should the engine's
    # arithmetic change when it happens.
    db train --lr 100 --weight-decay 1 --momentum 0 --lr-schedule constant --train-limit 2048 \
        --test-limit 16 --batch 8 --epochs 1 --quiet && expect_rc 3 && expect_err "diverged" || return
    ! grep -q '^result:' "$out" || { echo "printed a result after diverging"; return 1; }
}
t_diverged_weights_hidden_by_relu() {
    need_fmnist || return
    # Overflowed weights become NaN, which a ReLU turns into 0: the loss can stay finite while
    # the network is broken. This once exited 0 reporting 100% accuracy; it must diverge.
    db train --lr 100 --weight-decay 1 --momentum 0 --lr-schedule constant --train-limit 160 \
        --test-limit 16 --batch 8 --epochs 1 --quiet && expect_rc 3 && expect_err "diverged" || return
    ! grep -q '^result:' "$out" || { echo "printed a result after diverging"; return 1; }
}

# ---- real training on Fashion-MNIST ----

t_train_short() {
    need_fmnist || return
    db train --train-limit 4000 --test-limit 1000 --epochs 2 --seed 1 --metrics "$T/m.csv" \
        --checkpoint-dir "$T/ck" && expect_rc 0 || return
    local acc rows
    acc=$(test_top1)
    [ -n "$acc" ] || { echo "no result line: $(snippet "$out")"; return 1; }
    awk -v a="$acc" 'BEGIN { exit !(a >= 65) }' || { echo "test top1 $acc% < 65%"; return 1; }
    [ -f "$T/m.csv" ] || { echo "no metrics file"; return 1; }
    head -1 "$T/m.csv" | grep -q '^epoch,lr,train_loss,train_top1,test_loss,test_top1,test_top5,' ||
        { echo "bad metrics header: $(head -1 "$T/m.csv")"; return 1; }
    rows=$(tail -n +2 "$T/m.csv" | cut -d, -f1 | tr '\n' ' ')
    [ "$rows" = "1 2 " ] || { echo "metrics rows for epochs '$rows', expected '1 2 '"; return 1; }
    [ -s "$T/ck/checkpoint.dbck" ] || { echo "no checkpoint in $T/ck"; return 1; }
    [ "$(ls -A "$T/ck")" = "checkpoint.dbck" ] || { echo "stray files in the checkpoint folder: $(ls -A "$T/ck")"; return 1; }
    echo "top1 $acc%" >"$T/note"
}

CK2=$tmp/ck2   # shared by the resume and checkpoint-corruption tests
RESUME_ARGS=(train --train-limit 1024 --test-limit 512 --batch 64 --epochs 2 --seed 3)
t_resume_completed() {
    need_fmnist || return
    db "${RESUME_ARGS[@]}" --checkpoint-dir "$CK2" && expect_rc 0 || return
    result_line >"$T/first" || { echo "first run printed no result"; return 1; }
    db "${RESUME_ARGS[@]}" --checkpoint-dir "$CK2" --resume && expect_rc 0 &&
        expect_out "(resumed after epoch 2)" || return
    result_line >"$T/second" || { echo "resumed run printed no result"; return 1; }
    diff -q "$T/first" "$T/second" >/dev/null ||
        { echo "result differs after resume: '$(cat "$T/first")' vs '$(cat "$T/second")'"; return 1; }
    ! grep -q '^epoch' "$out" || { echo "the resumed run trained again: $(snippet "$out")"; return 1; }
}
t_resume_other_config() {
    need_fmnist || return
    [ -s "$CK2/checkpoint.dbck" ] || { echo "no checkpoint from resume_completed"; return 1; }
    db train --train-limit 1024 --test-limit 512 --batch 64 --epochs 2 --seed 4 \
        --checkpoint-dir "$CK2" --resume && expect_rc 2 && expect_err "another configuration" &&
        expect_err "$CK2"
}
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
t_checkpoint_corrupt() {
    need_fmnist || return
    damaged_checkpoint flip && expect_rc 1 && expect_err "checksum" && expect_err "$T/ck/checkpoint.dbck"
}
t_checkpoint_truncated() {
    need_fmnist || return
    damaged_checkpoint cut && expect_rc 1 && expect_err "truncated" && expect_err "$T/ck/checkpoint.dbck"
}
t_deterministic() {
    need_fmnist || return
    local a=(train --train-limit 1024 --test-limit 512 --epochs 1 --batch 64 --seed 7 --quiet)
    db "${a[@]}" --metrics "$T/a.csv" && expect_rc 0 || return
    db "${a[@]}" --metrics "$T/b.csv" && expect_rc 0 || return
    [ "$(wc -l <"$T/a.csv")" -eq 2 ] || { echo "metrics: expected a header and 1 row"; return 1; }
    cmp -s <(cut -d, -f1-7 "$T/a.csv") <(cut -d, -f1-7 "$T/b.csv") ||
        { echo "runs differ: $(tail -1 "$T/a.csv") vs $(tail -1 "$T/b.csv")"; return 1; }
}

# ---- bench and model ----

t_bench_json() {
    db bench --steps 1 --warmup 0 --batch 16 --json && expect_rc 0 || return
    [ "$(wc -l <"$out")" -eq 1 ] || { echo "expected one line: $(snippet "$out")"; return 1; }
    command -v python3 >/dev/null || { echo "python3 not found to check the JSON"; return 77; }
    python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); sys.exit(not d["images_per_s"] > 0)' \
        <"$out" >/dev/null 2>&1 || { echo "not JSON with images_per_s > 0: $(snippet "$out")"; return 1; }
}
t_bench_profile() {
    # --profile with DropBlock at every site: the mask draws are the regularizer's row (not the
    # batch norm's: its own forward is ~0.01 ms); the convolution table ends with the overall rate
    db bench --steps 2 --warmup 1 --batch 32 --dropblock 3 --profile && expect_rc 0 || return
    awk '$1 == "regularizer" && $2 + 0 > 0.05 { found = 1 } END { exit !found }' "$out" ||
        { echo "no regularizer row with the masks' time (over 0.05 ms)"; cat "$out"; return 1; }
    grep -q "all convolutions:" "$out" || { echo "no convolution summary"; return 1; }
}
t_bench_bad_input() { db bench --input 1,2 && expect_rc 2 && expect_err "--input"; }
t_conv_choice() {
    # DROPBENCH_CONV: gemm takes the GEMM path (said by version), another value is said, not ignored
    DROPBENCH_CONV=gemm db version && expect_rc 0 && expect_out "convolutions (CPU): GEMM" || return
    DROPBENCH_CONV=fast db bench --steps 1 --warmup 0 --batch 8 && expect_rc 0 && expect_err "neither gemm nor onednn"
}
t_bench_busy() {
    # scripts/bench beside a busy process: the summary says so, and the spinner is gone after
    # (no peer here: BENCH_PYTHON and the peer venv point nowhere)
    rc=0
    BENCH_PYTHON=/nonexistent DROPBENCH_PEER_VENV=$T/none PATH=/usr/bin:/bin timeout 300 scripts/bench --rounds 1 --steps 1 \
        --warmup 0 --batch 8 --busy 1 --json >"$out" 2>"$err" || rc=$?
    [ "$rc" = 0 ] || { echo "exit $rc: $(snippet "$err")"; return 1; }
    python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); sys.exit(not (d["busy"] == 1 and d["dropbench_images_per_s"] > 0))' \
        <"$out" || { echo "summary: $(snippet "$out")"; return 1; }
    expect_err "1 spinning process" || return
    ! pgrep -f "dropbench-bench-busy" >/dev/null || { echo "a spinner outlived the benchmark"; return 1; }
    # the caller's own wait policy is kept and said (was a KeyError on GOMP_SPINCOUNT)
    rc=0
    OMP_WAIT_POLICY=passive BENCH_PYTHON=/nonexistent DROPBENCH_PEER_VENV=$T/none PATH=/usr/bin:/bin timeout 300 scripts/bench \
        --rounds 1 --steps 1 --warmup 0 --batch 8 --busy 1 >"$out" 2>"$err" || rc=$?
    [ "$rc" = 0 ] && expect_out "both sides wait with OMP_WAIT_POLICY=passive" || { echo "exit $rc: $(snippet "$err")"; return 1; }
}
t_bench_amoebanet() {
    # scripts/bench hands --cells and --width to both sides (no peer here): AmoebaNet-B (1, 8) on
    # 28x28 has 36,938 parameters (as scripts/torch_amoebanet.py counts it); they are refused for
    # a model without cells, and 0 is refused rather than meaning the model's own
    rc=0
    BENCH_PYTHON=/nonexistent DROPBENCH_PEER_VENV=$T/none PATH=/usr/bin:/bin timeout 300 scripts/bench --model amoebanet-b \
        --cells 3 --width 8 --rounds 1 --steps 1 --warmup 0 --batch 8 --threads 1 --json >"$out" 2>"$err" || rc=$?
    [ "$rc" = 0 ] || { echo "exit $rc: $(snippet "$err")"; return 1; }
    python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); sys.exit(not (d["cells"] == 3 and d["width"] == 8 and d["params"]["dropbench"] == 36938))' \
        <"$out" || { echo "summary: $(snippet "$out")"; return 1; }
    rc=0; scripts/bench --model resnet20 --cells 3 >"$out" 2>"$err" || rc=$?
    expect_rc 2 && expect_err "amoebanet-b's" || return
    rc=0; scripts/bench --model amoebanet-b --width 0 >"$out" 2>"$err" || rc=$?
    expect_rc 2 && expect_err "must be >= 1"
}
t_model_resnet20() {
    db model resnet20 --input 3,32,32 && expect_rc 0 && expect_out "269722 parameters" &&
        expect_out "regularizer sites (27)"
}
t_model_resnet50() { db model resnet50 && expect_rc 0 && expect_out "25557032 parameters"; }
t_model_resnet18() { db model resnet18 && expect_rc 0 && expect_out "11689512 parameters"; }
t_kernel_dropout_json() {
    db kernel dropout --shape 32,16,14,14 --keep-prob 0.8 --reps 3 --json && expect_rc 0 || return
    python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert abs(d["drop_fraction"]-0.2) < 0.003, d; assert d["ms_per_call"] > 0 and d["gb_per_s"] > 0, d' <"$out" ||
        { echo "bad JSON or fraction: $(snippet "$out")"; return 1; }
}
t_kernel_spatial_dropout() {
    db kernel spatial-dropout --shape 256,64,4,4 --keep-prob 0.5 --reps 4 && expect_rc 0 && expect_out "spatial-dropout" || return
    frac=$(sed -n 's/.*dropped \([0-9.]*\) .*/\1/p' "$out")
    awk -v f="$frac" 'BEGIN { exit !(f > 0.48 && f < 0.52) }' || { echo "dropped fraction $frac"; return 1; }
}
t_kernel_dropblock_json() {
    # the realised fraction against the exact expectation (dropblock.md's table: 14x14, k 7 -> 0.0929)
    db kernel dropblock --shape 256,64,14,14 --keep-prob 0.9 --block-size 7 --reps 2 --json && expect_rc 0 || return
    python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert abs(d["expected_fraction"]-0.0929) < 5e-5, d; assert abs(d["drop_fraction"]-d["expected_fraction"]) < 0.003, d' <"$out" ||
        { echo "bad JSON or fraction: $(snippet "$out")"; return 1; }
}
t_kernel_dropblock_semantics() {
    # each preset's realised fraction against its own exact expectation, and dropblock.md's
    # Monte-Carlo estimate for timm at 14x14, k 7 (0.205)
    for sem in timm torchvision miguelvr darknet; do
        db kernel dropblock --shape 512,16,14,14 --keep-prob 0.9 --block-size 7 --semantics $sem --reps 2 --json &&
            expect_rc 0 || return
        python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["semantics"] == sys.argv[1], d; assert abs(d["drop_fraction"]-d["expected_fraction"]) < 0.006, d; assert sys.argv[1] != "timm" or abs(d["expected_fraction"]-0.205) < 0.005, d' "$sem" <"$out" ||
            { echo "$sem: $(snippet "$out")"; return 1; }
    done
}
t_kernel_device_cuda() {
    # on a GPU: the same JSON, the device named; without one (or without CUDA in the build): a
    # clear message and exit 1
    db kernel dropblock --shape 16,8,14,14 --keep-prob 0.9 --block-size 7 --device cuda --reps 2 --json
    if [ "$rc" -eq 0 ]; then
        python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["device"].startswith("cuda"), d; assert abs(d["drop_fraction"]-d["expected_fraction"]) < 0.03, d' <"$out" ||
            { echo "bad JSON: $(snippet "$out")"; return 1; }
        echo "ran on $(sed -n 's/.*"device":"\([^"]*\)".*/\1/p' "$out")" >"$T/note"
    else
        expect_rc 1 && expect_err "CUDA" || return
        echo "no GPU: $(head -c 80 "$err")" >"$T/note"
    fi
}
STORE_ARGS=(train --train-limit 512 --test-limit 256 --batch 64 --seed 2)
t_store_records_run() {
    need_fmnist || return
    db "${STORE_ARGS[@]}" --epochs 2 --regularizer dropblock --block-size 3 --reg-groups 3 --db "$T/r.db" &&
        expect_rc 0 && expect_out "recording run 1" || return
    db list --db "$T/r.db" && expect_rc 0 && expect_out "done" || return
    db show 1 --db "$T/r.db" && expect_rc 0 && expect_out "git_commit" && expect_out "test  top1" || return
    # the sqlite3 tool and Python's sqlite3 read every table
    local n
    n=$(sqlite3 "$T/r.db" "SELECT count(*) FROM metrics WHERE run_id = 1 AND name LIKE 'drop_fraction/%'") || return
    [ "$n" = 18 ] || { echo "per-site drop rows: $n, want 18 (9 sites x 2 epochs)"; return 1; }
    n=$(sqlite3 "$T/r.db" "SELECT group_concat(round(value, 4)) FROM (SELECT value FROM metrics WHERE run_id = 1 AND name = 'keep_prob' ORDER BY epoch)")
    [ "$n" = "0.9533,0.9" ] || { echo "scheduled keep_prob per epoch: '$n', want 0.9533,0.9 (1 - 0.1 * step / 15 at steps 7 and 15)"; return 1; }
    python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [c.execute("SELECT * FROM "+t).fetchall() for t in ("studies","runs","metrics","provenance","paper_values")]; assert c.execute("SELECT status FROM runs").fetchone()[0]=="done"' "$T/r.db" ||
        { echo "python's sqlite3 could not read the store"; return 1; }
    # export: CSV with one row per metric, JSON with runs, their provenance and metrics
    db export --db "$T/r.db" && expect_rc 0 || return
    local rows
    rows=$(python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert all(x["run"]=="1" and x["keep_prob"]=="0.9" for x in r); print(len(r))' "$out") ||
        { echo "export CSV unreadable: $(snippet "$out")"; return 1; }
    [ "$rows" = "$(sqlite3 "$T/r.db" "SELECT count(*) FROM metrics")" ] || { echo "export CSV has $rows rows"; return 1; }
    db export --format json --run 1 --db "$T/r.db" && expect_rc 0 || return
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==1 and d[0]["status"]=="done" and "git_commit" in d[0]["provenance"] and len(d[0]["metrics"])==int(sys.argv[2]), d[0].keys()' "$out" "$rows" ||
        { echo "export JSON: $(snippet "$out")"; return 1; }
    db export --format xml --db "$T/r.db" && expect_rc 2 || return
    # the MLLOG event log beside it: every line ":::MLLOG " + JSON, the run's keys in order
    python3 -c '
import json, sys
ev = [json.loads(l[len(":::MLLOG "):]) for l in open(sys.argv[1]) if l.startswith(":::MLLOG ")]
keys = [e["key"] for e in ev]
assert keys[0] == "run_start" and keys[-1] == "run_stop", keys
assert ev[-1]["metadata"]["status"] == "success", ev[-1]
acc = [e for e in ev if e["key"] == "eval_accuracy"]
assert [e["metadata"]["epoch_num"] for e in acc] == [1, 2], acc
assert all(set(e) == {"namespace", "time_ms", "event_type", "key", "value", "metadata"} for e in ev)
' "$T/r.mllog/run-000001.log" || { echo "bad MLLOG: $(head -c 300 "$T/r.mllog/run-000001.log")"; return 1; }
}
t_eval_every() {
    # --eval-every 2: test metrics after epochs 2 and 3 (the last) only, the training and the
    # final metrics the same as evaluating every epoch
    need_fmnist || return
    db "${STORE_ARGS[@]}" --epochs 3 --seed 3 --model resnet8 --db "$T/e1.db" && expect_rc 0 || return
    db "${STORE_ARGS[@]}" --epochs 3 --seed 3 --model resnet8 --eval-every 2 --db "$T/e2.db" && expect_rc 0 &&
        expect_out "not evaluated" || return
    local q="SELECT group_concat(epoch || ':' || name || '=' || value, ' ') FROM (SELECT * FROM metrics WHERE split = 'test' AND epoch >= ? ORDER BY epoch, name)"
    [ "$(sqlite3 "$T/e2.db" "SELECT group_concat(DISTINCT epoch) FROM metrics WHERE split = 'test'")" = "2,3" ] &&
        [ "$(sqlite3 "$T/e2.db" "${q/\?/2}")" = "$(sqlite3 "$T/e1.db" "${q/\?/2}")" ] &&
        [ "$(sqlite3 "$T/e2.db" "SELECT group_concat(value) FROM metrics WHERE split = 'train' AND name = 'loss'")" = \
          "$(sqlite3 "$T/e1.db" "SELECT group_concat(value) FROM metrics WHERE split = 'train' AND name = 'loss'")" ] ||
        { echo "test metrics: $(sqlite3 "$T/e2.db" "${q/\?/0}") vs $(sqlite3 "$T/e1.db" "${q/\?/0}")"; return 1; }
    db "${STORE_ARGS[@]}" --eval-every 0 --no-db && expect_rc 2 && expect_err "eval_every"
}
t_store_concurrent() {
    # four processes recording into one database at once lose nothing
    need_fmnist || return
    local pids=() i
    for i in 1 2 3 4; do
        "$DB" "${STORE_ARGS[@]}" --epochs 2 --seed "$i" --threads 1 --db "$T/c.db" --quiet >"$T/c$i.out" 2>&1 & pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || { echo "a writer failed: $(cat "$T"/c*.out | tail -3)"; return 1; }; done
    local got
    got=$(sqlite3 "$T/c.db" "SELECT (SELECT count(*) FROM runs WHERE status = 'done') || ' ' || (SELECT count(*) FROM metrics) || ' ' || (SELECT integrity_check FROM pragma_integrity_check)")
    [ "$got" = "4 80 ok" ] || { echo "runs done, metric rows, integrity: '$got', want '4 80 ok'"; return 1; }
}
# kill_at EPOCHS_RECORDED EXTRA_SLEEP: starts a 3-epoch run, SIGKILLs it once the store holds that
# many epochs (and EXTRA_SLEEP more seconds), checks it shows as interrupted, then resumes it
kill_and_resume() {
    local k=$1 extra=$2 ck=$T/ck$1-$2 pid n=0
    "$DB" "${STORE_ARGS[@]}" --epochs 3 --checkpoint-dir "$ck" --db "$T/k.db" --quiet >/dev/null 2>&1 & pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        n=$(sqlite3 "$T/k.db" "SELECT count(DISTINCT epoch) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.checkpoint_dir = '$ck'" 2>/dev/null || echo 0)
        [ "${n:-0}" -ge "$k" ] && break
        sleep 0.1
    done
    sleep "$extra"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    db list --db "$T/k.db" && expect_rc 0 || return
    grep -q "interrupted" "$out" || { echo "after SIGKILL at epoch $k+${extra}s: $(snippet "$out")"; return 1; }
    [ "$(sqlite3 "$T/k.db" "PRAGMA integrity_check")" = ok ] || { echo "integrity check failed after the kill"; return 1; }
    db "${STORE_ARGS[@]}" --epochs 3 --checkpoint-dir "$ck" --db "$T/k.db" --resume && expect_rc 0 &&
        expect_out "continuing run" || return
}
t_store_fresh_not_taken_over() {
    # a run that starts from scratch (no --resume) gets a record of its own: it does not take up
    # an interrupted run's record and say "continuing"
    need_fmnist || return
    local ck=$T/ck
    # (20 epochs: signalled stops it after 1.5 s; 3 epochs could end before that on a fast machine)
    signalled TERM "$DB" "${STORE_ARGS[@]}" --epochs 20 --checkpoint-dir "$ck" --db "$T/f.db"
    [ "$rc" = 4 ] || { echo "the first run was not interrupted (exit $rc)"; return 1; }
    db "${STORE_ARGS[@]}" --epochs 1 --checkpoint-dir "$ck" --db "$T/f.db" && expect_rc 0 && expect_out "recording run 2" || return
    ! grep -q "continuing" "$out" || { echo "a fresh run said it continues"; return 1; }
    [ "$(sqlite3 "$T/f.db" "SELECT group_concat(status) FROM (SELECT status FROM runs ORDER BY id)")" = "interrupted,done" ] ||
        { echo "records: $(sqlite3 "$T/f.db" "SELECT id, status FROM runs")"; return 1; }
}
t_store_kill_resume() {
    # killed at several points, resumed: the same final metrics as an uninterrupted run
    need_fmnist || return
    command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; return 77; }
    db "${STORE_ARGS[@]}" --epochs 3 --checkpoint-dir "$T/ref" --db "$T/k.db" && expect_rc 0 || return
    kill_and_resume 1 0 || return
    kill_and_resume 1 0.7 || return
    kill_and_resume 2 0.3 || return
    local differ
    differ=$(sqlite3 "$T/k.db" "SELECT count(*) FROM metrics a JOIN metrics b ON b.epoch = a.epoch AND b.split = a.split AND b.name = a.name AND b.step = a.step WHERE a.run_id = 1 AND b.run_id > 1 AND a.split = 'test' AND a.value IS NOT b.value")
    local done
    done=$(sqlite3 "$T/k.db" "SELECT count(*) FROM runs WHERE status = 'done' AND epochs_done = 3")
    [ "$differ" = 0 ] && [ "$done" = 4 ] || { echo "$differ test metrics differ from the uninterrupted run; $done of 4 runs done: $(sqlite3 "$T/k.db" "SELECT id, status, epochs_done, exit_reason FROM runs" | tr "\n" " ")"; return 1; }
}
t_store_bad_input() {
    printf 'this is not a database at all, just text padding it out .....' >"$T/bad.db"
    db list --db "$T/bad.db" && expect_rc 1 && expect_err "bad.db" || return
    sqlite3 "$T/newer.db" "CREATE TABLE runs(x); PRAGMA user_version = 7;" || return
    db list --db "$T/newer.db" && expect_rc 1 && expect_err "newer" || return
    db train --train-limit 64 --epochs 1 --db "$T/newer.db" && expect_rc 1 && expect_err "newer" || return
    db show 99 --db "$T/r2.db" && expect_rc 2 && expect_err "no run 99" || return
    db export --run 99 --db "$T/r2.db" && expect_rc 2 && expect_err "no run 99" || return
    db export --run 99 --format json --db "$T/r2.db" && expect_rc 2 && expect_err "no run 99" || return
    db list --bogus && expect_rc 2 && expect_err "usage" || return
    db train --db && expect_rc 2 && expect_err "--db needs a path" || return
    # a path longer than SQLite takes: said so, not "unable to open database file"
    local long=$T/$(printf 'd%.0s' {1..200})/$(printf 'e%.0s' {1..200})/$(printf 'f%.0s' {1..200}).db
    db list --db "$long" && expect_rc 2 && expect_err "SQLite takes at most" && ! grep -q "unable to open" "$err" || return
    # a corrupt baseline or shard: named, with SQLite's reason (was "not an error" about the other file)
    db regress --baseline "$T/bad.db" --db "$T/r2.db" && expect_rc 1 && expect_err "$T/bad.db: cannot read the baseline" &&
        expect_err "not a dropbench database" && ! grep -q "not an error" "$err" || return
    db merge "$T/bad.db" --db "$T/r2.db" && expect_rc 1 && expect_err "$T/bad.db: cannot read the shard" || return
    # a database merged into or compared with itself (was "database is locked")
    db merge "$T/r2.db" --db "$T/r2.db" && expect_rc 2 && expect_err "is the database itself" || return
    db regress --baseline "$T/r2.db" --db "$T/r2.db" && expect_rc 2 && expect_err "is the database itself"
}
STOP_ARGS=(train --train-limit 1024 --test-limit 256 --batch 64 --seed 4 --epochs 2 --quiet)
t_stop_signal_resume() {
    # SIGUSR1 (a cluster's warning before its time limit) stops a run with a checkpoint, inside
    # the epoch too; `resume RUN` finishes it from the database alone, bit for bit
    need_fmnist || return
    db "${STOP_ARGS[@]}" --checkpoint-dir "$T/ref" --db "$T/g.db" && expect_rc 0 || return
    signalled USR1 "$DB" "${STOP_ARGS[@]}" --checkpoint-dir "$T/int" --db "$T/g.db"
    [ "$rc" = 4 ] && grep -q "stopped by signal 10" "$err" && grep -q "dropbench resume" "$err" ||
        { echo "after SIGUSR1: exit $rc, $(snippet "$err")"; return 1; }
    [ "$(sqlite3 "$T/g.db" 'SELECT status FROM runs WHERE id = 2')" = interrupted ] || { echo "run 2 not interrupted"; return 1; }
    db resume 2 --db "$T/g.db" --quiet && expect_rc 0 || return
    local differ
    differ=$(sqlite3 "$T/g.db" "SELECT count(*) FROM metrics a JOIN metrics b ON b.epoch = a.epoch AND b.split = a.split AND b.name = a.name AND b.step = a.step WHERE a.run_id = 1 AND b.run_id = 2 AND a.name NOT IN ('seconds', 'images_per_s') AND a.value IS NOT b.value")
    [ "$differ" = 0 ] && [ "$(sqlite3 "$T/g.db" 'SELECT count(*) FROM metrics WHERE run_id = 2')" = \
        "$(sqlite3 "$T/g.db" 'SELECT count(*) FROM metrics WHERE run_id = 1')" ] &&
        [ "$(sqlite3 "$T/g.db" "SELECT status FROM runs WHERE id = 2")" = done ] ||
        { echo "$differ metrics differ from the uninterrupted run ($(grep -o 'in epoch.*of [0-9]*\|after epoch [0-9]*' "$err"))"; return 1; }
    db resume 2 --db "$T/g.db" && expect_rc 0 && expect_out "nothing to resume" || return
    db resume 99 --db "$T/g.db" && expect_rc 2 && expect_err "no run 99" || return
    db resume --db "$T/g.db" && expect_rc 2 && expect_err "usage" || return
    # without a checkpoint folder a stopped run cannot continue, and says so
    signalled TERM "$DB" "${STOP_ARGS[@]}" --db "$T/g.db"
    [ "$rc" = 4 ] && grep -q "cannot continue" "$err" || { echo "after SIGTERM: exit $rc, $(snippet "$err")"; return 1; }
    db resume 3 --db "$T/g.db" && expect_rc 1 && expect_err "without a checkpoint folder" || return
    # a diverged run would diverge again from its checkpoint: refused, nothing recorded
    sqlite3 "$T/g.db" "UPDATE runs SET status = 'diverged', exit_reason = 'planted' WHERE id = 2" || return
    db resume 2 --db "$T/g.db" && expect_rc 1 && expect_err "diverge again" || return
    [ "$(sqlite3 "$T/g.db" 'SELECT count(*) FROM runs')" = 3 ] || { echo "resuming a diverged run recorded a new one"; return 1; }
}
t_rmsprop_ema() {
    # the official AmoebaNet training setup on a small net: TensorFlow's RMSProp, the exponential
    # staircase and the weights' moving average. The average is what is scored (the same training,
    # other test metrics); a stop inside an epoch resumes bit for bit (the checkpoint keeps the
    # mean squares and the average); what does not fit is refused
    need_fmnist || return
    local a=("${STOP_ARGS[@]}" --optimizer rmsprop --lr 0.01 --weight-decay 4e-5 --lr-schedule exponential
        --lr-decay-rate 0.5 --lr-decay-epochs 1 --warmup-epochs 0)
    db "${a[@]}" --checkpoint-dir "$T/plain" --db "$T/e.db" && expect_rc 0 || return
    db "${a[@]}" --ema-decay 0.99 --checkpoint-dir "$T/ref" --db "$T/e.db" && expect_rc 0 || return
    signalled USR1 "$DB" "${a[@]}" --ema-decay 0.99 --checkpoint-dir "$T/int" --db "$T/e.db"
    [ "$rc" = 4 ] || { echo "after SIGUSR1: exit $rc, $(snippet "$err")"; return 1; }
    db resume 3 --db "$T/e.db" --quiet && expect_rc 0 || return
    local q="SELECT group_concat(value, ' ') FROM (SELECT value FROM metrics WHERE run_id = %d AND split = '%s' AND name = '%s' ORDER BY epoch)"
    local lr l1 l2 t1 t2 t3
    # shellcheck disable=SC2059
    lr=$(sqlite3 "$T/e.db" "$(printf "$q" 1 train lr)"); l1=$(sqlite3 "$T/e.db" "$(printf "$q" 1 train loss)")
    # shellcheck disable=SC2059
    l2=$(sqlite3 "$T/e.db" "$(printf "$q" 2 train loss)"); t1=$(sqlite3 "$T/e.db" "$(printf "$q" 1 test loss)")
    # shellcheck disable=SC2059
    t2=$(sqlite3 "$T/e.db" "$(printf "$q" 2 test loss)"); t3=$(sqlite3 "$T/e.db" "$(printf "$q" 3 test loss)")
    [ "$lr" = "0.00999999977648258 0.00499999988824129" ] || { echo "exponential lr per epoch: $lr"; return 1; }
    [ "$l1" = "$l2" ] && [ "$t1" != "$t2" ] && [ -n "$t2" ] ||
        { echo "with the average: train loss $l2 (without $l1), test loss $t2 (without $t1)"; return 1; }
    [ "$t3" = "$t2" ] && [ "$(sqlite3 "$T/e.db" "$(printf "$q" 3 train loss)")" = "$l2" ] ||
        { echo "resumed: test loss $t3, uninterrupted $t2"; return 1; }
    grep -q '"key": "opt_name", "value": "rmsprop"' "$T/e.mllog/run-000001.log" ||
        { echo "event log: $(grep -o '"key": "opt_name", "value": "[a-z]*"' "$T/e.mllog/run-000001.log")"; return 1; }
    # its checkpoint resumed under another optimizer state (no average): refused, saying so, kept
    db "${a[@]}" --checkpoint-dir "$T/ref" --db "$T/e.db" --resume && expect_rc 1 && expect_err "another optimizer's state" &&
        [ -s "$T/ref/checkpoint.dbck" ] || return
    db train --optimizer adam --epochs 1 && expect_rc 2 && expect_err "sgd or rmsprop" || return
    db train --optimizer rmsprop --nesterov 1 --epochs 1 && expect_rc 2 && expect_err "nesterov is SGD's" || return
    db train --lr-schedule linear --epochs 1 && expect_rc 2 && expect_err "cosine or exponential"
}
t_study_stop_resume() {
    # a study stopped by a signal resumes from its recorded recipe alone
    need_fmnist || return
    cat >"$T/r.txt" <<EOR
study = stoppable
train_limit = 1024
test_limit = 128
batch = 64
epochs = 2
checkpoint_dir = $T/runs
vary.seed = 1, 2
EOR
    signalled USR1 "$DB" study "$T/r.txt" --db "$T/s.db" --quiet
    [ "$rc" = 4 ] && grep -q "stopped in cell seed=1" "$out" || { echo "after SIGUSR1: exit $rc, $(snippet "$out")"; return 1; }
    rm "$T/r.txt" # the database alone must do
    db resume --study stoppable --db "$T/s.db" --quiet && expect_rc 0 && expect_out "2 cells" || return
    [ "$(sqlite3 "$T/s.db" "SELECT group_concat(status) FROM runs")" = "done,done" ] ||
        { echo "runs: $(sqlite3 "$T/s.db" 'SELECT id, status FROM runs' | tr '\n' ' ')"; return 1; }
    db resume --study nosuch --db "$T/s.db" && expect_rc 2 && expect_err "no study 'nosuch'"
}
t_study_jobs() {
    # --jobs 2: the cells in two processes at once give the same results as one by one; a
    # SIGTERM reaches the cells running, and starting again finishes the study
    need_fmnist || return
    local base="train_limit = 512
test_limit = 128
batch = 64
epochs = 6
model = resnet8
threads = 1
vary.seed = 1, 2
vary.regularizer = none, dropblock"
    printf 'study = serial\n%s\ncheckpoint_dir = %s\n' "$base" "$T/one" >"$T/one.txt"
    printf 'study = parallel\n%s\ncheckpoint_dir = %s\n' "$base" "$T/two" >"$T/two.txt"
    db study "$T/one.txt" --db "$T/one.db" --quiet && expect_rc 0 || return
    rc=0
    "$DB" study "$T/two.txt" --jobs 2 --db "$T/two.db" --quiet >"$out" 2>"$err" & local pid=$! i
    for i in $(seq 150); do # both cells past their first epoch, whatever the machine's speed
        [ "$(sqlite3 "$T/two.db" "SELECT count(*) FROM runs WHERE status = 'running' AND epochs_done >= 1" 2>/dev/null)" = 2 ] && break
        sleep 0.1
    done
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    [ "$rc" = 4 ] && grep -q "stopped by signal 15" "$err" ||
        { echo "after SIGTERM: exit $rc, $(snippet "$err") $(snippet "$out")"; return 1; }
    [ "$(sqlite3 "$T/two.db" "SELECT count(*) FROM runs WHERE status = 'interrupted'")" = 2 ] ||
        { echo "runs after the stop: $(sqlite3 "$T/two.db" 'SELECT id, cell, status FROM runs' | tr '\n' ' ')"; return 1; }
    db study "$T/two.txt" --jobs 2 --db "$T/two.db" --quiet && expect_rc 0 && expect_out "up to 2 at once" &&
        expect_out "4 cells, 4 ran now, 0 done before, 0 failed" || return
    # one header, one summary and at most one device note for the whole study, not one per cell
    [ "$(grep -c 'results in' "$out")" = 1 ] && [ "$(grep -c '^study: ' "$out")" = 1 ] &&
        [ "$(grep -c 'using CPU\|using CUDA' "$err")" -le 1 ] ||
        { echo "the cells repeat the study's lines: $(snippet "$out") / $(snippet "$err")"; return 1; }
    local q="SELECT group_concat(x, '; ') FROM (SELECT r.cell || ' ' || m.name || ' ' || m.value AS x FROM runs r JOIN metrics m ON m.run_id = r.id AND m.split = 'test' AND m.epoch = 6 ORDER BY r.cell, m.name)"
    [ -n "$(sqlite3 "$T/one.db" "$q")" ] && [ "$(sqlite3 "$T/one.db" "$q")" = "$(sqlite3 "$T/two.db" "$q")" ] ||
        { echo "one by one: $(sqlite3 "$T/one.db" "$q"); two at once: $(sqlite3 "$T/two.db" "$q")"; return 1; }
    db study "$T/two.txt" --jobs 2 --db "$T/two.db" --quiet && expect_rc 0 && expect_out "4 done before" || return
    db study "$T/two.txt" --jobs 2 --cell 1 --db "$T/two.db" && expect_rc 2 || return
    db study "$T/two.txt" --in-jobs --db "$T/two.db" && expect_rc 2 || return
    db study "$T/two.txt" --jobs 0 --db "$T/two.db" && expect_rc 2
}
t_study_versions() {
    # a recipe whose study name is taken by another recipe text becomes NAME#2, said so; nothing
    # of either is lost and each text keeps joining its own study
    need_fmnist || return
    local base="study = twice
train_limit = 256
test_limit = 128
batch = 64
model = resnet8
checkpoint_dir = $T/runs
vary.seed = 1"
    printf '%s\nepochs = 1\n' "$base" >"$T/v1.txt"
    printf '%s\nepochs = 2\neval_every = 2\n' "$base" >"$T/v2.txt"
    db study "$T/v1.txt" --db "$T/v.db" --quiet && expect_rc 0 || return
    db study "$T/v2.txt" --db "$T/v.db" --quiet && expect_rc 0 && expect_err "these runs are study twice#2" &&
        expect_out "study: 1 cells, 1 ran now" || return
    db study "$T/v2.txt" --db "$T/v.db" --quiet && expect_rc 0 && expect_out "1 done before" && ! grep -q "twice#3" "$err" || return
    db study "$T/v1.txt" --db "$T/v.db" --jobs 2 --quiet && expect_rc 0 && expect_out "study twice (" || return
    [ "$(sqlite3 "$T/v.db" "SELECT group_concat(s.name || ':' || r.epochs, ' ') FROM runs r JOIN studies s ON s.id = r.study_id WHERE r.status = 'done' ORDER BY r.id")" = "twice:1 twice#2:2" ] ||
        { echo "studies: $(sqlite3 "$T/v.db" 'SELECT s.name, r.id, r.epochs FROM runs r JOIN studies s ON s.id = r.study_id')"; return 1; }
    db report --db "$T/v.db" --out "$T/vrep" --no-plots && expect_rc 0 || return
    grep -qx "## Study twice#2" "$T/vrep/REPORT.md" && grep -qx "## Study twice" "$T/vrep/REPORT.md" &&
        grep -qF "No learning curves: this study scores the test set only after the last epoch" "$T/vrep/REPORT.md" ||
        { echo "report: $(grep '^## ' "$T/vrep/REPORT.md")"; return 1; }
}
t_resume_elsewhere() {
    # a run stopped with a relative checkpoint folder resumes from another working folder (the
    # record holds the absolute folder); with its folder gone, resume refuses, never restarting
    need_fmnist || return
    local bin
    bin=$(realpath "$DB") && mkdir -p "$T/wd" "$T/other" || return
    pushd "$T/wd" >/dev/null || return
    signalled USR1 "$bin" "${STOP_ARGS[@]}" --checkpoint-dir ck --db "$T/w.db"
    popd >/dev/null || return
    [ "$rc" = 4 ] || { echo "after SIGUSR1: exit $rc, $(snippet "$err")"; return 1; }
    [ "$(sqlite3 "$T/w.db" 'SELECT checkpoint_dir FROM runs WHERE id = 1')" = "$T/wd/ck" ] ||
        { echo "recorded folder: $(sqlite3 "$T/w.db" 'SELECT checkpoint_dir FROM runs')"; return 1; }
    cp -r "$T/wd/ck" "$T/ck-copy" || return
    pushd "$T/other" >/dev/null || return
    rc=0; "$bin" resume 1 --db "$T/w.db" --quiet >"$out" 2>"$err" || rc=$?
    popd >/dev/null || return
    expect_rc 0 && [ "$(sqlite3 "$T/w.db" "SELECT status || ' ' || epochs_done FROM runs WHERE id = 1")" = "done 2" ] &&
        [ ! -e "$T/other/ck" ] || { echo "resumed elsewhere: $(sqlite3 "$T/w.db" 'SELECT status, epochs_done FROM runs')"; return 1; }
    # the same stopped state again, its folder gone: refused with the folder named
    sqlite3 "$T/w.db" "UPDATE runs SET status = 'interrupted', epochs_done = 1 WHERE id = 1" || return
    rm -rf "$T/wd/ck"
    db resume 1 --db "$T/w.db" && expect_rc 1 && expect_err "$T/wd/ck holds no checkpoint" || return
    mv "$T/ck-copy" "$T/wd/ck" && db resume 1 --db "$T/w.db" --quiet && expect_rc 0
}
t_live_run_refused() {
    # a second process never takes over a live run: with the database, the record names the
    # first process; without it, the checkpoint folder's lock does; a dead run whose pid now
    # belongs to another process is seen as dead (its recorded start time differs)
    need_fmnist || return
    local args=(train --train-limit 2048 --test-limit 128 --batch 64 --epochs 6 --seed 3 --checkpoint-dir "$T/ck" --quiet)
    "$DB" "${args[@]}" --db "$T/l.db" >"$T/first.out" 2>&1 & local first=$!
    local i
    for i in $(seq 100); do [ -e "$T/ck/checkpoint.dbck" ] && break; sleep 0.2; done
    db "${args[@]}" --resume --db "$T/l.db" && expect_rc 1 && expect_err "run 1 (the same settings" &&
        expect_err "is running now: pid $first" || { kill "$first"; return 1; }
    db "${args[@]}" --no-db && expect_rc 1 && expect_err "$T/ck is in use by another training process" ||
        { kill "$first"; return 1; }
    wait "$first" || { echo "the first run failed: $(tail -3 "$T/first.out")"; return 1; }
    [ "$(sqlite3 "$T/l.db" "SELECT group_concat(id || ':' || status, ' ') FROM runs")" = "1:done" ] ||
        { echo "runs: $(sqlite3 "$T/l.db" 'SELECT id, status, exit_reason FROM runs')"; return 1; }
    # pid reuse: a 'running' record of this host whose pid is alive (this shell) but was another process
    local host
    host=$(hostname)
    sqlite3 "$T/l.db" "INSERT INTO runs(uuid, config, fingerprint, regularizer, seed, device, status, host, pid, pid_start)
        VALUES ('u1', '', 'x', 'none', 1, 'cpu', 'running', '$host', $$, 'another-boot/1'),
               ('u2', '', 'y', 'none', 1, 'cpu', 'running', '$host', $$, NULL)" || return
    db list --db "$T/l.db" && expect_rc 0 || return
    [ "$(sqlite3 "$T/l.db" "SELECT group_concat(status, ' ') FROM (SELECT status FROM runs WHERE uuid IN ('u1', 'u2') ORDER BY uuid)")" = "interrupted running" ] ||
        { echo "after a reused pid: $(sqlite3 "$T/l.db" "SELECT uuid, status FROM runs WHERE uuid LIKE 'u_'")"; return 1; }
}
t_kill_at_syscalls() {
    # SIGKILL delivered by strace at exact system calls: the checkpoint's rename and fsync, the
    # database's WAL writes (pwrite64) and syncs (fdatasync), the metrics and log writes. Each
    # time the database passes integrity_check and --resume ends with the uninterrupted run's
    # metrics bit for bit
    need_fmnist || return
    command -v strace >/dev/null || { echo "strace not installed (scripts/deps installs it)"; return 1; }
    local args=(train --train-limit 512 --test-limit 128 --batch 64 --epochs 3 --seed 6 --model resnet8 --threads 1 --quiet)
    db "${args[@]}" --checkpoint-dir "$T/ref" --db "$T/ref.db" && expect_rc 0 || return
    local q="SELECT group_concat(x, ' ') FROM (SELECT epoch || split || name || '=' || value AS x FROM metrics WHERE
        run_id = (SELECT max(id) FROM runs WHERE status = 'done') AND name NOT IN ('seconds', 'images_per_s') ORDER BY epoch, split, name)"
    local want point n=0 sys when got
    want=$(sqlite3 "$T/ref.db" "$q")
    [ -n "$want" ] || { echo "no reference metrics"; return 1; }
    for point in rename:1 rename:2 fsync:3 fdatasync:7 pwrite64:50 write:15; do
        n=$((n + 1)); sys=${point%%:*}; when=${point#*:}
        rc=0
        timeout "$LIMIT" strace -f -o /dev/null -e trace="$sys" -e inject="$sys":signal=KILL:when="$when" \
            "$DB" "${args[@]}" --checkpoint-dir "$T/k$n" --db "$T/k$n.db" --metrics "$T/k$n.csv" >"$out" 2>"$err" || rc=$?
        [ "$rc" = 137 ] || { echo "$point: the run was not killed (exit $rc): $(snippet "$err")"; return 1; }
        [ "$(sqlite3 "$T/k$n.db" 'PRAGMA integrity_check')" = ok ] || { echo "$point: the database is damaged"; return 1; }
        db "${args[@]}" --checkpoint-dir "$T/k$n" --db "$T/k$n.db" --metrics "$T/k$n.csv" --resume && expect_rc 0 ||
            { echo "after $point"; return 1; }
        got=$(sqlite3 "$T/k$n.db" "$q")
        [ "$got" = "$want" ] && [ "$(sqlite3 "$T/k$n.db" 'PRAGMA integrity_check')" = ok ] ||
            { echo "killed at $sys #$when: resumed metrics differ: $got vs $want"; return 1; }
    done
}
t_replay_marked() {
    # a finished checkpoint continued into a fresh database: its epochs are recorded as replayed
    # (provenance replayed_epochs, said on stderr) and regress does not judge the run as this build's
    need_fmnist || return
    local args=(train --train-limit 256 --test-limit 128 --batch 64 --epochs 2 --seed 8 --model resnet8 --checkpoint-dir "$T/ck" --quiet)
    db "${args[@]}" --db "$T/a.db" && expect_rc 0 || return
    db "${args[@]}" --resume --db "$T/b.db" && expect_rc 0 && expect_err "epochs 1-2 come from the checkpoint" || return
    [ "$(sqlite3 "$T/b.db" "SELECT value FROM provenance WHERE key = 'replayed_epochs'")" = 2 ] &&
        [ -z "$(sqlite3 "$T/a.db" "SELECT value FROM provenance WHERE key = 'replayed_epochs'")" ] ||
        { echo "replayed_epochs: $(sqlite3 "$T/b.db" "SELECT run_id, value FROM provenance WHERE key = 'replayed_epochs'")"; return 1; }
    db regress --baseline "$T/a.db" --db "$T/b.db" && expect_rc 1 && expect_out "skip run 1 (none, seed 8): epochs 1-2 were replayed" &&
        expect_out "0 checks" || return
    [ "$(sqlite3 "$T/b.db" "SELECT count(*) FROM regress_checks WHERE kind = 'canary' AND outcome = 'skip'")" = 1 ] || { echo "the skip not recorded"; return 1; }
}
t_resume_other_data() {
    # an interrupted run taken up again on other data files (same settings, another folder with
    # a changed image) is refused; the same files in another folder are the same inputs
    need_fmnist || return
    local src=/usr/share/datasets/fashion-mnist
    mkdir -p "$T/same" "$T/changed" && cp "$src"/* "$T/same/" && cp "$src"/* "$T/changed/" || return
    gzip -dc "$src/train-images-idx3-ubyte.gz" | python3 -c 'import sys; b=bytearray(sys.stdin.buffer.read()); b[-1]^=0xff; sys.stdout.buffer.write(b)' |
        gzip -c >"$T/changed/train-images-idx3-ubyte.gz" || return
    signalled USR1 "$DB" "${STOP_ARGS[@]}" --checkpoint-dir "$T/ck" --db "$T/d.db"
    [ "$rc" = 4 ] || { echo "after SIGUSR1: exit $rc, $(snippet "$err")"; return 1; }
    db "${STOP_ARGS[@]}" --checkpoint-dir "$T/ck" --db "$T/d.db" --resume --data-dir "$T/changed" && expect_rc 2 &&
        expect_err "was trained on other data files" || return
    db "${STOP_ARGS[@]}" --checkpoint-dir "$T/ck" --db "$T/d.db" --resume --data-dir "$T/same" && expect_rc 0 &&
        [ "$(sqlite3 "$T/d.db" "SELECT group_concat(status) FROM runs")" = done ] ||
        { echo "runs: $(sqlite3 "$T/d.db" 'SELECT id, status FROM runs')"; return 1; }
}
t_store_readonly() {
    # a read-only database (file and folder) is refused with a clear message and left as it was;
    # as root, where permissions do not bite, the commands run as nobody through setpriv
    need_fmnist || return
    command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; return 77; }
    mkdir -p "$T/ro"
    db "${STORE_ARGS[@]}" --epochs 1 --db "$T/ro/r.db" --quiet && expect_rc 0 || return
    local as=() before
    before=$(sqlite3 "$T/ro/r.db" "SELECT count(*) FROM runs; SELECT count(*) FROM metrics" | tr '\n' ' ')
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || { echo "running as root without setpriv (util-linux)"; return 77; }
        cp "$DB" "$T/ro/dropbench" && chmod 755 "$tmp" "$T" "$T/ro" && chmod 644 "$T/ro"/r.db* || return
        as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    else
        cp "$DB" "$T/ro/dropbench" && chmod 444 "$T/ro"/r.db* && chmod 555 "$T/ro" || return
    fi
    local rc=0
    "${as[@]}" "$T/ro/dropbench" list --db "$T/ro/r.db" >"$out" 2>"$err" || rc=$?
    [ "$rc" = 1 ] && expect_err "read-only" && expect_err "r.db" || { echo "list: exit $rc; $(snippet "$err")"; chmod 755 "$T/ro"; return 1; }
    rc=0
    "${as[@]}" "$T/ro/dropbench" "${STORE_ARGS[@]}" --epochs 1 --db "$T/ro/r.db" >"$out" 2>"$err" || rc=$?
    chmod 755 "$T/ro"
    [ "$rc" = 1 ] && expect_err "read-only" || { echo "train: exit $rc; $(snippet "$err")"; return 1; }
    [ "$(sqlite3 "$T/ro/r.db" "SELECT count(*) FROM runs; SELECT count(*) FROM metrics" | tr '\n' ' ')" = "$before" ] &&
        [ "$(sqlite3 "$T/ro/r.db" "PRAGMA integrity_check")" = ok ] || { echo "the read-only database changed"; return 1; }
}
t_study() {
    # a 2x2 matrix with paired seeds, recorded as one study; a second run skips every cell
    need_fmnist || return
    cat >"$T/r.txt" <<EOR
# a tiny study
study = tiny
train_limit = 256
test_limit = 128
batch = 64
epochs = 1
checkpoint_dir = $T/runs
vary.seed = 3, 4
vary.regularizer = none, dropblock   # block_size 3 at the default sites
block_size = 3
EOR
    db study "$T/r.txt" --db "$T/s.db" --quiet && expect_rc 0 && expect_out "4 cells, 4 ran now" || return
    local got
    got=$(sqlite3 "$T/s.db" "SELECT count(*) || ' ' || count(DISTINCT seed) || ' ' || count(DISTINCT regularizer) || ' ' || min(s.name) FROM runs r JOIN studies s ON s.id = r.study_id WHERE r.status = 'done'")
    [ "$got" = "4 2 2 tiny" ] || { echo "study runs (done, seeds, regularizers, study): '$got'"; return 1; }
    [ -s "$T/runs/tiny/seed=3,regularizer=dropblock/checkpoint.dbck" ] || { echo "no checkpoint in the cell's folder"; return 1; }
    db study "$T/r.txt" --db "$T/s.db" --quiet && expect_rc 0 && expect_out "0 ran now, 4 done before" || return
    # into a fresh database the finished checkpoints bring their epochs along: nothing retrained,
    # nothing missing
    db study "$T/r.txt" --db "$T/fresh.db" --quiet && expect_rc 0 && expect_out "4 ran now" || return
    local a b
    a=$(sqlite3 "$T/s.db" "SELECT group_concat(value) FROM (SELECT m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE m.split = 'test' ORDER BY r.seed, r.regularizer, m.name)")
    b=$(sqlite3 "$T/fresh.db" "SELECT group_concat(value) FROM (SELECT m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE m.split = 'test' ORDER BY r.seed, r.regularizer, m.name)")
    [ -n "$a" ] && [ "$a" = "$b" ] || { echo "fresh database's test metrics: '$b', want '$a'"; return 1; }
    # a cell whose checkpoint is broken (or from an older build) is kept aside and run afresh
    sed -i 's/^epochs = 1/epochs = 2/' "$T/r.txt"
    mkdir -p "$T/runs/tiny/seed=3,regularizer=none"
    printf 'DBCKPT' >"$T/runs/tiny/seed=3,regularizer=none/checkpoint.dbck"
    db study "$T/r.txt" --db "$T/s.db" --quiet && expect_rc 0 && expect_out "4 ran now" &&
        expect_out "cannot be resumed" || return
    compgen -G "$T/runs/tiny/seed=3,regularizer=none.stale-*/checkpoint.dbck" >/dev/null ||
        { echo "the broken checkpoint was not kept aside"; return 1; }
}
t_study_broken_checkpoints() {
    # every kind of checkpoint that can never be resumed is moved aside (never deleted) and the
    # cell runs afresh: decided from the checkpoint's result code, not from a message's words
    local d=$T/data
    small_dataset "$d" || return
    cat >"$T/r.txt" <<EOR
study = broken
dataset = mnist
data_dir = $d
model = resnet8
batch = 32
epochs = 1
checkpoint_dir = $T/runs
EOR
    db study "$T/r.txt" --db "$T/s.db" --quiet && expect_rc 0 && expect_out "1 ran now" || return
    local ck=$T/runs/broken/single/checkpoint.dbck kind n=2
    cp "$ck" "$T/good.dbck"
    for kind in version corrupt-header trailing-bytes checksum truncated other-network; do
        n=$((n + 1)) # a fresh database each time: the cell is not done there, so its checkpoint is read
        mkdir -p "$T/runs/broken/single"
        cp "$T/good.dbck" "$ck"
        case $kind in
        version) printf '\x04' | dd of="$ck" bs=1 seek=8 conv=notrunc status=none ;;
        corrupt-header) printf '\xff\xff\xff\xff' | dd of="$ck" bs=1 seek=40 conv=notrunc status=none ;;
        trailing-bytes) printf 'extra' >>"$ck" ;;
        checksum) flip_byte "$ck" 300 ;;
        truncated) truncate -s 200 "$ck" ;;
        other-network) sed -i 's/^model = .*/model = resnet14/' "$T/r.txt" ;;
        esac
        db study "$T/r.txt" --db "$T/s$n.db" --quiet && expect_rc 0 && expect_out "1 ran now" &&
            expect_out "cannot be resumed" || { echo "($kind)"; return 1; }
        [ "$(compgen -G "$T/runs/broken/single.stale-*/checkpoint.dbck" | wc -l)" -ge 1 ] ||
            { echo "$kind: the checkpoint was not kept aside"; return 1; }
        rm -rf "$T"/runs/broken/single.stale-*
        sed -i 's/^model = .*/model = resnet8/' "$T/r.txt"
    done
    # the good checkpoint continues (nothing to train: its one epoch is done)
    cp "$T/good.dbck" "$ck"
    db study "$T/r.txt" --db "$T/good.db" --quiet && expect_rc 0 && expect_out "1 ran now" &&
        ! grep -q "cannot be resumed" "$out" || { echo "the good checkpoint was not resumed"; return 1; }
    # a checkpoint written with another thread count is resumable with that count: not moved
    printf 'threads = 1\n' >>"$T/r.txt"
    db study "$T/r.txt" --db "$T/threads.db" --quiet && expect_rc 1 && expect_err "--threads 2" || return
    [ -e "$ck" ] && ! compgen -G "$T/runs/broken/single.stale-*" >/dev/null ||
        { echo "a checkpoint of another thread count was moved"; return 1; }
    # the name it is moved to is one nothing has (the same second twice, a clock set back)
    sed -i '$d' "$T/r.txt"
    local now t0
    now=$(date +%s)
    for t0 in $(seq "$now" $((now + 20))); do mkdir -p "$T/runs/broken/single.stale-$t0"; done
    printf 'DBCKPT' >"$ck"
    db study "$T/r.txt" --db "$T/collide.db" --quiet && expect_rc 0 && expect_out "1 ran now" && expect_out "cannot be resumed" ||
        { echo "(a stale name taken)"; return 1; }
    compgen -G "$T/runs/broken/single.stale-*-1/checkpoint.dbck" >/dev/null || { echo "not moved to a free name"; return 1; }
}
t_every_help() {
    # every command and subcommand answers --help with its usage on stdout and exit 0
    local c
    for c in train run bench model kernel "kernel dropblock" "kernel dropout" "kernel spatial-dropout" study resume \
        slurm regress tag report list show export merge data "data list" "data fetch" "data verify" "data bench" \
        eval "eval coco" "eval miou"; do
        # shellcheck disable=SC2086
        db $c --help && expect_rc 0 && expect_out "usage: dropbench" || { echo "($c --help)"; return 1; }
    done
}
t_house_rules() {
    # no include or call cycle between folders or files; the libraries never reach the command
    rc=0; python3 scripts/depgraph --quiet >"$out" 2>"$err" || rc=$?
    expect_rc 0 && expect_err "no cycle"
}
t_study_bad_recipes() {
    printf 'study = x\nepochs = 1\nlearning_rate = 0.1\n' >"$T/a.txt"
    db study "$T/a.txt" --db "$T/s.db" && expect_rc 2 && expect_err "a.txt:3" && expect_err "learning_rate" || return
    printf 'study = x\nvary.keep_prob = 0.9, 1.5\n' >"$T/b.txt"
    db study "$T/b.txt" --db "$T/s.db" && expect_rc 2 && expect_err "b.txt:2" && expect_err "1.5" || return
    printf 'epochs = 1\n' >"$T/c.txt"
    db study "$T/c.txt" --db "$T/s.db" && expect_rc 2 && expect_err "study = NAME" || return
    printf 'study = x\nthis line has no equals sign\n' >"$T/d.txt"
    db study "$T/d.txt" --db "$T/s.db" && expect_rc 2 && expect_err "d.txt:2" || return
    db study "$T/missing.txt" --db "$T/s.db" && expect_rc 1 && expect_err "missing.txt" || return
    db study bench/recipes/fmnist-quick.txt --dry-run --db "$T/s.db" && expect_rc 0 && expect_out "28 cells" &&
        expect_out "seed=7,regularizer=dropblock: would run"
}
t_paper_recipes() {
    # every recipe loads; the paper's rows resolve to the paper's settings; what this version
    # cannot run is refused with the reason, before anything is recorded
    local f
    for f in bench/recipes/*.txt; do
        case $f in
        *amoebanet-imagenet*) # the official network and placement; ImageNet is read only when a cell runs
            db study "$f" --dry-run --show-config --cell 1 --db "$T/p.db" && expect_rc 0 && expect_out "image_size=331" &&
                expect_out "reg_last_cells=0.5" && expect_out "regularizer=dropblock" || return ;;
        *segmentation-voc*) # the official segmentation settings; VOC is read only when a cell runs
            db study "$f" --dry-run --show-config --cell 0 --db "$T/p.db" && expect_rc 0 && expect_out "scale_max=1.5" &&
                expect_out "image_size=512" || return ;;
        *retinanet-coco*) # resolves with the official schedule; the data set is read only when a cell runs
            db study "$f" --dry-run --show-config --cell 0 --db "$T/p.db" && expect_rc 0 && expect_out "image_size=640" &&
                expect_out "milestones=8,11" || return ;;
        *) db study "$f" --dry-run --db "$T/p.db" && expect_rc 0 && expect_out "cells" || return ;;
        esac
    done
    local t1=bench/recipes/resnet50-imagenet-table1.txt
    db study $t1 --dry-run --db "$T/p.db" && expect_out "24 cells" && expect_out "[4/24] row=dropout,seed=1" &&
        expect_out "[24/24] row=dropblock_ls,seed=3: would run" || return
    db study $t1 --dry-run --show-config --cell 0 --db "$T/p.db" && expect_rc 0 || return
    local k
    for k in model=resnet50 shortcut=B epochs=270 batch=1024 lr=0.4 lr_schedule=step milestones=125,200,250 \
        warmup_epochs=5 nesterov=1 weight_decay=0.0001 zero_init_last_bn=1 augment=inception regularizer=none; do
        grep -qx "$k" "$out" || { echo "Table 1 baseline lacks $k"; return 1; }
    done
    db study $t1 --dry-run --show-config --cell 21 --db "$T/p.db" && expect_rc 0 || return
    for k in regularizer=dropblock keep_prob=0.9 block_size=7 reg_groups=3,4 reg_skip=1 group_scaling=1 \
        keep_prob_schedule=linear label_smoothing=0.1 epochs=290 seed=1; do
        grep -qx "$k" "$out" || { echo "Table 1 DropBlock + label smoothing lacks $k"; return 1; }
    done
    # the dropout baseline on the conv branches only, unscaled, fixed (the paper's definition;
    # the official code scales and schedules DropBlock alone); SpatialDropout alike
    for c in 3 9; do
        db study $t1 --dry-run --show-config --cell $c --db "$T/p.db" && expect_rc 0 || return
        for k in reg_skip=0 group_scaling=0 keep_prob_schedule=fixed reg_groups=3,4; do
            grep -qx "$k" "$out" || { echo "Table 1 cell $c (a dropout baseline) lacks $k"; return 1; }
        done
    done
    db study $t1 --dry-run --show-config --cell 3 --db "$T/p.db" && expect_out "regularizer=dropout" || return
    # and the recipe's assumptions travel with it
    grep -q "^assumption = .*conv branches only" bench/recipes/resnet50-imagenet.inc &&
        grep -q "^assumption = Warm-up" bench/recipes/resnet50-imagenet.inc || { echo "assumptions missing"; return 1; }
    db study bench/recipes/resnet50-imagenet-fig4-block-size.txt --dry-run --db "$T/p.db" && expect_out "20 cells" &&
        expect_out "reg_groups=3,4,reg_skip=1,block_size=7,seed=1" || return
    db study bench/recipes/resnet50-imagenet-autoaugment.txt --dry-run --show-config --db "$T/p.db" &&
        expect_out "augment=autoaugment" || return
    db study bench/recipes/resnet50-imagenet-autoaugment.txt --db "$T/p.db" && expect_rc 1 && expect_err "cannot run" &&
        expect_err "augment 'autoaugment' is not available yet" || return
    [ ! -e "$T/p.db" ] || [ "$(sqlite3 "$T/p.db" 'SELECT count(*) FROM runs')" = 0 ] ||
        { echo "a refused study recorded runs"; return 1; }
    XDG_CACHE_HOME=$T/novoc db train --model fcn-resnet18-fpn --dataset voc2012 --augment-pad 0 --epochs 1 \
        --db "$T/p.db" && expect_rc 1 && expect_err "is VOC 2012 unpacked there? dropbench data fetch voc2012" || return
    [ "$(sqlite3 "$T/p.db" "SELECT status FROM runs WHERE exit_reason LIKE '%VOC 2012 unpacked%'")" = failed ] ||
        { echo "a run without its data not recorded as failed with the reason"; return 1; }
}
t_recipe_rows_include() {
    # rows, quoted vary values and includes, and their errors with file:line
    mkdir -p "$T/rc"
    printf 'epochs = 1\nblock_size = 5\n' >"$T/rc/base.inc"
    cat >"$T/rc/r.txt" <<'EOR'
study = rows
include = base.inc
row.a.regularizer = none
row.b.regularizer = dropblock
row.b.block_size = 3        # overrides the included 5
vary.reg_groups = "3", "2,3"
vary.seed = 1, 2
EOR
    db study "$T/rc/r.txt" --dry-run --show-config --db "$T/rc.db" && expect_rc 0 && expect_out "8 cells" &&
        expect_out "[1/8] row=a,reg_groups=3,seed=1" && expect_out "[8/8] row=b,reg_groups=2,3,seed=2" || return
    [ "$(grep -c '^block_size=3$' "$out")" = 4 ] && [ "$(grep -c '^block_size=5$' "$out")" = 4 ] &&
        [ "$(grep -c '^reg_groups=2,3$' "$out")" = 4 ] || { echo "row or include settings not applied"; return 1; }
    refused e1.txt 'study = x\nrow.a.learning_rate = 1\n' "e1.txt:2" "learning_rate" || return
    refused e2.txt 'study = x\nvary.reg_groups = "2,3, 3\n' "e2.txt:2" "closing quote" || return
    refused e3.txt 'study = x\n\ninclude = nowhere.inc\n' "e3.txt:3" "nowhere.inc" || return
    printf 'epochs = 1\nepochs = zero\n' >"$T/rc/bad.inc"
    refused e4.txt 'study = x\ninclude = bad.inc\n' "bad.inc:2" "e4.txt:2" || return
    refused e5.txt 'study = x\ninclude = e5.txt\n' "nested more than 4" || return
    refused e6.txt 'study = x\nrow.a.seed = 1\nvary.seed = 1, 2\n' "also varies" || return
    refused e7.txt 'study = x\nrow.a.epochs = 1\nrow.a.epochs = 2\n' "e7.txt:3" "twice" || return
    # one key, two spellings; a value listed twice; a value too long to keep whole
    refused e8.txt 'study = x\nvary.keep_prob = 0.7, 0.9\nvary.keep-prob = 0.8\n' "e8.txt:3" "varied twice" || return
    refused e9.txt 'study = x\nrow.a.keep-prob = 0.5\nvary.keep_prob = 0.9\n' "also varies" || return
    refused e10.txt 'study = x\nvary.seed = 1, 2, 1\n' "'1' is listed twice" || return
    local long
    long=$(printf 'x%.0s' $(seq 70))
    refused e11.txt "study = x\nvary.metrics = /tmp/$long/a.csv, /tmp/$long/b.csv\n" "longer than"
}
# refused FILE CONTENT MESSAGE...: the recipe (printf format) is refused with exit 2 and every message
refused() {
    local f=$1
    printf "$2" >"$T/rc/$f"
    shift 2
    db study "$T/rc/$f" --dry-run --db "$T/rc.db" && expect_rc 2 || return
    local m
    for m in "$@"; do expect_err "$m" || return; done
}
t_regress() {
    # an unchanged rerun passes; a planted change of a final metric, or a planted slowdown, fails
    need_fmnist || return
    local args=(train --train-limit 256 --test-limit 128 --batch 64 --epochs 1 --seed 5 --quiet)
    db "${args[@]}" --db "$T/base.db" && expect_rc 0 || return
    db "${args[@]}" --db "$T/new.db" && expect_rc 0 || return
    db regress --baseline "$T/base.db" --db "$T/new.db" --max-slowdown 100 --junit "$T/ok.xml" && expect_rc 0 &&
        expect_out "0 failed" || return
    grep -q 'failures="0"' "$T/ok.xml" || { echo "JUnit: $(head -c 200 "$T/ok.xml")"; return 1; }
    cp "$T/new.db" "$T/planted.db"
    sqlite3 "$T/planted.db" "UPDATE metrics SET value = value + 1e-9 WHERE split = 'test' AND name = 'loss'" || return
    db regress --baseline "$T/base.db" --db "$T/planted.db" --max-slowdown 100 --junit "$T/bad.xml" && expect_rc 1 &&
        expect_out "FAIL" && expect_out "test loss" || return
    python3 -c 'import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); assert r.get("failures")=="1" and len(r.findall("testcase/failure"))==1, E.tostring(r)' "$T/bad.xml" ||
        { echo "JUnit after a planted change: $(head -c 300 "$T/bad.xml")"; return 1; }
    # a metric the baseline's version did not record (as test/IoU/K before per-class IoU): skipped, not failed
    cp "$T/base.db" "$T/older.db"
    sqlite3 "$T/older.db" "DELETE FROM metrics WHERE split = 'test' AND name = 'top5'" || return
    db regress --baseline "$T/older.db" --db "$T/new.db" --max-slowdown 100 && expect_rc 0 && expect_out "0 failed" &&
        expect_out "the baseline recorded no such metric" || return
    sqlite3 "$T/new.db" "UPDATE metrics SET value = value / 10 WHERE name = 'images_per_s'" || return
    db regress --baseline "$T/base.db" --db "$T/new.db" && expect_rc 1 && expect_out "throughput" || return
    db regress --baseline "$T/nothing.db" --db "$T/new.db" && expect_rc 1 && expect_err "nothing.db" || return
    db regress --db "$T/new.db" && expect_rc 2 || return
    # a named baseline: a copy of the database, found by its tag beside the compared database
    db tag nightly-1 --db "$T/base.db" && expect_rc 0 && expect_out "baselines/nightly-1.db" || return
    ! compgen -G "$T/baselines/nightly-1.db.tmp-*" >/dev/null || { echo "the tag's temporary file was left"; return 1; }
    db regress --baseline nightly-1 --db "$T/new.db" --max-slowdown 100 && expect_rc 0 && expect_out "0 failed" || return
    db tag nightly-1 --db "$T/base.db" && expect_rc 2 && expect_err "exists already" || return
    db tag ../x --db "$T/base.db" && expect_rc 2 && expect_err "letters, digits" || return
    db regress --baseline nightly-2 --db "$T/new.db" && expect_rc 1 && expect_err "no baseline tagged 'nightly-2'"
}
t_regress_statistical() {
    # runs that differ only in their seed are compared as a group (MLPerf's RCP test): an
    # unchanged rerun passes, a planted drop in accuracy fails, too few seeds are skipped
    need_fmnist || return
    local seed
    for seed in 1 2 3 4; do
        db train --train-limit 256 --test-limit 128 --batch 64 --epochs 1 --seed $seed --quiet --db "$T/sb.db" &&
            expect_rc 0 || return
    done
    db train --train-limit 256 --test-limit 128 --batch 64 --epochs 1 --seed 1 --lr 0.05 --quiet --db "$T/sb.db" &&
        expect_rc 0 || return
    [ "$(sqlite3 "$T/sb.db" 'SELECT count(DISTINCT family) || " " || count(DISTINCT fingerprint) FROM runs')" = "2 5" ] ||
        { echo "families: $(sqlite3 "$T/sb.db" 'SELECT family, fingerprint FROM runs')"; return 1; }
    cp "$T/sb.db" "$T/sn.db"
    db regress --baseline "$T/sb.db" --db "$T/sn.db" --max-slowdown 100 && expect_rc 0 &&
        expect_out "ok   statistical: none" && expect_out "over 4 runs" && expect_out "skip statistical" &&
        expect_out "underpowered" || return
    sqlite3 "$T/sn.db" "UPDATE metrics SET value = value - 0.2 WHERE split = 'test' AND name = 'top1'" || return
    db regress --baseline "$T/sb.db" --db "$T/sn.db" --max-slowdown 100 --junit "$T/st.xml" && expect_rc 1 &&
        expect_out "FAIL statistical: none" || return
    grep -q 'name="statistical: none' "$T/st.xml" || { echo "JUnit lacks the statistical case"; return 1; }
    db regress --baseline "$T/sb.db" --db "$T/sn.db" --alpha 2 && expect_rc 2 && expect_err "--alpha"
}
t_merge() {
    # two shards (one with a study) folded into one database; merging again adds nothing
    need_fmnist || return
    local args=(train --train-limit 256 --test-limit 128 --batch 64 --epochs 1 --quiet)
    db "${args[@]}" --seed 1 --db "$T/a.db" && expect_rc 0 || return
    db "${args[@]}" --seed 2 --db "$T/a.db" && expect_rc 0 || return
    printf 'study = sharded\ntrain_limit = 256\ntest_limit = 128\nbatch = 64\nepochs = 1\ncheckpoint_dir = %s\nvary.seed = 7\n' \
        "$T/runs" >"$T/r.txt"
    db study "$T/r.txt" --db "$T/b.db" --quiet && expect_rc 0 || return
    db merge "$T/a.db" "$T/b.db" --db "$T/m.db" && expect_rc 0 && expect_out "a.db: 2 new runs" &&
        expect_out "b.db: 1 new runs" || return
    local want got
    want=$(( $(sqlite3 "$T/a.db" "SELECT count(*) FROM metrics") + $(sqlite3 "$T/b.db" "SELECT count(*) FROM metrics") ))
    got=$(sqlite3 "$T/m.db" "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM metrics) || ' ' || (SELECT count(*) FROM runs r JOIN studies s ON s.id = r.study_id WHERE s.name = 'sharded') || ' ' || (SELECT count(*) FROM provenance WHERE key = 'git_commit')")
    [ "$got" = "3 $want 1 3" ] || { echo "merged (runs, metrics, study runs, provenance): '$got', want '3 $want 1 3'"; return 1; }
    db merge "$T/a.db" "$T/b.db" --db "$T/m.db" && expect_rc 0 && expect_out "a.db: 0 new runs, 2 already here" || return
    got=$(sqlite3 "$T/m.db" "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM metrics)")
    [ "$got" = "3 $want" ] || { echo "after merging twice: '$got'"; return 1; }
    db merge "$T/nothing.db" --db "$T/m.db" && expect_rc 1 && expect_err "nothing.db"
}
t_slurm() {
    # the job-array script, run as Slurm would run each task (SLURM_ARRAY_TASK_ID set), then the
    # shards merged: the same study as a local run
    need_fmnist || return
    printf 'study = arrayed\ntrain_limit = 1024\ntest_limit = 128\nbatch = 64\nepochs = 2\ncheckpoint_dir = %s\nvary.seed = 1, 2\n' \
        "$T/runs" >"$T/r.txt"
    db slurm "$T/r.txt" --out "$T/job.sbatch" --shards "$T/shards" --max-parallel 2 --db "$T/m.db" && expect_rc 0 &&
        expect_out "2 array tasks" || return
    grep -q '^#SBATCH --array=0-1%2$' "$T/job.sbatch" && grep -q '^#SBATCH --signal=B:USR1@' "$T/job.sbatch" &&
        bash -n "$T/job.sbatch" || { echo "script: $(cat "$T/job.sbatch")"; return 1; }
    # Slurm's warning before the time limit reaches the script: it passes it on, the task
    # checkpoints and exits 4 (Slurm would requeue it); the next start finishes the cell
    local i
    SLURM_ARRAY_TASK_ID=0 signalled USR1 bash "$T/job.sbatch"
    [ "$rc" = 4 ] && grep -q "stopped by signal 10" "$err" || { echo "task 0 after USR1: exit $rc, $(snippet "$err")"; return 1; }
    for i in 0 1; do SLURM_ARRAY_TASK_ID=$i bash "$T/job.sbatch" >"$T/task$i.out" 2>&1 || { echo "task $i: $(tail -3 "$T/task$i.out")"; return 1; }; done
    db merge "$T"/shards/shard-*.db --db "$T/m.db" && expect_rc 0 || return
    local got
    got=$(sqlite3 "$T/m.db" "SELECT count(*) || ' ' || count(DISTINCT r.seed) FROM runs r JOIN studies s ON s.id = r.study_id WHERE s.name = 'arrayed' AND r.status = 'done'")
    [ "$got" = "2 2" ] || { echo "merged study runs (done, seeds): '$got'"; return 1; }
    db study "$T/r.txt" --cell 2 --db "$T/m.db" && expect_rc 2 && expect_err "cells 0 to 1"
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
t_report() {
    # from a database with done, failed, diverged and missing cells: every cell accounted for,
    # the statistics, the paper beside ours, figures through gnuplot inlined in the HTML
    need_fmnist || return
    command -v gnuplot >/dev/null || { echo "gnuplot not installed (scripts/deps installs gnuplot-nox)"; return 1; }
    printf '%s\ncheckpoint_dir = %s\n' "$REPORT_RECIPE" "$T/runs" >"$T/r.txt"
    local i
    for i in 0 1 2 3 4 5 6; do
        db study "$T/r.txt" --cell $i --db "$T/f.db" --quiet && expect_rc 0 || return
    done
    sqlite3 "$T/f.db" "UPDATE runs SET status = 'failed', exit_reason = 'planted failure' WHERE id = 2;
                       UPDATE runs SET status = 'diverged', exit_reason = 'planted divergence' WHERE id = 5" || return
    db report --db "$T/f.db" --out "$T/rep" && expect_rc 0 && expect_out "$T/rep/index.html" || return
    local md=$T/rep/REPORT.md
    for want in "| row=none | 3 | 2 | 1 | 0 | 0 | 0 | 0 |" "| row=k1 | 3 | 2 | 0 | 1 | 0 | 0 | 0 |" \
        "| row=k3 | 3 | 1 | 0 | 0 | 0 | 0 | 2 |" "row=none,seed=2: failed (run 2): planted failure" \
        "row=k1,seed=2: diverged (run 5): planted divergence" "row=k3,seed=3: missing (never run)" \
        "| row=k1 | 2 |" "underpowered" "| row=k1 | DropBlock | 78.13 (confirmed-value) | +1.62 |" \
        "RQ1: DropBlock beats dropout | not run" "git_commit" "Block-size sweep" "fewer than 7 paired seeds" \
        "## Verdicts" "Study fixture: pipeline check: 2 epochs on 256 fashion-mnist training images" \
        "it is not a reproduction" "DropBlock − row=none: " "paper +1.62" "<details><summary>" \
        "### Table 1 at this scale" "| 76.51 ± 0.07 | - |" "| 3 | linear | yes | 78.13 ± 0.05 | keep_prob=0.9; block_size=7; groups 3,4; scheduled |"; do
        grep -qF -- "$want" "$md" || { echo "REPORT.md lacks '$want'"; return 1; }
    done
    # the answer first: the verdicts come before the first study's section, provenance last and
    # folded; no "reproduced" in the title
    local html=$T/rep/index.html
    [ "$(grep -n '^## Verdicts' "$md" | cut -d: -f1)" -lt "$(grep -n '^## Study fixture' "$md" | cut -d: -f1)" ] &&
        [ "$(grep -n '^## Provenance' "$md" | cut -d: -f1)" -gt "$(grep -n '^## Research questions' "$md" | cut -d: -f1)" ] &&
        ! head -1 "$md" | grep -qi "reproduced" || { echo "REPORT.md's order or title: $(head -1 "$md")"; return 1; }
    # small-n honesty: two-seed conditions show their range, not a t-interval
    grep -qF "| row=k1 | 2 |" "$md" && grep -F "| row=k1 | 2 |" "$md" | grep -q "range " ||
        { echo "a two-seed condition without its range: $(grep -F '| row=k1 | 2 |' "$md")"; return 1; }
    # the HTML: a viewport, tables that scroll, every figure named, every id unique on the page
    grep -q 'name="viewport"' "$html" && grep -q 'class="scroll"' "$html" &&
        [ "$(grep -c '<svg role="img" aria-label=' "$html")" = 6 ] &&
        [ -z "$(grep -o ' id="[^"]*"' "$html" | sort | uniq -d)" ] &&
        [ "$(grep -o ' id="[^"]*"' "$html" | wc -l)" -gt 6 ] || { echo "HTML accessibility: $(grep -o ' id="[^"]*"' "$html" | sort | uniq -d | head -3)"; return 1; }
    # the GitHub-flavoured summary: the verdicts shown, the rest folded, no links to break;
    # rendered by cmark-gfm as GitHub would (raw HTML kept: GitHub keeps <details>)
    db report --db "$T/f.db" --out "$T/gfm" --format gfm --no-plots && expect_rc 0 && expect_out "SUMMARY.md" || return
    local sum=$T/gfm/SUMMARY.md
    command -v cmark-gfm >/dev/null || { echo "cmark-gfm not installed (scripts/deps installs it)"; return 1; }
    cmark-gfm --unsafe --extension table "$sum" >"$T/sum.html" || { echo "cmark-gfm failed on SUMMARY.md"; return 1; }
    grep -qF "DropBlock − row=none: " "$T/sum.html" && grep -q "<details>" "$T/sum.html" && grep -q "<table>" "$T/sum.html" &&
        ! grep -q '<a href\|<img' "$T/sum.html" && ! grep -qF '](' "$sum" &&
        [ "$(grep -c '<details>' "$sum")" = "$(grep -c '</details>' "$sum")" ] ||
        { echo "SUMMARY.md: $(head -c 300 "$sum")"; return 1; }
    [ "$(grep -n 'DropBlock − row=none' "$sum" | cut -d: -f1)" -lt "$(grep -n '<details><summary>The details' "$sum" | cut -d: -f1)" ] ||
        { echo "the verdicts are not before the fold"; return 1; }
    # nightly use: every run listed; runs from two builds grouped per commit
    grep -qF "### Runs" "$md" && grep -qF "| 1 | row=none | 1 | done | 2/2 |" "$md" && ! grep -qF "Across builds" "$md" ||
        { echo "the runs table: $(grep -F '| 1 | row=none' "$md")"; return 1; }
    cp "$T/f.db" "$T/two.db" && sqlite3 "$T/two.db" "UPDATE provenance SET value = 'feedfacecafe' WHERE key = 'git_commit' AND run_id = 1" || return
    db report --db "$T/two.db" --out "$T/two" --no-plots && expect_rc 0 || return
    grep -qF "### Across builds" "$T/two/REPORT.md" && grep -qF "| row=none | feedfaceca | 1 |" "$T/two/REPORT.md" ||
        { echo "across builds: $(grep -A4 'Across builds' "$T/two/REPORT.md")"; return 1; }
    # the latest regress, recorded by regress: its verdict first in the box, its failed check listed
    cp "$T/f.db" "$T/nr.db" &&
        sqlite3 "$T/nr.db" "UPDATE metrics SET value = value + 0.01 WHERE run_id = 1 AND split = 'test' AND name = 'top1'" || return
    db regress --baseline "$T/f.db" --db "$T/nr.db" --max-slowdown 100 && expect_rc 1 || return
    [ "$(sqlite3 "$T/nr.db" "SELECT failures FROM regressions")" = 1 ] &&
        [ "$(sqlite3 "$T/nr.db" "SELECT kind FROM regress_checks WHERE outcome = 'fail'")" = canary ] ||
        { echo "regress recorded: $(sqlite3 "$T/nr.db" 'SELECT * FROM regressions; SELECT * FROM regress_checks')"; return 1; }
    db report --db "$T/nr.db" --out "$T/nr" --no-plots && expect_rc 0 || return
    local nmd=$T/nr/REPORT.md
    grep -A4 '^## Verdicts' "$nmd" | grep -q "Nightly regression (dropbench regress, .* against $T/f.db): REGRESSION; .* 1 failed" &&
        grep -qF "## Nightly regression" "$nmd" && grep -qF "| run 1 (none, seed 1) vs baseline run 1: test top1 | canary | FAILED |" "$nmd" &&
        ! grep -qF "Nightly regression" "$md" || { echo "the regress in the report: $(grep -A3 'Nightly' "$nmd")"; return 1; }
    # a read-only database (a downloaded CI artifact): reported on, not changed (as nobody when
    # root, where permissions do not bite)
    mkdir -p "$T/roart" && cp "$T/f.db" "$T/roart/a.db" && sqlite3 "$T/roart/a.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
        rm -f "$T/roart/a.db-wal" "$T/roart/a.db-shm" || return
    local as=() sum0 rc2=0
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || { echo "running as root without setpriv (util-linux)"; return 77; }
        cp "$DB" "$T/roart/dropbench" && chmod 755 "$tmp" "$T" && chmod 555 "$T/roart" && chmod 444 "$T/roart/a.db" || return
        as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
        mkdir -p "$T/roout" && chmod 777 "$T/roout"
    else
        cp "$DB" "$T/roart/dropbench" && chmod 444 "$T/roart/a.db" && chmod 555 "$T/roart" && mkdir -p "$T/roout" || return
    fi
    sum0=$(sha256sum "$T/roart/a.db")
    "${as[@]}" "$T/roart/dropbench" report --db "$T/roart/a.db" --out "$T/roout/rep" --no-plots >"$out" 2>"$err" || rc2=$?
    chmod 755 "$T/roart"
    [ "$rc2" = 0 ] && grep -qF "| row=k3 | 3 | 1 | 0 | 0 | 0 | 0 | 2 |" "$T/roout/rep/REPORT.md" &&
        [ "$(sha256sum "$T/roart/a.db")" = "$sum0" ] && [ ! -e "$T/roart/a.db-wal" ] ||
        { echo "report on a read-only database: exit $rc2, $(snippet "$err")"; return 1; }
    # accuracy axes stay within 0..100 even where an interval would reach past them
    for gp in "$T"/rep/plots/fixture-top1.gp "$T"/rep/plots/fixture-curves.gp; do
        sed -n 's/^set yrange \[\(.*\):\(.*\)\]$/\1 \2/p' "$gp" | awk '{ if ($1 < 0 || $2 > 100) bad = 1 } END { exit bad }' ||
            { echo "$gp: $(grep yrange "$gp")"; return 1; }
    done
    local svgs
    svgs=$(grep -c "<svg" "$T/rep/index.html")
    [ "$svgs" = 6 ] && ! grep -q "image missing" "$T/rep/index.html" && [ -s "$T/rep/plots/fixture-curves.png" ] &&
        [ -s "$T/rep/plots/fixture-top1.gp" ] || { echo "figures: $svgs inline SVGs; $(ls "$T/rep/plots" | tr '\n' ' ')"; return 1; }
    # the same numbers when the figures cannot be drawn: without gnuplot on PATH
    local rc=0
    PATH=/nonexistent "$DB" report --db "$T/f.db" --out "$T/nognuplot" >"$out" 2>"$err" || rc=$?
    [ "$rc" = 0 ] && grep -q "figure(s) skipped" "$err" && grep -q "not rendered" "$T/nognuplot/REPORT.md" &&
        grep -qF "| row=k3 | 3 | 1 | 0 | 0 | 0 | 0 | 2 |" "$T/nognuplot/REPORT.md" &&
        [ -s "$T/nognuplot/plots/fixture-top1.gp" ] || { echo "without gnuplot: exit $rc, $(snippet "$err")"; return 1; }
    # nothing to report on: a clear message, and no database made up for it
    db report --db "$T/none.db" --out "$T/o2" && expect_rc 1 && expect_err "no results database" || return
    [ ! -e "$T/none.db" ] || { echo "report created a database"; return 1; }
    db list --db "$T/empty.db" && db report --db "$T/empty.db" --out "$T/o3" && expect_rc 2 && expect_err "no studies yet" || return
    db report --db "$T/f.db" --study nosuch --out "$T/o4" && expect_rc 2 && expect_err "no study 'nosuch'" || return
    db report --bogus && expect_rc 2 && expect_err "usage" || return
    # scored like the paper: the best test top-1 over the epochs; the baseline's mean is then
    # the mean of each done run's best epoch
    db report --db "$T/f.db" --out "$T/best" --score best --no-plots && expect_rc 0 || return
    local want
    want=$(sqlite3 "$T/f.db" "SELECT printf('%.2f', avg(b)) FROM (SELECT max(m.value) * 100 AS b FROM runs r JOIN metrics m ON m.run_id = r.id WHERE r.id IN (1, 3) AND m.split = 'test' AND m.name = 'top1' GROUP BY r.id)")
    grep -q "Results: best (over the epochs) test top-1" "$T/best/REPORT.md" && grep -qF "| row=none | 2 | $want" "$T/best/REPORT.md" ||
        { echo "--score best: want the baseline mean $want; $(grep -F '| row=none | 2' "$T/best/REPORT.md")"; return 1; }
    db report --db "$T/f.db" --score worst && expect_rc 2 || return
    # a study whose cell another study already ran (same settings) shows that run, not "missing"
    printf 'study = other\ntrain_limit = 256\ntest_limit = 128\nbatch = 64\nepochs = 2\nregularizer = none\nseed = 1\ncheckpoint_dir = %s\n' \
        "$T/runs" >"$T/o.txt"
    db study "$T/o.txt" --db "$T/f.db" --quiet && expect_rc 0 && expect_out "0 ran now, 1 done before" || return
    db report --db "$T/f.db" --study other --out "$T/other" --no-plots && expect_rc 0 || return
    grep -qF "| all | 1 | 1 | 0 | 0 | 0 | 0 | 0 |" "$T/other/REPORT.md" ||
        { echo "the borrowed run: $(grep -F '| all |' "$T/other/REPORT.md")"; return 1; }
}
t_report_browser() {
    # the HTML opens in a real browser with every figure drawn (headless Chromium, when installed)
    local chrome
    chrome=$(command -v chromium || command -v chromium-browser || true)
    [ -n "$chrome" ] || { echo "no Chromium here (Debian: apt-get install chromium); the HTML was not opened in a browser"; return 77; }
    need_fmnist || return
    printf '%s\ncheckpoint_dir = %s\n' "$REPORT_RECIPE" "$T/runs" >"$T/r.txt"
    db study "$T/r.txt" --cell 0 --db "$T/f.db" --quiet && db study "$T/r.txt" --cell 3 --db "$T/f.db" --quiet &&
        db report --db "$T/f.db" --out "$T/rep" && expect_rc 0 || return
    timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --dump-dom "file://$T/rep/index.html" >"$T/dom.html" 2>/dev/null ||
        { echo "chromium could not open the report"; return 1; }
    local want have
    want=$(grep -c "<figure>" "$T/rep/index.html")
    have=$(grep -o "<svg" "$T/dom.html" | wc -l)
    [ "$want" -gt 0 ] && [ "$have" -ge "$want" ] || { echo "$have SVG figures in the browser's DOM, $want in the file"; return 1; }
    # screenshots at a desktop's and a narrow window's width (to look at them, name a folder in
    # DROPBENCH_KEEP_SHOTS: they are copied there)
    local w
    for w in 1400 700; do
        timeout 90 "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=$w,2400 \
            --screenshot="$T/shot-$w.png" "file://$T/rep/index.html" >/dev/null 2>&1
        [ "$(head -c 8 "$T/shot-$w.png" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
            { echo "no screenshot at width $w"; return 1; }
        [ -z "${DROPBENCH_KEEP_SHOTS:-}" ] || cp "$T/shot-$w.png" "$DROPBENCH_KEEP_SHOTS/" || return
    done
}
t_device() {
    # --device auto falls back to the CPU and says so once; an explicit cuda that cannot be
    # honoured is a clear error, never a silent CPU run; the run records its device
    need_fmnist || return
    db version && expect_rc 0 && expect_out "gpu backend:" || return
    if grep -q "^cuda: built" "$out" && [ -e build/libdropbench_gpu.so ]; then
        expect_out "gpu backend: loaded (cuDNN 9" || return # the shared object loads, cuDNN and cuBLAS with it
    fi
    DROPBENCH_GPU_BACKEND=/nonexistent/x.so "$DB" version >"$out" 2>"$err"
    grep -q "gpu backend: not available" "$out" || { echo "a missing backend: $(snippet "$out")"; return 1; }
    local built=0 devices=0
    grep -q "^cuda: built" "$out" && built=1
    grep -q " 0 device(s)" "$out" || devices=1
    if [ $built = 1 ] && [ $devices = 1 ]; then # a GPU here: cuda trains, and auto picks it
        db train --device cuda --epochs 1 --train-limit 256 --test-limit 128 --batch 64 --db "$T/g.db" && expect_rc 0 || return
        [ "$(sqlite3 "$T/g.db" 'SELECT device FROM runs')" = cuda ] || { echo "recorded device: $(sqlite3 "$T/g.db" 'SELECT device FROM runs')"; return 1; }
        db train --device auto --epochs 1 --train-limit 256 --test-limit 128 --batch 64 --db "$T/g.db" && expect_rc 0 &&
            expect_err "using CUDA device" || return
        echo "trained on the GPU" >"$T/note"
        return 0
    fi
    db train --device cuda --epochs 1 --train-limit 256 --db "$T/d.db" && expect_rc 1 || return
    if [ $built = 0 ]; then expect_err "built without CUDA" || return
    else expect_err "no CUDA device on this machine" || return
    fi
    [ ! -e "$T/d.db" ] || [ "$(sqlite3 "$T/d.db" 'SELECT count(*) FROM runs')" = 0 ] || { echo "a refused run was recorded"; return 1; }
    db train --device auto --epochs 1 --train-limit 256 --test-limit 128 --batch 64 --db "$T/d.db" && expect_rc 0 || return
    if [ $built = 1 ]; then
        [ "$(grep -c "no CUDA device, using CPU" "$err")" = 1 ] || { echo "the fallback was not said once: $(snippet "$err")"; return 1; }
    fi
    [ "$(sqlite3 "$T/d.db" 'SELECT device FROM runs')" = cpu ] || { echo "recorded device: $(sqlite3 "$T/d.db" 'SELECT device FROM runs')"; return 1; }
    db train --device gpu --epochs 1 && expect_rc 2 && expect_err "must be auto, cpu or cuda" || return
    # precision is a GPU setting: on the CPU (asked for, or where auto lands) it is refused before
    # anything is recorded, not trained in fp32 under a record that says bf16
    db train --device cpu --precision bf16 --epochs 1 --train-limit 256 --db "$T/p.db" && expect_rc 2 &&
        expect_err "precision bf16 is for --device cuda; this run is on the CPU" || return
    db train --device auto --tf32 1 --epochs 1 --train-limit 256 --db "$T/p.db" && expect_rc 2 &&
        expect_err "precision tf32 is for --device cuda" || return
    [ ! -e "$T/p.db" ] || [ "$(sqlite3 "$T/p.db" 'SELECT count(*) FROM runs')" = 0 ] || { echo "a refused run was recorded"; return 1; }
    db train --device cuda --precision fp16 --epochs 1 && expect_rc 2 && expect_err "must be fp32, tf32 or bf16" || return
    db train --device cuda --tf32 1 --precision bf16 --epochs 1 && expect_rc 2 && expect_err "give one of them" || return
    # the channels-last layout belongs to bf16's operands; anything else is refused by name
    db train --device cuda --conv-layout nhwc --epochs 1 && expect_rc 2 &&
        expect_err "conv_layout nhwc is the layout of precision bf16's operands; precision is fp32" || return
    db train --device cuda --precision bf16 --conv-layout chwn --epochs 1 && expect_rc 2 &&
        expect_err "conv_layout: 'chwn' must be auto, nchw or nhwc" || return
    # the fused batch norm is the GPU's: refused on the CPU before anything is recorded
    db train --device cpu --gpu-bn fused --epochs 1 --train-limit 256 --db "$T/p.db" && expect_rc 2 &&
        expect_err "gpu_bn fused is for --device cuda; this run is on the CPU" || return
    [ ! -e "$T/p.db" ] || [ "$(sqlite3 "$T/p.db" 'SELECT count(*) FROM runs')" = 0 ] || { echo "a refused run was recorded"; return 1; }
    db train --device cuda --gpu-bn cudnn9 --epochs 1 && expect_rc 2 && expect_err "gpu_bn: 'cudnn9' must be auto, cudnn or fused"
}
t_gpu_check() {
    # CPU vs GPU: every shared kernel body bit-identical (Philox, SGD, the regularizers, the
    # resampling ops), the cuDNN/cuBLAS ops and whole ResNet-20 training steps within tolerance:
    # built wherever this build has CUDA (a link error fails here, device or not), run where a
    # device exists, skipped with the reason elsewhere
    db version && expect_rc 0 || return
    grep -q "^cuda: built" "$out" || { echo "this build has no CUDA (no nvcc or cuDNN headers)"; return 77; }
    local devices=$out
    make --no-print-directory build/gpu-check build/gpu-probe >"$T/build.txt" 2>&1 ||
        { echo "build/gpu-check or build/gpu-probe did not build: $(grep -m3 -E 'error|undefined' "$T/build.txt")"; return 1; }
    # a section that does not exist is refused before any device is touched
    rc=0; ./build/gpu-check --only graph,bogus >"$T/only.txt" 2>&1 || rc=$?
    [ "$rc" = 1 ] && grep -q "no section 'bogus'" "$T/only.txt" || { echo "--only bogus: exit $rc, $(cat "$T/only.txt")"; return 1; }
    ! grep -q " 0 device(s)" "$devices" || { echo "no CUDA device here: build/gpu-check built, not run"; return 77; }
    ./build/gpu-check --no-bench >"$T/gpu.txt" 2>&1 || { echo "gpu-check failed: $(grep -v '^ok' "$T/gpu.txt" | head -5)"; return 1; }
    grep -q ", 0 failed$" "$T/gpu.txt" || { echo "gpu-check: $(tail -2 "$T/gpu.txt")"; return 1; }
    echo "$(grep -c '^ok' "$T/gpu.txt") GPU checks passed" >"$T/note"
}
t_gpu_check_script() {
    # scripts/gpu_check (make gpu-check's driver) keeps every finished line, on screen and in its
    # log, whether the checker fails, crashes or runs out of time, and still tries the PyTorch
    # peer; stand-in checkers play the GPU's part here
    printf '#!/bin/sh\necho "ok   first: fine"\necho "FAIL second: off by 1"\necho "gpu-bench resnet20 3,32,32 128 fp32 100.0"\nexit 1\n' >"$T/fails"
    printf '#!/bin/sh\necho "ok   first: fine"\nsleep 30\necho "never"\n' >"$T/hangs"
    # (the throughput runs in a process of its own: a crashed check still gets the comparison)
    printf '#!/bin/sh\n[ "$1" = --bench-only ] && { echo "gpu-bench resnet20 3,32,32 128 fp32 100.0"; exit 0; }\necho "ok   first: fine"\nkill -SEGV $$\n' >"$T/crashes"
    chmod +x "$T/fails" "$T/hangs" "$T/crashes"
    rc=0; GPU_CHECK_BIN=$T/fails GPU_CHECK_LOG=$T/f.log scripts/gpu_check >"$out" 2>"$err" || rc=$?
    expect_rc 1 && expect_out "FAIL second" && expect_out "PyTorch peer" && grep -q "^gpu-bench " "$T/f.log" &&
        grep -q "PyTorch peer" "$T/f.log" || { echo "failing checker: $(cat "$T/f.log")"; return 1; }
    rc=0; GPU_CHECK_BIN=$T/hangs GPU_CHECK_LOG=$T/h.log GPU_CHECK_TIMEOUT=2 GPU_BENCH_TIMEOUT=2 timeout 60 scripts/gpu_check >"$out" 2>"$err" || rc=$?
    expect_rc 1 && expect_out "ok   first" && expect_out "stopped after 2 s" && ! grep -q never "$T/h.log" &&
        grep -q "ok   first" "$T/h.log" || { echo "hanging checker: $(cat "$T/h.log")"; return 1; }
    rc=0; GPU_CHECK_BIN=$T/crashes GPU_CHECK_LOG=$T/c.log scripts/gpu_check >"$out" 2>"$err" || rc=$?
    expect_rc 1 && expect_out "ok   first" && expect_out "ended with status 139" && grep -q "ok   first" "$T/c.log" &&
        grep -q "^gpu-bench " "$T/c.log" && grep -q "PyTorch peer" "$T/c.log" ||
        { echo "crashing checker: $(cat "$T/c.log")"; return 1; }
}
t_gpu_session() {
    # make gpu-session, the one command a GPU session runs first: every step announced and its
    # outcome logged, a failed step (no nvcc, no device) not stopping the next, a last line always
    rc=0; GPU_DEBS=$T/none GPU_SESSION_LOG=$T/s.log timeout 600 scripts/gpu_session >"$out" 2>"$err" || rc=$?
    [ "$rc" = 1 ] || [ "$rc" = 2 ] || { echo "exit $rc (want 1 or 2 without a GPU): $(tail -3 "$T/s.log")"; return 1; }
    grep -q "^== build gpu-check (" "$T/s.log" && grep -q "^== build gpu-check: " "$T/s.log" &&
        grep -q "^== layout probe" "$T/s.log" && grep -q "^== convolution probe" "$T/s.log" &&
        grep -q "^gpu session: " "$T/s.log" && [ "$(wc -l <"$out")" = "$(wc -l <"$T/s.log")" ] ||
        { echo "the session's log: $(cat "$T/s.log")"; return 1; }
}
t_gpu_program() {
    # scripts/gpu_program (the program itself on a GPU machine) without the packages it builds
    # against: says how to make them and exits 1 before touching anything
    rc=0; GPU_DEBS=$T/none SYSROOT=$T/root scripts/gpu_program >"$out" 2>"$err" || rc=$?
    expect_rc 1 && expect_out "no packages in $T/none: run scripts/gpu_debs" && [ ! -e "$T/root" ] ||
        { echo "no root should be made"; return 1; }
}
t_gpu_study() {
    # scripts/gpu_study (studies' cells on a GPU machine), here on the CPU with the program built:
    # a missing recipe is said and fails the call; the named cell runs into $OUT/gpu-study.db, and
    # merged into another database it is a finished cell there (the study skips it)
    rc=0; OUT=$T/devout scripts/gpu_study bench/recipes/fmnist-amoebanet-quick.txt:1 $T/none.txt >"$out" 2>"$err" || rc=$?
    expect_rc 1 && expect_out "no recipe $T/none.txt" && expect_out "cell 1: exit 0" && [ -f "$T/devout/gpu-study.db" ] || return
    db merge "$T/devout/gpu-study.db" --db "$T/main.db" && expect_rc 0 || return
    db study bench/recipes/fmnist-amoebanet-quick.txt --dry-run --db "$T/main.db" && expect_rc 0 &&
        expect_out "[1/2] regularizer=none: would run" && expect_out "[2/2] regularizer=dropblock: done before" || return
    rc=0; scripts/gpu_study >"$out" 2>"$err" || rc=$?
    expect_rc 2 && expect_out "usage: scripts/gpu_study RECIPE[:CELLS]"
}
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
    for m in ok cut redirect norange flaky stall short; do
        echo "t$m blob.bin http://127.0.0.1:$port/$m/blob.bin 300000 $md5 $sha"
    done >"$T/catalog"
    echo "tbad blob.bin http://127.0.0.1:$port/ok/blob.bin 300000 $(printf '0%.0s' $(seq 32)) -" >>"$T/catalog"
    echo "tmissing nothing.bin http://127.0.0.1:$port/ok/nothing.bin - $md5 -" >>"$T/catalog"
    echo "tfile blob.bin file://$T/srv/blob.bin 300000 - $sha" >>"$T/catalog"
}
fetch() { db data fetch "$@" --data-dir "$T/cache" --catalog "$T/catalog" --retry-delay 0.1; }
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
    db data bench --dataset imagenet --data-dir "$T/inet" --augment inception --image-size 64 --batch 16 --workers 0,2 \
        --seconds 0.5 --json && expect_rc 0 || return
    [ "$(grep -c '"images_per_s"' "$out")" = 2 ] || { echo "bench output: $(snippet "$out")"; return 1; }
    head -c 300 "$T/inet/train/n00000002/img0003.JPEG" >"$T/cut" && mv "$T/cut" "$T/inet/train/n00000002/img0003.JPEG"
    db train --dataset imagenet --data-dir "$T/inet" --augment inception --image-size 32 --model resnet20 \
        --epochs 1 --batch 32 && expect_rc 1 && expect_err "img0003.JPEG" || return
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
    db data make nosuch && expect_rc 2 && expect_err "fmnist-detect"
}
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
    # two annotations with one id: an error (pycocotools keys them in a dict and would lose one)
    printf '%s' '{"images":[{"id":1}],"categories":[{"id":1}],"annotations":[{"id":5,"image_id":1,"category_id":1,"bbox":[0,0,10,10],"area":100},{"id":5,"image_id":1,"category_id":1,"bbox":[20,20,10,10],"area":100}]}' >"$T/dup.json"
    db eval coco --gt "$T/dup.json" --results "$T/dt.json" && expect_rc 1 && expect_err "annotation id 5 appears twice" || return
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
    db eval miou --gt "$T/gt" --pred "$T/gt" --classes 5 && expect_rc 1 && expect_err "is not a class" || return
    db eval miou --gt "$T/gt" && expect_rc 2 || return
    cp "$T/gt/1.png" "$T/pred/1.png" # the map removed above, back as a perfect prediction
    need_fmnist || return
    db train --epochs 1 --train-limit 256 --test-limit 128 --batch 64 --db "$T/r.db" && expect_rc 0 || return
    db eval miou --gt "$T/gt" --pred "$T/pred" --classes 10 --db "$T/r.db" --run 1 && expect_rc 0 || return
    [ "$(sqlite3 "$T/r.db" "SELECT count(*) FROM metrics WHERE split = 'eval' AND name LIKE 'iou_%'")" = 10 ] &&
        [ "$(sqlite3 "$T/r.db" "SELECT count(*) FROM metrics WHERE split = 'eval' AND name = 'iou_0' AND value IS NULL")" = 0 ] ||
        { echo "stored: $(sqlite3 "$T/r.db" "SELECT name, value FROM metrics WHERE split = 'eval'" | tr '\n' ' ')"; return 1; }
}
t_train_dropblock() {
    need_fmnist || return
    db train --regularizer dropblock --keep-prob 0.8 --block-size 3 --reg-groups 2,3 --train-limit 1024 \
        --test-limit 256 --epochs 1 --batch 64 --metrics "$T/reg.csv" --site-metrics "$T/sites.csv" &&
        expect_rc 0 && expect_out "dropped" || return
    awk -F, 'NR == 2 { exit !($10 > 0.01 && $10 < 0.2) }' "$T/reg.csv" || { echo "drop_fraction column: $(snippet "$T/reg.csv")"; return 1; }
    # 18 sites (groups 2 and 3: 3 blocks x conv1, conv2, shortcut), each realised near its expectation
    awk -F, 'NR > 1 { n++; d = $10 - $11; if (d < 0) d = -d; if (d > 0.01 || $11 <= 0) bad++ }
             END { exit !(n == 18 && !bad) }' "$T/sites.csv" || { echo "site metrics: $(snippet "$T/sites.csv")"; return 1; }
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
    db train "${args[@]}" --width 8 --init-from "$T/nosuch" && expect_rc 1 && expect_err "cannot open checkpoint" || return
    # the segmenter's backbone alike (Table 4's pretrained column)
    db train --model fcn-resnet18-fpn --dataset fmnist-segment --data-dir "$T/deti" --width 8 --fpn-width 16 --head-convs 1 \
        --batch 16 --epochs 1 --db "$T/segi.db" --init-from "$T/cls" && expect_rc 0 &&
        expect_err "60 parameter tensors and 20 batch norms' running statistics copied from a 10-class classifier"
}
resume_same_bits() {
    # NAME METRIC ARGS...: `train ARGS --epochs 4` stopped by SIGUSR1 after its first epoch and
    # resumed from the database gives the uninterrupted run's metrics bit for bit, METRIC 4 times
    local name=$1 metric=$2
    shift 2
    local args=(train "$@" --epochs 4 --threads 2 --db "$T/$name.db")
    db "${args[@]}" --checkpoint-dir "$T/${name}_ref" && expect_rc 0 || return
    rc=0
    # files of its own: $out still holds the reference run's "epoch 1/4" until the background
    # process truncates it, and a signal sent then would find no handler yet (exit 138)
    local bo="$T/${name}_int.out" be="$T/${name}_int.err"
    "$DB" "${args[@]}" --checkpoint-dir "$T/${name}_int" >"$bo" 2>"$be" & local pid=$! i=0
    while ! grep -q "epoch   1/4" "$bo" 2>/dev/null && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -USR1 $pid
    wait $pid || rc=$?
    [ "$rc" = 4 ] && grep -q "stopped by signal 10" "$be" || { echo "after SIGUSR1: exit $rc, $(snippet "$be")"; return 1; }
    db resume 2 --db "$T/$name.db" --quiet && expect_rc 0 || return
    local differ
    differ=$(sqlite3 "$T/$name.db" "SELECT count(*) FROM metrics a JOIN metrics b ON b.epoch = a.epoch AND b.split = a.split AND b.name = a.name AND b.step = a.step WHERE a.run_id = 1 AND b.run_id = 2 AND a.name NOT IN ('seconds', 'images_per_s') AND a.value IS NOT b.value")
    [ "$differ" = 0 ] && [ "$(sqlite3 "$T/$name.db" "SELECT count(*) FROM metrics WHERE run_id = 2 AND name = '$metric'")" = 4 ] ||
        { echo "the resumed $name run differs in $differ metrics"; return 1; }
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
        expect_err "holds no predictions written by dropbench" && [ -s "$T/mine/notes.txt" ] || return
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
t_train_regularizer_bad_args() {
    db train --regularizer nosuch && expect_rc 2 && expect_err "nosuch" || return
    db train --regularizer dropblock --reg-groups 5 && expect_rc 2 && expect_err "reg_groups" || return
    db train --keep-prob 0 && expect_rc 2 && expect_err "keep_prob" || return
    db train --keep-prob-schedule cubic && expect_rc 2 && expect_err "cubic" || return
    db train --regularizer dropblock --semantics keras && expect_rc 2 && expect_err "keras" || return
    db train --regularizer dropblock --semantics torchvision --block-size 4 && expect_rc 2 && expect_err "odd"
}
t_kernel_bad_args() {
    db kernel dropout --shape 2,2,2 --keep-prob 0.9 && expect_rc 2 && expect_err "N,C,H,W" || return
    db kernel dropout --shape 2,2,2,2 --keep-prob 1.5 && expect_rc 2 && expect_err "keep-prob" || return
    db kernel dropout --shape 2,2,2,2 --keep-prob 0.9 --device tpu && expect_rc 2 && expect_err "tpu" || return
    db kernel dropblock --shape 2,2,2,2 --keep-prob 0.9 && expect_rc 2 && expect_err "block-size" || return
    db kernel dropblock --shape 2,2,2,2 --keep-prob 0.9 --block-size 0 && expect_rc 2 && expect_err "block-size" || return
    db kernel dropblock --shape 2,2,2,2 --keep-prob 0.9 --block-size 3 --semantics nosuch && expect_rc 2 && expect_err "nosuch" || return
    db kernel dropblock --shape 2,2,2,2 --keep-prob 0.9 --block-size 2 --semantics torchvision && expect_rc 2 && expect_err "odd" || return
    db kernel frob --shape 2,2,2,2 --keep-prob 0.9 && expect_rc 2 && expect_err "frob"
}
t_model_retinanet() {
    # the official RetinaNet-R50-FPN at 640x640 and 80 classes: about torchvision's 34.0M
    # parameters (91 classes; its heads have no batch norm), the five levels' outputs
    db model retinanet-resnet50-fpn && expect_rc 0 && expect_out "P7  720x5x5  36x5x5" || return
    local n
    n=$(sed -n 's/.* classes, \([0-9]*\) parameters.*/\1/p' "$out")
    [ -n "$n" ] && [ "$n" -gt 33500000 ] && [ "$n" -lt 34500000 ] || { echo "parameters: ${n:-none}"; return 1; }
    db model retinanet-resnet18-fpn --input 1,100,100 && expect_rc 2 && expect_err "multiple of the largest stride"
}
t_model_amoebanet() {
    # AmoebaNet-B (6, 256) at 331x331: the official code's 141,751,465 parameters with its 1001
    # classes (977,124 more with the auxiliary head); (6, 512): GPipe's published 557M
    db model amoebanet-b --classes 1001 && expect_rc 0 && expect_out "141751465 parameters" &&
        expect_out "cell 21  normal     group 4  f 1024  -> 4096x11x11" &&
        expect_out "h4 = dil_2_separable_5x5_2(h2) + max_pool_3x3(h2)" || return
    db model amoebanet-b --classes 1001 --aux && expect_rc 0 && expect_out "142728589 parameters" || return
    db model amoebanet-b --n 6 --f 512 --classes 1001 && expect_rc 0 && expect_out "557286057 parameters" || return
    db model amoebanet-b --n 2 --f 6 && expect_rc 2 && expect_err "at least 8 with the ImageNet stem" || return
    # its siblings: AmoebaNet-A (6, 190), the AmoebaNet paper's 86.7M, its reduction cell's
    # 1x7_7x1; D (1x7_7x1 in both cells) trains
    db model amoebanet-a --n 6 --f 190 --classes 1001 && expect_rc 0 && expect_out "86739940 parameters" &&
        expect_out "AmoebaNet-A (6, 190)" && expect_out "h5 = separable_3x3_2(h4) + 1x7_7x1(h0)" || return
    db model amoebanet-e && expect_rc 2 && expect_err "amoebanet-a/b/c/d" || return
    db model amoebanet-b --stem nosuch && expect_rc 2 && expect_err "imagenet or basic" || return
    db bench --model resnet20 --cells 6 && expect_rc 2 && expect_err "the AmoebaNets'" || return
    # its keys are AmoebaNet's alone
    db train --model resnet20 --reg-last-cells 0.5 --epochs 1 && expect_rc 2 && expect_err "the AmoebaNets'" || return
    db train --model resnet20 --aux-weight 0.4 --epochs 1 && expect_rc 2 && expect_err "the AmoebaNets'" || return
    db train --model amoebanet-b --stem tiny --epochs 1 && expect_rc 2 && expect_err "auto, imagenet or basic" || return
    need_fmnist || return
    db train --model amoebanet-d --cells 3 --width 8 --epochs 1 --train-limit 128 --test-limit 64 --no-db &&
        expect_rc 0 && expect_out "test loss" || return
    # DropPath on every operation's output but the identities, pools included (their sites say
    # "path"), at one keep_prob; the classifier's dropout a "head" site of its own; trained with
    # the auxiliary head (its loss added with weight 0.4)
    need_fmnist || return
    db train --model amoebanet-b --cells 3 --width 8 --epochs 1 --train-limit 256 --test-limit 64 --regularizer droppath \
        --aux-weight 0.4 \
        --keep-prob 0.8 --reg-groups 1,2,3,4 --site-metrics "$T/sites.csv" --db "$T/a.db" && expect_rc 0 || return
    grep -q '^1,[0-9]*,c1.op1,3,path,16,13,13,0.8,' "$T/sites.csv" && grep -q ',head.dropout,0,head,' "$T/sites.csv" &&
        ! grep -v '^epoch' "$T/sites.csv" | grep -v ',head,' | grep -qv ',0.8,' ||
        { echo "sites: $(head -4 "$T/sites.csv")"; return 1; }
}
t_study_amoebanet() {
    # the quick AmoebaNet recipe as a study: two cells that train, and a report that sets them
    # beside the paper's Table 2 (82.25 without, 82.52 with DropBlock), not Table 1
    need_fmnist || return
    db study bench/recipes/fmnist-amoebanet-quick.txt --db "$T/a.db" && expect_rc 0 && expect_out "2 ran now" || return
    db report --db "$T/a.db" --out "$T/arep" --no-plots && expect_rc 0 || return
    grep -q '^| regularizer=none | none | - | .* | 82.25 | - |$' "$T/arep/REPORT.md" &&
        grep -q '^| regularizer=dropblock | DropBlock | 5 | .* | 82.52 | +0.27 |$' "$T/arep/REPORT.md" &&
        ! grep -q "Beside the paper (ResNet-50 on ImageNet, Table 1)" "$T/arep/REPORT.md" ||
        { echo "Table 2: $(grep -A4 'Table 2 at this scale' "$T/arep/REPORT.md" | tail -3)"; return 1; }
    grep -q '^- DropBlock − regularizer=none: .*; paper +0.27' "$T/arep/REPORT.md" ||
        { echo "Table 2 verdict: $(grep -m2 'DropBlock −' "$T/arep/REPORT.md")"; return 1; }
}
t_model_unknown() { db model nosuch && expect_rc 2 && expect_err "nosuch"; }

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

t_dp_matches_ghost_bn() {
    # two processes training batch 64 (32 each) follow one process whose batch norm takes the same
    # groups of 32 (bn_group 32): the training loss within 0.2% each epoch and the final test loss
    # within 3% (the gradients are summed in another order, and ReLUs flip; the first epoch's test
    # loss, at the schedule's top learning rate, moves by more: 2.6% between 1 and 2 threads of
    # one process on an AMD EPYC, 7.6% to two processes there); the same bits again at
    # two processes, DropBlock's masks included, the weights compared after every step
    need_fmnist || return
    need_mpi || return
    local a=(train --model resnet8 --epochs 2 --train-limit 1024 --test-limit 500 --batch 64 --threads 1 --no-db)
    mpi 2 "${a[@]}" --metrics "$T/two.csv" && expect_rc 0 || return
    db "${a[@]}" --bn-group 32 --metrics "$T/one.csv" && expect_rc 0 || return
    paste -d, "$T/two.csv" "$T/one.csv" | awk -F, 'NR > 1 {
        d = ($3 - $13) / $13; t = ($5 - $15) / $15; last = "epoch " $1 ": test loss " $5 " vs " $15
        if (d < -0.002 || d > 0.002) { print "epoch " $1 ": training loss " $3 " vs " $13; bad = 1 }
    } END { if (NR < 2 || t < -0.03 || t > 0.03) { print last; bad = 1 } exit bad }' || return
    # step by step (epochs of one batch): 2 processes against one with bn_group 32, and with
    # bn_sync 1 (batch norm over both processes' samples) against one with the plain batch norm:
    # the first two steps' losses within 1e-5, the next two within 1e-3
    local s=(train --model resnet8 --epochs 4 --train-limit 64 --test-limit 200 --batch 64 --threads 1 --no-db
             --lr-schedule constant --lr 0.05)
    mpi 2 "${s[@]}" --metrics "$T/g2.csv" && expect_rc 0 || return
    db "${s[@]}" --bn-group 32 --metrics "$T/g1.csv" && expect_rc 0 || return
    mpi 2 "${s[@]}" --bn-sync 1 --metrics "$T/s2.csv" && expect_rc 0 || return
    db "${s[@]}" --metrics "$T/s1.csv" && expect_rc 0 || return
    local pair
    for pair in g s; do
        paste -d, "$T/${pair}2.csv" "$T/${pair}1.csv" | awk -F, -v what="$pair" 'NR > 1 {
            d = ($3 - $13) / $13; d = d < 0 ? -d : d
            if (d > (NR <= 3 ? 1e-5 : 1e-3)) { print what ": step " $1 ": loss " $3 " vs " $13; bad = 1 }
        } END { exit bad }' || return
    done
    db "${s[@]}" --bn-sync 1 --bn-group 32 && expect_rc 2 && expect_err "one or the other" || return
    local r=(--regularizer dropblock --block-size 3 --keep-prob 0.9 --replica-check 1)
    mpi 2 "${a[@]}" "${r[@]}" --metrics "$T/a.csv" && expect_rc 0 || return
    mpi 2 "${a[@]}" "${r[@]}" --metrics "$T/b.csv" && expect_rc 0 || return
    cmp -s <(curve "$T/a.csv") <(curve "$T/b.csv") || { echo "two runs at 2 processes differ"; return 1; }
    # a failure of the first process alone (a store path SQLite refuses) ends them all at once,
    # not after the others' time limit (600 s)
    local t0=$SECONDS long
    long="$T/$(printf 'a%.0s' $(seq 600))"
    mpi 2 "${a[@]}" --db "$long/x.db" && expect_rc 2 && expect_err "SQLite takes at most 511" || return
    [ $((SECONDS - t0)) -lt 60 ] || { echo "ended after $((SECONDS - t0)) s"; return 1; }
    # a batch that does not divide, a command that runs as one process, a recipe's other count
    mpi 2 "${a[@]}" --batch 63 && expect_rc 2 && expect_err "batch 63 does not divide among the 2 processes" || return
    mpi 2 "${a[@]}" --world-size 4 && expect_rc 2 && expect_err "world_size 4: the run was started as 2 processes" || return
    mpi 2 report && expect_rc 2 && expect_err "runs as one process" || return
}

# rank_pid R: the pid of the dropbench process of rank R of the mpirun job now running
rank_pid() {
    local pid
    for pid in $(pgrep -f "$DB (train|study|resume)" || true); do
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && { echo "$pid"; return 0; }
    done
    return 1
}

t_dp_timeout() {
    # a process that stops answering (SIGSTOP) does not hang the others: the first ends the run
    # after dist_timeout with that reason recorded, the job ends, and the last checkpoint resumes it
    need_fmnist || return
    need_mpi || return
    local a=(train --model resnet8 --epochs 2 --train-limit 3072 --test-limit 300 --batch 64 --threads 1
             --checkpoint-dir "$T/ck" --db "$T/t.db" --dist-timeout 3)
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive \
        timeout "$LIMIT" mpirun -np 2 --oversubscribe --bind-to none "$DB" "${a[@]}" >"$out" 2>"$err" &
    local job=$! victim="" t0
    for _ in $(seq 300); do [ -f "$T/ck/checkpoint.dbck" ] && break; sleep 0.1; done
    victim=$(rank_pid 1) || { wait "$job"; echo "no rank 1 to stop"; return 1; }
    kill -STOP "$victim"
    t0=$SECONDS
    rc=0
    wait "$job" || rc=$?
    kill -CONT "$victim" 2>/dev/null
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ $((SECONDS - t0)) -lt 60 ] ||
        { echo "exit $rc after $((SECONDS - t0)) s"; return 1; }
    expect_err "no answer from the other processes in 3 s" || return
    sqlite3 "$T/t.db" "select status || ': ' || exit_reason from runs where id = 1" | grep -q "^failed: .*no answer" ||
        { echo "run 1: $(sqlite3 "$T/t.db" "select status, exit_reason from runs")"; return 1; }
    mpi 2 resume 1 --db "$T/t.db" && expect_rc 0 || return
    [ "$(sqlite3 "$T/t.db" "select status || ' ' || epochs_done from runs where id = 1")" = "done 2" ] ||
        { echo "after resume: $(sqlite3 "$T/t.db" "select status, epochs_done from runs")"; return 1; }
}

t_dp_kill_resume() {
    # a process killed mid-run ends the job (mpirun: non-zero) with the run left to resume; resumed
    # at 2 processes (dropbench resume RUN) it ends where a run never killed ends, bit for bit, as
    # one record with its launch in the provenance; one process may not resume it
    need_fmnist || return
    need_mpi || return
    local a=(train --model resnet8 --epochs 3 --train-limit 3072 --test-limit 300 --batch 64 --threads 1)
    mpi 2 "${a[@]}" --no-db --metrics "$T/whole.csv" && expect_rc 0 || return
    local b=("${a[@]}" --checkpoint-dir "$T/ck" --db "$T/dp.db" --metrics "$T/killed.csv")
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive \
        timeout "$LIMIT" mpirun -np 2 --oversubscribe --bind-to none "$DB" "${b[@]}" >"$out" 2>"$err" &
    local job=$! victim=""
    for _ in $(seq 300); do # rank 1, once the first epoch's checkpoint is there
        [ -f "$T/ck/checkpoint.dbck" ] && break
        sleep 0.1
    done
    victim=$(rank_pid 1) || { wait "$job"; echo "no rank 1 to kill"; return 1; }
    kill -9 "$victim"
    rc=0
    wait "$job" || rc=$?
    [ "$rc" -ne 0 ] || { echo "the job ended well with a process killed"; return 1; }
    [ "$(sqlite3 "$T/dp.db" "select count(*) || status from runs")" = "1running" ] ||
        { echo "runs: $(sqlite3 "$T/dp.db" "select id, status from runs")"; return 1; }
    db "${b[@]}" --resume && expect_rc 2 && expect_err "written by 2 processes, this run has 1" || return
    mpi 2 resume 1 --db "$T/dp.db" && expect_rc 0 || return # the first process reads the record, tells the other
    cmp -s <(curve "$T/whole.csv") <(curve "$T/killed.csv") || { echo "resumed: $(tail -1 "$T/killed.csv"), whole: $(tail -1 "$T/whole.csv")"; return 1; }
    [ "$(sqlite3 "$T/dp.db" "select status from runs where id = 1")" = done ] &&
        sqlite3 "$T/dp.db" "select value from provenance where key = 'data_parallel'" | grep -qx "2 processes (mpirun)" &&
        grep -q "^world_size=2$" <(sqlite3 "$T/dp.db" "select config from runs where id = 1") ||
        { echo "runs: $(sqlite3 "$T/dp.db" "select id, status from runs")"; return 1; }
}

t_dp_reshard() {
    # a run trained as 2 processes (one killed) resumes as 1 only when asked (--reshard), in the
    # same record: its configuration says the new number, its provenance when it changed, and
    # regress leaves it out; a run of 1 process stopped by SIGUSR1 goes on as 2 the same way
    need_fmnist || return
    need_mpi || return
    local a=(train --model resnet8 --epochs 3 --train-limit 3072 --test-limit 300 --batch 64 --threads 1)
    local b=("${a[@]}" --checkpoint-dir "$T/ck" --db "$T/dp.db" --metrics "$T/m.csv")
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive \
        timeout "$LIMIT" mpirun -np 2 --oversubscribe --bind-to none "$DB" "${b[@]}" >"$out" 2>"$err" &
    local job=$! victim=""
    for _ in $(seq 300); do
        [ -f "$T/ck/checkpoint.dbck" ] && break
        sleep 0.1
    done
    victim=$(rank_pid 1) || { wait "$job"; echo "no rank 1 to kill"; return 1; }
    kill -9 "$victim"
    wait "$job" || true
    db resume 1 --db "$T/dp.db" && expect_rc 2 && expect_err "trained as 2 processes, this launch has 1" &&
        expect_err "--reshard" || return
    mpi 3 resume 1 --db "$T/dp.db" --reshard && expect_rc 2 && expect_err "batch 64 does not divide among 3 processes" &&
        grep -q "^world_size=2$" <(sqlite3 "$T/dp.db" "select config from runs where id = 1") &&
        [ -z "$(sqlite3 "$T/dp.db" "select value from provenance where key = 'resharded'")" ] ||
        { echo "a refused reshard changed the record: $(sqlite3 "$T/dp.db" "select key, value from provenance")"; return 1; }
    db resume 1 --db "$T/dp.db" --reshard && expect_rc 0 && expect_err "continuing a checkpoint of 2 processes as 1" ||
        return
    [ "$(sqlite3 "$T/dp.db" "select count(*) || status || epochs_done from runs")" = 1done3 ] &&
        sqlite3 "$T/dp.db" "select value from provenance where key = 'resharded'" | grep -Eqx "2 -> 1 process after [12] finished epochs?" &&
        ! grep -q "^world_size=2$" <(sqlite3 "$T/dp.db" "select config from runs where id = 1") &&
        [ "$(grep -c '^[0-9]' "$T/m.csv")" = 3 ] ||
        { echo "runs: $(sqlite3 "$T/dp.db" "select id, status, epochs_done from runs; select * from provenance where key = 'resharded'")"; return 1; }
    cp "$T/dp.db" "$T/base.db"
    db regress --baseline "$T/base.db" --db "$T/dp.db" && expect_out "skip run 1 (none, seed 1): it went on at another number of processes" ||
        return
    # one process to two
    signalled USR1 "$DB" "${a[@]}" --epochs 4 --checkpoint-dir "$T/ck1" --db "$T/one.db" --quiet
    [ "$rc" = 4 ] || { echo "after SIGUSR1: exit $rc, $(snippet "$err")"; return 1; }
    mpi 2 resume 1 --db "$T/one.db" && expect_rc 2 && expect_err "trained as 1 process, this launch has 2" || return
    mpi 2 resume 1 --db "$T/one.db" --reshard && expect_rc 0 || return
    [ "$(sqlite3 "$T/one.db" "select status || epochs_done from runs")" = done4 ] &&
        sqlite3 "$T/one.db" "select value from provenance where key = 'resharded'" | grep -Eqx "1 -> 2 processes after [0-3] finished epochs?" &&
        grep -q "^world_size=2$" <(sqlite3 "$T/one.db" "select config from runs where id = 1") ||
        { echo "runs: $(sqlite3 "$T/one.db" "select id, status, epochs_done from runs; select * from provenance")"; return 1; }
}

t_dp_sharded_eval() {
    # a detector and a segmenter trained over 2 processes score their test set in halves: the
    # detections of both halves gathered (the run's AP is eval coco's on the detections it wrote,
    # which cover images of both halves), and the mIOU of the confusion matrices added up equal to
    # the first process scoring every image alone (a run keeping its label maps), the same run
    need_fmnist || return
    need_mpi || return
    db data make fmnist-detect --out "$T/dd" --train 192 --val 33 --size 64 --sides 16,32 && expect_rc 0 || return
    mpi 2 train --model retinanet-resnet18-fpn --dataset fmnist-detect --data-dir "$T/dd" --width 8 --fpn-width 16 \
        --head-convs 1 --max-level 6 --batch 16 --epochs 3 --lr 0.02 --threads 1 --db "$T/d.db" --predictions-dir "$T/dp" &&
        expect_rc 0 || return
    db eval coco --gt "$T/dd/annotations/instances_val.json" --results "$T/dp/detections.json" --json && expect_rc 0 &&
        cp "$out" "$T/ap.json" || return
    local run_ap
    run_ap=$(sqlite3 "$T/d.db" "select value from metrics where run_id = 1 and split = 'test' and name = 'AP' order by epoch desc limit 1")
    python3 - "$T/ap.json" "$run_ap" "$T/dp/detections.json" "$T/dd/annotations/instances_val.json" <<'PY' ||
import json, sys
ap = json.load(open(sys.argv[1]))["AP"]
ids = sorted(im["id"] for im in json.load(open(sys.argv[4]))["images"])
seen = {d["image_id"] for d in json.load(open(sys.argv[3]))}
halves = (set(ids[:16]) & seen, set(ids[17:]) & seen)
assert ap > 0 and abs(ap - float(sys.argv[2])) < 1e-12 and all(halves), (ap, sys.argv[2], [len(h) for h in halves])
PY
        { echo "AP $(head -c 120 "$T/ap.json") vs the run's $run_ap"; return 1; }
    # (20 epochs: fewer score every pixel as background, which any share of the pixels agrees with)
    local seg=(train --model fcn-resnet18-fpn --dataset fmnist-segment --data-dir "$T/dd" --width 8 --fpn-width 16
        --head-convs 1 --batch 16 --epochs 20 --lr 0.1 --threads 1)
    mpi 2 "${seg[@]}" --db "$T/s.db" && expect_rc 0 || return
    mpi 2 "${seg[@]}" --db "$T/s.db" --predictions-dir "$T/sp" && expect_rc 0 || return
    [ "$(ls "$T/sp" | wc -l)" = 33 ] || { echo "predictions: $(ls "$T/sp" | wc -l) files"; return 1; }
    local differ
    differ=$(sqlite3 "$T/s.db" "SELECT count(*) FROM metrics a JOIN metrics b ON b.epoch = a.epoch AND b.split = a.split AND b.name = a.name AND b.step = a.step WHERE a.run_id = 1 AND b.run_id = 2 AND a.split = 'test' AND abs(a.value - b.value) > 1e-9 * (1 + abs(b.value))")
    [ "$differ" = 0 ] && [ "$(sqlite3 "$T/s.db" "SELECT count(*) FROM metrics WHERE run_id = 1 AND name = 'mIOU'")" = 20 ] &&
        [ "$(sqlite3 "$T/s.db" "SELECT value > 0.09 FROM metrics WHERE run_id = 1 AND name = 'class_acc' AND epoch = 20")" = 1 ] ||
        { echo "sharded and alone differ in $differ test metrics: $(sqlite3 "$T/s.db" "SELECT run_id, epoch, name, value FROM metrics WHERE split = 'test' AND name IN ('mIOU', 'loss')")"; return 1; }
}

t_dp_buckets() {
    # gradients summed in small buckets begun during the backward pass (dozens per step) give the
    # bits of one sum after it, DropBlock and bn_group included, the weights compared every step
    need_fmnist || return
    need_mpi || return
    local a=(train --model resnet8 --epochs 2 --train-limit 1024 --test-limit 256 --batch 64 --threads 1 --no-db
        --regularizer dropblock --keep-prob 0.8 --block-size 3 --bn-group 16 --replica-check 1)
    mpi 2 "${a[@]}" --dist-bucket-mb 0 --metrics "$T/one.csv" && expect_rc 0 || return
    mpi 2 "${a[@]}" --dist-bucket-mb 0.02 --metrics "$T/buckets.csv" && expect_rc 0 || return
    cmp -s <(curve "$T/one.csv") <(curve "$T/buckets.csv") && [ "$(grep -c '^[0-9]' "$T/buckets.csv")" = 2 ] ||
        { echo "after the backward: $(tail -1 "$T/one.csv"); in buckets: $(tail -1 "$T/buckets.csv")"; return 1; }
}

t_dp_study_cell() {
    # a study's cell as one run over 2 processes: recorded once, with its study and label, as
    # dropbench slurm --tasks 2 writes the job (srun starts the processes; no Slurm here: the
    # script is checked, the cell run by mpirun); resume of that run over 2 processes; a whole
    # study over several processes refused
    need_fmnist || return
    need_mpi || return
    printf 'study = wide\ntrain_limit = 512\ntest_limit = 128\nbatch = 64\nepochs = 1\nthreads = 1\ncheckpoint_dir = %s\nvary.seed = 1, 2\n' \
        "$T/runs" >"$T/r.txt"
    db slurm "$T/r.txt" --out "$T/job.sbatch" --shards "$T/shards" --tasks 2 --gpus-per-task 1 && expect_rc 0 || return
    grep -q '^#SBATCH --ntasks=2$' "$T/job.sbatch" && grep -q '^#SBATCH --gpus-per-task=1$' "$T/job.sbatch" &&
        grep -q '^srun --kill-on-bad-exit=1 ./dropbench study ' "$T/job.sbatch" && bash -n "$T/job.sbatch" ||
        { echo "script: $(cat "$T/job.sbatch")"; return 1; }
    db slurm "$T/r.txt" --out "$T/job3.sbatch" --tasks 3 && expect_rc 2 && expect_err "batch 64 does not divide among 3" || return
    mpi 2 study "$T/r.txt" --cell 1 --db "$T/w.db" && expect_rc 0 || return
    [ "$(sqlite3 "$T/w.db" "SELECT count(*) || ' ' || r.seed || ' ' || r.status || ' ' || s.name FROM runs r JOIN studies s ON s.id = r.study_id")" = "1 2 done wide" ] ||
        { echo "runs: $(sqlite3 "$T/w.db" "SELECT id, seed, status FROM runs")"; return 1; }
    mpi 2 study "$T/r.txt" --cell 1 --db "$T/w.db" && expect_rc 0 && expect_out "done before (run 1), skipped" || return
    mpi 2 resume 1 --db "$T/w.db" && expect_rc 0 && expect_out "run 1 is done; nothing to resume" || return
    [ "$(grep -c 'nothing to resume' "$out")" = 1 ] || { echo "said by $(grep -c 'nothing to resume' "$out") processes"; return 1; }
    mpi 2 study "$T/r.txt" --db "$T/w.db" && expect_rc 2 && expect_err "a study runs one cell: --cell K" || return
}

t_bn_group() {
    # ghost batch norm: one group of the whole batch is the plain run, bit for bit; groups of 16
    # train otherwise; a group that does not divide the batch is refused
    need_fmnist || return
    local a=(train --model resnet8 --epochs 1 --train-limit 512 --test-limit 128 --batch 64 --no-db)
    db "${a[@]}" --metrics "$T/plain.csv" && expect_rc 0 || return
    db "${a[@]}" --bn-group 64 --metrics "$T/whole.csv" && expect_rc 0 || return
    db "${a[@]}" --bn-group 16 --metrics "$T/ghost.csv" && expect_rc 0 || return
    cmp -s <(cut -d, -f1-7 "$T/plain.csv") <(cut -d, -f1-7 "$T/whole.csv") ||
        { echo "bn_group 64 differs: $(tail -1 "$T/plain.csv") / $(tail -1 "$T/whole.csv")"; return 1; }
    ! cmp -s <(cut -d, -f1-7 "$T/plain.csv") <(cut -d, -f1-7 "$T/ghost.csv") || { echo "bn_group 16 changed nothing"; return 1; }
    db "${a[@]}" --bn-group 24 && expect_rc 2 && expect_err "bn_group 24 does not divide the batch 64"
}

tests=(
    house_rules every_help usage_no_args unknown_command train_unknown_key train_epochs_zero train_lr_not_number
    train_step_needs_milestones train_resume_needs_dir print_config
    data_missing_files data_truncated_gzip data_garbled_gzip data_wrong_magic data_count_mismatch
    data_trailing_bytes checkpoint_dir_unwritable metrics_unwritable diverged diverged_weights_hidden_by_relu
    train_short resume_completed resume_other_config checkpoint_corrupt checkpoint_truncated
    deterministic bn_group dp_matches_ghost_bn dp_kill_resume dp_reshard dp_sharded_eval dp_buckets dp_timeout dp_study_cell
    bench_json bench_profile bench_bad_input bench_busy bench_amoebanet conv_choice model_resnet20 model_resnet50 model_resnet18 model_retinanet model_amoebanet study_amoebanet model_unknown
    kernel_dropout_json kernel_spatial_dropout kernel_dropblock_json kernel_dropblock_semantics kernel_device_cuda kernel_bad_args
    train_dropblock train_detector detector_init_from detector_resume study_detector train_segmenter train_segmenter_voc predictions_match_eval train_regularizer_bad_args
    data_fetch data_fetch_resume data_fetch_failures data_cifar_train data_synthetic_bench data_imagenet_folder data_coco_unpack_train data_make_fmnist_detect eval_coco eval_coco_pycocotools eval_miou fuzz_smoke
    store_records_run eval_every store_concurrent store_kill_resume kill_at_syscalls store_fresh_not_taken_over store_bad_input store_readonly stop_signal_resume rmsprop_ema resume_elsewhere live_run_refused replay_marked resume_other_data study_stop_resume study_jobs study_versions study study_broken_checkpoints study_bad_recipes paper_recipes recipe_rows_include regress regress_statistical merge slurm report report_browser device gpu_check gpu_check_script gpu_session gpu_program gpu_study
)
for t in "${tests[@]}"; do run_test "$t"; done

[ "$skipped" -eq 0 ] || echo "cli: $skipped skipped (not counted)"
echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
