/* Tests of AutoAugment (datasets/autoaugment.h): each operation on images with known answers
 * (PIL's rules worked by hand), the policy's draws (uniform sub-policies, the stated
 * probabilities and signs, the same for a sample whatever else is drawn), and a batch filled
 * with it: the crop-flip batch's bytes through the policy, the same bits whatever the threads. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/autoaugment.h"
#include "datasets/batch.h"
#include "datasets/synthetic.h"
#include "tests/check.h"

static int same(const uint8_t *a, const uint8_t *b, size_t n) { return memcmp(a, b, n) == 0; }

static void test_aa_point_ops(void) {
    uint8_t x[6] = {0, 100, 127, 128, 200, 255}, t[6];
    db_aa_apply(DB_AA_INVERT, 0, x, t, 1, 2, 3);
    CHECK(same(x, (uint8_t[]){255, 155, 128, 127, 55, 0}, 6), "invert");
    uint8_t p[6] = {0, 100, 127, 128, 200, 255};
    db_aa_apply(DB_AA_POSTERIZE, 4, p, t, 1, 2, 3);
    CHECK(same(p, (uint8_t[]){0, 96, 112, 128, 192, 240}, 6), "posterize to 4 bits");
    uint8_t s[6] = {0, 100, 127, 128, 200, 255};
    db_aa_apply(DB_AA_SOLARIZE, 128, s, t, 1, 2, 3);
    CHECK(same(s, (uint8_t[]){0, 100, 127, 127, 55, 0}, 6), "solarize at 128: from 128 up inverted");
    uint8_t a[6] = {50, 100, 150, 50, 100, 150};
    db_aa_apply(DB_AA_AUTOCONTRAST, 0, a, t, 2, 1, 3); /* per channel: both stretch 50..150 to 0..255 */
    CHECK(same(a, (uint8_t[]){0, 127, 255, 0, 127, 255}, 6), "autocontrast %d %d %d", a[0], a[1], a[2]);
    uint8_t flat[4] = {7, 7, 7, 7};
    db_aa_apply(DB_AA_AUTOCONTRAST, 0, flat, t, 1, 2, 2);
    db_aa_apply(DB_AA_EQUALIZE, 0, flat, t, 1, 2, 2);
    CHECK(same(flat, (uint8_t[]){7, 7, 7, 7}, 4), "a flat image is left as it is");
}

/* PIL's equalisation on 1024 pixels, 256 each of 10, 20, 30 and 40: step (1024 - 256) / 255 = 3,
 * lut[v] = (1 + pixels below v) / 3 → 0, 85, 171, 255 (256 clipped) */
static void test_aa_equalize(void) {
    uint8_t x[1024], t[1024];
    for (int i = 0; i < 1024; i++) x[i] = (uint8_t)(10 * (1 + i / 256));
    db_aa_apply(DB_AA_EQUALIZE, 0, x, t, 1, 32, 32);
    CHECK(x[0] == 0 && x[256] == 85 && x[512] == 171 && x[768] == 255, "equalize: %d %d %d %d", x[0], x[256], x[512],
          x[768]);
}

static void test_aa_geometry(void) {
    uint8_t x[16], t[16], r[16];
    for (int i = 0; i < 16; i++) x[i] = (uint8_t)i;
    memcpy(r, x, 16);
    db_aa_apply(DB_AA_ROTATE, 0, r, t, 1, 4, 4);
    CHECK(same(r, x, 16), "rotation by 0 changes nothing");
    db_aa_apply(DB_AA_ROTATE, 90, r, t, 1, 4, 4); /* counter-clockwise: the first row shows the last column */
    CHECK(r[0] == 3 && r[1] == 7 && r[3] == 15 && r[12] == 0 && r[15] == 12, "rotate 90: %d %d %d %d %d", r[0], r[1],
          r[3], r[12], r[15]);
    db_aa_apply(DB_AA_ROTATE, -90, r, t, 1, 4, 4);
    CHECK(same(r, x, 16), "and back by -90");
    memcpy(r, x, 16);
    db_aa_apply(DB_AA_SHEAR_X, 0.5f, r, t, 1, 4, 4); /* row y reads columns x + floor(0.5 + 0.5 (y + 0.5)) */
    CHECK(r[0] == 0 && r[3] == 3 && r[4] == 5 && r[7] == 128 && r[12] == 14 && r[13] == 15 && r[14] == 128,
          "shear: row 0 as it was, row 1 one left, row 3 two left, grey 128 where uncovered");
    uint8_t c3[3 * 16], t3[3 * 16];
    for (int k = 0; k < 3; k++) memcpy(c3 + 16 * k, x, 16);
    memcpy(r, x, 16);
    db_aa_apply(DB_AA_ROTATE, 30, r, t, 1, 4, 4);
    db_aa_apply(DB_AA_ROTATE, 30, c3, t3, 3, 4, 4);
    CHECK(same(c3, r, 16) && same(c3 + 16, r, 16) && same(c3 + 32, r, 16) && !same(r, x, 16),
          "each channel of an image moves as a one-channel image does");
}

static void test_aa_blends(void) {
    uint8_t g[9] = {0, 0, 0, 0, 130, 0, 0, 0, 0}, t[27], y[9];
    memcpy(y, g, 9);
    db_aa_apply(DB_AA_COLOR, -0.9f, y, t, 1, 3, 3);
    CHECK(same(y, g, 9), "colour leaves a grey image alone");
    db_aa_apply(DB_AA_SHARPNESS, 0, y, t, 1, 3, 3);
    CHECK(same(y, g, 9), "sharpness factor 1 (value 0) changes nothing");
    db_aa_apply(DB_AA_SHARPNESS, -1, y, t, 1, 3, 3); /* factor 0: the smoothing, 5 x 130 / 13 = 50 at the centre */
    CHECK(y[4] == 50 && y[0] == 0, "sharpness 0 smooths the interior: %d", y[4]);
    memcpy(y, g, 9);
    db_aa_apply(DB_AA_CONTRAST, -1, y, t, 1, 3, 3); /* factor 0: every pixel the mean, 130 / 9 = 14.4 → 14 */
    CHECK(y[0] == 14 && y[4] == 14, "contrast 0: the mean %d", y[4]);
    uint8_t rgb[3] = {255, 0, 0}; /* one red pixel: luma 76 */
    db_aa_apply(DB_AA_COLOR, -1, rgb, t, 3, 1, 1);
    CHECK(rgb[0] == 76 && rgb[1] == 76 && rgb[2] == 76, "colour 0 is grey: %d %d %d", rgb[0], rgb[1], rgb[2]);
    uint8_t rgb2[3] = {200, 100, 50}; /* luma 124; factor 1.9 pushes away from it, clipped */
    db_aa_apply(DB_AA_COLOR, 0.9f, rgb2, t, 3, 1, 1);
    CHECK(rgb2[0] == 255 && rgb2[1] == 78 && rgb2[2] == 0, "colour 1.9: %d %d %d", rgb2[0], rgb2[1], rgb2[2]);
}

static void test_aa_draws(void) {
    enum { N = 25000 };
    int subs[25] = {0}, neg = 0, signed_applied = 0, first_applied_sub0 = 0, sub0 = 0, posterize_bits_ok = 1;
    for (int s = 0; s < N; s++) {
        const db_aa_draw d = db_aa_draw_for(7, 3, s);
        subs[d.sub]++;
        if (d.sub == 0) { sub0++; first_applied_sub0 += d.applies[0]; }
        for (int k = 0; k < 2; k++) {
            if (d.op[k] == DB_AA_ROTATE) { signed_applied++; neg += d.value[k] < 0; }
            if (d.op[k] == DB_AA_POSTERIZE && (d.value[k] < 4 || d.value[k] > 6)) posterize_bits_ok = 0;
            /* the levels' values: sub-policy 0 posterizes at level 8 (4 bits) and rotates at 9 (30 degrees),
             * 3 at levels 7 and 6 (5 bits both), 7 at 5 (6 bits); 1 solarizes at level 5 (255 x 4/9) */
            const float want = d.sub == 0 ? (k ? 30.0f : 4.0f) : d.sub == 3 ? 5.0f : d.sub == 7 && !k ? 6.0f
                             : d.sub == 1 && !k ? 255.0f * 4.0f / 9.0f : -1.0f;
            if (want >= 0 && fabsf(fabsf(d.value[k]) - want) > 1e-4f) posterize_bits_ok = 0;
        }
    }
    for (int k = 0; k < 25; k++) /* 1000 expected, sd 31 */
        CHECK(subs[k] > 850 && subs[k] < 1150, "sub-policy %d drawn %d times of %d", k, subs[k], N);
    CHECK(abs(2 * neg - signed_applied) < 6 * 40, "rotations' signs: %d negative of %d", neg, signed_applied);
    CHECK(abs(first_applied_sub0 * 10 - sub0 * 4) < 10 * 100, "posterize 0.4 applied %d of %d", first_applied_sub0, sub0);
    CHECK(posterize_bits_ok, "the policy's levels give the paper's values (posterize 4 to 6 bits, rotation 30, solarize 113)");
    const db_aa_draw e0 = db_aa_draw_for(7, 3, 11), e1 = db_aa_draw_for(7, 4, 11), s1 = db_aa_draw_for(8, 3, 11);
    CHECK(memcmp(&e0, &e1, sizeof e0) || memcmp(&e0, &s1, sizeof e0), "another epoch or seed draws afresh");
}

static void test_aa_batch(void) {
    db_dataset d;
    CHECK_OK(db_synthetic(&d, 64, 3, 12, 12, 10, 5, "aa"));
    db_norm norm = {{0.5f, 0.5f, 0.5f, 0}, {0.25f, 0.25f, 0.25f, 1}};
    const int B = 16, order[16] = {3, 1, 4, 15, 9, 26, 5, 35, 8, 9, 7, 63, 2, 38, 46, 0};
    const size_t plane = 144, floats = (size_t)3 * B * plane;
    float *plain = malloc(sizeof(float) * floats), *aa = malloc(sizeof(float) * floats),
          *aa1 = malloc(sizeof(float) * floats);
    int labels[16];
    db_augment base = {2, 1, 0, 0, 0, 0, 0}, with = base;
    with.autoaugment = 1;
    CHECK_OK(db_batch_fill(&d, order, B, &base, &norm, 5, 2, plain, labels));
    CHECK_OK(db_batch_fill(&d, order, B, &with, &norm, 5, 2, aa, labels));
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK_OK(db_batch_fill(&d, order, B, &with, &norm, 5, 2, aa1, labels));
    omp_set_num_threads(threads);
    CHECK(!memcmp(aa, aa1, sizeof(float) * floats), "the same bits with one thread");
    int changed = 0, wrong = 0;
    for (int i = 0; i < B; i++) { /* the plain batch's bytes through the policy give the AutoAugment batch */
        uint8_t px[3 * 144], tmp[3 * 144];
        for (int c = 0; c < 3; c++)
            for (size_t k = 0; k < plane; k++) {
                const float v = plain[((size_t)c * B + i) * plane + k] * 0.25f + 0.5f; /* back to 0..1 */
                px[c * plane + k] = (uint8_t)(v * 255.0f + 0.5f);
            }
        db_autoaugment(px, tmp, 3, 12, 12, 5, 2, order[i]);
        for (int c = 0; c < 3; c++)
            for (size_t k = 0; k < plane; k++) {
                const float want = ((float)px[c * plane + k] / 255.0f - 0.5f) / 0.25f,
                            got = aa[((size_t)c * B + i) * plane + k];
                wrong += fabsf(want - got) > 1e-5f;
            }
        changed += memcmp(plain + (size_t)i * plane, aa + (size_t)i * plane, sizeof(float) * plane) != 0;
    }
    CHECK(!wrong, "%d pixels differ from the crop's bytes through the policy", wrong);
    CHECK(changed > 0, "the policy changed none of %d images", B);
    free(plain); free(aa); free(aa1);
    db_dataset_free(&d);
}

/* Each operation against Pillow's (tests/aa_pillow.py: 120 random images, one and three
 * channels, at the policy's values), byte for byte */
static void test_aa_matches_pillow(void) {
    char dir[64], cmd[256];
    db_test_mkdtemp(dir, "aa");
    const char *path = db_test_path(dir, "pillow.bin");
    snprintf(cmd, sizeof cmd, "for py in /usr/bin/python3 python3; do $py -c 'import PIL' 2>/dev/null && "
             "exec $py tests/aa_pillow.py '%s'; done; exit 3", path);
    const int rc = system(cmd);
    CHECK(rc == 0, "tests/aa_pillow.py failed (exit %d): Pillow is python3-pil (scripts/deps installs it)", rc);
    FILE *f = fopen(path, "rb");
    int cases = 0, differ = 0;
    struct { int32_t op; float v; int32_t c, h, w; } hd;
    while (f && fread(&hd, sizeof hd, 1, f) == 1) {
        const size_t n = (size_t)hd.c * hd.h * hd.w;
        uint8_t *in = malloc(n), *want = malloc(n), *tmp = malloc(n);
        if (fread(in, 1, n, f) != n || fread(want, 1, n, f) != n) { free(in); free(want); free(tmp); break; }
        db_aa_apply((db_aa_op)hd.op, hd.v, in, tmp, hd.c, hd.h, hd.w);
        if (memcmp(in, want, n)) {
            if (differ++ < 5) fprintf(stderr, "    op %d value %g on %dx%dx%d differs from Pillow\n", hd.op, hd.v, hd.c, hd.h, hd.w);
        }
        cases++;
        free(in); free(want); free(tmp);
    }
    if (f) fclose(f);
    CHECK(cases == 120 && differ == 0, "%d of %d cases differ from Pillow", differ, cases);
    db_test_rmtree(dir);
}

const db_test db_tests_autoaugment[] = {
    {"aa_point_ops", test_aa_point_ops},
    {"aa_equalize", test_aa_equalize},
    {"aa_geometry", test_aa_geometry},
    {"aa_blends", test_aa_blends},
    {"aa_draws", test_aa_draws},
    {"aa_batch", test_aa_batch},
    {"aa_matches_pillow", test_aa_matches_pillow},
    {NULL, NULL},
};
