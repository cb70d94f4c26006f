/* A portable single-precision GEMM with the same contract as db_sgemm (core/gemm.h), for builds
 * without OpenBLAS: `make gpu-check` on a GPU machine that has nvcc and cuDNN but no BLAS
 * headers. Cache-blocked and written so that the compiler vectorises the inner loop; far
 * slower than OpenBLAS, and only used where OpenBLAS is absent (tested against it). */
#include "core/gemm.h"

#include <stdlib.h>
#include <string.h>

enum { BM = 64, BN = 256, BK = 128 };

/* element (i, j) of op(X) for a row-major X with leading dimension ld */
static inline float at(const float *x, int ld, int trans, int i, int j) { return trans ? x[(size_t)j * ld + i] : x[(size_t)i * ld + j]; }

void db_sgemm_ref(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                  int ldb, float beta, float *c, int ldc) {
    for (int i = 0; i < m; i++) {
        float *ci = c + (size_t)i * ldc;
        if (beta == 0) memset(ci, 0, sizeof(float) * (size_t)n);
        else if (beta != 1) for (int j = 0; j < n; j++) ci[j] *= beta;
    }
    if (alpha == 0 || k == 0) return;
    float *pb = malloc(sizeof(float) * BK * BN); /* a packed panel of op(B), rows contiguous */
    if (!pb) abort();                             /* 128 KiB: nothing sensible to do without it */
    for (int k0 = 0; k0 < k; k0 += BK) {
        int kb = k - k0 < BK ? k - k0 : BK;
        for (int j0 = 0; j0 < n; j0 += BN) {
            int nb = n - j0 < BN ? n - j0 : BN;
            for (int p = 0; p < kb; p++)
                for (int j = 0; j < nb; j++) pb[p * BN + j] = at(b, ldb, trans_b, k0 + p, j0 + j);
            for (int i0 = 0; i0 < m; i0 += BM) {
                int mb = m - i0 < BM ? m - i0 : BM;
                for (int i = 0; i < mb; i++) {
                    float *restrict ci = c + (size_t)(i0 + i) * ldc + j0;
                    for (int p = 0; p < kb; p++) {
                        const float aip = alpha * at(a, lda, trans_a, i0 + i, k0 + p);
                        const float *restrict bp = pb + p * BN;
                        for (int j = 0; j < nb; j++) ci[j] += aip * bp[j];
                    }
                }
            }
        }
    }
    free(pb);
}
