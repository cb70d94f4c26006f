#include "datasets/fmnist_detect.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/philox.h"
#include "datasets/dataset.h"
#include "core/dirs.h"
#include "datasets/fetch.h"
#include "datasets/hash.h"
#include "datasets/image.h"
#include "datasets/voc.h"

static const char *const class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

db_fmd_cfg db_fmd_defaults(void) {
    db_fmd_cfg c = {128, 30000, 2000, 1, 4, 16.0f, 64.0f, 0.3f, 1};
    return c;
}

db_status db_fmd_check(const db_fmd_cfg *c) {
    if (c->size < 32 || c->size > 4096) return db_fail(DB_ERR_ARG, "canvas size %d: 32 to 4096 pixels", c->size);
    if (c->n_train < 1 || c->n_val < 1 || c->n_train > 10000000 || c->n_val > 10000000)
        return db_fail(DB_ERR_ARG, "%d training and %d validation canvases: 1 to 10,000,000 each", c->n_train, c->n_val);
    if (c->min_items < 1 || c->max_items < c->min_items || c->max_items > DB_FMD_MAX_ITEMS)
        return db_fail(DB_ERR_ARG, "items per canvas %d to %d: at least 1, at most %d", c->min_items, c->max_items,
                       DB_FMD_MAX_ITEMS);
    if (!(c->min_side >= 4.0f) || !(c->max_side >= c->min_side) || c->max_side > (float)c->size)
        return db_fail(DB_ERR_ARG, "item sides %g to %g pixels: at least 4, at most the canvas (%d)", c->min_side,
                       c->max_side, c->size);
    if (!(c->max_iou >= 0.0f && c->max_iou <= 1.0f)) return db_fail(DB_ERR_ARG, "max IoU %g: 0 to 1", c->max_iou);
    return DB_OK;
}

/* Draw d of canvas i of a split: a uniform in [0, 1) */
static double draw(const db_fmd_cfg *c, int split, long canvas, int *d) {
    db_u32x4 r = db_rand4(c->seed, DB_STREAM_DETECT_SET, (uint32_t)split, (uint64_t)canvas * 1024 + (uint64_t)(*d)++);
    return db_u01d(r.v[0], r.v[1]);
}

typedef struct { int x0, y0, x1, y1; } pixbox; /* inclusive pixel bounds */

static double pix_iou(pixbox a, pixbox b) {
    int w = (a.x1 < b.x1 ? a.x1 : b.x1) - (a.x0 > b.x0 ? a.x0 : b.x0) + 1;
    int h = (a.y1 < b.y1 ? a.y1 : b.y1) - (a.y0 > b.y0 ? a.y0 : b.y0) + 1;
    if (w <= 0 || h <= 0) return 0.0;
    double i = (double)w * h, aa = (double)(a.x1 - a.x0 + 1) * (a.y1 - a.y0 + 1),
           ab = (double)(b.x1 - b.x0 + 1) * (b.y1 - b.y0 + 1);
    return i / (aa + ab - i);
}

/* Buffers for scaling one 28x28 item to at most max_side pixels */
typedef struct {
    uint8_t *out;
    float *planes, *scratch;
} scaler;

/* item (28x28) scaled to s x s into sc->out; its non-zero pixels' tight box and count */
static db_status scale_item(scaler *sc, const uint8_t *item, int s, pixbox *tight, long *area) {
    db_image img = {28, 28, (uint8_t *)item, 1};
    db_crop crop = {0, 0, 28, 28};
    DB_TRY(db_image_resample(&img, &crop, s, s, 0, sc->planes, sc->scratch));
    *tight = (pixbox){s, s, -1, -1};
    *area = 0;
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            float v = sc->planes[y * s + x] + 0.5f;
            uint8_t b = (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
            sc->out[y * s + x] = b;
            if (!b) continue;
            (*area)++;
            if (x < tight->x0) tight->x0 = x;
            if (y < tight->y0) tight->y0 = y;
            if (x > tight->x1) tight->x1 = x;
            if (y > tight->y1) tight->y1 = y;
        }
    return DB_OK;
}

static json_t *categories(void) {
    json_t *a = json_array();
    for (int k = 0; k < 10; k++)
        json_array_append_new(a, json_pack("{s:i, s:s, s:s}", "id", k + 1, "name", class_names[k], "supercategory",
                                           "fashion"));
    return a;
}

/* The label map's border: background pixels next to (8-neighbourhood) an item's pixels become
 * ignored, as VOC's outlines */
static void outline(uint8_t *lab, int S) {
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            if (lab[(size_t)y * S + x]) continue;
            int near = 0;
            for (int dy = -1; dy <= 1 && !near; dy++)
                for (int dx = -1; dx <= 1 && !near; dx++) {
                    const int yy = y + dy, xx = x + dx;
                    const uint8_t v = yy >= 0 && yy < S && xx >= 0 && xx < S ? lab[(size_t)yy * S + xx] : 0;
                    near = v >= 1 && v <= 10;
                }
            if (near) lab[(size_t)y * S + x] = DB_FMD_IGNORE;
        }
}

/* One split: its canvases as PNGs under dir/NAME/, their label maps under
 * dir/segmentation/NAME/, its annotations into images and anns */
static db_status make_split(const char *dir, const char *name, int split, int n, const db_dataset *items,
                            const db_fmd_cfg *c, json_t *images, json_t *anns, db_fmd_stats *st) {
    const int S = c->size, maxs = (int)ceilf(c->max_side);
    uint8_t *canvas = malloc((size_t)S * S), *lab = malloc((size_t)S * S);
    scaler sc = {malloc((size_t)maxs * maxs), malloc(sizeof(float) * (size_t)maxs * maxs),
                 malloc(sizeof(float) * 28 * (size_t)maxs)};
    db_status s = DB_OK;
    char path[4200];
    memset(st, 0, sizeof *st);
    st->side_min = INFINITY;
    if (!canvas || !lab || !sc.out || !sc.planes || !sc.scratch) s = db_fail(DB_ERR_NOMEM, "no memory for the canvases");
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) s = db_fail(DB_ERR_ARG, "%s: too long", dir);
    if (s == DB_OK && mkdir(path, 0777) != 0) s = db_fail(DB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    if (s == DB_OK && snprintf(path, sizeof path, "%s/segmentation/%s/x", dir, name) < (int)sizeof path)
        s = db_make_dirs_for(path);
    double side_sum = 0.0;
    for (long i = 0; i < n && s == DB_OK; i++) {
        int d = 0, placed = 0;
        pixbox boxes[DB_FMD_MAX_ITEMS];
        memset(canvas, 0, (size_t)S * S);
        memset(lab, 0, (size_t)S * S);
        int want = c->min_items + (int)(draw(c, split, i, &d) * (c->max_items - c->min_items + 1));
        for (int k = 0; k < want && s == DB_OK; k++) {
            int which = (int)(draw(c, split, i, &d) * items->n);
            double lo = log(c->min_side), hi = log(c->max_side);
            int side = (int)lround(exp(lo + draw(c, split, i, &d) * (hi - lo)));
            pixbox t;
            long area;
            if ((s = scale_item(&sc, items->images + (size_t)which * 28 * 28, side, &t, &area)) != DB_OK) break;
            int ok = 0, x = 0, y = 0;
            for (int tr = 0; tr < 20 && !ok && area > 0; tr++) {
                x = (int)(draw(c, split, i, &d) * (S - side + 1));
                y = (int)(draw(c, split, i, &d) * (S - side + 1));
                pixbox b = {x + t.x0, y + t.y0, x + t.x1, y + t.y1};
                ok = 1;
                for (int p = 0; p < placed && ok; p++) ok = pix_iou(b, boxes[p]) <= c->max_iou;
            }
            if (!ok) { st->unplaced++; continue; }
            for (int yy = 0; yy < side; yy++) /* pasted over what is there: the brighter pixel stays, and */
                for (int xx = 0; xx < side; xx++) { /* its label where it is bright, faint edges ignored */
                    const size_t at = (size_t)(y + yy) * S + x + xx;
                    const uint8_t v = sc.out[yy * side + xx];
                    if (v > canvas[at] && v >= DB_FMD_LABEL_MIN) lab[at] = (uint8_t)(items->labels[which] + 1);
                    else if (v > 0 && !lab[at]) lab[at] = DB_FMD_IGNORE;
                    if (v > canvas[at]) canvas[at] = v;
                }
            pixbox b = {x + t.x0, y + t.y0, x + t.x1, y + t.y1};
            boxes[placed++] = b;
            int bw = b.x1 - b.x0 + 1, bh = b.y1 - b.y0 + 1;
            json_array_append_new(anns, json_pack("{s:I, s:I, s:i, s:[i, i, i, i], s:I, s:i}", "id",
                                                  (json_int_t)json_array_size(anns) + 1, "image_id",
                                                  (json_int_t)json_array_size(images) + 1, "category_id",
                                                  items->labels[which] + 1, "bbox", b.x0, b.y0, bw, bh, "area",
                                                  (json_int_t)area, "iscrowd", 0));
            double sd = sqrt((double)bw * bh);
            side_sum += sd;
            if (sd < st->side_min) st->side_min = sd;
            if (sd > st->side_max) st->side_max = sd;
            st->objects++;
            if (area < 32 * 32) st->small++;
            else if (area < 96 * 96) st->medium++;
            else st->large++;
        }
        if (s != DB_OK) break;
        st->per_image[placed]++;
        st->images++;
        char file[64];
        if (snprintf(file, sizeof file, "%s/%08ld.png", name, i + 1) >= (int)sizeof file ||
            snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) {
            s = db_fail(DB_ERR_ARG, "%s: too long", dir);
            break;
        }
        if ((s = db_grey_png_write(path, canvas, S, S)) != DB_OK) break;
        outline(lab, S);
        if (snprintf(path, sizeof path, "%s/segmentation/%s", dir, file) >= (int)sizeof path) {
            s = db_fail(DB_ERR_ARG, "%s: too long", dir);
            break;
        }
        if ((s = db_grey_png_write(path, lab, S, S)) != DB_OK) break;
        json_array_append_new(images, json_pack("{s:I, s:s, s:i, s:i}", "id", (json_int_t)json_array_size(images) + 1,
                                                "file_name", file, "height", S, "width", S));
    }
    st->side_mean = st->objects ? side_sum / (double)st->objects : 0.0;
    if (!st->objects) st->side_min = 0.0;
    free(canvas); free(lab); free(sc.out); free(sc.planes); free(sc.scratch);
    return s;
}

static db_status write_json(json_t *root, const char *path) {
    if (json_dump_file(root, path, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0)
        return db_fail(DB_ERR_IO, "%s: cannot write the annotations", path);
    return DB_OK;
}

db_status db_fmd_make(const char *src_dir, const char *out_given, const db_fmd_cfg *c, db_fmd_stats st[2]) {
    DB_TRY(db_fmd_check(c));
    char out_dir[4100], part[4200], path[4300];
    if (strlen(out_given) > 4000) return db_fail(DB_ERR_ARG, "%.60s...: the folder's name is too long", out_given);
    size_t len = strlen(out_given);
    while (len > 1 && out_given[len - 1] == '/') len--; /* DIR/ is DIR: its .part beside it, not inside */
    snprintf(out_dir, sizeof out_dir, "%.*s", (int)len, out_given);
    struct stat sb;
    if (stat(out_dir, &sb) == 0)
        return db_fail(DB_ERR_ARG, "%s already exists: remove it, or build into another folder", out_dir);
    snprintf(part, sizeof part, "%s.part", out_dir);
    DB_TRY(db_remove_tree(part)); /* what an interrupted build left */
    snprintf(path, sizeof path, "%s/annotations/x", part);
    DB_TRY(db_make_dirs_for(path));
    db_dataset split[2];
    memset(split, 0, sizeof split);
    db_status s = db_mnist_like_load(src_dir, "train", "fashion-mnist", &split[0]);
    if (s == DB_OK) s = db_mnist_like_load(src_dir, "test", "fashion-mnist", &split[1]);
    if (s == DB_OK && (split[0].h != 28 || split[0].w != 28 || split[1].h != 28 || split[1].w != 28))
        s = db_fail(DB_ERR_FORMAT, "%s: the images are not 28x28", src_dir);
    static const char *const names[2] = {"train", "val"};
    const int counts[2] = {c->n_train, c->n_val};
    for (int k = 0; k < 2 && s == DB_OK; k++) {
        json_t *root = json_object(), *images = json_array(), *anns = json_array();
        s = make_split(part, names[k], k, counts[k], &split[k], c, images, anns, &st[k]);
        json_object_set_new(root, "info", json_pack("{s:s, s:I}", "description",
                                                    "dropbench's Fashion-MNIST detection set (see make.txt)", "seed",
                                                    (json_int_t)c->seed));
        json_object_set_new(root, "images", images);
        json_object_set_new(root, "annotations", anns);
        json_object_set_new(root, "categories", categories());
        snprintf(path, sizeof path, "%s/annotations/instances_%s.json", part, names[k]);
        if (s == DB_OK) s = write_json(root, path);
        json_decref(root);
    }
    db_dataset_free(&split[0]);
    db_dataset_free(&split[1]);
    /* make.txt: the parameters and the source files, for provenance */
    FILE *f = NULL;
    if (s == DB_OK) {
        snprintf(path, sizeof path, "%s/make.txt", part);
        if (!(f = fopen(path, "w"))) s = db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    if (f) {
        fprintf(f, "format=2\nsize=%d\ntrain=%d\nval=%d\nitems=%d,%d\nsides=%g,%g\nmax_iou=%g\nseed=%llu\n", c->size,
                c->n_train, c->n_val, c->min_items, c->max_items, c->min_side, c->max_side, c->max_iou,
                (unsigned long long)c->seed);
        static const char *const files[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
        for (int i = 0; i < 4 && s == DB_OK; i++) {
            db_digest d;
            snprintf(path, sizeof path, "%s/%s.gz", src_dir, files[i]);
            if (stat(path, &sb) != 0) snprintf(path, sizeof path, "%s/%s", src_dir, files[i]);
            if ((s = db_file_digest(path, &d)) == DB_OK) fprintf(f, "source.%s=%s\n", files[i], d.sha256);
        }
        for (int k = 0; k < 2; k++)
            fprintf(f, "%s.images=%ld\n%s.objects=%ld\n%s.unplaced=%ld\n", names[k], st[k].images, names[k],
                    st[k].objects, names[k], st[k].unplaced);
        if (fclose(f) != 0 && s == DB_OK) s = db_fail(DB_ERR_IO, "%s/make.txt: cannot write: %s", part, strerror(errno));
    }
    if (s == DB_OK && rename(part, out_dir) != 0)
        s = db_fail(DB_ERR_IO, "%s: cannot rename into place: %s", out_dir, strerror(errno));
    if (s != DB_OK) db_remove_tree(part);
    return s;
}
