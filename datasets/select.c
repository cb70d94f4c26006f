#include "datasets/select.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "datasets/cifar.h"
#include "datasets/detset.h"
#include "datasets/fetch.h"
#include "datasets/folder.h"
#include "datasets/segset.h"
#include "datasets/synthetic.h"
#include "datasets/vocset.h"

#define DEBIAN_FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define DEBIAN_MNIST_DIR "/usr/share/datasets/mnist"

static const char *const known[] = {"fashion-mnist", "mnist", "cifar10", "cifar100", "imagenet", "synthetic",
                                    "fmnist-detect", "coco2017", "fmnist-segment", "voc2012"};

int db_data_known(const char *name) {
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strcmp(name, known[i])) return 1;
    return 0;
}

const char *db_data_names(void) {
    return "fashion-mnist, mnist (IDX files), cifar10 and cifar100 (binary version), imagenet (a folder of JPEGs), "
           "synthetic, fmnist-detect and fmnist-segment (built by dropbench data make fmnist-detect), coco2017 (instances "
           "JSON and JPEG folders) and voc2012 (JPEGs and label PNGs)";
}

int db_data_is_folder(const char *name) { return !strcmp(name, "imagenet"); }

int db_data_is_detection(const char *name) { return !strcmp(name, "fmnist-detect") || !strcmp(name, "coco2017"); }

int db_data_is_segmentation(const char *name) { return !strcmp(name, "fmnist-segment") || !strcmp(name, "voc2012"); }

const char *db_data_dir(const db_data_spec *d, char *buf, size_t n, const char **origin) {
    const char *debian = !strcmp(d->name, "mnist") ? DEBIAN_MNIST_DIR
                         : !strcmp(d->name, "fashion-mnist") ? DEBIAN_FASHION_DIR : NULL;
    struct stat st;
    const char *from = "data_dir";
    if (d->data_dir && d->data_dir[0]) snprintf(buf, n, "%s", d->data_dir);
    else if (debian && stat(debian, &st) == 0) {
        snprintf(buf, n, "%s", debian);
        from = !strcmp(d->name, "mnist") ? "the Debian MNIST files" : "the Debian package dataset-fashion-mnist";
    } else {
        char root[4096];
        if (db_data_root(NULL, root, sizeof root) != DB_OK) snprintf(root, sizeof root, ".");
        /* the Fashion-MNIST segmentation set is the detection set's canvases with their label maps */
        snprintf(buf, n, "%s/%s", root, !strcmp(d->name, "fmnist-segment") ? "fmnist-detect" : d->name);
        from = db_data_is_folder(d->name) ? "the dropbench cache (ImageNet is not fetched: put it there, or give data_dir)"
                                          : "the dropbench cache (dropbench data fetch)";
    }
    if (origin) *origin = from;
    return buf;
}

/* Does dir/rel exist (as a folder when want_dir) */
static int there(const char *dir, const char *rel, int want_dir) {
    char p[4400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return stat(p, &st) == 0 && (!want_dir || S_ISDIR(st.st_mode));
}

db_status db_data_present(const db_data_spec *d) {
    if (!db_data_known(d->name) || !strcmp(d->name, "synthetic")) return DB_OK; /* (an unknown set: refused elsewhere) */
    char dir[4096], src[4200];
    db_data_dir(d, dir, sizeof dir, NULL);
    int cifar = !strcmp(d->name, "cifar10") ? 10 : !strcmp(d->name, "cifar100") ? 100 : 0;
    if (cifar) return db_cifar_locate(dir, cifar, src, sizeof src);
    const char *hint = db_data_is_folder(d->name) ? "ImageNet is downloaded by hand after registering: give its folder (train/ "
                                                    "and val/ of class folders) as data_dir"
                       : !strcmp(d->name, "fmnist-detect") || !strcmp(d->name, "fmnist-segment")
                           ? "dropbench data make fmnist-detect builds it (or data_dir names its folder)"
                       : !strcmp(d->name, "coco2017") ? "dropbench data fetch, then dropbench data unpack, coco2017-annotations "
                                                       "coco2017-train coco2017-val (or data_dir names its folder)"
                       : !strcmp(d->name, "voc2012") ? "dropbench data fetch voc2012, then dropbench data unpack voc2012 (or "
                                                       "data_dir names its folder)"
                                                     : "dropbench data fetch puts it in the cache (or data_dir names its folder)";
    int ok;
    if (db_data_is_folder(d->name)) ok = there(dir, "train", 1) && there(dir, "val", 1);
    else if (!strcmp(d->name, "voc2012")) ok = there(dir, "VOCdevkit/VOC2012/JPEGImages", 1) || there(dir, "JPEGImages", 1);
    else if (db_data_is_detection(d->name) || db_data_is_segmentation(d->name)) ok = there(dir, "annotations", 1);
    else ok = there(dir, "train-images-idx3-ubyte", 0) || there(dir, "train-images-idx3-ubyte.gz", 0);
    if (ok) return DB_OK;
    if (!strcmp(d->name, "mnist") || !strcmp(d->name, "fashion-mnist")) /* the loader's own message names the file */
        return db_fail(DB_ERR_IO, "%s/train-images-idx3-ubyte: missing (no %s there); %s", dir, d->name, hint);
    return db_fail(DB_ERR_IO, "%s: no %s there; %s", dir, d->name, hint);
}

static void apply_limit(db_dataset *d, int limit) {
    if (limit <= 0 || limit >= d->n) return;
    for (int i = limit; i < d->n; i++) { /* db_dataset_free frees the first n paths: these now */
        if (d->files) free(d->files[i]), d->files[i] = NULL;
        if (d->seg_files) free(d->seg_files[i]), d->seg_files[i] = NULL;
    }
    d->n = limit;
}

db_status db_data_load(const db_data_spec *d, db_dataset *train, db_dataset *test) {
    char dir[4096], src[4200];
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!db_data_known(d->name))
        return db_fail(DB_ERR_UNSUPPORTED, "dataset '%s' is not available yet: this version reads %s", d->name,
                       db_data_names());
    db_data_dir(d, dir, sizeof dir, NULL);
    int cifar = !strcmp(d->name, "cifar10") ? 10 : !strcmp(d->name, "cifar100") ? 100 : 0;
    db_status s;
    if (!strcmp(d->name, "synthetic")) {
        int v[6];
        DB_TRY(db_synthetic_parse(d->synthetic ? d->synthetic : "", v));
        DB_TRY(db_synthetic(train, v[0], v[2], v[3], v[4], v[5], 1, "synthetic-train"));
        s = db_synthetic(test, v[1], v[2], v[3], v[4], v[5], 2, "synthetic-test");
    } else if (db_data_is_folder(d->name)) {
        DB_TRY(db_folder_load(dir, "train", d->image_size, d->eval_crop_fraction, train));
        s = db_folder_load(dir, "val", d->image_size, d->eval_crop_fraction, test);
        if (s == DB_OK && test->num_classes != train->num_classes) s = db_fail(DB_ERR_INTERNAL, "class counts differ");
    } else if (db_data_is_detection(d->name)) {
        const int coco = !strcmp(d->name, "coco2017");
        const char *tr = coco ? "train2017" : "train", *va = coco ? "val2017" : "val";
        struct stat st;
        char ann[4200];
        snprintf(ann, sizeof ann, "%s/annotations", dir);
        if (stat(ann, &st) != 0)
            return db_fail(DB_ERR_IO, "%s: no detection set there; %s", dir,
                           coco ? "dropbench data fetch coco2017-annotations coco2017-train coco2017-val, then dropbench "
                                  "data unpack with the same names, puts COCO 2017 there (or data_dir names its folder)"
                                : "dropbench data make fmnist-detect builds it (--out for another folder)");
        DB_TRY(db_detset_load(dir, tr, d->image_size, train));
        s = db_detset_load(dir, va, d->image_size, test);
        if (s == DB_OK && (test->num_classes != train->num_classes || test->h != train->h || test->w != train->w))
            s = db_fail(DB_ERR_FORMAT, "%s: the %s split (%d categories, %dx%d) differs from %s (%d, %dx%d)", dir, va,
                        test->num_classes, test->w, test->h, tr, train->num_classes, train->w, train->h);
        for (int k = 0; s == DB_OK && k < train->num_classes; k++) /* class k is one category in both */
            if (train->det->gt.category_ids[k] != test->det->gt.category_ids[k])
                s = db_fail(DB_ERR_FORMAT, "%s: the %s split's categories are not %s's (category id %lld where %s has "
                            "%lld): class %d would mean two things", dir, va, tr,
                            (long long)test->det->gt.category_ids[k], tr, (long long)train->det->gt.category_ids[k], k);
    } else if (!strcmp(d->name, "voc2012")) {
        DB_TRY(db_vocset_load(dir, "train", d->image_size, train));
        s = db_vocset_load(dir, "val", d->image_size, test);
    } else if (db_data_is_segmentation(d->name)) {
        struct stat st;
        char ann[4200];
        snprintf(ann, sizeof ann, "%s/annotations", dir);
        if (stat(ann, &st) != 0)
            return db_fail(DB_ERR_IO, "%s: no segmentation set there; dropbench data make fmnist-detect builds it (its "
                           "canvases carry label maps too; --out for another folder)", dir);
        DB_TRY(db_segset_load(dir, "train", train));
        s = db_segset_load(dir, "val", test);
        if (s == DB_OK && (test->num_classes != train->num_classes || test->h != train->h || test->w != train->w))
            s = db_fail(DB_ERR_FORMAT, "%s: the val split (%d classes, %dx%d) differs from train (%d, %dx%d)", dir,
                        test->num_classes, test->w, test->h, train->num_classes, train->w, train->h);
    } else if (cifar) {
        DB_TRY(db_cifar_locate(dir, cifar, src, sizeof src));
        DB_TRY(db_cifar_load(src, cifar, "train", train));
        s = db_cifar_load(src, cifar, "test", test);
    } else {
        DB_TRY(db_mnist_like_load(dir, "train", d->name, train));
        s = db_mnist_like_load(dir, "test", d->name, test);
    }
    if (s != DB_OK) {
        db_dataset_free(train);
        db_dataset_free(test);
        return s;
    }
    apply_limit(train, d->train_limit);
    apply_limit(test, d->test_limit);
    return DB_OK;
}

db_status db_data_files(const db_data_spec *d, char **paths, int max, int *n) {
    static const char *const patterns[] = {"%s/*-ubyte*", "%s/cifar-1*-binary.tar.gz", "%s/cifar-1*/*.bin", "%s/*.bin",
                                           "%s/annotations/instances_*.json", "%s/make.txt",
                                           "%s/ImageSets/Segmentation/*.txt", "%s/VOCdevkit/VOC2012/ImageSets/Segmentation/*.txt"};
    char dir[4096], pattern[4200];
    *n = 0;
    if (!strcmp(d->name, "synthetic")) return DB_OK;
    db_data_dir(d, dir, sizeof dir, NULL);
    glob_t gl = {0};
    int globbed = 0;
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
        snprintf(pattern, sizeof pattern, patterns[i], dir);
        globbed |= glob(pattern, globbed ? GLOB_APPEND : 0, NULL, &gl) == 0;
    }
    for (size_t i = 0; globbed && i < gl.gl_pathc && *n < max; i++) {
        const char *p = gl.gl_pathv[i];
        const size_t len = strlen(p);
        char gz[4200];
        snprintf(gz, sizeof gz, "%s.gz", p);
        if ((len > 5 && !strcmp(p + len - 5, ".part")) || (len > 4 && !strcmp(p + len - 4, ".bad")) ||
            (strstr(p, "-ubyte") && access(gz, F_OK) == 0))
            continue; /* what the loader does not read: a download's partial or set-aside copy, a plain IDX
                       * file beside its .gz (read instead) */
        if (!(paths[*n] = strdup(p))) {
            globfree(&gl);
            db_data_files_free(paths, *n);
            *n = 0;
            return db_fail(DB_ERR_NOMEM, "out of memory");
        }
        (*n)++;
    }
    if (globbed) globfree(&gl);
    return DB_OK;
}

void db_data_files_free(char **paths, int n) {
    for (int i = 0; i < n; i++) free(paths[i]);
}
