// Batch norm (with its optional ReLU) and pooling through cuDNN (nets/conv_cudnn.h) on the GPU's
// packed NCHW maps: batch norm as (n, c, hw, 1), pooling as (1, planes, h, w) (a plane's
// pooling does not depend on which sample or channel it is).
#include <stdlib.h>

#include "nets/cudnn_internal.h"
#include "nets/ops_cuda.h"


/* A shape's descriptors, made on its first use and kept with the handle (a network has a few
 * dozen shapes; creating them per step would cost host time every step) */
typedef struct {
    int c, n, hw;
    cudnnTensorDescriptor_t data, param;
} bn_desc;

typedef struct {
    int max, planes, hh, ww, k, stride, pad;
    cudnnTensorDescriptor_t x, y;
    cudnnPoolingDescriptor_t pool;
} pool_desc;

struct db_cudnn_descs {
    bn_desc *bn;
    int n_bn;
    pool_desc *pool;
    int n_pool;
};

static void bn_free(bn_desc *d) {
    if (d->data) cudnnDestroyTensorDescriptor(d->data);
    if (d->param) cudnnDestroyTensorDescriptor(d->param);
}

static void pool_free(pool_desc *d) {
    if (d->x) cudnnDestroyTensorDescriptor(d->x);
    if (d->y) cudnnDestroyTensorDescriptor(d->y);
    if (d->pool) cudnnDestroyPoolingDescriptor(d->pool);
}

void db_cudnn_descs_free(db_cudnn *h) {
    db_cudnn_descs *c = h->descs;
    if (!c) return;
    for (int i = 0; i < c->n_bn; i++) bn_free(&c->bn[i]);
    for (int i = 0; i < c->n_pool; i++) pool_free(&c->pool[i]);
    free(c->bn);
    free(c->pool);
    free(c);
    h->descs = NULL;
}

/* A new zeroed slot at the end of *arr (count *n), or NULL */
template <typename T>
static T *grow(T **arr, int *n) {
    T *p = (T *)realloc(*arr, sizeof(T) * (size_t)(*n + 1));
    if (!p) return NULL;
    *arr = p;
    p[*n] = T{};
    return &p[(*n)++];
}

static db_status descs(db_cudnn *h) {
    if (!h->descs) h->descs = (db_cudnn_descs *)calloc(1, sizeof(db_cudnn_descs));
    return h->descs ? DB_OK : db_fail(DB_ERR_NOMEM, "out of memory");
}

static db_status bn_make(bn_desc *d, int c, int n, int hw) {
    d->c = c; d->n = n; d->hw = hw;
    CUDNN_TRY(cudnnCreateTensorDescriptor(&d->data), "a tensor descriptor");
    CUDNN_TRY(cudnnCreateTensorDescriptor(&d->param), "a tensor descriptor");
    CUDNN_TRY(cudnnSetTensor4dDescriptor(d->data, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, hw, 1), "the data's layout");
    CUDNN_TRY(cudnnDeriveBNTensorDescriptor(d->param, d->data, CUDNN_BATCHNORM_SPATIAL), "the parameters' layout");
    return DB_OK;
}

/* The descriptors of n samples of c channels of hw values, made on first use */
static db_status bn_get(db_cudnn *h, int c, int n, int hw, const bn_desc **out) {
    DB_TRY(descs(h));
    db_cudnn_descs *k = h->descs;
    for (int i = 0; i < k->n_bn; i++)
        if (k->bn[i].c == c && k->bn[i].n == n && k->bn[i].hw == hw) { *out = &k->bn[i]; return DB_OK; }
    bn_desc *d = grow(&k->bn, &k->n_bn);
    if (!d) return db_fail(DB_ERR_NOMEM, "out of memory");
    db_status s = bn_make(d, c, n, hw);
    if (s != DB_OK) { bn_free(d); k->n_bn--; return s; }
    *out = d;
    return DB_OK;
}

#define WITH_BN(c, n, hw, body)                \
    const bn_desc *d_ = NULL;                  \
    db_status s_ = bn_get(h, c, n, hw, &d_);   \
    if (s_ == DB_OK) s_ = (body);              \
    return s_

/* The ReLU after a batch norm on the handle's stream (nets/elementwise_cuda.cu's float4 passes:
 * the CPU's bits): dout NULL, forward from out into dst (in place: dst = out); else its
 * backward into dst */
static db_status relu_pass(db_cudnn *h, const bn_desc *d, float *dst, const float *dout, const float *out) {
    cudaStream_t st;
    CUDNN_TRY(cudnnGetStream(h->h, &st), "the handle's stream");
    const size_t len = (size_t)d->n * d->c * d->hw;
    if (dout ? db_relu_backward_cuda(dst, dout, out, len, 0, st) : db_relu_forward_cuda(dst, out, len, st))
        return db_fail(DB_ERR_INTERNAL, "ReLU %s: %s", dout ? "backward" : "forward", cudaGetErrorString(cudaGetLastError()));
    return DB_OK;
}

static db_status relu_fwd(db_cudnn *h, const bn_desc *d, float *out) { return relu_pass(h, d, out, NULL, out); }

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
                                               const float *beta, float momentum, float eps, int relu, int c, int n, int hw) {
    WITH_BN(c, n, hw, bn_train(h, d_, out, save_mean, save_invstd, run_mean, run_var, in, gamma, beta, momentum, eps, relu));
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
                                               int relu, int c, int n, int hw) {
    WITH_BN(c, n, hw, bn_infer(h, d_, out, in, gamma, beta, run_mean, run_var, eps, relu));
}

/* scratch: n*c*hw floats, the gradient through the ReLU (unused without it) */
static db_status bn_back(db_cudnn *h, const bn_desc *d, float *din, float *dgamma, float *dbeta, const float *dout,
                         const float *in, const float *out, const float *gamma, const float *save_mean,
                         const float *save_invstd, float eps, int relu, int accum, float *scratch) {
    const float one = 1, zero = 0;
    const float *g = dout;
    if (relu) { /* d(bn) = dout where out > 0 */
        DB_TRY(relu_pass(h, d, scratch, dout, out));
        g = scratch;
    }
    CUDNN_TRY(cudnnBatchNormalizationBackward(h->h, CUDNN_BATCHNORM_SPATIAL, &one, accum ? &one : &zero, &one, &zero,
                                              d->data, in, d->data, g, d->data, din, d->param, gamma, dgamma, dbeta, eps,
                                              save_mean, save_invstd), "batch norm backward");
    return DB_OK;
}

extern "C" db_status db_cudnn_bn_backward(db_cudnn *h, float *din, float *dgamma, float *dbeta, const float *dout,
                                          const float *in, const float *out, const float *gamma, const float *save_mean,
                                          const float *save_invstd, float eps, int relu, int c, int n, int hw,
                                          int accum, float *scratch) {
    WITH_BN(c, n, hw, bn_back(h, d_, din, dgamma, dbeta, dout, in, out, gamma, save_mean, save_invstd, eps, relu, accum, scratch));
}

/* ---- pooling ---- */

static db_status pool_make(pool_desc *d, int max, int planes, int hh, int ww, int k, int stride, int pad) {
    d->max = max; d->planes = planes; d->hh = hh; d->ww = ww; d->k = k; d->stride = stride; d->pad = pad;
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

static db_status pool_get(db_cudnn *h, int max, int planes, int hh, int ww, int k, int stride, int pad, const pool_desc **out) {
    DB_TRY(descs(h));
    db_cudnn_descs *c = h->descs;
    for (int i = 0; i < c->n_pool; i++) {
        const pool_desc *p = &c->pool[i];
        if (p->max == max && p->planes == planes && p->hh == hh && p->ww == ww && p->k == k && p->stride == stride &&
            p->pad == pad) { *out = p; return DB_OK; }
    }
    pool_desc *d = grow(&c->pool, &c->n_pool);
    if (!d) return db_fail(DB_ERR_NOMEM, "out of memory");
    db_status s = pool_make(d, max, planes, hh, ww, k, stride, pad);
    if (s != DB_OK) { pool_free(d); c->n_pool--; return s; }
    *out = d;
    return DB_OK;
}

extern "C" db_status db_cudnn_pool_forward(db_cudnn *h, int max, float *out, const float *in, int planes, int hh, int ww,
                                           int k, int stride, int pad) {
    const pool_desc *d;
    DB_TRY(pool_get(h, max, planes, hh, ww, k, stride, pad, &d));
    const float one = 1, zero = 0;
    CUDNN_TRY(cudnnPoolingForward(h->h, d->pool, &one, d->x, in, &zero, d->y, out), "pooling forward");
    return DB_OK;
}

extern "C" db_status db_cudnn_pool_backward(db_cudnn *h, int max, float *din, const float *dout, const float *out,
                                            const float *in, int planes, int hh, int ww, int k, int stride, int pad, int accum) {
    const pool_desc *d;
    DB_TRY(pool_get(h, max, planes, hh, ww, k, stride, pad, &d));
    const float one = 1, zero = 0;
    CUDNN_TRY(cudnnPoolingBackward(h->h, d->pool, &one, d->y, out, d->y, dout, d->x, in, accum ? &one : &zero, d->x, din),
              "pooling backward");
    return DB_OK;
}
