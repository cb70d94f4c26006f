#include "nets/fpn.h"

#include <stdio.h>
#include <string.h>

db_status db_fpn_model_backbone(const char *model, const char *kind, const char *what, char *backbone, size_t n) {
    static const char *const backbones[2] = {"resnet18", "resnet50"};
    char name[64];
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "%s-%s-fpn", kind, backbones[i]);
        if (!strcmp(model, name)) {
            snprintf(backbone, n, "%s", backbones[i]);
            return DB_OK;
        }
    }
    return db_fail(DB_ERR_ARG, "unknown %s '%s' (%s-resnet18-fpn, %s-resnet50-fpn)", what, model, kind, kind);
}

/* conv (with a bias) as the FPN's layers: name.weight, name.bias */
static int conv_bias(db_graph *g, int x, int cout, int k, int stride, const char *name) {
    return db_g_bias(g, db_g_conv(g, x, cout, k, stride, k / 2, name), 0.0f, name);
}

void db_fpn_build(db_graph *g, const db_fpn_config *c, const int *taps, int *p) {
    const int F = c->width;
    char name[48];
    for (int l = 5; l >= c->min_level && g->status == DB_OK; l--) { /* laterals, then top-down from P5 */
        snprintf(name, sizeof name, "fpn.lateral%d", l);
        int lat = conv_bias(g, taps[l - 1], F, 1, 1, name);
        if (l == 5) { p[l] = lat; continue; }
        const db_tensor *t = g->status == DB_OK ? &g->tensors[lat] : NULL;
        int up = !t ? -1 : c->bilinear ? db_g_resize(g, p[l + 1], t->h, t->w) : db_g_upsample(g, p[l + 1], 2);
        p[l] = db_g_add(g, lat, up);
    }
    for (int l = c->min_level; l <= 5 && g->status == DB_OK; l++) {
        snprintf(name, sizeof name, "fpn.post%d", l);
        p[l] = conv_bias(g, p[l], F, 3, 1, name);
    }
    for (int l = 6; l <= c->max_level && g->status == DB_OK; l++) { /* from P5 before its norm, then ReLU(P6) .. */
        snprintf(name, sizeof name, "fpn.p%d", l);
        p[l] = conv_bias(g, l == 6 ? p[5] : db_g_relu(g, p[l - 1]), F, 3, 2, name);
    }
    for (int l = c->min_level; l <= c->max_level && g->status == DB_OK; l++) {
        snprintf(name, sizeof name, "fpn.bn%d", l);
        p[l] = db_g_bn(g, p[l], name, 0, c->bn_momentum, c->bn_eps);
    }
}
