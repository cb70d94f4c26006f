#include "datasets/detbatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "datasets/detset.h"
#include "datasets/image.h"
#include "datasets/place.h"

static void place_of(const db_dataset *d, int sample, const db_augment *aug, uint64_t seed, uint32_t epoch, db_place *p) {
    db_place_of(d->det->gt.heights[sample], d->det->gt.widths[sample], d->h, aug, 0, seed, epoch, sample, p);
}

/* b (ymin, xmin, ymax, xmax) moved as the pixels; 0 when less than a pixel of it is left */
static int move_placed(const db_place *p, float b[4]) {
    double y0 = b[0] * p->sy - p->oy, y1 = b[2] * p->sy - p->oy;
    double x0 = b[1] * p->sx, x1 = b[3] * p->sx;
    if (p->mirror) {
        const double t = p->new_w - x1;
        x1 = p->new_w - x0, x0 = t;
    }
    x0 -= p->ox, x1 -= p->ox;
    b[0] = (float)fmax(y0, 0.0), b[1] = (float)fmax(x0, 0.0);
    b[2] = (float)fmin(y1, (double)p->vh), b[3] = (float)fmin(x1, (double)p->vw);
    return b[2] - b[0] >= 1.0f && b[3] - b[1] >= 1.0f;
}

/* The padded random crop then mirror of db_batch_fill, on a box of an h x w image */
static int move_cropped(float b[4], int dy, int dx, int pad, int mirror, float h, float w) {
    const float sy = (float)(pad - dy), sx = (float)(pad - dx);
    float o[4] = {fmaxf(b[0] + sy, 0.0f), fmaxf(b[1] + sx, 0.0f), fminf(b[2] + sy, h), fminf(b[3] + sx, w)};
    if (mirror) {
        const float x0 = w - o[3];
        o[3] = w - o[1];
        o[1] = x0;
    }
    memcpy(b, o, sizeof o);
    return o[2] - o[0] >= 1.0f && o[3] - o[1] >= 1.0f;
}

void db_det_boxes(const db_dataset *d, int sample, const db_augment *aug, uint64_t seed, uint32_t epoch, float *boxes,
                  int *cls, int *n) {
    const db_detset *det = d->det;
    db_place p;
    int dy = 0, dx = 0, mirror = 0, pad = aug && aug->pad > 0 ? aug->pad : 0;
    if (d->files) place_of(d, sample, aug, seed, epoch, &p);
    else if (aug) db_batch_draws(seed, epoch, sample, pad, aug->flip, &dy, &dx, &mirror);
    *n = 0;
    for (int k = 0; k < det->count[sample]; k++) {
        const int at = det->first[sample] + k;
        float *b = boxes + 4 * (size_t)*n;
        memcpy(b, det->boxes + 4 * (size_t)at, 4 * sizeof *b);
        if (d->files ? !move_placed(&p, b) : aug && !move_cropped(b, dy, dx, pad, mirror, (float)d->h, (float)d->w))
            continue;
        cls[(*n)++] = det->cls[at];
    }
}

void db_det_to_image(const db_dataset *d, int sample, float box[4]) {
    if (!d->files) return;
    db_place p;
    place_of(d, sample, NULL, 0, 0, &p);
    box[0] = (float)(box[0] / p.sy), box[2] = (float)(box[2] / p.sy);
    box[1] = (float)(box[1] / p.sx), box[3] = (float)(box[3] / p.sx);
}

static db_status fill_one(void *arg, int i) {
    const db_fill_job *f = arg;
    const db_dataset *d = f->d;
    const int s = f->order[i], S = d->h;
    const size_t plane = (size_t)S * S;
    f->labels[i] = 0;
    db_place p;
    place_of(d, s, f->aug, f->seed, f->epoch, &p);
    float *planes[3];
    for (int c = 0; c < 3; c++) {
        planes[c] = f->out + ((size_t)c * f->count + i) * plane;
        memset(planes[c], 0, sizeof(float) * plane); /* the padding: zero after normalisation */
    }
    int got_h, got_w;
    DB_TRY(db_place_jpeg(d->files[s], &p, f->scale, f->bias, planes, S, &got_h, &got_w));
    if (got_h != p.h || got_w != p.w)
        return db_fail(DB_ERR_FORMAT, "%s: %dx%d pixels, its annotations say %dx%d (width x height)", d->files[s], got_w,
                       got_h, p.w, p.h);
    return DB_OK;
}

db_status db_detset_fill(const db_dataset *d, const int *order, int count, const db_augment *aug, const db_norm *norm,
                         uint64_t seed, uint32_t epoch, float *out, int *labels) {
    db_fill_job f = db_fill_job_of(d, order, count, aug, norm, seed, epoch, out, labels);
    return db_parallel_each(count, fill_one, &f);
}
