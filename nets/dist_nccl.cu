// The replicas' mean of a device buffer through NCCL (nets/dist_nccl.h).
#include "nets/dist_nccl.h"

#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "core/cuda_check.h"

#ifdef DB_HAVE_NCCL
#include <nccl.h>

struct db_nccl {
    ncclComm_t comm;
    int size;
};

static db_status nccl_failed(ncclResult_t r, const char *what) {
    return db_fail(DB_ERR_INTERNAL, "NCCL: %s failed: %s", what, ncclGetErrorString(r));
}
#define NCCL_TRY(call, what)                                   \
    do {                                                       \
        ncclResult_t r_ = (call);                              \
        if (r_ != ncclSuccess) return nccl_failed(r_, what);   \
    } while (0)

static_assert(sizeof(ncclUniqueId) == DB_NCCL_ID_BYTES, "an ncclUniqueId is 128 bytes");

extern "C" db_status db_nccl_unique_id(void *id, size_t bytes) {
    if (bytes < sizeof(ncclUniqueId)) return db_fail(DB_ERR_INTERNAL, "NCCL: an id needs %zu bytes", sizeof(ncclUniqueId));
    NCCL_TRY(ncclGetUniqueId(static_cast<ncclUniqueId *>(id)), "making the group's id");
    return DB_OK;
}

extern "C" db_status db_nccl_create(db_nccl **out, const void *id, int rank, int size) {
    *out = NULL;
    db_nccl *c = static_cast<db_nccl *>(calloc(1, sizeof *c));
    if (!c) return db_fail(DB_ERR_NOMEM, "out of memory");
    ncclUniqueId u;
    memcpy(&u, id, sizeof u);
    ncclResult_t r = ncclCommInitRank(&c->comm, size, u, rank);
    if (r != ncclSuccess) {
        free(c);
        return nccl_failed(r, "joining the group");
    }
    c->size = size;
    *out = c;
    return DB_OK;
}

extern "C" void db_nccl_destroy(db_nccl *c) {
    if (!c) return;
    ncclCommDestroy(c->comm);
    free(c);
}

__global__ void scale_kernel(float *x, size_t n, float k) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) x[i] *= k;
}

extern "C" db_status db_nccl_sum(db_nccl *c, float *dev, size_t n, void *stream) {
    if (n == 0 || c->size < 2) return DB_OK;
    NCCL_TRY(ncclAllReduce(dev, dev, n, ncclFloat, ncclSum, c->comm, static_cast<cudaStream_t>(stream)),
             "adding the replicas' values");
    return DB_OK;
}

extern "C" db_status db_nccl_scale(db_nccl *c, float *dev, size_t n, void *stream) {
    if (n == 0 || c->size < 2) return DB_OK;
    const unsigned blocks = (unsigned)((n + 255) / 256 < 4096 ? (n + 255) / 256 : 4096);
    scale_kernel<<<blocks, 256, 0, static_cast<cudaStream_t>(stream)>>>(dev, n, 1.0f / (float)c->size);
    CU_TRY(cudaGetLastError(), "scaling the replicas' sum");
    return DB_OK;
}

extern "C" db_status db_nccl_mean(db_nccl *c, float *dev, size_t n, void *stream) {
    DB_TRY(db_nccl_sum(c, dev, n, stream));
    return db_nccl_scale(c, dev, n, stream);
}

#else

extern "C" db_status db_nccl_unique_id(void *id, size_t bytes) {
    (void)id, (void)bytes;
    return db_fail(DB_ERR_UNSUPPORTED, "this build has no NCCL: data parallel across GPUs needs it (the CUDA toolkit's "
                   "libnccl, or NCCL_HOME at build time)");
}
extern "C" db_status db_nccl_create(db_nccl **out, const void *id, int rank, int size) {
    (void)id, (void)rank, (void)size;
    *out = NULL;
    return db_nccl_unique_id(NULL, 0);
}
extern "C" void db_nccl_destroy(db_nccl *c) { (void)c; }
extern "C" db_status db_nccl_mean(db_nccl *c, float *dev, size_t n, void *stream) {
    (void)c, (void)dev, (void)n, (void)stream;
    return db_nccl_unique_id(NULL, 0);
}
extern "C" db_status db_nccl_sum(db_nccl *c, float *dev, size_t n, void *stream) { return db_nccl_mean(c, dev, n, stream); }
extern "C" db_status db_nccl_scale(db_nccl *c, float *dev, size_t n, void *stream) { return db_nccl_mean(c, dev, n, stream); }

#endif
