/* Element-wise dropout and SpatialDropout: per-element bodies shared by the CPU loops
 * (dropouts/dropout.c) and the CUDA launchers (dropouts/dropout_cuda.cu).
 *
 * Every keep/drop decision is a Philox draw keyed by (seed, site, step, unit), where the unit
 * is counted in logical NCHW order (sample, channel, row, column) whatever the memory layout,
 * so CPU and GPU, and a resumed run, draw the same mask (db_rare_below: a byte of the Philox
 * stream per unit, 16 more bits on a tie). The backward recomputes the mask from the same key instead of storing it: the
 * mask it applies is bit for bit the forward's. Inverted scaling: kept units are divided by
 * keep_prob in training; at inference the layer is the identity. */
#ifndef DB_DROPOUTS_DROPOUT_H
#define DB_DROPOUTS_DROPOUT_H

#include <stdint.h>
#include <string.h>

#include "core/hd.h"
#include "core/philox.h"
#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t seed;
    uint32_t site;   /* which regularizer site (stream DB_STREAM_SITE + site) */
    uint32_t step;   /* training step: a new mask every step */
    float keep_prob; /* in (0, 1] */
} db_drop_key;

/* v where keep_bits is all ones, +0 where it is zero: a select the CPU compilers vectorise (a
 * float ?: in the loop stops GCC's vectoriser) and that zeroes a dropped NaN too. */
DB_HD float db_masked(float v, uint32_t keep_bits) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    u &= keep_bits;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* One unit of every keep/drop regularizer, forward (x = input) or backward (x = output
 * gradient), on both devices: x * scale when kept, +0 when dropped. */
DB_HD float db_drop_apply1(float x, int kept, float scale) {
    return db_masked(db_mul_rn(x, scale), 0u - (uint32_t)kept);
}

/* 1 when logical unit u is kept: its uniform is below keep_prob (db_rare_below's draw) */
DB_HD int db_drop_keep(const db_drop_key *k, uint64_t u) {
    return db_rare_below(k->seed, DB_STREAM_SITE + k->site, k->step, u, db_u01_threshold(k->keep_prob));
}

/* y (+)= db_drop_apply1(x, kept, scale) over hw floats (CPU) */
void db_scale_plane(float *y, const float *x, int kept, float scale, int hw, int accum);

/* The key checks shared by every regularizer entry point. */
db_status db_drop_check(const db_drop_key *k, int c, int n, int h, int w);

/* Dropout over a CNHW tensor (c, n, h, w). Returns the number of dropped units. */
uint64_t db_dropout_forward(float *out, const float *in, const db_drop_key *k, int c, int n, int h, int w);
void db_dropout_backward(float *din, const float *dout, const db_drop_key *k, int c, int n, int h, int w,
                         int accum);
/* SpatialDropout: whole channels per sample; unit = (sample, channel). */
uint64_t db_spatial_dropout_forward(float *out, const float *in, const db_drop_key *k, int c, int n, int h,
                                    int w);
void db_spatial_dropout_backward(float *din, const float *dout, const db_drop_key *k, int c, int n, int h,
                                 int w, int accum);

#ifdef __cplusplus
}
#endif
#endif
