/* A task: what a network is trained to do and how it is scored. The training loop, checkpoints,
 * stop signals, schedules, regularizer placement and the store do not know which task runs; a
 * task supplies its step's loss (the forward pass, the loss and its gradient), what it counts
 * while training, its evaluation on the test split, and the names of the metrics it records.
 * Classification (top-1, top-5) is the task of the classifiers (task.c); detection (COCO AP,
 * train/task_detect.c) of the RetinaNets; segmentation (mIOU, eval/miou.h) comes with its
 * network, as a task of its own beside them. */
#ifndef DB_TRAIN_TASK_H
#define DB_TRAIN_TASK_H

#include "datasets/batch.h"
#include "datasets/dataset.h"
#include "train/step.h"

enum { DB_TASK_MAX_METRICS = 8 };

/* What a training step's task sees of its batch beyond the stepper's input: the batch's samples
 * (indices into the training set, in batch order) and how db_batch_fill augmented them */
typedef struct {
    float label_smoothing;
    const db_dataset *data;
    const int *samples;
    uint64_t seed;
    uint32_t epoch;
    const db_augment *aug; /* the batch's augmentation, drawn per sample from (seed, epoch) */
} db_task_batch;

typedef struct db_task {
    const char *name;            /* "classification" */
    /* the metrics of an epoch beside the training loss: train[i] are kept from the training
     * steps, test[i] come from the evaluation; percent: shown as a percentage */
    int n_train, n_test;
    const char *train_names[DB_TASK_MAX_METRICS], *test_names[DB_TASK_MAX_METRICS];
    int train_percent[DB_TASK_MAX_METRICS], test_percent[DB_TASK_MAX_METRICS];
    int score;                   /* the test metric that scores a run (the report, regress) */
    int test_loss;               /* the test metric that is the loss (a non-finite one: diverged) */
    /* The task's network for a run (its shapes and classes from the training set), finalized on
     * g for batches of up to n_max, and the task's state for the run (NULL when it keeps none) */
    db_status (*build)(db_graph *g, const db_config *cfg, const db_dataset *train, int n_max, void **state);
    void (*free_state)(void *state);
    /* A training step on the batch in the stepper: the mean loss (its gradient left for the
     * backward) and the step's counts added to sums[n_train]; finite as db_stepper_forward_loss.
     * With train_flush, these may be the step before's (0 and finite the first time) */
    db_status (*train_step)(db_stepper *st, void *state, const db_task_batch *b, double *loss, double *sums, int *finite);
    /* The training metrics of an epoch from its sums over `samples` training samples */
    void (*train_metrics)(const double *sums, double samples, double *out);
    /* The test metrics (n_test values) of the model in inference mode over a data set */
    db_status (*evaluate)(db_stepper *st, void *state, const db_dataset *d, const db_norm *norm, int *order, double *out);
    /* The last evaluation's values beyond out (names and values, valid until the next), for the
     * record; NULL: none. The count through the return value. */
    int (*extra)(const void *state, const char *const **names, const double **values);
    /* 1 when every test metric is a mean over the images, so that shards of the test set scored
     * apart (the ranks of a data-parallel run) combine weighted by their counts */
    int eval_means;
    /* 1 when evaluate() itself scores this process's share of the test set (db_dist_share) and
     * combines the processes' counts (core/dist.h) into the whole set's metrics: every process of
     * a data-parallel run calls it and gets the same values (AP, mIOU) */
    int eval_sharded;
    /* A step whose results train_step gives a step late (a GPU's): the last one's loss and counts,
     * added as train_step adds them, before the epoch's sums are read; *have 0 when none was
     * waiting. NULL: train_step's results are never late. */
    db_status (*train_flush)(db_stepper *st, void *state, double *loss, double *sums, int *finite, int *have);
} db_task;


/* The task of a network: detection for the RetinaNets (retinanet-*), segmentation for the FCNs
 * (fcn-*), else classification */
const db_task *db_task_of_model(const char *model);
/* What a run computes: its model's task */
const db_task *db_config_task(const db_config *c);
/* The detection task (train/task_detect.c) and the segmentation task (train/task_segment.c) */
extern const db_task db_task_detection, db_task_segmentation;
/* "test/top1": the scoring metric as the store names it (split/name) */
void db_task_primary(const db_task *t, char *out, size_t n);

#endif
