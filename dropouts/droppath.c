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
