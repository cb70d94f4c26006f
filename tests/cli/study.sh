# Command-line tests (tests/cli.sh runs them): studies, recipes, regressions, merges, slurm and the report.
# shellcheck shell=bash

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

t_study_requires() {
    # requires = FILE: the study whose run another's init_from starts from runs first (its cells
    # done before are skipped); a cell picked alone before it exists is refused, naming the study
    # to run, with nothing recorded; a train run from a missing checkpoint alike
    need_fmnist || return
    local base="model = resnet20
dataset = fashion-mnist
train_limit = 256
test_limit = 64
epochs = 1
batch = 64"
    printf '%s\nstudy = pre\ncheckpoint_dir = %s/ck\n' "$base" "$T" >"$T/pre.txt"
    # (with checkpoint_dir set, a cell's checkpoint is DIR/STUDY/LABEL: pre's single cell in ck/pre/single)
    printf '%s\nstudy = main\ncheckpoint_dir = %s/ck\nrequires = pre.txt\nlr = 0.05\nrow.scratch.seed = 1\nrow.tuned.init_from = %s/ck/pre/single\n' \
        "$base" "$T" "$T" >"$T/main.txt"
    db study "$T/main.txt" --dry-run --db "$T/r.db" && expect_rc 0 &&
        expect_out "study main requires $T/pre.txt (study pre): 1 cell, 1 to run first" || return
    db study "$T/main.txt" --cell 1 --db "$T/r.db" && expect_rc 1 && expect_err "no checkpoint there" &&
        expect_err "dropbench study $T/pre.txt --db $T/r.db" || return
    [ "$(sqlite3 "$T/r.db" 'select count(*) from runs')" = 0 ] || { echo "a refused cell was recorded"; return 1; }
    db train --model resnet20 --train-limit 64 --epochs 1 --init-from "$T/nosuch" --db "$T/t.db" && expect_rc 2 &&
        expect_err "no checkpoint there" || return
    [ ! -f "$T/t.db" ] || [ "$(sqlite3 "$T/t.db" 'select count(*) from runs')" = 0 ] ||
        { echo "a train run from a missing checkpoint was recorded"; return 1; }
    db study "$T/main.txt" --cell 0 --db "$T/r.db" && expect_rc 0 || return   # the row that needs nothing runs
    db study "$T/main.txt" --db "$T/r.db" && expect_rc 0 && expect_out "study main requires $T/pre.txt (study pre): its cells first" &&
        expect_err "copied from a 10-class classifier" && expect_out "1 ran now, 1 done before" || return
    [ "$(sqlite3 "$T/r.db" "select group_concat(x, ' ') from (select s.name || ':' || r.status as x from runs r join studies s on s.id = r.study_id order by r.id)")" = \
        "main:done pre:done main:done" ] || { echo "runs: $(sqlite3 "$T/r.db" 'select id, status from runs')"; return 1; }
    db study "$T/main.txt" --db "$T/r.db" && expect_rc 0 && expect_out "0 ran now, 2 done before" || return
    db study "$T/pre.txt" --db "$T/r.db" && expect_rc 0 && expect_out "[1/1] single: done before" || return
    # the report's verdicts: the pretraining is one setting, nothing to compare
    db report --db "$T/r.db" --out "$T/rep" --no-plots && expect_rc 0 || return
    grep -A2 '^Study pre:' "$T/rep/REPORT.md" | grep -qF -- "- one condition (all): nothing to compare" ||
        { echo "verdicts: $(grep -A2 '^Study pre:' "$T/rep/REPORT.md")"; return 1; }
    printf 'study = x\nepochs = 1\nrequires = nowhere.txt\n' >"$T/bad.txt"
    db study "$T/bad.txt" --db "$T/r.db" && expect_rc 1 && expect_err "requires $T/nowhere.txt" || return
    printf 'study = a\nrequires = b.txt\n' >"$T/a.txt" && printf 'study = b\nrequires = a.txt\n' >"$T/b.txt"
    db study "$T/a.txt" --dry-run --db "$T/r.db" && expect_rc 2 && expect_err "a cycle?" || return
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
    # a value that means nothing or was not measured is "-", never a printed NaN
    ! grep -qiw 'nan' "$md" || { echo "NaN printed: $(grep -m1 -iw nan "$md")"; return 1; }
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
