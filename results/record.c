/* A run's records in the store (results/store.h): a study's row, a run begun (or the interrupted
 * one it resumes), its provenance, a resharded run's new configuration, its epochs, its end, a
 * run found done; each in one transaction. */
#include "results/store_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const db_run_info *info;
    const db_kv *prov;
    int nprov;
    int64_t run;
    int resumed;
    const char *recipe_text;
} begin_ctx;

/* The study's row, created (with its recipe text) when it is new; the caller holds the transaction */
static db_status study_row(db_store *s, const char *name, const char *recipe_text, sqlite3_int64 *id) {
    char now[32];
    db_store_now_iso(now, sizeof now);
    sqlite3_stmt *st;
    *id = 0;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO studies(name, recipe, created) VALUES (?,?,?)", -1, &st,
                                  NULL), "recording the study");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, recipe_text ? recipe_text : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
    DB_TRY(db_store_step_done(s, st, "recording the study"));
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT id FROM studies WHERE name = ?", -1, &st, NULL), "recording the study");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return DB_OK;
}

typedef struct { const char *name, *text; char *out; size_t n; int *versioned; } study_ctx;

/* The study of this name recorded with this recipe text (one recorded without a text too), or
 * else the first of NAME, NAME#2, NAME#3, ... not taken, created */
static db_status study_tx(db_store *s, void *p) {
    const study_ctx *c = p;
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT name FROM studies WHERE (name = ?1 OR (substr(name, 1, length(?1) + 1)"
                                  " = ?1 || '#' AND substr(name, length(?1) + 2) <> '' AND substr(name, length(?1) + 2) NOT GLOB '*[^0-9]*'))"
                                  " AND (recipe = ?2 OR"
                                  " ifnull(recipe, '') = '') ORDER BY id LIMIT 1", -1, &st, NULL), "finding the study");
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->text ? c->text : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) snprintf(c->out, c->n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) {
        *c->versioned = strcmp(c->out, c->name) != 0;
        return DB_OK;
    }
    SQL_TRY(s, rc, "finding the study");
    for (int v = 1; v < 100000; v++) {
        if (v == 1) snprintf(c->out, c->n, "%s", c->name);
        else snprintf(c->out, c->n, "%s#%d", c->name, v);
        SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT 1 FROM studies WHERE name = ?", -1, &st, NULL), "finding the study");
        sqlite3_bind_text(st, 1, c->out, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) {
            sqlite3_int64 id;
            if (v > 1 && strlen(c->out) > 63) /* the report's and the listings' study names hold 63 bytes */
                return db_fail(DB_ERR_ARG, "%s: study %s was recorded with another recipe text, and its name is too long "
                               "for a version of it (%s): give the recipe a shorter study name", s->path, c->name, c->out);
            *c->versioned = v > 1;
            return study_row(s, c->out, c->text, &id);
        }
        SQL_TRY(s, rc, "finding the study");
    }
    return db_fail(DB_ERR_ARG, "%s: too many versions of study %s", s->path, c->name);
}

db_status db_store_study_version(db_store *s, const char *name, const char *recipe_text, char *recorded, size_t n,
                                 int *versioned) {
    study_ctx c = {name, recipe_text, recorded, n, versioned};
    *versioned = 0;
    return study_tx(s, &c);
}

db_status db_store_ensure_study(db_store *s, const char *name, const char *recipe_text, char *recorded, size_t n,
                                int *versioned) {
    study_ctx c = {name, recipe_text, recorded, n, versioned};
    *versioned = 0;
    return db_store_in_transaction(s, study_tx, &c, "recording the study");
}

/* 1 when a running record was started by an earlier start of this process's batch job (its
 * recorded attempt names the same job at another restart count): the scheduler ends a job's
 * processes before it starts the job again, so that process is gone, wherever it ran */
static int requeued(const char *mine, const char *recorded) {
    if (!mine || !recorded) return 0;
    const char *a = strstr(mine, ", restart "), *b = strstr(recorded, ", restart ");
    return a && b && a - mine == b - recorded && !strncmp(mine, recorded, (size_t)(a - mine)) && strcmp(a, b);
}

/* The record a resuming run takes up (0: none): info->take_up's, else the newest of its
 * checkpoint folder (as recorded now, or as given before folders were recorded absolute) and
 * settings that is interrupted, failed or running; *done 1 when that newest is done and the
 * checkpoint finished (nothing to resume). A run still going is refused, naming its process:
 * this host's while that process lives, another host's while its heartbeat is under a day old
 * (an epoch's time, generously; a node that died, or a container back under another name, frees
 * it after that); so is a take_up record that another process finished meanwhile. */
static db_status record_to_resume(db_store *s, const db_run_info *in, int64_t *run, int *done) {
    sqlite3_stmt *st;
    *run = 0, *done = 0;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT id, status, host, pid, pid_start, heartbeat, (julianday('now') -"
                                         " julianday(heartbeat)) * 24, (SELECT value FROM provenance WHERE run_id ="
                                         " runs.id AND key = 'slurm_attempt') FROM runs WHERE (?4 > 0 AND id = ?4) OR (?4 = 0 AND"
                                         " (checkpoint_dir IN (?1, ?3) OR tidy_path(checkpoint_dir) = ?1) AND"
                                         " fingerprint = ?2 AND status IN ('running',"
                                         "'interrupted','failed','done')) ORDER BY id DESC LIMIT 1", -1, &st, NULL),
            "finding the run to resume");
    sqlite3_bind_text(st, 1, in->checkpoint_dir, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->checkpoint_as_given ? in->checkpoint_as_given : in->checkpoint_dir, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, in->take_up);
    int rc = sqlite3_step(st);
    char why[700] = "";
    if (rc == SQLITE_ROW) {
        *run = sqlite3_column_int64(st, 0);
        const char *status = (const char *)sqlite3_column_text(st, 1), *host = (const char *)sqlite3_column_text(st, 2);
        const char *hb = (const char *)sqlite3_column_text(st, 5);
        pid_t pid = (pid_t)sqlite3_column_int64(st, 3);
        /* this host's, pids counted as here: its process judged; else by its heartbeat */
        int here = host && !strcmp(host, s->host) && db_store_pid_space_ours((const char *)sqlite3_column_text(st, 4));
        double silent_h = sqlite3_column_type(st, 6) == SQLITE_NULL ? 1e9 : sqlite3_column_double(st, 6);
        if (!strcmp(status, "running") && !requeued(in->attempt, (const char *)sqlite3_column_text(st, 7)) &&
            (here ? db_store_process_alive(pid, (const char *)sqlite3_column_text(st, 4)) : silent_h < 24))
            snprintf(why, sizeof why, "run %lld (the same settings and checkpoint folder %s) is running now: pid %lld "
                     "on %s%s, last heartbeat %s; wait for it, or stop it (kill -USR1 %lld) and resume it",
                     (long long)*run, in->checkpoint_dir, (long long)pid, host ? host : "?",
                     here ? "" : " (another host or container: if it died there, opening the database there marks it, "
                                 "a restart of its Slurm job takes it over, or it is taken over once its heartbeat is a "
                                 "day old)",
                     hb ? hb : "?", (long long)pid);
        else if (in->take_up && (!strcmp(status, "done") || !strcmp(status, "diverged")))
            snprintf(why, sizeof why, "run %lld is %s now (another process took it up meanwhile)", (long long)*run, status);
        else if (!strcmp(status, "done")) {
            *done = in->finished;
            if (!*done) *run = 0; /* its checkpoint not finished: this run gets a record of its own */
        }
    } else if (rc == SQLITE_DONE && in->take_up)
        snprintf(why, sizeof why, "run %lld is not in the database any more", (long long)in->take_up);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) SQL_TRY(s, rc, "finding the run to resume");
    if (why[0]) return db_fail(DB_ERR_UNSUPPORTED, "%s", why);
    return DB_OK;
}

/* A run taken up again must read the same data files (their digests, in the provenance) as it
 * was trained on: other files under the same settings are another run */
static db_status same_data_files(db_store *s, int64_t run, const db_run_info *in, const db_kv *prov, int nprov) {
    const char *now_files = NULL;
    for (int i = 0; i < nprov; i++)
        if (!strcmp(prov[i].key, "dataset_files")) now_files = prov[i].value;
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT value FROM provenance WHERE run_id = ? AND key = 'dataset_files'", -1,
                                  &st, NULL), "reading the run's data files");
    sqlite3_bind_int64(st, 1, run);
    char was[1024] = "";
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0)) snprintf(was, sizeof was, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) SQL_TRY(s, rc, "reading the run's data files");
    if (was[0] && now_files && strcmp(was, now_files))
        return db_fail(DB_ERR_ARG, "run %lld (checkpoint folder %s) was trained on other data files (recorded: %.200s; "
                       "now: %.200s): resume it with the same data, or train afresh in another checkpoint folder",
                       (long long)run, in->checkpoint_dir, was, now_files);
    return DB_OK;
}

/* A run continued at another number of data-parallel processes: its configuration and
 * fingerprint become the new ones, the note added to its provenance 'resharded' */
static db_status reshard(db_store *s, int64_t run, const db_run_info *in) {
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "UPDATE runs SET config = ?, fingerprint = ? WHERE id = ?", -1, &st, NULL),
            "recording the run's new world size");
    sqlite3_bind_text(st, 1, in->config, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, run);
    DB_TRY(db_store_step_done(s, st, "recording the run's new world size"));
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "INSERT INTO provenance(run_id, key, value) VALUES (?1, 'resharded', ?2)"
                                         " ON CONFLICT(run_id, key) DO UPDATE SET value = value || '; ' || ?2",
                                  -1, &st, NULL), "recording the run's new world size");
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, in->reshard_note, -1, SQLITE_STATIC);
    return db_store_step_done(s, st, "recording the run's new world size");
}

/* A fresh record made by a restart of a Slurm job: the job's earlier start's records of the same
 * settings and folder still running are of a process Slurm ended (killed before its first
 * checkpoint, so nothing to take up): marked interrupted */
static db_status end_earlier_attempts(db_store *s, const db_run_info *in) {
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT r.id, p.value FROM runs r JOIN provenance p ON p.run_id = r.id AND p.key ="
                                         " 'slurm_attempt' WHERE r.status = 'running' AND r.fingerprint = ?1 AND"
                                         " (r.checkpoint_dir IN (?2, ?3) OR tidy_path(r.checkpoint_dir) = ?2)", -1, &st,
                                  NULL), "finding the job's earlier records");
    sqlite3_bind_text(st, 1, in->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in->checkpoint_dir, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->checkpoint_as_given ? in->checkpoint_as_given : in->checkpoint_dir, -1, SQLITE_STATIC);
    int64_t ended[64];
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 64)
        if (requeued(in->attempt, (const char *)sqlite3_column_text(st, 1))) ended[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) SQL_TRY(s, rc, "finding the job's earlier records");
    for (int i = 0; i < n; i++) {
        SQL_TRY(s, sqlite3_prepare_v2(s->db, "UPDATE runs SET status = 'interrupted', exit_reason = 'its Slurm job started "
                                             "again before it saved a checkpoint' WHERE id = ?", -1, &st, NULL),
                "ending the job's earlier records");
        sqlite3_bind_int64(st, 1, ended[i]);
        DB_TRY(db_store_step_done(s, st, "ending the job's earlier records"));
    }
    return DB_OK;
}

static db_status begin_tx(db_store *s, void *p) {
    begin_ctx *c = p;
    const db_run_info *in = c->info;
    char now[32], me[128];
    db_store_now_iso(now, sizeof now);
    db_store_process_identity(getpid(), me, sizeof me);
    sqlite3_stmt *st;
    c->run = 0;
    int done = 0;
    if (in->take_up || (in->resume && in->checkpoint_dir[0])) DB_TRY(record_to_resume(s, in, &c->run, &done));
    if (done) { /* a finished checkpoint whose done record is here: nothing to resume */
        c->resumed = 2;
        return DB_OK;
    }
    c->resumed = c->run != 0;
    if (c->resumed) {
        DB_TRY(same_data_files(s, c->run, in, c->prov, c->nprov));
        if (in->reshard_note) DB_TRY(reshard(s, c->run, in)); /* with the take-up, or not at all */
        SQL_TRY(s, sqlite3_prepare_v2(s->db, "UPDATE runs SET status = 'running', heartbeat = ?, ended = NULL,"
                                             " exit_reason = NULL, host = ?, pid = ?, pid_start = ?, checkpoint_dir = ?"
                                             " WHERE id = ?", -1, &st, NULL), "taking the run up again");
        sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, s->host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)getpid());
        sqlite3_bind_text(st, 4, me, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, in->checkpoint_dir, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, c->run);
        DB_TRY(db_store_step_done(s, st, "taking the run up again"));
        if (in->attempt) return db_store_set_provenance(s, c->run, "slurm_attempt", in->attempt);
        /* taken up outside a batch job: no earlier job's restart may take it from this process */
        SQL_TRY(s, sqlite3_prepare_v2(s->db, "DELETE FROM provenance WHERE run_id = ? AND key = 'slurm_attempt'", -1, &st,
                                      NULL), "taking the run up again");
        sqlite3_bind_int64(st, 1, c->run);
        return db_store_step_done(s, st, "taking the run up again");
    }
    if (in->attempt) DB_TRY(end_earlier_attempts(s, in));
    sqlite3_int64 study = 0;
    if (in->study[0]) DB_TRY(study_row(s, in->study, c->recipe_text, &study)); /* created on its first run */
    SQL_TRY(s, sqlite3_prepare_v2(s->db,
                                  "INSERT INTO runs(recipe, config, fingerprint, model, dataset, regularizer, keep_prob,"
                                  " block_size, semantics, seed, epochs, device, status, started, heartbeat, host, pid,"
                                  " checkpoint_dir, study_id, family, cell, condition, task, primary_metric, pid_start,"
                                  " uuid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'running',?,?,?,?,?,?,?,?,?,?,?,?,"
                                  " lower(hex(randomblob(16))))",
                                  -1, &st, NULL), "recording the run");
    const char *texts[] = {in->recipe, in->config, in->fingerprint, in->model, in->dataset, in->regularizer};
    for (int i = 0; i < 6; i++) sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 7, in->keep_prob);
    sqlite3_bind_int(st, 8, in->block_size);
    sqlite3_bind_text(st, 9, in->semantics, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)in->seed);
    sqlite3_bind_int(st, 11, in->epochs);
    sqlite3_bind_text(st, 12, in->device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 14, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 15, s->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 16, (sqlite3_int64)getpid());
    sqlite3_bind_text(st, 17, in->checkpoint_dir, -1, SQLITE_STATIC);
    if (study) sqlite3_bind_int64(st, 18, study);
    else sqlite3_bind_null(st, 18);
    if (in->family && in->family[0]) sqlite3_bind_text(st, 19, in->family, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 19);
    const char *labels[] = {in->cell, in->condition, in->task, in->primary_metric};
    for (int i = 0; i < 4; i++) {
        if (labels[i] && labels[i][0]) sqlite3_bind_text(st, 20 + i, labels[i], -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 20 + i);
    }
    sqlite3_bind_text(st, 24, me, -1, SQLITE_TRANSIENT);
    DB_TRY(db_store_step_done(s, st, "recording the run"));
    c->run = sqlite3_last_insert_rowid(s->db);
    for (int i = 0; i < c->nprov; i++) DB_TRY(db_store_set_provenance(s, c->run, c->prov[i].key, c->prov[i].value));
    return in->attempt ? db_store_set_provenance(s, c->run, "slurm_attempt", in->attempt) : DB_OK;
}

db_status db_store_set_provenance(db_store *s, int64_t run, const char *key, const char *value) {
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO provenance(run_id, key, value) VALUES (?,?,?)", -1, &st,
                                  NULL), "recording provenance");
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    return db_store_step_done(s, st, "recording provenance");
}

db_status db_store_begin_run(db_store *s, const db_run_info *info, const db_kv *prov, int nprov, int64_t *run,
                             int *resumed) {
    begin_ctx c = {info, prov, nprov, 0, 0, info->recipe_text};
    DB_TRY(db_store_in_transaction(s, begin_tx, &c, "recording the run"));
    *run = c.run;
    if (resumed) *resumed = c.resumed;
    return DB_OK;
}

db_status db_store_find_done(db_store *s, const char *fingerprint, int64_t *run) {
    sqlite3_stmt *st;
    *run = 0;
    /* (a run that went on at another number of processes is not one of this fingerprint's) */
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT id FROM runs r WHERE fingerprint = ? AND status = 'done' AND NOT EXISTS"
                                         " (SELECT 1 FROM provenance WHERE run_id = r.id AND key = 'resharded')"
                                         " ORDER BY id LIMIT 1", -1, &st, NULL), "looking for a finished run");
    sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *run = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) SQL_TRY(s, rc, "looking for a finished run");
    return DB_OK;
}

typedef struct { int64_t run, step; int epoch, n; const db_metric *m; } epoch_ctx;

static db_status epoch_tx(db_store *s, void *p) {
    epoch_ctx *c = p;
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO metrics(run_id, epoch, step, split, name, value)"
                                         " VALUES (?,?,?,?,?,?)", -1, &st, NULL), "recording metrics");
    for (int i = 0; i < c->n; i++) {
        sqlite3_bind_int64(st, 1, c->run);
        sqlite3_bind_int(st, 2, c->epoch);
        sqlite3_bind_int64(st, 3, c->step);
        sqlite3_bind_text(st, 4, c->m[i].split, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, c->m[i].name, -1, SQLITE_STATIC);
        if (isfinite(c->m[i].value)) sqlite3_bind_double(st, 6, c->m[i].value);
        else sqlite3_bind_null(st, 6);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) { sqlite3_finalize(st); SQL_TRY(s, rc, "recording metrics"); }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    char now[32];
    db_store_now_iso(now, sizeof now);
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "UPDATE runs SET heartbeat = ?, epochs_done = max(epochs_done, ?) WHERE id = ?",
                                  -1, &st, NULL), "recording the heartbeat");
    sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, c->epoch);
    sqlite3_bind_int64(st, 3, c->run);
    return db_store_step_done(s, st, "recording the heartbeat");
}

db_status db_store_epoch(db_store *s, int64_t run, int epoch, int64_t step, const db_metric *m, int n) {
    epoch_ctx c = {run, step, epoch, n, m};
    return db_store_in_transaction(s, epoch_tx, &c, "recording an epoch");
}

typedef struct { int64_t run; const char *status, *reason; } end_ctx;

static db_status end_tx(db_store *s, void *p) {
    end_ctx *c = p;
    char now[32];
    db_store_now_iso(now, sizeof now);
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "UPDATE runs SET status = ?, exit_reason = ?, ended = ?, heartbeat = ?"
                                         " WHERE id = ?", -1, &st, NULL), "recording the run's end");
    sqlite3_bind_text(st, 1, c->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, c->run);
    return db_store_step_done(s, st, "recording the run's end");
}

db_status db_store_end_run(db_store *s, int64_t run, const char *status, const char *reason) {
    end_ctx c = {run, status, reason ? reason : ""};
    return db_store_in_transaction(s, end_tx, &c, "recording the run's end");
}

/* Deletes a refused run's fresh record (only while it is running, else nothing) and what it holds */
static db_status discard_tx(db_store *s, void *p) {
    const int64_t run = *(const int64_t *)p;
    static const char *const sql[] = {"DELETE FROM provenance WHERE run_id = ?", "DELETE FROM metrics WHERE run_id = ?",
                                      "DELETE FROM runs WHERE id = ? AND status = 'running'"}; /* (its rows first) */
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st;
        SQL_TRY(s, sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL), "discarding the refused run's record");
        sqlite3_bind_int64(st, 1, run);
        DB_TRY(db_store_step_done(s, st, "discarding the refused run's record"));
    }
    if (sqlite3_changes(s->db) != 1) /* the transaction is rolled back: nothing deleted */
        return db_fail(DB_ERR_INTERNAL, "run %lld: no running record to discard", (long long)run);
    return DB_OK;
}

db_status db_store_discard_run(db_store *s, int64_t run) {
    return db_store_in_transaction(s, discard_tx, &run, "discarding the refused run's record");
}
