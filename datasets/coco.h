/* COCO instance annotations and detection results, read with jansson: the parts box AP needs.
 * Ground truth: images (id), categories (id), annotations (id, image_id, category_id, bbox
 * [x, y, w, h], area, iscrowd). Results: a list of {image_id, category_id, bbox, score}; as
 * pycocotools' loadRes does, each gets id = its position + 1, area = w * h and iscrowd 0.
 * Malformed input (missing or mistyped fields, negative box sizes, an unknown image id in the
 * results, duplicate ids) is an error naming the file, the entry and what is wrong. */
#ifndef DB_DATASETS_COCO_H
#define DB_DATASETS_COCO_H

#include <math.h>
#include <stdint.h>

#include "core/status.h"

typedef struct {
    double x, y, w, h;
    double area;       /* ground truth: the annotation's area; results: w * h */
    double score;      /* results only */
    int64_t id;        /* annotation id; results: position + 1 */
    int image;         /* index into the ground truth's sorted image ids */
    int category;      /* index into the sorted category ids (-1: a result of an unknown category) */
    int iscrowd;
} db_coco_box;

/* 1 when the box and score are finite numbers (a detector's overflow makes them not) */
static inline int db_coco_box_finite(const db_coco_box *b) {
    return isfinite(b->x) && isfinite(b->y) && isfinite(b->w) && isfinite(b->h) && isfinite(b->score);
}

typedef struct {
    int64_t *image_ids;    /* sorted */
    char **file_names;     /* ground truth: each image's file_name (NULL where it has none) */
    int *heights, *widths; /* ground truth: each image's height and width (0 where it gives none) */
    int n_images;
    int64_t *category_ids; /* sorted */
    int n_categories;
    db_coco_box *gt;       /* in file order */
    int n_gt;
    db_coco_box *dt;       /* in file order */
    int n_dt;
} db_coco;

db_status db_coco_load_gt(db_coco *c, const char *path);
/* After the ground truth: the results file */
db_status db_coco_load_results(db_coco *c, const char *path);
/* c's results (dt, each of a known category) as a COCO results file at path, the doubles in full
 * (db_coco_load_results reads the same boxes and scores back); written beside it and renamed */
db_status db_coco_write_results(const db_coco *c, const char *path);
/* Keeps the first n images by id, their ground truth and results (what a run with test_limit n
 * scores: eval coco --limit); the others' boxes are dropped. n at or above the count: nothing. */
void db_coco_first_images(db_coco *c, int n);
void db_coco_free(db_coco *c);

#endif
