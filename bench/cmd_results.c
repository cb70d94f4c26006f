/* dropbench list / show: what the results database holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "results/store.h"

/* --db PATH among args (removed from the count); the default otherwise */
static const char *db_arg(int *argc, char **argv, int *bad) {
    const char *path = db_store_default_path();
    for (int i = 1; i < *argc; i++)
        if (!strcmp(argv[i], "--db")) {
            if (i + 1 >= *argc) { *bad = 1; return NULL; }
            path = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], sizeof *argv * (size_t)(*argc - i - 2));
            *argc -= 2;
            i--;
        }
    return path;
}

/* dropbench merge SHARD.db... [--db PATH] */
static int merge_cmd(int argc, char **argv, const char *path) {
    if (argc < 2) { fprintf(stderr, "usage: dropbench merge SHARD.db... [--db PATH]\n"); return DB_EXIT_USAGE; }
    db_store *s;
    db_status st = db_store_open(&s, path);
    if (st != DB_OK) return db_cli_error(st);
    for (int i = 1; i < argc && st == DB_OK; i++) {
        int added = 0, updated = 0;
        st = db_store_merge(s, argv[i], &added, &updated);
        if (st == DB_OK) printf("%s: %d new runs, %d already here (brought up to date)\n", argv[i], added, updated);
    }
    db_store_close(s);
    return st == DB_OK ? DB_EXIT_OK : db_cli_error(st);
}

int db_cmd_results(int argc, char **argv) {
    const char *cmd = argv[0];
    int bad = 0, show = !strcmp(cmd, "show"), export = !strcmp(cmd, "export"), json = 0;
    const char *study = NULL;
    long run = 0;
    const char *path = db_arg(&argc, argv, &bad);
    if (!strcmp(cmd, "merge") && !bad && !(argc > 1 && argv[1][0] == '-')) return merge_cmd(argc, argv, path);
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: dropbench list [--study NAME] [--db PATH]\n"
               "       dropbench show RUN [--db PATH]\n"
               "       dropbench export [--format csv|json] [--run RUN] [--db PATH]\n"
               "       dropbench merge SHARD.db... [--db PATH]\n"
               "The runs in the results database (default $DROPBENCH_DB or " DB_STORE_DEFAULT "); one run\n"
               "with its configuration, provenance and metrics; or every metric of every run (one),\n"
               "as CSV (one row per metric) or JSON (runs with their config, provenance, metrics); or\n"
               "fold shard databases in (runs matched by uuid: merging twice adds nothing).\n");
        return DB_EXIT_OK;
    }
    if (!show && !export && argc == 3 && !strcmp(argv[1], "--study")) { study = argv[2]; argc = 1; }
    for (int i = 1; export && i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc && (!strcmp(argv[i + 1], "csv") || !strcmp(argv[i + 1], "json"))) {
            json = !strcmp(argv[++i], "json");
        } else if (!strcmp(argv[i], "--run") && i + 1 < argc && db_cli_parse_long(argv[i + 1], 1, &run)) {
            i++;
        } else {
            bad = 1;
        }
    }
    if (bad || (show && (argc != 2 || !db_cli_parse_long(argv[1], 1, &run))) || (!show && !export && argc != 1)) {
        fprintf(stderr, "usage: dropbench list [--study NAME] | show RUN | export [--format csv|json] [--run RUN], "
                        "each [--db PATH]\n");
        return DB_EXIT_USAGE;
    }
    db_store *s;
    db_status st = db_store_open(&s, path);
    if (st != DB_OK) return db_cli_error(st);
    st = show ? db_store_show(s, run, stdout) : export ? db_store_export(s, run, json, stdout) : db_store_list(s, study, stdout);
    db_store_close(s);
    return st == DB_OK ? DB_EXIT_OK : db_cli_error(st);
}
