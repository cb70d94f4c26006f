// Whole networks on the GPU graph (nets/graph_cuda.h) against the CPU graph: two training steps
// of ResNet-20 with each regularizer, then an inference pass (tests/gpu/steps.h), compared after
// pulling the device's state back; and the training throughput that `make gpu-check` prints.
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
#include "tests/gpu/steps.h"

static db_status gpu_run(db_gpu_graph *gg, db_graph *g, db_sgd *opt, db_steps_result *r) {
    db_gpu_step st = {0, 0, 0, 0};
    DB_TRY(db_gpu_graph_push(gg));
    for (int b = 0; b < DB_STEPS; b++) {
        g->training = 1;
        g->step = 17 + b;
        db_graph_set_batch(g, DB_STEPS_N);
        db_steps_fill_batch(db_gpu_graph_input(gg), db_gpu_graph_labels(gg), db_steps_input_len(g, DB_STEPS_N), DB_STEPS_N, b);
        DB_TRY(db_gpu_graph_forward_loss(gg, 0.1f, &st));
        r->train_loss[b] = st.loss;
        DB_TRY(db_gpu_graph_backward_update(gg, 0.05f));
        if (b == 0) { // the first step's gradients, before the second spreads a flipped ReLU
            DB_TRY(db_gpu_graph_pull(gg));
            db_steps_keep_first(r, g, opt);
        }
    }
    g->training = 0;
    db_graph_set_batch(g, DB_STEPS_N_EVAL);
    db_steps_fill_batch(db_gpu_graph_input(gg), db_gpu_graph_labels(gg), db_steps_input_len(g, DB_STEPS_N_EVAL), DB_STEPS_N_EVAL,
                        DB_STEPS);
    db_status s = db_gpu_graph_forward_loss(gg, 0.0f, &st);
    g->training = 1;
    db_graph_set_batch(g, DB_STEPS_N);
    DB_TRY(s);
    r->eval_loss = st.loss;
    r->top1 = st.top1;
    DB_TRY(db_gpu_graph_pull(gg));
    db_steps_keep(r, g, opt);
    return DB_OK;
}

// The limits, as relative L2 per tensor (tests/gpu/steps.h), are MARGIN times what two CPU
// builds of the same steps already differ by (`make cpu-spread`, in BENCHMARKS.md; the worst of
// OpenBLAS against the portable GEMM and 2 threads against 1, on an AMD EPYC): the GPU sums in
// yet another order, and a ReLU that flips on a value near zero moves a batch norm's gradient by
// far more than rounding (the worst tensors are BN gammas and betas). A layout or indexing
// mistake moves a tensor by 100% or more; the op-by-op checks keep their 1e-4 limits. The
// regularizers' dropped counts must match exactly (the masks are the same bits).
enum { MARGIN = 3 };
// One step's gradients (grad1) are the tight check: a single flipped ReLU moves a tensor by
// about 1/sqrt(its size) there, and only the second step spreads it to every tensor.
static const double SPREAD_LOSS = 3.2e-6, SPREAD_EVAL = 6.9e-5, SPREAD_GRAD1 = 0.0093, SPREAD_GRAD = 0.062,
                    SPREAD_UPDATE = 0.041, SPREAD_RUNNING = 9e-5;

// bf16: the convolutions in bfloat16 (--precision bf16), against the same fp32 CPU run. A CPU
// emulation of it (each convolution's x, w and dy rounded to bfloat16, its results too) measured
// loss 7e-4 to 9e-4, evaluation loss up to 5e-4, running statistics 5e-3 to 6e-3, and per tensor
// 0.35-0.38 for one step's gradients, up to 0.66 for both steps' (BN gammas and betas; two correct
// bf16 runs differ from each other by as much): per tensor is no test there. Over the whole
// arena it is steady (one step's gradients 0.091, both steps' 0.195, updates 0.147), so bf16 is
// judged there, at about 2x that, with per tensor at 1.0 only against a grossly wrong tensor.
static const double BF16_LOSS = 5e-3, BF16_GRAD1 = 0.2, BF16_GRAD = 0.35, BF16_UPDATE = 0.25, BF16_RUNNING = 2e-2,
                    BF16_TENSOR = 1.0;

// ||a - b|| / ||b - base|| over n floats (base NULL: zero)
static double arena_rel(const float *a, const float *b, const float *base, size_t n) {
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) return INFINITY;
        const double z = base ? base[i] : 0.0;
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        m += (b[i] - z) * (b[i] - z);
    }
    return sqrt(d) / fmax(sqrt(m), 1e-30);
}

// The GPU's run of the steps from the start (ip, is) with options o: its results into d (freed
// first), its algorithms into algos
static db_status gpu_attempt(db_graph *g, db_sgd *opt, const float *ip, const float *is, const db_gpu_options *o,
                             db_steps_result *d, char *algos, size_t len) {
    db_steps_free(d);
    memcpy(g->param_arena.base, ip, sizeof(float) * g->param_arena.size);
    memcpy(g->state_arena.base, is, sizeof(float) * g->state_arena.size);
    memset(opt->velocity.base, 0, sizeof(float) * g->param_arena.size);
    db_graph_take_drop_fraction(g, NULL);
    for (int i = 0; i < g->n_ops; i++) g->ops[i].dropped = 0;
    db_gpu_graph *gg = NULL;
    db_status s = db_gpu_graph_create(&gg, g, opt, o);
    if (s == DB_OK) s = gpu_run(gg, g, opt, d);
    if (gg) db_gpu_graph_describe(gg, algos, len);
    db_gpu_graph_destroy(gg);
    return s;
}

// bf16: 1 the convolutions in bfloat16 on NCHW operands, 2 channels-last (--conv-layout nhwc);
// bn_fused: batch norm on the graph's own kernels (nets/bn_cuda.cu). Channels-last: where cuDNN's
// heuristics offer no deterministic algorithm for some pass (the 3-channel stem's most likely),
// which says nothing of the layout's numbers, the steps run again on the fastest measured
// algorithms and are judged on those, the refusal named on the line (gpu-probe nhwc lists what
// cuDNN offers for each pass)
static void check_step(db_gpu_report report, const db_steps_case *cs, int bf16, int bn_fused) {
    db_graph g;
    db_sgd opt;
    float *ip = NULL, *is = NULL;
    char detail[1900], refused[400] = "";
    char name[80];
    snprintf(name, sizeof name, "%s%s%s", cs->name, bf16 == 2 ? "_bf16_nhwc" : bf16 ? "_bf16" : "", bn_fused ? "_bn_fused" : "");
    if (db_steps_build(&g, &opt, cs, &ip, &is) != DB_OK) {
        report(0, name, db_last_error());
        return;
    }
    db_steps_result c = {}, d = {};
    db_steps_cpu_run(&g, &opt, &c);
    // the GPU from the same start
    db_gpu_options o = {0, 1, 0, 0, 0.0f, bf16 > 0, 0, bf16 == 2, bn_fused};
    char algos[512] = "";
    db_status s = gpu_attempt(&g, &opt, ip, is, &o, &d, algos, sizeof algos);
    if (s != DB_OK && bf16 == 2 && db_gpu_deterministic_refused()) {
        snprintf(refused, sizeof refused, "DETERMINISTIC ALGORITHMS REFUSED (%s); judged on the fastest measured ones: ",
                 db_last_error());
        o.deterministic = 0;
        s = gpu_attempt(&g, &opt, ip, is, &o, &d, algos, sizeof algos);
    }
    if (s != DB_OK) {
        snprintf(detail, sizeof detail, "%sthe GPU graph failed: %s", refused, db_last_error());
        report(0, name, detail);
    } else {
        db_steps_diff e;
        db_steps_compare(&g, ip, is, &d, &c, &e);
        const size_t np = g.param_arena.size;
        const double w1 = arena_rel(d.velocity1, c.velocity1, NULL, np), w2 = arena_rel(d.velocity, c.velocity, NULL, np),
                     wu = arena_rel(d.params, c.params, ip, np);
        int ok = e.dropped == 0 && (cs->kind == DB_REG_NONE || c.dropped > 0);
        if (bf16)
            ok = ok && e.loss <= BF16_LOSS && e.eval_loss <= BF16_LOSS && w1 <= BF16_GRAD1 && w2 <= BF16_GRAD &&
                 wu <= BF16_UPDATE && e.grad1 <= BF16_TENSOR && e.grad <= BF16_TENSOR && e.update <= BF16_TENSOR &&
                 e.running <= BF16_RUNNING && e.top1 <= 3;
        else
            ok = ok && e.loss <= MARGIN * SPREAD_LOSS && e.eval_loss <= MARGIN * SPREAD_EVAL && e.grad1 <= MARGIN * SPREAD_GRAD1 &&
                 e.grad <= MARGIN * SPREAD_GRAD && e.update <= MARGIN * SPREAD_UPDATE && e.running <= MARGIN * SPREAD_RUNNING &&
                 e.top1 <= 1;
        snprintf(detail, sizeof detail,
                 "%strain loss %.6f vs CPU %.6f (worst rel %.2g), eval loss rel %.2g, top-1 %d vs %d of %d; relative L2 per tensor: "
                 "first step's gradients %.2g (%s), both steps' %.2g (%s), updates %.2g (%s), running stats %.2g (%s); "
                 "over the whole arena: %.2g, %.2g, %.2g; dropped %.0f vs %.0f; %s",
                 refused, d.train_loss[0], c.train_loss[0], e.loss, e.eval_loss, d.top1, c.top1, DB_STEPS_N_EVAL, e.grad1, e.grad1_at,
                 e.grad, e.grad_at,
                 e.update, e.update_at, e.running, e.running_at, w1, w2, wu, d.dropped, c.dropped, algos);
        report(ok, name, detail);
    }
    db_steps_free(&c); db_steps_free(&d);
    free(ip); free(is);
    db_sgd_free(&opt);
    db_graph_free(&g);
}

// The training loop's way (db_gpu_graph_forward_loss_late: each result read at the next step,
// the last of an "epoch" by a flush) against the waiting one: two epochs of two steps from the
// same start, a pull while a result waits (a replica check's), so the same losses, counts, final
// weights, running statistics and velocity, bit for bit (deterministic algorithms)
static void check_late(db_gpu_report report) {
    const char *name = "late_loss_bit_identical";
    enum { EPOCHS = 2, PER = 2, STEPS = EPOCHS * PER };
    db_graph g;
    db_sgd opt;
    float *ip = NULL, *is = NULL;
    if (db_steps_build(&g, &opt, &db_steps_cases[3], &ip, &is) != DB_OK) { report(0, name, db_last_error()); return; }
    const size_t np = g.param_arena.size, ns = g.state_arena.size, nv = opt.velocity.size;
    double loss[2][STEPS] = {{0}};
    int top1[2][STEPS] = {{0}}, got[2] = {0, 0};
    float *after = (float *)malloc(sizeof(float) * (np + ns + nv + 1));
    db_status s = after ? DB_OK : db_fail(DB_ERR_NOMEM, "out of memory");
    int same_w = 1;
    for (int late = 0; late < 2 && s == DB_OK; late++) {
        memcpy(g.param_arena.base, ip, sizeof(float) * np);
        memcpy(g.state_arena.base, is, sizeof(float) * ns);
        memset(opt.velocity.base, 0, sizeof(float) * nv);
        db_gpu_graph *gg = NULL;
        db_gpu_options o = {0, 1, 0, 0, 0.0f, 0, 0, 0, 0};
        s = db_gpu_graph_create(&gg, &g, &opt, &o);
        if (s == DB_OK) s = db_gpu_graph_push(gg);
        for (int e = 0; e < EPOCHS && s == DB_OK; e++) {
            for (int j = 0; j < PER && s == DB_OK; j++) {
                const int b = e * PER + j;
                g.training = 1, g.step = 17 + b;
                db_graph_set_batch(&g, DB_STEPS_N);
                db_steps_fill_batch(db_gpu_graph_input(gg), db_gpu_graph_labels(gg), db_steps_input_len(&g, DB_STEPS_N),
                                    DB_STEPS_N, b);
                db_gpu_step st = {0, 0, 0, 1};
                int have = 1;
                s = late ? db_gpu_graph_forward_loss_late(gg, 0.1f, &st, &have) : db_gpu_graph_forward_loss(gg, 0.1f, &st);
                if (s == DB_OK && have && got[late] < STEPS) loss[late][got[late]] = st.loss, top1[late][got[late]++] = st.top1;
                if (s == DB_OK) s = db_gpu_graph_backward_update(gg, 0.05f);
                if (s == DB_OK && j == 0) s = db_gpu_graph_pull(gg); // with a result waiting
            }
            db_gpu_step st = {0, 0, 0, 1};
            int have = 0;
            if (s == DB_OK && late) s = db_gpu_graph_loss_flush(gg, &st, &have); // the epoch's last
            if (s == DB_OK && have && got[1] < STEPS) loss[1][got[1]] = st.loss, top1[1][got[1]++] = st.top1;
        }
        if (s == DB_OK) s = db_gpu_graph_pull(gg);
        float *w = after;
        if (s == DB_OK && !late) {
            memcpy(w, g.param_arena.base, sizeof(float) * np);
            memcpy(w + np, g.state_arena.base, sizeof(float) * ns);
            memcpy(w + np + ns, opt.velocity.base, sizeof(float) * nv);
        }
        if (s == DB_OK && late)
            same_w = !memcmp(w, g.param_arena.base, sizeof(float) * np) && !memcmp(w + np, g.state_arena.base, sizeof(float) * ns) &&
                     !memcmp(w + np + ns, opt.velocity.base, sizeof(float) * nv);
        db_gpu_graph_destroy(gg);
    }
    char detail[320];
    if (s != DB_OK) {
        snprintf(detail, sizeof detail, "%s", db_last_error());
        report(0, name, detail);
    } else {
        const int same_l = !memcmp(loss[0], loss[1], sizeof loss[0]) && !memcmp(top1[0], top1[1], sizeof top1[0]);
        snprintf(detail, sizeof detail, "%d of %d results read a step late over two epochs (each epoch's last by a flush, a "
                 "pull with one waiting); losses %s (%.6f ... %.6f), final weights, statistics and velocity %s",
                 got[1], STEPS, same_l ? "equal" : "DIFFER", loss[1][0], loss[1][STEPS - 1], same_w ? "equal" : "DIFFER");
        report(got[0] == STEPS && got[1] == STEPS && same_l && same_w, name, detail);
    }
    free(after); free(ip); free(is);
    db_sgd_free(&opt);
    db_graph_free(&g);
}

extern "C" void db_gpu_check_graph(db_gpu_report report) {
    check_late(report);
    for (int i = 0; i < db_steps_n_cases; i++) check_step(report, &db_steps_cases[i], 0, 0);
    check_step(report, &db_steps_cases[0], 1, 0); // the convolutions in bfloat16
    check_step(report, &db_steps_cases[0], 2, 0); // the same on channels-last operands
    check_step(report, &db_steps_cases[0], 0, 1); // the fused batch norm, without and with DropBlock
    check_step(report, &db_steps_cases[3], 0, 1);
}

// Training images/s of the GPU graph: the training loop's own calls (batch upload from pinned
// memory, forward, loss read back, backward, SGD), median of three windows. -1 on failure.
// profile: then one more window with the step profile (nets/gpu_prof.h) printed.
extern "C" double db_gpu_bench_graph(const char *arch, int c, int hw, int classes, int batch, int mode, int steps,
                                     int profile) {
    db_model_config mc;
    if (db_model_defaults(&mc, arch) != DB_OK) return -1;
    mc.in_c = c; mc.in_h = mc.in_w = hw; mc.classes = classes;
    mc.unfused = 1;
    if (!strncmp(arch, "amoebanet", 9)) // the small-scale network: (2, 16), the basic stem (as dropbench bench)
        mc.cells = 6, mc.width = 16, mc.stem = 'b';
    db_graph g;
    db_sgd opt;
    db_sgd_config sc = {}; /* C++: every member zero, then the two it sets */
    sc.momentum = 0.9f, sc.weight_decay = 5e-4f;
    if (db_model_build(&g, &mc, batch) != DB_OK || db_sgd_init(&opt, &g, &sc) != DB_OK) return -1;
    db_graph_init_params(&g, 1);
    db_gpu_graph *gg = NULL;
    // the fastest measured algorithms, as a training run takes by default
    db_gpu_options o = {(mode & 3) == 1, 0, 0, 0, 0.0f, (mode & 3) >= 2, 0, (mode & 3) == 3, (mode & 4) != 0};
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
        if (ok && profile) {
            ok = db_gpu_graph_profile(gg, 1) == DB_OK;
            for (int s = 0; s < steps && ok; s++)
                ok = db_gpu_graph_forward_loss(gg, 0.0f, &st) == DB_OK && db_gpu_graph_backward_update(gg, 0.01f) == DB_OK;
            if (!ok || db_gpu_graph_profile_report(gg, stdout) != DB_OK) printf("  profile: %s\n", db_last_error());
            db_gpu_graph_profile(gg, 0);
        }
        char desc[512];
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
