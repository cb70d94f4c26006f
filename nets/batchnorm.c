/* Batch norm over CNHW: channel c's m values are contiguous. One thread per channel; sums go
 * through fixed blocks of float lanes (vectorised) gathered in double, in a fixed order, so the
 * result does not depend on the thread count. An optional ReLU is fused in: the forward writes
 * max(0, y), and the backward recomputes the mask from the input, saving two passes over memory
 * per layer against a separate ReLU op. */
#include <math.h>

#include "nets/ops.h"

#include <stdint.h>

#include "dropouts/dropblock.h"

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

/* y = post(relu?(x * sc + sh)) over m units of one channel, the first `at` in the mask and
 * `first` in its channel (sample first / hw): a run of units sharing one scale at a time (all m
 * when the scale is uniform) */
static void normalise_post(float *restrict y, const float *restrict x, float sc, float sh, int relu, size_t m,
                           const db_bn_post *post, size_t at, size_t first) {
    const unsigned char *restrict mk = post->mask + at;
    size_t run = post->uniform ? m : (size_t)post->hw;
    for (size_t i0 = 0; i0 < m; i0 += run) {
        const float s = post->scales[(first + i0) / (size_t)post->hw];
        size_t end = i0 + run < m ? i0 + run : m;
        if (relu)
            for (size_t i = i0; i < end; i++) {
                float v = x[i] * sc + sh;
                y[i] = db_dropblock_apply1(v > 0.0f ? v : 0.0f, mk[i], s);
            }
        else
            for (size_t i = i0; i < end; i++) y[i] = db_dropblock_apply1(x[i] * sc + sh, mk[i], s);
    }
}

/* One span (a channel, or a group of its samples) normalised with its statistics (mean, biased
 * var): y, and the mean and inverse deviation the backward keeps */
static void normalise_span(float *y, const float *x, double mean, double var, float gamma, float beta, float eps,
                           int relu, size_t m, const db_bn_post *post, size_t at, size_t first, float *keep_mean,
                           float *keep_inv) {
    float inv = (float)(1.0 / sqrt(var + eps));
    float sc = gamma * inv, sh = beta - (float)mean * sc;
    if (post)
        normalise_post(y, x, sc, sh, relu, m, post, at, first);
    else if (relu)
        for (size_t i = 0; i < m; i++) { float v = x[i] * sc + sh; y[i] = v > 0.0f ? v : 0.0f; }
    else
        for (size_t i = 0; i < m; i++) y[i] = x[i] * sc + sh;
    *keep_mean = (float)mean;
    *keep_inv = inv;
}

void db_bn_forward_train(float *out, float *save_mean, float *save_invstd, float *run_mean,
                         float *run_var, const float *in, const float *gamma, const float *beta,
                         float momentum, float eps, int relu, int c, size_t m, int groups, const db_bn_post *post) {
    const size_t mg = m / (size_t)groups;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double mean_sum = 0.0, var_sum = 0.0; /* the groups' means and unbiased variances, in order */
        for (int gi = 0; gi < groups; gi++) {
            const size_t first = (size_t)gi * mg, o = (size_t)ch * m + first, k = (size_t)ch * groups + gi;
            const float *x = in + o;
            /* shifting by one sample keeps E[t^2] - E[t]^2 from cancelling when |mean| >> sd */
            double s1, s2;
            moments(x, mg, x[0], &s1, &s2);
            double mt = s1 / (double)mg, var = s2 / (double)mg - mt * mt;
            if (var < 0.0) var = 0.0;
            double mean = mt + x[0];
            normalise_span(out + o, x, mean, var, gamma[ch], beta[ch], eps, relu, mg, post, o, first, &save_mean[k],
                           &save_invstd[k]);
            mean_sum += mean;
            var_sum += mg > 1 ? var * (double)mg / (double)(mg - 1) : var;
        }
        /* the running statistics follow the groups' average (one group: its own, as before) */
        run_mean[ch] = (1.0f - momentum) * run_mean[ch] + momentum * (float)(mean_sum / groups);
        run_var[ch] = (1.0f - momentum) * run_var[ch] + momentum * (float)(var_sum / groups);
    }
}

void db_bn_moments(double *sums, const float *in, const float *shift, int c, size_t m) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) moments(in + (size_t)ch * m, m, shift[ch], &sums[2 * ch], &sums[2 * ch + 1]);
}

void db_bn_forward_apply(float *out, float *save_mean, float *save_invstd, float *run_mean, float *run_var,
                         const float *in, const float *gamma, const float *beta, const double *sums, const float *shift,
                         double count, float momentum, float eps, int relu, int c, size_t m, const db_bn_post *post) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double mt = sums[2 * ch] / count, var = sums[2 * ch + 1] / count - mt * mt;
        if (var < 0.0) var = 0.0;
        const double mean = mt + shift[ch]; /* (shift may be run_mean: read before its update below) */
        normalise_span(out + (size_t)ch * m, in + (size_t)ch * m, mean, var, gamma[ch], beta[ch], eps, relu, m, post,
                       (size_t)ch * m, 0, &save_mean[ch], &save_invstd[ch]);
        const double unbiased = count > 1 ? var * count / (count - 1) : var;
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

/* The output gradient the BN's own backward sees at a unit: dy through the fused post map (dy
 * itself without one), zero where the fused ReLU clipped. */
static inline float out_grad(float dy, float v, int relu, unsigned char m, float s, int has_post) {
    float d = has_post ? db_dropblock_apply1(dy, m, s) : dy;
    return relu ? db_masked(d, 0u - (uint32_t)(v > 0.0f)) : d; /* a select GCC vectorises */
}

/* The backward's sums over one span: of the output gradient g seen by the normalisation, and of
 * g * (x - mean). has_post is a constant at every call site, so the compiler makes the plain loop
 * and the fused one separately. Runs of units share one post scale: the whole span, or one
 * sample's h*w units (sample (first + unit) / hw of the batch). */
static inline __attribute__((always_inline)) void backward_sums(
    double *sum_dy, double *sum_dyx, const float *restrict dy, const float *restrict x,
    const unsigned char *restrict mk, const db_bn_post *post, float gamma, float beta, float mean, float inv,
    int relu, size_t m, size_t first, const int has_post) {
    const size_t run = !has_post || post->uniform ? m : (size_t)post->hw;
    const size_t hw = has_post ? (size_t)post->hw : 1;
    /* the forward's exact scale and shift, so the ReLU mask matches it bit for bit */
    const float sc = gamma * inv, sh = beta - mean * sc;
    double sdy = 0.0, sdyx = 0.0;
    for (size_t r0 = 0; r0 < m; r0 += run) {
        const float ps = has_post ? post->scales[(first + r0) / hw] : 1.0f;
        const size_t rend = r0 + run < m ? r0 + run : m;
        for (size_t i0 = r0; i0 < rend; i0 += BLOCK) { /* float lanes per block, gathered in double */
            size_t n = (i0 + BLOCK < rend ? i0 + BLOCK : rend) - i0, i = 0;
            float la[LANES] = {0}, lb[LANES] = {0};
            for (; i + LANES <= n; i += LANES)
                for (int l = 0; l < LANES; l++) {
                    size_t k = i0 + i + (size_t)l;
                    float g = out_grad(dy[k], x[k] * sc + sh, relu, has_post ? mk[k] : 0, ps, has_post);
                    la[l] += g;
                    lb[l] += g * (x[k] - mean);
                }
            for (; i < n; i++) {
                size_t k = i0 + i;
                float g = out_grad(dy[k], x[k] * sc + sh, relu, has_post ? mk[k] : 0, ps, has_post);
                la[0] += g;
                lb[0] += g * (x[k] - mean);
            }
            for (int l = 0; l < LANES; l++) { sdy += la[l]; sdyx += lb[l]; }
        }
    }
    *sum_dy = sdy, *sum_dyx = sdyx;
}

/* dx over one span from the sums over `count` units (the span's own, or the whole synchronised
 * batch's): dx = gamma*inv/count * (count*g - sum(g) - xhat*sum(g*xhat)) */
static inline __attribute__((always_inline)) void backward_apply(
    float *dx, const float *restrict dy, const float *restrict x, const unsigned char *restrict mk,
    const db_bn_post *post, float gamma, float beta, float mean, float inv, double sdy, double sdyx, double count,
    int relu, size_t m, size_t first, int accum, const int has_post) {
    const size_t run = !has_post || post->uniform ? m : (size_t)post->hw;
    const size_t hw = has_post ? (size_t)post->hw : 1;
    const float sc = gamma * inv, sh = beta - mean * sc;
    double sdyxhat = sdyx * inv;
    float a = gamma * inv;
    float b = (float)(sdy / count);
    float cc = (float)(sdyxhat / count) * inv;
    for (size_t r0 = 0; r0 < m; r0 += run) {
        const float ps = has_post ? post->scales[(first + r0) / hw] : 1.0f;
        const size_t rend = r0 + run < m ? r0 + run : m;
        for (size_t i = r0; i < rend; i++) {
            float g = out_grad(dy[i], x[i] * sc + sh, relu, has_post ? mk[i] : 0, ps, has_post);
            float v = a * (g - b - (x[i] - mean) * cc);
            dx[i] = accum ? dx[i] + v : v;
        }
    }
}

/* One span of the backward on its own statistics */
static inline __attribute__((always_inline)) void backward_channel(
    float *dx, float *dgamma, float *dbeta, const float *restrict dy, const float *restrict x,
    const unsigned char *restrict mk, const db_bn_post *post, float gamma, float beta, float mean, float inv,
    int relu, size_t m, size_t first, int accum, const int has_post) {
    double sdy, sdyx;
    backward_sums(&sdy, &sdyx, dy, x, mk, post, gamma, beta, mean, inv, relu, m, first, has_post);
    *dgamma = (float)(sdyx * inv);
    *dbeta = (float)sdy;
    if (dx) backward_apply(dx, dy, x, mk, post, gamma, beta, mean, inv, sdy, sdyx, (double)m, relu, m, first, accum, has_post);
}

void db_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                    const float *gamma, const float *beta, const float *save_mean,
                    const float *save_invstd, int relu, int c, size_t m, int groups, int accum,
                    const db_bn_post *post) {
    const size_t mg = m / (size_t)groups;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float dg = 0.0f, db = 0.0f; /* the groups' sums, in order (one group: its own) */
        for (int gi = 0; gi < groups; gi++) {
            const size_t first = (size_t)gi * mg, o = (size_t)ch * m + first, k = (size_t)ch * groups + gi;
            float *dx = din ? din + o : NULL, g1, b1;
            if (post)
                backward_channel(dx, &g1, &b1, dout + o, in + o, post->mask + o, post, gamma[ch], beta[ch],
                                 save_mean[k], save_invstd[k], relu, mg, first, accum, 1);
            else
                backward_channel(dx, &g1, &b1, dout + o, in + o, NULL, NULL, gamma[ch], beta[ch], save_mean[k],
                                 save_invstd[k], relu, mg, first, accum, 0);
            dg = gi ? dg + g1 : g1, db = gi ? db + b1 : b1;
        }
        dgamma[ch] = dg, dbeta[ch] = db;
    }
}

void db_bn_backward_sums(double *sums, float *dgamma, float *dbeta, const float *dout, const float *in,
                         const float *gamma, const float *beta, const float *save_mean, const float *save_invstd, int relu,
                         int c, size_t m, const db_bn_post *post) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const size_t o = (size_t)ch * m;
        double *sd = &sums[2 * ch], *sx = &sums[2 * ch + 1];
        if (post)
            backward_sums(sd, sx, dout + o, in + o, post->mask + o, post, gamma[ch], beta[ch], save_mean[ch],
                          save_invstd[ch], relu, m, 0, 1);
        else
            backward_sums(sd, sx, dout + o, in + o, NULL, NULL, gamma[ch], beta[ch], save_mean[ch], save_invstd[ch],
                          relu, m, 0, 0);
        dgamma[ch] = (float)(*sx * save_invstd[ch]), dbeta[ch] = (float)*sd;
    }
}

void db_bn_backward_apply(float *din, const double *sums, double count, const float *dout, const float *in,
                          const float *gamma, const float *beta, const float *save_mean, const float *save_invstd,
                          int relu, int c, size_t m, int accum, const db_bn_post *post) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const size_t o = (size_t)ch * m;
        if (post)
            backward_apply(din + o, dout + o, in + o, post->mask + o, post, gamma[ch], beta[ch], save_mean[ch],
                           save_invstd[ch], sums[2 * ch], sums[2 * ch + 1], count, relu, m, 0, accum, 1);
        else
            backward_apply(din + o, dout + o, in + o, NULL, NULL, gamma[ch], beta[ch], save_mean[ch], save_invstd[ch],
                           sums[2 * ch], sums[2 * ch + 1], count, relu, m, 0, accum, 0);
    }
}
