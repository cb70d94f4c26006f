/* ResNets: the CIFAR family (He et al. 2016, sec. 4.2: 6n+2 layers, three groups of n basic
 * blocks at 16/32/64 channels) and the ImageNet ResNet-18 (basic blocks) and ResNet-50 (v1
 * bottleneck, stride on the 3x3 as in the TensorFlow reference the DropBlock paper used).
 * Regularizer sites sit after every BN(+ReLU) of a residual branch and on every shortcut. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/amoebanet.h"
#include "nets/model.h"

static int is_cifar_depth(const char *arch, int *depth) {
    if (strncmp(arch, "resnet", 6) != 0) return 0;
    char *end;
    long d = strtol(arch + 6, &end, 10);
    if (*end != '\0' || d < 8 || (d - 2) % 6 != 0 || d == 18 || d == 50) return 0;
    *depth = (int)d;
    return 1;
}

db_status db_model_defaults(db_model_config *cfg, const char *arch) {
    memset(cfg, 0, sizeof *cfg);
    int depth;
    if (snprintf(cfg->arch, sizeof cfg->arch, "%s", arch) >= (int)sizeof cfg->arch)
        return db_fail(DB_ERR_ARG, "unknown model '%s'", arch);
    cfg->bn_momentum = 0.1f;
    cfg->bn_eps = 1e-5f;
    cfg->classes = 10;
    if (is_cifar_depth(arch, &depth)) {
        cfg->width = 16;
        cfg->shortcut = 'A';
        cfg->in_c = 3; cfg->in_h = cfg->in_w = 32;
        return DB_OK;
    }
    if (strcmp(arch, "resnet18") == 0 || strcmp(arch, "resnet50") == 0) {
        cfg->width = 64;
        cfg->shortcut = 'B';
        cfg->in_c = 3; cfg->in_h = cfg->in_w = 224;
        cfg->classes = 1000;
        return DB_OK;
    }
    if (db_model_is_amoebanet(arch)) {
        db_amoebanet_defaults(cfg, arch);
        return DB_OK;
    }
    return db_fail(DB_ERR_ARG, "unknown model '%s' (resnet20, resnet32, resnet56, any resnet<6n+2>, resnet18, resnet50, "
                   "amoebanet-a/b/c/d; detectors retinanet-resnet18-fpn, retinanet-resnet50-fpn; segmenters "
                   "fcn-resnet18-fpn, fcn-resnet50-fpn)", arch);
}

typedef struct {
    db_graph *g;
    const db_model_config *cfg;
    int group, res_block; /* where the builder is: group from 1, residual block in it from 0 */
    char prefix[32];
} builder;

/* conv, BN and (when relu) a ReLU fused into the BN */
static int conv_bn(builder *b, int x, int cout, int k, int stride, const char *name, int zero_gamma,
                   int relu) {
    char cn[48], bn[48];
    snprintf(cn, sizeof cn, "%s.%s", b->prefix, name);
    snprintf(bn, sizeof bn, "%s.%s.bn", b->prefix, name);
    x = db_g_conv(b->g, x, cout, k, stride, k / 2, cn);
    int zero = zero_gamma && b->cfg->zero_init_last_bn;
    return relu ? db_g_bn_relu(b->g, x, bn, zero, b->cfg->bn_momentum, b->cfg->bn_eps)
                : db_g_bn(b->g, x, bn, zero, b->cfg->bn_momentum, b->cfg->bn_eps);
}

static int site(builder *b, int x, db_site_kind kind, const char *name) {
    char sn[48];
    snprintf(sn, sizeof sn, "%s.%s", b->prefix, name);
    return db_g_site(b->g, x, b->group, b->res_block, kind, sn);
}

/* The shortcut of a block whose input x (cin channels) must become cout channels at stride s. */
static int shortcut(builder *b, int x, int cin, int cout, int stride, char kind) {
    if (cin == cout && stride == 1) return site(b, x, DB_SITE_SHORTCUT, "shortcut");
    if (kind == 'A') x = db_g_shortcut_a(b->g, x, cout, stride);
    else x = conv_bn(b, x, cout, 1, stride, "proj", 0, 0);
    return site(b, x, DB_SITE_SHORTCUT, "shortcut");
}

static int basic_block(builder *b, int x, int cin, int cout, int stride, char sc_kind) {
    int h = conv_bn(b, x, cout, 3, stride, "conv1", 0, 1);
    h = site(b, h, DB_SITE_CONV, "conv1");
    h = site(b, conv_bn(b, h, cout, 3, 1, "conv2", 1, 0), DB_SITE_CONV_OUT, "conv2");
    int s = shortcut(b, x, cin, cout, stride, sc_kind);
    return db_g_relu(b->g, db_g_add(b->g, h, s));
}

static int bottleneck(builder *b, int x, int cin, int mid, int stride) {
    int h = site(b, conv_bn(b, x, mid, 1, 1, "conv1", 0, 1), DB_SITE_CONV, "conv1");
    h = site(b, conv_bn(b, h, mid, 3, stride, "conv2", 0, 1), DB_SITE_CONV, "conv2");
    h = site(b, conv_bn(b, h, 4 * mid, 1, 1, "conv3", 1, 0), DB_SITE_CONV_OUT, "conv3");
    int s = shortcut(b, x, cin, 4 * mid, stride, 'B');
    return db_g_relu(b->g, db_g_add(b->g, h, s));
}

static void set_block(builder *b, int group, int res_block) {
    b->group = group; b->res_block = res_block;
    snprintf(b->prefix, sizeof b->prefix, "g%d.b%d", group, res_block);
}

/* The stem and residual groups of cfg's ResNet on tensor x (the graph begun): taps[gi] is group
 * gi's output (1..3 for the CIFAR family, 1..4 for the ImageNet ones, taps[0] the stem's) */
static int trunk(db_graph *g, const db_model_config *cfg, int x, int taps[5]) {
    int depth = 0;
    builder b = {.g = g, .cfg = cfg};
    snprintf(b.prefix, sizeof b.prefix, "stem");
    if (is_cifar_depth(cfg->arch, &depth)) {
        int per = (depth - 2) / 6, cin = cfg->width;
        x = taps[0] = conv_bn(&b, x, cfg->width, 3, 1, "conv", 0, 1);
        for (int gi = 1; gi <= 3; gi++) {
            int cout = cfg->width << (gi - 1);
            for (int bi = 0; bi < per; bi++) {
                set_block(&b, gi, bi);
                x = basic_block(&b, x, cin, cout, (gi > 1 && bi == 0) ? 2 : 1, cfg->shortcut);
                cin = cout;
            }
            taps[gi] = x;
        }
        return x;
    }
    static const int blocks18[4] = {2, 2, 2, 2}, blocks50[4] = {3, 4, 6, 3};
    int deep = strcmp(cfg->arch, "resnet50") == 0, cin = cfg->width;
    const int *blocks = deep ? blocks50 : blocks18;
    x = conv_bn(&b, x, cfg->width, 7, 2, "conv", 0, 1);
    x = taps[0] = db_g_maxpool(g, x, 3, 2, 1);
    for (int gi = 1; gi <= 4; gi++) {
        int mid = cfg->width << (gi - 1);
        for (int bi = 0; bi < blocks[gi - 1]; bi++) {
            set_block(&b, gi, bi);
            int stride = (gi > 1 && bi == 0) ? 2 : 1;
            if (deep) { x = bottleneck(&b, x, cin, mid, stride); cin = 4 * mid; }
            else { x = basic_block(&b, x, cin, mid, stride, 'B'); cin = mid; }
        }
        taps[gi] = x;
    }
    return x;
}

int db_resnet_trunk(db_graph *g, const db_model_config *cfg, int x, int taps[5]) {
    int depth;
    if (!is_cifar_depth(cfg->arch, &depth) && strcmp(cfg->arch, "resnet18") && strcmp(cfg->arch, "resnet50")) {
        if (g->status == DB_OK) g->status = db_fail(DB_ERR_ARG, "unknown backbone '%s'", cfg->arch);
        return -1;
    }
    if (cfg->shortcut != 'A' && cfg->shortcut != 'B') {
        if (g->status == DB_OK) g->status = db_fail(DB_ERR_ARG, "shortcut must be A or B, got '%c'", cfg->shortcut);
        return -1;
    }
    g->reg = cfg->reg;
    g->unfused = cfg->unfused;
    g->bn_group = cfg->bn_group;
    g->reg.n_groups = is_cifar_depth(cfg->arch, &depth) ? 3 : 4;
    for (int i = 0; i < 5; i++) taps[i] = -1;
    return trunk(g, cfg, x, taps);
}

db_status db_model_build(db_graph *g, const db_model_config *cfg, int n_max) {
    if (cfg->in_c < 1 || cfg->in_h < 1 || cfg->in_w < 1 || cfg->classes < 2 || cfg->width < 1)
        return db_fail(DB_ERR_ARG, "model %s: bad input %dx%dx%d, classes %d or width %d", cfg->arch,
                       cfg->in_c, cfg->in_h, cfg->in_w, cfg->classes, cfg->width);
    if (db_model_is_amoebanet(cfg->arch)) return db_amoebanet_build(g, cfg, n_max, NULL, NULL);
    db_graph_begin(g, n_max);
    int taps[5];
    int x = db_resnet_trunk(g, cfg, db_g_input(g, cfg->in_c, cfg->in_h, cfg->in_w), taps);
    x = db_g_gap(g, x);
    db_g_linear(g, x, cfg->classes, "fc");
    db_status s = db_graph_finalize(g);
    if (s != DB_OK) db_graph_free(g);
    return s;
}
