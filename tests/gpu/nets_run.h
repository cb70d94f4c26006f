/* The networks' whole-step checks (tests/gpu/gpu_nets.cu, gpu_nets_bf16.cu): one training step
 * of a network through db_gpu_graph_forward, the path of the tasks with their own loss (every
 * output to the host, a fixed gradient back, the same on both devices, then the backward and the
 * update), then an evaluation batch of another size through the updated weights, on the CPU
 * graph and on the GPU graph (tests/gpu/nets_run.cu); and the distances between two runs. */
#ifndef DB_TESTS_GPU_NETS_RUN_H
#define DB_TESTS_GPU_NETS_RUN_H

#include <stddef.h>

#include "nets/graph.h"
#include "nets/graph_cuda.h"
#include "nets/optim.h"
#include "tests/gpu/gpu_check.h"

enum { N_TRAIN = 8, N_EVAL = 5 };

typedef struct {
    double *outputs;      // every output's data after the training forward, then after the evaluation's
    float *params, *opt;  // after the step: parameters, the optimizer's whole arena
    float *state;         // running statistics
    double dropped;
} run_result;

static inline size_t numel(const db_tensor *t, int n) { return (size_t)t->c * n * t->h * t->w; }
static inline int outputs_of(const db_graph *g) { return g->n_outputs ? g->n_outputs : 1; }
static inline const db_tensor *output(const db_graph *g, int k) {
    return g->n_outputs ? db_graph_output_at(g, k) : db_graph_output(g);
}

size_t outputs_len(const db_graph *g); /* every output at N_TRAIN and at N_EVAL */
void fill_input(float *x, const db_graph *g, int n, int b); /* batch b's input (n samples) */
void cpu_run(db_graph *g, db_sgd *opt, run_result *r);
db_status gpu_run(db_gpu_graph *gg, db_graph *g, db_sgd *opt, run_result *r);
void run_free(run_result *r);
/* ||a - b|| / ||b - base|| (base NULL: every element base0; rel: 0), the denominator at least floor */
double rel_from(const float *a, const float *b, const float *base, float base0, size_t n, double floor);
double rel(const float *a, const float *b, const float *base, size_t n, double floor);
double rel_d(const double *a, const double *b, size_t n); /* ||a - b|| / ||b|| */
/* The worst parameter's rel over a parameter-shaped slice, named in *name (nets_run.cu: its floor) */
double worst_param(const db_graph *g, const float *a, const float *b, const float *base, const char **name);
/* DropBlock (the paper's semantics, keep 0.8, block 3) in the groups' bits, or the last cells' share */
void dropblock_plan(db_reg_plan *p, unsigned groups, float last_cells);
db_status tiny_amoebanet(db_graph *g, int dropblock);

/* tests/gpu/gpu_nets_bf16.cu: bf16's ways through the GPU graph, each against bf16's plain one */
void check_bf16_gemms(db_gpu_report report, db_graph *g, db_status built, const db_sgd_config *sc);
void check_bf16_nhwc(db_gpu_report report, db_graph *g, db_status built, const db_sgd_config *sc);

#endif
