/* The CUDA runtime's one check, for .cu files: a failing call becomes a status whose message
 * names what failed, the runtime's reason and the call's file and line. Launchers return 0 or
 * -1 (the kernel bodies' convention); DB_LAUNCH turns that into a status the same way. cuDNN's
 * check is CUDNN_TRY (nets/cudnn_internal.h), cuBLAS's CUBLAS_TRY (nets/linear_cublas.cu). */
#ifndef DB_CORE_CUDA_CHECK_H
#define DB_CORE_CUDA_CHECK_H

#include <cuda_runtime.h>

#include "core/status.h"

static inline db_status db_cuda_status(cudaError_t e, const char *what, const char *file, int line) {
    if (e == cudaSuccess) return DB_OK;
    return db_fail(DB_ERR_INTERNAL, "CUDA: %s: %s [%s:%d]", what, cudaGetErrorString(e), file, line);
}

static inline db_status db_launch_status(int rc, const char *what, const char *file, int line) {
    if (rc == 0) return DB_OK;
    return db_fail(DB_ERR_INTERNAL, "CUDA: the %s kernel failed: %s [%s:%d]", what, cudaGetErrorString(cudaGetLastError()),
                   file, line);
}

#define DB_CUDA(call, what) db_cuda_status((call), (what), __FILE__, __LINE__)
#define DB_LAUNCH(call, what) db_launch_status((call), (what), __FILE__, __LINE__)
/* return the failure */
#define CU_TRY(call, what) DB_TRY(DB_CUDA(call, what))
#define LAUNCH_TRY(call, what) DB_TRY(DB_LAUNCH(call, what))

#endif
