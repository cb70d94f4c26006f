/* Depthwise convolution on CNHW maps (nets/ops.h): one channel's batch is contiguous, so each
 * channel is an independent job; every sum is made in one fixed order, whatever the threads. */
#include <omp.h>
#include <string.h>

#include "nets/ops.h"

static int same_out(int in, int s) { return (in + s - 1) / s; }

void db_dw_dims_same(db_dw_dims *d, int c, int kh, int kw, int stride, int h, int w) {
    d->c = c, d->kh = kh, d->kw = kw, d->stride = stride, d->h = h, d->w = w;
    d->oh = same_out(h, stride), d->ow = same_out(w, stride);
    const int ph = (d->oh - 1) * stride + kh - h, pw = (d->ow - 1) * stride + kw - w;
    d->pad_top = ph > 0 ? ph / 2 : 0, d->pad_left = pw > 0 ? pw / 2 : 0;
}

/* A plane copied into a zero border (ph x pw: every window of the output inside it), so the
 * inner loops run without bounds tests and vectorize along a row; window (oy, ox), tap (ky, kx)
 * reads xp[(oy * s + ky) * pw + ox * s + kx]. Padding contributes exact zeros, so the sums are
 * those of the bounds-tested loops. */
typedef struct { int ph, pw; } padded;

static padded padded_of(const db_dw_dims *d) {
    padded p = {(d->oh - 1) * d->stride + d->kh, (d->ow - 1) * d->stride + d->kw};
    return p;
}

static void pad_plane(float *xp, const float *x, const db_dw_dims *d, padded p) {
    memset(xp, 0, sizeof(float) * (size_t)p.ph * p.pw);
    for (int y = 0; y < d->h; y++) {
        const int py = y + d->pad_top;
        if (py >= p.ph) break;
        const int n = d->w + d->pad_left <= p.pw ? d->w : p.pw - d->pad_left;
        memcpy(xp + (size_t)py * p.pw + d->pad_left, x + (size_t)y * d->w, sizeof(float) * (size_t)n);
    }
}

/* per thread: the padded input, the padded input gradient, a row of partial sums per tap */
static size_t per_thread(const db_dw_dims *d) {
    const padded p = padded_of(d);
    return (size_t)2 * p.ph * p.pw + (size_t)d->kh * d->kw * d->ow;
}

size_t db_dw_workspace(const db_dw_dims *d, int threads) { return per_thread(d) * (size_t)threads; }

void db_dw_forward(float *out, const float *in, const float *weight, float *ws, const db_dw_dims *d, int n,
                   int threads) {
    const int H = d->h, W = d->w, OH = d->oh, OW = d->ow, s = d->stride;
    const padded p = padded_of(d);
    #pragma omp parallel num_threads(threads)
    {
        float *xp = ws + per_thread(d) * (size_t)omp_get_thread_num();
        #pragma omp for schedule(static)
        for (int ch = 0; ch < d->c; ch++) {
            const float *k = weight + (size_t)ch * d->kh * d->kw;
            for (int j = 0; j < n; j++) {
                pad_plane(xp, in + ((size_t)ch * n + j) * H * W, d, p);
                float *y = out + ((size_t)ch * n + j) * OH * OW;
                for (int oy = 0; oy < OH; oy++) {
                    float *yr = y + (size_t)oy * OW;
                    memset(yr, 0, sizeof(float) * (size_t)OW);
                    for (int ky = 0; ky < d->kh; ky++) {
                        const float *xr = xp + (size_t)(oy * s + ky) * p.pw;
                        for (int kx = 0; kx < d->kw; kx++) {
                            const float kv = k[ky * d->kw + kx];
                            if (s == 1)
                                for (int ox = 0; ox < OW; ox++) yr[ox] += kv * xr[ox + kx];
                            else
                                for (int ox = 0; ox < OW; ox++) yr[ox] += kv * xr[ox * s + kx];
                        }
                    }
                }
            }
        }
    }
}

void db_dw_backward(float *din, float *dweight, const float *dout, const float *in, const float *weight, float *ws,
                    const db_dw_dims *d, int n, int accum, int threads) {
    const int H = d->h, W = d->w, OH = d->oh, OW = d->ow, s = d->stride, K = d->kh * d->kw;
    const padded p = padded_of(d);
    #pragma omp parallel num_threads(threads)
    {
        float *xp = ws + per_thread(d) * (size_t)omp_get_thread_num();
        #pragma omp for schedule(static)
        for (int ch = 0; ch < d->c; ch++) {
            float *gp = xp + (size_t)p.ph * p.pw, *acc = gp + (size_t)p.ph * p.pw;
            const float *k = weight + (size_t)ch * K;
            double dk[K];
            for (int t = 0; t < K; t++) dk[t] = 0.0;
            for (int j = 0; j < n; j++) {
                const float *g = dout + ((size_t)ch * n + j) * OH * OW;
                pad_plane(xp, in + ((size_t)ch * n + j) * H * W, d, p);
                if (din) memset(gp, 0, sizeof(float) * (size_t)p.ph * p.pw);
                memset(acc, 0, sizeof(float) * (size_t)K * OW);
                for (int oy = 0; oy < OH; oy++) {
                    const float *gr = g + (size_t)oy * OW;
                    for (int ky = 0; ky < d->kh; ky++) {
                        const float *xr = xp + (size_t)(oy * s + ky) * p.pw;
                        float *gpr = gp + (size_t)(oy * s + ky) * p.pw;
                        for (int kx = 0; kx < d->kw; kx++) {
                            float *a = acc + (size_t)(ky * d->kw + kx) * OW;
                            const float kv = k[ky * d->kw + kx];
                            if (s == 1) {
                                for (int ox = 0; ox < OW; ox++) a[ox] += gr[ox] * xr[ox + kx];
                                if (din)
                                    for (int ox = 0; ox < OW; ox++) gpr[ox + kx] += gr[ox] * kv;
                            } else {
                                for (int ox = 0; ox < OW; ox++) a[ox] += gr[ox] * xr[ox * s + kx];
                                if (din)
                                    for (int ox = 0; ox < OW; ox++) gpr[ox * s + kx] += gr[ox] * kv;
                            }
                        }
                    }
                }
                /* per plane: each tap's column sums into its double total, in order */
                for (int t = 0; t < K; t++)
                    for (int ox = 0; ox < OW; ox++) dk[t] += acc[(size_t)t * OW + ox];
                if (!din) continue;
                float *dx = din + ((size_t)ch * n + j) * H * W;
                for (int y = 0; y < H; y++) {
                    const int py = y + d->pad_top;
                    for (int x = 0; x < W; x++) {
                        const int px = x + d->pad_left;
                        const float v = py < p.ph && px < p.pw ? gp[(size_t)py * p.pw + px] : 0.0f;
                        dx[(size_t)y * W + x] = accum ? dx[(size_t)y * W + x] + v : v;
                    }
                }
            }
            for (int t = 0; t < K; t++) dweight[(size_t)ch * K + t] = (float)dk[t];
        }
    }
}
