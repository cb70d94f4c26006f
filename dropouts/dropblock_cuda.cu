// DropBlock on the GPU: one thread per unit gathers the seeds that could cover it through the
// body the CPU's tests check against its own scatter (db_dropblock_dropped), so both devices
// draw the same mask. Dropped units are counted per sample for the normalisation. The mask is
// kept in the CPU's CNHW order (byte for byte the CPU's, and darknet's host-drawn masks upload
// as they are); the tensors it applies to are the GPU's NCHW.
#include "dropouts/dropouts_cuda.h"

static __global__ void mask_kernel(uint8_t *mask, unsigned long long *dropped_per_sample, db_drop_key k,
                                   db_dropblock_rules r, int c, int n, int h, int w) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    long len = (long)c * n * h * w;
    if (i >= len) return;
    long plane = i / ((long)h * w), s = i % ((long)h * w);
    int ch = (int)(plane / n), j = (int)(plane % n), y = (int)(s / w), x = (int)(s % w);
    int d = db_dropblock_dropped(&k, &r, db_dropblock_base(&r, j, ch, c), y, x);
    mask[i] = (uint8_t)d;
    if (d) atomicAdd(&dropped_per_sample[j], 1ull);
}

static __global__ void apply_kernel(float *y, const float *x, const uint8_t *mask, const float *scales, int c, int n,
                                    int hw, long len, int accum) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= len) return;
    long plane = i / hw, j = plane / c, ch = plane % c;
    float v = db_dropblock_apply1(x[i], mask[(ch * n + j) * hw + i % hw], scales[j]);
    y[i] = accum ? y[i] + v : v;
}

// The mask and the per-sample dropped counts (device arrays: mask of c*n*h*w bytes, counts of
// n zero-initialised by this call). Returns 0, or -1 on a launch error or for rules whose seed
// depends on a whole plane (darknet), which have no per-unit body.
extern "C" int db_dropblock_mask_cuda(uint8_t *mask, unsigned long long *dropped_per_sample, const db_drop_key *k,
                                      const db_dropblock_cfg *b, int c, int n, int h, int w, cudaStream_t stream) {
    long len = (long)c * n * h * w;
    if (len <= 0) return 0;
    db_dropblock_rules r = db_dropblock_rules_for(b, k->keep_prob, h, w);
    if (r.one_seed) return -1;
    if (cudaMemsetAsync(dropped_per_sample, 0, sizeof(unsigned long long) * n, stream) != cudaSuccess) return -1;
    mask_kernel<<<(unsigned)((len + 255) / 256), 256, 0, stream>>>(mask, dropped_per_sample, *k, r, c, n, h, w);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

// y (+)= x scaled per sample where the mask kept the unit: the forward (x = input) and the
// backward (x = output gradient) alike; x and y NCHW, the mask CNHW. scales is a device array
// of n floats.
extern "C" int db_dropblock_apply_cuda(float *y, const float *x, const uint8_t *mask, const float *scales, int c,
                                       int n, int h, int w, int accum, cudaStream_t stream) {
    long len = (long)c * n * h * w;
    if (len <= 0) return 0;
    apply_kernel<<<(unsigned)((len + 255) / 256), 256, 0, stream>>>(y, x, mask, scales, c, n, h * w, len, accum);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

// One thread per sample; the batch's total is summed by every thread in the same order.
static __global__ void scales_kernel(float *scales, unsigned long long *dropped, const unsigned long long *per_sample,
                                     int n, unsigned long long units, int per_sample_norm, float eps) {
    int j = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (j >= n) return;
    unsigned long long all = 0;
    for (int i = 0; i < n; i++) all += per_sample[i];
    scales[j] = per_sample_norm ? db_dropblock_scale(units, per_sample[j], eps)
                                : db_dropblock_scale(units * (unsigned long long)n, all, eps);
    if (j == 0 && dropped) *dropped += all;
}

extern "C" int db_dropblock_scales_cuda(float *scales, unsigned long long *dropped, const unsigned long long *per_sample,
                                        int n, unsigned long long units_per_sample, int per_sample_norm, float eps,
                                        cudaStream_t stream) {
    if (n <= 0) return 0;
    scales_kernel<<<(unsigned)((n + 127) / 128), 128, 0, stream>>>(scales, dropped, per_sample, n, units_per_sample,
                                                                   per_sample_norm, eps);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
