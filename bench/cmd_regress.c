/* dropbench regress --baseline BASE.db|TAG: this database's finished runs against their twins in
 * a baseline database (see db_store_regress); exit 0 when every check passes, 1 otherwise.
 * dropbench tag NAME: keep a copy of the database as the baseline called NAME. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "results/store.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench regress --baseline BASE.db|TAG [--db PATH] [--max-slowdown 1.1] [--alpha 0.05]\n"
               "                        [--junit FILE]\n"
               "Compares every finished run in the database (default $DROPBENCH_DB or " DB_STORE_DEFAULT ")\n"
               "with its twin (same settings) in BASE.db: final test metrics must be identical (the\n"
               "deterministic canary), training images/s within the slowdown factor on the same CPU\n"
               "model (the mean of the epochs after the first, whose warm-up is left out, when there are\n"
               "several). Runs that differ only in their seed are also compared as a group (3 or more here,\n"
               "4 or more in the baseline): the olympic mean of their final test top-1 must not be\n"
               "lower than the baseline's at level alpha (MLPerf's reference-convergence test).\n"
               "Completion: a run here that did not finish (failed, diverged, interrupted) fails unless it\n"
               "and its baseline twin both diverged; so does a finished cell of a study run here (the same\n"
               "recipe text) that has no run here. Twins trained with other thread counts, and GPU runs\n"
               "without deterministic 1, are not compared bit for bit.\n"
               "Exit 0: all passed; 1: a regression (or an error); --junit writes JUnit XML. A TAG (a\n"
               "name without '/' or '.db') is a baseline kept by `dropbench tag TAG`.\n");
}

int db_cmd_regress(int argc, char **argv) {
    const char *base = NULL, *db_path = db_store_default_path(), *junit = NULL;
    double slow = 1.1, alpha = 0.05;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return DB_EXIT_OK; }
        if (!v) { /* an option's value missing, or an argument of none */
            static const char *const valued[] = {"--baseline", "--db", "--junit", "--max-slowdown", "--alpha", NULL};
            db_cli_refuse("regress", a, valued);
            usage(stderr);
            return DB_EXIT_USAGE;
        }
        i++;
        if (!strcmp(a, "--baseline")) base = v;
        else if (!strcmp(a, "--db")) db_path = v;
        else if (!strcmp(a, "--junit")) junit = v;
        else if (!strcmp(a, "--max-slowdown")) {
            char *end;
            slow = strtod(v, &end);
            if (*end || !(slow >= 1.0)) { fprintf(stderr, "dropbench regress: --max-slowdown wants a number >= 1\n"); return DB_EXIT_USAGE; }
        } else if (!strcmp(a, "--alpha")) {
            char *end;
            alpha = strtod(v, &end);
            if (*end || !(alpha > 0 && alpha < 0.5)) { fprintf(stderr, "dropbench regress: --alpha wants a level in (0, 0.5)\n"); return DB_EXIT_USAGE; }
        } else { fprintf(stderr, "dropbench regress: unknown option '%s'\n", a); usage(stderr); return DB_EXIT_USAGE; }
    }
    if (!base) { usage(stderr); return DB_EXIT_USAGE; }
    db_store *s;
    db_status st = db_store_open_existing(&s, db_path); /* a missing one is refused, never made */
    if (st != DB_OK) return db_cli_error(st);
    char tagged[1100];
    size_t bl = strlen(base);
    if (!strchr(base, '/') && !(bl > 3 && !strcmp(base + bl - 3, ".db"))) { /* a tag */
        db_status t = db_store_tag_path(db_path, base, tagged, sizeof tagged);
        if (t != DB_OK) { db_store_close(s); return db_cli_error(t); }
        if (access(tagged, F_OK) != 0) {
            fprintf(stderr, "dropbench: no baseline tagged '%s' (%s; dropbench tag %s --db %s keeps one)\n", base, tagged,
                    base, db_path);
            db_store_close(s);
            return DB_EXIT_FAIL;
        }
        base = tagged;
    }
    int checks = 0, failures = 0, skipped = 0;
    st = db_store_regress(s, base, slow, alpha, stdout, junit, &checks, &failures, &skipped);
    db_store_close(s);
    if (st != DB_OK) return db_cli_error(st);
    printf("regress: %d checks, %d failed, %d skipped (not compared)%s\n", checks, failures, skipped,
           checks ? "" : skipped ? "; nothing compared (the skips say why)" : "; no run has a twin in the baseline");
    return failures || !checks ? DB_EXIT_FAIL : DB_EXIT_OK;
}

int db_cmd_tag(int argc, char **argv) {
    const char *db_path = db_store_default_path(), *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: dropbench tag NAME [--db PATH]\n"
                   "Keeps a consistent copy of the results database as the baseline NAME (baselines/NAME.db\n"
                   "beside it), for `dropbench regress --baseline NAME`.\n");
            return DB_EXIT_OK;
        }
        if (!strcmp(argv[i], "--db") && db_cli_has_value(argc, argv, i)) db_path = argv[++i];
        else if (argv[i][0] != '-' && !name) name = argv[i];
        else {
            static const char *const valued[] = {"--db", NULL};
            db_cli_refuse("tag", argv[i], valued);
            return DB_EXIT_USAGE;
        }
    }
    if (!name) { fprintf(stderr, "usage: dropbench tag NAME [--db PATH]\n"); return DB_EXIT_USAGE; }
    db_store *s;
    db_status st = db_store_open_existing(&s, db_path); /* a missing one is refused, never made */
    if (st != DB_OK) return db_cli_error(st);
    char path[1100];
    st = db_store_tag(s, name, path, sizeof path);
    db_store_close(s);
    if (st != DB_OK) return db_cli_error(st);
    printf("tagged %s as baseline '%s': %s\n", db_path, name, path);
    return DB_EXIT_OK;
}
