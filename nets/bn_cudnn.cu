// Batch norm (with its optional ReLU) and pooling through cuDNN (nets/conv_cudnn.h). Both see the
// engine's CNHW data as packed NCHW: batch norm as (1, c, 1, m), pooling as (1, planes, h, w).
#include <stdlib.h>

#include "nets/cudnn_internal.h"


/* Descriptors made per call: cheap host-side structs (the op that owns a step's worth of them
 * comes with the GPU graph) */
typedef struct {
    cudnnTensorDescriptor_t data, param;
    cudnnActivationDescriptor_t relu;
} bn_desc;

static void bn_free(bn_desc *d) {
    if (d->data) cudnnDestroyTensorDescriptor(d->data);
    if (d->param) cudnnDestroyTensorDescriptor(d->param);
    if (d->relu) cudnnDestroyActivationDescriptor(d->relu);
}

static db_status bn_make(bn_desc *d, int c, size_t m) {
    *d = bn_desc{};
    if (m > 0x7fffffff) return db_fail(DB_ERR_ARG, "batch norm: %zu values per channel is more than cuDNN takes", m);
    CUDNN_TRY(cudnnCreateTensorDescriptor(&d->data), "a tensor descriptor");
    CUDNN_TRY(cudnnCreateTensorDescriptor(&d->param), "a tensor descriptor");
    CUDNN_TRY(cudnnCreateActivationDescriptor(&d->relu), "an activation descriptor");
    CUDNN_TRY(cudnnSetTensor4dDescriptor(d->data, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, c, 1, (int)m), "the data's layout");
    CUDNN_TRY(cudnnDeriveBNTensorDescriptor(d->param, d->data, CUDNN_BATCHNORM_SPATIAL), "the parameters' layout");
    CUDNN_TRY(cudnnSetActivationDescriptor(d->relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0), "the ReLU");
    return DB_OK;
}

#define WITH_BN(c, m, body)                    \
    bn_desc d_;                                \
    db_status s_ = bn_make(&d_, c, m);         \
    if (s_ == DB_OK) s_ = (body);              \
    bn_free(&d_);                              \
    return s_

static db_status relu_fwd(db_cudnn *h, const bn_desc *d, float *out) {
    const float one = 1, zero = 0;
    CUDNN_TRY(cudnnActivationForward(h->h, d->relu, &one, d->data, out, &zero, d->data, out), "ReLU forward");
    return DB_OK;
}

static db_status bn_train(db_cudnn *h, const bn_desc *d, float *out, float *save_mean, float *save_invstd,
                          float *run_mean, float *run_var, const float *in, const float *gamma, const float *beta,
                          float momentum, float eps, int relu) {
    const float one = 1, zero = 0;
    CUDNN_TRY(cudnnBatchNormalizationForwardTraining(h->h, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d->data, in, d->data, out,
                                                     d->param, gamma, beta, momentum, run_mean, run_var, eps, save_mean,
                                                     save_invstd), "batch norm forward (training)");
    return relu ? relu_fwd(h, d, out) : DB_OK;
}

extern "C" db_status db_cudnn_bn_forward_train(db_cudnn *h, float *out, float *save_mean, float *save_invstd,
                                               float *run_mean, float *run_var, const float *in, const float *gamma,
                                               const float *beta, float momentum, float eps, int relu, int c, size_t m) {
    WITH_BN(c, m, bn_train(h, &d_, out, save_mean, save_invstd, run_mean, run_var, in, gamma, beta, momentum, eps, relu));
}

static db_status bn_infer(db_cudnn *h, const bn_desc *d, float *out, const float *in, const float *gamma,
                          const float *beta, const float *run_mean, const float *run_var, float eps, int relu) {
    const float one = 1, zero = 0;
    CUDNN_TRY(cudnnBatchNormalizationForwardInference(h->h, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d->data, in, d->data, out,
                                                      d->param, gamma, beta, run_mean, run_var, eps),
              "batch norm forward (inference)");
    return relu ? relu_fwd(h, d, out) : DB_OK;
}

extern "C" db_status db_cudnn_bn_forward_infer(db_cudnn *h, float *out, const float *in, const float *gamma,
                                               const float *beta, const float *run_mean, const float *run_var, float eps,
                                               int relu, int c, size_t m) {
    WITH_BN(c, m, bn_infer(h, &d_, out, in, gamma, beta, run_mean, run_var, eps, relu));
}

/* scratch: c*m floats, the gradient through the ReLU (unused without it) */
static db_status bn_back(db_cudnn *h, const bn_desc *d, float *din, float *dgamma, float *dbeta, const float *dout,
                         const float *in, const float *out, const float *gamma, const float *save_mean,
                         const float *save_invstd, float eps, int relu, int accum, float *scratch) {
    const float one = 1, zero = 0;
    const float *g = dout;
    if (relu) { /* d(bn) = dout where out > 0; cuDNN's ReLU backward reads the output */
        CUDNN_TRY(cudnnActivationBackward(h->h, d->relu, &one, d->data, out, d->data, dout, d->data, out, &zero, d->data,
                                          scratch), "ReLU backward");
        g = scratch;
    }
    CUDNN_TRY(cudnnBatchNormalizationBackward(h->h, CUDNN_BATCHNORM_SPATIAL, &one, accum ? &one : &zero, &one, &zero,
                                              d->data, in, d->data, g, d->data, din, d->param, gamma, dgamma, dbeta, eps,
                                              save_mean, save_invstd), "batch norm backward");
    return DB_OK;
}

extern "C" db_status db_cudnn_bn_backward(db_cudnn *h, float *din, float *dgamma, float *dbeta, const float *dout,
                                          const float *in, const float *out, const float *gamma, const float *save_mean,
                                          const float *save_invstd, float eps, int relu, int c, size_t m, int accum,
                                          float *scratch) {
    WITH_BN(c, m, bn_back(h, &d_, din, dgamma, dbeta, dout, in, out, gamma, save_mean, save_invstd, eps, relu, accum, scratch));
}

/* ---- pooling ---- */

typedef struct {
    cudnnTensorDescriptor_t x, y;
    cudnnPoolingDescriptor_t pool;
} pool_desc;

static void pool_free(pool_desc *d) {
    if (d->x) cudnnDestroyTensorDescriptor(d->x);
    if (d->y) cudnnDestroyTensorDescriptor(d->y);
    if (d->pool) cudnnDestroyPoolingDescriptor(d->pool);
}

static db_status pool_make(pool_desc *d, int max, int planes, int hh, int ww, int k, int stride, int pad) {
    *d = pool_desc{};
    int oh = (hh + 2 * pad - k) / stride + 1, ow = (ww + 2 * pad - k) / stride + 1;
    if (oh < 1 || ow < 1) return db_fail(DB_ERR_ARG, "pooling: a %dx%d window does not fit a %dx%d map", k, k, hh, ww);
    CUDNN_TRY(cudnnCreateTensorDescriptor(&d->x), "a tensor descriptor");
    CUDNN_TRY(cudnnCreateTensorDescriptor(&d->y), "a tensor descriptor");
    CUDNN_TRY(cudnnCreatePoolingDescriptor(&d->pool), "a pooling descriptor");
    CUDNN_TRY(cudnnSetTensor4dDescriptor(d->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, planes, hh, ww), "the input's layout");
    CUDNN_TRY(cudnnSetTensor4dDescriptor(d->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, planes, oh, ow), "the output's layout");
    CUDNN_TRY(cudnnSetPooling2dDescriptor(d->pool, max ? CUDNN_POOLING_MAX_DETERMINISTIC : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                                          CUDNN_NOT_PROPAGATE_NAN, k, k, pad, pad, stride, stride), "the pooling");
    return DB_OK;
}

extern "C" db_status db_cudnn_pool_forward(db_cudnn *h, int max, float *out, const float *in, int planes, int hh, int ww,
                                           int k, int stride, int pad) {
    pool_desc d;
    db_status s = pool_make(&d, max, planes, hh, ww, k, stride, pad);
    const float one = 1, zero = 0;
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    if (s == DB_OK) st = cudnnPoolingForward(h->h, d.pool, &one, d.x, in, &zero, d.y, out);
    pool_free(&d);
    if (s == DB_OK && st != CUDNN_STATUS_SUCCESS) s = db_fail(DB_ERR_INTERNAL, "cuDNN: pooling forward: %s", cudnnGetErrorString(st));
    return s;
}

extern "C" db_status db_cudnn_pool_backward(db_cudnn *h, int max, float *din, const float *dout, const float *out,
                                            const float *in, int planes, int hh, int ww, int k, int stride, int pad, int accum) {
    pool_desc d;
    db_status s = pool_make(&d, max, planes, hh, ww, k, stride, pad);
    const float one = 1, zero = 0;
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    if (s == DB_OK) st = cudnnPoolingBackward(h->h, d.pool, &one, d.y, out, d.y, dout, d.x, in, accum ? &one : &zero, d.x, din);
    pool_free(&d);
    if (s == DB_OK && st != CUDNN_STATUS_SUCCESS) s = db_fail(DB_ERR_INTERNAL, "cuDNN: pooling backward: %s", cudnnGetErrorString(st));
    return s;
}
