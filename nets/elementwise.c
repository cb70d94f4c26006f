/* ReLU, residual add, pass-through gradients and the option-A shortcut. */
#include <string.h>

#include "nets/ops.h"

void db_relu_forward(float *out, const float *in, size_t len) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < len; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void db_relu_backward(float *din, const float *dout, const float *out, size_t len, int accum) {
    if (accum) {
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < len; i++) din[i] += out[i] > 0.0f ? dout[i] : 0.0f;
    } else {
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < len; i++) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
    }
}

void db_add_forward(float *out, const float *a, const float *b, size_t len) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < len; i++) out[i] = a[i] + b[i];
}

void db_pass_backward(float *din, const float *dout, size_t len, int accum) {
    if (!accum) { memcpy(din, dout, len * sizeof(float)); return; }
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < len; i++) din[i] += dout[i];
}

void db_shortcut_a_forward(float *out, const float *in, int cin, int cout, int n, int h, int w,
                           int stride, int oh, int ow) {
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < cout; c++) {
        float *o = out + (size_t)c * n * oh * ow;
        if (c >= cin) { memset(o, 0, sizeof(float) * (size_t)n * oh * ow); continue; }
        for (int j = 0; j < n; j++) {
            const float *src = in + ((size_t)c * n + j) * h * w;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    o[((size_t)j * oh + y) * ow + x] = src[(size_t)y * stride * w + x * stride];
        }
    }
}

void db_shortcut_a_backward(float *din, const float *dout, int cin, int n, int h, int w,
                            int stride, int oh, int ow, int accum) {
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < cin; c++) {
        const float *g = dout + (size_t)c * n * oh * ow;
        float *dc = din + (size_t)c * n * h * w;
        if (!accum) memset(dc, 0, sizeof(float) * (size_t)n * h * w);
        for (int j = 0; j < n; j++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    dc[((size_t)j * h + y * stride) * w + x * stride] += g[((size_t)j * oh + y) * ow + x];
    }
}

void db_concat_forward(float *out, const float *a, const float *b, int ca, int cb, size_t m) {
    memcpy(out, a, sizeof(float) * (size_t)ca * m);
    memcpy(out + (size_t)ca * m, b, sizeof(float) * (size_t)cb * m);
}

void db_concat_backward(float *da, float *db, const float *dout, int ca, int cb, size_t m, int accum_a, int accum_b) {
    if (da) db_pass_backward(da, dout, (size_t)ca * m, accum_a);
    if (db) db_pass_backward(db, dout + (size_t)ca * m, (size_t)cb * m, accum_b);
}

void db_subsample_forward(float *out, const float *in, int planes, int h, int w, int s, int off) {
    const int oh = (h + s - 1) / s, ow = (w + s - 1) / s;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const int iy = y * s + off, ix = x * s + off;
                out[((size_t)p * oh + y) * ow + x] = iy < h && ix < w ? in[((size_t)p * h + iy) * w + ix] : 0.0f;
            }
}

void db_subsample_backward(float *din, const float *dout, int planes, int h, int w, int s, int off, int accum) {
    const int oh = (h + s - 1) / s, ow = (w + s - 1) / s;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        float *dx = din + (size_t)p * h * w;
        if (!accum) memset(dx, 0, sizeof(float) * (size_t)h * w);
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const int iy = y * s + off, ix = x * s + off;
                if (iy < h && ix < w) dx[(size_t)iy * w + ix] += dout[((size_t)p * oh + y) * ow + x];
            }
    }
}
