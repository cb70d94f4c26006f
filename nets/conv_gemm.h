/* 1x1 stride-1 unpadded convolutions on packed NCHW maps as cuBLAS GEMMs, batched over the
 * samples: per sample y = W x (cout x hw = (cout x cin)(cin x hw)), dx = W^T dy, and
 * dW = sum over samples of dy x^T, the samples' products summed by a kernel in sample order
 * (the same bits run after run on one GPU; cuBLAS may round a chunk of another size otherwise). cuDNN's fp32 algorithms for these shapes run
 * far below the GEMM rate (1.36 ms for the weight gradient of ResNet-50's 256 -> 128 at 56x56,
 * batch 64, on an H200: 10 TFLOP/s); conv_cudnn.cu measures both and takes the faster per pass.
 * Internal to the GPU backend. */
#ifndef DB_NETS_CONV_GEMM_H
#define DB_NETS_CONV_GEMM_H

#include <stddef.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/status.h"
#include "nets/conv_cudnn.h"

/* 1 when d is a 1x1 convolution with stride 1 and no padding, on NCHW maps (not d->nhwc) */
int db_conv_gemm_fits(const db_cudnn_conv_dims *d);
/* Workspace bytes a pass needs (the weight gradient's per-sample products, a chunk of samples
 * at a time: at most 64 MiB, at least one sample's) */
size_t db_conv_gemm_workspace(const db_cudnn_conv_dims *d, int pass);
/* The passes on stream s with handle b (its math mode set here: cuBLAS's default with d->bf16,
 * TF32 tensor ops when d->tf32, else cuBLAS's pedantic fp32, as the linear layers). With d->bf16 the operands x, w and dy are
 * bfloat16 (cuBLAS's CUDA_R_16BF, on tensor cores, summing in fp32) and the results y, dx and dw
 * still fp32: no rounding of the results, no casts back. accumulate: add to dx or dw rather than
 * overwrite. */
db_status db_conv_gemm_forward(cublasHandle_t b, cudaStream_t s, const db_cudnn_conv_dims *d, const void *x,
                               const void *w, float *y);
db_status db_conv_gemm_backward_data(cublasHandle_t b, cudaStream_t s, const db_cudnn_conv_dims *d, const void *w,
                                     const void *dy, float *dx, int accumulate);
db_status db_conv_gemm_backward_filter(cublasHandle_t b, cudaStream_t s, const db_cudnn_conv_dims *d, const void *x,
                                       const void *dy, float *dw, int accumulate, void *ws, size_t ws_bytes);

#endif
