/* dropbench resume RUN | --study NAME: continue an interrupted run, or a whole study, from the
 * results database alone: the run's recorded configuration (or the study's recorded recipe)
 * says what to run, its checkpoint folder where to continue from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/config.h"
#include "bench/recipe.h"
#include "results/store.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench resume RUN [--db PATH] [--quiet]\n"
               "       dropbench resume --study NAME [--db PATH] [--quiet]\n"
               "Continues an interrupted (or failed) run from its last checkpoint with the configuration\n"
               "recorded in the database, in the same run record; --study continues every unfinished\n"
               "cell of a study from the recipe recorded with it (finished cells are skipped). Run it\n"
               "from the folder the run started in when its checkpoint folder is relative.\n");
}

/* The recorded key=value lines back into a configuration */
static db_status parse_config(const char *text, int64_t run, db_config *c) {
    db_config_defaults(c);
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
        char line[1200];
        if ((size_t)(end - p) >= sizeof line) return db_fail(DB_ERR_FORMAT, "run %lld: a configuration line is too long", (long long)run);
        memcpy(line, p, (size_t)(end - p));
        line[end - p] = '\0';
        char *eq = strchr(line, '=');
        if (line[0] && !eq) return db_fail(DB_ERR_FORMAT, "run %lld: bad configuration line '%s'", (long long)run, line);
        if (eq) {
            *eq = '\0';
            if (db_config_set(c, line, eq + 1) != DB_OK) {
                char why[1024];
                snprintf(why, sizeof why, "%s", db_last_error());
                return db_fail(DB_ERR_FORMAT, "run %lld was recorded by another dropbench version: %s", (long long)run, why);
            }
        }
        p = nl ? nl + 1 : end;
    }
    return db_config_validate(c);
}

static int resume_run(int64_t run, const char *db_path, int quiet) {
    db_store *s;
    db_status st = db_store_open(&s, db_path); /* marks runs whose process is gone as interrupted */
    if (st != DB_OK) return db_cli_error(st);
    db_run_record rec;
    st = db_store_get_run(s, run, &rec);
    db_store_close(s);
    if (st != DB_OK) return db_cli_error(st);
    int rc = DB_EXIT_FAIL;
    db_config cfg;
    if (!strcmp(rec.status, "done")) {
        printf("run %lld is done; nothing to resume\n", (long long)run);
        rc = DB_EXIT_OK;
    } else if (!strcmp(rec.status, "diverged")) {
        fprintf(stderr, "dropbench: run %lld diverged (%s); from its last checkpoint it would diverge again the same way: "
                        "run it anew with other settings (e.g. a lower --lr)\n", (long long)run, rec.exit_reason);
    } else if (!strcmp(rec.status, "running")) {
        fprintf(stderr, "dropbench: run %lld is still running (pid %lld on %s)\n", (long long)run, (long long)rec.pid,
                rec.host);
    } else if (!rec.checkpoint_dir[0]) {
        fprintf(stderr, "dropbench: run %lld was recorded without a checkpoint folder; it cannot be resumed, only run "
                        "again (dropbench show %lld has its configuration)\n", (long long)run, (long long)run);
    } else if ((st = parse_config(rec.config, run, &cfg)) != DB_OK) {
        rc = db_cli_error(st);
    } else {
        if (!quiet) printf("resuming run %lld (%s) from %s\n", (long long)run, rec.status, rec.checkpoint_dir);
        db_run_labels labels = {rec.study, rec.recipe, "", rec.recipe_text};
        rc = db_cli_run_training(&cfg, db_path, quiet, 1, &labels);
    }
    db_run_record_free(&rec);
    return rc;
}

static int resume_study(const char *name, const char *db_path, int quiet) {
    db_store *s;
    db_status st = db_store_open(&s, db_path);
    if (st != DB_OK) return db_cli_error(st);
    char *path = NULL, *text = NULL;
    st = db_store_get_study(s, name, &path, &text);
    db_store_close(s);
    if (st != DB_OK) return db_cli_error(st);
    db_recipe *r = malloc(sizeof *r);
    int rc;
    if (!r) rc = db_cli_error(db_fail(DB_ERR_NOMEM, "out of memory"));
    else if ((st = db_recipe_load_text(path[0] ? path : name, text, r)) != DB_OK) rc = db_cli_error(st);
    else {
        db_study_opts o = {0, 0, quiet, -1};
        rc = db_cli_run_study(r, db_path, &o);
        db_recipe_free(r);
    }
    free(r);
    free(path);
    free(text);
    return rc;
}

int db_cmd_resume(int argc, char **argv) {
    const char *db_path = db_store_default_path(), *study = NULL;
    long run = -1;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return DB_EXIT_OK; }
        if (!strcmp(argv[i], "--quiet")) quiet = 1;
        else if (!strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strcmp(argv[i], "--study") && i + 1 < argc) study = argv[++i];
        else if (run < 0 && db_cli_parse_long(argv[i], 1, &run)) continue;
        else { fprintf(stderr, "dropbench resume: unexpected argument '%s'\n", argv[i]); usage(stderr); return DB_EXIT_USAGE; }
    }
    if ((run < 0) == !study) { usage(stderr); return DB_EXIT_USAGE; }
    return study ? resume_study(study, db_path, quiet) : resume_run(run, db_path, quiet);
}
