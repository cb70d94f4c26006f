/* Convolutions on the GPU through cuDNN, on the engine's own layouts: activations CNHW
 * (described to cuDNN with strides), weights (cout, cin, k, k). Descriptors, algorithms and the
 * workspace size are fixed when the op is created, never per step. Algorithms come from
 * cuDNN's heuristics; in deterministic mode only those it flags deterministic are taken. fp32
 * storage; TF32 tensor-core math only when asked for. */
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
/* cuDNN's version as it reports it, e.g. 91900 */
size_t db_cudnn_version(void);

typedef struct {
    int n, cin, h, w, cout, k, stride, pad;
    int deterministic; /* only algorithms cuDNN flags deterministic */
    int tf32;          /* allow TF32 tensor-core math (else plain fp32 FMA) */
} db_cudnn_conv_dims;

/* *workspace receives the bytes the forward and both backward passes need (the largest) */
db_status db_cudnn_conv_create(db_cudnn_conv **out, db_cudnn *h, const db_cudnn_conv_dims *d, size_t *workspace);
void db_cudnn_conv_destroy(db_cudnn_conv *c);
/* y (cout, n, oh, ow) = conv(x (cin, n, h, w), w); device pointers */
db_status db_cudnn_conv_forward(db_cudnn_conv *c, const float *x, const float *w, float *y, void *ws, size_t ws_bytes);
/* dx = conv^T(dy, w) (skipped when dx is NULL), dw (+)= correlation of x and dy */
db_status db_cudnn_conv_backward(db_cudnn_conv *c, const float *x, const float *w, const float *dy, float *dx, float *dw,
                                 int accumulate_dw, void *ws, size_t ws_bytes);
/* The algorithms chosen, for logs: "fwd N, bwd-data N, bwd-filter N" */
void db_cudnn_conv_describe(const db_cudnn_conv *c, char *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
