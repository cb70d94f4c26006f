// DropPath on the GPU: one thread per element of an NCHW tensor around the body of
// dropouts/droppath.h, the decisions the CPU draws.
#include "dropouts/dropouts_cuda.h"
#include "dropouts/droppath.h"

static __global__ void droppath_kernel(float *y, const float *x, db_drop_key k, int c, int hw, long len, int accum,
                                       unsigned long long *dropped) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    int drop = 0;
    if (i < len) {
        int j = (int)(i / hw / c), kept = db_droppath_keep(&k, j);
        float v = db_drop_apply1(x[i], kept, 1.0f / k.keep_prob);
        y[i] = accum ? y[i] + v : v;
        drop = !kept;
    }
    if (dropped) db_count_warp(dropped, drop);
}

extern "C" int db_droppath_cuda(float *y, const float *x, const db_drop_key *k, int c, int n, int h, int w,
                                int accum, unsigned long long *dropped, cudaStream_t stream) {
    long len = (long)c * n * h * w;
    if (len <= 0) return 0;
    droppath_kernel<<<(unsigned)((len + 255) / 256), 256, 0, stream>>>(y, x, *k, c, h * w, len, accum, dropped);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
