# Command-line tests (tests/cli.sh runs them): the nightly regression against a baseline, and the
# cluster's tools: shard databases merged, the Slurm job-array script.
# shellcheck shell=bash

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
    db regress --db "$T/new.db" --baseline && expect_rc 2 && expect_err "regress: --baseline needs a value" || return
    db regress stray --db "$T/new.db" && expect_rc 2 && expect_err "unexpected argument 'stray'" || return
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
    # failed (or interrupted) twice is no configuration's nature: still a failure
    sqlite3 "$T/bd.db" "UPDATE runs SET status = 'failed'" && sqlite3 "$T/f.db" "UPDATE runs SET status = 'failed'" || return
    db regress --baseline "$T/bd.db" --db "$T/f.db" && expect_rc 1 &&
        expect_out "FAIL run 1 (none, seed 5): finished: failed: planted; baseline run 1 failed" || return
    # a resharded baseline run (its settings rewritten to another world size) is no missing cell
    q="INSERT INTO studies(name, recipe, created) VALUES ('nightly', 'the recipe', 'now'); UPDATE runs SET study_id = 1, cell = 'seed=5'"
    cp "$T/base.db" "$T/br.db" && sqlite3 "$T/br.db" "$q; INSERT INTO provenance(run_id, key, value) VALUES (1, 'resharded', '2 -> 1')" &&
        cp "$T/new.db" "$T/nr.db" && sqlite3 "$T/nr.db" "$q; UPDATE runs SET fingerprint = 'another'" || return
    db regress --baseline "$T/br.db" --db "$T/nr.db" && expect_rc 1 && ! grep -q "run here" "$out" || return
    # a study's finished cell with no run here, where the same recipe ran: failed
    q="INSERT INTO studies(name, recipe, created) VALUES ('nightly', 'the recipe', 'now'); UPDATE runs SET study_id = 1, cell = 'seed=5'"
    cp "$T/base.db" "$T/bs.db" && sqlite3 "$T/bs.db" "$q" && cp "$T/new.db" "$T/ns.db" &&
        sqlite3 "$T/ns.db" "$q; UPDATE runs SET fingerprint = 'another'" || return
    db regress --baseline "$T/bs.db" --db "$T/ns.db" && expect_rc 1 &&
        expect_out "FAIL baseline run 1 (none, seed 5; study nightly, cell seed=5): run here: no run of its settings here" || return
    sqlite3 "$T/ns.db" "UPDATE studies SET recipe = 'another recipe'" || return
    db regress --baseline "$T/bs.db" --db "$T/ns.db" && expect_rc 1 && ! grep -q "run here" "$out" &&
        expect_out "regress: 0 checks, 0 failed" || return
    # of two baseline twins the one of the same thread count, though older
    cp "$T/base.db" "$T/bt.db" && sqlite3 "$T/bt.db" "INSERT INTO runs(uuid, config, fingerprint, regularizer, seed, device,
        status, epochs_done) SELECT 'u9', replace(config, 'threads=2', 'threads=8'), fingerprint, regularizer, seed, device,
        'done', epochs_done FROM runs WHERE id = 1" || return
    db regress --baseline "$T/bt.db" --db "$T/new.db" --max-slowdown 100 && expect_rc 0 &&
        expect_out "ok   run 1 (none, seed 5) vs baseline run 1: test top1" && ! grep -q "baseline run with 8" "$out" || return
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
    # a shard's study named as no recipe could (a line break: the report's lines): refused, nothing merged
    cp "$T/b.db" "$T/bad.db" && sqlite3 "$T/bad.db" "UPDATE studies SET name = 'x' || char(10) || 'y'" || return
    got=$(sqlite3 "$T/m.db" "SELECT count(*) FROM runs")
    db merge "$T/bad.db" --db "$T/m.db" && expect_rc 1 && expect_err "has a name no recipe gives" &&
        [ "$(sqlite3 "$T/m.db" "SELECT count(*) FROM runs")" = "$got" ] || return
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
    # a task's CPUs: the most threads of any cell, not the first cell's
    printf 'study = threads
epochs = 1
vary.threads = 1, 3
' >"$T/th.txt"
    db slurm "$T/th.txt" --out "$T/th.sbatch" --shards "$T/sh3" && expect_rc 0 && grep -qx '#SBATCH --cpus-per-task=3' "$T/th.sbatch" ||
        { echo "script: $(grep cpus "$T/th.sbatch")"; return 1; }
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
    local nl=$T/nl$'\n'"touch $T/INJ"$'\n#'
    mkdir -p "$nl" && cp "$T/r.txt" "$nl/" || return
    db slurm "$nl/r.txt" --out "$T/j4.sbatch" && expect_rc 2 && expect_err "a line break" && [ ! -e "$T/j4.sbatch" ] || return
    db slurm "$T/r.txt" --time soon --out "$T/j5.sbatch" && expect_rc 2 && expect_err "--time 'soon'" || return
    printf 'study = loop\nrequires = loop.txt\n' >"$T/loop.txt"
    db slurm "$T/loop.txt" --out "$T/j3.sbatch" && expect_rc 2 && expect_err "a cycle" && [ ! -e "$T/j3.sbatch" ]
}

t_slurm_requeue_takes_over() {
    # a task killed outright on one node and requeued onto another: its record still says running
    # there, with a fresh heartbeat; the same Slurm job at a later restart count takes it over (the
    # scheduler ended the earlier start), where another job, or the same start, is refused
    need_fmnist || return
    local a=(train --train-limit 1024 --test-limit 128 --batch 64 --epochs 8 --seed 4 --checkpoint-dir "$T/ck" --db "$T/q.db" --quiet)
    SLURM_JOB_ID=812 SLURM_RESTART_COUNT=0 signalled USR1 "$DB" "${a[@]}"
    [ "$rc" = 4 ] || { echo "after SIGUSR1: exit $rc, $(snippet "$err")"; return 1; }
    [ "$(sqlite3 "$T/q.db" "SELECT value FROM provenance WHERE key = 'slurm_attempt'")" = "slurm job 812, restart 0" ] ||
        { echo "attempt: $(sqlite3 "$T/q.db" "SELECT key, value FROM provenance WHERE key LIKE 'slurm%'")"; return 1; }
    sqlite3 "$T/q.db" "UPDATE runs SET status = 'running', host = 'node-a', pid = 4242,
                       heartbeat = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')" || return
    SLURM_JOB_ID=812 SLURM_RESTART_COUNT=0 db resume 1 --db "$T/q.db" && expect_rc 1 && expect_err "is running now: pid 4242" ||
        return
    SLURM_JOB_ID=813 SLURM_RESTART_COUNT=1 db resume 1 --db "$T/q.db" && expect_rc 1 && expect_err "is running now" || return
    local attempt="SELECT ifnull((SELECT value FROM provenance WHERE key = 'slurm_attempt'), 'none')"
    # (taken over from a record already running: stopped once this host holds it)
    SLURM_JOB_ID=812 SLURM_RESTART_COUNT=1 "$DB" resume 1 --db "$T/q.db" --quiet >"$out" 2>"$err" &
    local taker=$!
    for _ in $(seq 1500); do
        [ "$(sqlite3 "$T/q.db" "SELECT host FROM runs" 2>/dev/null)" = "$(hostname)" ] && break
        sleep 0.02
    done
    kill -USR1 "$taker"
    rc=0; wait "$taker" || rc=$?
    [ "$rc" = 4 ] && [ "$(sqlite3 "$T/q.db" "$attempt")" = "slurm job 812, restart 1" ] ||
        { echo "the take-over: exit $rc, $(snippet "$err"), attempt $(sqlite3 "$T/q.db" "$attempt")"; return 1; }
    # taken up outside Slurm: the job's record of it goes, so no later restart of that job takes
    # the run from a live process
    signalled USR1 "$DB" resume 1 --db "$T/q.db" --quiet
    [ "$rc" = 4 ] && [ "$(sqlite3 "$T/q.db" "$attempt")" = none ] ||
        { echo "outside Slurm: exit $rc, attempt $(sqlite3 "$T/q.db" "$attempt")"; return 1; }
    sqlite3 "$T/q.db" "UPDATE runs SET status = 'running', host = 'node-a', pid = 4242,
                       heartbeat = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')" || return
    SLURM_JOB_ID=812 SLURM_RESTART_COUNT=2 db resume 1 --db "$T/q.db" && expect_rc 1 && expect_err "is running now" || return
    sqlite3 "$T/q.db" "UPDATE runs SET status = 'interrupted'" || return
    SLURM_JOB_ID=812 SLURM_RESTART_COUNT=2 db resume 1 --db "$T/q.db" --quiet && expect_rc 0 || return
    [ "$(sqlite3 "$T/q.db" "SELECT count(*) || status || epochs_done || host FROM runs")" = "1done8$(hostname)" ] &&
        [ "$(sqlite3 "$T/q.db" "$attempt")" = "slurm job 812, restart 2" ] ||
        { echo "runs: $(sqlite3 "$T/q.db" "SELECT id, status, epochs_done, host FROM runs")"; return 1; }
    # killed before its first checkpoint: the restart starts afresh, the earlier start's record
    # (same settings and folder, same job) marked interrupted, not left running
    local b=(train --train-limit 256 --test-limit 64 --batch 64 --epochs 2 --seed 4 --checkpoint-dir "$T/ck2" --db "$T/q.db" --quiet)
    SLURM_JOB_ID=900 SLURM_RESTART_COUNT=0 db "${b[@]}" && expect_rc 0 || return
    sqlite3 "$T/q.db" "UPDATE runs SET status = 'running', host = 'node-a', pid = 4242 WHERE id = 2" && rm -rf "$T/ck2" || return
    SLURM_JOB_ID=900 SLURM_RESTART_COUNT=1 db "${b[@]}" --resume && expect_rc 0 || return
    [ "$(sqlite3 "$T/q.db" "SELECT group_concat(id || ':' || status, ' ') FROM runs WHERE id > 1")" = "2:interrupted 3:done" ] ||
        { echo "runs: $(sqlite3 "$T/q.db" "SELECT id, status, exit_reason FROM runs")"; return 1; }
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
