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

// The whole parameter arena in one launch: bit 0 of mask[i] says whether element i is decayed
// (the gaps between parameters are zeros and stay zeros)
static __global__ void sgd_arena_kernel(float *p, float *v, const float *g, const uint8_t *mask, long n, float lr,
                                        float mu, float wd, int nesterov) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) db_sgd_element(&p[i], &v[i], g[i], lr, mu, (mask[i] & DB_ARENA_DECAYS) ? wd : 0.0f, nesterov);
}

// RMSProp over the elements that are parameters (bit 1; the mean squares of the gaps stay as they are)
static __global__ void rmsprop_arena_kernel(float *p, float *mom, float *ms, const float *g, const uint8_t *mask, long n,
                                            float lr, float rho, float mu, float eps, float wd) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && (mask[i] & DB_ARENA_PARAM))
        db_rmsprop_element(&p[i], &mom[i], &ms[i], g[i], lr, rho, mu, eps, (mask[i] & DB_ARENA_DECAYS) ? wd : 0.0f);
}

// shadow -= k * (shadow - value), rounded step by step as the CPU's (nets/optim.c), never fused
static __global__ void ema_kernel(float *shadow, const float *value, long n, float k) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) shadow[i] = __fsub_rn(shadow[i], __fmul_rn(k, __fsub_rn(shadow[i], value[i])));
}

extern "C" int db_rmsprop_arena_cuda(float *p, float *mom, float *ms, const float *g, const uint8_t *mask, long n, float lr,
                                     float rho, float mu, float eps, float wd, cudaStream_t stream) {
    if (n <= 0) return 0;
    rmsprop_arena_kernel<<<(unsigned)((n + 255) / 256), 256, 0, stream>>>(p, mom, ms, g, mask, n, lr, rho, mu, eps, wd);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

extern "C" int db_ema_cuda(float *shadow, const float *value, long n, float k, cudaStream_t stream) {
    if (n <= 0) return 0;
    ema_kernel<<<(unsigned)((n + 255) / 256), 256, 0, stream>>>(shadow, value, n, k);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
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
