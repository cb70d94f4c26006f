#include "eval/miou.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

db_status db_miou_init(db_miou *m, int classes, int ignore) {
    memset(m, 0, sizeof *m);
    if (classes < 1 || classes > 256) return db_fail(DB_ERR_ARG, "mIOU: %d classes (1..256)", classes);
    if (ignore >= 0 && ignore < classes) return db_fail(DB_ERR_ARG, "mIOU: the ignore label %d is a class", ignore);
    m->confusion = calloc((size_t)classes * classes, sizeof *m->confusion);
    if (!m->confusion) return db_fail(DB_ERR_NOMEM, "out of memory");
    m->classes = classes;
    m->ignore = ignore;
    return DB_OK;
}

db_status db_miou_add(db_miou *m, const uint8_t *gt, const uint8_t *pred, size_t n, const char *gt_where,
                      const char *pred_where) {
    const int C = m->classes;
    for (size_t i = 0; i < n; i++) { /* check first: a bad map adds nothing */
        if (gt[i] == m->ignore) continue;
        if (gt[i] >= C)
            return db_fail(DB_ERR_FORMAT, "%s: pixel %zu: ground truth %d is neither a class (0..%d) nor the ignore label %d",
                           gt_where, i, gt[i], C - 1, m->ignore);
        if (pred[i] >= C)
            return db_fail(DB_ERR_FORMAT, "%s: pixel %zu: prediction %d is not a class (0..%d)%s", pred_where, i, pred[i],
                           C - 1, pred[i] == m->ignore ? "; a prediction may not use the ignore label" : "");
    }
    for (size_t i = 0; i < n; i++) {
        if (gt[i] == m->ignore) { m->ignored++; continue; }
        m->confusion[(size_t)gt[i] * C + pred[i]]++;
        m->pixels++;
    }
    return DB_OK;
}

db_status db_miou_compute(const db_miou *m, db_miou_result *r) {
    memset(r, 0, sizeof *r);
    const int C = m->classes;
    r->iou = malloc(sizeof(double) * C);
    r->accuracy = malloc(sizeof(double) * C);
    if (!r->iou || !r->accuracy) { db_miou_result_free(r); return db_fail(DB_ERR_NOMEM, "out of memory"); }
    r->classes = C;
    uint64_t trace = 0;
    double sum_iou = 0, sum_acc = 0;
    for (int c = 0; c < C; c++) {
        uint64_t row = 0, col = 0, d = m->confusion[(size_t)c * C + c];
        for (int k = 0; k < C; k++) {
            row += m->confusion[(size_t)c * C + k];
            col += m->confusion[(size_t)k * C + c];
        }
        trace += d;
        uint64_t uni = row + col - d;
        r->iou[c] = uni ? (double)d / (double)uni : NAN;
        r->accuracy[c] = row ? (double)d / (double)row : NAN;
        if (uni) { sum_iou += r->iou[c]; r->iou_defined++; }
        if (row) { sum_acc += r->accuracy[c]; r->accuracy_defined++; }
    }
    r->miou = r->iou_defined ? sum_iou / r->iou_defined : NAN;
    r->mean_class_accuracy = r->accuracy_defined ? sum_acc / r->accuracy_defined : NAN;
    r->pixel_accuracy = m->pixels ? (double)trace / (double)m->pixels : NAN;
    if (!m->pixels) { /* (nothing to free after a failure) */
        db_miou_result_free(r);
        return db_fail(DB_ERR_ARG, "mIOU: no pixel to score (every ground truth pixel is ignored)");
    }
    return DB_OK;
}

void db_miou_free(db_miou *m) {
    free(m->confusion);
    memset(m, 0, sizeof *m);
}

void db_miou_result_free(db_miou_result *r) {
    free(r->iou);
    free(r->accuracy);
    memset(r, 0, sizeof *r);
}
