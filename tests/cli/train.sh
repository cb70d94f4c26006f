# Command-line tests (tests/cli.sh runs them): real training on Fashion-MNIST: resume, determinism, regularizers.
# shellcheck shell=bash

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
    [ "$(ls -A "$T/ck" | tr '\n' ' ')" = "checkpoint.dbck progress " ] ||
        { echo "stray files in the checkpoint folder: $(ls -A "$T/ck" | tr '\n' ' ')"; return 1; }
    [ "$(cat "$T/ck/progress")" = "epoch 2 of 2" ] || { echo "progress: $(cat "$T/ck/progress")"; return 1; }
    echo "top1 $acc%" >"$T/note"
}

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
        expect_err "$CK2" || return
    # with a database: refused before training, so nothing is recorded (no failed run left behind)
    db train --train-limit 1024 --test-limit 512 --batch 64 --epochs 2 --seed 4 \
        --checkpoint-dir "$CK2" --resume --db "$T/o.db" && expect_rc 2 && expect_err "another configuration" &&
        expect_err "not kept" || return
    [ "$(sqlite3 "$T/o.db" 'SELECT count(*) FROM runs')" = 0 ] && [ -z "$(ls "$T/o.mllog" 2>/dev/null)" ] ||
        { echo "recorded: $(sqlite3 "$T/o.db" 'SELECT id, status FROM runs') $(ls "$T/o.mllog")"; return 1; }
    # its number goes to the next run, whose event log is its own
    db train --train-limit 256 --test-limit 128 --epochs 1 --db "$T/o.db" && expect_rc 0 && expect_out "recording run 1" &&
        [ "$(ls "$T/o.mllog")" = run-000001.log ] || { echo "logs: $(ls "$T/o.mllog")"; return 1; }
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

t_train_regularizer_bad_args() {
    db train --regularizer nosuch && expect_rc 2 && expect_err "nosuch" || return
    db train --regularizer dropblock --reg-groups 5 && expect_rc 2 && expect_err "reg_groups" || return
    db train --keep-prob 0 && expect_rc 2 && expect_err "keep_prob" || return
    db train --keep-prob-schedule cubic && expect_rc 2 && expect_err "cubic" || return
    db train --regularizer dropblock --semantics keras && expect_rc 2 && expect_err "keras" || return
    db train --regularizer dropblock --semantics torchvision --block-size 4 && expect_rc 2 && expect_err "odd"
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
