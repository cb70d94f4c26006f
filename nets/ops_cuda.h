/* The CPU ops of nets/ops.h that cuDNN and cuBLAS do not cover, as CUDA launchers
 * (elementwise_cuda.cu), for CUDA code only. Device pointers; each returns 0, or -1 when the
 * launch failed. Results are bit-identical to the CPU's except the loss, whose exp/log come
 * from CUDA's math library (within 1e-6), and batch norm with its ReLU (bn_cuda.cu, --gpu-bn
 * fused: cuDNN's alternative), whose sums are ordered otherwise (within rounding).
 *
 * The GPU's layouts: maps are packed NCHW (n, c, h, w) -- the layout cuDNN takes for every
 * convolution pass and algorithm -- where the CPU keeps CNHW; vectors (the global average
 * pool's output, the linear layer's, the logits) are feature-major (c, n) as on the CPU. The
 * batch arrives CNHW and is transposed once on the device (db_cnhw_to_nchw_cuda). */
#ifndef DB_NETS_OPS_CUDA_H
#define DB_NETS_OPS_CUDA_H

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "nets/ops.h"

extern "C" {
int db_relu_forward_cuda(float *out, const float *in, size_t len, cudaStream_t s);
int db_relu_backward_cuda(float *din, const float *dout, const float *out, size_t len, int accum, cudaStream_t s);
int db_add_forward_cuda(float *out, const float *a, const float *b, size_t len, cudaStream_t s);
int db_pass_backward_cuda(float *din, const float *dout, size_t len, int accum, cudaStream_t s);
/* relu(a + b) in one pass (the CPU's add then ReLU, bit for bit), for an add whose only reader is
 * a ReLU; its backward: the ReLU's gradient set into g_sum (the sum's gradient) and set or added
 * (accum) into db, b's gradient */
int db_add_relu_forward_cuda(float *out, const float *a, const float *b, size_t len, cudaStream_t s);
int db_add_relu_backward_cuda(float *g_sum, float *db, const float *dout, const float *out, size_t len, int accum,
                              cudaStream_t s);
int db_shortcut_a_forward_cuda(float *out, const float *in, int cin, int cout, int n, int h, int w, int stride, int oh,
                               int ow, cudaStream_t s);
int db_shortcut_a_backward_cuda(float *din, const float *dout, int cin, int cout, int n, int h, int w, int stride, int oh,
                                int ow, int accum, cudaStream_t s);
/* NCHW maps (n, c, hw) to the feature-major vector (c, n), and its backward */
int db_gap_forward_cuda(float *out, const float *in, int c, int n, int hw, cudaStream_t s);
int db_gap_backward_cuda(float *din, const float *dout, int c, int n, int hw, int accum, cudaStream_t s);
/* dst (n, c, hw) from src (c, n, hw) */
int db_cnhw_to_nchw_cuda(float *dst, const float *src, int c, int n, size_t hw, cudaStream_t s);
/* loss: one double on the device, the mean over the n samples; dlogits may be NULL; scratch: n doubles */
int db_softmax_xent_cuda(double *loss, float *dlogits, const float *logits, const int *labels, int k, int n,
                         float smoothing, double *scratch, cudaStream_t s);
/* counts[0] top-1, counts[1] top-5 correct (device ints, overwritten) */
int db_topk_correct_cuda(int *counts, const float *logits, const int *labels, int k, int n, cudaStream_t s);
/* nets/upsample_cuda.cu: nearest upsampling by s and bilinear resizing with aligned corners of
 * planes (n c of them, NCHW) as nets/ops.h's, and the per-channel bias of NCHW maps (n, c, m),
 * dbias set (not added to), din may be NULL */
int db_upsample_forward_cuda(float *out, const float *in, int planes, int h, int w, int s, cudaStream_t st);
int db_upsample_backward_cuda(float *din, const float *dout, int planes, int h, int w, int s, int accum, cudaStream_t st);
int db_resize_forward_cuda(float *out, const float *in, int planes, int h, int w, int oh, int ow, cudaStream_t st);
int db_resize_backward_cuda(float *din, const float *dout, int planes, int h, int w, int oh, int ow, int accum,
                            cudaStream_t st);
int db_bias_forward_cuda(float *out, const float *in, const float *bias, int c, int n, size_t m, cudaStream_t st);
int db_bias_backward_cuda(float *din, float *dbias, const float *dout, int c, int n, size_t m, int accum, cudaStream_t st);
/* nets/cells_cuda.cu, AmoebaNet's cell ops on NCHW maps, the CPU's bits: depthwise convolution
 * (plane sample * c + channel; dweight set, din set or added to, may be NULL); max or average
 * pooling windows with any padding before and output size (the average over the pixels inside:
 * TensorFlow's SAME, nets/pool.c's avgpool_excl) over `planes` planes; subsampling; channel
 * concatenation of (n, ca, m) and (n, cb, m), whose backward sets or adds each part (either may
 * be NULL) */
int db_dw_forward_cuda(float *out, const float *in, const float *weight, const db_dw_dims *d, int n, cudaStream_t st);
/* scratch: db_dw_backward_cuda_scratch(d, n) floats on the device, the weight gradient's column
 * sums (NULL: -1) */
int db_dw_backward_cuda(float *din, float *dweight, const float *dout, const float *in, const float *weight,
                        const db_dw_dims *d, int n, int accum, float *scratch, cudaStream_t st);
size_t db_dw_backward_cuda_scratch(const db_dw_dims *d, int n);
int db_pool_window_forward_cuda(float *out, const float *in, int max, int planes, int h, int w, int k, int stride, int pad,
                                int oh, int ow, cudaStream_t st);
int db_pool_window_backward_cuda(float *din, const float *dout, const float *in, int max, int planes, int h, int w, int k,
                                 int stride, int pad, int oh, int ow, int accum, cudaStream_t st);
int db_subsample_forward_cuda(float *out, const float *in, int planes, int h, int w, int s, int off, cudaStream_t st);
int db_subsample_backward_cuda(float *din, const float *dout, int planes, int h, int w, int s, int off, int accum,
                               cudaStream_t st);
int db_concat_forward_cuda(float *out, const float *a, const float *b, int ca, int cb, int n, size_t m, cudaStream_t st);
int db_concat_backward_cuda(float *da, float *db, const float *dout, int ca, int cb, int n, size_t m, int accum_a,
                            int accum_b, cudaStream_t st);
/* An explicit zero border: out (planes, oh, ow) holds in (planes, h, w) from row top, column left
 * on (0 elsewhere; oh, ow may also cut the input short); the backward sets or adds the gradient
 * of in's pixels (0 for those cut off) */
int db_pad_forward_cuda(float *out, const float *in, int planes, int h, int w, int top, int left, int oh, int ow,
                        cudaStream_t st);
int db_pad_backward_cuda(float *din, const float *dout, int planes, int h, int w, int top, int left, int oh, int ow,
                         int accum, cudaStream_t st);
/* Batch norm over NCHW (n, c, hw) maps with the CPU op's semantics (nets/ops.h: batch statistics,
 * running ones updated with momentum in PyTorch's sense, the running variance unbiased,
 * save_invstd = 1/sqrt(var + eps)) and its optional ReLU in the same passes (nets/bn_cuda.cu):
 * the statistics summed in double over fixed slices of each channel (the same bits run after
 * run), then one pass writing y. The backward sets or adds dx (accum; NULL: none) and sets dgamma
 * and dbeta; y is the forward's output (the ReLU's mask), read only with relu (else it may be
 * NULL). scratch: db_bn_cuda_scratch(c) bytes, for any of them; -1 for n * hw of 2^31 or more,
 * or more than 65535 channels */
size_t db_bn_cuda_scratch(int c);
int db_bn_cuda_fits(int c, int n, int hw); /* 1 when a shape is within those limits */
int db_bn_forward_train_cuda(float *y, float *save_mean, float *save_invstd, float *run_mean, float *run_var, const float *x,
                             const float *gamma, const float *beta, float momentum, float eps, int relu, int c, int n, int hw,
                             void *scratch, cudaStream_t s);
int db_bn_forward_infer_cuda(float *y, const float *x, const float *gamma, const float *beta, const float *run_mean,
                             const float *run_var, float eps, int relu, int c, int n, int hw, void *scratch, cudaStream_t s);
int db_bn_backward_cuda(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x, const float *y,
                        const float *gamma, const float *save_mean, const float *save_invstd, int relu, int c, int n, int hw,
                        int accum, void *scratch, cudaStream_t s);
/* x *= a over n floats (an auxiliary head's loss gradient times its weight) */
int db_scale_cuda(float *x, float a, size_t n, cudaStream_t s);
/* bfloat16 (raw 16-bit words) from n floats, rounded to nearest even; and back to floats, set or
 * added (accum) into dst: the casts around --precision bf16's convolutions */
int db_to_bf16_cuda(uint16_t *dst, const float *src, size_t n, cudaStream_t s);
int db_from_bf16_cuda(float *dst, const uint16_t *src, size_t n, int accum, cudaStream_t s);
/* The same between an NCHW float tensor and a channels-last (NHWC) bfloat16 one, n blocks of c
 * planes of hw values (NCHW) or hw rows of c values (NHWC); also a convolution's weights (cout,
 * cin, kh, kw) to cuDNN's NHWC filter order (cout, kh, kw, cin) with n = cout, hw = kh * kw:
 * --precision bf16's convolutions on channels-last operands (--conv-layout nhwc) */
int db_to_bf16_nhwc_cuda(uint16_t *dst, const float *src, int n, int c, size_t hw, cudaStream_t s);
int db_from_bf16_nhwc_cuda(float *dst, const uint16_t *src, int n, int c, size_t hw, int accum, cudaStream_t s);
/* SGD over n parameters (nets/sgd.h's body, nets/sgd_cuda.cu) */
int db_sgd_step_cuda(float *p, float *v, const float *g, long n, float lr, float mu, float wd, int nesterov,
                     cudaStream_t stream);
/* The same over a whole parameter arena in one launch; mask[i] (device bytes) says whether
 * element i is a parameter's and takes the weight decay (the gaps between parameters are zeros
 * and stay zeros) */
enum { DB_ARENA_DECAYS = 1, DB_ARENA_PARAM = 2 };
int db_sgd_arena_cuda(float *p, float *v, const float *g, const uint8_t *mask, long n, float lr, float mu, float wd,
                      int nesterov, cudaStream_t stream);
/* TensorFlow's RMSProp (nets/sgd.h's body) over the parameter elements of an arena: mom, ms its
 * momentum and mean squares, laid out as the parameters */
int db_rmsprop_arena_cuda(float *p, float *mom, float *ms, const float *g, const uint8_t *mask, long n, float lr,
                          float rho, float mu, float eps, float wd, cudaStream_t stream);
/* The moving average's step: shadow -= k * (shadow - value), k = 1 - decay (nets/optim.c) */
int db_ema_cuda(float *shadow, const float *value, long n, float k, cudaStream_t stream);
}

#endif
