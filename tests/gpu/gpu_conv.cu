// gpu-check: cuDNN's convolutions (nets/conv_cudnn.cu) against the CPU reference (nets/conv.c),
// forward, backward-data and backward-filter, in plain fp32 (no TF32), both with the fastest
// measured algorithms and in deterministic mode. The GPU's maps are NCHW, the CPU's CNHW: the
// inputs are moved to the GPU's order and the results back. Summation orders
// differ, so the comparison is within a tolerance: max |gpu - cpu| <= 1e-4 * max |cpu| + 1e-6.
// The deterministic mode must also give the same bits twice. 1x1 stride-1 shapes also run on the
// cuBLAS GEMMs alone (nets/conv_gemm.h), accumulating as well, one of them in several chunks of
// samples for the weight gradient; and in bfloat16 (bfloat16 operands, fp32 results), on NCHW and
// on channels-last operands. Square kernels, and AmoebaNet's 1x7 and 7x1 with unequal strides.
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/conv_cudnn.h"
#include "nets/ops.h"
#include "nets/ops_cuda.h"
#include "tests/gpu/gpu_check.h"

static void fill(float *x, long n, unsigned s) {
    for (long i = 0; i < n; i++) x[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
}

/* max |a - b| over max |b| */
static double rel_err(const float *a, const float *b, long n) {
    double worst = 0, scale = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > worst) worst = d;
        if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    }
    return worst / (scale + 1e-6);
}

static float *to_device(const float *h, long n) {
    float *d = NULL;
    if (cudaMalloc(&d, sizeof(float) * n) != cudaSuccess) return NULL;
    cudaMemcpy(d, h, sizeof(float) * n, cudaMemcpyHostToDevice);
    return d;
}

static void from_device(float *h, const float *d, long n) { cudaMemcpy(h, d, sizeof(float) * n, cudaMemcpyDeviceToHost); }

/* A shape of the checks: n, cin, h, w, cout, then the kernel, strides and padding (each side) down
 * and across: kh, kw, sh, sw, ph, pw */
enum { SHAPE_LEN = 11 };

/* Its checks' name: conv_NxCxHxW_kK_sS, a kernel or stride that differs down and across as
 * kKHxKW or sSHxSW, then the mode's suffix */
static void conv_name(char *out, size_t len, const int *s, const char *suffix) {
    int at = snprintf(out, len, "conv_%dx%dx%dx%d_k%d", s[0], s[1], s[2], s[3], s[5]);
    if (s[6] != s[5]) at += snprintf(out + at, len - at, "x%d", s[6]);
    at += snprintf(out + at, len - at, "_s%d", s[7]);
    if (s[8] != s[7]) at += snprintf(out + at, len - at, "x%d", s[8]);
    snprintf(out + at, len - at, "%s", suffix);
}

/* The cuDNN wrapper's dims of a shape */
static db_cudnn_conv_dims cudnn_dims(const int *s, int det, int gemm, int bf16, int nhwc, int no_dx) {
    db_cudnn_conv_dims cd = {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], det, 0, gemm, bf16, nhwc, no_dx};
    return cd;
}

/* --precision bf16's convolutions: x, w and dy rounded to bfloat16 (nets/ops_cuda.h's casts),
 * cuDNN in bfloat16 with fp32 accumulation, the results back to fp32 (gemm 1: cuDNN alone), or
 * the cuBLAS GEMMs, which write fp32 themselves (gemm 2; also accumulating), against the CPU's fp32;
 * nhwc: cuDNN on channels-last operands, the casts transposing (--conv-layout nhwc).
 * Rounding the operands to 8 bits of mantissa moves the results by a few parts in a thousand of
 * their largest value; a layout or descriptor mistake by tens of percent: the limit is 2e-2. */
static void check_bf16(db_gpu_report report, db_cudnn *h, const int *s, int gemm, int nhwc, const float *ex, const float *ew,
                       const float *edy, const float *y, const float *dx, const float *dw, long nx, long ny, long nw,
                       size_t hw_in, size_t hw_out) {
    char name[96], detail[600], algos[400] = "";
    conv_name(name, sizeof name, s, gemm == 2 ? "_bf16_cublas_gemm" : nhwc ? "_bf16_nhwc" : "_bf16");
    /* channels-last on 1 or 3 channels: a network input's, which the graph makes without backward-data (no_dx) */
    const int no_dx = nhwc && s[1] < 8;
    const db_cudnn_conv_dims cd = cudnn_dims(s, 0, gemm, 1, nhwc, no_dx);
    const size_t kk = (size_t)s[5] * s[6];
    db_cudnn_conv *c = NULL;
    size_t bytes = 0;
    void *dws = NULL;
    uint16_t *bx = NULL, *bw = NULL, *bdy = NULL, *by = NULL, *bdx = NULL, *bdw = NULL;
    float *gy = (float *)malloc(sizeof(float) * ny), *gdx = (float *)malloc(sizeof(float) * nx), *gdw = (float *)malloc(sizeof(float) * nw);
    float *fy = NULL, *fdx = NULL, *fdw = NULL;
    int ok = db_cudnn_conv_create(&c, h, &cd, &bytes) == DB_OK;
    if (ok) db_cudnn_conv_describe(c, algos, sizeof algos);
    ok = ok && (!bytes || cudaMalloc(&dws, bytes) == cudaSuccess) && cudaMalloc(&bx, 2 * nx) == cudaSuccess &&
         cudaMalloc(&bw, 2 * nw) == cudaSuccess && cudaMalloc(&bdy, 2 * ny) == cudaSuccess && cudaMalloc(&by, 2 * ny) == cudaSuccess &&
         cudaMalloc(&bdx, 2 * nx) == cudaSuccess && cudaMalloc(&bdw, 2 * nw) == cudaSuccess &&
         cudaMalloc(&fy, 4 * ny) == cudaSuccess && cudaMalloc(&fdx, 4 * nx) == cudaSuccess && cudaMalloc(&fdw, 4 * nw) == cudaSuccess;
    /* each pass's result where it writes it: fp32 straight into f*, else bfloat16 into b*, cast after */
    const int fp32[3] = {ok && db_cudnn_conv_result_fp32(c, DB_CONV_FWD), ok && db_cudnn_conv_result_fp32(c, DB_CONV_BWD_DATA),
                         ok && db_cudnn_conv_result_fp32(c, DB_CONV_BWD_FILTER)};
    const int not_run = gemm == 2 && ok && !(fp32[0] && fp32[1] && fp32[2]); /* the GEMMs asked for ran */
    ok = ok && !not_run;
    if (nhwc) /* x (n, cin, hw), w (cout, cin, k*k) and dy (n, cout, hw') channels-last */
        ok = ok && !db_to_bf16_nhwc_cuda(bx, ex, s[0], s[1], hw_in, 0) && !db_to_bf16_nhwc_cuda(bw, ew, s[4], s[1], kk, 0) &&
             !db_to_bf16_nhwc_cuda(bdy, edy, s[0], s[4], hw_out, 0);
    else
        ok = ok && !db_to_bf16_cuda(bx, ex, nx, 0) && !db_to_bf16_cuda(bw, ew, nw, 0) && !db_to_bf16_cuda(bdy, edy, ny, 0);
    ok = ok && db_cudnn_conv_forward(c, (const float *)bx, (const float *)bw, fp32[0] ? fy : (float *)by, dws, bytes) == DB_OK &&
         db_cudnn_conv_backward(c, (const float *)bx, (const float *)bw, (const float *)bdy,
                                no_dx ? NULL : fp32[1] ? fdx : (float *)bdx, fp32[2] ? fdw : (float *)bdw, 0, 0, dws, bytes) == DB_OK;
    if (nhwc) /* (cuDNN alone: bfloat16 results) */
        ok = ok && !db_from_bf16_nhwc_cuda(fy, by, s[0], s[4], hw_out, 0, 0) &&
             (no_dx || !db_from_bf16_nhwc_cuda(fdx, bdx, s[0], s[1], hw_in, 0, 0)) && !db_from_bf16_nhwc_cuda(fdw, bdw, s[4], s[1], kk, 0, 0);
    else
        ok = ok && (fp32[0] || !db_from_bf16_cuda(fy, by, ny, 0, 0)) && (fp32[1] || !db_from_bf16_cuda(fdx, bdx, nx, 0, 0)) &&
             (fp32[2] || !db_from_bf16_cuda(fdw, bdw, nw, 0, 0));
    ok = ok && cudaDeviceSynchronize() == cudaSuccess;
    double e1 = 1, e2 = 1, e3 = 1, e4 = 0, e5 = 0;
    if (ok) {
        db_download_cnhw(gy, fy, s[4], s[0], hw_out); db_download_cnhw(gdx, fdx, s[1], s[0], hw_in); from_device(gdw, fdw, nw);
        e1 = rel_err(gy, y, ny), e2 = no_dx ? 0 : rel_err(gdx, dx, nx), e3 = rel_err(gdw, dw, nw);
    }
    if (gemm == 2 && ok) { /* accumulating into the fp32 results (the graph's dx of a shared input): twice the gradients */
        ok = db_cudnn_conv_backward(c, (const float *)bx, (const float *)bw, (const float *)bdy, fdx, fdw, 1, 1, dws, bytes) == DB_OK &&
             cudaDeviceSynchronize() == cudaSuccess;
        float *twice = (float *)malloc(sizeof(float) * (nx > nw ? nx : nw));
        ok = ok && twice;
        if (ok) {
            db_download_cnhw(gdx, fdx, s[1], s[0], hw_in); from_device(gdw, fdw, nw);
            for (long i = 0; i < nx; i++) twice[i] = 2 * dx[i];
            e4 = rel_err(gdx, twice, nx);
            for (long i = 0; i < nw; i++) twice[i] = 2 * dw[i];
            e5 = rel_err(gdw, twice, nw);
        }
        free(twice);
    }
    snprintf(detail, sizeof detail, "%s; relative error forward %.2g, backward-data %.2g, backward-filter %.2g",
             ok ? algos : not_run ? "the GEMMs asked for did not run" : db_last_error(), e1, e2, e3);
    if (gemm == 2) snprintf(detail + strlen(detail), sizeof detail - strlen(detail), "; accumulating %.2g and %.2g", e4, e5);
    if (no_dx) snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " (backward-data not made: a network input's channels)");
    report(ok && e1 <= 2e-2 && e2 <= 2e-2 && e3 <= 2e-2 && e4 <= 2e-2 && e5 <= 2e-2, name, detail);
    cudaGetLastError();
    cudaFree(dws); cudaFree(bx); cudaFree(bw); cudaFree(bdy); cudaFree(by); cudaFree(bdx); cudaFree(bdw);
    cudaFree(fy); cudaFree(fdx); cudaFree(fdw);
    free(gy); free(gdx); free(gdw);
    db_cudnn_conv_destroy(c);
}

extern "C" void db_gpu_check_conv(db_gpu_report report) {
    static const int shapes[][SHAPE_LEN] = {
        {8, 3, 28, 28, 16, 3, 3, 1, 1, 1, 1}, {8, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1}, /* ResNet-20's stem, AmoebaNet's */
        {8, 16, 14, 14, 32, 3, 3, 2, 2, 1, 1}, {4, 8, 9, 9, 8, 7, 7, 1, 1, 3, 3},
        {16, 64, 8, 8, 128, 1, 1, 1, 1, 0, 0}, {2, 3, 32, 32, 64, 7, 7, 2, 2, 3, 3},
        {20, 1024, 4, 4, 2048, 1, 1, 1, 1, 0, 0}, /* 8 MiB of weights: 3 chunks of the GEMMs' */
        /* AmoebaNet's 1x7_7x1 in a reduction cell: 1x7 with strides [1, 2], then 7x1 with [2, 1]
         * (a kernel, strides and padding that differ down and across; a weight layout mistake
         * that a square kernel hides) */
        {8, 16, 14, 14, 16, 1, 7, 1, 2, 0, 3}, {8, 16, 14, 7, 24, 7, 1, 2, 1, 3, 0}};
    db_cudnn *h = NULL;
    char detail[700];
    if (db_cudnn_create(&h) != DB_OK) { report(0, "cudnn_handle", db_last_error()); return; }
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        const int *s = shapes[si];
        db_conv_dims d;
        db_conv_dims_rect(&d, s[1], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[2], s[3]);
        db_conv_plan(&d, s[0], 1);
        long nx = (long)s[1] * s[0] * s[2] * s[3], ny = (long)s[4] * s[0] * d.oh * d.ow, nw = (long)s[4] * s[1] * s[5] * s[6];
        float *x = (float *)malloc(sizeof(float) * nx), *w = (float *)malloc(sizeof(float) * nw), *dy = (float *)malloc(sizeof(float) * ny);
        float *y = (float *)malloc(sizeof(float) * ny), *dx = (float *)malloc(sizeof(float) * nx), *dw = (float *)malloc(sizeof(float) * nw);
        float *gy = (float *)malloc(sizeof(float) * ny), *gdx = (float *)malloc(sizeof(float) * nx), *gdw = (float *)malloc(sizeof(float) * nw);
        float *ws = (float *)malloc(sizeof(float) * db_conv_workspace(&d, s[0], 1));
        fill(x, nx, 1 + (unsigned)si); fill(w, nw, 100 + (unsigned)si); fill(dy, ny, 200 + (unsigned)si);
        db_conv_forward(y, x, w, ws, &d, s[0], 1);
        db_conv_backward(dx, dw, dy, x, w, ws, &d, s[0], 0, 1);
        const size_t hw_in = (size_t)s[2] * s[3], hw_out = (size_t)d.oh * d.ow;
        float *ex = db_upload_nchw(x, s[1], s[0], hw_in), *ew = to_device(w, nw), *edy = db_upload_nchw(dy, s[4], s[0], hw_out);
        float *ey = to_device(y, ny), *edx = to_device(dx, nx), *edw = to_device(dw, nw); /* overwritten */
        const int gemm_fits = s[5] == 1 && s[6] == 1 && s[7] == 1 && s[8] == 1 && s[9] == 0 && s[10] == 0;
        static const int modes[4] = {0, 1, 3, 2}; /* the GEMMs last: their accumulation check doubles dx and dw */
        for (int mi = 0; mi < 4; mi++) { /* the fastest, deterministic, bfloat16, the GEMMs alone */
            const int mode = modes[mi], det = mode == 1, gemm = mode == 2, bf16 = mode == 3;
            if (gemm && !gemm_fits) continue;
            const int chunking = s[1] == 1024; /* the chunking shape: for the GEMMs */
            if (!gemm && !bf16 && chunking) continue;
            if (bf16) { /* a pass of its own: the operands rounded to bfloat16, the results back */
                /* cuDNN alone where the GEMMs could also take it (the timing would choose between them) */
                if (!chunking) check_bf16(report, h, s, gemm_fits, 0, ex, ew, edy, y, dx, dw, nx, ny, nw, hw_in, hw_out);
                if (gemm_fits) check_bf16(report, h, s, 2, 0, ex, ew, edy, y, dx, dw, nx, ny, nw, hw_in, hw_out);
                if (!chunking) check_bf16(report, h, s, 1, 1, ex, ew, edy, y, dx, dw, nx, ny, nw, hw_in, hw_out);
                continue;
            }
            const db_cudnn_conv_dims cd = cudnn_dims(s, det, gemm ? 2 : 0, 0, 0, 0);
            db_cudnn_conv *c = NULL;
            size_t bytes = 0;
            void *dws = NULL;
            char name[96], algos[400] = "";
            conv_name(name, sizeof name, s, det ? "_deterministic" : gemm ? "_cublas_gemm" : "");
            if (db_cudnn_conv_create(&c, h, &cd, &bytes) != DB_OK) { report(0, name, db_last_error()); db_cudnn_conv_destroy(c); continue; }
            db_cudnn_conv_describe(c, algos, sizeof algos);
            if (bytes && cudaMalloc(&dws, bytes) != cudaSuccess) { report(0, name, "no memory for the workspace"); db_cudnn_conv_destroy(c); continue; }
            int ok = db_cudnn_conv_forward(c, ex, ew, ey, dws, bytes) == DB_OK &&
                     db_cudnn_conv_backward(c, ex, ew, edy, edx, edw, 0, 0, dws, bytes) == DB_OK &&
                     cudaDeviceSynchronize() == cudaSuccess;
            db_download_cnhw(gy, ey, s[4], s[0], hw_out); db_download_cnhw(gdx, edx, s[1], s[0], hw_in); from_device(gdw, edw, nw);
            double e1 = rel_err(gy, y, ny), e2 = rel_err(gdx, dx, nx), e3 = rel_err(gdw, dw, nw);
            long same = 1;
            if (gemm && !strstr(algos, "cuBLAS GEMM")) ok = 0; /* the GEMMs asked for did run */
            if ((det || gemm) && ok) { /* the same bits twice */
                float *again = (float *)malloc(sizeof(float) * nw);
                ok = db_cudnn_conv_backward(c, ex, ew, edy, edx, edw, 0, 0, dws, bytes) == DB_OK && cudaDeviceSynchronize() == cudaSuccess;
                from_device(again, edw, nw);
                same = !memcmp(again, gdw, sizeof(float) * nw);
                free(again);
            }
            double e4 = 0, e5 = 0;
            if (gemm && ok) { /* accumulating: twice the gradients */
                ok = db_cudnn_conv_backward(c, ex, ew, edy, edx, edw, 1, 1, dws, bytes) == DB_OK && cudaDeviceSynchronize() == cudaSuccess;
                db_download_cnhw(gdx, edx, s[1], s[0], hw_in); from_device(gdw, edw, nw);
                for (long i = 0; i < nx; i++) dx[i] *= 2;
                for (long i = 0; i < nw; i++) dw[i] *= 2;
                e4 = rel_err(gdx, dx, nx), e5 = rel_err(gdw, dw, nw);
            }
            snprintf(detail, sizeof detail, "%s; relative error forward %.2g, backward-data %.2g, backward-filter %.2g%s", ok ? algos : db_last_error(),
                     e1, e2, e3, det || gemm ? (same ? "; repeatable" : "; NOT repeatable") : "");
            if (gemm)
                snprintf(detail + strlen(detail), sizeof detail - strlen(detail), "; accumulating %.2g and %.2g", e4, e5);
            report(ok && e1 <= 1e-4 && e2 <= 1e-4 && e3 <= 1e-4 && e4 <= 1e-4 && e5 <= 1e-4 && same, name, detail);
            cudaFree(dws);
            db_cudnn_conv_destroy(c);
        }
        cudaFree(ex); cudaFree(ew); cudaFree(edy); cudaFree(ey); cudaFree(edx); cudaFree(edw);
        free(x); free(w); free(dy); free(y); free(dx); free(dw); free(gy); free(gdx); free(gdw); free(ws);
    }
    db_cudnn_destroy(h);
}
