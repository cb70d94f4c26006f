/* Semantic-segmentation scores from one confusion matrix over the whole evaluation set (rows:
 * ground truth, columns: prediction), pixels whose ground truth is the ignore label skipped:
 * per-class IoU = diag / (row + column - diag), mIOU, pixel accuracy = trace / total, per-class
 * accuracy = diag / row and their mean. Policy for a class absent from both ground truth and
 * prediction (IoU 0/0) and for a class absent from the ground truth (accuracy 0/0): undefined,
 * reported as such and left out of the means (numpy's nanmean; the `evaluate` library's
 * mean_iou). A ground truth or prediction value outside 0..C-1 (other than an ignored pixel)
 * is an error, never counted. */
#ifndef DB_EVAL_MIOU_H
#define DB_EVAL_MIOU_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct {
    int classes, ignore;
    uint64_t *confusion; /* classes x classes */
    uint64_t pixels, ignored;
} db_miou;

typedef struct {
    double miou, pixel_accuracy, mean_class_accuracy;
    double *iou, *accuracy; /* per class; NAN where undefined */
    int classes, iou_defined, accuracy_defined;
} db_miou_result;

db_status db_miou_init(db_miou *m, int classes, int ignore);
/* One map of n pixels; gt_where and pred_where name its two files in errors: a value that is no
 * class, in the ground truth (nor the ignore label) or in the prediction (which may not use the
 * ignore label), is an error naming the file that holds it */
db_status db_miou_add(db_miou *m, const uint8_t *gt, const uint8_t *pred, size_t n, const char *gt_where,
                      const char *pred_where);
/* r's scores; on a failure (nothing to score) r holds nothing to free */
db_status db_miou_compute(const db_miou *m, db_miou_result *r);
void db_miou_free(db_miou *m);
void db_miou_result_free(db_miou_result *r);

#endif
