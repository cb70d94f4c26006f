// The GPU graph's step profile (nets/gpu_prof.h)
#include <stdlib.h>
#include <string.h>

#include "nets/gpu_prof.h"

struct db_gpu_prof {
    const db_graph *g;
    cudaEvent_t *fwd, *bwd, mark[DB_PROF_N_MARKS]; // n_ops + 1 each
    int fwd_pending, bwd_pending;                  // recorded, not yet added
    double *fwd_ms, *bwd_ms;                       // per op, summed
    double input_ms, loss_ms, update_ms;
    int steps;                                     // forwards added
};

static const char *label(const db_op *op) {
    if (op->kind == DB_OP_BN && op->u.bn.relu) return "bn+relu";
    if (op->kind != DB_OP_REG) return db_op_kind_name(op->kind);
    static const char *regs[] = {"copy", "dropout", "spatial dropout", "dropblock", "droppath"};
    return regs[op->u.reg.kind];
}

db_status db_gpu_prof_create(db_gpu_prof **out, const db_graph *g) {
    *out = NULL;
    db_gpu_prof *p = (db_gpu_prof *)calloc(1, sizeof *p);
    const size_t n = (size_t)g->n_ops + 1;
    if (!p) return db_fail(DB_ERR_NOMEM, "out of memory");
    p->g = g;
    p->fwd = (cudaEvent_t *)calloc(n, sizeof *p->fwd);
    p->bwd = (cudaEvent_t *)calloc(n, sizeof *p->bwd);
    p->fwd_ms = (double *)calloc(n, sizeof *p->fwd_ms);
    p->bwd_ms = (double *)calloc(n, sizeof *p->bwd_ms);
    db_status s = p->fwd && p->bwd && p->fwd_ms && p->bwd_ms ? DB_OK : db_fail(DB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; s == DB_OK && i < n; i++)
        if (cudaEventCreate(&p->fwd[i]) != cudaSuccess || cudaEventCreate(&p->bwd[i]) != cudaSuccess)
            s = db_fail(DB_ERR_INTERNAL, "GPU profile: cannot create events");
    for (int m = 0; s == DB_OK && m < DB_PROF_N_MARKS; m++)
        if (cudaEventCreate(&p->mark[m]) != cudaSuccess) s = db_fail(DB_ERR_INTERNAL, "GPU profile: cannot create events");
    if (s != DB_OK) {
        db_gpu_prof_destroy(p);
        return s;
    }
    *out = p;
    return DB_OK;
}

void db_gpu_prof_destroy(db_gpu_prof *p) {
    if (!p) return;
    for (int i = 0; i <= p->g->n_ops; i++) {
        if (p->fwd && p->fwd[i]) cudaEventDestroy(p->fwd[i]);
        if (p->bwd && p->bwd[i]) cudaEventDestroy(p->bwd[i]);
    }
    for (int m = 0; m < DB_PROF_N_MARKS; m++)
        if (p->mark[m]) cudaEventDestroy(p->mark[m]);
    free(p->fwd); free(p->bwd); free(p->fwd_ms); free(p->bwd_ms);
    free(p);
}

void db_gpu_prof_forward(db_gpu_prof *p, int i, cudaStream_t s) {
    cudaEventRecord(p->fwd[i], s);
    if (i == p->g->n_ops) p->fwd_pending = 1;
}

void db_gpu_prof_backward(db_gpu_prof *p, int i, cudaStream_t s) {
    cudaEventRecord(p->bwd[i], s);
    if (i == 0) p->bwd_pending = 1;
}

void db_gpu_prof_mark(db_gpu_prof *p, db_prof_mark m, cudaStream_t s) { cudaEventRecord(p->mark[m], s); }

static db_status span(cudaEvent_t a, cudaEvent_t b, double *sum) {
    float ms = 0;
    cudaError_t e = cudaEventElapsedTime(&ms, a, b);
    if (e != cudaSuccess) return db_fail(DB_ERR_INTERNAL, "GPU profile: reading an event: %s", cudaGetErrorString(e));
    *sum += ms;
    return DB_OK;
}

db_status db_gpu_prof_collect(db_gpu_prof *p) {
    const int n = p->g->n_ops;
    if (p->bwd_pending) { // the previous step's backward and update
        for (int i = 0; i < n; i++) DB_TRY(span(p->bwd[i + 1], p->bwd[i], &p->bwd_ms[i]));
        DB_TRY(span(p->bwd[0], p->mark[DB_PROF_UPDATE], &p->update_ms));
        p->bwd_pending = 0;
    }
    if (p->fwd_pending) {
        DB_TRY(span(p->mark[DB_PROF_INPUT], p->fwd[0], &p->input_ms));
        for (int i = 0; i < n; i++) DB_TRY(span(p->fwd[i], p->fwd[i + 1], &p->fwd_ms[i]));
        DB_TRY(span(p->fwd[n], p->mark[DB_PROF_LOSS], &p->loss_ms));
        p->fwd_pending = 0;
        p->steps++;
    }
    return DB_OK;
}

typedef struct { const char *label; int pass; double ms; int ops; } row;

static int by_time(const void *a, const void *b) {
    double d = ((const row *)b)->ms - ((const row *)a)->ms;
    return (d > 0) - (d < 0);
}

void db_gpu_prof_report(const db_gpu_prof *p, FILE *f) {
    const db_graph *g = p->g;
    const int n = g->n_ops;
    if (!p->steps) {
        fprintf(f, "GPU profile: no step recorded\n");
        return;
    }
    const double k = 1.0 / p->steps;
    row *rows = (row *)calloc((size_t)2 * n + 3, sizeof *rows), *ops = (row *)calloc((size_t)2 * n, sizeof *ops);
    if (!rows || !ops) {
        free(rows); free(ops);
        return;
    }
    int nr = 0;
    double total = (p->input_ms + p->loss_ms + p->update_ms) * k;
    for (int i = 0; i < n; i++)
        for (int pass = 0; pass < 2; pass++) {
            double ms = (pass ? p->bwd_ms[i] : p->fwd_ms[i]) * k;
            total += ms;
            ops[2 * i + pass] = (row){label(&g->ops[i]), pass, ms, i};
            int r = 0;
            while (r < nr && (strcmp(rows[r].label, label(&g->ops[i])) || rows[r].pass != pass)) r++;
            if (r == nr) rows[nr++] = (row){label(&g->ops[i]), pass, 0, 0};
            rows[r].ms += ms;
            rows[r].ops++;
        }
    rows[nr++] = (row){"batch transpose", 0, p->input_ms * k, 1};
    rows[nr++] = (row){"loss", 0, p->loss_ms * k, 1};
    rows[nr++] = (row){"update", 1, p->update_ms * k, 1};
    qsort(rows, (size_t)nr, sizeof *rows, by_time);
    fprintf(f, "GPU profile over %d steps: %.3f ms of GPU time per step between the batch's transpose and the update\n",
            p->steps, total);
    for (int r = 0; r < nr; r++)
        if (rows[r].ms > 0)
            fprintf(f, "  %-16s %-8s %8.3f ms %5.1f%%  (%d ops)\n", rows[r].label, rows[r].pass ? "backward" : "forward",
                    rows[r].ms, 100 * rows[r].ms / total, rows[r].ops);
    qsort(ops, (size_t)2 * n, sizeof *ops, by_time);
    fprintf(f, "  the slowest ops:\n");
    for (int r = 0; r < 12 && r < 2 * n; r++) {
        const db_op *op = &g->ops[ops[r].ops];
        const db_tensor *x = &g->tensors[op->in[0]], *y = &g->tensors[op->out];
        fprintf(f, "    op %3d %-10s %-8s %7.3f ms  %dx%dx%d -> %dx%dx%d", ops[r].ops, ops[r].label,
                ops[r].pass ? "backward" : "forward", ops[r].ms, x->c, x->h, x->w, y->c, y->h, y->w);
        if (op->kind == DB_OP_CONV)
            fprintf(f, "  k%dx%d s%d", op->u.conv.kh, op->u.conv.kw, op->u.conv.sh);
        fprintf(f, "\n");
    }
    free(rows); free(ops);
}
