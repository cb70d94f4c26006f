/* Finite-difference checks of the convolutions', batch norm's, element-wise ops', pools', the
 * linear layer's and the loss's backward, plus known values of the forward (the resampling,
 * depthwise and SAME-padded ops: test_spatial.c). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/conv_dnnl.h"
#include "nets/ops.h"
#include "core/gemm.h"
#include "tests/check.h"
#include "tests/gradcheck.h"

/* ---- convolution ---- */

static void check_conv(int cin, int cout, int k, int stride, int pad, int h, int w, int n, size_t cap, int threads) {
    db_conv_dims d;
    db_conv_dims_init(&d, cin, cout, k, stride, pad, h, w);
    tc_conv_gradcheck(&d, n, cap, threads);
}

/* kh x kw kernels, strides sh down and sw across: AmoebaNet's 1x7 then 7x1 (stride [1, s] then
 * [s, 1]), stride 1 through the transposed convolution, strided through col2im, chunked */
static void check_conv_rect(int kh, int kw, int sh, int sw, int ph, int pw, int h, int w, size_t cap, int threads) {
    db_conv_dims d;
    db_conv_dims_rect(&d, 2, 3, kh, kw, sh, sw, ph, pw, h, w);
    tc_conv_gradcheck(&d, 3, cap, threads);
}

static void test_conv_grad(void) {
    for (int t = 1; t <= 3; t++) { /* one thread, two, and more threads than chunks */
        check_conv(2, 3, 3, 1, 1, 5, 5, 2, 1 << 24, t);
        check_conv(2, 3, 3, 2, 1, 7, 6, 2, 1 << 24, t);
        check_conv(3, 2, 1, 1, 0, 4, 4, 2, 1 << 24, t);  /* pointwise: direct GEMM path */
        check_conv(3, 4, 1, 2, 0, 5, 5, 2, 1 << 24, t);  /* strided projection */
        check_conv(2, 2, 5, 2, 2, 7, 5, 3, 1 << 24, t);  /* non-square map, large kernel */
        check_conv(2, 2, 2, 1, 0, 5, 4, 2, 1 << 24, t);  /* even kernel */
        check_conv(2, 3, 3, 1, 1, 5, 5, 5, 100, t);      /* one sample per chunk */
        check_conv(2, 3, 3, 1, 1, 5, 5, 5, 500, t);      /* two samples per chunk, 5 = 2+2+1 */
        check_conv(3, 2, 3, 2, 1, 6, 6, 7, 300, t);      /* strided, chunked: col2im path */
        check_conv(2, 2, 5, 1, 2, 5, 1, 2, 1 << 24, t);  /* a 1-pixel-wide map: shifts beyond it */
        check_conv_rect(1, 7, 1, 1, 0, 3, 6, 9, 1 << 24, t);  /* 1x7 */
        check_conv_rect(7, 1, 1, 1, 3, 0, 9, 6, 1 << 24, t);  /* 7x1 */
        check_conv_rect(1, 7, 1, 2, 0, 3, 5, 9, 1 << 24, t);  /* 1x7, stride 2 across */
        check_conv_rect(7, 1, 2, 1, 3, 0, 9, 5, 1 << 24, t);  /* 7x1, stride 2 down */
        check_conv_rect(3, 5, 1, 1, 1, 2, 6, 7, 200, t);      /* chunked */
        check_conv_rect(2, 3, 2, 1, 0, 1, 7, 5, 1 << 24, t);  /* even rows, odd columns */
        /* weight-heavy (n*oh*ow <= cout): the whole batch, GEMMs cut by rows */
        check_conv(3, 24, 3, 1, 1, 2, 2, 2, 1 << 24, t);  /* ResNet-18's 2x2 maps */
        check_conv(3, 16, 3, 2, 1, 4, 3, 2, 1 << 24, t);  /* strided: col2im by channels */
        check_conv(4, 16, 1, 1, 0, 2, 2, 2, 1 << 24, t);  /* pointwise */
        check_conv(4, 16, 1, 2, 0, 4, 4, 2, 1 << 24, t);  /* strided projection */
        check_conv(5, 8, 3, 1, 1, 1, 1, 3, 100, t);       /* 1x1 maps, a cap below one sample */
    }
}

static double max_rel(const float *a, const float *b, size_t n);

/* A convolution planned for a batch that is not weight-heavy, run on a smaller batch that is:
 * the whole-batch path only where the planned buffer holds it, the same outputs and gradients
 * either way (within rounding) */
static void test_conv_weight_heavy_planned(void) {
    for (int t = 1; t <= 2; t++) {
        db_conv_dims d, u;
        db_conv_dims_init(&d, 3, 24, 3, 1, 1, 2, 2);
        u = d;
        db_conv_set_col_cap(200); /* a chunk of one sample */
        db_conv_plan(&d, 8, t);
        CHECK(!db_conv_weight_heavy(&d, 8) && db_conv_weight_heavy(&d, 2), "the rule at 8 and 2 samples");
        const int n = 2;
        size_t nin = (size_t)3 * n * 4, nw = (size_t)24 * 3 * 9, nout = (size_t)24 * n * 4;
        float *in = tc_falloc(nin), *w = tc_falloc(nw), *r = tc_falloc(nout), *ws = tc_falloc(db_conv_workspace(&d, 8, t)),
              *wu = tc_falloc(db_conv_workspace(&u, n, t)), *o1 = tc_falloc(nout), *o2 = tc_falloc(nout), *dx1 = tc_falloc(nin),
              *dx2 = tc_falloc(nin), *dw1 = tc_falloc(nw), *dw2 = tc_falloc(nw);
        tc_fill(in, nin, 1, -1, 1), tc_fill(w, nw, 2, -1, 1), tc_fill(r, nout, 3, -1, 1);
        db_conv_forward(o1, in, w, ws, &d, n, t);
        db_conv_backward(dx1, dw1, r, in, w, ws, &d, n, 0, t);
        db_conv_forward(o2, in, w, wu, &u, n, t);
        db_conv_backward(dx2, dw2, r, in, w, wu, &u, n, 0, t);
        CHECK(max_rel(o1, o2, nout) < 1e-5 && max_rel(dx1, dx2, nin) < 1e-5 && max_rel(dw1, dw2, nw) < 1e-5,
              "%d threads: planned %g %g %g from the unplanned", t, max_rel(o1, o2, nout), max_rel(dx1, dx2, nin),
              max_rel(dw1, dw2, nw));
        free(in), free(w), free(r), free(ws), free(wu), free(o1), free(o2), free(dx1), free(dx2), free(dw1), free(dw2);
        db_conv_set_col_cap((size_t)1 << 18);
    }
}

/* oneDNN's convolutions (nets/conv_dnnl.h) against the GEMM path on the same CNHW arrays:
 * forward, input gradient (overwritten and accumulated) and weight gradient within 1e-5 of the
 * largest value, for the batch the primitives were made for and a smaller one; the same bits
 * twice. Skipped (said) in a build without oneDNN. */
static double max_rel(const float *a, const float *b, size_t n) {
    double d = 0, s = 1e-12;
    for (size_t i = 0; i < n; i++) {
        double e = a[i] - (double)b[i];
        d = e < 0 ? (-e > d ? -e : d) : (e > d ? e : d);
        s = b[i] < 0 ? (-b[i] > s ? -b[i] : s) : (b[i] > s ? b[i] : s);
    }
    return d / s;
}

static void check_dnnl_dims(db_conv_dims d, int n_max) {
    const int cin = d.cin, cout = d.cout, h = d.h, w = d.w;
    char k[40]; /* "k1x7 s1x2": rows x columns */
    snprintf(k, sizeof k, "k%dx%d s%dx%d", d.kh, d.kw, d.sh, d.sw);
    db_conv_plan(&d, n_max, 1);
    db_dnnl_conv *c = NULL;
    CHECK_OK(db_dnnl_conv_create(&c, &d, n_max, 1));
    if (!c) return;
    for (int n = n_max; n >= n_max - 1 && n >= 1; n--) {
        size_t nx = (size_t)cin * n * h * w, ny = (size_t)cout * n * d.oh * d.ow, nw = (size_t)cout * cin * d.kh * d.kw;
        float *x = tc_falloc(nx), *wt = tc_falloc(nw), *dy = tc_falloc(ny), *y = tc_falloc(ny), *y2 = tc_falloc(ny), *dx = tc_falloc(nx),
              *dx2 = tc_falloc(nx), *dw = tc_falloc(nw), *dw2 = tc_falloc(nw), *ws = tc_falloc(db_conv_workspace(&d, n, 1)),
              *again = tc_falloc(ny);
        tc_fill(x, nx, 11, -1, 1); tc_fill(wt, nw, 12, -0.5f, 0.5f); tc_fill(dy, ny, 13, -1, 1);
        db_conv_forward(y, x, wt, ws, &d, n, 1);
        CHECK_OK(db_dnnl_conv_forward(c, y2, x, wt, n));
        CHECK(max_rel(y2, y, ny) < 1e-5, "%s %d->%d n%d: forward differs by %.2g", k, cin, cout, n, max_rel(y2, y, ny));
        CHECK_OK(db_dnnl_conv_forward(c, again, x, wt, n));
        CHECK(!memcmp(again, y2, sizeof(float) * ny), "%s n%d: the forward is not the same bits twice", k, n);
        for (int accum = 0; accum < 2; accum++) {
            tc_fill(dx, nx, 14, -1, 1);
            memcpy(dx2, dx, sizeof(float) * nx);
            db_conv_backward(dx, dw, dy, x, wt, ws, &d, n, accum, 1);
            CHECK_OK(db_dnnl_conv_backward(c, dx2, dw2, dy, x, wt, n, accum));
            CHECK(max_rel(dx2, dx, nx) < 1e-5 && max_rel(dw2, dw, nw) < 1e-5, "%s n%d accum %d: din %.2g, dweight %.2g", k,
                  n, accum, max_rel(dx2, dx, nx), max_rel(dw2, dw, nw));
        }
        free(x); free(wt); free(dy); free(y); free(y2); free(dx); free(dx2); free(dw); free(dw2); free(ws); free(again);
    }
    db_dnnl_conv_destroy(c);
}

static void check_dnnl(int cin, int cout, int k, int stride, int pad, int h, int w, int n_max) {
    db_conv_dims d;
    db_conv_dims_init(&d, cin, cout, k, stride, pad, h, w);
    check_dnnl_dims(d, n_max);
}

/* The backward reads the input it is given, whatever ran since the forward: a forward of another
 * batch size rebuilt the second set in between, a second forward at this size read another
 * input; the same bits twice; a first layer made without an input gradient; another thread
 * count refused (the graph then takes the GEMM path) */
static void check_dnnl_order(void) {
    db_conv_dims d;
    db_conv_dims_init(&d, 8, 12, 3, 1, 1, 9, 9);
    db_conv_plan(&d, 6, 1);
    db_dnnl_conv *c = NULL, *first = NULL;
    CHECK_OK(db_dnnl_conv_create(&c, &d, 6, 1));
    CHECK_OK(db_dnnl_conv_create(&first, &d, 6, 0));
    if (!c || !first) { db_dnnl_conv_destroy(c); db_dnnl_conv_destroy(first); return; }
    const int n = 4;
    size_t nx = (size_t)8 * 6 * 81, ny = (size_t)12 * 6 * 81, nw = (size_t)12 * 8 * 9;
    float *x = tc_falloc(nx), *x2 = tc_falloc(nx), *wt = tc_falloc(nw), *dy = tc_falloc(ny), *y = tc_falloc(ny), *dx = tc_falloc(nx),
          *dx2 = tc_falloc(nx), *dx3 = tc_falloc(nx), *dw = tc_falloc(nw), *dw2 = tc_falloc(nw), *dw3 = tc_falloc(nw),
          *ws = tc_falloc(db_conv_workspace(&d, 6, 1));
    tc_fill(x, nx, 21, -1, 1); tc_fill(x2, nx, 22, -1, 1); tc_fill(wt, nw, 23, -0.5f, 0.5f); tc_fill(dy, ny, 24, -1, 1);
    db_conv_backward(dx, dw, dy, x, wt, ws, &d, n, 0, 1);
    CHECK_OK(db_dnnl_conv_forward(c, y, x, wt, n));
    CHECK_OK(db_dnnl_conv_forward(c, y, x2, wt, 3)); /* the second set rebuilt for batch 3 */
    CHECK_OK(db_dnnl_conv_backward(c, dx2, dw2, dy, x, wt, n, 0)); /* and for batch 4 again: nothing kept */
    CHECK(max_rel(dx2, dx, (size_t)8 * n * 81) < 1e-5 && max_rel(dw2, dw, nw) < 1e-5,
          "backward after another batch size's forward: din %.2g, dweight %.2g", max_rel(dx2, dx, (size_t)8 * n * 81),
          max_rel(dw2, dw, nw));
    CHECK_OK(db_dnnl_conv_forward(c, y, x, wt, n));
    CHECK_OK(db_dnnl_conv_forward(c, y, x2, wt, n)); /* the kept input is x2's now */
    CHECK_OK(db_dnnl_conv_backward(c, dx3, dw3, dy, x, wt, n, 0));
    CHECK(max_rel(dw3, dw, nw) < 1e-5, "backward of x after a forward of x2: dweight %.2g", max_rel(dw3, dw, nw));
    CHECK(!memcmp(dx3, dx2, sizeof(float) * 8 * n * 81) && !memcmp(dw3, dw2, sizeof(float) * nw),
          "the backward is not the same bits twice");
    CHECK_OK(db_dnnl_conv_forward(first, y, x, wt, n));
    CHECK_OK(db_dnnl_conv_backward(first, NULL, dw3, dy, x, wt, n, 0));
    CHECK(max_rel(dw3, dw, nw) < 1e-5, "a first layer's dweight %.2g", max_rel(dw3, dw, nw));
    CHECK(db_dnnl_conv_backward(first, dx3, dw3, dy, x, wt, n, 0) != DB_OK, "an input gradient from a first layer");
    int threads = omp_get_max_threads();
    omp_set_num_threads(threads + 1);
    CHECK(db_dnnl_conv_forward(c, y, x, wt, n) == DB_ERR_ARG, "another thread count was not refused");
    omp_set_num_threads(threads);
    db_dnnl_conv_destroy(c);
    db_dnnl_conv_destroy(first);
    free(x); free(x2); free(wt); free(dy); free(y); free(dx); free(dx2); free(dx3); free(dw); free(dw2); free(dw3); free(ws);
}

static void test_conv_dnnl(void) {
    if (!db_dnnl_enabled()) {
        printf("  (no oneDNN in this build, or DROPBENCH_CONV=gemm: nothing to compare)\n");
        return;
    }
    check_dnnl(16, 16, 3, 1, 1, 14, 14, 8);  /* ResNet-20's groups */
    check_dnnl(16, 32, 3, 2, 1, 14, 13, 5);  /* strided, odd sizes */
    check_dnnl(3, 8, 7, 2, 3, 17, 17, 3);    /* an ImageNet stem */
    check_dnnl(24, 40, 1, 1, 0, 7, 7, 4);    /* pointwise, channels not a multiple of 16 */
    check_dnnl(8, 8, 1, 2, 0, 9, 9, 2);      /* a strided projection */
    check_dnnl(2, 4, 3, 1, 1, 1, 6, 2);      /* a one-row map */
    check_dnnl(8, 16, 1, 2, 0, 8, 8, 2);     /* a strided projection on an even map: negative right padding */
    db_conv_dims d; /* AmoebaNet's 1x7 and 7x1 with TensorFlow's SAME padding */
    db_conv_dims_same(&d, 8, 16, 1, 7, 1, 2, 9, 10), check_dnnl_dims(d, 3);
    db_conv_dims_same(&d, 16, 8, 7, 1, 2, 1, 10, 5), check_dnnl_dims(d, 3);
    db_conv_dims_same(&d, 8, 8, 1, 7, 1, 1, 7, 7), check_dnnl_dims(d, 2);
    check_dnnl_order();
}

static void test_conv_known(void) {
    /* 1 channel 3x3 input, 3x3 kernel of ones, pad 1: each output is the sum of its window. */
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[9], out[9], col[256];
    for (int i = 0; i < 9; i++) w[i] = 1.0f;
    db_conv_dims d;
    db_conv_dims_init(&d, 1, 1, 3, 1, 1, 3, 3);
    CHECK(d.oh == 3 && d.ow == 3, "output size %dx%d", d.oh, d.ow);
    db_conv_forward(out, in, w, col, &d, 1, 1);
    float want[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
    for (int i = 0; i < 9; i++) CHECK_CLOSE(out[i], want[i], 1e-5, 0);
}

/* ---- batch norm ---- */
typedef struct {
    tc_probe p;
    int c, relu, groups;
    size_t m;
    float *in, *gamma, *beta, *save, *run;
} bn_t;

static void bn_fwd(void *t) {
    bn_t *b = t;
    db_bn_forward_train(b->p.out, b->save, b->save + b->c * b->groups, b->run, b->run + b->c, b->in, b->gamma,
                        b->beta, 0.1f, 1e-5f, b->relu, b->c, b->m, b->groups, NULL);
}

static void check_bn_grad(int relu, int groups) {
    bn_t b = {0};
    b.c = 3; b.m = 2 * 4 * 5; b.relu = relu; b.groups = groups;
    size_t n = b.c * b.m;
    b.in = tc_falloc(n); b.gamma = tc_falloc(b.c); b.beta = tc_falloc(b.c); b.save = tc_falloc(2 * (size_t)b.c * groups);
    b.run = tc_falloc(2 * b.c);
    b.p.out = tc_falloc(n); b.p.r = tc_falloc(n); b.p.nout = n; b.p.fwd = bn_fwd;
    /* (seed 4 in two groups puts an output on the ReLU's kink, where differences cannot agree) */
    tc_fill(b.in, n, groups == 1 ? 4 : 14, -2, 3); tc_fill(b.gamma, b.c, 5, 0.5f, 1.5f); tc_fill(b.beta, b.c, 6, -1, 1);
    tc_fill(b.p.r, n, 7, -1, 1);
    float *din = tc_falloc(n), *dg = tc_falloc(b.c), *dbeta = tc_falloc(b.c);
    bn_fwd(&b);
    /* normalised output: per channel mean beta and sd gamma */
    const size_t mg = b.m / groups; /* each group on its own: mean beta and sd gamma */
    for (int ch = 0; ch < b.c && !relu; ch++)
        for (int gi = 0; gi < groups; gi++) {
            const float *y = b.p.out + ch * b.m + gi * mg;
            double s = 0, ss = 0;
            for (size_t i = 0; i < mg; i++) s += y[i];
            double mean = s / mg;
            for (size_t i = 0; i < mg; i++) ss += pow(y[i] - mean, 2);
            CHECK_CLOSE(mean, b.beta[ch], 1e-5, 0);
            CHECK_CLOSE(sqrt(ss / mg), b.gamma[ch], 1e-3, 1e-3);
        }
    if (relu) { /* ReLU applied: no negatives, and some zeros (beta spans [-1, 1]) */
        int neg = 0, zero = 0;
        for (size_t i = 0; i < n; i++) { neg += b.p.out[i] < 0; zero += b.p.out[i] == 0; }
        CHECK(neg == 0 && zero > 0, "fused relu: %d negative, %d zero outputs", neg, zero);
    }
    db_bn_backward(din, dg, dbeta, b.p.r, b.in, b.gamma, b.beta, b.save, b.save + b.c * groups, relu, b.c, b.m, groups, 0,
                   NULL);
    tc_gradcheck(relu ? "bn+relu din" : "bn din", tc_probe_loss, &b, b.in, din, n, 60, 1e-3f, 2e-3, 1e-2);
    tc_gradcheck("bn dgamma", tc_probe_loss, &b, b.gamma, dg, b.c, 10, 1e-3f, 2e-3, 1e-2);
    tc_gradcheck("bn dbeta", tc_probe_loss, &b, b.beta, dbeta, b.c, 10, 1e-3f, 2e-3, 1e-2);
    free(b.in); free(b.gamma); free(b.beta); free(b.save); free(b.run); free(b.p.out);
    free(b.p.r); free(din); free(dg); free(dbeta);
}

static void test_bn_grad(void) {
    for (int groups = 1; groups <= 2; groups++) {
        check_bn_grad(0, groups);
        check_bn_grad(1, groups);
    }
}

/* Ghost batch norm (groups of samples normalised on their own, as each replica of a data-parallel
 * run does): two groups of one batch give the bits of two batch norms over the halves, forward
 * and backward, a fused DropBlock rescale (per-sample scales) included; the running statistics
 * follow the groups' average */
static void test_bn_ghost(void) {
    enum { C = 3, N = 4, HW = 5, M = N * HW, G = 2, MG = M / G };
    float x[C * M], y[C * M], dy[C * M], dx[C * M], gam[C], bet[C], save[2 * C * G], run[2 * C], scales[N];
    float half_x[G][C * MG], half_y[G][C * MG], half_dy[G][C * MG], half_dx[G][C * MG], hsave[G][2 * C], hrun[G][2 * C];
    float dg[C], db[C], hdg[G][C], hdb[G][C];
    unsigned char mask[C * M], half_mask[G][C * MG];
    tc_fill(x, C * M, 31, -2, 3), tc_fill(dy, C * M, 32, -1, 1), tc_fill(gam, C, 33, 0.5f, 1.5f), tc_fill(bet, C, 34, -1, 1);
    tc_fill(scales, N, 35, 1, 2);
    for (int i = 0; i < C * M; i++) mask[i] = (unsigned char)(i % 7 != 3);
    for (int post_on = 0; post_on < 2; post_on++) {
        for (int i = 0; i < 2 * C; i++) run[i] = i < C ? 0.0f : 1.0f;
        const db_bn_post post = {mask, scales, HW, 0};
        db_bn_forward_train(y, save, save + C * G, run, run + C, x, gam, bet, 0.1f, 1e-5f, 1, C, M, G, post_on ? &post : NULL);
        db_bn_backward(dx, dg, db, dy, x, gam, bet, save, save + C * G, 1, C, M, G, 0, post_on ? &post : NULL);
        double want_mean = 0;
        for (int h = 0; h < G; h++) {
            for (int ch = 0; ch < C; ch++)
                for (int i = 0; i < MG; i++) {
                    half_x[h][ch * MG + i] = x[ch * M + h * MG + i], half_dy[h][ch * MG + i] = dy[ch * M + h * MG + i];
                    half_mask[h][ch * MG + i] = mask[ch * M + h * MG + i];
                }
            for (int i = 0; i < 2 * C; i++) hrun[h][i] = i < C ? 0.0f : 1.0f;
            const db_bn_post hp = {half_mask[h], scales + h * (N / G), HW, 0};
            db_bn_forward_train(half_y[h], hsave[h], hsave[h] + C, hrun[h], hrun[h] + C, half_x[h], gam, bet, 0.1f, 1e-5f, 1,
                                C, MG, 1, post_on ? &hp : NULL);
            db_bn_backward(half_dx[h], hdg[h], hdb[h], half_dy[h], half_x[h], gam, bet, hsave[h], hsave[h] + C, 1, C, MG,
                           1, 0, post_on ? &hp : NULL);
            want_mean += hrun[h][0] / G;
        }
        int same = 1;
        for (int h = 0; h < G; h++)
            for (int ch = 0; ch < C; ch++) {
                same &= !memcmp(y + ch * M + h * MG, half_y[h] + ch * MG, sizeof(float) * MG);
                same &= !memcmp(dx + ch * M + h * MG, half_dx[h] + ch * MG, sizeof(float) * MG);
                same &= save[ch * G + h] == hsave[h][ch] && save[C * G + ch * G + h] == hsave[h][C + ch];
            }
        for (int ch = 0; ch < C; ch++) same &= dg[ch] == hdg[0][ch] + hdg[1][ch] && db[ch] == hdb[0][ch] + hdb[1][ch];
        CHECK(same, "ghost batch norm%s: two groups are not the bits of two batch norms over the halves",
              post_on ? " with a fused rescale" : "");
        CHECK(fabs(run[0] - want_mean) < 1e-7, "running mean %.9g, the groups' average %.9g", run[0], want_mean);
    }
}

static void test_bn_running_and_inference(void) {
    /* one channel, values 1..4: batch mean 2.5, biased var 1.25, unbiased 5/3 */
    float in[4] = {1, 2, 3, 4}, out[4], save[2], run[2] = {0.0f, 1.0f}, g = 2.0f, be = 0.5f;
    db_bn_forward_train(out, save, save + 1, run, run + 1, in, &g, &be, 0.1f, 0.0f, 0, 1, 4, 1, NULL);
    CHECK_CLOSE(run[0], 0.25, 1e-6, 0);
    CHECK_CLOSE(run[1], 0.9 + 0.1 * 5.0 / 3.0, 1e-6, 0);
    CHECK_CLOSE(out[0], 2.0 * (1 - 2.5) / sqrt(1.25) + 0.5, 1e-5, 0);
    /* inference uses the running statistics, not the batch's */
    float rm = 1.0f, rv = 4.0f;
    float run2[2] = {rm, rv};
    db_bn_forward_infer(out, in, &g, &be, run2, run2 + 1, 0.0f, 0, 1, 4);
    for (int i = 0; i < 4; i++) CHECK_CLOSE(out[i], 2.0 * (in[i] - 1.0) / 2.0 + 0.5, 1e-6, 0);
}

/* ---- element-wise, pools, linear ---- */
typedef struct {
    tc_probe p;
    int kind, planes, h, w, k, s, pad, oh, ow, c, n, f, o;
    float *in, *in2, *wt, *bias;
} misc_t;

enum { K_RELU, K_MAX, K_AVG, K_GAP, K_SCA, K_LIN, K_ADD };

#define POOL_WS(m) tc_pool_ws((m)->k, (m)->s, (m)->oh, (m)->ow), 2

static void misc_fwd(void *t) {
    misc_t *m = t;
    switch (m->kind) {
    case K_RELU: db_relu_forward(m->p.out, m->in, m->p.nout); break;
    case K_MAX: db_maxpool_forward(m->p.out, m->in, m->planes, m->h, m->w, m->k, m->s, m->pad, m->oh, m->ow, POOL_WS(m)); break;
    case K_AVG: db_avgpool_forward(m->p.out, m->in, m->planes, m->h, m->w, m->k, m->s, m->pad, m->oh, m->ow, POOL_WS(m)); break;
    case K_GAP: db_gap_forward(m->p.out, m->in, m->planes, m->h * m->w); break;
    case K_SCA: db_shortcut_a_forward(m->p.out, m->in, m->c, 2 * m->c, m->n, m->h, m->w, 2, m->oh, m->ow); break;
    case K_LIN: db_linear_forward(m->p.out, m->in, m->wt, m->bias, m->f, m->o, m->n); break;
    case K_ADD: db_add_forward(m->p.out, m->in, m->in2, m->p.nout); break;
    }
}

static void check_misc(misc_t *m, size_t nin, const char *what) {
    m->in = tc_falloc(nin); m->in2 = tc_falloc(nin);
    m->p.out = tc_falloc(m->p.nout); m->p.r = tc_falloc(m->p.nout); m->p.fwd = misc_fwd;
    /* values spaced apart so max and ReLU have no ties or kinks within +-h */
    for (size_t i = 0; i < nin; i++) m->in[i] = (float)((i * 37) % nin) * 0.1f - 0.05f * nin + 0.025f;
    tc_fill(m->in2, nin, 9, -1, 1);
    tc_fill(m->p.r, m->p.nout, 8, -1, 1);
    float *din = tc_falloc(nin), *dw = tc_falloc(m->kind == K_LIN ? (size_t)m->f * m->o : 1);
    float *dbias = tc_falloc(m->o);
    switch (m->kind) {
    case K_RELU: misc_fwd(m); db_relu_backward(din, m->p.r, m->p.out, nin, 0); break;
    case K_MAX:
        db_maxpool_backward(din, m->p.r, m->in, m->planes, m->h, m->w, m->k, m->s, m->pad, m->oh, m->ow, 0, POOL_WS(m));
        break;
    case K_AVG: db_avgpool_backward(din, m->p.r, m->planes, m->h, m->w, m->k, m->s, m->pad, m->oh, m->ow, 0, POOL_WS(m)); break;
    case K_GAP: db_gap_backward(din, m->p.r, m->planes, m->h * m->w, 0); break;
    case K_SCA: db_shortcut_a_backward(din, m->p.r, m->c, m->n, m->h, m->w, 2, m->oh, m->ow, 0); break;
    case K_LIN: db_linear_backward(din, dw, dbias, m->p.r, m->in, m->wt, m->f, m->o, m->n, 0); break;
    case K_ADD: db_pass_backward(din, m->p.r, nin, 0); break;
    }
    tc_gradcheck(what, tc_probe_loss, m, m->in, din, nin, 80, 1e-2f, 2e-3, 1e-2);
    if (m->kind == K_LIN) {
        tc_gradcheck("linear dw", tc_probe_loss, m, m->wt, dw, (size_t)m->f * m->o, 40, 1e-2f, 2e-3, 1e-2);
        tc_gradcheck("linear dbias", tc_probe_loss, m, m->bias, dbias, m->o, 10, 1e-2f, 2e-3, 1e-2);
    }
    free(m->in); free(m->in2); free(m->p.out); free(m->p.r); free(din); free(dw); free(dbias);
}

static void test_elementwise_and_pool_grads(void) {
    misc_t m = {.kind = K_RELU};
    m.p.nout = 60;
    check_misc(&m, 60, "relu");
    m = (misc_t){.kind = K_ADD};
    m.p.nout = 30;
    check_misc(&m, 30, "add");
    int cases[][4] = {{3, 2, 1, 0}, {2, 2, 0, 0}, {3, 1, 1, 0}}; /* k, stride, pad */
    for (int kind = K_MAX; kind <= K_AVG; kind++)
        for (int i = 0; i < 3; i++) {
            m = (misc_t){.kind = kind, .planes = 4, .h = 7, .w = 6, .k = cases[i][0],
                         .s = cases[i][1], .pad = cases[i][2]};
            m.oh = (m.h + 2 * m.pad - m.k) / m.s + 1;
            m.ow = (m.w + 2 * m.pad - m.k) / m.s + 1;
            m.p.nout = (size_t)m.planes * m.oh * m.ow;
            check_misc(&m, (size_t)m.planes * m.h * m.w, kind == K_MAX ? "maxpool" : "avgpool");
        }
    m = (misc_t){.kind = K_GAP, .planes = 6, .h = 3, .w = 5};
    m.p.nout = 6;
    check_misc(&m, 6 * 15, "gap");
    m = (misc_t){.kind = K_SCA, .c = 2, .n = 3, .h = 5, .w = 4, .oh = 3, .ow = 2};
    m.p.nout = (size_t)4 * 3 * 3 * 2;
    check_misc(&m, (size_t)2 * 3 * 5 * 4, "shortcut A");
    m = (misc_t){.kind = K_LIN, .f = 7, .o = 4, .n = 5};
    m.wt = tc_falloc(28); m.bias = tc_falloc(4);
    tc_fill(m.wt, 28, 11, -1, 1); tc_fill(m.bias, 4, 12, -1, 1);
    m.p.nout = 20;
    check_misc(&m, 35, "linear din");
    free(m.wt); free(m.bias);
}

/* ---- loss ---- */
typedef struct { float *logits; int *labels; int k, n; float eps; } xent_t;
static double xent_loss(void *t) {
    xent_t *x = t;
    return db_softmax_xent(NULL, x->logits, x->labels, x->k, x->n, x->eps);
}

static void test_softmax_xent(void) {
    float logits[4 * 3];
    int labels[3] = {0, 3, 2};
    tc_fill(logits, 12, 13, -2, 2);
    for (int s = 0; s < 2; s++) {
        xent_t x = {logits, labels, 4, 3, s ? 0.1f : 0.0f};
        float d[12];
        db_softmax_xent(d, logits, labels, 4, 3, x.eps);
        tc_gradcheck(s ? "xent smoothed" : "xent", xent_loss, &x, logits, d, 12, 12, 1e-2f, 1e-4, 1e-2);
    }
    /* uniform logits: loss = log k whatever the smoothing */
    float flat[5 * 2] = {0};
    int lab[2] = {1, 4};
    CHECK_CLOSE(db_softmax_xent(NULL, flat, lab, 5, 2, 0.0f), log(5.0), 1e-9, 0);
    CHECK_CLOSE(db_softmax_xent(NULL, flat, lab, 5, 2, 0.3f), log(5.0), 1e-9, 0);
    /* huge logits stay finite */
    float big[2] = {1000.0f, -1000.0f};
    int l0 = 1;
    double loss = db_softmax_xent(NULL, big, &l0, 2, 1, 0.0f);
    CHECK(isfinite(loss) && fabs(loss - 2000.0) < 1e-3, "loss %g", loss);
}

static void test_topk(void) {
    /* 6 classes, 2 samples (feature-major) */
    float l[6 * 2] = {0.1f, 0.9f, 0.5f, 0.2f, 0.3f, 0.1f, 0.4f, 0.8f, 0.2f, 0.7f, 0.0f, 0.6f};
    int labels[2] = {0, 4};
    /* sample 0 logits: l[i*2]: .1 .5 .3 .4 .2 .0 -> label 0 ranks 5th (top5 yes, top1 no)
       sample 1: .9 .2 .1 .8 .7 .6 -> label 4 (.7) ranks 3rd */
    int t1, t5;
    db_topk_correct(l, labels, 6, 2, &t1, &t5);
    CHECK(t1 == 0 && t5 == 2, "top1 %d top5 %d", t1, t5);
    labels[1] = 0;
    db_topk_correct(l, labels, 6, 2, &t1, &t5);
    CHECK(t1 == 1 && t5 == 2, "top1 %d top5 %d", t1, t5);
    /* NaN logits are never right: a NaN label logit misses, and a NaN rival ranks above */
    l[0] = NAN; /* class 0 of sample 0, its label */
    l[3] = NAN; /* class 1 of sample 1, a rival of its label 0 (0.9) */
    db_topk_correct(l, labels, 6, 2, &t1, &t5);
    CHECK(t1 == 0 && t5 == 1, "NaN logits: top1 %d (want 0) top5 %d (want 1)", t1, t5);
}

/* The portable GEMM (used where OpenBLAS is absent) against OpenBLAS: every transpose, odd
 * sizes across its blocking, alpha and beta */
static void test_gemm_ref_matches_blas(void) {
    const int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {65, 257, 129}, {130, 40, 300}};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        int m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
                float *a = malloc(sizeof(float) * (size_t)(ta ? k : m) * lda), *b = malloc(sizeof(float) * (size_t)(tb ? n : k) * ldb);
                float *c1 = malloc(sizeof(float) * (size_t)m * ldc), *c2 = malloc(sizeof(float) * (size_t)m * ldc);
                uint32_t r = 12345;
                for (long i = 0; i < (long)(ta ? k : m) * lda; i++) a[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
                for (long i = 0; i < (long)(tb ? n : k) * ldb; i++) b[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
                for (long i = 0; i < (long)m * ldc; i++) c1[i] = c2[i] = (float)(i % 7) - 3;
                db_sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, c1, ldc);
                db_sgemm_ref(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, c2, ldc);
                double worst = 0;
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        double d = fabs((double)c1[(size_t)i * ldc + j] - c2[(size_t)i * ldc + j]);
                        if (d > worst) worst = d;
                    }
                CHECK(worst <= 1e-5 * (1 + k), "m %d n %d k %d trans %d%d: max difference %g", m, n, k, ta, tb, worst);
                free(a); free(b); free(c1); free(c2);
            }
    }
}

const db_test db_tests_ops[] = {
    {"gemm_ref_matches_blas", test_gemm_ref_matches_blas},
    {"conv_known_values", test_conv_known},
    {"conv_gradients", test_conv_grad},
    {"conv_weight_heavy_planned", test_conv_weight_heavy_planned},
    {"conv_onednn_vs_gemm", test_conv_dnnl},
    {"bn_gradients", test_bn_grad},
    {"bn_ghost_groups", test_bn_ghost},
    {"bn_running_stats_and_inference", test_bn_running_and_inference},
    {"elementwise_pool_linear_gradients", test_elementwise_and_pool_grads},
    {"softmax_xent_label_smoothing", test_softmax_xent},
    {"topk_accuracy", test_topk},
    {NULL, NULL},
};
