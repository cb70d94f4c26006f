/* dropbench train: one training run from command-line keys. */
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/train.h"
#include "results/mllog.h"
#include "results/provenance.h"
#include "results/store.h"

static void train_usage(FILE *f) {
    fprintf(f, "usage: dropbench train [--KEY VALUE ...] [--resume] [--quiet] [--print-config]\n"
               "                       [--db PATH | --no-db]\n\n"
               "Trains a network on an IDX data set and evaluates it after every epoch.\n"
               "--resume continues from the checkpoint in --checkpoint-dir when there is one.\n"
               "SIGUSR1, SIGTERM or SIGINT stop it after the step in progress, with a checkpoint (also\n"
               "inside an epoch) that --resume continues bit for bit; the exit status is then 4.\n"
               "The run, its provenance and every epoch's metrics go to the results database\n"
               "(--db, default $DROPBENCH_DB or " DB_STORE_DEFAULT "); --no-db records nothing.\n\n"
               "keys:\n");
    db_config_usage(f);
}

typedef struct {
    int tty, quiet, epochs, batch;
    const db_run_labels *labels; /* study, recipe, cell */
    db_store *store; /* NULL with --no-db */
    int64_t run;
    db_mllog log;    /* the run's MLLOG event log beside the database */
} progress;

static void on_step(int epoch, int step, int steps, double loss, double ips, void *user) {
    progress *p = user;
    if (!p->tty || p->quiet) return;
    /* time left in the whole run, evaluation not counted */
    double left = ((double)(p->epochs - epoch) * steps + steps - step) * p->batch / (ips > 0 ? ips : 1);
    fprintf(stderr, "\r  epoch %d/%d  step %d/%d  loss %.4f  %.0f img/s  ETA %dm%02ds   ", epoch,
            p->epochs, step, steps, loss, ips, (int)left / 60, (int)left % 60);
}

/* One epoch's metrics, the per-site drop records included, in one transaction */
static db_status record_epoch(progress *p, const db_epoch_result *r, const db_epoch_sites *es) {
    enum { FIXED = 10, MAXM = FIXED + 2 * 256 };
    static db_metric m[MAXM];
    static char names[2 * 256][64];
    const db_metric fixed[FIXED] = {
        {"train", "loss", r->train_loss}, {"train", "top1", r->train_top1}, {"train", "lr", r->lr},
        {"train", "images_per_s", r->images_per_s}, {"train", "seconds", r->seconds},
        {"train", "drop_fraction", r->drop_fraction >= 0 ? r->drop_fraction : NAN},
        {"train", "keep_prob", r->keep_prob >= 0 ? r->keep_prob : NAN},
        {"test", "loss", r->test_loss}, {"test", "top1", r->test_top1}, {"test", "top5", r->test_top5}};
    int n = 0;
    for (; n < FIXED; n++) m[n] = fixed[n];
    for (int i = 0; i < es->n && i < 256; i++) {
        snprintf(names[2 * i], sizeof names[0], "drop_fraction/%s", es->names[i]);
        snprintf(names[2 * i + 1], sizeof names[0], "expected_fraction/%s", es->names[i]);
        m[n++] = (db_metric){"train", names[2 * i], es->sites[i].drop_fraction};
        m[n++] = (db_metric){"train", names[2 * i + 1], es->sites[i].expected_fraction};
    }
    return db_store_epoch(p->store, p->run, r->epoch, 0, m, n); /* step 0: values of the whole epoch */
}

/* An epoch the checkpoint already holds: into the store again (idempotent), for a database that
 * did not see it (a study continued into a fresh database) */
static db_status on_restored(const db_epoch_result *r, const db_epoch_sites *es, void *user) {
    progress *p = user;
    return p->store ? record_epoch(p, r, es) : DB_OK;
}

static db_status on_epoch(const db_epoch_result *r, const db_epoch_sites *es, void *user) {
    progress *p = user;
    if (p->tty && !p->quiet) fprintf(stderr, "\r%80s\r", "");
    if (p->store) {
        DB_TRY(record_epoch(p, r, es));
        char meta[64], acc[32];
        snprintf(meta, sizeof meta, "{\"epoch_num\": %d}", r->epoch);
        snprintf(acc, sizeof acc, "%.6f", r->test_top1);
        int64_t now = db_mllog_now_ms();
        db_mllog_event(&p->log, "INTERVAL_START", "epoch_start", NULL, meta, now - (int64_t)(r->seconds * 1000));
        db_mllog_event(&p->log, "INTERVAL_END", "epoch_stop", NULL, meta, now);
        db_mllog_event(&p->log, "POINT_IN_TIME", "eval_accuracy", acc, meta, 0);
    }
    if (p->quiet) return DB_OK;
    char drop[32] = "";
    if (r->drop_fraction >= 0) snprintf(drop, sizeof drop, "  dropped %.4f", r->drop_fraction);
    printf("epoch %3d/%d  lr %.4g  train loss %.4f top1 %.2f%%  |  test loss %.4f top1 %.2f%% top5 %.2f%%  |  %.1fs %.0f img/s%s\n",
           r->epoch, p->epochs, r->lr, r->train_loss, 100 * r->train_top1, r->test_loss, 100 * r->test_top1,
           100 * r->test_top5, r->seconds, r->images_per_s, drop);
    fflush(stdout);
    return DB_OK;
}

/* Opens the store and records the run as running (or takes an interrupted one up again). */
static db_status start_record(const char *path, const db_config *cfg, progress *p) {
    DB_TRY(db_store_open(&p->store, path));
    char *config = NULL, fp[32], family[32];
    size_t len = 0;
    FILE *m = open_memstream(&config, &len);
    if (!m) return db_fail(DB_ERR_NOMEM, "out of memory");
    db_config_write(cfg, m);
    fclose(m);
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)db_config_fingerprint(cfg));
    snprintf(family, sizeof family, "%016llx", (unsigned long long)db_config_family(cfg));
    char dir[4096], pattern[4200];
    db_train_data_dir(cfg, dir, sizeof dir, NULL);
    glob_t gl = {0};
    int globbed = 0;
    static const char *patterns[] = {"%s/*-ubyte*", "%s/cifar-1*-binary.tar.gz", "%s/cifar-1*/*.bin", "%s/*.bin"};
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) { /* the files the loader may read */
        snprintf(pattern, sizeof pattern, patterns[i], dir);
        globbed |= glob(pattern, globbed ? GLOB_APPEND : 0, NULL, &gl) == 0;
    }
    const char *files[16] = {NULL};
    for (size_t i = 0; globbed && i < gl.gl_pathc && i < 15; i++) files[i] = gl.gl_pathv[i];
    db_provenance prov;
    db_provenance_collect(&prov, files, cfg->threads);
    if (globbed) globfree(&gl);
    db_run_info info = {config, fp, family, cfg->model, cfg->dataset, cfg->regularizer,
                        !strcmp(cfg->regularizer, "dropblock") ? cfg->semantics : "", cfg->device, cfg->checkpoint_dir,
                        p->labels->recipe, p->labels->study, p->labels->recipe_text, cfg->keep_prob, cfg->block_size,
                        cfg->seed, cfg->epochs};
    char kp[32];
    snprintf(kp, sizeof kp, "%.7g", cfg->keep_prob);
    info.keep_prob = atof(kp); /* 0.9, not the float's 0.899999976 */
    int resumed = 0;
    db_status s = db_store_begin_run(p->store, &info, prov.kv, prov.n, &p->run, &resumed);
    free(config);
    if (s == DB_OK) s = db_mllog_open(&p->log, path, p->run);
    if (s == DB_OK && !resumed) { /* what MLPerf's tools expect at the start of a training run */
        char v[64];
        db_mllog_event(&p->log, "INTERVAL_START", "run_start", NULL, NULL, 0);
        snprintf(v, sizeof v, "%llu", (unsigned long long)cfg->seed);
        db_mllog_event(&p->log, "POINT_IN_TIME", "seed", v, NULL, 0);
        snprintf(v, sizeof v, "%d", cfg->batch);
        db_mllog_event(&p->log, "POINT_IN_TIME", "global_batch_size", v, NULL, 0);
        db_mllog_event(&p->log, "POINT_IN_TIME", "opt_name", "\"sgd\"", NULL, 0);
        snprintf(v, sizeof v, "%g", cfg->lr);
        db_mllog_event(&p->log, "POINT_IN_TIME", "opt_base_learning_rate", v, NULL, 0);
        snprintf(v, sizeof v, "%g", cfg->weight_decay);
        db_mllog_event(&p->log, "POINT_IN_TIME", "opt_weight_decay", v, NULL, 0);
    }
    if (s == DB_OK && !p->quiet)
        printf("%s run %lld in %s (events: %s)\n", resumed ? "continuing" : "recording", (long long)p->run, path,
               p->log.path);
    return s;
}

int db_cmd_train(int argc, char **argv) {
    db_config cfg;
    db_config_defaults(&cfg);
    int print_config = 0, quiet = 0, resume = 0;
    const char *db_path = db_store_default_path();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { train_usage(stdout); return DB_EXIT_OK; }
        if (!strcmp(a, "--resume")) { resume = 1; continue; }
        if (!strcmp(a, "--quiet")) { quiet = 1; continue; }
        if (!strcmp(a, "--print-config")) { print_config = 1; continue; }
        if (!strcmp(a, "--no-db")) { db_path = NULL; continue; }
        if (!strcmp(a, "--db")) {
            if (i + 1 >= argc || !argv[i + 1][0]) { fprintf(stderr, "dropbench train: --db needs a path\n"); return DB_EXIT_USAGE; }
            db_path = argv[++i];
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "dropbench train: unexpected argument '%s' (options are --KEY VALUE)\n", a);
            return DB_EXIT_USAGE;
        }
        char key[64];
        const char *eq = strchr(a, '='), *value;
        if (eq) {
            snprintf(key, sizeof key, "%.*s", (int)(eq - a - 2), a + 2);
            value = eq + 1;
        } else {
            if (i + 1 >= argc) { fprintf(stderr, "dropbench train: %s needs a value\n", a); return DB_EXIT_USAGE; }
            snprintf(key, sizeof key, "%s", a + 2);
            value = argv[++i];
        }
        db_status s = db_config_set(&cfg, key, value);
        if (s != DB_OK) {
            fprintf(stderr, "dropbench train: %s (see dropbench train --help)\n", db_last_error());
            return DB_EXIT_USAGE;
        }
    }
    db_status s = db_config_validate(&cfg);
    if (s != DB_OK) return db_cli_error(s);
    if (print_config) { db_config_write(&cfg, stdout); return DB_EXIT_OK; }
    if (resume && !cfg.checkpoint_dir[0]) {
        fprintf(stderr, "dropbench train: --resume needs --checkpoint-dir\n");
        return DB_EXIT_USAGE;
    }
    db_run_labels labels = {"", "", "", NULL};
    return db_cli_run_training(&cfg, db_path, quiet, resume, &labels);
}

int db_cli_run_training(const db_config *cfg_in, const char *db_path, int quiet, int resume,
                        const db_run_labels *labels) {
    db_config cfg = *cfg_in;
    db_train_hooks hooks = {0};
    progress prog = {isatty(2), quiet, 0, 0, NULL, NULL, 0, {NULL, ""}};
    hooks.resume = resume;
    prog.labels = labels;
    db_status s = db_config_resolve_device(&cfg);
    if (s == DB_OK) s = db_config_runnable(&cfg);
    if (s != DB_OK) return db_cli_error(s); /* nothing recorded for what cannot run */
    prog.epochs = cfg.epochs;
    prog.batch = cfg.batch;
    hooks.on_step = on_step;
    hooks.on_epoch = on_epoch;
    hooks.on_restored = on_restored;
    hooks.user = &prog;
    if (!prog.quiet) {
        char dir[4096];
        const char *origin;
        db_train_data_dir(&cfg, dir, sizeof dir, &origin);
        printf("dropbench train: %s on %s (%s: %s), %d epochs, batch %d, seed %llu, %d threads, device %s\n",
               cfg.model, cfg.dataset, dir, origin, cfg.epochs, cfg.batch, (unsigned long long)cfg.seed, cfg.threads,
               cfg.device);
    }
    if (db_path && (s = start_record(db_path, &cfg, &prog)) != DB_OK) {
        db_store_close(prog.store);
        db_mllog_close(&prog.log);
        return db_cli_error(s);
    }
    fflush(stdout); /* shown before the first epoch even when stdout is a pipe */
    db_train_stop_on_signals(); /* USR1, TERM, INT: checkpoint and stop, recorded as interrupted */
    db_train_summary sum = {0};
    s = db_train_from_config(&cfg, &hooks, &sum);
    if (sum.resumed_from && !prog.quiet) printf("(resumed after epoch %d)\n", sum.resumed_from);
    if (prog.store) { /* the run's end; its own failure is reported after the run's */
        char reason[600];
        snprintf(reason, sizeof reason, "%s", s == DB_OK ? "" : db_last_error());
        db_status e = db_store_end_run(prog.store, prog.run,
                                       s == DB_OK ? "done" : s == DB_ERR_DIVERGED ? "diverged"
                                                   : s == DB_ERR_INTERRUPTED ? "interrupted" : "failed", reason);
        db_store_close(prog.store);
        db_mllog_event(&prog.log, "INTERVAL_END", "run_stop", NULL,
                       s == DB_OK ? "{\"status\": \"success\"}" : "{\"status\": \"aborted\"}", 0);
        db_status le = db_mllog_close(&prog.log);
        if (e == DB_OK) e = le;
        if (s == DB_OK && e != DB_OK) return db_cli_error(e);
        if (e != DB_OK) fprintf(stderr, "dropbench: could not record the run's end: %s\n", db_last_error());
        if (s != DB_OK) db_fail(s, "%s", reason);
    }
    if (s != DB_OK) return db_cli_error(s);
    printf("result: test top1 %.2f%% (best %.2f%%), top5 %.2f%%, loss %.4f after %d epochs, %.1f s of training\n",
           100 * sum.final_top1, 100 * sum.best_top1, 100 * sum.final_top5, sum.final_loss, sum.epochs_done,
           sum.train_seconds);
    return DB_EXIT_OK;
}
