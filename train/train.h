/* The training loop: data -> batches -> forward -> loss -> backward -> SGD, evaluation each
 * epoch, atomic checkpoints, resume, divergence detection. */
#ifndef DB_TRAIN_TRAIN_H
#define DB_TRAIN_TRAIN_H

#include <stddef.h>

#include "train/config.h"
#include "datasets/batch.h"
#include "datasets/dataset.h"
#include "nets/graph.h"
#include "train/task.h"

typedef struct {
    int epoch;                 /* 1-based */
    double lr;                 /* at the end of the epoch */
    double train_loss;
    double train[DB_TASK_MAX_METRICS]; /* the task's training metrics (db_task train_names) */
    double test[DB_TASK_MAX_METRICS];  /* the task's test metrics (db_task test_names) */
    double seconds, images_per_s; /* training time of the epoch, evaluation excluded */
    double drop_fraction;      /* realised, over every regularizer site (-1: no regularizer) */
    double expected_fraction;  /* its expectation, weighted by the sites' units alike (-1 likewise;
                                  not in the checkpoint: recomputed from the sites' records) */
    double keep_prob;          /* the scheduled keep_prob at the epoch's last step, before any
                                  per-group scaling (-1: no regularizer) */
    /* the evaluation's values beyond the task's test metrics (a segmenter's IoU per class,
     * "IoU/K"): shown to on_epoch only, not kept in the checkpoint's history */
    int n_extra;
    const char *const *extra_names;
    const double *extra;
} db_epoch_result;

typedef struct {
    int epochs_done;
    int resumed_from;          /* epoch the run resumed after (0: fresh start) */
    const db_task *task;       /* what the run computes; names the metrics below */
    double final_test[DB_TASK_MAX_METRICS]; /* the last epoch's test metrics */
    double best_score;         /* the scoring metric's best over the epochs */
    double train_seconds;
    db_status status;          /* DB_ERR_DIVERGED when the loss became NaN/Inf */
    int refused;               /* the data and settings did not fit (a batch larger than the training set...):
                                  refused before anything was built */
    int diverged_epoch, diverged_step;
    char device_setup[512];    /* a GPU run: math, algorithms, workspace, device memory in use; "" on the CPU */
} db_train_summary;

/* An epoch's record of every regularizer op: names[i] is the site of sites[i] */
typedef struct {
    int n;
    const char *const *names;
    const db_site_stat *sites;
} db_epoch_sites;

typedef struct {
    /* called after every epoch (after its checkpoint); may be NULL. A status other than DB_OK
     * stops the run with it (the checkpoint of that epoch is already written). */
    db_status (*on_epoch)(const db_epoch_result *r, const db_epoch_sites *sites, void *user);
    /* called when a run continues from a checkpoint, for every epoch the checkpoint already
     * holds, so that a record kept elsewhere (a fresh results database) gets them; may be NULL */
    db_status (*on_restored)(const db_epoch_result *r, const db_epoch_sites *sites, void *user);
    /* called every few steps while training; may be NULL */
    void (*on_step)(int epoch, int step, int steps, double loss, double images_per_s, void *user);
    void *user;
    int resume;                /* continue from checkpoint_dir's checkpoint if there is one */
    int max_epochs_this_call;  /* stop after this many epochs in this call (0: no limit) */
    int reshard_from;          /* the checkpoint may be one of this many data-parallel processes
                                * (0: only of as many as this run has; -1: of any number) */
} db_train_hooks;

/* Ask the training loop to stop: it finishes the step in progress, writes a checkpoint (inside
 * the epoch if need be) and returns DB_ERR_INTERRUPTED. Async-signal-safe. */
void db_train_request_stop(int signo);
/* SIGUSR1 (a cluster's warning before its time limit), SIGTERM and SIGINT request a stop; a
 * second SIGINT or SIGTERM ends the process at once. */
void db_train_stop_on_signals(void);
/* A stop was requested and not yet acted on (it arrived after a run's last step) */
int db_train_stop_pending(void);
/* The signal that requested the stop (-1: asked without one; 0: none), the request cleared */
int db_train_stop_take(void);

/* The run's results files and checkpoint folder can be written (folders made when missing);
 * checked before training, and before a run is recorded (nothing recorded for what cannot run) */
db_status db_train_outputs_ready(const db_config *cfg);
/* Train on already loaded data. */
db_status db_train(const db_config *cfg, const db_dataset *train, const db_dataset *test,
                   const db_train_hooks *hooks, db_train_summary *out);
/* The training augmentation the configuration asks for */
db_augment db_train_augment(const db_config *cfg);
/* Load the configured data set (datasets/select.h), then train. */
db_status db_train_from_config(const db_config *cfg, const db_train_hooks *hooks,
                               db_train_summary *out);

#endif
