/* Tests of segmentation (issue 19): the per-pixel loss on known values, with ignored pixels and
 * the label subsampling at the logits' stride; the prediction's resize and arg-max; finite
 * differences through the whole small segmenter (nets/segnet.h); the label maps of the
 * Fashion-MNIST set and where a batch's crop and flip put them (datasets/segset.h); the official
 * scale jitter moving pixels and labels alike (datasets/segbatch.h); VOC 2012's layout, its SBD
 * list and its bad input (datasets/vocset.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/philox.h"
#include "datasets/batch.h"
#include "datasets/segbatch.h"
#include "datasets/segset.h"
#include "datasets/voc.h"
#include "datasets/vocset.h"
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
    db_reg_plan r = {.kind = DB_REG_DROPBLOCK, .keep_prob = 0.8f, .block_size = 3, .groups = 1u << DB_SEGNET_HEAD_GROUP,
                     .on_skip = 1, .scheduled = 1, .semantics = DB_SEM_PAPER};
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
    db_augment aug = {2, 1, 0, 0, 0, 0, 0};
    int order[N], lab[N], bad = 0, padded = 0;
    static float out[N * H * W];
    uint8_t m[H * W];
    for (int i = 0; i < N; i++) order[i] = i;
    for (uint32_t epoch = 0; epoch < 4; epoch++) {
        CHECK_OK(db_batch_fill(&d, order, N, &aug, NULL, 9, epoch, out, lab));
        for (int i = 0; i < N; i++) {
            CHECK_OK(db_seg_labels(&d, i, &aug, 9, epoch, m));
            for (int k = 0; k < H * W; k++) {
                const int v = (int)lroundf(out[(size_t)i * H * W + k] * 255.0f);
                if (m[k] == 255) { padded++; bad += v != 0; }
                else bad += v != m[k];
            }
        }
    }
    CHECK(bad == 0 && padded > 0, "%d label pixels off their image's (%d padded)", bad, padded);
}

/* The official scale jitter on a set read whole: a canvas of 8x8 blocks, each one value, and its
 * label map the same values. Scaled by 0.5-1.5, cropped and mirrored, every batch pixel whose
 * label agrees with its neighbours' (not on a block's edge) carries its label's value; outside
 * the scaled image the pixels are the raw 0 and the labels background. Both scaling up (cropped)
 * and down (padded) and both mirrors are seen. */
static void test_seg_jitter_follows_pixels(void) {
    enum { S = 32, N = 12 };
    static uint8_t px[N * S * S], seg[N * S * S];
    uint16_t labels[N] = {0};
    for (int i = 0; i < N; i++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) seg[((size_t)i * S + y) * S + x] = (uint8_t)(10 + 13 * ((y / 8) * 4 + x / 8 + i) % 190);
    memcpy(px, seg, sizeof px);
    db_dataset d = {.n = N, .c = 1, .h = S, .w = S, .num_classes = 201, .images = px, .labels = labels, .seg = seg};
    db_augment aug = {0, 1, 0, 0, 0.5f, 1.5f, 0};
    CHECK(db_seg_placed(&d, &aug) && !db_seg_placed(&d, NULL), "jitter places; evaluation does not");
    int order[N], lab[N], bad = 0, inner = 0, padded = 0, bigger = 0, smaller = 0, mirrored = 0;
    static float out[N * S * S];
    uint8_t m[S * S];
    for (int i = 0; i < N; i++) order[i] = i;
    for (uint32_t epoch = 0; epoch < 3; epoch++) {
        CHECK_OK(db_batch_fill(&d, order, N, &aug, NULL, 5, epoch, out, lab));
        for (int i = 0; i < N; i++) {
            CHECK_OK(db_seg_labels(&d, i, &aug, 5, epoch, m));
            const float *o = out + (size_t)i * S * S;
            int last_row = -1, last_col = -1;
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++) {
                    const int k = y * S + x, v = (int)lroundf(o[k] * 255.0f);
                    if (v) last_row = y > last_row ? y : last_row, last_col = x > last_col ? x : last_col;
                    if (!v) { padded++; bad += m[k] != 0; continue; }
                    const int edge = (y > 0 && m[k - S] != m[k]) || (y < S - 1 && m[k + S] != m[k]) ||
                                     (x > 0 && m[k - 1] != m[k]) || (x < S - 1 && m[k + 1] != m[k]);
                    if (edge) continue;
                    inner++;
                    bad += v != m[k];
                }
            bigger += last_row == S - 1 && last_col == S - 1, smaller += last_row < S - 1;
            mirrored += (int)(db_rand4(5, DB_STREAM_AUGMENT, epoch, (uint64_t)i).v[3] >> 31); /* place.h's draw */
        }
    }
    CHECK(bad == 0 && inner > N * S * S, "%d of %d inner pixels off their labels (%d padded)", bad, inner, padded);
    CHECK(bigger > 3 && smaller > 3 && padded > 0 && mirrored > 3 && mirrored < 3 * N - 3, "scaled up %d, down %d, "
          "mirrored %d of %d", bigger, smaller, mirrored, 3 * N);
}

/* A VOC-layout folder: JPEGImages/ID.jpg and SegmentationClass/ID.png (palette) for three
 * images of several sizes, each its label's value times 12 in every channel (label 255: 250),
 * ImageSets/Segmentation/train.txt (DeepLab's path form on one line) and val.txt */
enum { VOC_N = 3 };
static const int voc_h[VOC_N] = {30, 50, 64}, voc_w[VOC_N] = {40, 20, 60};

static void voc_label(int k, int y, int x, uint8_t *l) {
    *l = (uint8_t)(y < 4 ? 255 : ((y / 10) * 3 + x / 10 + k) % DB_VOC_CLASSES);
}

static void write_voc_set(const char *root) {
    static const char *const dirs[] = {"JPEGImages", "SegmentationClass", "ImageSets", "ImageSets/Segmentation"};
    for (int i = 0; i < 4; i++) CHECK(mkdir(db_test_path(root, dirs[i]), 0777) == 0, "mkdir %s", dirs[i]);
    char name[64];
    for (int k = 0; k < VOC_N; k++) {
        const int h = voc_h[k], w = voc_w[k];
        uint8_t *lab = malloc((size_t)h * w), *px = malloc((size_t)h * w * 3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                voc_label(k, y, x, lab + (size_t)y * w + x);
                const uint8_t v = lab[(size_t)y * w + x] == 255 ? 250 : (uint8_t)(12 * lab[(size_t)y * w + x] + 5);
                for (int c = 0; c < 3; c++) px[((size_t)y * w + x) * 3 + c] = v;
            }
        snprintf(name, sizeof name, "JPEGImages/2012_%06d.jpg", k);
        CHECK_OK(db_test_write_jpeg(db_test_path(root, name), px, h, w, 3));
        snprintf(name, sizeof name, "SegmentationClass/2012_%06d.png", k);
        CHECK_OK(db_label_png_write(db_test_path(root, name), lab, h, w));
        free(lab);
        free(px);
    }
    FILE *f = fopen(db_test_path(root, "ImageSets/Segmentation/train.txt"), "w");
    fprintf(f, "2012_000000\n/JPEGImages/2012_000001.jpg /SegmentationClass/2012_000001.png\n\n2012_000002\n");
    fclose(f);
    f = fopen(db_test_path(root, "ImageSets/Segmentation/val.txt"), "w");
    fprintf(f, "2012_000002\n2012_000000\n");
    fclose(f);
}

/* VOC 2012 read from VOCdevkit/VOC2012 and from the folder itself; evaluation batches at full
 * resolution (labels as in the file, the rest 255; pixels where their labels are, the rest the
 * mean); an image larger than the input shrunk to fit; the SBD list and folder used for train
 * when present */
static void test_voc_set(void) {
    char dir[64];
    db_test_mkdtemp(dir, "voc");
    CHECK(mkdir(db_test_path(dir, "VOCdevkit"), 0777) == 0 && mkdir(db_test_path(dir, "VOCdevkit/VOC2012"), 0777) == 0,
          "mkdir");
    char root[128];
    snprintf(root, sizeof root, "%s", db_test_path(dir, "VOCdevkit/VOC2012"));
    write_voc_set(root);
    enum { S = 56 };
    db_dataset tr, va;
    CHECK_OK(db_vocset_load(dir, "train", S, &tr));
    CHECK_OK(db_vocset_load(root, "val", S, &va));
    CHECK(tr.n == 3 && va.n == 2 && tr.num_classes == 21 && tr.c == 3 && tr.h == S && tr.hw[2] == 50 && tr.hw[3] == 20 &&
              va.hw[0] == 64 && va.hw[1] == 60,
          "train %d, val %d images, sizes %dx%d, %dx%d", tr.n, va.n, tr.hw[3], tr.hw[2], va.hw[1], va.hw[0]);
    static float out[3 * 2 * S * S];
    int order[2] = {0, 1}, lab[2];
    uint8_t m[S * S];
    CHECK_OK(db_batch_fill(&va, order, 2, NULL, NULL, 0, 0, out, lab));
    int bad = 0;
    for (int j = 0; j < 2; j++) { /* val: image 2 (64x60, shrunk to 56x53), then image 0 (30x40, as it is) */
        CHECK_OK(db_seg_labels(&va, j, NULL, 0, 0, m));
        const int k = j ? 0 : 2, vh = j ? 30 : 56, vw = j ? 40 : 53;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                const uint8_t got = m[y * S + x];
                const float v = out[((size_t)0 * 2 + j) * S * S + y * S + x] * 255.0f;
                if (y >= vh || x >= vw) { bad += got != 255 || v != 0.0f; continue; }
                uint8_t want;
                voc_label(k, j ? y : (int)((y + 0.5) * 64 / 56), j ? x : (int)((x + 0.5) * 60 / 53), &want);
                bad += got != want;
                if (j && got != 255 && y % 10 > 1 && y % 10 < 8 && x % 10 > 1 && x % 10 < 8)
                    bad += fabsf(v - (12.0f * got + 5.0f)) > 12.0f; /* JPEG's loss, away from edges */
            }
    }
    CHECK(bad == 0, "%d evaluation pixels or labels misplaced", bad);
    /* training with the scale jitter: labels and JPEG pixels stay together, the padding background */
    db_augment aug = {0, 1, 0, 0, 0.5f, 1.5f, 0};
    int tr_order[3] = {0, 1, 2}, tr_lab[3], inner = 0;
    static float big[3 * 3 * S * S];
    for (uint32_t epoch = 0; epoch < 4; epoch++) {
        CHECK_OK(db_batch_fill(&tr, tr_order, 3, &aug, NULL, 3, epoch, big, tr_lab));
        for (int j = 0; j < 3; j++) {
            CHECK_OK(db_seg_labels(&tr, j, &aug, 3, epoch, m));
            for (int y = 2; y < S - 2; y++)
                for (int x = 2; x < S - 2; x++) {
                    int same = 1; /* away from label edges (and JPEG's blur there) */
                    for (int dy = -2; dy <= 2; dy++)
                        for (int dx = -2; dx <= 2; dx++) same &= m[(y + dy) * S + x + dx] == m[y * S + x];
                    if (!same) continue;
                    const float v = big[((size_t)1 * 3 + j) * S * S + y * S + x] * 255.0f;
                    const int l = m[y * S + x];
                    inner++;
                    bad += fabsf(v - (l == 255 ? 250.0f : 12.0f * l + 5.0f)) > 12.0f && !(l == 0 && v == 0.0f);
                }
        }
    }
    CHECK(bad == 0 && inner > 3 * S * S, "%d of %d jittered pixels off their labels", bad, inner);
    db_dataset_free(&tr);
    /* the SBD augmentation: its list and its label folder for train */
    CHECK(mkdir(db_test_path(root, "SegmentationClassAug"), 0777) == 0, "mkdir");
    uint8_t one[4] = {0, 1, 2, 3};
    CHECK_OK(db_grey_png_write(db_test_path(root, "SegmentationClassAug/2012_000001.png"), one, 2, 2));
    FILE *f = fopen(db_test_path(root, "ImageSets/Segmentation/train_aug.txt"), "w");
    fprintf(f, "2012_000001\n");
    fclose(f);
    CHECK_OK(db_vocset_load(dir, "train", S, &tr));
    CHECK(tr.n == 1 && strstr(tr.seg_files[0], "SegmentationClassAug/2012_000001.png") && tr.hw[0] == 2,
          "the SBD list: %d images", tr.n);
    db_dataset_free(&tr);
    db_dataset_free(&va);
    db_test_rmtree(dir);
}

/* Bad VOC input, each named: an image missing from its list (with the line), a label map of
 * another size than its image (when its batch is filled), a label value neither a class nor 255 */
static void test_voc_bad_input(void) {
    char dir[64];
    db_test_mkdtemp(dir, "vocbad");
    write_voc_set(dir);
    db_dataset d;
    FILE *f = fopen(db_test_path(dir, "ImageSets/Segmentation/val.txt"), "a");
    fprintf(f, "2012_000009\n");
    fclose(f);
    CHECK(db_vocset_load(dir, "val", 64, &d) == DB_ERR_IO && strstr(db_last_error(), "JPEGImages/2012_000009.jpg") &&
              strstr(db_last_error(), "val.txt line 3"),
          "missing image: %s", db_last_error());
    uint8_t lab[30 * 41];
    memset(lab, 1, sizeof lab);
    CHECK_OK(db_label_png_write(db_test_path(dir, "SegmentationClass/2012_000000.png"), lab, 30, 41));
    CHECK_OK(db_vocset_load(dir, "train", 64, &d));
    static float out[3 * 64 * 64];
    int order[1] = {0}, got[1];
    CHECK(db_batch_fill(&d, order, 1, NULL, NULL, 0, 0, out, got) == DB_ERR_FORMAT &&
              strstr(db_last_error(), "2012_000000.jpg: 40x30 pixels, its label map") &&
              strstr(db_last_error(), "2012_000000.png is 41x30"),
          "size mismatch: %s", db_last_error());
    lab[5 * 40 + 7] = 21;
    CHECK_OK(db_label_png_write(db_test_path(dir, "SegmentationClass/2012_000000.png"), lab, 30, 40));
    db_dataset_free(&d);
    CHECK_OK(db_vocset_load(dir, "train", 64, &d));
    uint8_t m[64 * 64];
    CHECK(db_seg_labels(&d, 0, NULL, 0, 0, m) == DB_ERR_FORMAT && strstr(db_last_error(), "2012_000000.png") &&
              strstr(db_last_error(), "is 21"),
          "a value out of the classes: %s", db_last_error());
    db_dataset_free(&d);
    db_test_rmtree(dir);
}

const db_test db_tests_segment[] = {
    {"seg_loss_known", test_seg_loss_known},
    {"segmenter_gradients", test_segmenter_gradients},
    {"seg_labels_follow_pixels", test_seg_labels_follow_pixels},
    {"seg_jitter_follows_pixels", test_seg_jitter_follows_pixels},
    {"voc_set", test_voc_set},
    {"voc_bad_input", test_voc_bad_input},
    {NULL, NULL},
};
