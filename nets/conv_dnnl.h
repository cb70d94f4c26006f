/* Convolutions through oneDNN on the CPU, on the engine's layouts: activations CNHW (oneDNN's
 * "bacd"), weights (cout, cin, k, k). oneDNN runs each pass in the blocked layout it prefers for
 * this machine (nChw16c with AVX-512); the reorders to and from our layout happen inside these
 * calls, and the input's blocked copy made by the forward is kept for the weight gradient.
 * Primitives are made for batch n_max when the op is created and once for any other batch size
 * (the last, smaller batch of an epoch or an evaluation; the latest such size is kept).
 *
 * Same results run after run for a given thread count, machine (instruction set) and oneDNN
 * build; not the same bits as the GEMM path (nets/conv.c), which remains the reference and the
 * fallback (a build without oneDNN, or DROPBENCH_CONV=gemm). */
#ifndef DB_NETS_CONV_DNNL_H
#define DB_NETS_CONV_DNNL_H

#include "core/status.h"
#include "nets/ops.h"

typedef struct db_dnnl_conv db_dnnl_conv;

/* 1 when this build has oneDNN and DROPBENCH_CONV is not "gemm" (read once) */
int db_dnnl_enabled(void);
/* "oneDNN 2.6.3 (jit:avx512_core)" for provenance: the version and the forward implementation
 * it picks for a small 3x3 convolution on this machine; "" without oneDNN */
const char *db_dnnl_describe(void);

db_status db_dnnl_conv_create(db_dnnl_conv **out, const db_conv_dims *d, int n_max);
void db_dnnl_conv_destroy(db_dnnl_conv *c);
/* out (cout, n, oh, ow) = conv(in (cin, n, h, w), weight); the input is kept (blocked) for the
 * backward of the same step */
db_status db_dnnl_conv_forward(db_dnnl_conv *c, float *out, const float *in, const float *weight, int n);
/* din (+)= conv^T(dout, weight) (skipped when NULL; accum adds), dweight = correlation of the
 * forward's input and dout (overwritten) */
db_status db_dnnl_conv_backward(db_dnnl_conv *c, float *din, float *dweight, const float *dout, const float *weight,
                                int n, int accum);

#endif
