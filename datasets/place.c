#include "datasets/place.h"

#include <math.h>

#include "core/philox.h"

static double u01(uint32_t x) { return (x >> 8) * (1.0 / 16777216.0); }

int db_place_jitters(const db_augment *aug) {
    return aug && aug->scale_max > 0.0f && (aug->scale_min != 1.0f || aug->scale_max != 1.0f);
}

void db_place_of(int h, int w, int S, const db_augment *aug, int keep_scale, uint64_t seed, uint32_t epoch, int sample,
                 db_place *p) {
    db_u32x4 r = db_rand4(seed, DB_STREAM_AUGMENT, epoch, (uint64_t)sample);
    const int jitter = db_place_jitters(aug), longest = h > w ? h : w;
    double side = S;
    if (jitter) side = floor(S * (aug->scale_min + (aug->scale_max - aug->scale_min) * u01(r.v[0])));
    else if (keep_scale && !aug && longest <= S) side = longest;
    if (side < 1.0) side = 1.0;
    const double scale = side / longest;
    p->h = h, p->w = w;
    p->new_h = (int)lround(h * scale), p->new_w = (int)lround(w * scale);
    if (p->new_h < 1) p->new_h = 1;
    if (p->new_w < 1) p->new_w = 1;
    p->sy = (double)p->new_h / h, p->sx = (double)p->new_w / w;
    p->oy = jitter && p->new_h > S ? (int)floor((p->new_h - S) * u01(r.v[1])) : 0;
    p->ox = jitter && p->new_w > S ? (int)floor((p->new_w - S) * u01(r.v[2])) : 0;
    p->vh = p->new_h - p->oy < S ? p->new_h - p->oy : S;
    p->vw = p->new_w - p->ox < S ? p->new_w - p->ox : S;
    p->mirror = aug && aug->flip && (r.v[3] >> 31);
}

void db_place_crop(const db_place *p, int H, int W, db_crop *c) {
    const double sy = (double)p->new_h / H, sx = (double)p->new_w / W; /* p's own when the sizes agree */
    const int x_scaled = p->mirror ? p->new_w - p->ox - p->vw : p->ox;
    c->y0 = p->oy / sy, c->h = p->vh / sy;
    c->x0 = x_scaled / sx, c->w = p->vw / sx;
}

typedef struct {
    const db_place *p;
    int got_h, got_w;
} pick_ctx;

static void pick(int H, int W, void *arg, db_crop *c) {
    pick_ctx *k = arg;
    k->got_h = H, k->got_w = W;
    db_place_crop(k->p, H, W, c);
}

db_status db_place_jpeg(const char *path, const db_place *p, const float *scale, const float *bias, float *const *planes,
                        int S, int *got_h, int *got_w) {
    pick_ctx ctx = {p, 0, 0};
    db_status s = db_jpeg_to_planes(path, pick, &ctx, p->vh, p->vw, p->mirror, scale, bias, planes, S);
    *got_h = ctx.got_h, *got_w = ctx.got_w;
    return s;
}

void db_place_source(const db_place *p, int y, int x, int *sy, int *sx) {
    const int ys = y + p->oy, xs = p->mirror ? p->new_w - 1 - (x + p->ox) : x + p->ox; /* in the scaled image */
    int r = (int)floor((ys + 0.5) * p->h / p->new_h), c = (int)floor((xs + 0.5) * p->w / p->new_w);
    *sy = r < p->h ? r : p->h - 1, *sx = c < p->w ? c : p->w - 1;
}
