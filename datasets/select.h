/* Which data set a run reads, from where, and which files: the one place that turns a data set's
 * name into loaders. The training library describes the set it wants (db_data_spec); everything
 * about folders, Debian's packages, the download cache and the files recorded for provenance is
 * decided here. */
#ifndef DB_DATASETS_SELECT_H
#define DB_DATASETS_SELECT_H

#include <stddef.h>

#include "core/status.h"
#include "datasets/dataset.h"

typedef struct {
    const char *name;          /* fashion-mnist, mnist, cifar10, cifar100, imagenet or synthetic */
    const char *data_dir;      /* "" or NULL: the default place (db_data_dir) */
    const char *synthetic;     /* synthetic: N_TRAIN,N_TEST,C,H,W,CLASSES */
    int image_size;            /* image folders: the network's input side */
    float eval_crop_fraction;  /* image folders: the evaluation centre crop over the short side */
    int train_limit, test_limit; /* only the first N samples (0: all) */
} db_data_spec;

/* Is this a data set this version reads? */
int db_data_known(const char *name);
/* The names db_data_known accepts, for messages */
const char *db_data_names(void);
/* Does the data set come as a folder of images (the inception transforms apply)? */
int db_data_is_folder(const char *name);
/* 1 for the detection sets (images with boxes, db_dataset.det): fmnist-detect */
int db_data_is_detection(const char *name);
/* 1 for the segmentation sets (label maps, db_dataset.seg): fmnist-segment, voc2012 */
int db_data_is_segmentation(const char *name);
/* The data set's folder: data_dir when set, else the Debian package's folder (Fashion-MNIST,
 * MNIST) when it is there, else the dropbench cache's folder for the set (where `dropbench data
 * fetch NAME` puts it). Written to buf, returned; *origin (may be NULL) says which of the three. */
const char *db_data_dir(const db_data_spec *d, char *buf, size_t n, const char **origin);
/* DB_OK when the set's files are where db_data_load will look (their first file or folder: what
 * lets a dry run or a run about to be recorded say the data is missing, not that it is whole);
 * else DB_ERR_IO naming the folder and how to get the set there */
db_status db_data_present(const db_data_spec *d);
/* Loads the training and test splits, limits applied; on failure both are left empty. */
db_status db_data_load(const db_data_spec *d, db_dataset *train, db_dataset *test);
/* The files a load reads (not an image folder's images), for provenance: up to max paths,
 * malloc'd, into paths; *n says how many. Free with db_data_files_free. */
db_status db_data_files(const db_data_spec *d, char **paths, int max, int *n);
void db_data_files_free(char **paths, int n);

#endif
