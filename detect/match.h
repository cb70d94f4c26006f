/* Which box each anchor learns, as the official RetinaNet labeler (anchors.py AnchorLabeler with
 * object_detection/argmax_matcher.py): an anchor whose best IoU with any box is at least
 * positive_iou takes that box (the first of equals); below negative_iou it is background;
 * in between it is ignored. With force_best, every box also takes its own best anchor (the first
 * of equals) whatever the IoU, the lowest-numbered box winning an anchor two boxes want: the
 * official rule for boxes no anchor covers well. The official labeler sets both thresholds to
 * 0.5; the RetinaNet paper (and the issue) use 0.4 for negatives: negative_iou is a key. */
#ifndef DB_DETECT_MATCH_H
#define DB_DETECT_MATCH_H

#include "core/status.h"
#include "detect/anchors.h"

enum { DB_MATCH_NEGATIVE = -1, DB_MATCH_IGNORED = -2 };

typedef struct {
    float positive_iou; /* 0.5 */
    float negative_iou; /* 0.4 (the official code: 0.5) */
    int force_best;     /* 1 */
} db_match_cfg;

db_match_cfg db_match_defaults(void);

/* match[i] for each of n anchors: a box index, DB_MATCH_NEGATIVE or DB_MATCH_IGNORED; with no
 * boxes (m = 0) every anchor is background. *positives: the anchors given a box. */
db_status db_match(int *match, int *positives, const db_box *anchors, int n, const db_box *gt, int m,
                   const db_match_cfg *c);

/* One image's targets: cls[i] = the class of anchor i's box (0 .. K-1), -1 background, -2
 * ignored; box[4 i ..] its box's code against the anchor (db_box_encode), zeros elsewhere. */
db_status db_label_anchors(int *cls, float *box, int *positives, const db_anchors *a, const db_box *gt,
                           const int *gt_class, int m, const db_match_cfg *c);

#endif
