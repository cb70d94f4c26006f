/* Running a finalized graph: forward in op order, backward in reverse. */
#include "nets/graph.h"

#include <omp.h>
#include <string.h>

#include "dropouts/dropblock.h"
#include "dropouts/dropout.h"
#include "dropouts/droppath.h"
#include "dropouts/schedule.h"
#include "core/log.h"
#include "nets/conv_dnnl.h"

void db_graph_set_training(db_graph *g, int training) { g->training = training != 0; }
void db_graph_set_seed(db_graph *g, uint64_t seed) { g->seed = seed; }
void db_graph_set_step(db_graph *g, long step) { g->step = step; }
void db_graph_set_last_step(db_graph *g, long last_step) { g->last_step = last_step; }
void db_graph_set_batch(db_graph *g, int n) { g->n = n < 1 ? 1 : n > g->n_max ? g->n_max : n; }
int db_graph_bn_groups(const db_graph *g) { return g->bn_group > 0 && g->n % g->bn_group == 0 ? g->n / g->bn_group : 1; }
int db_graph_bn_groups_max(const db_graph *g) { return g->bn_group > 0 && g->n_max >= g->bn_group ? g->n_max / g->bn_group : 1; }
float *db_graph_input(db_graph *g) { return g->tensors[0].data; }
const db_tensor *db_graph_output(const db_graph *g) {
    return &g->tensors[g->n_outputs ? g->outputs[0] : g->n_tensors - 1];
}
const db_tensor *db_graph_output_at(const db_graph *g, int i) { return &g->tensors[g->outputs[i]]; }

static size_t plane(const db_tensor *t) { return (size_t)t->h * t->w; }
/* where a batch norm's saved inverse deviations start: after the means of every group */
static size_t bn_half(const db_graph *g, const db_tensor *y) { return (size_t)y->c * db_graph_bn_groups_max(g); }

/* A convolution through oneDNN when the op has it, else the GEMM path. Should oneDNN fail (no
 * memory for another batch size's primitives, another thread count), the op says so once and
 * keeps to the GEMM path; the GEMM backward reads the input from our array, which the forward
 * left unchanged, and oneDNN fails before it writes a gradient (primitives are made, and the
 * thread count checked, before anything runs). */
static void oneDNN_failed(db_op *op) {
    db_log(DB_LOG_NOTE, "a convolution falls back to the GEMM path: %s", db_last_error());
    db_dnnl_conv_destroy(op->dnnl);
    op->dnnl = NULL;
}

static void conv_forward(db_graph *g, db_op *op, float *y, const float *x, const float *w, int n) {
    if (op->dnnl && db_dnnl_conv_forward(op->dnnl, y, x, w, n) == DB_OK) return;
    if (op->dnnl) oneDNN_failed(op);
    db_conv_forward(y, x, w, g->conv_ws, &op->u.conv, n, g->threads);
}

static void conv_backward(db_graph *g, db_op *op, float *dx, float *dw, const float *dy, const float *x, const float *w,
                          int n, int acc) {
    if (op->dnnl && db_dnnl_conv_backward(op->dnnl, dx, dw, dy, x, w, n, acc) == DB_OK) return;
    if (op->dnnl) oneDNN_failed(op);
    db_conv_backward(dx, dw, dy, x, w, g->conv_ws, &op->u.conv, n, acc, g->threads);
}

db_drop_key db_graph_reg_key(const db_graph *g, const db_op *op) {
    /* another replica, another stream of masks (its samples are others) */
    const uint64_t seed = g->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)g->replica);
    db_drop_key k = {seed, (uint32_t)op->u.reg.site, (uint32_t)g->step,
                     db_keep_prob_at(op->u.reg.keep, g->step, g->last_step, op->u.reg.scheduled)};
    return k;
}

db_dropblock_cfg db_graph_dropblock_cfg(const db_op *op) {
    db_dropblock_cfg b = {op->u.reg.block_size, op->u.reg.per_sample, (db_semantics)op->u.reg.semantics};
    return b;
}

void db_graph_reg_count(db_op *op, size_t units, double expected_fraction) {
    op->units += (double)units;
    op->expected += expected_fraction * (double)units;
}

/* A DropBlock op's mask and scales for this step, counted in its records. */
static void dropblock_mask(db_graph *g, db_op *op, const db_tensor *y, int n) {
    db_drop_key k = db_graph_reg_key(g, op);
    db_dropblock_cfg b = db_graph_dropblock_cfg(op);
    double t0 = g->op_seconds ? omp_get_wtime() : 0.0;
    op->dropped += (double)db_dropblock_mask(op->mask, op->scales, &k, &b, y->c, n, y->h, y->w);
    if (g->op_seconds) { /* the draw is the REG op's time, not its host op's */
        double t = omp_get_wtime() - t0;
        g->op_seconds[2 * (op - g->ops)] += t;
        g->moved_seconds += t;
    }
    db_graph_reg_count(op, (size_t)y->c * n * plane(y), db_dropblock_expected_fraction(&b, k.keep_prob, y->h, y->w));
}

/* The post map of a BN with a fused DropBlock (the REG op right after it) */
static db_bn_post fused_post(const db_graph *g, const db_op *reg, int n) {
    const db_tensor *y = &g->tensors[reg->out];
    db_bn_post p = {reg->mask, reg->scales, y->h * y->w, 1};
    for (int j = 1; j < n; j++) p.uniform &= reg->scales[j] == reg->scales[0];
    return p;
}

/* Synchronised batch norm: the channels' sums added over the replicas (g->bn_sync), shifted by
 * the running mean (the same on every replica), then the normalisation of the whole batch; a
 * fused DropBlock as in the plain pass. A failed sum is kept in run_status. */
static void bn_sync_sum(db_graph *g, size_t n) {
    db_status s = g->bn_sync.sum(g->bn_sync.sums, n, g->bn_sync.ctx);
    if (s != DB_OK && g->run_status == DB_OK) g->run_status = s;
}

static void bn_sync_forward(db_graph *g, db_op *op, const db_tensor *x, const db_tensor *y, const float *w, const float *b,
                            int n) {
    const size_t m = (size_t)n * plane(y);
    float *out = y->data;
    db_bn_post post, *pp = NULL;
    if (op->fused) {
        db_op *reg = &g->ops[op->fused - 1];
        dropblock_mask(g, reg, &g->tensors[reg->out], n);
        post = fused_post(g, reg, n), pp = &post;
        out = g->tensors[reg->out].data;
    }
    db_bn_moments(g->bn_sync.sums, x->data, op->run, y->c, m);
    bn_sync_sum(g, 2 * (size_t)y->c);
    db_bn_forward_apply(out, op->save, op->save + y->c, op->run, op->run + y->c, x->data, w, b, g->bn_sync.sums, op->run,
                        (double)m * g->bn_sync.replicas, op->u.bn.momentum, op->u.bn.eps, op->u.bn.relu, y->c, m, pp);
}

static void bn_sync_backward(db_graph *g, const db_op *op, const db_op *reg, const db_bn_post *post, float *dx, float *dw,
                             float *db, const float *w, int n, int acc) {
    const db_tensor *x = &g->tensors[op->in[0]], *y = &g->tensors[op->out];
    const size_t m = (size_t)n * plane(y);
    const float *dy = reg ? g->tensors[reg->out].grad : y->grad, *beta = g->params[op->param[1]].data;
    db_bn_backward_sums(g->bn_sync.sums, dw, db, dy, x->data, w, beta, op->save, op->save + y->c, op->u.bn.relu, y->c, m,
                        post);
    bn_sync_sum(g, 2 * (size_t)y->c);
    if (dx)
        db_bn_backward_apply(dx, g->bn_sync.sums, (double)m * g->bn_sync.replicas, dy, x->data, w, beta, op->save,
                             op->save + y->c, op->u.bn.relu, y->c, m, acc, post);
}

/* Training: drop and rescale, counting what was dropped; inference: the identity. */
static void reg_forward(db_graph *g, db_op *op, const db_tensor *x, db_tensor *y, int n) {
    size_t len = (size_t)y->c * n * plane(y);
    if (op->fused == 2) return; /* inside the add that reads its input directly */
    if (!g->training) { memcpy(y->data, x->data, len * sizeof(float)); return; }
    if (op->fused) return; /* done inside the batch norm before it */
    db_drop_key k = db_graph_reg_key(g, op);
    uint64_t dropped = 0;
    double expected = 1.0 - k.keep_prob;
    switch (op->u.reg.kind) {
    case DB_REG_DROPOUT: dropped = db_dropout_forward(y->data, x->data, &k, y->c, n, y->h, y->w); break;
    case DB_REG_SPATIAL: dropped = db_spatial_dropout_forward(y->data, x->data, &k, y->c, n, y->h, y->w); break;
    case DB_REG_DROPBLOCK:
        dropblock_mask(g, op, y, n);
        db_dropblock_backward(y->data, x->data, op->mask, op->scales, y->c, n, y->h, y->w, 0);
        return;
    case DB_REG_DROPPATH:
        dropped = (uint64_t)db_droppath_forward(y->data, x->data, &k, y->c, n, y->h, y->w) * (len / (size_t)n);
        break;
    case DB_REG_NONE: memcpy(y->data, x->data, len * sizeof(float)); expected = 0.0; break;
    }
    op->dropped += (double)dropped;
    db_graph_reg_count(op, len, expected);
}

static void reg_backward(db_graph *g, db_op *op, db_tensor *x, const db_tensor *y, int n, int acc) {
    if (op->fused) return; /* the batch norm before it reads y's gradient through the mask */
    db_drop_key k = db_graph_reg_key(g, op);
    switch (op->u.reg.kind) {
    case DB_REG_DROPOUT: db_dropout_backward(x->grad, y->grad, &k, y->c, n, y->h, y->w, acc); break;
    case DB_REG_SPATIAL: db_spatial_dropout_backward(x->grad, y->grad, &k, y->c, n, y->h, y->w, acc); break;
    case DB_REG_DROPBLOCK:
        db_dropblock_backward(x->grad, y->grad, op->mask, op->scales, y->c, n, y->h, y->w, acc);
        break;
    case DB_REG_DROPPATH: db_droppath_backward(x->grad, y->grad, &k, y->c, n, y->h, y->w, acc); break;
    case DB_REG_NONE: db_pass_backward(x->grad, y->grad, (size_t)y->c * n * plane(y), acc); break;
    }
}
static size_t numel(const db_tensor *t, int n) { return (size_t)t->c * n * t->h * t->w; }

void db_graph_forward(db_graph *g) {
    const int n = g->n;
    for (int i = 0; i < g->n_ops; i++) {
        double t0 = g->op_seconds ? omp_get_wtime() : 0.0;
        db_op *op = &g->ops[i];
        db_tensor *x = &g->tensors[op->in[0]], *y = &g->tensors[op->out];
        float *w = op->param[0] >= 0 ? g->params[op->param[0]].data : NULL;
        float *b = op->param[1] >= 0 ? g->params[op->param[1]].data : NULL;
        switch (op->kind) {
        case DB_OP_CONV: conv_forward(g, op, y->data, x->data, w, n); break;
        case DB_OP_BN:
            if (g->training && g->bn_sync.sum) {
                bn_sync_forward(g, op, x, y, w, b, n);
            } else if (g->training && op->fused) { /* the DropBlock after it: mask first, then one pass */
                db_op *reg = &g->ops[op->fused - 1];
                db_tensor *z = &g->tensors[reg->out];
                dropblock_mask(g, reg, z, n);
                db_bn_post post = fused_post(g, reg, n);
                db_bn_forward_train(z->data, op->save, op->save + bn_half(g, y), op->run, op->run + y->c, x->data, w, b,
                                    op->u.bn.momentum, op->u.bn.eps, op->u.bn.relu, y->c, (size_t)n * plane(y),
                                    db_graph_bn_groups(g), &post);
            } else if (g->training)
                db_bn_forward_train(y->data, op->save, op->save + bn_half(g, y), op->run, op->run + y->c,
                                    x->data, w, b, op->u.bn.momentum, op->u.bn.eps, op->u.bn.relu, y->c,
                                    (size_t)n * plane(y), db_graph_bn_groups(g), NULL);
            else
                db_bn_forward_infer(y->data, x->data, w, b, op->run, op->run + y->c,
                                    op->u.bn.eps, op->u.bn.relu, y->c, (size_t)n * plane(y));
            break;
        case DB_OP_RELU: db_relu_forward(y->data, x->data, numel(y, n)); break;
        case DB_OP_ADD:
            if (g->training && op->fused) { /* the shortcut's DropBlock: mask first, then one pass */
                db_op *reg = &g->ops[op->fused - 1];
                dropblock_mask(g, reg, y, n);
                db_dropblock_add(y->data, x->data, g->tensors[op->in[1]].data, reg->mask, reg->scales, y->c, n,
                                 y->h, y->w);
            } else { /* (in inference a fused shortcut's regularizer is the identity) */
                db_add_forward(y->data, x->data, g->tensors[op->in[1]].data, numel(y, n));
            }
            break;
        case DB_OP_SHORTCUT_A:
            db_shortcut_a_forward(y->data, x->data, x->c, y->c, n, x->h, x->w, op->u.sc.stride, y->h, y->w);
            break;
        case DB_OP_MAXPOOL:
            db_maxpool_forward(y->data, x->data, x->c * n, x->h, x->w, op->u.pool.k,
                               op->u.pool.stride, op->u.pool.pad, y->h, y->w, g->conv_ws, g->threads);
            break;
        case DB_OP_AVGPOOL:
            (op->u.pool.same ? db_avgpool_excl_forward : db_avgpool_forward)(y->data, x->data, x->c * n, x->h, x->w,
                                                                              op->u.pool.k, op->u.pool.stride,
                                                                              op->u.pool.pad, y->h, y->w, g->conv_ws,
                                                                              g->threads);
            break;
        case DB_OP_GAP: db_gap_forward(y->data, x->data, x->c * n, (int)plane(x)); break;
        case DB_OP_LINEAR: db_linear_forward(y->data, x->data, w, b, x->c, y->c, n); break;
        case DB_OP_REG: reg_forward(g, op, x, y, n); break;
        case DB_OP_UPSAMPLE: db_upsample_forward(y->data, x->data, x->c * n, x->h, x->w, op->u.up.s); break;
        case DB_OP_RESIZE: db_resize_forward(y->data, x->data, x->c * n, x->h, x->w, y->h, y->w); break;
        case DB_OP_DWCONV: db_dw_forward(y->data, x->data, w, g->conv_ws, &op->u.dw, n, g->threads); break;
        case DB_OP_SUBSAMPLE:
            db_subsample_forward(y->data, x->data, x->c * n, x->h, x->w, op->u.sub.s, op->u.sub.off);
            break;
        case DB_OP_CONCAT: {
            const db_tensor *x2 = &g->tensors[op->in[1]];
            db_concat_forward(y->data, x->data, x2->data, x->c, x2->c, (size_t)n * plane(y));
            break;
        }
        case DB_OP_BIAS: db_bias_forward(y->data, x->data, b, y->c, (size_t)n * plane(y)); break;
        }
        if (g->op_seconds) g->op_seconds[2 * i] += omp_get_wtime() - t0 - g->moved_seconds, g->moved_seconds = 0.0;
    }
}

void db_graph_grad_final_from(const db_graph *g, size_t *from) {
    size_t end = 0; /* the end of the highest gradient of the ops before op i: not final after it */
    for (int i = 0; i < g->n_ops; i++) {
        from[i] = end;
        for (int j = 0; j < 2; j++) {
            const int p = g->ops[i].param[j];
            if (p < 0) continue;
            const size_t e = (size_t)(g->params[p].grad - g->grad_arena.base) + g->params[p].size;
            if (e > end) end = e;
        }
    }
}

void db_graph_backward(db_graph *g) {
    const int n = g->n;
    for (int i = g->n_ops - 1; i >= 0; i--) {
        double t0 = g->op_seconds ? omp_get_wtime() : 0.0;
        db_op *op = &g->ops[i];
        db_tensor *x = &g->tensors[op->in[0]], *y = &g->tensors[op->out];
        float *w = op->param[0] >= 0 ? g->params[op->param[0]].data : NULL;
        float *dw = op->param[0] >= 0 ? g->params[op->param[0]].grad : NULL;
        float *db = op->param[1] >= 0 ? g->params[op->param[1]].grad : NULL;
        float *dx = x->grad; /* NULL for the network input */
        int acc = op->accum[0];
        switch (op->kind) {
        case DB_OP_CONV:
            conv_backward(g, op, dx, dw, y->grad, x->data, w, n, acc);
            break;
        case DB_OP_BN: {
            const db_op *reg = op->fused ? &g->ops[op->fused - 1] : NULL;
            db_bn_post post = reg ? fused_post(g, reg, n) : (db_bn_post){0};
            if (g->bn_sync.sum) {
                bn_sync_backward(g, op, reg, reg ? &post : NULL, dx, dw, db, w, n, acc);
                break;
            }
            db_bn_backward(dx, dw, db, reg ? g->tensors[reg->out].grad : y->grad, x->data, w,
                           g->params[op->param[1]].data, op->save, op->save + bn_half(g, y), op->u.bn.relu, y->c,
                           (size_t)n * plane(y), db_graph_bn_groups(g), acc, reg ? &post : NULL);
            break;
        }
        case DB_OP_RELU: if (dx) db_relu_backward(dx, y->grad, y->data, numel(y, n), acc); break;
        case DB_OP_ADD: {
            db_tensor *x2 = &g->tensors[op->in[1]];
            if (dx && !op->alias0) db_pass_backward(dx, y->grad, numel(y, n), acc);
            if (x2->grad && op->fused) {
                const db_op *reg = &g->ops[op->fused - 1];
                db_dropblock_backward(x2->grad, y->grad, reg->mask, reg->scales, y->c, n, y->h, y->w, op->accum[1]);
            } else if (x2->grad) {
                db_pass_backward(x2->grad, y->grad, numel(y, n), op->accum[1]);
            }
            break;
        }
        case DB_OP_SHORTCUT_A:
            if (dx) db_shortcut_a_backward(dx, y->grad, x->c, n, x->h, x->w, op->u.sc.stride, y->h, y->w, acc);
            break;
        case DB_OP_MAXPOOL:
            if (dx) db_maxpool_backward(dx, y->grad, x->data, x->c * n, x->h, x->w, op->u.pool.k,
                                        op->u.pool.stride, op->u.pool.pad, y->h, y->w, acc, g->conv_ws, g->threads);
            break;
        case DB_OP_AVGPOOL:
            if (dx)
                (op->u.pool.same ? db_avgpool_excl_backward : db_avgpool_backward)(dx, y->grad, x->c * n, x->h, x->w,
                                                                                    op->u.pool.k, op->u.pool.stride,
                                                                                    op->u.pool.pad, y->h, y->w, acc,
                                                                                    g->conv_ws, g->threads);
            break;
        case DB_OP_GAP: if (dx) db_gap_backward(dx, y->grad, x->c * n, (int)plane(x), acc); break;
        case DB_OP_LINEAR: db_linear_backward(dx, dw, db, y->grad, x->data, w, x->c, y->c, n, acc); break;
        case DB_OP_REG: if (dx) reg_backward(g, op, x, y, n, acc); break;
        case DB_OP_UPSAMPLE: if (dx) db_upsample_backward(dx, y->grad, x->c * n, x->h, x->w, op->u.up.s, acc); break;
        case DB_OP_RESIZE: if (dx) db_resize_backward(dx, y->grad, x->c * n, x->h, x->w, y->h, y->w, acc); break;
        case DB_OP_DWCONV:
            db_dw_backward(dx, dw, y->grad, x->data, w, g->conv_ws, &op->u.dw, n, acc, g->threads);
            break;
        case DB_OP_SUBSAMPLE:
            if (dx) db_subsample_backward(dx, y->grad, x->c * n, x->h, x->w, op->u.sub.s, op->u.sub.off, acc);
            break;
        case DB_OP_CONCAT:
            db_concat_backward(dx, g->tensors[op->in[1]].grad, y->grad, x->c, g->tensors[op->in[1]].c, (size_t)n * plane(y),
                               acc, op->accum[1]);
            break;
        case DB_OP_BIAS: db_bias_backward(dx, db, y->grad, y->c, (size_t)n * plane(y), acc); break;
        }
        if (g->op_seconds) g->op_seconds[2 * i + 1] += omp_get_wtime() - t0;
        if (g->after_backward_op) g->after_backward_op(g, i, g->after_backward_user);
    }
    for (int p = 0; p < g->n_params; p++) { /* a tied parameter's gradient goes to its master */
        const db_param *pr = &g->params[p];
        if (!pr->tied) continue;
        float *m = g->params[pr->tied - 1].grad;
        for (size_t j = 0; j < pr->size; j++) m[j] += pr->grad[j];
    }
}
