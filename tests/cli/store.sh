# Command-line tests (tests/cli.sh runs them): the results store: records, concurrency, kills, resumes, read-only files.
# shellcheck shell=bash

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
    # the database deleted, the folder kept (a nightly job's rm -f DB*): run 1's log is the new run's alone
    rm -f "$T/r.db" "$T/r.db-wal" "$T/r.db-shm" || return
    db "${STORE_ARGS[@]}" --epochs 1 --seed 7 --db "$T/r.db" && expect_rc 0 || return
    [ "$(grep -c run_start "$T/r.mllog/run-000001.log")" = 1 ] && [ "$(grep -c run_start "$T/r.mllog/run-000001.log.old")" = 1 ] ||
        { echo "event logs: $(ls "$T/r.mllog"); run_start lines $(grep -c run_start "$T/r.mllog/run-000001.log")"; return 1; }
    # a second night: the first night's log kept too
    rm -f "$T/r.db" "$T/r.db-wal" "$T/r.db-shm" || return
    db "${STORE_ARGS[@]}" --epochs 1 --seed 8 --db "$T/r.db" && expect_rc 0 || return
    [ -f "$T/r.mllog/run-000001.log.old" ] && [ -f "$T/r.mllog/run-000001.log.old-2" ] &&
        grep -q '"key": "seed", "value": 8' "$T/r.mllog/run-000001.log" && grep -q '"key": "seed", "value": 7' "$T/r.mllog/run-000001.log.old-2" ||
        { echo "event logs after two deletions: $(ls "$T/r.mllog"); $(grep -h seed "$T"/r.mllog/run-000001.log* | head -3)"; return 1; }
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
    [ "$got" = "4 88 ok" ] || { echo "runs done, metric rows, integrity: '$got', want '4 88 ok'"; return 1; }
}

t_store_fresh_not_taken_over() {
    # a run that starts from scratch (no --resume) gets a record of its own: it does not take up
    # an interrupted run's record and say "continuing"
    need_fmnist || return
    local ck=$T/ck
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
    kill_and_resume 1 0.5 || return
    kill_and_resume 2 0.3 || return
    local differ
    differ=$(sqlite3 "$T/k.db" "SELECT count(*) FROM metrics a JOIN metrics b ON b.epoch = a.epoch AND b.split = a.split AND b.name = a.name AND b.step = a.step WHERE a.run_id = 1 AND b.run_id > 1 AND a.split = 'test' AND a.value IS NOT b.value")
    local done
    done=$(sqlite3 "$T/k.db" "SELECT count(*) FROM runs WHERE status = 'done' AND epochs_done = 3")
    [ "$differ" = 0 ] && [ "$done" = 4 ] || { echo "$differ test metrics differ from the uninterrupted run; $done of 4 runs done: $(sqlite3 "$T/k.db" "SELECT id, status, epochs_done, exit_reason FROM runs" | tr "\n" " ")"; return 1; }
}

t_resume_records_once() {
    # the README's example: the metrics file inside a checkpoint folder not made yet; --resume of
    # the finished run records nothing more; `resume RUN` of a run that failed before its first
    # checkpoint starts it again in the same record
    need_fmnist || return
    local a=(train --train-limit 256 --test-limit 128 --batch 64 --epochs 1 --seed 5 --checkpoint-dir "$T/r/ck"
        --metrics "$T/r/ck/metrics.csv" --db "$T/o.db")
    db "${a[@]}" --resume && expect_rc 0 && [ -s "$T/r/ck/metrics.csv" ] || { echo "metrics: $(ls "$T/r/ck")"; return 1; }
    db "${a[@]}" --resume && expect_rc 0 && expect_err "run 1 in $T/o.db is done" && expect_out "result:" || return
    # the same folder spelt otherwise (a trailing slash, a doubled one, a detour): the same record
    db "${a[@]}" --resume --checkpoint-dir "$T/r/x/..//ck/" && expect_rc 0 && expect_err "run 1 in $T/o.db is done" || return
    # a record written before folders were tidied (runs//x/) is found too
    sqlite3 "$T/o.db" "UPDATE runs SET checkpoint_dir = '$T/r//ck/' WHERE id = 1" &&
        db "${a[@]}" --resume && expect_rc 0 && expect_err "run 1 in $T/o.db is done" || return
    [ "$(sqlite3 "$T/o.db" "SELECT group_concat(id || status) FROM runs")" = 1done ] ||
        { echo "runs: $(sqlite3 "$T/o.db" 'SELECT id, status, exit_reason FROM runs')"; return 1; }
    local b=(train --data-dir "$T/later" --batch 32 --epochs 1 --checkpoint-dir "$T/f/ck" --db "$T/o.db") lk
    small_dataset "$T/later" && mkdir -p "$T/f/ck" || return
    exec {lk}<"$T/f/ck" && flock "$lk" || return # the folder held: the run fails, recorded, no checkpoint
    db "${b[@]}" && expect_rc 1 && expect_err "in use by another training process" || { exec {lk}<&-; return 1; }
    exec {lk}<&-
    db resume 2 --db "$T/o.db" && expect_rc 0 || return
    [ "$(sqlite3 "$T/o.db" "SELECT group_concat(id || status) FROM runs")" = 1done,2done ] ||
        { echo "runs: $(sqlite3 "$T/o.db" 'SELECT id, status, exit_reason FROM runs')"; return 1; }
    # an interrupted run, then one from scratch in its folder finished: --resume finds the newest
    # record done, takes up neither, records nothing
    local c=(train --train-limit 512 --test-limit 128 --batch 64 --epochs 3 --seed 6 --checkpoint-dir "$T/i/ck" --db "$T/o.db")
    signalled USR1 "$DB" "${c[@]}" --quiet
    [ "$rc" = 4 ] || { echo "not interrupted: exit $rc"; return 1; }
    db "${c[@]}" --quiet && expect_rc 0 || return
    db "${c[@]}" --resume && expect_rc 0 && expect_err "run 4 in $T/o.db is done" || return
    [ "$(sqlite3 "$T/o.db" "SELECT group_concat(x) FROM (SELECT id || status AS x FROM runs ORDER BY id)")" = 1done,2done,3interrupted,4done ] ||
        { echo "runs: $(sqlite3 "$T/o.db" 'SELECT id, status, exit_reason FROM runs')"; return 1; }
}

t_store_bad_input() {
    printf 'this is not a database at all, just text padding it out .....' >"$T/bad.db"
    db list --db "$T/bad.db" && expect_rc 1 && expect_err "bad.db" || return
    sqlite3 "$T/newer.db" "CREATE TABLE runs(x); PRAGMA user_version = 7;" || return
    db list --db "$T/newer.db" && expect_rc 1 && expect_err "newer" || return
    db train --train-limit 64 --epochs 1 --db "$T/newer.db" && expect_rc 1 && expect_err "newer" || return
    : >"$T/r2.db" # an empty database (an empty file is one)
    db show 99 --db "$T/r2.db" && expect_rc 2 && expect_err "no run 99" || return
    db export --run 99 --db "$T/r2.db" && expect_rc 2 && expect_err "no run 99" || return
    db export --run 99 --format json --db "$T/r2.db" && expect_rc 2 && expect_err "no run 99" || return
    db list --bogus && expect_rc 2 && expect_err "usage" || return
    db train --db && expect_rc 2 && expect_err "--db needs a path" || return
    # an empty path would be SQLite's private temporary database: everything recorded, then lost
    printf 'study = e\ntrain_limit = 64\nepochs = 1\n' >"$T/e.txt"
    db study "$T/e.txt" --db '' && expect_rc 2 && expect_err "--db needs a path" || return
    db merge "$T/r2.db" --db '' && expect_rc 2 && expect_err "--db needs a path" || return
    db report --db '' --out "$T/er" && expect_rc 2 && expect_err "path is empty" || return
    db resume 1 --db '' && expect_rc 2 && expect_err "path is empty" || return
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

t_stop_signal_resume() {
    # SIGUSR1 (a cluster's warning before its time limit) stops a run with a checkpoint, inside
    # the epoch too; `resume RUN` finishes it from the database alone, bit for bit
    need_fmnist || return
    db "${STOP_ARGS[@]}" --checkpoint-dir "$T/ref" --db "$T/g.db" && expect_rc 0 || return
    signalled USR1 "$DB" "${STOP_ARGS[@]}" --checkpoint-dir "$T/int" --db "$T/g.db"
    [ "$rc" = 4 ] && grep -q "stopped by signal 10" "$err" && grep -q "dropbench resume" "$err" ||
        { echo "after SIGUSR1: exit $rc, $(snippet "$err")"; return 1; }
    [ "$(sqlite3 "$T/g.db" 'SELECT status FROM runs WHERE id = 2')" = interrupted ] || { echo "run 2 not interrupted"; return 1; }
    # its half-trained weights are no run's to start from (init_from): refused, nothing recorded
    db train --train-limit 128 --test-limit 64 --epochs 1 --init-from "$T/int" --db "$T/h.db" && expect_rc 2 &&
        expect_err "has not finished" || return
    [ ! -f "$T/h.db" ] || [ "$(sqlite3 "$T/h.db" 'SELECT count(*) FROM runs')" = 0 ] || { echo "recorded"; return 1; }
    db resume 2 --db "$T/g.db" --quiet && expect_rc 0 || return
    db train --train-limit 128 --test-limit 64 --epochs 1 --init-from "$T/int" --db "$T/h.db" && expect_rc 0 &&
        expect_err "copied from a 10-class classifier" || return
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
    # a second TERM or INT ends it at once, by that signal, saying so (one of each: two TERMs sent
    # together may arrive as one; the lower-numbered INT is taken first)
    "$DB" "${STOP_ARGS[@]}" --epochs 20 --db "$T/t2.db" >"$out" 2>"$err" & local p2=$!
    for _ in $(seq 3000); do [ "$(running_records "$T/t2.db")" -gt 0 ] || ! kill -0 $p2 2>/dev/null && break; sleep 0.02; done
    kill -TERM $p2; kill -INT $p2
    rc=0; wait $p2 || rc=$?
    { [ "$rc" = 130 ] || [ "$rc" = 143 ]; } && grep -q "a second signal: ending at once" "$err" || { echo "after TERM and INT: exit $rc, $(snippet "$err")"; return 1; }
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

t_resume_elsewhere() {
    # a run stopped with a relative checkpoint folder and results file resumes from another working
    # folder (the record holds the absolute checkpoint folder; the rest is read where the run
    # started); with its folder gone, resume refuses, never restarting
    need_fmnist || return
    local bin
    bin=$(realpath "$DB") && mkdir -p "$T/wd" "$T/other" || return
    pushd "$T/wd" >/dev/null || return
    signalled USR1 "$bin" "${STOP_ARGS[@]}" --checkpoint-dir ck --metrics m.csv --db "$T/w.db"
    popd >/dev/null || return
    [ "$rc" = 4 ] || { echo "after SIGUSR1: exit $rc, $(snippet "$err")"; return 1; }
    [ "$(sqlite3 "$T/w.db" 'SELECT checkpoint_dir FROM runs WHERE id = 1')" = "$T/wd/ck" ] ||
        { echo "recorded folder: $(sqlite3 "$T/w.db" 'SELECT checkpoint_dir FROM runs')"; return 1; }
    cp -r "$T/wd/ck" "$T/ck-copy" || return
    pushd "$T/other" >/dev/null || return
    rc=0; "$bin" resume 1 --db ../w.db --quiet >"$out" 2>"$err" || rc=$?
    popd >/dev/null || return
    # (in the folder it started in: its relative results file there, whole, none here)
    expect_rc 0 && [ "$(sqlite3 "$T/w.db" "SELECT status || ' ' || epochs_done FROM runs WHERE id = 1")" = "done 2" ] &&
        [ ! -e "$T/other/ck" ] && [ ! -e "$T/other/m.csv" ] && [ "$(grep -c '^[0-9]' "$T/wd/m.csv")" = 2 ] &&
        expect_err "run 1 continues in $T/wd, where it started" ||
        { echo "resumed elsewhere: $(sqlite3 "$T/w.db" 'SELECT status, epochs_done FROM runs'); $(ls "$T/other")"; return 1; }
    # the same stopped state again, its folder gone: refused with the folder named
    sqlite3 "$T/w.db" "UPDATE runs SET status = 'interrupted', epochs_done = 1 WHERE id = 1" || return
    rm -rf "$T/wd/ck"
    db resume 1 --db "$T/w.db" && expect_rc 1 && expect_err "$T/wd/ck holds no checkpoint" || return
    mv "$T/ck-copy" "$T/wd/ck" && db resume 1 --db "$T/w.db" --quiet && expect_rc 0
}

t_live_run_refused() {
    # a second process never takes over a live run: with the database, the record names the
    # first process; without it, the checkpoint folder's lock does; a dead run whose pid now
    # belongs to another process is seen as dead (its recorded start time differs), another pid
    # namespace's is not judged
    need_fmnist || return
    local args=(train --train-limit 2048 --test-limit 128 --batch 64 --epochs 10 --seed 3 --checkpoint-dir "$T/ck" --quiet)
    "$DB" "${args[@]}" --db "$T/l.db" >"$T/first.out" 2>&1 & local first=$!
    local i
    for i in $(seq 100); do [ -e "$T/ck/checkpoint.dbck" ] && break; sleep 0.2; done
    db "${args[@]}" --resume --db "$T/l.db" && expect_rc 1 && expect_err "run 1 (the same settings" &&
        expect_err "is running now: pid $first" || { kill "$first"; return 1; }
    db resume 1 --db "$T/l.db" && expect_rc 1 && expect_err "is running now: pid $first" || { kill "$first"; return 1; }
    db "${args[@]}" --no-db && expect_rc 1 && expect_err "$T/ck is in use by another training process" ||
        { kill "$first"; return 1; }
    wait "$first" || { echo "the first run failed: $(tail -3 "$T/first.out")"; return 1; }
    [ "$(sqlite3 "$T/l.db" "SELECT group_concat(id || ':' || status, ' ') FROM runs")" = "1:done" ] ||
        { echo "runs: $(sqlite3 "$T/l.db" 'SELECT id, status, exit_reason FROM runs')"; return 1; }
    # pid reuse: a 'running' record of this host whose pid is alive (this shell) but was another
    # process; one of another container with this host name (another pid namespace of this boot),
    # its pid not running here: not ours to judge, it stays running; and a live process's record
    # written before namespaces were recorded (boot and start time only) stays running too
    local host gone old
    host=$(hostname)
    true & gone=$!
    wait "$gone"
    old="$(cat /proc/sys/kernel/random/boot_id)/$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)"
    sqlite3 "$T/l.db" "INSERT INTO runs(uuid, config, fingerprint, regularizer, seed, device, status, host, pid, pid_start)
        VALUES ('u1', '', 'x', 'none', 1, 'cpu', 'running', '$host', $$, 'another-boot/1'),
               ('u2', '', 'y', 'none', 1, 'cpu', 'running', '$host', $$, NULL),
               ('u3', '', 'z', 'none', 1, 'cpu', 'running', '$host', $gone, '$(cat /proc/sys/kernel/random/boot_id)/1/1'),
               ('u4', '', 'w', 'none', 1, 'cpu', 'running', '$host', $$, '$old')" || return
    db list --db "$T/l.db" && expect_rc 0 || return # list reads a copy: what it shows, the file unchanged
    [ "$(awk '$1 >= 2 && $1 <= 5 { printf "%s ", $2 }' "$out")" = "interrupted running running running " ] ||
        { echo "after a reused pid, list shows: $(snippet "$out")"; return 1; }
    db tag keep --db "$T/l.db" # opens the file: marks the dead run in it
    [ "$(sqlite3 "$T/l.db" "SELECT group_concat(status, ' ') FROM (SELECT status FROM runs WHERE uuid IN ('u1', 'u2', 'u3', 'u4') ORDER BY uuid)")" = "interrupted running running running" ] ||
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

t_resume_after_last_save() {
    # killed between the last epoch's checkpoint and its progress and results files: --resume, with
    # nothing left to train, writes them; the run stays one record
    need_fmnist || return
    command -v strace >/dev/null || { echo "strace not installed (scripts/deps installs it)"; return 1; }
    local a=(train --train-limit 256 --test-limit 128 --batch 64 --epochs 1 --seed 3 --model resnet8 --threads 1 --quiet
        --checkpoint-dir "$T/ck" --metrics "$T/m.csv" --db "$T/l.db")
    rc=0 # the renames: the checkpoint's (1), the progress file's (2), the metrics file's
    timeout "$LIMIT" strace -f -o /dev/null -e trace=rename -e inject=rename:signal=KILL:when=2 "$DB" "${a[@]}" \
        >"$out" 2>"$err" || rc=$?
    [ "$rc" = 137 ] && [ ! -s "$T/m.csv" ] && ! grep -qx "epoch 1 of 1" "$T/ck/progress" 2>/dev/null ||
        { echo "not killed between the checkpoint and the rest: exit $rc, $(ls "$T/ck" "$T" 2>&1 | tr '\n' ' ')"; return 1; }
    db "${a[@]}" --resume && expect_rc 0 || return
    grep -qx "epoch 1 of 1" "$T/ck/progress" && [ "$(grep -c '^1,' "$T/m.csv")" = 1 ] ||
        { echo "after the resume: progress '$(cat "$T/ck/progress" 2>&1)', metrics $(snippet "$T/m.csv")"; return 1; }
    db "${a[@]}" --resume && expect_rc 0 && [ "$(sqlite3 "$T/l.db" "SELECT count(*) || status FROM runs")" = 1done ] ||
        { echo "runs: $(sqlite3 "$T/l.db" "SELECT id, status FROM runs")"; return 1; }
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
    # a read-only database (file and folder) is refused for training with a clear message, listed,
    # and left as it was;
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
    local rc=0 # list reads without writing: a read-only database is listed
    "${as[@]}" "$T/ro/dropbench" list --db "$T/ro/r.db" >"$out" 2>"$err" || rc=$?
    [ "$rc" = 0 ] && expect_out "done" || { echo "list: exit $rc; $(snippet "$err")"; chmod 755 "$T/ro"; return 1; }
    # changes in a write-ahead log (left by a process that died) that cannot be read here: refused, not
    # listed as if they were not there
    if [ "$(id -u)" = 0 ]; then
        python3 -c 'import sqlite3, os, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_autocheckpoint=0"); c.execute("UPDATE runs SET seed = seed + 1"); c.commit(); os._exit(0)' "$T/ro/r.db" &&
            rm -f "$T/ro/r.db-shm" && chmod 644 "$T/ro"/r.db* || return # (without -shm it must be made to read)
        rc=0
        "${as[@]}" "$T/ro/dropbench" list --db "$T/ro/r.db" >"$out" 2>"$err" || rc=$?
        [ "$rc" = 1 ] && expect_err "write-ahead log" || { echo "list with an unreadable WAL: exit $rc; $(snippet "$out")"; return 1; }
        sqlite3 "$T/ro/r.db" "UPDATE runs SET seed = seed - 1" || return # (the checkpoint folds the WAL in)
    fi
    rc=0
    "${as[@]}" "$T/ro/dropbench" "${STORE_ARGS[@]}" --epochs 1 --db "$T/ro/r.db" >"$out" 2>"$err" || rc=$?
    chmod 755 "$T/ro"
    [ "$rc" = 1 ] && expect_err "read-only" || { echo "train: exit $rc; $(snippet "$err")"; return 1; }
    [ "$(sqlite3 "$T/ro/r.db" "SELECT count(*) FROM runs; SELECT count(*) FROM metrics" | tr '\n' ' ')" = "$before" ] &&
        [ "$(sqlite3 "$T/ro/r.db" "PRAGMA integrity_check")" = ok ] || { echo "the read-only database changed"; return 1; }
}

t_readers_never_create() {
    # the commands that read the database (list, show, export, regress's --db, tag, a dry run) never
    # make one: a mistyped --db is refused as the report refuses it (exit 1), the default path in an
    # empty folder too; a dry run on a missing one says every cell would run. An existing database
    # (here one of schema version 1) is read without being changed, not even upgraded.
    command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; return 77; }
    local empty=$T/empty c self before
    mkdir -p "$empty"
    for c in "list" "show 1" "export" "regress --baseline base.db" "tag keep" "report"; do
        # shellcheck disable=SC2086
        db_from "$empty" $c --db nothere.db && expect_rc 1 && expect_err "no results database at nothere.db" ||
            { echo "($c)"; return 1; }
    done
    self=$(realpath "$DB")
    (unset DROPBENCH_DB; cd "$empty" && timeout "$LIMIT" "$self" list) >"$out" 2>"$err" && rc=0 || rc=$?
    expect_rc 1 && expect_err "no results database at results/dropbench.db" || return
    printf 'study = fresh\ndataset = synthetic\nsynthetic = 64,32,1,8,8,2\nmodel = resnet8\nvary.seed = 1, 2\n' >"$empty/r.txt"
    db_from "$empty" study r.txt --dry-run --db fresh.db && expect_rc 0 && expect_out "[1/2] seed=1: would run" &&
        expect_out "[2/2] seed=2: would run" && expect_out "no database there yet" || return
    [ -z "$(ls -A "$empty" | grep -v '^r.txt$')" ] || { echo "made: $(ls -A "$empty" | tr '\n' ' ')"; return 1; }
    sqlite3 "$T/v1.db" <tests/fixtures/store-v1.sql || return
    before=$(sha256sum <"$T/v1.db")
    db list --db "$T/v1.db" && expect_rc 0 && expect_out "dropblock" || return
    db show 2 --db "$T/v1.db" && expect_rc 0 || return
    db export --format json --db "$T/v1.db" && expect_rc 0 || return
    db study "$empty/r.txt" --dry-run --db "$T/v1.db" && expect_rc 0 && expect_out "would run" || return
    [ "$(sha256sum <"$T/v1.db")" = "$before" ] && [ "$(sqlite3 "$T/v1.db" "PRAGMA user_version")" = 1 ] &&
        [ ! -e "$T/v1.db-wal" ] || { echo "a reader changed the database"; return 1; }
}
