#include "datasets/detset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/log.h"
#include "datasets/voc.h"

/* box b of an h x w image as corners, clipped to the image; 0 when less than a pixel is left */
static int clipped(const db_coco_box *b, int h, int w, float o[4]) {
    o[0] = (float)fmax(b->y, 0.0), o[1] = (float)fmax(b->x, 0.0);
    o[2] = (float)fmin(b->y + b->h, (double)h), o[3] = (float)fmin(b->x + b->w, (double)w);
    return o[2] - o[0] >= 1.0f && o[3] - o[1] >= 1.0f;
}

/* The training boxes, clipped to their image (h x w, or each image's own size when h is 0) */
static db_status boxes_of(db_detset *d, int h0, int w0) {
    const db_coco *g = &d->gt;
    d->first = calloc((size_t)g->n_images + 1, sizeof *d->first);
    d->count = calloc((size_t)g->n_images + 1, sizeof *d->count);
    d->boxes = malloc(sizeof(float) * 4 * (size_t)(g->n_gt + 1));
    d->cls = malloc(sizeof(uint16_t) * (size_t)(g->n_gt + 1));
    if (!d->first || !d->count || !d->boxes || !d->cls) return db_fail(DB_ERR_NOMEM, "out of memory for the boxes");
    if (g->n_categories > 65535) return db_fail(DB_ERR_FORMAT, "%d categories: at most 65,535", g->n_categories);
    float o[4];
    for (int i = 0; i < g->n_gt; i++) { /* count, then place, in file order within each image */
        const db_coco_box *b = &g->gt[i];
        const int h = h0 ? h0 : g->heights[b->image], w = h0 ? w0 : g->widths[b->image];
        if (b->iscrowd) d->skipped_crowd++;
        else if (!(b->w > 0 && b->h > 0)) d->skipped_empty++;
        else if (!clipped(b, h, w, o)) d->skipped_outside++;
        else {
            d->count[b->image]++;
            d->clipped += b->x < 0 || b->y < 0 || b->x + b->w > w || b->y + b->h > h;
        }
    }
    for (int im = 1; im < g->n_images; im++) d->first[im] = d->first[im - 1] + d->count[im - 1];
    int *at = calloc((size_t)g->n_images + 1, sizeof *at);
    if (!at) return db_fail(DB_ERR_NOMEM, "out of memory for the boxes");
    for (int i = 0; i < g->n_gt; i++) {
        const db_coco_box *b = &g->gt[i];
        const int h = h0 ? h0 : g->heights[b->image], w = h0 ? w0 : g->widths[b->image];
        if (b->iscrowd || !(b->w > 0 && b->h > 0) || !clipped(b, h, w, o)) continue;
        int k = d->first[b->image] + at[b->image]++;
        memcpy(d->boxes + 4 * (size_t)k, o, sizeof o);
        d->cls[k] = (uint16_t)b->category;
        d->n_boxes++;
    }
    free(at);
    return DB_OK;
}

static int is_jpeg(const char *f) {
    const char *dot = strrchr(f, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* Where image im is: dir/FILE_NAME, or COCO's own layout dir/SPLIT/FILE_NAME (`sub`) */
static db_status path_of(char *path, size_t n, const char *dir, const char *sub, const db_coco *g, int im,
                         const char *source) {
    if (!g->file_names[im])
        return db_fail(DB_ERR_FORMAT, "%s: image id %lld has no file_name", source, (long long)g->image_ids[im]);
    if (snprintf(path, n, "%s/%s%s%s", dir, sub, *sub ? "/" : "", g->file_names[im]) >= (int)n)
        return db_fail(DB_ERR_ARG, "%s/%s: the path is too long", dir, g->file_names[im]);
    return DB_OK;
}

/* "" when the first image is at dir/FILE_NAME, split when it is at dir/SPLIT/FILE_NAME; neither: an
 * error naming both places */
static db_status layout_of(const char *dir, const char *split, const db_coco *g, const char *source, const char **sub) {
    char path[4400], other[4400];
    struct stat st;
    *sub = "";
    DB_TRY(path_of(path, sizeof path, dir, "", g, 0, source));
    if (stat(path, &st) == 0) return DB_OK;
    DB_TRY(path_of(other, sizeof other, dir, split, g, 0, source));
    if (stat(other, &st) == 0) { *sub = split; return DB_OK; }
    return db_fail(DB_ERR_IO, "%s: the split's first image is neither %s nor %s (are its images unpacked?)", source, path,
                   other);
}

/* Grey PNGs of one size, read whole */
static db_status pixels_of(db_dataset *out, const db_detset *d, const char *dir, const char *sub) {
    const db_coco *g = &d->gt;
    char path[4400];
    out->c = 1;
    for (int im = 0; im < g->n_images; im++) {
        DB_TRY(path_of(path, sizeof path, dir, sub, g, im, out->source));
        uint8_t *px = NULL;
        int h = 0, w = 0;
        DB_TRY(db_grey_png_read(path, &px, &h, &w));
        if (im == 0) {
            out->h = h, out->w = w;
            out->images = malloc((size_t)g->n_images * h * w);
            if (!out->images) { free(px); return db_fail(DB_ERR_NOMEM, "out of memory for %d images", g->n_images); }
        } else if (h != out->h || w != out->w) {
            free(px);
            return db_fail(DB_ERR_FORMAT, "%s: %dx%d, the split's first image is %dx%d (one size for all)", path, w, h,
                           out->w, out->h);
        }
        memcpy(out->images + (size_t)im * h * w, px, (size_t)h * w);
        free(px);
    }
    return DB_OK;
}

/* JPEGs of any size, their paths kept for db_detset_fill; the annotations give each size */
static db_status files_of(db_dataset *out, const db_detset *d, const char *dir, const char *sub, int size) {
    const db_coco *g = &d->gt;
    char path[4400];
    if (size < 8) return db_fail(DB_ERR_ARG, "%s: JPEG images need the network's input side (image_size)", out->source);
    out->c = 3, out->h = out->w = size;
    out->files = calloc((size_t)g->n_images + 1, sizeof *out->files);
    if (!out->files) return db_fail(DB_ERR_NOMEM, "out of memory");
    for (int im = 0; im < g->n_images; im++) {
        DB_TRY(path_of(path, sizeof path, dir, sub, g, im, out->source));
        if (!g->heights[im] || !g->widths[im])
            return db_fail(DB_ERR_FORMAT, "%s: image id %lld (%s) gives no height and width", out->source,
                           (long long)g->image_ids[im], g->file_names[im]);
        struct stat st; /* a missing image found now, not when a batch first needs it */
        if (stat(path, &st) != 0) return db_fail(DB_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        if (!(out->files[im] = strdup(path))) return db_fail(DB_ERR_NOMEM, "out of memory");
    }
    return DB_OK;
}

static db_status images_of(db_dataset *out, const db_detset *d, const char *dir, const char *split, int size) {
    const db_coco *g = &d->gt;
    snprintf(out->name, sizeof out->name, "%s", split);
    snprintf(out->source, sizeof out->source, "%s/annotations/instances_%s.json", dir, split);
    out->n = g->n_images, out->num_classes = g->n_categories;
    out->labels = calloc((size_t)g->n_images + 1, sizeof *out->labels);
    if (!out->labels) return db_fail(DB_ERR_NOMEM, "out of memory");
    const char *sub;
    DB_TRY(layout_of(dir, split, g, out->source, &sub));
    const int jpeg = g->file_names[0] && is_jpeg(g->file_names[0]);
    return jpeg ? files_of(out, d, dir, sub, size) : pixels_of(out, d, dir, sub);
}

db_status db_detset_load(const char *dir, const char *split, int size, db_dataset *images) {
    memset(images, 0, sizeof *images);
    db_detset *det = images->det = calloc(1, sizeof *det);
    if (!det) return db_fail(DB_ERR_NOMEM, "out of memory");
    char path[4200];
    db_status s = DB_OK;
    if (snprintf(path, sizeof path, "%s/annotations/instances_%s.json", dir, split) >= (int)sizeof path)
        s = db_fail(DB_ERR_ARG, "%s: the path is too long", dir);
    if (s == DB_OK) s = db_coco_load_gt(&det->gt, path);
    if (s == DB_OK && det->gt.n_images == 0) s = db_fail(DB_ERR_FORMAT, "%s: no images", path);
    if (s == DB_OK) s = images_of(images, det, dir, split, size);
    if (s == DB_OK) s = images->files ? boxes_of(det, 0, 0) : boxes_of(det, images->h, images->w);
    if (s == DB_OK && (det->clipped || det->skipped_outside))
        db_log(DB_LOG_NOTE, "%s: %d boxes reach past their image and were clipped to it, %d lie outside it and are left "
               "out of training", path, det->clipped, det->skipped_outside);
    if (s != DB_OK) { /* nothing half-read stays: the pixels or the paths, the labels, the boxes */
        db_detset_free(det);
        free(det);
        for (int i = 0; images->files && i < images->n; i++) free(images->files[i]);
        free(images->files);
        free(images->images);
        free(images->labels);
        memset(images, 0, sizeof *images);
    }
    return s;
}

void db_detset_free(db_detset *det) {
    if (!det) return;
    db_coco_free(&det->gt);
    free(det->first); free(det->count); free(det->boxes); free(det->cls);
    memset(det, 0, sizeof *det);
}
