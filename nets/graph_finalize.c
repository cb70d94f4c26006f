/* A built graph made ready to run (nets/graph.h): its tensors, parameters and state laid out in
 * arenas, DropPath's rates, DropBlock fused into the batch norm before it where it can be, the
 * build's first error reported; batch norm's sums across processes (bn_sync); then its
 * parameters' initialisation, checks and release. */
#include "nets/graph.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/philox.h"
#include "dropouts/droppath.h"
#include "nets/conv_dnnl.h"

/* Two passes over the same takes: count, allocate, then hand out pointers. */
static void layout(db_graph *g) {
    /* a tied parameter uses its master's values; its gradient follows every master's, so that the
     * gradient arena's first param_arena.size floats have the parameter arena's layout (the GPU's
     * one-launch update reads them as one) */
    for (int tied = 0; tied < 2; tied++)
        for (int p = 0; p < g->n_params; p++) {
            db_param *pr = &g->params[p];
            if (!pr->tied != !tied) continue;
            pr->data = pr->tied ? g->params[pr->tied - 1].data : db_arena_take(&g->param_arena, pr->size);
            pr->grad = db_arena_take(&g->grad_arena, pr->size);
        }
    size_t ws = 0, mask_bytes = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        size_t len = (size_t)g->tensors[t].c * g->n_max * g->tensors[t].h * g->tensors[t].w;
        g->tensors[t].data = db_arena_take(&g->act_arena, len);
        g->tensors[t].grad = t == 0 ? NULL : db_arena_take(&g->act_arena, len);
    }
    for (int i = 0; i < g->n_ops; i++) {
        db_op *op = &g->ops[i];
        if (op->kind == DB_OP_BN) {
            int c = g->tensors[op->out].c;
            op->run = db_arena_take(&g->state_arena, 2 * (size_t)c);
            op->save = db_arena_take(&g->act_arena, 2 * (size_t)c * db_graph_bn_groups_max(g));
        }
        if (op->kind == DB_OP_REG && op->u.reg.kind == DB_REG_DROPBLOCK) {
            const db_tensor *t = &g->tensors[op->out];
            op->scales = db_arena_take(&g->act_arena, (size_t)g->n_max);
            mask_bytes += (size_t)t->c * g->n_max * t->h * t->w;
        }
        if (op->kind == DB_OP_CONV || op->kind == DB_OP_DWCONV || op->kind == DB_OP_MAXPOOL || op->kind == DB_OP_AVGPOOL) {
            const db_tensor *y = &g->tensors[op->out];
            size_t need = op->kind == DB_OP_CONV    ? db_conv_workspace(&op->u.conv, g->n_max, g->threads)
                          : op->kind == DB_OP_DWCONV ? db_dw_workspace(&op->u.dw, g->threads)
                                                     : db_pool_workspace(op->u.pool.k, op->u.pool.stride, y->h, y->w, g->threads);
            if (need > ws) ws = need;
        }
    }
    g->conv_ws = db_arena_take(&g->work_arena, ws);
    if (g->act_arena.base && mask_bytes) { /* second pass: hand out the masks */
        if (!g->mask_bytes) g->mask_bytes = calloc(mask_bytes, 1);
        size_t off = 0;
        for (int i = 0; i < g->n_ops && g->mask_bytes; i++) {
            db_op *op = &g->ops[i];
            if (op->kind != DB_OP_REG || op->u.reg.kind != DB_REG_DROPBLOCK) continue;
            const db_tensor *t = &g->tensors[op->out];
            op->mask = g->mask_bytes + off;
            off += (size_t)t->c * g->n_max * t->h * t->w;
        }
    }
}

/* DropPath's rate grows linearly with depth: the i-th of its L branches drops at p*i/(L-1),
 * which needs L, known once the network is built. */
static void droppath_rates(db_graph *g) {
    int L = 0, i = 0;
    if (g->reg.droppath_uniform) return; /* AmoebaNet's: keep_prob everywhere */
    for (int o = 0; o < g->n_ops; o++) L += g->ops[o].kind == DB_OP_REG && g->ops[o].u.reg.kind == DB_REG_DROPPATH;
    for (int o = 0; o < g->n_ops; o++)
        if (g->ops[o].kind == DB_OP_REG && g->ops[o].u.reg.kind == DB_REG_DROPPATH)
            g->ops[o].u.reg.keep = 1.0f - db_droppath_rate(1.0f - g->reg.keep_prob, i++, L);
}

static int uses(const db_graph *g, int t) {
    int u = 0;
    for (int j = 0; j < g->n_ops; j++) u += (g->ops[j].in[0] == t) + (g->ops[j].in[1] == t);
    return u;
}

/* In training a DropBlock op runs inside a neighbour where it can, saving its two passes over
 * memory: after a batch norm whose output only it reads, the BN writes the masked output and
 * reads the gradient through the mask; on a shortcut that only a residual add reads, the add
 * reads the shortcut through the mask and writes the shortcut's gradient through it. The REG
 * op then only draws the mask (in its host op's forward). */
static void fuse_dropblock(db_graph *g) {
    for (int i = 0; !g->unfused && i < g->n_ops; i++) {
        db_op *reg = &g->ops[i];
        if (reg->kind != DB_OP_REG || reg->u.reg.kind != DB_REG_DROPBLOCK || uses(g, reg->out) != 1) continue;
        db_op *before = i > 0 ? &g->ops[i - 1] : NULL;
        if (before && before->kind == DB_OP_BN && reg->in[0] == before->out && uses(g, before->out) == 1) {
            before->fused = i + 1;
            reg->fused = 1;
            continue;
        }
        for (int j = i + 1; j < g->n_ops; j++) {
            db_op *add = &g->ops[j];
            if (add->kind != DB_OP_ADD || add->in[1] != reg->out || add->in[0] == reg->out || add->fused) continue;
            add->in[1] = reg->in[0]; /* the add reads the shortcut itself, through the mask */
            add->fused = i + 1;
            reg->fused = 2;
            break;
        }
    }
}

db_status db_graph_finalize(db_graph *g) {
    if (g->status != DB_OK) return g->status;
    if (g->n_ops == 0) return db_fail(DB_ERR_INTERNAL, "graph: no ops");
    /* Every computed tensor is read by an op or is an output (its gradient is the caller's);
     * before fusing, which leaves a fused DropBlock's own output unread */
    for (int t = 1; t < g->n_tensors; t++) {
        int out = g->n_outputs ? 0 : t == g->n_tensors - 1;
        for (int k = 0; k < g->n_outputs; k++) out |= g->outputs[k] == t;
        if (!out && !uses(g, t))
            return db_fail(DB_ERR_INTERNAL, "graph: tensor %d (%dx%dx%d) is computed but neither read nor an output", t,
                           g->tensors[t].c, g->tensors[t].h, g->tensors[t].w);
    }
    droppath_rates(g);
    fuse_dropblock(g);
    /* Reverse order is backward order: the first op there to write a gradient overwrites it;
     * an output's gradient is the caller's, so every op reading an output adds to it. */
    char *written = calloc(g->n_tensors, 1);
    if (!written) return db_fail(DB_ERR_NOMEM, "graph: out of memory");
    for (int k = 0; k < g->n_outputs; k++) written[g->outputs[k]] = 1;
    for (int i = g->n_ops - 1; i >= 0; i--)
        for (int j = 0; j < 2; j++) {
            int t = g->ops[i].in[j];
            if (t < 0 || (g->ops[i].kind == DB_OP_REG && g->ops[i].fused)) continue; /* fused: no backward */
            g->ops[i].accum[j] = written[t];
            written[t] = 1;
        }
    free(written);
    g->threads = omp_get_max_threads();
    for (int i = 0; i < g->n_ops; i++)
        if (g->ops[i].kind == DB_OP_CONV) db_conv_plan(&g->ops[i].u.conv, g->n_max, g->threads);
    for (int i = 0; i < g->n_ops && !g->conv_gemm && db_dnnl_enabled(); i++) /* tensor 0, the input, has no gradient */
        if (g->ops[i].kind == DB_OP_CONV && !db_conv_weight_heavy(&g->ops[i].u.conv, g->n_max) &&
            db_dnnl_conv_create(&g->ops[i].dnnl, &g->ops[i].u.conv, g->n_max, g->ops[i].in[0] > 0) != DB_OK)
            db_log(DB_LOG_NOTE, "a convolution takes the GEMM path: %s", db_last_error());
    layout(g); /* counting pass */
    DB_TRY(db_arena_alloc(&g->param_arena));
    DB_TRY(db_arena_alloc(&g->grad_arena));
    DB_TRY(db_arena_alloc(&g->state_arena));
    DB_TRY(db_arena_alloc(&g->act_arena));
    DB_TRY(db_arena_alloc(&g->work_arena));
    layout(g);
    for (int i = 0; i < g->n_ops; i++)
        if (g->ops[i].kind == DB_OP_REG && g->ops[i].u.reg.kind == DB_REG_DROPBLOCK && !g->ops[i].mask)
            return db_fail(DB_ERR_NOMEM, "graph: cannot allocate the DropBlock masks");
    /* An add passes its gradient through unchanged: where it is the first to write in[0]'s
     * gradient, in[0] can use the add's gradient buffer itself. Later writers of in[0]'s
     * gradient add into it, and nothing reads the add's own gradient after its backward. */
    for (int i = g->n_ops - 1; i >= 0; i--) {
        db_op *op = &g->ops[i];
        if (op->kind == DB_OP_ADD && !op->accum[0] && op->in[0] > 0 && op->in[0] != op->in[1]) {
            g->tensors[op->in[0]].grad = g->tensors[op->out].grad;
            op->alias0 = 1;
        }
    }
    return DB_OK;
}

db_status db_graph_set_bn_sync(db_graph *g, db_status (*sum)(double *x, size_t n, void *ctx), void *ctx, int replicas) {
    if (db_graph_bn_groups_max(g) > 1)
        return db_fail(DB_ERR_ARG, "a synchronised batch norm normalises every replica's batch whole: not with bn_group");
    int widest = 0;
    for (int i = 0; i < g->n_ops; i++)
        if (g->ops[i].kind == DB_OP_BN && g->tensors[g->ops[i].out].c > widest) widest = g->tensors[g->ops[i].out].c;
    free(g->bn_sync.sums);
    g->bn_sync.sums = calloc(2 * (size_t)(widest ? widest : 1), sizeof(double));
    if (!g->bn_sync.sums) return db_fail(DB_ERR_NOMEM, "out of memory");
    g->bn_sync.sum = sum, g->bn_sync.ctx = ctx, g->bn_sync.replicas = replicas;
    return DB_OK;
}

void db_graph_free(db_graph *g) {
    for (int i = 0; g->ops && i < g->n_ops; i++) db_dnnl_conv_destroy(g->ops[i].dnnl);
    db_arena_free(&g->param_arena);
    db_arena_free(&g->grad_arena);
    db_arena_free(&g->state_arena);
    db_arena_free(&g->act_arena);
    db_arena_free(&g->work_arena);
    free(g->tensors); free(g->ops); free(g->params); free(g->sites); free(g->mask_bytes); free(g->outputs);
    free(g->bn_sync.sums);
    memset(g, 0, sizeof *g);
}

/* Standard normals by Box-Muller, two per pair of 32-bit draws. */
static void fill_normal(float *x, size_t n, float std, uint64_t seed, uint32_t stream) {
    for (size_t i = 0; i < n; i += 2) {
        db_u32x4 r = db_rand4(seed, stream, 0, i / 2);
        double u1 = ((double)r.v[0] + 1.0) / 4294967296.0, u2 = (double)r.v[1] / 4294967296.0;
        double rad = sqrt(-2.0 * log(u1));
        x[i] = (float)(std * rad * cos(2.0 * M_PI * u2));
        if (i + 1 < n) x[i + 1] = (float)(std * rad * sin(2.0 * M_PI * u2));
    }
}

void db_graph_init_params(db_graph *g, uint64_t seed) {
    for (int p = 0; p < g->n_params; p++) {
        db_param *pr = &g->params[p];
        uint32_t stream = DB_STREAM_INIT + (uint32_t)p;
        memset(pr->grad, 0, pr->size * sizeof(float));
        if (pr->tied) continue; /* its master's values */
        switch (pr->init) {
        case DB_INIT_KAIMING_OUT: fill_normal(pr->data, pr->size, sqrtf(2.0f / pr->fan), seed, stream); break;
        case DB_INIT_UNIFORM_FANIN: {
            float bound = 1.0f / sqrtf((float)pr->fan);
            for (size_t i = 0; i < pr->size; i++)
                pr->data[i] = bound * (2.0f * db_u01(db_rand4(seed, stream, 0, i).v[0]) - 1.0f);
            break;
        }
        case DB_INIT_ZERO: memset(pr->data, 0, pr->size * sizeof(float)); break;
        case DB_INIT_ONE: for (size_t i = 0; i < pr->size; i++) pr->data[i] = 1.0f; break;
        case DB_INIT_NORMAL: fill_normal(pr->data, pr->size, pr->init_value, seed, stream); break;
        case DB_INIT_CONST: for (size_t i = 0; i < pr->size; i++) pr->data[i] = pr->init_value; break;
        }
    }
    for (int i = 0; i < g->n_ops; i++)
        if (g->ops[i].kind == DB_OP_BN) {
            int c = g->tensors[g->ops[i].out].c;
            for (int j = 0; j < c; j++) { g->ops[i].run[j] = 0.0f; g->ops[i].run[c + j] = 1.0f; }
        }
}

int db_graph_finite(const db_graph *g) {
    int ok = 1;
    const float *p = g->param_arena.base, *r = g->state_arena.base;
    #pragma omp parallel for reduction(&& : ok) schedule(static)
    for (size_t i = 0; i < g->param_arena.size; i++) ok = ok && isfinite(p[i]);
    for (size_t i = 0; i < g->state_arena.size; i++) ok = ok && isfinite(r[i]);
    return ok;
}

size_t db_graph_param_count(const db_graph *g) {
    size_t s = 0;
    for (int p = 0; p < g->n_params; p++) s += g->params[p].tied ? 0 : g->params[p].size;
    return s;
}
