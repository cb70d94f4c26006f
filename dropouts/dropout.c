#include "dropouts/dropout.h"

#include <stddef.h>

#include "core/rand_bulk.h"

db_status db_drop_check(const db_drop_key *k, int c, int n, int h, int w) {
    if (!(k->keep_prob > 0.0f && k->keep_prob <= 1.0f))
        return db_fail(DB_ERR_ARG, "keep_prob %g is outside (0, 1]", k->keep_prob);
    if (c < 1 || n < 1 || h < 1 || w < 1)
        return db_fail(DB_ERR_ARG, "empty shape %dx%dx%dx%d (N,C,H,W)", n, c, h, w);
    return DB_OK;
}

/* y (+)= x * scale where the unit's flag keeps it; returns the dropped count (restrict and the
 * hoisted accum let the compiler vectorise it) */
static int apply_flags(float *restrict y, const float *restrict x, const uint8_t *restrict kept, float scale,
                       int len, int accum) {
    int dropped = 0;
    if (accum)
        for (int s = 0; s < len; s++) {
            y[s] += db_drop_apply1(x[s], kept[s], scale);
            dropped += !kept[s];
        }
    else
        for (int s = 0; s < len; s++) {
            y[s] = db_drop_apply1(x[s], kept[s], scale);
            dropped += !kept[s];
        }
    return dropped;
}

/* y (+)= mask * scale * x over one channel plane whose first unit is `base`. The decisions come
 * from the bulk generator a chunk at a time: db_drop_keep's, exactly. Returns the number of
 * dropped units. */
static uint64_t apply_plane(float *y, const float *x, const db_drop_key *k, uint64_t base, int hw,
                            int accum) {
    const float scale = 1.0f / k->keep_prob;
    uint8_t kept[512];
    uint64_t dropped = 0;
    for (int s0 = 0; s0 < hw; s0 += 512) {
        int len = hw - s0 < 512 ? hw - s0 : 512;
        db_rand_below(kept, k->seed, DB_STREAM_SITE + k->site, k->step, base + (uint64_t)s0, len,
                      db_u01_threshold(k->keep_prob));
        dropped += apply_flags(y + s0, x + s0, kept, scale, len, accum);
    }
    return dropped;
}

/* Both passes walk the tensor in memory order, one channel plane at a time (what OpenMP
 * splits), with the plane's logical NCHW offset. */
uint64_t db_dropout_forward(float *out, const float *in, const db_drop_key *k, int c, int n, int h, int w) {
    const int hw = h * w;
    uint64_t dropped = 0;
    #pragma omp parallel for reduction(+ : dropped) schedule(static)
    for (long p = 0; p < (long)c * n; p++) {
        uint64_t base = ((uint64_t)(p % n) * c + (uint64_t)(p / n)) * hw;
        dropped += apply_plane(out + (size_t)p * hw, in + (size_t)p * hw, k, base, hw, 0);
    }
    return dropped;
}

void db_dropout_backward(float *din, const float *dout, const db_drop_key *k, int c, int n, int h, int w,
                         int accum) {
    const int hw = h * w;
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)c * n; p++) {
        uint64_t base = ((uint64_t)(p % n) * c + (uint64_t)(p / n)) * hw;
        apply_plane(din + (size_t)p * hw, dout + (size_t)p * hw, k, base, hw, accum);
    }
}

void db_scale_plane(float *restrict y, const float *restrict x, int kept, float scale, int hw, int accum) {
    if (accum)
        for (int s = 0; s < hw; s++) y[s] += db_drop_apply1(x[s], kept, scale);
    else
        for (int s = 0; s < hw; s++) y[s] = db_drop_apply1(x[s], kept, scale);
}

/* SpatialDropout: one decision per (sample, channel) plane; forward and backward alike */
static uint64_t spatial(float *y, const float *x, const db_drop_key *k, int c, int n, int hw, int accum) {
    const float scale = 1.0f / k->keep_prob;
    uint64_t dropped = 0;
    #pragma omp parallel for reduction(+ : dropped) schedule(static)
    for (long p = 0; p < (long)c * n; p++) {
        int ch = (int)(p / n), j = (int)(p % n), kept = db_drop_keep(k, (uint64_t)j * c + ch);
        db_scale_plane(y + (size_t)p * hw, x + (size_t)p * hw, kept, scale, hw, accum);
        dropped += kept ? 0 : (uint64_t)hw;
    }
    return dropped;
}

uint64_t db_spatial_dropout_forward(float *out, const float *in, const db_drop_key *k, int c, int n, int h,
                                    int w) {
    return spatial(out, in, k, c, n, h * w, 0);
}

void db_spatial_dropout_backward(float *din, const float *dout, const db_drop_key *k, int c, int n, int h,
                                 int w, int accum) {
    spatial(din, dout, k, c, n, h * w, accum);
}
