/* One step of the training loop on the run's device: the CPU runs the graph itself
 * (nets/graph_run.c); a CUDA run hands it to the GPU backend's graph (nets/graph_cuda.h),
 * whose state lives on the device between pull()s. The loop above is the same for both. */
#ifndef DB_TRAIN_STEP_H
#define DB_TRAIN_STEP_H

#include "train/config.h"
#include "nets/gpu_backend.h"
#include "nets/graph.h"
#include "nets/optim.h"

typedef struct {
    db_graph *g;
    db_sgd *opt;
    int *labels;               /* the CPU's label buffer */
    const db_gpu_backend *gpu; /* NULL: the CPU */
    db_gpu_graph *gg;
    float aux_weight;          /* a second output (AmoebaNet's auxiliary head): its loss's weight in training */
    struct db_grad_buckets_s *buckets; /* data parallel on the CPU: sums begun during the backward (NULL: after it) */
    int gpu_finite;            /* the last db_stepper_forward's finite check on the GPU */
} db_stepper;

/* cfg->device resolved (cpu or cuda); labels holds g->n_max ints. A CUDA graph must be built
 * unfused. Nothing is copied to the device yet: push() does. */
db_status db_stepper_init(db_stepper *st, db_graph *g, db_sgd *opt, int *labels, const db_config *cfg);
void db_stepper_free(db_stepper *st);
/* Where the next batch of g->n samples goes (host memory) */
float *db_stepper_input(db_stepper *st);
int *db_stepper_labels(db_stepper *st);
/* Forward (training or inference as g->training says), the mean loss with label smoothing,
 * top-1/top-5 counts; in training the loss's gradient too (with a second output, an auxiliary
 * head, its loss times aux_weight is added to the loss and to its gradient; top-k and the loss
 * out of training are the first output's alone), and finite is 0 when a parameter
 * or running statistic is NaN or Inf (checked only when the loss is finite on the CPU). */
db_status db_stepper_forward_loss(db_stepper *st, float smoothing, double *loss, int *top1, int *top5, int *finite);
/* Training's classification step: as forward_loss, but on a GPU its result is read a step late
 * (nothing waits for the GPU per step): *have 0 when there is no result to count yet (the first
 * step after a flush), else the previous step's. train_flush gives the last step's (*have 0 on
 * the CPU, whose results are never late): call it before the epoch's sums are read. A NaN is
 * thus seen a step later on a GPU, after one more update. */
db_status db_stepper_train_loss(db_stepper *st, float smoothing, double *loss, int *top1, int *top5, int *finite,
                                int *have);
db_status db_stepper_train_flush(db_stepper *st, double *loss, int *top1, int *top5, int *finite, int *have);
/* 1 when train_loss's results come a step late (on a GPU) */
int db_stepper_late(const db_stepper *st);
db_status db_stepper_backward_update(db_stepper *st, float lr);
/* A task's own loss (detection, segmentation): the forward alone, every output then in the host
 * graph's tensors (db_graph_output_at), where the task writes their gradients before
 * backward_update; on a GPU, to_host 0 leaves them on the device for a loss there (st->gpu's
 * detect_loss). Then whether every parameter and running statistic is finite (training). */
db_status db_stepper_forward(db_stepper *st, int to_host);
int db_stepper_finite(const db_stepper *st);
/* Host -> device after initialisation or a checkpoint load, device -> host before anything reads
 * the host graph (checks, checkpoints, drop records); no-ops on the CPU */
db_status db_stepper_push(db_stepper *st);
db_status db_stepper_pull(db_stepper *st);

#endif
