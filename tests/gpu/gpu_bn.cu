// gpu-check: batch norm against the CPU op (nets/batchnorm.c): cuDNN's, and the graph's own fused
// kernels (nets/bn_cuda.cu, --gpu-bn fused), training with running statistics, inference and
// backward, with and without the ReLU, within 1e-4 of the largest value (summation orders
// differ); the fused kernels also accumulating, and bit for bit the same twice. Shapes from
// maps of 1 and 2 values (a classifier's or a detector's 1x1 and 1x2 maps) to the 64-slice cap.
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/conv_cudnn.h"
#include "nets/ops.h"
#include "nets/ops_cuda.h"
#include "tests/gpu/gpu_compare.h"

static const float MOMENTUM = 0.1f, EPS = 1e-5f;

/* A training forward's and backward's device results, in this order */
enum { Y, MEAN, INVSTD, RUN_MEAN, RUN_VAR, DX, DGAMMA, DBETA, BN_OUTS };

/* The fused kernels promise the same bits run after run (fixed slices summed in order): a second
 * forward and backward from the same inputs (in: x, dy, gamma, beta on the device) and running
 * statistics from the same start (rm0, rv0), into buffers of its own, against the first's
 * results, every value bit for bit. Without the ReLU the backward gets y as NULL, which it must
 * not read (a read faults, and the context with it: this line and every later one would fail) */
static void check_repeat(db_gpu_report report, const char *name, float *const first[BN_OUTS], const float *const in[4],
                         const float *rm0, const float *rv0, int relu, int c, int nn, int hw, void *sums) {
    const long n = (long)c * nn * hw, len[BN_OUTS] = {n, c, c, c, c, n, c, c};
    float *again[BN_OUTS];
    for (int k = 0; k < BN_OUTS; k++) again[k] = dev(k == RUN_MEAN ? rm0 : k == RUN_VAR ? rv0 : NULL, len[k]);
    const int ok = !db_bn_forward_train_cuda(again[Y], again[MEAN], again[INVSTD], again[RUN_MEAN], again[RUN_VAR], in[0], in[2],
                                             in[3], MOMENTUM, EPS, relu, c, nn, hw, sums, 0) &&
                   !db_bn_backward_cuda(again[DX], again[DGAMMA], again[DBETA], in[1], in[0], relu ? again[Y] : NULL, in[2],
                                        again[MEAN], again[INVSTD], relu, c, nn, hw, 0, sums, 0) &&
                   cudaDeviceSynchronize() == cudaSuccess;
    long d[BN_OUTS] = {0}, total = 0;
    for (int k = 0; k < BN_OUTS && ok; k++) {
        float *h = (float *)malloc(sizeof(float) * len[k]);
        cudaMemcpy(h, first[k], sizeof(float) * len[k], cudaMemcpyDeviceToHost);
        total += d[k] = differ(again[k], h, len[k]);
        free(h);
    }
    char full[80], detail[400];
    snprintf(full, sizeof full, "%s_repeatable", name);
    snprintf(detail, sizeof detail, "%sa second run from the same inputs and running statistics%s: %ld of %ld outputs, %ld + %ld "
             "batch means and invstds, %ld + %ld running means and variances, %ld of %ld input gradients, %ld + %ld dgammas and "
             "dbetas differ from the first's bits", ok ? "" : "the second run's kernels failed; ", relu ? "" : " (y not given to "
             "the backward)", d[Y], n, d[MEAN], d[INVSTD], d[RUN_MEAN], d[RUN_VAR], d[DX], n, d[DGAMMA], d[DBETA]);
    report(ok && total == 0, full, detail);
    cudaGetLastError(); /* (a refused launch's error stays with this line) */
    for (float *p : again) cudaFree(p);
}

/* fused: the graph's own kernels (nets/bn_cuda.cu) in place of cuDNN's, on shapes of c <= 32
 * channels; their backward also accumulating (twice the gradient), and the whole run repeated */
static void check_bn(db_cudnn *h, db_gpu_report report, int relu, int fused, int c, int nn, int hw) {
    const size_t m = (size_t)nn * hw;
    const long n = (long)c * (long)m;
    float *x = (float *)malloc(sizeof(float) * n), *dy = (float *)malloc(sizeof(float) * n), *y = (float *)malloc(sizeof(float) * n);
    float *dx = (float *)malloc(sizeof(float) * n), *yi = (float *)malloc(sizeof(float) * n);
    float g[32], b[32], sm[32], si[32], rm[32], rv[32], dg[32], db[32];
    fill(x, n, 7, -2, 3); fill(dy, n, 8, -1, 1); fill(g, c, 9, 0.5f, 1.5f); fill(b, c, 10, -0.2f, 0.2f);
    for (int i = 0; i < c; i++) { rm[i] = 0.1f * i; rv[i] = 1 + 0.05f * i; }
    float rm0[32], rv0[32];
    memcpy(rm0, rm, sizeof rm0);
    memcpy(rv0, rv, sizeof rv0);
    float *ex = db_upload_nchw(x, c, nn, hw), *edy = db_upload_nchw(dy, c, nn, hw), *ey = dev(NULL, n), *edx = dev(NULL, n);
    float *eyi = dev(NULL, n), *scratch = dev(NULL, n);
    float *eg = dev(g, c), *eb = dev(b, c), *erm = dev(rm, c), *erv = dev(rv, c), *esm = dev(NULL, c), *esi = dev(NULL, c);
    float *edg = dev(NULL, c), *edb = dev(NULL, c);
    void *sums = NULL;
    if (fused && cudaMalloc(&sums, db_bn_cuda_scratch(c)) != cudaSuccess) sums = NULL;
    db_bn_forward_train(y, sm, si, rm, rv, x, g, b, MOMENTUM, EPS, relu, c, m, 1, NULL);
    db_bn_backward(dx, dg, db, dy, x, g, b, sm, si, relu, c, m, 1, 0, NULL);
    db_bn_forward_infer(yi, x, g, b, rm, rv, EPS, relu, c, m);
    int ok = fused ? sums && !db_bn_forward_train_cuda(ey, esm, esi, erm, erv, ex, eg, eb, MOMENTUM, EPS, relu, c, nn, hw, sums, 0) &&
                         !db_bn_backward_cuda(edx, edg, edb, edy, ex, ey, eg, esm, esi, relu, c, nn, hw, 0, sums, 0) &&
                         !db_bn_forward_infer_cuda(eyi, ex, eg, eb, erm, erv, EPS, relu, c, nn, hw, sums, 0)
                   : db_cudnn_bn_forward_train(h, ey, esm, esi, erm, erv, ex, eg, eb, MOMENTUM, EPS, relu, c, nn, hw) == DB_OK &&
                         db_cudnn_bn_backward(h, edx, edg, edb, edy, ex, ey, eg, esm, esi, EPS, relu, c, nn, hw, 0, scratch) == DB_OK &&
                         db_cudnn_bn_forward_infer(h, eyi, ex, eg, eb, erm, erv, EPS, relu, c, nn, hw) == DB_OK;
    ok = ok && cudaDeviceSynchronize() == cudaSuccess;
    double e[8] = {err_vs_nchw(ey, y, c, nn, hw), err_vs(esm, sm, c), err_vs(esi, si, c), err_vs(erm, rm, c), err_vs(erv, rv, c),
                   err_vs_nchw(edx, dx, c, nn, hw), err_vs(edg, dg, c), err_vs_nchw(eyi, yi, c, nn, hw)};
    double worst = 0;
    for (int i = 0; i < 8; i++) worst = fmax(worst, e[i]);
    /* The variance the running statistic took in, (new - (1 - momentum) old) / momentum, against
     * the batch's unbiased and biased variances: they differ by m/(m-1) (6e-4 on 8 x 196 values,
     * 3% on 32), which the 1e-4 limit on the running variance alone would not tell apart */
    float grv[32];
    cudaMemcpy(grv, erv, sizeof(float) * c, cudaMemcpyDeviceToHost);
    double e_unbiased = 0, e_biased = 0;
    for (int ch = 0; ch < c; ch++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < m; i++) sum += x[(size_t)ch * m + i];
        for (size_t i = 0; i < m; i++) sq += (x[(size_t)ch * m + i] - sum / m) * (x[(size_t)ch * m + i] - sum / m);
        double biased = sq / m, unbiased = sq / (m - 1), taken = (grv[ch] - (1.0 - MOMENTUM) * rv0[ch]) / MOMENTUM;
        e_unbiased = fmax(e_unbiased, fabs(taken - unbiased) / unbiased);
        e_biased = fmax(e_biased, fabs(taken - biased) / biased);
    }
    int unbiased_ok = e_unbiased <= 1e-4 && e_unbiased < e_biased / 4;
    char detail[600], name[64];
    snprintf(name, sizeof name, "batchnorm%s%s", relu ? "_relu" : "", fused ? "_fused" : "");
    /* the shape in the name: every fused line's, and cuDNN's but on the first shape (its first names) */
    if (fused || c != 16 || nn != 8 || hw != 14 * 14)
        snprintf(name + strlen(name), sizeof name - strlen(name), "_%dx%dx%d", c, nn, hw);
    if (fused && ok) {
        float *const first[BN_OUTS] = {ey, esm, esi, erm, erv, edx, edg, edb};
        const float *in[4] = {ex, edy, eg, eb};
        check_repeat(report, name, first, in, rm0, rv0, relu, c, nn, hw, sums);
    }
    double e_acc = 0; /* fused: the backward adding to what dx holds, twice the gradient */
    if (fused && ok) {
        ok = !db_bn_backward_cuda(edx, edg, edb, edy, ex, ey, eg, esm, esi, relu, c, nn, hw, 1, sums, 0) &&
             cudaDeviceSynchronize() == cudaSuccess;
        for (long i = 0; i < n; i++) dx[i] *= 2;
        e_acc = ok ? err_vs_nchw(edx, dx, c, nn, hw) : 1;
    }
    snprintf(detail, sizeof detail, "%srelative error out %.2g, mean %.2g, invstd %.2g, running mean %.2g, running var %.2g "
             "(takes the %s batch variance: rel %.2g to unbiased, %.2g to biased), din %.2g, dgamma %.2g, inference %.2g%s",
             ok ? "" : fused ? "a fused kernel failed; " : db_last_error(), e[0], e[1], e[2], e[3], e[4],
             e_unbiased < e_biased ? "unbiased" : "BIASED", e_unbiased, e_biased, e[5], e[6], e[7], fused ? "; din added" : "");
    if (fused) snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " %.2g (%d channels, %d x %d)", e_acc, c, nn, hw);
    report(ok && worst <= 1e-4 && unbiased_ok && err_vs(edb, db, c) <= 1e-4 && e_acc <= 1e-4, name, detail);
    cudaFree(sums);
    float *all[] = {ex, edy, ey, edx, eyi, scratch, eg, eb, erm, erv, esm, esi, edg, edb};
    for (float *p : all) cudaFree(p);
    free(x); free(dy); free(y); free(dx); free(yi);
}

/* Batch norm's checks on the ops section's cuDNN handle */
extern "C" void db_gpu_check_bn(db_gpu_report report, struct db_cudnn *h) {
    check_bn(h, report, 0, 0, 16, 8, 14 * 14);
    check_bn(h, report, 1, 0, 16, 8, 14 * 14);
    check_bn(h, report, 0, 1, 16, 8, 14 * 14);
    check_bn(h, report, 1, 1, 16, 8, 14 * 14);
    check_bn(h, report, 1, 1, 8, 16, 28 * 28); /* 12,544 values a channel: four slices of the sums */
    check_bn(h, report, 1, 1, 32, 4, 7 * 7);   /* a map of 49: no four-at-a-time pass */
    check_bn(h, report, 1, 1, 4, 9, 28 * 28);  /* two slices of 3,528: one starts mid-sample */
    check_bn(h, report, 0, 1, 2, 33, 90 * 90); /* 267,300 values a channel: the most slices, 64 */
    for (int fused = 0; fused < 2; fused++) { /* maps of one value and of two: each sample a pixel or two of the sums */
        check_bn(h, report, 1, fused, 8, 32, 1);
        check_bn(h, report, 0, fused, 4, 16, 2);
    }
}
