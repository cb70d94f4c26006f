/* dropbench train: one training run from command-line keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "train/train.h"
#include "results/store.h"
#include "study/run.h"

static void train_usage(FILE *f) {
    fprintf(f, "usage: dropbench train [--KEY VALUE ...] [--resume] [--quiet] [--print-config]\n"
               "                       [--db PATH | --no-db]\n\n"
               "Trains a network (a classifier, detector or segmenter: --model) on a data set (--dataset:\n"
               "IDX, CIFAR, JPEG folders, synthetic, detection and segmentation sets) and evaluates it\n"
               "(top-1, AP or mIOU) every --eval-every epochs.\n"
               "--resume continues from the checkpoint in --checkpoint-dir when there is one.\n"
               "SIGUSR1, SIGTERM or SIGINT stop it after the step in progress, with a checkpoint (also\n"
               "inside an epoch) that --resume continues bit for bit; the exit status is then 4.\n"
               "The run, its provenance and every epoch's metrics go to the results database\n"
               "(--db, default $DROPBENCH_DB or " DB_STORE_DEFAULT "); --no-db records nothing.\n\n"
               "keys:\n");
    db_config_usage(f, 0);
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
            if (!db_cli_has_value(argc, argv, i) || !argv[i + 1][0]) {
                fprintf(stderr, "dropbench train: --db needs a path\n");
                return DB_EXIT_USAGE;
            }
            db_path = argv[++i];
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "dropbench train: unexpected argument '%s' (options are --KEY VALUE)\n", a);
            return DB_EXIT_USAGE;
        }
        char key[64];
        const char *value;
        if (!db_cli_key_value("train", argc, argv, &i, key, sizeof key, &value)) return DB_EXIT_USAGE;
        db_status s = db_config_set(&cfg, key, value);
        if (s != DB_OK) {
            fprintf(stderr, "dropbench train: %s (see dropbench train --help)\n", db_last_error());
            return DB_EXIT_USAGE;
        }
    }
    db_status s = db_config_validate(&cfg);
    if (s != DB_OK) return db_cli_error(s);
    if (print_config) { /* as it would run: auto placements resolved */
        db_config e;
        db_config_effective(&cfg, &e);
        db_config_write(&e, stdout);
        return DB_EXIT_OK;
    }
    if (resume && !cfg.checkpoint_dir[0]) {
        fprintf(stderr, "dropbench train: --resume needs --checkpoint-dir\n");
        return DB_EXIT_USAGE;
    }
    db_cli_set_quiet(quiet);
    db_train_stop_on_signals(); /* USR1, TERM, INT: checkpoint and stop, recorded as interrupted */
    db_run_opts o = {db_path, resume, {"", "", NULL, NULL, NULL}, db_cli_run_hooks(), 0, 0, NULL};
    db_train_summary sum;
    s = db_run(&cfg, &o, &sum);
    return s == DB_OK ? DB_EXIT_OK : db_cli_error(s);
}
