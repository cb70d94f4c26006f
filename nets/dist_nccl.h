/* Data parallel on GPUs (issue 21): the replicas' mean of a device buffer through NCCL, one
 * process and one GPU per replica (the processes of core/dist.h). Built into the GPU backend
 * when NCCL is found (DB_HAVE_NCCL); without it every call says so. NCCL's all-reduce leaves the
 * same bits on every replica (each element is reduced once and its result sent to all). */
#ifndef DB_NETS_DIST_NCCL_H
#define DB_NETS_DIST_NCCL_H

#include <stddef.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DB_NCCL_ID_BYTES = 128 }; /* an ncclUniqueId */

typedef struct db_nccl db_nccl;

/* A new group's id (the first process makes it, every process joins with it) */
db_status db_nccl_unique_id(void *id, size_t bytes);
/* Joins the group as rank of size on the current CUDA device */
db_status db_nccl_create(db_nccl **out, const void *id, int rank, int size);
void db_nccl_destroy(db_nccl *c);
/* dev (n floats on the device) becomes the replicas' mean, in order on stream (a cudaStream_t):
 * their sum (db_nccl_sum), then that scaled by 1/size (db_nccl_scale). Within ncclGroupStart/End
 * (one process driving several devices) the sum is only enqueued at the group's end: call
 * db_nccl_sum inside the group and db_nccl_scale after it. */
db_status db_nccl_mean(db_nccl *c, float *dev, size_t n, void *stream);
db_status db_nccl_sum(db_nccl *c, float *dev, size_t n, void *stream);
db_status db_nccl_scale(db_nccl *c, float *dev, size_t n, void *stream);

#ifdef __cplusplus
}
#endif
#endif
