/* DropPath (stochastic depth): it drops a residual branch for whole samples: unit = sample, inverted scaling, the
 * same Philox keying as the other regularizers. Its rate grows linearly with depth: block i of
 * L drops at p * i / (L - 1) (the first block never, the last at p). Cutout is in cutout.h. */
#ifndef DB_DROPOUTS_DROPPATH_H
#define DB_DROPOUTS_DROPPATH_H

#include "dropouts/dropout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when sample j keeps its branch (the per-unit body of both devices) */
DB_HD int db_droppath_keep(const db_drop_key *k, int j) { return db_drop_keep(k, (uint64_t)j); }

/* The drop rate of block `index` (0-based) of `blocks` under a final rate p. */
float db_droppath_rate(float p, int index, int blocks);
/* CNHW (c, n, h, w); returns the number of samples dropped. */
int db_droppath_forward(float *out, const float *in, const db_drop_key *k, int c, int n, int h, int w);
void db_droppath_backward(float *din, const float *dout, const db_drop_key *k, int c, int n, int h, int w,
                          int accum);
#ifdef __cplusplus
}
#endif
#endif
