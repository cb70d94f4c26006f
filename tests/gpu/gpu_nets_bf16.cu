// --precision bf16's other ways through the GPU graph, each against bf16's plain one (NCHW
// operands, cuDNN alone), both beside the CPU's fp32 step from the same start (tests/gpu/nets_run.h).
// Rounding x, w and dy to bfloat16 is the same element by element in every way, so it moves both
// runs by about as much; the way under test is judged by the plain way's distance from the CPU,
// not by a limit of its own: its training and evaluation outputs and its momentum over the whole
// arena within twice the plain way's (floors 1e-3, 1e-3 and 0.02); both runs' momentum within 0.35
// too (ResNet-20's one bf16 step measured 0.09: a plain way gone wrong is no yardstick).
// A layout, weight-order or indexing mistake moves a tensor by tens of percent or more.
// Deterministic algorithms, as the other whole-step checks; where cuDNN offers none for some pass
// (channels-last's 1- or 3-channel stems the likeliest), that run takes the fastest measured ones
// and the line says so (`gpu-probe nhwc` lists what cuDNN offers).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/conv_cudnn.h"
#include "tests/gpu/nets_run.h"

typedef struct {
    const char *name;
    const char *ways[2];  // the detail's words for run 0 (the plain way) and run 1 (the way under test)
    db_gpu_options o[2];
    const char *params;   // a parameter-name prefix whose tensors are each judged too (within twice the plain way's or 0.1), or NULL
    int gemms;            // judged: run 1 took the GEMMs in every 1x1 stride-1 pass, run 0 in none
} bf16_pair;

// One run from the start (ip, is): the optimizer made again, the counters cleared, the results in r
static db_status pair_run(db_graph *g, db_sgd *opt, const db_sgd_config *sc, const float *ip, const float *is,
                          const db_gpu_options *o, run_result *r, int *passes, int *convs) {
    run_free(r);
    memcpy(g->param_arena.base, ip, sizeof(float) * g->param_arena.size);
    memcpy(g->state_arena.base, is, sizeof(float) * g->state_arena.size);
    db_sgd_free(opt);
    db_status s = db_sgd_init(opt, g, sc);
    for (int i = 0; i < g->n_ops; i++) g->ops[i].dropped = 0;
    db_gpu_graph *gg = NULL;
    if (s == DB_OK) s = db_gpu_graph_create(&gg, g, opt, o);
    if (s == DB_OK) s = gpu_run(gg, g, opt, r); /* (the evaluation's batch made its own set) */
    if (gg) *passes = db_gpu_graph_gemm_passes(gg, convs);
    db_gpu_graph_destroy(gg);
    return s == DB_OK && !r->opt ? db_fail(DB_ERR_NOMEM, "out of memory") : s;
}

static void check_pair(db_gpu_report report, const bf16_pair *pc, db_graph *g, db_status built, const db_sgd_config *sc) {
    if (built != DB_OK) { report(0, pc->name, db_last_error()); return; }
    db_sgd opt;
    g->seed = 42, g->last_step = 1000;
    db_graph_init_params(g, 42);
    const size_t np = g->param_arena.size, ns = g->state_arena.size;
    float *ip = (float *)malloc(sizeof(float) * (np + 1)), *is = (float *)malloc(sizeof(float) * (ns + 1));
    if (!ip || !is || db_sgd_init(&opt, g, sc) != DB_OK) {
        report(0, pc->name, ip && is ? db_last_error() : "out of memory");
        free(ip); free(is);
        db_graph_free(g);
        return;
    }
    memcpy(ip, g->param_arena.base, sizeof(float) * np);
    memcpy(is, g->state_arena.base, sizeof(float) * ns);
    run_result c = {}, d[2] = {};
    cpu_run(g, &opt, &c);
    double e_out[2] = {1, 1}, e_eval[2] = {1, 1}, e_grad[2] = {1, 1};
    int ran = c.outputs && c.opt, passes[2] = {0, 0}, convs = 0;
    char detail[1400] = "out of memory", refused[500] = "";
    for (int k = 0; k < 2 && ran; k++) {
        db_gpu_options o = pc->o[k];
        db_status s = pair_run(g, &opt, sc, ip, is, &o, &d[k], &passes[k], &convs);
        if (s != DB_OK && o.deterministic && db_gpu_deterministic_refused()) {
            snprintf(refused + strlen(refused), sizeof refused - strlen(refused), "%s: DETERMINISTIC ALGORITHMS REFUSED (%s), "
                     "run on the fastest measured ones; ", pc->ways[k], db_last_error());
            o.deterministic = 0;
            s = pair_run(g, &opt, sc, ip, is, &o, &d[k], &passes[k], &convs);
        }
        if (s != DB_OK) {
            snprintf(detail, sizeof detail, "%sthe GPU graph failed (%s): %s", refused, pc->ways[k], db_last_error());
            ran = 0;
            break;
        }
        size_t train_len = 0;
        for (int j = 0; j < outputs_of(g); j++) train_len += numel(output(g, j), N_TRAIN);
        e_out[k] = rel_d(d[k].outputs, c.outputs, train_len);
        e_eval[k] = rel_d(d[k].outputs + train_len, c.outputs + train_len, outputs_len(g) - train_len);
        e_grad[k] = rel(d[k].opt, c.opt, NULL, np, 1e-30);
    }
    if (!ran) {
        report(0, pc->name, detail);
    } else {
        double worst = 0, worst0 = 0; /* the named parameters: run 1's distance, run 0's beside it */
        const char *at = "";
        int ok_params = 1;
        for (int p = 0; pc->params && p < g->n_params; p++) {
            if (strncmp(g->params[p].name, pc->params, strlen(pc->params))) continue;
            const size_t off = (size_t)(g->params[p].data - g->param_arena.base), len = g->params[p].size;
            const double e1 = rel(d[1].opt + off, c.opt + off, NULL, len, 1e-30), e0 = rel(d[0].opt + off, c.opt + off, NULL, len, 1e-30);
            if (!(e1 <= fmax(2 * e0, 0.1))) ok_params = 0;
            if (!(e1 <= worst)) worst = e1, worst0 = e0, at = g->params[p].name;
        }
        const int all = 2 * DB_CONV_PASSES * convs; /* both batches' sets */
        size_t at_d = 0;
        if (pc->gemms)
            at_d = (size_t)snprintf(detail, sizeof detail, "%d of %d 1x1 passes on the GEMMs (cuDNN alone: %d); ", passes[1], all,
                                    passes[0]);
        at_d += (size_t)snprintf(detail + at_d, sizeof detail - at_d, "%sagainst the CPU's fp32, relative L2, %s vs %s: training "
                                 "outputs %.2g vs %.2g, evaluation outputs %.2g vs %.2g, momentum over the whole arena %.2g vs %.2g",
                                 refused, pc->ways[1], pc->ways[0], e_out[1], e_out[0], e_eval[1], e_eval[0], e_grad[1], e_grad[0]);
        if (pc->params && at_d < sizeof detail)
            snprintf(detail + at_d, sizeof detail - at_d, ", worst %s* parameter %.2g vs %.2g (%s)", pc->params, worst, worst0, at);
        const int ok = e_out[1] <= fmax(2 * e_out[0], 1e-3) && e_eval[1] <= fmax(2 * e_eval[0], 1e-3) &&
                       e_grad[1] <= fmax(2 * e_grad[0], 0.02) && e_grad[1] <= 0.35 && e_grad[0] <= 0.35 &&
                       (!pc->gemms || (convs > 0 && passes[1] == all && passes[0] == 0)) && (!pc->params || (ok_params && *at));
        report(ok, pc->name, detail);
    }
    for (int k = 0; k < 2; k++) run_free(&d[k]);
    run_free(&c);
    free(ip); free(is);
    db_sgd_free(&opt);
    db_graph_free(g);
}

// The FCN with the 1x1 passes (the FPN's laterals) on cuBLAS's bfloat16 GEMMs, which write fp32
// results straight into the graph's tensors (a GEMM's result is not rounded to bfloat16, so it
// is if anything nearer the CPU's). Judged besides: every 1x1 stride-1 convolution took the GEMMs
// in all three passes in one run (at the training batch and the evaluation's) and none in the
// other; and the laterals' own parameters each within twice cuDNN's or 0.1 (they hold 1% of the
// arena: a wrong weight gradient there moves it by 0.02 only, but moves its own tensor by 100%).
// The GEMMs' accumulating passes are checked op by op (conv_*_bf16_cublas_gemm): each lateral
// here is its input's first gradient.
void check_bf16_gemms(db_gpu_report report, db_graph *g, db_status built, const db_sgd_config *sc) {
    const bf16_pair pc = {"fcn_step_bf16_gemms", {"cuDNN alone", "the GEMMs"},
                          {{0, 1, 0, 0, 0.0f, 1, 1, 0, 0}, {0, 1, 0, 0, 0.0f, 1, 2, 0, 0}}, "fpn.lateral", 1};
    check_pair(report, &pc, g, built, sc);
}

// AmoebaNet-B with channels-last operands (--conv-layout nhwc): its 1x7 and 7x1 convolutions,
// the 1x1s, the 3x3s, a one-channel stem without backward-data, SAME padding's uneven borders
// written out before the casts; its depthwise convolutions are the graph's own fp32 kernels on
// NCHW either way (not cuDNN's: no layout to get wrong there)
void check_bf16_nhwc(db_gpu_report report, db_graph *g, db_status built, const db_sgd_config *sc) {
    const bf16_pair pc = {"amoebanet_b_step_bf16_nhwc", {"NCHW", "channels-last"},
                          {{0, 1, 0, 0, 0.4f, 1, 1, 0, 0}, {0, 1, 0, 0, 0.4f, 1, 1, 1, 0}}, NULL, 0};
    check_pair(report, &pc, g, built, sc);
}
