// One training step and an evaluation batch of a network on the CPU graph and on the GPU graph,
// and the distances between two runs (tests/gpu/nets_run.h)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
#include "nets/model.h"
#include "tests/gpu/nets_run.h"

size_t outputs_len(const db_graph *g) {
    size_t len = 0;
    for (int k = 0; k < outputs_of(g); k++) len += numel(output(g, k), N_TRAIN) + numel(output(g, k), N_EVAL);
    return len;
}

void fill_input(float *x, const db_graph *g, int n, int b) {
    const size_t len = numel(&g->tensors[0], n);
    for (size_t i = 0; i < len; i++) x[i] = 2.0f * db_u01(db_rand4(23, 5, (uint32_t)b, i).v[0]) - 1.0f;
}

// The outputs' gradients: fixed values of the size a mean loss gives (about 1/n per element)
static void fill_output_grads(db_graph *g) {
    for (int k = 0; k < outputs_of(g); k++) {
        const db_tensor *t = output(g, k);
        const size_t len = numel(t, g->n);
        for (size_t i = 0; i < len; i++)
            t->grad[i] = (2.0f * db_u01(db_rand4(29, (uint32_t)k, 0, i).v[0]) - 1.0f) / (float)g->n;
    }
}

// The outputs now in the host tensors, appended at *at
static void keep_outputs(double *dst, size_t *at, const db_graph *g) {
    for (int k = 0; k < outputs_of(g); k++) {
        const db_tensor *t = output(g, k);
        const size_t len = numel(t, g->n);
        for (size_t i = 0; i < len; i++) dst[(*at)++] = t->data[i];
    }
}

static void keep_state(run_result *r, const db_graph *g, const db_sgd *opt) {
    r->params = (float *)malloc(sizeof(float) * (g->param_arena.size + 1));
    r->state = (float *)malloc(sizeof(float) * (g->state_arena.size + 1));
    r->opt = (float *)malloc(sizeof(float) * (opt->velocity.size + 1));
    if (r->params) memcpy(r->params, g->param_arena.base, sizeof(float) * g->param_arena.size);
    if (r->state) memcpy(r->state, g->state_arena.base, sizeof(float) * g->state_arena.size);
    if (r->opt) memcpy(r->opt, opt->velocity.base, sizeof(float) * opt->velocity.size);
    r->dropped = 0;
    for (int i = 0; i < g->n_ops; i++) r->dropped += g->ops[i].dropped;
}

void cpu_run(db_graph *g, db_sgd *opt, run_result *r) {
    size_t at = 0;
    r->outputs = (double *)malloc(sizeof(double) * (outputs_len(g) + 1));
    g->training = 1, g->step = 17;
    db_graph_set_batch(g, N_TRAIN);
    fill_input(db_graph_input(g), g, N_TRAIN, 0);
    db_graph_forward(g);
    keep_outputs(r->outputs, &at, g);
    fill_output_grads(g);
    db_graph_backward(g);
    db_sgd_step(opt, g, 0.05f);
    db_sgd_ema_update(opt, g, g->step + 1);
    g->training = 0;
    db_graph_set_batch(g, N_EVAL);
    fill_input(db_graph_input(g), g, N_EVAL, 1);
    db_graph_forward(g);
    keep_outputs(r->outputs, &at, g);
    g->training = 1;
    db_graph_set_batch(g, N_TRAIN);
    keep_state(r, g, opt);
}

db_status gpu_run(db_gpu_graph *gg, db_graph *g, db_sgd *opt, run_result *r) {
    size_t at = 0;
    int finite = 0;
    r->outputs = (double *)malloc(sizeof(double) * (outputs_len(g) + 1));
    if (!r->outputs) return db_fail(DB_ERR_NOMEM, "out of memory");
    DB_TRY(db_gpu_graph_push(gg));
    g->training = 1, g->step = 17;
    db_graph_set_batch(g, N_TRAIN);
    fill_input(db_gpu_graph_input(gg), g, N_TRAIN, 0);
    DB_TRY(db_gpu_graph_forward(gg, &finite, 1));
    if (!finite) return db_fail(DB_ERR_INTERNAL, "the finite check failed before any update");
    keep_outputs(r->outputs, &at, g);
    fill_output_grads(g);
    DB_TRY(db_gpu_graph_backward_update(gg, 0.05f));
    g->training = 0;
    db_graph_set_batch(g, N_EVAL);
    fill_input(db_gpu_graph_input(gg), g, N_EVAL, 1);
    db_status s = db_gpu_graph_forward(gg, &finite, 1);
    if (s == DB_OK) keep_outputs(r->outputs, &at, g); // (at the evaluation's batch, before the training's is back)
    g->training = 1;
    db_graph_set_batch(g, N_TRAIN);
    DB_TRY(s);
    DB_TRY(db_gpu_graph_pull(gg));
    keep_state(r, g, opt);
    return DB_OK;
}

void run_free(run_result *r) {
    free(r->outputs); free(r->params); free(r->opt); free(r->state);
    memset(r, 0, sizeof *r);
}

// ||a - b|| / ||b - base|| (base NULL: every element base0), the denominator at least floor
double rel_from(const float *a, const float *b, const float *base, float base0, size_t n, double floor) {
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) return INFINITY;
        const double z = base ? base[i] : base0;
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        m += (b[i] - z) * (b[i] - z);
    }
    return sqrt(d) / fmax(sqrt(m), floor);
}

double rel(const float *a, const float *b, const float *base, size_t n, double floor) {
    return rel_from(a, b, base, 0.0f, n, floor);
}

double rel_d(const double *a, const double *b, size_t n) {
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) return INFINITY;
        d += (a[i] - b[i]) * (a[i] - b[i]);
        m += b[i] * b[i];
    }
    return sqrt(d) / fmax(sqrt(m), 1e-30);
}

// The worst parameter's relative L2 over a parameter-shaped slice (base: each one's start), the
// denominator at least 1e-5 of the whole arena's: a bias that only a batch norm reads has a
// gradient of rounding noise alone, which two devices make differently. Measured on the CPU: the
// FCN's seg.final.l2.bias (read through the levels' sum by seg.fuse.bn) has a gradient of 4.7e-8
// of the arena's, the H200's differed from it by 3% of a floor of 1e-6 (over the limit); the
// smallest that is not noise in the FCN is 9e-4 of it (seg.1.bn.l5.gamma).
double worst_param(const db_graph *g, const float *a, const float *b, const float *base, const char **name) {
    double w = 0, all = 0;
    for (size_t i = 0; i < g->param_arena.size; i++) {
        const double v = b[i] - (base ? base[i] : 0.0f);
        all += v * v;
    }
    const double floor = 1e-5 * sqrt(all);
    for (int p = 0; p < g->n_params; p++) {
        if (g->params[p].tied) continue;
        const size_t off = (size_t)(g->params[p].data - g->param_arena.base);
        const double e = rel(a + off, b + off, base ? base + off : NULL, g->params[p].size, floor);
        if (!(e <= w)) w = e, *name = g->params[p].name;
    }
    return w;
}

void dropblock_plan(db_reg_plan *p, unsigned groups, float last_cells) {
    memset(p, 0, sizeof *p);
    p->kind = DB_REG_DROPBLOCK, p->keep_prob = 0.8f, p->block_size = 3, p->groups = groups, p->last_cells = last_cells;
    p->semantics = DB_SEM_PAPER;
}

// The tiny AmoebaNet-B (2 normal cells per stack, F 8) on 28x28: the basic stem, reductions at 28
// and 14 (even maps: the SAME convolutions pad one more below and right), the auxiliary head
db_status tiny_amoebanet(db_graph *g, int dropblock) {
    db_model_config mc;
    DB_TRY(db_model_defaults(&mc, "amoebanet-b"));
    mc.in_c = 1, mc.in_h = mc.in_w = 28, mc.classes = 10, mc.cells = 6, mc.width = 8, mc.stem = 'b';
    mc.aux_head = 1, mc.dense_keep = 0.5f, mc.unfused = 1;
    if (dropblock) dropblock_plan(&mc.reg, ~0u, 0.5f);
    return db_model_build(g, &mc, N_TRAIN);
}
