/* Batch norm over CNHW: channel c's m values are contiguous. Sums run in double, one thread per
 * channel in a fixed order, so the result does not depend on the thread count. */
#include <math.h>

#include "nets/ops.h"

void db_bn_forward_train(float *out, float *save_mean, float *save_invstd, float *run_mean,
                         float *run_var, const float *in, const float *gamma, const float *beta,
                         float momentum, float eps, int c, size_t m) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *x = in + (size_t)ch * m;
        float *y = out + (size_t)ch * m;
        double s = 0.0;
        for (size_t i = 0; i < m; i++) s += x[i];
        double mean = s / (double)m, ss = 0.0;
        for (size_t i = 0; i < m; i++) { double t = x[i] - mean; ss += t * t; }
        double var = ss / (double)m;
        float inv = (float)(1.0 / sqrt(var + eps));
        float sc = gamma[ch] * inv, sh = beta[ch] - (float)mean * sc;
        for (size_t i = 0; i < m; i++) y[i] = x[i] * sc + sh;
        save_mean[ch] = (float)mean;
        save_invstd[ch] = inv;
        double unbiased = m > 1 ? ss / (double)(m - 1) : var;
        run_mean[ch] = (1.0f - momentum) * run_mean[ch] + momentum * (float)mean;
        run_var[ch] = (1.0f - momentum) * run_var[ch] + momentum * (float)unbiased;
    }
}

void db_bn_forward_infer(float *out, const float *in, const float *gamma, const float *beta,
                         const float *run_mean, const float *run_var, float eps, int c, size_t m) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float sc = gamma[ch] / sqrtf(run_var[ch] + eps), sh = beta[ch] - run_mean[ch] * sc;
        const float *x = in + (size_t)ch * m;
        float *y = out + (size_t)ch * m;
        for (size_t i = 0; i < m; i++) y[i] = x[i] * sc + sh;
    }
}

void db_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                    const float *gamma, const float *save_mean, const float *save_invstd, int c,
                    size_t m, int accum) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *x = in + (size_t)ch * m, *dy = dout + (size_t)ch * m;
        float mean = save_mean[ch], inv = save_invstd[ch];
        double sdy = 0.0, sdyx = 0.0;
        for (size_t i = 0; i < m; i++) {
            sdy += dy[i];
            sdyx += (double)dy[i] * (x[i] - mean);
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
        if (accum)
            for (size_t i = 0; i < m; i++) dx[i] += a * (dy[i] - b - (x[i] - mean) * cc);
        else
            for (size_t i = 0; i < m; i++) dx[i] = a * (dy[i] - b - (x[i] - mean) * cc);
    }
}
