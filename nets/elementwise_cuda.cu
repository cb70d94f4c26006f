// CUDA twins of the CPU's element-wise ops, pools without cuDNN, the loss and the accuracy count
// (nets/ops_cuda.h), on the GPU's layouts (NCHW maps, feature-major vectors). Each thread does
// what one iteration of the CPU loop does, in the same order and precision, so the results are
// the CPU's bits (the loss's exp and log excepted). Also the bfloat16 casts around --precision
// bf16's convolutions, plain or transposing to and from channels-last through tiles in shared
// memory (no CPU loop to mirror: checked against the plain casts).
#include <cuda_bf16.h>

#include "nets/bodies.h"
#include "nets/ops_cuda.h"

static unsigned blocks(size_t n) { return (unsigned)((n + 255) / 256); }
static int launched(void) { return cudaGetLastError() == cudaSuccess ? 0 : -1; }
#define IDX size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x

/* The element-wise ops one float4 per thread where every pointer is 16-byte aligned (the arenas'
 * tensors are), one float per thread otherwise; each element's arithmetic is the CPU loop's. An
 * op is a functor with the element's body at index i. */
static bool aligned4(const void *p) { return ((uintptr_t)p & 15) == 0; }

template <typename Op>
static __global__ void each_scalar(Op op, size_t len) { IDX; if (i < len) op(i); }

template <typename Op>
static __global__ void each_vec4(Op op, size_t len) {
    IDX;
    const size_t n4 = len / 4;
    if (i < n4) op.v4(i);
    if (i < len - 4 * n4) op(4 * n4 + i); /* the last len % 4 elements */
}

template <typename Op>
static int launch_each(Op op, size_t len, bool vec, cudaStream_t s) {
    if (!len) return 0;
    if (vec) {
        const size_t n4 = len / 4;
        each_vec4<<<blocks(n4 ? n4 : 1), 256, 0, s>>>(op, len);
    } else {
        each_scalar<<<blocks(len), 256, 0, s>>>(op, len);
    }
    return launched();
}

static __device__ float4 ld4(const float *p, size_t i) { return reinterpret_cast<const float4 *>(p)[i]; }
static __device__ void st4(float *p, size_t i, float4 v) { reinterpret_cast<float4 *>(p)[i] = v; }
static __device__ float relu1(float x) { return x > 0.0f ? x : 0.0f; }
static __device__ float mask1(float y, float g) { return y > 0.0f ? g : 0.0f; }
/* the same per component */
static __device__ float4 mask4(float4 y, float4 g) { return make_float4(mask1(y.x, g.x), mask1(y.y, g.y), mask1(y.z, g.z), mask1(y.w, g.w)); }
static __device__ float4 add4(float4 a, float4 b) { return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w); }
/* g set into p[i] (float4 i), or added to what is there */
static __device__ void put4(float *p, size_t i, float4 g, int accum) { st4(p, i, accum ? add4(ld4(p, i), g) : g); }

struct relu_f {
    float *out; const float *in;
    __device__ void operator()(size_t i) const { out[i] = relu1(in[i]); }
    __device__ void v4(size_t i) const { float4 a = ld4(in, i); st4(out, i, make_float4(relu1(a.x), relu1(a.y), relu1(a.z), relu1(a.w))); }
};
struct relu_b {
    float *din; const float *dout, *out; int accum;
    __device__ void operator()(size_t i) const { float g = mask1(out[i], dout[i]); din[i] = accum ? din[i] + g : g; }
    __device__ void v4(size_t i) const { put4(din, i, mask4(ld4(out, i), ld4(dout, i)), accum); }
};
/* relu: 0 for the plain sum, 1 for the ReLU of the sum (an add whose only reader is a ReLU) */
struct add_f {
    float *out; const float *a, *b; int relu;
    __device__ float f(float x, float y) const { float s = x + y; return relu ? relu1(s) : s; }
    __device__ void operator()(size_t i) const { out[i] = f(a[i], b[i]); }
    __device__ void v4(size_t i) const {
        float4 x = ld4(a, i), y = ld4(b, i);
        st4(out, i, make_float4(f(x.x, y.x), f(x.y, y.y), f(x.z, y.z), f(x.w, y.w)));
    }
};
struct pass_b {
    float *din; const float *dout; int accum;
    __device__ void operator()(size_t i) const { din[i] = accum ? din[i] + dout[i] : dout[i]; }
    __device__ void v4(size_t i) const { put4(din, i, ld4(dout, i), accum); }
};
/* the backward of relu(a + b): the ReLU's gradient g set into g_sum (the sum's gradient, which
 * a's may share) and set or added into db */
struct add_relu_b {
    float *g_sum, *db; const float *dout, *out; int accum;
    __device__ void operator()(size_t i) const { float g = mask1(out[i], dout[i]); g_sum[i] = g; db[i] = accum ? db[i] + g : g; }
    __device__ void v4(size_t i) const {
        const float4 g = mask4(ld4(out, i), ld4(dout, i));
        st4(g_sum, i, g);
        put4(db, i, g, accum);
    }
};

struct scale_f {
    float *x; float a;
    __device__ void operator()(size_t i) const { x[i] = x[i] * a; }
    __device__ void v4(size_t i) const { float4 v = ld4(x, i); st4(x, i, make_float4(v.x * a, v.y * a, v.z * a, v.w * a)); }
};

extern "C" int db_scale_cuda(float *x, float a, size_t n, cudaStream_t s) { return launch_each(scale_f{x, a}, n, aligned4(x), s); }

/* bfloat16 casts, a thread per value (memory-bound; the convolutions they surround are not) */
static __global__ void to_bf16_k(__nv_bfloat16 *dst, const float *src, size_t n) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __float2bfloat16_rn(src[i]);
}
static __global__ void from_bf16_k(float *dst, const __nv_bfloat16 *src, size_t n, int accum) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float v = __bfloat162float(src[i]);
        dst[i] = accum ? __fadd_rn(dst[i], v) : v;
    }
}
static unsigned cast_blocks(size_t n) {
    const size_t b = (n + 255) / 256;
    return (unsigned)(b < 65536 ? (b ? b : 1) : 65536);
}
extern "C" int db_to_bf16_cuda(uint16_t *dst, const float *src, size_t n, cudaStream_t s) {
    to_bf16_k<<<cast_blocks(n), 256, 0, s>>>((__nv_bfloat16 *)dst, src, n);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
extern "C" int db_from_bf16_cuda(float *dst, const uint16_t *src, size_t n, int accum, cudaStream_t s) {
    from_bf16_k<<<cast_blocks(n), 256, 0, s>>>(dst, (const __nv_bfloat16 *)src, n, accum);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
/* The same casts with a transpose between NCHW floats and channels-last (NHWC) bfloat16: per
 * block b of n, c rows of hw values one way, hw rows of c values the other, through a 32x32 tile
 * in shared memory so that both sides are read and written along rows */
enum { TILE = 32, TILE_ROWS = 8 };
static __global__ void to_bf16_nhwc_k(__nv_bfloat16 *dst, const float *src, int c, size_t hw) {
    __shared__ float tile[TILE][TILE + 1];
    const size_t base = (size_t)blockIdx.z * c * hw, p0 = (size_t)blockIdx.x * TILE;
    const int c0 = blockIdx.y * TILE;
    for (int j = threadIdx.y; j < TILE; j += TILE_ROWS) { // channel c0 + j, pixel p0 + x
        const int ch = c0 + j;
        const size_t p = p0 + threadIdx.x;
        if (ch < c && p < hw) tile[j][threadIdx.x] = src[base + (size_t)ch * hw + p];
    }
    __syncthreads();
    for (int j = threadIdx.y; j < TILE; j += TILE_ROWS) { // pixel p0 + j, channel c0 + x
        const int ch = c0 + threadIdx.x;
        const size_t p = p0 + j;
        if (ch < c && p < hw) dst[base + p * c + ch] = __float2bfloat16_rn(tile[threadIdx.x][j]);
    }
}
static __global__ void from_bf16_nhwc_k(float *dst, const __nv_bfloat16 *src, int c, size_t hw, int accum) {
    __shared__ float tile[TILE][TILE + 1];
    const size_t base = (size_t)blockIdx.z * c * hw, p0 = (size_t)blockIdx.x * TILE;
    const int c0 = blockIdx.y * TILE;
    for (int j = threadIdx.y; j < TILE; j += TILE_ROWS) { // pixel p0 + j, channel c0 + x
        const int ch = c0 + threadIdx.x;
        const size_t p = p0 + j;
        if (ch < c && p < hw) tile[j][threadIdx.x] = __bfloat162float(src[base + p * c + ch]);
    }
    __syncthreads();
    for (int j = threadIdx.y; j < TILE; j += TILE_ROWS) { // channel c0 + j, pixel p0 + x
        const int ch = c0 + j;
        const size_t p = p0 + threadIdx.x, at = base + (size_t)ch * hw + p;
        if (ch < c && p < hw) dst[at] = accum ? __fadd_rn(dst[at], tile[threadIdx.x][j]) : tile[threadIdx.x][j];
    }
}
/* n blocks as grids of at most 65535 in z (a batch of more samples takes several launches) */
enum { Z_MAX = 65535 };
static dim3 nhwc_grid(int n, int c, size_t hw) {
    return dim3((unsigned)((hw + TILE - 1) / TILE), (unsigned)((c + TILE - 1) / TILE), (unsigned)(n < Z_MAX ? n : Z_MAX));
}
extern "C" int db_to_bf16_nhwc_cuda(uint16_t *dst, const float *src, int n, int c, size_t hw, cudaStream_t s) {
    if (c == 1 || hw == 1) return db_to_bf16_cuda(dst, src, (size_t)n * c * hw, s); // the same order both ways
    for (int b = 0; b < n; b += Z_MAX) {
        const size_t at = (size_t)b * c * hw;
        to_bf16_nhwc_k<<<nhwc_grid(n - b, c, hw), dim3(TILE, TILE_ROWS), 0, s>>>((__nv_bfloat16 *)dst + at, src + at, c, hw);
    }
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
extern "C" int db_from_bf16_nhwc_cuda(float *dst, const uint16_t *src, int n, int c, size_t hw, int accum, cudaStream_t s) {
    if (c == 1 || hw == 1) return db_from_bf16_cuda(dst, src, (size_t)n * c * hw, accum, s);
    for (int b = 0; b < n; b += Z_MAX) {
        const size_t at = (size_t)b * c * hw;
        from_bf16_nhwc_k<<<nhwc_grid(n - b, c, hw), dim3(TILE, TILE_ROWS), 0, s>>>(dst + at, (const __nv_bfloat16 *)src + at, c,
                                                                                  hw, accum);
    }
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
extern "C" int db_relu_forward_cuda(float *out, const float *in, size_t len, cudaStream_t s) {
    return launch_each(relu_f{out, in}, len, aligned4(out) && aligned4(in), s);
}
extern "C" int db_relu_backward_cuda(float *din, const float *dout, const float *out, size_t len, int accum, cudaStream_t s) {
    return launch_each(relu_b{din, dout, out, accum}, len, aligned4(din) && aligned4(dout) && aligned4(out), s);
}
extern "C" int db_add_forward_cuda(float *out, const float *a, const float *b, size_t len, cudaStream_t s) {
    return launch_each(add_f{out, a, b, 0}, len, aligned4(out) && aligned4(a) && aligned4(b), s);
}
extern "C" int db_add_relu_forward_cuda(float *out, const float *a, const float *b, size_t len, cudaStream_t s) {
    return launch_each(add_f{out, a, b, 1}, len, aligned4(out) && aligned4(a) && aligned4(b), s);
}
extern "C" int db_pass_backward_cuda(float *din, const float *dout, size_t len, int accum, cudaStream_t s) {
    return launch_each(pass_b{din, dout, accum}, len, aligned4(din) && aligned4(dout), s);
}
extern "C" int db_add_relu_backward_cuda(float *g_sum, float *db, const float *dout, const float *out, size_t len, int accum,
                                         cudaStream_t s) {
    return launch_each(add_relu_b{g_sum, db, dout, out, accum}, len,
                       aligned4(g_sum) && aligned4(db) && aligned4(dout) && aligned4(out), s);
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
