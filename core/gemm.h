/* Row-major single-precision GEMM: C = alpha*op(A)*op(B) + beta*C, op(A) m x k, op(B) k x n.
 * One seam for the BLAS so the engine can build against OpenBLAS (the default) or another
 * CBLAS without touching the ops. */
#ifndef DB_GEMM_H
#define DB_GEMM_H

void db_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);
/* The portable stand-in (core/gemm_ref.c): the same contract, no BLAS needed */
void db_sgemm_ref(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc);
/* Threads the BLAS may use (OpenBLAS keeps its own pool). */
void db_blas_set_threads(int threads);
const char *db_blas_name(void);

#endif
