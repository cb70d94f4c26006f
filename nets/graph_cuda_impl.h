// The GPU graph's state and the helpers its four files share (nets/graph_cuda.cu: creation, the
// state's copies and the two loops over the ops; nets/graph_cuda_conv.cu: the convolutions, their
// descriptors and bfloat16 casts; nets/graph_cuda_reg.cu: the regularizer ops and the turns
// between maps and vectors; nets/graph_cuda_step.cu: the steps the callers take -- the loss, read
// at once or a step late, a task's own forward, the update, data parallel's group, the profile).
// For those files only.
#ifndef DB_NETS_GRAPH_CUDA_IMPL_H
#define DB_NETS_GRAPH_CUDA_IMPL_H

#include <cuda_runtime.h>

#include "core/cuda_check.h"
#include "nets/conv_cudnn.h"
#include "nets/dist_nccl.h"
#include "nets/gpu_prof.h"
#include "nets/graph_cuda.h"
#include "nets/linear_cublas.h"

enum { A_PARAM, A_GRAD, A_STATE, A_ACT, N_ARENA };

// What a step reads back: one copy
struct step_out {
    double loss, aux; // aux: the auxiliary head's loss (training with a second output)
    int counts[2];
    int finite;
};

struct db_gpu_graph {
    db_graph *g;
    db_sgd *opt;
    db_gpu_options o;
    cudaStream_t s, copy;
    cudaEvent_t uploaded, consumed; // the batch is on the device; the staging buffer is free again
    db_cudnn *dnn;
    db_cublas *blas;
    const db_arena *host[N_ARENA];
    float *dev[N_ARENA], *velocity; // velocity: the optimizer's whole arena (nets/optim.h: momentum, RMSProp's mean
                                    // squares, the moving average's parameters and statistics)
    uint8_t *decay;                 // per parameter-arena element: a parameter's (DB_ARENA_PARAM), decayed (_DECAYS)
    uint8_t *mask;                  // every DropBlock mask, laid out as g->mask_bytes
    size_t mask_size;
    unsigned long long *dropped;    // per op (n_ops), the regularizers' dropped units since the last pull
    unsigned long long *per_sample; // n_max, a DropBlock mask's counts
    float *bn_scratch;              // the largest BN+ReLU tensor: the gradient through the ReLU (cuDNN's batch norm)
    uint8_t *bn_sums;               // the fused batch norm's sums and coefficients (o.bn_fused; nets/bn_cuda.cu)
    float *dw_scratch;              // the depthwise weight gradients' column sums (db_dw_backward_cuda_scratch)
    // --precision bf16 (o.bf16): the parameter arena rounded to bfloat16 at each forward, and the
    // convolutions' bfloat16 operands: an input, an output (or its gradient), an input's gradient,
    // a weight gradient, each as large as the largest convolution's
    uint16_t *w_bf16, *in_bf16, *out_bf16, *din_bf16, *dw_bf16;
    int *labels;
    double *xent_scratch;
    step_out *out, *out_host;       // device and pinned
    step_out *late_host;            // pinned: two steps' results read a step late (forward_loss_late)
    cudaEvent_t late_done[2];       // each one's copy is done
    int late_next, late_pending;    // the slot the next step takes; whether the other holds an unread result
    int late_aux[2];                // each one's step had an auxiliary head's loss
    float *in_host;                 // pinned, the input tensor at n_max (CNHW, as the loader writes it)
    float *in_stage;                // its device copy, transposed into the input tensor (NCHW)
    int *labels_host;
    size_t in_floats;
    size_t mem_used;                // device bytes in use once created (all processes')
    db_cudnn_conv **conv;           // per op, batch n_max (NULL for other ops)
    db_cudnn_conv **conv_tail;      // per op, batch tail_n (an evaluation's last batch)
    int tail_n;
    void *ws;
    size_t ws_bytes;
    db_nccl *nccl;                  // data parallel: the replicas' group (NULL: one)
    // data parallel, buckets (o.bucket_floats): the gradient arena's sums through NCCL begin on
    // their own stream during the backward, each once its gradients are final (nets/graph.h)
    cudaStream_t comm;
    cudaEvent_t ready, summed;      // the compute stream reached a point; the comm stream's sums are done
    size_t *final_from;             // per op
    size_t bucket_size;
    int buckets, next_bucket;
    db_gpu_prof *prof;              // a step profile being taken (NULL: none)
    uint8_t *add_relu;              // per op: 1 an add whose only reader is the ReLU after it, 2 that ReLU:
                                    // one pass each way for both (the CPU's bits)
    uint8_t *vec;                   // per tensor: 1 a feature-major vector (c, n), else an NCHW map
    float **padded;                 // per op: a convolution padded more below or right (TensorFlow's SAME) gets its
                                    // input with the zero border written out, kept for the backward (NULL: none)
    float *pad_grad;                // the largest such input's gradient
    float *vec_a, *vec_b;           // vectors between the layouts (a regularizer on the classifier's features, a
                                    // linear layer on a 1x1 map), each of vec_size floats
    size_t vec_size;
    float *out_stage;               // an output map between the device's NCHW and the host's CNHW
    int host_loss;                  // the last forward sent the outputs to the host (db_gpu_graph_forward): the
                                    // backward takes their gradients from there
};

// The device address of a host arena pointer (NULL stays NULL)
static inline float *D(const db_gpu_graph *gg, const float *p) {
    if (!p) return NULL;
    for (int a = 0; a < N_ARENA; a++) {
        const db_arena *h = gg->host[a];
        if (h->base && p >= h->base && p < h->base + h->size) return gg->dev[a] + (p - h->base);
    }
    return NULL;
}

static inline size_t numel(const db_tensor *t, int n) { return (size_t)t->c * n * t->h * t->w; }

// The outputs: those marked, else the last tensor
static inline int n_outputs(const db_graph *g) { return g->n_outputs ? g->n_outputs : 1; }
static inline int output_id(const db_graph *g, int i) { return g->n_outputs ? g->outputs[i] : g->n_tensors - 1; }

static inline int has_tied(const db_graph *g) {
    for (int p = 0; p < g->n_params; p++)
        if (g->params[p].tied) return 1;
    return 0;
}

// A zeroed device buffer of count elements (none for 0), its failure said with what it is for
template <typename T>
static db_status dev_alloc(T **p, size_t count, const char *what) {
    *p = NULL;
    if (!count) return DB_OK;
    cudaError_t e = cudaMalloc((void **)p, sizeof(T) * count);
    if (e != cudaSuccess)
        return db_fail(DB_ERR_NOMEM, "GPU: cannot allocate %s (%.1f MiB): %s", what, sizeof(T) * count / 1048576.0,
                       cudaGetErrorString(e));
    return DB_CUDA(cudaMemset(*p, 0, sizeof(T) * count), what);
}

// The convolutions (nets/graph_cuda_conv.cu): each one's descriptors at batch n (tail: an
// evaluation's last batch, cuDNN's choices alone), freed; the set for batch n, made once for a
// second size; TensorFlow's SAME input with its border written out (its size, and the floats a
// convolution's input takes); the bfloat16 buffers, this step's bfloat16 weights, and a
// convolution's forward (y from x and w) and backward (dx set or added, acc; NULL skips it; dw set)
db_status db_gg_make_convs(db_gpu_graph *gg, db_cudnn_conv **set, int n, int tail);
void db_gg_destroy_convs(db_cudnn_conv **c, int n);
db_status db_gg_convs_for(db_gpu_graph *gg, int n, db_cudnn_conv ***set);
void db_gg_padded_size(const db_conv_dims *c, int *h, int *w);
size_t db_gg_conv_in_len(const db_op *op, int n);
db_status db_gg_bf16_buffers(db_gpu_graph *gg);
db_status db_gg_weights_bf16(db_gpu_graph *gg);
db_status db_gg_conv_forward(db_gpu_graph *gg, db_cudnn_conv *conv, const db_op *op, const float *x, const float *w, float *y,
                             int n);
db_status db_gg_conv_backward(db_gpu_graph *gg, db_cudnn_conv *conv, const db_op *op, const float *x, const float *w,
                              const float *dy, float *dx, float *dw, int acc, int n);

// nets/graph_cuda_reg.cu: a regularizer op's output yd from xd (device pointers, NCHW; y its
// shape) and its backward; the same on a vector (c, n); the turns between NCHW maps and
// feature-major vectors (the linear layers' inputs take them too)
db_status db_gg_reg_forward(db_gpu_graph *gg, db_op *op, const float *xd, float *yd, const db_tensor *y, int n);
db_status db_gg_reg_backward(db_gpu_graph *gg, const db_op *op, float *dx, const float *dy, const db_tensor *y, int n, int acc);
db_status db_gg_reg_forward_vector(db_gpu_graph *gg, db_op *op, const db_tensor *x, const db_tensor *y, int n);
db_status db_gg_reg_backward_vector(db_gpu_graph *gg, const db_op *op, float *dx, const db_tensor *y, int n, int acc);
db_status db_gg_to_vector(db_gpu_graph *gg, float *v, const float *map, int c, int n);
db_status db_gg_to_map(db_gpu_graph *gg, float *map, const float *v, int c, int n);

// The forward and the backward over every op (graph_cuda.cu), a gradient bucket's sum begun
db_status db_gg_forward(db_gpu_graph *gg);
db_status db_gg_backward(db_gpu_graph *gg);
db_status db_gg_start_bucket(db_gpu_graph *gg, int k);

#endif
