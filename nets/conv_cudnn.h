/* Convolutions, batch norm and pooling on the GPU through cuDNN, on the GPU's layouts
 * (nets/ops_cuda.h): activations packed NCHW, which cuDNN supports for all three convolution
 * passes in fp32 (in bfloat16 not every algorithm takes it: the ones that refuse say so in their
 * status and are passed over), weights (cout, cin, k, k) as on the CPU; or, in bfloat16 with
 * nhwc, channels-last operands and weights (cout, kh, kw, cin). Descriptors, algorithms
 * and the workspace size are fixed when the op is created, never per step. fp32 storage; TF32
 * tensor-core math, or bfloat16 operands, only when asked for. */
#ifndef DB_NETS_CONV_CUDNN_H
#define DB_NETS_CONV_CUDNN_H

#include <stddef.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct db_cudnn db_cudnn;           /* one cuDNN handle (per device and stream) */
typedef struct db_cudnn_conv db_cudnn_conv; /* one convolution's descriptors and algorithms */

db_status db_cudnn_create(db_cudnn **out);
void db_cudnn_destroy(db_cudnn *h);
/* Later calls on h run on this CUDA stream (a cudaStream_t; NULL: the default stream) */
db_status db_cudnn_set_stream(db_cudnn *h, void *stream);
/* cuDNN's version as it reports it, e.g. 91900 */
size_t db_cudnn_version(void);

typedef struct {
    int n, cin, h, w, cout;
    int kh, kw, sh, sw, ph, pw; /* kernel, strides, padding (each side) down and across */
    int deterministic; /* only algorithms cuDNN flags deterministic */
    int tf32;          /* allow TF32 tensor-core math (else plain fp32 FMA) */
    int gemm;          /* 1x1 stride-1 convolutions (nets/conv_gemm.h): 0 each pass the faster
                        * measured of cuDNN's choice and cuBLAS GEMMs (cuDNN only when
                        * deterministic), 1 cuDNN only, 2 the GEMMs only (the checks) */
    int bf16;          /* x, w and y (and their gradients) in bfloat16, accumulating in fp32, on
                        * tensor cores; a pass that takes the GEMMs reads bfloat16 operands and
                        * writes an fp32 result (db_cudnn_conv_result_fp32) */
    int nhwc;          /* with bf16: x, y and their gradients channels-last (n, h, w, c), the
                        * weights (cout, kh, kw, cin), the layout cuDNN's tensor-core kernels
                        * take without transposing (ops_cuda.h's casts make it); cuDNN alone */
    int no_dx;         /* the input needs no gradient (the network's input): no backward-data
                        * algorithm is chosen (cuDNN supports it least for 1 or 3 channels), and
                        * a backward with dx is refused */
} db_cudnn_conv_dims;

enum { DB_CONV_FWD, DB_CONV_BWD_DATA, DB_CONV_BWD_FILTER, DB_CONV_PASSES };
const char *db_cudnn_pass_name(int pass);

/* One algorithm as cuDNN reports it for a pass */
typedef struct {
    int algo;           /* cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t */
    int status;         /* cudnnStatus_t: 0 usable */
    int deterministic;
    int tensor_ops;     /* may use tensor cores (TF32): any math type but FMA */
    int math;           /* cudnnMathType_t it was measured or rated with */
    size_t workspace;   /* bytes */
    float ms;           /* measured time, -1 when not measured */
} db_cudnn_algo_info;

/* What cuDNN offers for one pass of a convolution: measured (cudnnFind*: each algorithm run
 * once, the fastest first) or its heuristics' ranking; at most max records, *count of them */
db_status db_cudnn_conv_list(db_cudnn *h, const db_cudnn_conv_dims *d, int pass, int measured, db_cudnn_algo_info *out,
                             int max, int *count);

/* Each pass's algorithm is the fastest measured one (cuDNN's heuristics when measuring fails or
 * offers nothing usable; the heuristics' first when deterministic, the same choice in every
 * process, among those cuDNN's measuring run saw succeed) that succeeded, is deterministic when asked for, keeps to FMA math
 * unless TF32 is allowed, and whose workspace cuDNN will size; the next candidate is taken when
 * one is refused. The math type it was measured with is the one it runs with. A 1x1 stride-1
 * convolution then times that choice against cuBLAS GEMMs (nets/conv_gemm.h) on the same
 * buffers, a warm-up and three runs each, and takes the faster per pass (d->gemm). A shape is
 * measured once per handle. *workspace receives the bytes the largest pass needs. */
db_status db_cudnn_conv_create(db_cudnn_conv **out, db_cudnn *h, const db_cudnn_conv_dims *d, size_t *workspace);
void db_cudnn_conv_destroy(db_cudnn_conv *c);
/* y (n, cout, oh, ow) = conv(x (n, cin, h, w), w); device pointers. With d->bf16, x, w and dy
 * hold bfloat16 and each result y, dx, dw bfloat16 or fp32 as db_cudnn_conv_result_fp32 says
 * (and with d->nhwc every one of them is channels-last) */
db_status db_cudnn_conv_forward(db_cudnn_conv *c, const float *x, const float *w, float *y, void *ws, size_t ws_bytes);
/* dx (+)= conv^T(dy, w) (skipped when dx is NULL), dw (+)= correlation of x and dy */
db_status db_cudnn_conv_backward(db_cudnn_conv *c, const float *x, const float *w, const float *dy, float *dx, float *dw,
                                 int accumulate_dx, int accumulate_dw, void *ws, size_t ws_bytes);
/* 1 when the pass (DB_CONV_*) writes its result (y, dx or dw) in fp32: always without bf16; with
 * it, when the pass took the cuBLAS GEMMs (cuDNN's bfloat16 passes write bfloat16) */
int db_cudnn_conv_result_fp32(const db_cudnn_conv *c, int pass);
/* 1 when the pass runs on the cuBLAS GEMMs */
int db_cudnn_conv_on_gemm(const db_cudnn_conv *c, int pass);
/* 1 when the convolution is one the GEMMs can run (1x1, stride 1, unpadded: nets/conv_gemm.h) */
int db_cudnn_conv_gemm_shape(const db_cudnn_conv *c);
/* 1 when its bfloat16 operands are channels-last (made with nhwc set) */
int db_cudnn_conv_nhwc(const db_cudnn_conv *c);
/* The algorithms chosen and how, for logs: "fwd N (fastest measured #1), bwd-data ..." */
void db_cudnn_conv_describe(const db_cudnn_conv *c, char *out, size_t n);

/* Batch norm over the n*hw values of each of c channels of an NCHW tensor, with the CPU op's
 * semantics (nets/ops.h): batch statistics in training, running
 * ones updated with momentum (PyTorch's sense), save_invstd = 1/sqrt(var + eps). relu fuses a
 * ReLU after it (out = max(0, bn(x))); the backward then reads out. eps at least cuDNN's
 * CUDNN_BN_MIN_EPSILON (0 in cuDNN 9). accum: 0 overwrites din, 1 adds to it; dgamma and dbeta are overwritten. */
db_status db_cudnn_bn_forward_train(db_cudnn *h, float *out, float *save_mean, float *save_invstd, float *run_mean,
                                    float *run_var, const float *in, const float *gamma, const float *beta, float momentum,
                                    float eps, int relu, int c, int n, int hw);
db_status db_cudnn_bn_forward_infer(db_cudnn *h, float *out, const float *in, const float *gamma, const float *beta,
                                    const float *run_mean, const float *run_var, float eps, int relu, int c, int n, int hw);
db_status db_cudnn_bn_backward(db_cudnn *h, float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                               const float *out, const float *gamma, const float *save_mean, const float *save_invstd,
                               float eps, int relu, int c, int n, int hw, int accum, float *scratch);

/* Pools over planes of h*w (planes = n*c), the CPU's semantics: max (first maximum wins, its
 * deterministic backward) or average counting the padding; k, stride, pad square */
db_status db_cudnn_pool_forward(db_cudnn *h, int max, float *out, const float *in, int planes, int hh, int ww, int k,
                                int stride, int pad);
db_status db_cudnn_pool_backward(db_cudnn *h, int max, float *din, const float *dout, const float *out, const float *in,
                                 int planes, int hh, int ww, int k, int stride, int pad, int accum);

#ifdef __cplusplus
}
#endif
#endif
