/* gpu-check builds without OpenBLAS: the engine's GEMM seam served by the portable GEMM. */
#include "core/gemm.h"

void db_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
              int ldb, float beta, float *c, int ldc) {
    db_sgemm_ref(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void db_blas_set_threads(int threads) { (void)threads; }
const char *db_blas_name(void) { return "portable C GEMM (core/gemm_ref.c)"; }
