/* Where an image of any size lands in the network's S x S input, as the official RetinaNet input
 * pipeline places it for detection and segmentation: scaled so that its long side is S (each
 * side rounded to whole pixels), mirrored at random in training, laid at the top left of the
 * input and padded. With scale jitter (aug->scale_min, scale_max other than 1, the official
 * train_scale_min/max) the long side is int(S * U(min, max)) and a scaled image larger than S is
 * cropped at a random offset. Segmentation's evaluation keeps the image's own scale (the official
 * code scores at full resolution), shrinking only an image larger than S to fit. Draws:
 * db_rand4(seed, DB_STREAM_AUGMENT, epoch, sample), word 0 the scale, words 1 and 2 the crop's
 * row and column, word 3 the mirror. One place for pixels (datasets/detbatch.h, segbatch.h),
 * boxes and label maps alike. */
#ifndef DB_DATASETS_PLACE_H
#define DB_DATASETS_PLACE_H

#include <stdint.h>

#include "datasets/augment.h"
#include "datasets/image.h"

/* An image of h x w scaled by (sy, sx) to new_h x new_w, mirrored across the scaled width when
 * mirror, then the S x S window from (oy, ox) taken: vh x vw of it image, the rest padding */
typedef struct {
    int h, w;
    double sy, sx;
    int new_h, new_w, oy, ox, vh, vw, mirror;
} db_place;

/* 1 when aug asks for scale jitter */
int db_place_jitters(const db_augment *aug);
/* The place of sample `sample` (h x w pixels) in an S x S input; aug NULL: evaluation (no
 * jitter, no mirror); keep_scale: evaluation at the image's own scale (segmentation) */
void db_place_of(int h, int w, int S, const db_augment *aug, int keep_scale, uint64_t seed, uint32_t epoch, int sample,
                 db_place *p);
/* The region of the unmirrored source image (H x W, the size it was decoded at) that the window's
 * vh x vw pixels show */
void db_place_crop(const db_place *p, int H, int W, db_crop *c);
/* The JPEG at path decoded and laid in its place: the window's vh x vw pixels resampled from it,
 * normalised as pixel * scale[c] + bias[c] into planes[c] (3 planes, rows of S floats; the rest
 * untouched); its decoded size through got_h, got_w, for the caller to hold against p's */
db_status db_place_jpeg(const char *path, const db_place *p, const float *scale, const float *bias, float *const *planes,
                        int S, int *got_h, int *got_w);
/* The source pixel (row, column of the h x w image) whose label window pixel (y, x) shows by
 * nearest-neighbour scaling (pixel centres matched, as the bilinear pixels); only for y < vh,
 * x < vw */
void db_place_source(const db_place *p, int y, int x, int *sy, int *sx);

#endif
