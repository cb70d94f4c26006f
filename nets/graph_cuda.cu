// The graph on the GPU (nets/graph_cuda.h): its creation, the state's copies between host and
// device, and nets/graph_run.c's two loops with device pointers, on the GPU's layouts
// (nets/ops_cuda.h: NCHW maps, feature-major vectors). Its convolutions are in
// nets/graph_cuda_conv.cu, its regularizer ops in nets/graph_cuda_reg.cu, and the steps callers
// take over these loops in nets/graph_cuda_step.cu.
#include <cuda_runtime.h>
#include <cudnn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/graph_cuda_impl.h"
#include "nets/ops_cuda.h"

extern "C" void db_gpu_graph_destroy(db_gpu_graph *gg) {
    if (!gg) return;
    if (gg->s) cudaStreamSynchronize(gg->s);
    if (gg->comm) cudaStreamSynchronize(gg->comm);
    db_gpu_prof_destroy(gg->prof);
    db_gg_destroy_convs(gg->conv, gg->g->n_ops);
    db_gg_destroy_convs(gg->conv_tail, gg->g->n_ops);
    free(gg->conv);
    free(gg->conv_tail);
    for (int a = 0; a < N_ARENA; a++) cudaFree(gg->dev[a]);
    cudaFree(gg->velocity); cudaFree(gg->decay); cudaFree(gg->mask); cudaFree(gg->dropped); cudaFree(gg->per_sample);
    cudaFree(gg->bn_scratch); cudaFree(gg->bn_sums); cudaFree(gg->dw_scratch); cudaFree(gg->in_stage);
    cudaFree(gg->w_bf16); cudaFree(gg->in_bf16); cudaFree(gg->out_bf16); cudaFree(gg->din_bf16); cudaFree(gg->dw_bf16); cudaFree(gg->labels); cudaFree(gg->xent_scratch); cudaFree(gg->out); cudaFree(gg->ws);
    cudaFreeHost(gg->out_host); cudaFreeHost(gg->in_host); cudaFreeHost(gg->labels_host); cudaFreeHost(gg->late_host);
    for (int k = 0; k < 2; k++)
        if (gg->late_done[k]) cudaEventDestroy(gg->late_done[k]);
    db_cudnn_destroy(gg->dnn);
    db_cublas_destroy(gg->blas);
    db_nccl_destroy(gg->nccl);
    free(gg->final_from);
    free(gg->add_relu);
    free(gg->vec);
    for (int i = 0; gg->padded && i < gg->g->n_ops; i++) cudaFree(gg->padded[i]);
    free(gg->padded);
    cudaFree(gg->pad_grad); cudaFree(gg->vec_a); cudaFree(gg->vec_b); cudaFree(gg->out_stage);
    if (gg->ready) cudaEventDestroy(gg->ready);
    if (gg->summed) cudaEventDestroy(gg->summed);
    if (gg->comm) cudaStreamDestroy(gg->comm);
    if (gg->uploaded) cudaEventDestroy(gg->uploaded);
    if (gg->consumed) cudaEventDestroy(gg->consumed);
    if (gg->copy) cudaStreamDestroy(gg->copy);
    if (gg->s) cudaStreamDestroy(gg->s);
    free(gg);
}

// Which tensors are vectors, kept feature-major (c, n) as on the CPU: the global average pool's
// output, a linear layer's, and a regularizer's on a vector (the classifier's dropout)
static void find_vectors(const db_graph *g, uint8_t *v) {
    for (int i = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        v[op->out] = op->kind == DB_OP_GAP || op->kind == DB_OP_LINEAR || (op->kind == DB_OP_REG && v[op->in[0]]);
    }
}

static db_status check_graph(const db_graph *g, const uint8_t *vec) {
    for (int i = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        const db_tensor *x = &g->tensors[op->in[0]];
        if (op->kind != DB_OP_LINEAR && op->kind != DB_OP_REG && (vec[op->in[0]] || (op->in[1] >= 0 && vec[op->in[1]])))
            return db_fail(DB_ERR_UNSUPPORTED, "GPU graph: op %d (%s) reads the feature vector of a pooling or linear layer; "
                           "on the GPU only a linear layer or a regularizer may (use --device cpu)", i,
                           db_op_kind_name(op->kind));
        if (op->kind == DB_OP_LINEAR && !vec[op->in[0]] && x->h * x->w != 1)
            return db_fail(DB_ERR_UNSUPPORTED, "GPU graph: op %d, a linear layer, reads a %dx%d map, not a pooled vector "
                           "(use --device cpu)", i, x->h, x->w);
        if (op->fused)
            return db_fail(DB_ERR_INTERNAL, "GPU graph: op %d has a fused DropBlock; build the model unfused", i);
        if (op->kind == DB_OP_BN && db_graph_bn_groups_max(g) > 1)
            return db_fail(DB_ERR_UNSUPPORTED, "GPU graph: batch norm over groups of %d samples (bn_group) is not in the "
                           "GPU graph in this version (use --device cpu)", g->bn_group);
        if (op->kind == DB_OP_BN && op->u.bn.eps < CUDNN_BN_MIN_EPSILON)
            return db_fail(DB_ERR_ARG, "bn_eps %g is below cuDNN's smallest batch-norm epsilon (%g); use --device cpu "
                           "or a larger bn_eps", (double)op->u.bn.eps, (double)CUDNN_BN_MIN_EPSILON);
    }
    return DB_OK;
}



// Which parameter-arena elements are parameters and take the weight decay, for the one-launch update
static db_status upload_decay(db_gpu_graph *gg) {
    const db_graph *g = gg->g;
    const db_sgd_config *c = &gg->opt->cfg;
    size_t n = g->param_arena.size;
    DB_TRY(dev_alloc(&gg->decay, n, "the weight-decay mask"));
    if (!n) return DB_OK;
    uint8_t *h = (uint8_t *)calloc(n, 1);
    if (!h) return db_fail(DB_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_params; i++) {
        const db_param *p = &g->params[i];
        if (!p->tied) // (a tied parameter updates nothing of its own)
            memset(h + (p->data - g->param_arena.base), DB_ARENA_PARAM | (db_sgd_decays(p, c) ? DB_ARENA_DECAYS : 0), p->size);
    }
    cudaError_t e = cudaMemcpy(gg->decay, h, n, cudaMemcpyHostToDevice);
    free(h);
    CU_TRY(e, "uploading the weight-decay mask");
    return DB_OK;
}

// The adds to run with the ReLU after them: op i + 1 a ReLU of op i's sum, which nothing else reads
static db_status find_add_relu(db_gpu_graph *gg) {
    const db_graph *g = gg->g;
    gg->add_relu = (uint8_t *)calloc((size_t)g->n_ops, 1);
    if (!gg->add_relu) return db_fail(DB_ERR_NOMEM, "out of memory");
    for (int i = 0; i + 1 < g->n_ops; i++) {
        const db_op *a = &g->ops[i], *r = &g->ops[i + 1];
        if (a->kind != DB_OP_ADD || r->kind != DB_OP_RELU || r->in[0] != a->out || r->accum[0] || gg->add_relu[i]) continue;
        int readers = 0;
        for (int j = 0; j < g->n_ops; j++) readers += (g->ops[j].in[0] == a->out) + (g->ops[j].in[1] == a->out);
        if (readers == 1) gg->add_relu[i] = 1, gg->add_relu[i + 1] = 2;
    }
    return DB_OK;
}

// The buffers between layouts: padded inputs, vectors turned, output maps for the host
static db_status layout_buffers(db_gpu_graph *gg) {
    const db_graph *g = gg->g;
    size_t pad_most = 0, stage = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        const db_tensor *x = &g->tensors[op->in[0]];
        if (op->kind == DB_OP_CONV && !db_conv_symmetric(&op->u.conv)) {
            int h, w;
            db_gg_padded_size(&op->u.conv, &h, &w);
            const size_t len = (size_t)op->u.conv.cin * g->n_max * h * w;
            DB_TRY(dev_alloc(&gg->padded[i], len, "a padded convolution input"));
            if (len > pad_most) pad_most = len;
        }
        const int turned = (op->kind == DB_OP_REG && gg->vec[op->in[0]]) || (op->kind == DB_OP_LINEAR && !gg->vec[op->in[0]]);
        if (turned && numel(x, g->n_max) > gg->vec_size) gg->vec_size = numel(x, g->n_max);
    }
    for (int k = 0; k < n_outputs(g); k++) {
        const int t = output_id(g, k);
        if (!gg->vec[t] && numel(&g->tensors[t], g->n_max) > stage) stage = numel(&g->tensors[t], g->n_max);
    }
    DB_TRY(dev_alloc(&gg->pad_grad, pad_most, "a padded input's gradient"));
    DB_TRY(dev_alloc(&gg->vec_a, gg->vec_size, "the vector scratch"));
    DB_TRY(dev_alloc(&gg->vec_b, gg->vec_size, "the vector scratch"));
    return dev_alloc(&gg->out_stage, stage, "the output staging buffer");
}

static db_status create(db_gpu_graph *gg) {
    db_graph *g = gg->g;
    gg->vec = (uint8_t *)calloc((size_t)g->n_tensors, 1);
    gg->padded = (float **)calloc((size_t)g->n_ops, sizeof *gg->padded);
    if (!gg->vec || !gg->padded) return db_fail(DB_ERR_NOMEM, "out of memory");
    find_vectors(g, gg->vec);
    DB_TRY(check_graph(g, gg->vec));
    for (int i = 0; gg->o.bn_fused && i < g->n_ops; i++) { // the fused batch norm's indices (nets/bn_cuda.cu)
        const db_tensor *y = &g->tensors[g->ops[i].out];
        if (g->ops[i].kind == DB_OP_BN && !db_bn_cuda_fits(y->c, g->n_max, y->h * y->w))
            return db_fail(DB_ERR_UNSUPPORTED, "GPU graph: op %d, a batch norm of %d channels of %d x %dx%d values, is "
                           "beyond the fused kernels (2^31 values a channel, 65535 channels); use --gpu-bn cudnn", i, y->c,
                           g->n_max, y->h, y->w);
    }
    DB_TRY(find_add_relu(gg));
    CU_TRY(cudaStreamCreateWithFlags(&gg->s, cudaStreamNonBlocking), "creating a stream");
    CU_TRY(cudaStreamCreateWithFlags(&gg->copy, cudaStreamNonBlocking), "creating a stream");
    CU_TRY(cudaEventCreateWithFlags(&gg->uploaded, cudaEventDisableTiming), "creating an event");
    CU_TRY(cudaEventCreateWithFlags(&gg->consumed, cudaEventDisableTiming), "creating an event");
    DB_TRY(db_cudnn_create(&gg->dnn));
    DB_TRY(db_cudnn_set_stream(gg->dnn, gg->s));
    DB_TRY(db_cublas_create(&gg->blas, gg->o.tf32));
    DB_TRY(db_cublas_set_stream(gg->blas, gg->s));
    gg->host[A_PARAM] = &g->param_arena; gg->host[A_GRAD] = &g->grad_arena;
    gg->host[A_STATE] = &g->state_arena; gg->host[A_ACT] = &g->act_arena;
    static const char *names[N_ARENA] = {"the parameters", "the gradients", "the running statistics", "the activations"};
    for (int a = 0; a < N_ARENA; a++) DB_TRY(dev_alloc(&gg->dev[a], gg->host[a]->size, names[a]));
    DB_TRY(dev_alloc(&gg->velocity, gg->opt->velocity.size, "the optimizer's state"));
    DB_TRY(upload_decay(gg));
    size_t scratch = 0, dw_scratch = 0, bn_bytes = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        if (op->kind == DB_OP_REG && op->u.reg.kind == DB_REG_DROPBLOCK)
            gg->mask_size += numel(&g->tensors[op->out], g->n_max);
        if (op->kind == DB_OP_BN && op->u.bn.relu && !gg->o.bn_fused && numel(&g->tensors[op->out], g->n_max) > scratch)
            scratch = numel(&g->tensors[op->out], g->n_max); // (the fused kernels need none)
        if (op->kind == DB_OP_BN && gg->o.bn_fused && db_bn_cuda_scratch(g->tensors[op->out].c) > bn_bytes)
            bn_bytes = db_bn_cuda_scratch(g->tensors[op->out].c);
        if (op->kind == DB_OP_DWCONV && db_dw_backward_cuda_scratch(&op->u.dw, g->n_max) > dw_scratch)
            dw_scratch = db_dw_backward_cuda_scratch(&op->u.dw, g->n_max);
    }
    DB_TRY(dev_alloc(&gg->mask, gg->mask_size, "the DropBlock masks"));
    DB_TRY(dev_alloc(&gg->dropped, (size_t)g->n_ops, "the drop counters"));
    DB_TRY(dev_alloc(&gg->per_sample, (size_t)g->n_max, "the drop counters"));
    DB_TRY(dev_alloc(&gg->bn_scratch, scratch, "the batch-norm scratch"));
    DB_TRY(dev_alloc(&gg->bn_sums, bn_bytes, "the batch-norm sums"));
    DB_TRY(dev_alloc(&gg->dw_scratch, dw_scratch, "the depthwise convolutions' scratch"));
    DB_TRY(layout_buffers(gg));
    if (gg->o.bf16) DB_TRY(db_gg_bf16_buffers(gg));
    DB_TRY(dev_alloc(&gg->labels, (size_t)g->n_max, "the labels"));
    DB_TRY(dev_alloc(&gg->xent_scratch, (size_t)g->n_max, "the loss scratch"));
    DB_TRY(dev_alloc(&gg->out, 1, "the step's result"));
    gg->in_floats = numel(&g->tensors[0], g->n_max);
    DB_TRY(dev_alloc(&gg->in_stage, gg->in_floats, "the batch's staging buffer"));
    CU_TRY(cudaMallocHost((void **)&gg->in_host, sizeof(float) * gg->in_floats), "allocating pinned memory");
    CU_TRY(cudaMallocHost((void **)&gg->labels_host, sizeof(int) * g->n_max), "allocating pinned memory");
    CU_TRY(cudaMallocHost((void **)&gg->out_host, sizeof(step_out)), "allocating pinned memory");
    CU_TRY(cudaMallocHost((void **)&gg->late_host, 2 * sizeof(step_out)), "allocating pinned memory");
    for (int k = 0; k < 2; k++)
        CU_TRY(cudaEventCreateWithFlags(&gg->late_done[k], cudaEventDisableTiming), "creating an event");
    /* the zeroing above ran on the default stream, which the non-blocking streams do not wait for */
    CU_TRY(cudaDeviceSynchronize(), "preparing the device buffers");
    gg->conv = (db_cudnn_conv **)calloc((size_t)g->n_ops, sizeof *gg->conv);
    gg->conv_tail = (db_cudnn_conv **)calloc((size_t)g->n_ops, sizeof *gg->conv_tail);
    if (!gg->conv || !gg->conv_tail) return db_fail(DB_ERR_NOMEM, "out of memory");
    DB_TRY(db_gg_make_convs(gg, gg->conv, g->n_max, 0));
    size_t free_b = 0, total_b = 0;
    CU_TRY(cudaMemGetInfo(&free_b, &total_b), "reading the device's memory use");
    gg->mem_used = total_b - free_b;
    return DB_OK;
}

extern "C" db_status db_gpu_graph_create(db_gpu_graph **out, db_graph *g, db_sgd *opt, const db_gpu_options *o) {
    *out = NULL;
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices < 1)
        return db_fail(DB_ERR_UNSUPPORTED, "no CUDA device on this machine");
    /* a process's GPU: the one of its rank on this machine, or the only one it sees (Slurm's
     * --gpus-per-task shows each task its own) */
    const int device = devices == 1 ? 0 : o->device;
    if (device < 0 || device >= devices)
        return db_fail(DB_ERR_UNSUPPORTED, "CUDA device %d: this process sees %d (a data-parallel run takes one per process: "
                       "start at most %d processes per machine)", o->device, devices, devices);
    CU_TRY(cudaSetDevice(device), "choosing the device");
    db_gpu_graph *gg = (db_gpu_graph *)calloc(1, sizeof *gg);
    if (!gg) return db_fail(DB_ERR_NOMEM, "out of memory");
    gg->g = g; gg->opt = opt; gg->o = *o;
    db_status s = create(gg);
    if (s != DB_OK) {
        db_gpu_graph_destroy(gg);
        return s;
    }
    *out = gg;
    return DB_OK;
}

extern "C" float *db_gpu_graph_input(db_gpu_graph *gg) { return gg->in_host; }
extern "C" int *db_gpu_graph_labels(db_gpu_graph *gg) { return gg->labels_host; }

static db_status copy_state(db_gpu_graph *gg, cudaMemcpyKind dir) {
    db_graph *g = gg->g;
    struct { float *host; float *dev; size_t n; } parts[3] = {
        {g->param_arena.base, gg->dev[A_PARAM], g->param_arena.size},
        {g->state_arena.base, gg->dev[A_STATE], g->state_arena.size},
        {gg->opt->velocity.base, gg->velocity, gg->opt->velocity.size}};
    for (int i = 0; i < 3; i++) { // in the compute stream's order (it does not wait for the default stream)
        if (!parts[i].n) continue;
        void *dst = dir == cudaMemcpyHostToDevice ? (void *)parts[i].dev : (void *)parts[i].host;
        const void *src = dir == cudaMemcpyHostToDevice ? (const void *)parts[i].host : (const void *)parts[i].dev;
        CU_TRY(cudaMemcpyAsync(dst, src, sizeof(float) * parts[i].n, dir, gg->s), "copying the model's state");
    }
    CU_TRY(cudaStreamSynchronize(gg->s), "copying the model's state");
    return DB_OK;
}

extern "C" db_status db_gpu_graph_push(db_gpu_graph *gg) {
    if (gg->dev[A_GRAD])
        CU_TRY(cudaMemsetAsync(gg->dev[A_GRAD], 0, sizeof(float) * gg->g->grad_arena.size, gg->s), "zeroing gradients");
    CU_TRY(cudaMemsetAsync(gg->dropped, 0, sizeof(unsigned long long) * gg->g->n_ops, gg->s), "zeroing the drop counters");
    return copy_state(gg, cudaMemcpyHostToDevice); // synchronises
}

extern "C" db_status db_gpu_graph_pull(db_gpu_graph *gg) {
    DB_TRY(copy_state(gg, cudaMemcpyDeviceToHost));
    db_graph *g = gg->g;
    unsigned long long *counts = (unsigned long long *)malloc(sizeof *counts * (size_t)g->n_ops);
    if (!counts) return db_fail(DB_ERR_NOMEM, "out of memory");
    cudaError_t e = cudaMemcpyAsync(counts, gg->dropped, sizeof *counts * (size_t)g->n_ops, cudaMemcpyDeviceToHost, gg->s);
    if (e == cudaSuccess) e = cudaMemsetAsync(gg->dropped, 0, sizeof *counts * (size_t)g->n_ops, gg->s);
    if (e == cudaSuccess) e = cudaStreamSynchronize(gg->s);
    for (int i = 0; e == cudaSuccess && i < g->n_ops; i++) g->ops[i].dropped += (double)counts[i];
    free(counts);
    CU_TRY(e, "reading the drop counters");
    return DB_OK;
}

db_status db_gg_forward(db_gpu_graph *gg) {
    db_graph *g = gg->g;
    const int n = g->n;
    db_cudnn_conv **convs;
    DB_TRY(db_gg_convs_for(gg, n, &convs));
    if (gg->o.bf16) DB_TRY(db_gg_weights_bf16(gg)); // this step's weights, as the update left them
    for (int i = 0; i < g->n_ops; i++) {
        db_op *op = &g->ops[i];
        const db_tensor *x = &g->tensors[op->in[0]], *y = &g->tensors[op->out];
        const float *xd = D(gg, x->data);
        float *yd = D(gg, y->data);
        const float *w = op->param[0] >= 0 ? D(gg, g->params[op->param[0]].data) : NULL;
        const float *b = op->param[1] >= 0 ? D(gg, g->params[op->param[1]].data) : NULL;
        const int hw = y->h * y->w;
        if (gg->prof) db_gpu_prof_forward(gg->prof, i, gg->s);
        switch (op->kind) {
        case DB_OP_CONV:
            if (gg->padded[i]) { // the border written out, then a convolution without padding
                const db_conv_dims *c = &op->u.conv;
                int ph, pw;
                db_gg_padded_size(c, &ph, &pw);
                LAUNCH_TRY(db_pad_forward_cuda(gg->padded[i], xd, c->cin * n, c->h, c->w, c->ph, c->pw, ph, pw, gg->s),
                           "padding a convolution's input");
                xd = gg->padded[i];
            }
            DB_TRY(db_gg_conv_forward(gg, convs[i], op, xd, w, yd, n));
            break;
        case DB_OP_BN: {
            float *run = D(gg, op->run), *save = D(gg, op->save);
            if (gg->o.bn_fused && g->training)
                LAUNCH_TRY(db_bn_forward_train_cuda(yd, save, save + y->c, run, run + y->c, xd, w, b, op->u.bn.momentum,
                                                    op->u.bn.eps, op->u.bn.relu, y->c, n, hw, gg->bn_sums, gg->s),
                           "batch norm forward (training)");
            else if (gg->o.bn_fused)
                LAUNCH_TRY(db_bn_forward_infer_cuda(yd, xd, w, b, run, run + y->c, op->u.bn.eps, op->u.bn.relu, y->c, n, hw,
                                                    gg->bn_sums, gg->s), "batch norm forward (inference)");
            else if (g->training)
                DB_TRY(db_cudnn_bn_forward_train(gg->dnn, yd, save, save + y->c, run, run + y->c, xd, w, b, op->u.bn.momentum,
                                                 op->u.bn.eps, op->u.bn.relu, y->c, n, hw));
            else
                DB_TRY(db_cudnn_bn_forward_infer(gg->dnn, yd, xd, w, b, run, run + y->c, op->u.bn.eps, op->u.bn.relu, y->c, n,
                                                 hw));
            break;
        }
        case DB_OP_RELU:
            if (gg->add_relu[i] != 2) LAUNCH_TRY(db_relu_forward_cuda(yd, xd, numel(y, n), gg->s), "ReLU");
            break; // else done with the add before it
        case DB_OP_ADD:
            if (gg->add_relu[i]) // into the ReLU's output; the sum itself is never read
                LAUNCH_TRY(db_add_relu_forward_cuda(D(gg, g->tensors[g->ops[i + 1].out].data), xd,
                                                    D(gg, g->tensors[op->in[1]].data), numel(y, n), gg->s), "add and ReLU");
            else
                LAUNCH_TRY(db_add_forward_cuda(yd, xd, D(gg, g->tensors[op->in[1]].data), numel(y, n), gg->s), "add");
            break;
        case DB_OP_SHORTCUT_A:
            LAUNCH_TRY(db_shortcut_a_forward_cuda(yd, xd, x->c, y->c, n, x->h, x->w, op->u.sc.stride, y->h, y->w, gg->s),
                       "shortcut");
            break;
        case DB_OP_MAXPOOL:
        case DB_OP_AVGPOOL:
            if (op->u.pool.same) // TensorFlow's SAME: the odd padding below and right, averages over the pixels inside
                LAUNCH_TRY(db_pool_window_forward_cuda(yd, xd, op->kind == DB_OP_MAXPOOL, x->c * n, x->h, x->w, op->u.pool.k,
                                                       op->u.pool.stride, op->u.pool.pad, y->h, y->w, gg->s), "pooling");
            else
                DB_TRY(db_cudnn_pool_forward(gg->dnn, op->kind == DB_OP_MAXPOOL, yd, xd, x->c * n, x->h, x->w, op->u.pool.k,
                                             op->u.pool.stride, op->u.pool.pad));
            break;
        case DB_OP_GAP: LAUNCH_TRY(db_gap_forward_cuda(yd, xd, x->c, n, x->h * x->w, gg->s), "global average pool"); break;
        case DB_OP_LINEAR:
            if (!gg->vec[op->in[0]]) { // a 1x1 map (AmoebaNet's auxiliary head)
                DB_TRY(db_gg_to_vector(gg, gg->vec_a, xd, x->c, n));
                xd = gg->vec_a;
            }
            DB_TRY(db_cublas_linear_forward(gg->blas, yd, xd, w, b, x->c, y->c, n));
            break;
        case DB_OP_REG:
            if (gg->vec[op->in[0]]) DB_TRY(db_gg_reg_forward_vector(gg, op, x, y, n));
            else DB_TRY(db_gg_reg_forward(gg, op, xd, yd, y, n));
            break;
        case DB_OP_UPSAMPLE:
            LAUNCH_TRY(db_upsample_forward_cuda(yd, xd, x->c * n, x->h, x->w, op->u.up.s, gg->s), "upsampling");
            break;
        case DB_OP_RESIZE: LAUNCH_TRY(db_resize_forward_cuda(yd, xd, x->c * n, x->h, x->w, y->h, y->w, gg->s), "resizing"); break;
        case DB_OP_BIAS: LAUNCH_TRY(db_bias_forward_cuda(yd, xd, b, y->c, n, (size_t)hw, gg->s), "bias"); break;
        case DB_OP_DWCONV: LAUNCH_TRY(db_dw_forward_cuda(yd, xd, w, &op->u.dw, n, gg->s), "depthwise convolution"); break;
        case DB_OP_SUBSAMPLE:
            LAUNCH_TRY(db_subsample_forward_cuda(yd, xd, x->c * n, x->h, x->w, op->u.sub.s, op->u.sub.off, gg->s),
                       "subsampling");
            break;
        case DB_OP_CONCAT: {
            const db_tensor *x2 = &g->tensors[op->in[1]];
            LAUNCH_TRY(db_concat_forward_cuda(yd, xd, D(gg, x2->data), x->c, x2->c, n, (size_t)hw, gg->s), "concatenation");
            break;
        }
        }
    }
    if (gg->prof) db_gpu_prof_forward(gg->prof, g->n_ops, gg->s);
    return DB_OK;
}

// Bucket k holds the gradient arena's floats [lo, hi) counted back from its end (the last ops'
// gradients, final first)
static size_t bucket_lo(const db_gpu_graph *gg, int k, size_t *hi) {
    *hi = gg->g->grad_arena.size - (size_t)k * gg->bucket_size;
    return *hi > gg->bucket_size ? *hi - gg->bucket_size : 0;
}

// Its sum waits for the compute stream as it is now
db_status db_gg_start_bucket(db_gpu_graph *gg, int k) {
    size_t hi;
    const size_t lo = bucket_lo(gg, k, &hi);
    CU_TRY(cudaEventRecord(gg->ready, gg->s), "marking a gradient bucket");
    CU_TRY(cudaStreamWaitEvent(gg->comm, gg->ready, 0), "ordering a gradient bucket");
    return db_nccl_mean(gg->nccl, gg->dev[A_GRAD] + lo, hi - lo, gg->comm);
}

// After op i's backward: every bucket now final begins its sum
static db_status buckets_after(db_gpu_graph *gg, int i) {
    size_t hi;
    for (; gg->next_bucket < gg->buckets && bucket_lo(gg, gg->next_bucket, &hi) >= gg->final_from[i]; gg->next_bucket++)
        DB_TRY(db_gg_start_bucket(gg, gg->next_bucket));
    return DB_OK;
}

db_status db_gg_backward(db_gpu_graph *gg) {
    db_graph *g = gg->g;
    const int n = g->n;
    db_cudnn_conv **convs;
    DB_TRY(db_gg_convs_for(gg, n, &convs));
    if (gg->prof) db_gpu_prof_backward(gg->prof, g->n_ops, gg->s);
    for (int i = g->n_ops - 1; i >= 0; i--) {
        const db_op *op = &g->ops[i];
        const db_tensor *x = &g->tensors[op->in[0]], *y = &g->tensors[op->out];
        const float *xd = D(gg, x->data), *yd = D(gg, y->data), *dy = D(gg, y->grad);
        float *dx = D(gg, x->grad); // NULL for the network input
        const float *w = op->param[0] >= 0 ? D(gg, g->params[op->param[0]].data) : NULL;
        float *dw = op->param[0] >= 0 ? D(gg, g->params[op->param[0]].grad) : NULL;
        float *db = op->param[1] >= 0 ? D(gg, g->params[op->param[1]].grad) : NULL;
        int acc = op->accum[0];
        size_t len = numel(y, n);
        switch (op->kind) {
        case DB_OP_CONV:
            if (gg->padded[i]) { // over the padded input; the border's gradient dropped
                const db_conv_dims *c = &op->u.conv;
                int ph, pw;
                db_gg_padded_size(c, &ph, &pw);
                DB_TRY(db_gg_conv_backward(gg, convs[i], op, gg->padded[i], w, dy, dx ? gg->pad_grad : NULL, dw, 0, n));
                if (dx)
                    LAUNCH_TRY(db_pad_backward_cuda(dx, gg->pad_grad, c->cin * n, c->h, c->w, c->ph, c->pw, ph, pw, acc, gg->s),
                               "a padded input's gradient");
            } else {
                DB_TRY(db_gg_conv_backward(gg, convs[i], op, xd, w, dy, dx, dw, acc, n));
            }
            break;
        case DB_OP_BN: {
            const float *save = D(gg, op->save);
            if (!dx) return db_fail(DB_ERR_INTERNAL, "GPU graph: a batch norm on the network input");
            if (gg->o.bn_fused)
                LAUNCH_TRY(db_bn_backward_cuda(dx, dw, db, dy, xd, yd, w, save, save + y->c, op->u.bn.relu, y->c, n, y->h * y->w,
                                               acc, gg->bn_sums, gg->s), "batch norm backward");
            else
                DB_TRY(db_cudnn_bn_backward(gg->dnn, dx, dw, db, dy, xd, yd, w, save, save + y->c, op->u.bn.eps, op->u.bn.relu,
                                        y->c, n, y->h * y->w, acc, gg->bn_scratch));
            break;
        }
        case DB_OP_RELU: {
            const db_op *add = gg->add_relu[i] == 2 ? &g->ops[i - 1] : NULL;
            float *dx2 = add ? D(gg, g->tensors[add->in[1]].grad) : NULL;
            if (dx && dx2) // the sum's gradient and the add's second input's at once
                LAUNCH_TRY(db_add_relu_backward_cuda(dx, dx2, dy, yd, len, add->accum[1], gg->s), "ReLU and add backward");
            else if (dx)
                LAUNCH_TRY(db_relu_backward_cuda(dx, dy, yd, len, acc, gg->s), "ReLU backward");
            break;
        }
        case DB_OP_ADD: {
            float *dx2 = D(gg, g->tensors[op->in[1]].grad);
            if (dx && !op->alias0) LAUNCH_TRY(db_pass_backward_cuda(dx, dy, len, acc, gg->s), "add backward");
            if (dx2 && !(gg->add_relu[i] && D(gg, g->tensors[g->ops[i + 1].in[0]].grad))) // else done with the ReLU
                LAUNCH_TRY(db_pass_backward_cuda(dx2, dy, len, op->accum[1], gg->s), "add backward");
            break;
        }
        case DB_OP_SHORTCUT_A:
            if (dx)
                LAUNCH_TRY(db_shortcut_a_backward_cuda(dx, dy, x->c, y->c, n, x->h, x->w, op->u.sc.stride, y->h, y->w, acc,
                                                       gg->s), "shortcut backward");
            break;
        case DB_OP_MAXPOOL: // cuDNN's: 1.03 ms for ResNet-50's stem pool at batch 64 on an H200, where the
        case DB_OP_AVGPOOL: // CPU-ordered gather (db_pool_window_backward_cuda, the CPU's bits) took 1.80 ms
            if (dx && op->u.pool.same)
                LAUNCH_TRY(db_pool_window_backward_cuda(dx, dy, xd, op->kind == DB_OP_MAXPOOL, x->c * n, x->h, x->w,
                                                        op->u.pool.k, op->u.pool.stride, op->u.pool.pad, y->h, y->w, acc,
                                                        gg->s), "pooling backward");
            else if (dx)
                DB_TRY(db_cudnn_pool_backward(gg->dnn, op->kind == DB_OP_MAXPOOL, dx, dy, yd, xd, x->c * n, x->h, x->w,
                                              op->u.pool.k, op->u.pool.stride, op->u.pool.pad, acc));
            break;
        case DB_OP_GAP:
            if (dx) LAUNCH_TRY(db_gap_backward_cuda(dx, dy, x->c, n, x->h * x->w, acc, gg->s), "global average pool backward");
            break;
        case DB_OP_LINEAR:
            if (!gg->vec[op->in[0]]) { // a 1x1 map: the input turned again, the gradient turned back
                DB_TRY(db_gg_to_vector(gg, gg->vec_a, xd, x->c, n));
                DB_TRY(db_cublas_linear_backward(gg->blas, dx ? gg->vec_b : NULL, dw, db, dy, gg->vec_a, w, x->c, y->c, n, 0));
                if (dx) {
                    DB_TRY(db_gg_to_map(gg, gg->vec_a, gg->vec_b, x->c, n));
                    LAUNCH_TRY(db_pass_backward_cuda(dx, gg->vec_a, numel(x, n), acc, gg->s), "a linear layer's input gradient");
                }
            } else {
                DB_TRY(db_cublas_linear_backward(gg->blas, dx, dw, db, dy, xd, w, x->c, y->c, n, acc));
            }
            break;
        case DB_OP_REG:
            if (dx && gg->vec[op->in[0]]) DB_TRY(db_gg_reg_backward_vector(gg, op, dx, y, n, acc));
            else if (dx) DB_TRY(db_gg_reg_backward(gg, op, dx, dy, y, n, acc));
            break;
        case DB_OP_UPSAMPLE:
            if (dx) LAUNCH_TRY(db_upsample_backward_cuda(dx, dy, x->c * n, x->h, x->w, op->u.up.s, acc, gg->s), "upsampling backward");
            break;
        case DB_OP_RESIZE:
            if (dx) LAUNCH_TRY(db_resize_backward_cuda(dx, dy, x->c * n, x->h, x->w, y->h, y->w, acc, gg->s), "resizing backward");
            break;
        case DB_OP_BIAS: LAUNCH_TRY(db_bias_backward_cuda(dx, db, dy, y->c, n, (size_t)y->h * y->w, acc, gg->s), "bias backward"); break;
        case DB_OP_DWCONV:
            LAUNCH_TRY(db_dw_backward_cuda(dx, dw, dy, xd, w, &op->u.dw, n, acc, gg->dw_scratch, gg->s), "depthwise convolution backward");
            break;
        case DB_OP_SUBSAMPLE:
            if (dx)
                LAUNCH_TRY(db_subsample_backward_cuda(dx, dy, x->c * n, x->h, x->w, op->u.sub.s, op->u.sub.off, acc, gg->s),
                           "subsampling backward");
            break;
        case DB_OP_CONCAT: {
            const db_tensor *x2 = &g->tensors[op->in[1]];
            LAUNCH_TRY(db_concat_backward_cuda(dx, D(gg, x2->grad), dy, x->c, x2->c, n, (size_t)y->h * y->w, acc, op->accum[1],
                                               gg->s), "concatenation backward");
            break;
        }
        }
        if (gg->prof) db_gpu_prof_backward(gg->prof, i, gg->s);
        if (gg->buckets) DB_TRY(buckets_after(gg, i));
    }
    for (int p = 0; p < g->n_params; p++) { // a tied parameter's gradient goes to its master, as on the CPU
        const db_param *pr = &g->params[p];
        if (pr->tied)
            LAUNCH_TRY(db_pass_backward_cuda(D(gg, g->params[pr->tied - 1].grad), D(gg, pr->grad), pr->size, 1, gg->s),
                       "a shared weight's gradient");
    }
    return DB_OK;
}
