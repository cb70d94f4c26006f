/* Where a GPU graph's step spends its time (nets/graph_cuda.h): CUDA events recorded on the
 * compute stream between ops, read once they have passed, summed per op and per kind of op.
 * The events sit between launches, so an op's time includes any wait for the host to launch it
 * (a GPU starved by launches shows as time in the ops, not hidden). */
#ifndef DB_NETS_GPU_PROF_H
#define DB_NETS_GPU_PROF_H

#include <stdio.h>

#include <cuda_runtime.h>

#include "core/status.h"
#include "nets/graph.h"

typedef struct db_gpu_prof db_gpu_prof;

/* The step's marks beside the ops': before the batch's transpose, after the loss, after the
 * update (the last op's backward to here: the gradients' sums and SGD) */
typedef enum { DB_PROF_INPUT, DB_PROF_LOSS, DB_PROF_UPDATE, DB_PROF_N_MARKS } db_prof_mark;

db_status db_gpu_prof_create(db_gpu_prof **out, const db_graph *g);
void db_gpu_prof_destroy(db_gpu_prof *p);
/* before op i's forward (i == n_ops: after the last op's) */
void db_gpu_prof_forward(db_gpu_prof *p, int i, cudaStream_t s);
/* after op i's backward (i == n_ops: before the first op's backward, op n_ops - 1) */
void db_gpu_prof_backward(db_gpu_prof *p, int i, cudaStream_t s);
void db_gpu_prof_mark(db_gpu_prof *p, db_prof_mark m, cudaStream_t s);
/* Adds what the stream has passed since the last call: the step's forward and loss, and the
 * previous step's backward and update. The caller has synchronised the stream. */
db_status db_gpu_prof_collect(db_gpu_prof *p);
/* Milliseconds per step by kind of op and pass, then the slowest single ops */
void db_gpu_prof_report(const db_gpu_prof *p, FILE *f);

#endif
