/* From a detector's outputs to detections: per pyramid level the top_k (anchor, class) pairs
 * whose score sigmoid(logit) exceeds score_min, their codes decoded against their anchors, a
 * greedy non-maximum suppression per class (a box goes when its IoU with a kept box of its
 * class exceeds nms_iou), and the max_per_image best. The official RetinaNet code takes the
 * 5,000 best pairs over all levels with no threshold and suppresses with the +1 pixel IoU;
 * here the per-level selection of the issue and of Detectron / torchvision, the continuous IoU
 * of the training matcher, and no clipping to the image (as the official). A box whose decoding
 * is not finite (a size code past exp's range: an infinite box, which COCO's scoring would ignore
 * in every area range) is left out and counted. */
#ifndef DB_DETECT_POSTPROCESS_H
#define DB_DETECT_POSTPROCESS_H

#include "core/status.h"
#include "detect/anchors.h"

typedef struct {
    db_box box;
    float score;
    int cls;
} db_detection;

typedef struct {
    float score_min;   /* 0.05 */
    int top_k;         /* 1000 per level */
    float nms_iou;     /* 0.5 */
    int max_per_image; /* 100 */
} db_postprocess_cfg;

db_postprocess_cfg db_postprocess_defaults(void);

/* Greedy per-class suppression of d[0 .. n-1] in place: sorted by score (the lower index first
 * among equals), the survivors first; returns how many survive, or -1 with d untouched when
 * out of memory. */
int db_nms(db_detection *d, int n, float iou);

/* One image's detections into out (room for max_per_image), their count into *n_out: logits
 * (a->n x K) and codes (a->n x 4) anchor-major as db_detect_loss reads them; *nonfinite (when
 * not NULL) gains the candidates left out for a box that is not finite. */
db_status db_detect_postprocess(db_detection *out, int *n_out, const float *logits, const float *codes,
                                const db_anchors *a, int K, const db_postprocess_cfg *c, long *nonfinite);

#endif
