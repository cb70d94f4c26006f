// The linear layer through cuBLAS (nets/linear_cublas.h). cuBLAS is column-major: a row-major
// (r, c) array is its (c, r) transpose, so each product below is written for the transposes.
#include <cublas_v2.h>
#include <stdlib.h>

#include "nets/bodies.h"
#include "nets/linear_cublas.h"

struct db_cublas {
    cublasHandle_t h;
    cudaStream_t s; /* the handle's stream, for the bias kernels too */
};

/* cuBLAS's one check: a failing call returns a status naming what failed, cuBLAS's reason and the
 * call's file and line */
static inline db_status db_cublas_status(cublasStatus_t st, const char *what, const char *file, int line) {
    if (st == CUBLAS_STATUS_SUCCESS) return DB_OK;
    return db_fail(DB_ERR_INTERNAL, "cuBLAS: %s: %s [%s:%d]", what, cublasGetStatusString(st), file, line);
}
#define CUBLAS_TRY(call, what) DB_TRY(db_cublas_status((call), (what), __FILE__, __LINE__))

extern "C" db_status db_cublas_create(db_cublas **out, int tf32) {
    *out = (db_cublas *)calloc(1, sizeof(db_cublas));
    if (!*out) return db_fail(DB_ERR_NOMEM, "out of memory");
    cublasStatus_t st = cublasCreate(&(*out)->h);
    if (st == CUBLAS_STATUS_SUCCESS)
        st = cublasSetMathMode((*out)->h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH);
    if (st != CUBLAS_STATUS_SUCCESS) {
        if ((*out)->h) cublasDestroy((*out)->h);
        free(*out);
        *out = NULL;
        return db_fail(DB_ERR_INTERNAL, "cuBLAS: creating a handle: %s", cublasGetStatusString(st));
    }
    return DB_OK;
}

extern "C" db_status db_cublas_set_stream(db_cublas *h, void *stream) {
    CUBLAS_TRY(cublasSetStream(h->h, (cudaStream_t)stream), "setting the stream");
    h->s = (cudaStream_t)stream;
    return DB_OK;
}

extern "C" void db_cublas_destroy(db_cublas *h) {
    if (!h) return;
    cublasDestroy(h->h);
    free(h);
}

/* out (o, n) += bias (o) broadcast along each row */
static __global__ void add_bias(float *out, const float *bias, int o, int n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (long)o * n) out[i] += bias[i / n];
}

/* dbias[r] = the sum of row r of dout (o, n), as the CPU sums it: a thread per row */
static __global__ void row_sums(float *dbias, const float *dout, int o, int n) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r < o) dbias[r] = db_row_sum(dout + (size_t)r * n, n);
}

extern "C" db_status db_cublas_linear_forward(db_cublas *h, float *out, const float *in, const float *weight,
                                              const float *bias, int f, int o, int n) {
    const float one = 1, zero = 0;
    /* out^T (n x o) = in^T (n x f) * weight^T (f x o) */
    CUBLAS_TRY(cublasSgemm(h->h, CUBLAS_OP_N, CUBLAS_OP_N, n, o, f, &one, in, n, weight, f, &zero, out, n), "linear forward");
    if (bias) {
        long len = (long)o * n;
        add_bias<<<(unsigned)((len + 255) / 256), 256, 0, h->s>>>(out, bias, o, n);
        if (cudaGetLastError() != cudaSuccess) return db_fail(DB_ERR_INTERNAL, "CUDA: the bias kernel did not launch");
    }
    return DB_OK;
}

extern "C" db_status db_cublas_linear_backward(db_cublas *h, float *din, float *dweight, float *dbias, const float *dout,
                                               const float *in, const float *weight, int f, int o, int n, int accum) {
    const float one = 1, zero = 0;
    /* dweight^T (f x o) = in (f x n) * dout^T (n x o) */
    CUBLAS_TRY(cublasSgemm(h->h, CUBLAS_OP_T, CUBLAS_OP_N, f, o, n, &one, in, n, dout, n, &zero, dweight, f),
               "linear backward (weights)");
    /* din^T (n x f) = dout^T (n x o) * weight (o x f) */
    if (din)
        CUBLAS_TRY(cublasSgemm(h->h, CUBLAS_OP_N, CUBLAS_OP_T, n, f, o, &one, dout, n, weight, f, accum ? &one : &zero, din, n),
                   "linear backward (input)");
    if (dbias) {
        row_sums<<<(unsigned)((o + 255) / 256), 256, 0, h->s>>>(dbias, dout, o, n);
        if (cudaGetLastError() != cudaSuccess) return db_fail(DB_ERR_INTERNAL, "CUDA: the bias-gradient kernel did not launch");
    }
    return DB_OK;
}
