// The GPU backend's entry point (nets/gpu_backend.h), built into build/libdropbench_gpu.so with
// the cuDNN and cuBLAS ops.
#include <cublas_v2.h>
#include <cudnn.h>

#include "nets/dist_nccl.h"
#include "nets/gpu_backend.h"

static int cublas_version(void) {
    int major = 0, minor = 0, patch = 0;
    if (cublasGetProperty(MAJOR_VERSION, &major) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(MINOR_VERSION, &minor) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(PATCH_LEVEL, &patch) != CUBLAS_STATUS_SUCCESS)
        return 0;
    return major * 10000 + minor * 100 + patch;
}

static size_t cudnn_version(void) { return cudnnGetVersion(); }

// The detector's outputs (class logits, box codes, level by level) checked against its anchors
static db_status detect_create(db_gpu_detect **out, db_gpu_graph *gg, const db_anchors *a, int K, int n_max) {
    *out = NULL;
    const db_graph *g = db_gpu_graph_host(gg);
    if (g->n_outputs != 2 * a->levels)
        return db_fail(DB_ERR_INTERNAL, "detector: %d outputs for %d levels", g->n_outputs, a->levels);
    for (int l = 0; l < a->levels; l++) {
        const db_tensor *c = db_graph_output_at(g, 2 * l), *b = db_graph_output_at(g, 2 * l + 1);
        if (c->c != a->per_position * K || b->c != a->per_position * 4 || c->h != a->level_h[l] || c->w != a->level_w[l])
            return db_fail(DB_ERR_INTERNAL, "detector: level %d's outputs do not match its anchors", l);
    }
    return db_gpu_detect_create(out, a, K, n_max);
}

static db_status detect_loss(db_gpu_detect *d, db_gpu_graph *gg, const int *cls_t, const float *box_t, int n,
                             const db_detect_loss_cfg *c, db_detect_loss_parts *r) {
    const int levels = db_gpu_graph_host(gg)->n_outputs / 2;
    const float *cl[DB_ANCHOR_MAX_LEVELS], *bx[DB_ANCHOR_MAX_LEVELS];
    float *dcl[DB_ANCHOR_MAX_LEVELS], *dbx[DB_ANCHOR_MAX_LEVELS];
    for (int l = 0; l < levels && l < DB_ANCHOR_MAX_LEVELS; l++) {
        cl[l] = db_gpu_graph_output_device(gg, 2 * l, 0), bx[l] = db_gpu_graph_output_device(gg, 2 * l + 1, 0);
        dcl[l] = db_gpu_graph_output_device(gg, 2 * l, 1), dbx[l] = db_gpu_graph_output_device(gg, 2 * l + 1, 1);
    }
    return db_gpu_detect_loss(d, db_gpu_graph_stream(gg), cl, bx, dcl, dbx, cls_t, box_t, n, c, r);
}

extern "C" const db_gpu_backend *db_gpu_backend_entry(void) {
    static const db_gpu_backend table = {DB_GPU_ABI,
                                         cudnn_version,
                                         cublas_version,
                                         db_gpu_graph_create,
                                         db_gpu_graph_destroy,
                                         db_gpu_graph_push,
                                         db_gpu_graph_pull,
                                         db_gpu_graph_input,
                                         db_gpu_graph_labels,
                                         db_gpu_graph_forward_loss,
                                         db_gpu_graph_backward_update,
                                         db_gpu_graph_describe,
                                         db_nccl_unique_id,
                                         db_gpu_graph_join,
                                         db_gpu_graph_forward,
                                         detect_create,
                                         db_gpu_detect_destroy,
                                         detect_loss,
                                         db_gpu_graph_forward_loss_late,
                                         db_gpu_graph_loss_flush};
    return &table;
}
