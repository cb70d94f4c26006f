/* An in-memory labelled image data set, and the IDX reader for MNIST-like files.
 * Images stay uint8 (a quarter of the float size) and are turned into normalised float batches
 * only when a batch is filled (datasets/batch.h). */
#ifndef DB_DATASET_H
#define DB_DATASET_H

#include <stdint.h>

#include "core/status.h"

typedef struct {
    char name[64];
    int n, c, h, w;       /* images are uint8, stored NCHW, n*c*h*w bytes */
    int num_classes;
    uint8_t *images;
    uint16_t *labels;     /* n entries, each < num_classes */
    char **files;         /* image folders: a JPEG per sample (images NULL), decoded when a batch is filled;
                           * c, h, w are then the network's input (3, size, size) */
    float eval_crop;      /* image folders: evaluation centre crop over the short side (224/256) */
    struct db_detset *det; /* detection sets: each image's boxes and the ground truth (datasets/detset.h) */
    uint8_t *seg;         /* segmentation sets read whole: n label maps of h x w (classes 0..num_classes-1, 255 ignored) */
    char **seg_files;     /* segmentation sets decoded per batch: each image's label map (a PNG of its size) */
    int *hw;              /* segmentation sets decoded per batch: each image's height and width (2 per sample) */
    char source[1024];    /* path(s) read, for messages and provenance */
} db_dataset;

/* Read an IDX image file (magic 0x00000803: n, rows, cols) and its IDX label file (magic
 * 0x00000801: n) into out (c = 1). Both files may be gzip-compressed or plain. num_classes is
 * 1..256; every label must be below it. On failure out is left zeroed (safe to free) and the
 * message names the offending file. name may be NULL ("idx"). */
db_status db_idx_load(const char *images_path, const char *labels_path, int num_classes,
                      const char *name, db_dataset *out);

/* dir holds train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz] and the t10k-* pair;
 * split is "train" or "test". Tries the .gz name, then the plain name. 10 classes. */
db_status db_mnist_like_load(const char *dir, const char *split, const char *name,
                             db_dataset *out);

/* Release the buffers; d is left zeroed, so a second call (or one on a failed load) is safe. */
void db_dataset_free(db_dataset *d);

#endif
