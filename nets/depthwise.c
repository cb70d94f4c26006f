/* Depthwise convolution on CNHW maps (nets/ops.h): one channel's batch is contiguous, so each
 * channel is an independent job; every sum is made in one fixed order, whatever the threads. */
#include <string.h>

#include "nets/ops.h"

static int same_out(int in, int s) { return (in + s - 1) / s; }

void db_dw_dims_same(db_dw_dims *d, int c, int kh, int kw, int stride, int h, int w) {
    d->c = c, d->kh = kh, d->kw = kw, d->stride = stride, d->h = h, d->w = w;
    d->oh = same_out(h, stride), d->ow = same_out(w, stride);
    const int ph = (d->oh - 1) * stride + kh - h, pw = (d->ow - 1) * stride + kw - w;
    d->pad_top = ph > 0 ? ph / 2 : 0, d->pad_left = pw > 0 ? pw / 2 : 0;
}

void db_dw_forward(float *out, const float *in, const float *weight, const db_dw_dims *d, int n) {
    const int H = d->h, W = d->w, OH = d->oh, OW = d->ow, s = d->stride;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < d->c; ch++) {
        const float *k = weight + (size_t)ch * d->kh * d->kw;
        for (int j = 0; j < n; j++) {
            const float *x = in + ((size_t)ch * n + j) * H * W;
            float *y = out + ((size_t)ch * n + j) * OH * OW;
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    float a = 0.0f;
                    for (int ky = 0; ky < d->kh; ky++) {
                        const int iy = oy * s - d->pad_top + ky;
                        if (iy < 0 || iy >= H) continue;
                        for (int kx = 0; kx < d->kw; kx++) {
                            const int ix = ox * s - d->pad_left + kx;
                            if (ix >= 0 && ix < W) a += k[ky * d->kw + kx] * x[(size_t)iy * W + ix];
                        }
                    }
                    y[(size_t)oy * OW + ox] = a;
                }
        }
    }
}

void db_dw_backward(float *din, float *dweight, const float *dout, const float *in, const float *weight,
                    const db_dw_dims *d, int n, int accum) {
    const int H = d->h, W = d->w, OH = d->oh, OW = d->ow, s = d->stride, K = d->kh * d->kw;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < d->c; ch++) {
        const float *k = weight + (size_t)ch * K;
        float *dk = dweight + (size_t)ch * K;
        for (int t = 0; t < K; t++) {
            const int ky = t / d->kw, kx = t % d->kw;
            double a = 0.0; /* n * oh * ow products: summed in double, in order */
            for (int j = 0; j < n; j++) {
                const float *x = in + ((size_t)ch * n + j) * H * W, *g = dout + ((size_t)ch * n + j) * OH * OW;
                for (int oy = 0; oy < OH; oy++) {
                    const int iy = oy * s - d->pad_top + ky;
                    if (iy < 0 || iy >= H) continue;
                    for (int ox = 0; ox < OW; ox++) {
                        const int ix = ox * s - d->pad_left + kx;
                        if (ix >= 0 && ix < W) a += (double)g[(size_t)oy * OW + ox] * x[(size_t)iy * W + ix];
                    }
                }
            }
            dk[t] = (float)a;
        }
        if (!din) continue;
        for (int j = 0; j < n; j++) {
            float *dx = din + ((size_t)ch * n + j) * H * W;
            const float *g = dout + ((size_t)ch * n + j) * OH * OW;
            if (!accum) memset(dx, 0, sizeof(float) * (size_t)H * W);
            for (int oy = 0; oy < OH; oy++) /* scattered in output order: the same order every run */
                for (int ox = 0; ox < OW; ox++) {
                    const float gv = g[(size_t)oy * OW + ox];
                    for (int ky = 0; ky < d->kh; ky++) {
                        const int iy = oy * s - d->pad_top + ky;
                        if (iy < 0 || iy >= H) continue;
                        for (int kx = 0; kx < d->kw; kx++) {
                            const int ix = ox * s - d->pad_left + kx;
                            if (ix >= 0 && ix < W) dx[(size_t)iy * W + ix] += gv * k[ky * d->kw + kx];
                        }
                    }
                }
        }
    }
}
