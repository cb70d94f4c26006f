/* dropbench train: one training run from command-line keys. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/train.h"

static void train_usage(FILE *f) {
    fprintf(f, "usage: dropbench train [--KEY VALUE ...] [--resume] [--quiet] [--print-config]\n\n"
               "Trains a network on an IDX data set and evaluates it after every epoch.\n"
               "--resume continues from the checkpoint in --checkpoint-dir when there is one.\n\n"
               "keys:\n");
    db_config_usage(f);
}

typedef struct { int tty, quiet, epochs, batch; } progress;

static void on_step(int epoch, int step, int steps, double loss, double ips, void *user) {
    progress *p = user;
    if (!p->tty || p->quiet) return;
    /* time left in the whole run, evaluation not counted */
    double left = ((double)(p->epochs - epoch) * steps + steps - step) * p->batch / (ips > 0 ? ips : 1);
    fprintf(stderr, "\r  epoch %d/%d  step %d/%d  loss %.4f  %.0f img/s  ETA %dm%02ds   ", epoch,
            p->epochs, step, steps, loss, ips, (int)left / 60, (int)left % 60);
}

static void on_epoch(const db_epoch_result *r, void *user) {
    progress *p = user;
    if (p->tty && !p->quiet) fprintf(stderr, "\r%80s\r", "");
    if (p->quiet) return;
    char drop[32] = "";
    if (r->drop_fraction >= 0) snprintf(drop, sizeof drop, "  dropped %.4f", r->drop_fraction);
    printf("epoch %3d/%d  lr %.4g  train loss %.4f top1 %.2f%%  |  test loss %.4f top1 %.2f%% top5 %.2f%%  |  %.1fs %.0f img/s%s\n",
           r->epoch, p->epochs, r->lr, r->train_loss, 100 * r->train_top1, r->test_loss, 100 * r->test_top1,
           100 * r->test_top5, r->seconds, r->images_per_s, drop);
    fflush(stdout);
}

int db_cmd_train(int argc, char **argv) {
    db_config cfg;
    db_config_defaults(&cfg);
    db_train_hooks hooks = {0};
    progress prog = {isatty(2), 0, 0, 0};
    int print_config = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { train_usage(stdout); return DB_EXIT_OK; }
        if (!strcmp(a, "--resume")) { hooks.resume = 1; continue; }
        if (!strcmp(a, "--quiet")) { prog.quiet = 1; continue; }
        if (!strcmp(a, "--print-config")) { print_config = 1; continue; }
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
    if (hooks.resume && !cfg.checkpoint_dir[0]) {
        fprintf(stderr, "dropbench train: --resume needs --checkpoint-dir\n");
        return DB_EXIT_USAGE;
    }
    prog.epochs = cfg.epochs;
    prog.batch = cfg.batch;
    hooks.on_step = on_step;
    hooks.on_epoch = on_epoch;
    hooks.user = &prog;
    if (!prog.quiet)
        printf("dropbench train: %s on %s (%s), %d epochs, batch %d, seed %llu, %d threads, device cpu\n",
               cfg.model, cfg.dataset, db_train_data_dir(&cfg), cfg.epochs, cfg.batch,
               (unsigned long long)cfg.seed, cfg.threads);
    fflush(stdout); /* shown before the first epoch even when stdout is a pipe */
    db_train_summary sum = {0};
    s = db_train_from_config(&cfg, &hooks, &sum);
    if (sum.resumed_from && !prog.quiet) printf("(resumed after epoch %d)\n", sum.resumed_from);
    if (s != DB_OK) return db_cli_error(s);
    printf("result: test top1 %.2f%% (best %.2f%%), top5 %.2f%%, loss %.4f after %d epochs, %.1f s of training\n",
           100 * sum.final_top1, 100 * sum.best_top1, 100 * sum.final_top5, sum.final_loss, sum.epochs_done,
           sum.train_seconds);
    return DB_EXIT_OK;
}
