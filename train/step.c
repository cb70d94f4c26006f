#include "train/step.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/dist.h"
#include "nets/dist_nccl.h"
#include "train/buckets.h"

db_status db_stepper_init(db_stepper *st, db_graph *g, db_sgd *opt, int *labels, const db_config *cfg) {
    memset(st, 0, sizeof *st);
    st->g = g; st->opt = opt; st->labels = labels;
    st->aux_weight = cfg->aux_weight;
    if (strcmp(cfg->device, "cuda")) { /* data parallel: the gradient buckets, when asked for */
        if (db_dist()->size < 2 || cfg->dist_bucket_mb <= 0.0f) return DB_OK;
        return db_grad_buckets_new(&st->buckets, g, (size_t)((double)cfg->dist_bucket_mb * 1048576.0 / sizeof(float)) + 1);
    }
    st->gpu = db_gpu_backend_load();
    if (!st->gpu) return db_fail(DB_ERR_UNSUPPORTED, "device cuda: %s", db_last_error());
    const db_dist_info *d = db_dist();
    const size_t bucket = cfg->dist_bucket_mb > 0.0f ? (size_t)((double)cfg->dist_bucket_mb * 1048576.0 / sizeof(float)) + 1 : 0;
    /* data parallel: a GPU per process */
    db_gpu_options o = {cfg->tf32 || !strcmp(cfg->precision, "tf32"), cfg->deterministic, d->local_rank, bucket,
                        cfg->aux_weight, !strcmp(cfg->precision, "bf16"), 0, !strcmp(cfg->conv_layout, "nhwc"),
                        !strcmp(cfg->gpu_bn, "fused")};
    DB_TRY(st->gpu->graph_create(&st->gg, g, opt, &o));
    if (d->size < 2) return DB_OK;
    /* data parallel: the first process makes the GPUs' group (NCCL), every process joins it */
    unsigned char id[DB_NCCL_ID_BYTES] = {0};
    db_status s = d->rank == 0 ? st->gpu->nccl_unique_id(id, sizeof id) : DB_OK;
    int64_t failed = s != DB_OK;
    DB_TRY(db_dist_broadcast(&failed, sizeof failed, 0, "the GPUs' group"));
    if (failed) return s != DB_OK ? s : db_fail(DB_ERR_UNSUPPORTED, "the first process could not make the GPUs' group");
    DB_TRY(db_dist_broadcast(id, sizeof id, 0, "the GPUs' group"));
    return st->gpu->graph_join(st->gg, id, d->rank, d->size);
}

void db_stepper_free(db_stepper *st) {
    if (st->gg) st->gpu->graph_destroy(st->gg);
    db_grad_buckets_free(st->buckets);
    memset(st, 0, sizeof *st);
}

float *db_stepper_input(db_stepper *st) { return st->gg ? st->gpu->graph_input(st->gg) : db_graph_input(st->g); }
int *db_stepper_labels(db_stepper *st) { return st->gg ? st->gpu->graph_labels(st->gg) : st->labels; }

static void take_step(const db_gpu_step *r, double *loss, int *top1, int *top5, int *finite) {
    *loss = r->loss; *top1 = r->top1; *top5 = r->top5; *finite = r->finite;
}

db_status db_stepper_forward_loss(db_stepper *st, float smoothing, double *loss, int *top1, int *top5, int *finite) {
    if (st->gg) {
        db_gpu_step r;
        DB_TRY(st->gpu->graph_forward_loss(st->gg, smoothing, &r));
        take_step(&r, loss, top1, top5, finite);
        return DB_OK;
    }
    db_graph *g = st->g;
    DB_TRY(db_stepper_forward(st, 1));
    const db_tensor *o = db_graph_output(g);
    *loss = db_softmax_xent(g->training ? o->grad : NULL, o->data, st->labels, o->c, g->n, smoothing);
    if (g->n_outputs > 1 && g->training) { /* the auxiliary head: w * its loss, w * its gradient */
        const db_tensor *a = db_graph_output_at(g, 1);
        const float w = st->aux_weight;
        *loss += w * db_softmax_xent(a->grad, a->data, st->labels, a->c, g->n, smoothing);
        const size_t n = (size_t)g->n * a->c;
        for (size_t i = 0; i < n; i++) a->grad[i] *= w;
    }
    db_topk_correct(o->data, st->labels, o->c, g->n, top1, top5);
    *finite = g->training && isfinite(*loss) ? db_graph_finite(g) : 1;
    return DB_OK;
}

db_status db_stepper_train_loss(db_stepper *st, float smoothing, double *loss, int *top1, int *top5, int *finite,
                                int *have) {
    if (!st->gg) {
        *have = 1;
        return db_stepper_forward_loss(st, smoothing, loss, top1, top5, finite);
    }
    db_gpu_step r = {0, 0, 0, 1};
    DB_TRY(st->gpu->graph_forward_loss_late(st->gg, smoothing, &r, have));
    take_step(&r, loss, top1, top5, finite);
    return DB_OK;
}

int db_stepper_late(const db_stepper *st) { return st->gg != NULL; }

db_status db_stepper_train_flush(db_stepper *st, double *loss, int *top1, int *top5, int *finite, int *have) {
    db_gpu_step r = {0, 0, 0, 1};
    *have = 0;
    if (st->gg) DB_TRY(st->gpu->graph_loss_flush(st->gg, &r, have));
    take_step(&r, loss, top1, top5, finite);
    return DB_OK;
}

db_status db_stepper_forward(db_stepper *st, int to_host) {
    if (st->gg) return st->gpu->graph_forward(st->gg, &st->gpu_finite, to_host);
    db_graph_forward(st->g);
    return st->g->run_status; /* a synchronised batch norm's sum that failed */
}

int db_stepper_finite(const db_stepper *st) { return st->gg ? st->gpu_finite : db_graph_finite(st->g); }

/* The replicas' mean of x (n floats) from its sum: scaled by 1/p; summed here in rank order
 * unless summed already */
static db_status replica_mean(float *x, size_t n, const char *what, int summed) {
    const int p = db_dist()->size;
    if (p < 2) return DB_OK;
    if (!summed) DB_TRY(db_dist_sum_floats(x, n, what));
    const float inv = 1.0f / (float)p;
    for (size_t i = 0; i < n; i++) x[i] *= inv;
    return DB_OK;
}

db_status db_stepper_backward_update(db_stepper *st, float lr) {
    if (st->gg) return st->gpu->graph_backward_update(st->gg, lr);
    if (st->buckets) { /* the sums begun along the backward (train/buckets.h) */
        DB_TRY(db_grad_buckets_backward(st->buckets));
    } else {
        db_graph_backward(st->g);
        DB_TRY(st->g->run_status);
    }
    /* data parallel: the replicas' mean gradient (each replica's is its shard's mean), and one
     * set of running statistics, their mean, so every replica steps and evaluates alike */
    DB_TRY(replica_mean(st->g->grad_arena.base, st->g->grad_arena.size, "the gradients", st->buckets != NULL));
    DB_TRY(replica_mean(st->g->state_arena.base, st->g->state_arena.size, "the batch-norm statistics", st->buckets != NULL));
    db_sgd_step(st->opt, st->g, lr);
    db_sgd_ema_update(st->opt, st->g, st->g->step + 1); /* the loop numbers the steps from 0 */
    return DB_OK;
}

db_status db_stepper_push(db_stepper *st) { return st->gg ? st->gpu->graph_push(st->gg) : DB_OK; }
db_status db_stepper_pull(db_stepper *st) { return st->gg ? st->gpu->graph_pull(st->gg) : DB_OK; }
