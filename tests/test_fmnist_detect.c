/* Tests of the Fashion-MNIST detection set builder (datasets/fmnist_detect.h) on small IDX files
 * written here: the same parameters give the same bytes and another seed other ones; the COCO
 * reader takes the annotations; every box lies in its canvas, is tight to pixels that are lit,
 * and counts as the statistics say; an existing set is refused and an interrupted build's
 * leftovers are cleared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "datasets/coco.h"
#include "datasets/detset.h"
#include "datasets/fmnist_detect.h"
#include "datasets/voc.h"
#include "tests/check.h"

static void be32(uint8_t *b, uint32_t v) { b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8), b[3] = (uint8_t)v; }

/* n items of 28x28: item i a lit rectangle (rows 4 .. 23, columns 6 + i % 5 .. 21), label i % 10 */
static void write_idx(const char *dir, const char *prefix, int n) {
    size_t len = 16 + (size_t)n * 784;
    uint8_t *b = calloc(len, 1), lb[8 + 64];
    char path[256];
    if (!b) { CHECK(0, "no memory"); return; }
    be32(b, 0x803), be32(b + 4, (uint32_t)n), be32(b + 8, 28), be32(b + 12, 28);
    for (int i = 0; i < n; i++)
        for (int y = 4; y < 24; y++)
            for (int x = 6 + i % 5; x < 22; x++) b[16 + (size_t)i * 784 + y * 28 + x] = 200;
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b, 1, len, f) == len && fclose(f) == 0, "write %s", path);
    be32(lb, 0x801), be32(lb + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) lb[8 + i] = (uint8_t)(i % 10);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    gzFile g = gzopen(path, "wb");
    CHECK(g && gzwrite(g, lb, (unsigned)(8 + n)) == 8 + n && gzclose(g) == Z_OK, "write %s", path);
    free(b);
}

static char *slurp(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    *n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (*n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)*n + 1)) && fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    if (f) fclose(f);
    return b;
}

static int same_file(const char *a, const char *b) {
    long na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, (size_t)na);
    free(x);
    free(y);
    return same;
}

static void test_fmnist_detect_build(void) {
    char dir[64];
    db_test_mkdtemp(dir, "fmd");
    write_idx(dir, "train", 40);
    write_idx(dir, "t10k", 20);
    db_fmd_cfg c = db_fmd_defaults();
    c.size = 64, c.n_train = 12, c.n_val = 6, c.min_side = 14, c.max_side = 30, c.max_items = 3;
    db_fmd_stats st[2], st2[2];
    const char *a = db_test_path(dir, "a"), *b = db_test_path(dir, "b"), *o = db_test_path(dir, "other");
    CHECK_OK(db_fmd_make(dir, a, &c, st));
    CHECK_OK(db_fmd_make(dir, b, &c, st2));
    static const char *const files[] = {"annotations/instances_train.json", "annotations/instances_val.json",
                                        "train/00000001.png", "train/00000012.png", "val/00000006.png", "make.txt"};
    char pa[512], pb[512];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        CHECK(same_file(pa, pb), "%s differs between two builds with one seed", files[i]);
    }
    /* a set's first canvases do not depend on how many follow (a detection study takes the first
     * 10,000 of the default 30,000): 5 training canvases are the 12's first 5, the val split too */
    c.n_train = 5;
    CHECK_OK(db_fmd_make(dir, db_test_path(dir, "five"), &c, st2));
    static const char *const shared[] = {"train/00000001.png", "train/00000005.png", "segmentation/train/00000005.png",
                                         "annotations/instances_val.json"};
    for (size_t i = 0; i < sizeof shared / sizeof *shared; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, shared[i]);
        snprintf(pb, sizeof pb, "%s/%s", db_test_path(dir, "five"), shared[i]);
        CHECK(same_file(pa, pb), "%s differs between 12 and 5 training canvases", shared[i]);
    }
    c.n_train = 12;
    c.seed = 2;
    CHECK_OK(db_fmd_make(dir, o, &c, st2));
    snprintf(pb, sizeof pb, "%s/annotations/instances_val.json", o);
    snprintf(pa, sizeof pa, "%s/annotations/instances_val.json", a);
    CHECK(!same_file(pa, pb), "seed 2 made seed 1's annotations");
    /* the COCO reader takes the set; boxes in the canvas and tight to lit pixels */
    db_coco g;
    CHECK_OK(db_coco_load_gt(&g, pa));
    CHECK(g.n_images == 6 && g.n_categories == 10 && g.n_gt == st[1].objects, "%d images, %d categories, %d boxes",
          g.n_images, g.n_categories, g.n_gt);
    long per[DB_FMD_MAX_ITEMS + 1] = {0}, bad = 0;
    for (int im = 0; im < g.n_images; im++) {
        char png[512];
        snprintf(png, sizeof png, "%s/val/%08d.png", a, im + 1);
        uint8_t *px = NULL;
        int h = 0, w = 0, count = 0;
        CHECK_OK(db_grey_png_read(png, &px, &h, &w));
        CHECK(h == 64 && w == 64, "%s is %dx%d", png, h, w);
        for (int k = 0; k < g.n_gt && px; k++) {
            const db_coco_box *bx = &g.gt[k];
            if (bx->image != im) continue;
            count++;
            int x0 = (int)bx->x, y0 = (int)bx->y, x1 = x0 + (int)bx->w - 1, y1 = y0 + (int)bx->h - 1;
            if (x0 < 0 || y0 < 0 || x1 >= w || y1 >= h || bx->w < 1 || bx->h < 1) { bad++; continue; }
            int top = 0, bottom = 0, left = 0, right = 0; /* each edge of the box touches a lit pixel */
            for (int x = x0; x <= x1; x++) top |= px[y0 * w + x] > 0, bottom |= px[y1 * w + x] > 0;
            for (int y = y0; y <= y1; y++) left |= px[y * w + x0] > 0, right |= px[y * w + x1] > 0;
            bad += !(top && bottom && left && right);
            bad += !(bx->area > 0 && bx->area <= bx->w * bx->h);
        }
        if (count <= DB_FMD_MAX_ITEMS) per[count]++;
        free(px);
    }
    CHECK(bad == 0, "%ld boxes outside their canvas or not tight", bad);
    for (int k = 0; k <= 3; k++) CHECK(per[k] == st[1].per_image[k], "images with %d objects: %ld, stats %ld", k, per[k], st[1].per_image[k]);
    CHECK(per[0] == 0 && st[0].images == 12 && st[1].images == 6, "empty canvases or wrong counts");
    CHECK(st[1].side_min >= 1 && st[1].side_max <= 30.5 && st[1].small + st[1].medium + st[1].large == st[1].objects,
          "sides %g..%g", st[1].side_min, st[1].side_max);
    db_coco_free(&g);
    /* an existing set is refused; an interrupted build's folder is cleared first */
    c.seed = 1;
    CHECK(db_fmd_make(dir, a, &c, st2) == DB_ERR_ARG, "an existing set overwritten");
    const char *d = db_test_path(dir, "d"), *dpart = db_test_path(dir, "d.part"), *junk = db_test_path(dir, "d.part/junk");
    CHECK(mkdir(dpart, 0777) == 0, "mkdir %s", dpart);
    FILE *f = fopen(junk, "w");
    CHECK(f && fclose(f) == 0, "write %s", junk);
    CHECK_OK(db_fmd_make(dir, d, &c, st2));
    struct stat sb;
    CHECK(stat(dpart, &sb) != 0 && stat(db_test_path(dir, "d/junk"), &sb) != 0, "the leftover survived");
    snprintf(pb, sizeof pb, "%s/annotations/instances_val.json", d);
    CHECK(same_file(pa, pb), "a build after a cleared leftover differs");
    /* bad parameters and sources */
    c.max_items = 0;
    CHECK(db_fmd_make(dir, db_test_path(dir, "e"), &c, st2) == DB_ERR_ARG, "0 items accepted");
    c = db_fmd_defaults();
    c.size = 64, c.max_side = 65;
    CHECK(db_fmd_make(dir, db_test_path(dir, "e"), &c, st2) == DB_ERR_ARG, "a side above the canvas accepted");
    c.max_side = 30;
    CHECK(db_fmd_make("/nonexistent", db_test_path(dir, "e"), &c, st2) == DB_ERR_IO, "a missing source accepted");
    CHECK(stat(db_test_path(dir, "e"), &sb) != 0 && stat(db_test_path(dir, "e.part"), &sb) != 0, "a failed build left files");
    db_test_rmtree(dir);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "write %s", path);
}

/* The training reader on a hand-made split: boxes per image in sorted image-id order, corners
 * from [x, y, w, h], categories by sorted id, crowd and empty boxes left out and counted; and
 * the images it refuses */
static void test_detset_load(void) {
    char dir[64];
    db_test_mkdtemp(dir, "detset");
    uint8_t px[64];
    for (int i = 0; i < 64; i++) px[i] = (uint8_t)(3 * i);
    CHECK(mkdir(db_test_path(dir, "annotations"), 0777) == 0, "mkdir");
    CHECK_OK(db_grey_png_write(db_test_path(dir, "a.png"), px, 8, 8));
    CHECK_OK(db_grey_png_write(db_test_path(dir, "b.png"), px + 1, 7, 9)); /* 9 wide, 7 high: refused below */
    write_text(db_test_path(dir, "annotations/instances_s.json"),
               "{\"images\":[{\"id\":20,\"file_name\":\"b.png\"},{\"id\":10,\"file_name\":\"a.png\"}],"
               "\"categories\":[{\"id\":7},{\"id\":3}],\"annotations\":["
               "{\"id\":1,\"image_id\":10,\"category_id\":7,\"bbox\":[1,2,3,4],\"area\":12},"
               "{\"id\":2,\"image_id\":10,\"category_id\":3,\"bbox\":[0,0,5,5],\"area\":25,\"iscrowd\":1},"
               "{\"id\":3,\"image_id\":20,\"category_id\":3,\"bbox\":[2,2,0,4],\"area\":0},"
               "{\"id\":4,\"image_id\":20,\"category_id\":3,\"bbox\":[0,0,8,8],\"area\":64},"
               "{\"id\":5,\"image_id\":20,\"category_id\":7,\"bbox\":[6,-2,5,4],\"area\":20},"
               "{\"id\":6,\"image_id\":20,\"category_id\":7,\"bbox\":[10,1,2,2],\"area\":4}]}");
    db_dataset im;
    CHECK(db_detset_load(dir, "s", 0, &im) == DB_ERR_FORMAT && strstr(db_last_error(), "b.png"),
          "an image of another size accepted: %s", db_last_error());
    CHECK(im.images == NULL && im.det == NULL, "a failed load left buffers");
    CHECK_OK(db_grey_png_write(db_test_path(dir, "b.png"), px + 1, 8, 8));
    CHECK_OK(db_detset_load(dir, "s", 0, &im));
    db_detset d0 = {0}, *dp = im.det ? im.det : &d0, d = *dp;
    CHECK(im.n == 2 && im.c == 1 && im.h == 8 && im.w == 8 && im.num_classes == 2, "%d images %dx%dx%d, %d classes", im.n,
          im.c, im.h, im.w, im.num_classes);
    CHECK(im.images && im.images[0] == 0 && im.images[64] == 3, "pixels in sorted id order (a.png, id 10, first)");
    CHECK(d.n_boxes == 3 && d.skipped_crowd == 1 && d.skipped_empty == 1 && d.clipped == 1 && d.skipped_outside == 1,
          "%d boxes, %d crowd, %d empty, %d clipped, %d outside", d.n_boxes, d.skipped_crowd, d.skipped_empty, d.clipped,
          d.skipped_outside);
    if (d.n_boxes == 3) {
        const float *b0 = d.boxes + 4 * d.first[0], *b1 = d.boxes + 4 * d.first[1];
        CHECK(d.count[0] == 1 && b0[0] == 2 && b0[1] == 1 && b0[2] == 6 && b0[3] == 4 && d.cls[d.first[0]] == 1,
              "image 10's box (%g, %g, %g, %g) class %d", b0[0], b0[1], b0[2], b0[3], d.cls[d.first[0]]);
        const float *b2 = b1 + 4;
        CHECK(d.count[1] == 2 && b1[2] == 8 && b1[3] == 8 && d.cls[d.first[1]] == 0, "image 20's first box");
        CHECK(b2[0] == 0 && b2[1] == 6 && b2[2] == 2 && b2[3] == 8 && d.cls[d.first[1] + 1] == 1,
              "the clipped box (%g, %g, %g, %g)", b2[0], b2[1], b2[2], b2[3]);
    }
    db_dataset_free(&im);
    /* a palette image and a missing one are refused, naming the file */
    CHECK_OK(db_label_png_write(db_test_path(dir, "b.png"), px, 8, 8));
    CHECK(db_detset_load(dir, "s", 0, &im) == DB_ERR_FORMAT && strstr(db_last_error(), "b.png") &&
              strstr(db_last_error(), "grey"), "a palette image accepted: %s", db_last_error());
    remove(db_test_path(dir, "b.png"));
    CHECK(db_detset_load(dir, "s", 0, &im) == DB_ERR_IO && strstr(db_last_error(), "b.png"), "a missing image: %s",
          db_last_error());
    CHECK(db_detset_load(dir, "nosuch", 0, &im) != DB_OK && strstr(db_last_error(), "instances_nosuch.json"),
          "a missing split: %s", db_last_error());
    db_test_rmtree(dir);
}

const db_test db_tests_fmnist_detect[] = {
    {"detset_load", test_detset_load},
    {"fmnist_detect_build", test_fmnist_detect_build},
    {NULL, NULL},
};
