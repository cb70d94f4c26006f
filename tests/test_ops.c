/* Finite-difference checks of every op's backward, plus known values of the forward. */
#include <float.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/conv_dnnl.h"
#include "nets/ops.h"
#include "core/gemm.h"
#include "tests/check.h"
#include "tests/gradcheck.h"
#include "nets/graph.h"

/* One op under test: forward writes out from the inputs; the loss is sum(out * r). */
typedef struct {
    void (*fwd)(void *t);
    float *out, *r;
    size_t nout;
} probe;

static double probe_loss(void *ctx) {
    probe *p = ctx;
    p->fwd(p);
    double s = 0.0;
    for (size_t i = 0; i < p->nout; i++) s += (double)p->out[i] * p->r[i];
    return s;
}

static float *falloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* ---- convolution ---- */
typedef struct {
    probe p;
    db_conv_dims d;
    int n, threads;
    float *in, *w, *col;
} conv_t;

static void conv_fwd(void *t) {
    conv_t *c = t;
    db_conv_forward(c->p.out, c->in, c->w, c->col, &c->d, c->n, c->threads);
}

static void check_conv_dims(const db_conv_dims *d, int n, size_t cap, int threads) {
    conv_t c = {0};
    c.threads = threads;
    db_conv_set_col_cap(cap);
    c.d = *d;
    c.n = n;
    const int cin = d->cin, cout = d->cout, h = d->h, w = d->w;
    size_t nin = (size_t)cin * n * h * w, nw = (size_t)cout * cin * d->kh * d->kw;
    c.p.nout = (size_t)cout * n * c.d.oh * c.d.ow;
    c.in = falloc(nin); c.w = falloc(nw); c.col = falloc(db_conv_workspace(&c.d, n, c.threads));
    c.p.out = falloc(c.p.nout); c.p.r = falloc(c.p.nout); c.p.fwd = conv_fwd;
    float *din = falloc(nin), *dw = falloc(nw);
    tc_fill(c.in, nin, 1, -1, 1); tc_fill(c.w, nw, 2, -1, 1); tc_fill(c.p.r, c.p.nout, 3, -1, 1);
    db_conv_backward(din, dw, c.p.r, c.in, c.w, c.col, &c.d, n, 0, c.threads);
    char what[80];
    snprintf(what, sizeof what, "conv k%dx%d s%dx%d p%dx%d %dx%d din", d->kh, d->kw, d->sh, d->sw, d->ph, d->pw, h, w);
    tc_gradcheck(what, probe_loss, &c, c.in, din, nin, 60, 1e-2f, 2e-3, 1e-2);
    snprintf(what, sizeof what, "conv k%dx%d s%dx%d p%dx%d %dx%d dw", d->kh, d->kw, d->sh, d->sw, d->ph, d->pw, h, w);
    tc_gradcheck(what, probe_loss, &c, c.w, dw, nw, 60, 1e-2f, 2e-3, 1e-2);
    /* accum=1 adds to what is there */
    float *din2 = falloc(nin);
    for (size_t i = 0; i < nin; i++) din2[i] = 1.0f;
    db_conv_backward(din2, dw, c.p.r, c.in, c.w, c.col, &c.d, n, 1, c.threads);
    int ok = 1;
    for (size_t i = 0; i < nin; i++) ok &= fabsf(din2[i] - 1.0f - din[i]) < 1e-5f;
    CHECK(ok, "conv backward with accum must add to the existing gradient");
    free(c.in); free(c.w); free(c.col); free(c.p.out); free(c.p.r); free(din); free(dw); free(din2);
    db_conv_set_col_cap((size_t)1 << 18);
}

static void check_conv(int cin, int cout, int k, int stride, int pad, int h, int w, int n, size_t cap, int threads) {
    db_conv_dims d;
    db_conv_dims_init(&d, cin, cout, k, stride, pad, h, w);
    check_conv_dims(&d, n, cap, threads);
}

/* kh x kw kernels, strides sh down and sw across: AmoebaNet's 1x7 then 7x1 (stride [1, s] then
 * [s, 1]), stride 1 through the transposed convolution, strided through col2im, chunked */
static void check_conv_rect(int kh, int kw, int sh, int sw, int ph, int pw, int h, int w, size_t cap, int threads) {
    db_conv_dims d;
    db_conv_dims_rect(&d, 2, 3, kh, kw, sh, sw, ph, pw, h, w);
    check_conv_dims(&d, 3, cap, threads);
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
        float *in = falloc(nin), *w = falloc(nw), *r = falloc(nout), *ws = falloc(db_conv_workspace(&d, 8, t)),
              *wu = falloc(db_conv_workspace(&u, n, t)), *o1 = falloc(nout), *o2 = falloc(nout), *dx1 = falloc(nin),
              *dx2 = falloc(nin), *dw1 = falloc(nw), *dw2 = falloc(nw);
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
        float *x = falloc(nx), *wt = falloc(nw), *dy = falloc(ny), *y = falloc(ny), *y2 = falloc(ny), *dx = falloc(nx),
              *dx2 = falloc(nx), *dw = falloc(nw), *dw2 = falloc(nw), *ws = falloc(db_conv_workspace(&d, n, 1)),
              *again = falloc(ny);
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
    float *x = falloc(nx), *x2 = falloc(nx), *wt = falloc(nw), *dy = falloc(ny), *y = falloc(ny), *dx = falloc(nx),
          *dx2 = falloc(nx), *dx3 = falloc(nx), *dw = falloc(nw), *dw2 = falloc(nw), *dw3 = falloc(nw),
          *ws = falloc(db_conv_workspace(&d, 6, 1));
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
    probe p;
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
    b.in = falloc(n); b.gamma = falloc(b.c); b.beta = falloc(b.c); b.save = falloc(2 * (size_t)b.c * groups);
    b.run = falloc(2 * b.c);
    b.p.out = falloc(n); b.p.r = falloc(n); b.p.nout = n; b.p.fwd = bn_fwd;
    /* (seed 4 in two groups puts an output on the ReLU's kink, where differences cannot agree) */
    tc_fill(b.in, n, groups == 1 ? 4 : 14, -2, 3); tc_fill(b.gamma, b.c, 5, 0.5f, 1.5f); tc_fill(b.beta, b.c, 6, -1, 1);
    tc_fill(b.p.r, n, 7, -1, 1);
    float *din = falloc(n), *dg = falloc(b.c), *dbeta = falloc(b.c);
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
    tc_gradcheck(relu ? "bn+relu din" : "bn din", probe_loss, &b, b.in, din, n, 60, 1e-3f, 2e-3, 1e-2);
    tc_gradcheck("bn dgamma", probe_loss, &b, b.gamma, dg, b.c, 10, 1e-3f, 2e-3, 1e-2);
    tc_gradcheck("bn dbeta", probe_loss, &b, b.beta, dbeta, b.c, 10, 1e-3f, 2e-3, 1e-2);
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
    probe p;
    int kind, planes, h, w, k, s, pad, oh, ow, c, n, f, o;
    float *in, *in2, *wt, *bias;
} misc_t;

enum { K_RELU, K_MAX, K_AVG, K_GAP, K_SCA, K_LIN, K_ADD };

/* The pools' workspace for 2 threads (the tests' maps are small) */
static float pool_ws_buf[1 << 16];
static float *pool_ws(int k, int s, int oh, int ow) {
    CHECK(db_pool_workspace(k, s, oh, ow, 2) <= sizeof pool_ws_buf / sizeof *pool_ws_buf, "pool workspace %zu floats",
          db_pool_workspace(k, s, oh, ow, 2));
    return pool_ws_buf;
}
#define POOL_WS(m) pool_ws((m)->k, (m)->s, (m)->oh, (m)->ow), 2

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
    m->in = falloc(nin); m->in2 = falloc(nin);
    m->p.out = falloc(m->p.nout); m->p.r = falloc(m->p.nout); m->p.fwd = misc_fwd;
    /* values spaced apart so max and ReLU have no ties or kinks within +-h */
    for (size_t i = 0; i < nin; i++) m->in[i] = (float)((i * 37) % nin) * 0.1f - 0.05f * nin + 0.025f;
    tc_fill(m->in2, nin, 9, -1, 1);
    tc_fill(m->p.r, m->p.nout, 8, -1, 1);
    float *din = falloc(nin), *dw = falloc(m->kind == K_LIN ? (size_t)m->f * m->o : 1);
    float *dbias = falloc(m->o);
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
    tc_gradcheck(what, probe_loss, m, m->in, din, nin, 80, 1e-2f, 2e-3, 1e-2);
    if (m->kind == K_LIN) {
        tc_gradcheck("linear dw", probe_loss, m, m->wt, dw, (size_t)m->f * m->o, 40, 1e-2f, 2e-3, 1e-2);
        tc_gradcheck("linear dbias", probe_loss, m, m->bias, dbias, m->o, 10, 1e-2f, 2e-3, 1e-2);
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
    m.wt = falloc(28); m.bias = falloc(4);
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

/* ---- nearest upsampling and the channel bias ---- */
typedef struct {
    probe p;
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
        u.in = falloc(nin), u.p.out = falloc(u.p.nout), u.p.r = falloc(u.p.nout), u.p.fwd = up_fwd;
        float *din = falloc(nin);
        tc_fill(u.in, nin, 4, -1, 1), tc_fill(u.p.r, u.p.nout, 5, -1, 1);
        db_upsample_backward(din, u.p.r, u.planes, u.h, u.w, s, 0);
        tc_gradcheck(s == 2 ? "upsample x2 din" : "upsample x3 din", probe_loss, &u, u.in, din, nin, 90, 1e-2f, 1e-4, 1e-3);
        for (size_t i = 0; i < nin; i++) din[i] = 1.0f;
        float *d2 = falloc(nin);
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
    b.in = falloc(n), b.bias = falloc((size_t)b.c), b.p.out = falloc(n), b.p.r = falloc(n), b.p.fwd = bias_fwd;
    float *din = falloc(n), *db = falloc((size_t)b.c);
    tc_fill(b.in, n, 6, -1, 1), tc_fill(b.bias, (size_t)b.c, 7, -1, 1), tc_fill(b.p.r, n, 8, -1, 1);
    db_bias_backward(din, db, b.p.r, b.c, b.m, 0);
    tc_gradcheck("bias din", probe_loss, &b, b.in, din, n, 60, 1e-2f, 1e-4, 1e-3);
    tc_gradcheck("bias dbias", probe_loss, &b, b.bias, db, (size_t)b.c, 4, 1e-2f, 1e-4, 1e-3);
    free(b.in); free(b.bias); free(b.p.out); free(b.p.r); free(din); free(db);
}

/* ---- bilinear resizing with aligned corners ---- */
typedef struct {
    probe p;
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
        r.in = falloc(nin), r.p.out = falloc(r.p.nout), r.p.r = falloc(r.p.nout), r.p.fwd = rs_fwd;
        float *din = falloc(nin), *d2 = falloc(nin);
        tc_fill(r.in, nin, 14 + k, -1, 1), tc_fill(r.p.r, r.p.nout, 24 + k, -1, 1);
        db_resize_backward(din, r.p.r, r.planes, r.h, r.w, r.oh, r.ow, 0);
        tc_gradcheck("resize din", probe_loss, &r, r.in, din, nin, 60, 1e-2f, 1e-4, 1e-3);
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
    probe p;
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
        c.in = falloc(nin), c.w = falloc(nw), c.p.out = falloc(c.p.nout), c.p.r = falloc(c.p.nout), c.p.fwd = dw_fwd;
        float *din = falloc(nin), *dw = falloc(nw), *din2 = falloc(nin);
        tc_fill(c.in, nin, 11, -1, 1), tc_fill(c.w, nw, 12, -1, 1), tc_fill(c.p.r, c.p.nout, 13, -1, 1);
        db_dw_backward(din, dw, c.p.r, c.in, c.w, dw_ws(&c.d), &c.d, c.n, 0, 2);
        char what[64];
        snprintf(what, sizeof what, "depthwise %dx%d s%d din", c.d.kh, c.d.kw, c.d.stride);
        tc_gradcheck(what, probe_loss, &c, c.in, din, nin, 80, 1e-2f, 1e-4, 1e-3);
        snprintf(what, sizeof what, "depthwise %dx%d s%d dw", c.d.kh, c.d.kw, c.d.stride);
        tc_gradcheck(what, probe_loss, &c, c.w, dw, nw, 60, 1e-2f, 1e-4, 1e-3);
        for (size_t i = 0; i < nin; i++) din2[i] = 1.0f;
        db_dw_backward(din2, dw, c.p.r, c.in, c.w, dw_ws(&c.d), &c.d, c.n, 1, 2);
        int ok = 1;
        for (size_t i = 0; i < nin; i++) ok &= fabsf(din2[i] - 1.0f - din[i]) < 1e-5f;
        CHECK(ok, "depthwise backward with accum must add to the existing gradient");
        float *dw1 = falloc(nw), *din1 = falloc(nin), *out2 = falloc(c.p.nout); /* 1 thread: the same bits */
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
        float *col = falloc(db_conv_workspace(&cd, N, 1));
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
        float *x = falloc(nin), *g = falloc(nout), *a = falloc(nout), *b = falloc(nout), *da = falloc(nin), *db = falloc(nin);
        float *ws = falloc(db_pool_workspace(k, st, oh, oh, 2));
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
    probe p;
    int planes, h, w, k, stride, pad, oh, ow;
    float *in;
} pool_t;

static void avg_excl_fwd(void *t) {
    pool_t *c = t;
    db_avgpool_excl_forward(c->p.out, c->in, c->planes, c->h, c->w, c->k, c->stride, c->pad, c->oh, c->ow,
                            pool_ws(c->k, c->stride, c->oh, c->ow), 2);
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
        c.in = falloc(nin), c.p.out = falloc(c.p.nout), c.p.r = falloc(c.p.nout), c.p.fwd = avg_excl_fwd;
        float *din = falloc(nin);
        tc_fill(c.in, nin, 31, -1, 1), tc_fill(c.p.r, c.p.nout, 32, -1, 1);
        db_avgpool_excl_backward(din, c.p.r, c.planes, c.h, c.w, c.k, c.stride, c.pad, c.oh, c.ow, 0,
                                 pool_ws(c.k, c.stride, c.oh, c.ow), 2);
        tc_gradcheck(t ? "SAME average 3/1 din" : "SAME average 3/2 din", probe_loss, &c, c.in, din, nin, 60, 1e-2f, 1e-4,
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
        float *in = falloc(nin), *wt = falloc((size_t)k * k), *a = falloc(nout), *b = falloc(nout), *g = falloc(nout);
        float *dia = falloc(nin), *dib = falloc(nin), *dwa = falloc((size_t)k * k), *dwb = falloc((size_t)k * k);
        float *ws = falloc(db_conv_workspace(&cd, n, 1));
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
    float *ws = falloc(db_conv_workspace(&cd, 2, 1)), yo[4 * 2 * 16], dwo[4 * 3 * 9], dxo[3 * 2 * 64];
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
        float *in = falloc(nin), *pad = falloc(npad), *wt = falloc(nw), *a = falloc(nout), *b = falloc(nout);
        float *ws = falloc(db_conv_workspace(&sd, n, 1) + db_conv_workspace(&vd, n, 1));
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
        check_conv_dims(&sd, n, 1 << 24, 2);
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

const db_test db_tests_ops[] = {
    {"conv_same", test_conv_same},
    {"conv_same_rect", test_conv_same_rect},
    {"pool_same", test_pool_same},
    {"pools_bit_identical", test_pools_bit_identical},
    {"depthwise", test_depthwise},
    {"upsample_bias_gradients", test_upsample_bias},
    {"resize_bilinear", test_resize_bilinear},
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
