// What the cuDNN-backed ops (conv_cudnn.cu, bn_cudnn.cu) share: the handle's insides and the
// status check.
#ifndef DB_NETS_CUDNN_INTERNAL_H
#define DB_NETS_CUDNN_INTERNAL_H

#include <cudnn.h>

#include "nets/conv_cudnn.h"

struct db_cudnn {
    cudnnHandle_t h;
};

#define CUDNN_TRY(call, what)                                                                           \
    do {                                                                                                \
        cudnnStatus_t st_ = (call);                                                                     \
        if (st_ != CUDNN_STATUS_SUCCESS)                                                                \
            return db_fail(DB_ERR_INTERNAL, "cuDNN: %s: %s", what, cudnnGetErrorString(st_));          \
    } while (0)

#endif
