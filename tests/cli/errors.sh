# Command-line tests (tests/cli.sh runs them): usage errors, broken data files, unwritable checkpoint folders and metrics files, divergence, the help texts and the house rules: exit codes and messages.
# shellcheck shell=bash

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

t_batch_larger_than_data() {
    # a batch larger than the training set: refused once the data are read, the fresh record and
    # its event log discarded; the run before it kept
    small_dataset "$T/data" || return
    db train --data-dir "$T/data" --batch 32 --epochs 1 --db "$T/b.db" && expect_rc 0 || return
    db train --data-dir "$T/data" --batch 256 --epochs 1 --db "$T/b.db" && expect_rc 2 &&
        expect_err "batch 256 is larger than the 128 training samples" && expect_err "was not kept" || return
    [ "$(sqlite3 "$T/b.db" 'SELECT group_concat(id || status) FROM runs')" = 1done ] ||
        { echo "runs: $(sqlite3 "$T/b.db" 'SELECT id, status FROM runs')"; return 1; }
    [ ! -e "$T/b.mllog/run-000002.log" ] && [ -s "$T/b.mllog/run-000001.log" ] ||
        { echo "event logs: $(ls "$T/b.mllog")"; return 1; }
}

t_metrics_unwritable() {
    # a folder cannot be made below a regular file; refused before training and before recording
    small_dataset "$T/data" || return
    : >"$T/afile"
    db train --data-dir "$T/data" --batch 32 --epochs 100000 --metrics "$T/afile/dir/m.csv" --db "$T/m.db" || return
    expect_rc 1 && expect_err "$T/afile" || return
    ! grep -q '^epoch' "$out" || { echo "trained before failing: $(snippet "$out")"; return 1; }
    [ ! -s "$T/m.db" ] || [ "$(sqlite3 "$T/m.db" 'SELECT count(*) FROM runs')" = 0 ] || { echo "a run was recorded"; return 1; }
    # a results file that is the database, the checkpoint or the other results file: refused, both kept
    db train --data-dir "$T/data" --batch 32 --epochs 1 --db "$T/k.db" && expect_rc 0 || return
    db train --data-dir "$T/data" --batch 32 --epochs 1 --db "$T/k.db" --metrics "$T/k.db" && expect_rc 2 &&
        expect_err "is also the database" && [ "$(sqlite3 "$T/k.db" 'SELECT count(*) FROM runs')" = 1 ] || return
    db train --data-dir "$T/data" --batch 32 --epochs 1 --checkpoint-dir "$T/ck" --metrics "$T/ck/../ck/checkpoint.dbck" \
        --no-db && expect_rc 2 && expect_err "is also the checkpoint" || return
    db train --data-dir "$T/data" --batch 32 --epochs 1 --metrics "$T/m.csv" --site-metrics "$T/./m.csv" --no-db &&
        expect_rc 2 && expect_err "is also the site metrics file"
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

t_help_texts() {
    # the help says what each command takes: data's unpack and make, eval's miou, train's data sets,
    # the report's metrics by task, kernel's required block size; the unknown model's list
    db --help && expect_rc 0 && expect_out "unpack NAME" && expect_out "make fmnist-detect" && expect_out "eval miou" || return
    db train --help && expect_rc 0 && expect_out "detection and segmentation sets" && ! grep -q "on an IDX data set" "$out" ||
        { echo "train --help: $(head -4 "$out" | tr '\n' ' ')"; return 1; }
    db report --help && expect_rc 0 && expect_out "detection AP, segmentation mIOU" || return
    db kernel --help && expect_rc 0 && expect_out "kernel dropblock --shape N,C,H,W --keep-prob P --block-size K" || return
    db model nosuch && expect_rc 2 && expect_err "retinanet-resnet18-fpn" && expect_err "fcn-resnet50-fpn" || return
    db model --help && expect_rc 0 && expect_out "--fpn-width" && expect_out "--cells"
}

t_option_values() {
    # a bad value names its option and what it takes (exit 2), never "unexpected argument"
    local c
    while IFS='|' read -r c want; do
        # shellcheck disable=SC2086
        db $c && expect_rc 2 && expect_err "$want" || { echo "($c)"; return 1; }
        ! grep -q "unexpected argument" "$err" || { echo "($c) said: $(snippet "$err")"; return 1; }
    done <<'EOF_CASES'
report --score bogus|--score wants final or best, got 'bogus'
report --format md|--format wants full or gfm, got 'md'
report --score|--score needs a value
study x.txt --cell -1|--cell wants a whole number from 0
study x.txt --jobs 0|--jobs wants a whole number from 1 to 256, got '0'
study x.txt --show-config|--show-config goes with --dry-run
study x.txt --cell 1 --jobs 2|one or the other
study|which recipe?
export --format xml|--format wants csv or json, got 'xml'
export --run 0|--run wants a whole number from 1
show|which run?
show abc|RUN wants a whole number from 1
kernel dropblock --shape 1,1,8,8|--keep-prob P is needed
kernel dropblock --keep-prob 0.9|--shape N,C,H,W is needed
kernel dropblock --shape 1,1,8,8 --keep-prob 0.9|dropblock needs --block-size K
eval miou --gt a --pred b --classes 0|--classes wants a whole number from 1 to 256, got '0'
slurm x.txt --tasks 0|--tasks wants a whole number from 1
train --db --epochs 3 --print-config|--db needs a path
train --checkpoint-dir --quiet --print-config|--checkpoint-dir needs a value
resume 1 --db --quiet|--db needs a value
tag x --db --quiet|--db needs a value
list --db --study|--db needs a path
report --db --no-plots|--db needs a value
slurm x.txt --out --time 1:00:00|--out needs a value
eval coco --gt --results r.json|--gt needs a value
eval coco --gt a --results b --db|--db needs a path
eval miou --gt a --pred b --run 0|--run wants a whole number from 1
kernel dropout --shape --keep-prob 0.5|--shape needs a value
kernel dropout --shape 2,2,4,4 --keep-prob 0.5 --threads 4294967297|--threads wants a whole number from 1 to 1024
kernel dropout --shape 65536,65536,65536,65536 --keep-prob 0.5|the tensor is too large
bench --model|--model needs a value
bench --shortcut Bogus|--shortcut is A or B, got 'Bogus'
model resnet20 --input 1,4294967324,28|--input wants C,H,W
EOF_CASES
    # a line break in a setting would be a key=value line of its own in the recorded configuration
    db train --checkpoint-dir $'ck\nepochs=1' --print-config && expect_rc 2 && expect_err "a value with a line break" || return
    db resume 1 --db "$T/nowhere/x.db" && expect_rc 1 && expect_err "no results database at" && [ ! -e "$T/nowhere" ]
}

t_house_rules() {
    # no include or call cycle between folders or files; the libraries never reach the command
    rc=0; python3 scripts/depgraph --quiet >"$out" 2>"$err" || rc=$?
    expect_rc 0 && expect_err "no cycle" || return 1
    # files small enough to read: no source file, test or script over 600 lines
    local files long
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' '*.cu' '*.py' '*.sh' 'scripts/*' 'Makefile')
    else
        files=$(find . \( -path ./build -o -path ./runs -o -path ./.git \) -prune -o -type f \( -name '*.c' -o -name '*.h' \
            -o -name '*.cu' -o -name '*.py' -o -name '*.sh' -o -path './scripts/*' -o -name Makefile \) -print)
    fi
    [ -n "$files" ] || { echo "no source files found"; return 1; }
    long=$(echo "$files" | xargs wc -l | awk '$2 != "total" && $1 > 600 {printf "%s (%d lines) ", $2, $1}')
    [ -z "$long" ] && return 0
    echo "over 600 lines, split by concern: $long"
    return 1
}
