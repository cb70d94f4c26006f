// DropPath and Cutout on the GPU: one thread per element around the bodies of
// dropouts/droppath.h, the decisions the CPU draws.
#include "dropouts/dropouts_cuda.h"
#include "dropouts/droppath.h"

static __global__ void droppath_kernel(float *y, const float *x, db_drop_key k, int n, int hw, long len, int accum,
                                       unsigned long long *dropped) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    int drop = 0;
    if (i < len) {
        int j = (int)((i / hw) % n), kept = db_droppath_keep(&k, j);
        float v = db_drop_apply1(x[i], kept, 1.0f / k.keep_prob);
        y[i] = accum ? y[i] + v : v;
        drop = !kept;
    }
    if (dropped) db_count_warp(dropped, drop);
}

static __global__ void cutout_kernel(float *x, const int *ids, int size, uint64_t seed, uint32_t step, int n,
                                     int h, int w, long len) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= len) return;
    long plane = i / ((long)h * w), s = i % ((long)h * w);
    int y0, x0, yy = (int)(s / w), xx = (int)(s % w);
    db_cutout_corner(seed, step, ids[plane % n], size, h, w, &y0, &x0);
    if (yy >= y0 && yy < y0 + size && xx >= x0 && xx < x0 + size) x[i] = 0.0f;
}

extern "C" int db_droppath_cuda(float *y, const float *x, const db_drop_key *k, int c, int n, int h, int w,
                                int accum, unsigned long long *dropped, cudaStream_t stream) {
    long len = (long)c * n * h * w;
    if (len <= 0) return 0;
    droppath_kernel<<<(unsigned)((len + 255) / 256), 256, 0, stream>>>(y, x, *k, n, h * w, len, accum, dropped);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

extern "C" int db_cutout_cuda(float *x, const int *ids, int size, uint64_t seed, uint32_t step, int c, int n, int h,
                              int w, cudaStream_t stream) {
    long len = (long)c * n * h * w;
    if (len <= 0 || size < 1) return 0;
    cutout_kernel<<<(unsigned)((len + 255) / 256), 256, 0, stream>>>(x, ids, size, seed, step, n, h, w, len);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
