/* Where a detection image and its boxes land in a batch: the one place that moves pixels and
 * boxes alike. Two kinds of detection set (datasets/detset.h):
 *  - read whole (dropbench's Fashion-MNIST set, one size): db_batch_fill's padded random crop and
 *    mirror (db_batch_draws), the boxes shifted, clipped and mirrored with the pixels;
 *  - decoded per batch (COCO's JPEGs): placed as the official RetinaNet input pipeline places them
 *    (datasets/place.h: long side to the input side, top left, padded with zeros after
 *    normalisation, the mean colour; the scale jitter and its crops), the boxes moved alike. */
#ifndef DB_DATASETS_DETBATCH_H
#define DB_DATASETS_DETBATCH_H

#include <stdint.h>

#include "datasets/batch.h"

/* The training boxes of image `sample` as they lie in its batch entry (aug NULL: evaluation, no
 * augmentation) into boxes (4 floats each: ymin, xmin, ymax, xmax in input pixels) and cls, at
 * most d->det->count[sample] of them; a box the crop leaves less than a pixel wide or high is
 * dropped. The number kept through *n. */
void db_det_boxes(const db_dataset *d, int sample, const db_augment *aug, uint64_t seed, uint32_t epoch, float *boxes,
                  int *cls, int *n);
/* A box found in image `sample`'s evaluation batch entry (input pixels, same layout) back in the
 * image's own pixels; not clipped to the image, as the official RetinaNet code scores them */
void db_det_to_image(const db_dataset *d, int sample, float box[4]);
/* db_batch_fill's body for detection sets decoded per batch (d->det and d->files set) */
db_status db_detset_fill(const db_dataset *d, const int *order, int count, const db_augment *aug, const db_norm *norm,
                         uint64_t seed, uint32_t epoch, float *out, int *labels);

#endif
