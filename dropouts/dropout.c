#include "dropouts/dropout.h"

#include <stddef.h>

db_status db_drop_check(const db_drop_key *k, int c, int n, int h, int w) {
    if (!(k->keep_prob > 0.0f && k->keep_prob <= 1.0f))
        return db_fail(DB_ERR_ARG, "keep_prob %g is outside (0, 1]", k->keep_prob);
    if (c < 1 || n < 1 || h < 1 || w < 1)
        return db_fail(DB_ERR_ARG, "empty shape %dx%dx%dx%d (N,C,H,W)", n, c, h, w);
    return DB_OK;
}

/* y (+)= mask * scale * x over one channel plane whose first unit is `base`. The Philox block
 * that serves four consecutive units is drawn once for them (db_drop_keep would draw it per
 * unit); the decisions are the same function of the unit, so they match db_drop_keep exactly.
 * Returns the number of dropped units. */
static uint64_t apply_plane(float *y, const float *x, const db_drop_key *k, uint64_t base, int hw,
                            int accum) {
    const float scale = 1.0f / k->keep_prob;
    const uint32_t stream = DB_STREAM_SITE + k->site;
    uint64_t dropped = 0, u = base;
    db_u32x4 r = db_rand4(k->seed, stream, k->step, u >> 2);
    for (int s = 0; s < hw; s++, u++) {
        if ((u & 3) == 0) r = db_rand4(k->seed, stream, k->step, u >> 2);
        int keep = db_u01(r.v[u & 3]) < k->keep_prob;
        float v = keep ? x[s] * scale : 0.0f;
        y[s] = accum ? y[s] + v : v;
        dropped += !keep;
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

uint64_t db_spatial_dropout_forward(float *out, const float *in, const db_drop_key *k, int c, int n, int h,
                                    int w) {
    const int hw = h * w;
    const float scale = 1.0f / k->keep_prob;
    uint64_t dropped = 0;
    #pragma omp parallel for reduction(+ : dropped) schedule(static)
    for (long p = 0; p < (long)c * n; p++) {
        int ch = (int)(p / n), j = (int)(p % n);
        float f = db_drop_keep(k, (uint64_t)j * c + ch) ? scale : 0.0f;
        const float *x = in + (size_t)p * hw;
        float *y = out + (size_t)p * hw;
        for (int s = 0; s < hw; s++) y[s] = x[s] * f;
        dropped += f == 0.0f ? (uint64_t)hw : 0;
    }
    return dropped;
}

void db_spatial_dropout_backward(float *din, const float *dout, const db_drop_key *k, int c, int n, int h,
                                 int w, int accum) {
    const int hw = h * w;
    const float scale = 1.0f / k->keep_prob;
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)c * n; p++) {
        int ch = (int)(p / n), j = (int)(p % n);
        float f = db_drop_keep(k, (uint64_t)j * c + ch) ? scale : 0.0f;
        const float *g = dout + (size_t)p * hw;
        float *d = din + (size_t)p * hw;
        for (int s = 0; s < hw; s++) d[s] = (accum ? d[s] : 0.0f) + g[s] * f;
    }
}
