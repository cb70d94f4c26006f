/* Runs shown from the store (results/store.h): the list, one run in full, one run's epochs
 * exported as CSV or JSON. */
#include "results/store_internal.h"

#include <math.h>
#include <string.h>

/* A study named to list that the store does not hold: refused naming those it holds (its
 * versions, NAME#2..., are studies of their own) */
static db_status study_known(db_store *s, const char *study) {
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT (SELECT count(*) FROM studies WHERE name = ?1), (SELECT group_concat(name,"
                                         " ', ') FROM (SELECT name FROM studies ORDER BY id))", -1, &st, NULL),
            "finding the study");
    sqlite3_bind_text(st, 1, study, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    db_status r = DB_OK;
    if (rc == SQLITE_ROW && !sqlite3_column_int(st, 0)) {
        const unsigned char *names = sqlite3_column_text(st, 1);
        r = db_fail(DB_ERR_ARG, "%s: no study '%s'; %s%.600s", s->path, study, names ? "its studies: " : "it has no studies",
                    names ? (const char *)names : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) SQL_TRY(s, rc, "finding the study");
    return r;
}

db_status db_store_list(db_store *s, const char *study, FILE *out) {
    sqlite3_stmt *st;
    if (study && *study) DB_TRY(study_known(s, study));
    SQL_TRY(s, sqlite3_prepare_v2(s->db,
                                  "SELECT r.id, r.status, r.model, r.dataset, r.regularizer, r.keep_prob, r.seed,"
                                  " r.epochs_done, r.epochs, (SELECT value FROM metrics m WHERE m.run_id = r.id AND"
                                  " m.split || '/' || m.name = COALESCE(r.primary_metric, 'test/top1') AND m.value IS NOT NULL"
                                  " ORDER BY epoch DESC LIMIT 1), r.started, COALESCE(r.primary_metric, 'test/top1')"
                                  " FROM runs r WHERE ?1 = '' OR r.study_id = (SELECT id FROM studies WHERE name = ?1)"
                                  " ORDER BY r.id", -1, &st, NULL), "listing runs");
    sqlite3_bind_text(st, 1, study ? study : "", -1, SQLITE_STATIC);
    fprintf(out, "%5s  %-11s  %-10s  %-14s  %-15s  %5s  %6s  %7s  %12s  %s\n", "run", "status", "model", "dataset",
            "regularizer", "keep", "seed", "epochs", "score", "started");
    /* keep_prob means nothing without a regularizer: shown as "-" */
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char top1[48] = "-"; /* the run's scoring metric's last value: "top1 73.10%", "AP 42.67%" */
        const char *metric = (const char *)sqlite3_column_text(st, 11), *name = strchr(metric ? metric : "", '/');
        if (sqlite3_column_type(st, 9) != SQLITE_NULL)
            snprintf(top1, sizeof top1, "%s %.2f%%", name ? name + 1 : "top1", 100 * sqlite3_column_double(st, 9));
        char keep[16] = "-";
        if (strcmp((const char *)sqlite3_column_text(st, 4), "none") != 0)
            snprintf(keep, sizeof keep, "%.3g", sqlite3_column_double(st, 5));
        fprintf(out, "%5lld  %-11s  %-10s  %-14s  %-15s  %5s  %6lld  %3d/%-3d  %12s  %s\n",
                (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
                sqlite3_column_text(st, 3), sqlite3_column_text(st, 4), keep,
                (long long)sqlite3_column_int64(st, 6), sqlite3_column_int(st, 7), sqlite3_column_int(st, 8), top1,
                sqlite3_column_text(st, 10));
    }
    sqlite3_finalize(st);
    SQL_TRY(s, rc, "listing runs");
    return DB_OK;
}

db_status db_store_show(db_store *s, int64_t run, FILE *out) {
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT status, started, heartbeat, ended, exit_reason, host, pid,"
                                         " checkpoint_dir, config FROM runs WHERE id = ?", -1, &st, NULL), "reading the run");
    sqlite3_bind_int64(st, 1, run);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) return db_fail(DB_ERR_ARG, "%s: no run %lld", s->path, (long long)run);
        SQL_TRY(s, rc, "reading the run");
    }
    fprintf(out, "run %lld: %s\nstarted %s, last heartbeat %s, ended %s\n", (long long)run, sqlite3_column_text(st, 0),
            sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
            sqlite3_column_type(st, 3) == SQLITE_NULL ? "-" : (const char *)sqlite3_column_text(st, 3));
    if (sqlite3_column_type(st, 4) != SQLITE_NULL && sqlite3_column_bytes(st, 4) > 0)
        fprintf(out, "exit reason: %s\n", sqlite3_column_text(st, 4));
    fprintf(out, "host %s, pid %lld, checkpoint %s\n\nconfiguration:\n%s", sqlite3_column_text(st, 5),
            (long long)sqlite3_column_int64(st, 6), sqlite3_column_text(st, 7), sqlite3_column_text(st, 8));
    sqlite3_finalize(st);
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT key, value FROM provenance WHERE run_id = ? ORDER BY key", -1, &st, NULL),
            "reading provenance");
    sqlite3_bind_int64(st, 1, run);
    fprintf(out, "\nprovenance:\n");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fprintf(out, "  %-20s %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    SQL_TRY(s, rc, "reading provenance");
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT epoch, split, name, value FROM metrics WHERE run_id = ? AND"
                                         " name NOT LIKE '%/%' ORDER BY epoch, split, name", -1, &st, NULL),
            "reading metrics");
    sqlite3_bind_int64(st, 1, run);
    fprintf(out, "\nmetrics (per-site ones, named drop_fraction/SITE and expected_fraction/SITE, are in the metrics table):\n");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 3) == SQLITE_NULL)
            fprintf(out, "  epoch %3d  %-5s %-16s NaN\n", sqlite3_column_int(st, 0), sqlite3_column_text(st, 1),
                    sqlite3_column_text(st, 2));
        else
            fprintf(out, "  epoch %3d  %-5s %-16s %.6g\n", sqlite3_column_int(st, 0), sqlite3_column_text(st, 1),
                    sqlite3_column_text(st, 2), sqlite3_column_double(st, 3));
    }
    sqlite3_finalize(st);
    SQL_TRY(s, rc, "reading metrics");
    return DB_OK;
}

static void csv_field(FILE *out, const unsigned char *v, int last) {
    const char *t = v ? (const char *)v : "";
    if (strpbrk(t, ",\"\n\r")) {
        fputc('"', out);
        for (; *t; t++) {
            if (*t == '"') fputc('"', out);
            fputc(*t, out);
        }
        fputc('"', out);
    } else {
        fputs(t, out);
    }
    fputc(last ? '\n' : ',', out);
}

db_status db_store_export(db_store *s, int64_t run, int json, FILE *out) {
    static const char *const csv_sql =
        "SELECT r.id, r.status, r.model, r.dataset, r.regularizer, r.keep_prob, r.block_size, r.semantics, r.seed,"
        " r.fingerprint, m.epoch, m.step, m.split, m.name, m.value FROM runs r JOIN metrics m ON m.run_id = r.id"
        " WHERE ?1 = 0 OR r.id = ?1 ORDER BY r.id, m.epoch, m.step, m.split, m.name";
    static const char *const json_sql =
        "SELECT json_group_array(json(j)) FROM (SELECT json_object('id', r.id, 'status', r.status, 'model', r.model,"
        " 'dataset', r.dataset, 'regularizer', r.regularizer, 'keep_prob', r.keep_prob, 'block_size', r.block_size,"
        " 'semantics', r.semantics, 'seed', r.seed, 'epochs', r.epochs, 'epochs_done', r.epochs_done,"
        " 'device', r.device, 'started', r.started, 'ended', r.ended, 'exit_reason', r.exit_reason,"
        " 'config', r.config, 'fingerprint', r.fingerprint,"
        " 'provenance', (SELECT json_group_object(key, value) FROM provenance p WHERE p.run_id = r.id),"
        " 'metrics', (SELECT json_group_array(json_object('epoch', epoch, 'step', step, 'split', split,"
        " 'name', name, 'value', value)) FROM (SELECT * FROM metrics m WHERE m.run_id = r.id"
        " ORDER BY epoch, step, split, name))) AS j FROM runs r WHERE ?1 = 0 OR r.id = ?1 ORDER BY r.id)";
    sqlite3_stmt *st;
    if (run > 0) { /* one run that is not there is an error, as for show (not an empty table) */
        char q[96];
        int have = 0;
        snprintf(q, sizeof q, "SELECT count(*) FROM runs WHERE id = %lld", (long long)run);
        DB_TRY(db_store_query_int(s, q, "exporting", &have));
        if (!have) return db_fail(DB_ERR_ARG, "%s: no run %lld", s->path, (long long)run);
    }
    SQL_TRY(s, sqlite3_prepare_v2(s->db, json ? json_sql : csv_sql, -1, &st, NULL), "exporting");
    sqlite3_bind_int64(st, 1, run);
    int rc;
    if (!json)
        fprintf(out, "run,status,model,dataset,regularizer,keep_prob,block_size,semantics,seed,fingerprint,"
                     "epoch,step,split,name,value\n");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (json) {
            fprintf(out, "%s\n", sqlite3_column_text(st, 0));
            continue;
        }
        for (int c = 0; c < 15; c++) csv_field(out, sqlite3_column_text(st, c), c == 14);
    }
    sqlite3_finalize(st);
    SQL_TRY(s, rc, "exporting");
    return ferror(out) ? db_fail(DB_ERR_IO, "writing the export failed") : DB_OK;
}
