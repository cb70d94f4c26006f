/* dropbench list / show / export: what the results database holds; merge: shards folded into it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "results/store.h"

/* --db PATH among args (removed from the count); the default otherwise */
static const char *db_arg(int *argc, char **argv, int *bad) {
    const char *path = db_store_default_path();
    for (int i = 1; i < *argc; i++)
        if (!strcmp(argv[i], "--db")) {
            if (!db_cli_has_value(*argc, argv, i) || !argv[i + 1][0]) { *bad = 1; return NULL; }
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
    for (int i = 1; i < argc; i++) /* every shard there before the database they go into is made */
        if (access(argv[i], R_OK) != 0)
            return db_cli_error(db_fail(DB_ERR_IO, "%s: cannot read the shard: %s", argv[i], strerror(errno)));
    db_store *s;
    db_status st = db_store_open(&s, path); /* the database the shards go into: made when not there yet */
    if (st != DB_OK) return db_cli_error(st);
    for (int i = 1; i < argc && st == DB_OK; i++) {
        int added = 0, present = 0, updated = 0;
        st = db_store_merge(s, argv[i], &added, &present, &updated);
        if (st != DB_OK) break;
        printf("%s: %d new runs, %d already here", argv[i], added, present);
        if (present && updated) printf(" (%d brought up to date)\n", updated);
        else printf(present ? " (nothing changed)\n" : "\n");
    }
    db_store_close(s);
    return st == DB_OK ? DB_EXIT_OK : db_cli_error(st);
}

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench list [--study NAME] [--db PATH]\n"
               "       dropbench show RUN [--db PATH]\n"
               "       dropbench export [--format csv|json] [--run RUN] [--db PATH]\n"
               "       dropbench merge SHARD.db... [--db PATH]\n"
               "The runs in the results database (default $DROPBENCH_DB or " DB_STORE_DEFAULT "); one run\n"
               "with its configuration, provenance and metrics; or every metric of every run (one),\n"
               "as CSV (one row per metric) or JSON (runs with their config, provenance, metrics); or\n"
               "fold shard databases in (runs matched by uuid: merging twice adds nothing). list, show\n"
               "and export read the database without writing it, and refuse one that is not there.\n");
}

int db_cmd_results(int argc, char **argv) {
    const char *cmd = argv[0];
    int bad = 0, show = !strcmp(cmd, "show"), export = !strcmp(cmd, "export"), json = 0;
    const char *study = NULL;
    long run = 0;
    const char *path = db_arg(&argc, argv, &bad);
    if (db_cli_wants_help(argc, argv)) { usage(stdout); return DB_EXIT_OK; }
    if (bad) { fprintf(stderr, "dropbench %s: --db needs a path\n", cmd); return DB_EXIT_USAGE; }
    const int merge = !strcmp(cmd, "merge");
    if (merge && !(argc > 1 && argv[1][0] == '-')) return merge_cmd(argc, argv, path);
    static const char *const formats[] = {"csv", "json", NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL;
        if (export && !strcmp(a, "--format")) {
            if ((json = db_cli_choice(cmd, a, v, formats)) < 0) return DB_EXIT_USAGE;
            i++;
        } else if (export && !strcmp(a, "--run")) {
            if (!db_cli_long_opt(cmd, a, v, 1, LONG_MAX, &run)) return DB_EXIT_USAGE;
            i++;
        } else if (!show && !export && !merge && !strcmp(a, "--study")) {
            if (!v) { fprintf(stderr, "dropbench list: --study needs a name\n"); return DB_EXIT_USAGE; }
            study = argv[++i];
        } else if (show && !run && a[0] != '-') {
            if (!db_cli_long_opt(cmd, "RUN", a, 1, LONG_MAX, &run)) return DB_EXIT_USAGE;
        } else {
            fprintf(stderr, "dropbench %s: unexpected argument '%s'\n", cmd, a);
            usage(stderr);
            return DB_EXIT_USAGE;
        }
    }
    if (show && !run) { fprintf(stderr, "dropbench show: which run? (dropbench show RUN; dropbench list shows them)\n"); return DB_EXIT_USAGE; }
    db_store *s; /* a copy: read without writing the file (and a missing one refused, not made) */
    db_status st = db_store_open_copy(&s, path);
    if (st != DB_OK) return db_cli_error(st);
    st = show ? db_store_show(s, run, stdout) : export ? db_store_export(s, run, json, stdout) : db_store_list(s, study, stdout);
    db_store_close(s);
    return st == DB_OK ? DB_EXIT_OK : db_cli_error(st);
}
