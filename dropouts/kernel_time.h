/* Timing one regularizer kernel on the GPU for `dropbench kernel --device cuda`: the same
 * forward + backward as the CPU command, on device buffers, timed with CUDA events. A build
 * without CUDA answers DB_ERR_UNSUPPORTED. */
#ifndef DB_DROPOUTS_KERNEL_TIME_H
#define DB_DROPOUTS_KERNEL_TIME_H

#include <stdint.h>

#include "dropouts/dropblock.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { DB_KERNEL_DROPOUT, DB_KERNEL_SPATIAL, DB_KERNEL_DROPBLOCK } db_kernel_kind;

typedef struct {
    uint64_t dropped;     /* units dropped over the timed calls */
    double ms_per_call;   /* forward + backward */
    double copy_ms;       /* a device-to-device copy of the same two tensors */
    char device[256];     /* the GPU's name */
} db_kernel_timing;

/* x and dy are host CNHW tensors (c, n, h, w); key->step advances by one per call from 1, as
 * the CPU command does (call 0 is an untimed warm-up). */
db_status db_kernel_time_cuda(db_kernel_kind kind, const db_dropblock_cfg *b, const db_drop_key *key,
                              const float *x, const float *dy, int c, int n, int h, int w, long reps,
                              db_kernel_timing *out);

#ifdef __cplusplus
}
#endif
#endif
