#include "study/run.h"

#include "core/dirs.h"
#include "core/dist.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "datasets/select.h"
#include "results/mllog.h"
#include "results/store.h"
#include "study/provenance.h"
#include "train/checkpoint.h"

enum { MAX_SITES = 256 };

typedef struct {
    const db_run_opts *o;
    const db_run_hooks *hooks; /* never NULL (an empty set when the caller gave none) */
    db_store *store;           /* NULL: nothing recorded */
    int64_t run;
    int resumed;               /* the record is an earlier one of this run, taken up again */
    const char *given_ckpt;    /* the checkpoint folder as given (maybe relative) */
    db_mllog log;              /* the run's MLLOG event log beside the database */
    int epochs_recorded;       /* by this call */
    const db_task *task;       /* names the metrics */
} recorder;

/* One epoch's metrics (the task's, the run's, the per-site drop records), in one transaction */
static db_status record_epoch(recorder *p, const db_epoch_result *r, const db_epoch_sites *es) {
    enum { MAXM = 7 + 2 * DB_TASK_MAX_METRICS + 2 * MAX_SITES + 256 };
    db_metric m[MAXM];
    char names[2 * MAX_SITES][64];
    const db_task *t = p->task;
    int n = 0;
    m[n++] = (db_metric){"train", "loss", r->train_loss};
    for (int k = 0; k < t->n_train; k++) m[n++] = (db_metric){"train", t->train_names[k], r->train[k]};
    m[n++] = (db_metric){"train", "lr", r->lr};
    m[n++] = (db_metric){"train", "images_per_s", r->images_per_s};
    m[n++] = (db_metric){"train", "seconds", r->seconds};
    m[n++] = (db_metric){"train", "drop_fraction", r->drop_fraction >= 0 ? r->drop_fraction : NAN};
    m[n++] = (db_metric){"train", "expected_fraction", r->expected_fraction >= 0 ? r->expected_fraction : NAN};
    m[n++] = (db_metric){"train", "keep_prob", r->keep_prob >= 0 ? r->keep_prob : NAN};
    for (int k = 0; k < t->n_test; k++) /* none for an epoch not evaluated (eval_every) */
        if (!isnan(r->test[k])) m[n++] = (db_metric){"test", t->test_names[k], r->test[k]};
    for (int i = 0; i < es->n && i < MAX_SITES; i++) {
        snprintf(names[2 * i], sizeof names[0], "drop_fraction/%s", es->names[i]);
        snprintf(names[2 * i + 1], sizeof names[0], "expected_fraction/%s", es->names[i]);
        m[n++] = (db_metric){"train", names[2 * i], es->sites[i].drop_fraction};
        m[n++] = (db_metric){"train", names[2 * i + 1], es->sites[i].expected_fraction};
    }
    for (int i = 0; i < r->n_extra && i < 256; i++) /* a segmenter's IoU per class */
        if (!isnan(r->extra[i])) m[n++] = (db_metric){"test", r->extra_names[i], r->extra[i]};
    return db_store_epoch(p->store, p->run, r->epoch, 0, m, n); /* step 0: values of the whole epoch */
}

/* An epoch the checkpoint already holds: into the store again (idempotent), for a database that
 * did not see it (a study continued into a fresh database) */
static db_status on_restored(const db_epoch_result *r, const db_epoch_sites *es, void *user) {
    recorder *p = user;
    return p->store ? record_epoch(p, r, es) : DB_OK;
}

static db_status on_epoch(const db_epoch_result *r, const db_epoch_sites *es, void *user) {
    recorder *p = user;
    if (p->store) {
        DB_TRY(record_epoch(p, r, es));
        p->epochs_recorded++;
        char meta[64], acc[32];
        snprintf(meta, sizeof meta, "{\"epoch_num\": %d}", r->epoch);
        snprintf(acc, sizeof acc, "%.6f", r->test[p->task->score]); /* MLPerf's name for the quality metric */
        int64_t now = db_mllog_now_ms();
        db_mllog_event(&p->log, "INTERVAL_START", "epoch_start", NULL, meta, now - (int64_t)(r->seconds * 1000));
        db_mllog_event(&p->log, "INTERVAL_END", "epoch_stop", NULL, meta, now);
        if (!isnan(r->test[p->task->score])) db_mllog_event(&p->log, "POINT_IN_TIME", "eval_accuracy", acc, meta, 0);
    }
    const db_train_hooks *show = &p->hooks->train;
    return show->on_epoch ? show->on_epoch(r, es, show->user) : DB_OK;
}

static void on_step(int epoch, int step, int steps, double loss, double ips, void *user) {
    recorder *p = user;
    const db_train_hooks *show = &p->hooks->train;
    if (show->on_step) show->on_step(epoch, step, steps, loss, ips, show->user);
}

/* The run's provenance: the build, the machine and the data set's files */
static void collect_provenance(const db_config *cfg, db_provenance *prov) {
    enum { MAX_FILES = 15 };
    char *paths[MAX_FILES];
    const char *files[MAX_FILES + 1] = {NULL};
    int n = 0;
    db_data_spec spec = db_config_data(cfg);
    if (db_data_files(&spec, paths, MAX_FILES, &n) != DB_OK) n = 0; /* recorded without them */
    for (int i = 0; i < n; i++) files[i] = paths[i];
    db_provenance_collect(prov, files, cfg->threads);
    db_data_files_free(paths, n);
    if (cfg->init_from[0]) { /* the weights it starts from, as the data: by checksum */
        char ckpt[1100];
        db_ckpt_path(cfg->init_from, ckpt, sizeof ckpt);
        db_provenance_file(prov, "init_from", ckpt);
    }
}

/* What MLPerf's tools expect at the start of a training run */
static void log_run_start(db_mllog *log, const db_config *cfg) {
    char v[64];
    db_mllog_event(log, "INTERVAL_START", "run_start", NULL, NULL, 0);
    snprintf(v, sizeof v, "%llu", (unsigned long long)cfg->seed);
    db_mllog_event(log, "POINT_IN_TIME", "seed", v, NULL, 0);
    snprintf(v, sizeof v, "%d", cfg->batch);
    db_mllog_event(log, "POINT_IN_TIME", "global_batch_size", v, NULL, 0);
    snprintf(v, sizeof v, "\"%s\"", cfg->optimizer); /* sgd or rmsprop: the config's own check */
    db_mllog_event(log, "POINT_IN_TIME", "opt_name", v, NULL, 0);
    snprintf(v, sizeof v, "%g", cfg->lr);
    db_mllog_event(log, "POINT_IN_TIME", "opt_base_learning_rate", v, NULL, 0);
    snprintf(v, sizeof v, "%g", cfg->weight_decay);
    db_mllog_event(log, "POINT_IN_TIME", "opt_weight_decay", v, NULL, 0);
}

/* Opens the store and records the run as running (or takes an interrupted one up again). */
static db_status start_record(const db_config *cfg, recorder *p) {
    const db_run_labels *l = &p->o->labels;
    DB_TRY(db_store_open(&p->store, p->o->db_path));
    char *config = NULL, fp[32], family[32];
    size_t len = 0;
    FILE *m = open_memstream(&config, &len);
    if (!m) return db_fail(DB_ERR_NOMEM, "out of memory");
    db_config effective; /* what ran: auto placements recorded as what they meant */
    db_config_effective(cfg, &effective);
    db_config_write(&effective, m);
    fclose(m);
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)db_config_fingerprint(cfg));
    snprintf(family, sizeof family, "%016llx", (unsigned long long)db_config_family(cfg));
    db_provenance prov;
    collect_provenance(cfg, &prov);
    char primary[64];
    db_task_primary(p->task, primary, sizeof primary);
    db_run_info info = {config, fp, family, cfg->model, cfg->dataset, cfg->regularizer,
                        !strcmp(cfg->regularizer, "dropblock") ? cfg->semantics : "", cfg->device, cfg->checkpoint_dir,
                        l->recipe ? l->recipe : "", l->study ? l->study : "", l->recipe_text, cfg->keep_prob,
                        cfg->block_size, cfg->seed, cfg->epochs, l->cell, l->condition, p->task->name, primary,
                        /* an interrupted record is taken up only by a run that continues its checkpoint */
                        p->o->resume && cfg->checkpoint_dir[0] && db_ckpt_exists(cfg->checkpoint_dir),
                        p->given_ckpt, p->o->take_up, 0, p->o->reshard_note, NULL};
    char attempt[160];
    const char *job = getenv("SLURM_JOB_ID"), *restart = getenv("SLURM_RESTART_COUNT");
    if (job && *job) {
        snprintf(attempt, sizeof attempt, "slurm job %.64s, restart %.16s", job, restart && *restart ? restart : "0");
        info.attempt = attempt;
    }
    int known = 0;
    info.finished = info.resume && db_ckpt_finished(cfg->checkpoint_dir, &known) == DB_OK && known;
    char kp[32];
    snprintf(kp, sizeof kp, "%.7g", cfg->keep_prob);
    info.keep_prob = atof(kp); /* 0.9, not the float's 0.899999976 */
    int resumed = 0;
    db_status s = db_store_begin_run(p->store, &info, prov.kv, prov.n, &p->run, &resumed);
    p->resumed = resumed;
    free(config);
    if (s == DB_OK && resumed == 2) { /* nothing to resume, nothing recorded */
        db_log(DB_LOG_NOTE, "run %lld in %s is done (the same settings, checkpoint folder %s): nothing to resume, "
               "nothing recorded", (long long)p->run, p->o->db_path, cfg->checkpoint_dir);
        db_store_close(p->store);
        p->store = NULL;
        return DB_OK;
    }
    if (s == DB_OK && resumed && p->o->reshard_note)
        db_log(DB_LOG_NOTE, "run %lld goes on as %s: no longer the bits of a run at one number of processes "
               "(provenance resharded; regress leaves it out)", (long long)p->run, p->o->reshard_note);
    if (s == DB_OK) s = db_mllog_open(&p->log, p->o->db_path, p->run, !resumed); /* a new record: a new log */
    if (s == DB_OK && !resumed) log_run_start(&p->log, cfg);
    if (s == DB_OK && p->hooks->on_recorded)
        p->hooks->on_recorded(p->run, resumed, p->o->db_path, p->log.path, p->hooks->train.user);
    return s;
}

/* The run's end; its own failure is the run's status when the run succeeded, else a note */
static db_status end_record(recorder *p, db_status s) {
    char reason[600];
    snprintf(reason, sizeof reason, "%s", s == DB_OK ? "" : db_last_error());
    db_status e = db_store_end_run(p->store, p->run,
                                   s == DB_OK ? "done" : s == DB_ERR_DIVERGED ? "diverged"
                                               : s == DB_ERR_INTERRUPTED ? "interrupted" : "failed", reason);
    db_store_close(p->store);
    p->store = NULL;
    db_mllog_event(&p->log, "INTERVAL_END", "run_stop", NULL,
                   s == DB_OK ? "{\"status\": \"success\"}" : "{\"status\": \"aborted\"}", 0);
    db_status le = db_mllog_close(&p->log);
    if (e == DB_OK) e = le;
    if (s == DB_OK) return e;
    if (e != DB_OK) db_log(DB_LOG_NOTE, "could not record the run's end: %s", db_last_error());
    return db_fail(s, "%s", reason);
}

/* A run its checkpoint refused before its first epoch (broken, another format's or network's,
 * another configuration's, thread count's, number of processes'), or whose settings did not fit
 * its data (a batch larger than the training set), leaves no record: the fresh one and its event
 * log go; s is returned */
static db_status discard_record(recorder *p, db_status s) {
    char reason[600];
    snprintf(reason, sizeof reason, "%s", db_last_error());
    char events[sizeof p->log.path], aside[sizeof p->log.path + 16];
    snprintf(events, sizeof events, "%s", p->log.path);
    snprintf(aside, sizeof aside, "%s.discarded", events);
    db_mllog_close(&p->log);
    /* the event log moved aside before the record goes: its number may be the next run's */
    const int moved = events[0] && rename(events, aside) == 0;
    if (db_store_discard_run(p->store, p->run) == DB_OK) {
        if (moved) unlink(aside);
        db_store_close(p->store);
        p->store = NULL;
        db_log(DB_LOG_NOTE, "run %lld was not kept: nothing was trained (its number goes to the next run)",
               (long long)p->run);
    } else if (moved) rename(aside, events); /* recorded as failed, with its log */
    return db_fail(s, "%s", reason);
}

/* A path as the file system names it: its folder resolved (links, "..") when it exists */
static void canonical(const char *path, char *out, size_t n) {
    char abs[4200], dir[4200];
    if (path[0] == '/' || !getcwd(dir, sizeof dir)) snprintf(abs, sizeof abs, "%.4100s", path);
    else snprintf(abs, sizeof abs, "%.2000s/%.2000s", dir, path);
    snprintf(dir, sizeof dir, "%s", abs);
    char *slash = strrchr(dir, '/'), real[PATH_MAX];
    if (slash && slash != dir) *slash = '\0';
    if (slash && slash != dir && realpath(dir, real)) snprintf(out, n, "%.3000s/%.1000s", real, slash + 1);
    else snprintf(out, n, "%s", abs);
}

/* The results files may be neither the database (nor its -wal, -shm, -journal), nor the
 * checkpoint (or its progress file), nor each other: one written over another loses it */
static db_status outputs_distinct(const db_config *cfg, const char *db_path) {
    enum { N = 8 };
    const char *what[N] = {"the metrics file (metrics)", "the site metrics file (site_metrics)", "the database",
                           "the database's -wal file", "the database's -shm file", "the database's -journal file",
                           "the checkpoint", "the checkpoint's progress file"};
    char path[N][4200] = {{0}}, c[N][4400];
    snprintf(path[0], sizeof path[0], "%s", cfg->metrics);
    snprintf(path[1], sizeof path[1], "%s", cfg->site_metrics);
    if (db_path) {
        snprintf(path[2], sizeof path[2], "%s", db_path);
        snprintf(path[3], sizeof path[3], "%s-wal", db_path);
        snprintf(path[4], sizeof path[4], "%s-shm", db_path);
        snprintf(path[5], sizeof path[5], "%s-journal", db_path);
    }
    if (cfg->checkpoint_dir[0]) {
        db_ckpt_path(cfg->checkpoint_dir, path[6], sizeof path[6]);
        snprintf(path[7], sizeof path[7], "%.4000s/progress", cfg->checkpoint_dir);
    }
    for (int i = 0; i < N; i++) c[i][0] = '\0';
    for (int i = 0; i < N; i++)
        if (path[i][0]) canonical(path[i], c[i], sizeof c[i]);
    for (int i = 0; i < 2; i++)
        for (int j = 0; c[i][0] && j < N; j++)
            if (j != i && c[j][0] && !strcmp(c[i], c[j]))
                return db_fail(DB_ERR_ARG, "%s %s is also %s: writing one would destroy the other; give it another "
                               "path", what[i], path[i], what[j]);
    return DB_OK;
}

/* A relative checkpoint folder made absolute, so that the record resumes from any working folder */
static db_status absolute_folder(char *dir, size_t n) {
    if (!dir[0]) return DB_OK;
    if (dir[0] != '/') {
        char cwd[4096], abs[4200];
        if (!getcwd(cwd, sizeof cwd)) return db_fail(DB_ERR_IO, "cannot read the working folder: %s", strerror(errno));
        int len = snprintf(abs, sizeof abs, "%s/%s", cwd, dir);
        if (len < 0 || (size_t)len >= n)
            return db_fail(DB_ERR_ARG, "checkpoint_dir: %s/%s is longer than %zu bytes", cwd, dir, n - 1);
        memcpy(dir, abs, (size_t)len + 1);
    }
    db_path_tidy(dir); /* runs/x/, ./runs//x and runs/y/../x: one folder, one record */
    return DB_OK;
}

db_status db_run(const db_config *cfg_in, const db_run_opts *o, db_train_summary *sum) {
    static const db_run_hooks none = {0};
    db_config cfg = *cfg_in;
    recorder p = {.o = o, .hooks = o->hooks ? o->hooks : &none, .task = db_config_task(cfg_in),
                  .given_ckpt = cfg_in->checkpoint_dir};
    memset(sum, 0, sizeof *sum);
    DB_TRY(absolute_folder(cfg.checkpoint_dir, sizeof cfg.checkpoint_dir));
    DB_TRY(db_config_resolve_device(&cfg));
    DB_TRY(db_config_runnable(&cfg)); /* nothing recorded for what cannot run */
    const int own = o->resume && cfg.checkpoint_dir[0] && db_ckpt_exists(cfg.checkpoint_dir);
    if (cfg.init_from[0] && !own) { /* nor for a start from weights that are not there, or half trained (a run that
                                     * resumes its own checkpoint does not read them) */
        int known;
        if (db_ckpt_finished(cfg.init_from, &known) != DB_OK) {
            char why[1300];
            snprintf(why, sizeof why, "%s", db_last_error());
            return db_fail(DB_ERR_ARG, "init_from %s: %s; train the run it names to its end first", cfg.init_from, why);
        }
        if (!known)
            db_log(DB_LOG_NOTE, "init_from %s: written before dropbench recorded a run's progress beside its checkpoint; "
                   "whether that run finished is not known", cfg.init_from);
    }
    const db_dist_info *dist = db_dist(); /* data parallel: the first process records and speaks */
    db_data_spec data = db_config_data(&cfg);
    DB_TRY(db_data_present(&data)); /* nor for a data set that is not there */
    if (dist->rank == 0) DB_TRY(db_train_outputs_ready(&cfg)); /* nor for files it could not write */
    if (dist->rank == 0) DB_TRY(outputs_distinct(&cfg, o->db_path)); /* or that would overwrite another's */
    if (cfg.world_size > 0 && cfg.world_size != dist->size)
        return db_fail(DB_ERR_ARG, "world_size %d: the run was started as %d process%s (mpirun -np %d or srun -n %d "
                       "starts it)", cfg.world_size, dist->size, dist->size == 1 ? "" : "es", cfg.world_size,
                       cfg.world_size);
    if (dist->size > 1) cfg.world_size = dist->size;
    db_dist_set_timeout(cfg.dist_timeout);
    db_run_opts silent;
    if (dist->rank > 0) { /* no record, no output: the others' progress is the first's */
        silent = (db_run_opts){NULL, o->resume, o->labels, &none, o->reshard_from, 0, NULL};
        o = p.o = &silent, p.hooks = &none;
    }
    if (o->reshard_note && own) { /* the record changes with its take-up: the checkpoint's refusals come first */
        int fd = -1;
        DB_TRY(db_ckpt_verify(cfg.checkpoint_dir));
        if (dist->rank == 0) DB_TRY(db_ckpt_lock(cfg.checkpoint_dir, &fd));
        db_ckpt_unlock(fd);
    }
    if (p.hooks->on_start) p.hooks->on_start(&cfg, p.hooks->train.user);
    db_status s;
    if (o->db_path && (s = start_record(&cfg, &p)) != DB_OK) {
        db_store_close(p.store);
        db_mllog_close(&p.log);
        return s;
    }
    if (p.store && (dist->size > 1 || (p.resumed && o->reshard_note))) { /* how the processes were started */
        char v[64];
        if (dist->size > 1) snprintf(v, sizeof v, "%d processes (%s)", dist->size, dist->launcher);
        else snprintf(v, sizeof v, "1 process (resharded)");
        s = db_store_set_provenance(p.store, p.run, "data_parallel", v);
        if (s != DB_OK) return end_record(&p, s);
    }
    db_train_hooks hooks = {on_epoch, on_restored, on_step, &p, o->resume, 0, o->reshard_from};
    s = db_train_from_config(&cfg, &hooks, sum);
    if (p.store && !p.resumed && sum->resumed_from > 0) { /* epochs this database never saw trained */
        char k[32];
        snprintf(k, sizeof k, "%d", sum->resumed_from);
        db_status ps = db_store_set_provenance(p.store, p.run, "replayed_epochs", k);
        if (ps != DB_OK && s == DB_OK) s = ps;
        db_log(DB_LOG_NOTE, "run %lld: epochs 1-%d come from the checkpoint in %s, trained before this database "
               "recorded them (by this or another build: provenance replayed_epochs=%d; regress does not judge the run)",
               (long long)p.run, sum->resumed_from, cfg.checkpoint_dir, sum->resumed_from);
    }
    if (p.store && sum->device_setup[0]) { /* the GPU's setup and memory, with the run */
        db_status ps = db_store_set_provenance(p.store, p.run, "gpu_setup", sum->device_setup);
        if (ps != DB_OK && s == DB_OK) s = ps;
    }
    if (p.store && !p.resumed && !p.epochs_recorded &&
        (db_ckpt_unusable(s) || s == DB_ERR_CKPT_THREADS || s == DB_ERR_CKPT_WORLD || sum->refused))
        s = discard_record(&p, s);
    if (p.store) s = end_record(&p, s);
    if (s == DB_OK && p.hooks->on_finished) p.hooks->on_finished(sum, p.hooks->train.user);
    return s;
}
