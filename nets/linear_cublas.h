/* The linear layer on the GPU through cuBLAS, on the CPU op's layout (nets/ops.h: feature-major,
 * out (o, n) = weight (o, f) * in (f, n) + bias (o)), fp32 unless TF32 is asked for. cuBLAS's
 * GEMMs are deterministic for a given shape and handle (no atomics); the bias sums are the
 * CPU's body (nets/bodies.h). */
#ifndef DB_NETS_LINEAR_CUBLAS_H
#define DB_NETS_LINEAR_CUBLAS_H

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct db_cublas db_cublas;

db_status db_cublas_create(db_cublas **out, int tf32);
void db_cublas_destroy(db_cublas *h);
/* Later calls on h run on this CUDA stream (a cudaStream_t; NULL: the default stream) */
db_status db_cublas_set_stream(db_cublas *h, void *stream);
/* device pointers throughout */
db_status db_cublas_linear_forward(db_cublas *h, float *out, const float *in, const float *weight, const float *bias, int f,
                                   int o, int n);
/* din may be NULL; accum: 0 overwrites din, 1 adds; dweight and dbias are overwritten */
db_status db_cublas_linear_backward(db_cublas *h, float *din, float *dweight, float *dbias, const float *dout,
                                    const float *in, const float *weight, int f, int o, int n, int accum);

#ifdef __cplusplus
}
#endif
#endif
