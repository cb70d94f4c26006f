/* A network is a fixed list of ops over numbered tensors, built once by a model file
 * (nets/resnet.c) and run forward in order and backward in reverse. All memory — parameters,
 * their gradients, batch-norm running statistics, activations and their gradients, workspace —
 * is laid out in arenas when the graph is finalized; running a step allocates nothing. */
#ifndef DB_NETS_GRAPH_H
#define DB_NETS_GRAPH_H

#include <stdint.h>

#include "core/arena.h"
#include "core/status.h"
#include "dropouts/dropblock.h"
#include "nets/ops.h"

#ifdef __cplusplus
extern "C" { /* tests/gpu drives graphs from CUDA code */
#endif

typedef enum {
    DB_OP_CONV, DB_OP_BN, DB_OP_RELU, DB_OP_ADD, DB_OP_SHORTCUT_A,
    DB_OP_MAXPOOL, DB_OP_AVGPOOL, DB_OP_GAP, DB_OP_LINEAR, DB_OP_REG,
    DB_OP_UPSAMPLE, DB_OP_BIAS, DB_OP_RESIZE, DB_OP_DWCONV, DB_OP_CONCAT, DB_OP_SUBSAMPLE
} db_op_kind;
enum { DB_OP_KINDS = DB_OP_SUBSAMPLE + 1 };
/* "conv", "bn", ... "dwconv", "concat", "subsample": an op kind as the profiles and listings name it */
const char *db_op_kind_name(db_op_kind k);

/* A regularizer placed at sites: which kind, where, how strong. */
typedef enum { DB_REG_NONE, DB_REG_DROPOUT, DB_REG_SPATIAL, DB_REG_DROPBLOCK, DB_REG_DROPPATH } db_reg_kind;

typedef struct {
    db_reg_kind kind;
    float keep_prob;   /* the target */
    int block_size;    /* DropBlock's block size */
    unsigned groups;   /* bit g set: group g (from 1) gets the regularizer */
    int on_skip;       /* also on the shortcuts */
    int scheduled;     /* keep_prob linear from 1 over the training steps */
    int group_scaling; /* group g of G at rate p / 4^(G-g) */
    int n_groups;      /* G, set by the model */
    int per_sample;    /* DropBlock: normalise per sample */
    int semantics;     /* DropBlock: a db_semantics (dropouts/dropblock.h), the mask rules */
    float last_cells;  /* AmoebaNet: only the last fraction of its cells (0 or 1: all) */
    int first_block;   /* set by the model: sites of res_block below this get none (AmoebaNet:
                        * the first cell of last_cells) */
    int droppath_uniform; /* set by the model: DropPath at keep_prob everywhere (AmoebaNet's), not
                           * growing with depth (stochastic depth's) */
} db_reg_plan;

typedef enum { DB_INIT_KAIMING_OUT, DB_INIT_UNIFORM_FANIN, DB_INIT_ZERO, DB_INIT_ONE, DB_INIT_NORMAL, DB_INIT_CONST } db_init_kind;

typedef struct {
    char name[48];
    size_t size;
    float *data, *grad;
    int no_decay;      /* batch-norm gamma/beta and biases: weight decay may exclude them */
    db_init_kind init;
    int fan;           /* fan-out (Kaiming) or fan-in (uniform) */
    float init_value;  /* DB_INIT_NORMAL: the standard deviation; DB_INIT_CONST: the value */
    int tied;          /* 1 + the parameter whose values this one uses (0: its own): the op
                        * shares them, its gradient is added to that parameter's after each
                        * backward, and only that parameter is initialised, updated and saved */
} db_param;

typedef struct {
    int c, h, w;       /* per sample; the tensor holds c*n*h*w floats, CNHW, for the current n */
    float *data, *grad;
} db_tensor;

typedef struct {
    db_op_kind kind;
    int in[2], out;    /* tensor ids, in[1] = -1 when unused */
    int accum[2];      /* backward adds to in[i]'s gradient (another op wrote it first) */
    int alias0;        /* add: in[0]'s gradient shares out's buffer, nothing to copy */
    int param[2];      /* weight and bias/beta, -1 when unused */
    float *run;        /* BN: running mean then running var (2c floats, state arena) */
    float *save;       /* BN: batch mean then inverse std (c floats each per batch-norm group,
                        * db_graph_bn_groups_max of them) */
    union {
        db_conv_dims conv;
        struct { int k, stride, pad, same; } pool; /* same: TensorFlow's SAME (pad above/left; avg excludes padding) */
        struct { float momentum, eps; int relu; } bn;
        struct { int stride; } sc;
        struct { db_reg_kind kind; int site, block_size, per_sample, semantics, scheduled; float keep; } reg;
        struct { int s; } up;
        db_dw_dims dw;
        struct { int s, off; } sub;
    } u;
    int fused;           /* BN, ADD: 1 + the index of the DropBlock op fused into it (0: none);
                          * that REG op: 1 inside a BN, 2 inside an ADD (its work happens there
                          * in training; a fused ADD reads the REG's input as its in[1]) */
    unsigned char *mask; /* DropBlock: the forward's mask for the backward */
    struct db_dnnl_conv *dnnl; /* conv: its oneDNN primitives (nets/conv_dnnl.h), NULL: the GEMM path */
    float *scales;       /* DropBlock: per-sample scales */
    double dropped, units; /* regularizer: realised drops since the last reset */
    double expected;       /* regularizer: the expected drops of the same steps */
} db_op;

/* Where a regularizer may act: after a BN(+ReLU) of a residual branch (the branch's last one,
 * whose output goes to the addition, is CONV_OUT: where DropPath acts), or on a shortcut; PATH:
 * a branch's output with no batch norm before it (an AmoebaNet pool), where only DropPath acts;
 * HEAD: the model's own dropout before its classifier (not the run's regularizer: left out of
 * the run's drop fraction). */
typedef enum { DB_SITE_CONV, DB_SITE_SHORTCUT, DB_SITE_CONV_OUT, DB_SITE_PATH, DB_SITE_HEAD } db_site_kind;
/* "conv", "shortcut", "conv-out", "path", "head" */
const char *db_site_kind_name(db_site_kind k);

typedef struct {
    char name[40];     /* e.g. "g2.b0.conv1" */
    int group, res_block; /* group counts from 1, as the paper's "groups 3 and 4"; res_block is the
                          * residual block inside it, from 0 */
    db_site_kind kind;
    int tensor;        /* the tensor a regularizer would transform */
    int c, h, w;
} db_site;

typedef struct db_graph {
    int n_max, n;      /* batch capacity and current batch */
    int training;
    db_status status;  /* the first build error, sticky */
    db_tensor *tensors; int n_tensors;
    db_op *ops; int n_ops;
    db_param *params; int n_params;
    db_site *sites; int n_sites;
    size_t n_run;      /* floats of running statistics */
    db_arena param_arena, grad_arena, state_arena, act_arena, work_arena;
    int threads;       /* OpenMP threads the workspace was sized for */
    float *conv_ws;
    double *op_seconds; /* when non-NULL: per op, forward then backward seconds (2*n_ops); a
                         * DropBlock mask drawn inside its host op counts as the REG op's */
    double moved_seconds; /* of the op being timed, charged to another op */
    db_reg_plan reg;   /* set before building: where db_g_site places regularizers */
    int unfused;       /* set before finalizing: no DropBlock fused into batch norm */
    int bn_group;      /* set before finalizing: samples per batch-norm group in training (ghost
                        * batch norm, nets/ops.h); 0: the whole batch. A batch it does not divide
                        * is normalised whole. */
    struct {           /* db_graph_set_bn_sync: batch norm over the samples of every replica */
        db_status (*sum)(double *x, size_t n, void *ctx); /* adds x over the replicas, in place */
        void *ctx;
        int replicas;
        double *sums;  /* 2 x the widest batch norm's channels */
    } bn_sync;
    db_status run_status; /* the first failure inside a step (a synchronised batch norm's sum), sticky */
    /* called after each op's backward with the op's index, before tied weights' gradients are
     * gathered (data parallel: gradient buckets begin their sums); NULL: none */
    void (*after_backward_op)(const struct db_graph *g, int op, void *user);
    void *after_backward_user;
    int conv_gemm;     /* set before finalizing: convolutions on the GEMM path (nets/conv.c) even
                        * where oneDNN is built in (nets/conv_dnnl.h) */
    uint64_t seed;     /* the run's seed, keys the masks */
    int replica;       /* which replica of a data-parallel run this graph is (0: the first or only):
                        * each draws its own masks, the first those of a run of one */
    long step, last_step; /* the training step now and the last one (keep_prob schedule) */
    unsigned char *mask_bytes; /* one allocation for every DropBlock mask */
    int *outputs; int n_outputs; /* marked with db_g_output; none: the last tensor is the output */
} db_graph;

void db_graph_begin(db_graph *g, int n_max);
/* Training's batch norm normalises the samples of all `replicas` replicas of a data-parallel
 * run together (synchronised batch norm): sum(x, n, ctx) adds a vector over the replicas (the
 * same bits on each); a failure is kept in run_status. Not with bn_group. */
db_status db_graph_set_bn_sync(db_graph *g, db_status (*sum)(double *x, size_t n, void *ctx), void *ctx, int replicas);
/* Batch-norm groups of the current batch in training (1 without bn_group), and the most any
 * batch up to n_max has */
int db_graph_bn_groups(const db_graph *g);
int db_graph_bn_groups_max(const db_graph *g);
int db_g_input(db_graph *g, int c, int h, int w);
int db_g_conv(db_graph *g, int x, int cout, int k, int stride, int pad, const char *name);
/* A convolution with TensorFlow's SAME padding (nets/ops.h db_conv_dims_same), as the official
 * AmoebaNet's: k x k with one stride, or kh x kw with strides sh down and sw across */
int db_g_conv_same(db_graph *g, int x, int cout, int k, int stride, const char *name);
int db_g_conv_same_rect(db_graph *g, int x, int cout, int kh, int kw, int sh, int sw, const char *name);
int db_g_bn(db_graph *g, int x, const char *name, int zero_gamma, float momentum, float eps);
/* Batch norm followed by ReLU, as one op. */
int db_g_bn_relu(db_graph *g, int x, const char *name, int zero_gamma, float momentum, float eps);
int db_g_relu(db_graph *g, int x);
int db_g_add(db_graph *g, int a, int b);
int db_g_shortcut_a(db_graph *g, int x, int cout, int stride);
int db_g_maxpool(db_graph *g, int x, int k, int stride, int pad);
int db_g_avgpool(db_graph *g, int x, int k, int stride, int pad);
/* Max (max 1) or average pooling with TensorFlow's SAME padding (output ceil(h / stride); the odd
 * padding below and right; an average over the window's pixels inside the map), as the official
 * AmoebaNet cells pool */
int db_g_pool_same(db_graph *g, int x, int max, int k, int stride);
int db_g_gap(db_graph *g, int x);
int db_g_linear(db_graph *g, int x, int out_features, const char *name);
/* Nearest-neighbour upsampling by an integer factor s */
int db_g_upsample(db_graph *g, int x, int s);
/* Bilinear resizing to oh x ow with aligned corners (TensorFlow's resize_bilinear with
 * align_corners, as the official segmentation code): nets/ops.h, db_resize_forward */
int db_g_resize(db_graph *g, int x, int oh, int ow);
/* Depthwise convolution, kh x kw per channel, TensorFlow's SAME padding (nets/ops.h db_dw_dims_same):
 * the first half of a separable convolution */
int db_g_dwconv(db_graph *g, int x, int kh, int kw, int stride, const char *name);
/* a's channels then b's (same sample size); a cell's output is a chain of these */
int db_g_concat(db_graph *g, int a, int b);
/* Every s-th pixel from (off, off) on, 0 past the edge (nets/ops.h db_subsample_forward) */
int db_g_subsample(db_graph *g, int x, int s, int off);
/* A convolution whose weights are those of the convolution that produced tensor `like` (same
 * shape of weights): its own op and gradient, the values shared (db_param.tied) */
int db_g_conv_tied(db_graph *g, int x, int like, int stride, int pad, const char *name);
/* A per-channel bias (init: its DB_INIT_CONST value); _tied shares the bias op that produced
 * `like` */
int db_g_bias(db_graph *g, int x, float init, const char *name);
int db_g_bias_tied(db_graph *g, int x, int like, const char *name);
/* A normal-initialised weight (standard deviation std) for the op that produced tensor y:
 * the detection heads' initialisation */
void db_g_init_normal(db_graph *g, int y, float std);
/* Mark tensor x an output: the caller sets its gradient before db_graph_backward. A tensor no
 * op reads must be an output (db_graph_finalize refuses it otherwise). */
void db_g_output(db_graph *g, int x);
/* Record a regularizer site on tensor x and return the tensor the network continues with
 * (x itself until a regularizer is placed there). */
int db_g_site(db_graph *g, int x, int group, int res_block, db_site_kind kind, const char *name);
/* The model's own dropout at keep probability keep (fixed, not scheduled) on tensor x, as the
 * official AmoebaNet's before its classifier: a HEAD site (group 0) and its op */
int db_g_dropout(db_graph *g, int x, float keep, const char *name);
/* Lay out the arenas. Returns the first build error, if any. */
db_status db_graph_finalize(db_graph *g);
void db_graph_free(db_graph *g);

/* Initialise parameters (and reset running statistics) from the seed. */
void db_graph_init_params(db_graph *g, uint64_t seed);
/* Set the batch for the next forward; n <= n_max. */
void db_graph_set_batch(db_graph *g, int n);
/* Training (masks drawn, batch statistics used and updated) or inference */
void db_graph_set_training(db_graph *g, int training);
/* The run's seed and the training step now, which key every mask and the scheduled keep_prob;
 * last_step is the run's last step (the keep_prob schedule's end) */
void db_graph_set_seed(db_graph *g, uint64_t seed);
void db_graph_set_step(db_graph *g, long step);
void db_graph_set_last_step(db_graph *g, long last_step);
float *db_graph_input(db_graph *g);
const db_tensor *db_graph_output(const db_graph *g);
/* Output i of those marked with db_g_output */
const db_tensor *db_graph_output_at(const db_graph *g, int i);
void db_graph_forward(db_graph *g);
/* Needs the output gradient in db_graph_output(g)->grad. */
void db_graph_backward(db_graph *g);
/* from[i] for every op i: once op i's backward (and every later op's) has run, the gradients
 * from float from[i] of the gradient arena on are final (data parallel: when a bucket of them may
 * be summed over the replicas). Shared weights' gradients are gathered after the last op: not
 * for graphs that have them. */
void db_graph_grad_final_from(const db_graph *g, size_t *from);
size_t db_graph_param_count(const db_graph *g);
/* One regularizer op's record over the training steps since the last take: the realised
 * dropped fraction and the exact expectation of the same steps (keep_prob as scheduled). */
typedef struct { double drop_fraction, expected_fraction; } db_site_stat;

/* What both devices' executors share for a regularizer op: its mask key at the graph's current
 * step (keep_prob as scheduled), its DropBlock configuration, and the record of a step's units
 * with their expected dropped fraction (the dropped count is added where it is known). */
db_drop_key db_graph_reg_key(const db_graph *g, const db_op *op);
db_dropblock_cfg db_graph_dropblock_cfg(const db_op *op);
void db_graph_reg_count(db_op *op, size_t units, double expected_fraction);

/* The number of regularizer ops, and the r-th one's site (r in op order) and target keep_prob. */
int db_graph_n_reg(const db_graph *g);
const db_site *db_graph_reg_site(const db_graph *g, int r, float *keep_prob);
/* The realised dropped fraction over all regularizer sites but HEAD ones since the last call
 * (-1 when the graph has none); sites (db_graph_n_reg entries, or NULL) gets each op's record; the counters
 * reset. */
double db_graph_take_drop_fraction(db_graph *g, db_site_stat *sites);
/* The whole network's realised and expected fractions (HEAD sites aside, as above) from the
 * ops' records (db_graph_n_reg entries, e.g. an epoch's from the take): each site weighted by its
 * units, the same weights as the take's sums (-1 each when the graph has no such site). The
 * expectation of the take's value: a site's mean expectation would weigh a 4x4 group like a
 * 16x16 one. */
db_site_stat db_graph_whole_fractions(const db_graph *g, const db_site_stat *sites);
/* The regularizer ops' running sums of this epoch (dropped, units, expected per op, in order):
 * read to checkpoint inside an epoch, written back when it continues. */
void db_graph_get_reg_sums(const db_graph *g, double *sums);
void db_graph_set_reg_sums(db_graph *g, const double *sums);
/* 1 when every parameter and running statistic is finite. A ReLU maps NaN to 0, so a network
 * whose weights overflowed can still produce a finite loss; this is the check that catches it. */
int db_graph_finite(const db_graph *g);

#ifdef __cplusplus
}
#endif
#endif
