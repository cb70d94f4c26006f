/* Nearest-neighbour upsampling (the FPN's top-down path) and a per-channel bias (the detection
 * heads' last convolutions), over CNHW planes. */
#include "nets/ops.h"

void db_upsample_forward(float *out, const float *in, int planes, int h, int w, int s) {
    const int ow = w * s;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++)
        for (int y = 0; y < h * s; y++) {
            const float *src = in + ((size_t)p * h + y / s) * w;
            float *dst = out + ((size_t)p * h * s + y) * ow;
            for (int x = 0; x < ow; x++) dst[x] = src[x / s];
        }
}

void db_upsample_backward(float *din, const float *dout, int planes, int h, int w, int s, int accum) {
    const int ow = w * s;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float a = 0.0f; /* the s x s block's gradients, row by row */
                for (int dy = 0; dy < s; dy++)
                    for (int dx = 0; dx < s; dx++) a += dout[((size_t)p * h * s + (size_t)y * s + dy) * ow + x * s + dx];
                float *d = din + ((size_t)p * h + y) * w + x;
                *d = accum ? *d + a : a;
            }
}

void db_bias_forward(float *out, const float *in, const float *bias, int c, size_t m) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (size_t i = 0; i < m; i++) out[(size_t)ch * m + i] = in[(size_t)ch * m + i] + bias[ch];
}

void db_bias_backward(float *din, float *dbias, const float *dout, int c, size_t m, int accum) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *d = dout + (size_t)ch * m;
        double s = 0.0;
        for (size_t i = 0; i < m; i++) s += d[i];
        dbias[ch] = (float)s;
    }
    if (din) db_pass_backward(din, dout, (size_t)c * m, accum);
}
