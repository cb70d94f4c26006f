/* The bodies the CPU ops and their CUDA twins share (nets/linear.c, nets/pool.c,
 * nets/elementwise_cuda.cu, nets/linear_cublas.cu, nets/upsample.c, nets/upsample_cuda.cu,
 * nets/cells_cuda.cu): one sample's loss and rank, one plane's mean, one row's sum, one bilinear
 * tap, one pooling window's arg max and inside count. Each device runs the same body in the same order, so the results agree
 * bit for bit wherever the math library does (exp and log may differ in the last bit). */
#ifndef DB_NETS_BODIES_H
#define DB_NETS_BODIES_H

#include <float.h>
#include <math.h>
#include <stddef.h>

#include "core/hd.h"

/* Softmax cross-entropy with label smoothing (target 1-eps on the label + eps/k on every class)
 * of sample j of logits (k, n); writes its column of dlogits, the gradient of the batch mean,
 * when dlogits is not NULL; returns the sample's loss */
DB_HD double db_xent_sample(float *dlogits, const float *logits, int label, int k, int n, int j, float smoothing) {
    float mx = -FLT_MAX;
    for (int i = 0; i < k; i++) mx = fmaxf(mx, logits[(size_t)i * n + j]);
    double z = 0.0;
    for (int i = 0; i < k; i++) z += exp((double)logits[(size_t)i * n + j] - mx);
    double logz = log(z) + mx, loss = 0.0;
    for (int i = 0; i < k; i++) {
        double q = smoothing / k + (i == label ? 1.0 - smoothing : 0.0);
        double logp = logits[(size_t)i * n + j] - logz;
        if (q > 0.0) loss -= q * logp;
        if (dlogits) dlogits[(size_t)i * n + j] = (float)((exp(logp) - q) / n);
    }
    return loss;
}

/* How many classes sample j ranks before its label (ties go to the lower index); -1 when the
 * label's logit is NaN, which is never a correct answer */
DB_HD int db_label_rank(const float *logits, int label, int k, int n, int j) {
    float v = logits[(size_t)label * n + j];
    if (isnan(v)) return -1;
    int above = 0;
    for (int i = 0; i < k; i++) {
        float u = logits[(size_t)i * n + j];
        if (u > v || isnan(u) || (u == v && i < label)) above++;
    }
    return above;
}

/* The mean of one plane of hw values, summed in double in index order */
DB_HD float db_plane_mean(const float *x, int hw) {
    double s = 0.0;
    for (int i = 0; i < hw; i++) s += x[i];
    return (float)(s / hw);
}

/* The sum of one row of n values, in double in index order */
DB_HD float db_row_sum(const float *x, int n) {
    double s = 0.0;
    for (int j = 0; j < n; j++) s += x[j];
    return (float)s;
}

/* Bilinear resizing with aligned corners from `in` to `out` positions: output index i samples the
 * input at i (in-1)/(out-1) (0 for out 1), between i0 and i1 with weights w0 and w1 */
DB_HD void db_resize_tap(int i, int in, int out, int *i0, int *i1, float *w0, float *w1) {
    const double scale = out > 1 ? (double)(in - 1) / (out - 1) : 0.0, f = i * scale;
    int a = (int)floor(f);
    if (a > in - 1) a = in - 1;
    *i0 = a, *i1 = a + 1 < in ? a + 1 : in - 1;
    *w1 = (float)(f - a), *w0 = 1.0f - *w1;
}

/* Pooling windows k x k, stride s, `pad` rows and columns before the map's first (any more past
 * its last): the unpadded index of window (oy, ox)'s first largest pixel in (row, column) order,
 * -1 when none beats -FLT_MAX (nets/pool.c's max backward, nets/cells_cuda.cu's max) */
DB_HD int db_window_arg_max(const float *x, int h, int w, int k, int s, int pad, int oy, int ox) {
    float best = -FLT_MAX;
    int arg = -1;
    for (int ky = 0; ky < k; ky++) {
        const int iy = oy * s + ky - pad;
        if (iy < 0 || iy >= h) continue;
        for (int kx = 0; kx < k; kx++) {
            const int ix = ox * s + kx - pad;
            if (ix >= 0 && ix < w && x[iy * w + ix] > best) best = x[iy * w + ix], arg = iy * w + ix;
        }
    }
    return arg;
}

/* 1 / the pixels of window (oy, ox) inside the h x w map (TensorFlow's SAME average) */
DB_HD float db_window_inside_inv(int h, int w, int k, int s, int pad, int oy, int ox) {
    const int y0 = oy * s - pad, x0 = ox * s - pad;
    const int ny = (y0 + k < h ? y0 + k : h) - (y0 > 0 ? y0 : 0), nx = (x0 + k < w ? x0 + k : w) - (x0 > 0 ? x0 : 0);
    return 1.0f / (float)(ny * nx);
}

#endif
