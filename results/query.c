/* Reading a study's runs back as plain values, for the report: no SQLite beyond this file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/store_internal.h"

/* A text column as the report shows it: a tab or line break (which would split a table's cell or
 * row, or make a key=value line of its own) as a space */
static void copy_col(sqlite3_stmt *st, int i, char *out, size_t n) {
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, n, "%s", t ? (const char *)t : "");
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' ';
}

void db_run_rows_free(db_run_row *rows, int n) {
    for (int i = 0; rows && i < n; i++) {
        free(rows[i].curve);
        free(rows[i].sites);
    }
    free(rows);
}

/* Per-epoch scoring metric and the last epoch's per-site fractions of one run */
static db_status load_series(db_store *s, db_run_row *r) {
    sqlite3_stmt *st;
    r->ncurve = r->epochs_done;
    r->curve = calloc((size_t)(r->ncurve > 0 ? r->ncurve : 1), sizeof *r->curve);
    if (!r->curve) return db_fail(DB_ERR_NOMEM, "out of memory");
    for (int e = 0; e < r->ncurve; e++) r->curve[e] = NAN;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT epoch, value FROM metrics WHERE run_id = ? AND split || '/' || name = ?"
                                         " AND step = 0 ORDER BY epoch", -1, &st, NULL), "reading a curve");
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, r->metric, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int e = sqlite3_column_int(st, 0);
        if (e >= 1 && e <= r->ncurve && sqlite3_column_type(st, 1) != SQLITE_NULL) r->curve[e - 1] = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_store_fail(s, rc, "reading a curve", __FILE__, __LINE__);
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT substr(d.name, 15), d.value, x.value FROM metrics d JOIN metrics x ON"
                                         " x.run_id = d.run_id AND x.epoch = d.epoch AND x.step = d.step AND x.split ="
                                         " d.split AND x.name = 'expected_fraction/' || substr(d.name, 15) WHERE d.run_id = ?"
                                         " AND d.epoch = ? AND d.name LIKE 'drop_fraction/%' ORDER BY d.rowid", -1, &st, NULL),
            "reading per-site fractions");
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int(st, 2, r->epochs_done);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        db_site_row *g = realloc(r->sites, (size_t)(r->nsites + 1) * sizeof *g);
        if (!g) { sqlite3_finalize(st); return db_fail(DB_ERR_NOMEM, "out of memory"); }
        r->sites = g;
        db_site_row *x = &r->sites[r->nsites++];
        copy_col(st, 0, x->name, sizeof x->name);
        x->drop_fraction = sqlite3_column_double(st, 1);
        x->expected_fraction = sqlite3_column_double(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_store_fail(s, rc, "reading per-site fractions", __FILE__, __LINE__);
    return DB_OK;
}

/* The metric that scores a run: recorded with it since schema 3; top-1 for runs before */
#define PRIMARY_METRIC "ifnull(r.primary_metric, 'test/top1')"

/* Runs matching `where` (with one text or integer parameter) appended to *rows */
static db_status load_rows(db_store *s, const char *where, const char *text, int64_t id, db_run_row **rows, int *n) {
    sqlite3_stmt *st;
    char sql[2400];
    snprintf(sql, sizeof sql,
        "SELECT r.id, r.fingerprint, ifnull(r.family, r.fingerprint), r.status, r.regularizer, r.seed, r.epochs,"
        " r.epochs_done, ifnull(r.exit_reason, ''), r.device,"
        " (SELECT value FROM metrics WHERE run_id = r.id AND split || '/' || name = " PRIMARY_METRIC " AND"
        "  epoch = r.epochs_done AND step = 0),"
        " (SELECT max(value) FROM metrics WHERE run_id = r.id AND split || '/' || name = " PRIMARY_METRIC " AND step = 0),"
        " (SELECT value FROM metrics WHERE run_id = r.id AND split = 'test' AND name = 'top5' AND epoch = r.epochs_done),"
        " " DB_SQL_THROUGHPUT("", "r") ","
        " (SELECT value FROM metrics WHERE run_id = r.id AND split = 'train' AND name = 'drop_fraction' AND"
        "  epoch = r.epochs_done),"
        " (SELECT value FROM metrics WHERE run_id = r.id AND split = 'train' AND name = 'expected_fraction' AND"
        "  epoch = r.epochs_done), " PRIMARY_METRIC ","
        " (julianday(ifnull(r.ended, r.heartbeat)) - julianday(r.started)) * 86400,"
        " ifnull((SELECT substr(value, 1, 10) FROM provenance WHERE run_id = r.id AND key = 'git_commit'), '')"
        " FROM runs r LEFT JOIN studies t ON t.id = r.study_id WHERE %s ORDER BY r.id", where);
    SQL_TRY(s, sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), "reading runs");
    if (text) sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else sqlite3_bind_int64(st, 1, id);
    int rc, first = *n;
    db_status r = DB_OK;
    while (r == DB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        db_run_row *g = realloc(*rows, (size_t)(*n + 1) * sizeof *g);
        if (!g) { r = db_fail(DB_ERR_NOMEM, "out of memory"); break; }
        *rows = g;
        db_run_row *x = &g[(*n)++];
        memset(x, 0, sizeof *x);
        x->id = sqlite3_column_int64(st, 0);
        copy_col(st, 1, x->fingerprint, sizeof x->fingerprint);
        copy_col(st, 2, x->family, sizeof x->family);
        copy_col(st, 3, x->status, sizeof x->status);
        copy_col(st, 4, x->regularizer, sizeof x->regularizer);
        x->seed = (uint64_t)sqlite3_column_int64(st, 5);
        x->epochs = sqlite3_column_int(st, 6);
        x->epochs_done = sqlite3_column_int(st, 7);
        copy_col(st, 8, x->exit_reason, sizeof x->exit_reason);
        copy_col(st, 9, x->device, sizeof x->device);
        double *v[6] = {&x->final_score, &x->best_score, &x->final_top5, &x->images_per_s, &x->drop_fraction,
                        &x->expected_fraction};
        for (int k = 0; k < 6; k++) *v[k] = sqlite3_column_type(st, 10 + k) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 10 + k);
        copy_col(st, 16, x->metric, sizeof x->metric);
        x->wall_s = sqlite3_column_type(st, 17) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 17);
        copy_col(st, 18, x->commit, sizeof x->commit);
    }
    sqlite3_finalize(st);
    if (r == DB_OK && rc != SQLITE_DONE) r = db_store_fail(s, rc, "reading runs", __FILE__, __LINE__);
    for (int i = first; r == DB_OK && i < *n; i++) r = load_series(s, &(*rows)[i]);
    return r;
}

db_status db_store_study_runs(db_store *s, const char *study, db_run_row **rows, int *n) {
    *rows = NULL;
    *n = 0;
    db_status r = load_rows(s, "t.name = ?", study, 0, rows, n);
    if (r != DB_OK) { db_run_rows_free(*rows, *n); *rows = NULL; *n = 0; }
    return r;
}

db_status db_store_append_run(db_store *s, int64_t id, db_run_row **rows, int *n) {
    return load_rows(s, "r.id = ?", NULL, id, rows, n);
}

db_status db_store_studies(db_store *s, char (**names)[64], int *n) {
    *names = NULL;
    *n = 0;
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT name FROM studies ORDER BY id", -1, &st, NULL), "listing studies");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char (*g)[64] = realloc(*names, (size_t)(*n + 1) * sizeof *g);
        if (!g) { sqlite3_finalize(st); free(*names); *names = NULL; *n = 0; return db_fail(DB_ERR_NOMEM, "out of memory"); }
        *names = g;
        const unsigned char *name = sqlite3_column_text(st, 0); /* (as stored: the name its runs are found by) */
        snprintf(g[(*n)++], 64, "%s", name ? (const char *)name : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_store_fail(s, rc, "listing studies", __FILE__, __LINE__);
    return DB_OK;
}

db_status db_store_latest_provenance(db_store *s, const char *study, char *out, size_t n) {
    sqlite3_stmt *st;
    out[0] = '\0';
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT p.key, p.value FROM provenance p WHERE p.run_id = (SELECT max(r.id) FROM"
                                         " runs r JOIN studies t ON t.id = r.study_id WHERE t.name = ?) ORDER BY p.key",
                                  -1, &st, NULL), "reading provenance");
    sqlite3_bind_text(st, 1, study, -1, SQLITE_STATIC);
    int rc;
    size_t used = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && used < n) {
        const size_t at = used; /* (a value's line break or tab a space: no key=value line of its own) */
        used += (size_t)snprintf(out + used, n - used, "%s=%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
        for (size_t k = at; k + 1 < used && k + 1 < n; k++)
            if ((unsigned char)out[k] < 0x20) out[k] = ' ';
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_store_fail(s, rc, "reading provenance", __FILE__, __LINE__);
    return DB_OK;
}

db_status db_store_paper_values(db_store *s, db_paper_value **out, int *n) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT source, model, regularizer, params, metric, status, value, plusminus FROM paper_values"
                                         " WHERE value IS NOT NULL", -1, &st, NULL), "reading the paper's values");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        db_paper_value *g = realloc(*out, (size_t)(*n + 1) * sizeof *g);
        if (!g) { sqlite3_finalize(st); free(*out); *out = NULL; *n = 0; return db_fail(DB_ERR_NOMEM, "out of memory"); }
        *out = g;
        db_paper_value *v = &g[(*n)++];
        copy_col(st, 0, v->source, sizeof v->source);
        copy_col(st, 1, v->model, sizeof v->model);
        copy_col(st, 2, v->regularizer, sizeof v->regularizer);
        copy_col(st, 3, v->params, sizeof v->params);
        copy_col(st, 4, v->metric, sizeof v->metric);
        copy_col(st, 5, v->status, sizeof v->status);
        v->value = sqlite3_column_double(st, 6);
        v->plusminus = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 7);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_store_fail(s, rc, "reading the paper's values", __FILE__, __LINE__);
    return DB_OK;
}
