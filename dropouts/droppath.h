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
