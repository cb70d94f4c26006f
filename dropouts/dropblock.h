/* DropBlock with the paper's semantics (shared/reference/dropblock.md, section 1), and the
 * documented mask rules of four other implementations as presets (section 3), so the harness
 * can measure what the differences cost.
 *
 * Paper: kh = min(k, H), kw = min(k, W); seeds only where a whole block fits, each with
 * probability gamma = p*H*W / (kh*kw) / ((H-kh+1)*(W-kw+1)), independently per sample and
 * channel; each seed zeroes the kh x kw block around it (even sizes reach one cell further
 * up/left); the output is rescaled by (units / kept units) over the whole batch, or per sample,
 * with no division by zero when nothing is kept; inference is the identity.
 *
 * Seeds are drawn per seed position, not per unit: the positions of the seed region (rows ylo..yhi,
 * columns xlo..xhi) are numbered plane after plane, sample after sample (NCHW order for
 * per-channel masks, N1HW for masks shared across channels), and cut into groups of 16. One
 * Philox word per group (db_dropblock_group_word) gives how many of its positions seed, from the
 * binomial(16, gamma) distribution, and when some do, which (db_dropblock_group_seeds): so each
 * position seeds independently with probability gamma (to 2^-32), and a step draws a word per 16
 * positions instead of a byte per unit. The draws are keyed by (seed, site, step, group), so masks
 * do not depend on memory layout or threads, and the CPU (which scatters blocks from the seeds)
 * and the GPU (which gathers, per unit, the seeds that could cover it) draw the same mask. */
#ifndef DB_DROPOUTS_DROPBLOCK_H
#define DB_DROPOUTS_DROPBLOCK_H

#include <stdint.h>

#include "dropouts/dropout.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DB_SEM_PAPER,       /* section 1: the paper and the official TF code */
    DB_SEM_TIMM,        /* seeds anywhere (edge blocks partial), one mask for all channels, eps 1e-7 */
    DB_SEM_TORCHVISION, /* as the paper, odd block sizes only, eps 1e-6 */
    DB_SEM_MIGUELVR,    /* gamma p/k^2, seeds anywhere, shared mask, even blocks offset down/right */
    DB_SEM_DARKNET      /* gamma p/k^2, at most one block per channel from its corner, per sample */
} db_semantics;

typedef struct {
    int block_size;   /* k */
    int per_sample;   /* normalise per sample instead of as the semantics says */
    db_semantics sem; /* DB_SEM_PAPER when zero-initialised */
} db_dropblock_cfg;

/* What a configuration means on one h x w map at one keep_prob: every mask rule in numbers. */
typedef struct {
    float gamma;               /* seed probability per position */
    uint32_t t;                /* db_u01_threshold(gamma): darknet's seed words are below it */
    uint64_t more[16];         /* a group whose word is >= more[m] holds more than m seeds: 2^32 times
                                * P(binomial(16, gamma) <= m), rounded down */
    int kh, kw;                /* the block: clipped to the map (paper, timm, torchvision), never
                                * clipped (miguelvr), a square of min(k, h, w) (darknet) */
    int ah, aw;                /* a seed at (y, x) drops rows y-ah .. y-ah+kh-1 (clipped), columns alike */
    int ylo, yhi, xlo, xhi;    /* seed positions: rows ylo..yhi, columns xlo..xhi */
    int rw, rn;                /* seed positions per row, per plane */
    int shared;                /* one mask per sample, shared by its channels */
    int one_seed;              /* at most one block per plane: the smallest word below gamma wins, as a
                                * top-left corner wrapped back inside the map (darknet) */
    int per_sample;            /* normalise per sample instead of over the batch */
    float eps;                 /* added to the kept count when normalising */
} db_dropblock_rules;

db_dropblock_rules db_dropblock_rules_for(const db_dropblock_cfg *b, float keep_prob, int h, int w);

enum { DB_DROPBLOCK_GROUP = 16 }; /* seed positions per group */

/* The number of sample j, channel ch's first seed position */
DB_HD uint64_t db_dropblock_base(const db_dropblock_rules *r, int j, int ch, int c) {
    return r->shared ? (uint64_t)j * r->rn : ((uint64_t)j * c + ch) * r->rn;
}

/* Group g's word: word g % 4 of db_rand4(seed, site's stream, step, g / 4), as db_rand_words
 * draws them in bulk */
DB_HD uint32_t db_dropblock_group_word(const db_drop_key *k, uint64_t g) {
    return db_rand4(k->seed, DB_STREAM_SITE + k->site, k->step, g >> 2).v[g & 3];
}

/* The seeds of group g, whose word is w: bit i set when position 16 g + i seeds. The word's
 * interval among more[] is the count m; one seed sits at the word's place inside its interval,
 * scaled to 0..15 exactly (floor(16 (w - more[0]) / D), D the interval's width: each place takes
 * floor(D / 16) or one more of its words, a relative 16 / D apart); two or more
 * are a partial Fisher-Yates shuffle of the 16 positions on words of further draws, keyed by g
 * with the top bit set. */
DB_HD uint32_t db_dropblock_group_seeds(const db_drop_key *k, const db_dropblock_rules *r, uint64_t g, uint32_t w) {
    if (w < r->more[0]) return 0;
    int m = 1;
    while (m < DB_DROPBLOCK_GROUP && w >= r->more[m]) m++;
    if (m == 1) return 1u << (int)(((uint64_t)w - r->more[0]) * DB_DROPBLOCK_GROUP / (r->more[1] - r->more[0]));
    uint8_t pos[DB_DROPBLOCK_GROUP];
    for (int i = 0; i < DB_DROPBLOCK_GROUP; i++) pos[i] = (uint8_t)i;
    uint32_t bits = 0;
    db_u32x4 q = {{0, 0, 0, 0}};
    for (int i = 0; i < m; i++) {
        if (i % 4 == 0) q = db_rand4(k->seed, DB_STREAM_SITE + k->site, k->step, g | 1ull << 63 | (uint64_t)(i / 4) << 56);
        int j = i + (int)(((uint64_t)q.v[i % 4] * (uint64_t)(DB_DROPBLOCK_GROUP - i)) >> 32);
        uint8_t t = pos[i];
        pos[i] = pos[j], pos[j] = t;
        bits |= 1u << pos[i];
    }
    return bits;
}

/* Is unit (y, x) of the plane whose first seed position is number `base` dropped? The gather
 * form of the mask, one unit at a time (the GPU's body): any seed whose block covers (y, x)
 * fires. A row of candidate seeds mostly shares a group, drawn once. Not for one_seed rules,
 * whose seed depends on the whole plane. */
DB_HD int db_dropblock_dropped(const db_drop_key *k, const db_dropblock_rules *r, uint64_t base, int y, int x) {
    int y0 = y + r->ah - r->kh + 1, y1 = y + r->ah, x0 = x + r->aw - r->kw + 1, x1 = x + r->aw;
    if (y0 < r->ylo) y0 = r->ylo;
    if (y1 > r->yhi) y1 = r->yhi;
    if (x0 < r->xlo) x0 = r->xlo;
    if (x1 > r->xhi) x1 = r->xhi;
    uint64_t drawn = ~0ull;
    uint32_t seeds = 0;
    for (int sy = y0; sy <= y1; sy++)
        for (int sx = x0; sx <= x1; sx++) {
            uint64_t i = base + (uint64_t)(sy - r->ylo) * (uint64_t)r->rw + (uint64_t)(sx - r->xlo), g = i / DB_DROPBLOCK_GROUP;
            if (g != drawn) drawn = g, seeds = db_dropblock_group_seeds(k, r, g, db_dropblock_group_word(k, g));
            if (seeds >> (i % DB_DROPBLOCK_GROUP) & 1u) return 1;
        }
    return 0;
}

/* One unit of the forward (x = input) or backward (x = output gradient): x * s where the mask
 * byte m kept it, +0 where it dropped it. */
DB_HD float db_dropblock_apply1(float x, uint8_t m, float s) { return db_drop_apply1(x, m == 0, s); }

/* The factor for the kept units of `units` of which `dropped` were dropped: units / kept
 * (+eps), 0 when nothing is kept (no division by zero). Both devices' normalisation. */
DB_HD float db_dropblock_scale(uint64_t units, uint64_t dropped, float eps) {
    return dropped < units ? (float)((double)units / ((double)(units - dropped) + eps)) : 0.0f;
}

/* The paper's gamma for an h x w map (eq. 1 with the block clipped per axis) */
double db_dropblock_gamma(float keep_prob, int block, int h, int w);
/* The exact expected dropped fraction: for seed-per-position rules the mean over positions of
 * 1 - (1-gamma)^n(y,x), n the number of seed positions whose block covers (y,x); for one_seed
 * rules P(some word is below gamma) * kh*kw / (h*w). */
double db_dropblock_expected_fraction(const db_dropblock_cfg *b, float keep_prob, int h, int w);
db_status db_semantics_parse(const char *name, db_semantics *out);
const char *db_semantics_name(db_semantics s);
db_status db_dropblock_check(const db_drop_key *k, const db_dropblock_cfg *b, int c, int n, int h, int w);
/* The mask alone: mask (c*n*h*w bytes, CNHW) receives 1 where a unit is dropped and scales
 * (n floats) the factor for each sample's kept units. Returns the number of dropped units. The
 * mask does not depend on the data, so a caller can draw it before the tensor it applies to
 * exists (batch norm fuses the apply into its output loop). */
uint64_t db_dropblock_mask(uint8_t *mask, float *scales, const db_drop_key *k, const db_dropblock_cfg *b, int c,
                           int n, int h, int w);
/* CNHW tensors (c, n, h, w): the mask, then out = in through it (db_dropblock_apply1). */
uint64_t db_dropblock_forward(float *out, uint8_t *mask, float *scales, const float *in,
                              const db_drop_key *k, const db_dropblock_cfg *b, int c, int n, int h,
                              int w);
void db_dropblock_backward(float *din, const float *dout, const uint8_t *mask, const float *scales,
                           int c, int n, int h, int w, int accum);
/* y = a + b through the mask: a residual add whose shortcut b carries DropBlock, in one pass */
void db_dropblock_add(float *y, const float *a, const float *b, const uint8_t *mask, const float *scales, int c,
                      int n, int h, int w);

#ifdef __cplusplus
}
#endif
#endif
