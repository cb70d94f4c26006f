// cuDNN convolutions (nets/conv_cudnn.h).
#include <stdio.h>
#include <stdlib.h>

#include "nets/cudnn_internal.h"

struct db_cudnn_conv {
    db_cudnn *h;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
};


extern "C" size_t db_cudnn_version(void) { return cudnnGetVersion(); }

extern "C" db_status db_cudnn_create(db_cudnn **out) {
    *out = (db_cudnn *)calloc(1, sizeof(db_cudnn));
    if (!*out) return db_fail(DB_ERR_NOMEM, "out of memory");
    cudnnStatus_t st = cudnnCreate(&(*out)->h);
    if (st != CUDNN_STATUS_SUCCESS) {
        free(*out);
        *out = NULL;
        return db_fail(DB_ERR_INTERNAL, "cuDNN: creating a handle: %s", cudnnGetErrorString(st));
    }
    return DB_OK;
}

extern "C" void db_cudnn_destroy(db_cudnn *h) {
    if (!h) return;
    db_cudnn_descs_free(h);
    cudnnDestroy(h->h);
    free(h);
}

extern "C" db_status db_cudnn_set_stream(db_cudnn *h, void *stream) {
    CUDNN_TRY(cudnnSetStream(h->h, (cudaStream_t)stream), "setting the stream");
    return DB_OK;
}

/* a CNHW tensor as cuDNN sees it: N and C swapped in the strides */
static cudnnStatus_t cnhw(cudnnTensorDescriptor_t t, int n, int c, int h, int w) {
    return cudnnSetTensor4dDescriptorEx(t, CUDNN_DATA_FLOAT, n, c, h, w, h * w, n * h * w, w, 1);
}

/* The first heuristic answer that is usable: succeeded, within the requested math, and
 * deterministic when asked. Perf is any of cuDNN's three perf-result structs. */
template <typename Perf, typename Algo>
static db_status choose(const Perf *perf, int count, const db_cudnn_conv_dims *d, cudnnMathType_t math, const char *pass,
                        Algo *algo) {
    for (int i = 0; i < count; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
        if (d->deterministic && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
        /* fp32 asked for: no tensor-op configurations (the descriptor's FMA math governs the rest) */
        if (!d->tf32 && (perf[i].mathType == CUDNN_TENSOR_OP_MATH || perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION))
            continue;
        (void)math;
        *algo = perf[i].algo;
        return DB_OK;
    }
    return db_fail(DB_ERR_UNSUPPORTED, "cuDNN offers no %s%s algorithm for a %dx%d convolution of %dx%d maps",
                   d->deterministic ? "deterministic " : "", pass, d->k, d->k, d->h, d->w);
}

extern "C" db_status db_cudnn_conv_create(db_cudnn_conv **out, db_cudnn *h, const db_cudnn_conv_dims *d,
                                          size_t *workspace) {
    *out = NULL;
    db_cudnn_conv *c = (db_cudnn_conv *)calloc(1, sizeof *c);
    if (!c) return db_fail(DB_ERR_NOMEM, "out of memory");
    c->h = h;
    *out = c; /* destroy copes with a half-built one */
    int oh = (d->h + 2 * d->pad - d->k) / d->stride + 1, ow = (d->w + 2 * d->pad - d->k) / d->stride + 1;
    if (oh < 1 || ow < 1) return db_fail(DB_ERR_ARG, "cuDNN convolution: a %dx%d kernel does not fit a %dx%d map", d->k, d->k, d->h, d->w);
    CUDNN_TRY(cudnnCreateTensorDescriptor(&c->x), "a tensor descriptor");
    CUDNN_TRY(cudnnCreateTensorDescriptor(&c->y), "a tensor descriptor");
    CUDNN_TRY(cudnnCreateFilterDescriptor(&c->w), "a filter descriptor");
    CUDNN_TRY(cudnnCreateConvolutionDescriptor(&c->conv), "a convolution descriptor");
    CUDNN_TRY(cnhw(c->x, d->n, d->cin, d->h, d->w), "the input's layout");
    CUDNN_TRY(cnhw(c->y, d->n, d->cout, oh, ow), "the output's layout");
    CUDNN_TRY(cudnnSetFilter4dDescriptor(c->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, d->cout, d->cin, d->k, d->k), "the weights' layout");
    CUDNN_TRY(cudnnSetConvolution2dDescriptor(c->conv, d->pad, d->pad, d->stride, d->stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                              CUDNN_DATA_FLOAT), "the convolution");
    cudnnMathType_t math = d->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    CUDNN_TRY(cudnnSetConvolutionMathType(c->conv, math), "the math type");
    int got;
    cudnnConvolutionFwdAlgoPerf_t fp[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    CUDNN_TRY(cudnnGetConvolutionForwardAlgorithm_v7(h->h, c->x, c->w, c->conv, c->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, fp),
              "choosing the forward algorithm");
    DB_TRY(choose(fp, got, d, math, "forward", &c->fwd));
    cudnnConvolutionBwdDataAlgoPerf_t bd[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    CUDNN_TRY(cudnnGetConvolutionBackwardDataAlgorithm_v7(h->h, c->w, c->y, c->conv, c->x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                                                          &got, bd), "choosing the backward-data algorithm");
    DB_TRY(choose(bd, got, d, math, "backward-data", &c->bwd_data));
    cudnnConvolutionBwdFilterAlgoPerf_t bf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    CUDNN_TRY(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h->h, c->x, c->y, c->conv, c->w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
                                                            &got, bf), "choosing the backward-filter algorithm");
    DB_TRY(choose(bf, got, d, math, "backward-filter", &c->bwd_filter));
    size_t a = 0, b = 0, f = 0;
    CUDNN_TRY(cudnnGetConvolutionForwardWorkspaceSize(h->h, c->x, c->w, c->conv, c->y, c->fwd, &a), "the forward workspace");
    CUDNN_TRY(cudnnGetConvolutionBackwardDataWorkspaceSize(h->h, c->w, c->y, c->conv, c->x, c->bwd_data, &b), "the backward-data workspace");
    CUDNN_TRY(cudnnGetConvolutionBackwardFilterWorkspaceSize(h->h, c->x, c->y, c->conv, c->w, c->bwd_filter, &f), "the backward-filter workspace");
    *workspace = a > b ? (a > f ? a : f) : (b > f ? b : f);
    return DB_OK;
}

extern "C" void db_cudnn_conv_destroy(db_cudnn_conv *c) {
    if (!c) return;
    if (c->x) cudnnDestroyTensorDescriptor(c->x);
    if (c->y) cudnnDestroyTensorDescriptor(c->y);
    if (c->w) cudnnDestroyFilterDescriptor(c->w);
    if (c->conv) cudnnDestroyConvolutionDescriptor(c->conv);
    free(c);
}

extern "C" db_status db_cudnn_conv_forward(db_cudnn_conv *c, const float *x, const float *w, float *y, void *ws,
                                           size_t ws_bytes) {
    const float one = 1, zero = 0;
    CUDNN_TRY(cudnnConvolutionForward(c->h->h, &one, c->x, x, c->w, w, c->conv, c->fwd, ws, ws_bytes, &zero, c->y, y),
              "convolution forward");
    return DB_OK;
}

extern "C" db_status db_cudnn_conv_backward(db_cudnn_conv *c, const float *x, const float *w, const float *dy, float *dx,
                                            float *dw, int accumulate_dx, int accumulate_dw, void *ws, size_t ws_bytes) {
    const float one = 1, zero = 0;
    if (dx)
        CUDNN_TRY(cudnnConvolutionBackwardData(c->h->h, &one, c->w, w, c->y, dy, c->conv, c->bwd_data, ws, ws_bytes,
                                               accumulate_dx ? &one : &zero,
                                               c->x, dx), "convolution backward (data)");
    CUDNN_TRY(cudnnConvolutionBackwardFilter(c->h->h, &one, c->x, x, c->y, dy, c->conv, c->bwd_filter, ws, ws_bytes,
                                             accumulate_dw ? &one : &zero, c->w, dw), "convolution backward (filter)");
    return DB_OK;
}

extern "C" void db_cudnn_conv_describe(const db_cudnn_conv *c, char *out, size_t n) {
    snprintf(out, n, "fwd %d, bwd-data %d, bwd-filter %d", (int)c->fwd, (int)c->bwd_data, (int)c->bwd_filter);
}
