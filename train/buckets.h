/* Data parallel on the CPU: the gradients' sum over the processes in buckets that begin during
 * the backward pass, each as soon as every gradient in it is final, so the processes exchange
 * while the earlier layers' backward still runs (the running statistics, final since the
 * forward, go first). Each bucket is the same rank-order sum as one sum of the whole arena
 * (core/dist.h), so the bits are those of a sum after the backward. Not for graphs with shared
 * weights (their gradients are gathered after the last op). */
#ifndef DB_TRAIN_BUCKETS_H
#define DB_TRAIN_BUCKETS_H

#include <stddef.h>

#include "core/dist.h"
#include "nets/graph.h"

typedef struct {
    size_t lo, hi;     /* floats of the gradient arena */
    db_dist_sum *sum;
} db_grad_bucket;

typedef struct db_grad_buckets_s {
    db_graph *g;
    db_grad_bucket *b; /* b[0] holds the arena's end, the first to be final */
    int n, next;       /* buckets; the next one to start */
    size_t *final_from; /* per op: after its backward, gradients from this float on are final */
    db_dist_sum *state; /* the running statistics */
    db_status status;  /* the first failure of a sum begun inside the backward */
} db_grad_buckets;

/* Buckets of about bucket_floats over g's gradient arena; NULL (*out) when g shares weights */
db_status db_grad_buckets_new(db_grad_buckets **out, db_graph *g, size_t bucket_floats);
void db_grad_buckets_free(db_grad_buckets *bk);
/* Runs g's backward with the buckets' sums begun along it, then waits for them all: the
 * gradient and state arenas hold the sums over the processes */
db_status db_grad_buckets_backward(db_grad_buckets *bk);

#endif
