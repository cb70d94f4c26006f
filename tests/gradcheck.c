#include "tests/gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
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
