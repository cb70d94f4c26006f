#include "detect/match.h"

#include <stdlib.h>
#include <string.h>

db_match_cfg db_match_defaults(void) {
    db_match_cfg c = {0.5f, 0.4f, 1};
    return c;
}

db_status db_match(int *match, int *positives, const db_box *anchors, int n, const db_box *gt, int m,
                   const db_match_cfg *c) {
    if (!(c->negative_iou <= c->positive_iou))
        return db_fail(DB_ERR_ARG, "matcher: the negative IoU %g is above the positive %g", c->negative_iou,
                       c->positive_iou);
    *positives = 0;
    if (m <= 0) {
        for (int i = 0; i < n; i++) match[i] = DB_MATCH_NEGATIVE;
        return DB_OK;
    }
    float *gbest = malloc((size_t)m * sizeof *gbest);
    int *gwhere = malloc((size_t)m * sizeof *gwhere);
    if (!gbest || !gwhere) {
        free(gbest); free(gwhere);
        return db_fail(DB_ERR_NOMEM, "matcher: no memory for %d boxes", m);
    }
    for (int g = 0; g < m; g++) gbest[g] = -1.0f, gwhere[g] = 0;
    for (int i = 0; i < n; i++) {
        float best = -1.0f;
        int at = 0;
        for (int g = 0; g < m; g++) {
            float v = db_box_iou(anchors[i], gt[g]);
            if (v > best) best = v, at = g;
            if (v > gbest[g]) gbest[g] = v, gwhere[g] = i;
        }
        match[i] = best >= c->positive_iou ? at : best < c->negative_iou ? DB_MATCH_NEGATIVE : DB_MATCH_IGNORED;
    }
    if (c->force_best) /* from the last box down, so the lowest-numbered box wins a shared anchor */
        for (int g = m - 1; g >= 0; g--) match[gwhere[g]] = g;
    for (int i = 0; i < n; i++) *positives += match[i] >= 0;
    free(gbest);
    free(gwhere);
    return DB_OK;
}

db_status db_label_anchors(int *cls, float *box, int *positives, const db_anchors *a, const db_box *gt,
                           const int *gt_class, int m, const db_match_cfg *c) {
    DB_TRY(db_match(cls, positives, a->boxes, a->n, gt, m, c));
    memset(box, 0, (size_t)a->n * DB_BOX_CODE * sizeof *box);
    for (int i = 0; i < a->n; i++)
        if (cls[i] >= 0) {
            db_box_encode(box + (size_t)i * DB_BOX_CODE, gt[cls[i]], a->boxes[i]);
            cls[i] = gt_class[cls[i]];
        }
    return DB_OK;
}
