/* AmoebaNet-B (nets/amoebanet.c) against the official structure (nets/AMOEBANET.md): parameter
 * counts, map sizes, each cell's ops as counted by hand from model_specs.py and network_utils.py,
 * regularizer placement, and the gradients of a whole tiny network. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/amoebanet.h"
#include "nets/model.h"
#include "train/step.h"
#include "tests/check.h"
#include "tests/gradcheck.h"

static db_status build(db_graph *g, db_model_config *mc, int n, db_amoeba_cell *cells, int *n_cells) {
    return db_amoebanet_build(g, mc, n, cells, n_cells);
}

/* A narrow AmoebaNet (B unless named) with the basic stem: cells normal cells in all, F width,
 * c x hw x hw input */
static void narrow_of(db_model_config *mc, const char *model, int cells, int width, int c, int hw, int classes) {
    CHECK_OK(db_model_defaults(mc, model));
    mc->cells = cells, mc->width = width, mc->stem = 'b', mc->in_c = c, mc->in_h = mc->in_w = hw, mc->classes = classes;
}

static void narrow(db_model_config *mc, int cells, int width, int c, int hw, int classes) {
    narrow_of(mc, "amoebanet-b", cells, width, c, hw, classes);
}

/* The official code's AmoebaNet-B (6, 256) at 331x331 with TensorFlow's 1001 classes: 141,751,465
 * parameters, and 977,124 more in the training graph's auxiliary head (counted by following the
 * official code, nets/AMOEBANET.md sec. 6); the cells' maps 165 -> 83 -> 42 -> 21 -> 11 */
static void test_official_counts(void) {
    db_model_config mc;
    CHECK_OK(db_model_defaults(&mc, "amoebanet-b"));
    mc.classes = 1001;
    db_graph g;
    db_amoeba_cell cells[DB_AMOEBA_MAX_CELLS];
    int n = 0;
    CHECK_OK(build(&g, &mc, 1, cells, &n));
    if (g.n_ops == 0) return;
    CHECK(db_graph_param_count(&g) == 141751465u, "AmoebaNet-B (6, 256) has %zu parameters, not 141,751,465",
          db_graph_param_count(&g));
    CHECK(g.tensors[g.ops[1].out].h == 165, "the stem convolution's map is %d, not 165", g.tensors[g.ops[1].out].h);
    static const char kinds[] = "ssnnnnnnrnnnnnnrnnnnnn";
    static const int side[] = {83, 42, 42, 21, 11}, fs[] = {64, 128, 256, 512, 1024};
    CHECK(n == 22, "%d cells, not 2 stem + 18 normal + 2 reduction", n);
    for (int i = 0; i < n && i < 22; i++) {
        int stage = i < 2 ? i : i < 8 ? 2 : i < 15 ? 3 : 4; /* stem 0, stem 1, stacks 1-3 */
        CHECK(cells[i].kind == kinds[i] && cells[i].index == i, "cell %d is '%c', not '%c'", i, cells[i].kind, kinds[i]);
        CHECK(cells[i].h == side[stage] && cells[i].w == side[stage], "cell %d's map is %d, not %d", i, cells[i].h,
              side[stage]);
        CHECK(cells[i].f == fs[stage], "cell %d has f %d, not %d", i, cells[i].f, fs[stage]);
        CHECK(cells[i].c == (cells[i].kind == 'n' ? 4 : 2) * cells[i].f, "cell %d outputs %d channels at f %d", i,
              cells[i].c, cells[i].f);
        CHECK(cells[i].group == (i < 2 ? 1 : stage), "cell %d is in group %d", i, cells[i].group);
    }
    db_graph_free(&g);
    mc.aux_head = 1;
    CHECK_OK(build(&g, &mc, 1, NULL, NULL));
    if (g.n_ops == 0) return;
    CHECK(db_graph_param_count(&g) == 141751465u + 977124u, "with the auxiliary head: %zu parameters, not 142,728,589",
          db_graph_param_count(&g));
    CHECK(g.n_outputs == 2 && db_graph_output_at(&g, 1)->c == 1001 && db_graph_output(&g)->c == 1001,
          "the auxiliary head is the second output (%d outputs)", g.n_outputs);
    db_graph_free(&g);
    mc.aux_head = 0;
    mc.in_h = mc.in_w = 299; /* the official default size: 149 / 75 / 38 / 19 / 10 */
    CHECK_OK(build(&g, &mc, 1, cells, &n));
    if (g.n_ops == 0) return;
    CHECK(cells[0].h == 75 && cells[2].h == 38 && cells[8].h == 19 && cells[21].h == 10,
          "at 299: maps %d, %d, %d, %d", cells[0].h, cells[2].h, cells[8].h, cells[21].h);
    db_graph_free(&g);
}

/* Small inputs: SAME operations pad every window to fit, so the ImageNet stem on 28x28 runs its
 * cells down to a 1x1 map (13 -> 7 -> 4 -> 2 -> 1); the counts are those of the PyTorch twin
 * written separately from the same notes (scripts/torch_amoebanet.py): (1, 8) with the ImageNet
 * stem 36,945, the small-scale recipes' (2, 16) with the basic stem 216,522 */
static void test_small_maps(void) {
    db_model_config mc;
    narrow(&mc, 3, 8, 1, 28, 10);
    mc.stem = 'i';
    db_graph g;
    db_amoeba_cell cells[DB_AMOEBA_MAX_CELLS];
    int n = 0;
    CHECK_OK(build(&g, &mc, 2, cells, &n));
    if (g.n_ops == 0) return;
    CHECK(db_graph_param_count(&g) == 36945u, "(1, 8), ImageNet stem, 28x28: %zu parameters, not 36,945",
          db_graph_param_count(&g));
    CHECK(n == 7 && cells[0].h == 7 && cells[1].h == 4 && cells[3].h == 2 && cells[5].h == 1 && cells[6].h == 1,
          "%d cells; maps %d, %d, %d, %d", n, cells[0].h, cells[1].h, cells[3].h, cells[n > 5 ? 5 : 0].h);
    db_graph_free(&g);
    narrow(&mc, 6, 16, 1, 28, 10);
    CHECK_OK(build(&g, &mc, 2, NULL, NULL));
    if (g.n_ops == 0) return;
    CHECK(db_graph_param_count(&g) == 216522u, "(2, 16), basic stem, 28x28: %zu parameters, not 216,522",
          db_graph_param_count(&g));
    db_graph_free(&g);
}

/* The ops of one cell by kind, in the order of nets/graph.h's db_op_kind */
static void count_kinds(const db_graph *g, const db_amoeba_cell *c, int *count) {
    memset(count, 0, sizeof(int) * DB_OP_KINDS);
    for (int i = c->first_op; i < c->first_op + c->n_ops; i++) count[g->ops[i].kind]++;
}

/* A normal and a reduction cell of a narrow network (basic stem, N 2, F 16, 28x28), their ops
 * counted by hand from the specification (each cell's input 64 channels, f 16 and 32): normal,
 * base and prev 1x1 (2 conv, 2 BN, 2 ReLU), 1x1(h1), max_pool_3x3(h1), none(h1),
 * separable_3x3_2(h0) twice, 1x1(h1), 1x1(h2), none(h2), avg_pool_3x3(h1), 1x1(h5), with ReLUs of
 * h0, h1, h2, h5 and inside each separable; 5 adds; 4 states concatenated. Reduction: the same
 * base, max_pool_2x2 and max_pool_3x3 of h0 (stride 2), none(h2), the 3x3 bottleneck of h1
 * (stride 2; 3 convolutions), dil_2_separable_5x5_2(h2), max_pool_3x3(h2), none(h3),
 * separable_3x3_2(h1) (stride 2), avg_pool_3x3(h4), 1x1(h3); h5 and h6 concatenated. */
static void test_cell_ops(void) {
    db_model_config mc;
    narrow(&mc, 6, 16, 1, 28, 10);
    db_graph g;
    db_amoeba_cell cells[DB_AMOEBA_MAX_CELLS];
    int n = 0;
    CHECK_OK(build(&g, &mc, 2, cells, &n));
    if (g.n_ops == 0) return;
    CHECK(n == 8 && cells[1].kind == 'n' && cells[2].kind == 'r', "%d cells", n);
    int k[DB_OP_KINDS];
    count_kinds(&g, &cells[1], k);
    CHECK(k[DB_OP_CONV] == 10 && k[DB_OP_DWCONV] == 4 && k[DB_OP_BN] == 10 && k[DB_OP_RELU] == 8 &&
              k[DB_OP_MAXPOOL] == 1 && k[DB_OP_AVGPOOL] == 1 && k[DB_OP_ADD] == 5 && k[DB_OP_CONCAT] == 3 &&
              cells[1].n_ops == 42,
          "normal cell: %d conv, %d dwconv, %d bn, %d relu, %d max, %d avg, %d add, %d concat (%d ops)", k[DB_OP_CONV],
          k[DB_OP_DWCONV], k[DB_OP_BN], k[DB_OP_RELU], k[DB_OP_MAXPOOL], k[DB_OP_AVGPOOL], k[DB_OP_ADD],
          k[DB_OP_CONCAT], cells[1].n_ops);
    count_kinds(&g, &cells[2], k);
    CHECK(k[DB_OP_CONV] == 10 && k[DB_OP_DWCONV] == 4 && k[DB_OP_BN] == 10 && k[DB_OP_RELU] == 9 &&
              k[DB_OP_MAXPOOL] == 3 && k[DB_OP_AVGPOOL] == 1 && k[DB_OP_ADD] == 5 && k[DB_OP_CONCAT] == 1,
          "reduction cell: %d conv, %d dwconv, %d bn, %d relu, %d max, %d avg, %d add, %d concat", k[DB_OP_CONV],
          k[DB_OP_DWCONV], k[DB_OP_BN], k[DB_OP_RELU], k[DB_OP_MAXPOOL], k[DB_OP_AVGPOOL], k[DB_OP_ADD],
          k[DB_OP_CONCAT]);
    /* the reduction's strided ops are those on its inputs: its 5x5 separable (on h2) is not */
    int dw5 = 0, dw5_strided = 0;
    for (int i = cells[2].first_op; i < cells[2].first_op + cells[2].n_ops; i++)
        if (g.ops[i].kind == DB_OP_DWCONV && g.ops[i].u.dw.kh == 5) dw5++, dw5_strided += g.ops[i].u.dw.stride != 1;
    CHECK(dw5 == 2 && dw5_strided == 0, "the 5x5 separable: %d depthwise, %d strided", dw5, dw5_strided);
    CHECK(cells[2].h == 13 && cells[5].h == 7 && cells[7].c == 256, "maps %d, %d; last %d channels", cells[2].h,
          cells[5].h, cells[7].c);
    db_graph_free(&g);
}

/* Regularizers: DropBlock after the cells' batch norms and on their identity operations, only in
 * the last half of the cells, never on a pool's output; DropPath on every operation's output but
 * the identities, at one keep probability; the classifier's dropout is no regularizer site of
 * the run (left out of its drop fraction) */
static void test_regularizer_placement(void) {
    db_model_config mc;
    narrow(&mc, 6, 8, 1, 16, 4);
    mc.reg = (db_reg_plan){.kind = DB_REG_DROPBLOCK, .keep_prob = 0.9f, .block_size = 3, .groups = 0x1E,
                           .on_skip = 1, .last_cells = 0.5f};
    db_graph g;
    CHECK_OK(build(&g, &mc, 2, NULL, NULL));
    if (g.n_ops == 0) return;
    int regs = db_graph_n_reg(&g), regs_cells = 0, early = 0, on_pools = 0, skips = 0, after_bn = 0;
    for (int r = 0; r < regs; r++) {
        float keep;
        const db_site *st = db_graph_reg_site(&g, r, &keep);
        if (st->kind == DB_SITE_HEAD) continue; /* the classifier's dropout */
        regs_cells++;
        early += st->res_block < 4; /* 8 cells: the last half are cells 4..7 */
        on_pools += st->kind == DB_SITE_PATH;
        skips += st->kind == DB_SITE_SHORTCUT;
        after_bn += keep == 0.9f && (st->kind == DB_SITE_CONV || st->kind == DB_SITE_CONV_OUT);
    }
    CHECK(regs_cells > 40 && early == 0 && on_pools == 0 && skips > 0 && after_bn + skips == regs_cells,
          "DropBlock: %d ops, %d before the last half, %d on pools, %d on skips, %d after a BN at 0.9", regs_cells, early,
          on_pools, skips, after_bn);
    int bn_sites = 0, bns = 0;
    for (int i = 0; i < g.n_sites; i++) bn_sites += g.sites[i].res_block >= 4 && g.sites[i].kind <= DB_SITE_CONV_OUT &&
                                                    g.sites[i].kind != DB_SITE_SHORTCUT;
    for (int i = 0; i < g.n_ops; i++) bns += g.ops[i].kind == DB_OP_BN;
    CHECK(after_bn == bn_sites && bns > after_bn, "%d DropBlock ops after BNs of %d such sites", after_bn, bn_sites);
    db_graph_free(&g);

    mc.reg = (db_reg_plan){.kind = DB_REG_DROPPATH, .keep_prob = 0.7f, .groups = 0x1E, .on_skip = 1};
    CHECK_OK(build(&g, &mc, 2, NULL, NULL));
    if (g.n_ops == 0) return;
    regs = db_graph_n_reg(&g);
    int bad = 0, pools = 0, head = 0;
    for (int r = 0; r < regs; r++) {
        float keep;
        const db_site *st = db_graph_reg_site(&g, r, &keep);
        if (st->kind == DB_SITE_HEAD && keep == 0.5f && ++head) continue; /* the classifier's dropout */
        bad += keep != 0.7f || st->kind == DB_SITE_SHORTCUT || st->kind == DB_SITE_CONV;
        pools += st->kind == DB_SITE_PATH;
    }
    /* 8 cells x 10 operations, less the identities (none stays none: 2 per normal cell, and in a
     * reduction cell both are identities too) */
    CHECK(regs == 8 * 8 + 1 && head == 1 && bad == 0 && pools > 0,
          "DropPath: %d ops (not 64 and the classifier's dropout), %d misplaced or not at 0.7, %d on pools", regs, bad,
          pools);
    db_graph_free(&g);

    mc.reg = (db_reg_plan){.kind = DB_REG_NONE};
    CHECK_OK(build(&g, &mc, 2, NULL, NULL));
    if (g.n_ops == 0) return;
    db_graph_init_params(&g, 1);
    db_graph_set_seed(&g, 3);
    tc_fill(db_graph_input(&g), 2 * 16 * 16, 4, -1, 1);
    db_graph_forward(&g);
    db_site_stat st[1];
    CHECK(db_graph_n_reg(&g) == 1 && db_graph_take_drop_fraction(&g, st) == -1.0 && st[0].expected_fraction == 0.5,
          "the classifier's dropout: %d ops, expected %g, outside the run's drop fraction", db_graph_n_reg(&g),
          st[0].expected_fraction);
    db_graph_free(&g);
}

/* A whole tiny AmoebaNet-B (basic stem, 3 normal cells, F 4, 12x12, maps 10/5/3), DropBlock and
 * the classifier's dropout drawn with a fixed key: every parameter's gradient against finite
 * differences; a few misses where a difference step crosses a ReLU or max-pool kink (as the
 * ImageNet ResNet's), while a wrong backward fails every parameter before it */
static void check_tiny_gradients(const char *model) {
    db_model_config mc;
    narrow_of(&mc, model, 3, 4, 2, 12, 3);
    mc.reg = (db_reg_plan){.kind = DB_REG_DROPBLOCK, .keep_prob = 0.8f, .block_size = 2, .groups = 0x1E,
                           .on_skip = 1, .last_cells = 0.5f};
    db_graph g;
    CHECK_OK(build(&g, &mc, 3, NULL, NULL));
    if (g.n_ops == 0) return;
    g.seed = 3, g.step = 17, g.last_step = 100;
    int labels[3] = {2, 0, 1}, checked = 0;
    const int bad = tc_graph_xent_grads(&g, labels, model, 9, 4, &checked);
    fprintf(stderr, "    tiny %s: %d of %d sampled gradients miss\n", model, bad, checked);
    CHECK(bad >= 0 && bad <= checked / 20 && checked >= 2 * g.n_params, "tiny %s: %d of %d sampled gradients miss", model,
          bad, checked);
    db_graph_free(&g);
}

static void test_gradients(void) { check_tiny_gradients("amoebanet-b"); }

/* Convolutions in cells [first, last] by shape: kh x kw with strides sh, sw */
static int count_convs(const db_graph *g, const db_amoeba_cell *c, int kh, int kw, int sh, int sw) {
    int k = 0;
    for (int i = c->first_op; i < c->first_op + c->n_ops; i++) {
        const db_conv_dims *d = &g->ops[i].u.conv;
        k += g->ops[i].kind == DB_OP_CONV && d->kh == kh && d->kw == kw && d->sh == sh && d->sw == sw;
    }
    return k;
}

/* AmoebaNet-B's siblings, the official model_specs.py's other cells. A at (6, 190) and (6, 448),
 * 331x331, 1001 classes, against the AmoebaNet paper's (Real et al., AAAI 2019, Table 2) 86.7M and
 * 469M: 86,739,940 and 468,158,353 (469,213,813 with the auxiliary head). The 1x7_7x1 operation
 * where A's reduction reads h0 (strides [1, 2] then [2, 1]) and D's normal cell twice (stride 1);
 * 7x7 separable convolutions in A's reduction; whole tiny A, C and D networks' gradients. */
static void test_siblings(void) {
    db_model_config mc;
    db_graph g;
    static const struct { int f, aux; size_t want; } a[] = {{190, 0, 86739940u}, {448, 0, 468158353u}, {448, 1, 469213813u}};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(db_model_defaults(&mc, "amoebanet-a"));
        mc.classes = 1001, mc.width = a[i].f, mc.aux_head = a[i].aux;
        CHECK_OK(build(&g, &mc, 1, NULL, NULL));
        if (g.n_ops == 0) return;
        CHECK(db_graph_param_count(&g) == a[i].want, "AmoebaNet-A (6, %d)%s: %zu parameters, not %zu", a[i].f,
              a[i].aux ? " with the auxiliary head" : "", db_graph_param_count(&g), a[i].want);
        db_graph_free(&g);
    }
    db_amoeba_cell cells[DB_AMOEBA_MAX_CELLS];
    int n = 0;
    narrow_of(&mc, "amoebanet-a", 6, 16, 1, 28, 10);
    CHECK_OK(build(&g, &mc, 2, cells, &n));
    if (g.n_ops == 0) return;
    CHECK(n == 8 && cells[2].kind == 'r', "A: %d cells, the third '%c'", n, cells[2].kind);
    int dw7 = 0;
    for (int i = cells[2].first_op; i < cells[2].first_op + cells[2].n_ops; i++)
        dw7 += g.ops[i].kind == DB_OP_DWCONV && g.ops[i].u.dw.kh == 7 && g.ops[i].u.dw.kw == 7;
    CHECK(count_convs(&g, &cells[2], 1, 7, 1, 2) == 1 && count_convs(&g, &cells[2], 7, 1, 2, 1) == 1 && dw7 == 4,
          "A's reduction: %d 1x7 [1, 2], %d 7x1 [2, 1], %d 7x7 depthwise", count_convs(&g, &cells[2], 1, 7, 1, 2),
          count_convs(&g, &cells[2], 7, 1, 2, 1), dw7);
    db_graph_free(&g);
    narrow_of(&mc, "amoebanet-d", 6, 16, 1, 28, 10);
    CHECK_OK(build(&g, &mc, 2, cells, &n));
    if (g.n_ops == 0) return;
    CHECK(count_convs(&g, &cells[1], 1, 7, 1, 1) == 2 && count_convs(&g, &cells[1], 7, 1, 1, 1) == 2 &&
              count_convs(&g, &cells[2], 1, 7, 1, 1) == 1 && cells[7].c == 256,
          "D: normal %d 1x7, %d 7x1; reduction %d 1x7 (on h2: unstrided); %d channels out",
          count_convs(&g, &cells[1], 1, 7, 1, 1), count_convs(&g, &cells[1], 7, 1, 1, 1),
          count_convs(&g, &cells[2], 1, 7, 1, 1), cells[7].c);
    db_graph_free(&g);
    check_tiny_gradients("amoebanet-a");
    check_tiny_gradients("amoebanet-c");
    check_tiny_gradients("amoebanet-d");
}

/* Training with the auxiliary head (train/step.c): the loss is the main one plus aux_weight times
 * the head's, both label-smoothed, and the gradients of every parameter (the head's, and the
 * cells' below it, which get both terms) match finite differences of that sum */
static double stepper_loss(void *ctx) {
    double l = 0;
    int c1, c5, finite;
    CHECK_OK(db_stepper_forward_loss(ctx, 0.1f, &l, &c1, &c5, &finite));
    return l;
}

static void test_aux_training(void) {
    db_model_config mc;
    narrow(&mc, 3, 4, 2, 18, 3); /* the head's pooled map 2x2 */
    mc.aux_head = 1, mc.dense_keep = 1.0f;
    db_graph g;
    CHECK_OK(build(&g, &mc, 3, NULL, NULL));
    if (g.n_ops == 0) return;
    int labels[3] = {1, 2, 0}, checked = 0;
    db_config cfg;
    db_config_defaults(&cfg);
    cfg.aux_weight = 0.4f;
    db_stepper st;
    CHECK_OK(db_stepper_init(&st, &g, NULL, labels, &cfg));
    const int bad = tc_graph_grads(&g, "AmoebaNet-B with its auxiliary head", 5, 4, stepper_loss, stepper_loss, &st, &checked);
    fprintf(stderr, "    with the auxiliary head: %d of %d sampled gradients miss\n", bad, checked);
    CHECK(bad >= 0 && bad <= checked / 20 && checked >= 2 * g.n_params,
          "with the auxiliary head: %d of %d sampled gradients miss", bad, checked);
    const double total = stepper_loss(&st); /* at the parameters the check drew */
    const db_tensor *o = db_graph_output(&g), *a = db_graph_output_at(&g, 1);
    const double main_loss = db_softmax_xent(NULL, o->data, labels, o->c, 3, 0.1f),
                 aux_loss = db_softmax_xent(NULL, a->data, labels, a->c, 3, 0.1f);
    CHECK(fabs(total - (main_loss + 0.4 * aux_loss)) < 1e-6 * total && aux_loss > 0.1,
          "loss %.9g, not %.9g + 0.4 x %.9g", total, main_loss, aux_loss);
    db_stepper_free(&st);
    db_graph_free(&g);
}

/* What the builder refuses, with the reason */
static void test_refusals(void) {
    db_model_config mc;
    CHECK_OK(db_model_defaults(&mc, "amoebanet-b"));
    db_graph g;
    mc.width = 6; /* the ImageNet stem's cells would have 1 filter */
    CHECK(build(&g, &mc, 1, NULL, NULL) == DB_ERR_ARG && strstr(db_last_error(), "at least 8"), "F 6: %s",
          db_last_error());
    mc.width = 16, mc.in_w = 300;
    CHECK(build(&g, &mc, 1, NULL, NULL) == DB_ERR_ARG && strstr(db_last_error(), "square"), "300x331: %s",
          db_last_error());
    mc.in_w = mc.in_h = 2; /* the stem's VALID 3x3 convolution leaves nothing */
    CHECK(build(&g, &mc, 1, NULL, NULL) != DB_OK && strstr(db_last_error(), "too small"), "2x2: %s", db_last_error());
}

const db_test db_tests_amoebanet[] = {
    {"amoebanet_official_counts", test_official_counts},
    {"amoebanet_small_maps", test_small_maps},
    {"amoebanet_cell_ops", test_cell_ops},
    {"amoebanet_regularizer_placement", test_regularizer_placement},
    {"amoebanet_gradients", test_gradients},
    {"amoebanet_aux_training", test_aux_training},
    {"amoebanet_refusals", test_refusals},
    {"amoebanet_siblings", test_siblings},
    {NULL, NULL},
};
