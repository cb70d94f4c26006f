// The networks beyond the ResNet classifiers on the GPU graph against the CPU graph: a tiny
// AmoebaNet-B (depthwise and SAME ops, concatenation, the auxiliary head's second output and its
// linear layer on a 1x1 map, the classifier's dropout on a vector, DropBlock in the last cells,
// RMSProp and the moving average), a tiny RetinaNet (five levels of outputs, heads whose weights
// are shared over the levels, nearest upsampling, biases, DropBlock in the backbone) and a tiny
// FCN (bilinear resizing). Each takes one training step through db_gpu_graph_forward, the path
// of the tasks with their own loss: every output comes to the host, a fixed gradient goes back
// (the same on both devices, so no loss code is in the comparison), then the backward and the
// update; then an evaluation batch of another size through the updated weights.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
#include "detect/detect_gpu.h"
#include "nets/gpu_backend.h"
#include "detect/layout.h"
#include "nets/conv_cudnn.h"
#include "nets/graph_cuda.h"
#include "nets/model.h"
#include "nets/optim.h"
#include "nets/retinanet.h"
#include "nets/segnet.h"
#include "tests/gpu/nets_run.h"

// Limits: the forward of identical inputs agrees to rounding (cuDNN's sums in other orders; a
// ReLU near zero moves a value by rounding only); one step's momentum (the gradient) within the
// ResNet-20 checks' first-step limit (3 x the CPU-vs-CPU spread, tests/gpu/gpu_graph.cu); the
// updated weights' evaluation outputs within 1e-3. A layout or indexing mistake moves a tensor
// by tens of percent or more.
// The optimizer's other state (RMSProp's mean squares from 1, the moving average's weights and
// statistics from the start), each over its whole arena, within 1e-2: the average's decay taken
// at the wrong step moves it by 3.6%.
static const double LIM_OUT = 1e-4, LIM_GRAD = 3 * 0.0093, LIM_EVAL = 1e-3, LIM_RUN = 3 * 9e-5, LIM_OPT = 1e-2;

// bn_fused: batch norm on the graph's own kernels (nets/bn_cuda.cu)
static void compare(db_gpu_report report, const char *name, db_graph *g, db_sgd *opt, const float *ip, const float *is,
                    int bn_fused) {
    run_result c = {}, d = {};
    char detail[1200];
    cpu_run(g, opt, &c);
    // the same start for the GPU
    memcpy(g->param_arena.base, ip, sizeof(float) * g->param_arena.size);
    memcpy(g->state_arena.base, is, sizeof(float) * g->state_arena.size);
    db_sgd_config cfg = opt->cfg;
    db_sgd_free(opt);
    db_status s = db_sgd_init(opt, g, &cfg);
    for (int i = 0; i < g->n_ops; i++) g->ops[i].dropped = 0;
    db_gpu_graph *gg = NULL;
    db_gpu_options o = {0, 1, 0, 0, 0.4f, 0, 0, 0, bn_fused};
    if (s == DB_OK) s = db_gpu_graph_create(&gg, g, opt, &o);
    if (s == DB_OK) s = gpu_run(gg, g, opt, &d);
    db_gpu_graph_destroy(gg);
    if (s != DB_OK || !c.outputs || !d.params || !d.opt || !d.state) {
        snprintf(detail, sizeof detail, "the GPU graph failed: %s", s != DB_OK ? db_last_error() : "out of memory");
        report(0, name, detail);
    } else {
        size_t train_len = 0;
        for (int k = 0; k < outputs_of(g); k++) train_len += numel(output(g, k), N_TRAIN);
        const double e_out = rel_d(d.outputs, c.outputs, train_len);
        const double e_eval = rel_d(d.outputs + train_len, c.outputs + train_len, outputs_len(g) - train_len);
        const char *at_grad = "", *at_upd = "";
        const double e_grad = worst_param(g, d.opt, c.opt, NULL, &at_grad);
        const double e_upd = worst_param(g, d.params, c.params, ip, &at_upd);
        const size_t np = g->param_arena.size, ns = g->state_arena.size;
        double e_rest = 0.0; // RMSProp's squares, the average's weights and statistics: the worst
        if (opt->mean_square) {
            const size_t at = (size_t)(opt->mean_square - opt->velocity.base);
            e_rest = fmax(e_rest, rel_from(d.opt + at, c.opt + at, NULL, 1.0f, np, 1e-12));
        }
        if (opt->ema_params) {
            const size_t at = (size_t)(opt->ema_params - opt->velocity.base), as = (size_t)(opt->ema_state - opt->velocity.base);
            e_rest = fmax(e_rest, rel(d.opt + at, c.opt + at, ip, np, 1e-12));
            e_rest = fmax(e_rest, rel(d.opt + as, c.opt + as, is, ns, 1e-12));
        }
        const double e_run = rel(d.state, c.state, is, g->state_arena.size, 1e-12);
        const int ok = e_out <= LIM_OUT && e_eval <= LIM_EVAL && e_grad <= LIM_GRAD && e_upd <= LIM_GRAD && e_rest <= LIM_OPT &&
                       e_run <= LIM_RUN && d.dropped == c.dropped;
        snprintf(detail, sizeof detail,
                 "%d outputs, relative L2: training outputs %.2g, evaluation outputs %.2g, worst momentum %.2g (%s), worst "
                 "update %.2g (%s), optimizer's other state %.2g, running stats %.2g; dropped %.0f vs %.0f",
                 outputs_of(g), e_out, e_eval, e_grad, at_grad, e_upd, at_upd, e_rest, e_run, d.dropped, c.dropped);
        report(ok, name, detail);
    }
    run_free(&c);
    run_free(&d);
}

// The network's graph built, its optimizer, the start kept; then the comparison
static void check(db_gpu_report report, const char *name, db_graph *g, db_status built, const db_sgd_config *sc, int bn_fused) {
    if (built != DB_OK) {
        report(0, name, db_last_error());
        return;
    }
    db_sgd opt;
    g->seed = 42, g->last_step = 1000;
    db_graph_init_params(g, 42);
    if (db_sgd_init(&opt, g, sc) != DB_OK) { // (the moving average starts from the initialised weights)
        report(0, name, db_last_error());
        db_graph_free(g);
        return;
    }
    float *ip = (float *)malloc(sizeof(float) * (g->param_arena.size + 1));
    float *is = (float *)malloc(sizeof(float) * (g->state_arena.size + 1));
    if (ip && is) {
        memcpy(ip, g->param_arena.base, sizeof(float) * g->param_arena.size);
        memcpy(is, g->state_arena.base, sizeof(float) * g->state_arena.size);
        compare(report, name, g, &opt, ip, is, bn_fused);
    } else {
        report(0, name, "out of memory");
    }
    free(ip); free(is);
    db_sgd_free(&opt);
    db_graph_free(g);
}

// The detector's loss on the device (detect/detect_gpu.h) against the same step with the loss on
// the host (the outputs down, detect/loss.c, the gradients up): the loss's parts and the
// gradients the backward makes of them. Fixed targets: background, every 97th anchor a positive
// of class i % K with a small box code, every 89th ignored.
static db_status detect_pass(db_graph *g, db_sgd *opt, const db_anchors *a, const int *cls_t, const float *box_t, int device,
                             db_detect_loss_parts *r, float *velocity) {
    const int K = 3, n = N_TRAIN, L = a->levels;
    const size_t rows = (size_t)n * a->n;
    db_gpu_graph *gg = NULL;
    db_gpu_detect *dl = NULL;
    db_gpu_options o = {0, 1, 0, 0, 0.0f, 0, 0, 0, 0};
    float *buf = (float *)malloc(sizeof(float) * rows * 2 * (K + 4));
    if (!buf) return db_fail(DB_ERR_NOMEM, "out of memory");
    float *logits = buf, *codes = logits + rows * K, *dlogits = codes + rows * 4, *dcodes = dlogits + rows * K;
    memset(opt->velocity.base, 0, sizeof(float) * opt->velocity.size);
    db_status s = db_gpu_graph_create(&gg, g, opt, &o);
    if (s == DB_OK) s = db_gpu_graph_push(gg);
    int finite = 0;
    g->training = 1, g->step = 17;
    db_graph_set_batch(g, n);
    if (s == DB_OK) fill_input(db_gpu_graph_input(gg), g, n, 2);
    if (s == DB_OK) s = db_gpu_graph_forward(gg, &finite, !device);
    const db_detect_loss_cfg c = db_detect_loss_defaults();
    if (s == DB_OK && device) {
        const db_gpu_backend *b = db_gpu_backend_entry(); // the table the program calls, with its checks
        s = b->detect_create(&dl, gg, a, K, n);
        if (s == DB_OK) s = b->detect_loss(dl, gg, cls_t, box_t, n, &c, r);
    } else if (s == DB_OK) {
        const float *cl[DB_ANCHOR_MAX_LEVELS], *bx[DB_ANCHOR_MAX_LEVELS];
        float *dcl[DB_ANCHOR_MAX_LEVELS], *dbx[DB_ANCHOR_MAX_LEVELS];
        for (int l = 0; l < L; l++) {
            cl[l] = db_graph_output_at(g, 2 * l)->data, bx[l] = db_graph_output_at(g, 2 * l + 1)->data;
            dcl[l] = db_graph_output_at(g, 2 * l)->grad, dbx[l] = db_graph_output_at(g, 2 * l + 1)->grad;
        }
        db_detect_gather(logits, cl, a, n, K);
        db_detect_gather(codes, bx, a, n, 4);
        *r = db_detect_loss(dlogits, dcodes, logits, codes, cls_t, box_t, (long)rows, K, &c);
        db_detect_scatter(dcl, dlogits, a, n, K);
        db_detect_scatter(dbx, dcodes, a, n, 4);
    }
    if (s == DB_OK) s = db_gpu_graph_backward_update(gg, 0.05f);
    if (s == DB_OK) s = db_gpu_graph_pull(gg);
    if (s == DB_OK) memcpy(velocity, opt->velocity.base, sizeof(float) * g->param_arena.size);
    db_gpu_detect_destroy(dl);
    db_gpu_graph_destroy(gg);
    free(buf);
    return s;
}

static void check_detect_loss(db_gpu_report report) {
    const char *name = "retinanet_loss_on_device";
    db_graph g;
    db_retinanet_config rc;
    db_anchors a = {};
    db_anchor_cfg ac = db_anchor_defaults();
    db_status s = db_retinanet_defaults(&rc, "resnet18", 3, 1, 128, 128);
    rc.backbone.width = 8, rc.fpn_width = 16, rc.head_convs = 2, rc.backbone.unfused = 1;
    if (s == DB_OK) s = db_anchors_make(&a, &ac, 128, 128);
    if (s == DB_OK) s = db_retinanet_build(&g, &rc, N_TRAIN);
    if (s != DB_OK) {
        report(0, name, db_last_error());
        db_anchors_free(&a);
        return;
    }
    db_graph_init_params(&g, 42);
    db_sgd_config sc = {};
    sc.momentum = 0.9f;
    db_sgd opt;
    const size_t rows = (size_t)N_TRAIN * a.n, np = g.param_arena.size;
    int *cls_t = (int *)malloc(sizeof(int) * rows);
    float *box_t = (float *)calloc(rows * 4, sizeof(float)), *ip = (float *)malloc(sizeof(float) * (np + 1));
    float *vh = (float *)malloc(sizeof(float) * (np + 1)), *vd = (float *)malloc(sizeof(float) * (np + 1));
    float *is = (float *)malloc(sizeof(float) * (g.state_arena.size + 1));
    s = cls_t && box_t && ip && vh && vd && is ? db_sgd_init(&opt, &g, &sc) : db_fail(DB_ERR_NOMEM, "out of memory");
    if (s != DB_OK) {
        report(0, name, db_last_error());
    } else {
        for (size_t i = 0; i < rows; i++) {
            cls_t[i] = i % 97 == 0 ? (int)(i % 3) : i % 89 == 0 ? -2 : -1;
            for (int j = 0; cls_t[i] >= 0 && j < 4; j++) box_t[4 * i + j] = 0.05f * (float)(j + 1) - 0.1f;
        }
        memcpy(ip, g.param_arena.base, sizeof(float) * np);
        memcpy(is, g.state_arena.base, sizeof(float) * g.state_arena.size);
        db_detect_loss_parts rh = {}, rd = {};
        s = detect_pass(&g, &opt, &a, cls_t, box_t, 0, &rh, vh);
        memcpy(g.param_arena.base, ip, sizeof(float) * np); // the same start again
        memcpy(g.state_arena.base, is, sizeof(float) * g.state_arena.size);
        for (int i = 0; i < g.n_ops; i++) g.ops[i].dropped = 0;
        if (s == DB_OK) s = detect_pass(&g, &opt, &a, cls_t, box_t, 1, &rd, vd);
        char detail[600];
        if (s != DB_OK) {
            snprintf(detail, sizeof detail, "%s", db_last_error());
            report(0, name, detail);
        } else {
            const char *at = "";
            const double e = worst_param(&g, vd, vh, NULL, &at), el = fabs(rd.total - rh.total) / fabs(rh.total);
            snprintf(detail, sizeof detail,
                     "loss %.6f (class %.6f, box %.6f, %ld positives) on the device vs %.6f (%.6f, %.6f, %ld) on the host: "
                     "relative %.2g; worst gradient %.2g (%s)",
                     rd.total, rd.cls, rd.box, rd.positives, rh.total, rh.cls, rh.box, rh.positives, el, e, at);
            report(el <= 1e-5 && e <= 1e-4 && rd.positives == rh.positives && rh.positives > 0, name, detail);
        }
        db_sgd_free(&opt);
    }
    free(cls_t); free(box_t); free(ip); free(vh); free(vd); free(is);
    db_anchors_free(&a);
    db_graph_free(&g);
}

// The classification loss of a network with an auxiliary head (db_gpu_graph_forward_loss: both
// outputs' cross-entropy on the device, the second times aux_weight, its gradient scaled) against
// the CPU stepper's (train/step.c): the loss and the gradients of one step
static void check_aux_loss(db_gpu_report report) {
    const char *name = "amoebanet_aux_loss";
    const float w = 0.4f, smoothing = 0.1f;
    db_graph g;
    db_sgd opt;
    db_sgd_config sc = {};
    sc.momentum = 0.9f;
    db_status s = tiny_amoebanet(&g, 0);
    if (s != DB_OK) { report(0, name, db_last_error()); return; }
    g.seed = 42, g.last_step = 1000;
    db_graph_init_params(&g, 42);
    const size_t np = g.param_arena.size, ns = g.state_arena.size;
    float *ip = (float *)malloc(sizeof(float) * (np + 1)), *is = (float *)malloc(sizeof(float) * (ns + 1));
    float *vc = (float *)malloc(sizeof(float) * (np + 1));
    int labels[N_TRAIN];
    for (int j = 0; j < N_TRAIN; j++) labels[j] = (3 * j + 1) % 10;
    s = ip && is && vc ? db_sgd_init(&opt, &g, &sc) : db_fail(DB_ERR_NOMEM, "out of memory");
    if (s != DB_OK) {
        report(0, name, db_last_error());
        free(ip); free(is); free(vc);
        db_graph_free(&g);
        return;
    }
    memcpy(ip, g.param_arena.base, sizeof(float) * np);
    memcpy(is, g.state_arena.base, sizeof(float) * ns);
    // the CPU, as db_stepper_forward_loss and backward_update
    g.training = 1, g.step = 17;
    db_graph_set_batch(&g, N_TRAIN);
    fill_input(db_graph_input(&g), &g, N_TRAIN, 3);
    db_graph_forward(&g);
    const db_tensor *o = db_graph_output_at(&g, 0), *a = db_graph_output_at(&g, 1);
    double lc = db_softmax_xent(o->grad, o->data, labels, o->c, N_TRAIN, smoothing);
    lc += w * db_softmax_xent(a->grad, a->data, labels, a->c, N_TRAIN, smoothing);
    for (size_t i = 0; i < (size_t)N_TRAIN * a->c; i++) a->grad[i] *= w;
    db_graph_backward(&g);
    db_sgd_step(&opt, &g, 0.05f);
    memcpy(vc, opt.velocity.base, sizeof(float) * np);
    // the GPU from the same start
    memcpy(g.param_arena.base, ip, sizeof(float) * np);
    memcpy(g.state_arena.base, is, sizeof(float) * ns);
    memset(opt.velocity.base, 0, sizeof(float) * opt.velocity.size);
    db_gpu_graph *gg = NULL;
    db_gpu_options go = {0, 1, 0, 0, w, 0, 0, 0, 0};
    db_gpu_step st = {0, 0, 0, 0};
    s = db_gpu_graph_create(&gg, &g, &opt, &go);
    if (s == DB_OK) s = db_gpu_graph_push(gg);
    if (s == DB_OK) {
        fill_input(db_gpu_graph_input(gg), &g, N_TRAIN, 3);
        memcpy(db_gpu_graph_labels(gg), labels, sizeof labels);
        s = db_gpu_graph_forward_loss(gg, smoothing, &st);
    }
    if (s == DB_OK) s = db_gpu_graph_backward_update(gg, 0.05f);
    if (s == DB_OK) s = db_gpu_graph_pull(gg);
    db_gpu_graph_destroy(gg);
    char detail[600];
    if (s != DB_OK) {
        snprintf(detail, sizeof detail, "the GPU graph failed: %s", db_last_error());
        report(0, name, detail);
    } else {
        const char *at = "";
        const double e = worst_param(&g, opt.velocity.base, vc, NULL, &at), el = fabs(st.loss - lc) / fabs(lc);
        snprintf(detail, sizeof detail, "loss %.6f (both heads, the second times %.1f) vs CPU %.6f: relative %.2g; worst "
                 "gradient %.2g (%s)", st.loss, (double)w, lc, el, e, at);
        report(el <= 1e-5 && e <= LIM_GRAD, name, detail);
    }
    free(ip); free(is); free(vc);
    db_sgd_free(&opt);
    db_graph_free(&g);
}

extern "C" void db_gpu_check_nets(db_gpu_report report) {
    db_graph g;
    check_aux_loss(report);
    db_sgd_config sgd = {};
    sgd.momentum = 0.9f, sgd.weight_decay = 1e-4f;
    { // RetinaNet on a width-8 ResNet-18, FPN 16 wide, P3-P7, 2 head convolutions, 3 classes, 128x128
        db_retinanet_config rc;
        db_status s = db_retinanet_defaults(&rc, "resnet18", 3, 1, 128, 128);
        rc.backbone.width = 8, rc.fpn_width = 16, rc.head_convs = 2, rc.backbone.unfused = 1;
        dropblock_plan(&rc.backbone.reg, (1u << 3) | (1u << 4), 0.0f);
        if (s == DB_OK) s = db_retinanet_build(&g, &rc, N_TRAIN);
        check(report, "retinanet_step", &g, s, &sgd, 0);
    }
    check_detect_loss(report);
    { // the FCN on the same backbone, 4 classes, 64x64, logits at stride 4 (C2 in the pyramid)
        db_segnet_config sc;
        db_status s = db_segnet_defaults(&sc, "resnet18", 4, 1, 64, 64);
        sc.backbone.width = 8, sc.fpn_width = 16, sc.head_convs = 2, sc.min_level = 2, sc.backbone.unfused = 1;
        dropblock_plan(&sc.backbone.reg, (1u << 3) | (1u << 4), 0.0f);
        if (s == DB_OK) s = db_segnet_build(&g, &sc, N_TRAIN);
        check(report, "fcn_step", &g, s, &sgd, 0);
        s = db_segnet_build(&g, &sc, N_TRAIN); /* again, with the fused batch norm */
        check(report, "fcn_step_bn_fused", &g, s, &sgd, 1);
        s = db_segnet_build(&g, &sc, N_TRAIN); /* again, with bf16 convolutions and its 1x1 passes on the GEMMs */
        check_bf16_gemms(report, &g, s, &sgd);
    }
    { // AmoebaNet-B with DropBlock in the last cells; RMSProp with the moving average
        db_status s = tiny_amoebanet(&g, 1);
        db_sgd_config sc = {};
        sc.momentum = 0.9f, sc.weight_decay = 4e-5f, sc.rmsprop = 1, sc.rms_decay = 0.9f, sc.rms_epsilon = 1.0f;
        sc.ema_decay = 0.9999f;
        check(report, "amoebanet_b_step", &g, s, &sc, 0);
        s = tiny_amoebanet(&g, 1);
        check(report, "amoebanet_b_step_bn_fused", &g, s, &sc, 1);
        s = tiny_amoebanet(&g, 1); /* again, bf16 on channels-last operands against bf16 on NCHW ones */
        check_bf16_nhwc(report, &g, s, &sc);
    }
}
