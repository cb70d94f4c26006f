# Command-line tests (tests/cli.sh runs them): studies and the report (recipes: recipes.sh;
# regressions, merges and slurm: cluster.sh).
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
    rm "$T/r.txt" # the database alone must do; from another folder, the database named relative to it
    mkdir -p "$T/elsewhere" && db_from "$T/elsewhere" resume --study stoppable --db ../s.db --quiet && expect_rc 0 &&
        expect_out "2 cells" && expect_err "study stoppable continues in $(pwd -P), where it started" &&
        [ ! -e ../s.db ] && [ -z "$(ls "$T/elsewhere")" ] || return
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
    db list --study tiny --db "$T/s.db" && expect_rc 0 && [ "$(grep -c ' done ' "$out")" = 4 ] || return
    db list --study tiny2 --db "$T/s.db" && expect_rc 2 && expect_err "no study 'tiny2'; its studies: tiny" || return
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
        "RQ1: DropBlock beats dropout (paper: +1.3 top-1 points, each at its best keep_prob on ImageNet, Fig3, confirmed) | not run" "git_commit" "Block-size sweep" "fewer than 7 paired seeds" \
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
    # (the planted canary change, and the fixture's failed run: no diverging configuration's nature)
    [ "$(sqlite3 "$T/nr.db" "SELECT failures FROM regressions")" = 2 ] &&
        [ "$(sqlite3 "$T/nr.db" "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM regress_checks WHERE outcome = 'fail' ORDER BY kind)")" = "canary completion" ] ||
        { echo "regress recorded: $(sqlite3 "$T/nr.db" 'SELECT * FROM regressions; SELECT * FROM regress_checks')"; return 1; }
    db report --db "$T/nr.db" --out "$T/nr" --no-plots && expect_rc 0 || return
    local nmd=$T/nr/REPORT.md
    grep -A4 '^## Verdicts' "$nmd" | grep -q "Nightly regression (dropbench regress, .* against $T/f.db): REGRESSION; .* 2 failed" &&
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
    # a tab or line break planted in a run's values (a merged shard's) splits no cell nor row, and
    # fakes no provenance key
    cp "$T/f.db" "$T/tab.db" && sqlite3 "$T/tab.db" "UPDATE runs SET device = 'cp' || char(9) || 'u' WHERE id = 1;
        UPDATE provenance SET value = 'x' || char(10) || 'git_dirty=faked' WHERE run_id = (SELECT max(id) FROM runs) AND key = 'blas'" ||
        return
    db report --db "$T/tab.db" --study other --out "$T/tab" --no-plots && expect_rc 0 || return
    grep -qF "| cp u |" "$T/tab/REPORT.md" && ! grep -qF "| git_dirty | faked |" "$T/tab/REPORT.md" ||
        { echo "planted values: $(grep -F 'cp' "$T/tab/REPORT.md" | head -2) $(grep -F 'faked' "$T/tab/REPORT.md")"; return 1; }
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
