// CUDA twins of nets/upsample.c on the GPU's NCHW maps: nearest upsampling, the channel bias and
// bilinear resizing with aligned corners, forward and backward. Each follows the CPU's order of
// float operations (products and sums rounded one by one, never fused), so the results are the
// CPU's bits: the bilinear backward gathers, per input pixel, the contributions the CPU scatters,
// in the CPU's order.
#include "nets/bodies.h"
#include "nets/ops_cuda.h"

static unsigned blocks(size_t n) { return (unsigned)((n + 255) / 256); }
static int launched(void) { return cudaGetLastError() == cudaSuccess ? 0 : -1; }
#define IDX size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x

/* planes of h x w -> h*s x w*s; one thread per output element */
static __global__ void up_f(float *out, const float *in, size_t planes, int h, int w, int s) {
    IDX;
    const size_t ow = (size_t)w * s, len = planes * h * s * ow;
    if (i >= len) return;
    const size_t x = i % ow, y = i / ow % ((size_t)h * s), p = i / (ow * h * s);
    out[i] = in[(p * h + y / s) * w + x / s];
}
/* one thread per input element: its s x s block's gradients, row by row as the CPU */
static __global__ void up_b(float *din, const float *dout, size_t planes, int h, int w, int s, int accum) {
    IDX;
    if (i >= planes * h * w) return;
    const size_t x = i % w, y = i / w % h, p = i / ((size_t)w * h), ow = (size_t)w * s;
    float a = 0.0f;
    for (int dy = 0; dy < s; dy++)
        for (int dx = 0; dx < s; dx++) a = __fadd_rn(a, dout[(p * h * s + y * s + dy) * ow + x * s + dx]);
    din[i] = accum ? __fadd_rn(din[i], a) : a;
}

extern "C" int db_upsample_forward_cuda(float *out, const float *in, int planes, int h, int w, int s, cudaStream_t st) {
    up_f<<<blocks((size_t)planes * h * s * w * s), 256, 0, st>>>(out, in, (size_t)planes, h, w, s);
    return launched();
}
extern "C" int db_upsample_backward_cuda(float *din, const float *dout, int planes, int h, int w, int s, int accum,
                                         cudaStream_t st) {
    up_b<<<blocks((size_t)planes * h * w), 256, 0, st>>>(din, dout, (size_t)planes, h, w, s, accum);
    return launched();
}

/* NCHW (n, c, m): out = in + bias[channel] */
static __global__ void bias_f(float *out, const float *in, const float *bias, int c, int n, size_t m) {
    IDX;
    if (i >= (size_t)c * n * m) return;
    out[i] = __fadd_rn(in[i], bias[i / m % c]);
}
/* one thread per channel: the CPU's double sum over its (sample, position) values in CNHW order */
static __global__ void bias_b(float *dbias, const float *dout, int c, int n, size_t m) {
    IDX;
    if (i >= (size_t)c) return;
    double s = 0.0;
    for (int j = 0; j < n; j++) {
        const float *d = dout + ((size_t)j * c + i) * m;
        for (size_t k = 0; k < m; k++) s += d[k];
    }
    dbias[i] = (float)s;
}

extern "C" int db_bias_forward_cuda(float *out, const float *in, const float *bias, int c, int n, size_t m, cudaStream_t st) {
    bias_f<<<blocks((size_t)c * n * m), 256, 0, st>>>(out, in, bias, c, n, m);
    return launched();
}
extern "C" int db_bias_backward_cuda(float *din, float *dbias, const float *dout, int c, int n, size_t m, int accum,
                                     cudaStream_t st) {
    bias_b<<<blocks((size_t)c), 256, 0, st>>>(dbias, dout, c, n, m);
    if (launched()) return -1;
    return din ? db_pass_backward_cuda(din, dout, (size_t)c * n * m, accum, st) : 0;
}

/* planes of h x w -> oh x ow; one thread per output element, the CPU's expression */
static __global__ void resize_f(float *out, const float *in, size_t planes, int h, int w, int oh, int ow) {
    IDX;
    if (i >= planes * oh * ow) return;
    const int x = (int)(i % ow), y = (int)(i / ow % oh);
    const size_t p = i / ((size_t)ow * oh);
    int y0, y1, x0, x1;
    float wy0, wy1, wx0, wx1;
    db_resize_tap(y, h, oh, &y0, &y1, &wy0, &wy1);
    db_resize_tap(x, w, ow, &x0, &x1, &wx0, &wx1);
    const float *r0 = in + (p * h + y0) * w, *r1 = in + (p * h + y1) * w;
    const float a = __fadd_rn(__fmul_rn(wx0, r0[x0]), __fmul_rn(wx1, r0[x1]));
    const float b = __fadd_rn(__fmul_rn(wx0, r1[x0]), __fmul_rn(wx1, r1[x1]));
    out[i] = __fadd_rn(__fmul_rn(wy0, a), __fmul_rn(wy1, b));
}

/* The output indices whose taps may touch input index v (a superset, checked exactly after) */
static __device__ void touching(int v, int in, int out, int *lo, int *hi) {
    if (out == 1 || in == 1) { *lo = 0, *hi = out - 1; return; }
    const double scale = (double)(in - 1) / (out - 1);
    *lo = (int)floor((v - 1) / scale) - 1, *hi = (int)ceil((v + 1) / scale) + 1;
    if (*lo < 0) *lo = 0;
    if (*hi > out - 1) *hi = out - 1;
}

/* one thread per input element: the contributions the CPU's loop adds to it, in its order
 * (output rows, then columns, then the four taps r0 i0, r0 i1, r1 i0, r1 i1) */
static __global__ void resize_b(float *din, const float *dout, size_t planes, int h, int w, int oh, int ow, int accum) {
    IDX;
    if (i >= planes * h * w) return;
    const int ix = (int)(i % w), iy = (int)(i / w % h);
    const size_t p = i / ((size_t)w * h);
    float acc = accum ? din[i] : 0.0f;
    int ylo, yhi, xlo, xhi;
    touching(iy, h, oh, &ylo, &yhi);
    touching(ix, w, ow, &xlo, &xhi);
    for (int y = ylo; y <= yhi; y++) {
        int y0, y1, x0, x1;
        float wy0, wy1, wx0, wx1;
        db_resize_tap(y, h, oh, &y0, &y1, &wy0, &wy1);
        if (y0 != iy && y1 != iy) continue;
        const float *g = dout + (p * oh + y) * ow;
        for (int x = xlo; x <= xhi; x++) {
            db_resize_tap(x, w, ow, &x0, &x1, &wx0, &wx1);
            if (x0 != ix && x1 != ix) continue;
            const float g0 = __fmul_rn(wy0, g[x]), g1 = __fmul_rn(wy1, g[x]);
            if (y0 == iy && x0 == ix) acc = __fadd_rn(acc, __fmul_rn(wx0, g0));
            if (y0 == iy && x1 == ix) acc = __fadd_rn(acc, __fmul_rn(wx1, g0));
            if (y1 == iy && x0 == ix) acc = __fadd_rn(acc, __fmul_rn(wx0, g1));
            if (y1 == iy && x1 == ix) acc = __fadd_rn(acc, __fmul_rn(wx1, g1));
        }
    }
    din[i] = acc;
}

extern "C" int db_resize_forward_cuda(float *out, const float *in, int planes, int h, int w, int oh, int ow, cudaStream_t st) {
    resize_f<<<blocks((size_t)planes * oh * ow), 256, 0, st>>>(out, in, (size_t)planes, h, w, oh, ow);
    return launched();
}
extern "C" int db_resize_backward_cuda(float *din, const float *dout, int planes, int h, int w, int oh, int ow, int accum,
                                       cudaStream_t st) {
    resize_b<<<blocks((size_t)planes * h * w), 256, 0, st>>>(din, dout, (size_t)planes, h, w, oh, ow, accum);
    return launched();
}
