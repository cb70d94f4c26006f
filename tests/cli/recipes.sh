# Command-line tests (tests/cli.sh runs them): recipes -- their errors, the paper's recipes, rows and
# includes, the studies a recipe requires.
# shellcheck shell=bash

t_study_requires() {
    # requires = FILE: the study whose run another's init_from starts from runs first (its cells
    # done before are skipped); a cell picked alone before it exists is refused, naming the study
    # to run, with nothing recorded; a train run from a missing checkpoint alike
    need_fmnist || return
    requires_fixture pre main "row.scratch.seed = 1
row.tuned.init_from = $T/ck/pre/single"
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
    # the pretraining run again with other settings (into the same folder): the tuned cell is
    # still done before (its settings name the folder, not the weights), said with its note
    printf 'lr = 0.2\n' >>"$T/pre.txt"
    db study "$T/main.txt" --db "$T/r.db" && expect_rc 0 && expect_out "0 ran now, 2 done before" &&
        expect_err "row=tuned: run 3 started from other weights than $T/ck/pre/single/checkpoint.dbck holds now" || return
    # broken starting weights (a truncated checkpoint): the run fails, recorded with the reason, not
    # taken for a broken checkpoint of its own
    cp -r "$T/ck/pre/single" "$T/badpre" && truncate -s 300 "$T/badpre/checkpoint.dbck" || return
    db train --model resnet20 --train-limit 64 --test-limit 64 --batch 32 --epochs 1 --init-from "$T/badpre" \
        --checkpoint-dir "$T/ckb" --db "$T/b.db" && expect_rc 1 && expect_err "the starting weights cannot be read" &&
        [ "$(sqlite3 "$T/b.db" "SELECT status FROM runs")" = failed ] ||
        { echo "runs: $(sqlite3 "$T/b.db" "SELECT status, exit_reason FROM runs" 2>&1)"; return 1; }
    # a run resuming its own checkpoint does not read its starting weights again: their folder
    # may be gone by then
    cp -r "$T/ck/pre/single" "$T/src" || return
    local s=(train --model resnet20 --train-limit 1024 --test-limit 64 --batch 32 --epochs 2 --init-from "$T/src"
        --checkpoint-dir "$T/cks" --db "$T/s.db" --quiet)
    signalled USR1 "$DB" "${s[@]}"
    [ "$rc" = 4 ] && rm -rf "$T/src" || { echo "not stopped: exit $rc $(snippet "$err")"; return 1; }
    db "${s[@]}" --resume && expect_rc 0 && [ "$(sqlite3 "$T/s.db" "SELECT count(*) || status FROM runs")" = 1done ] ||
        { echo "resumed without its starting weights' folder: $(sqlite3 "$T/s.db" "SELECT status, exit_reason FROM runs")"; return 1; }
    # the report's verdicts: the pretraining is one setting, nothing to compare
    db report --db "$T/r.db" --out "$T/rep" --no-plots && expect_rc 0 || return
    grep -A2 '^Study pre:' "$T/rep/REPORT.md" | grep -qF -- "nothing to compare: the starting point of study main" &&
        grep -A2 '^Study pre:' "$T/rep/REPORT.md" | grep -qE -- "^- all: final test top-1 [0-9.]+, 1 run done" ||
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
    # a key set twice in one file (the last would win unseen): refused naming both lines; an
    # included file's key set again by the including file is an override, as before
    printf 'study = x\nepochs = 1\nlr = 0.1\nepochs = 2\n' >"$T/d.txt"
    db study "$T/d.txt" --dry-run --db "$T/s.db" && expect_rc 2 && expect_err "d.txt:4: epochs is set again (line 2" || return
    printf 'epochs = 1\n' >"$T/base.inc" && printf 'study = x\ninclude = base.inc\nepochs = 2\n' >"$T/o.txt"
    db study "$T/o.txt" --dry-run --show-config --db "$T/s.db" && expect_rc 0 && expect_out "epochs=2" || return
    # one results file for every cell: each would write over the other's
    printf 'study = x\nmetrics = %s/m.csv\nvary.seed = 1, 2\n' "$T" >"$T/m.txt"
    db study "$T/m.txt" --dry-run --db "$T/s.db" && expect_rc 2 && expect_err "cells would write the same results file" || return
    printf 'study = x\nrow.a.metrics = %s/a.csv\nrow.b.metrics = %s/b.csv\n' "$T" "$T" >"$T/m2.txt"
    db study "$T/m2.txt" --dry-run --db "$T/s.db" && expect_rc 0 || return
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
        *retinanet-coco-table3-pretrained*) # the paper's 28 epochs from the ImageNet run it requires
            db study "$f" --dry-run --show-config --cell 0 --db "$T/p.db" && expect_rc 0 && expect_out "epochs=28" &&
                expect_out "milestones=16,22" && expect_out "init_from=runs/resnet50-imagenet-pretrain/single" &&
                expect_out "scale_max=1.2" || return ;;
        *retinanet-coco*) # the paper's schedule and jitter; the data set is read only when a cell runs
            db study "$f" --dry-run --show-config --cell 0 --db "$T/p.db" && expect_rc 0 && expect_out "image_size=640" &&
                expect_out "milestones=120,140" && expect_out "epochs=150" && expect_out "scale_min=0.8" &&
                expect_out "det_negative_iou=0.5" || return ;;
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
    XDG_CACHE_HOME=$T/noimagenet db study bench/recipes/resnet50-imagenet-autoaugment.txt --db "$T/p.db" &&
        expect_rc 1 && expect_err "no imagenet there" && expect_out "3 failed" || return
    grep -q "^assumption = AutoAugment is the AutoAugment paper's ImageNet policy" \
        bench/recipes/resnet50-imagenet-autoaugment.txt || { echo "AutoAugment's assumptions missing"; return 1; }
    [ ! -e "$T/p.db" ] || [ "$(sqlite3 "$T/p.db" 'SELECT count(*) FROM runs')" = 0 ] ||
        { echo "a refused study recorded runs"; return 1; }
    XDG_CACHE_HOME=$T/novoc db train --model fcn-resnet18-fpn --dataset voc2012 --augment-pad 0 --epochs 1 \
        --db "$T/p.db" && expect_rc 1 && expect_err "no voc2012 there; dropbench data fetch voc2012" || return
    [ ! -e "$T/p.db" ] || [ "$(sqlite3 "$T/p.db" 'SELECT count(*) FROM runs')" = 0 ] ||
        { echo "a run without its data was recorded"; return 1; }
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
    # a missing include fails as a missing recipe does (exit 1: a file not there), naming both
    printf 'study = x\n\ninclude = nowhere.inc\n' >"$T/rc/e3.txt"
    db study "$T/rc/e3.txt" --dry-run --db "$T/rc.db" && expect_rc 1 && expect_err "e3.txt:3" &&
        expect_err "nowhere.inc: cannot read the recipe" || return
    db study "$T/rc/nowhere.txt" --dry-run --db "$T/rc.db" && expect_rc 1 && expect_err "cannot read the recipe" || return
    printf 'epochs = 1\nepochs = zero\n' >"$T/rc/bad.inc"
    refused e4.txt 'study = x\ninclude = bad.inc\n' "bad.inc:2" "e4.txt:2" || return
    refused e5.txt 'study = x\ninclude = e5.txt\n' "nested more than 4" || return
    refused e6.txt 'study = x\nrow.a.seed = 1\nvary.seed = 1, 2\n' "also varies" || return
    refused e7.txt 'study = x\nrow.a.epochs = 1\nrow.a.epochs = 2\n' "e7.txt:3" "twice" || return
    # one key, two spellings; a value listed twice; a value too long to keep whole
    refused e8.txt 'study = x\nvary.keep_prob = 0.7, 0.9\nvary.keep-prob = 0.8\n' "e8.txt:3" "varied twice" || return
    refused e9.txt 'study = x\nrow.a.keep-prob = 0.5\nvary.keep_prob = 0.9\n' "also varies" || return
    refused e10.txt 'study = x\nvary.seed = 1, 2, 1\n' "'1' is listed twice" || return
    refused e12.txt 'study = x\nvary.keep_prob = 0.9, 0.8, .9\n' "'0.9' and '.9' are the same value" || return
    refused e13.txt 'study = x\nkeep_prob = 0.9\nkeep-prob = 0.5\n' "e13.txt:3: keep_prob is set again (line 2" || return
    refused e14.txt 'study = x\ndet_scale_min = 0.5\nscale_min = 0.8\n' "e14.txt:3: scale_min is set again (line 2" || return
    refused e15.txt 'study = x\nvary.det_scale_min = 0.5\nvary.scale_min = 0.8\n' "e15.txt:3" "varied twice" || return
    # a key under its earlier name keeps its cells' labels (and so their folders) as before
    printf 'study = x\nmodel = fcn-resnet18-fpn\ndataset = fmnist-segment\naugment_pad = 0\nvary.det_scale_min = 0.5, 0.6\n' >"$T/rc/old.txt"
    db study "$T/rc/old.txt" --dry-run --db "$T/rc.db" && expect_rc 0 && expect_out "[1/2] det_scale_min=0.5: would run" || return
    local long
    long=$(printf 'x%.0s' $(seq 70))
    refused e11.txt "study = x\nvary.metrics = /tmp/$long/a.csv, /tmp/$long/b.csv\n" "longer than"
}

t_report_pools_runs_once() {
    # a recipe's new version (one comment added) is another study whose cells the same runs fill:
    # the research questions pool each pair of runs once, not once per study; and the report's
    # folder is replaced whole
    need_fmnist || return
    local r='study = twice
train_limit = 256
test_limit = 128
batch = 64
epochs = 1
model = resnet8
threads = 1
vary.regularizer = dropout, dropblock
vary.seed = 1, 2'
    printf '%s\ncheckpoint_dir = %s\n' "$r" "$T/runs" >"$T/a.txt"
    db study "$T/a.txt" --db "$T/t.db" --quiet && expect_rc 0 || return
    printf '# the same study, its recipe edited\n%s\ncheckpoint_dir = %s\n' "$r" "$T/runs" >"$T/a.txt"
    db study "$T/a.txt" --db "$T/t.db" --quiet && expect_rc 0 && expect_out "0 ran now, 4 done before" || return
    db report --db "$T/t.db" --out "$T/rep" --no-plots && expect_rc 0 || return
    grep "RQ1: DropBlock beats dropout" "$T/rep/REPORT.md" | grep -q "over 2 seed pairs" ||
        { echo "RQ1: $(grep "RQ1: DropBlock beats dropout" "$T/rep/REPORT.md")"; return 1; }
    # the report folder is replaced whole: killed at the swap's first rename, the previous report is
    # there as it was; the next one puts its own in place; a folder of someone else's is refused
    command -v strace >/dev/null || { echo "strace not installed (scripts/deps installs it)"; return 1; }
    cp "$T/rep/REPORT.md" "$T/before.md" || return
    rc=0
    strace -f -o /dev/null -e trace=rename -e inject=rename:signal=KILL:when=1 \
        "$DB" report --db "$T/t.db" --out "$T/rep" --no-plots >"$out" 2>"$err" || rc=$?
    [ "$rc" = 137 ] && cmp -s "$T/rep/REPORT.md" "$T/before.md" || { echo "after a kill: exit $rc, $(ls "$T")"; return 1; }
    db report --db "$T/t.db" --out "$T/rep" --no-plots && expect_rc 0 && [ -s "$T/rep/index.html" ] &&
        [ ! -e "$T/rep.part" ] && [ ! -e "$T/rep.old" ] || { echo "after the rerun: $(ls "$T")"; return 1; }
    mkdir -p "$T/mine" && echo keep >"$T/mine/notes.txt" || return
    db report --db "$T/t.db" --out "$T/mine" --no-plots && expect_rc 1 && expect_err "was not written by dropbench" &&
        [ -s "$T/mine/notes.txt" ] || return
    # someone's own site of the report's names (index.html, plots/): refused too; a report from
    # before the marker file (only its names, its title in REPORT.md) and an empty folder are taken
    mkdir -p "$T/site/plots" && echo '<html>my site</html>' >"$T/site/index.html" && echo 1 >"$T/site/plots/a.png" || return
    db report --db "$T/t.db" --out "$T/site" --no-plots && expect_rc 1 && expect_err "was not written by dropbench" &&
        [ -s "$T/site/plots/a.png" ] || return
    mkdir -p "$T/legacy/plots" "$T/empty" && cp "$T/rep/REPORT.md" "$T/legacy/" || return
    db report --db "$T/t.db" --out "$T/legacy" --no-plots && expect_rc 0 && [ -f "$T/legacy/.dropbench-report" ] &&
        db report --db "$T/t.db" --out "$T/empty" --no-plots && expect_rc 0 && [ -s "$T/empty/index.html" ]
}

t_autoaugment_row() {
    # a study's AutoAugment row: trained with the policy (the run's configuration says so, and its
    # first epoch's loss differs from the plain row's at the same seed), shown as Table 1's
    # AutoAugment row beside the paper's 77.63 and compared with its own no-regularizer row
    need_fmnist || return
    printf 'study = aa\ntrain_limit = 256\ntest_limit = 128\nbatch = 64\nepochs = 1\nmodel = resnet8\nthreads = 1
row.autoaugment.regularizer = none\nrow.autoaugment.augment = autoaugment\nrow.none.regularizer = none
vary.seed = 1, 2\ncheckpoint_dir = %s\n' "$T/runs" >"$T/aa.txt"
    db study "$T/aa.txt" --db "$T/aa.db" --quiet && expect_rc 0 && expect_out "4 ran now" || return
    [ "$(sqlite3 "$T/aa.db" "SELECT count(*) FROM runs WHERE config LIKE '%augment=autoaugment%'")" = 2 ] ||
        { echo "the AutoAugment row's runs do not record augment=autoaugment"; return 1; }
    local plain aa
    plain=$(sqlite3 "$T/aa.db" "SELECT value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.seed = 1 AND
        m.split = 'train' AND m.name = 'loss' AND r.config NOT LIKE '%augment=autoaugment%'")
    aa=$(sqlite3 "$T/aa.db" "SELECT value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.seed = 1 AND
        m.split = 'train' AND m.name = 'loss' AND r.config LIKE '%augment=autoaugment%'")
    [ -n "$plain" ] && [ -n "$aa" ] && [ "$plain" != "$aa" ] || { echo "training loss plain $plain, AutoAugment $aa"; return 1; }
    db report --db "$T/aa.db" --out "$T/rep" --no-plots && expect_rc 0 || return
    # (listed first, the AutoAugment row is still not the baseline: the plain row is)
    grep "^| AutoAugment |" "$T/rep/REPORT.md" | grep -q "| 77.63 |" &&
        grep "^| row=autoaugment | 2 |" "$T/rep/REPORT.md" | grep -q "(2) |" &&
        grep "^| row=none | 2 |" "$T/rep/REPORT.md" | grep -q "| baseline |" ||
        { echo "no AutoAugment row beside the paper's: $(grep -i autoaugment "$T/rep/REPORT.md" | head -5)"; return 1; }
    # a detector takes no AutoAugment: its boxes would not follow
    db train --model retinanet-resnet18-fpn --dataset fmnist-detect --augment autoaugment --epochs 1 --db "$T/aa.db" &&
        expect_rc 2 && expect_err "crops and flips that move their" || return
}

t_reproduce_script() {
    # make reproduce's script: bad settings refused before anything runs (exit 2, nothing written);
    # a study's end prints the report's verdicts, the answer, before where the report is
    local env=(DROPBENCH_DB="$T/r.db" REPORT_OUT="$T/rep")
    local bad
    for bad in "JOBS=abc" "JOBS=0" "JOBS=257" "FULL=yes" "RECIPE=$T/nowhere.txt" "FULL=1 RECIPE=bench/recipes/fmnist-quick.txt"; do
        rc=0
        env "${env[@]}" $bad scripts/reproduce >"$out" 2>"$err" || rc=$?
        [ "$rc" = 2 ] && grep -q "scripts/reproduce: " "$err" && [ ! -e "$T/r.db" ] && [ ! -e "$T/rep" ] ||
            { echo "$bad: exit $rc, $(cat "$err")"; return 1; }
    done
    need_fmnist || return
    printf 'study = tiny\ntrain_limit = 256\ntest_limit = 128\nbatch = 64\nepochs = 1\nmodel = resnet8\nthreads = 1
vary.regularizer = none, dropblock\nvary.seed = 1, 2\ncheckpoint_dir = %s\n' "$T/runs" >"$T/tiny.txt"
    rc=0
    env "${env[@]}" RECIPE="$T/tiny.txt" scripts/reproduce >"$out" 2>"$err" || rc=$?
    [ "$rc" = 0 ] && grep -q -- "--jobs 1" "$out" && grep -q "^## Verdicts" "$out" && grep -q "^Study tiny: pipeline check" "$out" &&
        tail -1 "$out" | grep -q "the whole report: open $T/rep/index.html" ||
        { echo "exit $rc: $(tail -5 "$out") $(cat "$err")"; return 1; }
}
