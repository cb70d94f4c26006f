#include "train/buckets.h"

#include <stdlib.h>

static void after_op(const db_graph *g, int op, void *user) {
    db_grad_buckets *bk = user;
    (void)g;
    if (bk->status != DB_OK) return;
    const size_t from = bk->final_from[op];
    for (; bk->next < bk->n && bk->b[bk->next].lo >= from; bk->next++)
        if ((bk->status = db_dist_sum_start(bk->b[bk->next].sum, bk->g->grad_arena.base + bk->b[bk->next].lo,
                                            "the gradients")) != DB_OK)
            return;
    int done; /* move the sums in flight on (MPI progresses inside its calls) */
    if ((bk->status = db_dist_sum_poll(bk->state, &done)) != DB_OK) return;
    for (int k = 0; k < bk->next; k++)
        if ((bk->status = db_dist_sum_poll(bk->b[k].sum, &done)) != DB_OK) return;
}

db_status db_grad_buckets_new(db_grad_buckets **out, db_graph *g, size_t bucket_floats) {
    *out = NULL;
    for (int p = 0; p < g->n_params; p++)
        if (g->params[p].tied) return DB_OK;
    enum { MOST = 256 }; /* buckets (each has a communicator of its own) */
    const size_t size = g->grad_arena.size, want = bucket_floats ? bucket_floats : size;
    const size_t per = want * MOST >= size ? want : (size + MOST - 1) / MOST;
    db_grad_buckets *bk = calloc(1, sizeof *bk);
    if (!bk) return db_fail(DB_ERR_NOMEM, "out of memory");
    bk->g = g;
    bk->n = size ? (int)((size + per - 1) / per) : 0;
    bk->b = calloc((size_t)bk->n + 1, sizeof *bk->b);
    bk->final_from = calloc((size_t)g->n_ops + 1, sizeof *bk->final_from);
    db_status s = bk->b && bk->final_from ? DB_OK : db_fail(DB_ERR_NOMEM, "out of memory");
    for (int k = 0; k < bk->n && s == DB_OK; k++) {
        bk->b[k].hi = size - (size_t)k * per;
        bk->b[k].lo = bk->b[k].hi > per ? bk->b[k].hi - per : 0;
        s = db_dist_sum_new(&bk->b[k].sum, bk->b[k].hi - bk->b[k].lo);
    }
    if (s == DB_OK) s = db_dist_sum_new(&bk->state, g->state_arena.size);
    if (s == DB_OK) db_graph_grad_final_from(g, bk->final_from);
    if (s != DB_OK) {
        db_grad_buckets_free(bk);
        return s;
    }
    *out = bk;
    return DB_OK;
}

void db_grad_buckets_free(db_grad_buckets *bk) {
    if (!bk) return;
    for (int k = 0; bk->b && k < bk->n; k++) db_dist_sum_free(bk->b[k].sum);
    db_dist_sum_free(bk->state);
    free(bk->b);
    free(bk->final_from);
    free(bk);
}

db_status db_grad_buckets_backward(db_grad_buckets *bk) {
    db_graph *g = bk->g;
    bk->next = 0, bk->status = DB_OK;
    DB_TRY(db_dist_sum_start(bk->state, g->state_arena.base, "the batch-norm statistics"));
    g->after_backward_op = after_op, g->after_backward_user = bk;
    db_graph_backward(g);
    g->after_backward_op = NULL, g->after_backward_user = NULL;
    DB_TRY(g->run_status);
    DB_TRY(bk->status);
    for (; bk->next < bk->n; bk->next++) /* (none is left once op 0 is done) */
        DB_TRY(db_dist_sum_start(bk->b[bk->next].sum, g->grad_arena.base + bk->b[bk->next].lo, "the gradients"));
    for (int k = 0; k < bk->n; k++) DB_TRY(db_dist_sum_finish(bk->b[k].sum));
    return db_dist_sum_finish(bk->state);
}
