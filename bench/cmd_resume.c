/* dropbench resume RUN | --study NAME: continue an interrupted run, or a whole study, from the
 * results database alone: the run's recorded configuration (or the study's recorded recipe)
 * says what to run, its checkpoint folder where to continue from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "core/dist.h"
#include "results/store.h"
#include "study/resume.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench resume RUN [--db PATH] [--quiet] [--reshard]\n"
               "       dropbench resume --study NAME [--db PATH] [--quiet]\n"
               "Continues an interrupted (or failed) run from its last checkpoint with the configuration\n"
               "recorded in the database, in the same run record; --study continues every unfinished\n"
               "cell of a study from the recipe recorded with it (finished cells are skipped). Run it\n"
               "from the folder the run started in when its checkpoint folder is relative.\n"
               "A data-parallel run resumes with as many processes as it trained with (mpirun -np N);\n"
               "--reshard continues it with as many as this launch has instead: each process's share\n"
               "of the batch changes, so the run is no longer bit-identical to one at a single number\n"
               "of processes (its provenance says so, and regress leaves it out).\n");
}

static int resume_run(int64_t run, const char *db_path, int reshard) {
    db_train_summary sum;
    int done;
    db_status s = db_resume_run(db_path, run, db_cli_run_hooks(), &sum, &done, reshard);
    if (s == DB_OK && done && db_dist()->rank == 0) printf("run %lld is done; nothing to resume\n", (long long)run);
    return s == DB_OK ? DB_EXIT_OK : db_cli_error(s);
}

static int resume_study(const char *name, const char *db_path) {
    if (db_dist()->size > 1) {
        if (db_dist()->rank == 0)
            fprintf(stderr, "dropbench resume: across %d processes resume one run at a time (dropbench resume RUN)\n",
                    db_dist()->size);
        return DB_EXIT_USAGE;
    }
    db_study_result res;
    db_status s = db_resume_study(db_path, name, db_cli_run_hooks(), &res);
    return db_cli_study_end(s, &res, name, db_path, -1);
}

int db_cmd_resume(int argc, char **argv) {
    const char *db_path = db_store_default_path(), *study = NULL;
    long run = -1;
    int quiet = 0, reshard = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return DB_EXIT_OK; }
        if (!strcmp(argv[i], "--quiet")) quiet = 1;
        else if (!strcmp(argv[i], "--reshard")) reshard = 1;
        else if (!strcmp(argv[i], "--db") && db_cli_has_value(argc, argv, i)) db_path = argv[++i];
        else if (!strcmp(argv[i], "--study") && db_cli_has_value(argc, argv, i)) study = argv[++i];
        else if (run < 0 && db_cli_parse_long(argv[i], 1, &run)) continue;
        else {
            static const char *const valued[] = {"--db", "--study", NULL};
            db_cli_refuse("resume", argv[i], valued);
            usage(stderr);
            return DB_EXIT_USAGE;
        }
    }
    if ((run < 0) == !study || (reshard && study)) { usage(stderr); return DB_EXIT_USAGE; }
    char here[4096], abs_db[8200]; /* (resume continues in the run's folder: the database as named from here) */
    if (db_path[0] && db_path[0] != '/' && getcwd(here, sizeof here) && snprintf(abs_db, sizeof abs_db, "%s/%s", here, db_path) <
                                                            (int)sizeof abs_db)
        db_path = abs_db;
    db_cli_set_quiet(quiet);
    db_train_stop_on_signals(); /* USR1, TERM, INT: checkpoint and stop, recorded as interrupted */
    return study ? resume_study(study, db_path) : resume_run(run, db_path, reshard);
}
