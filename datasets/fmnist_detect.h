/* A detection set built here from Fashion-MNIST (issue 18): square grey canvases with a few
 * Fashion-MNIST items pasted at random positions and sizes, each with the box tight to its
 * pixels and its class, written as a COCO-style set (annotations/instances_{train,val}.json,
 * train/ and val/ PNGs) so that one reader serves it and COCO. The same canvases serve
 * segmentation: segmentation/train/ and segmentation/val/ hold each canvas's label map (an 8-bit
 * PNG of the same name): an item's pixels of at least DB_FMD_LABEL_MIN carry its class + 1 (the
 * brighter item where two overlap), the background 0, and its faint edge pixels and a ring of one
 * pixel around it DB_FMD_IGNORE, as VOC outlines its objects. Training canvases take their
 * items from the training split, validation canvases from the test split. Every draw is a
 * Philox draw keyed by (seed, split, canvas, draw): the same parameters give the same files,
 * byte for byte. */
#ifndef DB_DATASETS_FMNIST_DETECT_H
#define DB_DATASETS_FMNIST_DETECT_H

#include <stdint.h>

#include "core/status.h"

enum { DB_FMD_MAX_ITEMS = 16, DB_FMD_LABEL_MIN = 64, DB_FMD_IGNORE = 255 };

typedef struct {
    int size;                 /* canvas side in pixels (128) */
    int n_train, n_val;       /* canvases (30,000 and 2,000) */
    int min_items, max_items; /* items per canvas, drawn uniformly (1 .. 4) */
    float min_side, max_side; /* an item's side once scaled, log-uniform (16 .. 64 pixels) */
    float max_iou;            /* a new item's box overlaps each placed box at most this much (0.3) */
    uint64_t seed;            /* 1 */
} db_fmd_cfg;

/* What one split holds */
typedef struct {
    long images, objects;
    long per_image[DB_FMD_MAX_ITEMS + 1]; /* images holding 0 .. max_items objects */
    long small, medium, large;            /* objects by COCO's area buckets (below 32^2, below 96^2, above) */
    double side_min, side_mean, side_max; /* sqrt(box width * height), pixels */
    long unplaced;                        /* items that found no position within max_iou */
} db_fmd_stats;

db_fmd_cfg db_fmd_defaults(void);
/* The parameters' ranges; the message names the parameter */
db_status db_fmd_check(const db_fmd_cfg *c);
/* Builds the set from the Fashion-MNIST IDX files in src_dir into out_dir (also make.txt: the
 * parameters and the source files' SHA-256). It is written in out_dir.part and renamed into
 * place at the end, so a killed build leaves no half set; an existing out_dir is refused.
 * st[0] and st[1]: the training and validation splits. */
db_status db_fmd_make(const char *src_dir, const char *out_dir, const db_fmd_cfg *c, db_fmd_stats st[2]);

#endif
