#include "study/study.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/dist.h"
#include "datasets/hash.h"
#include "results/store.h"
#include "train/checkpoint.h"

/* Cell i: its configuration (device resolved where it can be) and label; a cell that cannot run
 * here is DB_OK with its why filled (it may still be done before: a finished twin elsewhere) */
static db_status cell_of(const db_recipe *r, int i, db_study_cell *c) {
    memset(c, 0, sizeof *c);
    DB_TRY(db_recipe_cell(r, i, &c->config, c->label, sizeof c->label));
    db_recipe_condition(c->label, c->condition, sizeof c->condition);
    snprintf(c->name, sizeof c->name, "%s", c->label[0] ? c->label : "single");
    c->refusal = db_config_resolve_device(&c->config);
    if (c->refusal == DB_OK) c->refusal = db_config_runnable(&c->config);
    if (c->refusal != DB_OK) {
        c->state = DB_CELL_CANNOT_RUN;
        snprintf(c->why, sizeof c->why, "%s", db_last_error());
    }
    return DB_OK;
}

static db_status find_done(db_store *store, const db_config *c, int64_t *prior) {
    char fp[32];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)db_config_fingerprint(c));
    return db_store_find_done(store, fp, prior);
}

db_status db_study_plan(const db_recipe *r, const char *db_path, db_study_cell **cells, int *n) {
    int count = db_recipe_cells(r);
    db_store *store = NULL;
    *cells = calloc((size_t)count, sizeof **cells);
    *n = 0;
    if (!*cells) return db_fail(DB_ERR_NOMEM, "out of memory");
    /* read without writing it (a copy); no database there yet: nothing done before, and none made */
    db_status s = db_path && access(db_path, F_OK) == 0 ? db_store_open_copy(&store, db_path) : DB_OK;
    for (int i = 0; s == DB_OK && i < count; i++) {
        db_study_cell *c = &(*cells)[i];
        if ((s = cell_of(r, i, c)) != DB_OK) break;
        /* a finished twin counts, also for a cell that could not run here (its device, a later
         * version's rules): done elsewhere, nothing to run */
        if (store && (s = find_done(store, &c->config, &c->prior)) != DB_OK) break;
        if (c->prior) c->state = DB_CELL_DONE_BEFORE;
        (*n)++;
    }
    db_store_close(store);
    if (s != DB_OK) { free(*cells); *cells = NULL; *n = 0; }
    return s;
}

/* Moves a checkpoint folder that can never be resumed aside (never deletes it); 0 when it could
 * not be moved */
static int move_aside(const db_study_cell *c, int i, int cells) {
    char stale[1100];
    struct stat st;
    long now = (long)time(NULL);
    int moved = 0;
    for (int k = 0; k < 1000 && !moved; k++) { /* a name nothing has: the same second twice, a clock set back */
        if (k) snprintf(stale, sizeof stale, "%s.stale-%ld-%d", c->config.checkpoint_dir, now, k);
        else snprintf(stale, sizeof stale, "%s.stale-%ld", c->config.checkpoint_dir, now);
        if (lstat(stale, &st) == 0) continue;
        moved = rename(c->config.checkpoint_dir, stale) == 0;
        if (!moved) return 0;
    }
    if (!moved) return 0;
    db_log(DB_LOG_INFO, "[%d/%d] %s: its checkpoint cannot be resumed; kept it in %s, running afresh", i + 1, cells,
           c->name, stale);
    return 1;
}

static db_status run_cell(const db_recipe *r, const char *study, const db_study_cell *c, int i, int cells,
                          const char *db_path, const db_run_hooks *hooks) {
    db_run_opts o = {db_path, 1, {study, r->path, c->label, c->condition, r->text}, hooks, 0, 0, NULL};
    db_train_summary sum;
    db_status s = db_run(&c->config, &o, &sum);
    if (db_ckpt_unusable(s)) {
        char why[1024];
        snprintf(why, sizeof why, "%s", db_last_error());
        /* the first process moves it; every process then runs afresh, or none */
        int64_t moved = db_dist()->rank == 0 ? move_aside(c, i, cells) : 0;
        db_status bs = db_dist_broadcast(&moved, sizeof moved, 0, "the checkpoint moved aside");
        if (bs != DB_OK) return bs;
        if (!moved) return db_fail(s, "%s", why);
        o.resume = 0; /* afresh, in a record of its own */
        s = db_run(&c->config, &o, &sum);
    }
    return s;
}

db_status db_study_join(db_store *store, const db_recipe *r, const char *db_path, int say_version, char *name, size_t n) {
    int versioned = 0;
    DB_TRY(db_store_ensure_study(store, r->study, r->text, name, n, &versioned));
    if (versioned && say_version)
        db_log(DB_LOG_NOTE, "%s: study %s in %s was recorded with another recipe text; these runs are study %s "
               "(dropbench list and the report show both)", r->path, r->study, db_path, name);
    return DB_OK;
}

static db_status each_require(const db_recipe *r, db_require_fn fn, void *ctx, int depth) {
    if (r->nrequires && depth >= 4) return db_fail(DB_ERR_ARG, "%s: requires nested more than 4 deep (a cycle?)", r->path);
    db_recipe *q = r->nrequires ? malloc(sizeof *q) : NULL;
    if (r->nrequires && !q) return db_fail(DB_ERR_NOMEM, "out of memory");
    db_status s = DB_OK;
    for (int i = 0; s == DB_OK && i < r->nrequires; i++) {
        if ((s = db_recipe_load(r->requires[i], q)) != DB_OK) {
            char why[1024];
            snprintf(why, sizeof why, "%s", db_last_error());
            s = db_fail(s, "%s requires %s: %s", r->path, r->requires[i], why);
            break;
        }
        s = each_require(q, fn, ctx, depth + 1);
        if (s == DB_OK) s = fn(q, r, ctx);
        db_recipe_free(q);
    }
    free(q);
    return s;
}

db_status db_study_each_require(const db_recipe *r, db_require_fn fn, void *ctx) { return each_require(r, fn, ctx, 0); }

typedef struct { const char *db_path; const db_run_hooks *hooks; int stopped; } require_run;

static db_status run_required(const db_recipe *q, const db_recipe *by, void *ctx) {
    require_run *x = ctx;
    db_log(DB_LOG_INFO, "study %s requires %s (study %s): its cells first", by->study, q->path, q->study);
    db_study_result res;
    db_status s = db_study_run(q, x->db_path, -1, x->hooks, &res);
    if (s == DB_ERR_INTERRUPTED) x->stopped = res.stopped;
    DB_TRY(s);
    if (res.failed) /* its other cells need nothing from it; those that start from its runs are refused, each said */
        db_log(DB_LOG_NOTE, "study %s requires study %s (%s), and %d of its %d cells failed: the cells of %s that start "
               "from its runs will not start", by->study, q->study, q->path, res.failed, res.cells, by->study);
    return DB_OK;
}

db_status db_study_run_requires(const db_recipe *r, const char *db_path, const db_run_hooks *hooks, int *stopped) {
    require_run x = {db_path, hooks, 0};
    db_status s = db_study_each_require(r, run_required, &x);
    if (stopped) *stopped = x.stopped;
    return s;
}

/* A cell whose init_from names a folder without a finished run's checkpoint (none yet, or its
 * run stopped part way): its note (which study to run first), 0 when it can start */
static int init_missing(const db_recipe *r, const db_study_cell *c, const char *db_path, char *note, size_t n) {
    int known;
    const char *from = c->config.init_from;
    if (!from[0] || db_ckpt_finished(from, &known) == DB_OK) return 0;
    char why[1300], here[1024] = "", reqs[3000] = "";
    snprintf(why, sizeof why, "%s", db_last_error());
    if (from[0] != '/' && !getcwd(here, sizeof here)) here[0] = '\0'; /* init_from is relative to the working folder */
    for (int i = 0; i < r->nrequires; i++) { /* the command for each study it requires */
        size_t used = strlen(reqs);
        snprintf(reqs + used, sizeof reqs - used, "%sdropbench study %s --db %s", i ? "; " : "", r->requires[i], db_path);
    }
    if (r->nrequires)
        snprintf(note, n, "%s: cell %s starts from init_from %s%s%s%s: %s; run the study this recipe requires to its end "
                 "first: %s (dropbench study %s without --cell runs it)", r->path, c->name, from,
                 here[0] ? " (from " : "", here, here[0] ? ")" : "", why, reqs, r->path);
    else
        snprintf(note, n, "%s: cell %s starts from init_from %s%s%s%s: %s; train the run it names to its end first", r->path,
                 c->name, from, here[0] ? " (from " : "", here, here[0] ? ")" : "", why);
    return 1;
}

/* The starting weights' digest, hashed once for all the cells of a study run that start from them */
typedef struct { char path[1100]; db_digest digest; int ok; } start_digest;

/* A cell done before from other starting weights than its init_from holds now (the study that
 * makes them ran again with other settings): said, as the fingerprint names the folder only */
static void other_start(db_store *store, int64_t prior, const db_study_cell *c, start_digest *last) {
    char was[1200], path[1100];
    db_ckpt_path(c->config.init_from, path, sizeof path);
    if (strcmp(path, last->path)) {
        snprintf(last->path, sizeof last->path, "%s", path);
        last->ok = db_file_digest(path, &last->digest) == DB_OK;
    }
    const db_digest now = last->digest;
    if (!last->ok || db_store_get_provenance(store, prior, "init_from", was, sizeof was) != DB_OK || !was[0]) return;
    const char *hex = strstr(was, " sha256 ");
    if (hex && strcmp(hex + 8, now.sha256))
        db_log(DB_LOG_NOTE, "%s: run %lld started from other weights than %s holds now (sha256 %.12s..., now %.12s...): "
               "its result is the earlier weights'; to train it from these, give the study another checkpoint_dir or "
               "delete the cell's record and checkpoint folder", c->name, (long long)prior, path, hex + 8, now.sha256);
}

/* The cells that cannot run here (their device, a later version's rules) and are not done
 * before (a finished twin in the store, read from a copy): refused, naming the first, before
 * anything is recorded; only's alone when one cell is asked for */
static db_status refuse_cannot_run(const db_recipe *r, const char *db_path, const db_study_cell *plan, int cells, long only) {
    db_store *store = NULL;
    db_status s = db_path && access(db_path, F_OK) == 0 ? db_store_open_copy(&store, db_path) : DB_OK;
    for (int i = 0; s == DB_OK && i < cells; i++) {
        const db_study_cell *c = &plan[i];
        if (c->state != DB_CELL_CANNOT_RUN || (only >= 0 && i != only)) continue;
        int64_t prior = 0;
        if (store && (s = find_done(store, &c->config, &prior)) != DB_OK) break;
        if (!prior)
            s = db_fail(c->refusal, "%s: cell %s cannot run: %s (--dry-run lists the study)", r->path, c->name, c->why);
    }
    db_store_close(store);
    return s;
}

db_status db_study_run(const db_recipe *r, const char *db_path, long only, const db_run_hooks *hooks,
                       db_study_result *out) {
    int cells = db_recipe_cells(r);
    memset(out, 0, sizeof *out);
    out->cells = cells;
    if (only >= cells) return db_fail(DB_ERR_ARG, "--cell %ld, but %s has cells 0 to %d", only, r->path, cells - 1);
    /* every cell resolved once, and the study refused before anything is recorded */
    db_study_cell *plan = calloc((size_t)cells, sizeof *plan);
    if (!plan) return db_fail(DB_ERR_NOMEM, "out of memory");
    db_status s = DB_OK;
    int cannot = 0;
    for (int i = 0; s == DB_OK && i < cells; i++) {
        if ((s = cell_of(r, i, &plan[i])) == DB_OK) cannot += plan[i].state == DB_CELL_CANNOT_RUN;
    }
    if (s == DB_OK && cannot) s = refuse_cannot_run(r, db_path, plan, cells, only);
    db_store *store = NULL;
    char name[sizeof r->study + 16];
    start_digest start; /* (the weights the cells start from, hashed once) */
    memset(&start, 0, sizeof start);
    /* data parallel (one cell over several processes): the first process reads and writes the
     * store and tells the others what the cell does */
    const db_dist_info *dist = db_dist();
    const int follower = dist->rank > 0;
    if (dist->size > 1 && only < 0) s = db_fail(DB_ERR_ARG, "across %d processes a study runs one cell (--cell K)", dist->size);
    snprintf(name, sizeof name, "%s", r->study);
    if (s == DB_OK && dist->size > 1) { /* the cell as it runs: its world size in its fingerprint (a run done before is found) */
        if (!plan[only].config.world_size) plan[only].config.world_size = dist->size; /* (another: db_run refuses it) */
        db_dist_set_timeout(plan[only].config.dist_timeout);
    }
    if (s == DB_OK && !follower) s = db_store_open(&store, db_path);
    if (s == DB_OK && !follower) s = db_study_join(store, r, db_path, only < 0, name, sizeof name); /* even when every cell is done */
    if (s == DB_OK) snprintf(out->study, sizeof out->study, "%s", name);
    if (s == DB_OK && only < 0) /* a single cell's caller says what it runs (a study's --jobs parent, a cluster task) */
        db_log(DB_LOG_INFO, "study %s (%s): %d cells, results in %s", name, r->path, cells, db_path);
    for (int i = only >= 0 ? (int)only : 0; s == DB_OK && i < (only >= 0 ? (int)only + 1 : cells); i++) {
        const db_study_cell *c = &plan[i];
        int64_t prior = 0;
        if (!follower) s = find_done(store, &c->config, &prior);
        if (dist->size > 1) { /* the first process's finding, or its failure, for every process */
            int64_t v[2] = {s != DB_OK, prior};
            db_status bs = db_dist_broadcast(v, sizeof v, 0, "the cell's record");
            if (bs != DB_OK) s = bs;
            else if (v[0] && s == DB_OK) s = db_fail(DB_ERR_IO, "the first process could not read the store %s", db_path);
            prior = v[1];
        }
        if (s != DB_OK) break;
        if (prior) {
            db_log(DB_LOG_INFO, "[%d/%d] %s: done before (run %lld), skipped", i + 1, cells, c->name, (long long)prior);
            if (!follower && c->config.init_from[0]) other_start(store, prior, c, &start);
            out->done_before++;
            continue;
        }
        char note[4800];
        if (init_missing(r, c, db_path, note, sizeof note)) { /* nothing recorded: it runs once that exists */
            db_log(DB_LOG_NOTE, "%s", note);
            out->failed++;
            continue;
        }
        db_log(DB_LOG_INFO, "[%d/%d] %s: running", i + 1, cells, c->name);
        db_status rs = run_cell(r, name, c, i, cells, db_path, hooks);
        if (rs == DB_OK) out->ran++;
        else out->failed++;
        if (rs == DB_OK && db_train_stop_pending() && i + 1 < cells && only < 0) /* it came after the cell's last step */
            rs = db_fail(DB_ERR_INTERRUPTED, "stopped by a signal after cell %s", c->name);
        if (rs == DB_ERR_INTERRUPTED) { /* asked to stop: the rest waits for the next start */
            char why[1024];
            snprintf(why, sizeof why, "%s", db_last_error());
            db_log(DB_LOG_NOTE, "%s", why);
            db_log(DB_LOG_INFO, "study: stopped in cell %s; starting the study again continues it", c->name);
            out->stopped = 1;
            s = db_fail(DB_ERR_INTERRUPTED, "%s", why);
            break;
        }
        if (rs != DB_OK) db_log(DB_LOG_NOTE, "%s", db_last_error());
    }
    db_store_close(store);
    free(plan);
    return s;
}
