/* Convolution by im2col + GEMM. With CNHW activations the GEMM for a chunk of samples writes
 * straight into the output (ldc = n*oh*ow), so there is no transpose. The batch is cut into
 * chunks so the column buffer stays bounded whatever the batch. */
#include <string.h>

#include "core/gemm.h"
#include "nets/ops.h"

/* Floats of column buffer we aim to stay under (64 MiB by default). */
static size_t col_cap = (size_t)1 << 24;

void db_conv_set_col_cap(size_t floats) { col_cap = floats ? floats : 1; }

void db_conv_dims_init(db_conv_dims *d, int cin, int cout, int k, int stride, int pad, int h,
                       int w) {
    d->cin = cin; d->cout = cout; d->k = k; d->stride = stride; d->pad = pad;
    d->h = h; d->w = w;
    d->oh = (h + 2 * pad - k) / stride + 1;
    d->ow = (w + 2 * pad - k) / stride + 1;
}

static int is_pointwise(const db_conv_dims *d) { return d->k == 1 && d->stride == 1 && d->pad == 0; }

/* Samples per chunk: as many as fit under the cap, at least one. */
static int chunk_samples(const db_conv_dims *d, int n) {
    size_t per = (size_t)d->cin * d->k * d->k * d->oh * d->ow;
    size_t nb = col_cap / (per ? per : 1);
    if (nb < 1) nb = 1;
    return nb > (size_t)n ? n : (int)nb;
}

size_t db_conv_workspace(const db_conv_dims *d, int n) {
    if (is_pointwise(d)) return 0;
    return (size_t)d->cin * d->k * d->k * chunk_samples(d, n) * d->oh * d->ow;
}

/* col (cin*k*k, nb*oh*ow) <- in (cin, n, h, w) for samples n0 .. n0+nb-1 */
static void im2col(float *col, const float *in, const db_conv_dims *d, int n, int n0, int nb) {
    const int k = d->k, ohw = d->oh * d->ow, rows = d->cin * k * k;
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) {
        int ci = r / (k * k), kh = (r / k) % k, kw = r % k;
        float *dst = col + (size_t)r * nb * ohw;
        for (int j = 0; j < nb; j++) {
            const float *src = in + ((size_t)ci * n + n0 + j) * d->h * d->w;
            for (int oy = 0; oy < d->oh; oy++) {
                int iy = oy * d->stride + kh - d->pad;
                float *drow = dst + (size_t)j * ohw + oy * d->ow;
                if (iy < 0 || iy >= d->h) { memset(drow, 0, sizeof(float) * d->ow); continue; }
                const float *srow = src + (size_t)iy * d->w;
                if (d->stride == 1) {
                    int lo = d->pad - kw, hi = d->w + d->pad - kw; /* valid ox in [lo, hi) */
                    if (lo < 0) lo = 0;
                    if (hi > d->ow) hi = d->ow;
                    for (int ox = 0; ox < lo && ox < d->ow; ox++) drow[ox] = 0.0f;
                    if (hi > lo) memcpy(drow + lo, srow + lo + kw - d->pad, sizeof(float) * (hi - lo));
                    for (int ox = hi > lo ? hi : lo; ox < d->ow; ox++) drow[ox] = 0.0f;
                } else {
                    for (int ox = 0; ox < d->ow; ox++) {
                        int ix = ox * d->stride + kw - d->pad;
                        drow[ox] = (ix >= 0 && ix < d->w) ? srow[ix] : 0.0f;
                    }
                }
            }
        }
    }
}

/* din (cin, n, h, w) (+)= col2im(col) for samples n0 .. n0+nb-1. One thread per input
 * channel: the rows of a channel only touch that channel, so there are no races, and the
 * summation order is fixed, so results do not depend on the thread count. */
static void col2im(float *din, const float *col, const db_conv_dims *d, int n, int n0, int nb,
                   int accum) {
    const int k = d->k, ohw = d->oh * d->ow;
    #pragma omp parallel for schedule(static)
    for (int ci = 0; ci < d->cin; ci++) {
        float *dc = din + ((size_t)ci * n + n0) * d->h * d->w;
        if (!accum) memset(dc, 0, sizeof(float) * (size_t)nb * d->h * d->w);
        for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++) {
                const float *src = col + (size_t)((ci * k + kh) * k + kw) * nb * ohw;
                for (int j = 0; j < nb; j++) {
                    float *dst = dc + (size_t)j * d->h * d->w;
                    for (int oy = 0; oy < d->oh; oy++) {
                        int iy = oy * d->stride + kh - d->pad;
                        if (iy < 0 || iy >= d->h) continue;
                        const float *srow = src + (size_t)j * ohw + oy * d->ow;
                        float *drow = dst + (size_t)iy * d->w;
                        for (int ox = 0; ox < d->ow; ox++) {
                            int ix = ox * d->stride + kw - d->pad;
                            if (ix >= 0 && ix < d->w) drow[ix] += srow[ox];
                        }
                    }
                }
            }
    }
}

void db_conv_forward(float *out, const float *in, const float *weight, float *col,
                     const db_conv_dims *d, int n) {
    const int kk = d->cin * d->k * d->k, ohw = d->oh * d->ow, ld = n * ohw;
    if (is_pointwise(d)) {
        db_sgemm(0, 0, d->cout, ld, kk, 1.0f, weight, kk, in, ld, 0.0f, out, ld);
        return;
    }
    int nb = chunk_samples(d, n);
    for (int n0 = 0; n0 < n; n0 += nb) {
        int cnt = n - n0 < nb ? n - n0 : nb;
        im2col(col, in, d, n, n0, cnt);
        db_sgemm(0, 0, d->cout, cnt * ohw, kk, 1.0f, weight, kk, col, cnt * ohw, 0.0f,
                 out + (size_t)n0 * ohw, ld);
    }
}

void db_conv_backward(float *din, float *dweight, const float *dout, const float *in,
                      const float *weight, float *col, const db_conv_dims *d, int n, int accum) {
    const int kk = d->cin * d->k * d->k, ohw = d->oh * d->ow, ld = n * ohw;
    if (is_pointwise(d)) {
        db_sgemm(0, 1, d->cout, kk, ld, 1.0f, dout, ld, in, ld, 0.0f, dweight, kk);
        if (din) db_sgemm(1, 0, kk, ld, d->cout, 1.0f, weight, kk, dout, ld, accum ? 1.0f : 0.0f, din, ld);
        return;
    }
    int nb = chunk_samples(d, n);
    for (int n0 = 0; n0 < n; n0 += nb) {
        int cnt = n - n0 < nb ? n - n0 : nb;
        const float *dchunk = dout + (size_t)n0 * ohw;
        im2col(col, in, d, n, n0, cnt);
        db_sgemm(0, 1, d->cout, kk, cnt * ohw, 1.0f, dchunk, ld, col, cnt * ohw,
                 n0 ? 1.0f : 0.0f, dweight, kk);
        if (!din) continue;
        db_sgemm(1, 0, kk, cnt * ohw, d->cout, 1.0f, weight, kk, dchunk, ld, 0.0f, col, cnt * ohw);
        col2im(din, col, d, n, n0, cnt, accum);
    }
}
