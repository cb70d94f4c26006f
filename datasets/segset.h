/* A segmentation set for training: dropbench's Fashion-MNIST set (datasets/fmnist_detect.h),
 * whose canvases carry label maps beside their boxes: the split's images as the detection reader
 * reads them (datasets/detset.h, grey PNGs in memory) and each image's label map from
 * DIR/segmentation/FILE_NAME, one byte per pixel. Classes: the background 0 and the categories
 * 1..K in their sorted id order (num_classes K + 1); 255 is ignored. */
#ifndef DB_DATASETS_SEGSET_H
#define DB_DATASETS_SEGSET_H

#include <stdint.h>

#include "datasets/augment.h"
#include "datasets/dataset.h"

enum { DB_SEG_IGNORE = 255 };

/* Reads split (train, val) of the set in dir into out: pixels, out->seg, out->det (the boxes,
 * unused by segmentation). A label map that is missing (a set built before label maps were
 * written), not an 8-bit grey PNG, of another size than its image, or holding a value that is
 * neither a class nor 255 is an error naming the file (and the value). */
db_status db_segset_load(const char *dir, const char *split, db_dataset *out);
#endif
