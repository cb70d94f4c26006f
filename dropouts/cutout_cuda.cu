// Cutout on the GPU: one thread per element around the corner body of dropouts/cutout.h, the
// squares the CPU draws.
#include "dropouts/cutout.h"
#include "dropouts/dropouts_cuda.h"

static __global__ void cutout_kernel(float *x, const int *ids, int size, uint64_t seed, uint32_t step, int n,
                                     int h, int w, long len) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= len) return;
    long plane = i / ((long)h * w), s = i % ((long)h * w);
    int y0, x0, yy = (int)(s / w), xx = (int)(s % w);
    db_cutout_corner(seed, step, ids[plane % n], size, h, w, &y0, &x0);
    if (yy >= y0 && yy < y0 + size && xx >= x0 && xx < x0 + size) x[i] = 0.0f;
}

extern "C" int db_cutout_cuda(float *x, const int *ids, int size, uint64_t seed, uint32_t step, int c, int n, int h,
                              int w, cudaStream_t stream) {
    long len = (long)c * n * h * w;
    if (len <= 0 || size < 1) return 0;
    cutout_kernel<<<(unsigned)((len + 255) / 256), 256, 0, stream>>>(x, ids, size, seed, step, n, h, w, len);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
