#include "core/gemm.h"

#include <cblas.h>

/* OpenBLAS's own entry points (declared in its cblas.h, absent from the reference CBLAS). */
void openblas_set_num_threads(int num_threads);
char *openblas_get_config(void);

void db_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void db_blas_set_threads(int threads) { openblas_set_num_threads(threads); }

const char *db_blas_name(void) { return openblas_get_config(); }
