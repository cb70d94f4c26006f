// The graph's convolutions on the GPU (nets/graph_cuda_impl.h): their cuDNN descriptors per
// batch size, the padded input's size for TensorFlow's uneven SAME padding (graph_cuda.cu writes
// its border), and in bfloat16 (--precision bf16) the casts of their operands and results, in
// NCHW or channels-last (--conv-layout nhwc).
#include <cuda_runtime.h>

#include "core/log.h"
#include "nets/graph_cuda_impl.h"
#include "nets/ops_cuda.h"

void db_gg_destroy_convs(db_cudnn_conv **c, int n) {
    for (int i = 0; c && i < n; i++) db_cudnn_conv_destroy(c[i]);
}

// A convolution's input with the padding TensorFlow's SAME asks for written out: the rows and
// columns its windows reach (the padding above and left, ph and pw, then the input, then zeros)
void db_gg_padded_size(const db_conv_dims *c, int *h, int *w) {
    *h = (c->oh - 1) * c->sh + c->kh;
    *w = (c->ow - 1) * c->sw + c->kw;
}

// The descriptors of every convolution at batch n; the workspace grows to the largest need. An
// evaluation's last batch (tail) takes cuDNN's choices alone: no GEMMs timed in mid-run (unless
// the options name the path: o.conv_gemm). Channels-last (--conv-layout nhwc): a convolution for
// which cuDNN has no channels-last algorithm keeps NCHW operands, said once; the set for another
// batch (the tail) keeps each convolution's layout as the first set made it (its weights' copy
// is laid out so).
db_status db_gg_make_convs(db_gpu_graph *gg, db_cudnn_conv **set, int n, int tail) {
    size_t need = 0;
    int kept_nchw = 0;
    for (int i = 0; i < gg->g->n_ops; i++) {
        const db_op *op = &gg->g->ops[i];
        if (op->kind != DB_OP_CONV) continue;
        const db_conv_dims *c = &op->u.conv;
        int h = c->h, w = c->w, ph = c->ph, pw = c->pw;
        if (!db_conv_symmetric(c)) db_gg_padded_size(c, &h, &w), ph = pw = 0; // over the input with its border written out
        db_cudnn_conv_dims d = {n, c->cin, h, w, c->cout, c->kh, c->kw, c->sh, c->sw, ph, pw, gg->o.deterministic, gg->o.tf32,
                                gg->o.conv_gemm ? gg->o.conv_gemm : tail, gg->o.bf16, gg->o.bf16 && gg->o.nhwc,
                                gg->o.bf16 && gg->o.nhwc && !gg->g->tensors[op->in[0]].grad}; // (channels-last: the network's
                                // input takes no gradient, and cuDNN supports 1 or 3 channels least there)
        if (d.nhwc && set != gg->conv) d.nhwc = db_cudnn_conv_nhwc(gg->conv[i]);
        size_t ws = 0;
        db_status st = db_cudnn_conv_create(&set[i], gg->dnn, &d, &ws);
        if (st != DB_OK && d.nhwc && set == gg->conv) { // no channels-last algorithm: this one NCHW
            db_cudnn_conv_destroy(set[i]);
            set[i] = NULL;
            d.nhwc = 0;
            if (!kept_nchw++)
                db_log(DB_LOG_NOTE, "cuda: a %dx%d convolution of %d to %d channels on %dx%d stays NCHW in bfloat16 "
                       "(channels-last failed: %s)",
                       c->kh, c->kw, c->cin, c->cout, c->h, c->w, db_last_error());
            st = db_cudnn_conv_create(&set[i], gg->dnn, &d, &ws);
        }
        DB_TRY(st);
        if (ws > need) need = ws;
    }
    if (kept_nchw > 1) db_log(DB_LOG_NOTE, "cuda: %d convolutions in all stay NCHW", kept_nchw);
    if (need > gg->ws_bytes) {
        cudaFree(gg->ws);
        gg->ws = NULL;
        gg->ws_bytes = 0;
        CU_TRY(cudaMalloc(&gg->ws, need), "allocating the convolution workspace");
        gg->ws_bytes = need;
    }
    return DB_OK;
}

// A convolution's input as cuDNN reads it: the padded copy for TensorFlow's uneven SAME
size_t db_gg_conv_in_len(const db_op *op, int n) {
    const db_conv_dims *c = &op->u.conv;
    int h = c->h, w = c->w;
    if (!db_conv_symmetric(c)) db_gg_padded_size(c, &h, &w);
    return (size_t)c->cin * n * h * w;
}

// --precision bf16: the bfloat16 twin of the parameter arena and the convolutions' operands
db_status db_gg_bf16_buffers(db_gpu_graph *gg) {
    const db_graph *g = gg->g;
    size_t in = 0, out = 0, wt = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        if (op->kind != DB_OP_CONV) continue;
        const db_conv_dims *c = &op->u.conv;
        in = db_gg_conv_in_len(op, g->n_max) > in ? db_gg_conv_in_len(op, g->n_max) : in;
        out = numel(&g->tensors[op->out], g->n_max) > out ? numel(&g->tensors[op->out], g->n_max) : out;
        wt = (size_t)c->cout * c->cin * c->kh * c->kw > wt ? (size_t)c->cout * c->cin * c->kh * c->kw : wt;
    }
    DB_TRY(dev_alloc(&gg->w_bf16, g->param_arena.size, "the bfloat16 weights"));
    DB_TRY(dev_alloc(&gg->in_bf16, in, "a convolution's bfloat16 input"));
    DB_TRY(dev_alloc(&gg->out_bf16, out, "a convolution's bfloat16 output"));
    DB_TRY(dev_alloc(&gg->din_bf16, in, "a convolution's bfloat16 input gradient"));
    return dev_alloc(&gg->dw_bf16, wt, "a convolution's bfloat16 weight gradient");
}

// The bfloat16 twin of a parameter's device pointer
static const uint16_t *W16(const db_gpu_graph *gg, const float *w) { return gg->w_bf16 + (w - gg->dev[A_PARAM]); }

// The casts around a bfloat16 convolution: a tensor of n blocks of c planes of hw values (NCHW)
// to bfloat16 as cuDNN reads it (channels-last when the convolution's operands are), and a
// result back (set or added)
static db_status to_bf16(const db_gpu_graph *gg, const db_cudnn_conv *conv, uint16_t *dst, const float *src, int n, int c,
                         size_t hw, const char *what) {
    LAUNCH_TRY(db_cudnn_conv_nhwc(conv) ? db_to_bf16_nhwc_cuda(dst, src, n, c, hw, gg->s)
                                        : db_to_bf16_cuda(dst, src, (size_t)n * c * hw, gg->s), what);
    return DB_OK;
}
static db_status from_bf16(const db_gpu_graph *gg, const db_cudnn_conv *conv, float *dst, const uint16_t *src, int n, int c,
                           size_t hw, int acc, const char *what) {
    LAUNCH_TRY(db_cudnn_conv_nhwc(conv) ? db_from_bf16_nhwc_cuda(dst, src, n, c, hw, acc, gg->s)
                                        : db_from_bf16_cuda(dst, src, (size_t)n * c * hw, acc, gg->s), what);
    return DB_OK;
}

// The weights in bfloat16 for this step, from the fp32 ones the update left: the whole arena,
// then, channels-last, each convolution's (cout, cin, kh, kw) again as (cout, kh, kw, cin)
db_status db_gg_weights_bf16(db_gpu_graph *gg) {
    const db_graph *g = gg->g;
    if (!g->param_arena.size) return DB_OK;
    LAUNCH_TRY(db_to_bf16_cuda(gg->w_bf16, gg->dev[A_PARAM], g->param_arena.size, gg->s), "the weights in bfloat16");
    for (int i = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        if (op->kind != DB_OP_CONV || op->u.conv.kh * op->u.conv.kw == 1) continue; // (the same order both ways)
        if (!gg->conv[i] || !db_cudnn_conv_nhwc(gg->conv[i])) continue;
        const float *w = D(gg, g->params[op->param[0]].data);
        DB_TRY(to_bf16(gg, gg->conv[i], (uint16_t *)W16(gg, w), w, op->u.conv.cout, op->u.conv.cin,
                       (size_t)op->u.conv.kh * op->u.conv.kw, "a convolution's weights in bfloat16, channels-last"));
    }
    return DB_OK;
}

// Convolution op's forward, y from x (its padded copy where it has one) and w, device pointers; in
// bfloat16 the operands are rounded into the scratch, cuDNN's descriptors say bfloat16 (the
// pointers below are typed float for the wrapper: cuDNN and the GEMMs read bfloat16), and
// a result comes back from bfloat16 unless its pass took the GEMMs, which write fp32
db_status db_gg_conv_forward(db_gpu_graph *gg, db_cudnn_conv *conv, const db_op *op, const float *x, const float *w,
                              float *y, int n) {
    if (!gg->o.bf16) return db_cudnn_conv_forward(conv, x, w, y, gg->ws, gg->ws_bytes);
    const db_conv_dims *c = &op->u.conv;
    const size_t hw_in = db_gg_conv_in_len(op, n) / ((size_t)c->cin * n), hw_out = (size_t)c->oh * c->ow;
    const int direct = db_cudnn_conv_result_fp32(conv, DB_CONV_FWD);
    DB_TRY(to_bf16(gg, conv, gg->in_bf16, x, n, c->cin, hw_in, "a convolution's input in bfloat16"));
    DB_TRY(db_cudnn_conv_forward(conv, (const float *)gg->in_bf16, (const float *)W16(gg, w),
                                 direct ? y : (float *)gg->out_bf16, gg->ws, gg->ws_bytes));
    if (!direct) DB_TRY(from_bf16(gg, conv, y, gg->out_bf16, n, c->cout, hw_out, 0, "a convolution's output from bfloat16"));
    return DB_OK;
}

// Its backward: dx set or added (acc; may be NULL), dw set
db_status db_gg_conv_backward(db_gpu_graph *gg, db_cudnn_conv *conv, const db_op *op, const float *x, const float *w,
                               const float *dy, float *dx, float *dw, int acc, int n) {
    if (!gg->o.bf16) return db_cudnn_conv_backward(conv, x, w, dy, dx, dw, acc, 0, gg->ws, gg->ws_bytes);
    const db_conv_dims *c = &op->u.conv;
    const size_t hw_in = db_gg_conv_in_len(op, n) / ((size_t)c->cin * n), hw_out = (size_t)c->oh * c->ow;
    const int dx_direct = db_cudnn_conv_result_fp32(conv, DB_CONV_BWD_DATA);
    const int dw_direct = db_cudnn_conv_result_fp32(conv, DB_CONV_BWD_FILTER);
    DB_TRY(to_bf16(gg, conv, gg->in_bf16, x, n, c->cin, hw_in, "a convolution's input in bfloat16"));
    DB_TRY(to_bf16(gg, conv, gg->out_bf16, dy, n, c->cout, hw_out, "a convolution's output gradient in bfloat16"));
    float *dx_to = !dx ? NULL : dx_direct ? dx : (float *)gg->din_bf16, *dw_to = dw_direct ? dw : (float *)gg->dw_bf16;
    DB_TRY(db_cudnn_conv_backward(conv, (const float *)gg->in_bf16, (const float *)W16(gg, w), (const float *)gg->out_bf16,
                                  dx_to, dw_to, dx_direct && acc, 0, gg->ws, gg->ws_bytes));
    if (dx && !dx_direct)
        DB_TRY(from_bf16(gg, conv, dx, gg->din_bf16, n, c->cin, hw_in, acc, "a convolution's input gradient from bfloat16"));
    if (!dw_direct)
        DB_TRY(from_bf16(gg, conv, dw, gg->dw_bf16, c->cout, c->cin, (size_t)c->kh * c->kw, 0,
                         "a convolution's weight gradient from bfloat16"));
    return DB_OK;
}

// The convolution descriptors for batch n (an evaluation's last batch gets its own set, made once)
db_status db_gg_convs_for(db_gpu_graph *gg, int n, db_cudnn_conv ***set) {
    if (n == gg->g->n_max) { *set = gg->conv; return DB_OK; }
    if (n != gg->tail_n) {
        CU_TRY(cudaStreamSynchronize(gg->s), "waiting for the GPU");
        db_gg_destroy_convs(gg->conv_tail, gg->g->n_ops);
        memset(gg->conv_tail, 0, sizeof *gg->conv_tail * (size_t)gg->g->n_ops);
        gg->tail_n = 0;
        DB_TRY(db_gg_make_convs(gg, gg->conv_tail, n, 1));
        gg->tail_n = n;
    }
    *set = gg->conv_tail;
    return DB_OK;
}
