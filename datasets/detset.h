/* A detection data set for training: a COCO-style split (annotations/instances_SPLIT.json and
 * its images). Two kinds, told by the first image's file name:
 *  - 8-bit grey PNGs of one size (dropbench's Fashion-MNIST set, datasets/fmnist_detect.h), read
 *    whole into the db_dataset's pixels;
 *  - JPEGs of any size (COCO 2017), decoded per batch (datasets/detbatch.h): the db_dataset keeps
 *    their paths (files), c = 3 and h = w = the network's input side; each image's size comes from
 *    the annotations (height, width), and a JPEG of another size is an error when it is read.
 * The images are at DIR/FILE_NAME or, as COCO lays them out, DIR/SPLIT/FILE_NAME. Each image's
 * boxes, in the order of its sorted image ids, go beside them. As the official RetinaNet code,
 * crowd boxes take no part in training (the evaluation still sees them, through the ground truth
 * kept here); boxes with no width or height are left out too, and both are counted. */
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

/* Reads split (train, val, train2017, ...) of the set in dir: dir/annotations/instances_SPLIT.json
 * and its images, into out (labels all 0, num_classes the number of categories) and out->det,
 * the boxes (freed with the data set); size: the input side for JPEG sets (PNG sets keep their
 * own). A missing image, a PNG not 8-bit grey or of another size than the first, an image with
 * no file_name, a JPEG image without height and width are errors naming it. */
db_status db_detset_load(const char *dir, const char *split, int size, db_dataset *out);
/* Frees what det holds (not det itself); NULL is fine */
void db_detset_free(db_detset *det);

#endif
