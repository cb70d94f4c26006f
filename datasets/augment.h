/* What every batch filler shares: the augmentation settings and the per-sample draws behind
 * them (Philox-keyed by seed, epoch and sample, so a sample's augmentation survives any
 * batching), and the normalisation as one multiply-add per pixel. */
#ifndef DB_DATASETS_AUGMENT_H
#define DB_DATASETS_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/dataset.h"

/* Random crop with zero padding of `pad` pixels each side, random horizontal flip
 * (the CIFAR recipe: RandomCrop(pad) then RandomHorizontalFlip); for image folders instead of
 * pad, inception: the random resized crop (datasets/folder.h) with its smallest area fraction;
 * for detection sets decoded per batch, scale_min and scale_max (other than 1, 1; 0, 0 is none) jitter the scale
 * (datasets/detbatch.h); autoaugment: AutoAugment's ImageNet policy after the crop and flip
 * (datasets/autoaugment.h; classification sets only). */
typedef struct { int pad; int flip; int inception; float area_min; float scale_min, scale_max; int autoaugment; } db_augment;

/* Per channel, in [0,1] pixel units. */
typedef struct { float mean[4], std[4]; } db_norm;

/* A uniform integer in [0, range) by multiply-shift: no division, and a bias of at most
 * range/2^32, far below anything training can see. */
static inline uint32_t db_uniform_below(uint32_t x, uint32_t range) {
    return (uint32_t)(((uint64_t)x * range) >> 32);
}

/* The augmentation db_batch_fill gives sample `sample` in an epoch: its crop offsets dy, dx in
 * 0 .. 2 pad (output pixel (y, x) reads source (y + dy - pad, x + dx - pad) before mirroring) and
 * whether it is mirrored; what a detection task reads to move the sample's boxes alike */
void db_batch_draws(uint64_t seed, uint32_t epoch, int sample, int pad, int flip, int *dy, int *dx, int *mirror);

/* (pixel - 255 mean[c]) / (255 std[c]) as pixel * scale[c] + bias[c] for the first `channels`
 * (at most 4) channels; norm NULL: mean 0, std 1 */
void db_norm_affine(const db_norm *norm, int channels, float *scale, float *bias);
/* C planes of `plane` bytes normalised into floats: channel c's at out + c * stride */
void db_norm_bytes(const uint8_t *px, int C, size_t plane, const float *scale, const float *bias, float *out,
                   size_t stride);

/* One batch to fill, as db_batch_fill is asked for it, with the normalisation as scale and bias:
 * what the fillers that decode per image (folder.c, detbatch.c) hand each of their workers */
typedef struct {
    const db_dataset *d;
    const int *order;
    int count;
    const db_augment *aug;
    uint64_t seed;
    uint32_t epoch;
    float *out;
    int *labels;
    float scale[4], bias[4];
} db_fill_job;

db_fill_job db_fill_job_of(const db_dataset *d, const int *order, int count, const db_augment *aug, const db_norm *norm,
                           uint64_t seed, uint32_t epoch, float *out, int *labels);

#endif
