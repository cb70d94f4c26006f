#include "nets/retinanet.h"

#include "nets/fpn.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int db_model_is_detector(const char *model) { return !strncmp(model, "retinanet-", 10); }

db_status db_retinanet_backbone(const char *model, char *backbone, size_t n) {
    return db_fpn_model_backbone(model, "retinanet", "detector", backbone, n);
}

db_status db_retinanet_defaults(db_retinanet_config *cfg, const char *backbone, int classes, int c, int h, int w) {
    memset(cfg, 0, sizeof *cfg);
    DB_TRY(db_model_defaults(&cfg->backbone, backbone));
    cfg->backbone.in_c = c, cfg->backbone.in_h = h, cfg->backbone.in_w = w;
    cfg->min_level = 3, cfg->max_level = 7, cfg->fpn_width = 256, cfg->head_convs = 4, cfg->anchors = 9;
    cfg->classes = classes, cfg->prior = 0.01f;
    return DB_OK;
}

/* One head on one level. The first level's call makes the convolutions (first[i] their
 * outputs); later levels tie theirs to those; every level has its own batch norms. */
static int head(db_graph *g, const db_retinanet_config *cfg, int x, int level, int outc, float bias, const char *kind,
                int *first) {
    char name[48];
    const int make = first[0] < 0;
    for (int i = 0; i < cfg->head_convs; i++) {
        snprintf(name, sizeof name, "%s.%d.l%d", kind, i, level);
        int y = make ? db_g_conv(g, x, cfg->fpn_width, 3, 1, 1, name) : db_g_conv_tied(g, x, first[i], 1, 1, name);
        if (make) db_g_init_normal(g, y, 0.01f), first[i] = y;
        snprintf(name, sizeof name, "%s.%d.bn.l%d", kind, i, level);
        x = db_g_bn_relu(g, y, name, 0, cfg->backbone.bn_momentum, cfg->backbone.bn_eps);
    }
    snprintf(name, sizeof name, "%s.predict.l%d", kind, level);
    const int c = cfg->head_convs;
    int y = make ? db_g_conv(g, x, outc, 3, 1, 1, name) : db_g_conv_tied(g, x, first[c], 1, 1, name);
    if (make) db_g_init_normal(g, y, 0.01f), first[c] = y;
    y = make ? db_g_bias(g, y, bias, name) : db_g_bias_tied(g, y, first[c + 1], name);
    if (make) first[c + 1] = y;
    return y;
}

db_status db_retinanet_build(db_graph *g, const db_retinanet_config *cfg, int n_max) {
    const db_model_config *b = &cfg->backbone;
    if (cfg->min_level < 3 || cfg->min_level > 5 || cfg->max_level < 5 || cfg->max_level > 9 || cfg->fpn_width < 1 ||
        cfg->head_convs < 0 || cfg->head_convs > 8 || cfg->anchors < 1 || cfg->classes < 1 ||
        !(cfg->prior > 0.0f && cfg->prior < 1.0f))
        return db_fail(DB_ERR_ARG, "retinanet: levels %d..%d (min 3..5, max 5..9), FPN width %d, %d head convolutions "
                       "(0..8), %d anchors, %d classes, prior %g (in (0, 1))", cfg->min_level, cfg->max_level,
                       cfg->fpn_width, cfg->head_convs, cfg->anchors, cfg->classes, cfg->prior);
    if (b->in_c < 1 || b->in_h < 1 || b->in_w < 1 || b->width < 1)
        return db_fail(DB_ERR_ARG, "retinanet: bad input %dx%dx%d or width %d", b->in_c, b->in_h, b->in_w, b->width);
    const int top = 1 << cfg->max_level;
    if (b->in_h % top || b->in_w % top)
        return db_fail(DB_ERR_ARG, "retinanet: the input %dx%d must be a multiple of the largest stride %d (level %d)",
                       b->in_h, b->in_w, top, cfg->max_level);
    db_graph_begin(g, n_max);
    int taps[5];
    db_resnet_trunk(g, b, db_g_input(g, b->in_c, b->in_h, b->in_w), taps);
    if (g->status == DB_OK && taps[4] < 0) g->status = db_fail(DB_ERR_ARG, "retinanet: the backbone %s has no group 4 "
                                                               "(C5): use resnet18 or resnet50", b->arch);
    int p[10] = {0};
    const db_fpn_config fc = {cfg->min_level, cfg->max_level, cfg->fpn_width, 0, b->bn_momentum, b->bn_eps};
    db_fpn_build(g, &fc, taps, p);
    int cls_first[12], box_first[12];
    for (int i = 0; i < 12; i++) cls_first[i] = box_first[i] = -1;
    const float prior_bias = -logf((1.0f - cfg->prior) / cfg->prior);
    for (int l = cfg->min_level; l <= cfg->max_level && g->status == DB_OK; l++) {
        db_g_output(g, head(g, cfg, p[l], l, cfg->anchors * cfg->classes, prior_bias, "class", cls_first));
        db_g_output(g, head(g, cfg, p[l], l, cfg->anchors * 4, 0.0f, "box", box_first));
    }
    db_status s = db_graph_finalize(g);
    if (s != DB_OK) db_graph_free(g);
    return s;
}
