/* SGD with momentum and weight decay, and the learning-rate schedules. */
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
} db_sgd_config;

/* Does parameter p take the weight decay (the CPU's update and the GPU's decay mask alike)? */
static inline int db_sgd_decays(const db_param *p, const db_sgd_config *c) { return !p->no_decay || c->decay_bn_bias; }

typedef struct {
    db_sgd_config cfg;
    db_arena velocity;  /* laid out like the graph's parameter arena */
} db_sgd;

db_status db_sgd_init(db_sgd *opt, const db_graph *g, const db_sgd_config *cfg);
void db_sgd_step(db_sgd *opt, db_graph *g, float lr);
void db_sgd_free(db_sgd *opt);

typedef enum { DB_LR_CONSTANT, DB_LR_STEP, DB_LR_COSINE } db_lr_kind;

#define DB_LR_MAX_MILESTONES 8
typedef struct {
    db_lr_kind kind;
    float base;                 /* the learning rate after warm-up */
    float warmup_epochs;        /* linear warm-up from base*warmup_start to base */
    float warmup_start;
    float milestones[DB_LR_MAX_MILESTONES]; /* step: epochs where lr is multiplied by gamma */
    int n_milestones;
    float gamma;
    float final;                /* cosine: the rate reached at the end */
} db_lr_schedule;

/* The learning rate at a fractional epoch position (step / steps_per_epoch) of a run of
 * total_epochs. */
float db_lr_at(const db_lr_schedule *s, double epoch, int total_epochs);

#ifdef __cplusplus
}
#endif
#endif
