#include "train/predictions.h"

#include "core/dirs.h"

static const db_swap_kind kind = {"predictions_dir", ".dropbench-predictions",
                                  "predictions written by dropbench train; replaced by each evaluation", NULL, NULL};

db_status db_predictions_check(const char *dir) { return db_swap_check(dir, &kind); }

db_status db_predictions_begin(const char *dir, char *part, size_t n) { return db_swap_begin(dir, &kind, part, n); }

db_status db_predictions_commit(const char *dir, const char *part) { return db_swap_commit(dir, &kind, part); }
