// dropbench kernel --device cuda: the regularizer launchers timed on device buffers, as the GPU
// graph runs them: DropBlock's mask, its per-sample scales on the device, then the apply; the
// dropped units counted on the device during the timed calls.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cuda_check.h"
#include "dropouts/dropouts_cuda.h"
#include "dropouts/kernel_time.h"

/* The one CUDA check (core/cuda_check.h), leaving through `done` to free what was allocated */
#define CU_TRY_GOTO(call)                                                                             \
    do {                                                                                              \
        if ((s = DB_CUDA(call, #call)) != DB_OK) goto done;                                           \
    } while (0)
#define LAUNCH_TRY_GOTO(call)                                                                         \
    do {                                                                                              \
        if ((s = DB_LAUNCH(call, #call)) != DB_OK) goto done;                                         \
    } while (0)

extern "C" db_status db_kernel_time_cuda(db_kernel_kind kind, const db_dropblock_cfg *b, const db_drop_key *key,
                                         const float *x, const float *dy, int c, int n, int h, int w, long reps,
                                         db_kernel_timing *out) {
    db_status s = DB_OK;
    const size_t len = (size_t)c * n * h * w;
    float *dx_ = NULL, *dy_ = NULL, *x_ = NULL, *y_ = NULL, *scales_ = NULL;
    uint8_t *mask_ = NULL;
    unsigned long long *counts_ = NULL, *dropped_ = NULL, dropped = 0;
    cudaEvent_t e0 = NULL, e1 = NULL;
    float ms = 0.0f;
    int devices = 0;
    memset(out, 0, sizeof *out);
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices < 1) {
        cudaGetLastError();
        return db_fail(DB_ERR_UNSUPPORTED, "no CUDA device: --device cuda needs a GPU and its driver");
    }
    if (kind == DB_KERNEL_DROPBLOCK && db_dropblock_rules_for(b, key->keep_prob, h, w).one_seed)
        return db_fail(DB_ERR_UNSUPPORTED, "semantics %s has no GPU kernel (its seed depends on a whole plane); "
                                           "use --device cpu", db_semantics_name(b->sem));
    {
        cudaDeviceProp p;
        CU_TRY_GOTO(cudaGetDeviceProperties(&p, 0));
        snprintf(out->device, sizeof out->device, "%s", p.name);
    }
    CU_TRY_GOTO(cudaMalloc(&x_, len * sizeof(float)));
    CU_TRY_GOTO(cudaMalloc(&y_, len * sizeof(float)));
    CU_TRY_GOTO(cudaMalloc(&dy_, len * sizeof(float)));
    CU_TRY_GOTO(cudaMalloc(&dx_, len * sizeof(float)));
    CU_TRY_GOTO(cudaMalloc(&mask_, len));
    CU_TRY_GOTO(cudaMalloc(&counts_, sizeof *counts_ * (size_t)n));
    CU_TRY_GOTO(cudaMalloc(&dropped_, sizeof *dropped_));
    CU_TRY_GOTO(cudaMalloc(&scales_, sizeof *scales_ * (size_t)n));
    CU_TRY_GOTO(cudaMemcpy(x_, x, len * sizeof(float), cudaMemcpyHostToDevice));
    CU_TRY_GOTO(cudaMemcpy(dy_, dy, len * sizeof(float), cudaMemcpyHostToDevice));
    CU_TRY_GOTO(cudaEventCreate(&e0));
    CU_TRY_GOTO(cudaEventCreate(&e1));
    for (long r = -1; r < reps; r++) { // r = -1: an untimed warm-up
        if (r == 0) { /* the warm-up's drops do not count */
            CU_TRY_GOTO(cudaMemset(dropped_, 0, sizeof *dropped_));
            CU_TRY_GOTO(cudaEventRecord(e0, 0));
        }
        db_drop_key k = *key;
        k.step = (uint32_t)(r + 1);
        if (kind == DB_KERNEL_DROPBLOCK) {
            db_dropblock_rules rules = db_dropblock_rules_for(b, k.keep_prob, h, w);
            LAUNCH_TRY_GOTO(db_dropblock_mask_cuda(mask_, counts_, &k, b, c, n, h, w, 0));
            LAUNCH_TRY_GOTO(db_dropblock_scales_cuda(scales_, dropped_, counts_, n, (unsigned long long)c * h * w,
                                                rules.per_sample, rules.eps, 0));
            LAUNCH_TRY_GOTO(db_dropblock_apply_cuda(y_, x_, mask_, scales_, c, n, h, w, 0, 0));
            LAUNCH_TRY_GOTO(db_dropblock_apply_cuda(dx_, dy_, mask_, scales_, c, n, h, w, 0, 0));
        } else {
            int spatial = kind == DB_KERNEL_SPATIAL;
            LAUNCH_TRY_GOTO(db_dropout_cuda(y_, x_, &k, c, n, h, w, spatial, 0, dropped_, 0));
            LAUNCH_TRY_GOTO(db_dropout_cuda(dx_, dy_, &k, c, n, h, w, spatial, 0, NULL, 0));
        }
    }
    CU_TRY_GOTO(cudaEventRecord(e1, 0));
    CU_TRY_GOTO(cudaEventSynchronize(e1));
    CU_TRY_GOTO(cudaEventElapsedTime(&ms, e0, e1));
    out->ms_per_call = ms / (double)reps;
    CU_TRY_GOTO(cudaMemcpy(&dropped, dropped_, sizeof dropped, cudaMemcpyDeviceToHost));
    out->dropped = dropped;
    CU_TRY_GOTO(cudaEventRecord(e0, 0));
    for (long r = 0; r < reps; r++) {
        CU_TRY_GOTO(cudaMemcpyAsync(y_, x_, len * sizeof(float), cudaMemcpyDeviceToDevice, 0));
        CU_TRY_GOTO(cudaMemcpyAsync(dx_, dy_, len * sizeof(float), cudaMemcpyDeviceToDevice, 0));
    }
    CU_TRY_GOTO(cudaEventRecord(e1, 0));
    CU_TRY_GOTO(cudaEventSynchronize(e1));
    CU_TRY_GOTO(cudaEventElapsedTime(&ms, e0, e1));
    out->copy_ms = ms / (double)reps;
done:
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    cudaFree(x_); cudaFree(y_); cudaFree(dy_); cudaFree(dx_); cudaFree(mask_); cudaFree(counts_); cudaFree(dropped_); cudaFree(scales_);
    return s;
}
