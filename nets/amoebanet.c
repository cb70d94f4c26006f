/* AmoebaNet-B: its cells and network, as nets/amoebanet.h and nets/AMOEBANET.md describe them. */
#include "nets/amoebanet.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef enum { OP_SEP3, OP_DIL5, OP_MAX3, OP_MAX2, OP_AVG3, OP_1X1, OP_NONE, OP_3X3, OP_SEP5, OP_SEP7, OP_1X7 } cell_op;

/* The official names (model_specs.py); dil_2_separable_5x5_2 is built undilated, as the official
 * code builds it (its name parser never reads the dilation): the same as separable_5x5_2 */
static const char *const op_names[] = {"separable_3x3_2", "dil_2_separable_5x5_2", "max_pool_3x3", "max_pool_2x2",
                                       "avg_pool_3x3",    "1x1",                   "none",         "3x3",
                                       "separable_5x5_2", "separable_7x7_2",       "1x7_7x1"};

typedef struct {
    const char *name;
    cell_op ops[10];  /* pairs: state 2+i = ops[2i](state idx[2i]) + ops[2i+1](state idx[2i+1]) */
    int idx[10];
    int used[7];      /* the states not used are the cell's output, concatenated in order */
} cell_spec;

/* model_specs.py: amoeba_net_a .. amoeba_net_d (evol_net_g, evol_net_h, evol_net_a, evol_net_x),
 * each a normal and a reduction cell; B is the DropBlock paper's */
typedef struct {
    const char *model;
    cell_spec normal, reduction;
} variant;

static const variant variants[] = {
    {"amoebanet-a",
     {"normal",
      {OP_AVG3, OP_MAX3, OP_SEP3, OP_NONE, OP_NONE, OP_AVG3, OP_SEP3, OP_SEP5, OP_AVG3, OP_SEP3},
      {0, 0, 1, 1, 0, 1, 0, 2, 5, 0},
      {1, 0, 1, 0, 0, 1, 0}},
     {"reduction",
      {OP_SEP3, OP_AVG3, OP_MAX3, OP_SEP7, OP_MAX3, OP_MAX3, OP_SEP3, OP_1X7, OP_AVG3, OP_SEP7},
      {1, 0, 0, 2, 1, 0, 4, 0, 1, 0},
      {1, 1, 0, 0, 0, 0, 0}}},
    {"amoebanet-b",
     {"normal",
      {OP_1X1, OP_MAX3, OP_NONE, OP_SEP3, OP_1X1, OP_SEP3, OP_1X1, OP_NONE, OP_AVG3, OP_1X1},
      {1, 1, 1, 0, 1, 0, 2, 2, 1, 5},
      {0, 1, 1, 0, 0, 1, 0}},
     {"reduction",
      {OP_MAX2, OP_MAX3, OP_NONE, OP_3X3, OP_DIL5, OP_MAX3, OP_NONE, OP_SEP3, OP_AVG3, OP_1X1},
      {0, 0, 2, 1, 2, 2, 3, 1, 4, 3},
      {1, 1, 1, 1, 1, 0, 0}}},
    {"amoebanet-c",
     {"normal",
      {OP_AVG3, OP_SEP3, OP_NONE, OP_SEP3, OP_AVG3, OP_SEP3, OP_NONE, OP_SEP3, OP_AVG3, OP_SEP3},
      {0, 0, 0, 0, 2, 1, 0, 1, 3, 0},
      {1, 0, 0, 1, 0, 0, 0}},
     {"reduction",
      {OP_MAX3, OP_MAX3, OP_SEP7, OP_SEP3, OP_SEP7, OP_MAX3, OP_SEP5, OP_SEP5, OP_MAX3, OP_SEP3},
      {0, 0, 2, 0, 0, 1, 4, 4, 1, 1},
      {0, 1, 0, 0, 0, 0, 0}}},
    {"amoebanet-d",
     {"normal",
      {OP_1X1, OP_MAX3, OP_NONE, OP_1X7, OP_1X1, OP_1X7, OP_MAX3, OP_NONE, OP_AVG3, OP_1X1},
      {1, 1, 1, 0, 0, 0, 2, 2, 1, 5},
      {0, 1, 1, 0, 0, 1, 0}},
     {"reduction",
      {OP_MAX2, OP_MAX3, OP_NONE, OP_3X3, OP_1X7, OP_MAX3, OP_NONE, OP_MAX2, OP_AVG3, OP_1X1},
      {0, 0, 2, 1, 2, 2, 3, 1, 2, 3},
      {1, 1, 1, 1, 0, 0, 0}}},
};

static const variant *variant_of(const char *model) {
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++)
        if (!strcmp(model, variants[i].model)) return &variants[i];
    return NULL;
}

int db_model_is_amoebanet(const char *model) { return variant_of(model) != NULL; }

void db_amoebanet_defaults(db_model_config *cfg, const char *model) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->arch, sizeof cfg->arch, "%s", variant_of(model) ? model : "amoebanet-b");
    cfg->width = 256;
    cfg->cells = 18;
    cfg->stem = 'i';
    cfg->dense_keep = 0.5f;
    cfg->in_c = 3; cfg->in_h = cfg->in_w = 331;
    cfg->classes = 1000;
    cfg->bn_momentum = 0.1f;
    cfg->bn_eps = 1e-5f;
}

char db_amoebanet_auto_stem(int side) { return side >= 128 ? 'i' : 'b'; }

void db_amoebanet_print_spec(FILE *f, const char *model) {
    const variant *v = variant_of(model);
    if (!v) return;
    const cell_spec *specs[2] = {&v->normal, &v->reduction};
    for (int s = 0; s < 2; s++) {
        const cell_spec *c = specs[s];
        fprintf(f, "%s cell (h0: the input through ReLU, 1x1 convolution, batch norm; h1: the cell before it):\n",
                c->name);
        for (int i = 0; i < 5; i++)
            fprintf(f, "  h%d = %s(h%d) + %s(h%d)\n", 2 + i, op_names[c->ops[2 * i]], c->idx[2 * i],
                    op_names[c->ops[2 * i + 1]], c->idx[2 * i + 1]);
        fprintf(f, "  output = concat(");
        for (int j = 0, first = 1; j < 7; j++)
            if (!c->used[j]) fprintf(f, "%sh%d", first ? "" : ", ", j), first = 0;
        fprintf(f, ")\n");
    }
}

typedef struct {
    db_graph *g;
    const db_model_config *cfg;
    const variant *v;
    int group, cell;  /* the cell being built: its group and number */
    int f;            /* its filter size */
    char prefix[16];
} builder;

static int site(builder *b, int x, db_site_kind kind, const char *name) {
    char sn[96];
    snprintf(sn, sizeof sn, "%s.%s", b->prefix, name);
    return db_g_site(b->g, x, b->group, b->cell, kind, sn);
}

/* conv (kh x kw, strides sh down and sw across, SAME) then batch norm, named prefix.name */
static int conv_bn_rect(builder *b, int x, int cout, int kh, int kw, int sh, int sw, const char *name) {
    char cn[96];
    snprintf(cn, sizeof cn, "%s.%s", b->prefix, name);
    x = db_g_conv_same_rect(b->g, x, cout, kh, kw, sh, sw, cn);
    snprintf(cn, sizeof cn, "%s.%s.bn", b->prefix, name);
    return db_g_bn(b->g, x, cn, 0, b->cfg->bn_momentum, b->cfg->bn_eps);
}

/* conv (k x k, stride, SAME) then batch norm, named prefix.name */
static int conv_bn(builder *b, int x, int cout, int k, int stride, const char *name) {
    return conv_bn_rect(b, x, cout, k, k, stride, stride, name);
}

/* network_utils.factorized_reduction: stride 1, a 1x1 convolution; stride 2, two 1x1
 * convolutions to out/2 on the pixels (2i, 2j) and (2i+1, 2j+1), concatenated; then batch norm */
static int factorized_reduction(builder *b, int x, int out, int stride, const char *name) {
    char n[48];
    if (stride == 1) {
        snprintf(n, sizeof n, "%s.fr", name);
        return site(b, conv_bn(b, x, out, 1, 1, n), DB_SITE_CONV, n);
    }
    char c1[96], c2[96], bn[96];
    snprintf(c1, sizeof c1, "%s.%s.fr1", b->prefix, name);
    snprintf(c2, sizeof c2, "%s.%s.fr2", b->prefix, name);
    snprintf(bn, sizeof bn, "%s.%s.fr.bn", b->prefix, name);
    int p1 = db_g_conv(b->g, db_g_subsample(b->g, x, 2, 0), out / 2, 1, 1, 0, c1);
    int p2 = db_g_conv(b->g, db_g_subsample(b->g, x, 2, 1), out / 2, 1, 1, 0, c2);
    x = db_g_bn(b->g, db_g_concat(b->g, p1, p2), bn, 0, b->cfg->bn_momentum, b->cfg->bn_eps);
    snprintf(n, sizeof n, "%s.fr", name);
    return site(b, x, DB_SITE_CONV, n);
}

/* The middle of the 3x3 and 1x7_7x1 operations, to cout channels: a 3x3 convolution and batch
 * norm; or a 1x7 one (stride [1, s]) and batch norm, a ReLU, a 7x1 one ([s, 1]) and batch norm
 * (a site after the first batch norm, named name.1x7) */
static int middle(builder *b, cell_op op, int x, int cout, int stride, const char *name) {
    if (op == OP_3X3) return conv_bn(b, x, cout, 3, stride, name);
    char n[64];
    snprintf(n, sizeof n, "%s.1x7", name);
    x = db_g_relu(b->g, site(b, conv_bn_rect(b, x, cout, 1, 7, 1, stride, n), DB_SITE_CONV, n));
    snprintf(n, sizeof n, "%s.7x1", name);
    return conv_bn_rect(b, x, cout, 7, 1, stride, 1, n);
}

/* ReLU of state s, made once per cell and shared by the operations reading it */
static int relu_of(builder *b, int *relu, const int *state, int s) {
    if (relu[s] < 0) relu[s] = db_g_relu(b->g, state[s]);
    return relu[s];
}

/* One operation of a cell on state s (stride: the cell's when s is an input, else 1) */
static int apply_op(builder *b, cell_op op, const int *state, int *relu, int s, int stride, const char *name) {
    db_graph *g = b->g;
    if (g->status != DB_OK) return -1;
    const int x = state[s], cin = g->tensors[x].c, f = b->f;
    char n[48];
    switch (op) {
    case OP_SEP3:
    case OP_SEP5:
    case OP_DIL5:
    case OP_SEP7: { /* (ReLU, depthwise k x k, pointwise 1x1 to f, batch norm) twice; stride on the first */
        int k = op == OP_SEP3 ? 3 : op == OP_SEP7 ? 7 : 5, y = relu_of(b, relu, state, s);
        for (int r = 0; r < 2; r++) {
            char dn[96];
            if (r) y = db_g_relu(g, y);
            snprintf(dn, sizeof dn, "%s.%s.dw%d", b->prefix, name, r);
            y = db_g_dwconv(g, y, k, k, r ? 1 : stride, dn);
            snprintf(n, sizeof n, "%s.pw%d", name, r);
            y = site(b, conv_bn(b, y, f, 1, 1, n), r ? DB_SITE_CONV_OUT : DB_SITE_CONV, n);
        }
        return y;
    }
    case OP_MAX3:
    case OP_MAX2:
    case OP_AVG3: { /* pooling (no ReLU), then a 1x1 convolution and batch norm only to change channels */
        int y = db_g_pool_same(g, x, op != OP_AVG3, op == OP_MAX2 ? 2 : 3, stride);
        if (cin == f) return site(b, y, DB_SITE_PATH, name);
        snprintf(n, sizeof n, "%s.proj", name);
        return site(b, conv_bn(b, y, f, 1, 1, n), DB_SITE_CONV_OUT, n);
    }
    case OP_NONE: /* identity, or ReLU, 1x1 convolution and batch norm where the shape changes */
        if (stride == 1 && cin == f) return site(b, x, DB_SITE_SHORTCUT, name);
        return site(b, conv_bn(b, relu_of(b, relu, state, s), f, 1, stride, name), DB_SITE_SHORTCUT, name);
    case OP_1X1:
        return site(b, conv_bn(b, relu_of(b, relu, state, s), f, 1, stride, name), DB_SITE_CONV_OUT, name);
    case OP_3X3:
    case OP_1X7: { /* the bottleneck: 1x1 to f/4, the middle (the stride), 1x1 back to f, each after a
                    * ReLU; the middle a 3x3, or 1x7 (stride [1, s]), batch norm, ReLU and 7x1 ([s, 1]) */
        int r4 = f / 4, y = relu_of(b, relu, state, s);
        if (r4 < 1) return site(b, middle(b, op, y, f, stride, name), DB_SITE_CONV_OUT, name);
        snprintf(n, sizeof n, "%s.a", name);
        y = db_g_relu(g, site(b, conv_bn(b, y, r4, 1, 1, n), DB_SITE_CONV, n));
        snprintf(n, sizeof n, "%s.b", name);
        y = db_g_relu(g, site(b, middle(b, op, y, r4, stride, n), DB_SITE_CONV, n));
        snprintf(n, sizeof n, "%s.c", name);
        return site(b, conv_bn(b, y, f, 1, 1, n), DB_SITE_CONV_OUT, n);
    }
    }
    return -1;
}

/* network_utils.BaseCell on `net` (the cell before) and `prev` (the one before that; -1: none) */
static int cell(builder *b, const cell_spec *spec, int net, int prev, int stride) {
    db_graph *g = b->g;
    if (g->status != DB_OK) return -1;
    int state[7], relu[7];
    for (int i = 0; i < 7; i++) relu[i] = -1;
    /* h1: the cell before the last, brought to this cell's shape */
    if (prev < 0) state[1] = net;
    else if (g->tensors[prev].w != g->tensors[net].w)
        state[1] = factorized_reduction(b, db_g_relu(g, prev), b->f, 2, "prev");
    else if (g->tensors[prev].c != b->f)
        state[1] = site(b, conv_bn(b, db_g_relu(g, prev), b->f, 1, 1, "prev"), DB_SITE_CONV, "prev");
    else state[1] = prev;
    /* h0: the input through ReLU, 1x1 convolution, batch norm */
    state[0] = site(b, conv_bn(b, db_g_relu(g, net), b->f, 1, 1, "base"), DB_SITE_CONV, "base");
    for (int i = 0; i < 5; i++) {
        int y[2];
        for (int side = 0; side < 2; side++) {
            int o = 2 * i + side, s = spec->idx[o];
            char name[12];
            snprintf(name, sizeof name, "op%d", o);
            y[side] = apply_op(b, spec->ops[o], state, relu, s, s < 2 ? stride : 1, name);
        }
        state[2 + i] = db_g_add(g, y[0], y[1]);
    }
    if (g->status != DB_OK) return -1;
    /* the unused states, each brought to the last state's shape, concatenated */
    const db_tensor last = g->tensors[state[6]];
    int out = -1;
    for (int j = 0; j < 7; j++) {
        if (spec->used[j]) continue;
        int s = state[j];
        const db_tensor t = g->tensors[s];
        if (t.c != last.c || t.h != last.h) {
            char name[12];
            snprintf(name, sizeof name, "out%d", j);
            s = factorized_reduction(b, s, last.c, t.h != last.h ? 2 : 1, name);
        }
        out = out < 0 ? s : db_g_concat(g, out, s);
    }
    return out;
}

static void begin_cell(builder *b, char kind, int f, db_amoeba_cell *cells, int *n_cells) {
    b->f = f;
    snprintf(b->prefix, sizeof b->prefix, "c%d", b->cell);
    if (cells && *n_cells < DB_AMOEBA_MAX_CELLS)
        cells[*n_cells] = (db_amoeba_cell){.kind = kind, .index = b->cell, .f = f, .group = b->group,
                                           .first_op = b->g->n_ops};
}

static void end_cell(builder *b, int y, db_amoeba_cell *cells, int *n_cells) {
    if (y >= 0 && cells && *n_cells < DB_AMOEBA_MAX_CELLS) {
        cells[*n_cells].c = b->g->tensors[y].c;
        cells[*n_cells].h = b->g->tensors[y].h;
        cells[*n_cells].w = b->g->tensors[y].w;
        cells[*n_cells].n_ops = b->g->n_ops - cells[*n_cells].first_op;
    }
    ++*n_cells;
    b->cell++;
}

/* One cell of `spec` at filter size f on *x (the cell before) and *prev; moves both on */
static void next_cell(builder *b, char kind, const cell_spec *spec, int f, int stride, int *x, int *prev,
                      db_amoeba_cell *cells, int *n_cells) {
    begin_cell(b, kind, f, cells, n_cells);
    int y = cell(b, spec, *x, *prev, stride);
    end_cell(b, y, cells, n_cells);
    *prev = *x, *x = y;
}

/* model_builder._build_aux_head on ReLU(x): 5x5/3 VALID average pooling, 1x1 convolution to 0.4 *
 * 128, batch norm, ReLU, a convolution over the whole remaining map to 0.4 * 768, batch norm,
 * ReLU, the classifier */
static int aux_head(builder *b, int x) {
    db_graph *g = b->g;
    const db_model_config *c = b->cfg;
    x = db_g_avgpool(g, db_g_relu(g, x), 5, 3, 0);
    x = db_g_conv(g, x, (int)(128 * 0.4), 1, 1, 0, "aux.proj");
    x = db_g_bn_relu(g, x, "aux.proj.bn", 0, c->bn_momentum, c->bn_eps);
    if (g->status != DB_OK) return -1;
    x = db_g_conv(g, x, (int)(768 * 0.4), g->tensors[x].h, 1, 0, "aux.conv");
    x = db_g_bn_relu(g, x, "aux.conv.bn", 0, c->bn_momentum, c->bn_eps);
    return db_g_linear(g, x, c->classes, "aux.fc");
}

db_status db_amoebanet_build(db_graph *g, const db_model_config *cfg, int n_max, db_amoeba_cell *cells, int *n_cells) {
    int count = 0;
    if (!n_cells) n_cells = &count;
    *n_cells = 0;
    const variant *v = variant_of(cfg->arch);
    if (!v) return db_fail(DB_ERR_ARG, "%s is not an AmoebaNet (amoebanet-a, -b, -c or -d)", cfg->arch);
    /* any F (the official code refuses one whose cells reach an odd filter count; here that
     * factorized reduction gives one channel fewer), but at least 2 filters in the first cells,
     * which the ImageNet stem's have a quarter of */
    if (cfg->cells < 1 || cfg->width < (cfg->stem == 'i' ? 8 : 2) || (cfg->stem != 'i' && cfg->stem != 'b'))
        return db_fail(DB_ERR_ARG, "%s: cells %d (at least 1), filters %d (at least 8 with the ImageNet stem, 2 "
                       "with the basic) and stem '%c' (imagenet or basic)", cfg->arch, cfg->cells, cfg->width,
                       cfg->stem ? cfg->stem : '?');
    if (cfg->in_h != cfg->in_w)
        return db_fail(DB_ERR_ARG, "%s: square inputs only (TensorFlow's SAME padding as the official code "
                       "pads it), got %dx%d", cfg->arch, cfg->in_w, cfg->in_h);
    db_graph_begin(g, n_max);
    g->reg = cfg->reg;
    g->unfused = cfg->unfused;
    g->bn_group = cfg->bn_group;
    int reductions[DB_AMOEBA_REDUCTIONS], distinct = 0; /* before cells int(k/3 cells); coinciding ones are one */
    for (int k = 0; k < DB_AMOEBA_REDUCTIONS; k++) {
        reductions[k] = (int)((double)(k + 1) / (DB_AMOEBA_REDUCTIONS + 1) * cfg->cells);
        distinct += k == 0 || reductions[k] != reductions[k - 1];
    }
    const int stem_cells = cfg->stem == 'i' ? 2 : 0, total = stem_cells + cfg->cells + distinct;
    g->reg.n_groups = 2 + DB_AMOEBA_REDUCTIONS;
    g->reg.droppath_uniform = 1;
    if (cfg->reg.last_cells > 0 && cfg->reg.last_cells < 1)
        g->reg.first_block = total - (int)lround(cfg->reg.last_cells * total);
    builder b = {.g = g, .cfg = cfg, .v = v, .group = 1};
    /* the stem: a 3x3 VALID convolution (stride 2 for ImageNet, 1 basic) to 32 and batch norm */
    int x = db_g_conv(g, db_g_input(g, cfg->in_c, cfg->in_h, cfg->in_w), DB_AMOEBA_STEM_FILTERS, 3,
                      stem_cells ? 2 : 1, 0, "stem.conv0");
    x = db_g_bn(g, x, "stem.conv0.bn", 0, cfg->bn_momentum, cfg->bn_eps);
    int prev = -1, aux = -1;
    double scaling = 1.0 / (1 << stem_cells);
    for (int s = 0; s < stem_cells; s++, scaling *= 2)
        next_cell(&b, 's', &b.v->reduction, (int)(cfg->width * scaling), 2, &x, &prev, cells, n_cells);
    const int aux_at = reductions[1] - 1;
    scaling = 1.0;
    b.group = 2;
    for (int i = 0; i < cfg->cells; i++) {
        for (int k = 0; k < DB_AMOEBA_REDUCTIONS; k++) {
            if (reductions[k] != i) continue;
            scaling *= 2;
            b.group = 3 + k;
            next_cell(&b, 'r', &b.v->reduction, (int)(cfg->width * scaling), 2, &x, &prev, cells, n_cells);
            break; /* one reduction where two indices coincide (few cells), as the official "in" test */
        }
        next_cell(&b, 'n', &b.v->normal, (int)(cfg->width * scaling), 1, &x, &prev, cells, n_cells);
        if (cfg->aux_head && i == aux_at) aux = aux_head(&b, x);
    }
    x = db_g_gap(g, db_g_relu(g, x));
    x = db_g_linear(g, db_g_dropout(g, x, cfg->dense_keep, "head.dropout"), cfg->classes, "fc");
    if (cfg->aux_head) { /* two outputs: the logits, then the auxiliary logits */
        if (aux < 0 && g->status == DB_OK)
            g->status = db_fail(DB_ERR_ARG, "%s: the auxiliary head needs a normal cell before the second "
                                "reduction (cells >= 3)", cfg->arch);
        db_g_output(g, x);
        db_g_output(g, aux);
    }
    db_status s = db_graph_finalize(g);
    if (s != DB_OK) db_graph_free(g);
    return s;
}
