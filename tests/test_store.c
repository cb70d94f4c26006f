/* The results store on real SQLite files: schema and version, refusal of newer, foreign and
 * garbage files, a run's life (begin, epochs, end, resume of an interrupted one), detection of
 * runs whose process died, and a full disk (a file-size limit) failing cleanly. */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "results/store.h"
#include "tests/check.h"

static char dir[64];

static const char *tmp_path(const char *name) {
    static char p[4][128];
    static int k;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/dropbench-store-XXXXXX");
        if (!mkdtemp(dir)) return "/nonexistent/x.db";
    }
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* one integer from a query on the file, through SQLite itself (-1 on error) */
static long query_long(const char *path, const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *st;
    long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = (long)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static int exec_on(const char *path, const char *sql) {
    sqlite3 *db;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static db_run_info info_for(const char *ckpt, const char *fp) {
    db_run_info in = {"model=resnet20\n", fp, "fam", "resnet20", "fashion-mnist", "dropblock", "paper", "cpu", ckpt, "", "",
                      NULL, 0.9, 3, 1, 2, NULL, NULL, NULL, NULL, 1, NULL, 0, 0, NULL, NULL};
    return in;
}

static void test_store_schema_and_refusals(void) {
    const char *p = tmp_path("a.db");
    db_store *s;
    CHECK_OK(db_store_open(&s, p));
    db_store_close(s);
    CHECK(query_long(p, "PRAGMA user_version") == DB_STORE_SCHEMA, "schema version %ld", query_long(p, "PRAGMA user_version"));
    CHECK(query_long(p, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('studies','runs','metrics',"
                        "'provenance','paper_values')") == 5, "tables missing");
    CHECK(query_long(p, "SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1, "not in WAL mode");
    CHECK_OK(db_store_open(&s, p)); /* reopening an existing store */
    db_store_close(s);
    /* the paper's values: every line of results/paper/paper-tables.csv, a known one exactly */
    FILE *csv = fopen("results/paper/paper-tables.csv", "r");
    long lines = -1;
    for (int ch; csv && (ch = fgetc(csv)) != EOF;) lines += ch == '\n';
    if (csv) fclose(csv);
    CHECK(lines > 30 && query_long(p, "SELECT count(*) FROM paper_values") == lines, "paper_values rows %ld, CSV lines %ld",
          query_long(p, "SELECT count(*) FROM paper_values"), lines);
    CHECK(query_long(p, "SELECT round(value * 100) FROM paper_values WHERE source = 'Table1' AND regularizer = 'none' AND"
                        " metric = 'top1'") == 7651, "Table 1 baseline top-1 is not 76.51");
    /* a newer schema */
    const char *q = tmp_path("newer.db");
    CHECK(exec_on(q, "CREATE TABLE runs(x); PRAGMA user_version = 99") == SQLITE_OK, "setup");
    CHECK(db_store_open(&s, q) == DB_ERR_FORMAT && strstr(db_last_error(), "newer"), "newer schema: %s", db_last_error());
    /* somebody else's SQLite file */
    const char *f = tmp_path("foreign.db");
    CHECK(exec_on(f, "CREATE TABLE t(x)") == SQLITE_OK, "setup");
    CHECK(db_store_open(&s, f) == DB_ERR_FORMAT && strstr(db_last_error(), "not a dropbench database"),
          "foreign file: %s", db_last_error());
    CHECK(query_long(f, "SELECT count(*) FROM t") == 0, "the foreign file was changed");
    /* not SQLite at all */
    const char *g = tmp_path("garbage.db");
    FILE *fp = fopen(g, "wb");
    if (fp) { for (int i = 0; i < 4096; i++) fputc(i * 7 & 0xff, fp); fclose(fp); }
    CHECK(db_store_open(&s, g) == DB_ERR_FORMAT && strstr(db_last_error(), g), "garbage file: %s", db_last_error());
    /* an unusable place */
    CHECK(db_store_open(&s, "/proc/no/such/dir/x.db") != DB_OK && strstr(db_last_error(), "/proc/no/such"),
          "bad path: %s", db_last_error());
}

static void test_store_run_life(void) {
    const char *p = tmp_path("life.db");
    db_store *s;
    CHECK_OK(db_store_open(&s, p));
    db_kv prov[2] = {{"git_commit", "abc"}, {"host", "h"}};
    db_run_info in = info_for("/ck/1", "fp1");
    int64_t run = 0;
    int resumed = -1;
    CHECK_OK(db_store_begin_run(s, &in, prov, 2, &run, &resumed));
    CHECK(run == 1 && resumed == 0, "run %lld resumed %d", (long long)run, resumed);
    db_metric m[3] = {{"train", "loss", 1.5}, {"test", "top1", 0.8}, {"train", "drop_fraction/g2.b0.conv1", 0.0 / 0.0}};
    CHECK_OK(db_store_epoch(s, run, 1, 0, m, 3));
    CHECK_OK(db_store_epoch(s, run, 1, 0, m, 3)); /* idempotent per (epoch, step, split, name) */
    CHECK(query_long(p, "SELECT count(*) FROM metrics") == 3, "metrics rows %ld", query_long(p, "SELECT count(*) FROM metrics"));
    CHECK(query_long(p, "SELECT count(*) FROM metrics WHERE value IS NULL") == 1, "NaN not stored as NULL");
    CHECK(query_long(p, "SELECT epochs_done FROM runs WHERE id = 1") == 1, "epochs_done");
    /* the process "dies": a run still marked running whose pid is gone */
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE runs SET pid = %d WHERE id = 1", (int)child);
    CHECK(exec_on(p, sql) == SQLITE_OK, "setup");
    db_store_close(s);
    CHECK_OK(db_store_open(&s, p));
    CHECK(query_long(p, "SELECT status = 'interrupted' FROM runs WHERE id = 1") == 1, "a dead run is not interrupted");
    /* the same checkpoint and settings take it up again; other settings make a new run */
    CHECK_OK(db_store_begin_run(s, &in, prov, 2, &run, &resumed));
    CHECK(run == 1 && resumed == 1, "resume: run %lld resumed %d", (long long)run, resumed);
    db_run_info other = info_for("/ck/1", "fp2");
    int64_t run2;
    CHECK_OK(db_store_begin_run(s, &other, prov, 2, &run2, &resumed));
    CHECK(run2 == 2 && resumed == 0, "other settings: run %lld resumed %d", (long long)run2, resumed);
    CHECK_OK(db_store_end_run(s, run, "done", ""));
    CHECK_OK(db_store_end_run(s, run2, "diverged", "the loss became NaN"));
    db_store_close(s);
    CHECK(query_long(p, "SELECT count(*) FROM runs WHERE status = 'done' AND ended IS NOT NULL") == 1, "done run");
    CHECK(query_long(p, "SELECT count(*) FROM provenance") == 4, "provenance rows");
    CHECK(query_long(p, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'") == 1, "integrity");
}

/* A full disk, simulated by a file-size limit in a child process: the write fails with a clear
 * message, and the file stays a consistent database holding everything written before. */
static void test_store_full_disk(void) {
    const char *p = tmp_path("full.db");
    db_store *s;
    CHECK_OK(db_store_open(&s, p));
    db_run_info in = info_for("", "fp");
    int64_t run;
    CHECK_OK(db_store_begin_run(s, &in, NULL, 0, &run, NULL));
    db_store_close(s);
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    pid_t child = fork();
    if (child == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {256 * 1024, 256 * 1024};
        setrlimit(RLIMIT_FSIZE, &rl);
        db_store *c;
        int rc = 0;
        if (db_store_open(&c, p) != DB_OK) _exit(3);
        static db_metric m[2000];
        static char names[2000][32];
        for (int e = 1; e <= 200 && rc == 0; e++) {
            for (int i = 0; i < 2000; i++) {
                snprintf(names[i], sizeof names[i], "metric/%d", i);
                m[i] = (db_metric){"train", names[i], e + i * 1e-3};
            }
            if (db_store_epoch(c, run, e, 0, m, 2000) != DB_OK) rc = 1;
        }
        ssize_t w = write(fds[1], db_last_error(), strlen(db_last_error()) + 1);
        (void)w;
        db_store_close(c);
        _exit(rc ? 0 : 2);
    }
    close(fds[1]);
    char msg[1024] = "";
    ssize_t got = read(fds[0], msg, sizeof msg - 1);
    close(fds[0]);
    if (got > 0) msg[got] = '\0';
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writes did not fail under the size limit (status %d)", status);
    CHECK(strstr(msg, p) != NULL, "message does not name the file: %s", msg);
    long epochs = query_long(p, "SELECT count(DISTINCT epoch) FROM metrics");
    long ok = query_long(p, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'");
    CHECK(ok == 1 && epochs > 0 && query_long(p, "SELECT count(*) FROM metrics") == epochs * 2000,
          "after the failure: integrity %ld, %ld whole epochs (%ld rows)", ok, epochs,
          query_long(p, "SELECT count(*) FROM metrics"));
}

/* A file written by the first schema (tests/fixtures/store-v1.sql, made by that dropbench) is
 * upgraded in place on open: the new column appears, every row is kept, and new runs record it. */
/* tests/fixtures/store-v1.sql loaded into the file p; 0 when it could not be */
static int load_v1(const char *p) {
    FILE *f = fopen("tests/fixtures/store-v1.sql", "r");
    CHECK(f != NULL, "tests/fixtures/store-v1.sql is missing");
    if (!f) return 0;
    static char sql[1 << 16];
    size_t n = fread(sql, 1, sizeof sql - 1, f);
    fclose(f);
    sql[n] = '\0';
    int ok = exec_on(p, sql) == SQLITE_OK && query_long(p, "PRAGMA user_version") == 1;
    CHECK(ok, "fixture did not load");
    return ok;
}

static void test_store_migrates_v1(void) {
    const char *p = tmp_path("v1.db");
    if (!load_v1(p)) return;
    long runs = query_long(p, "SELECT count(*) FROM runs"), metrics = query_long(p, "SELECT count(*) FROM metrics"),
         prov = query_long(p, "SELECT count(*) FROM provenance");
    CHECK(runs == 2 && metrics > 0 && prov > 0, "fixture: %ld runs, %ld metrics, %ld provenance", runs, metrics, prov);
    CHECK(query_long(p, "SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'family'") == 0, "v1 has no family");
    db_store *s;
    CHECK_OK(db_store_open(&s, p));
    CHECK(query_long(p, "PRAGMA user_version") == DB_STORE_SCHEMA, "not upgraded: version %ld",
          query_long(p, "PRAGMA user_version"));
    CHECK(query_long(p, "SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'family'") == 1, "no family column");
    CHECK(query_long(p, "SELECT count(*) FROM runs WHERE family IS NULL") == 2 &&
          query_long(p, "SELECT count(*) FROM metrics") == metrics && query_long(p, "SELECT count(*) FROM provenance") == prov,
          "rows changed by the upgrade");
    CHECK(query_long(p, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'") == 1, "integrity");
    db_run_info in = info_for("/ck/new", "fpnew");
    int64_t run = 0;
    int resumed = 1;
    CHECK_OK(db_store_begin_run(s, &in, NULL, 0, &run, &resumed));
    db_store_close(s);
    CHECK(run == 3 && !resumed && query_long(p, "SELECT count(*) FROM runs WHERE family = 'fam'") == 1,
          "a new run after the upgrade: id %lld, family rows %ld", (long long)run,
          query_long(p, "SELECT count(*) FROM runs WHERE family = 'fam'"));
    /* opening again changes nothing more */
    CHECK_OK(db_store_open(&s, p));
    db_store_close(s);
    CHECK(query_long(p, "SELECT count(*) FROM runs") == 3, "reopen");
}

/* An older schema's file given as a baseline (or a shard) is read in its upgraded form made in
 * memory: the file itself stays at its version, readable by the dropbench that wrote it */
static void test_store_attach_v1_untouched(void) {
    const char *base = tmp_path("v1-base.db");
    if (!load_v1(base)) return;
    char here[1100];
    snprintf(here, sizeof here, "%s", tmp_path("v1-here.db"));
    db_store *s;
    CHECK_OK(db_store_open(&s, here));
    FILE *out = fopen("/dev/null", "w");
    int checks = -1, failures = -1, skipped = -1;
    CHECK_OK(db_store_regress(s, base, 1.1, 0.05, out, NULL, &checks, &failures, &skipped));
    fclose(out);
    db_store_close(s);
    CHECK(checks == 0 && failures == 0, "against an empty database: %d checks, %d failed", checks, failures);
    CHECK(query_long(base, "PRAGMA user_version") == 1 &&
          query_long(base, "SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'family'") == 0,
          "the baseline file was upgraded in place (version %ld)", query_long(base, "PRAGMA user_version"));
}

/* A run is read back scored by the metric recorded with it (a segmentation run by its mIOU),
 * with its study, cell and condition; a run without one (schema 2) by test top-1 */
static void test_store_primary_metric(void) {
    const char *p = tmp_path("metric.db");
    db_store *s;
    CHECK_OK(db_store_open(&s, p));
    db_run_info seg = info_for("/ck/seg", "fps");
    seg.study = "st";
    seg.cell = "seed=1,regularizer=dropblock";
    seg.condition = "regularizer=dropblock";
    seg.task = "segmentation";
    seg.primary_metric = "test/miou";
    db_run_info cls = info_for("/ck/cls", "fpc");
    cls.study = "st";
    int64_t a, b;
    int resumed;
    CHECK_OK(db_store_begin_run(s, &seg, NULL, 0, &a, &resumed));
    CHECK_OK(db_store_begin_run(s, &cls, NULL, 0, &b, &resumed));
    db_metric e1[2] = {{"test", "miou", 0.40}, {"test", "top1", 0.90}}, e2[2] = {{"test", "miou", 0.35}, {"test", "top1", 0.95}};
    for (int r = 0; r < 2; r++) {
        CHECK_OK(db_store_epoch(s, r ? b : a, 1, 0, e1, 2));
        CHECK_OK(db_store_epoch(s, r ? b : a, 2, 0, e2, 2));
        CHECK_OK(db_store_end_run(s, r ? b : a, "done", ""));
    }
    /* the classification run as one recorded before schema 3 */
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE runs SET primary_metric = NULL WHERE id = %lld", (long long)b);
    CHECK(exec_on(p, sql) == SQLITE_OK, "setup");
    db_run_row *rows = NULL;
    int n = 0;
    CHECK_OK(db_store_study_runs(s, "st", &rows, &n));
    CHECK(n == 2, "%d runs", n);
    if (n == 2) {
        CHECK(!strcmp(rows[0].metric, "test/miou") && rows[0].final_score == 0.35 && rows[0].best_score == 0.40 &&
              rows[0].ncurve == 2 && rows[0].curve[0] == 0.40, "segmentation run: %s final %g best %g", rows[0].metric,
              rows[0].final_score, rows[0].best_score);
        CHECK(!strcmp(rows[1].metric, "test/top1") && rows[1].final_score == 0.95 && rows[1].best_score == 0.95,
              "a run without a recorded metric: %s final %g", rows[1].metric, rows[1].final_score);
    }
    db_run_rows_free(rows, n);
    db_run_record rec;
    CHECK_OK(db_store_get_run(s, a, &rec));
    CHECK(!strcmp(rec.cell, "seed=1,regularizer=dropblock") && !strcmp(rec.condition, "regularizer=dropblock"),
          "cell '%s', condition '%s'", rec.cell, rec.condition);
    db_run_record_free(&rec);
    db_store_close(s);
    CHECK(query_long(p, "SELECT count(*) FROM runs WHERE task = 'segmentation'") == 1, "task not stored");
}

const db_test db_tests_store[] = {
    {"store_primary_metric", test_store_primary_metric},
    {"store_schema_and_refusals", test_store_schema_and_refusals},
    {"store_run_life", test_store_run_life},
    {"store_full_disk", test_store_full_disk},
    {"store_migrates_v1", test_store_migrates_v1},
    {"store_attach_v1_untouched", test_store_attach_v1_untouched},
    {NULL, NULL},
};
