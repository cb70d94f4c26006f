/* Convolution by im2col + GEMM over CNHW activations.
 *
 * The batch is cut into chunks of a few samples whose column buffer fits in a core's cache,
 * and the threads take whole chunks (chunk c goes to thread c mod T): each does its im2col and
 * a single-threaded GEMM that writes its samples' outputs in place (ldc = n*oh*ow), so the
 * column buffer is consumed while still in cache and the threads never wait on each other
 * inside a layer. The weight gradient is summed per thread and then across threads in a fixed
 * order, so results are bit-identical for a given thread count. */
#include <omp.h>
#include <string.h>

#include "core/gemm.h"
#include "nets/ops.h"

/* Floats of column buffer per thread (1 MiB by default: measured fastest on 2 Zen cores). */
static size_t col_cap = (size_t)1 << 18;

void db_conv_set_col_cap(size_t floats) { col_cap = floats ? floats : 1; }

void db_conv_dims_rect(db_conv_dims *d, int cin, int cout, int kh, int kw, int sh, int sw, int ph, int pw, int h,
                       int w) {
    d->cin = cin; d->cout = cout; d->kh = kh; d->kw = kw; d->sh = sh; d->sw = sw; d->ph = ph; d->pw = pw;
    d->h = h; d->w = w;
    d->chunk = 0;
    d->oh = (h + 2 * ph - kh) / sh + 1;
    d->ow = (w + 2 * pw - kw) / sw + 1;
}

void db_conv_dims_init(db_conv_dims *d, int cin, int cout, int k, int stride, int pad, int h, int w) {
    db_conv_dims_rect(d, cin, cout, k, k, stride, stride, pad, pad, h, w);
}

/* TensorFlow's SAME rule in one direction: n outputs, the padding before them */
static int same_out(int in, int s) { return (in + s - 1) / s; }
static int same_before(int in, int k, int s) {
    const int total = (same_out(in, s) - 1) * s + k - in;
    return total > 0 ? total / 2 : 0;
}

void db_conv_dims_same(db_conv_dims *d, int cin, int cout, int kh, int kw, int sh, int sw, int h, int w) {
    db_conv_dims_rect(d, cin, cout, kh, kw, sh, sw, same_before(h, kh, sh), same_before(w, kw, sw), h, w);
    d->oh = same_out(h, sh), d->ow = same_out(w, sw); /* the odd padding pixel below and right */
}

int db_conv_symmetric(const db_conv_dims *d) { /* (a window past the padded map: SAME's, never symmetric) */
    return d->h + 2 * d->ph >= d->kh && d->w + 2 * d->pw >= d->kw &&
           d->oh == (d->h + 2 * d->ph - d->kh) / d->sh + 1 && d->ow == (d->w + 2 * d->pw - d->kw) / d->sw + 1;
}

static int is_pointwise(const db_conv_dims *d) {
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->ph == 0 && d->pw == 0;
}

/* For stride 1 the input gradient is itself a convolution: dout convolved with the weights
 * transposed (cin <-> cout) and flipped, padding kh-1-ph by kw-1-pw. Done that way it is an
 * im2col of dout and a GEMM reducing over cout*kh*kw that writes (or adds to) din in place, with
 * no scatter. */
static int backward_as_conv(const db_conv_dims *d) {
    return !is_pointwise(d) && d->sh == 1 && d->sw == 1 && d->ph <= d->kh - 1 && d->pw <= d->kw - 1 &&
           db_conv_symmetric(d);
}

/* Column-buffer floats per sample: the larger of the forward im2col and that of dout. */
static size_t col_per_sample(const db_conv_dims *d) {
    if (is_pointwise(d)) return 0;
    size_t fwd = (size_t)d->cin * d->kh * d->kw * d->oh * d->ow;
    size_t bwd = backward_as_conv(d) ? (size_t)d->cout * d->kh * d->kw * d->h * d->w : 0;
    return fwd > bwd ? fwd : bwd;
}

/* A convolution whose weights outweigh the batch's output units (ResNet-18's 2x2 maps: 2.4M
 * weights, 128 output positions) runs on the whole batch at once, its GEMMs cut among the
 * threads by rows of the output, so the weight gradient is written once: chunks of a few
 * samples would each run a GEMM over a few positions that reads and writes the whole weight
 * gradient, then add the threads' copies. */
int db_conv_weight_heavy(const db_conv_dims *d, int n) { return (size_t)n * d->oh * d->ow <= (size_t)d->cout; }

/* Samples per chunk: what fits under the cap, but no more than an even share of the batch;
 * the share for weight-heavy convolutions (the whole batch's columns, over the threads' parts
 * of the buffer). */
static int chunk_samples(const db_conv_dims *d, int n, int threads) {
    size_t per = col_per_sample(d);
    size_t nb = per ? col_cap / per : (size_t)n;
    size_t share = ((size_t)n + threads - 1) / threads;
    if (nb > share || db_conv_weight_heavy(d, n)) nb = share;
    if (d->chunk > 0 && nb > (size_t)d->chunk) nb = (size_t)d->chunk;
    if (nb < 1) nb = 1;
    return (int)nb;
}

void db_conv_plan(db_conv_dims *d, int n_max, int threads) {
    d->chunk = 0;
    d->chunk = chunk_samples(d, n_max, threads);
}

typedef struct { float *wflip, *dw_part, *col; size_t col_stride; } conv_ws;

static conv_ws carve(float *ws, const db_conv_dims *d, int n, int threads) {
    size_t kk = (size_t)d->cin * d->kh * d->kw;
    conv_ws w;
    w.wflip = ws;
    w.dw_part = ws + kk * d->cout;
    w.col = w.dw_part + (size_t)threads * kk * d->cout;
    w.col_stride = col_per_sample(d) * chunk_samples(d, n, threads);
    return w;
}

size_t db_conv_workspace(const db_conv_dims *d, int n, int threads) {
    size_t kk = (size_t)d->cin * d->kh * d->kw;
    return kk * d->cout * (1 + (size_t)threads) + (size_t)threads * col_per_sample(d) * chunk_samples(d, n, threads);
}

/* One im2col row for one sample when stride is 1 and the output is as wide as the input (the
 * "same" convolutions of a ResNet): the plane shifted by (dy, dx), one block copy plus zeroed
 * borders, instead of a copy per output row. */
static void shift_plane(float *dst, const float *src, int h, int w, int oh, int dy, int dx) {
    int adx = dx < 0 ? -dx : dx;
    if (adx >= w) { /* the shift moves the whole plane out of view */
        memset(dst, 0, sizeof(float) * (size_t)oh * w);
        return;
    }
    int y0 = dy < 0 ? -dy : 0, y1 = h - dy < oh ? h - dy : oh;
    if (y1 < y0) y1 = y0;
    /* border rows: a row or two, where a libc call costs more than the stores */
    for (size_t i = 0; i < (size_t)y0 * w; i++) dst[i] = 0.0f;
    for (size_t i = (size_t)y1 * w; i < (size_t)oh * w; i++) dst[i] = 0.0f;
    if (y1 == y0) return;
    /* dst[y*w + x] = src[(y+dy)*w + x+dx]; the first/last |dx| elements would read outside the
     * plane and are border columns anyway, so they are skipped and zeroed below. */
    size_t count = (size_t)(y1 - y0) * w - (dx < 0 ? -dx : dx);
    float *d = dst + (size_t)y0 * w + (dx < 0 ? -dx : 0);
    const float *s = src + (size_t)(y0 + dy) * w + (dx > 0 ? dx : 0);
    memcpy(d, s, sizeof(float) * count);
    if (dx > 0)
        for (int y = y0; y < y1; y++)
            for (int x = w - dx; x < w; x++) dst[(size_t)y * w + x] = 0.0f;
    else if (dx < 0)
        for (int y = y0; y < y1; y++)
            for (int x = 0; x < -dx; x++) dst[(size_t)y * w + x] = 0.0f;
}

/* Rows r0 .. r1-1 of col (cin*kh*kw, nb*oh*ow) <- in (cin, n, h, w) for samples n0 .. n0+nb-1 */
static void im2col_rows(float *col, const float *in, const db_conv_dims *d, int n, int n0, int nb, int r0, int r1) {
    const int ohw = d->oh * d->ow;
    const int same = d->sh == 1 && d->sw == 1 && d->ow == d->w;
    for (int r = r0; r < r1; r++) {
        int ci = r / (d->kh * d->kw), kh = (r / d->kw) % d->kh, kw = r % d->kw;
        float *dst = col + (size_t)r * nb * ohw;
        for (int j = 0; j < nb; j++) {
            const float *src = in + ((size_t)ci * n + n0 + j) * d->h * d->w;
            if (same) {
                shift_plane(dst + (size_t)j * ohw, src, d->h, d->w, d->oh, kh - d->ph, kw - d->pw);
                continue;
            }
            for (int oy = 0; oy < d->oh; oy++) {
                int iy = oy * d->sh + kh - d->ph;
                float *drow = dst + (size_t)j * ohw + oy * d->ow;
                if (iy < 0 || iy >= d->h) { memset(drow, 0, sizeof(float) * d->ow); continue; }
                const float *srow = src + (size_t)iy * d->w;
                for (int ox = 0; ox < d->ow; ox++) {
                    int ix = ox * d->sw + kw - d->pw;
                    drow[ox] = (ix >= 0 && ix < d->w) ? srow[ix] : 0.0f;
                }
            }
        }
    }
}

static void im2col(float *col, const float *in, const db_conv_dims *d, int n, int n0, int nb) {
    im2col_rows(col, in, d, n, n0, nb, 0, d->cin * d->kh * d->kw);
}

/* din (cin, n, h, w) (+)= col2im(col) for samples n0 .. n0+nb-1 and channels c0 .. c1-1 (the
 * strided convolutions, whose input gradient is not a plain convolution). */
static void col2im_channels(float *din, const float *col, const db_conv_dims *d, int n, int n0, int nb, int accum,
                            int c0, int c1) {
    const int ohw = d->oh * d->ow;
    for (int ci = c0; ci < c1; ci++) {
        float *dc = din + ((size_t)ci * n + n0) * d->h * d->w;
        if (!accum) memset(dc, 0, sizeof(float) * (size_t)nb * d->h * d->w);
        for (int kh = 0; kh < d->kh; kh++)
            for (int kw = 0; kw < d->kw; kw++) {
                const float *src = col + (size_t)((ci * d->kh + kh) * d->kw + kw) * nb * ohw;
                for (int j = 0; j < nb; j++) {
                    float *dst = dc + (size_t)j * d->h * d->w;
                    for (int oy = 0; oy < d->oh; oy++) {
                        int iy = oy * d->sh + kh - d->ph;
                        if (iy < 0 || iy >= d->h) continue;
                        const float *srow = src + (size_t)j * ohw + oy * d->ow;
                        float *drow = dst + (size_t)iy * d->w;
                        for (int ox = 0; ox < d->ow; ox++) {
                            int ix = ox * d->sw + kw - d->pw;
                            if (ix >= 0 && ix < d->w) drow[ix] += srow[ox];
                        }
                    }
                }
            }
    }
}

static void col2im(float *din, const float *col, const db_conv_dims *d, int n, int n0, int nb, int accum) {
    col2im_channels(din, col, d, n, n0, nb, accum, 0, d->cin);
}

/* Thread t's part [*lo, *hi) of m rows cut among nt threads */
static void part(int m, int t, int nt, int *lo, int *hi) {
    *lo = (int)((long)m * t / nt);
    *hi = (int)((long)m * (t + 1) / nt);
}

/* Inside a parallel region: thread t's rows of the whole batch's columns, then a barrier;
 * returns the GEMM's right-hand matrix (the input itself for a pointwise convolution) */
static const float *whole_columns(float *col, const float *in, const db_conv_dims *d, int n, int t, int nt) {
    if (is_pointwise(d)) return in;
    int lo, hi;
    part(d->cin * d->kh * d->kw, t, nt, &lo, &hi);
    im2col_rows(col, in, d, n, 0, n, lo, hi);
    #pragma omp barrier
    return col;
}

/* The whole batch at once (weight_heavy): the columns of every sample, then each thread's
 * rows of out. Bits depend on the thread count only (each row is one GEMM's). */
static void forward_heavy(float *out, const float *in, const float *weight, float *col, const db_conv_dims *d, int n,
                          int threads) {
    const int kk = d->cin * d->kh * d->kw, ld = n * d->oh * d->ow;
    #pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads(), lo, hi;
        const float *b = whole_columns(col, in, d, n, t, nt);
        part(d->cout, t, nt, &lo, &hi);
        if (hi > lo) db_sgemm(0, 0, hi - lo, ld, kk, 1.0f, weight + (size_t)lo * kk, kk, b, ld, 0.0f, out + (size_t)lo * ld, ld);
    }
}

/* The backward of forward_heavy: the weight gradient by rows of cout, straight into dweight;
 * the input gradient as columns (rows of cin*kh*kw) then col2im by channels. */
static void backward_heavy(float *din, float *dweight, const float *dout, const float *in, const float *weight,
                           float *col, const db_conv_dims *d, int n, int accum, int threads) {
    const int kk = d->cin * d->kh * d->kw, ld = n * d->oh * d->ow, ldi = n * d->h * d->w;
    #pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads(), lo, hi;
        const float *b = whole_columns(col, in, d, n, t, nt);
        part(d->cout, t, nt, &lo, &hi);
        if (hi > lo) db_sgemm(0, 1, hi - lo, kk, ld, 1.0f, dout + (size_t)lo * ld, ld, b, ld, 0.0f, dweight + (size_t)lo * kk, kk);
        if (din && is_pointwise(d)) {
            part(d->cin, t, nt, &lo, &hi);
            if (hi > lo)
                db_sgemm(1, 0, hi - lo, ld, d->cout, 1.0f, weight + lo, kk, dout, ld, accum ? 1.0f : 0.0f,
                         din + (size_t)lo * ldi, ldi);
        } else if (din) {
            #pragma omp barrier
            part(kk, t, nt, &lo, &hi); /* the columns are read: they take dcol */
            if (hi > lo) db_sgemm(1, 0, hi - lo, ld, d->cout, 1.0f, weight + lo, kk, dout, ld, 0.0f, col + (size_t)lo * ld, ld);
            #pragma omp barrier
            part(d->cin, t, nt, &lo, &hi);
            col2im_channels(din, col, d, n, 0, n, accum, lo, hi);
        }
    }
}

int db_conv_whole_batch(const db_conv_dims *d, int n, int threads) {
    return db_conv_weight_heavy(d, n) && (long)chunk_samples(d, n, threads) * threads >= n;
}

void db_conv_forward(float *out, const float *in, const float *weight, float *ws,
                     const db_conv_dims *d, int n, int threads) {
    const int kk = d->cin * d->kh * d->kw, ohw = d->oh * d->ow, ld = n * ohw;
    const int nb = chunk_samples(d, n, threads), chunks = (n + nb - 1) / nb;
    conv_ws w = carve(ws, d, n, threads);
    if (db_conv_whole_batch(d, n, threads)) {
        forward_heavy(out, in, weight, w.col, d, n, threads);
        return;
    }
    #pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *col = w.col + (size_t)t * w.col_stride;
        for (int c = t; c < chunks; c += nt) {
            int n0 = c * nb, cnt = n - n0 < nb ? n - n0 : nb;
            const float *b = in + (size_t)n0 * ohw; /* pointwise: the input is its own column matrix */
            int ldb = ld;
            if (!is_pointwise(d)) { im2col(col, in, d, n, n0, cnt); b = col; ldb = cnt * ohw; }
            db_sgemm(0, 0, d->cout, cnt * ohw, kk, 1.0f, weight, kk, b, ldb, 0.0f, out + (size_t)n0 * ohw, ld);
        }
    }
}

static void flip_weights(float *wflip, const float *w, const db_conv_dims *d) {
    const int kk = d->kh * d->kw; /* reversing a kernel's index flips it both ways */
    for (int co = 0; co < d->cout; co++)
        for (int ci = 0; ci < d->cin; ci++)
            for (int i = 0; i < kk; i++)
                wflip[((size_t)ci * d->cout + co) * kk + (kk - 1 - i)] = w[((size_t)co * d->cin + ci) * kk + i];
}

/* The input gradient of one chunk; col holds nothing needed any more. */
static void chunk_din(float *din, const float *dout, const float *weight, const float *wflip,
                      float *col, const db_conv_dims *d, int n, int n0, int cnt, int accum) {
    const int kk = d->cin * d->kh * d->kw, ohw = d->oh * d->ow, hw = d->h * d->w;
    const float *dchunk = dout + (size_t)n0 * ohw;
    if (is_pointwise(d)) {
        db_sgemm(1, 0, kk, cnt * ohw, d->cout, 1.0f, weight, kk, dchunk, n * ohw, accum ? 1.0f : 0.0f,
                 din + (size_t)n0 * hw, n * hw);
    } else if (backward_as_conv(d)) {
        db_conv_dims t; /* the transposed convolution: cout -> cin channels, oh x ow -> h x w */
        db_conv_dims_rect(&t, d->cout, d->cin, d->kh, d->kw, 1, 1, d->kh - 1 - d->ph, d->kw - 1 - d->pw, d->oh, d->ow);
        const int kt = d->cout * d->kh * d->kw;
        im2col(col, dout, &t, n, n0, cnt);
        db_sgemm(0, 0, d->cin, cnt * hw, kt, 1.0f, wflip, kt, col, cnt * hw, accum ? 1.0f : 0.0f,
                 din + (size_t)n0 * hw, n * hw);
    } else {
        db_sgemm(1, 0, kk, cnt * ohw, d->cout, 1.0f, weight, kk, dchunk, n * ohw, 0.0f, col, cnt * ohw);
        col2im(din, col, d, n, n0, cnt, accum);
    }
}

void db_conv_backward(float *din, float *dweight, const float *dout, const float *in,
                      const float *weight, float *ws, const db_conv_dims *d, int n, int accum,
                      int threads) {
    const int kk = d->cin * d->kh * d->kw, ohw = d->oh * d->ow, ld = n * ohw;
    const int nb = chunk_samples(d, n, threads), chunks = (n + nb - 1) / nb;
    const size_t nw = (size_t)kk * d->cout;
    conv_ws w = carve(ws, d, n, threads);
    if (db_conv_whole_batch(d, n, threads)) {
        backward_heavy(din, dweight, dout, in, weight, w.col, d, n, accum, threads);
        return;
    }
    if (din && backward_as_conv(d)) flip_weights(w.wflip, weight, d);
    #pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *col = w.col + (size_t)t * w.col_stride, *dw = w.dw_part + (size_t)t * nw;
        for (int c = t; c < chunks; c += nt) {
            int n0 = c * nb, cnt = n - n0 < nb ? n - n0 : nb;
            const float *b = in + (size_t)n0 * ohw;
            int ldb = ld;
            if (!is_pointwise(d)) { im2col(col, in, d, n, n0, cnt); b = col; ldb = cnt * ohw; }
            db_sgemm(0, 1, d->cout, kk, cnt * ohw, 1.0f, dout + (size_t)n0 * ohw, ld, b, ldb,
                     c == t ? 0.0f : 1.0f, dw, kk);
            if (din) chunk_din(din, dout, weight, w.wflip, col, d, n, n0, cnt, accum);
        }
        if (t >= chunks) memset(dw, 0, nw * sizeof(float)); /* a thread left without a chunk */
        #pragma omp barrier
        /* the threads' partial sums, added in thread order */
        #pragma omp for schedule(static)
        for (size_t i = 0; i < nw; i++) {
            float s = w.dw_part[i];
            for (int p = 1; p < nt; p++) s += w.dw_part[(size_t)p * nw + i];
            dweight[i] = s;
        }
    }
}
