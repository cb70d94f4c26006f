/* The op checks' helpers (tests/gpu/gpu_ops.cu, gpu_bn.cu): inputs filled from a fixed
 * generator, arrays onto the device, and a device result against the CPU's, within a tolerance
 * (the largest difference over the largest reference value) or bit for bit. CUDA only. */
#ifndef DB_TESTS_GPU_COMPARE_H
#define DB_TESTS_GPU_COMPARE_H

#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/gpu/gpu_check.h"

/* n values in [lo, hi) from seed s (a linear congruential generator: the same on every machine) */
static inline void fill(float *x, long n, unsigned s, float lo, float hi) {
    for (long i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f;
}

/* max |a - b| over max |b| */
static inline double rel_err(const float *a, const float *b, long n) {
    double worst = 0, scale = 0;
    for (long i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return worst / (scale + 1e-6);
}

/* n floats onto the device (from h, or zeros when h is NULL) */
static inline float *dev(const float *h, long n) {
    float *d = NULL;
    if (cudaMalloc(&d, sizeof(float) * n) != cudaSuccess) { fprintf(stderr, "gpu-check: out of device memory\n"); exit(1); }
    if (h) cudaMemcpy(d, h, sizeof(float) * n, cudaMemcpyHostToDevice);
    else cudaMemset(d, 0, sizeof(float) * n);
    return d;
}

static inline double err_vs(const float *d, const float *ref, long n) {
    float *h = (float *)malloc(sizeof(float) * n);
    cudaMemcpy(h, d, sizeof(float) * n, cudaMemcpyDeviceToHost);
    double e = rel_err(h, ref, n);
    free(h);
    return e;
}

/* err_vs for an NCHW device tensor against a CNHW host one */
static inline double err_vs_nchw(const float *d, const float *ref, int c, int n, size_t hw) {
    long len = (long)(c * n * hw);
    float *h = (float *)malloc(sizeof(float) * len);
    db_download_cnhw(h, d, c, n, hw);
    double e = rel_err(h, ref, len);
    free(h);
    return e;
}

/* values whose bytes differ between a device array and a host one */
static inline long differ(const float *d, const float *h, long n) {
    float *g = (float *)malloc(sizeof(float) * n);
    cudaMemcpy(g, d, sizeof(float) * n, cudaMemcpyDeviceToHost);
    long k = 0;
    for (long i = 0; i < n; i++) k += memcmp(&g[i], &h[i], sizeof(float)) != 0;
    free(g);
    return k;
}

/* differ() for an NCHW device tensor against a CNHW host one */
static inline long differ_nchw(const float *d, const float *h, int c, int n, size_t hw) {
    long len = (long)(c * n * hw), k = 0;
    float *g = (float *)malloc(sizeof(float) * len);
    db_download_cnhw(g, d, c, n, hw);
    for (long i = 0; i < len; i++) k += memcmp(&g[i], &h[i], sizeof(float)) != 0;
    free(g);
    return k;
}

#endif
