#include "study/resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "results/store.h"
#include "train/checkpoint.h"

db_status db_resume_run(const char *db_path, int64_t run, const db_run_hooks *hooks, db_train_summary *sum,
                        int *done) {
    db_store *s;
    *done = 0;
    memset(sum, 0, sizeof *sum);
    DB_TRY(db_store_open(&s, db_path)); /* marks runs whose process is gone as interrupted */
    db_run_record rec;
    db_status st = db_store_get_run(s, run, &rec);
    db_store_close(s);
    if (st != DB_OK) return st;
    db_config cfg;
    if (!strcmp(rec.status, "done")) {
        *done = 1;
    } else if (!strcmp(rec.status, "diverged")) {
        st = db_fail(DB_ERR_UNSUPPORTED, "run %lld diverged (%s); from its last checkpoint it would diverge again the same way: "
                     "run it anew with other settings (e.g. a lower --lr)", (long long)run, rec.exit_reason);
    } else if (!strcmp(rec.status, "running")) {
        st = db_fail(DB_ERR_UNSUPPORTED, "run %lld is still running (pid %lld on %s)", (long long)run, (long long)rec.pid, rec.host);
    } else if (!rec.checkpoint_dir[0]) {
        st = db_fail(DB_ERR_UNSUPPORTED, "run %lld was recorded without a checkpoint folder; it cannot be resumed, only run "
                     "again (dropbench show %lld has its configuration)", (long long)run, (long long)run);
    } else if (db_config_read(&cfg, rec.config) != DB_OK) {
        char why[1024];
        snprintf(why, sizeof why, "%s", db_last_error());
        st = db_fail(DB_ERR_FORMAT, "run %lld was recorded by another dropbench version: %s", (long long)run, why);
    } else if ((rec.epochs_done > 0 || strstr(rec.exit_reason, "stopped by signal")) && /* it wrote a checkpoint */
               !db_ckpt_exists(cfg.checkpoint_dir)) { /* never a silent restart from epoch 0 */
        st = db_fail(DB_ERR_IO, "run %lld ran %d epoch%s and checkpointed, but its checkpoint folder %s holds no "
                     "checkpoint (moved or deleted%s); put it back, or run the cell again", (long long)run,
                     rec.epochs_done, rec.epochs_done == 1 ? "" : "s", cfg.checkpoint_dir,
                     cfg.checkpoint_dir[0] == '/' ? "" : "; a relative folder is read from the working folder");
    } else {
        db_log(DB_LOG_INFO, "resuming run %lld (%s) from %s", (long long)run, rec.status, rec.checkpoint_dir);
        db_run_opts o = {db_path, 1, {rec.study, rec.recipe, rec.cell, rec.condition, rec.recipe_text}, hooks};
        st = db_run(&cfg, &o, sum);
    }
    db_run_record_free(&rec);
    return st;
}

db_status db_resume_study(const char *db_path, const char *name, const db_run_hooks *hooks, db_study_result *out) {
    db_store *s;
    memset(out, 0, sizeof *out);
    DB_TRY(db_store_open(&s, db_path));
    char *path = NULL, *text = NULL;
    db_status st = db_store_get_study(s, name, &path, &text);
    db_store_close(s);
    if (st != DB_OK) return st;
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
