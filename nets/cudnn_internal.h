// What the cuDNN-backed ops (conv_cudnn.cu, bn_cudnn.cu) share: the handle's insides and the
// status check.
#ifndef DB_NETS_CUDNN_INTERNAL_H
#define DB_NETS_CUDNN_INTERNAL_H

#include <cublas_v2.h>
#include <cudnn.h>

#include "nets/conv_cudnn.h"

struct db_cudnn_descs; /* bn_cudnn.cu: batch-norm and pooling descriptors, made once per shape */
struct db_cudnn_found; /* conv_cudnn.cu: each convolution shape's algorithms, measured once */

struct db_cudnn {
    cudnnHandle_t h;
    cublasHandle_t blas; /* conv_gemm.cu's GEMMs (1x1 convolutions), made on first use */
    struct db_cudnn_descs *descs;
    struct db_cudnn_found *found;
    int n_found;
};

/* Frees the descriptors kept for h (bn_cudnn.cu) */
void db_cudnn_descs_free(db_cudnn *h);

/* cuDNN's one check: a failing call returns a status naming what failed, cuDNN's reason and the
 * call's file and line */
static inline db_status db_cudnn_status(cudnnStatus_t st, const char *what, const char *file, int line) {
    if (st == CUDNN_STATUS_SUCCESS) return DB_OK;
    return db_fail(DB_ERR_INTERNAL, "cuDNN: %s: %s [%s:%d]", what, cudnnGetErrorString(st), file, line);
}
#define CUDNN_TRY(call, what) DB_TRY(db_cudnn_status((call), (what), __FILE__, __LINE__))

#endif
