/* Tests of segmentation (issue 19): the per-pixel loss on known values, with ignored pixels and
 * the label subsampling at the logits' stride; the prediction's resize and arg-max; finite
 * differences through the whole small segmenter (nets/segnet.h); the label maps of the
 * Fashion-MNIST set and where a batch's crop and flip put them (datasets/segset.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/batch.h"
#include "datasets/segset.h"
#include "nets/segnet.h"
#include "segment/loss.h"
#include "tests/check.h"
#include "tests/gradcheck.h"

/* Two classes, logits (0, ln 3) at every pixel: p = (1/4, 3/4). Labels at the 4x4 image's
 * rows and columns 0 and 2 (stride 2) are read; one of them ignored, one off the grid */
static void test_seg_loss_known(void) {
    enum { K = 2, h = 2, w = 2, H = 4, W = 4 };
    float logits[K * h * w], dl[K * h * w];
    for (int p = 0; p < h * w; p++) logits[p] = 0.0f, logits[h * w + p] = logf(3.0f);
    uint8_t labels[H * W];
    memset(labels, 7, sizeof labels); /* off the grid: never read (7 would be a bad class) */
    labels[0] = 1, labels[2] = 0, labels[8] = 255, labels[10] = 1;
    long counted;
    const double loss = db_seg_loss(dl, logits, labels, 1, K, h, w, H, W, 255, &counted);
    const double want = (-log(0.75) * 2 - log(0.25)) / 3; /* two pixels of class 1, one of class 0 */
    CHECK(counted == 3 && fabs(loss - want) < 1e-6, "loss %.7f (want %.7f), %ld counted", loss, want, counted);
    /* gradients: (p - onehot) / 3; the ignored pixel (grid (1, 0)) gets 0 */
    CHECK(fabsf(dl[0] - 0.25f / 3) < 1e-6f && fabsf(dl[4] - (0.75f - 1) / 3) < 1e-6f &&
          fabsf(dl[1] - (0.25f - 1) / 3) < 1e-6f && dl[2] == 0.0f && dl[6] == 0.0f, "gradients %g %g %g %g %g", dl[0],
          dl[4], dl[1], dl[2], dl[6]);
    memset(labels, 255, sizeof labels);
    CHECK(db_seg_loss(dl, logits, labels, 1, K, h, w, H, W, 255, &counted) == 0.0 && counted == 0 && dl[0] == 0.0f,
          "all ignored: loss 0, gradient 0");
    /* prediction: class 1 wins where its logit (after resizing) is larger; ties go to class 0 */
    float lg[2 * 4] = {1, 0, 0, 0, /* class 0 */ 0, 1, 1, 0.5f}; /* 2x2 -> 3x3, corners aligned */
    uint8_t pred[9];
    float scratch[2 * 9];
    db_seg_predict(pred, lg, 0, 1, 2, 2, 2, 3, 3, scratch);
    const uint8_t want9[9] = {0, 0, 1, 0, 1, 1, 1, 1, 1}; /* (0, 1) and (1, 0) tie at 0.5: class 0 */
    CHECK(!memcmp(pred, want9, 9), "prediction %d%d%d %d%d%d %d%d%d", pred[0], pred[1], pred[2], pred[3], pred[4], pred[5],
          pred[6], pred[7], pred[8]);
}

typedef struct {
    db_graph *g;
    const uint8_t *labels;
    int K, H, W;
} seg_t;

static double seg_loss_grads(seg_t *t, int grads) {
    db_graph_forward(t->g);
    const db_tensor *o = db_graph_output(t->g);
    long counted;
    return db_seg_loss(grads ? o->grad : NULL, o->data, t->labels, t->g->n, t->K, o->h, o->w, t->H, t->W, 255, &counted);
}

static double seg_loss(void *ctx) { return seg_loss_grads(ctx, 0); }

static void check_segmenter_grads(const db_reg_plan *reg) {
    enum { N = 2, K = 3, S = 64 };
    db_segnet_config sc;
    CHECK_OK(db_segnet_defaults(&sc, "resnet18", K, 1, S, S));
    sc.backbone.width = 4, sc.fpn_width = 8, sc.head_convs = 1;
    if (reg) sc.backbone.reg = *reg;
    db_graph g;
    CHECK_OK(db_segnet_build(&g, &sc, N));
    if (g.n_ops == 0) return;
    const db_tensor *o = db_graph_output(&g);
    CHECK(o->c == K && o->h == S / 8 && o->w == S / 8, "logits %dx%dx%d", o->c, o->h, o->w);
    int tied = 0;
    for (int p = 0; p < g.n_params; p++) tied += g.params[p].tied != 0;
    CHECK(tied == 2 * 3, "%d tied parameters (want, on levels 4 and 5, the head's convolution, its last one and that "
          "one's bias: 6)", tied);
    db_graph_init_params(&g, 5);
    g.seed = 3, g.step = 17, g.last_step = 100;
    for (int p = 0; p < g.n_params; p++)
        if (g.params[p].no_decay && !g.params[p].tied && g.params[p].init != DB_INIT_CONST)
            tc_fill(g.params[p].data, g.params[p].size, 100 + p, 0.5f, 1.5f);
    for (int p = 0; p < g.n_params; p++) /* the head's 0.01 weights would leave the check little to see */
        if (!strncmp(g.params[p].name, "seg.", 4) && !g.params[p].tied && !g.params[p].no_decay)
            tc_fill(g.params[p].data, g.params[p].size, 200 + p, -0.3f, 0.3f);
    tc_fill(db_graph_input(&g), (size_t)N * S * S, 3, 0, 1);
    static uint8_t labels[N * S * S];
    for (int i = 0; i < N * S * S; i++) labels[i] = (uint8_t)((i / 7 + i / (S * 5)) % 4 == 3 ? 255 : (i / 9) % K);
    seg_t t = {&g, labels, K, S, S};
    const double loss = seg_loss_grads(&t, 1);
    CHECK(isfinite(loss) && loss > 0, "loss %g", loss);
    db_graph_backward(&g);
    float *grads = malloc(sizeof(float) * g.grad_arena.size);
    memcpy(grads, g.grad_arena.base, sizeof(float) * g.grad_arena.size);
    int checked = 0, bad = tc_gradcheck_graph("segmenter", &g, grads, seg_loss, &t, 4, &checked);
    fprintf(stderr, "    segmenter%s: %d of %d sampled gradients miss\n", reg ? " with DropBlock in the head" : "", bad,
            checked);
    CHECK(bad <= checked * 2 / 100, "segmenter: %d of %d sampled gradients mismatch", bad, checked);
    CHECK(checked > 150, "only %d gradients checked", checked);
    free(grads);
    db_graph_free(&g);
}

static void test_segmenter_gradients(void) {
    check_segmenter_grads(NULL);
    db_reg_plan r = {DB_REG_DROPBLOCK, 0.8f, 3, 1u << DB_SEGNET_HEAD_GROUP, 1, 1, 0, 0, 0, DB_SEM_PAPER};
    check_segmenter_grads(&r);
}

/* The label map moves with the pixels: a map equal to its image's pixel values (mod 200) is read
 * back from the filled batch under random crops and flips; padding is ignored */
static void test_seg_labels_follow_pixels(void) {
    enum { H = 10, W = 12, N = 16 };
    static uint8_t px[N * H * W], seg[N * H * W];
    uint16_t labels[N] = {0};
    for (int i = 0; i < N * H * W; i++) px[i] = (uint8_t)(1 + (i * 37) % 199), seg[i] = px[i];
    db_dataset d = {.n = N, .c = 1, .h = H, .w = W, .num_classes = 201, .images = px, .labels = labels, .seg = seg};
    db_augment aug = {2, 1, 0, 0, 0, 0};
    int order[N], lab[N], bad = 0, padded = 0;
    static float out[N * H * W];
    uint8_t m[H * W];
    for (int i = 0; i < N; i++) order[i] = i;
    for (uint32_t epoch = 0; epoch < 4; epoch++) {
        CHECK_OK(db_batch_fill(&d, order, N, &aug, NULL, 9, epoch, out, lab));
        for (int i = 0; i < N; i++) {
            db_seg_labels(&d, i, &aug, 9, epoch, m);
            for (int k = 0; k < H * W; k++) {
                const int v = (int)lroundf(out[(size_t)i * H * W + k] * 255.0f);
                if (m[k] == 255) { padded++; bad += v != 0; }
                else bad += v != m[k];
            }
        }
    }
    CHECK(bad == 0 && padded > 0, "%d label pixels off their image's (%d padded)", bad, padded);
}

const db_test db_tests_segment[] = {
    {"seg_loss_known", test_seg_loss_known},
    {"segmenter_gradients", test_segmenter_gradients},
    {"seg_labels_follow_pixels", test_seg_labels_follow_pixels},
    {NULL, NULL},
};
