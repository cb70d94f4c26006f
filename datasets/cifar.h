/* CIFAR-10 and CIFAR-100, binary version: records of label byte(s) and 3072 bytes of a 32x32
 * colour image (the red plane, then green, then blue: the CHW layout db_dataset keeps). Read
 * straight from the publisher's .tar.gz through libarchive, or from a folder of the extracted
 * .bin files. CIFAR-10: data_batch_1..5.bin (train, in that order) and test_batch.bin, one
 * label byte; CIFAR-100: train.bin and test.bin, a coarse and a fine label byte (the fine one,
 * 100 classes, is used). */
#ifndef DB_DATASETS_CIFAR_H
#define DB_DATASETS_CIFAR_H

#include <stddef.h>

#include "datasets/dataset.h"

/* The archive (or folder) for `classes` (10 or 100) in dir: dir/cifar-10-binary.tar.gz, else
 * dir/cifar-10-batches-bin (cifar-100-binary.tar.gz, cifar-100-binary for CIFAR-100), else dir
 * itself when it holds the .bin files; the path goes to out. */
db_status db_cifar_locate(const char *dir, int classes, char *out, size_t n);
/* Load split "train" or "test" from what db_cifar_locate found. Truncated, garbled or wrongly
 * sized content is an error naming the file (and the archive member). */
db_status db_cifar_load(const char *path, int classes, const char *split, db_dataset *out);

#endif
