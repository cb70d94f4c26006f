#include "detect/postprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

db_postprocess_cfg db_postprocess_defaults(void) {
    db_postprocess_cfg c = {0.05f, 1000, 0.5f, 100};
    return c;
}

typedef struct { float v; int i; } ranked;

static int by_value_desc(const void *pa, const void *pb) { /* ties: the lower index first */
    const ranked *a = pa, *b = pb;
    if (a->v != b->v) return a->v < b->v ? 1 : -1;
    return (a->i > b->i) - (a->i < b->i);
}

int db_nms(db_detection *d, int n, float iou) {
    if (n <= 0) return 0;
    ranked *r = malloc((size_t)n * sizeof *r);
    db_detection *s = malloc((size_t)n * sizeof *s);
    char *gone = calloc((size_t)n, 1);
    if (!r || !s || !gone) {
        free(r); free(s); free(gone);
        return -1;
    }
    for (int i = 0; i < n; i++) r[i] = (ranked){d[i].score, i};
    qsort(r, (size_t)n, sizeof *r, by_value_desc);
    for (int i = 0; i < n; i++) s[i] = d[r[i].i];
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (gone[i]) continue;
        d[kept++] = s[i];
        for (int j = i + 1; j < n; j++)
            if (!gone[j] && s[j].cls == s[i].cls && db_box_iou(s[i].box, s[j].box) > iou) gone[j] = 1;
    }
    free(r); free(s); free(gone);
    return kept;
}

db_status db_detect_postprocess(db_detection *out, int *n_out, const float *logits, const float *codes,
                                const db_anchors *a, int K, const db_postprocess_cfg *c, long *nonfinite) {
    *n_out = 0;
    if (c->top_k < 1 || c->max_per_image < 1 || !(c->nms_iou > 0.0f && c->nms_iou <= 1.0f) ||
        !(c->score_min >= 0.0f && c->score_min < 1.0f))
        return db_fail(DB_ERR_ARG, "postprocess: top_k %d (at least 1), max_per_image %d (at least 1), nms_iou %g "
                       "(in (0, 1]), score_min %g (in [0, 1))", c->top_k, c->max_per_image, c->nms_iou, c->score_min);
    const float logit_min = logf(c->score_min / (1.0f - c->score_min)); /* sigmoid(x) > score_min */
    int largest = 0;
    for (int l = 0; l < a->levels; l++) {
        int count = (l + 1 < a->levels ? a->level_first[l + 1] : a->n) - a->level_first[l];
        if (count > largest) largest = count;
    }
    ranked *cand = malloc((size_t)largest * K * sizeof *cand);
    db_detection *d = malloc((size_t)a->levels * c->top_k * sizeof *d);
    if (!cand || !d) {
        free(cand); free(d);
        return db_fail(DB_ERR_NOMEM, "postprocess: no memory for %d candidates", largest * K);
    }
    int nd = 0;
    for (int l = 0; l < a->levels; l++) {
        const int first = a->level_first[l], count = (l + 1 < a->levels ? a->level_first[l + 1] : a->n) - first;
        int nc = 0;
        for (int i = 0; i < count * K; i++) {
            float x = logits[(size_t)first * K + i];
            if (x > logit_min) cand[nc++] = (ranked){x, i};
        }
        qsort(cand, (size_t)nc, sizeof *cand, by_value_desc);
        if (nc > c->top_k) nc = c->top_k;
        for (int j = 0; j < nc; j++) {
            int anchor = first + cand[j].i / K;
            d[nd].box = db_box_decode(codes + (size_t)anchor * DB_BOX_CODE, a->boxes[anchor]);
            const db_box *b = &d[nd].box;
            if (!isfinite(b->y0) || !isfinite(b->x0) || !isfinite(b->y1) || !isfinite(b->x1)) {
                if (nonfinite) ++*nonfinite;
                continue;
            }
            d[nd].score = 1.0f / (1.0f + expf(-cand[j].v));
            d[nd].cls = cand[j].i % K;
            nd++;
        }
    }
    free(cand);
    int kept = db_nms(d, nd, c->nms_iou);
    if (kept < 0) {
        free(d);
        return db_fail(DB_ERR_NOMEM, "postprocess: no memory to suppress %d detections", nd);
    }
    if (kept > c->max_per_image) kept = c->max_per_image;
    memcpy(out, d, (size_t)kept * sizeof *d);
    *n_out = kept;
    free(d);
    return DB_OK;
}
