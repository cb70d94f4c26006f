/* Tests of the IDX reader, the epoch order and batch filling. Fixtures are generated at run
 * time in a fresh /tmp directory, so every bad-file case is built from a known good file.
 * Helpers carry a ds_ prefix because a runner may compile several test files as one unit. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/philox.h"
#include "core/status.h"
#include "datasets/batch.h"
#include "datasets/dataset.h"
#include "datasets/select.h"
#include "tests/check.h"

#define EXPECT_FAIL(expr, code, needle)                                                     \
    do {                                                                                    \
        db_status ds_s_ = (expr);                                                           \
        CHECK(ds_s_ == (code), "%s -> %s, want %s: %s", #expr, db_status_name(ds_s_),       \
              db_status_name(code), db_last_error());                                       \
        CHECK(strstr(db_last_error(), (needle)) != NULL, "message \"%s\" lacks \"%s\"",     \
              db_last_error(), (needle));                                                   \
    } while (0)

static char ds_dir[64];
static uint8_t ds_buf[8192];

static void ds_mkdir(void) {
    snprintf(ds_dir, sizeof ds_dir, "/tmp/dbtest_ds_XXXXXX");
    CHECK(mkdtemp(ds_dir) != NULL, "mkdtemp failed");
}

static void ds_rmdir(void) {
    DIR *d = opendir(ds_dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", ds_dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(ds_dir);
}

/* A path in the fixture directory, in rotating buffers: enough for every path one test keeps. */
static const char *ds_path(const char *name) {
    static char bufs[64][256];
    static int next;
    char *b = bufs[next++ % 64];
    snprintf(b, sizeof bufs[0], "%s/%s", ds_dir, name);
    return b;
}

static const char *ds_write(const char *name, int gz, const uint8_t *b, size_t len) {
    const char *p = ds_path(name);
    if (gz) {
        gzFile f = gzopen(p, "wb");
        CHECK(f && gzwrite(f, b, (unsigned)len) == (int)len && gzclose(f) == Z_OK, "gz %s", p);
    } else {
        FILE *f = fopen(p, "wb");
        CHECK(f && fwrite(b, 1, len, f) == len && fclose(f) == 0, "write %s", p);
    }
    return p;
}

static size_t ds_be32(uint8_t *b, uint32_t v) {
    b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
    return 4;
}

static uint8_t ds_pix(int i, int y, int x) {
    return (uint8_t)((i * 37 + y * 11 + x * 5 + 3) & 255);
}

/* An IDX image file of n h-by-w images with pixels ds_pix; returns its length. */
static size_t ds_images(uint32_t magic, uint32_t n, uint32_t h, uint32_t w) {
    size_t k = ds_be32(ds_buf, magic);
    k += ds_be32(ds_buf + k, n), k += ds_be32(ds_buf + k, h), k += ds_be32(ds_buf + k, w);
    for (uint32_t i = 0; i < n && (size_t)h * w <= sizeof ds_buf - k; i++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) ds_buf[k++] = ds_pix((int)i, (int)y, (int)x);
    return k;
}

static size_t ds_labels(uint32_t magic, uint32_t n, int ncls) {
    size_t k = ds_be32(ds_buf, magic);
    k += ds_be32(ds_buf + k, n);
    for (uint32_t i = 0; i < n; i++) ds_buf[k++] = (uint8_t)(i % (uint32_t)ncls);
    return k;
}

/* Load and free at once: the error tests need only the status and the message. */
static db_status ds_load(const char *im, const char *lb, int ncls) {
    db_dataset d;
    db_status s = db_idx_load(im, lb, ncls, "t", &d);
    CHECK(s == DB_OK || (d.images == NULL && d.labels == NULL && d.n == 0), "not zeroed");
    db_dataset_free(&d);
    return s;
}

static void ds_check_good(const db_dataset *d, int n, int h, int w, int ncls) {
    CHECK(d->n == n && d->c == 1 && d->h == h && d->w == w && d->num_classes == ncls,
          "shape %d %d %d %d / %d", d->n, d->c, d->h, d->w, d->num_classes);
    int bad = 0;
    for (int i = 0; i < n && d->images; i++) {
        bad += d->labels[i] != i % ncls;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) bad += d->images[(i * h + y) * w + x] != ds_pix(i, y, x);
    }
    CHECK(bad == 0 && d->images, "%d wrong pixels or labels", bad);
}

static void test_idx_good(void) {
    ds_mkdir();
    const char *ip = ds_write("im", 0, ds_buf, ds_images(0x803, 5, 3, 4));
    const char *igz = ds_write("im.gz", 1, ds_buf, ds_images(0x803, 5, 3, 4));
    const char *lp = ds_write("lb", 0, ds_buf, ds_labels(0x801, 5, 3));
    const char *lgz = ds_write("lb.gz", 1, ds_buf, ds_labels(0x801, 5, 3));
    db_dataset d;
    CHECK_OK(db_idx_load(ip, lgz, 3, "tiny", &d));
    ds_check_good(&d, 5, 3, 4, 3);
    CHECK(strcmp(d.name, "tiny") == 0 && strstr(d.source, ip) && strstr(d.source, lgz), "%s",
          d.source);
    db_dataset_free(&d);
    db_dataset_free(&d); /* a second free is harmless */
    CHECK_OK(db_idx_load(igz, lp, 3, NULL, &d));
    ds_check_good(&d, 5, 3, 4, 3);
    db_dataset_free(&d);
    ds_rmdir();
}

static void test_mnist_like_dir(void) {
    ds_mkdir();
    ds_write("train-images-idx3-ubyte.gz", 1, ds_buf, ds_images(0x803, 7, 2, 3));
    ds_write("train-labels-idx1-ubyte", 0, ds_buf, ds_labels(0x801, 7, 10));
    ds_write("t10k-images-idx3-ubyte", 0, ds_buf, ds_images(0x803, 4, 2, 3));
    db_dataset d;
    CHECK_OK(db_mnist_like_load(ds_dir, "train", "fm", &d));
    ds_check_good(&d, 7, 2, 3, 10);
    db_dataset_free(&d);
    EXPECT_FAIL(db_mnist_like_load(ds_dir, "test", "fm", &d), DB_ERR_IO,
                ds_path("t10k-labels-idx1-ubyte"));
    ds_write("t10k-labels-idx1-ubyte.gz", 1, ds_buf, ds_labels(0x801, 4, 10));
    CHECK_OK(db_mnist_like_load(ds_dir, "test", "fm", &d));
    ds_check_good(&d, 4, 2, 3, 10);
    db_dataset_free(&d);
    /* the files a run's provenance names are those the loader reads: not a plain copy beside its
     * .gz, nor a download's partial or set-aside file */
    ds_write("train-images-idx3-ubyte", 0, ds_buf, ds_images(0x803, 7, 2, 3));
    ds_write("t10k-images-idx3-ubyte.gz.part", 0, ds_buf, 10);
    ds_write("t10k-images-idx3-ubyte.gz.bad", 0, ds_buf, 10);
    char *files[16];
    int nf = 0;
    db_data_spec spec = {.name = "fashion-mnist", .data_dir = ds_dir};
    CHECK_OK(db_data_files(&spec, files, 16, &nf));
    static const char *const want[] = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                                       "train-labels-idx1-ubyte"};
    CHECK(nf == 4, "%d files named", nf);
    for (int i = 0; i < nf && i < 4; i++)
        CHECK(!strcmp(strrchr(files[i], '/') + 1, want[i]), "file %d: %s, want %s", i, files[i], want[i]);
    db_data_files_free(files, nf);
    EXPECT_FAIL(db_mnist_like_load(ds_dir, "val", "fm", &d), DB_ERR_ARG, "val");
    EXPECT_FAIL(db_mnist_like_load("/nonexistent/dir", "train", "fm", &d), DB_ERR_IO,
                "/nonexistent/dir");
    ds_rmdir();
}

static void test_idx_bad_files(void) {
    ds_mkdir();
    const char *im = ds_write("im", 0, ds_buf, ds_images(0x803, 5, 3, 4));
    const char *lb = ds_write("lb.gz", 1, ds_buf, ds_labels(0x801, 5, 3));
    const char *none = ds_path("missing-images");
    EXPECT_FAIL(ds_load(none, lb, 3), DB_ERR_IO, none);
    EXPECT_FAIL(ds_load(im, ds_path("missing-labels"), 3), DB_ERR_IO, "missing-labels");
    EXPECT_FAIL(ds_load(im, lb, 0), DB_ERR_ARG, "num_classes");
    EXPECT_FAIL(ds_load(ds_dir, lb, 3), DB_ERR_IO, ds_dir); /* a directory, not a file */

    /* Truncated: plain and gzip payloads 5 bytes short, a gzip file cut on disk, a header. */
    size_t len = ds_images(0x803, 5, 3, 4);
    const char *tp = ds_write("trunc", 0, ds_buf, len - 5);
    EXPECT_FAIL(ds_load(tp, lb, 3), DB_ERR_FORMAT, tp);
    EXPECT_FAIL(ds_load(tp, lb, 3), DB_ERR_FORMAT, "truncated");
    const char *tg = ds_write("trunc.gz", 1, ds_buf, len - 5);
    EXPECT_FAIL(ds_load(tg, lb, 3), DB_ERR_FORMAT, tg);
    const char *cut = ds_write("cut.gz", 1, ds_buf, len);
    struct stat st;
    CHECK(stat(cut, &st) == 0 && truncate(cut, st.st_size - 12) == 0, "cut %s", cut);
    EXPECT_FAIL(ds_load(cut, lb, 3), DB_ERR_FORMAT, cut);
    const char *hdr = ds_write("hdr", 0, ds_buf, 6);
    EXPECT_FAIL(ds_load(hdr, lb, 3), DB_ERR_FORMAT, hdr);
    const char *tl = ds_write("tl", 0, ds_buf, ds_labels(0x801, 5, 3) - 1);
    EXPECT_FAIL(ds_load(im, tl, 3), DB_ERR_FORMAT, tl);

    /* Trailing garbage: the header promises less than the file holds. */
    len = ds_images(0x803, 5, 3, 4);
    const char *tr = ds_write("trail.gz", 1, ds_buf, len + 3);
    EXPECT_FAIL(ds_load(tr, lb, 3), DB_ERR_FORMAT, tr);
    EXPECT_FAIL(ds_load(tr, lb, 3), DB_ERR_FORMAT, "trailing");

    /* Garbled gzip: a valid header, then a deflate block of the reserved type 3 and junk. */
    static const uint8_t junk[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xfe, 0x12, 0x34,
                                   0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6};
    const char *gj = ds_write("junk.gz", 0, junk, sizeof junk);
    EXPECT_FAIL(ds_load(gj, lb, 3), DB_ERR_FORMAT, gj);
    EXPECT_FAIL(ds_load(gj, lb, 3), DB_ERR_FORMAT, "gzip");
    /* A good gzip file with one byte flipped mid-stream: caught by inflate, CRC or length. */
    const char *flip = ds_write("flip.gz", 1, ds_buf, ds_images(0x803, 5, 3, 4));
    FILE *f = fopen(flip, "r+b");
    int ch = f && fseek(f, 20, SEEK_SET) == 0 ? fgetc(f) : EOF;
    CHECK(ch != EOF && fseek(f, 20, SEEK_SET) == 0 && fputc(ch ^ 0xff, f) != EOF, "flip");
    if (f) fclose(f);
    EXPECT_FAIL(ds_load(flip, lb, 3), DB_ERR_FORMAT, flip);
    ds_rmdir();
}

static void test_idx_bad_headers(void) {
    ds_mkdir();
    const char *im = ds_write("im", 0, ds_buf, ds_images(0x803, 5, 3, 4));
    const char *lb = ds_write("lb", 0, ds_buf, ds_labels(0x801, 5, 3));
    const char *m1 = ds_write("magic-im", 0, ds_buf, ds_images(0x801, 5, 3, 4));
    EXPECT_FAIL(ds_load(m1, lb, 3), DB_ERR_FORMAT, m1);
    EXPECT_FAIL(ds_load(m1, lb, 3), DB_ERR_FORMAT,
                "expected 0x00000803 (images) but found 0x00000801");
    const char *m2 = ds_write("magic-lb.gz", 1, ds_buf, ds_labels(0x803, 5, 3));
    EXPECT_FAIL(ds_load(im, m2, 3), DB_ERR_FORMAT, m2);
    EXPECT_FAIL(ds_load(lb, lb, 3), DB_ERR_FORMAT, "wrong magic"); /* shorter than a header */
    /* Absurd sizes: zero images, 1e10 pixels, and sizes whose product overflows 64 bits. */
    const char *z = ds_write("zero", 0, ds_buf, ds_images(0x803, 0, 3, 4));
    EXPECT_FAIL(ds_load(z, lb, 3), DB_ERR_FORMAT, z);
    const char *big = ds_write("big", 0, ds_buf, ds_images(0x803, 100000, 1000, 100));
    EXPECT_FAIL(ds_load(big, lb, 3), DB_ERR_FORMAT, big);
    const char *ovf =
        ds_write("ovf", 0, ds_buf, ds_images(0x803, 0xffffffffu, 0xffffffffu, 0xffffffffu));
    EXPECT_FAIL(ds_load(ovf, lb, 3), DB_ERR_FORMAT, "absurd");
    const char *l4 = ds_write("l4", 0, ds_buf, ds_labels(0x801, 4, 3));
    EXPECT_FAIL(ds_load(im, l4, 3), DB_ERR_FORMAT, im);
    EXPECT_FAIL(ds_load(im, l4, 3), DB_ERR_FORMAT, "holds 5 images but");
    EXPECT_FAIL(ds_load(im, l4, 3), DB_ERR_FORMAT, "holds 4 labels");
    EXPECT_FAIL(ds_load(im, l4, 3), DB_ERR_FORMAT, l4);
    /* Labels 0..3 but only 3 classes. */
    const char *l5 = ds_write("l5", 0, ds_buf, ds_labels(0x801, 5, 4));
    EXPECT_FAIL(ds_load(im, l5, 3), DB_ERR_FORMAT, l5);
    EXPECT_FAIL(ds_load(im, l5, 3), DB_ERR_FORMAT, "label 3 of sample 3");
    ds_rmdir();
}

static void test_epoch_order(void) {
    enum { N = 1000 };
    static int a[N], b[N], c[N], seen[N];
    db_epoch_order(N, 42, 3, a);
    db_epoch_order(N, 42, 3, b);
    db_epoch_order(N, 42, 4, c);
    memset(seen, 0, sizeof seen);
    int ok = 1, same_ab = 1, same_ac = 1, fixed = 0;
    for (int i = 0; i < N; i++) {
        ok &= a[i] >= 0 && a[i] < N && !seen[a[i]]++;
        same_ab &= a[i] == b[i];
        same_ac &= a[i] == c[i];
        fixed += a[i] == i;
    }
    CHECK(ok, "not a permutation");
    CHECK(same_ab, "same (seed, epoch) gave different orders");
    CHECK(!same_ac, "epochs 3 and 4 gave the same order");
    CHECK(fixed < 10, "%d fixed points; expected about 1", fixed);
    db_epoch_order(N, 43, 3, b);
    CHECK(memcmp(a, b, sizeof a) != 0, "seeds 42 and 43 gave the same order");
    db_epoch_order(1, 42, 0, a);
    CHECK(a[0] == 0, "n = 1");
    db_epoch_order(0, 42, 0, a); /* nothing to do, must not touch memory */
}

/* A hand-built data set: n images of c x h x w, every pixel in 1..255 and distinct along a
 * row, so a shifted or mirrored copy matches exactly one (dy, dx, flip). */
static db_dataset ds_synthetic(int n, int c, int h, int w) {
    db_dataset d = {.n = n, .c = c, .h = h, .w = w, .num_classes = 10};
    snprintf(d.name, sizeof d.name, "synthetic");
    d.images = malloc((size_t)n * c * h * w);
    d.labels = malloc(sizeof *d.labels * (size_t)n);
    for (int i = 0; i < n; i++) {
        d.labels[i] = (uint8_t)(i % 10);
        for (int k = 0; k < c * h * w; k++) {
            int ch = k / (h * w), y = k / w % h, x = k % w;
            d.images[(size_t)i * c * h * w + k] =
                (uint8_t)(1 + (i * 53 + ch * 101 + y * 17 + x * 7) % 255);
        }
    }
    return d;
}

static void test_batch_plain(void) {
    db_dataset d = ds_synthetic(4, 2, 3, 5);
    db_norm nm = {{0.2f, 0.6f}, {0.5f, 0.25f}};
    int order[3] = {2, 0, 3}, lab[3];
    float out[2 * 3 * 3 * 5], out2[2 * 3 * 3 * 5];
    db_batch_fill(&d, order, 3, NULL, &nm, 7, 0, out, lab);
    int bad = 0;
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 3; i++)
            for (int p = 0; p < 15; p++) {
                float px = d.images[(order[i] * 2 + c) * 15 + p] / 255.0f;
                float want = (px - nm.mean[c]) / nm.std[c];
                bad += fabsf(out[(c * 3 + i) * 15 + p] - want) > 1e-5f;
            }
    CHECK(bad == 0, "%d values differ from the normalised pixels", bad);
    CHECK(lab[0] == 2 && lab[1] == 0 && lab[2] == 3, "labels %d %d %d", lab[0], lab[1], lab[2]);
    db_augment none = {0, 0, 0, 0, 0, 0, 0};
    db_batch_fill(&d, order, 3, &none, &nm, 7, 0, out2, lab);
    CHECK(memcmp(out, out2, sizeof out) == 0, "pad 0, flip 0 differs from no augmentation");
    db_dataset_free(&d);
}

static void test_batch_augment(void) {
    enum { N = 64, C = 2, H = 6, W = 7, PAD = 2 };
    db_dataset d = ds_synthetic(N, C, H, W);
    db_augment aug = {PAD, 1, 0, 0, 0, 0, 0};
    int order[N], lab[N], flips = 0, dys[2 * PAD + 1] = {0};
    static float out[C * N * H * W], again[C * N * H * W], one[C * H * W];
    for (int i = 0; i < N; i++) order[i] = i;
    db_batch_fill(&d, order, N, &aug, NULL, 99, 5, out, lab);
    for (int i = 0; i < N; i++) {
        /* The draw as the header documents it, computed here independently. */
        db_u32x4 r = db_rand4(99, DB_STREAM_AUGMENT, 5, (uint64_t)i);
        int edy = (int)(((uint64_t)r.v[0] * (2 * PAD + 1)) >> 32);
        int edx = (int)(((uint64_t)r.v[1] * (2 * PAD + 1)) >> 32), ef = (int)(r.v[2] >> 31);
        int matches = 0, mdy = -1, mdx = -1, mf = -1;
        for (int dy = 0; dy <= 2 * PAD; dy++)
            for (int dx = 0; dx <= 2 * PAD; dx++)
                for (int f = 0; f < 2; f++) {
                    int eq = 1;
                    for (int c = 0; c < C; c++)
                        for (int y = 0; y < H; y++)
                            for (int x = 0; x < W; x++) {
                                int sy = y + dy - PAD, sx = (f ? W - 1 - x : x) + dx - PAD;
                                int p = sy < 0 || sy >= H || sx < 0 || sx >= W ? 0
                                        : d.images[((i * C + c) * H + sy) * W + sx];
                                float got = out[((c * N + i) * H + y) * W + x];
                                eq &= fabsf(got - p / 255.0f) < 1e-6f;
                            }
                    if (eq) matches++, mdy = dy, mdx = dx, mf = f;
                }
        CHECK(matches == 1, "sample %d is a shifted/flipped copy in %d ways", i, matches);
        CHECK(mdy == edy && mdx == edx && mf == ef, "sample %d: (%d,%d,%d), drawn (%d,%d,%d)",
              i, mdy, mdx, mf, edy, edx, ef);
        flips += mf == 1;
        if (mdy >= 0) dys[mdy]++;
    }
    CHECK(flips > 16 && flips < 48, "%d of %d flipped", flips, N);
    for (int k = 0; k <= 2 * PAD; k++) CHECK(dys[k] > 0, "offset %d never drawn", k);
    /* Deterministic, and independent of the batch a sample sits in. */
    db_batch_fill(&d, order, N, &aug, NULL, 99, 5, again, lab);
    CHECK(memcmp(out, again, sizeof out) == 0, "same (seed, epoch) gave a different batch");
    int s = 17;
    db_batch_fill(&d, &s, 1, &aug, NULL, 99, 5, one, lab);
    int bad = 0;
    for (int c = 0; c < C; c++)
        bad += memcmp(one + c * H * W, out + (c * N + s) * H * W, H * W * sizeof(float)) != 0;
    CHECK(bad == 0 && lab[0] == 7, "sample 17 alone differs from sample 17 in the batch");
    db_batch_fill(&d, order, N, &aug, NULL, 99, 6, again, lab);
    CHECK(memcmp(out, again, sizeof out) != 0, "epochs 5 and 6 drew the same augmentation");
    db_dataset_free(&d);
}

static void test_norm_known(void) {
    db_dataset d = ds_synthetic(1, 2, 2, 2);
    static const uint8_t px[8] = {0, 51, 102, 153, 255, 255, 0, 0};
    memcpy(d.images, px, 8);
    db_norm nm;
    CHECK_OK(db_norm_compute(&d, &nm));
    CHECK_CLOSE(nm.mean[0], 0.3, 1e-6, 0);
    CHECK_CLOSE(nm.std[0], 0.3 * 0.7453559924999299, 1e-6, 0); /* 76.5*sqrt(5)/3 / 255 */
    CHECK_CLOSE(nm.mean[1], 0.5, 1e-6, 0);
    CHECK_CLOSE(nm.std[1], 0.5, 1e-6, 0);
    CHECK(nm.mean[2] == 0.0f && nm.std[2] == 1.0f, "unused channels");
    memset(d.images + 4, 9, 4);
    EXPECT_FAIL(db_norm_compute(&d, &nm), DB_ERR_ARG, "constant");
    d.c = 5;
    EXPECT_FAIL(db_norm_compute(&d, &nm), DB_ERR_ARG, "synthetic");
    db_dataset_free(&d);
}

static void test_fashion_mnist_real(void) {
    const char *dir = "/usr/share/datasets/fashion-mnist";
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "    skip: %s not present\n", dir);
        return;
    }
    static const struct { const char *split; int n; } sp[2] = {{"train", 60000}, {"test", 10000}};
    for (int k = 0; k < 2; k++) {
        db_dataset d;
        CHECK_OK(db_mnist_like_load(dir, sp[k].split, "fashion-mnist", &d));
        CHECK(d.n == sp[k].n && d.c == 1 && d.h == 28 && d.w == 28 && d.num_classes == 10,
              "%s: %d x %d x %d x %d", sp[k].split, d.n, d.c, d.h, d.w);
        int counts[10] = {0}, bad = 0;
        for (int i = 0; i < d.n && d.labels; i++) counts[d.labels[i]]++;
        for (int c = 0; c < 10; c++) bad += counts[c] != sp[k].n / 10;
        CHECK(bad == 0, "%s: %d classes without n/10 labels", sp[k].split, bad);
        db_norm nm;
        if (k == 0 && d.images) { /* the widely quoted Fashion-MNIST statistics */
            CHECK_OK(db_norm_compute(&d, &nm));
            CHECK_CLOSE(nm.mean[0], 0.2860, 2e-4, 0);
            CHECK_CLOSE(nm.std[0], 0.3530, 2e-4, 0);
        }
        db_dataset_free(&d);
    }
}

const db_test db_tests_datasets[] = {
    {"idx_good", test_idx_good},
    {"mnist_like_dir", test_mnist_like_dir},
    {"idx_bad_files", test_idx_bad_files},
    {"idx_bad_headers", test_idx_bad_headers},
    {"epoch_order", test_epoch_order},
    {"batch_plain", test_batch_plain},
    {"batch_augment", test_batch_augment},
    {"norm_known", test_norm_known},
    {"fashion_mnist_real", test_fashion_mnist_real},
    {NULL, NULL},
};
