#include "nets/segnet.h"

#include <stdio.h>
#include <string.h>

#include "nets/fpn.h"

int db_model_is_segmenter(const char *model) { return !strncmp(model, "fcn-", 4); }

db_status db_segnet_backbone(const char *model, char *backbone, size_t n) {
    return db_fpn_model_backbone(model, "fcn", "segmenter", backbone, n);
}

db_status db_segnet_defaults(db_segnet_config *cfg, const char *backbone, int classes, int c, int h, int w) {
    memset(cfg, 0, sizeof *cfg);
    DB_TRY(db_model_defaults(&cfg->backbone, backbone));
    cfg->backbone.in_c = c, cfg->backbone.in_h = h, cfg->backbone.in_w = w;
    cfg->min_level = 3, cfg->max_level = 5, cfg->fpn_width = 256, cfg->head_convs = 3, cfg->classes = classes;
    return DB_OK;
}

/* A 3x3 convolution of the head: made on the first level (first[k] its output), tied after */
static int head_conv(db_graph *g, int x, int cout, int *first, const char *name) {
    if (*first >= 0) return db_g_conv_tied(g, x, *first, 1, 1, name);
    int y = db_g_conv(g, x, cout, 3, 1, 1, name);
    db_g_init_normal(g, y, 0.01f);
    return *first = y;
}

static int head_site(db_graph *g, int x, const char *name) {
    return db_g_site(g, x, DB_SEGNET_HEAD_GROUP, 0, DB_SITE_CONV, name);
}

db_status db_segnet_build(db_graph *g, const db_segnet_config *cfg, int n_max) {
    const db_model_config *b = &cfg->backbone;
    if (cfg->min_level < 2 || cfg->min_level > 3 || cfg->max_level < cfg->min_level || cfg->max_level > 5 || cfg->fpn_width < 1 || cfg->head_convs < 0 ||
        cfg->head_convs > 8 || cfg->classes < 2)
        return db_fail(DB_ERR_ARG, "segmenter: levels %d..%d (from 2 or 3, up to 5), FPN width %d, %d head convolutions (0..8), "
                       "%d classes (at least 2)", cfg->min_level, cfg->max_level, cfg->fpn_width, cfg->head_convs,
                       cfg->classes);
    if (b->in_c < 1 || b->in_h < 1 || b->in_w < 1 || b->width < 1)
        return db_fail(DB_ERR_ARG, "segmenter: bad input %dx%dx%d or width %d", b->in_c, b->in_h, b->in_w, b->width);
    if (b->in_h % 32 || b->in_w % 32)
        return db_fail(DB_ERR_ARG, "segmenter: the input %dx%d must be a multiple of 32 (C5's stride)", b->in_h, b->in_w);
    db_graph_begin(g, n_max);
    int taps[5], p[10] = {0};
    db_resnet_trunk(g, b, db_g_input(g, b->in_c, b->in_h, b->in_w), taps);
    if (g->status == DB_OK && taps[4] < 0)
        g->status = db_fail(DB_ERR_ARG, "segmenter: the backbone %s has no group 4 (C5): use resnet18 or resnet50", b->arch);
    const db_fpn_config fc = {cfg->min_level, cfg->max_level, cfg->fpn_width, 1, b->bn_momentum, b->bn_eps};
    db_fpn_build(g, &fc, taps, p);
    int first[10];
    for (int i = 0; i < 10; i++) first[i] = -1;
    int fused = -1;
    char name[48];
    for (int l = cfg->min_level; l <= cfg->max_level && g->status == DB_OK; l++) {
        int x = p[l];
        for (int i = 0; i < cfg->head_convs; i++) {
            snprintf(name, sizeof name, "seg.%d.l%d", i, l);
            x = head_conv(g, x, cfg->fpn_width, &first[i], name);
            snprintf(name, sizeof name, "seg.%d.bn.l%d", i, l);
            x = db_g_bn_relu(g, x, name, 0, b->bn_momentum, b->bn_eps);
            snprintf(name, sizeof name, "seg.%d.site.l%d", i, l);
            x = head_site(g, x, name);
        }
        snprintf(name, sizeof name, "seg.final.l%d", l);
        x = head_conv(g, x, cfg->fpn_width, &first[8], name);
        x = l == cfg->min_level ? db_g_bias(g, x, 0.0f, name) : db_g_bias_tied(g, x, first[9], name);
        if (l == cfg->min_level) first[9] = x;
        if (l > cfg->min_level && g->status == DB_OK)
            x = db_g_resize(g, x, g->tensors[fused].h, g->tensors[fused].w);
        fused = l == cfg->min_level ? x : db_g_add(g, fused, x);
    }
    int x = db_g_bn_relu(g, fused, "seg.fuse.bn", 0, b->bn_momentum, b->bn_eps);
    x = head_site(g, x, "seg.fuse.site");
    int y = db_g_conv(g, x, cfg->classes, 3, 1, 1, "seg.predict");
    db_g_init_normal(g, y, 0.01f);
    db_g_output(g, db_g_bias(g, y, 0.0f, "seg.predict"));
    db_status s = db_graph_finalize(g);
    if (s != DB_OK) db_graph_free(g);
    return s;
}
