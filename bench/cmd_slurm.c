/* dropbench slurm RECIPE: an sbatch script running a study's cells as a Slurm job array, one
 * cell and one shard database per task (SLURM_ARRAY_TASK_ID picks the cell); `dropbench merge`
 * then folds the shards into one database. A requeued task resumes its cell from the last
 * epoch's checkpoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "core/dirs.h"
#include "train/checkpoint.h"
#include "train/recipe.h"
#include "results/store.h"
#include "study/study.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench slurm RECIPE [--out FILE] [--shards DIR] [--max-parallel K] [--time HH:MM:SS]\n"
               "                      [--partition NAME] [--db PATH] [--tasks N] [--gpus-per-task G]\n"
               "Writes an sbatch script (default runs/STUDY/study.sbatch) that runs the recipe's cells as a\n"
               "job array, each into its own shard database under DIR (default runs/STUDY/shards), and\n"
               "prints the commands to submit it and to merge the shards into --db afterwards.\n"
               "--tasks N trains each cell as one data-parallel run of N processes started by srun (each\n"
               "batch/N samples of every batch); --gpus-per-task G asks Slurm for G GPUs for each.\n");
}

/* Each requirement read (a missing file, a cycle: refused as study refuses them) */
static db_status required_ok(const db_recipe *q, const db_recipe *by, void *ctx) {
    (void)q, (void)by, (void)ctx;
    return DB_OK;
}

/* A value that goes into the script as it is: only the characters `allowed` names (and letters,
 * digits), so that no shell or sbatch reads more into it */
static db_status plain(const char *opt, const char *v, const char *allowed) {
    for (const char *c = v; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr(allowed, *c)))
            return db_fail(DB_ERR_ARG, "%s '%s': the character '%c' cannot go into the job script (letters, digits and "
                           "'%s' can)", opt, v, *c, allowed);
    return DB_OK;
}

int db_cmd_slurm(int argc, char **argv) {
    const char *recipe = NULL, *out = NULL, *shards = NULL, *time_limit = "24:00:00", *partition = NULL;
    const char *db_path = db_store_default_path();
    long parallel = 0, tasks = 1, gpus = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return DB_EXIT_OK; }
        if (a[0] != '-' && !recipe) { recipe = a; continue; }
        if (a[0] != '-') { fprintf(stderr, "dropbench slurm: unexpected argument '%s'\n", a); usage(stderr); return DB_EXIT_USAGE; }
        if (!v) { fprintf(stderr, "dropbench slurm: %s needs a value\n", a); usage(stderr); return DB_EXIT_USAGE; }
        i++;
        if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--shards")) shards = v;
        else if (!strcmp(a, "--time")) time_limit = v;
        else if (!strcmp(a, "--partition")) partition = v;
        else if (!strcmp(a, "--db")) db_path = v;
        else if (!strcmp(a, "--max-parallel") || !strcmp(a, "--tasks") || !strcmp(a, "--gpus-per-task")) {
            long *t = a[2] == 'm' ? &parallel : a[2] == 't' ? &tasks : &gpus;
            if (!db_cli_long_opt("slurm", a, v, t == &gpus ? 0 : 1, t == &gpus ? 64 : t == &tasks ? 65536 : 1000000, t))
                return DB_EXIT_USAGE;
        } else { fprintf(stderr, "dropbench slurm: unknown option '%s'\n", a); usage(stderr); return DB_EXIT_USAGE; }
    }
    if (!recipe) { usage(stderr); return DB_EXIT_USAGE; }
    db_recipe *r = malloc(sizeof *r);
    if (!r) return db_cli_error(db_fail(DB_ERR_NOMEM, "out of memory"));
    db_status s = db_recipe_load(recipe, r);
    if (s != DB_OK) { free(r); return db_cli_error(s); }
    char cwd[1024], outbuf[1200], shardbuf[1200], recipe_abs[1200];
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, ".");
    snprintf(outbuf, sizeof outbuf, "runs/%s/study.sbatch", r->study);
    snprintf(shardbuf, sizeof shardbuf, "runs/%s/shards", r->study);
    snprintf(recipe_abs, sizeof recipe_abs, "%s%s%s", recipe[0] == '/' ? "" : cwd, recipe[0] == '/' ? "" : "/", recipe);
    if (!out) out = outbuf;
    if (!shards) shards = shardbuf;
    db_config cell0;
    char label[256];
    s = db_study_each_require(r, required_ok, NULL);
    /* the tasks' log files, named on an #SBATCH line (no shell there; Slurm opens them before the
     * script's cd, so by an absolute path) */
    char logs[2300];
    snprintf(logs, sizeof logs, "%s%s%s", shards[0] == '/' ? "" : cwd, shards[0] == '/' ? "" : "/", shards);
    if (s == DB_OK) s = plain(shards == shardbuf ? "the study's name in its shard folder" : "--shards", shards, "/._+,:=@-");
    if (s == DB_OK && strcmp(logs, shards) && plain("this folder", cwd, "/._+,:=@-") != DB_OK)
        s = db_fail(DB_ERR_ARG, "%s: Slurm opens the tasks' logs from the folder sbatch runs in; this folder's name has "
                    "characters an #SBATCH line cannot hold: give --shards an absolute path of letters, digits and "
                    "'/._+,:=@-'", cwd);
    if (s == DB_OK) s = plain("--time", time_limit, ":-");
    if (s == DB_OK && (!time_limit[0] || !strchr("0123456789", time_limit[0])))
        s = db_fail(DB_ERR_ARG, "--time '%s': a time limit as Slurm takes it (MM, HH:MM:SS, D-HH:MM:SS)", time_limit);
    if (s == DB_OK && partition) s = plain("--partition", partition, "._,-");
    if (s == DB_OK) s = db_recipe_cell(r, 0, &cell0, label, sizeof label);
    if (s == DB_OK) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s", shards);
        s = db_ckpt_prepare_dir(dir); /* the shard folder and the script's, with their parents */
        snprintf(dir, sizeof dir, "%s", out);
        char *slash = strrchr(dir, '/');
        if (s == DB_OK && slash) { *slash = '\0'; s = db_ckpt_prepare_dir(dir); }
    }
    int cpus = cell0.threads; /* a task's CPUs: the most threads any cell trains with */
    for (int i = 0; s == DB_OK && i < db_recipe_cells(r); i++) { /* every cell's batch shares out */
        db_config ci;
        if ((s = db_recipe_cell(r, i, &ci, label, sizeof label)) != DB_OK) break;
        if (ci.threads > cpus) cpus = ci.threads;
        if (tasks <= 1) continue;
        if (ci.batch % tasks || (ci.bn_group > 0 && (ci.batch / tasks) % ci.bn_group))
            s = db_fail(DB_ERR_ARG, "--tasks %ld: cell %s's batch %d does not divide among %ld processes%s", tasks, label,
                        ci.batch, tasks, ci.batch % tasks ? "" : " in multiples of its bn_group");
    }
    const char *self = db_cli_program(NULL); /* the script may run anywhere: this binary by its absolute path */
    const char *quoted[3] = {cwd, recipe_abs, self}; /* single-quoted in the script */
    for (int i = 0; s == DB_OK && i < 3; i++)
        if (strchr(quoted[i], '\''))
            s = db_fail(DB_ERR_ARG, "%s: a path with a single quote cannot go into the script", quoted[i]);
    /* a line break would end a comment or a quoted word: the rest a command of its own */
    const char *lines[3] = {recipe_abs, out, db_path};
    for (int i = 0; s == DB_OK && i < 3 + r->nrequires; i++) {
        const char *p = i < 3 ? lines[i] : r->requires[i - 3];
        for (const char *c = p; s == DB_OK && *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                s = db_fail(DB_ERR_ARG, "a path with a line break or another control character cannot go into the script: "
                            "'%.200s'", p);
    }
    FILE *f = s == DB_OK ? fopen(out, "w") : NULL;
    if (s == DB_OK && !f) s = db_fail(DB_ERR_IO, "%s: cannot write the script", out);
    if (s == DB_OK) {
        int cells = db_recipe_cells(r);
        fprintf(f, "#!/bin/bash\n# dropbench study %s (%s): %d cells, one per array task\n", r->study, recipe, cells);
        for (int i = 0; i < r->nrequires; i++) /* a cell refuses to start before the checkpoint it starts from */
            fprintf(f, "# requires %s: run its study first (its own script: '%s' slurm %s)\n", r->requires[i], self,
                    r->requires[i]);
        fprintf(f, "#SBATCH --job-name=dropbench-%s\n", r->study);
        if (parallel) fprintf(f, "#SBATCH --array=0-%d%%%ld\n", cells - 1, parallel);
        else fprintf(f, "#SBATCH --array=0-%d\n", cells - 1);
        fprintf(f, "#SBATCH --cpus-per-task=%d\n#SBATCH --time=%s\n#SBATCH --requeue\n", cpus, time_limit);
        /* one run over this many processes (Slurm wants the count beside --gpus-per-task, even 1) */
        if (tasks > 1 || gpus > 0) fprintf(f, "#SBATCH --ntasks=%ld\n", tasks);
        if (gpus > 0) fprintf(f, "#SBATCH --gpus-per-task=%ld\n", gpus);
        fprintf(f, "#SBATCH --signal=B:USR1@180\n"); /* warn the script 3 minutes before the time limit */
        if (partition) fprintf(f, "#SBATCH --partition=%s\n", partition);
        fprintf(f, "#SBATCH --output=%s/slurm-%%A_%%a.out\n", logs);
        fprintf(f, "set -uo pipefail\ncd '%s'\n", cwd);
        fprintf(f, "# dropbench checkpoints and exits 4 on USR1; the task then goes back in the queue and\n"
                   "# continues from that checkpoint (a task killed outright loses the work since its last one)\n");
        if (tasks > 1) /* srun starts the processes, passes USR1 on to them, and ends them all if one fails */
            fprintf(f, "# the cell's %ld processes: one data-parallel run (the first records it); each its CPUs\n"
                       "# (srun of some Slurm versions does not pass the job's --cpus-per-task on)\n"
                       "srun --kill-on-bad-exit=1 --cpus-per-task=%d ", tasks, cpus);
        fprintf(f, "'%s' study '%s' --cell \"$SLURM_ARRAY_TASK_ID\" --db '%s'/shard-\"$SLURM_ARRAY_TASK_ID\".db &\n",
                self, recipe_abs, shards);
        /* a USR1 ends the wait early (status 138): waited again until a wait ends without one (a
         * 127, the child waited for already, keeps the status before it) */
        fprintf(f, "child=$!\nsignalled=0\ntrap 'signalled=1; kill -USR1 \"$child\" 2>/dev/null' USR1\n"
                   "rc=0\nwait \"$child\" || rc=$?\n"
                   "while [ \"$signalled\" = 1 ]; do\n"
                   "    signalled=0 r=0\n    wait \"$child\" || r=$?\n    [ \"$r\" = 127 ] || rc=$r\ndone\n"
                   "if [ \"$rc\" -eq 4 ] && [ -n \"${SLURM_ARRAY_JOB_ID:-}\" ]; then\n"
                   "    scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\nfi\nexit \"$rc\"\n");
        if (fclose(f) != 0) s = db_fail(DB_ERR_IO, "%s: writing the script failed", out);
    }
    if (s == DB_OK) { /* commands to paste: each path one shell word */
        char w[4][2200];
        db_shell_word(self, w[0], sizeof w[0]);
        db_shell_word(db_path, w[1], sizeof w[1]);
        printf("wrote %s (%d array tasks)\n", out, db_recipe_cells(r));
        if (db_recipe_cells(r) > 1001) /* Slurm's default MaxArraySize: task ids up to 1000 */
            printf("note:   %d array tasks: Slurm refuses ids past its MaxArraySize (1001 unless the cluster raised it; "
                   "scontrol show config | grep MaxArraySize says)\n", db_recipe_cells(r));
        for (int i = 0; i < r->nrequires; i++) {
            db_shell_word(r->requires[i], w[2], sizeof w[2]);
            printf("first:  the study it requires, %s, to its end (%s study %s --db %s, or its own script: "
                   "%s slurm %s; a cell does not start before the checkpoint it starts from is finished)\n",
                   r->requires[i], w[0], w[2], w[1], w[0], w[2]);
        }
        db_shell_word(out, w[2], sizeof w[2]);
        db_shell_word(shards, w[3], sizeof w[3]);
        printf("submit: sbatch %s\nthen:   %s merge %s/shard-*.db --db %s\n", w[2], w[0], w[3], w[1]);
    }
    db_recipe_free(r);
    free(r);
    return s == DB_OK ? DB_EXIT_OK : db_cli_error(s);
}
