/* The regularizers' CUDA launchers (dropout_cuda.cu, dropblock_cuda.cu, droppath_cuda.cu), for CUDA code only. Device pointers;
 * each returns 0, or -1 when the launch failed. */
#ifndef DB_DROPOUTS_CUDA_H
#define DB_DROPOUTS_CUDA_H

#include <cuda_runtime.h>

#include "dropouts/dropblock.h"
#include "dropouts/dropout.h"

/* y (+)= dropout(x): element-wise, or whole channels when spatial; forward and backward alike */
extern "C" int db_dropout_cuda(float *y, const float *x, const db_drop_key *k, int c, int n, int h, int w,
                               int spatial, int accum, cudaStream_t stream);
/* The DropBlock mask (c*n*h*w bytes) and per-sample dropped counts (n, zeroed by the call);
 * -1 also for rules without a per-unit body (darknet) */
extern "C" int db_dropblock_mask_cuda(uint8_t *mask, unsigned long long *dropped_per_sample, const db_drop_key *k,
                                      const db_dropblock_cfg *b, int c, int n, int h, int w, cudaStream_t stream);
/* y (+)= x * scales[sample] where the mask kept the unit */
extern "C" int db_dropblock_apply_cuda(float *y, const float *x, const uint8_t *mask, const float *scales, int c,
                                       int n, int h, int w, int accum, cudaStream_t stream);

/* y (+)= x / keep_prob for the samples that keep their branch, +0 for the others */
extern "C" int db_droppath_cuda(float *y, const float *x, const db_drop_key *k, int c, int n, int h, int w,
                                int accum, cudaStream_t stream);
/* Cutout in place; ids (device, n) are the batch's data-set sample ids */
extern "C" int db_cutout_cuda(float *x, const int *ids, int size, uint64_t seed, uint32_t step, int c, int n, int h,
                              int w, cudaStream_t stream);

#endif
