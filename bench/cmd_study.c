/* dropbench study RECIPE: every cell of a recipe's matrix, one training run each, recorded in
 * the results database; cells already done (same settings) are skipped, interrupted ones
 * continue from their checkpoints. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/cli.h"
#include "datasets/select.h"
#include "core/dist.h"
#include "train/recipe.h"
#include "results/store.h"
#include "study/study.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench study RECIPE [--db PATH] [--cell N | --jobs N] [--dry-run [--show-config]] [--quiet]\n"
               "Runs every cell of the recipe's matrix (bench/recipes/*.txt): the combinations of its\n"
               "vary.KEY lists, with paired seeds. Finished cells (the same settings done before) are\n"
               "skipped; interrupted ones continue from their checkpoints (runs/STUDY/CELL). --dry-run\n"
               "lists the cells and what would happen to each (--show-config: with every key's value);\n"
               "--cell N runs cell N alone (from 0, as a cluster array task does: see dropbench slurm;\n"
               "--in-jobs HASH marks the cells --jobs starts, which leave the header and summary to it and\n"
               "refuse a recipe file edited since the study planned its cells);\n"
               "--jobs N runs up to N cells at once, each in a process of its own (give each its share of\n"
               "the cores with the recipe's threads key; the results are those of running them one by one).\n"
               "A study whose data set, augmentation or network this version lacks is refused before\n"
               "anything is recorded; --dry-run still lists it. A recipe's `requires = FILE` studies (the\n"
               "runs its init_from starts from) run first, unless --cell picks one cell: a cell whose\n"
               "starting checkpoint is not there yet is then refused, naming the study to run first.\n");
}

/* The dry run of a study the recipe requires: its cells still to run */
static db_status dry_required(const db_recipe *q, const db_recipe *by, void *db_path) {
    db_study_cell *cells = NULL;
    int n = 0, todo = 0;
    DB_TRY(db_study_plan(q, db_path, &cells, &n));
    for (int k = 0; k < n; k++) todo += cells[k].state != DB_CELL_DONE_BEFORE;
    printf("study %s requires %s (study %s): %d cell%s, %d to run first%s\n", by->study, q->path, q->study, n,
           n == 1 ? "" : "s", todo, todo ? " (dropbench study without --cell runs them)" : "");
    free(cells);
    return DB_OK;
}

/* The dry run: every cell and what would happen to it */
static int dry_run(const db_recipe *r, const char *db_path, int show) {
    char missing[4096] = ""; /* each missing data set's message, once */
    db_study_cell *cells;
    int n;
    db_status s = db_study_each_require(r, dry_required, (void *)db_path);
    if (s != DB_OK) return db_cli_error(s);
    if ((s = db_study_plan(r, db_path, &cells, &n)) != DB_OK) return db_cli_error(s);
    printf("study %s (%s): %d cells, results in %s%s\n", r->study, r->path, n, db_path,
           access(db_path, F_OK) ? " (no database there yet: nothing done before)" : "");
    for (int i = 0; i < n; i++) {
        const db_study_cell *c = &cells[i];
        if (c->state == DB_CELL_DONE_BEFORE)
            printf("[%d/%d] %s: done before (run %lld), skipped\n", i + 1, n, c->name, (long long)c->prior);
        else if (c->state == DB_CELL_CANNOT_RUN) printf("[%d/%d] %s: cannot run here: %s\n", i + 1, n, c->name, c->why);
        else {
            db_data_spec data = db_config_data(&c->config);
            char why[1200] = "";
            if (db_data_present(&data) != DB_OK) snprintf(why, sizeof why, "%s", db_last_error());
            printf("[%d/%d] %s: would run%s\n", i + 1, n, c->name, why[0] ? " once its data is there (below)" : "");
            if (why[0] && !strstr(missing, why) && strlen(missing) + strlen(why) + 2 < sizeof missing)
                strcat(strcat(missing, why), "\n");
        }
        if (show && c->state != DB_CELL_DONE_BEFORE) { /* as it would run: auto placements resolved */
            db_config e;
            db_config_effective(&c->config, &e);
            db_config_write(&e, stdout);
        }
    }
    free(cells);
    if (missing[0]) printf("not here yet (a run would be refused, recording nothing):\n%s", missing);
    return DB_EXIT_OK;
}

/* --jobs: the cells still to run, up to `jobs` at once, each in a child process running it as
 * --cell would; a stop signal is passed on to the cells running, and no new cell starts */
static volatile sig_atomic_t jobs_stop;
enum { NSIGS = 4 };
static const int sigs[NSIGS] = {SIGUSR1, SIGTERM, SIGINT, SIGHUP}; /* passed on to the cells */
static pid_t job_pid[256];
static int njob_pid;

/* Passed on as SIGUSR1, which a cell may receive any number of times: a TERM or INT sent to the
 * whole group as well (pkill -f, a batch system) would be a cell's second, which ends it at once */
static void pass_on(int sig) {
    const int again = jobs_stop != 0; /* a second stop: the cells end now, as a plain study's does */
    jobs_stop = sig;
    for (int i = 0; i < njob_pid; i++) /* (the USR1 is no first stop to a cell's TERM: INT then TERM, two) */
        if (job_pid[i] > 0) {
            if (again) kill(job_pid[i], SIGINT);
            kill(job_pid[i], again ? SIGTERM : SIGUSR1);
        }
}

static int run_jobs(const db_recipe *r, const char *db_path, int jobs) {
    db_study_cell *plan = NULL;
    int n = 0;
    int stopped = 0;
    db_train_stop_on_signals(); /* for the required studies, which run here, one by one, before the cells */
    db_status s = db_study_run_requires(r, db_path, db_cli_run_hooks(), &stopped);
    if (s == DB_ERR_INTERRUPTED && stopped) return DB_EXIT_INTERRUPTED; /* said as it stopped */
    if (s == DB_OK) s = db_study_plan(r, db_path, &plan, &n); /* refuses a study with a cell this version cannot run */
    for (int i = 0; s == DB_OK && i < n; i++)
        if (plan[i].state == DB_CELL_CANNOT_RUN)
            s = db_fail(plan[i].refusal, "%s: cell %s cannot run: %s (--dry-run lists the study)", r->path, plan[i].name,
                        plan[i].why);
    if (s != DB_OK) { free(plan); return db_cli_error(s); }
    db_store *store; /* the study recorded (and a new database made) once, before the cells race to it */
    char name[sizeof r->study + 16];
    if ((s = db_store_open(&store, db_path)) == DB_OK) {
        s = db_study_join(store, r, db_path, 1, name, sizeof name);
        db_store_close(store);
    }
    if (s != DB_OK) { free(plan); return db_cli_error(s); }
    printf("study %s (%s): %d cells, up to %d at once, results in %s\n", name, r->path, n, jobs, db_path);
    fflush(stdout);
    struct sigaction sa, old[NSIGS];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pass_on;
    sigemptyset(&sa.sa_mask);
    for (int k = 0; k < NSIGS; k++) sigaction(sigs[k], &sa, &old[k]);
    if (db_train_stop_pending()) jobs_stop = SIGTERM; /* a stop that came while the study planned: no cell starts */
    db_study_result res = {.cells = n};
    int running = 0, next = 0, interrupted = 0;
    int *cell_of_slot = calloc((size_t)jobs, sizeof *cell_of_slot);
    njob_pid = jobs;
    for (int k = 0; k < jobs; k++) job_pid[k] = 0;
    while (cell_of_slot && (running || (next < n && !jobs_stop))) {
        if (next < n && !jobs_stop && running < jobs) {
            const db_study_cell *c = &plan[next];
            if (c->state == DB_CELL_DONE_BEFORE) {
                printf("[%d/%d] %s: done before (run %lld), skipped\n", next + 1, n, c->name, (long long)c->prior);
                res.done_before++;
                next++;
                continue;
            }
            int slot = 0;
            while (job_pid[slot]) slot++;
            fflush(stdout);
            fflush(stderr);
            sigset_t block, was;
            sigemptyset(&block);
            for (int k = 0; k < NSIGS; k++) sigaddset(&block, sigs[k]);
            sigprocmask(SIG_BLOCK, &block, &was); /* a signal now waits until the cell's pid is known */
            if (jobs_stop) { sigprocmask(SIG_SETMASK, &was, NULL); continue; } /* it came just now */
            char cell[24], text[24];
            snprintf(cell, sizeof cell, "%d", next);
            snprintf(text, sizeof text, "%016llx", (unsigned long long)db_recipe_text_hash(r));
            char *const args[] = {"dropbench", "study", (char *)r->path, "--cell", cell, "--in-jobs", text, "--db",
                                  (char *)db_path, "--quiet", NULL};
            pid_t parent = getpid(), pid = fork();
            if (pid == 0) { /* the cell in a fresh process (no CUDA context, statics or threads carried over) */
                setpgid(0, 0); /* a terminal's Ctrl-C reaches the parent alone, which passes it on once */
                prctl(PR_SET_PDEATHSIG, SIGUSR1); /* the parent gone: the cell checkpoints and stops */
                if (getppid() != parent) _exit(DB_EXIT_INTERRUPTED);
                for (int k = 0; k < NSIGS; k++) sigaction(sigs[k], &old[k], NULL);
                sigprocmask(SIG_SETMASK, &was, NULL);
                execv("/proc/self/exe", args);
                fprintf(stderr, "dropbench study: cannot start cell %s: %s\n", c->name, strerror(errno));
                _exit(DB_EXIT_FAIL);
            }
            if (pid > 0) job_pid[slot] = pid;
            sigprocmask(SIG_SETMASK, &was, NULL);
            if (pid < 0) {
                fprintf(stderr, "dropbench study: cannot start a process for cell %s: %s\n", c->name, strerror(errno));
                res.failed++;
                next++;
                continue;
            }
            cell_of_slot[slot] = next++;
            running++;
            continue;
        }
        int status;
        pid_t done = waitpid(-1, &status, 0);
        if (done < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int k = 0; k < jobs; k++) {
            if (job_pid[k] != done) continue;
            job_pid[k] = 0;
            running--;
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            if (code == DB_EXIT_OK) res.ran++;
            else if (code == DB_EXIT_INTERRUPTED) interrupted = 1;
            else {
                res.failed++;
                if (!WIFEXITED(status))
                    fprintf(stderr, "dropbench study: the process of cell %s ended by signal %d\n",
                            plan[cell_of_slot[k]].name, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
                else
                    fprintf(stderr, "dropbench study: cell %s failed (exit %d)\n", plan[cell_of_slot[k]].name, code);
            }
        }
    }
    njob_pid = 0;
    for (int k = 0; k < NSIGS; k++) sigaction(sigs[k], &old[k], NULL);
    free(cell_of_slot);
    free(plan);
    if (interrupted || jobs_stop) {
        fprintf(stderr, "dropbench: study %s stopped by signal %d; starting it again continues it\n", name, (int)jobs_stop);
        return DB_EXIT_INTERRUPTED;
    }
    return db_cli_study_end(DB_OK, &res, name, db_path, -1);
}

int db_cmd_study(int argc, char **argv) {
    const char *recipe = NULL, *db_path = db_store_default_path();
    struct { int dry, show, quiet; const char *in_jobs; long only, jobs; } o = {0, 0, 0, NULL, -1, 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return DB_EXIT_OK; }
        if (!strcmp(a, "--dry-run")) o.dry = 1;
        else if (!strcmp(a, "--show-config")) o.show = 1;
        else if (!strcmp(a, "--quiet")) o.quiet = 1;
        else if (!strcmp(a, "--in-jobs")) { /* a cell started by study --jobs (below): its recipe text's hash */
            if (!v || strlen(v) != 16 || v[strspn(v, "0123456789abcdef")]) {
                fprintf(stderr, "dropbench study: --in-jobs takes the recipe text's hash (16 hex digits)\n");
                return DB_EXIT_USAGE;
            }
            o.in_jobs = argv[++i];
        }
        else if (!strcmp(a, "--db")) {
            if (!v || !v[0]) { fprintf(stderr, "dropbench study: --db needs a path\n"); return DB_EXIT_USAGE; }
            db_path = argv[++i];
        }
        else if (!strcmp(a, "--cell") || !strcmp(a, "--jobs")) {
            /* a cell from 0 (its upper end is the recipe's, checked when it is loaded); up to 256 jobs */
            if (!db_cli_long_opt("study", a, v, a[2] == 'c' ? 0 : 1, a[2] == 'c' ? 99999 : 256, a[2] == 'c' ? &o.only : &o.jobs))
                return DB_EXIT_USAGE;
            i++;
        } else if (a[0] != '-' && !recipe) recipe = a;
        else { fprintf(stderr, "dropbench study: unexpected argument '%s'\n", a); usage(stderr); return DB_EXIT_USAGE; }
    }
    const char *wrong = !recipe                  ? "which recipe? (dropbench study RECIPE; bench/recipes/ holds them)"
                        : o.show && !o.dry        ? "--show-config goes with --dry-run (it shows the cells' settings, runs nothing)"
                        : o.jobs > 1 && o.only >= 0 ? "--cell N runs one cell, --jobs N several at once: one or the other"
                        : o.in_jobs && o.only < 0 ? "--in-jobs marks a cell that study --jobs started: it goes with --cell N"
                                                  : NULL;
    if (wrong) {
        fprintf(stderr, "dropbench study: %s\n", wrong);
        return DB_EXIT_USAGE;
    }
    const db_dist_info *dist = db_dist();
    if (dist->size > 1 && (o.only < 0 || o.jobs > 1 || o.dry)) {
        if (dist->rank == 0)
            fprintf(stderr, "dropbench study: across %d processes a study runs one cell: --cell K (dropbench slurm "
                    "--tasks N writes jobs that do)\n", dist->size);
        return DB_EXIT_USAGE;
    }
    db_recipe *r = malloc(sizeof *r);
    if (!r) return db_cli_error(db_fail(DB_ERR_NOMEM, "out of memory"));
    db_status s = db_recipe_load(recipe, r);
    if (s != DB_OK) { free(r); return db_cli_error(s); }
    char text[24];
    snprintf(text, sizeof text, "%016llx", (unsigned long long)db_recipe_text_hash(r));
    if (o.in_jobs && strcmp(text, o.in_jobs)) { /* edited while study --jobs ran: not the cell it planned */
        db_recipe_free(r);
        free(r);
        return db_cli_error(db_fail(DB_ERR_ARG, "%s was edited after the study started (its text is no longer the one "
                                                "the study planned its cells from): cell %ld not run; start the study "
                                                "again to run the new text (a new version of the study)", recipe, o.only));
    }
    db_cli_set_quiet(o.quiet);
    int rc;
    if (o.only >= db_recipe_cells(r)) { /* before any line of the study's */
        rc = db_cli_error(db_fail(DB_ERR_ARG, "--cell %ld, but %s has cells 0 to %d", o.only, r->path,
                                  db_recipe_cells(r) - 1));
    } else if (o.dry) rc = dry_run(r, db_path, o.show);
    else if (o.jobs > 1) rc = run_jobs(r, db_path, (int)o.jobs);
    else {
        db_study_result res;
        db_train_stop_on_signals(); /* USR1, TERM, INT: the cell in progress checkpoints, the study stops */
        if (o.in_jobs) db_config_device_said(); /* the study process said the header and the device; the cell says its lines */
        else if (o.only >= 0 && dist->rank == 0)
            printf("study %s (%s): cell %ld (cells 0 to %d), results in %s\n", r->study, r->path, o.only,
                   db_recipe_cells(r) - 1, db_path);
        int stopped = 0;
        s = o.only < 0 ? db_study_run_requires(r, db_path, db_cli_run_hooks(), &stopped) : DB_OK; /* a cell alone: not its requirements */
        if (s == DB_OK) s = db_study_run(r, db_path, o.only, db_cli_run_hooks(), &res);
        else memset(&res, 0, sizeof res), res.stopped = stopped;
        if (dist->rank > 0) rc = s != DB_OK ? db_cli_error(s) : res.failed ? DB_EXIT_FAIL : DB_EXIT_OK; /* the first says it */
        else if (o.in_jobs && s == DB_OK) rc = res.failed ? DB_EXIT_FAIL : DB_EXIT_OK; /* the study process sums up */
        else rc = db_cli_study_end(s, &res, res.study[0] ? res.study : r->study, db_path, o.only);
    }
    db_recipe_free(r);
    free(r);
    return rc;
}
