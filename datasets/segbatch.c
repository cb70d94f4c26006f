#include "datasets/segbatch.h"

#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "datasets/detset.h"
#include "datasets/place.h"
#include "datasets/segset.h"
#include "datasets/voc.h"

int db_seg_placed(const db_dataset *d, const db_augment *aug) {
    return d->seg_files || (d->seg && db_place_jitters(aug));
}

static void place_of(const db_dataset *d, int s, const db_augment *aug, uint64_t seed, uint32_t epoch, db_place *p) {
    const int h = d->hw ? d->hw[2 * s] : d->h, w = d->hw ? d->hw[2 * s + 1] : d->w;
    db_place_of(h, w, d->h, aug, 1, seed, epoch, s, p);
}

static db_status fill_one(void *arg, int i) {
    const db_fill_job *f = arg;
    const db_dataset *d = f->d;
    const int s = f->order[i], S = d->h, C = d->c;
    const size_t plane = (size_t)S * S;
    f->labels[i] = 0;
    db_place p;
    place_of(d, s, f->aug, f->seed, f->epoch, &p);
    float *planes[4];
    for (int c = 0; c < C; c++) {
        planes[c] = f->out + ((size_t)c * f->count + i) * plane;
        const float pad = d->files ? 0.0f : f->bias[c]; /* the mean colour; a canvas's raw 0 */
        for (size_t k = 0; k < plane; k++) planes[c][k] = pad;
    }
    if (d->files) {
        int got_h, got_w;
        DB_TRY(db_place_jpeg(d->files[s], &p, f->scale, f->bias, planes, S, &got_h, &got_w));
        if (got_h != p.h || got_w != p.w)
            return db_fail(DB_ERR_FORMAT, "%s: %dx%d pixels, its label map %s is %dx%d (width x height)", d->files[s],
                           got_w, got_h, d->seg_files[s], p.w, p.h);
        return DB_OK;
    }
    db_crop crop;
    db_place_crop(&p, d->h, d->w, &crop);
    for (int c = 0; c < C; c++) { /* each channel plane of the canvas is a one-channel image */
        db_image view = {d->h, d->w, d->images + ((size_t)s * C + c) * d->h * d->w, 1};
        DB_TRY(db_image_to_planes(&view, &crop, p.vh, p.vw, p.mirror, f->scale + c, f->bias + c, planes + c, S, d->name));
    }
    return DB_OK;
}

db_status db_segset_fill(const db_dataset *d, const int *order, int count, const db_augment *aug, const db_norm *norm,
                         uint64_t seed, uint32_t epoch, float *out, int *labels) {
    if (d->c > 4) return db_fail(DB_ERR_ARG, "%s: %d channels (at most 4)", d->name, d->c);
    db_fill_job f = db_fill_job_of(d, order, count, aug, norm, seed, epoch, out, labels);
    return db_parallel_each(count, fill_one, &f);
}

/* The label map of a set decoded per batch, checked against its image's size and the classes */
static db_status read_labels(const db_dataset *d, int s, uint8_t **px) {
    int h = 0, w = 0;
    DB_TRY(db_label_png_read(d->seg_files[s], px, &h, &w));
    db_status st = DB_OK;
    if (h != d->hw[2 * s] || w != d->hw[2 * s + 1])
        st = db_fail(DB_ERR_FORMAT, "%s: %dx%d, it was %dx%d when the set was listed", d->seg_files[s], w, h,
                     d->hw[2 * s + 1], d->hw[2 * s]);
    for (size_t k = 0; st == DB_OK && k < (size_t)h * w; k++)
        if ((*px)[k] >= d->num_classes && (*px)[k] != DB_SEG_IGNORE)
            st = db_fail(DB_ERR_FORMAT, "%s: pixel (%zu, %zu) is %d: neither a class (0..%d) nor %d (ignored)",
                         d->seg_files[s], k % (size_t)w, k / (size_t)w, (*px)[k], d->num_classes - 1, DB_SEG_IGNORE);
    if (st != DB_OK) { free(*px); *px = NULL; }
    return st;
}

void db_seg_labels_place(const db_dataset *d, int sample, const db_augment *aug, uint64_t seed, uint32_t epoch,
                         const uint8_t *src, uint8_t *out) {
    const int H = d->h, W = d->w;
    if (!db_seg_placed(d, aug)) {
        const int pad = aug && aug->pad > 0 ? aug->pad : 0;
        int dy = 0, dx = 0, mirror = 0;
        if (aug) db_batch_draws(seed, epoch, sample, pad, aug->flip, &dy, &dx, &mirror);
        for (int y = 0; y < H; y++) /* as db_batch_fill: crop first, then mirror the cropped image */
            for (int x = 0; x < W; x++) {
                const int sy = y + dy - pad, sx = (mirror ? W - 1 - x : x) + dx - pad;
                out[(size_t)y * W + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[(size_t)sy * W + sx] : DB_SEG_IGNORE;
            }
        return;
    }
    db_place p;
    place_of(d, sample, aug, seed, epoch, &p);
    memset(out, aug ? 0 : DB_SEG_IGNORE, (size_t)H * W); /* the padding: background in training, as the official code */
    for (int y = 0; y < p.vh; y++)
        for (int x = 0; x < p.vw; x++) {
            int sy, sx;
            db_place_source(&p, y, x, &sy, &sx);
            out[(size_t)y * W + x] = src[(size_t)sy * p.w + sx];
        }
}

db_status db_seg_labels(const db_dataset *d, int sample, const db_augment *aug, uint64_t seed, uint32_t epoch,
                        uint8_t *out) {
    uint8_t *own = NULL;
    if (d->seg_files) DB_TRY(read_labels(d, sample, &own));
    db_seg_labels_place(d, sample, aug, seed, epoch, own ? own : d->seg + (size_t)sample * d->h * d->w, out);
    free(own);
    return DB_OK;
}

db_status db_seg_labels_own(const db_dataset *d, int sample, uint8_t **px, int *h, int *w) {
    if (d->seg_files) {
        *h = d->hw[2 * sample], *w = d->hw[2 * sample + 1];
        return read_labels(d, sample, px);
    }
    const size_t plane = (size_t)d->h * d->w;
    if (!(*px = malloc(plane))) return db_fail(DB_ERR_NOMEM, "out of memory for a label map");
    memcpy(*px, d->seg + plane * (size_t)sample, plane);
    *h = d->h, *w = d->w;
    return DB_OK;
}

const char *db_seg_label_name(const db_dataset *d, int sample) {
    const char *path = d->seg_files ? d->seg_files[sample] : d->det->gt.file_names[sample];
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void db_seg_to_image(const db_dataset *d, int sample, const uint8_t *placed, uint8_t *own, int *ih, int *iw) {
    if (!db_seg_placed(d, NULL)) { /* a set read whole: its entries are its images as they are */
        *ih = d->h, *iw = d->w;
        memcpy(own, placed, (size_t)d->h * d->w);
        return;
    }
    db_place p;
    place_of(d, sample, NULL, 0, 0, &p);
    *ih = p.h, *iw = p.w;
    for (int y = 0; y < p.h; y++)
        for (int x = 0; x < p.w; x++) {
            int py = (int)((y + 0.5) * p.new_h / p.h), px = (int)((x + 0.5) * p.new_w / p.w);
            py = py < p.vh ? py : p.vh - 1, px = px < p.vw ? px : p.vw - 1;
            own[(size_t)y * p.w + x] = placed[(size_t)py * d->w + px];
        }
}
