/* The folder a run writes each evaluation's predictions into (key predictions_dir): filled
 * beside it as DIR.part, then put in its place whole, so that a run stopped mid-evaluation leaves
 * the previous evaluation's predictions, never a mixture. The folder carries a marker file; one
 * without it (a folder dropbench did not write) is never replaced. */
#ifndef DB_TRAIN_PREDICTIONS_H
#define DB_TRAIN_PREDICTIONS_H

#include <stddef.h>

#include "core/status.h"

/* Starts an evaluation's folder: part (n bytes) receives the path to write into, emptied */
db_status db_predictions_begin(const char *dir, char *part, size_t n);
/* Puts part in dir's place (the previous predictions removed) */
db_status db_predictions_commit(const char *dir, const char *part);

#endif
