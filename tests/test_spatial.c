/* Finite-difference checks and known values of the resampling ops (nearest upsampling, bilinear
 * resizing), the channel bias, the depthwise convolution and TensorFlow's SAME-padded pools and
 * convolutions, with the pools against plain bounds-tested loops. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/ops.h"
#include "tests/check.h"
#include "tests/gradcheck.h"
#include "nets/graph.h"

/* ---- nearest upsampling and the channel bias ---- */
typedef struct {
    tc_probe p;
    float *in, *bias;
    int planes, h, w, s, c;
    size_t m;
} up_t;

static void up_fwd(void *t) {
    up_t *u = t;
    db_upsample_forward(u->p.out, u->in, u->planes, u->h, u->w, u->s);
}

static void bias_fwd(void *t) {
    up_t *u = t;
    db_bias_forward(u->p.out, u->in, u->bias, u->c, u->m);
}

static void test_upsample_bias(void) {
    /* known values: 2x2 -> 4x4 by 2, each value a 2x2 block */
    const float in4[4] = {1, 2, 3, 4};
    float o16[16];
    db_upsample_forward(o16, in4, 1, 2, 2, 2);
    const float want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    CHECK(!memcmp(o16, want, sizeof want), "2x2 upsampled by 2");
    for (int s = 2; s <= 3; s++) {
        up_t u = {0};
        u.planes = 6, u.h = 3, u.w = 5, u.s = s;
        size_t nin = (size_t)u.planes * u.h * u.w;
        u.p.nout = nin * s * s;
        u.in = tc_falloc(nin), u.p.out = tc_falloc(u.p.nout), u.p.r = tc_falloc(u.p.nout), u.p.fwd = up_fwd;
        float *din = tc_falloc(nin);
        tc_fill(u.in, nin, 4, -1, 1), tc_fill(u.p.r, u.p.nout, 5, -1, 1);
        db_upsample_backward(din, u.p.r, u.planes, u.h, u.w, s, 0);
        tc_gradcheck(s == 2 ? "upsample x2 din" : "upsample x3 din", tc_probe_loss, &u, u.in, din, nin, 90, 1e-2f, 1e-4, 1e-3);
        for (size_t i = 0; i < nin; i++) din[i] = 1.0f;
        float *d2 = tc_falloc(nin);
        db_upsample_backward(d2, u.p.r, u.planes, u.h, u.w, s, 0);
        db_upsample_backward(din, u.p.r, u.planes, u.h, u.w, s, 1);
        int ok = 1;
        for (size_t i = 0; i < nin; i++) ok &= fabsf(din[i] - 1.0f - d2[i]) < 1e-6f;
        CHECK(ok, "upsample backward with accum must add");
        free(u.in); free(u.p.out); free(u.p.r); free(din); free(d2);
    }
    up_t b = {0};
    b.c = 4, b.m = 30;
    size_t n = (size_t)b.c * b.m;
    b.p.nout = n;
    b.in = tc_falloc(n), b.bias = tc_falloc((size_t)b.c), b.p.out = tc_falloc(n), b.p.r = tc_falloc(n), b.p.fwd = bias_fwd;
    float *din = tc_falloc(n), *db = tc_falloc((size_t)b.c);
    tc_fill(b.in, n, 6, -1, 1), tc_fill(b.bias, (size_t)b.c, 7, -1, 1), tc_fill(b.p.r, n, 8, -1, 1);
    db_bias_backward(din, db, b.p.r, b.c, b.m, 0);
    tc_gradcheck("bias din", tc_probe_loss, &b, b.in, din, n, 60, 1e-2f, 1e-4, 1e-3);
    tc_gradcheck("bias dbias", tc_probe_loss, &b, b.bias, db, (size_t)b.c, 4, 1e-2f, 1e-4, 1e-3);
    free(b.in); free(b.bias); free(b.p.out); free(b.p.r); free(din); free(db);
}

/* ---- bilinear resizing with aligned corners ---- */
typedef struct {
    tc_probe p;
    float *in;
    int planes, h, w, oh, ow;
} rs_t;

static void rs_fwd(void *t) {
    rs_t *r = t;
    db_resize_forward(r->p.out, r->in, r->planes, r->h, r->w, r->oh, r->ow);
}

static void test_resize_bilinear(void) {
    /* known values (TensorFlow's align_corners): 2x2 -> 3x3 puts the midpoints between */
    const float in4[4] = {1, 2, 3, 4}, want9[9] = {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4};
    float o9[9];
    db_resize_forward(o9, in4, 1, 2, 2, 3, 3);
    int ok = 1;
    for (int i = 0; i < 9; i++) ok &= fabsf(o9[i] - want9[i]) < 1e-6f;
    CHECK(ok, "2x2 -> 3x3: %g %g %g / %g %g %g / %g %g %g", o9[0], o9[1], o9[2], o9[3], o9[4], o9[5], o9[6], o9[7], o9[8]);
    /* 1x3 -> 1x2: the corners only (positions 0 and 2); 1x2 -> 1x5: quarter steps */
    const float row3[3] = {0, 10, 20}, row2[2] = {4, 8};
    float o2[2], o5[5];
    db_resize_forward(o2, row3, 1, 1, 3, 1, 2);
    db_resize_forward(o5, row2, 1, 1, 2, 1, 5);
    CHECK(o2[0] == 0 && o2[1] == 20 && o5[0] == 4 && fabsf(o5[1] - 5) < 1e-6f && fabsf(o5[2] - 6) < 1e-6f &&
          fabsf(o5[3] - 7) < 1e-6f && o5[4] == 8, "3 -> 2: %g %g; 2 -> 5: %g %g %g %g %g", o2[0], o2[1], o5[0], o5[1],
          o5[2], o5[3], o5[4]);
    const int shapes[3][4] = {{3, 4, 7, 9}, {5, 6, 3, 4}, {2, 2, 8, 8}}; /* up, down, up by 4 */
    for (int k = 0; k < 3; k++) {
        rs_t r = {0};
        r.planes = 3, r.h = shapes[k][0], r.w = shapes[k][1], r.oh = shapes[k][2], r.ow = shapes[k][3];
        size_t nin = (size_t)r.planes * r.h * r.w;
        r.p.nout = (size_t)r.planes * r.oh * r.ow;
        r.in = tc_falloc(nin), r.p.out = tc_falloc(r.p.nout), r.p.r = tc_falloc(r.p.nout), r.p.fwd = rs_fwd;
        float *din = tc_falloc(nin), *d2 = tc_falloc(nin);
        tc_fill(r.in, nin, 14 + k, -1, 1), tc_fill(r.p.r, r.p.nout, 24 + k, -1, 1);
        db_resize_backward(din, r.p.r, r.planes, r.h, r.w, r.oh, r.ow, 0);
        tc_gradcheck("resize din", tc_probe_loss, &r, r.in, din, nin, 60, 1e-2f, 1e-4, 1e-3);
        for (size_t i = 0; i < nin; i++) d2[i] = 1.0f;
        db_resize_backward(d2, r.p.r, r.planes, r.h, r.w, r.oh, r.ow, 1);
        ok = 1;
        for (size_t i = 0; i < nin; i++) ok &= fabsf(d2[i] - 1.0f - din[i]) < 1e-6f;
        CHECK(ok, "resize backward with accum must add");
        free(r.in); free(r.p.out); free(r.p.r); free(din); free(d2);
    }
}

/* ---- depthwise convolution ---- */
typedef struct {
    tc_probe p;
    db_dw_dims d;
    int n;
    float *in, *w;
} dw_t;

/* scratch for the depthwise passes on up to 2 threads */
static float dw_scratch[1 << 16];
static float *dw_ws(const db_dw_dims *d) {
    CHECK(db_dw_workspace(d, 2) <= sizeof dw_scratch / sizeof *dw_scratch, "depthwise scratch too small");
    return dw_scratch;
}

static void dw_fwd(void *t) {
    dw_t *c = t;
    db_dw_forward(c->p.out, c->in, c->w, dw_ws(&c->d), &c->d, c->n, 2);
}

/* TensorFlow's SAME padding (the odd pixel below and right), finite differences of both
 * gradients with square, rectangular and strided kernels, accumulation; and with symmetric
 * padding each channel equals the dense convolution of that channel alone */
static void test_depthwise(void) {
    db_dw_dims d;
    db_dw_dims_same(&d, 1, 3, 3, 2, 8, 7);
    CHECK(d.oh == 4 && d.ow == 4 && d.pad_top == 0 && d.pad_left == 1, "SAME 8x7 k3 s2: %dx%d, pads %d, %d", d.oh, d.ow,
          d.pad_top, d.pad_left);
    db_dw_dims_same(&d, 1, 5, 1, 1, 6, 6);
    CHECK(d.oh == 6 && d.ow == 6 && d.pad_top == 2 && d.pad_left == 0, "SAME 6x6 k5x1 s1: %dx%d, pads %d, %d", d.oh, d.ow,
          d.pad_top, d.pad_left);
    static const int cases[3][6] = {{3, 3, 3, 1, 7, 6}, {2, 5, 5, 2, 8, 9}, {4, 3, 5, 2, 7, 7}}; /* c kh kw s h w */
    for (int t = 0; t < 3; t++) {
        dw_t c = {0};
        c.n = 2;
        db_dw_dims_same(&c.d, cases[t][0], cases[t][1], cases[t][2], cases[t][3], cases[t][4], cases[t][5]);
        const size_t nin = (size_t)c.d.c * c.n * c.d.h * c.d.w, nw = (size_t)c.d.c * c.d.kh * c.d.kw;
        c.p.nout = (size_t)c.d.c * c.n * c.d.oh * c.d.ow;
        c.in = tc_falloc(nin), c.w = tc_falloc(nw), c.p.out = tc_falloc(c.p.nout), c.p.r = tc_falloc(c.p.nout), c.p.fwd = dw_fwd;
        float *din = tc_falloc(nin), *dw = tc_falloc(nw), *din2 = tc_falloc(nin);
        tc_fill(c.in, nin, 11, -1, 1), tc_fill(c.w, nw, 12, -1, 1), tc_fill(c.p.r, c.p.nout, 13, -1, 1);
        db_dw_backward(din, dw, c.p.r, c.in, c.w, dw_ws(&c.d), &c.d, c.n, 0, 2);
        char what[64];
        snprintf(what, sizeof what, "depthwise %dx%d s%d din", c.d.kh, c.d.kw, c.d.stride);
        tc_gradcheck(what, tc_probe_loss, &c, c.in, din, nin, 80, 1e-2f, 1e-4, 1e-3);
        snprintf(what, sizeof what, "depthwise %dx%d s%d dw", c.d.kh, c.d.kw, c.d.stride);
        tc_gradcheck(what, tc_probe_loss, &c, c.w, dw, nw, 60, 1e-2f, 1e-4, 1e-3);
        for (size_t i = 0; i < nin; i++) din2[i] = 1.0f;
        db_dw_backward(din2, dw, c.p.r, c.in, c.w, dw_ws(&c.d), &c.d, c.n, 1, 2);
        int ok = 1;
        for (size_t i = 0; i < nin; i++) ok &= fabsf(din2[i] - 1.0f - din[i]) < 1e-5f;
        CHECK(ok, "depthwise backward with accum must add to the existing gradient");
        float *dw1 = tc_falloc(nw), *din1 = tc_falloc(nin), *out2 = tc_falloc(c.p.nout); /* 1 thread: the same bits */
        db_dw_backward(din1, dw1, c.p.r, c.in, c.w, dw_ws(&c.d), &c.d, c.n, 0, 1);
        db_dw_backward(din2, dw, c.p.r, c.in, c.w, dw_ws(&c.d), &c.d, c.n, 0, 2);
        dw_fwd(&c);
        db_dw_forward(out2, c.in, c.w, dw_ws(&c.d), &c.d, c.n, 1);
        CHECK(!memcmp(dw1, dw, nw * sizeof(float)) && !memcmp(din1, din2, nin * sizeof(float)) &&
                  !memcmp(out2, c.p.out, c.p.nout * sizeof(float)),
              "depthwise on 1 and 2 threads differs");
        free(dw1), free(din1), free(out2);
        free(c.in), free(c.w), free(c.p.out), free(c.p.r), free(din), free(dw), free(din2);
    }
    /* k3 s1 SAME pads one pixel all round: each channel is a 1-in 1-out dense convolution */
    enum { C = 3, N = 2, H = 6, W = 5 };
    static float in[C * N * H * W], wt[C * 9], out[C * N * H * W], ref[N * H * W];
    tc_fill(in, sizeof in / sizeof *in, 21, -1, 1), tc_fill(wt, sizeof wt / sizeof *wt, 22, -1, 1);
    db_dw_dims_same(&d, C, 3, 3, 1, H, W);
    db_dw_forward(out, in, wt, dw_ws(&d), &d, N, 2);
    double worst = 0.0;
    for (int ch = 0; ch < C; ch++) {
        db_conv_dims cd;
        db_conv_dims_init(&cd, 1, 1, 3, 1, 1, H, W);
        db_conv_plan(&cd, N, 1);
        float *col = tc_falloc(db_conv_workspace(&cd, N, 1));
        db_conv_forward(ref, in + (size_t)ch * N * H * W, wt + 9 * ch, col, &cd, N, 1);
        free(col);
        for (int i = 0; i < N * H * W; i++) worst = fmax(worst, fabs((double)ref[i] - out[(size_t)ch * N * H * W + i]));
    }
    CHECK(worst < 1e-5, "depthwise and per-channel dense convolution differ by %g", worst);
}

/* ---- the pools against plain bounds-tested loops ---- */
/* The straightforward pools the engine's padded-plane ones replaced: each window's in-map taps in
 * (row, column) order, gradients scattered in (oy, ox) order. The engine must give their bits.
 * (The max pool's backward is still such loops: its reference is itself on one thread.) */
static void ref_maxpool_forward(float *out, const float *in, int planes, int h, int w, int k, int stride,
                        int pad, int oh, int ow) {
    for (int p = 0; p < planes; p++) {
        const float *x = in + (size_t)p * h * w;
        float *y = out + (size_t)p * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float best = -FLT_MAX;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < w && x[iy * w + ix] > best) best = x[iy * w + ix];
                    }
                }
                y[oy * ow + ox] = best;
            }
    }
}

static float ref_avg_inv(int oy, int ox, int h, int w, int k, int stride, int pad, int exclude) {
    if (!exclude) return 1.0f / (float)(k * k);
    const int y0 = oy * stride - pad, x0 = ox * stride - pad;
    const int ny = (y0 + k < h ? y0 + k : h) - (y0 > 0 ? y0 : 0), nx = (x0 + k < w ? x0 + k : w) - (x0 > 0 ? x0 : 0);
    return 1.0f / (float)(ny * nx);
}

static void ref_avg_forward(float *out, const float *in, int planes, int h, int w, int k, int stride, int pad, int oh,
                        int ow, int exclude) {
    for (int p = 0; p < planes; p++) {
        const float *x = in + (size_t)p * h * w;
        float *y = out + (size_t)p * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float s = 0.0f;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < w) s += x[iy * w + ix];
                    }
                }
                y[oy * ow + ox] = s * ref_avg_inv(oy, ox, h, w, k, stride, pad, exclude);
            }
    }
}

static void ref_avg_backward(float *din, const float *dout, int planes, int h, int w, int k, int stride, int pad, int oh,
                         int ow, int accum, int exclude) {
    for (int p = 0; p < planes; p++) {
        const float *g = dout + (size_t)p * oh * ow;
        float *dx = din + (size_t)p * h * w;
        if (!accum) memset(dx, 0, sizeof(float) * (size_t)h * w);
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float v = g[oy * ow + ox] * ref_avg_inv(oy, ox, h, w, k, stride, pad, exclude);
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < w) dx[iy * w + ix] += v;
                    }
                }
            }
    }
}


/* Max and average pooling (counting and excluding the padding), forward and backward (set and
 * accumulating), against the loops above bit for bit: odd and even maps, TensorFlow's SAME
 * geometry (the odd padding pixel below and right), ResNet's stem pool, windows past the map,
 * ties (values on a coarse grid), -0 gradients, and 1 vs 2 threads */
static void test_pools_bit_identical(void) {
    static const int cases[][5] = {{3, 1, 1, 9, 9}, {3, 2, 1, 9, 5}, {3, 2, 0, 8, 4}, {2, 2, 0, 8, 4}, {2, 2, 0, 7, 4},
                                   {3, 2, 1, 12, 6}, {3, 2, 0, 2, 1}, {5, 3, 0, 13, 3}, {3, 1, 1, 1, 1}}; /* k s pad h oh */
    const int planes = 6;
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const int k = cases[t][0], st = cases[t][1], pad = cases[t][2], h = cases[t][3], oh = cases[t][4];
        const size_t nin = (size_t)planes * h * h, nout = (size_t)planes * oh * oh;
        float *x = tc_falloc(nin), *g = tc_falloc(nout), *a = tc_falloc(nout), *b = tc_falloc(nout), *da = tc_falloc(nin), *db = tc_falloc(nin);
        float *ws = tc_falloc(db_pool_workspace(k, st, oh, oh, 2));
        for (size_t i = 0; i < nin; i++) x[i] = (float)((int)((i * 7919) % 11) - 5); /* ties */
        tc_fill(g, nout, 77 + t, -1, 1);
        g[0] = -0.0f;
        for (int kind = 0; kind < 3; kind++) /* max, average counting the padding, average without */
            for (int accum = 0; accum < 2; accum++)
                for (int threads = 1; threads <= 2; threads++) {
                    for (size_t i = 0; i < nin; i++) da[i] = db[i] = accum ? 0.25f : 9.0f;
                    if (kind == 0) {
                        ref_maxpool_forward(a, x, planes, h, h, k, st, pad, oh, oh);
                        db_maxpool_backward(da, g, x, planes, h, h, k, st, pad, oh, oh, accum, ws, 1);
                        db_maxpool_forward(b, x, planes, h, h, k, st, pad, oh, oh, ws, threads);
                        db_maxpool_backward(db, g, x, planes, h, h, k, st, pad, oh, oh, accum, ws, threads);
                    } else {
                        ref_avg_forward(a, x, planes, h, h, k, st, pad, oh, oh, kind == 2);
                        ref_avg_backward(da, g, planes, h, h, k, st, pad, oh, oh, accum, kind == 2);
                        (kind == 2 ? db_avgpool_excl_forward : db_avgpool_forward)(b, x, planes, h, h, k, st, pad, oh, oh,
                                                                                    ws, threads);
                        (kind == 2 ? db_avgpool_excl_backward : db_avgpool_backward)(db, g, planes, h, h, k, st, pad, oh,
                                                                                      oh, accum, ws, threads);
                    }
                    CHECK(!memcmp(a, b, sizeof(float) * nout) && !memcmp(da, db, sizeof(float) * nin),
                          "%s pool k%d s%d pad %d on %dx%d -> %d, accum %d, %d threads: not the plain loops' bits",
                          kind ? "average" : "max", k, st, pad, h, h, oh, accum, threads);
                }
        free(x), free(g), free(a), free(b), free(da), free(db), free(ws);
    }
}

/* ---- TensorFlow's SAME pooling ---- */
typedef struct {
    tc_probe p;
    int planes, h, w, k, stride, pad, oh, ow;
    float *in;
} pool_t;

static void avg_excl_fwd(void *t) {
    pool_t *c = t;
    db_avgpool_excl_forward(c->p.out, c->in, c->planes, c->h, c->w, c->k, c->stride, c->pad, c->oh, c->ow,
                            tc_pool_ws(c->k, c->stride, c->oh, c->ow), 2);
}

/* Known answers on a 4x4 map of 1..16 (the padding below and right for stride 2, counted out of
 * the averages), through the graph's SAME pools; finite differences of the average's gradient */
static void test_pool_same(void) {
    db_graph g;
    db_graph_begin(&g, 1);
    int x = db_g_input(&g, 1, 4, 4);
    int a = db_g_pool_same(&g, x, 0, 3, 2), m = db_g_pool_same(&g, x, 1, 3, 2), a1 = db_g_pool_same(&g, x, 0, 3, 1);
    db_g_output(&g, a), db_g_output(&g, m), db_g_output(&g, a1);
    CHECK_OK(db_graph_finalize(&g));
    if (g.n_ops == 0) return;
    for (int i = 0; i < 16; i++) db_graph_input(&g)[i] = (float)(i + 1);
    db_graph_forward(&g);
    const float *ya = g.tensors[a].data, *ym = g.tensors[m].data, *y1 = g.tensors[a1].data;
    CHECK(g.tensors[a].h == 2 && g.tensors[a1].h == 4, "SAME sizes %d, %d", g.tensors[a].h, g.tensors[a1].h);
    CHECK(ya[0] == 6.0f && ya[1] == 7.5f && ya[3] == 13.5f, "SAME average 3/2: %g %g %g %g", ya[0], ya[1], ya[2], ya[3]);
    CHECK(ym[0] == 11.0f && ym[3] == 16.0f, "SAME max 3/2: %g %g %g %g", ym[0], ym[1], ym[2], ym[3]);
    CHECK(y1[0] == 3.5f && y1[5] == 6.0f, "SAME average 3/1: %g %g", y1[0], y1[5]);
    db_graph_free(&g);
    static const int cases[2][5] = {{3, 2, 8, 8, 0}, {3, 1, 7, 7, 1}}; /* k stride h w pad_top */
    for (int t = 0; t < 2; t++) {
        pool_t c = {0};
        c.planes = 4, c.k = cases[t][0], c.stride = cases[t][1], c.h = cases[t][2], c.w = cases[t][3];
        c.pad = cases[t][4], c.oh = (c.h + c.stride - 1) / c.stride, c.ow = (c.w + c.stride - 1) / c.stride;
        const size_t nin = (size_t)c.planes * c.h * c.w;
        c.p.nout = (size_t)c.planes * c.oh * c.ow;
        c.in = tc_falloc(nin), c.p.out = tc_falloc(c.p.nout), c.p.r = tc_falloc(c.p.nout), c.p.fwd = avg_excl_fwd;
        float *din = tc_falloc(nin);
        tc_fill(c.in, nin, 31, -1, 1), tc_fill(c.p.r, c.p.nout, 32, -1, 1);
        db_avgpool_excl_backward(din, c.p.r, c.planes, c.h, c.w, c.k, c.stride, c.pad, c.oh, c.ow, 0,
                                 tc_pool_ws(c.k, c.stride, c.oh, c.ow), 2);
        tc_gradcheck(t ? "SAME average 3/1 din" : "SAME average 3/2 din", tc_probe_loss, &c, c.in, din, nin, 60, 1e-2f, 1e-4,
                     1e-3);
        free(c.in), free(c.p.out), free(c.p.r), free(din);
    }
}

/* Convolutions with TensorFlow's SAME padding (the odd pixel below and right): one input and one
 * output channel equal the depthwise convolution's own SAME code, forward and both gradients,
 * strided and not, odd and even kernels */
static void test_conv_same(void) {
    static const int cases[5][3] = {{3, 2, 8}, {3, 1, 7}, {2, 1, 6}, {5, 2, 9}, {3, 2, 2}}; /* k stride side */
    for (int t = 0; t < 5; t++) {
        const int k = cases[t][0], st = cases[t][1], h = cases[t][2], n = 2;
        db_conv_dims cd;
        db_dw_dims dd;
        db_conv_dims_same(&cd, 1, 1, k, k, st, st, h, h);
        db_dw_dims_same(&dd, 1, k, k, st, h, h);
        CHECK(cd.oh == dd.oh && cd.ph == dd.pad_top && cd.pw == dd.pad_left, "SAME k%d s%d on %d: conv %d pad %d, depthwise %d pad %d",
              k, st, h, cd.oh, cd.ph, dd.oh, dd.pad_top);
        const int total = (cd.oh - 1) * st + k - h; /* symmetric (cuDNN can run it) only with an even total */
        CHECK(db_conv_symmetric(&cd) == (total % 2 == 0), "SAME k%d s%d on %d: padding %d in all, symmetric %d", k, st, h,
              total, db_conv_symmetric(&cd));
        db_conv_plan(&cd, n, 1);
        const size_t nin = (size_t)n * h * h, nout = (size_t)n * cd.oh * cd.ow;
        float *in = tc_falloc(nin), *wt = tc_falloc((size_t)k * k), *a = tc_falloc(nout), *b = tc_falloc(nout), *g = tc_falloc(nout);
        float *dia = tc_falloc(nin), *dib = tc_falloc(nin), *dwa = tc_falloc((size_t)k * k), *dwb = tc_falloc((size_t)k * k);
        float *ws = tc_falloc(db_conv_workspace(&cd, n, 1));
        tc_fill(in, nin, 41 + t, -1, 1), tc_fill(wt, (size_t)k * k, 51 + t, -1, 1), tc_fill(g, nout, 61 + t, -1, 1);
        db_conv_forward(a, in, wt, ws, &cd, n, 1);
        db_dw_forward(b, in, wt, dw_ws(&dd), &dd, n, 2);
        db_conv_backward(dia, dwa, g, in, wt, ws, &cd, n, 0, 1);
        db_dw_backward(dib, dwb, g, in, wt, dw_ws(&dd), &dd, n, 0, 2);
        double e = 0;
        for (size_t i = 0; i < nout; i++) e = fmax(e, fabs((double)a[i] - b[i]));
        for (size_t i = 0; i < nin; i++) e = fmax(e, fabs((double)dia[i] - dib[i]));
        for (int i = 0; i < k * k; i++) e = fmax(e, fabs((double)dwa[i] - dwb[i]));
        CHECK(e < 1e-4, "SAME k%d s%d on %dx%d: convolution and depthwise differ by %g", k, st, h, h, e);
        free(in), free(wt), free(a), free(b), free(g), free(dia), free(dib), free(dwa), free(dwb), free(ws);
    }
    /* the graph's convolution (oneDNN's primitives where the build has them) alike */
    db_graph gr;
    db_graph_begin(&gr, 2);
    int x = db_g_input(&gr, 1, 8, 8), yc = db_g_conv_same(&gr, x, 1, 3, 2, "c"), yd = db_g_dwconv(&gr, x, 3, 3, 2, "d");
    db_g_output(&gr, yc), db_g_output(&gr, yd);
    CHECK_OK(db_graph_finalize(&gr));
    if (gr.n_ops == 0) return;
    db_graph_init_params(&gr, 9);
    memcpy(gr.params[1].data, gr.params[0].data, 9 * sizeof(float));
    tc_fill(db_graph_input(&gr), 128, 71, -1, 1);
    db_graph_forward(&gr);
    double e = 0;
    for (int i = 0; i < 2 * 16; i++) e = fmax(e, fabs((double)gr.tensors[yc].data[i] - gr.tensors[yd].data[i]));
    CHECK(gr.tensors[yc].h == 4 && e < 1e-5, "the graph's SAME convolution: %dx%d, off by %g", gr.tensors[yc].w,
          gr.tensors[yc].h, e);
    db_graph_free(&gr);
    /* several channels through the graph (oneDNN's passes where the build has them), forward and
     * both gradients, against the GEMM path's */
    db_graph_begin(&gr, 2);
    x = db_g_relu(&gr, db_g_input(&gr, 3, 8, 8)); /* a tensor with a gradient: the backward-data pass runs */
    yc = db_g_conv_same(&gr, x, 4, 3, 2, "c");
    db_g_output(&gr, yc);
    CHECK_OK(db_graph_finalize(&gr));
    db_graph_init_params(&gr, 10);
    float *gin = db_graph_input(&gr);
    tc_fill(gin, 3 * 2 * 64, 72, -1, 1);
    db_graph_forward(&gr);
    tc_fill(gr.tensors[yc].grad, 4 * 2 * 16, 73, -1, 1);
    db_graph_backward(&gr);
    db_conv_dims cd;
    db_conv_dims_same(&cd, 3, 4, 3, 3, 2, 2, 8, 8);
    db_conv_plan(&cd, 2, 1);
    float *ws = tc_falloc(db_conv_workspace(&cd, 2, 1)), yo[4 * 2 * 16], dwo[4 * 3 * 9], dxo[3 * 2 * 64];
    const float *xr = gr.tensors[x].data;
    db_conv_forward(yo, xr, gr.params[0].data, ws, &cd, 2, 1);
    db_conv_backward(dxo, dwo, gr.tensors[yc].grad, xr, gr.params[0].data, ws, &cd, 2, 0, 1);
    e = 0;
    for (int i = 0; i < 3 * 2 * 64; i++) e = fmax(e, fabs((double)dxo[i] - gr.tensors[x].grad[i]));
    for (int i = 0; i < 4 * 2 * 16; i++) e = fmax(e, fabs((double)yo[i] - gr.tensors[yc].data[i]));
    for (int i = 0; i < 4 * 3 * 9; i++) e = fmax(e, fabs((double)dwo[i] - gr.params[0].grad[i]));
    CHECK(e < 1e-4, "the graph's SAME convolution with 3 -> 4 channels and the GEMM path differ by %g", e);
    free(ws);
    db_graph_free(&gr);
}

/* Rectangular SAME convolutions (AmoebaNet's 1x7 and 7x1 with stride [1, s] and [s, 1]) on
 * maps of any shape: the forward equals a VALID convolution of the input padded by hand as
 * TensorFlow pads it (the smaller half above and left), and both gradients pass finite differences */
static void test_conv_same_rect(void) {
    static const int cases[][6] = {{1, 7, 1, 2, 6, 9}, {7, 1, 2, 1, 9, 6}, {1, 7, 1, 1, 5, 8}, {7, 1, 1, 1, 8, 5},
                                   {3, 5, 2, 1, 7, 4}, {1, 7, 1, 2, 3, 2}}; /* kh kw sh sw h w */
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const int kh = cases[t][0], kw = cases[t][1], sh = cases[t][2], sw = cases[t][3], h = cases[t][4], w = cases[t][5];
        const int n = 2, cin = 2, cout = 3;
        db_conv_dims sd, vd;
        db_conv_dims_same(&sd, cin, cout, kh, kw, sh, sw, h, w);
        const int th = (sd.oh - 1) * sh + kh - h, tw = (sd.ow - 1) * sw + kw - w; /* TF's total padding */
        const int ph = th > 0 ? th : 0, pw = tw > 0 ? tw : 0, hp = h + ph, wp = w + pw;
        CHECK(sd.oh == (h + sh - 1) / sh && sd.ow == (w + sw - 1) / sw && sd.ph == ph / 2 && sd.pw == pw / 2,
              "SAME k%dx%d s%dx%d on %dx%d: %dx%d out, padding %d above %d left (rows x columns)", kh, kw, sh, sw, h, w,
              sd.oh, sd.ow, sd.ph, sd.pw);
        db_conv_dims_rect(&vd, cin, cout, kh, kw, sh, sw, 0, 0, hp, wp);
        CHECK(vd.oh == sd.oh && vd.ow == sd.ow, "VALID on the padded map: %dx%d", vd.oh, vd.ow);
        db_conv_plan(&sd, n, 1), db_conv_plan(&vd, n, 1);
        const size_t nin = (size_t)cin * n * h * w, npad = (size_t)cin * n * hp * wp, nout = (size_t)cout * n * sd.oh * sd.ow,
                     nw = (size_t)cout * cin * kh * kw;
        float *in = tc_falloc(nin), *pad = tc_falloc(npad), *wt = tc_falloc(nw), *a = tc_falloc(nout), *b = tc_falloc(nout);
        float *ws = tc_falloc(db_conv_workspace(&sd, n, 1) + db_conv_workspace(&vd, n, 1));
        tc_fill(in, nin, 81 + (int)t, -1, 1), tc_fill(wt, nw, 91 + (int)t, -1, 1);
        for (int p = 0; p < cin * n; p++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    pad[((size_t)p * hp + y + ph / 2) * wp + x + pw / 2] = in[((size_t)p * h + y) * w + x];
        db_conv_forward(a, in, wt, ws, &sd, n, 1);
        db_conv_forward(b, pad, wt, ws, &vd, n, 1);
        double e = 0;
        for (size_t i = 0; i < nout; i++) e = fmax(e, fabs((double)a[i] - b[i]));
        CHECK(e < 1e-5, "SAME k%dx%d s%dx%d on %dx%d against VALID on the padded map: off by %g", kh, kw, sh, sw, h, w, e);
        free(in), free(pad), free(wt), free(a), free(b), free(ws);
        tc_conv_gradcheck(&sd, n, 1 << 24, 2);
    }
    /* the graph builds them on maps that are not square, 1x7 then 7x1 as the official op stacks them */
    db_graph gr;
    db_graph_begin(&gr, 2);
    int x = db_g_input(&gr, 4, 9, 6), y = db_g_conv_same_rect(&gr, x, 4, 1, 7, 1, 2, "a");
    y = db_g_conv_same_rect(&gr, y, 4, 7, 1, 2, 1, "b");
    CHECK_OK(db_graph_finalize(&gr));
    CHECK(gr.tensors[y].h == 5 && gr.tensors[y].w == 3 && gr.params[0].size == 4 * 4 * 7 && gr.params[0].fan == 28,
          "1x7 s[1,2] then 7x1 s[2,1] on 6x9: %dx%d, %zu weights, fan %d", gr.tensors[y].w, gr.tensors[y].h, gr.params[0].size,
          gr.params[0].fan);
    db_graph_free(&gr);
}

const db_test db_tests_spatial[] = {
    {"conv_same", test_conv_same},
    {"conv_same_rect", test_conv_same_rect},
    {"pool_same", test_pool_same},
    {"pools_bit_identical", test_pools_bit_identical},
    {"depthwise", test_depthwise},
    {"upsample_bias_gradients", test_upsample_bias},
    {"resize_bilinear", test_resize_bilinear},
    {NULL, NULL},
};
