/* A detection data set for training: a COCO-style split (annotations/instances_SPLIT.json and
 * its images) read whole into memory, as dropbench's Fashion-MNIST detection set is written
 * (datasets/fmnist_detect.h). The images (8-bit grey PNGs, one size for the whole split) go
 * into a db_dataset; each image's boxes, in the order of its sorted image ids, go beside them.
 * As the official RetinaNet code, crowd boxes take no part in training (the evaluation still
 * sees them, through the ground truth kept here); boxes with no width or height are left out
 * too, and both are counted. */
#ifndef DB_DATASETS_DETSET_H
#define DB_DATASETS_DETSET_H

#include <stdint.h>

#include "datasets/coco.h"
#include "datasets/dataset.h"

typedef struct db_detset {
    db_coco gt;           /* the split's annotations as read (for the COCO evaluation) */
    int *first, *count;   /* per image (sorted id order): its training boxes' index range */
    float *boxes;         /* 4 per box: ymin, xmin, ymax, xmax in the image's pixels */
    uint16_t *cls;        /* per box: its category's index among the sorted category ids */
    int n_boxes;
    int skipped_crowd, skipped_empty; /* left out: crowd boxes, boxes of no width or height */
    int clipped, skipped_outside;     /* boxes reaching past their image, clipped to it; boxes with
                                       * less than a pixel inside it, left out (a note says both) */
} db_detset;

/* Reads split (train, val, ...) of the set in dir: dir/annotations/instances_SPLIT.json, each
 * image at dir/FILE_NAME, into out: the pixels (c = 1; labels all 0, num_classes the number of
 * categories) and out->det, the boxes (freed with the data set). An image that is missing, not
 * an 8-bit grey PNG, or of another size than the first, and an image with no file_name, are
 * errors naming it. */
db_status db_detset_load(const char *dir, const char *split, db_dataset *out);
/* Frees what det holds (not det itself); NULL is fine */
void db_detset_free(db_detset *det);

#endif
