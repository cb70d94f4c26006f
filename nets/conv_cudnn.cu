// cuDNN convolutions (nets/conv_cudnn.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/conv_gemm.h"
#include "nets/cudnn_internal.h"

/* One pass's choice: the algorithm, the math type it was measured (or rated) with -- set on the
 * descriptor before the pass runs --, its workspace, and how it was chosen (for logs) */
typedef struct {
    int algo;             /* ALGO_GEMM: cuBLAS (nets/conv_gemm.h) */
    cudnnMathType_t math;
    size_t workspace;
    char how[128];
} choice;

enum { ALGO_GEMM = -1, ALGO_NONE = -2 /* a pass not prepared (d->no_dx) */ };

enum { MAX_CANDIDATES = 32 }; /* an algorithm may be listed once per math type */

/* A shape's three choices, kept with the handle: each shape is measured once */
struct db_cudnn_found {
    db_cudnn_conv_dims d;
    choice pass[DB_CONV_PASSES];
};

struct db_cudnn_conv {
    db_cudnn *h;
    db_cudnn_conv_dims d;
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
    if (h->blas) cublasDestroy(h->blas);
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

/* FMA math keeps fp32 convolutions off the tensor cores; TF32 allows them (DEFAULT_MATH on sm_80+);
 * bfloat16 asks for them outright (the legacy API takes tensor-core kernels when the math type
 * says TENSOR_OP) */
static cudnnMathType_t math_asked(const db_cudnn_conv_dims *d) {
    return d->bf16 ? CUDNN_TENSOR_OP_MATH : d->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
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
    const cudnnDataType_t t = d->bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT; /* the sums in fp32 either way */
    if (d->nhwc && !d->bf16) return db_fail(DB_ERR_INTERNAL, "cuDNN convolution: channels-last operands are bfloat16's");
    const cudnnTensorFormat_t f = d->nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW; /* the sizes are given in NCHW order either way */
    CUDNN_TRY(cudnnSetTensor4dDescriptor(s->x, f, t, d->n, d->cin, d->h, d->w), "the input's layout");
    CUDNN_TRY(cudnnSetTensor4dDescriptor(s->y, f, t, d->n, d->cout, oh, ow), "the output's layout");
    CUDNN_TRY(cudnnSetFilter4dDescriptor(s->w, t, f, d->cout, d->cin, d->kh, d->kw), "the weights' layout");
    CUDNN_TRY(cudnnSetConvolution2dDescriptor(s->conv, d->ph, d->pw, d->sh, d->sw, 1, 1, CUDNN_CROSS_CORRELATION,
                                              CUDNN_DATA_FLOAT), "the convolution");
    CUDNN_TRY(cudnnSetConvolutionMathType(s->conv, math_asked(d)), "the math type");
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
        if (a->status != CUDNN_STATUS_SUCCESS || (d->deterministic && !a->deterministic) ||
            (!d->tf32 && !d->bf16 && a->tensor_ops))
            continue;
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

/* Heuristic candidates that cuDNN's own run of every algorithm (cudnnFind*) saw fail are marked
 * failed (not for want of memory to try it, nor when it was not run); nothing changes when that
 * run cannot be made (e.g. for memory) */
static void drop_failed_runs(db_cudnn *h, const descs *s, const db_cudnn_conv_dims *d, int pass, db_cudnn_algo_info *cand,
                             int n) {
    db_cudnn_algo_info ran[MAX_CANDIDATES];
    int nr = 0;
    if (list(h, s, pass, 1, ran, MAX_CANDIDATES, &nr) != DB_OK) return;
    cudnnSetConvolutionMathType(s->conv, math_asked(d)); /* (as choose left it) */
    for (int i = 0; i < n; i++) {
        int tried = 0, ok = 0;
        for (int j = 0; j < nr; j++)
            if (ran[j].algo == cand[i].algo && ran[j].status != CUDNN_STATUS_ALLOC_FAILED)
                tried = 1, ok |= ran[j].status == CUDNN_STATUS_SUCCESS;
        if (tried && !ok && cand[i].status == CUDNN_STATUS_SUCCESS) cand[i].status = CUDNN_STATUS_EXECUTION_FAILED;
    }
}

/* Each pass's algorithm: the first usable one measured (cudnnFind*), else -- measuring failed,
 * e.g. for memory, or nothing measured is usable -- the first usable one cuDNN's heuristics rate.
 * Deterministic runs take the heuristics' ranking: a timing picks differently from one process
 * to the next (two algorithms within noise), and another algorithm rounds otherwise, so a run
 * and its resumption from a checkpoint would part ways; but only an algorithm cuDNN's run of
 * them all saw succeed (heuristics rate algorithms they never ran). */
static db_status choose(db_cudnn *h, const descs *s, const db_cudnn_conv_dims *d, int pass, choice *c) {
    db_cudnn_algo_info cand[MAX_CANDIDATES];
    int n = 0;
    /* the math type asked for (a previous pass's workspace query left another on the descriptor) */
    CUDNN_TRY(cudnnSetConvolutionMathType(s->conv, math_asked(d)), "the math type");
    if (!d->deterministic && list(h, s, pass, 1, cand, MAX_CANDIDATES, &n) == DB_OK && first_usable(h, s, d, pass, cand, n, 1, c))
        return DB_OK;
    db_status listed = list(h, s, pass, 0, cand, MAX_CANDIDATES, &n);
    char why[300] = "";
    if (listed != DB_OK) snprintf(why, sizeof why, ": %s", db_last_error());
    if (listed == DB_OK && d->deterministic) drop_failed_runs(h, s, d, pass, cand, n);
    if (listed == DB_OK && first_usable(h, s, d, pass, cand, n, 0, c)) return DB_OK;
    /* (the words tests/gpu/gpu_check.h's db_gpu_deterministic_refused looks for) */
    return db_fail(DB_ERR_UNSUPPORTED, "cuDNN offers no usable %s%s algorithm (%s) for a %dx%d convolution of %dx%dx%dx%d "
                   "(n, c, h, w) to %d channels, stride %dx%d%s", d->deterministic ? "deterministic " : "", pass_names[pass],
                   d->bf16 && d->nhwc ? "bfloat16, channels-last" : d->bf16 ? "bfloat16" : d->tf32 ? "TF32 allowed" : "fp32",
                   d->kh, d->kw, d->n, d->cin, d->h, d->w, d->cout, d->sh, d->sw, why);
}

/* One pass with choice c: forward y = conv(x, w) into out; backward-data dx from w and dy;
 * backward-filter dw from x and dy; accumulate adds to out (the backward passes) */
static db_status run(db_cudnn *h, const descs *s, const db_cudnn_conv_dims *d, const choice *c, int pass, const float *x,
                     const float *w, const float *dy, float *out, int accumulate, void *ws, size_t ws_bytes) {
    const float one = 1, zero = 0;
    if (c->algo == ALGO_GEMM) {
        cudaStream_t st;
        CUDNN_TRY(cudnnGetStream(h->h, &st), "the handle's stream");
        if (!h->blas && cublasCreate(&h->blas) != CUBLAS_STATUS_SUCCESS) {
            h->blas = NULL;
            return db_fail(DB_ERR_INTERNAL, "cuBLAS: cannot create a handle for the 1x1 convolutions");
        }
        if (pass == DB_CONV_FWD) return db_conv_gemm_forward(h->blas, st, d, x, w, out);
        if (pass == DB_CONV_BWD_DATA) return db_conv_gemm_backward_data(h->blas, st, d, w, dy, out, accumulate);
        return db_conv_gemm_backward_filter(h->blas, st, d, x, dy, out, accumulate, ws, ws_bytes);
    }
    CUDNN_TRY(cudnnSetConvolutionMathType(s->conv, c->math), "the pass's math type");
    if (pass == DB_CONV_FWD)
        CUDNN_TRY(cudnnConvolutionForward(h->h, &one, s->x, x, s->w, w, s->conv, (cudnnConvolutionFwdAlgo_t)c->algo, ws,
                                          ws_bytes, &zero, s->y, out), "convolution forward");
    else if (pass == DB_CONV_BWD_DATA)
        CUDNN_TRY(cudnnConvolutionBackwardData(h->h, &one, s->w, w, s->y, dy, s->conv, (cudnnConvolutionBwdDataAlgo_t)c->algo,
                                               ws, ws_bytes, accumulate ? &one : &zero, s->x, out),
                  "convolution backward (data)");
    else
        CUDNN_TRY(cudnnConvolutionBackwardFilter(h->h, &one, s->x, x, s->y, dy, s->conv,
                                                 (cudnnConvolutionBwdFilterAlgo_t)c->algo, ws, ws_bytes,
                                                 accumulate ? &one : &zero, s->w, out),
                  "convolution backward (filter)");
    return DB_OK;
}

/* A pass's time in ms with choice c on zeroed buffers: a warm-up, then the mean of three runs
 * (-1 when any fails) */
static float time_pass(db_cudnn *h, const descs *s, const db_cudnn_conv_dims *d, const choice *c, int pass, float **buf,
                       void *ws, size_t ws_bytes) {
    cudaStream_t st;
    cudaEvent_t e0 = NULL, e1 = NULL;
    float ms = -1;
    float *out = pass == DB_CONV_FWD ? buf[1] : pass == DB_CONV_BWD_DATA ? buf[3] : buf[4];
    if (cudnnGetStream(h->h, &st) != CUDNN_STATUS_SUCCESS || cudaEventCreate(&e0) != cudaSuccess ||
        cudaEventCreate(&e1) != cudaSuccess)
        goto done;
    if (run(h, s, d, c, pass, buf[0], buf[2], buf[1], out, 0, ws, ws_bytes) != DB_OK) goto done;
    cudaEventRecord(e0, st);
    for (int r = 0; r < 3; r++)
        if (run(h, s, d, c, pass, buf[0], buf[2], buf[1], out, 0, ws, ws_bytes) != DB_OK) goto done;
    cudaEventRecord(e1, st);
    if (cudaEventSynchronize(e1) == cudaSuccess && cudaEventElapsedTime(&ms, e0, e1) == cudaSuccess) ms /= 3;
    else ms = -1;
done:
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    return ms;
}

/* A 1x1 stride-1 convolution: each pass's cuDNN choice against cuBLAS GEMMs, timed alike on the
 * same zeroed buffers; the faster kept. Nothing changes when the buffers cannot be had. In
 * bfloat16 cuDNN's time leaves out the cast of its result back to fp32 that the GEMMs need not
 * do: close calls go to cuDNN. */
static void consider_gemm(db_cudnn *h, const descs *s, const db_cudnn_conv_dims *d, db_cudnn_found *f) {
    const size_t hw = (size_t)d->h * d->w, len[5] = {(size_t)d->n * d->cin * hw, (size_t)d->n * d->cout * hw,
                                                      (size_t)d->cin * d->cout, (size_t)d->n * d->cin * hw,
                                                      (size_t)d->cin * d->cout};
    float *buf[5] = {NULL, NULL, NULL, NULL, NULL}; /* x, y (dy), w, dx, dw */
    void *ws = NULL;
    size_t ws_bytes = 0;
    for (int p = 0; p < DB_CONV_PASSES; p++) {
        if (f->pass[p].workspace > ws_bytes) ws_bytes = f->pass[p].workspace;
        if (db_conv_gemm_workspace(d, p) > ws_bytes) ws_bytes = db_conv_gemm_workspace(d, p);
    }
    int ok = !ws_bytes || cudaMalloc(&ws, ws_bytes) == cudaSuccess;
    for (int i = 0; i < 5 && ok; i++)
        ok = cudaMalloc((void **)&buf[i], sizeof(float) * len[i]) == cudaSuccess &&
             cudaMemset(buf[i], 0, sizeof(float) * len[i]) == cudaSuccess;
    /* the zeroing ran on the default stream, which a non-blocking stream does not wait for */
    ok = ok && cudaDeviceSynchronize() == cudaSuccess;
    for (int p = 0; p < DB_CONV_PASSES && ok; p++) {
        if (f->pass[p].algo == ALGO_NONE) continue;
        choice g = {ALGO_GEMM, CUDNN_FMA_MATH, db_conv_gemm_workspace(d, p), ""};
        const float tc = time_pass(h, s, d, &f->pass[p], p, buf, ws, ws_bytes), tg = time_pass(h, s, d, &g, p, buf, ws, ws_bytes);
        if (tg >= 0 && (tc < 0 || tg < tc)) {
            snprintf(g.how, sizeof g.how, "cuBLAS GEMM (%.3f ms, against cuDNN's %d at %.3f ms)", tg, f->pass[p].algo, tc);
            f->pass[p] = g;
        } else if (tg >= 0) {
            size_t used = strlen(f->pass[p].how);
            snprintf(f->pass[p].how + used, sizeof f->pass[p].how - used, "; %.3f ms, a cuBLAS GEMM %.3f", tc, tg);
        }
    }
    cudaGetLastError(); /* a failed allocation is not the next launch's error */
    for (int i = 0; i < 5; i++) cudaFree(buf[i]);
    cudaFree(ws);
}

/* The handle's record of this shape, measured now when it has none */
static db_status found(db_cudnn *h, const descs *s, const db_cudnn_conv_dims *d, const db_cudnn_found **out) {
    for (int i = 0; i < h->n_found; i++)
        if (!memcmp(&h->found[i].d, d, sizeof *d)) { *out = &h->found[i]; return DB_OK; }
    db_cudnn_found f;
    memset(&f, 0, sizeof f);
    f.d = *d;
    if (db_conv_gemm_fits(d) && d->gemm == 2) { /* the GEMMs alone (the checks) */
        for (int p = 0; p < DB_CONV_PASSES; p++) {
            f.pass[p] = (choice){ALGO_GEMM, CUDNN_FMA_MATH, db_conv_gemm_workspace(d, p), ""};
            snprintf(f.pass[p].how, sizeof f.pass[p].how, "cuBLAS GEMM (asked for)");
        }
    } else {
        for (int p = 0; p < DB_CONV_PASSES; p++) {
            if (p == DB_CONV_BWD_DATA && d->no_dx) {
                f.pass[p] = (choice){ALGO_NONE, CUDNN_FMA_MATH, 0, "none (the input takes no gradient)"};
                continue;
            }
            DB_TRY(choose(h, s, d, p, &f.pass[p]));
        }
        /* deterministic: no choice by timing between two paths (two processes could choose apart) */
        if (db_conv_gemm_fits(d) && d->gemm == 0 && !d->deterministic) consider_gemm(h, s, d, &f);
    }
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
    c->d = *d;
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
    const descs s = {c->x, c->y, c->w, c->conv};
    return run(c->h, &s, &c->d, &c->pass[DB_CONV_FWD], DB_CONV_FWD, x, w, NULL, y, 0, ws, ws_bytes);
}

extern "C" db_status db_cudnn_conv_backward(db_cudnn_conv *c, const float *x, const float *w, const float *dy, float *dx,
                                            float *dw, int accumulate_dx, int accumulate_dw, void *ws, size_t ws_bytes) {
    const descs s = {c->x, c->y, c->w, c->conv};
    if (dx && c->pass[DB_CONV_BWD_DATA].algo == ALGO_NONE)
        return db_fail(DB_ERR_INTERNAL, "cuDNN convolution: an input gradient asked of one made without (no_dx)");
    if (dx) DB_TRY(run(c->h, &s, &c->d, &c->pass[DB_CONV_BWD_DATA], DB_CONV_BWD_DATA, x, w, dy, dx, accumulate_dx, ws, ws_bytes));
    return run(c->h, &s, &c->d, &c->pass[DB_CONV_BWD_FILTER], DB_CONV_BWD_FILTER, x, w, dy, dw, accumulate_dw, ws, ws_bytes);
}

extern "C" int db_cudnn_conv_on_gemm(const db_cudnn_conv *c, int pass) { return c->pass[pass].algo == ALGO_GEMM; }

extern "C" int db_cudnn_conv_gemm_shape(const db_cudnn_conv *c) { return db_conv_gemm_fits(&c->d); }

extern "C" int db_cudnn_conv_nhwc(const db_cudnn_conv *c) { return c->d.nhwc; }

extern "C" int db_cudnn_conv_result_fp32(const db_cudnn_conv *c, int pass) { return !c->d.bf16 || db_cudnn_conv_on_gemm(c, pass); }

extern "C" void db_cudnn_conv_describe(const db_cudnn_conv *c, char *out, size_t n) {
    snprintf(out, n, "fwd %s, bwd-data %s, bwd-filter %s", c->pass[0].how, c->pass[1].how, c->pass[2].how);
}
