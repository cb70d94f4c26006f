#include "dropouts/droppath.h"

#include <stddef.h>

float db_droppath_rate(float p, int index, int blocks) {
    if (blocks <= 1) return p;
    return (float)((double)p * index / (blocks - 1));
}

/* y (+)= x * (kept ? 1/keep_prob : 0) per sample; the forward and the backward alike */
static int apply(float *y, const float *x, const db_drop_key *k, int c, int n, int hw, int accum) {
    const float scale = 1.0f / k->keep_prob;
    int dropped = 0;
    #pragma omp parallel for reduction(+ : dropped) schedule(static)
    for (long p = 0; p < (long)c * n; p++) {
        int kept = db_droppath_keep(k, (int)(p % n));
        dropped += p < n && !kept; /* count each sample once, on its first channel */
        db_scale_plane(y + (size_t)p * hw, x + (size_t)p * hw, kept, scale, hw, accum);
    }
    return dropped;
}

int db_droppath_forward(float *out, const float *in, const db_drop_key *k, int c, int n, int h, int w) {
    return apply(out, in, k, c, n, h * w, 0);
}

void db_droppath_backward(float *din, const float *dout, const db_drop_key *k, int c, int n, int h, int w,
                          int accum) {
    apply(din, dout, k, c, n, h * w, accum);
}

void db_cutout(float *x, const int *ids, int size, uint64_t seed, uint32_t step, int c, int n, int h, int w) {
    if (size < 1) return;
    #pragma omp parallel for schedule(static)
    for (int j = 0; j < n; j++) {
        int y0, x0;
        db_cutout_corner(seed, step, ids[j], size, h, w, &y0, &x0);
        for (int ch = 0; ch < c; ch++) {
            float *plane = x + ((size_t)ch * n + j) * h * w;
            for (int y = y0 < 0 ? 0 : y0; y < y0 + size && y < h; y++)
                for (int xx = x0 < 0 ? 0 : x0; xx < x0 + size && xx < w; xx++) plane[(size_t)y * w + xx] = 0.0f;
        }
    }
}
