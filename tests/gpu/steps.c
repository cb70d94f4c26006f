/* The whole-step fixture (tests/gpu/steps.h). */
#include "tests/gpu/steps.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
#include "dropouts/dropblock.h"
#include "nets/model.h"
#include "nets/ops.h"

const db_steps_case db_steps_cases[] = {
    {"resnet20_steps", DB_REG_NONE, 0},
    {"resnet20_steps_dropout", DB_REG_DROPOUT, 0},
    {"resnet20_steps_spatial_dropout", DB_REG_SPATIAL, 0},
    {"resnet20_steps_dropblock", DB_REG_DROPBLOCK, DB_SEM_PAPER},
    {"resnet20_steps_dropblock_darknet", DB_REG_DROPBLOCK, DB_SEM_DARKNET}, /* the GPU draws the mask on the host */
    {"resnet20_steps_droppath", DB_REG_DROPPATH, 0},
};
const int db_steps_n_cases = (int)(sizeof db_steps_cases / sizeof *db_steps_cases);

static float *copy_of(const float *p, size_t n) {
    float *c = malloc(sizeof(float) * (n ? n : 1));
    if (c && n) memcpy(c, p, sizeof(float) * n);
    return c;
}

db_status db_steps_build(db_graph *g, db_sgd *opt, const db_steps_case *c, float **init_params, float **init_state) {
    db_model_config mc;
    DB_TRY(db_model_defaults(&mc, "resnet20"));
    mc.in_c = 3; mc.in_h = mc.in_w = 32; mc.classes = 10;
    mc.unfused = 1;
    if (c->kind != DB_REG_NONE) {
        db_reg_plan p;
        memset(&p, 0, sizeof p);
        p.kind = (db_reg_kind)c->kind; p.keep_prob = 0.8f; p.block_size = 3; p.groups = (1u << 2) | (1u << 3); p.on_skip = 1;
        p.semantics = (db_semantics)c->semantics;
        mc.reg = p;
    }
    db_sgd_config sc = {.momentum = 0.9f, .nesterov = 1, .weight_decay = 5e-4f};
    DB_TRY(db_model_build(g, &mc, DB_STEPS_N));
    db_status s = db_sgd_init(opt, g, &sc);
    if (s != DB_OK) { db_graph_free(g); return s; }
    g->seed = 42; g->last_step = 1000;
    db_graph_init_params(g, 42);
    db_graph_take_drop_fraction(g, NULL);
    *init_params = copy_of(g->param_arena.base, g->param_arena.size);
    *init_state = copy_of(g->state_arena.base, g->state_arena.size);
    return DB_OK;
}

size_t db_steps_input_len(const db_graph *g, int n) {
    return (size_t)g->tensors[0].c * n * g->tensors[0].h * g->tensors[0].w;
}

void db_steps_fill_batch(float *x, int *labels, size_t len, int n, int b) {
    for (size_t i = 0; i < len; i++) x[i] = 2.0f * db_u01(db_rand4(11, 3, (uint32_t)b, i).v[0]) - 1.0f;
    for (int j = 0; j < n; j++) labels[j] = (j * 7 + b) % 10;
}

void db_steps_keep(db_steps_result *r, db_graph *g, db_sgd *opt) {
    r->params = copy_of(g->param_arena.base, g->param_arena.size);
    r->state = copy_of(g->state_arena.base, g->state_arena.size);
    r->velocity = copy_of(opt->velocity.base, g->param_arena.size);
    r->dropped = 0;
    for (int i = 0; i < g->n_ops; i++) r->dropped += g->ops[i].dropped;
}

void db_steps_keep_first(db_steps_result *r, const db_graph *g, const db_sgd *opt) {
    free(r->velocity1);
    r->velocity1 = copy_of(opt->velocity.base, g->param_arena.size);
}

void db_steps_cpu_run(db_graph *g, db_sgd *opt, db_steps_result *r) {
    int labels[DB_STEPS_N];
    const db_tensor *o = db_graph_output(g);
    for (int b = 0; b < DB_STEPS; b++) {
        g->training = 1;
        g->step = 17 + b;
        db_graph_set_batch(g, DB_STEPS_N);
        db_steps_fill_batch(db_graph_input(g), labels, db_steps_input_len(g, DB_STEPS_N), DB_STEPS_N, b);
        db_graph_forward(g);
        r->train_loss[b] = db_softmax_xent(o->grad, o->data, labels, o->c, DB_STEPS_N, 0.1f);
        db_graph_backward(g);
        db_sgd_step(opt, g, 0.05f);
        if (b == 0) db_steps_keep_first(r, g, opt);
    }
    g->training = 0;
    db_graph_set_batch(g, DB_STEPS_N_EVAL);
    db_steps_fill_batch(db_graph_input(g), labels, db_steps_input_len(g, DB_STEPS_N_EVAL), DB_STEPS_N_EVAL, DB_STEPS);
    db_graph_forward(g);
    r->eval_loss = db_softmax_xent(NULL, o->data, labels, o->c, DB_STEPS_N_EVAL, 0.0f);
    int t5;
    db_topk_correct(o->data, labels, o->c, DB_STEPS_N_EVAL, &r->top1, &t5);
    g->training = 1;
    db_graph_set_batch(g, DB_STEPS_N);
    db_steps_keep(r, g, opt);
}

void db_steps_free(db_steps_result *r) {
    free(r->params); free(r->state); free(r->velocity); free(r->velocity1);
    memset(r, 0, sizeof *r);
}

/* ||(a - base) - (b - base)|| / max(||b - base||, floor); base may be NULL (zero). A NaN or an
 * Inf on either side is an infinite difference. */
static double rel_l2(const float *a, const float *b, const float *base, size_t n, double floor) {
    double diff = 0, norm = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) return INFINITY;
        double z = base ? base[i] : 0.0, da = a[i] - z, db = b[i] - z;
        diff += (da - db) * (da - db);
        norm += db * db;
    }
    return sqrt(diff) / fmax(sqrt(norm), floor);
}

/* the norm of b - base over a whole arena */
static double norm_of(const float *b, const float *base, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = b[i] - (base ? base[i] : 0.0);
        s += d * d;
    }
    return sqrt(s);
}

/* the worst rel_l2 over each parameter's own slice of a parameter-shaped arena */
static double per_param(const db_graph *g, const float *a, const float *b, const float *base, const char **worst) {
    double w = 0, floor = 1e-6 * norm_of(b, base, g->param_arena.size);
    for (int p = 0; p < g->n_params; p++) {
        size_t off = (size_t)(g->params[p].data - g->param_arena.base);
        double e = rel_l2(a + off, b + off, base ? base + off : NULL, g->params[p].size, floor);
        if (!(e <= w)) { w = e; *worst = g->params[p].name; }
    }
    return w;
}

void db_steps_compare(const db_graph *g, const float *init_params, const float *init_state, const db_steps_result *a,
                      const db_steps_result *b, db_steps_diff *d) {
    memset(d, 0, sizeof *d);
    d->grad1_at = d->grad_at = d->update_at = d->running_at = "";
    for (int s = 0; s < DB_STEPS; s++) {
        double e = fabs(a->train_loss[s] - b->train_loss[s]) / fabs(b->train_loss[s]);
        d->loss = isfinite(e) ? fmax(d->loss, e) : INFINITY;
    }
    d->eval_loss = fabs(a->eval_loss - b->eval_loss) / fabs(b->eval_loss);
    if (!isfinite(d->eval_loss)) d->eval_loss = INFINITY;
    d->grad1 = per_param(g, a->velocity1, b->velocity1, NULL, &d->grad1_at);
    d->grad = per_param(g, a->velocity, b->velocity, NULL, &d->grad_at);
    d->update = per_param(g, a->params, b->params, init_params, &d->update_at);
    double floor = 1e-6 * norm_of(b->state, init_state, g->state_arena.size);
    for (int i = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        if (op->kind != DB_OP_BN) continue;
        size_t off = (size_t)(op->run - g->state_arena.base), c = (size_t)g->tensors[op->out].c;
        for (int half = 0; half < 2; half++) { /* running means, then variances */
            size_t at = off + half * c;
            double e = rel_l2(a->state + at, b->state + at, init_state + at, c, floor);
            if (!(e <= d->running)) { d->running = e; d->running_at = g->params[op->param[0]].name; }
        }
    }
    d->top1 = abs(a->top1 - b->top1);
    d->dropped = fabs(a->dropped - b->dropped);
}
