/* Building a graph: its tensors, ops, parameters and regularizer sites (laid out and made ready
 * by nets/graph_finalize.c). Build errors are sticky in g->status and reported once by
 * db_graph_finalize, so model files can chain builder calls without checking each one. */
#include "nets/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropouts/schedule.h"

#define GROW(arr, count)                                                            \
    do {                                                                            \
        if (((count) & ((count) - 1)) == 0) { /* at 0, 1, 2, 4, ...: double */     \
            void *p_ = realloc((arr), sizeof(*(arr)) * ((count) ? 2 * (count) : 8)); \
            if (!p_) { g->status = db_fail(DB_ERR_NOMEM, "graph: out of memory"); return -1; } \
            (arr) = p_;                                                             \
        }                                                                           \
    } while (0)

const char *db_op_kind_name(db_op_kind k) {
    static const char *const names[DB_OP_KINDS] = {"conv", "bn", "relu", "add", "shortcutA", "maxpool", "avgpool",
                                                   "gap", "linear", "regularizer", "upsample", "bias",
                                                   "resize", "dwconv", "concat", "subsample"};
    return (unsigned)k < DB_OP_KINDS ? names[k] : "?";
}

void db_graph_begin(db_graph *g, int n_max) {
    memset(g, 0, sizeof *g);
    g->n_max = g->n = n_max;
    g->training = 1;
    if (n_max < 1) g->status = db_fail(DB_ERR_ARG, "batch size must be at least 1, got %d", n_max);
}

static int bad(db_graph *g, int x) {
    if (g->status != DB_OK) return 1;
    if (x < 0 || x >= g->n_tensors) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: tensor %d does not exist", x);
        return 1;
    }
    return 0;
}

static int new_tensor(db_graph *g, int c, int h, int w) {
    if (c < 1 || h < 1 || w < 1) {
        g->status = db_fail(DB_ERR_ARG, "graph: a layer would produce an empty map (%dx%dx%d); "
                            "the input is too small for this network", c, h, w);
        return -1;
    }
    GROW(g->tensors, g->n_tensors);
    g->tensors[g->n_tensors] = (db_tensor){.c = c, .h = h, .w = w};
    return g->n_tensors++;
}

static int new_param(db_graph *g, const char *name, const char *suffix, size_t size,
                     db_init_kind init, int fan, int no_decay) {
    GROW(g->params, g->n_params);
    db_param *p = &g->params[g->n_params];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s.%s", name, suffix);
    p->size = size; p->init = init; p->fan = fan; p->no_decay = no_decay;
    return g->n_params++;
}

static int new_op(db_graph *g, db_op_kind kind, int a, int b, int out) {
    GROW(g->ops, g->n_ops);
    db_op *op = &g->ops[g->n_ops];
    memset(op, 0, sizeof *op);
    op->kind = kind; op->in[0] = a; op->in[1] = b; op->out = out;
    op->param[0] = op->param[1] = -1;
    g->n_ops++;
    return out;
}

int db_g_input(db_graph *g, int c, int h, int w) {
    if (g->status != DB_OK) return -1;
    if (g->n_tensors != 0) { g->status = db_fail(DB_ERR_INTERNAL, "graph: input must come first"); return -1; }
    return new_tensor(g, c, h, w);
}

static int conv_op(db_graph *g, int x, const db_conv_dims *d, int same, const char *name) {
    /* a window larger than the padded map: no output (C's division would round -1/2 up to 0);
     * SAME pads every window to fit (ceil(h / stride) outputs) */
    const int too_small = !same && (d->h + 2 * d->ph < d->kh || d->w + 2 * d->pw < d->kw);
    int y = new_tensor(g, d->cout, too_small ? 0 : d->oh, too_small ? 0 : d->ow);
    if (y < 0) return -1;
    const int kk = d->kh * d->kw;
    int wp = new_param(g, name, "weight", (size_t)d->cout * d->cin * kk, DB_INIT_KAIMING_OUT, d->cout * kk, 0);
    if (wp < 0 || new_op(g, DB_OP_CONV, x, -1, y) < 0) return -1;
    db_op *op = &g->ops[g->n_ops - 1];
    op->u.conv = *d;
    op->param[0] = wp;
    return y;
}

int db_g_conv(db_graph *g, int x, int cout, int k, int stride, int pad, const char *name) {
    if (bad(g, x)) return -1;
    db_conv_dims d;
    db_conv_dims_init(&d, g->tensors[x].c, cout, k, stride, pad, g->tensors[x].h, g->tensors[x].w);
    return conv_op(g, x, &d, 0, name);
}

int db_g_conv_same_rect(db_graph *g, int x, int cout, int kh, int kw, int sh, int sw, const char *name) {
    if (bad(g, x)) return -1;
    db_conv_dims d;
    db_conv_dims_same(&d, g->tensors[x].c, cout, kh, kw, sh, sw, g->tensors[x].h, g->tensors[x].w);
    return conv_op(g, x, &d, 1, name);
}

int db_g_conv_same(db_graph *g, int x, int cout, int k, int stride, const char *name) {
    return db_g_conv_same_rect(g, x, cout, k, k, stride, stride, name);
}

static int bn(db_graph *g, int x, const char *name, int zero_gamma, float momentum, float eps, int relu) {
    if (bad(g, x)) return -1;
    db_tensor t = g->tensors[x];
    int y = new_tensor(g, t.c, t.h, t.w);
    if (y < 0) return -1;
    int gp = new_param(g, name, "gamma", t.c, zero_gamma ? DB_INIT_ZERO : DB_INIT_ONE, 0, 1);
    int bp = new_param(g, name, "beta", t.c, DB_INIT_ZERO, 0, 1);
    if (gp < 0 || bp < 0 || new_op(g, DB_OP_BN, x, -1, y) < 0) return -1;
    db_op *op = &g->ops[g->n_ops - 1];
    op->param[0] = gp; op->param[1] = bp;
    op->u.bn.momentum = momentum; op->u.bn.eps = eps; op->u.bn.relu = relu;
    g->n_run += 2 * (size_t)t.c;
    return y;
}

int db_g_bn(db_graph *g, int x, const char *name, int zero_gamma, float momentum, float eps) {
    return bn(g, x, name, zero_gamma, momentum, eps, 0);
}

int db_g_bn_relu(db_graph *g, int x, const char *name, int zero_gamma, float momentum, float eps) {
    return bn(g, x, name, zero_gamma, momentum, eps, 1);
}

static int same_shape_op(db_graph *g, db_op_kind kind, int x) {
    if (bad(g, x)) return -1;
    db_tensor t = g->tensors[x];
    int y = new_tensor(g, t.c, t.h, t.w);
    return y < 0 ? -1 : new_op(g, kind, x, -1, y);
}

int db_g_relu(db_graph *g, int x) { return same_shape_op(g, DB_OP_RELU, x); }

int db_g_upsample(db_graph *g, int x, int s) {
    if (bad(g, x)) return -1;
    if (s < 1) { g->status = db_fail(DB_ERR_INTERNAL, "graph: upsampling by %d", s); return -1; }
    db_tensor t = g->tensors[x];
    int y = new_tensor(g, t.c, t.h * s, t.w * s);
    if (y < 0 || new_op(g, DB_OP_UPSAMPLE, x, -1, y) < 0) return -1;
    g->ops[g->n_ops - 1].u.up.s = s;
    return y;
}

int db_g_resize(db_graph *g, int x, int oh, int ow) {
    if (bad(g, x)) return -1;
    if (oh < 1 || ow < 1 || oh > DB_RESIZE_MAX || ow > DB_RESIZE_MAX || g->tensors[x].h > DB_RESIZE_MAX ||
        g->tensors[x].w > DB_RESIZE_MAX) {
        g->status = db_fail(DB_ERR_ARG, "graph: resizing to %dx%d (sides 1 to %d)", ow, oh, DB_RESIZE_MAX);
        return -1;
    }
    int y = new_tensor(g, g->tensors[x].c, oh, ow);
    return y < 0 ? -1 : new_op(g, DB_OP_RESIZE, x, -1, y);
}

int db_g_dwconv(db_graph *g, int x, int kh, int kw, int stride, const char *name) {
    if (bad(g, x)) return -1;
    if (kh < 1 || kw < 1 || stride < 1) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: depthwise %dx%d stride %d", kh, kw, stride);
        return -1;
    }
    db_tensor t = g->tensors[x];
    db_dw_dims d;
    db_dw_dims_same(&d, t.c, kh, kw, stride, t.h, t.w);
    int y = new_tensor(g, t.c, d.oh, d.ow);
    if (y < 0) return -1;
    int wp = new_param(g, name, "weight", (size_t)t.c * kh * kw, DB_INIT_KAIMING_OUT, kh * kw, 0);
    if (wp < 0 || new_op(g, DB_OP_DWCONV, x, -1, y) < 0) return -1;
    db_op *op = &g->ops[g->n_ops - 1];
    op->u.dw = d;
    op->param[0] = wp;
    return y;
}

/* The op that produced tensor t (-1: none, the input) */
static int producer(const db_graph *g, int t) {
    for (int i = g->n_ops - 1; i >= 0; i--)
        if (g->ops[i].out == t) return i;
    return -1;
}

/* A parameter using the values of parameter `of` (db_param.tied) */
static int tied_param(db_graph *g, int of, const char *name, const char *suffix) {
    const db_param m = g->params[of];
    int p = new_param(g, name, suffix, m.size, m.init, m.fan, m.no_decay);
    if (p >= 0) g->params[p].tied = 1 + (m.tied ? m.tied - 1 : of);
    return p;
}

int db_g_conv_tied(db_graph *g, int x, int like, int stride, int pad, const char *name) {
    if (bad(g, x) || bad(g, like)) return -1;
    int src = producer(g, like);
    if (src < 0 || g->ops[src].kind != DB_OP_CONV) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: tensor %d is not a convolution's output", like);
        return -1;
    }
    const db_conv_dims sd = g->ops[src].u.conv;
    db_tensor t = g->tensors[x];
    if (t.c != sd.cin) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: a tied convolution reads %d channels, its weights %d", t.c, sd.cin);
        return -1;
    }
    db_conv_dims d;
    db_conv_dims_rect(&d, t.c, sd.cout, sd.kh, sd.kw, stride, stride, pad, pad, t.h, t.w);
    int y = new_tensor(g, sd.cout, d.oh, d.ow);
    if (y < 0) return -1;
    int wp = tied_param(g, g->ops[src].param[0], name, "weight");
    if (wp < 0 || new_op(g, DB_OP_CONV, x, -1, y) < 0) return -1;
    db_op *op = &g->ops[g->n_ops - 1];
    op->u.conv = d;
    op->param[0] = wp;
    return y;
}

static int bias_op(db_graph *g, int x, int bp) {
    int y = same_shape_op(g, DB_OP_BIAS, x);
    if (y < 0) return -1;
    g->ops[g->n_ops - 1].param[1] = bp;
    return y;
}

int db_g_bias(db_graph *g, int x, float init, const char *name) {
    if (bad(g, x)) return -1;
    int bp = new_param(g, name, "bias", (size_t)g->tensors[x].c, DB_INIT_CONST, 0, 1);
    if (bp < 0) return -1;
    g->params[bp].init_value = init;
    return bias_op(g, x, bp);
}

int db_g_bias_tied(db_graph *g, int x, int like, const char *name) {
    if (bad(g, x) || bad(g, like)) return -1;
    int src = producer(g, like);
    if (src < 0 || g->ops[src].kind != DB_OP_BIAS || g->tensors[like].c != g->tensors[x].c) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: tensor %d is not a bias of %d channels", like, g->tensors[x].c);
        return -1;
    }
    int bp = tied_param(g, g->ops[src].param[1], name, "bias");
    return bp < 0 ? -1 : bias_op(g, x, bp);
}

void db_g_init_normal(db_graph *g, int y, float std) {
    if (bad(g, y)) return;
    int src = producer(g, y);
    if (src < 0 || g->ops[src].param[0] < 0) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: tensor %d has no weight to initialise", y);
        return;
    }
    db_param *p = &g->params[g->ops[src].param[0]];
    p->init = DB_INIT_NORMAL;
    p->init_value = std;
}

void db_g_output(db_graph *g, int x) {
    if (bad(g, x)) return;
    int *o = realloc(g->outputs, sizeof *o * (size_t)(g->n_outputs + 1));
    if (!o) { g->status = db_fail(DB_ERR_NOMEM, "graph: out of memory"); return; }
    g->outputs = o;
    g->outputs[g->n_outputs++] = x;
}

int db_g_add(db_graph *g, int a, int b) {
    if (bad(g, a) || bad(g, b)) return -1;
    db_tensor ta = g->tensors[a], tb = g->tensors[b];
    if (ta.c != tb.c || ta.h != tb.h || ta.w != tb.w) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: add of %dx%dx%d and %dx%dx%d", ta.c, ta.h,
                            ta.w, tb.c, tb.h, tb.w);
        return -1;
    }
    int y = new_tensor(g, ta.c, ta.h, ta.w);
    return y < 0 ? -1 : new_op(g, DB_OP_ADD, a, b, y);
}

int db_g_concat(db_graph *g, int a, int b) {
    if (bad(g, a) || bad(g, b)) return -1;
    db_tensor ta = g->tensors[a], tb = g->tensors[b];
    if (ta.h != tb.h || ta.w != tb.w) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: concatenating %dx%d and %dx%d maps", ta.w, ta.h, tb.w, tb.h);
        return -1;
    }
    int y = new_tensor(g, ta.c + tb.c, ta.h, ta.w);
    return y < 0 ? -1 : new_op(g, DB_OP_CONCAT, a, b, y);
}

int db_g_subsample(db_graph *g, int x, int s, int off) {
    if (bad(g, x)) return -1;
    if (s < 1 || off < 0 || off >= s) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: subsampling by %d from %d", s, off);
        return -1;
    }
    db_tensor t = g->tensors[x];
    int y = new_tensor(g, t.c, (t.h + s - 1) / s, (t.w + s - 1) / s);
    if (y < 0 || new_op(g, DB_OP_SUBSAMPLE, x, -1, y) < 0) return -1;
    g->ops[g->n_ops - 1].u.sub.s = s, g->ops[g->n_ops - 1].u.sub.off = off;
    return y;
}

int db_g_shortcut_a(db_graph *g, int x, int cout, int stride) {
    if (bad(g, x)) return -1;
    db_tensor t = g->tensors[x];
    int y = new_tensor(g, cout, (t.h - 1) / stride + 1, (t.w - 1) / stride + 1);
    if (y < 0 || new_op(g, DB_OP_SHORTCUT_A, x, -1, y) < 0) return -1;
    g->ops[g->n_ops - 1].u.sc.stride = stride;
    return y;
}

static int pool(db_graph *g, db_op_kind kind, int x, int k, int stride, int pad) {
    if (bad(g, x)) return -1;
    db_tensor t = g->tensors[x];
    int y = new_tensor(g, t.c, t.h + 2 * pad < k ? 0 : (t.h + 2 * pad - k) / stride + 1,
                       t.w + 2 * pad < k ? 0 : (t.w + 2 * pad - k) / stride + 1);
    if (y < 0 || new_op(g, kind, x, -1, y) < 0) return -1;
    db_op *op = &g->ops[g->n_ops - 1];
    op->u.pool.k = k; op->u.pool.stride = stride; op->u.pool.pad = pad;
    return y;
}

int db_g_pool_same(db_graph *g, int x, int max, int k, int stride) {
    if (bad(g, x)) return -1;
    if (k < 1 || stride < 1) { g->status = db_fail(DB_ERR_INTERNAL, "graph: pool %d stride %d", k, stride); return -1; }
    db_tensor t = g->tensors[x];
    db_dw_dims d; /* the same SAME geometry as the depthwise convolution's */
    db_dw_dims_same(&d, t.c, k, k, stride, t.h, t.w);
    if (d.pad_top != d.pad_left) { /* the pools take one padding for both sides: square maps (AmoebaNet's) */
        g->status = db_fail(DB_ERR_INTERNAL, "graph: a SAME pool on a %dx%d map pads rows and columns differently",
                            t.w, t.h);
        return -1;
    }
    int y = new_tensor(g, t.c, d.oh, d.ow);
    if (y < 0 || new_op(g, max ? DB_OP_MAXPOOL : DB_OP_AVGPOOL, x, -1, y) < 0) return -1;
    db_op *op = &g->ops[g->n_ops - 1];
    op->u.pool.k = k, op->u.pool.stride = stride, op->u.pool.pad = d.pad_top, op->u.pool.same = 1;
    return y;
}

int db_g_maxpool(db_graph *g, int x, int k, int stride, int pad) { return pool(g, DB_OP_MAXPOOL, x, k, stride, pad); }
int db_g_avgpool(db_graph *g, int x, int k, int stride, int pad) { return pool(g, DB_OP_AVGPOOL, x, k, stride, pad); }

int db_g_gap(db_graph *g, int x) {
    if (bad(g, x)) return -1;
    int y = new_tensor(g, g->tensors[x].c, 1, 1);
    return y < 0 ? -1 : new_op(g, DB_OP_GAP, x, -1, y);
}

int db_g_linear(db_graph *g, int x, int out_features, const char *name) {
    if (bad(g, x)) return -1;
    db_tensor t = g->tensors[x];
    if (t.h != 1 || t.w != 1) {
        g->status = db_fail(DB_ERR_INTERNAL, "graph: linear needs a pooled (c,1,1) input");
        return -1;
    }
    int y = new_tensor(g, out_features, 1, 1);
    if (y < 0) return -1;
    int wp = new_param(g, name, "weight", (size_t)out_features * t.c, DB_INIT_UNIFORM_FANIN, t.c, 0);
    int bp = new_param(g, name, "bias", out_features, DB_INIT_UNIFORM_FANIN, t.c, 1);
    if (wp < 0 || bp < 0 || new_op(g, DB_OP_LINEAR, x, -1, y) < 0) return -1;
    db_op *op = &g->ops[g->n_ops - 1];
    op->param[0] = wp; op->param[1] = bp;
    return y;
}

const char *db_site_kind_name(db_site_kind k) {
    return k == DB_SITE_SHORTCUT ? "shortcut" : k == DB_SITE_PATH ? "path" : k == DB_SITE_HEAD ? "head" : "conv";
}

static int new_site(db_graph *g, int x, int group, int res_block, db_site_kind kind, const char *name) {
    GROW(g->sites, g->n_sites);
    db_site *s = &g->sites[g->n_sites];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->group = group; s->res_block = res_block; s->kind = kind; s->tensor = x;
    s->c = g->tensors[x].c; s->h = g->tensors[x].h; s->w = g->tensors[x].w;
    return g->n_sites++;
}

/* A regularizer op of `kind` on tensor x at site `site` */
static int reg_op_at(db_graph *g, int x, int site, db_reg_kind kind, float keep, int scheduled) {
    int y = same_shape_op(g, DB_OP_REG, x);
    if (y < 0) return -1;
    db_op *op = &g->ops[g->n_ops - 1];
    op->u.reg.kind = kind;
    op->u.reg.site = site;
    op->u.reg.keep = keep;
    op->u.reg.scheduled = scheduled;
    return y;
}

int db_g_site(db_graph *g, int x, int group, int res_block, db_site_kind kind, const char *name) {
    if (bad(g, x)) return -1;
    int id = new_site(g, x, group, res_block, kind, name);
    const db_reg_plan *r = &g->reg;
    int droppath = r->kind == DB_REG_DROPPATH; /* whole branches: only at their outputs */
    if (r->kind == DB_REG_NONE || group < 1 || group > 31 || !(r->groups & (1u << group)) ||
        res_block < r->first_block || kind == DB_SITE_HEAD || (kind == DB_SITE_SHORTCUT && !r->on_skip) ||
        (droppath && kind != DB_SITE_CONV_OUT && kind != DB_SITE_PATH) || (!droppath && kind == DB_SITE_PATH))
        return x;
    int y = reg_op_at(g, x, id, r->kind, db_group_keep_prob(r->keep_prob, group, r->n_groups, r->group_scaling),
                      r->scheduled);
    if (y < 0) return -1;
    db_op *op = &g->ops[g->n_ops - 1];
    op->u.reg.block_size = r->block_size;
    op->u.reg.per_sample = r->per_sample;
    op->u.reg.semantics = r->semantics;
    return y;
}

int db_g_dropout(db_graph *g, int x, float keep, const char *name) {
    if (bad(g, x)) return -1;
    if (!(keep > 0.0f && keep <= 1.0f)) {
        g->status = db_fail(DB_ERR_ARG, "%s: dropout keep probability %g outside (0, 1]", name, keep);
        return -1;
    }
    int id = new_site(g, x, 0, 0, DB_SITE_HEAD, name);
    return keep < 1.0f ? reg_op_at(g, x, id, DB_REG_DROPOUT, keep, 0) : x;
}

int db_graph_n_reg(const db_graph *g) {
    int r = 0;
    for (int i = 0; i < g->n_ops; i++) r += g->ops[i].kind == DB_OP_REG;
    return r;
}

static const db_op *reg_op(const db_graph *g, int r) {
    for (int i = 0; i < g->n_ops; i++)
        if (g->ops[i].kind == DB_OP_REG && r-- == 0) return &g->ops[i];
    return NULL;
}

const db_site *db_graph_reg_site(const db_graph *g, int r, float *keep_prob) {
    const db_op *op = reg_op(g, r);
    if (!op) return NULL;
    if (keep_prob) *keep_prob = op->u.reg.keep;
    return &g->sites[op->u.reg.site];
}

double db_graph_take_drop_fraction(db_graph *g, db_site_stat *sites) {
    double d = 0, u = 0;
    for (int i = 0, r = 0; i < g->n_ops; i++) {
        db_op *op = &g->ops[i];
        if (op->kind != DB_OP_REG) continue;
        if (sites) {
            sites[r].drop_fraction = op->units > 0 ? op->dropped / op->units : 0.0;
            sites[r].expected_fraction = op->units > 0 ? op->expected / op->units : 0.0;
        }
        r++;
        if (g->sites[op->u.reg.site].kind != DB_SITE_HEAD) d += op->dropped, u += op->units;
        op->dropped = op->units = op->expected = 0;
    }
    return u > 0 ? d / u : -1.0;
}

db_site_stat db_graph_whole_fractions(const db_graph *g, const db_site_stat *sites) {
    double d = 0, e = 0, u = 0;
    for (int i = 0, r = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        if (op->kind != DB_OP_REG) continue;
        const db_tensor *y = &g->tensors[op->out];
        const double units = (double)y->c * y->h * y->w; /* each step counts n times a sample's units (db_graph_reg_count) */
        if (g->sites[op->u.reg.site].kind != DB_SITE_HEAD)
            d += units * sites[r].drop_fraction, e += units * sites[r].expected_fraction, u += units;
        r++;
    }
    db_site_stat w = {u > 0 ? d / u : -1.0, u > 0 ? e / u : -1.0};
    return w;
}

void db_graph_get_reg_sums(const db_graph *g, double *sums) {
    for (int i = 0, r = 0; i < g->n_ops; i++)
        if (g->ops[i].kind == DB_OP_REG) {
            sums[3 * r] = g->ops[i].dropped; sums[3 * r + 1] = g->ops[i].units; sums[3 * r + 2] = g->ops[i].expected;
            r++;
        }
}

void db_graph_set_reg_sums(db_graph *g, const double *sums) {
    for (int i = 0, r = 0; i < g->n_ops; i++)
        if (g->ops[i].kind == DB_OP_REG) {
            g->ops[i].dropped = sums[3 * r]; g->ops[i].units = sums[3 * r + 1]; g->ops[i].expected = sums[3 * r + 2];
            r++;
        }
}
