/* AutoAugment (Cubuk et al., "AutoAugment: Learning Augmentation Strategies from Data", CVPR
 * 2019): its ImageNet policy, the augmentation of Table 1's AutoAugment row of the DropBlock paper.
 *
 * Each training image takes one of the policy's 25 sub-policies, uniformly; each sub-policy is
 * two operations applied in order, each with its own probability, at a magnitude level 0..9,
 * level/9 of the way along the paper's range (torchvision's reading; rotation 0..30 degrees,
 * shear 0..0.3, colour, contrast and sharpness factors 1 +- 0..0.9, posterize 8..4 bits,
 * solarize threshold 255..0), the signed ones with a random sign. The draws are keyed by (seed, epoch, sample), like every
 * other augmentation, so a sample's images do not depend on batching or threads.
 *
 * The operations work on 8-bit planes with PIL's arithmetic (the library the policy was searched
 * with), giving its bytes exactly: blends clip and truncate, geometric operations sample the
 * nearest pixel in its 16.16 fixed point and fill what they uncover with grey 128 (the TPU
 * implementation's fill; torchvision fills black). Colour acts on three-channel images only (a grey image has no saturation); contrast
 * blends towards the mean luma (three channels) or the mean value (other counts). */
#ifndef DB_DATASETS_AUTOAUGMENT_H
#define DB_DATASETS_AUTOAUGMENT_H

#include <stdint.h>

typedef enum {
    DB_AA_POSTERIZE,     /* v: bits kept, 1..8 */
    DB_AA_ROTATE,        /* v: degrees, counter-clockwise */
    DB_AA_SOLARIZE,      /* v: threshold; values >= it are inverted */
    DB_AA_AUTOCONTRAST,  /* per channel, its range stretched to 0..255 */
    DB_AA_EQUALIZE,      /* per channel histogram equalisation (PIL's rule) */
    DB_AA_COLOR,         /* v: saturation factor */
    DB_AA_INVERT,
    DB_AA_CONTRAST,      /* v: contrast factor */
    DB_AA_SHARPNESS,     /* v: sharpness factor (blend with a 3x3 smoothing, border kept) */
    DB_AA_SHEAR_X,       /* v: shear; output (x, y) samples input (x + v y, y) */
    DB_AA_OPS
} db_aa_op;

/* One operation at value v on an image of c planes of h x w bytes, in place; tmp holds c*h*w
 * bytes (the geometric operations' source) */
void db_aa_apply(db_aa_op op, float v, uint8_t *img, uint8_t *tmp, int c, int h, int w);

/* What the policy draws for one sample: the sub-policy, and per operation whether it applies and
 * its value (sign included); the operations that do not apply have applies 0 */
typedef struct {
    int sub;
    db_aa_op op[2];
    int applies[2];
    float value[2];
} db_aa_draw;

db_aa_draw db_aa_draw_for(uint64_t seed, uint32_t epoch, int sample);

/* The policy on one training image (in place; tmp: c*h*w bytes) */
void db_autoaugment(uint8_t *img, uint8_t *tmp, int c, int h, int w, uint64_t seed, uint32_t epoch, int sample);

#endif
