/* Where a segmentation image and its label map land in a batch: the one place that moves pixels
 * and labels alike. Two ways:
 *  - a set read whole without scale jitter (dropbench's Fashion-MNIST canvases, flips only):
 *    db_batch_fill's padded random crop and mirror (db_batch_draws), the padding ignored (255);
 *  - a set decoded per batch (VOC 2012's JPEGs and label PNGs), or a set read whole with scale
 *    jitter: placed as the official segmentation input pipeline places them (datasets/place.h),
 *    pixels scaled bilinearly (antialiased when shrinking), labels by nearest neighbour with the
 *    same pixel centres. The padding: pixels 0 after normalisation (the mean colour) for decoded
 *    images as the official code, raw 0 before it (the canvases' own background) for sets read
 *    whole; labels 0 (background) in training as the official code, 255 (ignored) in evaluation.
 *    Evaluation keeps each image's own scale (only an image larger than the input is shrunk to
 *    fit), so the mIOU is scored at full resolution. */
#ifndef DB_DATASETS_SEGBATCH_H
#define DB_DATASETS_SEGBATCH_H

#include <stdint.h>

#include "datasets/batch.h"

/* 1 when a batch of d with aug is placed (the second way above) */
int db_seg_placed(const db_dataset *d, const db_augment *aug);
/* db_batch_fill's body for placed segmentation batches */
db_status db_segset_fill(const db_dataset *d, const int *order, int count, const db_augment *aug, const db_norm *norm,
                         uint64_t seed, uint32_t epoch, float *out, int *labels);
/* Sample `sample`'s label map as its pixels were placed with aug (NULL: evaluation) into out
 * (h x w bytes). A label PNG that cannot be read, of another size than its image, or holding a
 * value that is neither a class nor 255 is an error naming the file. */
db_status db_seg_labels(const db_dataset *d, int sample, const db_augment *aug, uint64_t seed, uint32_t epoch,
                        uint8_t *out);

#endif
