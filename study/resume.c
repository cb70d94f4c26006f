#include "study/resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dist.h"
#include "core/log.h"
#include "results/store.h"
#include "train/checkpoint.h"

/* What the record of run says: *cfg to resume it with (DB_OK, *resume 1), done (*done 1), or why
 * it cannot be resumed; rec is filled when the store read it (*have_rec 1) */
static db_status read_record(const char *db_path, int64_t run, db_run_record *rec, int *have_rec, db_config *cfg,
                             int *done, int *resume, char *folder, size_t folder_n) {
    db_store *s;
    *have_rec = *done = *resume = 0;
    DB_TRY(db_store_open_existing(&s, db_path)); /* (never made here); marks runs whose process is gone as interrupted */
    db_status st = db_store_get_run(s, run, rec);
    if (st == DB_OK) st = db_store_get_provenance(s, run, "working_folder", folder, folder_n);
    db_store_close(s);
    if (st != DB_OK) return st;
    *have_rec = 1;
    if (!strcmp(rec->status, "done")) {
        *done = 1;
        return DB_OK;
    }
    if (!strcmp(rec->status, "diverged"))
        return db_fail(DB_ERR_UNSUPPORTED, "run %lld diverged (%s); from its last checkpoint it would diverge again the same "
                       "way: run it anew with other settings (e.g. a lower --lr)", (long long)run, rec->exit_reason);
    if (rec->alive_here) /* (before anything of it is touched: its results files, its checkpoint folder) */
        return db_fail(DB_ERR_UNSUPPORTED, "run %lld is running now: pid %lld on this host; wait for it, or stop it "
                       "(kill -USR1 %lld) and resume it", (long long)run, (long long)rec->pid, (long long)rec->pid);
    /* another host's or container's record still running is the take-up's to judge: refused while
     * its process may live, taken over after a restart of its Slurm job or a day without a heartbeat */
    if (!rec->checkpoint_dir[0])
        return db_fail(DB_ERR_UNSUPPORTED, "run %lld was recorded without a checkpoint folder; it cannot be resumed, only "
                       "run again (dropbench show %lld has its configuration)", (long long)run, (long long)run);
    if (db_config_read(cfg, rec->config) != DB_OK) {
        char why[1024];
        snprintf(why, sizeof why, "%s", db_last_error());
        return db_fail(DB_ERR_FORMAT, "run %lld was recorded by another dropbench version: %s", (long long)run, why);
    }
    if ((rec->epochs_done > 0 || strstr(rec->exit_reason, "stopped by signal")) && /* it wrote a checkpoint */
        !db_ckpt_exists(cfg->checkpoint_dir)) /* never a silent restart from epoch 0 */
        return db_fail(DB_ERR_IO, "run %lld ran %d epoch%s and checkpointed, but its checkpoint folder %s holds no "
                       "checkpoint (moved or deleted%s); put it back, or run the cell again", (long long)run,
                       rec->epochs_done, rec->epochs_done == 1 ? "" : "s", cfg->checkpoint_dir,
                       cfg->checkpoint_dir[0] == '/' ? "" : "; a relative folder is read from the working folder");
    *resume = 1;
    return DB_OK;
}

/* Data parallel: the first process's reading of the record for every process (the others do not
 * touch the store): its status, done, and the configuration when it resumes */
static db_status share_record(db_status *st, int *done, int *resume, const char *config, db_config *cfg) {
    int64_t v[4] = {*st, *done, *resume, *resume ? (int64_t)strlen(config) + 1 : 0};
    DB_TRY(db_dist_broadcast(v, sizeof v, 0, "the run's record"));
    char *text = malloc(v[3] > 0 ? (size_t)v[3] : 1);
    if (!text) return db_fail(DB_ERR_NOMEM, "out of memory");
    if (db_dist()->rank == 0 && v[3] > 0) memcpy(text, config, (size_t)v[3]);
    db_status bs = v[3] > 0 ? db_dist_broadcast(text, (size_t)v[3], 0, "the run's configuration") : DB_OK;
    if (bs == DB_OK && db_dist()->rank > 0) {
        *done = (int)v[1], *resume = (int)v[2];
        if (v[0] != DB_OK) *st = db_fail((db_status)v[0], "the first process could not resume the run (its message says why)");
        else if (*resume) bs = db_config_read(cfg, text);
    }
    free(text);
    return bs;
}

/* Changes to the folder a run started in (its provenance working_folder; "" or this one: stays),
 * the database's path made absolute first (into abs); a folder gone is said, and the run resumes
 * from here */
static db_status into_folder(const char *folder, const char **db_path, char *abs, size_t n, int first, const char *what) {
    char here[4096];
    if (!folder[0] || !getcwd(here, sizeof here) || !strcmp(here, folder)) return DB_OK;
    struct stat sb;
    if (stat(folder, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        if (first) db_log(DB_LOG_NOTE, "%s started in %s, which is gone: its relative paths are read from here", what,
                          folder);
        return DB_OK;
    }
    if (*db_path && (*db_path)[0] != '/') {
        if (snprintf(abs, n, "%s/%s", here, *db_path) >= (int)n) return db_fail(DB_ERR_ARG, "the database path is too long");
        *db_path = abs;
    }
    if (chdir(folder) != 0) return db_fail(DB_ERR_IO, "%s (where %s started): %s", folder, what, strerror(errno));
    if (first) db_log(DB_LOG_NOTE, "%s continues in %s, where it started (its relative paths are read there)", what, folder);
    return DB_OK;
}

db_status db_resume_run(const char *db_path, int64_t run, const db_run_hooks *hooks, db_train_summary *sum,
                        int *done, int reshard) {
    memset(sum, 0, sizeof *sum);
    const int first = db_dist()->rank == 0;
    db_run_record rec;
    db_config cfg;
    int have_rec = 0, resume = 0;
    db_status st = DB_OK;
    *done = 0;
    char folder[1200] = "", abs_db[4200];
    if (first) st = read_record(db_path, run, &rec, &have_rec, &cfg, done, &resume, folder, sizeof folder);
    if (db_dist()->size > 1) {
        db_status bs = share_record(&st, done, &resume, have_rec ? rec.config : "", &cfg);
        if (st == DB_OK) st = bs;
    }
    /* the number of processes it ran as, and this launch's */
    const int w = st == DB_OK && resume && cfg.world_size > 0 ? cfg.world_size : 1, p = db_dist()->size;
    if (st == DB_OK && resume && w != p && reshard && (cfg.batch % p || (cfg.bn_group > 0 && cfg.batch / p % cfg.bn_group)))
        st = db_fail(DB_ERR_ARG, "run %lld: batch %d does not divide among %d processes%s; the record is left as it was",
                     (long long)run, cfg.batch, p, cfg.batch % p ? "" : " in whole bn_group groups");
    else if (st == DB_OK && resume && w != p && !reshard)
        st = db_fail(DB_ERR_ARG, "run %lld was trained as %d process%s, this launch has %d: resume it with %d (mpirun "
                     "-np %d or srun -n %d), or add --reshard to go on with %d (each process then trains %d of "
                     "every %d samples, not %d; the run is then no longer the bits of one at a single number of "
                     "processes, and regress leaves it out)", (long long)run, w, w == 1 ? "" : "es", p, w, w, w, p,
                     cfg.batch / p, cfg.batch, cfg.batch / w);
    char note[96] = ""; /* at another number: the record changes with its take-up, once db_run's checks pass */
    if (st == DB_OK && resume && w != p) {
        cfg.world_size = p > 1 ? p : 0;
        if (first)
            snprintf(note, sizeof note, "%d -> %d process%s after %d finished epoch%s", w, p, p == 1 ? "" : "es",
                     rec.epochs_done, rec.epochs_done == 1 ? "" : "s");
    }
    /* in the folder the run started in: its relative paths (results files, data, starting weights)
     * are read and written there, whichever folder resume is called from */
    if (st == DB_OK && resume && db_dist()->size > 1) st = db_dist_broadcast(folder, sizeof folder, 0, "the run's folder");
    char what[48];
    snprintf(what, sizeof what, "run %lld", (long long)run);
    if (st == DB_OK && resume) st = into_folder(folder, &db_path, abs_db, sizeof abs_db, first, what);
    if (st == DB_OK && resume) {
        if (first) db_log(DB_LOG_INFO, "resuming run %lld (%s) from %s", (long long)run, rec.status, rec.checkpoint_dir);
        db_run_opts o = {first ? db_path : NULL, 1,
                         {first ? rec.study : "", first ? rec.recipe : "", first ? rec.cell : NULL,
                          first ? rec.condition : NULL, first ? rec.recipe_text : NULL},
                         hooks, reshard ? -1 : 0, /* --reshard: a checkpoint of any number (one a crash
                                                   * left at the old number after the record moved) */
                         first ? run : 0,          /* this record, checkpoint or not (a run that failed
                                                    * before its first one starts again in it) */
                         note[0] ? note : NULL};
        st = db_run(&cfg, &o, sum);
    }
    if (have_rec) db_run_record_free(&rec);
    return st;
}

db_status db_resume_study(const char *db_path, const char *name, const db_run_hooks *hooks, db_study_result *out) {
    db_store *s;
    memset(out, 0, sizeof *out);
    DB_TRY(db_store_open_existing(&s, db_path)); /* (never made here) */
    char *path = NULL, *text = NULL, folder[1200] = "", abs_db[4200];
    db_status st = db_store_get_study(s, name, &path, &text);
    if (st == DB_OK) st = db_store_study_provenance(s, name, "working_folder", folder, sizeof folder);
    db_store_close(s);
    char what[160];
    snprintf(what, sizeof what, "study %.140s", name);
    if (st == DB_OK) st = into_folder(folder, &db_path, abs_db, sizeof abs_db, 1, what);
    if (st != DB_OK) { free(path); free(text); return st; }
    db_recipe *r = malloc(sizeof *r);
    if (!r) st = db_fail(DB_ERR_NOMEM, "out of memory");
    else if ((st = db_recipe_load_text(path[0] ? path : name, text, r)) == DB_OK) {
        st = db_study_run(r, db_path, -1, hooks, out);
        db_recipe_free(r);
    }
    free(r);
    free(path);
    free(text);
    return st;
}
