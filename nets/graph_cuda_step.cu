// The GPU graph's steps (nets/graph_cuda.h) over nets/graph_cuda.cu's loops: the classification
// loss, read at once or a step late; a task's own forward with its outputs to the host; the update
// over the whole parameter arena; data parallel's group; the step profile and the description.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/graph_cuda_impl.h"
#include "nets/ops_cuda.h"

static db_status loss(db_gpu_graph *gg, float smoothing, db_gpu_step *out);

// flag stays 1 while every value is finite (a plain store of 0 by any thread that finds one)
static __global__ void finite_kernel(int *flag, const float *a, size_t n) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        if (!isfinite(a[i])) *flag = 0;
}

static db_status check_finite(db_gpu_graph *gg, int *flag) {
    const db_arena *arenas[2] = {&gg->g->param_arena, &gg->g->state_arena};
    float *dev[2] = {gg->dev[A_PARAM], gg->dev[A_STATE]};
    for (int a = 0; a < 2; a++) {
        if (!arenas[a]->size) continue;
        size_t blocks = (arenas[a]->size + 255) / 256;
        finite_kernel<<<(unsigned)(blocks < 1024 ? blocks : 1024), 256, 0, gg->s>>>(flag, dev[a], arenas[a]->size);
        CU_TRY(cudaGetLastError(), "the finite check");
    }
    return DB_OK;
}

// The batch up (on the copy stream) and into the input tensor, then the forward
static db_status upload_forward(db_gpu_graph *gg) {
    db_graph *g = gg->g;
    const int n = g->n;
    const db_tensor *in = &g->tensors[0];
    size_t in_len = numel(in, n);
    // the staging buffer and the labels are read by the previous step's transpose and loss
    CU_TRY(cudaStreamWaitEvent(gg->copy, gg->consumed, 0), "waiting for the previous step");
    CU_TRY(cudaMemcpyAsync(gg->in_stage, gg->in_host, sizeof(float) * in_len, cudaMemcpyHostToDevice, gg->copy),
           "uploading the batch");
    CU_TRY(cudaMemcpyAsync(gg->labels, gg->labels_host, sizeof(int) * n, cudaMemcpyHostToDevice, gg->copy),
           "uploading the labels");
    CU_TRY(cudaEventRecord(gg->uploaded, gg->copy), "recording the upload");
    CU_TRY(cudaStreamWaitEvent(gg->s, gg->uploaded, 0), "waiting for the upload");
    if (gg->prof) db_gpu_prof_mark(gg->prof, DB_PROF_INPUT, gg->s);
    LAUNCH_TRY(db_cnhw_to_nchw_cuda(D(gg, in->data), gg->in_stage, in->c, n, (size_t)in->h * in->w, gg->s),
               "transposing the batch");
    gg->host_loss = 0;
    return db_gg_forward(gg);
}

extern "C" db_status db_gpu_graph_forward_loss(db_gpu_graph *gg, float smoothing, db_gpu_step *out) {
    db_status fs = upload_forward(gg);
    if (fs == DB_OK) fs = loss(gg, smoothing, out);
    if (fs != DB_OK) { // nothing may still read the pinned batch when the caller gives up
        cudaStreamSynchronize(gg->copy);
        cudaStreamSynchronize(gg->s);
    }
    return fs;
}

static __global__ void reset_out(step_out *o) {
    o->loss = 0.0, o->aux = 0.0, o->counts[0] = o->counts[1] = 0, o->finite = 1;
}

// The loss, top-k and finite flag of the forward just queued, their copy into dst (pinned) queued
// after them; nothing waited for
static db_status queue_loss(db_gpu_graph *gg, float smoothing, step_out *dst) {
    db_graph *g = gg->g;
    const int n = g->n, aux = g->training && n_outputs(g) > 1;
    const db_tensor *o = &g->tensors[output_id(g, 0)], *a = aux ? &g->tensors[output_id(g, 1)] : NULL;
    if (!gg->vec[output_id(g, 0)] || (aux && !gg->vec[output_id(g, 1)]) || n_outputs(g) > 2)
        return db_fail(DB_ERR_INTERNAL, "GPU graph: the classification loss reads one or two vectors of logits; this "
                       "network's %d outputs take its task's own loss (db_gpu_graph_forward)", n_outputs(g));
    reset_out<<<1, 1, 0, gg->s>>>(gg->out);
    CU_TRY(cudaGetLastError(), "resetting the result");
    LAUNCH_TRY(db_softmax_xent_cuda(&gg->out->loss, g->training ? D(gg, o->grad) : NULL, D(gg, o->data), gg->labels, o->c, n,
                                    smoothing, gg->xent_scratch, gg->s), "loss");
    if (aux) { // the auxiliary head: its loss and gradient times its weight (added on the host)
        LAUNCH_TRY(db_softmax_xent_cuda(&gg->out->aux, D(gg, a->grad), D(gg, a->data), gg->labels, a->c, n, smoothing,
                                        gg->xent_scratch, gg->s), "the auxiliary loss");
        LAUNCH_TRY(db_scale_cuda(D(gg, a->grad), gg->o.aux_weight, numel(a, n), gg->s), "the auxiliary loss's weight");
    }
    LAUNCH_TRY(db_topk_correct_cuda(gg->out->counts, D(gg, o->data), gg->labels, o->c, n, gg->s), "top-k");
    // the staging buffer (read by the transpose) and the labels are free: the next upload may start while the
    // backward runs
    CU_TRY(cudaEventRecord(gg->consumed, gg->s), "recording the step's reads");
    if (g->training) DB_TRY(check_finite(gg, &gg->out->finite));
    if (gg->prof) db_gpu_prof_mark(gg->prof, DB_PROF_LOSS, gg->s);
    CU_TRY(cudaMemcpyAsync(dst, gg->out, sizeof(step_out), cudaMemcpyDeviceToHost, gg->s), "reading the loss");
    return DB_OK;
}

// A read-back result as the caller takes it (the auxiliary head's loss times its weight added)
static void take_out(const db_gpu_graph *gg, const step_out *h, int aux, db_gpu_step *out) {
    out->loss = h->loss + (aux ? gg->o.aux_weight * h->aux : 0.0);
    out->top1 = h->counts[0];
    out->top5 = h->counts[1];
    out->finite = h->finite;
}

// The loss of the forward just queued, waited for
static db_status loss(db_gpu_graph *gg, float smoothing, db_gpu_step *out) {
    DB_TRY(queue_loss(gg, smoothing, gg->out_host));
    CU_TRY(cudaStreamSynchronize(gg->s), "running the forward");
    if (gg->prof) DB_TRY(db_gpu_prof_collect(gg->prof));
    take_out(gg, gg->out_host, gg->g->training && n_outputs(gg->g) > 1, out);
    return DB_OK;
}

extern "C" db_status db_gpu_graph_forward_loss_late(db_gpu_graph *gg, float smoothing, db_gpu_step *prev, int *have) {
    const int k = gg->late_next, aux = gg->g->training && n_outputs(gg->g) > 1;
    *have = 0;
    db_status s = upload_forward(gg);
    if (s == DB_OK) s = queue_loss(gg, smoothing, &gg->late_host[k]);
    if (s == DB_OK) s = DB_CUDA(cudaEventRecord(gg->late_done[k], gg->s), "marking the step's result");
    // the batch's pinned buffers are the caller's again once their upload is done
    if (s == DB_OK) s = DB_CUDA(cudaEventSynchronize(gg->uploaded), "uploading the batch");
    if (s != DB_OK) { // nothing may still read the pinned batch when the caller gives up
        cudaStreamSynchronize(gg->copy);
        cudaStreamSynchronize(gg->s);
        return s;
    }
    if (gg->late_pending) { // the step before's result: done before this batch's upload could start
        CU_TRY(cudaEventSynchronize(gg->late_done[1 - k]), "reading the loss");
        if (gg->prof) DB_TRY(db_gpu_prof_collect(gg->prof));
        take_out(gg, &gg->late_host[1 - k], gg->late_aux[1 - k], prev);
        *have = 1;
    }
    gg->late_aux[k] = aux;
    gg->late_pending = 1;
    gg->late_next = 1 - k;
    return DB_OK;
}

extern "C" db_status db_gpu_graph_loss_flush(db_gpu_graph *gg, db_gpu_step *last, int *have) {
    *have = 0;
    if (!gg->late_pending) return DB_OK;
    const int k = 1 - gg->late_next;
    CU_TRY(cudaEventSynchronize(gg->late_done[k]), "reading the loss");
    take_out(gg, &gg->late_host[k], gg->late_aux[k], last);
    gg->late_pending = 0;
    *have = 1;
    return DB_OK;
}

// Output k (NCHW maps, feature-major vectors) to the host's tensor (CNHW) or its gradient back
static db_status output_to_host(db_gpu_graph *gg, int k) {
    const db_graph *g = gg->g;
    const int t = output_id(g, k), n = g->n;
    const db_tensor *y = &g->tensors[t];
    const float *src = D(gg, y->data);
    if (!gg->vec[t]) {
        LAUNCH_TRY(db_cnhw_to_nchw_cuda(gg->out_stage, src, n, y->c, (size_t)y->h * y->w, gg->s), "an output's layout");
        src = gg->out_stage;
    }
    CU_TRY(cudaMemcpyAsync(y->data, src, sizeof(float) * numel(y, n), cudaMemcpyDeviceToHost, gg->s), "reading an output");
    return DB_OK;
}

static db_status grad_from_host(db_gpu_graph *gg, int k) {
    const db_graph *g = gg->g;
    const int t = output_id(g, k), n = g->n;
    const db_tensor *y = &g->tensors[t];
    float *dst = gg->vec[t] ? D(gg, y->grad) : gg->out_stage;
    CU_TRY(cudaMemcpyAsync(dst, y->grad, sizeof(float) * numel(y, n), cudaMemcpyHostToDevice, gg->s), "sending a gradient");
    if (!gg->vec[t])
        LAUNCH_TRY(db_cnhw_to_nchw_cuda(D(gg, y->grad), gg->out_stage, y->c, n, (size_t)y->h * y->w, gg->s),
                   "a gradient's layout");
    return DB_OK;
}

extern "C" db_graph *db_gpu_graph_host(db_gpu_graph *gg) { return gg->g; }
extern "C" void *db_gpu_graph_stream(db_gpu_graph *gg) { return (void *)gg->s; }
extern "C" float *db_gpu_graph_output_device(db_gpu_graph *gg, int k, int grad) {
    const db_tensor *y = &gg->g->tensors[output_id(gg->g, k)];
    return D(gg, grad ? y->grad : y->data);
}

extern "C" db_status db_gpu_graph_forward(db_gpu_graph *gg, int *finite, int to_host) {
    db_graph *g = gg->g;
    db_status s = upload_forward(gg);
    if (s == DB_OK) s = DB_CUDA(cudaEventRecord(gg->consumed, gg->s), "recording the step's reads");
    if (s == DB_OK && g->training) {
        reset_out<<<1, 1, 0, gg->s>>>(gg->out);
        s = DB_CUDA(cudaGetLastError(), "resetting the result");
        if (s == DB_OK) s = check_finite(gg, &gg->out->finite);
        if (s == DB_OK)
            s = DB_CUDA(cudaMemcpyAsync(gg->out_host, gg->out, sizeof(step_out), cudaMemcpyDeviceToHost, gg->s),
                        "the finite check");
    }
    for (int k = 0; s == DB_OK && to_host && k < n_outputs(g); k++) s = output_to_host(gg, k);
    if (s == DB_OK) s = DB_CUDA(cudaStreamSynchronize(gg->s), "running the forward");
    if (s != DB_OK) { // nothing may still read the pinned batch when the caller gives up
        cudaStreamSynchronize(gg->copy);
        cudaStreamSynchronize(gg->s);
        return s;
    }
    gg->host_loss = g->training && to_host;
    *finite = g->training ? gg->out_host->finite : 1;
    return DB_OK;
}

extern "C" db_status db_gpu_graph_join(db_gpu_graph *gg, const void *id, int rank, int size) {
    if (gg->nccl) return db_fail(DB_ERR_INTERNAL, "GPU graph: joined a group already");
    DB_TRY(db_nccl_create(&gg->nccl, id, rank, size));
    const db_graph *g = gg->g;
    if (!gg->o.bucket_floats || !g->grad_arena.size || has_tied(g)) return DB_OK; // (shared weights: after the backward)
    // buckets (check_graph refuses shared weights, whose gradients are gathered after the last op)
    gg->bucket_size = gg->o.bucket_floats;
    gg->buckets = (int)((g->grad_arena.size + gg->bucket_size - 1) / gg->bucket_size);
    gg->final_from = (size_t *)calloc((size_t)g->n_ops + 1, sizeof *gg->final_from);
    if (!gg->final_from) return db_fail(DB_ERR_NOMEM, "out of memory");
    db_graph_grad_final_from(g, gg->final_from);
    CU_TRY(cudaStreamCreateWithFlags(&gg->comm, cudaStreamNonBlocking), "creating the gradients' stream");
    CU_TRY(cudaEventCreateWithFlags(&gg->ready, cudaEventDisableTiming), "creating an event");
    CU_TRY(cudaEventCreateWithFlags(&gg->summed, cudaEventDisableTiming), "creating an event");
    return DB_OK;
}

// The optimizer's step over the whole parameter arena (the gradient arena's first floats have its
// layout: nets/graph.c), then the moving average's, as nets/optim.c on the CPU
static db_status update(db_gpu_graph *gg, float lr) {
    const db_graph *g = gg->g;
    const db_sgd *opt = gg->opt;
    const db_sgd_config *c = &opt->cfg;
    const long np = (long)g->param_arena.size;
    float *dev = gg->velocity; // the optimizer's arena on the device: a host part's offset is its twin's
    if (c->rmsprop)
        LAUNCH_TRY(db_rmsprop_arena_cuda(gg->dev[A_PARAM], dev, dev + (opt->mean_square - opt->velocity.base), gg->dev[A_GRAD],
                                         gg->decay, np, lr, c->rms_decay, c->momentum, c->rms_epsilon, c->weight_decay,
                                         gg->s), "RMSProp");
    else
        LAUNCH_TRY(db_sgd_arena_cuda(gg->dev[A_PARAM], dev, gg->dev[A_GRAD], gg->decay, np, lr, c->momentum,
                                     c->weight_decay, c->nesterov, gg->s), "SGD");
    if (!opt->ema_params) return DB_OK;
    const float k = 1.0f - db_sgd_ema_decay(opt, g->step + 1); // the loop numbers the steps from 0
    LAUNCH_TRY(db_ema_cuda(dev + (opt->ema_params - opt->velocity.base), gg->dev[A_PARAM], np, k, gg->s),
               "the moving average");
    LAUNCH_TRY(db_ema_cuda(dev + (opt->ema_state - opt->velocity.base), gg->dev[A_STATE], (long)g->state_arena.size, k, gg->s),
               "the moving average");
    return DB_OK;
}

extern "C" db_status db_gpu_graph_backward_update(db_gpu_graph *gg, float lr) {
    db_graph *g = gg->g;
    if (gg->nccl && gg->buckets) { // the running statistics first (final since the forward), then the buckets
        gg->next_bucket = 0;
        CU_TRY(cudaEventRecord(gg->ready, gg->s), "marking the running statistics");
        CU_TRY(cudaStreamWaitEvent(gg->comm, gg->ready, 0), "ordering the running statistics");
        DB_TRY(db_nccl_mean(gg->nccl, gg->dev[A_STATE], g->state_arena.size, gg->comm));
    }
    for (int k = 0; gg->host_loss && k < n_outputs(g); k++) DB_TRY(grad_from_host(gg, k)); // the task's loss gradients
    gg->host_loss = 0;
    DB_TRY(db_gg_backward(gg));
    if (gg->nccl && gg->buckets) { // (every bucket began once op 0 was done) the update waits for the sums
        for (; gg->next_bucket < gg->buckets; gg->next_bucket++) DB_TRY(db_gg_start_bucket(gg, gg->next_bucket));
        CU_TRY(cudaEventRecord(gg->summed, gg->comm), "marking the sums");
        CU_TRY(cudaStreamWaitEvent(gg->s, gg->summed, 0), "waiting for the sums");
    } else if (gg->nccl) { // data parallel: the replicas' mean gradient and running statistics
        DB_TRY(db_nccl_mean(gg->nccl, gg->dev[A_GRAD], g->grad_arena.size, gg->s));
        DB_TRY(db_nccl_mean(gg->nccl, gg->dev[A_STATE], g->state_arena.size, gg->s));
    }
    DB_TRY(update(gg, lr));
    if (gg->prof) db_gpu_prof_mark(gg->prof, DB_PROF_UPDATE, gg->s);
    return DB_OK;
}

extern "C" db_status db_gpu_graph_profile(db_gpu_graph *gg, int on) {
    CU_TRY(cudaStreamSynchronize(gg->s), "waiting for the GPU");
    db_gpu_prof_destroy(gg->prof);
    gg->prof = NULL;
    return on ? db_gpu_prof_create(&gg->prof, gg->g) : DB_OK;
}

extern "C" db_status db_gpu_graph_profile_report(db_gpu_graph *gg, FILE *f) {
    if (!gg->prof) return db_fail(DB_ERR_ARG, "GPU graph: no profile is being taken");
    CU_TRY(cudaStreamSynchronize(gg->s), "waiting for the GPU");
    DB_TRY(db_gpu_prof_collect(gg->prof));
    db_gpu_prof_report(gg->prof, f);
    return DB_OK;
}

extern "C" int db_gpu_graph_gemm_passes(const db_gpu_graph *gg, int *convs) {
    int n = 0;
    *convs = 0;
    for (int i = 0; i < gg->g->n_ops; i++) {
        if (!gg->conv[i]) continue;
        *convs += db_cudnn_conv_gemm_shape(gg->conv[i]);
        for (int p = 0; p < DB_CONV_PASSES; p++) {
            n += db_cudnn_conv_on_gemm(gg->conv[i], p);
            if (gg->conv_tail[i]) n += db_cudnn_conv_on_gemm(gg->conv_tail[i], p);
        }
    }
    return n;
}

extern "C" void db_gpu_graph_describe(const db_gpu_graph *gg, char *out, size_t n) {
    int convs = 0, nchw = 0; /* channels-last: convolutions cuDNN had no channels-last algorithm for */
    for (int i = 0; i < gg->g->n_ops; i++)
        if (gg->conv[i]) convs++, nchw += gg->o.bf16 && gg->o.nhwc && !db_cudnn_conv_nhwc(gg->conv[i]);
    size_t used = (size_t)snprintf(out, n, "%s math, %s algorithms, workspace %.1f MiB, device memory in use %.0f MiB",
                                   gg->o.bf16 && gg->o.nhwc ? "bf16 convolutions on channels-last operands (fp32 accumulation; the rest fp32)"
                                   : gg->o.bf16 ? "bf16 convolutions (fp32 accumulation; the rest fp32)" : gg->o.tf32 ? "TF32" : "fp32", gg->o.deterministic ? "deterministic" : "fastest",
                                   gg->ws_bytes / 1048576.0, gg->mem_used / 1048576.0);
    if (nchw && used < n) used += (size_t)snprintf(out + used, n - used, "; %d of %d convolutions kept NCHW", nchw, convs);
    for (int i = 0; i < gg->g->n_ops && used < n; i++)
        if (gg->conv[i]) { // the first convolution's choice, as an example
            char algo[400];
            db_cudnn_conv_describe(gg->conv[i], algo, sizeof algo);
            snprintf(out + used, n - used, "; first conv: %s", algo);
            break;
        }
}
