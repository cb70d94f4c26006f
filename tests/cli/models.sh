# Command-line tests (tests/cli.sh runs them): bench, model, kernel and the networks (AmoebaNet).
# shellcheck shell=bash

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

t_model_network_keys() {
    # model takes the keys that shape a network as train and the recipes set them (the small
    # AmoebaNet-B, the width-16 RetinaNet and FCN), names the model it describes, and refuses
    # the keys that shape nothing
    db model fcn-resnet18-fpn && expect_rc 0 && head -1 "$out" | grep -q '^fcn-resnet18-fpn: input 3x512x512, 21 classes' ||
        { echo "fcn: $(head -1 "$out")"; return 1; }
    db model amoebanet-b --cells 6 --width 16 --input 1,28,28 --classes 10 && expect_rc 0 &&
        expect_out "AmoebaNet-B (2, 16): 6 normal cells in all, basic stem" || return
    local a b
    a=$(head -1 "$out")
    db model amoebanet-b --n 2 --f 16 --input 1,28,28 --classes 10 && expect_rc 0 || return
    b=$(head -1 "$out")
    [ "$a" = "$b" ] || { echo "--cells 6 --width 16: $a; --n 2 --f 16: $b"; return 1; }
    db model retinanet-resnet18-fpn --width 16 --fpn-width 32 --head-convs 2 --input 1,128,128 --classes 10 &&
        expect_rc 0 && expect_out "retinanet-resnet18-fpn: input 1x128x128, 10 classes, 828910 parameters" || return
    db model fcn-resnet18-fpn --width=16 --fpn-width 32 --min-level 2 --input 1,128,128 --classes 11 && expect_rc 0 &&
        expect_out "fcn-resnet18-fpn: input 1x128x128, 11 classes" || return
    db model resnet20 --epochs 3 && expect_rc 2 && expect_err "unknown option '--epochs'" || return
    db model resnet20 --cells 6 && expect_rc 2 && expect_err "the AmoebaNets'" || return
    db model retinanet-resnet18-fpn --min-level 2 && expect_rc 2 && expect_err "only segmenters" || return
    db model resnet20 --shortcut C && expect_rc 2 && expect_err "must be A or B" || return
    db model resnet20 --width 0.5 && expect_rc 2 && expect_err "width: '0.5' is not an integer"
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
    # every cell has label smoothing (the official AmoebaNet setting): the no-regularizer
    # condition is still the baseline the results table compares with; no NaN printed anywhere
    grep -q '^| regularizer=none | 1 | .* | baseline |$' "$T/arep/REPORT.md" &&
        grep -q '^| regularizer=dropblock | 1 | .* | [+-][0-9.]* (1) |' "$T/arep/REPORT.md" &&
        ! grep -q 'no baseline condition' "$T/arep/REPORT.md" ||
        { echo "results: $(grep -A4 '^| condition | n |' "$T/arep/REPORT.md" | tail -2)"; return 1; }
    ! grep -qiw 'nan' "$T/arep/REPORT.md" || { echo "NaN printed: $(grep -m1 -iw nan "$T/arep/REPORT.md")"; return 1; }
}

t_model_unknown() { db model nosuch && expect_rc 2 && expect_err "nosuch"; }
