/* The parts of `make gpu-check`: each reports its checks through the runner's report(). */
#ifndef DB_TESTS_GPU_CHECK_H
#define DB_TESTS_GPU_CHECK_H

#include <stddef.h>

typedef void (*db_gpu_report)(int ok, const char *name, const char *detail);

/* The GPU keeps maps NCHW where the CPU keeps them CNHW (nets/ops_cuda.h): the checks move a
 * CPU tensor of c channels, n samples and hw values per plane to the GPU's order, and back */
static inline void db_to_nchw(float *dst, const float *src, int c, int n, size_t hw) {
    for (int ch = 0; ch < c; ch++)
        for (int j = 0; j < n; j++)
            for (size_t s = 0; s < hw; s++) dst[((size_t)j * c + ch) * hw + s] = src[((size_t)ch * n + j) * hw + s];
}
static inline void db_to_cnhw(float *dst, const float *src, int c, int n, size_t hw) {
    for (int ch = 0; ch < c; ch++)
        for (int j = 0; j < n; j++)
            for (size_t s = 0; s < hw; s++) dst[((size_t)ch * n + j) * hw + s] = src[((size_t)j * c + ch) * hw + s];
}

#ifdef __CUDACC__
#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

/* 1 when the last failure is cuDNN offering no deterministic algorithm for some convolution's
 * pass (nets/conv_cudnn.cu's words): a fact about cuDNN's heuristics, not about the numbers */
static inline int db_gpu_deterministic_refused(void) {
    return strstr(db_last_error(), "offers no usable deterministic") != NULL;
}

/* A CNHW host map onto the device as NCHW (NULL when the device has no memory for it) */
static inline float *db_upload_nchw(const float *cnhw, int c, int n, size_t hw) {
    size_t len = (size_t)c * n * hw;
    float *t = (float *)malloc(sizeof(float) * len), *d = NULL;
    if (t && cudaMalloc(&d, sizeof(float) * len) == cudaSuccess) {
        db_to_nchw(t, cnhw, c, n, hw);
        cudaMemcpy(d, t, sizeof(float) * len, cudaMemcpyHostToDevice);
    }
    free(t);
    return d;
}
/* An NCHW device map back into a CNHW host array */
static inline void db_download_cnhw(float *cnhw, const float *dev, int c, int n, size_t hw) {
    size_t len = (size_t)c * n * hw;
    float *t = (float *)malloc(sizeof(float) * len);
    if (!t) return;
    cudaMemcpy(t, dev, sizeof(float) * len, cudaMemcpyDeviceToHost);
    db_to_cnhw(cnhw, t, c, n, hw);
    free(t);
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
void db_gpu_check_conv(db_gpu_report report);    /* tests/gpu/gpu_conv.cu */
void db_gpu_check_bn_pool(db_gpu_report report); /* tests/gpu/gpu_ops.cu */
struct db_cudnn;
void db_gpu_check_bn(db_gpu_report report, struct db_cudnn *h); /* tests/gpu/gpu_bn.cu: part of the ops section */
void db_gpu_check_graph(db_gpu_report report);   /* tests/gpu/gpu_graph.cu: whole ResNet-20 steps */
void db_gpu_check_detect(db_gpu_report report);  /* tests/gpu/gpu_detect.cu: the detector's loss and layout */
void db_gpu_check_nccl(db_gpu_report report);    /* tests/gpu/gpu_nccl.cu: data parallel's mean over devices */
void db_gpu_check_nets(db_gpu_report report);    /* tests/gpu/gpu_nets.cu: AmoebaNet, RetinaNet, FCN steps (and gpu_nets_bf16.cu) */
/* training images/s of the GPU graph (median of three windows of `steps`; mode 0 fp32, 1 TF32, 2 bf16
 * convolutions, 3 bf16 on channels-last operands; plus 4: the fused batch norm), -1 on failure */
double db_gpu_bench_graph(const char *arch, int c, int hw, int classes, int batch, int mode, int steps, int profile);
#ifdef __cplusplus
}
#endif
#endif
