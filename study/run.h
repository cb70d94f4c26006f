/* One training run with its record: the run is written to the results store as running before
 * its first step, each epoch's metrics (per regularizer site too) after that epoch's checkpoint,
 * and its end as done, failed, diverged or interrupted with the reason; an MLPerf event log is
 * kept beside the database. The caller's hooks show progress; this library prints nothing. */
#ifndef DB_STUDY_RUN_H
#define DB_STUDY_RUN_H

#include <stdint.h>

#include "train/config.h"
#include "train/train.h"

/* What a run belongs to ("" for a plain `train`): its study, the recipe file, the cell's label
 * and condition (the label without the seed), and the recipe's text (may be NULL) */
typedef struct { const char *study, *recipe, *cell, *condition, *recipe_text; } db_run_labels;

typedef struct {
    /* the configuration as it will run (device resolved), before anything is recorded; may be NULL */
    void (*on_start)(const db_config *cfg, void *user);
    /* the run's record: new (resumed 0) or taken up again; events is the MLLOG file; may be NULL */
    void (*on_recorded)(int64_t run, int resumed, const char *db_path, const char *events, void *user);
    /* the run finished (DB_OK), with its summary; may be NULL */
    void (*on_finished)(const db_train_summary *sum, void *user);
    /* on_step and on_epoch show progress (on_epoch after the epoch is recorded); on_restored is
     * not used; user is passed to every hook above too */
    db_train_hooks train;
} db_run_hooks;

typedef struct {
    const char *db_path;       /* the results store; NULL: record nothing */
    int resume;                /* continue from the checkpoint in checkpoint_dir when there is one */
    db_run_labels labels;
    const db_run_hooks *hooks; /* may be NULL */
    int reshard_from;          /* resume a checkpoint of this many processes at the launch's number
                                * (-1: of any number, dropbench resume --reshard; 0: the same number only) */
    int64_t take_up;           /* dropbench resume RUN: the record continued (0: the one resume finds) */
    const char *reshard_note;  /* take_up's record goes on at this launch's number of processes
                                * (db_run_info.reshard_note; NULL: the same number) */
} db_run_opts;

/* Resolves the device, refuses (recording nothing) what this build cannot run, records and trains.
 * The run's own failure is the status returned (DB_ERR_DIVERGED, DB_ERR_INTERRUPTED, a
 * checkpoint's extended code, ...); a failure to record the run's end after a successful run is
 * returned too, after one after a failed run is logged as a note. */
db_status db_run(const db_config *cfg, const db_run_opts *o, db_train_summary *sum);

#endif
