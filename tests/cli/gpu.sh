# Command-line tests (tests/cli.sh runs them): the GPU: device resolution, gpu-check and the scripts a GPU session runs.
# shellcheck shell=bash

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
    # under a GPU session's deadline too near (GPU_DEADLINE_AT): each part skipped and said
    rc=0; GPU_DEADLINE_AT=$(($(date +%s) + 5)) GPU_CHECK_BIN=$T/hangs GPU_CHECK_LOG=$T/d.log timeout 60 scripts/gpu_check \
        >"$out" 2>"$err" || rc=$?
    expect_rc 1 && [ "$(grep -c "skipped .*deadline is too near" "$T/d.log")" = 2 ] && ! grep -q "ok   first" "$T/d.log" ||
        { echo "under a near deadline: $(cat "$T/d.log")"; return 1; }
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
    # a deadline the steps cannot fit: each said skipped, the session's last line still written
    rc=0; GPU_SESSION_DEADLINE=5 GPU_DEBS=$T/none GPU_SESSION_LOG=$T/d.log timeout 60 scripts/gpu_session >"$out" 2>"$err" ||
        rc=$?
    [ "$rc" = 1 ] && grep -q "^== build gpu-check: skipped (.* s left of the session's 5)" "$T/d.log" &&
        ! grep -q "^== build gpu-check (" "$T/d.log" && grep -q "^gpu session: done" "$T/d.log" &&
        sed -n '/^== summary/,$p' "$T/d.log" | grep -q "^== build gpu-check: skipped" ||
        { echo "exit $rc, the log: $(cat "$T/d.log")"; return 1; }
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
    expect_rc 2 && expect_out "usage: scripts/gpu_study RECIPE[:CELLS]" || return
    # a recipe's requirement (the run its init_from starts from) runs whole first
    requires_fixture gpre gmain "row.tuned.init_from = $T/ck/gpre/single"
    rc=0; OUT=$T/devout2 scripts/gpu_study "$T/main.txt" >"$out" 2>"$err" || rc=$?
    expect_rc 0 && expect_out "requires $T/pre.txt: its study first" && expect_out "main.txt cell 0: exit 0" || return
}
