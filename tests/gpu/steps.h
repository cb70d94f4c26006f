/* The fixture the GPU's whole-step checks (gpu_graph.cu) and the CPU-vs-CPU spread measurement
 * (cpu_spread.c) share: ResNet-20 (32x32x3, 10 classes) with one regularizer, two training
 * steps on different batches of 32, then an evaluation batch of 20 (another size: the GPU's
 * second descriptor set), and the comparison of two such runs. Plain C, built by cc. */
#ifndef DB_TESTS_GPU_STEPS_H
#define DB_TESTS_GPU_STEPS_H

#include <stddef.h>

#include "nets/graph.h"
#include "nets/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DB_STEPS = 2, DB_STEPS_N = 32, DB_STEPS_N_EVAL = 20 };

typedef struct {
    const char *name;
    int kind;      /* db_reg_kind */
    int semantics; /* db_semantics */
} db_steps_case;

extern const db_steps_case db_steps_cases[];
extern const int db_steps_n_cases;

typedef struct {
    double train_loss[DB_STEPS], eval_loss;
    int top1;
    float *params, *state, *velocity; /* after the steps (velocity: the momentum-weighted gradients) */
    float *velocity1;                 /* after the first step: its gradient (plus weight decay) alone */
    double dropped;
} db_steps_result;

/* The case's graph and optimizer, parameters initialised (seed 42), the regularizers' counters
 * cleared; init_params/init_state receive copies of the start (caller frees) */
db_status db_steps_build(db_graph *g, db_sgd *opt, const db_steps_case *c, float **init_params, float **init_state);
/* Batch b's images (CNHW, as the graph's input) and labels */
void db_steps_fill_batch(float *x, int *labels, size_t len, int n, int b);
size_t db_steps_input_len(const db_graph *g, int n);
void db_steps_keep(db_steps_result *r, db_graph *g, db_sgd *opt);
/* the velocity after the first step, into r->velocity1 */
void db_steps_keep_first(db_steps_result *r, const db_graph *g, const db_sgd *opt);
/* The steps and the evaluation on the CPU */
void db_steps_cpu_run(db_graph *g, db_sgd *opt, db_steps_result *r);
void db_steps_free(db_steps_result *r);

/* How far run a is from run b: relative L2 per tensor, ||a - b|| / ||b|| (the denominator at
 * least 1e-6 of the whole arena's norm), the worst tensor named. grad1: the velocity after the
 * first step (one step's gradients, before a ReLU flipped by the first update spreads); grad:
 * after both; update: each parameter's change from the start; running: each batch norm's change
 * of running mean and of running variance. */
typedef struct {
    double loss, eval_loss;  /* relative, the worst training step */
    double grad1, grad, update, running;
    const char *grad1_at, *grad_at, *update_at, *running_at;
    int top1;                /* |difference| in correct predictions */
    double dropped;          /* |difference| in dropped units */
} db_steps_diff;

void db_steps_compare(const db_graph *g, const float *init_params, const float *init_state, const db_steps_result *a,
                      const db_steps_result *b, db_steps_diff *d);

#ifdef __cplusplus
}
#endif
#endif
