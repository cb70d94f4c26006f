/* A study: every cell of a recipe's matrix (train/recipe.h), one recorded run each. Cells done
 * before (a finished run with the same settings, in any study) are skipped; interrupted ones
 * continue from their checkpoints; a checkpoint that can never be resumed (db_ckpt_unusable) is
 * moved aside, never deleted, and the cell runs afresh. What happens is said through the log
 * (core/log.h); the runs' progress through the caller's hooks. */
#ifndef DB_STUDY_STUDY_H
#define DB_STUDY_STUDY_H

#include <stdint.h>

#include "results/store.h"
#include "study/run.h"
#include "train/recipe.h"

/* What would happen to a cell (db_study_plan) */
typedef enum { DB_CELL_WOULD_RUN, DB_CELL_DONE_BEFORE, DB_CELL_CANNOT_RUN } db_cell_state;

typedef struct {
    char label[256], condition[256];
    char name[256];            /* what messages call it: its label, or "single" (a study of one cell) */
    db_config config;          /* resolved (device included) */
    db_cell_state state;
    int64_t prior;             /* DONE_BEFORE: the finished run */
    char why[512];             /* CANNOT_RUN: the reason */
    db_status refusal;         /* CANNOT_RUN: its status */
} db_study_cell;

/* Every cell's plan without running or recording anything (the store is read, never written nor
 * made, to find cells done before; db_path NULL or no file there: none). cells is malloc'd, *n
 * of them. */
db_status db_study_plan(const db_recipe *r, const char *db_path, db_study_cell **cells, int *n);

typedef struct {
    int cells, ran, done_before, failed;
    int stopped;               /* a stop signal ended it: starting the study again continues it */
    char study[80];            /* the study its runs joined (NAME, or NAME#2... when its recipe changed) */
} db_study_result;

/* Records the recipe's study in the open store (db_store_ensure_study): *name gets the study its
 * runs join, NAME or, when NAME holds another recipe text, NAME#2 ... (said through the log
 * when say_version). */
db_status db_study_join(db_store *store, const db_recipe *r, const char *db_path, int say_version, char *name, size_t n);

/* Calls fn(required, requiring, ctx) on every study the recipe requires (`requires = FILE`),
 * each one's own requirements before it, every recipe loaded; stops at the first failure, or at
 * a recipe that cannot be read or requires more than 4 deep (named). */
typedef db_status (*db_require_fn)(const db_recipe *required, const db_recipe *by, void *ctx);
db_status db_study_each_require(const db_recipe *r, db_require_fn fn, void *ctx);

/* Runs the studies the recipe requires (`requires = FILE`: the runs its cells' init_from start
 * from), theirs first, into the store at db_path; their cells done before are skipped, so once
 * all are done this costs a look. Fails, naming it, when a required study cannot be read or run
 * here, or is stopped by a signal (*stopped 1: said as it stopped); a failed cell of it is a note
 * (the requiring study's cells that start from it are then refused, the others run). */
db_status db_study_run_requires(const db_recipe *r, const char *db_path, const db_run_hooks *hooks, int *stopped);

/* Runs every cell (or cell `only` when >= 0) into the store at db_path. Refuses, before
 * recording anything, a study with a cell this version cannot run. A failed cell is reported (a
 * note) and counted, and the study goes on; so is a cell whose init_from has no checkpoint yet
 * (nothing recorded; the note names the required study to run first). The required studies
 * themselves are the caller's to run (db_study_run_requires). A stop signal ends it with
 * DB_ERR_INTERRUPTED. */
db_status db_study_run(const db_recipe *r, const char *db_path, long only, const db_run_hooks *hooks,
                       db_study_result *out);

#endif
