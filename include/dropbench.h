/* libdropbench's public API: one include for programs that embed the engine.
 *
 *   db_config cfg;  db_config_defaults(&cfg);  db_config_set(&cfg, "epochs", "3");
 *   db_train_summary sum;
 *   if (db_train_from_config(&cfg, NULL, &sum) != DB_OK) fprintf(stderr, "%s\n", db_last_error());
 *
 * Lower levels (building a graph, running ops) are in the headers included here. */
#ifndef DROPBENCH_H
#define DROPBENCH_H

#include "train/checkpoint.h"
#include "train/config.h"
#include "train/train.h"
#include "core/philox.h"
#include "core/status.h"
#include "datasets/batch.h"
#include "datasets/dataset.h"
#include "nets/graph.h"
#include "nets/model.h"
#include "nets/optim.h"

#endif
