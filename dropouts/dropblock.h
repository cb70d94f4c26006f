/* DropBlock with the paper's semantics (shared/reference/dropblock.md, section 1):
 * kh = min(k, H), kw = min(k, W); seeds only where a whole block fits, each with probability
 * gamma = p*H*W / (kh*kw) / ((H-kh+1)*(W-kw+1)), independently per sample and channel; each
 * seed zeroes the kh x kw block around it (even sizes reach one cell further up/left);
 * the output is rescaled by (units / kept units) over the whole batch, or per sample, with no
 * division by zero when nothing is kept; inference is the identity.
 * Seed decisions are Philox of (seed, site, step, logical NCHW index of the seed position), so
 * they do not depend on layout or threads. */
#ifndef DB_DROPOUTS_DROPBLOCK_H
#define DB_DROPOUTS_DROPBLOCK_H

#include <stdint.h>

#include "dropouts/dropout.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int block;        /* k */
    int per_sample;   /* normalise per sample instead of over the batch */
} db_dropblock_cfg;

/* Is unit (y, x) of the plane whose first logical unit is `base` dropped? The gather form of
 * the mask, one unit at a time (the GPU's body): any valid seed whose kh x kw block covers
 * (y, x) fires. The CPU scatters blocks from the seeds instead; both read the same draws. */
DB_HD int db_dropblock_dropped(const db_drop_key *k, float gamma, uint64_t base, int y, int x, int kh,
                               int kw, int h, int w) {
    int y0 = y - (kh - 1 - kh / 2), y1 = y + kh / 2, x0 = x - (kw - 1 - kw / 2), x1 = x + kw / 2;
    if (y0 < kh / 2) y0 = kh / 2;
    if (y1 > h - (kh - 1) / 2 - 1) y1 = h - (kh - 1) / 2 - 1;
    if (x0 < kw / 2) x0 = kw / 2;
    if (x1 > w - (kw - 1) / 2 - 1) x1 = w - (kw - 1) / 2 - 1;
    for (int sy = y0; sy <= y1; sy++)
        for (int sx = x0; sx <= x1; sx++) {
            uint64_t u = base + (uint64_t)sy * w + sx;
            db_u32x4 r = db_rand4(k->seed, DB_STREAM_SITE + k->site, k->step, u >> 2);
            if (db_u01(r.v[u & 3]) < gamma) return 1;
        }
    return 0;
}

/* gamma for an h x w map */
double db_dropblock_gamma(float keep_prob, int block, int h, int w);
/* The exact expected dropped fraction: the mean over positions of 1 - (1-gamma)^n(y,x), n the
 * number of valid seeds whose block covers (y,x). */
double db_dropblock_expected_fraction(float keep_prob, int block, int h, int w);
db_status db_dropblock_check(const db_drop_key *k, const db_dropblock_cfg *b, int c, int n, int h, int w);
/* CNHW tensors (c, n, h, w). mask (c*n*h*w bytes) receives 1 where a unit is dropped and
 * scales (n floats) the factor applied to each sample's kept units; both feed the backward.
 * Returns the number of dropped units. */
uint64_t db_dropblock_forward(float *out, uint8_t *mask, float *scales, const float *in,
                              const db_drop_key *k, const db_dropblock_cfg *b, int c, int n, int h,
                              int w);
void db_dropblock_backward(float *din, const float *dout, const uint8_t *mask, const float *scales,
                           int c, int n, int h, int w, int accum);

#ifdef __cplusplus
}
#endif
#endif
