/* Reading one run's or one study's record back (for `dropbench resume`), and named baselines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dirs.h"
#include "results/store_internal.h"

static char *dup_col(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return strdup(t ? (const char *)t : "");
}

void db_run_record_free(db_run_record *r) {
    free(r->config); free(r->status); free(r->checkpoint_dir); free(r->recipe); free(r->study); free(r->recipe_text);
    free(r->host); free(r->exit_reason); free(r->cell); free(r->condition);
    memset(r, 0, sizeof *r);
}

db_status db_store_get_run(db_store *s, int64_t run, db_run_record *out) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT r.config, r.status, r.checkpoint_dir, r.recipe, t.name, t.recipe, r.host,"
                                         " r.pid, r.exit_reason, r.cell, r.condition, r.epochs_done, r.pid_start FROM runs r LEFT JOIN studies t ON"
                                         " t.id = r.study_id"
                                         " WHERE r.id = ?",
                                  -1, &st, NULL), "reading the run");
    sqlite3_bind_int64(st, 1, run);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->config = dup_col(st, 0); out->status = dup_col(st, 1); out->checkpoint_dir = dup_col(st, 2);
        out->recipe = dup_col(st, 3); out->study = dup_col(st, 4); out->recipe_text = dup_col(st, 5);
        out->host = dup_col(st, 6);
        out->pid = sqlite3_column_int64(st, 7);
        out->exit_reason = dup_col(st, 8);
        out->cell = dup_col(st, 9); out->condition = dup_col(st, 10);
        out->epochs_done = sqlite3_column_int(st, 11);
        const char *start = (const char *)sqlite3_column_text(st, 12);
        out->alive_here = out->status && !strcmp(out->status, "running") && out->host && !strcmp(out->host, s->host) &&
                          db_store_pid_space_ours(start) && db_store_process_alive((pid_t)out->pid, start);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return db_fail(DB_ERR_ARG, "%s: no run %lld", s->path, (long long)run);
    if (rc != SQLITE_ROW) return db_store_fail(s, rc, "reading the run", __FILE__, __LINE__);
    if (!out->config || !out->status || !out->checkpoint_dir || !out->recipe || !out->study || !out->recipe_text ||
        !out->host || !out->exit_reason || !out->cell || !out->condition) {
        db_run_record_free(out);
        return db_fail(DB_ERR_NOMEM, "out of memory");
    }
    return DB_OK;
}

db_status db_store_get_study(db_store *s, const char *name, char **recipe_path, char **recipe_text) {
    *recipe_path = *recipe_text = NULL;
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT t.recipe, (SELECT recipe FROM runs WHERE study_id = t.id ORDER BY id"
                                         " LIMIT 1) FROM studies t WHERE t.name = ?", -1, &st, NULL), "reading the study");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *recipe_text = dup_col(st, 0);
        *recipe_path = dup_col(st, 1);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return db_fail(DB_ERR_ARG, "%s: no study '%s' (dropbench list shows the runs)", s->path, name);
    if (rc != SQLITE_ROW) return db_store_fail(s, rc, "reading the study", __FILE__, __LINE__);
    if (!*recipe_text || !*recipe_path) {
        free(*recipe_text); free(*recipe_path);
        *recipe_path = *recipe_text = NULL;
        return db_fail(DB_ERR_NOMEM, "out of memory");
    }
    if (!**recipe_text) {
        free(*recipe_text); free(*recipe_path);
        *recipe_path = *recipe_text = NULL;
        return db_fail(DB_ERR_ARG, "%s: study '%s' has no recorded recipe", s->path, name);
    }
    return DB_OK;
}

db_status db_store_tag_path(const char *db_path, const char *name, char *out, size_t n) {
    if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(name) ||
        name[0] == '.')
        return db_fail(DB_ERR_ARG, "tag '%s': use letters, digits, '.', '_' and '-' (not first '.')", name);
    size_t nl = strlen(name);
    if (nl > 3 && !strcmp(name + nl - 3, ".db")) /* regress --baseline takes such a name for a file */
        return db_fail(DB_ERR_ARG, "tag '%s': a name ending in .db is read as a file by regress --baseline; drop the .db",
                       name);
    const char *slash = strrchr(db_path, '/');
    int len = slash ? snprintf(out, n, "%.*s/baselines/%s.db", (int)(slash - db_path), db_path, name)
                    : snprintf(out, n, "baselines/%s.db", name);
    if (len < 0 || (size_t)len >= n) return db_fail(DB_ERR_ARG, "tag '%s': the path is too long", name);
    return DB_OK;
}

db_status db_store_tag(db_store *s, const char *name, char *path, size_t n) {
    DB_TRY(db_store_tag_path(s->path, name, path, n));
    if (access(path, F_OK) == 0)
        return db_fail(DB_ERR_ARG, "%s: tag '%s' exists already (choose another name, or delete the file)", path, name);
    DB_TRY(db_make_dirs_for(path));
    /* written under a temporary name and renamed: a killed tag leaves no half baseline under the
     * tag's own name */
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    unlink(tmp);
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "VACUUM INTO ?", -1, &st, NULL), "copying the database for the tag");
    sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC);
    db_status r = db_store_step_done(s, st, "copying the database for the tag");
    if (r == DB_OK && rename(tmp, path) != 0)
        r = db_fail(DB_ERR_IO, "%s: cannot move the baseline into place: %s", path, strerror(errno));
    if (r != DB_OK) unlink(tmp);
    return r;
}

/* One provenance value: run's (run > 0), else study's newest run's that has it; "" when none */
static db_status provenance_value(db_store *s, int64_t run, const char *study, const char *key, char *out, size_t n) {
    sqlite3_stmt *st;
    out[0] = '\0';
    SQL_TRY(s, sqlite3_prepare_v2(s->db, run > 0 ? "SELECT value FROM provenance WHERE run_id = ?1 AND key = ?2"
                                                 : "SELECT p.value FROM provenance p JOIN runs r ON r.id = p.run_id JOIN"
                                                   " studies t ON t.id = r.study_id WHERE t.name = ?1 AND p.key = ?2"
                                                   " ORDER BY r.id DESC LIMIT 1",
                                  -1, &st, NULL), "reading provenance");
    if (run > 0) sqlite3_bind_int64(st, 1, run);
    else sqlite3_bind_text(st, 1, study, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0)) snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) SQL_TRY(s, rc, "reading provenance");
    return DB_OK;
}

db_status db_store_get_provenance(db_store *s, int64_t run, const char *key, char *out, size_t n) {
    return provenance_value(s, run > 0 ? run : -1, NULL, key, out, n); /* (no run 0: nothing found) */
}

db_status db_store_study_provenance(db_store *s, const char *study, const char *key, char *out, size_t n) {
    return provenance_value(s, 0, study, key, out, n);
}
