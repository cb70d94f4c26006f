/* Tests of where detection images and their boxes land in a batch (datasets/detbatch.h) and of
 * the COCO-layout JPEG sets (datasets/detset.h): each image carries one lit rectangle whose box
 * is its annotation; the lit pixels found in the filled batch must lie where db_det_boxes puts
 * the box, over many random scales, crops and mirrors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/philox.h"
#include "datasets/batch.h"
#include "datasets/detbatch.h"
#include "datasets/detset.h"
#include "datasets/select.h"
#include "tests/check.h"

/* The extent (ymin, xmin, ymax + 1, xmax + 1) of the pixels above `lit` in image i's first plane
 * of a (C, n, H, W) batch; 0 when none is lit */
static int lit_extent(const float *out, int i, int H, int W, float lit, int e[4]) {
    e[0] = H, e[1] = W, e[2] = e[3] = -1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (out[((size_t)i * H + y) * W + x] > lit) {
                e[0] = y < e[0] ? y : e[0], e[1] = x < e[1] ? x : e[1];
                e[2] = y + 1 > e[2] ? y + 1 : e[2], e[3] = x + 1 > e[3] ? x + 1 : e[3];
            }
    return e[2] > 0;
}

/* Read whole (one size): the padded crop and the mirror of db_batch_fill */
static void test_detset_boxes_follow_crop(void) {
    enum { H = 12, W = 16, N = 40 };
    static uint8_t px[N * H * W];
    uint16_t labels[N] = {0}, cls[N];
    float boxes[4 * N];
    int first[N], count[N];
    for (int i = 0; i < N; i++) {
        int y0 = i % 5, x0 = (3 * i) % 9, y1 = y0 + 3 + i % 4, x1 = x0 + 2 + i % 6;
        float *b = boxes + 4 * i;
        b[0] = (float)y0, b[1] = (float)x0, b[2] = (float)y1, b[3] = (float)x1;
        first[i] = i, count[i] = 1, cls[i] = (uint16_t)(i % 3);
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) px[(size_t)i * H * W + y * W + x] = 200;
    }
    db_detset det = {.first = first, .count = count, .boxes = boxes, .cls = cls, .n_boxes = N};
    db_dataset d = {.n = N, .c = 1, .h = H, .w = W, .num_classes = 3, .images = px, .labels = labels, .det = &det};
    db_augment aug = {3, 1, 0, 0, 0, 0, 0};
    int order[N], lab[N], bad = 0, dropped = 0, mirrored = 0;
    static float out[N * H * W];
    for (int i = 0; i < N; i++) order[i] = i;
    for (uint32_t epoch = 0; epoch < 5; epoch++) {
        CHECK_OK(db_batch_fill(&d, order, N, &aug, NULL, 11, epoch, out, lab));
        for (int i = 0; i < N; i++) {
            int dy, dx, mirror, kept, c, e[4];
            float b[4];
            db_batch_draws(11, epoch, i, aug.pad, aug.flip, &dy, &dx, &mirror);
            mirrored += mirror;
            db_det_boxes(&d, i, &aug, 11, epoch, b, &c, &kept);
            lit_extent(out, i, H, W, 100.0f / 255.0f, e);
            if (!kept) { dropped++; bad += e[2] >= 0 && e[2] - e[0] >= 2 && e[3] - e[1] >= 2; continue; }
            bad += c != i % 3 || e[0] != (int)b[0] || e[1] != (int)b[1] || e[2] != (int)b[2] || e[3] != (int)b[3];
        }
    }
    CHECK(bad == 0 && mirrored > 20, "%d of %d moved boxes miss their pixels (%d mirrored, %d dropped)", bad, 5 * N,
          mirrored, dropped);
}

/* A COCO-layout set of JPEGs of several sizes under dir: annotations/instances_train2017.json and
 * train2017/IMAGE.jpg; image k (h[k] x w[k], grey when k is 2) is dark with one lit rectangle,
 * its annotation; image 4 also has a crowd box; image 5 has no box. sizes_in_json 0 leaves the
 * height and width out of image 1's entry. */
enum { CO_N = 6 };
static const int co_h[CO_N] = {60, 40, 90, 50, 72, 30}, co_w[CO_N] = {40, 96, 90, 50, 60, 44};
static const int co_box[CO_N][4] = {{10, 8, 35, 30}, {5, 30, 30, 80}, {20, 20, 70, 60}, {0, 0, 50, 24},
                                     {30, 10, 60, 50}, {0, 0, 0, 0}};

static void write_coco_set(const char *dir, int sizes_in_json, int wrong_size) {
    char path[300];
    snprintf(path, sizeof path, "%s/annotations", dir);
    CHECK(mkdir(path, 0777) == 0, "mkdir %s", path);
    snprintf(path, sizeof path, "%s/train2017", dir);
    CHECK(mkdir(path, 0777) == 0, "mkdir %s", path);
    for (int k = 0; k < CO_N; k++) {
        const int c = k == 2 ? 1 : 3, h = co_h[k], w = co_w[k] + (wrong_size && k == 3 ? 8 : 0);
        uint8_t *px = calloc((size_t)h * w * c, 1);
        for (int y = co_box[k][0]; y < co_box[k][2]; y++)
            for (int x = co_box[k][1]; x < co_box[k][3] && x < w; x++)
                for (int ch = 0; ch < c; ch++) px[((size_t)y * w + x) * c + ch] = 250;
        snprintf(path, sizeof path, "%s/train2017/%012d.jpg", dir, 100 + k);
        CHECK_OK(db_test_write_jpeg(path, px, h, w, c));
        free(px);
    }
    snprintf(path, sizeof path, "%s/annotations/instances_train2017.json", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    fprintf(f, "{\"images\": [");
    for (int k = 0; k < CO_N; k++) {
        fprintf(f, "%s{\"id\": %d, \"file_name\": \"%012d.jpg\"", k ? ", " : "", 100 + k, 100 + k);
        if (sizes_in_json || k != 1) fprintf(f, ", \"height\": %d, \"width\": %d", co_h[k], co_w[k]);
        fprintf(f, "}");
    }
    fprintf(f, "], \"categories\": [{\"id\": 3, \"name\": \"a\"}, {\"id\": 9, \"name\": \"b\"}], \"annotations\": [");
    int id = 1;
    for (int k = 0; k < CO_N - 1; k++) {
        const int *b = co_box[k];
        fprintf(f, "%s{\"id\": %d, \"image_id\": %d, \"category_id\": %d, \"bbox\": [%d, %d, %d, %d], \"area\": %d, "
                "\"iscrowd\": 0}", k ? ", " : "", id++, 100 + k, k % 2 ? 9 : 3, b[1], b[0], b[3] - b[1], b[2] - b[0],
                (b[3] - b[1]) * (b[2] - b[0]));
    }
    fprintf(f, ", {\"id\": %d, \"image_id\": 104, \"category_id\": 3, \"bbox\": [0, 0, 20, 20], \"area\": 400, "
            "\"iscrowd\": 1}]}\n", id);
    CHECK(fclose(f) == 0, "cannot write %s", path);
}

/* Decoded per batch: scaled to the long side, mirrored, jittered and cropped, padded with zeros;
 * the boxes follow to within a pixel (JPEG and resampling blur the edges) and come back from
 * the evaluation batch to the image's own pixels */
static void test_detset_coco_jpegs(void) {
    char dir[64];
    db_test_mkdtemp(dir, "cocoset");
    write_coco_set(dir, 1, 0);
    enum { S = 32 };
    db_dataset d;
    CHECK_OK(db_detset_load(dir, "train2017", S, &d));
    if (!d.det) { db_test_rmtree(dir); return; }
    CHECK(d.n == CO_N && d.c == 3 && d.h == S && d.w == S && d.files && d.num_classes == 2, "n %d c %d %dx%d classes %d",
          d.n, d.c, d.h, d.w, d.num_classes);
    CHECK(d.det->n_boxes == CO_N - 1 && d.det->skipped_crowd == 1 && d.det->count[5] == 0 && d.det->cls[1] == 1,
          "%d boxes, %d crowd, image 5 has %d", d.det->n_boxes, d.det->skipped_crowd, d.det->count[5]);
    int order[CO_N], labels[CO_N], bad = 0, mirrored = 0, cropped = 0, worst = 0;
    for (int i = 0; i < CO_N; i++) order[i] = i;
    static float out[3 * CO_N * S * S];
    /* evaluation: the long side is S, the rest padding (exactly 0: the normalised mean) */
    CHECK_OK(db_batch_fill(&d, order, CO_N, NULL, NULL, 0, 0, out, labels));
    for (int i = 0; i < CO_N; i++) {
        const int nh = (int)lround(co_h[i] * (double)S / (co_h[i] > co_w[i] ? co_h[i] : co_w[i]));
        float pad_max = 0.0f;
        for (int c = 0; c < 3; c++)
            for (int y = nh; y < S; y++)
                for (int x = 0; x < S; x++) pad_max = fmaxf(pad_max, fabsf(out[(((size_t)c * CO_N + i) * S + y) * S + x]));
        CHECK(pad_max == 0.0f, "image %d: padding below row %d holds %g", i, nh, pad_max);
        if (i == CO_N - 1) continue;
        float b[4];
        int c, kept, e[4] = {0, 0, 0, 0};
        db_det_boxes(&d, i, NULL, 0, 0, b, &c, &kept);
        CHECK(kept == 1 && lit_extent(out, i, S, S, 0.5f, e), "image %d: %d boxes kept", i, kept);
        for (int k = 0; k < 4 && kept; k++) worst = fmax(worst, fabs(e[k] - b[k]) > 1.01 ? 1 : 0);
        db_det_to_image(&d, i, b);
        for (int k = 0; k < 4; k++) /* to the image's pixels and back: exact up to float rounding */
            CHECK(fabsf(b[k] - (float)co_box[i][k]) < 1e-3f, "image %d edge %d: %g back, %d annotated", i, k, b[k], co_box[i][k]);
    }
    CHECK(worst == 0, "evaluation: a lit extent is more than a pixel from its box");
    db_augment aug = {0, 1, 0, 0, 0.5f, 1.8f, 0};
    for (uint32_t epoch = 0; epoch < 12; epoch++) {
        CHECK_OK(db_batch_fill(&d, order, CO_N, &aug, NULL, 5, epoch, out, labels));
        for (int i = 0; i < CO_N - 1; i++) {
            float b[4];
            int c, kept, e[4];
            db_det_boxes(&d, i, &aug, 5, epoch, b, &c, &kept);
            const int lit = lit_extent(out, i, S, S, 0.5f, e);
            mirrored += db_rand4(5, DB_STREAM_AUGMENT, epoch, (uint64_t)i).v[3] >> 31;
            if (!kept) { bad += lit && e[2] - e[0] > 2 && e[3] - e[1] > 2; continue; }
            cropped += b[2] - b[0] < co_box[i][2] - co_box[i][0] && b[2] >= S - 0.5f;
            int off = !lit;
            for (int k = 0; k < 4 && lit; k++) off |= fabs(e[k] - b[k]) > 1.01;
            if (off && bad < 3)
                fprintf(stderr, "  epoch %u image %d: box %.1f %.1f %.1f %.1f, lit %d %d %d %d\n", epoch, i, b[0], b[1], b[2],
                        b[3], e[0], e[1], e[2], e[3]);
            bad += off;
        }
    }
    CHECK(bad == 0 && mirrored > 10 && mirrored < 50 && cropped > 0, "%d of %d jittered boxes miss their pixels (%d mirrored, %d cut by "
          "the crop)", bad, 12 * (CO_N - 1), mirrored, cropped);
    db_dataset_free(&d);
    db_test_rmtree(dir);
}

/* An image without its size, and a JPEG of another size than its annotation: errors naming it */
static void test_detset_coco_bad_input(void) {
    char dir[64];
    db_dataset d;
    db_test_mkdtemp(dir, "cocobad");
    write_coco_set(dir, 0, 0);
    CHECK(db_detset_load(dir, "train2017", 32, &d) == DB_ERR_FORMAT && strstr(db_last_error(), "000000000101.jpg") &&
          strstr(db_last_error(), "height"), "no size: %s", db_last_error());
    CHECK(d.n == 0 && !d.files && !d.det, "a failed load leaves the data set empty");
    db_test_rmtree(dir);
    db_test_mkdtemp(dir, "cocobad");
    write_coco_set(dir, 1, 1);
    CHECK_OK(db_detset_load(dir, "train2017", 32, &d));
    int order[1] = {3}, labels[1];
    static float out[3 * 32 * 32];
    CHECK(db_batch_fill(&d, order, 1, NULL, NULL, 0, 0, out, labels) == DB_ERR_FORMAT &&
          strstr(db_last_error(), "000000000103.jpg") && strstr(db_last_error(), "58x50"), "wrong size: %s", db_last_error());
    db_dataset_free(&d);
    db_test_rmtree(dir);
    /* a val split with another category where train has id 9: the same count, another meaning */
    db_test_mkdtemp(dir, "cocobad");
    write_coco_set(dir, 1, 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cd '%s' && ln -s train2017 val2017 && sed 's/\"id\": 9,/\"id\": 8,/; s/\"category_id\": 9/"
             "\"category_id\": 8/g' annotations/instances_train2017.json >annotations/instances_val2017.json", dir);
    CHECK(system(cmd) == 0, "cannot make the val split");
    db_dataset tr, va;
    const db_data_spec spec = {"coco2017", dir, NULL, 32, 0.875f, 0, 0};
    CHECK(db_data_load(&spec, &tr, &va) == DB_ERR_FORMAT && strstr(db_last_error(), "categories are not") &&
              strstr(db_last_error(), "category id 8"), "another category in val: %s", db_last_error());
    db_test_rmtree(dir);
}

const db_test db_tests_detset[] = {
    {"detset_boxes_follow_crop", test_detset_boxes_follow_crop},
    {"detset_coco_jpegs", test_detset_coco_jpegs},
    {"detset_coco_bad_input", test_detset_coco_bad_input},
    {NULL, NULL},
};
