/* A run's results files, at the paths its metrics and site_metrics keys name: every epoch's
 * results (the task's metrics named) and every epoch's record of every regularizer site. Each is
 * rewritten whole after every epoch, to path.tmp and renamed over path, so a reader (or a crash)
 * sees the previous complete file or the new one. */
#ifndef DB_TRAIN_RESULTS_CSV_H
#define DB_TRAIN_RESULTS_CSV_H

#include "core/status.h"
#include "nets/graph.h"
#include "train/checkpoint.h"
#include "train/task.h"

db_status db_results_write_metrics(const char *path, const db_task *t, const db_epoch_result *h, int n);
db_status db_results_write_sites(const char *path, const db_graph *g, const db_ckpt_meta *m);
/* Fails before training, not after the first epoch, when path cannot be written */
db_status db_results_probe(const char *path);

#endif
