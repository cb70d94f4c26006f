/* The folder a run writes each evaluation's predictions into (key predictions_dir): filled
 * beside it as DIR.part, then put in its place whole, so that a run stopped mid-evaluation leaves
 * the previous evaluation's predictions, never a mixture. Trailing slashes are ignored. The folder carries a marker file; one
 * without it (a folder dropbench did not write) is never replaced. */
#ifndef DB_TRAIN_PREDICTIONS_H
#define DB_TRAIN_PREDICTIONS_H

#include <stddef.h>

#include "core/status.h"

/* Whether dir may serve (checked when a run starts, before any training): not "", "." or "/",
 * and neither it nor DIR.part nor DIR.old a folder this tool did not write */
db_status db_predictions_check(const char *dir);
/* Starts an evaluation's folder: part (n bytes) receives the path to write into, emptied */
db_status db_predictions_begin(const char *dir, char *part, size_t n);
/* Puts part in dir's place: the previous predictions moved aside to DIR.old, part renamed to
 * DIR, DIR.old removed; a run killed between the two renames finds DIR.old put back by the next
 * begin */
db_status db_predictions_commit(const char *dir, const char *part);

#endif
