/* COCO box AP and AR exactly as pycocotools' COCOeval (iouType bbox, default parameters)
 * computes them (../shared/reference/metrics.md): IoU thresholds 0.50:0.05:0.95, 101 recall
 * points, maxDets 1/10/100, area ranges all/small/medium/large with inclusive bounds, crowd
 * ground truths ignored (and matched without being used up), stable sorts, the greedy matching
 * and its tie rules, the ground truth's own `area`. The twelve summary numbers come back in
 * COCOeval.stats order; -1 where no ground truth takes part, as pycocotools prints. */
#ifndef DB_EVAL_COCO_EVAL_H
#define DB_EVAL_COCO_EVAL_H

#include "datasets/coco.h"

enum { DB_COCO_STATS = 12 };

/* AP, AP50, AP75, APsmall, APmedium, APlarge, AR1, AR10, AR100, ARsmall, ARmedium, ARlarge */
extern const char *const db_coco_stat_names[DB_COCO_STATS];

typedef struct {
    double stats[DB_COCO_STATS];
    double *ap_per_category; /* n_categories: AP (all areas, 100 detections), -1 without ground truth */
    int n_categories;
} db_coco_result;

db_status db_coco_evaluate(const db_coco *c, db_coco_result *out);
void db_coco_result_free(db_coco_result *r);

#endif
