// Whole networks on the GPU graph (nets/graph_cuda.h) against the CPU graph: one training step
// of ResNet-20 with each regularizer, then an inference pass, compared after pulling the
// device's state back; and the training throughput that `make gpu-check` prints.
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/philox.h"
#include "nets/graph_cuda.h"
#include "nets/model.h"
#include "nets/ops.h"
#include "tests/gpu/gpu_check.h"

// max |a - b| over max |b|: an error relative to the tensor's scale (floor: `floor`); a NaN or
// Inf on either side is an infinite error (fmax would skip it)
static double rel(const float *a, const float *b, size_t n, double floor) {
    double diff = 0, scale = floor;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) return INFINITY;
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return diff / scale;
}

// The running statistics compared per batch norm and per half (means, variances), so that a
// wrong small mean is not hidden by the largest variance
static double rel_running(const db_graph *g, const float *a, const float *b) {
    double w = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        if (op->kind != DB_OP_BN) continue;
        size_t off = (size_t)(op->run - g->state_arena.base), c = (size_t)g->tensors[op->out].c;
        w = fmax(w, rel(a + off, b + off, c, 1e-6));
        w = fmax(w, rel(a + off + c, b + off + c, c, 1e-6));
    }
    return w;
}

// The worst of rel() over each parameter's own slice of a parameter-shaped arena, so that a
// wrong gradient of a small tensor is not hidden by the largest values elsewhere
static double rel_per_param(const db_graph *g, const float *a, const float *b, const char **worst) {
    double w = 0, all = rel(b, b, 0, 0);
    for (size_t i = 0; i < g->param_arena.size; i++) all = fmax(all, fabs((double)b[i]));
    for (int p = 0; p < g->n_params; p++) {
        size_t off = (size_t)(g->params[p].data - g->param_arena.base);
        double e = rel(a + off, b + off, g->params[p].size, 1e-6 * all);
        if (e > w) { w = e; *worst = g->params[p].name; }
    }
    return w;
}

static float *copy_of(const float *p, size_t n) {
    float *c = (float *)malloc(sizeof(float) * (n ? n : 1));
    if (n) memcpy(c, p, sizeof(float) * n);
    return c;
}

enum { STEPS = 2, N = 32, N_EVAL = 20 }; // two training steps on different batches, then an evaluation
                                          // batch of another size (the GPU's second descriptor set)

typedef struct {
    double train_loss[STEPS], eval_loss;
    int top1;
    float *params, *state, *velocity;
    double dropped;
} step_result;

static size_t input_len(const db_graph *g, int n) {
    return (size_t)g->tensors[0].c * n * g->tensors[0].h * g->tensors[0].w;
}

// Batch b's images and labels (n samples, CNHW as the graph's input)
static void fill_batch(float *x, int *labels, size_t len, int n, int b) {
    for (size_t i = 0; i < len; i++) x[i] = 2.0f * db_u01(db_rand4(11, 3, (uint32_t)b, i).v[0]) - 1.0f;
    for (int j = 0; j < n; j++) labels[j] = (j * 7 + b) % 10;
}

static double dropped_total(db_graph *g) {
    double d = 0;
    for (int i = 0; i < g->n_ops; i++) d += g->ops[i].dropped;
    return d;
}

static void keep(step_result *r, db_graph *g, db_sgd *opt) {
    r->params = copy_of(g->param_arena.base, g->param_arena.size);
    r->state = copy_of(g->state_arena.base, g->state_arena.size);
    r->velocity = copy_of(opt->velocity.base, g->param_arena.size);
    r->dropped = dropped_total(g);
}

static void cpu_run(db_graph *g, db_sgd *opt, step_result *r) {
    int labels[N];
    const db_tensor *o = db_graph_output(g);
    for (int b = 0; b < STEPS; b++) {
        g->training = 1;
        g->step = 17 + b;
        db_graph_set_batch(g, N);
        fill_batch(db_graph_input(g), labels, input_len(g, N), N, b);
        db_graph_forward(g);
        r->train_loss[b] = db_softmax_xent(o->grad, o->data, labels, o->c, N, 0.1f);
        db_graph_backward(g);
        db_sgd_step(opt, g, 0.05f);
    }
    g->training = 0;
    db_graph_set_batch(g, N_EVAL);
    fill_batch(db_graph_input(g), labels, input_len(g, N_EVAL), N_EVAL, STEPS);
    db_graph_forward(g);
    r->eval_loss = db_softmax_xent(NULL, o->data, labels, o->c, N_EVAL, 0.0f);
    int t5;
    db_topk_correct(o->data, labels, o->c, N_EVAL, &r->top1, &t5);
    g->training = 1;
    db_graph_set_batch(g, N);
    keep(r, g, opt);
}

static db_status gpu_run(db_gpu_graph *gg, db_graph *g, db_sgd *opt, step_result *r) {
    db_gpu_step st = {0, 0, 0, 0};
    DB_TRY(db_gpu_graph_push(gg));
    for (int b = 0; b < STEPS; b++) {
        g->training = 1;
        g->step = 17 + b;
        db_graph_set_batch(g, N);
        fill_batch(db_gpu_graph_input(gg), db_gpu_graph_labels(gg), input_len(g, N), N, b);
        DB_TRY(db_gpu_graph_forward_loss(gg, 0.1f, &st));
        r->train_loss[b] = st.loss;
        DB_TRY(db_gpu_graph_backward_update(gg, 0.05f));
    }
    g->training = 0;
    db_graph_set_batch(g, N_EVAL);
    fill_batch(db_gpu_graph_input(gg), db_gpu_graph_labels(gg), input_len(g, N_EVAL), N_EVAL, STEPS);
    db_status s = db_gpu_graph_forward_loss(gg, 0.0f, &st);
    g->training = 1;
    db_graph_set_batch(g, N);
    DB_TRY(s);
    r->eval_loss = st.loss;
    r->top1 = st.top1;
    DB_TRY(db_gpu_graph_pull(gg));
    keep(r, g, opt);
    return DB_OK;
}

static void free_result(step_result *r) { free(r->params); free(r->state); free(r->velocity); }

// Two training steps of ResNet-20 (32x32x3, batch 32, different batches) and an evaluation of
// 20 samples, on both devices from the same start. Tolerances: the losses to 1e-4 (fp32 sums in
// another order through 20 layers, and cuDNN's algorithms), the evaluation's loss to 1e-3;
// each parameter's gradient (the velocity: the sum of both steps' gradients) and parameters to
// 2e-3 of the tensor's largest value (batch norm's backward amplifies the forward's
// differences; a parameter that starts at zero moves by its gradient); running statistics 1e-4
// per batch norm and half; the regularizers' dropped counts exactly (the masks are the same
// bits). A NaN anywhere fails.
static void check_step(db_gpu_report report, const char *name, db_reg_kind kind, int semantics) {
    db_model_config mc;
    db_model_defaults(&mc, "resnet20");
    mc.in_c = 3; mc.in_h = mc.in_w = 32; mc.classes = 10;
    mc.unfused = 1;
    if (kind != DB_REG_NONE) {
        db_reg_plan p = {};
        p.kind = kind; p.keep_prob = 0.8f; p.block_size = 3; p.groups = (1u << 2) | (1u << 3); p.on_skip = 1;
        p.semantics = semantics;
        mc.reg = p;
    }
    db_graph g;
    db_sgd opt;
    db_sgd_config sc = {0.9f, 1, 5e-4f, 0};
    char detail[600];
    if (db_model_build(&g, &mc, N) != DB_OK || db_sgd_init(&opt, &g, &sc) != DB_OK) {
        report(0, name, db_last_error());
        return;
    }
    g.seed = 42; g.last_step = 1000;
    step_result c = {}, d = {};
    db_graph_init_params(&g, 42);
    cpu_run(&g, &opt, &c);
    db_graph_init_params(&g, 42); // the same start for the GPU
    memset(opt.velocity.base, 0, sizeof(float) * g.param_arena.size);
    db_graph_take_drop_fraction(&g, NULL);
    db_gpu_graph *gg = NULL;
    db_gpu_options o = {0, 1};
    db_status s = db_gpu_graph_create(&gg, &g, &opt, &o);
    if (s == DB_OK) s = gpu_run(gg, &g, &opt, &d);
    char algos[256] = "";
    if (gg) db_gpu_graph_describe(gg, algos, sizeof algos);
    db_gpu_graph_destroy(gg);
    if (s != DB_OK) {
        snprintf(detail, sizeof detail, "the GPU graph failed: %s", db_last_error());
        report(0, name, detail);
    } else {
        double e_loss = 0;
        for (int b = 0; b < STEPS; b++) {
            double e = fabs(d.train_loss[b] - c.train_loss[b]) / fabs(c.train_loss[b]);
            e_loss = isfinite(e) ? fmax(e_loss, e) : INFINITY;
        }
        double e_eval = fabs(d.eval_loss - c.eval_loss) / fabs(c.eval_loss);
        const char *wv = "", *wp = "";
        double e_v = rel_per_param(&g, d.velocity, c.velocity, &wv), e_p = rel_per_param(&g, d.params, c.params, &wp);
        double e_s = rel_running(&g, d.state, c.state);
        int ok = e_loss <= 1e-4 && e_eval <= 1e-3 && e_v <= 2e-3 && e_p <= 2e-3 && e_s <= 1e-4 && abs(d.top1 - c.top1) <= 1 &&
                 d.dropped == c.dropped && (kind == DB_REG_NONE || c.dropped > 0);
        snprintf(detail, sizeof detail,
                 "train loss %.6f vs CPU %.6f (worst rel %.2g), eval loss rel %.2g, top-1 %d vs %d of %d, gradients rel %.2g "
                 "(%s), parameters rel %.2g (%s), running stats rel %.2g, dropped %.0f vs %.0f%s%s",
                 d.train_loss[0], c.train_loss[0], e_loss, e_eval, d.top1, c.top1, N_EVAL, e_v, wv, e_p, wp, e_s, d.dropped,
                 c.dropped, ok ? "" : "; ", ok ? "" : algos);
        report(ok, name, detail);
    }
    free_result(&c); free_result(&d);
    db_sgd_free(&opt);
    db_graph_free(&g);
}

extern "C" void db_gpu_check_graph(db_gpu_report report) {
    check_step(report, "resnet20_steps", DB_REG_NONE, 0);
    check_step(report, "resnet20_steps_dropout", DB_REG_DROPOUT, 0);
    check_step(report, "resnet20_steps_spatial_dropout", DB_REG_SPATIAL, 0);
    check_step(report, "resnet20_steps_dropblock", DB_REG_DROPBLOCK, 0);
    check_step(report, "resnet20_steps_dropblock_darknet", DB_REG_DROPBLOCK, 4); // the mask drawn on the host
    check_step(report, "resnet20_steps_droppath", DB_REG_DROPPATH, 0);
}

// Training images/s of the GPU graph: the training loop's own calls (batch upload from pinned
// memory, forward, loss read back, backward, SGD), median of three windows. -1 on failure.
extern "C" double db_gpu_bench_graph(const char *arch, int c, int hw, int classes, int batch, int tf32, int steps) {
    db_model_config mc;
    if (db_model_defaults(&mc, arch) != DB_OK) return -1;
    mc.in_c = c; mc.in_h = mc.in_w = hw; mc.classes = classes;
    mc.unfused = 1;
    db_graph g;
    db_sgd opt;
    db_sgd_config sc = {0.9f, 0, 5e-4f, 0};
    if (db_model_build(&g, &mc, batch) != DB_OK || db_sgd_init(&opt, &g, &sc) != DB_OK) return -1;
    db_graph_init_params(&g, 1);
    db_gpu_graph *gg = NULL;
    db_gpu_options o = {tf32, 1};
    double best[3] = {-1, -1, -1};
    if (db_gpu_graph_create(&gg, &g, &opt, &o) == DB_OK && db_gpu_graph_push(gg) == DB_OK) {
        size_t len = (size_t)c * batch * hw * hw;
        float *x = db_gpu_graph_input(gg);
        int *labels = db_gpu_graph_labels(gg);
        for (size_t i = 0; i < len; i++) x[i] = 2.0f * db_u01(db_rand4(5, 1, 0, i).v[0]) - 1.0f;
        for (int j = 0; j < batch; j++) labels[j] = j % classes;
        db_gpu_step st;
        int ok = 1;
        for (int w = -1; w < 3 && ok; w++) { // a warm-up window, then three timed ones
            double t0 = db_now();
            for (int s = 0; s < steps && ok; s++) {
                g.step = s;
                ok = db_gpu_graph_forward_loss(gg, 0.0f, &st) == DB_OK && db_gpu_graph_backward_update(gg, 0.01f) == DB_OK;
            }
            ok = ok && cudaDeviceSynchronize() == cudaSuccess;
            if (w >= 0) best[w] = (double)steps * batch / (db_now() - t0);
        }
        if (!ok) best[0] = best[1] = best[2] = -1;
        char desc[256];
        db_gpu_graph_describe(gg, desc, sizeof desc);
        printf("  (%s)\n", desc);
    } else {
        printf("  %s\n", db_last_error());
    }
    db_gpu_graph_destroy(gg);
    db_sgd_free(&opt);
    db_graph_free(&g);
    // the median of three
    double a = best[0], b = best[1], m = best[2];
    return fmax(fmin(a, b), fmin(fmax(a, b), m));
}
