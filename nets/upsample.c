/* Nearest-neighbour upsampling (the detection FPN's top-down path), bilinear resizing with
 * aligned corners (the segmentation network's) and a per-channel bias (the heads' last
 * convolutions), over CNHW planes. */
#include "nets/ops.h"

#include "nets/bodies.h"

#include <string.h>

void db_upsample_forward(float *out, const float *in, int planes, int h, int w, int s) {
    const int ow = w * s;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++)
        for (int y = 0; y < h * s; y++) {
            const float *src = in + ((size_t)p * h + y / s) * w;
            float *dst = out + ((size_t)p * h * s + y) * ow;
            for (int x = 0; x < ow; x++) dst[x] = src[x / s];
        }
}

void db_upsample_backward(float *din, const float *dout, int planes, int h, int w, int s, int accum) {
    const int ow = w * s;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float a = 0.0f; /* the s x s block's gradients, row by row */
                for (int dy = 0; dy < s; dy++)
                    for (int dx = 0; dx < s; dx++) a += dout[((size_t)p * h * s + (size_t)y * s + dy) * ow + x * s + dx];
                float *d = din + ((size_t)p * h + y) * w + x;
                *d = accum ? *d + a : a;
            }
}

/* Source position of output index i and its two neighbours' weights */
typedef struct { int i0, i1; float w0, w1; } tap2;

static void taps_of(tap2 *t, int in, int out) {
    for (int i = 0; i < out; i++) db_resize_tap(i, in, out, &t[i].i0, &t[i].i1, &t[i].w0, &t[i].w1);
}

void db_resize_forward(float *out, const float *in, int planes, int h, int w, int oh, int ow) {
    tap2 ty[DB_RESIZE_MAX], tx[DB_RESIZE_MAX]; /* the graph keeps sides within DB_RESIZE_MAX */
    taps_of(ty, h, oh);
    taps_of(tx, w, ow);
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *src = in + (size_t)p * h * w;
        for (int y = 0; y < oh; y++) {
            const float *r0 = src + (size_t)ty[y].i0 * w, *r1 = src + (size_t)ty[y].i1 * w;
            float *dst = out + ((size_t)p * oh + y) * ow;
            for (int x = 0; x < ow; x++) {
                const tap2 t = tx[x];
                const float a = t.w0 * r0[t.i0] + t.w1 * r0[t.i1], b = t.w0 * r1[t.i0] + t.w1 * r1[t.i1];
                dst[x] = ty[y].w0 * a + ty[y].w1 * b;
            }
        }
    }
}

void db_resize_backward(float *din, const float *dout, int planes, int h, int w, int oh, int ow, int accum) {
    tap2 ty[DB_RESIZE_MAX], tx[DB_RESIZE_MAX]; /* the graph keeps sides within DB_RESIZE_MAX */
    taps_of(ty, h, oh);
    taps_of(tx, w, ow);
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        float *d = din + (size_t)p * h * w;
        if (!accum) memset(d, 0, sizeof(float) * (size_t)h * w);
        for (int y = 0; y < oh; y++) {
            float *r0 = d + (size_t)ty[y].i0 * w, *r1 = d + (size_t)ty[y].i1 * w;
            const float *g = dout + ((size_t)p * oh + y) * ow;
            for (int x = 0; x < ow; x++) {
                const tap2 t = tx[x];
                const float g0 = ty[y].w0 * g[x], g1 = ty[y].w1 * g[x];
                r0[t.i0] += t.w0 * g0, r0[t.i1] += t.w1 * g0;
                r1[t.i0] += t.w0 * g1, r1[t.i1] += t.w1 * g1;
            }
        }
    }
}

void db_bias_forward(float *out, const float *in, const float *bias, int c, size_t m) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (size_t i = 0; i < m; i++) out[(size_t)ch * m + i] = in[(size_t)ch * m + i] + bias[ch];
}

void db_bias_backward(float *din, float *dbias, const float *dout, int c, size_t m, int accum) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *d = dout + (size_t)ch * m;
        double s = 0.0;
        for (size_t i = 0; i < m; i++) s += d[i];
        dbias[ch] = (float)s;
    }
    if (din) db_pass_backward(din, dout, (size_t)c * m, accum);
}
