/* Max, average and global average pooling over planes of h*w (planes = c*n in CNHW). */
#include <float.h>
#include <string.h>

#include <omp.h>

#include "nets/bodies.h"
#include "nets/ops.h"

/* Each plane is copied into a border of `fill` wide enough for every window (ph x pw, window
 * (oy, ox) tap (ky, kx) at xp[(oy s + ky) pw + ox s + kx]), so the window loops run without
 * bounds tests and vectorize along an output row. The border never changes a result: a max
 * compares strictly against -FLT_MAX first (a -FLT_MAX border never wins), and a sum that starts
 * at +0 gains nothing from +0 taps. Every output takes its taps in the same (row, column) order
 * as the bounds-tested loops it replaces (and as nets/cells_cuda.cu), so the bits are theirs. */
typedef struct { int h, w, k, s, pad, oh, ow, ph, pw; } window;

static window window_of(int h, int w, int k, int stride, int pad, int oh, int ow) {
    window g = {h, w, k, stride, pad, oh, ow, (oh - 1) * stride + k, (ow - 1) * stride + k};
    return g;
}

/* per thread: the padded plane, then one output row */
static size_t scratch_floats(const window *g) { return (size_t)g->ph * g->pw + (size_t)g->ow; }

size_t db_pool_workspace(int k, int stride, int oh, int ow, int threads) {
    const window g = window_of(0, 0, k, stride, 0, oh, ow);
    return scratch_floats(&g) * (size_t)threads;
}

static void pad_plane(float *xp, const float *x, const window *g, float fill) {
    for (size_t i = 0; i < (size_t)g->ph * g->pw; i++) xp[i] = fill;
    for (int y = 0; y < g->h && y + g->pad < g->ph; y++) {
        const int n = g->w + g->pad <= g->pw ? g->w : g->pw - g->pad;
        if (n > 0) memcpy(xp + (size_t)(y + g->pad) * g->pw + g->pad, x + (size_t)y * g->w, sizeof(float) * (size_t)n);
    }
}

/* row[ox] = the largest tap of window (oy, ox), -FLT_MAX when none is inside */
static void max_row(float *row, const float *xp, const window *g, int oy) {
    const int s = g->s, ow = g->ow;
    for (int ox = 0; ox < ow; ox++) row[ox] = -FLT_MAX;
    for (int ky = 0; ky < g->k; ky++) {
        const float *xr = xp + (size_t)(oy * s + ky) * g->pw;
        for (int kx = 0; kx < g->k; kx++)
            for (int ox = 0; ox < ow; ox++) {
                const float v = xr[ox * s + kx];
                row[ox] = v > row[ox] ? v : row[ox];
            }
    }
}

void db_maxpool_forward(float *out, const float *in, int planes, int h, int w, int k, int stride,
                        int pad, int oh, int ow, float *ws, int threads) {
    const window g = window_of(h, w, k, stride, pad, oh, ow);
    #pragma omp parallel num_threads(threads)
    {
        float *xp = ws + scratch_floats(&g) * (size_t)omp_get_thread_num();
        #pragma omp for schedule(static)
        for (int p = 0; p < planes; p++) {
            pad_plane(xp, in + (size_t)p * h * w, &g, -FLT_MAX);
            for (int oy = 0; oy < oh; oy++) max_row(out + ((size_t)p * oh + oy) * ow, xp, &g, oy);
        }
    }
}

/* The bounds-tested loops: faster here than a padded plane (measured), the arg max being a scalar
 * search either way */
void db_maxpool_backward(float *din, const float *dout, const float *in, int planes, int h, int w,
                         int k, int stride, int pad, int oh, int ow, int accum, float *ws, int threads) {
    (void)ws;
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int p = 0; p < planes; p++) {
        const float *x = in + (size_t)p * h * w;
        const float *g = dout + (size_t)p * oh * ow;
        float *dx = din + (size_t)p * h * w;
        if (!accum) memset(dx, 0, sizeof(float) * (size_t)h * w);
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                const int arg = db_window_arg_max(x, h, w, k, stride, pad, oy, ox);
                if (arg >= 0) dx[arg] += g[oy * ow + ox];
            }
    }
}

/* The average's divisor at output (oy, ox): k*k, or with exclude the window's pixels inside the map */
static float avg_inv(int oy, int ox, const window *g, int exclude) {
    return exclude ? db_window_inside_inv(g->h, g->w, g->k, g->s, g->pad, oy, ox) : 1.0f / (float)(g->k * g->k);
}

static void avg_forward(float *out, const float *in, int planes, int h, int w, int k, int stride, int pad, int oh,
                        int ow, int exclude, float *ws, int threads) {
    const window g = window_of(h, w, k, stride, pad, oh, ow);
    #pragma omp parallel num_threads(threads)
    {
        float *xp = ws + scratch_floats(&g) * (size_t)omp_get_thread_num();
        #pragma omp for schedule(static)
        for (int p = 0; p < planes; p++) {
            pad_plane(xp, in + (size_t)p * h * w, &g, 0.0f);
            for (int oy = 0; oy < oh; oy++) {
                float *y = out + ((size_t)p * oh + oy) * ow;
                for (int ox = 0; ox < ow; ox++) y[ox] = 0.0f;
                for (int ky = 0; ky < k; ky++) {
                    const float *xr = xp + (size_t)(oy * stride + ky) * g.pw;
                    for (int kx = 0; kx < k; kx++)
                        for (int ox = 0; ox < ow; ox++) y[ox] += xr[ox * stride + kx];
                }
                for (int ox = 0; ox < ow; ox++) y[ox] *= avg_inv(oy, ox, &g, exclude);
            }
        }
    }
}

/* The gradient gathers in a padded plane that starts as dx (or zeros): a pixel takes its windows'
 * shares in (oy, ox) order, so within an output row the taps go right to left (kx descending
 * is ox ascending for a fixed pixel) */
static void avg_backward(float *din, const float *dout, int planes, int h, int w, int k, int stride, int pad, int oh,
                         int ow, int accum, int exclude, float *ws, int threads) {
    const window g = window_of(h, w, k, stride, pad, oh, ow);
    #pragma omp parallel num_threads(threads)
    {
        float *gp = ws + scratch_floats(&g) * (size_t)omp_get_thread_num();
        #pragma omp for schedule(static)
        for (int p = 0; p < planes; p++) {
            float *v = gp + (size_t)g.ph * g.pw, *dx = din + (size_t)p * h * w;
            const float *gr = dout + (size_t)p * oh * ow;
            if (accum) pad_plane(gp, dx, &g, 0.0f);
            else memset(gp, 0, sizeof(float) * (size_t)g.ph * g.pw);
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) v[ox] = gr[oy * ow + ox] * avg_inv(oy, ox, &g, exclude);
                for (int ky = 0; ky < k; ky++) {
                    float *r = gp + (size_t)(oy * stride + ky) * g.pw;
                    for (int kx = k - 1; kx >= 0; kx--)
                        for (int ox = 0; ox < ow; ox++) r[ox * stride + kx] += v[ox];
                }
            }
            for (int y = 0; y < h; y++) /* pixels past every window keep dx (or 0) */
                for (int x = 0; x < w; x++) {
                    const int py = y + pad, px = x + pad;
                    if (py < g.ph && px < g.pw) dx[(size_t)y * w + x] = gp[(size_t)py * g.pw + px];
                    else if (!accum) dx[(size_t)y * w + x] = 0.0f;
                }
        }
    }
}

void db_avgpool_forward(float *out, const float *in, int planes, int h, int w, int k, int stride,
                        int pad, int oh, int ow, float *ws, int threads) {
    avg_forward(out, in, planes, h, w, k, stride, pad, oh, ow, 0, ws, threads);
}

void db_avgpool_backward(float *din, const float *dout, int planes, int h, int w, int k,
                         int stride, int pad, int oh, int ow, int accum, float *ws, int threads) {
    avg_backward(din, dout, planes, h, w, k, stride, pad, oh, ow, accum, 0, ws, threads);
}

void db_avgpool_excl_forward(float *out, const float *in, int planes, int h, int w, int k, int stride, int pad, int oh,
                             int ow, float *ws, int threads) {
    avg_forward(out, in, planes, h, w, k, stride, pad, oh, ow, 1, ws, threads);
}

void db_avgpool_excl_backward(float *din, const float *dout, int planes, int h, int w, int k, int stride, int pad,
                              int oh, int ow, int accum, float *ws, int threads) {
    avg_backward(din, dout, planes, h, w, k, stride, pad, oh, ow, accum, 1, ws, threads);
}

void db_gap_forward(float *out, const float *in, int planes, int hw) {
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        out[p] = db_plane_mean(in + (size_t)p * hw, hw);
    }
}

void db_gap_backward(float *din, const float *dout, int planes, int hw, int accum) {
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        float v = dout[p] / (float)hw;
        float *dx = din + (size_t)p * hw;
        for (int i = 0; i < hw; i++) dx[i] = (accum ? dx[i] : 0.0f) + v;
    }
}
