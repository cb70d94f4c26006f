/* Convolutions through oneDNN on the CPU, on the engine's layouts: activations CNHW (oneDNN's
 * "bacd"), weights (cout, cin, k, k). oneDNN runs each pass in the blocked layout it prefers for
 * this machine (nChw16c with AVX-512); the reorders to and from our layout happen inside these
 * calls. The forward's blocked input and weights are kept for the backward of the same input;
 * the blocked output and gradients live in buffers all convolutions share (one graph runs at a
 * time in a process). Primitives are made for batch n_max when the op is created and once for
 * any other batch size (the last, smaller batch of an epoch or an evaluation; the latest such
 * size is kept), with the OpenMP thread count of that moment: calls under another count are
 * refused (the caller falls back to the GEMM path).
 *
 * Same results run after run for a given thread count, machine (instruction set) and oneDNN
 * build; not the same bits as the GEMM path (nets/conv.c), which remains the reference and the
 * fallback (a build without oneDNN, or DROPBENCH_CONV=gemm; =onednn or unset: oneDNN, another
 * value is said and taken as onednn). */
#ifndef DB_NETS_CONV_DNNL_H
#define DB_NETS_CONV_DNNL_H

#include "core/status.h"
#include "nets/ops.h"

typedef struct db_dnnl_conv db_dnnl_conv;

/* 1 when this build has oneDNN and DROPBENCH_CONV is not "gemm" (read once) */
int db_dnnl_enabled(void);
/* "oneDNN 2.6.3, isa avx512_core (jit:avx512_core)" for provenance: the version, the instruction
 * set it uses here, and the forward it picks for a 16-channel 3x3 convolution; "" without oneDNN */
const char *db_dnnl_describe(void);

/* needs_din: the input gradient will be asked for (not for a network's first layer) */
db_status db_dnnl_conv_create(db_dnnl_conv **out, const db_conv_dims *d, int n_max, int needs_din);
void db_dnnl_conv_destroy(db_dnnl_conv *c);
/* out (cout, n, oh, ow) = conv(in (cin, n, h, w), weight); the input is kept (blocked) for the
 * backward of the same step */
db_status db_dnnl_conv_forward(db_dnnl_conv *c, float *out, const float *in, const float *weight, int n);
/* din (+)= conv^T(dout, weight) (skipped when NULL; accum adds), dweight = correlation of in
 * and dout (overwritten); in is the forward's input: its kept copy is used when the last
 * forward at this batch size read this array, else it is staged again */
db_status db_dnnl_conv_backward(db_dnnl_conv *c, float *din, float *dweight, const float *dout, const float *in,
                                const float *weight, int n, int accum);

#endif
