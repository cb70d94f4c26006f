/* Synthetic labelled images of any shape, for tests and throughput benchmarks: n samples of
 * c x h x w with labels 0..classes-1, drawn from Philox of (seed, sample). Each class has its own
 * mean brightness under uniform noise, so a network can learn them; no file is read. */
#ifndef DB_DATASETS_SYNTHETIC_H
#define DB_DATASETS_SYNTHETIC_H

#include "datasets/dataset.h"

db_status db_synthetic(db_dataset *out, int n, int c, int h, int w, int classes, uint64_t seed, const char *name);
/* "N_TRAIN,N_TEST,C,H,W,CLASSES" into its six numbers, checked */
db_status db_synthetic_parse(const char *spec, int v[6]);

#endif
