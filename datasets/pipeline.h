/* Batches prepared ahead of the trainer: worker threads (pthreads) fill a ring of `depth`
 * batches with db_batch_fill (crop, flip, normalisation) while the trainer computes, and the
 * trainer takes them in step order. A batch is a pure function of (data, order, seed, epoch,
 * step), so what the trainer gets, and in which order, is the same for any number of workers
 * (0 workers: each batch is filled when it is taken, on the caller's threads). */
#ifndef DB_DATASETS_PIPELINE_H
#define DB_DATASETS_PIPELINE_H

#include "datasets/batch.h"

typedef struct db_pipeline db_pipeline;

typedef struct {
    const db_dataset *data;
    const int *order;     /* the epoch's sample order; step s takes order[s*batch ..] */
    int batch;
    int first, steps;     /* the steps first .. steps-1 are produced, in order */
    const db_augment *aug; /* NULL: none (evaluation) */
    const db_norm *norm;
    uint64_t seed;
    uint32_t epoch;
    int workers;          /* 0: fill on take */
    int depth;            /* batches in the ring (at least 1; 2 * workers is plenty) */
} db_pipeline_cfg;

/* Starts the workers on the epoch's first batches. The data, order, aug and norm must outlive
 * the pipeline. */
db_status db_pipeline_start(db_pipeline **out, const db_pipeline_cfg *c);
/* The next step's batch into input ((C, batch, H, W) floats) and labels; waits for it */
db_status db_pipeline_take(db_pipeline *p, float *input, int *labels);
/* Stops and joins the workers (also in the middle of an epoch); NULL is fine */
void db_pipeline_stop(db_pipeline *p);

#endif
