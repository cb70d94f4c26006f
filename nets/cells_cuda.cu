// CUDA twins of the ops AmoebaNet's cells add (nets/depthwise.c, nets/pool.c's windows with any
// padding and output size, nets/elementwise.c's subsampling and concatenation) on the GPU's NCHW
// maps. Each output is made by one thread in the CPU's order of float operations (products and
// sums rounded one by one, never fused); where the CPU scatters into an input's gradient, the
// twin gathers the same contributions in the CPU's order, so the results are the CPU's bits.
#include <float.h>

#include "nets/bodies.h"
#include "nets/ops_cuda.h"

static unsigned blocks(size_t n) { return (unsigned)((n + 255) / 256); }
static int launched(void) { return cudaGetLastError() == cudaSuccess ? 0 : -1; }
#define IDX size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x

/* ---- depthwise convolution: plane p = sample * c + channel; taps over a zero border */

/* input pixel (y, x) of a plane, 0 in the padding */
static __device__ float at(const float *x, int h, int w, int y, int xx) {
    return y >= 0 && y < h && xx >= 0 && xx < w ? x[(size_t)y * w + xx] : 0.0f;
}

static __global__ void dw_f(float *out, const float *in, const float *weight, size_t planes, db_dw_dims d) {
    IDX;
    const size_t plane = (size_t)d.oh * d.ow;
    if (i >= planes * plane) return;
    const int ox = (int)(i % d.ow), oy = (int)(i / d.ow % d.oh);
    const size_t p = i / plane;
    const float *x = in + p * d.h * d.w, *k = weight + (p % d.c) * d.kh * d.kw;
    float a = 0.0f;
    for (int ky = 0; ky < d.kh; ky++)
        for (int kx = 0; kx < d.kw; kx++)
            a = __fadd_rn(a, __fmul_rn(k[ky * d.kw + kx],
                                       at(x, d.h, d.w, oy * d.stride + ky - d.pad_top, ox * d.stride + kx - d.pad_left)));
    out[i] = a;
}

/* one thread per input pixel: the CPU adds into its padded gradient plane output row by output
 * row, and within a row tap column by tap column */
static __global__ void dw_bx(float *din, const float *dout, const float *weight, size_t planes, db_dw_dims d, int accum) {
    IDX;
    if (i >= planes * d.h * d.w) return;
    const int x = (int)(i % d.w), y = (int)(i / d.w % d.h);
    const size_t p = i / ((size_t)d.h * d.w);
    const int py = y + d.pad_top, px = x + d.pad_left, s = d.stride;
    const float *g = dout + p * d.oh * d.ow, *k = weight + (p % d.c) * d.kh * d.kw;
    float a = 0.0f;
    for (int oy = 0; oy < d.oh; oy++) {
        const int ky = py - oy * s;
        if (ky < 0 || ky >= d.kh) continue;
        for (int kx = 0; kx < d.kw; kx++) {
            const int r = px - kx;
            if (r < 0 || r % s || r / s >= d.ow) continue;
            a = __fadd_rn(a, __fmul_rn(g[(size_t)oy * d.ow + r / s], k[ky * d.kw + kx]));
        }
    }
    din[i] = accum ? __fadd_rn(din[i], a) : a;
}

extern "C" int db_dw_forward_cuda(float *out, const float *in, const float *weight, const db_dw_dims *d, int n,
                                  cudaStream_t st) {
    const size_t planes = (size_t)n * d->c;
    dw_f<<<blocks(planes * d->oh * d->ow), 256, 0, st>>>(out, in, weight, planes, *d);
    return launched();
}

/* The weight gradient in two launches, the CPU's bits: first every (channel, tap, sample, output
 * column)'s float sum over the rows, a thread each; then per (channel, tap) those n * ow terms
 * added to a double in the CPU's order (sample by sample, column by column). One thread per
 * weight doing both took ~1 ms for a 3x3 on 26x26 at batch 128: too few threads, each a long
 * chain. */
static __global__ void dw_bw_columns(float *cols, const float *dout, const float *in, int n, db_dw_dims d) {
    IDX;
    const int taps = d.kh * d.kw;
    const size_t per = (size_t)n * d.ow; /* terms per (channel, tap) */
    if (i >= (size_t)d.c * taps * per) return;
    const size_t row = i / per, k = i % per;
    const int ch = (int)(row / taps), t = (int)(row % taps), ky = t / d.kw, kx = t % d.kw;
    const int j = (int)(k / d.ow), ox = (int)(k % d.ow);
    const size_t p = (size_t)j * d.c + ch;
    const float *g = dout + p * d.oh * d.ow, *x = in + p * d.h * d.w;
    float a = 0.0f;
    for (int oy = 0; oy < d.oh; oy++)
        a = __fadd_rn(a, __fmul_rn(g[(size_t)oy * d.ow + ox],
                                   at(x, d.h, d.w, oy * d.stride + ky - d.pad_top, ox * d.stride + kx - d.pad_left)));
    cols[i] = a;
}

static __global__ void dw_bw_sum(float *dweight, const float *cols, size_t per, int rows) {
    IDX;
    if (i >= (size_t)rows) return;
    const float *c = cols + i * per;
    double dk = 0.0;
    for (size_t k = 0; k < per; k++) dk += c[k];
    dweight[i] = (float)dk;
}

extern "C" size_t db_dw_backward_cuda_scratch(const db_dw_dims *d, int n) {
    return (size_t)d->c * d->kh * d->kw * n * d->ow;
}

extern "C" int db_dw_backward_cuda(float *din, float *dweight, const float *dout, const float *in, const float *weight,
                                   const db_dw_dims *d, int n, int accum, float *scratch, cudaStream_t st) {
    const size_t planes = (size_t)n * d->c;
    const int rows = d->c * d->kh * d->kw;
    if (!scratch) return -1;
    dw_bw_columns<<<blocks(db_dw_backward_cuda_scratch(d, n)), 256, 0, st>>>(scratch, dout, in, n, *d);
    if (launched()) return -1;
    dw_bw_sum<<<(unsigned)((rows + 127) / 128), 128, 0, st>>>(dweight, scratch, (size_t)n * d->ow, rows);
    if (launched()) return -1;
    if (din) dw_bx<<<blocks(planes * d->h * d->w), 256, 0, st>>>(din, dout, weight, planes, *d, accum);
    return launched();
}

/* ---- pooling windows k x k, stride s, `pad` before the first row and column, oh x ow outputs
 * (TensorFlow's SAME: the odd padding pixel past the last); average over the pixels inside */

typedef struct { int h, w, k, s, pad, oh, ow; } window;

static __global__ void pool_f(float *out, const float *in, size_t planes, window g, int max) {
    IDX;
    if (i >= planes * g.oh * g.ow) return;
    const int ox = (int)(i % g.ow), oy = (int)(i / g.ow % g.oh);
    const float *x = in + i / ((size_t)g.oh * g.ow) * g.h * g.w;
    if (max) {
        const int a = db_window_arg_max(x, g.h, g.w, g.k, g.s, g.pad, oy, ox);
        out[i] = a < 0 ? -FLT_MAX : x[a];
        return;
    }
    float s = 0.0f;
    for (int ky = 0; ky < g.k; ky++) {
        const int iy = oy * g.s + ky - g.pad;
        if (iy < 0 || iy >= g.h) continue;
        for (int kx = 0; kx < g.k; kx++) {
            const int ix = ox * g.s + kx - g.pad;
            if (ix >= 0 && ix < g.w) s = __fadd_rn(s, x[iy * g.w + ix]);
        }
    }
    out[i] = __fmul_rn(s, db_window_inside_inv(g.h, g.w, g.k, g.s, g.pad, oy, ox));
}

/* one thread per input pixel: the windows holding it in the CPU's (row, column) order; for max
 * only those whose arg max it is */
static __global__ void pool_b(float *din, const float *dout, const float *in, size_t planes, window g, int max, int accum) {
    IDX;
    if (i >= planes * g.h * g.w) return;
    const int x = (int)(i % g.w), y = (int)(i / g.w % g.h);
    const size_t p = i / ((size_t)g.h * g.w);
    const float *gr = dout + p * g.oh * g.ow, *xp = in + p * g.h * g.w;
    float a = accum ? din[i] : 0.0f;
    /* the windows holding row y: y + pad - k < oy s <= y + pad, ascending (so are columns) */
    const int oy0 = y + g.pad - g.k + 1 > 0 ? (y + g.pad - g.k + g.s) / g.s : 0, oy1 = min(g.oh - 1, (y + g.pad) / g.s);
    const int ox0 = x + g.pad - g.k + 1 > 0 ? (x + g.pad - g.k + g.s) / g.s : 0, ox1 = min(g.ow - 1, (x + g.pad) / g.s);
    for (int oy = oy0; oy <= oy1; oy++) {
        for (int ox = ox0; ox <= ox1; ox++) {
            if (max) {
                if (db_window_arg_max(xp, g.h, g.w, g.k, g.s, g.pad, oy, ox) == y * g.w + x)
                    a = __fadd_rn(a, gr[oy * g.ow + ox]);
            } else {
                a = __fadd_rn(a, __fmul_rn(gr[oy * g.ow + ox], db_window_inside_inv(g.h, g.w, g.k, g.s, g.pad, oy, ox)));
            }
        }
    }
    din[i] = a;
}

extern "C" int db_pool_window_forward_cuda(float *out, const float *in, int max, int planes, int h, int w, int k, int stride,
                                           int pad, int oh, int ow, cudaStream_t st) {
    const window g = {h, w, k, stride, pad, oh, ow};
    pool_f<<<blocks((size_t)planes * oh * ow), 256, 0, st>>>(out, in, (size_t)planes, g, max);
    return launched();
}

extern "C" int db_pool_window_backward_cuda(float *din, const float *dout, const float *in, int max, int planes, int h,
                                            int w, int k, int stride, int pad, int oh, int ow, int accum, cudaStream_t st) {
    const window g = {h, w, k, stride, pad, oh, ow};
    pool_b<<<blocks((size_t)planes * h * w), 256, 0, st>>>(din, dout, in, (size_t)planes, g, max, accum);
    return launched();
}

/* ---- subsampling (pixels (y s + off, x s + off), 0 past the edge) and channel concatenation */

static __global__ void sub_f(float *out, const float *in, size_t planes, int h, int w, int s, int off) {
    IDX;
    const int oh = (h + s - 1) / s, ow = (w + s - 1) / s;
    if (i >= planes * oh * ow) return;
    const int x = (int)(i % ow) * s + off, y = (int)(i / ow % oh) * s + off;
    const size_t p = i / ((size_t)oh * ow);
    out[i] = y < h && x < w ? in[(p * h + y) * w + x] : 0.0f;
}

static __global__ void sub_b(float *din, const float *dout, size_t planes, int h, int w, int s, int off, int accum) {
    IDX;
    if (i >= planes * h * w) return;
    const int oh = (h + s - 1) / s, ow = (w + s - 1) / s, x = (int)(i % w) - off, y = (int)(i / w % h) - off;
    const size_t p = i / ((size_t)h * w);
    const int sampled = x >= 0 && y >= 0 && x % s == 0 && y % s == 0;
    /* as the CPU: zeroed then added to (a -0 gradient lands as +0); with accum, only sampled pixels touched */
    if (sampled) din[i] = __fadd_rn(accum ? din[i] : 0.0f, dout[(p * oh + y / s) * ow + x / s]);
    else if (!accum) din[i] = 0.0f;
}

extern "C" int db_subsample_forward_cuda(float *out, const float *in, int planes, int h, int w, int s, int off,
                                         cudaStream_t st) {
    const size_t len = (size_t)planes * ((h + s - 1) / s) * ((w + s - 1) / s);
    sub_f<<<blocks(len), 256, 0, st>>>(out, in, (size_t)planes, h, w, s, off);
    return launched();
}

extern "C" int db_subsample_backward_cuda(float *din, const float *dout, int planes, int h, int w, int s, int off, int accum,
                                          cudaStream_t st) {
    sub_b<<<blocks((size_t)planes * h * w), 256, 0, st>>>(din, dout, (size_t)planes, h, w, s, off, accum);
    return launched();
}

/* (n, ca + cb, m) from (n, ca, m) and (n, cb, m); backward splits, each part set or added to */
static __global__ void cat_f(float *out, const float *a, const float *b, int ca, int cb, int n, size_t m) {
    IDX;
    const size_t per = (size_t)(ca + cb) * m;
    if (i >= per * n) return;
    const size_t j = i / per, r = i % per, split = (size_t)ca * m;
    out[i] = r < split ? a[j * split + r] : b[j * (size_t)cb * m + r - split];
}

static __global__ void cat_b(float *da, float *db, const float *dout, int ca, int cb, int n, size_t m, int acc_a, int acc_b) {
    IDX;
    const size_t per = (size_t)(ca + cb) * m;
    if (i >= per * n) return;
    const size_t j = i / per, r = i % per, split = (size_t)ca * m;
    float *d = r < split ? (da ? da + j * split + r : NULL) : (db ? db + j * (size_t)cb * m + r - split : NULL);
    if (d) *d = (r < split ? acc_a : acc_b) ? __fadd_rn(*d, dout[i]) : dout[i];
}

extern "C" int db_concat_forward_cuda(float *out, const float *a, const float *b, int ca, int cb, int n, size_t m,
                                      cudaStream_t st) {
    cat_f<<<blocks((size_t)(ca + cb) * m * n), 256, 0, st>>>(out, a, b, ca, cb, n, m);
    return launched();
}

extern "C" int db_concat_backward_cuda(float *da, float *db, const float *dout, int ca, int cb, int n, size_t m,
                                       int accum_a, int accum_b, cudaStream_t st) {
    cat_b<<<blocks((size_t)(ca + cb) * m * n), 256, 0, st>>>(da, db, dout, ca, cb, n, m, accum_a, accum_b);
    return launched();
}

/* ---- an explicit zero border (TensorFlow's SAME convolutions that pad more below or right than
 * above or left, which cuDNN's descriptors cannot say): out (planes, oh, ow) holds in (planes, h,
 * w) from row top, column left on; the backward takes the gradient of the part that is in */

static __global__ void pad_f(float *out, const float *in, size_t planes, int h, int w, int top, int left, int oh, int ow) {
    IDX;
    if (i >= planes * oh * ow) return;
    const int x = (int)(i % ow) - left, y = (int)(i / ow % oh) - top;
    const size_t p = i / ((size_t)oh * ow);
    out[i] = y >= 0 && y < h && x >= 0 && x < w ? in[(p * h + y) * w + x] : 0.0f;
}

static __global__ void pad_b(float *din, const float *dout, size_t planes, int h, int w, int top, int left, int oh, int ow,
                             int accum) {
    IDX;
    if (i >= planes * h * w) return;
    const int x = (int)(i % w) + left, y = (int)(i / w % h) + top;
    const size_t p = i / ((size_t)h * w);
    const float g = y < oh && x < ow ? dout[(p * oh + y) * ow + x] : 0.0f;
    din[i] = accum ? __fadd_rn(din[i], g) : g;
}

extern "C" int db_pad_forward_cuda(float *out, const float *in, int planes, int h, int w, int top, int left, int oh, int ow,
                                   cudaStream_t st) {
    pad_f<<<blocks((size_t)planes * oh * ow), 256, 0, st>>>(out, in, (size_t)planes, h, w, top, left, oh, ow);
    return launched();
}

extern "C" int db_pad_backward_cuda(float *din, const float *dout, int planes, int h, int w, int top, int left, int oh, int ow,
                                    int accum, cudaStream_t st) {
    pad_b<<<blocks((size_t)planes * h * w), 256, 0, st>>>(din, dout, (size_t)planes, h, w, top, left, oh, ow, accum);
    return launched();
}
