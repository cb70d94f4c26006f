// CUDA twins of the CPU's element-wise ops, pools without cuDNN, the loss and the accuracy count
// (nets/ops_cuda.h), on the GPU's layouts (NCHW maps, feature-major vectors). Each thread does
// what one iteration of the CPU loop does, in the same order and precision, so the results are
// the CPU's bits (the loss's exp and log excepted).
#include "nets/bodies.h"
#include "nets/ops_cuda.h"

static unsigned blocks(size_t n) { return (unsigned)((n + 255) / 256); }
static int launched(void) { return cudaGetLastError() == cudaSuccess ? 0 : -1; }
#define IDX size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x

static __global__ void relu_f(float *out, const float *in, size_t len) { IDX; if (i < len) out[i] = in[i] > 0.0f ? in[i] : 0.0f; }
static __global__ void relu_b(float *din, const float *dout, const float *out, size_t len, int accum) {
    IDX;
    if (i >= len) return;
    float g = out[i] > 0.0f ? dout[i] : 0.0f;
    din[i] = accum ? din[i] + g : g;
}
static __global__ void add_f(float *out, const float *a, const float *b, size_t len) { IDX; if (i < len) out[i] = a[i] + b[i]; }
static __global__ void pass_b(float *din, const float *dout, size_t len, int accum) { IDX; if (i < len) din[i] = accum ? din[i] + dout[i] : dout[i]; }

extern "C" int db_relu_forward_cuda(float *out, const float *in, size_t len, cudaStream_t s) {
    relu_f<<<blocks(len), 256, 0, s>>>(out, in, len);
    return launched();
}
extern "C" int db_relu_backward_cuda(float *din, const float *dout, const float *out, size_t len, int accum, cudaStream_t s) {
    relu_b<<<blocks(len), 256, 0, s>>>(din, dout, out, len, accum);
    return launched();
}
extern "C" int db_add_forward_cuda(float *out, const float *a, const float *b, size_t len, cudaStream_t s) {
    add_f<<<blocks(len), 256, 0, s>>>(out, a, b, len);
    return launched();
}
extern "C" int db_pass_backward_cuda(float *din, const float *dout, size_t len, int accum, cudaStream_t s) {
    pass_b<<<blocks(len), 256, 0, s>>>(din, dout, len, accum);
    return launched();
}

/* one thread per output element (j, c, y, x) of the NCHW output; channels past cin are zero */
static __global__ void shortcut_f(float *out, const float *in, int cin, int cout, int n, int h, int w, int stride, int oh, int ow) {
    IDX;
    size_t len = (size_t)cout * n * oh * ow;
    if (i >= len) return;
    int x = (int)(i % ow), y = (int)(i / ow % oh), c = (int)(i / ((size_t)ow * oh) % cout), j = (int)(i / ((size_t)ow * oh * cout));
    out[i] = c >= cin ? 0.0f : in[(((size_t)j * cin + c) * h + (size_t)y * stride) * w + (size_t)x * stride];
}
/* one thread per input element: the gradient lands on the subsampled positions, zero elsewhere */
static __global__ void shortcut_b(float *din, const float *dout, int cin, int cout, int n, int h, int w, int stride, int oh,
                                  int ow, int accum) {
    IDX;
    size_t len = (size_t)cin * n * h * w;
    if (i >= len) return;
    int x = (int)(i % w), y = (int)(i / w % h), c = (int)(i / ((size_t)w * h) % cin), j = (int)(i / ((size_t)w * h * cin));
    float g = 0.0f;
    if (x % stride == 0 && y % stride == 0 && y / stride < oh && x / stride < ow)
        g = dout[(((size_t)j * cout + c) * oh + y / stride) * ow + x / stride];
    din[i] = accum ? din[i] + g : g;
}

extern "C" int db_shortcut_a_forward_cuda(float *out, const float *in, int cin, int cout, int n, int h, int w, int stride,
                                          int oh, int ow, cudaStream_t s) {
    shortcut_f<<<blocks((size_t)cout * n * oh * ow), 256, 0, s>>>(out, in, cin, cout, n, h, w, stride, oh, ow);
    return launched();
}
extern "C" int db_shortcut_a_backward_cuda(float *din, const float *dout, int cin, int cout, int n, int h, int w, int stride,
                                           int oh, int ow, int accum, cudaStream_t s) {
    shortcut_b<<<blocks((size_t)cin * n * h * w), 256, 0, s>>>(din, dout, cin, cout, n, h, w, stride, oh, ow, accum);
    return launched();
}

/* the NCHW maps' plane (j, c) to the feature-major output (c, j) */
static __global__ void gap_f(float *out, const float *in, int c, int n, int hw) {
    IDX;
    if (i >= (size_t)c * n) return;
    size_t j = i / c, ch = i % c;
    out[ch * n + j] = db_plane_mean(in + i * hw, hw);
}
static __global__ void gap_b(float *din, const float *dout, int c, int n, int hw, int accum) {
    IDX;
    if (i >= (size_t)c * n * hw) return;
    size_t plane = i / hw, j = plane / c, ch = plane % c;
    float v = dout[ch * n + j] / (float)hw;
    din[i] = (accum ? din[i] : 0.0f) + v;
}

extern "C" int db_gap_forward_cuda(float *out, const float *in, int c, int n, int hw, cudaStream_t s) {
    gap_f<<<blocks((size_t)c * n), 256, 0, s>>>(out, in, c, n, hw);
    return launched();
}
extern "C" int db_gap_backward_cuda(float *din, const float *dout, int c, int n, int hw, int accum, cudaStream_t s) {
    gap_b<<<blocks((size_t)c * n * hw), 256, 0, s>>>(din, dout, c, n, hw, accum);
    return launched();
}

/* one thread per NCHW element, read from its CNHW place */
static __global__ void to_nchw(float *dst, const float *src, int c, int n, size_t hw) {
    IDX;
    if (i >= (size_t)c * n * hw) return;
    size_t s = i % hw, plane = i / hw, j = plane / c, ch = plane % c;
    dst[i] = src[(ch * n + j) * hw + s];
}

extern "C" int db_cnhw_to_nchw_cuda(float *dst, const float *src, int c, int n, size_t hw, cudaStream_t s) {
    to_nchw<<<blocks((size_t)c * n * hw), 256, 0, s>>>(dst, src, c, n, hw);
    return launched();
}

/* one thread per sample, the CPU's loop body; per-sample losses summed in order afterwards */
static __global__ void xent(double *per, float *dlogits, const float *logits, const int *labels, int k, int n, float smoothing) {
    IDX;
    if (i < (size_t)n) per[i] = db_xent_sample(dlogits, logits, labels[i], k, n, (int)i, smoothing);
}
static __global__ void mean_in_order(double *out, const double *per, int n) {
    double total = 0.0;
    for (int j = 0; j < n; j++) total += per[j];
    *out = total / n;
}

extern "C" int db_softmax_xent_cuda(double *loss, float *dlogits, const float *logits, const int *labels, int k, int n,
                                    float smoothing, double *scratch, cudaStream_t s) {
    xent<<<blocks((size_t)n), 256, 0, s>>>(scratch, dlogits, logits, labels, k, n, smoothing);
    mean_in_order<<<1, 1, 0, s>>>(loss, scratch, n);
    return launched();
}

static __global__ void topk(int *counts, const float *logits, const int *labels, int k, int n) {
    IDX;
    if (i >= (size_t)n) return;
    int rank = db_label_rank(logits, labels[i], k, n, (int)i);
    if (rank == 0) atomicAdd(&counts[0], 1); /* integer counts: the order does not matter */
    if (rank >= 0 && rank < 5) atomicAdd(&counts[1], 1);
}

extern "C" int db_topk_correct_cuda(int *counts, const float *logits, const int *labels, int k, int n, cudaStream_t s) {
    if (cudaMemsetAsync(counts, 0, 2 * sizeof(int), s) != cudaSuccess) return -1;
    topk<<<blocks((size_t)n), 256, 0, s>>>(counts, logits, labels, k, n);
    return launched();
}
