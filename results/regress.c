/* Nightly regression: a database's finished runs against their twins in a baseline database
 * (db_store_regress in results/store.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "results/store_internal.h"

/* provenance keys of runs regress does not judge: epochs replayed from a checkpoint, a change in
 * the number of data-parallel processes */
#define DB_UNJUDGED "('replayed_epochs', 'resharded')"

/* One check's outcome, kept to be recorded in the store at the end */
typedef struct {
    const char *kind; /* "canary", "throughput", "statistical" or "completion" */
    char *name, *detail;
    int outcome;      /* 1 passed, 0 failed, -1 skipped (not compared) */
} regress_row;

typedef struct {
    FILE *xml; /* the test cases, in memory until the counts are known */
    char *buf;
    size_t len;
    int checks, failures, skipped;
    regress_row *rows;
    int nrows, caprows;
    int nomem;
} regress_out;

static void xml_text(FILE *f, const char *t) {
    for (; *t; t++) {
        if (*t == '<') fputs("&lt;", f);
        else if (*t == '>') fputs("&gt;", f);
        else if (*t == '&') fputs("&amp;", f);
        else if (*t == '"') fputs("&quot;", f);
        else fputc(*t, f);
    }
}

static void keep_row(regress_out *ro, const char *kind, const char *name, int outcome, const char *detail) {
    if (ro->nrows == ro->caprows) {
        int cap = ro->caprows ? 2 * ro->caprows : 64;
        regress_row *r = realloc(ro->rows, sizeof *r * (size_t)cap);
        if (!r) { ro->nomem = 1; return; }
        ro->rows = r;
        ro->caprows = cap;
    }
    regress_row *r = &ro->rows[ro->nrows];
    r->kind = kind;
    r->outcome = outcome;
    r->name = strdup(name);
    r->detail = strdup(detail);
    if (!r->name || !r->detail) { free(r->name); free(r->detail); ro->nomem = 1; return; }
    ro->nrows++;
}

/* One JUnit test case; outcome 0 gets a <failure/>, -1 a <skipped/>, with the detail as its message */
static void junit_case(regress_out *ro, const char *name, int outcome, const char *detail) {
    if (!ro->xml) return;
    fputs("  <testcase classname=\"dropbench.regress\" name=\"", ro->xml);
    xml_text(ro->xml, name);
    fputs("\">", ro->xml);
    if (outcome <= 0) {
        fputs(outcome ? "<skipped message=\"" : "<failure message=\"", ro->xml);
        xml_text(ro->xml, detail);
        fputs("\"/>", ro->xml);
    }
    fputs("</testcase>\n", ro->xml);
}

/* A check not made, and why (printed, recorded and a skipped JUnit case; not counted as a check) */
static void regress_skip(regress_out *ro, FILE *out, const char *kind, const char *name, const char *why) {
    ro->skipped++;
    fprintf(out, "skip %s: %s\n", name, why);
    keep_row(ro, kind, name, -1, why);
    junit_case(ro, name, -1, why);
}

static void regress_check(regress_out *ro, FILE *out, const char *kind, const char *name, int ok, const char *detail) {
    ro->checks++;
    ro->failures += !ok;
    fprintf(out, "%s %s: %s\n", ok ? "ok  " : "FAIL", name, detail);
    keep_row(ro, kind, name, ok, detail);
    junit_case(ro, name, ok, detail);
}

/* The final score (each run's primary metric, test top-1 before schema 3) of every finished run of
 * a family, in db ("main" or "base") */
static db_status family_values(db_store *s, const char *db, const char *family, double *v, int cap, int *n) {
    char sql[1000];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "SELECT m.value FROM %s.runs r JOIN %s.metrics m ON m.run_id = r.id AND m.split || '/' ||"
             " m.name = ifnull(r.primary_metric, 'test/top1') AND m.epoch = r.epochs_done AND m.step = 0 WHERE"
             " r.family = ? AND r.status = 'done' AND m.value IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %s.provenance"
             " WHERE run_id = r.id AND key IN " DB_UNJUDGED ") ORDER BY r.seed", db, db, db);
    SQL_TRY(s, sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), "reading a family's runs");
    sqlite3_bind_text(st, 1, family, -1, SQLITE_STATIC);
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap) v[(*n)++] = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_store_fail(s, rc, "reading a family's runs", __FILE__, __LINE__);
    return DB_OK;
}

/* The statistical check: for every family (runs differing only in their seed) finished both
 * here and in the baseline, the olympic mean of the final test top-1 here must reach the
 * reference-convergence bound of the baseline's runs (core/stats.h). */
static db_status statistical_checks(db_store *s, regress_out *ro, FILE *out, double alpha) {
    enum { CAP = 1024 };
    static double here[CAP], base[CAP], trimmed[CAP];
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db,
                                  "SELECT r.family, min(r.regularizer), min(r.keep_prob), min(r.block_size), min(r.dataset),"
                                  " min(t.name) FROM runs r LEFT JOIN studies t ON t.id = r.study_id WHERE r.status = 'done'"
                                  " AND r.family IN (SELECT family FROM base.runs WHERE status = 'done') GROUP BY r.family"
                                  " ORDER BY min(r.id)", -1, &st, NULL), "grouping runs by family");
    int rc;
    db_status r = DB_OK;
    while (r == DB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char family[64], name[300], detail[300];
        snprintf(family, sizeof family, "%s", (const char *)sqlite3_column_text(st, 0));
        const unsigned char *study = sqlite3_column_text(st, 5);
        const char *reg = (const char *)sqlite3_column_text(st, 1);
        char params[64] = "";
        if (reg && strcmp(reg, "none"))
            snprintf(params, sizeof params, " keep_prob %.3g", sqlite3_column_double(st, 2));
        if (reg && !strcmp(reg, "dropblock"))
            snprintf(params + strlen(params), sizeof params - strlen(params), " block %d", sqlite3_column_int(st, 3));
        snprintf(name, sizeof name, "statistical: %s%s on %s%s%s (family %s): test top1 over seeds", reg ? reg : "?",
                 params, sqlite3_column_text(st, 4), study ? ", study " : "", study ? (const char *)study : "", family);
        int nh = 0, nb = 0;
        if ((r = family_values(s, "main", family, here, CAP, &nh)) != DB_OK ||
            (r = family_values(s, "base", family, base, CAP, &nb)) != DB_OK)
            break;
        db_rcp b;
        if (!db_rcp_bound(base, nb, nh, alpha, 1, &b)) {
            snprintf(detail, sizeof detail, "%d runs here and %d in the baseline; the check needs at least 3 and 4 "
                     "(underpowered, not compared)", nh, nb);
            regress_skip(ro, out, "statistical", name, detail);
            continue;
        }
        int k = db_olympic(here, nh, trimmed);
        double mean = db_mean(trimmed, k);
        snprintf(detail, sizeof detail, "olympic mean %.4f over %d runs; baseline %.4f over %d (sd %.4f), smallest "
                 "acceptable %.4f (one-sided t, alpha %g)", mean, nh, b.ref_mean, nb, b.ref_sd, b.min_mean, alpha);
        regress_check(ro, out, "statistical", name, mean >= b.min_mean, detail);
    }
    sqlite3_finalize(st);
    if (r == DB_OK && rc != SQLITE_DONE) r = db_store_fail(s, rc, "grouping runs by family", __FILE__, __LINE__);
    return r;
}

static db_status record(db_store *s, const char *baseline, const regress_out *ro);

/* Runs whose epochs were replayed from a checkpoint (trained before, maybe by another build),
 * or that went on at another number of data-parallel processes (resharded): listed as skipped;
 * the canary and the statistical check leave them out */
static db_status replayed_skips(db_store *s, regress_out *ro, FILE *out) {
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT r.id, r.regularizer, r.seed, p.key, p.value FROM runs r JOIN provenance p"
                                  " ON p.run_id = r.id AND p.key IN " DB_UNJUDGED " WHERE r.status = 'done' ORDER BY r.id,"
                                  " p.key", -1, &st, NULL), "finding replayed runs");
    int rc;
    int64_t last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char name[160], why[300];
        if (sqlite3_column_int64(st, 0) == last) continue; /* one line a run (replayed and resharded: the first) */
        last = sqlite3_column_int64(st, 0);
        snprintf(name, sizeof name, "run %lld (%s, seed %lld)", (long long)sqlite3_column_int64(st, 0),
                 sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2));
        if (!strcmp((const char *)sqlite3_column_text(st, 3), "resharded"))
            snprintf(why, sizeof why, "it went on at another number of processes (%.200s): not judged",
                     sqlite3_column_text(st, 4));
        else
            snprintf(why, sizeof why, "epochs 1-%s were replayed from a checkpoint, not trained by this build: not judged",
                     sqlite3_column_text(st, 4));
        regress_skip(ro, out, "canary", name, why);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_store_fail(s, rc, "finding replayed runs", __FILE__, __LINE__);
    return DB_OK;
}

/* Runs that did not finish, and cells not run. The newest run here of each setting that is not
 * done fails unless it diverged and so did the baseline's newest of that setting (a diverging
 * configuration); one still running (another host's, or a live process) is skipped.
 * A finished baseline run of a study whose recipe text was run here, with no run of its settings
 * here, fails: a cell the nightly did not run (the study stopped, or its process killed). */
static db_status completion_checks(db_store *s, regress_out *ro, FILE *out) {
    static const char *const ended =
        "SELECT n.id, n.regularizer, n.seed, n.status, ifnull(n.exit_reason, ''), b.id, b.status, n.host, n.pid"
        " FROM (SELECT max(id) AS id FROM runs GROUP BY fingerprint) newest JOIN runs n ON n.id = newest.id"
        " LEFT JOIN base.runs b ON b.id = (SELECT max(id) FROM base.runs WHERE fingerprint = n.fingerprint)"
        " WHERE n.status <> 'done' ORDER BY n.id";
    static const char *const missing = /* (each list made once: no scan of the runs per baseline run) */
        "SELECT b.id, b.regularizer, b.seed, t.name, ifnull(b.cell, '') FROM base.runs b JOIN base.studies t ON"
        " t.id = b.study_id WHERE b.status = 'done' AND t.recipe IN (SELECT recipe FROM studies WHERE recipe IS NOT NULL)"
        " AND b.fingerprint NOT IN (SELECT fingerprint FROM runs) AND b.id NOT IN (SELECT run_id FROM base.provenance"
        " WHERE key IN " DB_UNJUDGED ") ORDER BY b.id";
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *st;
        SQL_TRY(s, sqlite3_prepare_v2(s->db, pass ? missing : ended, -1, &st, NULL), "finding unfinished runs");
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            char name[200], detail[700];
            if (pass) {
                snprintf(name, sizeof name, "baseline run %lld (%s, seed %lld; study %s, cell %s): run here",
                         (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
                         (long long)sqlite3_column_int64(st, 2), sqlite3_column_text(st, 3), sqlite3_column_text(st, 4));
                regress_check(ro, out, "completion", name, 0, "no run of its settings here, where its study ran (the "
                              "cell not run, or run with other settings: another number of processes, another build's "
                              "configuration keys)");
                continue;
            }
            snprintf(name, sizeof name, "run %lld (%s, seed %lld): finished", (long long)sqlite3_column_int64(st, 0),
                     sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2));
            const char *status = (const char *)sqlite3_column_text(st, 3);
            const char *twin = (const char *)sqlite3_column_text(st, 6);
            if (!strcmp(status, "running")) {
                snprintf(detail, sizeof detail, "still running (pid %lld on %s): not judged",
                         (long long)sqlite3_column_int64(st, 8), sqlite3_column_text(st, 7));
                regress_skip(ro, out, "completion", name, detail);
            } else if (twin && !strcmp(status, "diverged") && !strcmp(twin, "diverged")) { /* a diverging configuration */
                snprintf(detail, sizeof detail, "%s, as baseline run %lld did", status, (long long)sqlite3_column_int64(st, 5));
                regress_check(ro, out, "completion", name, 1, detail);
            } else {
                char was[80] = "no run of its settings in the baseline";
                if (twin) snprintf(was, sizeof was, "baseline run %lld %s", (long long)sqlite3_column_int64(st, 5), twin);
                snprintf(detail, sizeof detail, "%s%s%.500s; %s", status, sqlite3_column_text(st, 4)[0] ? ": " : "",
                         sqlite3_column_text(st, 4), was);
                regress_check(ro, out, "completion", name, 0, detail);
            }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return db_store_fail(s, rc, "finding unfinished runs", __FILE__, __LINE__);
    }
    return DB_OK;
}

/* A twin pair's throughput check, and whether its final metrics are compared bit for bit (1) or
 * not (0, said once): the thread count is not in the settings that make twins (it does not
 * change what is computed, only the order of its sums), a GPU run's bits repeat only with
 * deterministic 1. Row: the canary query's (its first row of the pair). */
static int pair_checks(regress_out *ro, FILE *out, sqlite3_stmt *st, double max_slowdown) {
    char name[160], detail[300], threads[2][16], device[16], det[16];
    const int64_t run = sqlite3_column_int64(st, 0), twin = sqlite3_column_int64(st, 1);
    db_store_config_value((const char *)sqlite3_column_text(st, 13), "threads", threads[0], sizeof threads[0]);
    db_store_config_value((const char *)sqlite3_column_text(st, 14), "threads", threads[1], sizeof threads[1]);
    db_store_config_value((const char *)sqlite3_column_text(st, 13), "device", device, sizeof device);
    db_store_config_value((const char *)sqlite3_column_text(st, 13), "deterministic", det, sizeof det);
    const int gpu = !strcmp(device, "cuda"), same_threads = !strcmp(threads[0], threads[1]);
    snprintf(name, sizeof name, "run %lld (%s, seed %lld) vs baseline run %lld: final test metrics", (long long)run,
             sqlite3_column_text(st, 2), (long long)sqlite3_column_int64(st, 3), (long long)twin);
    int exact = 1;
    if (!same_threads) {
        snprintf(detail, sizeof detail, "trained with %s threads, the baseline run with %s: the same bits need the same "
                 "count; not compared", threads[0][0] ? threads[0] : "?", threads[1][0] ? threads[1] : "?");
        regress_skip(ro, out, "canary", name, detail);
        exact = 0;
    } else if (gpu && strcmp(det, "1")) {
        regress_skip(ro, out, "canary", name, "a GPU run without deterministic 1 (its convolutions may add in another "
                     "order each run): not compared bit for bit");
        exact = 0;
    }
    const unsigned char *cpu = sqlite3_column_text(st, 7), *bcpu = sqlite3_column_text(st, 8);
    const unsigned char *card = sqlite3_column_text(st, 15), *bcard = sqlite3_column_text(st, 16);
    double ips = sqlite3_column_double(st, 9), bips = sqlite3_column_double(st, 10);
    int epochs = sqlite3_column_int(st, 12); /* the twin's too: the same settings */
    char which[64] = "epoch 1 only (its warm-up included)"; /* what DB_SQL_THROUGHPUT averaged */
    if (epochs == 2) snprintf(which, sizeof which, "epoch 2 (epoch 1's warm-up left out)");
    else if (epochs > 2) snprintf(which, sizeof which, "epochs 2-%d (epoch 1's warm-up left out)", epochs);
    snprintf(name, sizeof name, "run %lld vs baseline run %lld: training throughput", (long long)run, (long long)twin);
    if (!cpu || !bcpu || strcmp((const char *)cpu, (const char *)bcpu))
        regress_skip(ro, out, "throughput", name, "another CPU model than the baseline's, not compared");
    else if (gpu && (!card || !bcard || strcmp((const char *)card, (const char *)bcard)))
        regress_skip(ro, out, "throughput", name, "another GPU than the baseline's, not compared");
    else if (!same_threads)
        regress_skip(ro, out, "throughput", name, "another thread count than the baseline's, not compared");
    else if (!(bips > 0))
        regress_skip(ro, out, "throughput", name, "the baseline run recorded no training images/s, not compared");
    else {
        snprintf(detail, sizeof detail, "%.1f img/s, baseline %.1f (x%.3f; fails below x%.3f): the mean training "
                 "images/s of %s", ips, bips, ips / bips, 1.0 / max_slowdown, which);
        regress_check(ro, out, "throughput", name, ips * max_slowdown >= bips, detail);
    }
    return exact;
}

db_status db_store_regress(db_store *s, const char *baseline, double max_slowdown, double alpha, FILE *out,
                           const char *junit, int *checks, int *failures, int *skipped) {
    regress_out ro = {0};
    *checks = *failures = *skipped = 0;
    DB_TRY(db_store_attach(s, baseline, "base", "the baseline database"));
    sqlite3_stmt *st;
    if (junit && !(ro.xml = open_memstream(&ro.buf, &ro.len))) {
        sqlite3_exec(s->db, "DETACH DATABASE base", NULL, NULL, NULL);
        return db_fail(DB_ERR_NOMEM, "out of memory");
    }
    /* the canary: final test metrics of each twin pair, compared exactly */
    static const char *const canary =
        "SELECT n.id, b.id, n.regularizer, n.seed, mn.name, mn.value, mb.value,"
        " (SELECT value FROM provenance WHERE run_id = n.id AND key = 'cpu'),"
        " (SELECT value FROM base.provenance WHERE run_id = b.id AND key = 'cpu'),"
        " " DB_SQL_THROUGHPUT("", "n") ", " DB_SQL_THROUGHPUT("base.", "b") ","
        " mb.run_id, n.epochs_done, n.config, b.config,"
        " (SELECT value FROM provenance WHERE run_id = n.id AND key = 'gpu'),"
        " (SELECT value FROM base.provenance WHERE run_id = b.id AND key = 'gpu')"
        /* the twin: the newest finished baseline run of the settings, one of the same thread count
         * first (as one number: 2^62 for the same count, plus the id) */
        " FROM runs n JOIN base.runs b ON b.id = (SELECT max((config_value(x.config, 'threads') IS"
        " config_value(n.config, 'threads')) * 4611686018427387904 + x.id) % 4611686018427387904 FROM base.runs x"
        " WHERE fingerprint = n.fingerprint AND status = 'done' AND NOT EXISTS (SELECT 1 FROM base.provenance WHERE"
        " run_id = x.id AND key IN " DB_UNJUDGED "))"
        " JOIN metrics mn ON mn.run_id = n.id AND mn.split = 'test' AND mn.epoch = n.epochs_done AND mn.step = 0"
        " LEFT JOIN base.metrics mb ON mb.run_id = b.id AND mb.split = 'test' AND mb.epoch = b.epochs_done AND"
        " mb.step = 0 AND mb.name = mn.name"
        " WHERE n.status = 'done' AND NOT EXISTS (SELECT 1 FROM provenance WHERE run_id = n.id AND key IN " DB_UNJUDGED ")"
        " ORDER BY n.id, mn.name";
    db_status xs = replayed_skips(s, &ro, out);
    int rc = xs == DB_OK ? sqlite3_prepare_v2(s->db, canary, -1, &st, NULL) : SQLITE_DONE;
    int64_t last_run = 0;
    if (xs != DB_OK || rc != SQLITE_OK) st = NULL;
    int exact = 1; /* the pair's bits comparable: the same thread count, a GPU run deterministic */
    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char name[160], detail[300];
        int64_t run = sqlite3_column_int64(st, 0), twin = sqlite3_column_int64(st, 1);
        if (run != last_run) { /* the pair's first row: what may be compared, and its throughput */
            last_run = run;
            exact = pair_checks(&ro, out, st, max_slowdown);
        }
        if (!exact) continue;
        int same = sqlite3_column_type(st, 6) != SQLITE_NULL &&
                   (sqlite3_column_type(st, 5) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 5) == sqlite3_column_double(st, 6));
        snprintf(name, sizeof name, "run %lld (%s, seed %lld) vs baseline run %lld: test %s", (long long)run,
                 sqlite3_column_text(st, 2), (long long)sqlite3_column_int64(st, 3), (long long)twin,
                 sqlite3_column_text(st, 4));
        char v[2][32]; /* a value not recorded (a non-finite one) said as such, not as 0 */
        for (int k = 0; k < 2; k++)
            if (sqlite3_column_type(st, 5 + k) == SQLITE_NULL) snprintf(v[k], sizeof v[k], "none recorded");
            else snprintf(v[k], sizeof v[k], "%.17g", sqlite3_column_double(st, 5 + k));
        snprintf(detail, sizeof detail, "%s, baseline %s%s", v[0], v[1], same ? "" : " (the deterministic canary changed)");
        if (sqlite3_column_type(st, 11) == SQLITE_NULL) /* a metric the baseline's version did not record */
            regress_skip(&ro, out, "canary", name, "the baseline recorded no such metric (a later version's): not judged");
        else regress_check(&ro, out, "canary", name, same, detail);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) xs = db_store_fail(s, rc, "comparing with the baseline", __FILE__, __LINE__);
    if (xs == DB_OK) xs = statistical_checks(s, &ro, out, alpha);
    if (xs == DB_OK) xs = completion_checks(s, &ro, out);
    if (ro.xml) {
        fclose(ro.xml);
        FILE *f = fopen(junit, "w");
        if (f) {
            /* tests: every case, the skipped ones too (JUnit's passed = tests - failures - skipped) */
            fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"dropbench-regress\" tests=\"%d\" "
                       "failures=\"%d\" skipped=\"%d\">\n%s</testsuite>\n", ro.checks + ro.skipped, ro.failures,
                    ro.skipped, ro.buf ? ro.buf : "");
            if (ferror(f) | fclose(f)) f = NULL;
        }
        if (!f && xs == DB_OK) xs = db_fail(DB_ERR_IO, "%s: cannot write the JUnit file: %s", junit, strerror(errno));
        free(ro.buf);
    }
    sqlite3_exec(s->db, "DETACH DATABASE base", NULL, NULL, NULL);
    if (xs == DB_OK && ro.nomem) xs = db_fail(DB_ERR_NOMEM, "out of memory keeping the checks");
    if (xs == DB_OK) xs = record(s, baseline, &ro);
    for (int i = 0; i < ro.nrows; i++) { free(ro.rows[i].name); free(ro.rows[i].detail); }
    free(ro.rows);
    if (xs != DB_OK) return xs;
    *checks = ro.checks;
    *failures = ro.failures;
    *skipped = ro.skipped;
    return DB_OK;
}

/* The comparison and its checks, in one transaction (the report shows the latest) */
static db_status record(db_store *s, const char *baseline, const regress_out *ro) {
    char now[32];
    db_store_now_iso(now, sizeof now);
    SQL_TRY(s, sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "recording the verdicts");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "INSERT INTO regressions(at, baseline, checks, failures, skipped) VALUES (?,?,?,?,?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, baseline, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, ro->checks);
        sqlite3_bind_int(st, 4, ro->failures);
        sqlite3_bind_int(st, 5, ro->skipped);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        st = NULL;
    }
    sqlite3_int64 id = sqlite3_last_insert_rowid(s->db);
    if (rc == SQLITE_DONE)
        rc = sqlite3_prepare_v2(s->db, "INSERT INTO regress_checks(regression_id, seq, kind, name, outcome, detail)"
                                " VALUES (?,?,?,?,?,?)", -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < ro->nrows; i++) {
        const regress_row *r = &ro->rows[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i + 1);
        sqlite3_bind_text(st, 3, r->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->outcome > 0 ? "ok" : r->outcome == 0 ? "fail" : "skip", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->detail, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK || rc == SQLITE_DONE) rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        db_status f = db_store_fail(s, rc, "recording the verdicts", __FILE__, __LINE__);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return f;
    }
    return DB_OK;
}

db_status db_store_last_regression(db_store *s, db_regression *out) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT id, at, baseline, checks, failures, skipped FROM regressions"
                                  " ORDER BY id DESC LIMIT 1", -1, &st, NULL), "reading the latest regress");
    int rc = sqlite3_step(st);
    sqlite3_int64 id = 0;
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        snprintf(out->at, sizeof out->at, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(out->baseline, sizeof out->baseline, "%s", (const char *)sqlite3_column_text(st, 2));
        out->checks = sqlite3_column_int(st, 3);
        out->failures = sqlite3_column_int(st, 4);
        out->skipped = sqlite3_column_int(st, 5);
        out->found = 1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_store_fail(s, rc, "reading the latest regress", __FILE__, __LINE__);
    if (!out->found) return DB_OK;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT kind, name, outcome, detail FROM regress_checks WHERE regression_id = ?"
                                  " ORDER BY outcome = 'ok', outcome = 'skip', seq", -1, &st, NULL), "reading the latest regress");
    sqlite3_bind_int64(st, 1, id);
    int cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->nrows == cap) {
            cap = cap ? 2 * cap : 64;
            db_regress_check *r = realloc(out->rows, sizeof *r * (size_t)cap);
            if (!r) { sqlite3_finalize(st); db_regression_free(out); return db_fail(DB_ERR_NOMEM, "out of memory"); }
            out->rows = r;
        }
        db_regress_check *c = &out->rows[out->nrows++];
        const char *o = (const char *)sqlite3_column_text(st, 2);
        snprintf(c->kind, sizeof c->kind, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(c->name, sizeof c->name, "%s", (const char *)sqlite3_column_text(st, 1));
        c->outcome = !strcmp(o, "ok") ? 1 : !strcmp(o, "fail") ? 0 : -1;
        const unsigned char *d = sqlite3_column_text(st, 3);
        snprintf(c->detail, sizeof c->detail, "%s", d ? (const char *)d : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        db_regression_free(out);
        return db_store_fail(s, rc, "reading the latest regress", __FILE__, __LINE__);
    }
    return DB_OK;
}

void db_regression_free(db_regression *r) {
    free(r->rows);
    r->rows = NULL;
    r->nrows = 0;
}
