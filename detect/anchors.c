#include "detect/anchors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

db_anchor_cfg db_anchor_defaults(void) {
    db_anchor_cfg c;
    memset(&c, 0, sizeof c);
    c.min_level = 3, c.max_level = 7, c.scales = 3, c.n_aspects = 3, c.anchor_scale = 4.0f;
    const float pairs[3][2] = {{1.0f, 1.0f}, {1.4f, 0.7f}, {0.7f, 1.4f}};
    memcpy(c.aspect, pairs, sizeof pairs);
    return c;
}

db_status db_anchors_make(db_anchors *a, const db_anchor_cfg *cfg, int h, int w) {
    memset(a, 0, sizeof *a);
    if (cfg->min_level < 0 || cfg->max_level < cfg->min_level || cfg->max_level > 20 ||
        cfg->max_level - cfg->min_level + 1 > DB_ANCHOR_MAX_LEVELS)
        return db_fail(DB_ERR_ARG, "anchors: levels %d..%d (at most %d levels, up to 20)", cfg->min_level,
                       cfg->max_level, DB_ANCHOR_MAX_LEVELS);
    if (cfg->scales < 1 || cfg->n_aspects < 1 || cfg->n_aspects > DB_ANCHOR_MAX_ASPECTS || !(cfg->anchor_scale > 0))
        return db_fail(DB_ERR_ARG, "anchors: %d scales, %d aspect pairs, anchor scale %g", cfg->scales,
                       cfg->n_aspects, cfg->anchor_scale);
    const int top = 1 << cfg->max_level;
    if (h <= 0 || w <= 0 || h % top || w % top)
        return db_fail(DB_ERR_ARG, "anchors: the input %dx%d must be a multiple of the largest stride %d (level %d)",
                       h, w, top, cfg->max_level);
    a->levels = cfg->max_level - cfg->min_level + 1;
    a->per_position = cfg->scales * cfg->n_aspects;
    for (int l = 0; l < a->levels; l++) {
        int stride = 1 << (cfg->min_level + l);
        a->level_h[l] = h / stride, a->level_w[l] = w / stride;
        a->level_first[l] = a->n;
        a->n += a->level_h[l] * a->level_w[l] * a->per_position;
    }
    a->boxes = malloc((size_t)a->n * sizeof *a->boxes);
    if (!a->boxes) return db_fail(DB_ERR_NOMEM, "anchors: no memory for %d anchors", a->n);
    db_box *b = a->boxes;
    for (int l = 0; l < a->levels; l++) {
        const double stride = (double)(1 << (cfg->min_level + l));
        for (int y = 0; y < a->level_h[l]; y++)
            for (int x = 0; x < a->level_w[l]; x++) {
                const double cy = (y + 0.5) * stride, cx = (x + 0.5) * stride;
                for (int s = 0; s < cfg->scales; s++)
                    for (int r = 0; r < cfg->n_aspects; r++) {
                        double base = cfg->anchor_scale * stride * pow(2.0, (double)s / cfg->scales);
                        double hx = base * cfg->aspect[r][0] / 2.0, hy = base * cfg->aspect[r][1] / 2.0;
                        *b++ = (db_box){(float)(cy - hy), (float)(cx - hx), (float)(cy + hy), (float)(cx + hx)};
                    }
            }
    }
    return DB_OK;
}

void db_anchors_free(db_anchors *a) {
    free(a->boxes);
    memset(a, 0, sizeof *a);
}
