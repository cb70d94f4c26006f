/* dropbench study RECIPE: every cell of a recipe's matrix, one training run each, recorded in
 * the results database; cells already done (same settings) are skipped, interrupted ones
 * continue from their checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "train/recipe.h"
#include "results/store.h"
#include "study/study.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench study RECIPE [--db PATH] [--cell N] [--dry-run [--show-config]] [--quiet]\n"
               "Runs every cell of the recipe's matrix (bench/recipes/*.txt): the combinations of its\n"
               "vary.KEY lists, with paired seeds. Finished cells (the same settings done before) are\n"
               "skipped; interrupted ones continue from their checkpoints (runs/STUDY/CELL). --dry-run\n"
               "lists the cells and what would happen to each (--show-config: with every key's value);\n"
               "--cell N runs cell N alone (from 0, as a cluster array task does: see dropbench slurm).\n"
               "A study whose data set, augmentation or network this version lacks is refused before\n"
               "anything is recorded; --dry-run still lists it.\n");
}

/* The dry run: every cell and what would happen to it */
static int dry_run(const db_recipe *r, const char *db_path, int show) {
    db_study_cell *cells;
    int n;
    db_status s = db_study_plan(r, db_path, &cells, &n);
    if (s != DB_OK) return db_cli_error(s);
    printf("study %s (%s): %d cells, results in %s\n", r->study, r->path, n, db_path);
    for (int i = 0; i < n; i++) {
        const db_study_cell *c = &cells[i];
        if (c->state == DB_CELL_DONE_BEFORE)
            printf("[%d/%d] %s: done before (run %lld), skipped\n", i + 1, n, c->label, (long long)c->prior);
        else if (c->state == DB_CELL_CANNOT_RUN) printf("[%d/%d] %s: cannot run here: %s\n", i + 1, n, c->label, c->why);
        else printf("[%d/%d] %s: would run\n", i + 1, n, c->label);
        if (show && c->state != DB_CELL_DONE_BEFORE) { /* as it would run: auto placements resolved */
            db_config e;
            db_config_effective(&c->config, &e);
            db_config_write(&e, stdout);
        }
    }
    free(cells);
    return DB_EXIT_OK;
}

int db_cmd_study(int argc, char **argv) {
    const char *recipe = NULL, *db_path = db_store_default_path();
    struct { int dry, show, quiet; long only; } o = {0, 0, 0, -1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return DB_EXIT_OK; }
        if (!strcmp(argv[i], "--dry-run")) o.dry = 1;
        else if (!strcmp(argv[i], "--show-config")) o.show = 1;
        else if (!strcmp(argv[i], "--quiet")) o.quiet = 1;
        else if (!strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strcmp(argv[i], "--cell") && i + 1 < argc && db_cli_parse_long(argv[i + 1], 0, &o.only)) i++;
        else if (argv[i][0] != '-' && !recipe) recipe = argv[i];
        else { fprintf(stderr, "dropbench study: unexpected argument '%s'\n", argv[i]); usage(stderr); return DB_EXIT_USAGE; }
    }
    if (!recipe || (o.show && !o.dry)) { usage(stderr); return DB_EXIT_USAGE; }
    db_recipe *r = malloc(sizeof *r);
    if (!r) return db_cli_error(db_fail(DB_ERR_NOMEM, "out of memory"));
    db_status s = db_recipe_load(recipe, r);
    if (s != DB_OK) { free(r); return db_cli_error(s); }
    db_cli_set_quiet(o.quiet);
    int rc;
    if (o.dry) rc = dry_run(r, db_path, o.show);
    else {
        db_study_result res;
        db_train_stop_on_signals(); /* USR1, TERM, INT: the cell in progress checkpoints, the study stops */
        s = db_study_run(r, db_path, o.only, db_cli_run_hooks(), &res);
        rc = db_cli_study_end(s, &res, r->study, db_path, o.only);
    }
    db_recipe_free(r);
    free(r);
    return rc;
}
