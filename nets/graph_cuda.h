/* Running a finalized graph (nets/graph.h) on an NVIDIA GPU: the same ops in the same order on
 * device copies of the graph's arenas, through cuDNN (convolutions, batch norm -- or its own
 * kernels with the ReLU fused, bn_fused --, pooling),
 * cuBLAS (linear layers) and the CUDA launchers of the shared per-element bodies (activations,
 * additions, regularizers, loss, SGD). Built into the GPU backend (nets/gpu_backend.h).
 *
 * The host graph stays the description and the home of the state between epochs: every device
 * buffer mirrors a host arena float for float, so pull() copies parameters, running statistics
 * and the optimizer's velocity back for checkpoints and checks, and push() copies them up after
 * initialisation or a checkpoint load. Descriptors, algorithms, workspace and buffers are made
 * when the GPU graph is created (and once more for an evaluation batch of another size), never
 * per step. A step uploads its batch from pinned host memory on a copy stream that the compute
 * stream waits for; the only synchronisation per step is reading the loss, so the CPU prepares
 * the next batch while the GPU runs the backward and the update.
 *
 * The graph must be built unfused (db_model_config.unfused): DropBlock runs as an op of its own
 * on the GPU, with the CPU's results. */
#ifndef DB_NETS_GRAPH_CUDA_H
#define DB_NETS_GRAPH_CUDA_H

#include <stdio.h>

#include "core/status.h"
#include "nets/graph.h"
#include "nets/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct db_gpu_graph db_gpu_graph;

typedef struct {
    int tf32;          /* TF32 tensor-core math in convolutions and linear layers (else fp32 FMA) */
    int deterministic; /* only convolution algorithms cuDNN flags deterministic */
    int device;        /* which CUDA device (a data-parallel process's rank on its machine; a
                        * process that sees one device takes it) */
    size_t bucket_floats; /* data parallel: gradients summed through NCCL in buckets of this many
                           * floats, each begun during the backward once final (0: after it; always
                           * after it for a graph with shared weights) */
    float aux_weight;  /* a classifier's second output (an auxiliary head): its loss's weight */
    int bf16;          /* convolutions in bfloat16 on tensor cores, fp32 accumulation: inputs, output
                        * gradients and weights rounded from their fp32 tensors at each use, results
                        * back to fp32 (a 1x1 pass on the cuBLAS GEMMs writes fp32 itself;
                        * everything else stays fp32) */
    int conv_gemm;     /* 1x1 stride-1 convolutions: 0 each pass the faster measured of cuDNN and
                        * the cuBLAS GEMMs (cuDNN alone when deterministic, and for an evaluation's
                        * last batch), 1 cuDNN alone, 2 the GEMMs alone (the checks) */
    int nhwc;          /* with bf16: the convolutions' bfloat16 operands channels-last (NHWC, the
                        * weights (cout, kh, kw, cin)), the casts transposing, cuDNN alone; the
                        * graph's tensors stay NCHW fp32 */
    int bn_fused;      /* batch norm on the graph's own kernels, its ReLU in the same passes
                        * (nets/bn_cuda.cu), not cuDNN's with a ReLU pass after it each way */
} db_gpu_options;

typedef struct {
    double loss;       /* mean over the batch */
    int top1, top5;    /* correct predictions */
    int finite;        /* training: every parameter and running statistic is finite */
} db_gpu_step;

/* g finalized and unfused, opt its optimizer (its velocity mirrors the parameters); both must
 * outlive the GPU graph. Uploads nothing: push() does. */
/* Data parallel: join the replicas' group (nets/dist_nccl.h: an id the first process made, this
 * one's rank of size); every step's gradients and running statistics become the replicas' mean */
db_status db_gpu_graph_join(db_gpu_graph *gg, const void *id, int rank, int size);
db_status db_gpu_graph_create(db_gpu_graph **out, db_graph *g, db_sgd *opt, const db_gpu_options *o);
void db_gpu_graph_destroy(db_gpu_graph *gg);
/* Host -> device: parameters, running statistics and velocity; gradients and the regularizers'
 * device counts zeroed. */
db_status db_gpu_graph_push(db_gpu_graph *gg);
/* Device -> host: parameters, running statistics and velocity; the regularizers' dropped counts
 * since the last pull are added to the host ops' records. */
db_status db_gpu_graph_pull(db_gpu_graph *gg);
/* Pinned host buffers for the next batch: the input (as db_graph_input, for g->n samples) and
 * the labels. Free to write once forward_loss has returned. */
float *db_gpu_graph_input(db_gpu_graph *gg);
int *db_gpu_graph_labels(db_gpu_graph *gg);
/* Upload the batch of g->n samples, run the forward (training or inference as g->training
 * says), the loss with label smoothing and the top-1/top-5 counts; in training also the loss's
 * gradient and the finite check. Waits for the result. The classification loss: the output is
 * a vector of logits; a second one (an auxiliary head) adds its loss times aux_weight in
 * training, as the CPU's stepper. */
db_status db_gpu_graph_forward_loss(db_gpu_graph *gg, float smoothing, db_gpu_step *out);
/* The same with its result read a step late: queues this batch's forward and loss, waits only
 * for the batch's upload (which follows the previous step's forward and loss on the GPU; the
 * pinned input and labels are free again when it returns), and gives the previous call's result
 * (*have 1; 0 after a flush or at the first call). The host runs up to a step ahead and queues
 * the backward while the GPU still runs: the GPU does not idle while the host reads a result.
 * loss_flush gives the last one (*have 0 when none is waiting); call it before anything reads
 * the results (the end of an epoch). */
db_status db_gpu_graph_forward_loss_late(db_gpu_graph *gg, float smoothing, db_gpu_step *prev, int *have);
db_status db_gpu_graph_loss_flush(db_gpu_graph *gg, db_gpu_step *last, int *have);
/* Any network (several outputs, maps among them: a detector's, a segmenter's): upload the batch,
 * run the forward and, with to_host, copy every output (db_graph_output_at) into the host
 * graph's tensor, in the host's layout; in training, finite as forward_loss's. Waits for the
 * forward. With to_host the task then computes its loss on the host and writes the outputs'
 * gradients into the host tensors, which the next backward_update takes up first; without, a
 * loss on the device sets them there (db_gpu_graph_output_device). */
db_status db_gpu_graph_forward(db_gpu_graph *gg, int *finite, int to_host);
/* For a task's loss on the device (detect/detect_gpu.h) after forward(.., 0): the host graph,
 * the compute stream (a cudaStream_t), output k's device data or gradient (grad 1; NCHW maps,
 * feature-major vectors), which the next backward_update takes as set there */
db_graph *db_gpu_graph_host(db_gpu_graph *gg);
void *db_gpu_graph_stream(db_gpu_graph *gg);
float *db_gpu_graph_output_device(db_gpu_graph *gg, int k, int grad);
/* The backward and the SGD update at this learning rate; returns without waiting. */
db_status db_gpu_graph_backward_update(db_gpu_graph *gg, float lr);
/* The convolution algorithms chosen, e.g. for a log line */
void db_gpu_graph_describe(const db_gpu_graph *gg, char *out, size_t n);
/* The convolution passes that run on the cuBLAS GEMMs, over the training batch's set and an
 * evaluation's last batch's (where one was made); *convs: the 1x1 stride-1 convolutions */
int db_gpu_graph_gemm_passes(const db_gpu_graph *gg, int *convs);
/* Step profile (nets/gpu_prof.h): on starts a fresh one (events between the ops of every step
 * from now on), off ends it; report waits for the GPU and writes ms per step by kind of op */
db_status db_gpu_graph_profile(db_gpu_graph *gg, int on);
db_status db_gpu_graph_profile_report(db_gpu_graph *gg, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
