# Command-line tests (tests/cli.sh runs them): data-parallel training over processes (mpirun).
# shellcheck shell=bash

t_dp_launcher_words() {
    # who says how many processes: an MPI launcher's variable where there is one (1 included, as
    # mpirun -np 1 inside a Slurm step of several tasks), srun's step count without one, and
    # DROPBENCH_ALONE=1 over them all (a shell of srun -n N --pty)
    need_mpi || return
    db version && expect_rc 0 || return
    rc=0; SLURM_STEP_NUM_TASKS=4 SLURM_PROCID=0 "$DB" version >"$out" 2>"$err" || rc=$?
    expect_rc 1 && expect_err "started by srun as one of 4 processes" && expect_err "DROPBENCH_ALONE=1" || return
    rc=0; DROPBENCH_ALONE=1 SLURM_STEP_NUM_TASKS=4 SLURM_PROCID=0 "$DB" version >"$out" 2>"$err" || rc=$?
    expect_rc 0 || return
    rc=0; OMPI_COMM_WORLD_SIZE=1 SLURM_STEP_NUM_TASKS=4 SLURM_PROCID=0 "$DB" version >"$out" 2>"$err" || rc=$?
    expect_rc 0
}

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
    ranks_ended || return
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
    ranks_ended || return
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
    ranks_ended || return
    db resume 1 --db "$T/dp.db" && expect_rc 2 && expect_err "trained as 2 processes, this launch has 1" &&
        expect_err "--reshard" || return
    mpi 3 resume 1 --db "$T/dp.db" --reshard && expect_rc 2 && expect_err "batch 64 does not divide among 3 processes" &&
        grep -q "^world_size=2$" <(sqlite3 "$T/dp.db" "select config from runs where id = 1") &&
        [ -z "$(sqlite3 "$T/dp.db" "select value from provenance where key = 'resharded'")" ] ||
        { echo "a refused reshard changed the record: $(sqlite3 "$T/dp.db" "select key, value from provenance")"; return 1; }
    # refused by the run's own checks (its data gone; its data files not the ones it trained on, found
    # when the record is taken up): the record is left as it was, not resharded
    local cfg files held
    cfg=$(sqlite3 "$T/dp.db" "select config from runs where id = 1") &&
        files=$(sqlite3 "$T/dp.db" "select value from provenance where run_id = 1 and key = 'dataset_files'") || return
    sqlite3 "$T/dp.db" "update runs set config = replace(config, char(10) || 'data_dir=' || char(10),
                        char(10) || 'data_dir=$T/gone' || char(10)) where id = 1" || return
    grep -qx "data_dir=$T/gone" <(sqlite3 "$T/dp.db" "select config from runs where id = 1") ||
        { echo "no empty data_dir line to change"; return 1; }
    db resume 1 --db "$T/dp.db" --reshard && expect_rc 1 && expect_err "$T/gone" || return
    sqlite3 "$T/dp.db" "update runs set config = '$cfg' where id = 1;
                        update provenance set value = 'x sha256 00' where run_id = 1 and key = 'dataset_files'" || return
    db resume 1 --db "$T/dp.db" --reshard && expect_rc 2 && expect_err "trained on other data files" || return
    grep -q "^world_size=2$" <(sqlite3 "$T/dp.db" "select config from runs where id = 1") &&
        [ -z "$(sqlite3 "$T/dp.db" "select value from provenance where key = 'resharded'")" ] &&
        [ "$(sqlite3 "$T/dp.db" "select value from provenance where key = 'data_parallel'")" = "2 processes (mpirun)" ] ||
        { echo "a refused reshard changed the record: $(sqlite3 "$T/dp.db" "select key, value from provenance where key in ('resharded', 'data_parallel')")"; return 1; }
    sqlite3 "$T/dp.db" "update provenance set value = '$files' where run_id = 1 and key = 'dataset_files'" || return
    # refused by the checkpoint itself (corrupt; its folder in use): found before the take-up, the
    # record as it was
    cp "$T/ck/checkpoint.dbck" "$T/ck.good" && flip_byte "$T/ck/checkpoint.dbck" 300 || return
    db resume 1 --db "$T/dp.db" --reshard && expect_rc 1 && expect_err "checksum mismatch" || return
    head -c -100 "$T/ck.good" >"$T/ck/checkpoint.dbck" || return
    db resume 1 --db "$T/dp.db" --reshard && expect_rc 1 && expect_err "checkpoint truncated (" || return
    cp "$T/ck.good" "$T/ck/checkpoint.dbck" || return
    exec {held}<"$T/ck" && flock -n "$held" || return
    db resume 1 --db "$T/dp.db" --reshard
    exec {held}<&-
    expect_rc 1 && expect_err "is in use by another training process" || return
    grep -q "^world_size=2$" <(sqlite3 "$T/dp.db" "select config from runs where id = 1") &&
        [ "$(sqlite3 "$T/dp.db" "select status || ifnull((select value from provenance where key = 'resharded'), '')
                                  from runs where id = 1")" = interrupted ] ||
        { echo "a checkpoint's refusal changed the record: $(sqlite3 "$T/dp.db" "select status from runs; select key, value from provenance where key = 'resharded'")"; return 1; }
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
        grep -qxF "srun --kill-on-bad-exit=1 --cpus-per-task=1 '$(realpath "$DB")' study '$T/r.txt' --cell \"\$SLURM_ARRAY_TASK_ID\" --db '$T/shards'/shard-\"\$SLURM_ARRAY_TASK_ID\".db &" "$T/job.sbatch" &&
        bash -n "$T/job.sbatch" ||
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
