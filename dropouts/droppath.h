/* DropPath (stochastic depth) and Cutout.
 * DropPath drops a residual branch for whole samples: unit = sample, inverted scaling, the
 * same Philox keying as the other regularizers. Its rate grows linearly with depth: block i of
 * L drops at p * i / (L - 1) (the first block never, the last at p).
 * Cutout zeroes one size x size square per image, centred anywhere in the image (so it may be
 * clipped by the border), drawn from (seed, step, sample); it acts on the input, so it has no
 * backward. */
#ifndef DB_DROPOUTS_DROPPATH_H
#define DB_DROPOUTS_DROPPATH_H

#include "dropouts/dropout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when sample j keeps its branch (the per-unit body of both devices) */
DB_HD int db_droppath_keep(const db_drop_key *k, int j) { return db_drop_keep(k, (uint64_t)j); }

/* Cutout's square for data-set sample `id` at `step`: its top-left corner (may lie outside the
 * image; the square is clipped there). Centred uniformly over the image. */
DB_HD void db_cutout_corner(uint64_t seed, uint32_t step, int id, int size, int h, int w, int *y0, int *x0) {
    db_u32x4 r = db_rand4(seed, DB_STREAM_CUTOUT, step, (uint64_t)id);
    *y0 = (int)(((uint64_t)r.v[0] * (uint64_t)h) >> 32) - size / 2;
    *x0 = (int)(((uint64_t)r.v[1] * (uint64_t)w) >> 32) - size / 2;
}

/* The drop rate of block `index` (0-based) of `blocks` under a final rate p. */
float db_droppath_rate(float p, int index, int blocks);
/* CNHW (c, n, h, w); returns the number of samples dropped. */
int db_droppath_forward(float *out, const float *in, const db_drop_key *k, int c, int n, int h, int w);
void db_droppath_backward(float *din, const float *dout, const db_drop_key *k, int c, int n, int h, int w,
                          int accum);
/* In place on a CNHW batch; sample j of the batch is data-set sample ids[j] (the draw follows
 * the sample, not its place in the batch). */
void db_cutout(float *x, const int *ids, int size, uint64_t seed, uint32_t step, int c, int n, int h, int w);

#ifdef __cplusplus
}
#endif
#endif
