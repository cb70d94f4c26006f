// cuDNN convolutions (nets/conv_cudnn.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/cudnn_internal.h"

/* One pass's choice: the algorithm, the math type it was measured (or rated) with -- set on the
 * descriptor before the pass runs --, its workspace, and how it was chosen (for logs) */
typedef struct {
    int algo;
    cudnnMathType_t math;
    size_t workspace;
    char how[96];
} choice;

enum { MAX_CANDIDATES = 32 }; /* an algorithm may be listed once per math type */

/* A shape's three choices, kept with the handle: each shape is measured once */
struct db_cudnn_found {
    db_cudnn_conv_dims d;
    choice pass[DB_CONV_PASSES];
};

struct db_cudnn_conv {
    db_cudnn *h;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    choice pass[DB_CONV_PASSES];
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
    free(h->found);
    cudnnDestroy(h->h);
    free(h);
}

extern "C" db_status db_cudnn_set_stream(db_cudnn *h, void *stream) {
    CUDNN_TRY(cudnnSetStream(h->h, (cudaStream_t)stream), "setting the stream");
    return DB_OK;
}

static const char *pass_names[DB_CONV_PASSES] = {"forward", "backward-data", "backward-filter"};
extern "C" const char *db_cudnn_pass_name(int pass) { return pass >= 0 && pass < DB_CONV_PASSES ? pass_names[pass] : "?"; }

/* The descriptors of one convolution on packed NCHW tensors */
typedef struct {
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
} descs;

static void descs_free(descs *s) {
    if (s->x) cudnnDestroyTensorDescriptor(s->x);
    if (s->y) cudnnDestroyTensorDescriptor(s->y);
    if (s->w) cudnnDestroyFilterDescriptor(s->w);
    if (s->conv) cudnnDestroyConvolutionDescriptor(s->conv);
    memset(s, 0, sizeof *s);
}

static db_status descs_make(descs *s, const db_cudnn_conv_dims *d) {
    memset(s, 0, sizeof *s);
    int oh = (d->h + 2 * d->ph - d->kh) / d->sh + 1, ow = (d->w + 2 * d->pw - d->kw) / d->sw + 1;
    if (oh < 1 || ow < 1 || d->h + 2 * d->ph < d->kh || d->w + 2 * d->pw < d->kw)
        return db_fail(DB_ERR_ARG, "cuDNN convolution: a %dx%d kernel does not fit a %dx%d map (rows x columns)", d->kh, d->kw,
                       d->h, d->w);
    CUDNN_TRY(cudnnCreateTensorDescriptor(&s->x), "a tensor descriptor");
    CUDNN_TRY(cudnnCreateTensorDescriptor(&s->y), "a tensor descriptor");
    CUDNN_TRY(cudnnCreateFilterDescriptor(&s->w), "a filter descriptor");
    CUDNN_TRY(cudnnCreateConvolutionDescriptor(&s->conv), "a convolution descriptor");
    CUDNN_TRY(cudnnSetTensor4dDescriptor(s->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->n, d->cin, d->h, d->w), "the input's layout");
    CUDNN_TRY(cudnnSetTensor4dDescriptor(s->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->n, d->cout, oh, ow), "the output's layout");
    CUDNN_TRY(cudnnSetFilter4dDescriptor(s->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, d->cout, d->cin, d->kh, d->kw), "the weights' layout");
    CUDNN_TRY(cudnnSetConvolution2dDescriptor(s->conv, d->ph, d->pw, d->sh, d->sw, 1, 1, CUDNN_CROSS_CORRELATION,
                                              CUDNN_DATA_FLOAT), "the convolution");
    CUDNN_TRY(cudnnSetConvolutionMathType(s->conv, d->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH), "the math type");
    return DB_OK;
}

/* One perf-result struct of any pass as the common record */
template <typename Perf>
static db_cudnn_algo_info info_of(const Perf &p, int measured) {
    db_cudnn_algo_info i;
    i.algo = (int)p.algo;
    i.status = (int)p.status;
    i.deterministic = p.determinism == CUDNN_DETERMINISTIC;
    /* anything but FMA math may use TF32 tensor cores for fp32 data (DEFAULT_MATH does on sm_80+) */
    i.tensor_ops = p.mathType != CUDNN_FMA_MATH;
    i.math = (int)p.mathType;
    i.workspace = p.memory;
    i.ms = measured && p.status == CUDNN_STATUS_SUCCESS ? p.time : -1.0f;
    return i;
}

/* What cuDNN offers for one pass: measured (cudnnFind*: every algorithm run once, fastest
 * first) or from its heuristics (best first); at most max records, their number returned */
/* One pass's list: room from cuDNN's max count, then call(room, &got, results) */
template <typename Perf, typename Call>
static cudnnStatus_t list_pass(cudnnHandle_t h, cudnnStatus_t (*max_count)(cudnnHandle_t, int *), Call call, int measured,
                               db_cudnn_algo_info *out, int max, int *count) {
    Perf p[MAX_CANDIDATES];
    int room = 0, got = 0;
    cudnnStatus_t st = max_count(h, &room);
    if (room > MAX_CANDIDATES) room = MAX_CANDIDATES;
    if (st == CUDNN_STATUS_SUCCESS) st = call(room, &got, p);
    for (int i = 0; st == CUDNN_STATUS_SUCCESS && i < got && i < max; i++) out[(*count)++] = info_of(p[i], measured);
    return st;
}

static db_status list(db_cudnn *h, const descs *s, int pass, int measured, db_cudnn_algo_info *out, int max, int *count) {
    cudnnStatus_t st;
    *count = 0;
    if (pass == DB_CONV_FWD)
        st = list_pass<cudnnConvolutionFwdAlgoPerf_t>(
            h->h, cudnnGetConvolutionForwardAlgorithmMaxCount,
            [&](int room, int *got, cudnnConvolutionFwdAlgoPerf_t *p) {
                return measured ? cudnnFindConvolutionForwardAlgorithm(h->h, s->x, s->w, s->conv, s->y, room, got, p)
                                : cudnnGetConvolutionForwardAlgorithm_v7(h->h, s->x, s->w, s->conv, s->y, room, got, p);
            },
            measured, out, max, count);
    else if (pass == DB_CONV_BWD_DATA)
        st = list_pass<cudnnConvolutionBwdDataAlgoPerf_t>(
            h->h, cudnnGetConvolutionBackwardDataAlgorithmMaxCount,
            [&](int room, int *got, cudnnConvolutionBwdDataAlgoPerf_t *p) {
                return measured ? cudnnFindConvolutionBackwardDataAlgorithm(h->h, s->w, s->y, s->conv, s->x, room, got, p)
                                : cudnnGetConvolutionBackwardDataAlgorithm_v7(h->h, s->w, s->y, s->conv, s->x, room, got, p);
            },
            measured, out, max, count);
    else
        st = list_pass<cudnnConvolutionBwdFilterAlgoPerf_t>(
            h->h, cudnnGetConvolutionBackwardFilterAlgorithmMaxCount,
            [&](int room, int *got, cudnnConvolutionBwdFilterAlgoPerf_t *p) {
                return measured ? cudnnFindConvolutionBackwardFilterAlgorithm(h->h, s->x, s->y, s->conv, s->w, room, got, p)
                                : cudnnGetConvolutionBackwardFilterAlgorithm_v7(h->h, s->x, s->y, s->conv, s->w, room, got, p);
            },
            measured, out, max, count);
    char what[64];
    snprintf(what, sizeof what, "%s the %s algorithms", measured ? "measuring" : "asking for", pass_names[pass]);
    CUDNN_TRY(st, what);
    return DB_OK;
}

/* The workspace a pass's algorithm needs with this math type (cuDNN may refuse an algorithm here
 * that it listed) */
static cudnnStatus_t workspace_of(db_cudnn *h, const descs *s, int pass, int algo, cudnnMathType_t math, size_t *bytes) {
    cudnnStatus_t st = cudnnSetConvolutionMathType(s->conv, math);
    if (st != CUDNN_STATUS_SUCCESS) return st;
    if (pass == DB_CONV_FWD)
        return cudnnGetConvolutionForwardWorkspaceSize(h->h, s->x, s->w, s->conv, s->y, (cudnnConvolutionFwdAlgo_t)algo, bytes);
    if (pass == DB_CONV_BWD_DATA)
        return cudnnGetConvolutionBackwardDataWorkspaceSize(h->h, s->w, s->y, s->conv, s->x, (cudnnConvolutionBwdDataAlgo_t)algo, bytes);
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(h->h, s->x, s->y, s->conv, s->w, (cudnnConvolutionBwdFilterAlgo_t)algo,
                                                          bytes);
}

extern "C" db_status db_cudnn_conv_list(db_cudnn *h, const db_cudnn_conv_dims *d, int pass, int measured,
                                        db_cudnn_algo_info *out, int max, int *count) {
    descs s;
    db_status st = descs_make(&s, d);
    if (st == DB_OK) st = list(h, &s, pass, measured, out, max, count);
    descs_free(&s);
    return st;
}

/* The first usable candidate of a list: cuDNN ran (or rates) it successfully, it is
 * deterministic when asked, it keeps to FMA math unless TF32 is allowed, and cuDNN sizes its
 * workspace. 0 when none is. */
static int first_usable(db_cudnn *h, const descs *s, const db_cudnn_conv_dims *d, int pass, const db_cudnn_algo_info *cand,
                        int n, int measured, choice *c) {
    int refused = 0;
    for (int i = 0; i < n; i++) {
        const db_cudnn_algo_info *a = &cand[i];
        if (a->status != CUDNN_STATUS_SUCCESS || (d->deterministic && !a->deterministic) || (!d->tf32 && a->tensor_ops)) continue;
        size_t ws = 0;
        if (workspace_of(h, s, pass, a->algo, (cudnnMathType_t)a->math, &ws) != CUDNN_STATUS_SUCCESS) { refused++; continue; }
        c->algo = a->algo;
        c->math = (cudnnMathType_t)a->math;
        c->workspace = ws;
        snprintf(c->how, sizeof c->how, "%d (%s #%d%s%s%s)", a->algo, measured ? "fastest measured" : "heuristic", i + 1,
                 refused ? ", after a refused workspace" : "", a->tensor_ops ? ", tensor cores" : "",
                 a->deterministic ? "" : ", non-deterministic");
        return 1;
    }
    return 0;
}

/* Each pass's algorithm: the first usable one measured (cudnnFind*), else -- measuring failed,
 * e.g. for memory, or nothing measured is usable -- the first usable one cuDNN's heuristics rate */
static db_status choose(db_cudnn *h, const descs *s, const db_cudnn_conv_dims *d, int pass, choice *c) {
    db_cudnn_algo_info cand[MAX_CANDIDATES];
    int n = 0;
    /* the math type asked for (a previous pass's workspace query left another on the descriptor) */
    CUDNN_TRY(cudnnSetConvolutionMathType(s->conv, d->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH), "the math type");
    if (list(h, s, pass, 1, cand, MAX_CANDIDATES, &n) == DB_OK && first_usable(h, s, d, pass, cand, n, 1, c)) return DB_OK;
    DB_TRY(list(h, s, pass, 0, cand, MAX_CANDIDATES, &n));
    if (first_usable(h, s, d, pass, cand, n, 0, c)) return DB_OK;
    return db_fail(DB_ERR_UNSUPPORTED, "cuDNN offers no usable %s%s algorithm (%s) for a %dx%d convolution of %dx%dx%dx%d "
                   "(n, c, h, w) to %d channels, stride %dx%d", d->deterministic ? "deterministic " : "", pass_names[pass],
                   d->tf32 ? "TF32 allowed" : "fp32", d->kh, d->kw, d->n, d->cin, d->h, d->w, d->cout, d->sh, d->sw);
}

/* The handle's record of this shape, measured now when it has none */
static db_status found(db_cudnn *h, const descs *s, const db_cudnn_conv_dims *d, const db_cudnn_found **out) {
    for (int i = 0; i < h->n_found; i++)
        if (!memcmp(&h->found[i].d, d, sizeof *d)) { *out = &h->found[i]; return DB_OK; }
    db_cudnn_found f;
    memset(&f, 0, sizeof f);
    f.d = *d;
    for (int p = 0; p < DB_CONV_PASSES; p++) DB_TRY(choose(h, s, d, p, &f.pass[p]));
    db_cudnn_found *grown = (db_cudnn_found *)realloc(h->found, sizeof *grown * (size_t)(h->n_found + 1));
    if (!grown) return db_fail(DB_ERR_NOMEM, "out of memory");
    h->found = grown;
    h->found[h->n_found] = f;
    *out = &h->found[h->n_found++];
    return DB_OK;
}

extern "C" db_status db_cudnn_conv_create(db_cudnn_conv **out, db_cudnn *h, const db_cudnn_conv_dims *d,
                                          size_t *workspace) {
    *out = NULL;
    db_cudnn_conv *c = (db_cudnn_conv *)calloc(1, sizeof *c);
    if (!c) return db_fail(DB_ERR_NOMEM, "out of memory");
    c->h = h;
    *out = c; /* destroy copes with a half-built one */
    db_cudnn_conv_dims key = *d;
    descs s;
    db_status st = descs_make(&s, &key);
    c->x = s.x; c->y = s.y; c->w = s.w; c->conv = s.conv;
    DB_TRY(st);
    const db_cudnn_found *f = NULL;
    DB_TRY(found(h, &s, &key, &f));
    *workspace = 0;
    for (int p = 0; p < DB_CONV_PASSES; p++) {
        c->pass[p] = f->pass[p];
        if (c->pass[p].workspace > *workspace) *workspace = c->pass[p].workspace;
    }
    return DB_OK;
}

extern "C" void db_cudnn_conv_destroy(db_cudnn_conv *c) {
    if (!c) return;
    descs s = {c->x, c->y, c->w, c->conv};
    descs_free(&s);
    free(c);
}

extern "C" db_status db_cudnn_conv_forward(db_cudnn_conv *c, const float *x, const float *w, float *y, void *ws,
                                           size_t ws_bytes) {
    const float one = 1, zero = 0;
    CUDNN_TRY(cudnnSetConvolutionMathType(c->conv, c->pass[DB_CONV_FWD].math), "the forward's math type");
    CUDNN_TRY(cudnnConvolutionForward(c->h->h, &one, c->x, x, c->w, w, c->conv, (cudnnConvolutionFwdAlgo_t)c->pass[DB_CONV_FWD].algo,
                                      ws, ws_bytes, &zero, c->y, y), "convolution forward");
    return DB_OK;
}

extern "C" db_status db_cudnn_conv_backward(db_cudnn_conv *c, const float *x, const float *w, const float *dy, float *dx,
                                            float *dw, int accumulate_dx, int accumulate_dw, void *ws, size_t ws_bytes) {
    const float one = 1, zero = 0;
    if (dx) {
        CUDNN_TRY(cudnnSetConvolutionMathType(c->conv, c->pass[DB_CONV_BWD_DATA].math), "the backward's math type");
        CUDNN_TRY(cudnnConvolutionBackwardData(c->h->h, &one, c->w, w, c->y, dy, c->conv,
                                               (cudnnConvolutionBwdDataAlgo_t)c->pass[DB_CONV_BWD_DATA].algo, ws, ws_bytes,
                                               accumulate_dx ? &one : &zero, c->x, dx), "convolution backward (data)");
    }
    CUDNN_TRY(cudnnSetConvolutionMathType(c->conv, c->pass[DB_CONV_BWD_FILTER].math), "the backward's math type");
    CUDNN_TRY(cudnnConvolutionBackwardFilter(c->h->h, &one, c->x, x, c->y, dy, c->conv,
                                             (cudnnConvolutionBwdFilterAlgo_t)c->pass[DB_CONV_BWD_FILTER].algo, ws, ws_bytes,
                                             accumulate_dw ? &one : &zero, c->w, dw), "convolution backward (filter)");
    return DB_OK;
}

extern "C" void db_cudnn_conv_describe(const db_cudnn_conv *c, char *out, size_t n) {
    snprintf(out, n, "fwd %s, bwd-data %s, bwd-filter %s", c->pass[0].how, c->pass[1].how, c->pass[2].how);
}
