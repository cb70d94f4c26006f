// Data parallel across GPUs (nets/dist_nccl.h): db_nccl_mean over the devices of this machine,
// one communicator per device in this process (NCCL's single-process group). Two devices or more:
// every device ends with the replicas' mean, the same bits on each, equal to the sum a host adds
// in device order and scales (exact here: small integers and halves), and a second run gives the
// same bits. One device: a group of one, its buffer unchanged; said, not counted as the check.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "nets/dist_nccl.h"
#include "tests/gpu/gpu_check.h"

#ifdef DB_HAVE_NCCL
#include <nccl.h>

enum { MAX_DEV = 8 };

void db_gpu_check_nccl(db_gpu_report report) {
    int devices = 0;
    cudaGetDeviceCount(&devices);
    if (devices > MAX_DEV) devices = MAX_DEV;
    const size_t n = (size_t)1 << 20;
    char detail[256];
    unsigned char id[DB_NCCL_ID_BYTES];
    if (db_nccl_unique_id(id, sizeof id) != DB_OK) {
        report(0, "nccl_mean", db_last_error());
        return;
    }
    db_nccl *c[MAX_DEV] = {NULL};
    float *dev[MAX_DEV] = {NULL};
    cudaStream_t s[MAX_DEV];
    float *h = (float *)malloc(sizeof(float) * n * (size_t)devices), *want = (float *)malloc(sizeof(float) * n);
    // the replica r's value at i: r + 1 + (i % 7) / 2
    for (int r = 0; r < devices; r++)
        for (size_t i = 0; i < n; i++) h[(size_t)r * n + i] = (float)(r + 1) + (float)(i % 7) * 0.5f;
    for (size_t i = 0; i < n; i++) {
        float sum = 0.0f;
        for (int r = 0; r < devices; r++) sum += h[(size_t)r * n + i];
        want[i] = sum * (1.0f / (float)devices);
    }
    int ok = 1;
    ncclGroupStart(); // one process joining as every rank: the joins go together
    for (int r = 0; r < devices && ok; r++) {
        cudaSetDevice(r);
        ok = db_nccl_create(&c[r], id, r, devices) == DB_OK;
    }
    ncclGroupEnd();
    if (!ok) snprintf(detail, sizeof detail, "joining: %s", db_last_error());
    for (int run = 0; run < 2 && ok; run++) {
        for (int r = 0; r < devices && ok; r++) {
            cudaSetDevice(r);
            if (!dev[r]) ok = cudaMalloc(&dev[r], sizeof(float) * n) == cudaSuccess && cudaStreamCreate(&s[r]) == cudaSuccess;
            if (ok) ok = cudaMemcpy(dev[r], h + (size_t)r * n, sizeof(float) * n, cudaMemcpyHostToDevice) == cudaSuccess;
        }
        ncclGroupStart(); // the sums go together (enqueued at the group's end), then each scaled
        for (int r = 0; r < devices && ok; r++) {
            cudaSetDevice(r);
            ok = db_nccl_sum(c[r], dev[r], n, s[r]) == DB_OK;
        }
        ncclGroupEnd();
        for (int r = 0; r < devices && ok; r++) {
            cudaSetDevice(r);
            ok = db_nccl_scale(c[r], dev[r], n, s[r]) == DB_OK;
        }
        if (!ok) snprintf(detail, sizeof detail, "the mean: %s", db_last_error());
        long wrong = 0;
        float *got = (float *)malloc(sizeof(float) * n);
        for (int r = 0; r < devices && ok; r++) {
            cudaSetDevice(r);
            ok = cudaStreamSynchronize(s[r]) == cudaSuccess &&
                 cudaMemcpy(got, dev[r], sizeof(float) * n, cudaMemcpyDeviceToHost) == cudaSuccess;
            for (size_t i = 0; ok && i < n; i++) wrong += memcmp(&got[i], &want[i], sizeof(float)) != 0;
        }
        free(got);
        if (ok) {
            snprintf(detail, sizeof detail, "%d device(s), run %d: %ld of %zu values differ from the host's mean%s", devices,
                     run + 1, wrong, n * (size_t)devices, devices < 2 ? " (one device: a group of one; two needed for the check)" : "");
            ok = wrong == 0;
        }
    }
    if (devices < 2 && ok) printf("skip nccl_mean: %s\n", detail);
    else report(ok, "nccl_mean", detail);
    for (int r = 0; r < devices; r++) {
        cudaSetDevice(r);
        db_nccl_destroy(c[r]);
        if (dev[r]) { cudaFree(dev[r]); cudaStreamDestroy(s[r]); }
    }
    cudaSetDevice(0);
    free(h), free(want);
}

#else

void db_gpu_check_nccl(db_gpu_report report) {
    (void)report;
    printf("skip nccl_mean: gpu-check was built without NCCL (NCCL_HOME, or the nvidia-nccl wheel beside PyTorch)\n");
}

#endif
