/* Cutout: one size x size square per image zeroed, centred anywhere in the image (so it may be
 * clipped by the border), drawn from (seed, step, sample). It acts on the input, so it has no
 * backward. It runs on the host batch before it goes to either device (a CUDA run's batch
 * waits in pinned memory), so it has no CUDA twin. */
#ifndef DB_DROPOUTS_CUTOUT_H
#define DB_DROPOUTS_CUTOUT_H

#include "dropouts/dropout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Cutout's square for data-set sample `id` at `step`: its top-left corner (may lie outside the
 * image; the square is clipped there). Centred uniformly over the image. */
DB_HD void db_cutout_corner(uint64_t seed, uint32_t step, int id, int size, int h, int w, int *y0, int *x0) {
    db_u32x4 r = db_rand4(seed, DB_STREAM_CUTOUT, step, (uint64_t)id);
    *y0 = (int)(((uint64_t)r.v[0] * (uint64_t)h) >> 32) - size / 2;
    *x0 = (int)(((uint64_t)r.v[1] * (uint64_t)w) >> 32) - size / 2;
}

/* In place on a CNHW batch; sample j of the batch is data-set sample ids[j] (the draw follows
 * the sample, not its place in the batch). */
void db_cutout(float *x, const int *ids, int size, uint64_t seed, uint32_t step, int c, int n, int h, int w);

#ifdef __cplusplus
}
#endif
#endif
