/* Turning uint8 samples into a normalised float batch, with the epoch order and the
 * augmentation drawn from Philox so that a batch depends only on (seed, epoch, sample), never on
 * thread layout, batch composition or what ran before (design principle 2). */
#ifndef DB_BATCH_H
#define DB_BATCH_H

#include <stdint.h>

#include "core/status.h"
#include "datasets/augment.h"
#include "datasets/dataset.h"

/* Per-channel mean and (population) std of the whole data set in pixels/255, from exact
 * integer sums, so the result is deterministic. Channels past d->c get mean 0, std 1. Image
 * folders (not read whole) get ImageNet's published mean and std.
 * Fails (DB_ERR_ARG) for more than 4 channels, an empty set or a constant channel (std 0). */
db_status db_norm_compute(const db_dataset *d, db_norm *out);

/* The permutation of 0..n-1 for an epoch: Fisher-Yates driven by
 * db_rand4(seed, DB_STREAM_ORDER, epoch, i). Deterministic for (seed, epoch). */
void db_epoch_order(int n, uint64_t seed, uint32_t epoch, int *order);

/* Fill a batch with samples order[0..count-1] of d.
 * out is (C, count, H, W): out[((c*count + i)*h + y)*w + x] = (pixel/255 - mean[c]) / std[c].
 * Padding pixels are raw 0 before normalisation (torchvision pads, then normalises).
 * aug NULL (or pad 0, flip 0) means no augmentation, as for evaluation; norm NULL means
 * mean 0, std 1. Draws come from db_rand4(seed, DB_STREAM_AUGMENT, epoch, order[i]):
 * word 0 gives the row offset, word 1 the column offset, word 2 the flip.
 * labels[i] = d->labels[order[i]]. d->c must be at most 4 (the size of db_norm), as
 * db_norm_compute checks; count samples are filled in parallel with OpenMP. */
db_status db_batch_fill(const db_dataset *d, const int *order, int count, const db_augment *aug,
                        const db_norm *norm, uint64_t seed, uint32_t epoch, float *out,
                        int *labels);

#endif
