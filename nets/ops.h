/* CPU reference ops. Activations are stored CNHW (channel, sample, row, column): a channel's
 * values for the whole batch are contiguous, so a convolution over the batch is one GEMM whose
 * output lands in place, and batch norm reduces over contiguous spans.
 * Argument order follows llm.c: outputs, inputs, parameters, workspace, sizes.
 * Every backward takes `accum`: 0 overwrites the input gradient, 1 adds to it (a tensor read
 * by two ops, as on a residual fork, receives the sum). Parameter gradients are overwritten. */
#ifndef DB_NETS_OPS_H
#define DB_NETS_OPS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" { /* tests/gpu compares the GPU's ops with these */
#endif

typedef struct {
    int cin, cout, kh, kw; /* kernel rows and columns */
    int sh, sw;            /* strides down and across */
    int ph, pw;            /* padding above and left; below and right what oh and ow imply */
    int h, w, oh, ow;      /* input and output map sizes */
    int chunk;             /* samples per chunk fixed by db_conv_plan (0: not planned) */
} db_conv_dims;

/* A square kernel, one stride, the same padding on every side */
void db_conv_dims_init(db_conv_dims *d, int cin, int cout, int k, int stride, int pad, int h, int w);
/* A kh x kw kernel, strides sh down and sw across, ph rows and pw columns of padding each side */
void db_conv_dims_rect(db_conv_dims *d, int cin, int cout, int kh, int kw, int sh, int sw, int ph, int pw, int h,
                       int w);
/* TensorFlow's SAME padding, per direction: oh = ceil(h / sh), the padding's smaller half above
 * (left), the odd pixel of it below (right) */
void db_conv_dims_same(db_conv_dims *d, int cin, int cout, int kh, int kw, int sh, int sw, int h, int w);
/* 1 when the padding below equals that above, and right that left (what cuDNN's descriptors take) */
int db_conv_symmetric(const db_conv_dims *d);
/* Bound on the im2col buffer of each thread (floats); the batch is processed in chunks that
 * fit. Applies to graphs finalized afterwards. */
void db_conv_set_col_cap(size_t floats);
/* Fix the chunk size for batches up to n_max on `threads` threads under the current cap, so a
 * later change of the cap cannot outgrow a workspace sized now. */
void db_conv_plan(db_conv_dims *d, int n_max, int threads);
/* 1 when a batch of n has no more output positions (n*oh*ow) than output channels: the
 * weights outweigh the activations, and the GEMM path runs the whole batch at once with its
 * GEMMs cut by rows (faster there than oneDNN, which the graph then does not use) */
int db_conv_weight_heavy(const db_conv_dims *d, int n);
/* 1 when the GEMM path runs a batch of n on `threads` threads whole: weight-heavy, and the
 * planned buffer holds the whole batch's columns */
int db_conv_whole_batch(const db_conv_dims *d, int n, int threads);
/* Floats of workspace a conv needs for a batch of n on `threads` threads. */
size_t db_conv_workspace(const db_conv_dims *d, int n, int threads);
/* out (cout,n,oh,ow) = conv(in (cin,n,h,w), weight (cout,cin,kh,kw)) */
void db_conv_forward(float *out, const float *in, const float *weight, float *ws,
                     const db_conv_dims *d, int n, int threads);
/* din may be NULL (the network input needs no gradient). */
void db_conv_backward(float *din, float *dweight, const float *dout, const float *in,
                      const float *weight, float *ws, const db_conv_dims *d, int n, int accum,
                      int threads);

/* Batch norm over m = n*h*w values per channel. Training uses the batch's statistics (biased
 * variance) and updates the running ones: running = (1-momentum)*running + momentum*batch, with
 * the unbiased variance, as PyTorch does (TensorFlow's decay 0.9 is momentum 0.1 here).
 * save_mean and save_invstd keep what backward needs. relu = 1 fuses a ReLU after the
 * normalisation (out = max(0, bn(in))); post (or NULL) a masked rescale after that.
 * groups > 1 ("ghost" batch norm, as each replica of a data-parallel run normalises its own
 * samples): each channel's m values are `groups` equal runs of samples, each normalised with its
 * own statistics (save_mean and save_invstd hold c * groups floats, channel-major), and the
 * running statistics follow the groups' average; m must be a multiple of groups. */
/* A masked rescale fused into batch norm's training passes (DropBlock right after the BN):
 * the forward writes db_dropblock_apply1(bn(x), mask, scale of the sample) and the backward
 * reads its output gradient through the same map, so the regularizer costs no pass of its own.
 * mask is CNHW like the data; scales has one entry per sample of hw units (uniform: all equal). */
typedef struct {
    const unsigned char *mask;
    const float *scales;
    int hw, uniform;
} db_bn_post;

void db_bn_forward_train(float *out, float *save_mean, float *save_invstd, float *run_mean,
                         float *run_var, const float *in, const float *gamma, const float *beta,
                         float momentum, float eps, int relu, int c, size_t m, int groups, const db_bn_post *post);
/* Batch norm synchronised over several processes (a data-parallel run's whole batch): the
 * channels' sums of (x - shift) and of its square (sums: 2c doubles, sum then square per
 * channel; shift the same on every process, e.g. the running mean), which the caller adds over
 * the processes; then the normalisation from those sums over `count` values in all, with the
 * running statistics updated (shift may be run_mean). The backward likewise: each channel's sum
 * of the output gradient and of its product with (x - mean) (dgamma and dbeta are this
 * process's own parts), added over the processes, then the input gradient from those sums. */
void db_bn_moments(double *sums, const float *in, const float *shift, int c, size_t m);
void db_bn_forward_apply(float *out, float *save_mean, float *save_invstd, float *run_mean, float *run_var,
                         const float *in, const float *gamma, const float *beta, const double *sums, const float *shift,
                         double count, float momentum, float eps, int relu, int c, size_t m, const db_bn_post *post);
void db_bn_backward_sums(double *sums, float *dgamma, float *dbeta, const float *dout, const float *in,
                         const float *gamma, const float *beta, const float *save_mean, const float *save_invstd, int relu,
                         int c, size_t m, const db_bn_post *post);
void db_bn_backward_apply(float *din, const double *sums, double count, const float *dout, const float *in,
                          const float *gamma, const float *beta, const float *save_mean, const float *save_invstd,
                          int relu, int c, size_t m, int accum, const db_bn_post *post);
void db_bn_forward_infer(float *out, const float *in, const float *gamma, const float *beta,
                         const float *run_mean, const float *run_var, float eps, int relu, int c,
                         size_t m);
void db_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                    const float *gamma, const float *beta, const float *save_mean,
                    const float *save_invstd, int relu, int c, size_t m, int groups, int accum,
                    const db_bn_post *post);

void db_relu_forward(float *out, const float *in, size_t len);
void db_relu_backward(float *din, const float *dout, const float *out, size_t len, int accum);
void db_add_forward(float *out, const float *a, const float *b, size_t len);
/* d(in) of a pass-through: din = dout or din += dout */
void db_pass_backward(float *din, const float *dout, size_t len, int accum);

/* Pools over planes of h*w; planes = c*n. Padding counts in the average (PyTorch's default).
 * ws: db_pool_workspace floats for `threads` threads (each pads one plane). */
size_t db_pool_workspace(int k, int stride, int oh, int ow, int threads);
void db_maxpool_forward(float *out, const float *in, int planes, int h, int w, int k, int stride,
                        int pad, int oh, int ow, float *ws, int threads);
/* Backward recomputes the arg-max from the input (first maximum wins), so nothing is stored. */
void db_maxpool_backward(float *din, const float *dout, const float *in, int planes, int h, int w,
                         int k, int stride, int pad, int oh, int ow, int accum, float *ws, int threads);
void db_avgpool_forward(float *out, const float *in, int planes, int h, int w, int k, int stride,
                        int pad, int oh, int ow, float *ws, int threads);
void db_avgpool_backward(float *din, const float *dout, int planes, int h, int w, int k,
                         int stride, int pad, int oh, int ow, int accum, float *ws, int threads);
/* The average over the window's pixels inside the map only (padding not counted: TensorFlow's
 * "SAME" average pooling); pad is the padding above and left, the rest below and right as oh, ow
 * imply. The max pools take such asymmetric padding as they are. */
void db_avgpool_excl_forward(float *out, const float *in, int planes, int h, int w, int k, int stride, int pad, int oh,
                             int ow, float *ws, int threads);
void db_avgpool_excl_backward(float *din, const float *dout, int planes, int h, int w, int k, int stride, int pad,
                              int oh, int ow, int accum, float *ws, int threads);
/* Global average pool: (c,n,h,w) -> (c,n) */
void db_gap_forward(float *out, const float *in, int planes, int hw);
void db_gap_backward(float *din, const float *dout, int planes, int hw, int accum);

/* Nearest-neighbour upsampling by s of planes of h x w (out: planes of h*s x w*s); the backward
 * sums each s x s block's gradients */
void db_upsample_forward(float *out, const float *in, int planes, int h, int w, int s);
void db_upsample_backward(float *din, const float *dout, int planes, int h, int w, int s, int accum);
/* Bilinear resizing of planes of h x w to oh x ow with aligned corners: output (y, x) samples
 * the input at (y (h-1)/(oh-1), x (w-1)/(ow-1)) (0 for a side of 1), interpolating its four
 * neighbours; the backward spreads each output gradient back over the same four with the same
 * weights (per plane, in output order: deterministic). Sides up to DB_RESIZE_MAX. */
enum { DB_RESIZE_MAX = 8192 };
void db_resize_forward(float *out, const float *in, int planes, int h, int w, int oh, int ow);
void db_resize_backward(float *din, const float *dout, int planes, int h, int w, int oh, int ow, int accum);
/* out = in + bias[channel] over CNHW (c channels of m values); dbias is set (not added to), din
 * may be NULL */
void db_bias_forward(float *out, const float *in, const float *bias, int c, size_t m);
void db_bias_backward(float *din, float *dbias, const float *dout, int c, size_t m, int accum);

/* Channel concatenation on CNHW: a channel's batch is contiguous, so out = a's ca * m values
 * then b's cb * m (m = n*h*w per channel); the backward splits the gradient the same way
 * (each input's set, or with its accum flag added to) */
void db_concat_forward(float *out, const float *a, const float *b, int ca, int cb, size_t m);
void db_concat_backward(float *da, float *db, const float *dout, int ca, int cb, size_t m, int accum_a, int accum_b);

/* Subsampling of planes of h x w: out (y, x) = in (y * s + off, x * s + off), 0 past the edge,
 * oh = ceil(h / s); AmoebaNet's factorized reduction takes off 0 and off 1 (its path shifted by a
 * pixel). The backward puts each gradient back where its value came from. */
void db_subsample_forward(float *out, const float *in, int planes, int h, int w, int s, int off);
void db_subsample_backward(float *din, const float *dout, int planes, int h, int w, int s, int off, int accum);

/* Depthwise convolution (the first half of a separable convolution, AmoebaNet's cells): each
 * of c channels convolved with its own kh x kw filter, stride s, padded pad_top rows above and
 * pad_left columns left (the rest of the padding below and right): out (c,n,oh,ow), weight
 * (c,kh,kw). db_dw_dims_same pads as TensorFlow's "SAME" (oh = ceil(h / s), the odd pixel of
 * padding below and right), the official AmoebaNet's convention. */
typedef struct {
    int c, kh, kw, stride, pad_top, pad_left;
    int h, w, oh, ow;
} db_dw_dims;

void db_dw_dims_same(db_dw_dims *d, int c, int kh, int kw, int stride, int h, int w);
/* The scratch both passes need on `threads` threads, in floats (each thread pads one plane) */
size_t db_dw_workspace(const db_dw_dims *d, int threads);
void db_dw_forward(float *out, const float *in, const float *weight, float *ws, const db_dw_dims *d, int n,
                   int threads);
/* dweight is set; din (may be NULL) set or, with accum, added to */
void db_dw_backward(float *din, float *dweight, const float *dout, const float *in, const float *weight, float *ws,
                    const db_dw_dims *d, int n, int accum, int threads);

/* He et al.'s option-A shortcut: subsample by `stride`, append zero channels up to cout. */
void db_shortcut_a_forward(float *out, const float *in, int cin, int cout, int n, int h, int w,
                           int stride, int oh, int ow);
void db_shortcut_a_backward(float *din, const float *dout, int cin, int n, int h, int w,
                            int stride, int oh, int ow, int accum);

/* Linear, feature-major: out (o,n) = weight (o,f) * in (f,n) + bias (o) */
void db_linear_forward(float *out, const float *in, const float *weight, const float *bias, int f,
                       int o, int n);
void db_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                        const float *in, const float *weight, int f, int o, int n, int accum);

/* Softmax cross-entropy with label smoothing eps (target (1-eps) on the label + eps/k on every
 * class) over logits (k,n). Returns the mean loss over the n samples; dlogits (k,n) receives
 * the gradient of that mean (may be NULL). */
double db_softmax_xent(float *dlogits, const float *logits, const int *labels, int k, int n,
                       float smoothing);
/* Counts samples whose label is the arg-max (top1) or among the 5 largest logits (top5). */
void db_topk_correct(const float *logits, const int *labels, int k, int n, int *top1, int *top5);

#ifdef __cplusplus
}
#endif
#endif
