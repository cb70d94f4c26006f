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

/* db_seg_labels from sample's label map already read (src: as db_seg_labels_own gives it) */
void db_seg_labels_place(const db_dataset *d, int sample, const db_augment *aug, uint64_t seed, uint32_t epoch,
                         const uint8_t *src, uint8_t *out);
/* Sample's label map at the image's own size, as its file holds it (checked as db_seg_labels
 * checks it): *px (free it) of *h x *w */
db_status db_seg_labels_own(const db_dataset *d, int sample, uint8_t **px, int *h, int *w);
/* The file name (no folder) of sample's label map: what a prediction written for it is called */
const char *db_seg_label_name(const db_dataset *d, int sample);
/* A map over sample's evaluation batch entry (d->h x d->w, placed as db_seg_labels places its
 * labels with aug NULL) back at the image's own size into own (at most h x w of the image, which
 * *ih, *iw receive): each pixel of the image takes the entry's pixel it landed on */
void db_seg_to_image(const db_dataset *d, int sample, const uint8_t *placed, uint8_t *own, int *ih, int *iw);

#endif
