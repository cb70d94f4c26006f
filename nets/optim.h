/* The optimizers (SGD with momentum and weight decay; TensorFlow's RMSProp), the moving average of
 * the weights, and the learning-rate schedules. */
#ifndef DB_NETS_OPTIM_H
#define DB_NETS_OPTIM_H

#include "nets/graph.h"

#ifdef __cplusplus
extern "C" { /* tests/gpu drives graphs from CUDA code */
#endif

typedef struct {
    float momentum;
    int nesterov;
    float weight_decay;
    int decay_bn_bias;  /* 0: batch-norm parameters and biases get no weight decay */
    int rmsprop;        /* 0: SGD; 1: RMSProp (nets/sgd.h), momentum its momentum, nesterov unused */
    float rms_decay, rms_epsilon;
    float ema_decay;    /* > 0: keep a moving average of the parameters and batch-norm running statistics,
                         * TensorFlow's ExponentialMovingAverage with num_updates: min(decay, (1+t)/(10+t))
                         * after step t (from 1) */
} db_sgd_config;

/* Does parameter p take the weight decay (the CPU's update and the GPU's decay mask alike)? */
static inline int db_sgd_decays(const db_param *p, const db_sgd_config *c) { return !p->no_decay || c->decay_bn_bias; }

/* The optimizer's whole state is one arena (what a checkpoint keeps): the velocity (RMSProp's
 * momentum), laid out like the graph's parameter arena; then with RMSProp the mean squares, laid
 * out the same; then with the moving average, its parameters and its running statistics (laid
 * out like the parameter and state arenas). */
typedef struct {
    db_sgd_config cfg;
    db_arena velocity;
    float *mean_square, *ema_params, *ema_state; /* inside velocity, or NULL */
} db_sgd;

/* g's parameters initialised: the moving average starts from them */
db_status db_sgd_init(db_sgd *opt, const db_graph *g, const db_sgd_config *cfg);
void db_sgd_step(db_sgd *opt, db_graph *g, float lr);
/* The moving average's decay after optimizer step t (counted from 1) */
float db_sgd_ema_decay(const db_sgd *opt, long t);
/* The moving average's update after optimizer step t (counted from 1); no-op without one */
void db_sgd_ema_update(db_sgd *opt, const db_graph *g, long t);
/* Exchange the graph's parameters and running statistics with the moving average's (an
 * evaluation of the averaged weights between two calls); no-op without one */
void db_sgd_ema_swap(db_sgd *opt, db_graph *g);
void db_sgd_free(db_sgd *opt);

typedef enum { DB_LR_CONSTANT, DB_LR_STEP, DB_LR_COSINE, DB_LR_EXPONENTIAL } db_lr_kind;

#define DB_LR_MAX_MILESTONES 8
typedef struct {
    db_lr_kind kind;
    float base;                 /* the learning rate after warm-up */
    float warmup_epochs;        /* linear warm-up from base*warmup_start to base */
    float warmup_start;
    float milestones[DB_LR_MAX_MILESTONES]; /* step: epochs where lr is multiplied by gamma */
    int n_milestones;
    float gamma;
    float final;                /* cosine: the rate reached at the end; exponential: the floor */
    float decay_rate, decay_epochs; /* exponential: base * decay_rate^floor(epoch / decay_epochs), from
                                     * epoch 0 (warm-up overrides the first epochs), TensorFlow's staircase */
} db_lr_schedule;

/* The learning rate at a fractional epoch position (step / steps_per_epoch) of a run of
 * total_epochs. */
float db_lr_at(const db_lr_schedule *s, double epoch, int total_epochs);

#ifdef __cplusplus
}
#endif
#endif
