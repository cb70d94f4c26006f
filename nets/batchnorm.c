/* Batch norm over CNHW: channel c's m values are contiguous. One thread per channel; sums go
 * through fixed blocks of float lanes (vectorised) gathered in double, in a fixed order, so the
 * result does not depend on the thread count. An optional ReLU is fused in: the forward writes
 * max(0, y), and the backward recomputes the mask from the input, saving two passes over memory
 * per layer against a separate ReLU op. */
#include <math.h>

#include "nets/ops.h"

#define LANES 16
#define BLOCK 2048

/* sum of (x - shift) and of its square, in double over float-lane blocks */
static void moments(const float *x, size_t m, float shift, double *s1, double *s2) {
    double a = 0.0, b = 0.0;
    for (size_t i0 = 0; i0 < m; i0 += BLOCK) {
        size_t n = m - i0 < BLOCK ? m - i0 : BLOCK, i = 0;
        float la[LANES] = {0}, lb[LANES] = {0};
        for (; i + LANES <= n; i += LANES)
            for (int l = 0; l < LANES; l++) {
                float t = x[i0 + i + l] - shift;
                la[l] += t;
                lb[l] += t * t;
            }
        for (; i < n; i++) { float t = x[i0 + i] - shift; la[0] += t; lb[0] += t * t; }
        for (int l = 0; l < LANES; l++) { a += la[l]; b += lb[l]; }
    }
    *s1 = a; *s2 = b;
}

void db_bn_forward_train(float *out, float *save_mean, float *save_invstd, float *run_mean,
                         float *run_var, const float *in, const float *gamma, const float *beta,
                         float momentum, float eps, int relu, int c, size_t m) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *x = in + (size_t)ch * m;
        float *y = out + (size_t)ch * m;
        /* shifting by one sample keeps E[t^2] - E[t]^2 from cancelling when |mean| >> sd */
        double s1, s2;
        moments(x, m, x[0], &s1, &s2);
        double mt = s1 / (double)m, var = s2 / (double)m - mt * mt;
        if (var < 0.0) var = 0.0;
        double mean = mt + x[0];
        float inv = (float)(1.0 / sqrt(var + eps));
        float sc = gamma[ch] * inv, sh = beta[ch] - (float)mean * sc;
        if (relu)
            for (size_t i = 0; i < m; i++) { float v = x[i] * sc + sh; y[i] = v > 0.0f ? v : 0.0f; }
        else
            for (size_t i = 0; i < m; i++) y[i] = x[i] * sc + sh;
        save_mean[ch] = (float)mean;
        save_invstd[ch] = inv;
        double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
        run_mean[ch] = (1.0f - momentum) * run_mean[ch] + momentum * (float)mean;
        run_var[ch] = (1.0f - momentum) * run_var[ch] + momentum * (float)unbiased;
    }
}

void db_bn_forward_infer(float *out, const float *in, const float *gamma, const float *beta,
                         const float *run_mean, const float *run_var, float eps, int relu, int c,
                         size_t m) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float sc = gamma[ch] / sqrtf(run_var[ch] + eps), sh = beta[ch] - run_mean[ch] * sc;
        const float *x = in + (size_t)ch * m;
        float *y = out + (size_t)ch * m;
        if (relu)
            for (size_t i = 0; i < m; i++) { float v = x[i] * sc + sh; y[i] = v > 0.0f ? v : 0.0f; }
        else
            for (size_t i = 0; i < m; i++) y[i] = x[i] * sc + sh;
    }
}

void db_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                    const float *gamma, const float *beta, const float *save_mean,
                    const float *save_invstd, int relu, int c, size_t m, int accum) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *x = in + (size_t)ch * m, *dy = dout + (size_t)ch * m;
        const float mean = save_mean[ch], inv = save_invstd[ch];
        /* the forward's exact scale and shift, so the ReLU mask matches it bit for bit */
        const float sc = gamma[ch] * inv, sh = beta[ch] - mean * sc;
        double sdy = 0.0, sdyx = 0.0;
        for (size_t i0 = 0; i0 < m; i0 += BLOCK) {
            size_t n = m - i0 < BLOCK ? m - i0 : BLOCK;
            float la = 0.0f, lb = 0.0f;
            for (size_t i = i0; i < i0 + n; i++) {
                float g = (!relu || x[i] * sc + sh > 0.0f) ? dy[i] : 0.0f;
                la += g;
                lb += g * (x[i] - mean);
            }
            sdy += la; sdyx += lb;
        }
        double sdyxhat = sdyx * inv;
        dgamma[ch] = (float)sdyxhat;
        dbeta[ch] = (float)sdy;
        if (!din) continue;
        /* dx = gamma*inv/m * (m*dy - sum(dy) - xhat*sum(dy*xhat)) */
        float a = gamma[ch] * inv;
        float b = (float)(sdy / (double)m);
        float cc = (float)(sdyxhat / (double)m) * inv;
        float *dx = din + (size_t)ch * m;
        for (size_t i = 0; i < m; i++) {
            float g = (!relu || x[i] * sc + sh > 0.0f) ? dy[i] : 0.0f;
            float v = a * (g - b - (x[i] - mean) * cc);
            dx[i] = accum ? dx[i] + v : v;
        }
    }
}
