/* dropbench study RECIPE: every cell of a recipe's matrix, one training run each, recorded in
 * the results database; cells already done (same settings) are skipped, interrupted ones
 * continue from their checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/cli.h"
#include "bench/recipe.h"
#include "bench/train.h"
#include "results/store.h"

/* Did the run fail because its checkpoint (in dir) is from an older build, other settings, or
 * broken? Then the cell can only start afresh. */
static int cannot_resume(const char *dir) {
    static const char *const why[] = {"checkpoint version", "not a dropbench checkpoint", "checkpoint truncated",
                                      "checksum mismatch", "another configuration", "different network"};
    const char *e = db_last_error();
    if (!strstr(e, dir)) return 0;
    for (size_t i = 0; i < sizeof why / sizeof *why; i++)
        if (strstr(e, why[i])) return 1;
    return 0;
}

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

int db_cli_run_study(const db_recipe *r, const char *db_path, const db_study_opts *o) {
    db_status s = DB_OK;
    long only = o->only;
    const char *recipe = r->path;
    for (int i = 0; !o->dry && s == DB_OK && i < db_recipe_cells(r); i++) { /* refuse before recording anything */
        db_config c;
        char label[256];
        if ((s = db_recipe_cell(r, i, &c, label, sizeof label)) == DB_OK && (s = db_config_resolve_device(&c)) == DB_OK &&
            (s = db_config_runnable(&c)) != DB_OK) {
            char why[1024];
            snprintf(why, sizeof why, "%s", db_last_error());
            db_fail(s, "%s: cell %s cannot run: %s (--dry-run lists the study)", r->path, label, why);
        }
    }
    if (s != DB_OK) return db_cli_error(s);
    db_store *store;
    s = db_store_open(&store, db_path);
    if (s != DB_OK) return db_cli_error(s);
    int cells = db_recipe_cells(r), done = 0, ran = 0, failed = 0;
    if (only >= cells) {
        fprintf(stderr, "dropbench study: --cell %ld, but %s has cells 0 to %d\n", only, r->path, cells - 1);
        db_store_close(store);
        return DB_EXIT_USAGE;
    }
    if (!o->dry && (s = db_store_ensure_study(store, r->study, r->text)) != DB_OK) { /* even when every cell is done */
        db_store_close(store);
        return db_cli_error(s);
    }
    printf("study %s (%s): %d cells, results in %s\n", r->study, recipe, cells, db_path);
    for (int i = only >= 0 ? (int)only : 0; i < (only >= 0 ? (int)only + 1 : cells); i++) {
        db_config c;
        char label[256], fp[32];
        int64_t prior = 0;
        s = db_recipe_cell(r, i, &c, label, sizeof label);
        if (s == DB_OK && (s = db_config_resolve_device(&c)) != DB_OK && o->dry) { /* listed, not fatal */
            printf("[%d/%d] %s: cannot run here: %s\n", i + 1, cells, label, db_last_error());
            s = DB_OK;
            continue;
        }
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)db_config_fingerprint(&c));
        if (s == DB_OK) s = db_store_find_done(store, fp, &prior);
        if (s != DB_OK) break;
        if (prior) {
            printf("[%d/%d] %s: done before (run %lld), skipped\n", i + 1, cells, label, (long long)prior);
            done++;
            continue;
        }
        if (o->dry) {
            if (db_config_runnable(&c) != DB_OK) printf("[%d/%d] %s: cannot run here: %s\n", i + 1, cells, label, db_last_error());
            else printf("[%d/%d] %s: would run\n", i + 1, cells, label);
            if (o->show) db_config_write(&c, stdout);
            continue;
        }
        printf("[%d/%d] %s: running\n", i + 1, cells, label);
        fflush(stdout);
        db_run_labels labels = {r->study, recipe, label, r->text};
        int rc = db_cli_run_training(&c, db_path, o->quiet, 1, &labels);
        if (rc != DB_EXIT_OK && cannot_resume(c.checkpoint_dir)) { /* an old or broken checkpoint */
            char stale[1100];
            snprintf(stale, sizeof stale, "%s.stale-%ld", c.checkpoint_dir, (long)time(NULL));
            if (rename(c.checkpoint_dir, stale) == 0) {
                printf("[%d/%d] %s: its checkpoint cannot be resumed; kept it in %s, running afresh\n", i + 1, cells,
                       label, stale);
                rc = db_cli_run_training(&c, db_path, o->quiet, 1, &labels);
            }
        }
        if (rc == DB_EXIT_OK) ran++;
        else failed++;
        if (rc == DB_EXIT_OK && db_train_stop_pending() && i + 1 < cells && only < 0) rc = DB_EXIT_INTERRUPTED; /* after its last step */
        if (rc == DB_EXIT_INTERRUPTED) { /* asked to stop: the rest waits for the next start */
            printf("study: stopped in cell %s; starting the study again continues it\n", label);
            db_store_close(store);
            return rc;
        }
    }
    if (s == DB_OK && !o->dry && only < 0) {
        printf("\n");
        s = db_store_list(store, r->study, stdout);
    }
    db_store_close(store);
    if (s != DB_OK) return db_cli_error(s);
    printf("study: %d cells, %d ran now, %d done before, %d failed\n", cells, ran, done, failed);
    return failed ? DB_EXIT_FAIL : DB_EXIT_OK;
}

int db_cmd_study(int argc, char **argv) {
    const char *recipe = NULL, *db_path = db_store_default_path();
    db_study_opts o = {0, 0, 0, -1};
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
    int rc = db_cli_run_study(r, db_path, &o);
    db_recipe_free(r);
    free(r);
    return rc;
}
