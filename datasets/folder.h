/* Image-folder data sets (ImageNet's layout): ROOT/train/<class>/<image>.JPEG, the classes being
 * the sorted folder names under ROOT/train; the validation split either as ROOT/val/<class>/
 * folders of the same names, or as images directly in ROOT/val with ROOT/val_labels.txt giving
 * "FILE CLASS" per line (CLASS a folder name or a 0-based index). The images are not read at
 * load time: a batch decodes its samples (datasets/image.h) with the paper's transforms --
 * training: Inception-style random resized crop (area fraction uniform in [area_min, 1], aspect
 * ratio log-uniform in [3/4, 4/3], ten tries, then a centre crop) and a random flip;
 * evaluation: the short side scaled to size / eval_crop and the centre size x size. */
#ifndef DB_DATASETS_FOLDER_H
#define DB_DATASETS_FOLDER_H

#include "datasets/batch.h"

/* A list of names */
typedef struct {
    char **v;
    int n, cap;
} db_names;

/* The sorted entries of dir: its sub-folders (dirs 1), or its regular files whose extension is
 * one of exts (case-insensitive, NULL-terminated). Hidden entries are skipped; one that cannot
 * be examined is an error. */
db_status db_dir_list(const char *dir, int dirs, const char *const *exts, db_names *out);
void db_names_free(db_names *l);

/* split "train" or "val"; size: the network's input side (224) */
db_status db_folder_load(const char *root, const char *split, int size, float eval_crop, db_dataset *out);
/* db_batch_fill's body for folder data sets (d->files set) */
db_status db_folder_fill(const db_dataset *d, const int *order, int count, const db_augment *aug, const db_norm *norm,
                         uint64_t seed, uint32_t epoch, float *out, int *labels);

#endif
