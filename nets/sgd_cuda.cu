// The SGD update on the GPU: the launcher around the per-element body in nets/sgd.h, the same
// code the CPU loop in nets/optim.c runs.
#include <cuda_runtime.h>

#include "nets/ops_cuda.h"
#include "nets/sgd.h"

static __global__ void sgd_kernel(float *p, float *v, const float *g, long n, float lr, float mu,
                                  float wd, int nesterov) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) db_sgd_element(&p[i], &v[i], g[i], lr, mu, wd, nesterov);
}

// The whole parameter arena in one launch: decay[i] says whether element i is decayed
static __global__ void sgd_arena_kernel(float *p, float *v, const float *g, const uint8_t *decay, long n, float lr,
                                        float mu, float wd, int nesterov) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) db_sgd_element(&p[i], &v[i], g[i], lr, mu, decay[i] ? wd : 0.0f, nesterov);
}

extern "C" int db_sgd_arena_cuda(float *p, float *v, const float *g, const uint8_t *decay, long n, float lr, float mu,
                                 float wd, int nesterov, cudaStream_t stream) {
    if (n <= 0) return 0;
    sgd_arena_kernel<<<(unsigned)((n + 255) / 256), 256, 0, stream>>>(p, v, g, decay, n, lr, mu, wd, nesterov);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

extern "C" int db_sgd_step_cuda(float *p, float *v, const float *g, long n, float lr, float mu,
                                float wd, int nesterov, cudaStream_t stream) {
    if (n <= 0) return 0;
    int threads = 256;
    long blocks = (n + threads - 1) / threads;
    sgd_kernel<<<(unsigned)blocks, threads, 0, stream>>>(p, v, g, n, lr, mu, wd, nesterov);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
