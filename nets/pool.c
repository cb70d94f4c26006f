/* Max, average and global average pooling over planes of h*w (planes = c*n in CNHW). */
#include <float.h>
#include <string.h>

#include "nets/bodies.h"
#include "nets/ops.h"

void db_maxpool_forward(float *out, const float *in, int planes, int h, int w, int k, int stride,
                        int pad, int oh, int ow) {
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *x = in + (size_t)p * h * w;
        float *y = out + (size_t)p * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float best = -FLT_MAX;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < w && x[iy * w + ix] > best) best = x[iy * w + ix];
                    }
                }
                y[oy * ow + ox] = best;
            }
    }
}

void db_maxpool_backward(float *din, const float *dout, const float *in, int planes, int h, int w,
                         int k, int stride, int pad, int oh, int ow, int accum) {
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *x = in + (size_t)p * h * w;
        const float *g = dout + (size_t)p * oh * ow;
        float *dx = din + (size_t)p * h * w;
        if (!accum) memset(dx, 0, sizeof(float) * (size_t)h * w);
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float best = -FLT_MAX;
                int arg = -1;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < w && x[iy * w + ix] > best) {
                            best = x[iy * w + ix];
                            arg = iy * w + ix;
                        }
                    }
                }
                if (arg >= 0) dx[arg] += g[oy * ow + ox];
            }
    }
}

/* The average's divisor at output (oy, ox): k*k, or with exclude the window's pixels inside the map */
static float avg_inv(int oy, int ox, int h, int w, int k, int stride, int pad, int exclude) {
    if (!exclude) return 1.0f / (float)(k * k);
    const int y0 = oy * stride - pad, x0 = ox * stride - pad;
    const int ny = (y0 + k < h ? y0 + k : h) - (y0 > 0 ? y0 : 0), nx = (x0 + k < w ? x0 + k : w) - (x0 > 0 ? x0 : 0);
    return 1.0f / (float)(ny * nx);
}

static void avg_forward(float *out, const float *in, int planes, int h, int w, int k, int stride, int pad, int oh,
                        int ow, int exclude) {
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *x = in + (size_t)p * h * w;
        float *y = out + (size_t)p * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float s = 0.0f;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < w) s += x[iy * w + ix];
                    }
                }
                y[oy * ow + ox] = s * avg_inv(oy, ox, h, w, k, stride, pad, exclude);
            }
    }
}

static void avg_backward(float *din, const float *dout, int planes, int h, int w, int k, int stride, int pad, int oh,
                         int ow, int accum, int exclude) {
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *g = dout + (size_t)p * oh * ow;
        float *dx = din + (size_t)p * h * w;
        if (!accum) memset(dx, 0, sizeof(float) * (size_t)h * w);
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float v = g[oy * ow + ox] * avg_inv(oy, ox, h, w, k, stride, pad, exclude);
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < w) dx[iy * w + ix] += v;
                    }
                }
            }
    }
}

void db_avgpool_forward(float *out, const float *in, int planes, int h, int w, int k, int stride,
                        int pad, int oh, int ow) {
    avg_forward(out, in, planes, h, w, k, stride, pad, oh, ow, 0);
}

void db_avgpool_backward(float *din, const float *dout, int planes, int h, int w, int k,
                         int stride, int pad, int oh, int ow, int accum) {
    avg_backward(din, dout, planes, h, w, k, stride, pad, oh, ow, accum, 0);
}

void db_avgpool_excl_forward(float *out, const float *in, int planes, int h, int w, int k, int stride, int pad, int oh,
                             int ow) {
    avg_forward(out, in, planes, h, w, k, stride, pad, oh, ow, 1);
}

void db_avgpool_excl_backward(float *din, const float *dout, int planes, int h, int w, int k, int stride, int pad,
                              int oh, int ow, int accum) {
    avg_backward(din, dout, planes, h, w, k, stride, pad, oh, ow, accum, 1);
}

void db_gap_forward(float *out, const float *in, int planes, int hw) {
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        out[p] = db_plane_mean(in + (size_t)p * hw, hw);
    }
}

void db_gap_backward(float *din, const float *dout, int planes, int hw, int accum) {
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        float v = dout[p] / (float)hw;
        float *dx = din + (size_t)p * hw;
        for (int i = 0; i < hw; i++) dx[i] = (accum ? dx[i] : 0.0f) + v;
    }
}
