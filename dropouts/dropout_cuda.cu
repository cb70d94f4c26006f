// Dropout and SpatialDropout on the GPU: launchers around the per-unit body of
// dropouts/dropout.h, the same decisions the CPU draws. Tensors are the GPU's NCHW (the CPU's
// are CNHW); each thread handles one element and finds its logical unit, so the decisions do
// not depend on the layout.
#include "dropouts/dropouts_cuda.h"

static __global__ void dropout_kernel(float *y, const float *x, db_drop_key k, int c, int n, int hw,
                                      int spatial, int accum, unsigned long long *dropped) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    long len = (long)c * n * hw;
    int drop = 0;
    if (i < len) {
        long plane = i / hw, s = i % hw;
        uint64_t ch = (uint64_t)(plane % c), j = (uint64_t)(plane / c);
        uint64_t unit = spatial ? j * (uint64_t)c + ch : (j * (uint64_t)c + ch) * (uint64_t)hw + (uint64_t)s;
        int kept = db_drop_keep(&k, unit);
        float v = db_drop_apply1(x[i], kept, 1.0f / k.keep_prob);
        y[i] = accum ? y[i] + v : v;
        drop = !kept;
    }
    if (dropped) db_count_warp(dropped, drop);
}

// One launcher for forward (accum 0) and backward (x = dout, y = din); returns 0 or -1.
extern "C" int db_dropout_cuda(float *y, const float *x, const db_drop_key *k, int c, int n, int h, int w,
                               int spatial, int accum, unsigned long long *dropped, cudaStream_t stream) {
    long len = (long)c * n * h * w;
    if (len <= 0) return 0;
    int threads = 256;
    dropout_kernel<<<(unsigned)((len + threads - 1) / threads), threads, 0, stream>>>(y, x, *k, c, n, h * w,
                                                                                       spatial, accum, dropped);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
