#include "tests/gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
#include "nets/model.h"
#include "nets/ops.h"
#include "tests/check.h"

void tc_fill(float *x, size_t n, uint64_t seed, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * db_u01(db_rand4(seed, 7, 0, i).v[0]);
}

int tc_gradcheck_n(const char *what, double (*loss)(void *ctx), void *ctx, float *x,
                   const float *analytic, size_t n, int samples, float h, double atol, double rtol,
                   int strict, int *checked) {
    int bad = 0;
    size_t stride = n <= (size_t)samples ? 1 : n / samples;
    for (size_t i = 0; i < n; i += stride) {
        float keep = x[i];
        x[i] = keep + h;
        double lp = loss(ctx);
        x[i] = keep - h;
        double lm = loss(ctx);
        x[i] = keep;
        double num = (lp - lm) / (2.0 * h);
        if (checked) (*checked)++;
        if (fabs(num - analytic[i]) > atol + rtol * fabs(num)) {
            if (!strict) { bad++; continue; }
            if (bad < 5)
                CHECK(0, "%s[%zu]: analytic %.6g, numeric %.6g", what, i, analytic[i], num);
            else
                db_test_failures++;
            bad++;
        }
    }
    return bad;
}

int tc_gradcheck_graph(const char *what, const db_graph *g, const float *grads, double (*loss)(void *ctx), void *ctx,
                       int samples, int *checked) {
    int bad = 0;
    for (int p = 0; p < g->n_params; p++) {
        if (g->params[p].tied) continue; /* their values are their masters'; the masters' gradients hold theirs */
        char name[160];
        snprintf(name, sizeof name, "%s %s", what, g->params[p].name);
        const float *an = grads + (g->params[p].grad - g->grad_arena.base);
        bad += tc_gradcheck_n(name, loss, ctx, g->params[p].data, an, g->params[p].size, samples, 2e-3f, 2e-3, 5e-2, 0,
                              checked);
    }
    return bad;
}

double tc_xent_loss(void *ctx) {
    tc_xent_net *t = ctx;
    db_graph_forward(t->g);
    const db_tensor *o = db_graph_output(t->g);
    return db_softmax_xent(NULL, o->data, t->labels, o->c, t->g->n, 0.1f);
}

/* tc_xent_loss with the output's gradient written, for the backward */
static double xent_loss_grad(void *ctx) {
    tc_xent_net *t = ctx;
    db_graph_forward(t->g);
    const db_tensor *o = db_graph_output(t->g);
    return db_softmax_xent(o->grad, o->data, t->labels, o->c, t->g->n, 0.1f);
}

int tc_graph_xent_grads(db_graph *g, int *labels, const char *what, uint64_t seed, int samples, int *checked) {
    tc_xent_net t = {g, labels};
    return tc_graph_grads(g, what, seed, samples, xent_loss_grad, tc_xent_loss, &t, checked);
}

int tc_graph_grads(db_graph *g, const char *what, uint64_t seed, int samples, double (*loss_grad)(void *ctx),
                   double (*loss)(void *ctx), void *ctx, int *checked) {
    db_graph_init_params(g, seed);
    for (int p = 0; p < g->n_params; p++)
        if (g->params[p].no_decay) tc_fill(g->params[p].data, g->params[p].size, 100 * seed + p, 0.5f, 1.5f);
    const db_tensor *in = &g->tensors[0];
    tc_fill(db_graph_input(g), (size_t)in->c * g->n * in->h * in->w, seed + 1, -1, 1);
    loss_grad(ctx);
    db_graph_backward(g);
    float *grads = malloc(sizeof(float) * g->grad_arena.size);
    if (!grads) return -1;
    memcpy(grads, g->grad_arena.base, sizeof(float) * g->grad_arena.size);
    *checked = 0;
    const int bad = tc_gradcheck_graph(what, g, grads, loss, ctx, samples, checked);
    free(grads);
    return bad;
}

double tc_probe_loss(void *ctx) {
    tc_probe *p = ctx;
    p->fwd(p);
    double s = 0.0;
    for (size_t i = 0; i < p->nout; i++) s += (double)p->out[i] * p->r[i];
    return s;
}

float *tc_falloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static float pool_ws_buf[1 << 16];
float *tc_pool_ws(int k, int s, int oh, int ow) {
    CHECK(db_pool_workspace(k, s, oh, ow, 2) <= sizeof pool_ws_buf / sizeof *pool_ws_buf, "pool workspace %zu floats",
          db_pool_workspace(k, s, oh, ow, 2));
    return pool_ws_buf;
}

/* the convolution under test */
typedef struct {
    tc_probe p;
    db_conv_dims d;
    int n, threads;
    float *in, *w, *col;
} conv_t;

static void conv_fwd(void *t) {
    conv_t *c = t;
    db_conv_forward(c->p.out, c->in, c->w, c->col, &c->d, c->n, c->threads);
}

void tc_conv_gradcheck(const db_conv_dims *d, int n, size_t cap, int threads) {
    conv_t c = {0};
    c.threads = threads;
    db_conv_set_col_cap(cap);
    c.d = *d;
    c.n = n;
    const int cin = d->cin, cout = d->cout, h = d->h, w = d->w;
    size_t nin = (size_t)cin * n * h * w, nw = (size_t)cout * cin * d->kh * d->kw;
    c.p.nout = (size_t)cout * n * c.d.oh * c.d.ow;
    c.in = tc_falloc(nin); c.w = tc_falloc(nw); c.col = tc_falloc(db_conv_workspace(&c.d, n, c.threads));
    c.p.out = tc_falloc(c.p.nout); c.p.r = tc_falloc(c.p.nout); c.p.fwd = conv_fwd;
    float *din = tc_falloc(nin), *dw = tc_falloc(nw);
    tc_fill(c.in, nin, 1, -1, 1); tc_fill(c.w, nw, 2, -1, 1); tc_fill(c.p.r, c.p.nout, 3, -1, 1);
    db_conv_backward(din, dw, c.p.r, c.in, c.w, c.col, &c.d, n, 0, c.threads);
    char what[80];
    snprintf(what, sizeof what, "conv k%dx%d s%dx%d p%dx%d %dx%d din", d->kh, d->kw, d->sh, d->sw, d->ph, d->pw, h, w);
    tc_gradcheck(what, tc_probe_loss, &c, c.in, din, nin, 60, 1e-2f, 2e-3, 1e-2);
    snprintf(what, sizeof what, "conv k%dx%d s%dx%d p%dx%d %dx%d dw", d->kh, d->kw, d->sh, d->sw, d->ph, d->pw, h, w);
    tc_gradcheck(what, tc_probe_loss, &c, c.w, dw, nw, 60, 1e-2f, 2e-3, 1e-2);
    /* accum=1 adds to what is there */
    float *din2 = tc_falloc(nin);
    for (size_t i = 0; i < nin; i++) din2[i] = 1.0f;
    db_conv_backward(din2, dw, c.p.r, c.in, c.w, c.col, &c.d, n, 1, c.threads);
    int ok = 1;
    for (size_t i = 0; i < nin; i++) ok &= fabsf(din2[i] - 1.0f - din[i]) < 1e-5f;
    CHECK(ok, "conv backward with accum must add to the existing gradient");
    free(c.in); free(c.w); free(c.col); free(c.p.out); free(c.p.r); free(din); free(dw); free(din2);
    db_conv_set_col_cap((size_t)1 << 18);
}

/* A ResNet-8 on side x side single-channel images, `width` channels first, batch n */
void tc_tiny_resnet8(db_graph *g, int side, int width, int n) {
    db_model_config mc;
    db_model_defaults(&mc, "resnet8");
    mc.in_c = 1; mc.in_h = mc.in_w = side; mc.width = width;
    CHECK_OK(db_model_build(g, &mc, n));
}
