/* Tests of the image-folder data sets (datasets/folder.h) and JPEG decoding and resampling
 * (datasets/image.h). Fixtures are JPEGs written here through libjpeg: flat colours and
 * gradients, whose resampled values are known to within JPEG's loss. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/batch.h"
#include "datasets/folder.h"
#include "datasets/autoaugment.h"
#include "datasets/image.h"
#include "tests/check.h"

static char fo_dir[64];

static const char *fo_path(const char *name) { return db_test_path(fo_dir, name); }

static void fo_mkdirs(const char *const *dirs) {
    db_test_mkdtemp(fo_dir, "folder");
    for (int i = 0; dirs[i]; i++) CHECK(mkdir(fo_path(dirs[i]), 0777) == 0, "mkdir %s", dirs[i]);
}

static void fo_cleanup(void) { db_test_rmtree(fo_dir); }

/* h x w RGB: a flat colour, or (gradient) red rising left to right */
static void fo_jpeg(const char *name, int h, int w, int r, int g, int b, int gradient) {
    uint8_t *px = malloc((size_t)h * w * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(gradient ? x * 255 / (w - 1) : r);
            p[1] = (uint8_t)g;
            p[2] = (uint8_t)b;
        }
    CHECK_OK(db_test_write_jpeg(fo_path(name), px, h, w, 3));
    free(px);
}

static void test_folder_layout_and_eval(void) {
    static const char *dirs[] = {"train", "train/bird", "train/apple", "val", "val/apple", "val/bird", NULL};
    fo_mkdirs(dirs);
    fo_jpeg("train/apple/a1.JPEG", 120, 90, 200, 40, 40, 0);
    fo_jpeg("train/apple/a2.jpg", 60, 80, 210, 30, 30, 0);
    fo_jpeg("train/bird/b1.JPEG", 100, 100, 20, 40, 220, 0);
    FILE *f = fopen(fo_path("train/bird/notes.txt"), "w"); /* not an image: skipped */
    if (f) fclose(f);
    fo_jpeg("val/apple/v1.JPEG", 64, 64, 200, 40, 40, 0);
    fo_jpeg("val/bird/v2.JPEG", 300, 200, 0, 0, 0, 1); /* a gradient, for the geometry */
    db_dataset tr, va;
    CHECK_OK(db_folder_load(fo_dir, "train", 32, 0.875f, &tr));
    CHECK(tr.n == 3 && tr.num_classes == 2 && tr.c == 3 && tr.h == 32 && tr.files, "n %d classes %d", tr.n, tr.num_classes);
    CHECK(tr.n == 3 && tr.labels[0] == 0 && tr.labels[1] == 0 && tr.labels[2] == 1, "apple is class 0, bird 1");
    CHECK(tr.n == 3 && strstr(tr.files[0], "a1.JPEG") && strstr(tr.files[1], "a2.jpg"), "files sorted: %s", tr.n ? tr.files[0] : "");
    CHECK_OK(db_folder_load(fo_dir, "val", 32, 0.875f, &va));
    CHECK(va.n == 2 && va.labels[0] == 0 && va.labels[1] == 1, "val n %d", va.n);
    db_norm norm;
    CHECK_OK(db_norm_compute(&va, &norm));
    CHECK(fabsf(norm.mean[0] - 0.485f) < 1e-6f && fabsf(norm.std[2] - 0.225f) < 1e-6f, "ImageNet's statistics");
    /* evaluation: the flat image comes out flat; the gradient's centre crop keeps its ramp */
    int order[2] = {0, 1}, labels[2];
    float *out = malloc(sizeof(float) * 3 * 2 * 32 * 32);
    db_norm unit = {{0, 0, 0, 0}, {1, 1, 1, 1}};
    CHECK_OK(db_batch_fill(&va, order, 2, NULL, &unit, 1, 0, out, labels));
    CHECK(labels[0] == 0 && labels[1] == 1, "labels");
    double worst = 0;
    for (int k = 0; k < 32 * 32; k++) worst = fmax(worst, fabs(out[(0 * 2 + 0) * 1024 + k] * 255 - 200));
    CHECK(worst < 4, "a flat red 200 came out up to %.1f away", worst);
    /* sample 1, red plane: 300 high x 200 wide; short side 200 -> a centred 175 x 175 crop at x 12.5 */
    worst = 0;
    for (int x = 0; x < 32; x++) {
        double src_x = 12.5 + (x + 0.5) * 175.0 / 32 - 0.5, want = src_x * 255 / 199;
        worst = fmax(worst, fabs(out[(0 * 2 + 1) * 1024 + 16 * 32 + x] * 255 - want));
    }
    CHECK(worst < 6, "the gradient's crop is off by up to %.1f", worst);
    free(out);
    db_dataset_free(&tr);
    db_dataset_free(&va);
    fo_cleanup();
}

static void test_folder_train_transform(void) {
    static const char *dirs[] = {"train", "train/a", "train/b", NULL};
    fo_mkdirs(dirs);
    fo_jpeg("train/a/1.JPEG", 500, 375, 0, 0, 0, 1);
    fo_jpeg("train/b/2.JPEG", 1600, 1200, 0, 0, 0, 1); /* decoded at 1/4 or 1/8 */
    db_dataset d;
    CHECK_OK(db_folder_load(fo_dir, "train", 48, 0.875f, &d));
    db_norm norm;
    CHECK_OK(db_norm_compute(&d, &norm));
    db_augment aug = {0, 1, 1, 0.08f, 0, 0, 0};
    int order[2] = {0, 1}, labels[2];
    size_t len = (size_t)3 * 2 * 48 * 48;
    float *a = malloc(sizeof(float) * len), *b = malloc(sizeof(float) * len), *c = malloc(sizeof(float) * len);
    CHECK_OK(db_batch_fill(&d, order, 2, &aug, &norm, 7, 3, a, labels));
    CHECK_OK(db_batch_fill(&d, order, 2, &aug, &norm, 7, 3, b, labels));
    CHECK_OK(db_batch_fill(&d, order, 2, &aug, &norm, 7, 4, c, labels));
    CHECK(!memcmp(a, b, sizeof(float) * len), "the same draws, the same batch");
    CHECK(memcmp(a, c, sizeof(float) * len) != 0, "another epoch, other crops");
    /* every crop of a left-to-right ramp is a ramp (rising, or falling when flipped) */
    int monotone = 1;
    for (int s = 0; s < 2; s++) {
        const float *row = a + ((size_t)0 * 2 + s) * 48 * 48 + 24 * 48;
        int up = row[47] > row[0];
        for (int x = 1; x < 48; x++) monotone &= up ? row[x] >= row[x - 1] - 0.05f : row[x] <= row[x - 1] + 0.05f;
    }
    CHECK(monotone, "a cropped ramp is not a ramp");
    /* AutoAugment on JPEG folders: the same crop in pixel units, rounded to bytes, through the
     * policy (a norm of mean 0, std 1/255 gives the pixels themselves) */
    const db_norm unit = {{0, 0, 0, 0}, {1.0f / 255, 1.0f / 255, 1.0f / 255, 1}};
    db_augment with = aug;
    with.autoaugment = 1;
    int wrong = 0, changed = 0;
    for (uint32_t epoch = 0; epoch < 6; epoch++) {
        CHECK_OK(db_batch_fill(&d, order, 2, &aug, &unit, 7, epoch, a, labels));
        CHECK_OK(db_batch_fill(&d, order, 2, &with, &unit, 7, epoch, b, labels));
        for (int s = 0; s < 2; s++) {
            uint8_t px[3 * 48 * 48], tmp[3 * 48 * 48];
            for (int ch = 0; ch < 3; ch++)
                for (int k = 0; k < 48 * 48; k++) {
                    const float v = a[((size_t)ch * 2 + s) * 48 * 48 + k];
                    px[ch * 48 * 48 + k] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);
                }
            db_autoaugment(px, tmp, 3, 48, 48, 7, epoch, order[s]);
            for (int ch = 0; ch < 3; ch++)
                for (int k = 0; k < 48 * 48; k++) {
                    const float got = b[((size_t)ch * 2 + s) * 48 * 48 + k];
                    wrong += fabsf(got - (float)px[ch * 48 * 48 + k]) > 1e-3f;
                    changed += fabsf(got - a[((size_t)ch * 2 + s) * 48 * 48 + k]) > 0.5f;
                }
        }
    }
    CHECK(!wrong && changed, "AutoAugment on a folder's crops: %d pixels differ from the crop's bytes through the "
          "policy, %d changed", wrong, changed);
    free(a); free(b); free(c);
    db_dataset_free(&d);
    fo_cleanup();
}

static void test_folder_bad_input(void) {
    static const char *dirs[] = {"train", "train/a", "train/b", "val", NULL};
    fo_mkdirs(dirs);
    db_dataset d;
    CHECK(db_folder_load(fo_dir, "train", 32, 0.875f, &d) == DB_ERR_FORMAT && strstr(db_last_error(), "no JPEG"),
          "empty class folders: %s", db_last_error());
    fo_jpeg("train/a/1.JPEG", 40, 40, 9, 9, 9, 0);
    fo_jpeg("train/b/2.JPEG", 40, 40, 9, 9, 9, 0);
    /* flat val with a labels file: names and indices; then a bad class */
    fo_jpeg("val/x.JPEG", 40, 40, 9, 9, 9, 0);
    fo_jpeg("val/y.JPEG", 40, 40, 9, 9, 9, 0);
    FILE *f = fopen(fo_path("val_labels.txt"), "w");
    fprintf(f, "x.JPEG b\ny.JPEG 0\n\n");
    fclose(f);
    CHECK_OK(db_folder_load(fo_dir, "val", 32, 0.875f, &d));
    CHECK(d.n == 2 && d.labels[0] == 1 && d.labels[1] == 0, "labels from the file");
    db_dataset_free(&d);
    f = fopen(fo_path("val_labels.txt"), "w");
    fprintf(f, "x.JPEG zebra\n");
    fclose(f);
    CHECK(db_folder_load(fo_dir, "val", 32, 0.875f, &d) == DB_ERR_FORMAT && strstr(db_last_error(), "val_labels.txt:1"),
          "an unknown class: %s", db_last_error());
    /* an image listed that is not there, and one listed twice: found when the list is read */
    static const char *const lists[2][2] = {{"x.JPEG b\nz.JPEG a\n", "val_labels.txt:2: "},
                                            {"x.JPEG b\ny.JPEG a\nx.JPEG a\n", "x.JPEG is listed twice"}};
    for (int k = 0; k < 2; k++) {
        f = fopen(fo_path("val_labels.txt"), "w");
        fputs(lists[k][0], f);
        fclose(f);
        CHECK(db_folder_load(fo_dir, "val", 32, 0.875f, &d) == DB_ERR_FORMAT && strstr(db_last_error(), lists[k][1]),
              "want '%s': %s", lists[k][1], db_last_error());
    }
    CHECK(db_folder_load("/nonexistent", "train", 32, 0.875f, &d) == DB_ERR_IO, "a missing root");
    CHECK(db_folder_load(fo_dir, "test", 32, 0.875f, &d) == DB_ERR_ARG, "a bad split");
    /* a truncated JPEG and a text file named .JPEG: the batch fails naming the file */
    CHECK_OK(db_folder_load(fo_dir, "train", 32, 0.875f, &d));
    fo_jpeg("train/a/1.JPEG", 200, 200, 0, 0, 0, 1);
    FILE *in = fopen(fo_path("train/a/1.JPEG"), "rb");
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    FILE *o = fopen(fo_path("train/a/1.JPEG"), "wb");
    fwrite(buf, 1, n / 2, o);
    fclose(o);
    int order[2] = {0, 1}, labels[2];
    float *out = malloc(sizeof(float) * 3 * 2 * 32 * 32);
    db_status s = db_batch_fill(&d, order, 2, NULL, NULL, 1, 0, out, labels);
    CHECK(s == DB_ERR_FORMAT && strstr(db_last_error(), "1.JPEG"), "truncated: %s", db_last_error());
    o = fopen(fo_path("train/b/2.JPEG"), "w");
    fprintf(o, "not an image\n");
    fclose(o);
    s = db_batch_fill(&d, order + 1, 1, NULL, NULL, 1, 0, out, labels);
    CHECK(s == DB_ERR_FORMAT && strstr(db_last_error(), "2.JPEG"), "garbage: %s", db_last_error());
    free(out);
    db_dataset_free(&d);
    fo_cleanup();
}

/* Shrinking by 500: each inner output pixel is its footprint's mean, the whole (triangle) filter
 * applied, none of it cut short; the border pixels' filters are clamped to the image */
static void test_resample_wide_shrink(void) {
    const int W = 4000, H = 4;
    db_image img = {H, W, malloc((size_t)H * W * 3), 3};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) img.px[((size_t)y * W + x) * 3 + c] = (uint8_t)(x * 255 / (W - 1));
    db_crop crop = {0, 0, H, W};
    float out[3 * 2 * 8], scratch[3 * 4 * 8];
    CHECK_OK(db_image_resample(&img, &crop, 2, 8, 0, out, scratch));
    double worst = 0;
    for (int x = 1; x < 7; x++) worst = fmax(worst, fabs(out[x] - (x + 0.5) * 500 * 255.0 / (W - 1)));
    CHECK(worst < 1.0, "a 500:1 shrink of a ramp is off by %.1f (out[1] %.1f)", worst, out[1]);
    CHECK_OK(db_image_resample(&img, &crop, 2, 8, 1, out, scratch));
    CHECK(out[0] > out[7], "mirrored");
    free(img.px);
}

const db_test db_tests_folder[] = {
    {"folder_layout_and_eval", test_folder_layout_and_eval},
    {"folder_train_transform", test_folder_train_transform},
    {"folder_bad_input", test_folder_bad_input},
    {"resample_wide_shrink", test_resample_wide_shrink},
    {NULL, NULL},
};
