/* Network-level tests: whole-model gradients, architecture facts, BN modes, regularizer placement,
 * tied parameters, the AmoebaNet building blocks (the optimizers, schedules and random numbers:
 * test_optim.c). */
#include <stdlib.h>
#include <string.h>

#include "dropouts/dropblock.h"
#include "nets/model.h"
#include "nets/ops.h"
#include "nets/optim.h"
#include "nets/sgd.h"
#include "tests/check.h"
#include "tests/gradcheck.h"


/* Every parameter tensor's gradient against finite differences, through the whole network.
 * max_bad_pct: the share of sampled elements allowed to miss. The CIFAR ResNets must match
 * everywhere. Through the ImageNet stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool) and many small
 * BN maps, central differences of a float32 or even float64 loss cross ReLU and max-pool kinks:
 * PyTorch's own autograd disagrees with its finite differences there by up to 30% on the
 * same architecture (checked by hand), so those nets get a small share of misses, while a
 * real backward bug would fail every parameter upstream of it. */
static void check_model_grads_reg(const char *arch, int c, int hw, int width, char shortcut, int n,
                                  int samples, double max_bad_pct, const db_reg_plan *reg) {
    db_model_config mc;
    CHECK_OK(db_model_defaults(&mc, arch));
    if (reg) mc.reg = *reg;
    mc.in_c = c; mc.in_h = mc.in_w = hw; mc.width = width; mc.classes = 3;
    if (shortcut) mc.shortcut = shortcut;
    db_graph g;
    CHECK_OK(db_model_build(&g, &mc, n));
    if (g.n_ops == 0) return;
    db_graph_init_params(&g, 5);
    g.seed = 3; g.step = 17; g.last_step = 100; /* a fixed mask for the finite differences */
    /* BN gammas and betas away from their 1/0 starts so no term vanishes by symmetry */
    for (int p = 0; p < g.n_params; p++)
        if (g.params[p].no_decay) tc_fill(g.params[p].data, g.params[p].size, 100 + p, 0.5f, 1.5f);
    tc_fill(db_graph_input(&g), (size_t)c * n * hw * hw, 3, -1, 1);
    int labels[8] = {0, 1, 2, 1, 0, 2, 1, 0};
    tc_xent_net t = {&g, labels};
    tc_xent_loss(&t);
    const db_tensor *o = db_graph_output(&g);
    db_softmax_xent(o->grad, o->data, labels, o->c, n, 0.1f);
    db_graph_backward(&g);
    float *grads = malloc(sizeof(float) * g.grad_arena.size);
    memcpy(grads, g.grad_arena.base, sizeof(float) * g.grad_arena.size);
    int bad = 0, checked = 0;
    for (int p = 0; p < g.n_params; p++) {
        char what[96];
        snprintf(what, sizeof what, "%s %s", arch, g.params[p].name);
        bad += tc_gradcheck_n(what, tc_xent_loss, &t, g.params[p].data,
                              grads + (g.params[p].grad - g.grad_arena.base), g.params[p].size, samples,
                              2e-3f, 2e-3, 5e-2, max_bad_pct == 0, &checked);
    }
    fprintf(stderr, "    %s: %d of %d sampled gradients miss\n", arch, bad, checked);
    CHECK(bad <= checked * max_bad_pct / 100, "%s: %d of %d sampled gradients mismatch", arch, bad, checked);
    CHECK(checked >= g.n_params * (samples < 2 ? samples : 2), "%s: only %d gradients checked", arch, checked);
    free(grads);
    db_graph_free(&g);
}

static void check_model_grads(const char *arch, int c, int hw, int width, char shortcut, int n,
                              int samples, double max_bad_pct) {
    check_model_grads_reg(arch, c, hw, width, shortcut, n, samples, max_bad_pct, NULL);
}

/* Regularizers at every site of every group: the gradients through their masks. */
static void test_resnet_regularized_gradients(void) {
    db_reg_kind kinds[4] = {DB_REG_DROPOUT, DB_REG_SPATIAL, DB_REG_DROPBLOCK, DB_REG_DROPPATH};
    for (int i = 0; i < 4; i++) {
        db_reg_plan r = {.kind = kinds[i], .keep_prob = 0.7f, .block_size = 3, .groups = 0xE, .on_skip = 1,
                .scheduled = 1,
                         .group_scaling = 1, .per_sample = i == 2, .semantics = DB_SEM_PAPER};
        check_model_grads_reg("resnet8", 2, 8, 4, 'A', 4, 6, 0, &r);
    }
}

/* DropBlock fused into its neighbour: into the batch norm before it at the 18 sites after a BN
 * of ResNet-20, into the residual add after it at the 9 shortcuts, with the same outputs, parameter gradients and records as the separate op,
 * bit for bit under batch normalisation, within float rounding per sample (its sums run per
 * sample). */
static void test_dropblock_fused_into_bn(void) {
    for (int per_sample = 0; per_sample < 2; per_sample++) {
        db_model_config mc;
        db_model_defaults(&mc, "resnet20");
        mc.in_c = 1; mc.in_h = mc.in_w = 12;
        mc.reg = (db_reg_plan){.kind = DB_REG_DROPBLOCK, .keep_prob = 0.8f, .block_size = 3, .groups = 0xE,
                .on_skip = 1, .per_sample = per_sample, .semantics = DB_SEM_PAPER};
        db_graph a, b;
        CHECK_OK(db_model_build(&a, &mc, 8));
        mc.unfused = 1;
        CHECK_OK(db_model_build(&b, &mc, 8));
        int fused = 0;
        for (int i = 0; i < a.n_ops; i++) fused += a.ops[i].kind == DB_OP_REG && a.ops[i].fused;
        for (int i = 0; i < b.n_ops; i++) fused += 100 * (b.ops[i].fused != 0);
        CHECK(fused == 27, "%d DropBlock ops fused (want 27 in the fused graph, none in the other)", fused);
        int labels[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        db_graph *gs[2] = {&a, &b};
        for (int k = 0; k < 2; k++) {
            db_graph_init_params(gs[k], 4);
            gs[k]->seed = 5; gs[k]->step = 3;
            tc_fill(db_graph_input(gs[k]), 8 * 144, 8, -1, 1);
            db_graph_forward(gs[k]);
            const db_tensor *o = db_graph_output(gs[k]);
            db_softmax_xent(o->grad, o->data, labels, o->c, 8, 0.0f);
            db_graph_backward(gs[k]);
        }
        double worst = 0;
        for (size_t i = 0; i < a.grad_arena.size; i++) {
            double d = fabs(a.grad_arena.base[i] - b.grad_arena.base[i]) / (fabs(b.grad_arena.base[i]) + 1e-3);
            if (d > worst) worst = d;
        }
        int same_out = !memcmp(db_graph_output(&a)->data, db_graph_output(&b)->data, 8 * 10 * sizeof(float));
        db_site_stat sa[27], sb[27];
        db_graph_take_drop_fraction(&a, sa);
        db_graph_take_drop_fraction(&b, sb);
        CHECK(same_out && !memcmp(sa, sb, sizeof sa) && (per_sample ? worst < 1e-4 : worst == 0.0),
              "per_sample %d: outputs %s, records %s, worst gradient difference %.3g", per_sample,
              same_out ? "equal" : "differ", memcmp(sa, sb, sizeof sa) ? "differ" : "equal", worst);
        db_graph_free(&a);
        db_graph_free(&b);
    }
}

/* DropPath: only at the branches' outputs, the rate growing linearly from 0 at the first block
 * to p at the last; whole samples dropped; identity at inference. */
static void test_droppath_in_network(void) {
    db_model_config mc;
    db_model_defaults(&mc, "resnet20");
    mc.in_c = 1; mc.in_h = mc.in_w = 8;
    mc.reg = (db_reg_plan){.kind = DB_REG_DROPPATH, .keep_prob = 0.6f, .groups = 0xE, .on_skip = 1,
            .semantics = DB_SEM_PAPER};
    db_graph g;
    CHECK_OK(db_model_build(&g, &mc, 64));
    int nreg = db_graph_n_reg(&g), bad = 0;
    for (int r = 0; r < nreg; r++) {
        float keep;
        const db_site *st = db_graph_reg_site(&g, r, &keep);
        bad += st->kind != DB_SITE_CONV_OUT || fabsf(keep - (1.0f - 0.4f * (float)r / (float)(nreg - 1))) > 1e-6f;
    }
    CHECK(nreg == 9 && bad == 0, "%d DropPath ops (want 9, one per block), %d misplaced or at the wrong rate", nreg, bad);
    db_graph_init_params(&g, 3);
    tc_fill(db_graph_input(&g), 64 * 64, 4, -1, 1);
    g.training = 1;
    for (int step = 0; step < 20; step++) {
        g.step = step;
        db_graph_forward(&g);
    }
    db_site_stat st[9];
    db_graph_take_drop_fraction(&g, st);
    bad = 0;
    for (int r = 0; r < 9; r++) { /* 20 steps x 64 samples per block: sd at most 0.014 */
        double rate = 0.4 * r / 8;
        bad += fabs(st[r].drop_fraction - rate) > 0.06 || fabs(st[r].expected_fraction - rate) > 1e-6;
        if (r == 0) bad += st[r].drop_fraction != 0.0;
    }
    CHECK(bad == 0, "%d blocks' realised DropPath rates are off (first %.4f, last %.4f)", bad, st[0].drop_fraction,
          st[8].drop_fraction);
    db_graph_free(&g);
}

/* Sites chosen by group and skip; inference is the identity (the same outputs as no regularizer). */
static void test_regularizer_placement_and_eval(void) {
    db_model_config mc;
    db_model_defaults(&mc, "resnet20");
    mc.in_c = 1; mc.in_h = mc.in_w = 12;
    int counts[2];
    for (int skip = 0; skip < 2; skip++) {
        mc.reg = (db_reg_plan){.kind = DB_REG_DROPBLOCK, .keep_prob = 0.9f, .block_size = 3, .groups = 1u << 3,
                .on_skip = skip, .scheduled = 1, .semantics = DB_SEM_PAPER};
        db_graph g;
        CHECK_OK(db_model_build(&g, &mc, 4));
        counts[skip] = 0;
        for (int i = 0; i < g.n_ops; i++) counts[skip] += g.ops[i].kind == DB_OP_REG;
        db_graph_free(&g);
    }
    CHECK(counts[0] == 6 && counts[1] == 9, "group 3: %d sites without skip (want 6), %d with (want 9)", counts[0], counts[1]);
    db_graph a, b;
    mc.reg = (db_reg_plan){.kind = DB_REG_DROPBLOCK, .keep_prob = 0.5f, .block_size = 3, .groups = 0xE, .on_skip = 1,
            .semantics = DB_SEM_PAPER};
    CHECK_OK(db_model_build(&a, &mc, 4));
    mc.reg.kind = DB_REG_NONE;
    CHECK_OK(db_model_build(&b, &mc, 4));
    db_graph_init_params(&a, 9);
    db_graph_init_params(&b, 9);
    tc_fill(db_graph_input(&a), 4 * 144, 2, -1, 1);
    memcpy(db_graph_input(&b), db_graph_input(&a), sizeof(float) * 4 * 144);
    a.training = b.training = 0;
    db_graph_forward(&a);
    db_graph_forward(&b);
    int same = 1;
    for (int i = 0; i < 40; i++) same &= db_graph_output(&a)->data[i] == db_graph_output(&b)->data[i];
    CHECK(same, "a regularized network in inference mode differs from the plain one");
    CHECK(db_graph_take_drop_fraction(&a, NULL) == 0.0 || db_graph_take_drop_fraction(&a, NULL) < 0,
          "inference counted drops");
    a.training = 1;
    db_graph_forward(&a);
    double f = db_graph_take_drop_fraction(&a, NULL);
    CHECK(f > 0.2 && f < 0.6, "training at keep_prob 0.5: realised %.3f", f);
    /* per site: realised against the exact expectation of the same steps, over 30 steps */
    int nreg = db_graph_n_reg(&a);
    db_site_stat st[32];
    CHECK(nreg == 27, "%d regularizer ops, want 27", nreg);
    for (int step = 0; step < 30; step++) {
        a.step = step;
        db_graph_forward(&a);
    }
    db_graph_take_drop_fraction(&a, st);
    int off = 0;
    for (int r = 0; r < nreg && r < 32; r++) {
        float keep;
        const db_site *site = db_graph_reg_site(&a, r, &keep);
        db_dropblock_cfg bc = {3, 0, DB_SEM_PAPER};
        double want = db_dropblock_expected_fraction(&bc, keep, site->h, site->w);
        /* 4 samples x c channels x 30 steps: a few thousand planes; 6 sd is about 0.04 */
        off += fabs(st[r].expected_fraction - want) > 1e-9 || fabs(st[r].drop_fraction - want) > 0.05;
    }
    CHECK(off == 0, "%d sites' realised or expected fractions are off", off);
    /* the whole network (groups 1-3: 12x12, 6x6 and 3x3 planes): its realised fraction is the
     * take's, and its expectation, weighted alike, is what that realises (a mean of the sites'
     * expectations would weigh a 3x3 site like a 12x12 one) */
    for (int step = 30; step < 60; step++) {
        a.step = step;
        db_graph_forward(&a);
    }
    double whole = db_graph_take_drop_fraction(&a, st), plain = 0;
    db_site_stat w = db_graph_whole_fractions(&a, st);
    for (int r = 0; r < nreg; r++) plain += st[r].expected_fraction / nreg;
    CHECK(fabs(w.drop_fraction - whole) < 1e-12 && fabs(w.expected_fraction - whole) < 0.005 &&
          fabs(plain - w.expected_fraction) > 0.015,
          "whole network: realised %.5f (from the sites %.5f), expected %.5f (the sites' plain mean %.5f)", whole,
          w.drop_fraction, w.expected_fraction, plain);
    CHECK(db_graph_take_drop_fraction(&a, st) < 0 || st[0].drop_fraction == 0.0, "the take did not reset");
    db_graph_free(&a);
    db_graph_free(&b);
}

static void test_resnet_cifar_gradients(void) {
    check_model_grads("resnet8", 2, 8, 4, 'A', 4, 6, 0);
    check_model_grads("resnet8", 1, 7, 4, 'B', 4, 6, 0); /* odd map: 7 -> 4 -> 2 */
}

static void test_resnet_imagenet_gradients(void) {
    check_model_grads("resnet18", 3, 64, 4, 0, 4, 4, 5.0);
    check_model_grads("resnet50", 3, 48, 2, 0, 4, 3, 5.0);
}

static size_t params_of(const char *arch, int c, int hw, int classes, int *sites) {
    db_model_config mc;
    db_model_defaults(&mc, arch);
    mc.in_c = c; mc.in_h = mc.in_w = hw; mc.classes = classes;
    db_graph g;
    if (db_model_build(&g, &mc, 1) != DB_OK) return 0;
    size_t n = db_graph_param_count(&g);
    if (sites) *sites = g.n_sites;
    db_graph_free(&g);
    return n;
}

static void test_architecture_sizes(void) {
    int sites = 0;
    /* He et al. 2016, table 6: 0.27M and 0.85M; torchvision's ResNet-18/50 counts */
    CHECK(params_of("resnet20", 3, 32, 10, &sites) == 269722, "resnet20 %zu", params_of("resnet20", 3, 32, 10, NULL));
    CHECK(sites == 27, "resnet20 has 27 sites (3 per block), got %d", sites);
    CHECK(params_of("resnet56", 3, 32, 10, NULL) == 853018, "resnet56 %zu", params_of("resnet56", 3, 32, 10, NULL));
    CHECK(params_of("resnet18", 3, 224, 1000, NULL) == 11689512, "resnet18 %zu", params_of("resnet18", 3, 224, 1000, NULL));
    CHECK(params_of("resnet50", 3, 224, 1000, &sites) == 25557032, "resnet50 %zu", params_of("resnet50", 3, 224, 1000, NULL));
    CHECK(sites == 64, "resnet50 has 4 sites in each of 16 blocks, got %d", sites);
    db_model_config mc;
    CHECK(db_model_defaults(&mc, "resnet21") == DB_ERR_ARG, "resnet21 is not 6n+2");
    CHECK(strstr(db_last_error(), "resnet21") != NULL, "message names the model: %s", db_last_error());
    db_model_defaults(&mc, "resnet20");
    mc.in_c = 1; mc.in_h = mc.in_w = 2; /* too small for two stride-2 groups? 2 -> 1 -> 1: still fine */
    db_graph g;
    CHECK_OK(db_model_build(&g, &mc, 1));
    db_graph_free(&g);
    db_model_defaults(&mc, "resnet50");
    mc.in_h = mc.in_w = 8; /* the 7x7/2 stem, pool and three stride-2 groups: 8 -> 4 -> 2 -> 1 */
    CHECK_OK(db_model_build(&g, &mc, 1));
    db_graph_free(&g);
}

/* The column-buffer cap is fixed per graph when it is finalized: raising it afterwards must not
 * let a convolution take chunks larger than its workspace (this once overran the heap). */
static void test_col_cap_fixed_at_finalize(void) {
    db_model_config mc;
    db_model_defaults(&mc, "resnet8");
    mc.in_c = 1; mc.in_h = mc.in_w = 16; mc.width = 8;
    db_conv_set_col_cap(64);
    db_graph g;
    CHECK_OK(db_model_build(&g, &mc, 16));
    db_conv_set_col_cap((size_t)1 << 18);
    int chunked = 0;
    for (int i = 0; i < g.n_ops; i++)
        if (g.ops[i].kind == DB_OP_CONV) chunked += g.ops[i].u.conv.chunk == 1;
    CHECK(chunked > 0, "the small cap did not give one-sample chunks");
    db_graph_init_params(&g, 1);
    tc_fill(db_graph_input(&g), 16 * 256, 4, -1, 1);
    db_graph_forward(&g);
    const db_tensor *o = db_graph_output(&g);
    int labels[16] = {0};
    db_softmax_xent(o->grad, o->data, labels, o->c, 16, 0.0f);
    db_graph_backward(&g);
    CHECK(db_graph_finite(&g), "non-finite values after a step");
    db_graph_free(&g);
}

/* Resident memory of this process in KiB (/proc/self/status), -1 when unreadable */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

/* A graph's arenas cost memory only where they are written: building ResNet-50 at 224 (batch 8,
 * about 2 GiB of activations) takes almost none until a forward pass writes them; a GPU run
 * never writes the host's activations. Writing one arena in full then shows in the count (the
 * measurement works). */
static void test_untouched_arenas_cost_nothing(void) {
    db_model_config mc;
    db_model_defaults(&mc, "resnet50");
    db_graph g;
    long before = rss_kib();
    CHECK_OK(db_model_build(&g, &mc, 8));
    long built = rss_kib();
    double act_mib = g.act_arena.size * 4.0 / 1048576.0;
    CHECK(act_mib > 1024, "resnet50 at batch 8 has %.0f MiB of activations", act_mib);
    CHECK(before > 0 && built - before < 64 * 1024, "building took %ld MiB resident for %.0f MiB of activations",
          (built - before) / 1024, act_mib);
    memset(g.act_arena.base, 1, g.act_arena.size * sizeof(float) / 4);
    long written = rss_kib();
    CHECK(written - built > (long)(act_mib * 1024 / 4 * 0.9), "writing a quarter of the activations (%.0f MiB) showed %ld MiB",
          act_mib / 4, (written - built) / 1024);
    db_graph_free(&g);
}

static void test_zero_init_last_bn(void) {
    db_model_config mc;
    db_model_defaults(&mc, "resnet50");
    mc.in_h = mc.in_w = 32; mc.width = 4; mc.zero_init_last_bn = 1;
    db_graph g;
    CHECK_OK(db_model_build(&g, &mc, 1));
    db_graph_init_params(&g, 1);
    int zeroed = 0, ones = 0;
    for (int p = 0; p < g.n_params; p++) {
        if (!strstr(g.params[p].name, "gamma")) continue;
        int is_last = strstr(g.params[p].name, "conv3.bn") != NULL;
        float v = g.params[p].data[0];
        if (is_last) zeroed += v == 0.0f; else ones += v == 1.0f;
        CHECK(is_last ? v == 0.0f : v == 1.0f, "%s starts at %g", g.params[p].name, v);
    }
    CHECK(zeroed == 16, "16 blocks' last BN zeroed, got %d", zeroed);
    db_graph_free(&g);
}

/* In inference mode a sample's output does not depend on the rest of the batch; in training
 * mode it does (batch statistics). */
static void test_bn_modes_in_network(void) {
    db_graph g;
    tc_tiny_resnet8(&g, 8, 4, 4);
    db_graph_init_params(&g, 2);
    float *x = db_graph_input(&g);
    tc_fill(x, 4 * 64, 11, -1, 1);
    /* a few training passes so running statistics are not the initial 0/1 */
    for (int i = 0; i < 3; i++) db_graph_forward(&g);
    float out_train[10], out_eval[10], out_eval2[10];
    const db_tensor *o = db_graph_output(&g);
    for (int mode = 0; mode < 2; mode++) {
        g.training = mode == 0;
        db_graph_forward(&g);
        for (int k = 0; k < 10; k++) (mode == 0 ? out_train : out_eval)[k] = o->data[k * 4]; /* sample 0 */
    }
    tc_fill(x + 64, 3 * 64, 12, -3, 3); /* change samples 1..3 only (CNHW, c = 1) */
    db_graph_forward(&g);
    for (int k = 0; k < 10; k++) out_eval2[k] = o->data[k * 4];
    int same = 1, differ = 0;
    for (int k = 0; k < 10; k++) {
        same &= out_eval[k] == out_eval2[k];
        differ |= out_eval[k] != out_train[k];
    }
    CHECK(same, "inference output of sample 0 changed with the other samples");
    CHECK(differ, "training and inference outputs are identical");
    g.training = 1;
    db_graph_forward(&g);
    differ = 0;
    for (int k = 0; k < 10; k++) differ |= o->data[k * 4] != out_train[k];
    CHECK(differ, "training output of sample 0 ignores the batch");
    db_graph_free(&g);
}

/* Shared weights: two convolutions with one weight (db_g_conv_tied) and two biases with one
 * value, both outputs of the graph: the forward uses the one value, the master's gradient is the
 * sum of both uses' and only the master is counted, initialised and updated. */
static void test_tied_params(void) {
    db_graph g;
    db_graph_begin(&g, 2);
    int x = db_g_input(&g, 2, 5, 5);
    int a = db_g_bias(&g, db_g_conv(&g, x, 3, 3, 1, 1, "a"), 0.25f, "a");
    int b = db_g_bias_tied(&g, db_g_conv_tied(&g, x, a - 1, 1, 1, "b"), a, "b");
    db_g_output(&g, a);
    db_g_output(&g, b);
    CHECK_OK(db_graph_finalize(&g));
    if (g.n_ops == 0) return;
    CHECK(g.n_params == 4 && g.params[2].tied == 1 && g.params[3].tied == 2 && db_graph_param_count(&g) == 54 + 3,
          "%d parameters, %zu values", g.n_params, db_graph_param_count(&g));
    db_graph_init_params(&g, 3);
    CHECK(g.params[2].data == g.params[0].data && g.params[1].data[2] == 0.25f, "the tied values are not the master's");
    tc_fill(db_graph_input(&g), 100, 4, -1, 1);
    db_graph_forward(&g);
    const db_tensor *ya = db_graph_output_at(&g, 0), *yb = db_graph_output_at(&g, 1);
    CHECK(!memcmp(ya->data, yb->data, sizeof(float) * 150), "one weight, one input: the two outputs differ");
    tc_fill(ya->grad, 150, 5, -1, 1);
    tc_fill(yb->grad, 150, 6, -1, 1);
    db_graph_backward(&g);
    /* each use alone: the backward again with one output's gradient zeroed, then the other's */
    float both[54 + 3], alone[2][54 + 3], gb[150];
    memcpy(both, g.params[0].grad, 54 * sizeof(float));
    memcpy(both + 54, g.params[1].grad, 3 * sizeof(float));
    memcpy(gb, yb->grad, sizeof gb);
    for (int k = 0; k < 2; k++) {
        if (k == 0) memset(yb->grad, 0, sizeof gb);
        else memcpy(yb->grad, gb, sizeof gb), memset(ya->grad, 0, sizeof gb);
        db_graph_backward(&g);
        memcpy(alone[k], g.params[0].grad, 54 * sizeof(float));
        memcpy(alone[k] + 54, g.params[1].grad, 3 * sizeof(float));
    }
    double worst = 0, size = 0;
    for (int i = 0; i < 57; i++) worst = fmax(worst, fabs(both[i] - alone[0][i] - alone[1][i])), size = fmax(size, fabs(alone[1][i]));
    CHECK(worst < 1e-5 && size > 1e-2, "the shared values' gradients are not the sums of their two uses' (off by %g)", worst);
    db_sgd s;
    db_sgd_config sc = {.momentum = 0.9f};
    CHECK_OK(db_sgd_init(&s, &g, &sc));
    float before = g.params[0].data[0], gr = g.params[0].grad[0];
    db_sgd_step(&s, &g, 0.5f);
    CHECK(fabsf(g.params[0].data[0] - (before - 0.5f * gr)) < 1e-6f, "the shared weight was updated twice or not at all");
    db_sgd_free(&s);
    db_graph_free(&g);
}

/* A separable-convolution stack as AmoebaNet's cells build it (ReLU, depthwise, pointwise, BN,
 * twice; the first strided, TensorFlow's SAME padding on odd and even maps), its two states
 * concatenated as a cell's output: every parameter's
 * gradient through the whole graph against finite differences (the depthwise op's own, exactly: test_spatial.c) */
static void test_separable_stack_gradients(void) {
    db_graph g;
    db_graph_begin(&g, 3);
    int x = db_g_input(&g, 3, 9, 8);
    x = db_g_dwconv(&g, db_g_relu(&g, x), 3, 3, 2, "sep1.dw");
    const int h1 = x = db_g_bn(&g, db_g_conv(&g, x, 4, 1, 1, 0, "sep1.pw"), "sep1.bn", 0, 0.1f, 1e-5f);
    x = db_g_dwconv(&g, db_g_relu(&g, x), 5, 5, 1, "sep2.dw");
    x = db_g_bn(&g, db_g_conv(&g, x, 2, 1, 1, 0, "sep2.pw"), "sep2.bn", 0, 0.1f, 1e-5f);
    x = db_g_concat(&g, x, h1); /* as a cell's output: states side by side, h1 also read by the ReLU above */
    db_g_linear(&g, db_g_gap(&g, x), 3, "fc");
    CHECK_OK(db_graph_finalize(&g));
    if (g.n_ops == 0) return;
    CHECK(g.tensors[3].h == 5 && g.tensors[3].w == 4, "the strided depthwise map is %dx%d, SAME gives 5x4",
          g.tensors[3].w, g.tensors[3].h);
    CHECK(g.tensors[x].c == 6, "the concatenation has %d channels, not 2 + 4", g.tensors[x].c);
    int labels[3] = {2, 0, 1}, checked;
    const int bad = tc_graph_xent_grads(&g, labels, "separable stack", 7, 12, &checked);
    /* a few misses where a step of the differences crosses the middle ReLU's kink (the pointwise
     * weights before it: their differences change with the step, the analytic values do not) */
    CHECK(bad <= checked / 20 && checked >= 60, "separable stack: %d of %d sampled gradients miss", bad, checked);
    db_graph_free(&g);
}

/* AmoebaNet's factorized reduction: two 1x1 convolutions on the map subsampled from (0, 0) and
 * from (1, 1) (0 past the edge), concatenated, one BN; known subsamples of a 3x3 plane, and the
 * gradients of the whole reduction on an odd map against finite differences */
static void test_factorized_reduction(void) {
    const float plane[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float even[4], odd[4], back[9];
    db_subsample_forward(even, plane, 1, 3, 3, 2, 0);
    db_subsample_forward(odd, plane, 1, 3, 3, 2, 1);
    CHECK(even[0] == 1 && even[1] == 3 && even[2] == 7 && even[3] == 9 && odd[0] == 5 && odd[1] == 0 && odd[3] == 0,
          "subsamples %g %g %g %g / %g %g %g %g", even[0], even[1], even[2], even[3], odd[0], odd[1], odd[2], odd[3]);
    const float g4[4] = {1, 2, 3, 4};
    db_subsample_backward(back, g4, 1, 3, 3, 2, 1, 0);
    CHECK(back[4] == 1 && back[0] == 0 && back[8] == 0, "the shifted subsample's gradient: %g at the centre", back[4]);
    db_graph g;
    db_graph_begin(&g, 2);
    int x = db_g_relu(&g, db_g_input(&g, 3, 7, 7));
    int p1 = db_g_conv(&g, db_g_subsample(&g, x, 2, 0), 2, 1, 1, 0, "fr.path1");
    int p2 = db_g_conv(&g, db_g_subsample(&g, x, 2, 1), 2, 1, 1, 0, "fr.path2");
    int y = db_g_bn(&g, db_g_concat(&g, p1, p2), "fr.bn", 0, 0.1f, 1e-5f);
    db_g_linear(&g, db_g_gap(&g, y), 3, "fc");
    CHECK_OK(db_graph_finalize(&g));
    if (g.n_ops == 0) return;
    CHECK(g.tensors[y].c == 4 && g.tensors[y].h == 4, "the reduction gives %d channels of %dx%d", g.tensors[y].c,
          g.tensors[y].w, g.tensors[y].h);
    int labels[2] = {1, 2}, checked;
    const int bad = tc_graph_xent_grads(&g, labels, "factorized reduction", 5, 12, &checked);
    CHECK(bad == 0 && checked >= 30, "factorized reduction: %d of %d sampled gradients miss", bad, checked);
    db_graph_free(&g);
}

const db_test db_tests_net[] = {
    {"factorized_reduction", test_factorized_reduction},
    {"separable_stack_gradients", test_separable_stack_gradients},
    {"tied_params", test_tied_params},
    {"architecture_sizes_and_sites", test_architecture_sizes},
    {"zero_init_last_bn", test_zero_init_last_bn},
    {"untouched_arenas_cost_nothing", test_untouched_arenas_cost_nothing},
    {"col_cap_fixed_at_finalize", test_col_cap_fixed_at_finalize},
    {"bn_modes_in_network", test_bn_modes_in_network},
    {"resnet_cifar_gradients", test_resnet_cifar_gradients},
    {"resnet_regularized_gradients", test_resnet_regularized_gradients},
    {"regularizer_placement_and_eval", test_regularizer_placement_and_eval},
    {"droppath_in_network", test_droppath_in_network},
    {"dropblock_fused_into_bn", test_dropblock_fused_into_bn},
    {"resnet_imagenet_gradients", test_resnet_imagenet_gradients},
    {NULL, NULL},
};
