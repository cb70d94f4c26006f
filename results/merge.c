/* Folding shard databases (one per cluster task) into one: runs are identified by their uuid,
 * so merging the same shard again changes nothing, and a shard whose run went further since
 * the last merge brings its progress (never over a record finished here, or one that has gone
 * on here since: a merge again after a resume). A shard's study joins the version of it here
 * recorded with the same recipe text, or becomes a new version (NAME#2), as a study run here
 * would. */
#include <stdio.h>
#include <string.h>

#include "results/store_internal.h"

static const char *const run_columns =
    "recipe, config, fingerprint, model, dataset, regularizer, keep_prob, block_size, semantics, seed, epochs,"
    " device, status, started, heartbeat, ended, exit_reason, host, pid, checkpoint_dir, epochs_done, family,"
    " cell, condition, task, primary_metric, pid_start";

/* sql with ?1 = a and, where it has one, ?2 = b */
static db_status exec_one(db_store *s, const char *sql, int64_t a, int64_t b, const char *what) {
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), what);
    sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) > 1) sqlite3_bind_int64(st, 2, b);
    return db_store_step_done(s, st, what);
}

/* one shard run into main (new, or brought up to date); *fresh = 1 when it was new, *changed = 1
 * when it was here and the shard brought something it lacked (progress, a metric) */
static db_status merge_run(db_store *s, int64_t sid, const char *uuid, int *fresh, int *changed) {
    sqlite3_stmt *st;
    int64_t mid = 0;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT id FROM main.runs WHERE uuid = ?", -1, &st, NULL), "merging");
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) mid = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    *fresh = mid == 0;
    *changed = 0;
    char sql[1024];
    if (!mid) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO main.runs(uuid, study_id, %s) SELECT uuid, (SELECT main_id FROM temp.study_map WHERE"
                 " shard_id = r.study_id), %s FROM shard.runs r WHERE r.id = ?1",
                 run_columns, run_columns);
        DB_TRY(exec_one(s, sql, sid, 0, "merging a run"));
        mid = sqlite3_last_insert_rowid(s->db);
        DB_TRY(exec_one(s, "INSERT INTO main.provenance SELECT ?2, key, value FROM shard.provenance WHERE run_id = ?1",
                        sid, mid, "merging provenance"));
    } else { /* the shard's copy may have gone further */
        DB_TRY(exec_one(s, "UPDATE main.runs SET (status, heartbeat, ended, exit_reason, epochs_done) = (SELECT status,"
                           " heartbeat, ended, exit_reason, epochs_done FROM shard.runs WHERE id = ?1) WHERE id = ?2 AND"
                           " status <> 'done' AND EXISTS (SELECT 1 FROM shard.runs t WHERE t.id = ?1 AND (t.epochs_done >"
                           " runs.epochs_done OR (t.epochs_done = runs.epochs_done AND (ifnull(t.heartbeat, '') >"
                           " ifnull(runs.heartbeat, '') OR (runs.status = 'running' AND t.status <> 'running' AND"
                           " ifnull(t.heartbeat, '') = ifnull(runs.heartbeat, ''))))))",
                        sid, mid, "merging a run's progress"));
        /* ended there after the copy here (its end, or a kill found, in the same second) */
        *changed = sqlite3_changes(s->db) > 0;
    }
    /* only the metrics main lacks or holds otherwise (what changed is counted); a record that went
     * on here instead keeps its own values of the epochs both have */
    DB_TRY(exec_one(s, *fresh || *changed ? "INSERT OR REPLACE INTO main.metrics SELECT ?2, epoch, step, split, name, value"
                                            " FROM shard.metrics t WHERE run_id = ?1 AND NOT EXISTS (SELECT 1 FROM"
                                            " main.metrics m WHERE m.run_id = ?2 AND m.epoch = t.epoch AND m.step ="
                                            " t.step AND m.split = t.split AND m.name = t.name AND m.value IS t.value)"
                                          : "INSERT OR IGNORE INTO main.metrics SELECT ?2, epoch, step, split, name, value"
                                            " FROM shard.metrics WHERE run_id = ?1",
                    sid, mid, "merging metrics"));
    if (!*fresh && sqlite3_changes(s->db) > 0) *changed = 1;
    return DB_OK;
}

/* Each shard study's study here (temp.study_map): the version of its name (a shard's own NAME#k
 * read as NAME) with its recipe text, made when there is none */
static db_status map_studies(db_store *s) {
    sqlite3_stmt *st, *ins;
    DB_TRY(db_store_exec(s, "CREATE TEMP TABLE IF NOT EXISTS study_map(shard_id INTEGER PRIMARY KEY, main_id INTEGER);"
                            " DELETE FROM temp.study_map", "merging studies"));
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT id, name, ifnull(recipe, '') FROM shard.studies ORDER BY id", -1, &st, NULL),
            "merging studies");
    int rc;
    db_status r = DB_OK;
    while (r == DB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char name[256], here[256];
        int versioned;
        snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(st, 1));
        size_t bad = strcspn(name, "\t\n\r/"); /* a name a recipe could not have given (the report keeps 63 bytes) */
        if (strlen(name) > 63 || name[bad]) {
            r = db_fail(DB_ERR_FORMAT, "the shard's study '%.80s' has a name no recipe gives (over 63 bytes, or a tab, line "
                        "break or '/'): not merged", name);
            break;
        }
        char *hash = strrchr(name, '#');
        if (hash && hash > name && hash[1] && !hash[1 + strspn(hash + 1, "0123456789")]) *hash = '\0';
        r = db_store_study_version(s, name, (const char *)sqlite3_column_text(st, 2), here, sizeof here, &versioned);
        if (r != DB_OK) break;
        if (sqlite3_prepare_v2(s->db, "INSERT INTO temp.study_map VALUES (?, (SELECT id FROM main.studies WHERE name = ?))",
                               -1, &ins, NULL) != SQLITE_OK) {
            r = db_store_fail(s, sqlite3_errcode(s->db), "merging studies", __FILE__, __LINE__);
            break;
        }
        sqlite3_bind_int64(ins, 1, sqlite3_column_int64(st, 0));
        sqlite3_bind_text(ins, 2, here, -1, SQLITE_TRANSIENT);
        r = db_store_step_done(s, ins, "merging studies");
    }
    sqlite3_finalize(st);
    return r;
}

static db_status merge_all(db_store *s, int *added, int *present, int *updated) {
    sqlite3_stmt *st;
    DB_TRY(map_studies(s));
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT id, uuid FROM shard.runs ORDER BY id", -1, &st, NULL), "merging");
    int rc;
    db_status r = DB_OK;
    while (r == DB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char uuid[64];
        int fresh = 0, changed = 0;
        snprintf(uuid, sizeof uuid, "%s", (const char *)sqlite3_column_text(st, 1));
        r = merge_run(s, sqlite3_column_int64(st, 0), uuid, &fresh, &changed);
        *added += fresh;
        *present += !fresh;
        *updated += changed;
    }
    sqlite3_finalize(st);
    return r;
}

db_status db_store_merge(db_store *s, const char *shard, int *added, int *present, int *updated) {
    *added = *present = *updated = 0;
    db_status r = db_store_attach(s, shard, "shard", "the shard");
    if (r != DB_OK) return r;
    if (r == DB_OK && sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        r = db_store_fail(s, sqlite3_errcode(s->db), "locking the database to merge", __FILE__, __LINE__);
    else if (r == DB_OK) {
        r = merge_all(s, added, present, updated);
        if (r == DB_OK && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            r = db_store_fail(s, sqlite3_errcode(s->db), "committing the merge", __FILE__, __LINE__);
        if (r != DB_OK) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_exec(s->db, "DETACH DATABASE shard", NULL, NULL, NULL);
    if (r != DB_OK) *added = *present = *updated = 0;
    return r;
}
