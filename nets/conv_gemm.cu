// 1x1 convolutions as batched cuBLAS GEMMs (nets/conv_gemm.h). cuBLAS is column-major: a
// sample's NCHW map x (cin rows of hw) is the column-major hw x cin matrix X, y is hw x cout,
// and the weights (cout, cin) are the column-major cin x cout matrix W. So y = X W,
// dx = dY W^T, and dW = X^T dY summed over the samples.
#include "nets/conv_gemm.h"

enum { PARTS_BYTES = 64 << 20 }; // the weight gradient's per-sample products, at most

int db_conv_gemm_fits(const db_cudnn_conv_dims *d) {
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->ph == 0 && d->pw == 0 && !d->nhwc;
}

// samples per chunk of the weight gradient
static int chunk_of(const db_cudnn_conv_dims *d) {
    const size_t one = sizeof(float) * (size_t)d->cin * d->cout;
    size_t g = PARTS_BYTES / one;
    if (g < 1) g = 1;
    return g < (size_t)d->n ? (int)g : d->n;
}

size_t db_conv_gemm_workspace(const db_cudnn_conv_dims *d, int pass) {
    return pass == DB_CONV_BWD_FILTER ? sizeof(float) * (size_t)d->cin * d->cout * chunk_of(d) : 0;
}

static db_status blas(cublasStatus_t st, const char *what) {
    return st == CUBLAS_STATUS_SUCCESS ? DB_OK : db_fail(DB_ERR_INTERNAL, "cuBLAS: %s: status %d", what, (int)st);
}

static db_status setup(cublasHandle_t b, cudaStream_t s, const db_cudnn_conv_dims *d) {
    DB_TRY(blas(cublasSetStream(b, s), "setting the stream"));
    const cublasMath_t m = d->bf16 ? CUBLAS_DEFAULT_MATH : d->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH;
    return blas(cublasSetMathMode(b, m), "setting the math mode");
}

// C (fp32) = alpha op(A) op(B) + beta C over count strided batches: A and B fp32, or bfloat16 with
// d->bf16 (summed in fp32 either way)
static cublasStatus_t gemm(cublasHandle_t b, const db_cudnn_conv_dims *d, cublasOperation_t ta, cublasOperation_t tb, int m,
                           int n, int k, const void *A, int lda, long long sa, const void *B, int ldb, long long sb, float beta,
                           float *C, int ldc, long long sc, int count) {
    const float one = 1;
    if (!d->bf16)
        return cublasSgemmStridedBatched(b, ta, tb, m, n, k, &one, (const float *)A, lda, sa, (const float *)B, ldb, sb, &beta,
                                         C, ldc, sc, count);
    return cublasGemmStridedBatchedEx(b, ta, tb, m, n, k, &one, A, CUDA_R_16BF, lda, sa, B, CUDA_R_16BF, ldb, sb, &beta, C,
                                      CUDA_R_32F, ldc, sc, count, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

// elements of the operands' type (fp32 or bfloat16) into a byte pointer
static const void *at(const db_cudnn_conv_dims *d, const void *p, size_t elems) {
    return (const char *)p + elems * (d->bf16 ? 2 : sizeof(float));
}

db_status db_conv_gemm_forward(cublasHandle_t b, cudaStream_t s, const db_cudnn_conv_dims *d, const void *x, const void *w,
                               float *y) {
    DB_TRY(setup(b, s, d));
    const int hw = d->h * d->w;
    return blas(gemm(b, d, CUBLAS_OP_N, CUBLAS_OP_N, hw, d->cout, d->cin, x, hw, (long long)d->cin * hw, w, d->cin, 0, 0.0f, y,
                     hw, (long long)d->cout * hw, d->n),
                "1x1 convolution forward");
}

db_status db_conv_gemm_backward_data(cublasHandle_t b, cudaStream_t s, const db_cudnn_conv_dims *d, const void *w,
                                     const void *dy, float *dx, int accumulate) {
    DB_TRY(setup(b, s, d));
    const int hw = d->h * d->w;
    return blas(gemm(b, d, CUBLAS_OP_N, CUBLAS_OP_T, hw, d->cin, d->cout, dy, hw, (long long)d->cout * hw, w, d->cin, 0,
                     accumulate ? 1.0f : 0.0f, dx, hw, (long long)d->cin * hw, d->n),
                "1x1 convolution backward (data)");
}

// dw[i] = (from ? dw[i] : 0) + parts[0][i] + parts[1][i] + ... in order
static __global__ void sum_parts(float *dw, const float *parts, size_t len, int count, int from) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= len) return;
    float a = from ? dw[i] : 0.0f;
    for (int j = 0; j < count; j++) a = __fadd_rn(a, parts[(size_t)j * len + i]);
    dw[i] = a;
}

db_status db_conv_gemm_backward_filter(cublasHandle_t b, cudaStream_t s, const db_cudnn_conv_dims *d, const void *x,
                                       const void *dy, float *dw, int accumulate, void *ws, size_t ws_bytes) {
    if (ws_bytes < db_conv_gemm_workspace(d, DB_CONV_BWD_FILTER) || !ws)
        return db_fail(DB_ERR_INTERNAL, "1x1 convolution backward (filter): a workspace of %zu bytes, %zu needed", ws_bytes,
                       db_conv_gemm_workspace(d, DB_CONV_BWD_FILTER));
    DB_TRY(setup(b, s, d));
    const int hw = d->h * d->w, g = chunk_of(d);
    const size_t len = (size_t)d->cin * d->cout;
    float *parts = (float *)ws;
    for (int j0 = 0; j0 < d->n; j0 += g) {
        const int count = d->n - j0 < g ? d->n - j0 : g;
        DB_TRY(blas(gemm(b, d, CUBLAS_OP_T, CUBLAS_OP_N, d->cin, d->cout, hw, at(d, x, (size_t)j0 * d->cin * hw), hw,
                         (long long)d->cin * hw, at(d, dy, (size_t)j0 * d->cout * hw), hw, (long long)d->cout * hw, 0.0f, parts,
                         d->cin, (long long)len, count),
                    "1x1 convolution backward (filter)"));
        sum_parts<<<(unsigned)((len + 255) / 256), 256, 0, s>>>(dw, parts, len, count, accumulate || j0 > 0);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess) return db_fail(DB_ERR_INTERNAL, "1x1 convolution backward (filter): %s", cudaGetErrorString(e));
    }
    return DB_OK;
}
