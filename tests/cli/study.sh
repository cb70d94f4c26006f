# Command-line tests (tests/cli.sh runs them): studies, regressions, merges, slurm and the report
# (recipes: recipes.sh).
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
    db study "$T/two.txt" --in-jobs 0123456789abcdef --db "$T/two.db" && expect_rc 2 && expect_err "goes with --cell N" || return
    # a cell --jobs starts after the recipe file was edited is refused, not run with the new text
    db study "$T/two.txt" --cell 0 --in-jobs 0123456789abcdef --db "$T/two.db" && expect_rc 2 &&
        expect_err "was edited after the study started" || return
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
        # the refused attempt left no record beside the fresh run's
        [ "$(sqlite3 "$T/s$n.db" "SELECT group_concat(status) FROM runs")" = done ] ||
            { echo "$kind: runs $(sqlite3 "$T/s$n.db" "SELECT id, status, exit_reason FROM runs")"; return 1; }
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

t_regress() {
    # an unchanged rerun passes; a planted change of a final metric, or a planted slowdown, fails
    need_fmnist || return
    local args=(train --train-limit 256 --test-limit 128 --batch 64 --epochs 1 --seed 5 --quiet)
    db "${args[@]}" --db "$T/base.db" && expect_rc 0 || return
    db "${args[@]}" --db "$T/new.db" && expect_rc 0 || return
    db regress --baseline "$T/base.db" --db "$T/new.db" --max-slowdown 100 --junit "$T/ok.xml" && expect_rc 0 &&
        expect_out "0 failed, 1 skipped (not compared)" || return
    grep -q 'failures="0" skipped="1"' "$T/ok.xml" || { echo "JUnit: $(head -c 200 "$T/ok.xml")"; return 1; }
    cp "$T/new.db" "$T/planted.db"
    sqlite3 "$T/planted.db" "UPDATE metrics SET value = value + 1e-9 WHERE split = 'test' AND name = 'loss'" || return
    db regress --baseline "$T/base.db" --db "$T/planted.db" --max-slowdown 100 --junit "$T/bad.xml" && expect_rc 1 &&
        expect_out "FAIL" && expect_out "test loss" || return
    python3 -c 'import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); assert r.get("failures")=="1" and len(r.findall("testcase/failure"))==1, E.tostring(r)' "$T/bad.xml" ||
        { echo "JUnit after a planted change: $(head -c 300 "$T/bad.xml")"; return 1; }
    # a metric the baseline's version did not record (as test/IoU/K before per-class IoU): skipped, not failed
    cp "$T/base.db" "$T/older.db"
    sqlite3 "$T/older.db" "DELETE FROM metrics WHERE split = 'test' AND name = 'top5'" || return
    db regress --baseline "$T/older.db" --db "$T/new.db" --max-slowdown 100 --junit "$T/skip.xml" && expect_rc 0 &&
        expect_out "0 failed, 2 skipped (not compared)" && expect_out "the baseline recorded no such metric" || return
    # the skips in JUnit (that one and the underpowered statistical check): cases with
    # <skipped message=...>, counted in tests and skipped
    python3 -c 'import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); s=[x.get("message") for x in r.findall("testcase/skipped")]; assert r.get("skipped")=="2" and len(s)==2 and any("no such metric" in m for m in s) and any("underpowered" in m for m in s) and int(r.get("tests"))==len(r.findall("testcase")), E.tostring(r)' "$T/skip.xml" ||
        { echo "JUnit with a skipped check: $(head -c 400 "$T/skip.xml")"; return 1; }
    sqlite3 "$T/new.db" "UPDATE metrics SET value = value / 10 WHERE name = 'images_per_s'" || return
    db regress --baseline "$T/base.db" --db "$T/new.db" && expect_rc 1 && expect_out "throughput" &&
        expect_out "images/s of epoch 1 only (its warm-up included)" || return
    # several epochs: throughput compared over the epochs after the first, whose warm-up (here a
    # planted tenfold slower first epoch) does not count
    local three=(train --train-limit 256 --test-limit 128 --batch 64 --epochs 3 --seed 5 --quiet)
    db "${three[@]}" --db "$T/base3.db" && expect_rc 0 && db "${three[@]}" --db "$T/new3.db" && expect_rc 0 || return
    sqlite3 "$T/base3.db" "UPDATE metrics SET value = 400 WHERE name = 'images_per_s'" &&
        sqlite3 "$T/new3.db" "UPDATE metrics SET value = CASE epoch WHEN 1 THEN 40 ELSE 400 END WHERE name = 'images_per_s'" || return
    db regress --baseline "$T/base3.db" --db "$T/new3.db" && expect_rc 0 &&
        expect_out "400.0 img/s, baseline 400.0 (x1.000; fails below x0.909): the mean training images/s of epochs 2-3 (epoch 1's warm-up left out)" || return
    sqlite3 "$T/new3.db" "UPDATE metrics SET value = 300 WHERE name = 'images_per_s' AND epoch = 3" || return
    db regress --baseline "$T/base3.db" --db "$T/new3.db" && expect_rc 1 && expect_out "FAIL run 1 vs baseline run 1: training throughput: 350.0 img/s" || return
    regress_completion || return
    db regress --baseline "$T/nothing.db" --db "$T/new.db" && expect_rc 1 && expect_err "nothing.db" || return
    db regress --db "$T/new.db" && expect_rc 2 || return
    # a named baseline: a copy of the database, found by its tag beside the compared database
    db tag nightly-1 --db "$T/base.db" && expect_rc 0 && expect_out "baselines/nightly-1.db" || return
    ! compgen -G "$T/baselines/nightly-1.db.tmp-*" >/dev/null || { echo "the tag's temporary file was left"; return 1; }
    db regress --baseline nightly-1 --db "$T/new.db" --max-slowdown 100 && expect_rc 0 && expect_out "0 failed" || return
    db tag nightly-1 --db "$T/base.db" && expect_rc 2 && expect_err "exists already" || return
    db tag ../x --db "$T/base.db" && expect_rc 2 && expect_err "letters, digits" || return
    db tag accepted.db --db "$T/base.db" && expect_rc 2 && expect_err "drop the .db" || return
    db regress --db "$T/new.db" --baseline && expect_rc 2 && expect_err "an option without its value" &&
        expect_err "(--baseline)" || return
    db regress --baseline nightly-2 --db "$T/new.db" && expect_rc 1 && expect_err "no baseline tagged 'nightly-2'"
}

# (t_regress's) runs that did not finish, cells not run, and twins whose bits are not comparable,
# on copies of $T/base.db and $T/new.db (one done run each, twins)
regress_completion() {
    local q
    cp "$T/new.db" "$T/f.db" && sqlite3 "$T/f.db" "UPDATE runs SET status = 'failed', exit_reason = 'planted'" || return
    db regress --baseline "$T/base.db" --db "$T/f.db" --max-slowdown 100 && expect_rc 1 &&
        expect_out "FAIL run 1 (none, seed 5): finished: failed: planted; baseline run 1 done" || return
    cp "$T/base.db" "$T/bd.db" && sqlite3 "$T/bd.db" "UPDATE runs SET status = 'diverged'" &&
        sqlite3 "$T/f.db" "UPDATE runs SET status = 'diverged'" || return
    db regress --baseline "$T/bd.db" --db "$T/f.db" && expect_rc 0 &&
        expect_out "ok   run 1 (none, seed 5): finished: diverged, as baseline run 1 did" || return
    # a study's finished cell with no run here, where the same recipe ran: failed
    q="INSERT INTO studies(name, recipe, created) VALUES ('nightly', 'the recipe', 'now'); UPDATE runs SET study_id = 1, cell = 'seed=5'"
    cp "$T/base.db" "$T/bs.db" && sqlite3 "$T/bs.db" "$q" && cp "$T/new.db" "$T/ns.db" &&
        sqlite3 "$T/ns.db" "$q; UPDATE runs SET fingerprint = 'another'" || return
    db regress --baseline "$T/bs.db" --db "$T/ns.db" && expect_rc 1 &&
        expect_out "FAIL baseline run 1 (none, seed 5; study nightly, cell seed=5): run here: no run of its settings here" || return
    sqlite3 "$T/ns.db" "UPDATE studies SET recipe = 'another recipe'" || return
    db regress --baseline "$T/bs.db" --db "$T/ns.db" && expect_rc 1 && ! grep -q "run here" "$out" &&
        expect_out "regress: 0 checks, 0 failed" || return
    # another thread count; a GPU run without deterministic 1: twins, but their bits not compared
    cp "$T/new.db" "$T/t1.db" && sqlite3 "$T/t1.db" "UPDATE runs SET config = replace(config, 'threads=2', 'threads=1')" ||
        return
    db regress --baseline "$T/base.db" --db "$T/t1.db" && expect_rc 1 &&
        expect_out "trained with 1 threads, the baseline run with 2" &&
        expect_out "another thread count than the baseline's" && expect_out "nothing compared (the skips say why)" || return
    cp "$T/new.db" "$T/g.db" && cp "$T/base.db" "$T/gb.db" || return
    for q in "$T/g.db" "$T/gb.db"; do
        sqlite3 "$q" "UPDATE runs SET config = replace(config, 'device=cpu', 'device=cuda');
                      INSERT INTO provenance(run_id, key, value) VALUES (1, 'gpu', 'NVIDIA H100, 79.1 GiB, 132 SMs')" || return
    done
    db regress --baseline "$T/gb.db" --db "$T/g.db" --max-slowdown 100 && expect_rc 0 &&
        expect_out "a GPU run without deterministic 1" && expect_out "ok   run 1 vs baseline run 1: training throughput" ||
        return
    sqlite3 "$T/gb.db" "UPDATE provenance SET value = 'NVIDIA H200, 139.8 GiB, 132 SMs' WHERE key = 'gpu'" || return
    db regress --baseline "$T/gb.db" --db "$T/g.db" --max-slowdown 100 && expect_rc 1 &&
        expect_out "another GPU than the baseline's" || return
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
    db merge "$T/a.db" "$T/b.db" --db "$T/m.db" && expect_rc 0 &&
        expect_out "a.db: 0 new runs, 2 already here (nothing changed)" || return
    got=$(sqlite3 "$T/m.db" "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM metrics)")
    [ "$got" = "3 $want" ] || { echo "after merging twice: '$got'"; return 1; }
    # a shard run that went further (one more metric) is counted as brought up to date, the other not
    sqlite3 "$T/a.db" "INSERT INTO metrics SELECT run_id, epoch + 1, step, split, name, value FROM metrics WHERE run_id = 1 AND name = 'loss' LIMIT 1" || return
    db merge "$T/a.db" --db "$T/m.db" && expect_rc 0 && expect_out "a.db: 0 new runs, 2 already here (1 brought up to date)" || return
    db merge "$T/nothing.db" --db "$T/m.db" && expect_rc 1 && expect_err "nothing.db" || return
    # a finished record here is never taken back to a shard's older state of it (a merge again
    # after the run was resumed and finished here)
    sqlite3 "$T/a.db" "UPDATE runs SET status = 'interrupted', heartbeat = '2000-01-01T00:00:00Z' WHERE id = 2" || return
    db merge "$T/a.db" --db "$T/m.db" && expect_rc 0 || return
    [ "$(sqlite3 "$T/m.db" "SELECT group_concat(status, ' ') FROM runs")" = "done done done" ] ||
        { echo "a done record taken back by a merge: $(sqlite3 "$T/m.db" "SELECT id, status FROM runs")"; return 1; }
    # nor its values: a shard's other value of an epoch both have stays out of a finished record
    sqlite3 "$T/a.db" "UPDATE metrics SET value = -1 WHERE run_id = 2 AND split = 'test' AND name = 'loss'" || return
    db merge "$T/a.db" --db "$T/m.db" && expect_rc 0 || return
    [ "$(sqlite3 "$T/m.db" "SELECT count(*) FROM metrics WHERE value = -1")" = 0 ] ||
        { echo "a finished record's metric replaced by a shard's"; return 1; }
    # a run copied here while running whose task was then killed (its shard marked interrupted,
    # the heartbeat unchanged): the next merge brings the end
    local u hb
    u=$(sqlite3 "$T/a.db" "SELECT uuid FROM runs WHERE id = 1") && hb=$(sqlite3 "$T/a.db" "SELECT heartbeat FROM runs WHERE id = 1") &&
        sqlite3 "$T/m.db" "UPDATE runs SET status = 'running', host = 'node7' WHERE uuid = '$u'" &&
        sqlite3 "$T/a.db" "UPDATE runs SET status = 'interrupted' WHERE id = 1" || return
    db merge "$T/a.db" --db "$T/m.db" && expect_rc 0 && expect_out "1 brought up to date" &&
        [ "$(sqlite3 "$T/m.db" "SELECT status || ' ' || heartbeat FROM runs WHERE uuid = '$u'")" = "interrupted $hb" ] ||
        { echo "the end of a run copied while running: $(sqlite3 "$T/m.db" "SELECT status, heartbeat FROM runs WHERE uuid = '$u'")"; return 1; }
    # a shard whose study has another recipe text (the recipe edited) is a new version of it here
    cp "$T/b.db" "$T/c.db" &&
        sqlite3 "$T/c.db" "UPDATE studies SET recipe = recipe || '# edited' || char(10); UPDATE runs SET uuid = 'c' || uuid" ||
        return
    db merge "$T/c.db" --db "$T/m.db" && expect_rc 0 && expect_out "c.db: 1 new runs" || return
    got=$(sqlite3 "$T/m.db" "SELECT group_concat(s.name || ':' || (SELECT count(*) FROM runs r WHERE r.study_id = s.id), ' ') FROM studies s")
    [ "$got" = "sharded:1 sharded#2:1" ] || { echo "studies after merging an edited recipe's shard: '$got'"; return 1; }
    db merge "$T/c.db" --db "$T/m.db" && expect_rc 0 && expect_out "c.db: 0 new runs" &&
        [ "$(sqlite3 "$T/m.db" "SELECT count(*) FROM studies")" = 2 ] || { echo "merged again: $(sqlite3 "$T/m.db" "SELECT name FROM studies")"; return 1; }
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
        grep -qxF "#SBATCH --output=$T/shards/slurm-%A_%a.out" "$T/job.sbatch" && ! grep -q '^#SBATCH --ntasks' "$T/job.sbatch" &&
        bash -n "$T/job.sbatch" || { echo "script: $(cat "$T/job.sbatch")"; return 1; }
    # one GPU a task: Slurm takes --gpus-per-task only beside a task count; relative shards: the
    # logs by their absolute path (Slurm opens them before the script's cd); the printed commands
    # quote what a shell would split
    mkdir -p "$T/a b" && db_from "$T/a b" slurm "$T/r.txt" --gpus-per-task 1 --out "$T/a b/g.sbatch" --shards "$T/sh2" --db "$T/a b/m.db" &&
        expect_rc 0 && expect_out "submit: sbatch '$T/a b/g.sbatch'" && expect_out "merge $T/sh2/shard-*.db --db '$T/a b/m.db'" || return
    grep -qx '#SBATCH --ntasks=1' "$T/a b/g.sbatch" && grep -qx '#SBATCH --gpus-per-task=1' "$T/a b/g.sbatch" ||
        { echo "script: $(cat "$T/a b/g.sbatch")"; return 1; }
    db_from "$T/a b" slurm "$T/r.txt" --out g2.sbatch && expect_rc 2 && expect_err "give --shards an absolute path" || return
    db_from "$T" slurm r.txt --shards rel/sh --out rel.sbatch && expect_rc 0 &&
        grep -qxF "#SBATCH --output=$(cd "$T" && pwd -P)/rel/sh/slurm-%A_%a.out" "$T/rel.sbatch" ||
        { echo "relative shards: $(grep output "$T/rel.sbatch")"; return 1; }
    # Slurm's warning before the time limit reaches the script: it passes it on, the task
    # checkpoints and exits 4 (Slurm would requeue it); the next start finishes the cell
    local i
    SLURM_ARRAY_TASK_ID=0 SIGNAL_DB=$T/shards/shard-0.db signalled USR1 bash "$T/job.sbatch"
    [ "$rc" = 4 ] && grep -q "stopped by signal 10" "$err" || { echo "task 0 after USR1: exit $rc, $(snippet "$err")"; return 1; }
    for i in 0 1; do SLURM_ARRAY_TASK_ID=$i bash "$T/job.sbatch" >"$T/task$i.out" 2>&1 || { echo "task $i: $(tail -3 "$T/task$i.out")"; return 1; }; done
    db merge "$T"/shards/shard-*.db --db "$T/m.db" && expect_rc 0 || return
    local got
    got=$(sqlite3 "$T/m.db" "SELECT count(*) || ' ' || count(DISTINCT r.seed) FROM runs r JOIN studies s ON s.id = r.study_id WHERE s.name = 'arrayed' AND r.status = 'done'")
    [ "$got" = "2 2" ] || { echo "merged study runs (done, seeds): '$got'"; return 1; }
    db study "$T/r.txt" --cell 2 --db "$T/m.db" && expect_rc 2 && expect_err "cells 0 to 1" || return
    # what goes into the script as it is: no shell code, named; a requirement cycle refused as study refuses it
    db slurm "$T/r.txt" --shards "$T/sh\$(touch $T/INJ)" --out "$T/j2.sbatch" && expect_rc 2 &&
        expect_err "the character '\$' cannot go into the job script" && [ ! -e "$T/j2.sbatch" ] || return
    db slurm "$T/r.txt" --partition 'p $(id)' --out "$T/j2.sbatch" && expect_rc 2 && expect_err "--partition" || return
    printf 'study = loop\nrequires = loop.txt\n' >"$T/loop.txt"
    db slurm "$T/loop.txt" --out "$T/j3.sbatch" && expect_rc 2 && expect_err "a cycle" && [ ! -e "$T/j3.sbatch" ]
}

t_slurm_requeue_takes_over() {
    # a task killed outright on one node and requeued onto another: its record still says running
    # there, with a fresh heartbeat; the same Slurm job at a later restart count takes it over (the
    # scheduler ended the earlier start), where another job, or the same start, is refused
    need_fmnist || return
    local a=(train --train-limit 1024 --test-limit 128 --batch 64 --epochs 3 --seed 4 --checkpoint-dir "$T/ck" --db "$T/q.db" --quiet)
    SLURM_JOB_ID=812 SLURM_RESTART_COUNT=0 signalled USR1 "$DB" "${a[@]}"
    [ "$rc" = 4 ] || { echo "after SIGUSR1: exit $rc, $(snippet "$err")"; return 1; }
    [ "$(sqlite3 "$T/q.db" "SELECT value FROM provenance WHERE key = 'slurm_attempt'")" = "slurm job 812, restart 0" ] ||
        { echo "attempt: $(sqlite3 "$T/q.db" "SELECT key, value FROM provenance WHERE key LIKE 'slurm%'")"; return 1; }
    sqlite3 "$T/q.db" "UPDATE runs SET status = 'running', host = 'node-a', pid = 4242,
                       heartbeat = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')" || return
    SLURM_JOB_ID=812 SLURM_RESTART_COUNT=0 db resume 1 --db "$T/q.db" && expect_rc 1 && expect_err "is running now: pid 4242" ||
        return
    SLURM_JOB_ID=813 SLURM_RESTART_COUNT=1 db resume 1 --db "$T/q.db" && expect_rc 1 && expect_err "is running now" || return
    SLURM_JOB_ID=812 SLURM_RESTART_COUNT=1 db resume 1 --db "$T/q.db" --quiet && expect_rc 0 || return
    [ "$(sqlite3 "$T/q.db" "SELECT count(*) || status || epochs_done || host FROM runs")" = "1done3$(hostname)" ] &&
        [ "$(sqlite3 "$T/q.db" "SELECT value FROM provenance WHERE key = 'slurm_attempt'")" = "slurm job 812, restart 1" ] ||
        { echo "runs: $(sqlite3 "$T/q.db" "SELECT id, status, epochs_done, host FROM runs")"; return 1; }
}

t_slurm_elsewhere() {
    # slurm run from a folder without ./dropbench: the job script (which cds to that folder) and the
    # commands it prints name this dropbench by its absolute path; a task of it then runs from anywhere
    local away=$T/away self here line exe
    mkdir -p "$away"
    self=$(realpath "$DB")
    here=$(cd "$away" && pwd -P)
    printf 'study = away\ndataset = synthetic\nsynthetic = 64,32,1,8,8,2\nmodel = resnet8\nbatch = 32\nepochs = 1\nvary.seed = 1, 2\n' \
        >"$away/r.txt"
    db_from "$away" slurm r.txt --db s.db && expect_rc 0 &&
        expect_out "then:   $self merge runs/away/shards/shard-*.db --db s.db" || return
    line=$(grep -F " study '$here/r.txt' --cell " "$away/runs/away/study.sbatch")
    exe=${line%%\' study *}
    exe=${exe#\'}
    [ "$exe" = "$self" ] && [ -x "$exe" ] && grep -qxF "cd '$here'" "$away/runs/away/study.sbatch" ||
        { echo "the script runs '$exe' (want $self): $(snippet "$away/runs/away/study.sbatch")"; return 1; }
    [ ! -e "$away/s.db" ] || { echo "slurm made the database"; return 1; }
    (cd / && SLURM_ARRAY_TASK_ID=1 timeout "$LIMIT" bash "$away/runs/away/study.sbatch") >"$out" 2>"$err" ||
        { echo "task 1 from /: $(snippet "$err")"; return 1; }
    expect_out "study: 2 cells, 1 ran now" && [ -s "$away/runs/away/shards/shard-1.db" ] ||
        { echo "no shard written: $(ls "$away/runs/away/shards")"; return 1; }
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
    # the commands to reproduce it run this dropbench by its absolute path, from any folder
    # and the database by its absolute path (the study's recipe is named absolutely: no cd first)
    grep -qxF "$(realpath "$DB") study $T/r.txt --db $(realpath "$T/f.db")" "$md" &&
        grep -qF "row=k3,seed=3: missing (never run); $(realpath "$DB") study $T/r.txt --cell 8 --db $(realpath "$T/f.db")" "$md" &&
        ! grep -q "^cd " "$md" && grep -qF "| working_folder | $(pwd -P) |" "$md" ||
        { echo "REPORT.md's commands: $(grep -F " study " "$md" | head -3)"; return 1; }
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
    # --no-plots: the figures not drawn because the user said so, not for want of gnuplot
    db report --db "$T/two.db" --out "$T/two" --no-plots && expect_rc 0 &&
        expect_err "figure(s) not rendered (plots turned off by --no-plots)" || return
    ! grep -q "gnuplot failed" "$err" && grep -qF "not rendered (plots turned off by --no-plots)" "$T/two/REPORT.md" ||
        { echo "--no-plots: $(snippet "$err")"; return 1; }
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
    [ "$rc" = 0 ] && grep -qF "figure(s) not rendered (gnuplot failed or is not installed)" "$err" && grep -q "not rendered" "$T/nognuplot/REPORT.md" &&
        grep -qF "| row=k3 | 3 | 1 | 0 | 0 | 0 | 0 | 2 |" "$T/nognuplot/REPORT.md" &&
        [ -s "$T/nognuplot/plots/fixture-top1.gp" ] || { echo "without gnuplot: exit $rc, $(snippet "$err")"; return 1; }
    # nothing to report on: a clear message, and no database made up for it
    db report --db "$T/none.db" --out "$T/o2" && expect_rc 1 && expect_err "no results database" || return
    [ ! -e "$T/none.db" ] || { echo "report created a database"; return 1; }
    : >"$T/empty.db" # a database without runs (an empty file is an empty SQLite database)
    db report --db "$T/empty.db" --out "$T/o3" && expect_rc 2 && expect_err "no studies yet" || return
    # a study name that matches nothing: the message lists the database's studies (no command does),
    # the first ones where there are many
    db report --db "$T/f.db" --study nosuch --out "$T/o4" && expect_rc 2 && expect_err "no study 'nosuch'; its studies: fixture" || return
    cp "$T/f.db" "$T/many.db" && sqlite3 "$T/many.db" "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 40)
        INSERT INTO studies(name, created) SELECT printf('study-with-a-long-name-%02d', i), '2026-01-01' FROM k" || return
    db report --db "$T/many.db" --study nosuch --out "$T/o5" && expect_rc 2 &&
        expect_err "its studies: fixture, study-with-a-long-name-01, " && expect_err " more" || return
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

t_report_drop_fractions() {
    # DropBlock in groups 2 and 3 (14x14 and 7x7 planes, expected 0.025 and 0.095 at keep_prob 0.9):
    # the table's expected drop is the whole network's, weighted by the sites' units as the
    # realised one is (the sites' plain mean, 0.06, was 25% off); a database filled from the
    # checkpoint (epochs replayed) records the same expectation
    need_fmnist || return
    printf 'study = groups\ntrain_limit = 256\ntest_limit = 128\nbatch = 64\nepochs = 1\nregularizer = dropblock\nblock_size = 3\nreg_groups = 2,3\nkeep_prob_schedule = fixed\ncheckpoint_dir = %s\n' \
        "$T/runs" >"$T/g.txt"
    db study "$T/g.txt" --db "$T/g.db" --quiet && expect_rc 0 || return
    db report --db "$T/g.db" --out "$T/rep" --no-plots && expect_rc 0 || return
    local row
    row=$(grep -F "| all | dropblock | 0.9 | 3 |" "$T/rep/REPORT.md") || { echo "no drop-fraction row in REPORT.md"; return 1; }
    awk -F'|' '{ e = $6 + 0; r = $7 + 0; exit !(r > 0.03 && e > 0 && (e - r) / r < 0.05 && (r - e) / r < 0.05) }' <<<"$row" ||
        { echo "expected and realised drop disagree: $row"; return 1; }
    db study "$T/g.txt" --db "$T/again.db" --quiet && expect_rc 0 && expect_err "come from the checkpoint" || return
    local q="SELECT value FROM metrics WHERE split = 'train' AND name = 'expected_fraction'"
    [ -n "$(sqlite3 "$T/g.db" "$q")" ] && [ "$(sqlite3 "$T/g.db" "$q")" = "$(sqlite3 "$T/again.db" "$q")" ] ||
        { echo "whole-network expected_fraction: '$(sqlite3 "$T/g.db" "$q")', replayed '$(sqlite3 "$T/again.db" "$q")'"; return 1; }
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
