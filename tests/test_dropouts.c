/* Dropout and SpatialDropout: realised fractions, scaling, mean preservation, the backward
 * applying exactly the forward's mask, key sensitivity and layout independence, bad keys. */
#include <stdlib.h>
#include <string.h>

#include "dropouts/dropout.h"
#include "dropouts/cutout.h"
#include "dropouts/droppath.h"
#include "tests/check.h"
#include "tests/gradcheck.h"

enum { N = 16, C = 8, H = 28, W = 28, LEN = N * C * H * W };

static void test_dropout_fraction_scale_mean(void) {
    float *x = malloc(sizeof(float) * LEN), *y = malloc(sizeof(float) * LEN);
    tc_fill(x, LEN, 1, 1.0f, 2.0f); /* positive everywhere, so a zero output means dropped */
    float kps[3] = {0.5f, 0.9f, 1.0f};
    for (int t = 0; t < 3; t++) {
        db_drop_key k = {42, 3, 7, kps[t]};
        uint64_t dropped = db_dropout_forward(y, x, &k, C, N, H, W);
        long zeros = 0, exact = 0;
        double sx = 0, sy = 0;
        for (long i = 0; i < LEN; i++) {
            zeros += y[i] == 0.0f;
            exact += y[i] == 0.0f || y[i] == x[i] * (1.0f / kps[t]);
            sx += x[i]; sy += y[i];
        }
        double frac = (double)dropped / LEN, p = 1.0 - kps[t];
        CHECK(zeros == (long)dropped, "count %llu vs zeros %ld", (unsigned long long)dropped, zeros);
        CHECK(exact == LEN, "%ld outputs neither 0 nor x/keep_prob", LEN - exact);
        CHECK(fabs(frac - p) <= 0.003, "keep_prob %g: dropped %.5f", kps[t], frac);
        /* the mean is kept in expectation: 4 standard errors of the masked mean */
        double se = sqrt(p / (kps[t] * LEN)) * 1.6;
        CHECK(fabs(sy / LEN - sx / LEN) <= 4 * se + 1e-6, "mean in %.5f out %.5f", sx / LEN, sy / LEN);
    }
    free(x); free(y);
}

static void test_dropout_backward_uses_forward_mask(void) {
    float *x = malloc(sizeof(float) * LEN), *y = malloc(sizeof(float) * LEN);
    float *dy = malloc(sizeof(float) * LEN), *dx = malloc(sizeof(float) * LEN);
    tc_fill(x, LEN, 2, 1.0f, 2.0f);
    tc_fill(dy, LEN, 3, -1.0f, 1.0f);
    db_drop_key k = {5, 1, 11, 0.8f};
    db_dropout_forward(y, x, &k, C, N, H, W);
    db_dropout_backward(dx, dy, &k, C, N, H, W, 0);
    long bad = 0;
    for (long i = 0; i < LEN; i++) bad += dx[i] != (y[i] == 0.0f ? 0.0f : dy[i] * 1.25f);
    CHECK(bad == 0, "%ld gradients disagree with the forward mask", bad);
    for (long i = 0; i < LEN; i++) dx[i] = 1.0f;
    db_dropout_backward(dx, dy, &k, C, N, H, W, 1);
    bad = 0;
    for (long i = 0; i < LEN; i++) bad += dx[i] != 1.0f + (y[i] == 0.0f ? 0.0f : dy[i] * 1.25f);
    CHECK(bad == 0, "accumulating backward: %ld wrong", bad);
    free(x); free(y); free(dy); free(dx);
}

/* The decisions are a function of (seed, site, step, logical NCHW unit) only: the CPU path
 * (memory order, CNHW, Philox blocks shared by four units) agrees with the per-unit body the
 * GPU runs, and every part of the key changes the mask. */
static void test_dropout_key_and_layout(void) {
    float *x = malloc(sizeof(float) * LEN), *y = malloc(sizeof(float) * LEN), *y2 = malloc(sizeof(float) * LEN);
    for (long i = 0; i < LEN; i++) x[i] = 1.0f;
    db_drop_key k = {9, 2, 4, 0.7f};
    db_dropout_forward(y, x, &k, C, N, H, W);
    long bad = 0;
    for (int ch = 0; ch < C; ch++)
        for (int j = 0; j < N; j++)
            for (int s = 0; s < H * W; s++) {
                uint64_t unit = ((uint64_t)j * C + ch) * H * W + s;
                int kept = y[((size_t)ch * N + j) * H * W + s] != 0.0f;
                bad += kept != db_drop_keep(&k, unit);
            }
    CHECK(bad == 0, "%ld CPU decisions differ from the per-unit body", bad);
    db_drop_key variants[4] = {{10, 2, 4, 0.7f}, {9, 3, 4, 0.7f}, {9, 2, 5, 0.7f}, {9, 2, 4, 0.7f}};
    for (int v = 0; v < 4; v++) {
        db_dropout_forward(y2, x, &variants[v], C, N, H, W);
        long same = 0;
        for (long i = 0; i < LEN; i++) same += (y[i] == 0.0f) == (y2[i] == 0.0f);
        if (v < 3) CHECK(same < LEN * 0.7, "key variant %d gives a correlated mask (%ld same)", v, same);
        else CHECK(same == LEN, "the same key gave another mask");
    }
    free(x); free(y); free(y2);
}

static void test_spatial_dropout(void) {
    enum { SN = 64, SC = 64, SH = 5, SW = 3, SLEN = SN * SC * SH * SW };
    float *x = malloc(sizeof(float) * SLEN), *y = malloc(sizeof(float) * SLEN);
    float *dy = malloc(sizeof(float) * SLEN), *dx = malloc(sizeof(float) * SLEN);
    tc_fill(x, SLEN, 4, 1.0f, 2.0f);
    tc_fill(dy, SLEN, 5, -1.0f, 1.0f);
    db_drop_key k = {1, 0, 0, 0.9f};
    uint64_t dropped = db_spatial_dropout_forward(y, x, &k, SC, SN, SH, SW);
    db_spatial_dropout_backward(dx, dy, &k, SC, SN, SH, SW, 0);
    long planes_dropped = 0, mixed = 0, bad_grad = 0;
    for (long p = 0; p < SN * SC; p++) {
        int z = 0;
        for (int s = 0; s < SH * SW; s++) {
            size_t i = (size_t)p * SH * SW + s;
            z += y[i] == 0.0f;
            bad_grad += dx[i] != (y[i] == 0.0f ? 0.0f : dy[i] * (1.0f / 0.9f));
        }
        planes_dropped += z == SH * SW;
        mixed += z != 0 && z != SH * SW;
    }
    CHECK(mixed == 0, "%ld channel planes partly dropped", mixed);
    CHECK(dropped == (uint64_t)planes_dropped * SH * SW, "count %llu", (unsigned long long)dropped);
    double frac = (double)planes_dropped / (SN * SC), se = sqrt(0.09 / (SN * SC));
    CHECK(fabs(frac - 0.1) <= 4 * se, "dropped channel fraction %.4f", frac);
    CHECK(bad_grad == 0, "%ld gradients disagree with the forward mask", bad_grad);
    free(x); free(y); free(dy); free(dx);
}

static void test_bad_keys(void) {
    db_drop_key k = {1, 0, 0, 0.0f};
    CHECK(db_drop_check(&k, 1, 1, 1, 1) == DB_ERR_ARG, "keep_prob 0 accepted");
    CHECK(strstr(db_last_error(), "keep_prob") != NULL, "message: %s", db_last_error());
    k.keep_prob = 1.5f;
    CHECK(db_drop_check(&k, 1, 1, 1, 1) == DB_ERR_ARG, "keep_prob 1.5 accepted");
    k.keep_prob = NAN;
    CHECK(db_drop_check(&k, 1, 1, 1, 1) == DB_ERR_ARG, "keep_prob NaN accepted");
    k.keep_prob = 1.0f;
    CHECK_OK(db_drop_check(&k, 1, 1, 1, 1));
    CHECK(db_drop_check(&k, 0, 1, 1, 1) == DB_ERR_ARG, "empty shape accepted");
}

static void test_droppath(void) {
    CHECK_CLOSE(db_droppath_rate(0.2f, 0, 9), 0.0, 1e-9, 0);
    CHECK_CLOSE(db_droppath_rate(0.2f, 4, 9), 0.1, 1e-7, 0);
    CHECK_CLOSE(db_droppath_rate(0.2f, 8, 9), 0.2, 1e-7, 0);
    enum { DN = 4000, DC = 3, DHW = 4 };
    float *x = malloc(sizeof(float) * DN * DC * DHW), *y = malloc(sizeof(float) * DN * DC * DHW);
    float *dx = malloc(sizeof(float) * DN * DC * DHW);
    tc_fill(x, DN * DC * DHW, 8, 1.0f, 2.0f);
    db_drop_key k = {4, 9, 1, 0.8f};
    int dropped = db_droppath_forward(y, x, &k, DC, DN, 2, 2);
    db_droppath_backward(dx, x, &k, DC, DN, 2, 2, 0);
    long mixed = 0, zero_samples = 0, bad = 0;
    for (int j = 0; j < DN; j++) {
        int z = 0;
        for (int ch = 0; ch < DC; ch++)
            for (int i = 0; i < DHW; i++) {
                size_t e = ((size_t)ch * DN + j) * DHW + i;
                z += y[e] == 0.0f;
                bad += y[e] != (y[e] == 0.0f ? 0.0f : x[e] * 1.25f) || dx[e] != y[e];
            }
        mixed += z != 0 && z != DC * DHW;
        zero_samples += z == DC * DHW;
    }
    CHECK(mixed == 0, "%ld samples partly dropped", mixed);
    CHECK(zero_samples == dropped, "dropped %d, zero samples %ld", dropped, zero_samples);
    CHECK(fabs(dropped / (double)DN - 0.2) <= 4 * sqrt(0.16 / DN), "dropped fraction %.4f", dropped / (double)DN);
    CHECK(bad == 0, "%ld outputs or gradients not scaled by 1/keep_prob or masked", bad);
    free(x); free(y); free(dx);
}

static void test_cutout(void) {
    enum { CN = 200, CC = 2, CH = 12, CW = 10 };
    float *x = malloc(sizeof(float) * CN * CC * CH * CW);
    int ids[CN];
    for (int j = 0; j < CN; j++) ids[j] = 1000 + j;
    for (long i = 0; i < CN * CC * CH * CW; i++) x[i] = 1.0f;
    db_cutout(x, ids, 4, 3, 0, CC, CN, CH, CW);
    long bad_square = 0, clipped = 0, differ_channels = 0;
    for (int j = 0; j < CN; j++) {
        const float *p0 = x + (size_t)j * CH * CW, *p1 = x + ((size_t)CN + j) * CH * CW;
        int zeros = 0, ymin = CH, ymax = -1, xmin = CW, xmax = -1;
        for (int i = 0; i < CH * CW; i++) {
            differ_channels += p0[i] != p1[i];
            if (p0[i] != 0.0f) continue;
            zeros++;
            int yy = i / CW, xx = i % CW;
            ymin = yy < ymin ? yy : ymin;
            ymax = yy > ymax ? yy : ymax;
            xmin = xx < xmin ? xx : xmin;
            xmax = xx > xmax ? xx : xmax;
        }
        /* the zeros form one filled rectangle of at most 4x4, 4x4 unless the border clips it */
        int area = (ymax - ymin + 1) * (xmax - xmin + 1);
        bad_square += zeros == 0 || zeros != area || ymax - ymin > 3 || xmax - xmin > 3;
        clipped += zeros < 16;
    }
    CHECK(bad_square == 0, "%ld images without one filled square patch", bad_square);
    CHECK(differ_channels == 0, "channels cut at different places");
    CHECK(clipped > 0 && clipped < CN, "clipped patches: %ld of %d", clipped, CN);
    free(x);
}

const db_test db_tests_dropouts[] = {
    {"droppath_samples_and_rates", test_droppath},
    {"cutout_patches", test_cutout},
    {"dropout_fraction_scale_mean", test_dropout_fraction_scale_mean},
    {"dropout_backward_uses_forward_mask", test_dropout_backward_uses_forward_mask},
    {"dropout_key_and_layout", test_dropout_key_and_layout},
    {"spatial_dropout_channels", test_spatial_dropout},
    {"drop_bad_keys", test_bad_keys},
    {NULL, NULL},
};
