#include "datasets/batch.h"

#include "datasets/detbatch.h"
#include "datasets/folder.h"
#include "datasets/segbatch.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
#include "datasets/autoaugment.h"

db_status db_norm_compute(const db_dataset *d, db_norm *out) {
    if (!d || !out) return db_fail(DB_ERR_ARG, "db_norm_compute: NULL argument");
    if (d->files) { /* ImageNet's statistics (images decoded per batch are not summed) */
        static const db_norm imagenet = {{0.485f, 0.456f, 0.406f, 0}, {0.229f, 0.224f, 0.225f, 1}};
        *out = imagenet;
        return DB_OK;
    }
    if (d->c < 1 || d->c > 4)
        return db_fail(DB_ERR_ARG, "%s: %d channels; normalisation handles 1 to 4", d->name,
                       d->c);
    if (d->n < 1 || d->h < 1 || d->w < 1 || !d->images)
        return db_fail(DB_ERR_ARG, "%s: empty data set, nothing to normalise by", d->name);
    for (int c = 0; c < 4; c++) {
        out->mean[c] = 0.0f;
        out->std[c] = 1.0f;
    }
    size_t plane = (size_t)d->h * (size_t)d->w;
    for (int c = 0; c < d->c; c++) {
        /* Integer sums are exact (255^2 * 1e8 < 2^63), hence independent of summation order. */
        uint64_t s1 = 0, s2 = 0;
        for (int i = 0; i < d->n; i++) {
            const uint8_t *p = d->images + ((size_t)i * (size_t)d->c + (size_t)c) * plane;
            for (size_t k = 0; k < plane; k++) {
                s1 += p[k];
                s2 += (uint64_t)p[k] * p[k];
            }
        }
        double count = (double)d->n * (double)plane;
        double mean = (double)s1 / count;
        double var = (double)s2 / count - mean * mean;
        if (var <= 0.0)
            return db_fail(DB_ERR_ARG, "%s: channel %d is constant; its std is zero", d->name,
                           c);
        out->mean[c] = (float)(mean / 255.0);
        out->std[c] = (float)(sqrt(var) / 255.0);
    }
    return DB_OK;
}

void db_epoch_order(int n, uint64_t seed, uint32_t epoch, int *order) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        db_u32x4 r = db_rand4(seed, DB_STREAM_ORDER, epoch, (uint64_t)i);
        int j = (int)db_uniform_below(r.v[0], (uint32_t)i + 1u);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

db_status db_batch_fill(const db_dataset *d, const int *order, int count, const db_augment *aug,
                        const db_norm *norm, uint64_t seed, uint32_t epoch, float *out,
                        int *labels) {
    if (db_seg_placed(d, aug)) return db_segset_fill(d, order, count, aug, norm, seed, epoch, out, labels);
    if (d->files && d->det) return db_detset_fill(d, order, count, aug, norm, seed, epoch, out, labels);
    if (d->files) return db_folder_fill(d, order, count, aug, norm, seed, epoch, out, labels);
    const int C = d->c, H = d->h, W = d->w;
    const int pad = aug && aug->pad > 0 ? aug->pad : 0;
    const int flip = aug && aug->flip;
    const int autoaug = aug && aug->autoaugment;
    /* (p/255 - mean)/std as one multiply-add per pixel. */
    float scale[4], bias[4];
    db_norm_affine(norm, C < 4 ? C : 4, scale, bias);
    const size_t plane = (size_t)H * (size_t)W, image = plane * (size_t)C;
    /* per sample: its crop as bytes, and with AutoAugment the geometric operations' source */
    uint8_t *bytes = malloc(image * (size_t)count * (autoaug ? 2 : 1));
    if (!bytes) return db_fail(DB_ERR_NOMEM, "out of memory for a batch of %d images", count);

#pragma omp parallel for schedule(static)
    for (int i = 0; i < count; i++) {
        const int s = order[i];
        labels[i] = d->labels[s];
        int dy, dx, mirror;
        db_batch_draws(seed, epoch, s, pad, flip, &dy, &dx, &mirror);
        uint8_t *px = bytes + image * (size_t)i;
        for (int c = 0; c < C; c++) {
            const uint8_t *src = d->images + ((size_t)s * (size_t)C + (size_t)c) * plane;
            for (int y = 0; y < H; y++) {
                /* Crop first, then mirror the cropped image: output column x reads cropped
                 * column xc = mirror ? W-1-x : x, i.e. source column xc + dx - pad; 0 outside. */
                const int sy = y + dy - pad;
                uint8_t *row = px + (size_t)c * plane + (size_t)y * (size_t)W;
                if (sy < 0 || sy >= H) {
                    memset(row, 0, (size_t)W);
                    continue;
                }
                const uint8_t *srow = src + (size_t)sy * (size_t)W;
                for (int x = 0; x < W; x++) {
                    const int sx = (mirror ? W - 1 - x : x) + dx - pad;
                    row[x] = (sx >= 0 && sx < W) ? srow[sx] : 0;
                }
            }
        }
        if (autoaug) db_autoaugment(px, bytes + image * ((size_t)count + (size_t)i), C, H, W, seed, epoch, s);
        db_norm_bytes(px, C, plane, scale, bias, out + (size_t)i * plane, (size_t)count * plane);
    }
    free(bytes);
    return DB_OK;
}
