/* Tests of the segmentation scores (eval/miou.h) and VOC label PNGs (datasets/voc.h): the known
 * answer of metrics.md (the `evaluate` library's mean_iou example), the stated policy for absent
 * classes, out-of-range values refused, and PNG round trips and damaged files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/voc.h"
#include "eval/miou.h"
#include "tests/check.h"

static void test_miou_known_answer(void) {
    static const uint8_t p1[] = {1, 2, 3, 4, 5, 255}, g1[] = {0, 3, 5, 4, 6, 255};
    static const uint8_t p2[] = {2, 7, 9, 2, 3, 6}, g2[] = {1, 7, 9, 2, 3, 6};
    static const uint8_t p3[] = {2, 2, 3, 8, 2, 4, 3, 255, 2}, g3[] = {1, 2, 2, 8, 2, 1, 3, 255, 1};
    db_miou m;
    CHECK_OK(db_miou_init(&m, 10, 255));
    CHECK_OK(db_miou_add(&m, g1, p1, 6, "gt 1", "map 1"));
    CHECK_OK(db_miou_add(&m, g2, p2, 6, "gt 2", "map 2"));
    CHECK_OK(db_miou_add(&m, g3, p3, 9, "gt 3", "map 3"));
    db_miou_result r;
    CHECK_OK(db_miou_compute(&m, &r));
    const double iou[10] = {0, 0, 0.375, 0.4, 0.5, 0, 0.5, 1, 1, 1};
    const double acc[10] = {0, 0, 0.75, 2.0 / 3, 1, 0, 0.5, 1, 1, 1};
    for (int c = 0; c < 10 && r.iou; c++) {
        CHECK(fabs(r.iou[c] - iou[c]) < 1e-12, "IoU of class %d: %g, want %g", c, r.iou[c], iou[c]);
        CHECK(fabs(r.accuracy[c] - acc[c]) < 1e-12, "accuracy of class %d: %g, want %g", c, r.accuracy[c], acc[c]);
    }
    CHECK(fabs(r.miou - 0.4775) < 1e-12, "mIOU %.15g", r.miou);
    CHECK(fabs(r.pixel_accuracy - 10.0 / 19) < 1e-12, "pixel accuracy %.15g", r.pixel_accuracy);
    CHECK(fabs(r.mean_class_accuracy - 0.591666666666667) < 1e-12, "mean class accuracy %.15g", r.mean_class_accuracy);
    CHECK(m.pixels == 19 && m.ignored == 2, "19 pixels scored, 2 ignored: %llu, %llu", (unsigned long long)m.pixels,
          (unsigned long long)m.ignored);
    db_miou_result_free(&r);
    db_miou_free(&m);
}

static void test_miou_policy_and_errors(void) {
    db_miou m;
    CHECK_OK(db_miou_init(&m, 4, 255));
    static const uint8_t g[] = {0, 0, 1, 255}, p[] = {0, 1, 1, 3};
    CHECK_OK(db_miou_add(&m, g, p, 4, "gt", "map"));
    db_miou_result r;
    CHECK_OK(db_miou_compute(&m, &r));
    /* class 2 appears nowhere: no IoU, out of the mean; class 3 only predicted on an ignored pixel */
    CHECK(isnan(r.iou[2]) && isnan(r.iou[3]) && r.iou_defined == 2, "absent classes have no IoU");
    CHECK(fabs(r.miou - (0.5 + 0.5) / 2) < 1e-12, "mIOU over the two present classes: %g", r.miou);
    db_miou_result_free(&r);
    static const uint8_t bad_p[] = {0, 4, 1, 1}, bad_g[] = {0, 0, 7, 1}, ignore_p[] = {0, 255, 1, 1};
    uint64_t before = m.pixels;
    /* each fault names the file that holds the bad value */
    CHECK(db_miou_add(&m, g, bad_p, 4, "gt.png", "pred.png") == DB_ERR_FORMAT && strstr(db_last_error(), "pred.png") &&
              !strstr(db_last_error(), "gt.png") && strstr(db_last_error(), "prediction 4 is not a class (0..3)"),
          "prediction out of range: %s", db_last_error());
    CHECK(db_miou_add(&m, bad_g, p, 4, "gt.png", "pred.png") == DB_ERR_FORMAT && strstr(db_last_error(), "gt.png") &&
              !strstr(db_last_error(), "pred.png") && strstr(db_last_error(), "ground truth 7"),
          "ground truth out of range: %s", db_last_error());
    CHECK(db_miou_add(&m, g, ignore_p, 4, "gt.png", "pred.png") == DB_ERR_FORMAT &&
              strstr(db_last_error(), "pred.png: pixel 1: prediction 255 is not a class (0..3); a prediction may not use "
                                      "the ignore label"),
          "a prediction of the ignore label: %s", db_last_error());
    CHECK(m.pixels == before, "a refused map adds nothing");
    db_miou_free(&m);
    CHECK(db_miou_init(&m, 21, 3) == DB_ERR_ARG, "an ignore label that is a class");
    CHECK_OK(db_miou_init(&m, 2, 255));
    static const uint8_t all_ignored[] = {255, 255};
    CHECK_OK(db_miou_add(&m, all_ignored, all_ignored, 2, "x", "y"));
    CHECK(db_miou_compute(&m, &r) == DB_ERR_ARG && !r.iou && !r.accuracy, "nothing to score is an error, nothing held");
    db_miou_result_free(&r);
    db_miou_free(&m);
}

static void test_label_png(void) {
    char dir[] = "/tmp/dbtest_png_XXXXXX", path[64], bad[64];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/a.png", dir);
    snprintf(bad, sizeof bad, "%s/b.png", dir);
    uint8_t px[7 * 5];
    for (int i = 0; i < 35; i++) px[i] = (uint8_t)(i % 3 == 0 ? 255 : i % 21);
    CHECK_OK(db_label_png_write(path, px, 5, 7));
    uint8_t *back = NULL;
    int h = 0, w = 0;
    CHECK_OK(db_label_png_read(path, &back, &h, &w));
    CHECK(h == 5 && w == 7 && back && !memcmp(back, px, sizeof px), "the indices survive the round trip");
    free(back);
    FILE *in = fopen(path, "rb"), *out = fopen(bad, "wb");
    char buf[4096];
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    if (out) fwrite(buf, 1, n / 2, out);
    if (in) fclose(in);
    if (out) fclose(out);
    CHECK(db_label_png_read(bad, &back, &h, &w) == DB_ERR_FORMAT && strstr(db_last_error(), "b.png"), "truncated: %s",
          db_last_error());
    out = fopen(bad, "wb");
    if (out) { fputs("not a png at all", out); fclose(out); }
    CHECK(db_label_png_read(bad, &back, &h, &w) == DB_ERR_FORMAT, "garbage: %s", db_last_error());
    unlink(path);
    unlink(bad);
    rmdir(dir);
}

const db_test db_tests_miou[] = {
    {"miou_known_answer", test_miou_known_answer},
    {"miou_policy_and_errors", test_miou_policy_and_errors},
    {"label_png_round_trip", test_label_png},
    {NULL, NULL},
};
