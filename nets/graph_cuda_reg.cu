// The regularizer ops on the GPU graph (nets/graph_cuda_impl.h): DropBlock's masks drawn on the
// device (or by the CPU's code where a rule needs a whole plane), dropout, SpatialDropout and
// DropPath through their kernels, on NCHW maps and, through the map layout, on vectors; and the
// turns between the two layouts (the linear layers' inputs take them too).
#include <cuda_runtime.h>

#include "dropouts/dropblock.h"
#include "dropouts/dropouts_cuda.h"
#include "nets/graph_cuda_impl.h"
#include "nets/ops_cuda.h"

// A DropBlock op's mask and scales on the device. Rules whose seed needs a whole plane (darknet)
// are drawn by the CPU's code and uploaded.
static db_status dropblock_mask(db_gpu_graph *gg, db_op *op, const db_tensor *y, int n, uint8_t *mask, float *scales) {
    const db_graph *g = gg->g;
    db_drop_key k = db_graph_reg_key(g, op);
    db_dropblock_cfg b = db_graph_dropblock_cfg(op);
    size_t len = numel(y, n);
    db_dropblock_rules r = db_dropblock_rules_for(&b, k.keep_prob, y->h, y->w);
    if (r.one_seed) {
        op->dropped += (double)db_dropblock_mask(op->mask, op->scales, &k, &b, y->c, n, y->h, y->w);
        CU_TRY(cudaMemcpyAsync(mask, op->mask, len, cudaMemcpyHostToDevice, gg->s), "uploading a mask");
        CU_TRY(cudaMemcpyAsync(scales, op->scales, sizeof(float) * n, cudaMemcpyHostToDevice, gg->s), "uploading scales");
        CU_TRY(cudaStreamSynchronize(gg->s), "uploading a mask"); // the host mask is redrawn next step
    } else {
        LAUNCH_TRY(db_dropblock_mask_cuda(mask, gg->per_sample, &k, &b, y->c, n, y->h, y->w, gg->s), "DropBlock mask");
        LAUNCH_TRY(db_dropblock_scales_cuda(scales, &gg->dropped[op - g->ops], gg->per_sample, n,
                                            (unsigned long long)y->c * y->h * y->w, r.per_sample, r.eps, gg->s),
                   "DropBlock scales");
    }
    db_graph_reg_count(op, len, db_dropblock_expected_fraction(&b, k.keep_prob, y->h, y->w));
    return DB_OK;
}

static uint8_t *dev_mask(const db_gpu_graph *gg, const db_op *op) {
    return gg->mask + (op->mask - gg->g->mask_bytes);
}

// yd from xd (device pointers, NCHW) for the regularizer op whose output is y (its shape)
db_status db_gg_reg_forward(db_gpu_graph *gg, db_op *op, const float *xd, float *yd, const db_tensor *y, int n) {
    db_graph *g = gg->g;
    size_t len = numel(y, n);
    if (!g->training || op->u.reg.kind == DB_REG_NONE) {
        CU_TRY(cudaMemcpyAsync(yd, xd, sizeof(float) * len, cudaMemcpyDeviceToDevice, gg->s), "copying a tensor");
        return DB_OK;
    }
    db_drop_key k = db_graph_reg_key(g, op);
    unsigned long long *count = &gg->dropped[op - g->ops];
    switch (op->u.reg.kind) {
    case DB_REG_DROPOUT:
    case DB_REG_SPATIAL:
        LAUNCH_TRY(db_dropout_cuda(yd, xd, &k, y->c, n, y->h, y->w, op->u.reg.kind == DB_REG_SPATIAL, 0, count, gg->s),
                   "dropout");
        break;
    case DB_REG_DROPPATH: LAUNCH_TRY(db_droppath_cuda(yd, xd, &k, y->c, n, y->h, y->w, 0, count, gg->s), "DropPath"); break;
    case DB_REG_DROPBLOCK: {
        float *scales = D(gg, op->scales);
        DB_TRY(dropblock_mask(gg, op, y, n, dev_mask(gg, op), scales));
        LAUNCH_TRY(db_dropblock_apply_cuda(yd, xd, dev_mask(gg, op), scales, y->c, n, y->h, y->w, 0, gg->s), "DropBlock");
        return DB_OK; // counted with the mask
    }
    case DB_REG_NONE: break;
    }
    db_graph_reg_count(op, len, 1.0 - k.keep_prob);
    return DB_OK;
}

db_status db_gg_reg_backward(db_gpu_graph *gg, const db_op *op, float *dx, const float *dy, const db_tensor *y, int n, int acc) {
    const db_graph *g = gg->g;
    db_drop_key k = db_graph_reg_key(g, op);
    switch (op->u.reg.kind) {
    case DB_REG_DROPOUT:
    case DB_REG_SPATIAL:
        LAUNCH_TRY(db_dropout_cuda(dx, dy, &k, y->c, n, y->h, y->w, op->u.reg.kind == DB_REG_SPATIAL, acc, NULL, gg->s),
                   "dropout backward");
        break;
    case DB_REG_DROPPATH: LAUNCH_TRY(db_droppath_cuda(dx, dy, &k, y->c, n, y->h, y->w, acc, NULL, gg->s), "DropPath backward"); break;
    case DB_REG_DROPBLOCK:
        LAUNCH_TRY(db_dropblock_apply_cuda(dx, dy, dev_mask(gg, op), D(gg, op->scales), y->c, n, y->h, y->w, acc, gg->s),
                   "DropBlock backward");
        break;
    case DB_REG_NONE: LAUNCH_TRY(db_pass_backward_cuda(dx, dy, numel(y, n), acc, gg->s), "copy backward"); break;
    }
    return DB_OK;
}

// (n, c) <-> (c, n): a 1x1 map as the GPU keeps it and a vector as the CPU does (turned by the
// batch transpose, which takes dst (n, c, hw) from src (c, n, hw))
db_status db_gg_to_vector(db_gpu_graph *gg, float *v, const float *map, int c, int n) {
    LAUNCH_TRY(db_cnhw_to_nchw_cuda(v, map, n, c, 1, gg->s), "turning a map into a vector");
    return DB_OK;
}
db_status db_gg_to_map(db_gpu_graph *gg, float *map, const float *v, int c, int n) {
    LAUNCH_TRY(db_cnhw_to_nchw_cuda(map, v, c, n, 1, gg->s), "turning a vector into a map");
    return DB_OK;
}

// A regularizer on a vector (c, n): its body works on NCHW units, so through the map layout
db_status db_gg_reg_forward_vector(db_gpu_graph *gg, db_op *op, const db_tensor *x, const db_tensor *y, int n) {
    DB_TRY(db_gg_to_map(gg, gg->vec_a, D(gg, x->data), y->c, n));
    DB_TRY(db_gg_reg_forward(gg, op, gg->vec_a, gg->vec_b, y, n));
    return db_gg_to_vector(gg, D(gg, y->data), gg->vec_b, y->c, n);
}
db_status db_gg_reg_backward_vector(db_gpu_graph *gg, const db_op *op, float *dx, const db_tensor *y, int n, int acc) {
    DB_TRY(db_gg_to_map(gg, gg->vec_a, D(gg, y->grad), y->c, n));
    DB_TRY(db_gg_reg_backward(gg, op, gg->vec_b, gg->vec_a, y, n, 0));
    DB_TRY(db_gg_to_vector(gg, gg->vec_a, gg->vec_b, y->c, n));
    LAUNCH_TRY(db_pass_backward_cuda(dx, gg->vec_a, numel(y, n), acc, gg->s), "a vector's gradient");
    return DB_OK;
}
