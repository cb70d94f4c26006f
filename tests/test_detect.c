/* Tests of the detection library (detect/): known answers from the official RetinaNet code's
 * formulas (anchors of P3 and P7 computed by hand, a box code, the focal loss at logit 0), the
 * matcher at its IoU borders and its forced matches, NMS on hand-made boxes, the per-level
 * post-processing, and finite-difference gradients of the losses. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/anchors.h"
#include "detect/layout.h"
#include "detect/loss.h"
#include "detect/match.h"
#include "detect/postprocess.h"
#include "datasets/batch.h"
#include "nets/optim.h"
#include "nets/retinanet.h"
#include "train/checkpoint.h"
#include "train/init_from.h"
#include "tests/check.h"
#include "tests/gradcheck.h"

static void check_box(db_box b, float y0, float x0, float y1, float x1, const char *what) {
    CHECK(fabsf(b.y0 - y0) < 1e-4f && fabsf(b.x0 - x0) < 1e-4f && fabsf(b.y1 - y1) < 1e-4f && fabsf(b.x1 - x1) < 1e-4f,
          "%s: (%g, %g, %g, %g), want (%g, %g, %g, %g)", what, b.y0, b.x0, b.y1, b.x1, y0, x0, y1, x1);
}

static void test_anchors_known(void) {
    db_anchor_cfg cfg = db_anchor_defaults();
    db_anchors a;
    CHECK_OK(db_anchors_make(&a, &cfg, 128, 128));
    /* P3: stride 8, maps 16x16; the first position's centre (4, 4), base anchor 4 * 8 = 32 */
    CHECK(a.n == 9 * (256 + 64 + 16 + 4 + 1) && a.per_position == 9 && a.levels == 5, "%d anchors", a.n);
    check_box(a.boxes[0], -12, -12, 20, 20, "P3 anchor 0 (scale 2^0, aspect 1:1)");
    check_box(a.boxes[1], 4 - 11.2f, 4 - 22.4f, 4 + 11.2f, 4 + 22.4f, "P3 anchor 1 (aspect x 1.4, y 0.7)");
    check_box(a.boxes[2], 4 - 22.4f, 4 - 11.2f, 4 + 22.4f, 4 + 11.2f, "P3 anchor 2 (aspect x 0.7, y 1.4)");
    const float h3 = 16.0f * 1.2599210f; /* 32 * 2^(1/3) / 2 */
    check_box(a.boxes[3], 4 - h3, 4 - h3, 4 + h3, 4 + h3, "P3 anchor 3 (scale 2^(1/3))");
    check_box(a.boxes[9], -12, -4, 20, 28, "P3 position (0, 1)");
    check_box(a.boxes[9 * 16], -4, -12, 28, 20, "P3 position (1, 0)");
    /* P7: stride 128, one position at (64, 64), base anchor 512 */
    CHECK(a.level_first[4] == 9 * 340, "P7 starts at %d", a.level_first[4]);
    check_box(a.boxes[a.level_first[4]], -192, -192, 320, 320, "P7 anchor 0");
    const float h7 = 256.0f * 1.5874011f; /* 512 * 2^(2/3) / 2 */
    check_box(a.boxes[a.level_first[4] + 6], 64 - h7, 64 - h7, 64 + h7, 64 + h7, "P7 anchor 6 (scale 2^(2/3))");
    db_anchors_free(&a);
    /* a non-square input; one that the largest stride does not divide is refused */
    CHECK_OK(db_anchors_make(&a, &cfg, 128, 256));
    CHECK(a.level_h[0] == 16 && a.level_w[0] == 32 && a.n == 9 * (512 + 128 + 32 + 8 + 2), "128x256: %d anchors", a.n);
    db_anchors_free(&a);
    CHECK(db_anchors_make(&a, &cfg, 100, 128) == DB_ERR_ARG, "100x128 accepted with a largest stride of 128");
}

static void test_box_codes(void) {
    float code[4];
    db_box anchor = {0, 0, 10, 10}, box = {0, 0, 10, 20};
    db_box_encode(code, box, anchor);
    CHECK(fabsf(code[0]) < 1e-6f && fabsf(code[1] - 0.5f) < 1e-6f && fabsf(code[2]) < 1e-6f &&
              fabsf(code[3] - 0.6931472f) < 1e-6f, "code (%g, %g, %g, %g), want (0, 0.5, 0, ln 2)", code[0], code[1],
          code[2], code[3]);
    int bad = 0;
    for (int i = 0; i < 1000; i++) { /* round trips over varied boxes and anchors */
        float u[8];
        for (int j = 0; j < 8; j++) u[j] = (float)((i * 37 + j * 101) % 997) / 997.0f;
        db_box a = {100 * u[0], 100 * u[1], 100 * u[0] + 4 + 200 * u[2], 100 * u[1] + 4 + 200 * u[3]};
        db_box b = {100 * u[4], 100 * u[5], 100 * u[4] + 1 + 300 * u[6], 100 * u[5] + 1 + 300 * u[7]};
        db_box_encode(code, b, a);
        db_box r = db_box_decode(code, a);
        bad += fabsf(r.y0 - b.y0) > 1e-3f || fabsf(r.x0 - b.x0) > 1e-3f || fabsf(r.y1 - b.y1) > 1e-3f ||
               fabsf(r.x1 - b.x1) > 1e-3f;
    }
    CHECK(bad == 0, "%d of 1000 boxes do not survive encode then decode", bad);
    CHECK(db_box_iou((db_box){0, 0, 10, 10}, (db_box){0, 5, 10, 15}) == 50.0f / 150.0f, "IoU of half-shifted boxes");
    CHECK(db_box_iou((db_box){0, 0, 10, 10}, (db_box){0, 10, 10, 20}) == 0.0f, "touching boxes overlap");
}

static void test_matcher_borders(void) {
    /* one anchor, boxes with IoU exactly 0.5, 0.4 and 0.39: positive, ignored, background */
    db_box anchor = {0, 0, 10, 10};
    db_match_cfg c = db_match_defaults();
    c.force_best = 0;
    const db_box gts[3] = {{0, 0, 10, 5}, {0, 0, 10, 4}, {0, 0, 10, 3.9f}};
    const int want[3] = {0, DB_MATCH_IGNORED, DB_MATCH_NEGATIVE};
    for (int g = 0; g < 3; g++) {
        int m = 7, pos = -1;
        CHECK_OK(db_match(&m, &pos, &anchor, 1, &gts[g], 1, &c));
        CHECK(m == want[g] && pos == (want[g] >= 0), "IoU %g: match %d (want %d), %d positives",
              db_box_iou(anchor, gts[g]), m, want[g], pos);
    }
    /* the official thresholds (0.5 and 0.5): 0.4 is background */
    c.negative_iou = 0.5f;
    int m = 7, pos;
    CHECK_OK(db_match(&m, &pos, &anchor, 1, &gts[1], 1, &c));
    CHECK(m == DB_MATCH_NEGATIVE, "IoU 0.4 with thresholds 0.5/0.5: %d", m);
    c.negative_iou = 0.6f;
    CHECK(db_match(&m, &pos, &anchor, 1, &gts[1], 1, &c) == DB_ERR_ARG, "negative IoU above positive accepted");
    /* the best of two boxes wins (the first of equals); no boxes: all background */
    c = db_match_defaults();
    c.force_best = 0;
    const db_box two[2] = {{0, 0, 10, 6}, {0, 0, 10, 8}}, same[2] = {{0, 0, 10, 8}, {0, 0, 10, 8}};
    CHECK_OK(db_match(&m, &pos, &anchor, 1, two, 2, &c));
    CHECK(m == 1, "best box: %d", m);
    CHECK_OK(db_match(&m, &pos, &anchor, 1, same, 2, &c));
    CHECK(m == 0, "equal boxes: %d (want the first)", m);
    CHECK_OK(db_match(&m, &pos, &anchor, 1, NULL, 0, &c));
    CHECK(m == DB_MATCH_NEGATIVE && pos == 0, "no boxes: %d", m);
}

static void test_matcher_forced(void) {
    /* three anchors; box 0 overlaps anchor 1 at IoU 0.2 only, so the force rule gives it anchor
     * 1; boxes 1 and 2 both have anchor 2 as their best: box 1 (the lower) takes it */
    const db_box anchors[3] = {{0, 0, 10, 10}, {0, 20, 10, 30}, {0, 40, 10, 50}};
    const db_box gts[3] = {{0, 28, 10, 30}, {0, 41, 10, 50}, {0, 42, 10, 50}};
    db_match_cfg c = db_match_defaults();
    int m[3], pos;
    CHECK_OK(db_match(m, &pos, anchors, 3, gts, 3, &c));
    CHECK(m[0] == DB_MATCH_NEGATIVE && m[1] == 0 && m[2] == 1 && pos == 2, "forced matches %d %d %d (%d positives)",
          m[0], m[1], m[2], pos);
    c.force_best = 0;
    CHECK_OK(db_match(m, &pos, anchors, 3, gts, 3, &c));
    CHECK(m[1] == DB_MATCH_NEGATIVE && m[2] == 1, "unforced: %d %d", m[1], m[2]);
    /* labels: classes of the matched boxes, codes against the anchors, zeros elsewhere */
    db_anchors a = {(db_box *)anchors, 3, 1, 1, {0}, {0}, {0}};
    const int classes[3] = {4, 7, 9};
    int cls[3];
    float box[12];
    c.force_best = 1;
    CHECK_OK(db_label_anchors(cls, box, &pos, &a, gts, classes, 3, &c));
    float want[4];
    db_box_encode(want, gts[0], anchors[1]);
    CHECK(cls[0] == -1 && cls[1] == 4 && cls[2] == 7, "classes %d %d %d", cls[0], cls[1], cls[2]);
    CHECK(box[0] == 0 && box[3] == 0 && !memcmp(box + 4, want, sizeof want), "box targets");
}

static void test_focal_known(void) {
    float g;
    float l1 = db_focal1(0.0f, 1, 0.25f, 2.0f, &g);
    CHECK(fabsf(l1 - 0.25f * 0.25f * logf(2.0f)) < 1e-7f, "focal(0, 1) = %.7f, want 0.043321", l1);
    CHECK(fabsf(l1 - 0.043321f) < 1e-6f, "focal(0, 1) = %.7f", l1);
    float l0 = db_focal1(0.0f, 0, 0.25f, 2.0f, &g);
    CHECK(fabsf(l0 - 0.75f * 0.25f * logf(2.0f)) < 1e-7f, "focal(0, 0) = %.7f", l0);
    /* gamma 0: alpha-weighted cross-entropy, gradient alpha (p - 1) */
    float l = db_focal1(1.5f, 1, 0.25f, 0.0f, &g);
    float p = 1.0f / (1.0f + expf(-1.5f));
    CHECK(fabsf(l + 0.25f * logf(p)) < 1e-6f && fabsf(g - 0.25f * (p - 1.0f)) < 1e-6f, "gamma 0: %g, grad %g", l, g);
    /* a confident wrong logit stays finite */
    l = db_focal1(-80.0f, 1, 0.25f, 2.0f, &g);
    CHECK(isfinite(l) && fabsf(l - 0.25f * 80.0f) < 1e-3f && fabsf(g + 0.25f) < 1e-4f, "logit -80: %g, grad %g", l, g);
    /* Huber: inside and beyond delta */
    CHECK(fabsf(db_huber1(0.05f, 0.1f, &g) - 0.00125f) < 1e-8f && fabsf(g - 0.05f) < 1e-8f, "huber(0.05)");
    CHECK(fabsf(db_huber1(-0.3f, 0.1f, &g) - 0.025f) < 1e-7f && g == -0.1f, "huber(-0.3)");
}

static void test_loss_gradients(void) {
    /* finite differences of the focal and Huber bodies, then of the whole batch loss */
    int bad = 0;
    for (int t = 0; t < 2; t++)
        for (float x = -6.0f; x <= 6.0f; x += 0.37f) {
            float g, gp, gm;
            double e = 1e-3;
            db_focal1(x, t, 0.25f, 2.0f, &g);
            double num = ((double)db_focal1(x + (float)e, t, 0.25f, 2.0f, &gp) -
                          (double)db_focal1(x - (float)e, t, 0.25f, 2.0f, &gm)) / (2 * e);
            bad += fabs(num - g) > 2e-3 * (1 + fabs(num));
        }
    CHECK(bad == 0, "%d focal gradients disagree with finite differences", bad);
    enum { N = 6, K = 3 };
    float logits[N * K], codes[N * 4], box_t[N * 4], dl[N * K], dc[N * 4];
    const int cls_t[N] = {2, -1, -2, 0, -1, 1};
    for (int i = 0; i < N * K; i++) logits[i] = (float)((i * 7) % 11 - 5) * 0.4f;
    for (int i = 0; i < N * 4; i++) {
        codes[i] = (float)((i * 5) % 9 - 4) * 0.05f;
        box_t[i] = cls_t[i / 4] >= 0 ? (float)((i * 3) % 7 - 3) * 0.07f : 0.0f;
    }
    db_detect_loss_cfg c = db_detect_loss_defaults();
    db_detect_loss_parts r = db_detect_loss(dl, dc, logits, codes, cls_t, box_t, N, K, &c);
    CHECK(r.positives == 3, "%ld positives", r.positives);
    /* by hand: the ignored anchor adds nothing, the normaliser is 3 + 1 */
    double cls = 0, box = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K && cls_t[i] != -2; k++) {
            float g;
            cls += db_focal1(logits[i * K + k], cls_t[i] == k, c.alpha, c.gamma, &g);
        }
    for (int i = 0; i < N * 4; i++) {
        float g;
        if (box_t[i] != 0.0f) box += db_huber1(codes[i] - box_t[i], 0.1f, &g);
    }
    CHECK(fabs(r.cls - cls / 4) < 1e-6 && fabs(r.box - box / 16) < 1e-7 && fabs(r.total - (r.cls + 50 * r.box)) < 1e-9,
          "loss %g (cls %g, box %g)", r.total, r.cls, r.box);
    bad = 0;
    for (int i = 0; i < N * K + N * 4; i++) {
        float *v = i < N * K ? &logits[i] : &codes[i - N * K], keep = *v, an = i < N * K ? dl[i] : dc[i - N * K];
        const float e = 1e-3f;
        *v = keep + e;
        double up = db_detect_loss(NULL, NULL, logits, codes, cls_t, box_t, N, K, &c).total;
        *v = keep - e;
        double dn = db_detect_loss(NULL, NULL, logits, codes, cls_t, box_t, N, K, &c).total;
        *v = keep;
        double num = (up - dn) / (2 * e);
        if (fabs(num - an) > 1e-2 * (1 + fabs(num))) {
            bad++;
            fprintf(stderr, "    input %d: analytic %g, numeric %g\n", i, an, num);
        }
    }
    CHECK(bad == 0, "%d batch-loss gradients disagree with finite differences", bad);
}

static void test_nms_known(void) {
    db_detection d[5] = {
        {{0, 0, 10, 10}, 0.9f, 0},   /* kept: the best */
        {{0, 1, 10, 11}, 0.8f, 0},   /* IoU 90/110 with the first: suppressed */
        {{0, 20, 10, 30}, 0.7f, 0},  /* apart: kept */
        {{0, 0, 10, 10}, 0.6f, 1},   /* the first's box, another class: kept */
        {{0, 5, 10, 15}, 0.85f, 0},  /* IoU 1/3 with the first: kept */
    };
    int n = db_nms(d, 5, 0.5f);
    CHECK(n == 4 && d[0].score == 0.9f && d[1].score == 0.85f && d[2].score == 0.7f && d[3].score == 0.6f,
          "kept %d: %g %g %g %g", n, d[0].score, d[1].score, d[2].score, d[3].score);
    /* at threshold 0.85 the second survives too (0.818 is not above it) */
    db_detection e[2] = {{{0, 0, 10, 10}, 0.9f, 0}, {{0, 1, 10, 11}, 0.8f, 0}};
    CHECK(db_nms(e, 2, 0.85f) == 2, "IoU 0.818 suppressed at threshold 0.85");
}

static void test_postprocess(void) {
    db_anchor_cfg cfg = db_anchor_defaults();
    db_anchors a;
    CHECK_OK(db_anchors_make(&a, &cfg, 128, 128));
    const int K = 2;
    float *logits = malloc((size_t)a.n * K * sizeof *logits), *codes = calloc((size_t)a.n * 4, sizeof *codes);
    db_detection out[100];
    int n = -1;
    if (!logits || !codes) { free(logits); free(codes); db_anchors_free(&a); CHECK(0, "no memory"); return; }
    for (int i = 0; i < a.n * K; i++) logits[i] = -10.0f; /* score 4.5e-5: under 0.05 */
    logits[0 * K + 0] = 2.0f;                      /* anchor 0, class 0 */
    logits[3 * K + 0] = 1.0f;                      /* anchor 3 (IoU 0.63 with anchor 0), class 0: suppressed */
    logits[3 * K + 1] = 0.5f;                      /* the same anchor, class 1: kept */
    logits[(size_t)a.level_first[4] * K + 1] = 3.0f; /* P7's first anchor, class 1 */
    codes[(size_t)a.level_first[4] * 4 + 3] = logf(2.0f); /* ... twice as wide */
    db_postprocess_cfg c = db_postprocess_defaults();
    CHECK_OK(db_detect_postprocess(out, &n, logits, codes, &a, K, &c, NULL));
    CHECK(n == 3, "%d detections, want 3", n);
    if (n == 3) {
        CHECK(out[0].cls == 1 && fabsf(out[0].score - 1.0f / (1.0f + expf(-3.0f))) < 1e-6f, "first: P7's");
        check_box(out[0].box, -192, -448, 320, 576, "P7's decoded box");
        CHECK(out[1].cls == 0 && out[1].score > 0.88f, "second: anchor 0 class 0");
        check_box(out[1].box, -12, -12, 20, 20, "anchor 0's box (zero code)");
        CHECK(out[2].cls == 1 && fabsf(out[2].score - 1.0f / (1.0f + expf(-0.5f))) < 1e-6f, "third: anchor 3 class 1");
    }
    c.max_per_image = 2;
    CHECK_OK(db_detect_postprocess(out, &n, logits, codes, &a, K, &c, NULL));
    CHECK(n == 2, "max_per_image 2: %d", n);
    c = db_postprocess_defaults();
    c.top_k = 1; /* P3 keeps its best pair only: anchor 0 class 0 */
    CHECK_OK(db_detect_postprocess(out, &n, logits, codes, &a, K, &c, NULL));
    CHECK(n == 2 && out[1].cls == 0, "top_k 1: %d", n);
    c = db_postprocess_defaults();
    codes[(size_t)a.level_first[4] * 4 + 2] = 100.0f; /* exp(100): P7's box infinitely tall, left out and counted */
    long nonfinite = 0;
    CHECK_OK(db_detect_postprocess(out, &n, logits, codes, &a, K, &c, &nonfinite));
    CHECK(n == 2 && nonfinite == 1 && out[0].cls == 0, "an infinite box: %d kept, %ld counted", n, nonfinite);
    c.score_min = 1.0f;
    CHECK(db_detect_postprocess(out, &n, logits, codes, &a, K, &c, NULL) == DB_ERR_ARG, "score_min 1 accepted");
    free(logits);
    free(codes);
    db_anchors_free(&a);
}

/* ---- the whole small detector: every parameter's gradient through the loss ---- */
typedef struct {
    db_graph *g;
    const db_anchors *a;
    int K;
    const int *cls_t;
    const float *box_t;
    float *logits, *codes, *dlogits, *dcodes;
} det_t;

/* forward, then the loss over the gathered outputs; with grads, the outputs' gradients too */
static double det_loss_grads(det_t *t, int grads) {
    db_graph *g = t->g;
    const int L = t->a->levels, n = g->n;
    db_graph_forward(g);
    const float *cl[8], *bx[8];
    for (int l = 0; l < L; l++) cl[l] = db_graph_output_at(g, 2 * l)->data, bx[l] = db_graph_output_at(g, 2 * l + 1)->data;
    db_detect_gather(t->logits, cl, t->a, n, t->K);
    db_detect_gather(t->codes, bx, t->a, n, 4);
    db_detect_loss_cfg c = db_detect_loss_defaults();
    db_detect_loss_parts r = db_detect_loss(grads ? t->dlogits : NULL, grads ? t->dcodes : NULL, t->logits, t->codes,
                                            t->cls_t, t->box_t, (long)n * t->a->n, t->K, &c);
    if (grads) {
        float *dcl[8], *dbx[8];
        for (int l = 0; l < L; l++) dcl[l] = db_graph_output_at(g, 2 * l)->grad, dbx[l] = db_graph_output_at(g, 2 * l + 1)->grad;
        db_detect_scatter(dcl, t->dlogits, t->a, n, t->K);
        db_detect_scatter(dbx, t->dcodes, t->a, n, 4);
    }
    return r.total;
}

static double det_loss(void *ctx) { return det_loss_grads(ctx, 0); }

static void check_detector_grads(const db_reg_plan *reg) {
    enum { N = 2, K = 3 };
    db_retinanet_config rc;
    CHECK_OK(db_retinanet_defaults(&rc, "resnet18", K, 1, 64, 64));
    /* prior 0.5: at 0.01 the background's gradient is ~1e-7 and the coarse levels, which get no
     * positive here, would add nothing a check could see to the shared head weights */
    rc.backbone.width = 4, rc.fpn_width = 8, rc.head_convs = 1, rc.max_level = 6, rc.prior = 0.5f;
    if (reg) rc.backbone.reg = *reg;
    db_graph g;
    CHECK_OK(db_retinanet_build(&g, &rc, N));
    if (g.n_ops == 0) return;
    CHECK(g.n_outputs == 8, "%d outputs, want 2 per level 3..6", g.n_outputs);
    int tied = 0;
    for (int p = 0; p < g.n_params; p++) tied += g.params[p].tied != 0;
    CHECK(tied == 3 * 2 * 3, "%d tied parameters (want, on each of the 3 levels after the first and for each of the 2 "
          "heads, its convolution, its predicting convolution and that one's bias: 18)", tied);
    db_anchor_cfg ac = db_anchor_defaults();
    ac.max_level = 6;
    db_anchors a;
    CHECK_OK(db_anchors_make(&a, &ac, 64, 64));
    CHECK(db_graph_output_at(&g, 0)->c == 9 * K && db_graph_output_at(&g, 0)->h == a.level_h[0] &&
          db_graph_output_at(&g, 7)->c == 9 * 4 && db_graph_output_at(&g, 7)->h == a.level_h[3], "output shapes");
    db_graph_init_params(&g, 5);
    g.seed = 3, g.step = 17, g.last_step = 100;
    for (int p = 0; p < g.n_params; p++)
        if (g.params[p].no_decay && !g.params[p].tied && g.params[p].init != DB_INIT_CONST)
            tc_fill(g.params[p].data, g.params[p].size, 100 + p, 0.5f, 1.5f);
    tc_fill(db_graph_input(&g), (size_t)N * 64 * 64, 3, 0, 1);
    /* targets: two boxes in image 0, one in image 1 */
    const db_box gts[2][2] = {{{8, 6, 40, 30}, {30, 34, 60, 62}}, {{12, 12, 52, 44}, {0, 0, 0, 0}}};
    const int gcls[2][2] = {{0, 2}, {1, 0}}, ng[2] = {2, 1};
    db_match_cfg mc = db_match_defaults();
    int *cls_t = malloc(sizeof(int) * N * (size_t)a.n), pos;
    float *box_t = malloc(sizeof(float) * 4 * N * (size_t)a.n);
    det_t t = {&g, &a, K, cls_t, box_t, malloc(sizeof(float) * K * N * (size_t)a.n),
               malloc(sizeof(float) * 4 * N * (size_t)a.n), malloc(sizeof(float) * K * N * (size_t)a.n),
               malloc(sizeof(float) * 4 * N * (size_t)a.n)};
    for (int j = 0; j < N; j++)
        CHECK_OK(db_label_anchors(cls_t + (size_t)j * a.n, box_t + (size_t)j * 4 * a.n, &pos, &a, gts[j], gcls[j], ng[j], &mc));
    double loss = det_loss_grads(&t, 1);
    CHECK(isfinite(loss) && loss > 0, "loss %g", loss);
    db_graph_backward(&g);
    float *grads = malloc(sizeof(float) * g.grad_arena.size);
    memcpy(grads, g.grad_arena.base, sizeof(float) * g.grad_arena.size);
    int checked = 0, bad = tc_gradcheck_graph("retinanet", &g, grads, det_loss, &t, 4, &checked);
    fprintf(stderr, "    retinanet%s: %d of %d sampled gradients miss\n", reg ? " with DropBlock" : "", bad, checked);
    /* a miss or two at ReLU and max-pool kinks; a lost share of a shared weight's gradient (the
     * coarse levels') makes a dozen */
    CHECK(bad <= checked * 2 / 100, "retinanet: %d of %d sampled gradients mismatch", bad, checked);
    CHECK(checked > 200, "only %d gradients checked", checked);
    free(grads); free(cls_t); free(box_t); free(t.logits); free(t.codes); free(t.dlogits); free(t.dcodes);
    db_anchors_free(&a);
    db_graph_free(&g);
}

static void test_detector_gradients(void) {
    check_detector_grads(NULL);
    db_reg_plan r = {.kind = DB_REG_DROPBLOCK, .keep_prob = 0.7f, .block_size = 3, .groups = 0x18, .on_skip = 1,
            .scheduled = 1, .semantics = DB_SEM_PAPER};
    check_detector_grads(&r);
}

/* A detector's backbone from a classifier's checkpoint: the backbone's values are the
 * classifier's, bit for bit; the FPN and heads keep their own initialisation */
static void test_init_from_classifier(void) {
    char dir[64];
    db_test_mkdtemp(dir, "initfrom");
    db_model_config mc;
    CHECK_OK(db_model_defaults(&mc, "resnet18"));
    mc.width = 4, mc.in_c = 1, mc.in_h = mc.in_w = 32, mc.classes = 3;
    db_graph cg, g;
    CHECK_OK(db_model_build(&cg, &mc, 2));
    if (cg.n_ops == 0) return;
    db_graph_init_params(&cg, 11);
    for (int i = 0; i < cg.n_ops; i++) /* running statistics away from their 0/1 start */
        if (cg.ops[i].kind == DB_OP_BN) cg.ops[i].run[0] = 0.25f + (float)i;
    db_sgd opt;
    db_sgd_config sc = {.momentum = 0.9f};
    CHECK_OK(db_sgd_init(&opt, &cg, &sc));
    db_ckpt_meta *m = db_ckpt_meta_alloc(1, 0);
    CHECK_OK(db_ckpt_save(dir, &cg, &opt, m));
    free(m);
    db_retinanet_config rc;
    CHECK_OK(db_retinanet_defaults(&rc, "resnet18", 2, 1, 64, 64));
    rc.backbone.width = 4, rc.fpn_width = 8, rc.head_convs = 1, rc.max_level = 6;
    CHECK_OK(db_retinanet_build(&g, &rc, 2));
    db_graph_init_params(&g, 12);
    db_config cfg;
    db_config_defaults(&cfg);
    snprintf(cfg.model, sizeof cfg.model, "retinanet-resnet18-fpn");
    cfg.width = 4;
    int copied = 0, same = 0, backbone = 0, kept = 0;
    CHECK_OK(db_init_from(&g, &cfg, dir, &copied));
    for (int p = 0; p < g.n_params; p++) {
        const db_param *q = NULL;
        for (int k = 0; k < cg.n_params; k++)
            if (!strcmp(cg.params[k].name, g.params[p].name)) q = &cg.params[k];
        if (q) backbone++, same += !memcmp(q->data, g.params[p].data, q->size * sizeof(float));
        else if (!g.params[p].tied) kept += g.params[p].data[0] != 0.0f || g.params[p].init == DB_INIT_ZERO;
    }
    CHECK(copied == 60 && backbone == 60 && same == 60, "%d copied, %d of %d backbone tensors equal the classifier's",
          copied, same, backbone);
    CHECK(kept > 10, "the FPN and heads lost their initialisation (%d kept)", kept);
    int stats = 0;
    for (int i = 0; i < g.n_ops; i++)
        if (g.ops[i].kind == DB_OP_BN && g.ops[i].run[0] != 0.0f) stats++;
    CHECK(stats == 20, "%d batch norms' running statistics copied, want the backbone's 20", stats);
    db_sgd_free(&opt);
    db_graph_free(&cg);
    db_graph_free(&g);
    db_test_rmtree(dir);
}

const db_test db_tests_detect[] = {
    {"detect_init_from_classifier", test_init_from_classifier},
    {"detect_detector_gradients", test_detector_gradients},
    {"detect_anchors_known", test_anchors_known},
    {"detect_box_codes", test_box_codes},
    {"detect_matcher_borders", test_matcher_borders},
    {"detect_matcher_forced", test_matcher_forced},
    {"detect_focal_known", test_focal_known},
    {"detect_loss_gradients", test_loss_gradients},
    {"detect_nms_known", test_nms_known},
    {"detect_postprocess", test_postprocess},
    {NULL, NULL},
};
