#include "datasets/augment.h"

#include "core/philox.h"

void db_batch_draws(uint64_t seed, uint32_t epoch, int sample, int pad, int flip, int *dy, int *dx, int *mirror) {
    *dy = *dx = *mirror = 0;
    if (pad <= 0 && !flip) return;
    /* Keyed by the sample's index in the data set, so the draw survives any batching. */
    db_u32x4 r = db_rand4(seed, DB_STREAM_AUGMENT, epoch, (uint64_t)sample);
    if (pad > 0) {
        *dy = (int)db_uniform_below(r.v[0], 2u * (uint32_t)pad + 1u);
        *dx = (int)db_uniform_below(r.v[1], 2u * (uint32_t)pad + 1u);
    }
    *mirror = flip && (r.v[2] >> 31);
}

void db_norm_affine(const db_norm *norm, int channels, float *scale, float *bias) {
    for (int c = 0; c < channels && c < 4; c++) {
        const float mean = norm ? norm->mean[c] : 0.0f, std = norm ? norm->std[c] : 1.0f;
        scale[c] = 1.0f / (255.0f * std);
        bias[c] = -mean / std;
    }
}

void db_norm_bytes(const uint8_t *px, int C, size_t plane, const float *scale, const float *bias, float *out,
                   size_t stride) {
    for (int c = 0; c < C; c++)
        for (size_t k = 0; k < plane; k++) out[(size_t)c * stride + k] = (float)px[(size_t)c * plane + k] * scale[c] + bias[c];
}

db_fill_job db_fill_job_of(const db_dataset *d, const int *order, int count, const db_augment *aug, const db_norm *norm,
                           uint64_t seed, uint32_t epoch, float *out, int *labels) {
    db_fill_job f = {d, order, count, aug, seed, epoch, out, labels, {0}, {0}};
    db_norm_affine(norm, d->c < 4 ? d->c : 4, f.scale, f.bias);
    return f;
}
