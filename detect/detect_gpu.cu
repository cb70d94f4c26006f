// The detector's training loss on the GPU graph's outputs (detect/detect_gpu.h).
#include <cuda_runtime.h>
#include <stdlib.h>

#include "core/cuda_check.h"
#include "detect/detect_cuda.h"
#include "detect/detect_gpu.h"

struct db_gpu_detect {
    db_gpu_graph *gg;
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

extern "C" db_status db_gpu_detect_create(db_gpu_detect **out, db_gpu_graph *gg, const db_anchors *a, int K, int n_max) {
    *out = NULL;
    const db_graph *g = db_gpu_graph_host(gg);
    if (g->n_outputs != 2 * a->levels)
        return db_fail(DB_ERR_INTERNAL, "detector: %d outputs for %d levels", g->n_outputs, a->levels);
    for (int l = 0; l < a->levels; l++) {
        const db_tensor *c = db_graph_output_at(g, 2 * l), *b = db_graph_output_at(g, 2 * l + 1);
        if (c->c != a->per_position * K || b->c != a->per_position * 4 || c->h != a->level_h[l] || c->w != a->level_w[l])
            return db_fail(DB_ERR_INTERNAL, "detector: level %d's outputs do not match its anchors", l);
    }
    db_gpu_detect *d = (db_gpu_detect *)calloc(1, sizeof *d);
    if (!d) return db_fail(DB_ERR_NOMEM, "out of memory");
    d->gg = gg, d->a = a, d->K = K, d->n_max = n_max;
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

extern "C" db_status db_gpu_detect_loss(db_gpu_detect *d, const int *cls_t, const float *box_t, int n,
                                        const db_detect_loss_cfg *c, db_detect_loss_parts *r) {
    if (n < 1 || n > d->n_max) return db_fail(DB_ERR_INTERNAL, "detector: a batch of %d for %d", n, d->n_max);
    cudaStream_t st = (cudaStream_t)db_gpu_graph_stream(d->gg);
    const db_anchors *a = d->a;
    const long rows = (long)n * a->n;
    CU_TRY(cudaMemcpyAsync(d->cls_t, cls_t, sizeof(int) * rows, cudaMemcpyHostToDevice, st), "sending the class targets");
    CU_TRY(cudaMemcpyAsync(d->box_t, box_t, sizeof(float) * 4 * rows, cudaMemcpyHostToDevice, st), "sending the box targets");
    const float *cl[DB_ANCHOR_MAX_LEVELS], *bx[DB_ANCHOR_MAX_LEVELS];
    float *dcl[DB_ANCHOR_MAX_LEVELS], *dbx[DB_ANCHOR_MAX_LEVELS];
    for (int l = 0; l < a->levels; l++) {
        cl[l] = db_gpu_graph_output_device(d->gg, 2 * l, 0), bx[l] = db_gpu_graph_output_device(d->gg, 2 * l + 1, 0);
        dcl[l] = db_gpu_graph_output_device(d->gg, 2 * l, 1), dbx[l] = db_gpu_graph_output_device(d->gg, 2 * l + 1, 1);
    }
    if (db_detect_gather_cuda(d->logits, cl, a, n, d->K, st) || db_detect_gather_cuda(d->codes, bx, a, n, 4, st))
        return db_fail(DB_ERR_INTERNAL, "GPU: gathering the anchor rows: %s", cudaGetErrorString(cudaGetLastError()));
    if (db_detect_loss_cuda(r, d->dlogits, d->dcodes, d->logits, d->codes, d->cls_t, d->box_t, rows, d->K, c, d->work, st))
        return db_fail(DB_ERR_INTERNAL, "GPU: the detection loss: %s", cudaGetErrorString(cudaGetLastError()));
    if (db_detect_scatter_cuda(dcl, d->dlogits, a, n, d->K, st) || db_detect_scatter_cuda(dbx, d->dcodes, a, n, 4, st))
        return db_fail(DB_ERR_INTERNAL, "GPU: scattering the gradients: %s", cudaGetErrorString(cudaGetLastError()));
    return DB_OK;
}
