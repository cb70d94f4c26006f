/* The CPU-only build's answer to dropouts/kernel_time.h. */
#ifndef DB_HAVE_CUDA
#include "dropouts/kernel_time.h"

db_status db_kernel_time_cuda(db_kernel_kind kind, const db_dropblock_cfg *b, const db_drop_key *key,
                              const float *x, const float *dy, int c, int n, int h, int w, long reps,
                              db_kernel_timing *out) {
    (void)kind; (void)b; (void)key; (void)x; (void)dy; (void)c; (void)n; (void)h; (void)w; (void)reps; (void)out;
    return db_fail(DB_ERR_UNSUPPORTED, "this dropbench was built without CUDA (no nvcc or cuDNN headers at build "
                                       "time): --device cuda is not available");
}
#else
typedef int db_kernel_time_none_unused; /* ISO C wants a non-empty translation unit */
#endif
