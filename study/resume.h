/* Continuing from the results store alone: an interrupted run from its recorded configuration
 * and checkpoint folder (in the same run record), or a whole study from the recipe recorded
 * with it. */
#ifndef DB_STUDY_RESUME_H
#define DB_STUDY_RESUME_H

#include <stdint.h>

#include "study/study.h"

/* Continues run `run` of the store at db_path. A run that is done is DB_OK with *done = 1 and
 * nothing run; a diverged one, one still running, or one without a checkpoint folder are
 * refused (DB_ERR_UNSUPPORTED) with the reason. A run trained as another number of
 * data-parallel processes than this launch has is refused (DB_ERR_ARG) unless reshard: then it
 * goes on at this launch's number, its record's configuration changed to it and the change in
 * its provenance (resharded). */
db_status db_resume_run(const char *db_path, int64_t run, const db_run_hooks *hooks, db_train_summary *sum,
                        int *done, int reshard);
/* Runs study `name` again from its recorded recipe: finished cells are skipped, interrupted ones
 * continue (db_study_run). */
db_status db_resume_study(const char *db_path, const char *name, const db_run_hooks *hooks, db_study_result *out);

#endif
