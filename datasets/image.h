/* JPEG images for the image-folder data sets: decoding through libjpeg-turbo (its DCT scaling
 * decodes a large photo at 1/2, 1/4 or 1/8 size when the crop needs no more pixels), and
 * resampling a crop to the network's input with an antialiasing triangle filter (bilinear when
 * enlarging, averaging over the footprint when shrinking, as PIL's bilinear resize does). */
#ifndef DB_DATASETS_IMAGE_H
#define DB_DATASETS_IMAGE_H

#include <stdint.h>

#include "core/status.h"

typedef struct {
    int h, w;    /* decoded size */
    uint8_t *px; /* h*w*c bytes, channels interleaved */
    int c;       /* channels: 3 (RGB) as decoded; 1 to 4 for an in-memory view (a grey plane: 1) */
} db_image;

/* A region in the full-size image's pixels */
typedef struct {
    double y0, x0, h, w;
} db_crop;

/* Chooses the crop once the full size (H, W) is known */
typedef void (*db_crop_fn)(int H, int W, void *ctx, db_crop *crop);

/* Decodes path (grey and CMYK converted to RGB) at the coarsest DCT scale that leaves the
 * chosen crop at least out_h x out_w pixels; *crop comes back in the decoded image's pixels.
 * Corrupt or truncated files (missing data, which libjpeg would fill with grey) and PNGs with a
 * JPEG name are errors naming the file. */
db_status db_jpeg_load(const char *path, db_crop_fn pick, void *ctx, int out_h, int out_w, db_image *img, db_crop *crop);
void db_image_free(db_image *img);
/* out: img->c planes of oh x ow floats (0..255) = the crop of img resampled, mirrored when asked;
 * scratch: img->c * img->h * ow floats */
db_status db_image_resample(const db_image *img, const db_crop *crop, int oh, int ow, int mirror, float *out, float *scratch);
/* The crop of img resampled to oh x ow (mirrored when asked), channel c written as
 * pixel * scale[c] + bias[c] into planes[c] + y * stride + x (img->c planes; what lies outside
 * oh x ow is left as it is); what says what the pixels are, for messages */
db_status db_image_to_planes(const db_image *img, const db_crop *crop, int oh, int ow, int mirror, const float *scale,
                             const float *bias, float *const *planes, int stride, const char *what);
/* The whole path of a batch's image: decodes path (db_jpeg_load with pick), resamples the crop to
 * oh x ow, mirrored when asked, and writes channel c as pixel * scale[c] + bias[c] into
 * planes[c] + y * stride + x (3 planes; what lies outside oh x ow is left as it is) */
db_status db_jpeg_to_planes(const char *path, db_crop_fn pick, void *ctx, int oh, int ow, int mirror,
                            const float *scale, const float *bias, float *const *planes, int stride);

#endif
