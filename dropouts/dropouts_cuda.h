/* The regularizers' CUDA launchers (dropout_cuda.cu, dropblock_cuda.cu, droppath_cuda.cu), for CUDA code only. Device pointers;
 * each returns 0, or -1 when the launch failed. Tensors are the GPU's NCHW (c, n, h, w give the
 * logical shape); DropBlock's mask is in the CPU's CNHW order. */
#ifndef DB_DROPOUTS_CUDA_H
#define DB_DROPOUTS_CUDA_H

#include <cuda_runtime.h>

#include "dropouts/dropblock.h"
#include "dropouts/dropout.h"

/* Adds to *counter the number of threads of the calling warp whose flag is set (one atomic per
 * warp). Every thread of the warp must call it. */
static __device__ __forceinline__ void db_count_warp(unsigned long long *counter, int flag) {
    unsigned bits = __ballot_sync(0xffffffffu, flag);
    if ((threadIdx.x & 31) == 0 && bits) atomicAdd(counter, (unsigned long long)__popc(bits));
}

/* y (+)= dropout(x): element-wise, or whole channels when spatial; forward and backward alike.
 * dropped (device, may be NULL) gets the number of dropped units added. */
extern "C" int db_dropout_cuda(float *y, const float *x, const db_drop_key *k, int c, int n, int h, int w,
                               int spatial, int accum, unsigned long long *dropped, cudaStream_t stream);
/* The DropBlock mask (c*n*h*w bytes) and per-sample dropped counts (n, zeroed by the call);
 * -1 also for rules without a per-unit body (darknet) */
extern "C" int db_dropblock_mask_cuda(uint8_t *mask, unsigned long long *dropped_per_sample, const db_drop_key *k,
                                      const db_dropblock_cfg *b, int c, int n, int h, int w, cudaStream_t stream);
/* y (+)= x * scales[sample] where the (CNHW) mask kept the unit */
extern "C" int db_dropblock_apply_cuda(float *y, const float *x, const uint8_t *mask, const float *scales, int c,
                                       int n, int h, int w, int accum, cudaStream_t stream);

/* y (+)= x / keep_prob for the samples that keep their branch, +0 for the others; dropped as
 * for dropout (every unit of a dropped branch counts) */
extern "C" int db_droppath_cuda(float *y, const float *x, const db_drop_key *k, int c, int n, int h, int w,
                                int accum, unsigned long long *dropped, cudaStream_t stream);
/* The per-sample factors from the mask's per-sample dropped counts (db_dropblock_scale over the
 * batch, or per sample when the rules say so); the batch's dropped total is added to *dropped */
extern "C" int db_dropblock_scales_cuda(float *scales, unsigned long long *dropped, const unsigned long long *per_sample,
                                        int n, unsigned long long units_per_sample, int per_sample_norm, float eps,
                                        cudaStream_t stream);
#endif
