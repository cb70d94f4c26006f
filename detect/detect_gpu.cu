// The detector's training loss on the GPU graph's outputs (detect/detect_gpu.h).
#include <cuda_runtime.h>
#include <stdlib.h>

#include "core/cuda_check.h"
#include "detect/detect_cuda.h"
#include "detect/detect_gpu.h"

struct db_gpu_detect {
    const db_anchors *a;
    int K, n_max;
    float *logits, *codes, *dlogits, *dcodes, *box_t; // anchor rows of the whole batch
    int *cls_t;
    void *work;
};

extern "C" void db_gpu_detect_destroy(db_gpu_detect *d) {
    if (!d) return; // (cudaFree waits for the work queued on the buffers)
    cudaFree(d->logits); cudaFree(d->codes); cudaFree(d->dlogits); cudaFree(d->dcodes); cudaFree(d->box_t);
    cudaFree(d->cls_t); cudaFree(d->work);
    free(d);
}

static db_status alloc(void **p, size_t bytes, const char *what) {
    cudaError_t e = cudaMalloc(p, bytes ? bytes : 1);
    if (e != cudaSuccess)
        return db_fail(DB_ERR_NOMEM, "GPU: cannot allocate %s (%.1f MiB): %s", what, bytes / 1048576.0, cudaGetErrorString(e));
    return DB_OK;
}

extern "C" db_status db_gpu_detect_create(db_gpu_detect **out, const db_anchors *a, int K, int n_max) {
    *out = NULL;
    db_gpu_detect *d = (db_gpu_detect *)calloc(1, sizeof *d);
    if (!d) return db_fail(DB_ERR_NOMEM, "out of memory");
    d->a = a, d->K = K, d->n_max = n_max;
    const size_t rows = (size_t)n_max * a->n;
    db_status s = alloc((void **)&d->logits, sizeof(float) * rows * K, "the anchor rows");
    if (s == DB_OK) s = alloc((void **)&d->dlogits, sizeof(float) * rows * K, "the anchor rows");
    if (s == DB_OK) s = alloc((void **)&d->codes, sizeof(float) * rows * 4, "the anchor rows");
    if (s == DB_OK) s = alloc((void **)&d->dcodes, sizeof(float) * rows * 4, "the anchor rows");
    if (s == DB_OK) s = alloc((void **)&d->box_t, sizeof(float) * rows * 4, "the box targets");
    if (s == DB_OK) s = alloc((void **)&d->cls_t, sizeof(int) * rows, "the class targets");
    if (s == DB_OK) s = alloc(&d->work, db_detect_loss_cuda_workspace((long)rows), "the loss's workspace");
    if (s != DB_OK) {
        db_gpu_detect_destroy(d);
        return s;
    }
    *out = d;
    return DB_OK;
}

extern "C" db_status db_gpu_detect_loss(db_gpu_detect *d, void *stream, const float *const *cl, const float *const *bx,
                                        float *const *dcl, float *const *dbx, const int *cls_t, const float *box_t, int n,
                                        const db_detect_loss_cfg *c, db_detect_loss_parts *r) {
    if (n < 1 || n > d->n_max) return db_fail(DB_ERR_INTERNAL, "detector: a batch of %d for %d", n, d->n_max);
    cudaStream_t st = (cudaStream_t)stream;
    const db_anchors *a = d->a;
    const long rows = (long)n * a->n;
    CU_TRY(cudaMemcpyAsync(d->cls_t, cls_t, sizeof(int) * rows, cudaMemcpyHostToDevice, st), "sending the class targets");
    CU_TRY(cudaMemcpyAsync(d->box_t, box_t, sizeof(float) * 4 * rows, cudaMemcpyHostToDevice, st), "sending the box targets");
    if (db_detect_gather_cuda(d->logits, cl, a, n, d->K, st) || db_detect_gather_cuda(d->codes, bx, a, n, 4, st))
        return db_fail(DB_ERR_INTERNAL, "GPU: gathering the anchor rows: %s", cudaGetErrorString(cudaGetLastError()));
    if (db_detect_loss_cuda(r, d->dlogits, d->dcodes, d->logits, d->codes, d->cls_t, d->box_t, rows, d->K, c, d->work, st))
        return db_fail(DB_ERR_INTERNAL, "GPU: the detection loss: %s", cudaGetErrorString(cudaGetLastError()));
    if (db_detect_scatter_cuda(dcl, d->dlogits, a, n, d->K, st) || db_detect_scatter_cuda(dbx, d->dcodes, a, n, 4, st))
        return db_fail(DB_ERR_INTERNAL, "GPU: scattering the gradients: %s", cudaGetErrorString(cudaGetLastError()));
    return DB_OK;
}
