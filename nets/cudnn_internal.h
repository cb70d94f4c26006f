// What the cuDNN-backed ops (conv_cudnn.cu, bn_cudnn.cu) share: the handle's insides and the
// status check.
#ifndef DB_NETS_CUDNN_INTERNAL_H
#define DB_NETS_CUDNN_INTERNAL_H

#include <cudnn.h>

#include "nets/conv_cudnn.h"

struct db_cudnn_descs; /* bn_cudnn.cu: batch-norm and pooling descriptors, made once per shape */

struct db_cudnn {
    cudnnHandle_t h;
    struct db_cudnn_descs *descs;
};

/* Frees the descriptors kept for h (bn_cudnn.cu) */
void db_cudnn_descs_free(db_cudnn *h);

#define CUDNN_TRY(call, what)                                                                           \
    do {                                                                                                \
        cudnnStatus_t st_ = (call);                                                                     \
        if (st_ != CUDNN_STATUS_SUCCESS)                                                                \
            return db_fail(DB_ERR_INTERNAL, "cuDNN: %s: %s", what, cudnnGetErrorString(st_));          \
    } while (0)

#endif
