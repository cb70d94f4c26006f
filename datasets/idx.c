/* The IDX reader (MNIST, Fashion-MNIST). Files go through zlib's gz* calls, which read plain
 * files transparently, so one code path serves both the .gz downloads and unpacked copies.
 * Every failure names the file: a user with a half-downloaded data set should learn which file
 * to fetch again. */
#include "datasets/dataset.h"
#include "datasets/detset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum { IDX_MAGIC_U8_1D = 0x00000801, IDX_MAGIC_U8_3D = 0x00000803 };

/* Far above any real IDX file (MNIST train is 4.7e7 pixels); a larger count means a garbled
 * header, and refusing it keeps us from a huge allocation before the truncation shows. */
#define IDX_MAX_ELEMENTS 100000000ull

typedef struct {
    gzFile f;
    const char *path;
    unsigned long long offset; /* uncompressed bytes consumed, for messages */
} idx_file;

/* zlib prefixes its messages with the path; we already lead with it, so drop the repeat. */
static const char *gz_message(idx_file *x, int *err) {
    const char *m = gzerror(x->f, err);
    size_t n = strlen(x->path);
    if (m && strncmp(m, x->path, n) == 0 && strncmp(m + n, ": ", 2) == 0) m += n + 2;
    return m ? m : "unknown zlib error";
}

/* A read call failed (gzread returned -1): an OS error is I/O, anything else bad content. */
static db_status gz_fail(idx_file *x, const char *what) {
    int err = Z_OK;
    const char *m = gz_message(x, &err);
    if (err == Z_ERRNO)
        return db_fail(DB_ERR_IO, "%s: read error while reading the %s at byte %llu: %s",
                       x->path, what, x->offset, strerror(errno));
    if (err == Z_MEM_ERROR)
        return db_fail(DB_ERR_NOMEM, "%s: zlib out of memory reading the %s", x->path, what);
    return db_fail(DB_ERR_FORMAT,
                   "%s: corrupt gzip data while reading the %s at uncompressed byte %llu: %s",
                   x->path, what, x->offset, m);
}

static db_status idx_open(idx_file *x, const char *path) {
    x->path = path;
    x->offset = 0;
    errno = 0;
    x->f = gzopen(path, "rb");
    if (!x->f)
        return db_fail(DB_ERR_IO, "%s: cannot open: %s", path,
                       errno ? strerror(errno) : "zlib could not allocate its state");
    /* A larger buffer than zlib's 8 KiB default roughly halves the time to inflate MNIST. */
    if (gzbuffer(x->f, 1u << 17) != 0)
        return db_fail(DB_ERR_INTERNAL, "%s: gzbuffer failed", path);
    return DB_OK;
}

static void idx_close(idx_file *x) {
    if (x->f) gzclose_r(x->f);
    x->f = NULL;
}

/* Read exactly len bytes; a short read is a truncated file. */
static db_status idx_read(idx_file *x, void *buf, size_t len, const char *what) {
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        /* gzread takes an unsigned and returns an int: keep each call well inside both. */
        size_t left = len - got;
        unsigned chunk = left > (1u << 30) ? (1u << 30) : (unsigned)left;
        int r = gzread(x->f, p + got, chunk);
        if (r < 0) return gz_fail(x, what);
        if (r == 0) break;
        got += (size_t)r;
        x->offset += (unsigned long long)r;
    }
    if (got == len) return DB_OK;
    int err = Z_OK;
    const char *m = gz_message(x, &err);
    if (err != Z_OK && err != Z_BUF_ERROR) return gz_fail(x, what);
    return db_fail(DB_ERR_FORMAT,
                   "%s: truncated: the %s needs %zu bytes but the file ends after %zu of them "
                   "(at byte %llu)%s%s",
                   x->path, what, len, got, x->offset, err == Z_BUF_ERROR ? "; zlib: " : "",
                   err == Z_BUF_ERROR ? m : "");
}

/* After the payload the file must end; a longer file means the header does not describe it.
 * This last read also makes zlib verify the gzip trailer (CRC and length). */
static db_status idx_expect_end(idx_file *x) {
    unsigned char buf[4096];
    unsigned long long extra = 0;
    int r;
    while ((r = gzread(x->f, buf, sizeof buf)) > 0) extra += (unsigned long long)r;
    if (r < 0) return gz_fail(x, "end of file");
    if (extra > 0)
        return db_fail(DB_ERR_FORMAT,
                       "%s: %llu bytes of trailing data after byte %llu; the header promises "
                       "less than the file holds",
                       x->path, extra, x->offset);
    int err = Z_OK;
    const char *m = gz_message(x, &err);
    if (err != Z_OK)
        return db_fail(DB_ERR_FORMAT, "%s: gzip stream incomplete after byte %llu: %s", x->path,
                       x->offset, m);
    return DB_OK;
}

static uint32_t be32(const unsigned char *b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* Magic, then ndims big-endian sizes; *elements is their product, bounded and non-zero. */
static db_status idx_header(idx_file *x, uint32_t magic, int ndims, uint32_t *dims,
                            size_t *elements, const char *what) {
    unsigned char b[16];
    /* The magic alone first, so a file of the wrong kind is named as such even when it is
     * shorter than this kind's header. */
    DB_TRY(idx_read(x, b, 4, "magic number"));
    uint32_t found = be32(b);
    if (found != magic)
        return db_fail(DB_ERR_FORMAT,
                       "%s: wrong magic number: expected 0x%08x (%s) but found 0x%08x",
                       x->path, magic, what, found);
    DB_TRY(idx_read(x, b + 4, 4 * (size_t)ndims, "header"));
    char shape[48] = "";
    for (int k = 0; k < ndims; k++) {
        dims[k] = be32(b + 4 + 4 * k);
        size_t used = strlen(shape);
        snprintf(shape + used, sizeof shape - used, "%s%u", k ? " x " : "", dims[k]);
    }
    unsigned long long total = 1;
    for (int k = 0; k < ndims; k++) {
        /* Each factor <= 1e8 and the running product <= 1e8 keep the product within 64 bits. */
        if (dims[k] == 0 || dims[k] > IDX_MAX_ELEMENTS || total * dims[k] > IDX_MAX_ELEMENTS)
            return db_fail(DB_ERR_FORMAT,
                           "%s: absurd %s dimensions %s: a non-zero total of at most %llu "
                           "elements is allowed",
                           x->path, what, shape, IDX_MAX_ELEMENTS);
        total *= dims[k];
    }
    *elements = (size_t)total;
    return DB_OK;
}

db_status db_idx_load(const char *images_path, const char *labels_path, int num_classes,
                      const char *name, db_dataset *out) {
    if (!out) return db_fail(DB_ERR_ARG, "db_idx_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (!images_path || !labels_path)
        return db_fail(DB_ERR_ARG, "db_idx_load: an images path and a labels path are needed");
    if (num_classes < 1 || num_classes > 256)
        return db_fail(DB_ERR_ARG, "%s: num_classes %d is outside 1..256 (labels are bytes)",
                       labels_path, num_classes);

    idx_file im = {0}, lb = {0};
    uint32_t idims[3] = {0}, ldims[1] = {0};
    size_t npix = 0, nlab = 0;
    unsigned char *images = NULL, *labels = NULL;

    /* Both headers first: a count mismatch shows before tens of megabytes are inflated. */
    db_status s = idx_open(&im, images_path);
    if (s == DB_OK) s = idx_header(&im, IDX_MAGIC_U8_3D, 3, idims, &npix, "images");
    if (s == DB_OK) s = idx_open(&lb, labels_path);
    if (s == DB_OK) s = idx_header(&lb, IDX_MAGIC_U8_1D, 1, ldims, &nlab, "labels");
    if (s == DB_OK && idims[0] != ldims[0])
        s = db_fail(DB_ERR_FORMAT, "count mismatch: %s holds %u images but %s holds %u labels",
                    images_path, idims[0], labels_path, ldims[0]);
    uint16_t *wide = NULL;
    if (s == DB_OK && (!(images = malloc(npix)) || !(labels = malloc(nlab)) || !(wide = malloc(2 * nlab))))
        s = db_fail(DB_ERR_NOMEM, "%s: cannot allocate %zu bytes of pixels and %zu of labels",
                    images_path, npix, nlab);
    if (s == DB_OK) s = idx_read(&im, images, npix, "pixel data");
    if (s == DB_OK) s = idx_expect_end(&im);
    if (s == DB_OK) s = idx_read(&lb, labels, nlab, "label data");
    if (s == DB_OK) s = idx_expect_end(&lb);
    for (size_t i = 0; s == DB_OK && i < nlab; i++)
        if (labels[i] >= num_classes)
            s = db_fail(DB_ERR_FORMAT, "%s: label %d of sample %zu is out of range (%d classes)",
                        labels_path, labels[i], i, num_classes);
    idx_close(&im);
    idx_close(&lb);
    for (size_t i = 0; s == DB_OK && i < nlab; i++) wide[i] = labels[i];
    free(labels);
    if (s != DB_OK) {
        free(images);
        free(wide);
        return s;
    }
    snprintf(out->name, sizeof out->name, "%s", name ? name : "idx");
    snprintf(out->source, sizeof out->source, "%s + %s", images_path, labels_path);
    out->n = (int)idims[0];
    out->c = 1;
    out->h = (int)idims[1];
    out->w = (int)idims[2];
    out->num_classes = num_classes;
    out->images = images;
    out->labels = wide;
    return DB_OK;
}

/* dir/stem.gz if it exists, else dir/stem. */
static db_status pick_file(const char *dir, const char *stem, char *buf, size_t cap) {
    int k = snprintf(buf, cap, "%s/%s.gz", dir, stem);
    if (k < 0 || (size_t)k >= cap)
        return db_fail(DB_ERR_ARG, "%s: directory path too long", dir);
    if (access(buf, F_OK) == 0) return DB_OK;
    snprintf(buf, cap, "%s/%s", dir, stem);
    if (access(buf, F_OK) == 0) return DB_OK;
    return db_fail(DB_ERR_IO, "%s/%s: missing (tried %s.gz too): %s", dir, stem, stem,
                   strerror(errno));
}

db_status db_mnist_like_load(const char *dir, const char *split, const char *name,
                             db_dataset *out) {
    if (!out) return db_fail(DB_ERR_ARG, "db_mnist_like_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (!dir || !split) return db_fail(DB_ERR_ARG, "db_mnist_like_load: dir and split needed");
    const char *prefix;
    if (strcmp(split, "train") == 0) prefix = "train";
    else if (strcmp(split, "test") == 0) prefix = "t10k";
    else return db_fail(DB_ERR_ARG, "%s: unknown split '%s' (train or test)", dir, split);

    char stem[64], images[1024], labels[1024];
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", prefix);
    DB_TRY(pick_file(dir, stem, images, sizeof images));
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", prefix);
    DB_TRY(pick_file(dir, stem, labels, sizeof labels));
    return db_idx_load(images, labels, 10, name, out);
}

void db_dataset_free(db_dataset *d) {
    if (!d) return;
    free(d->images);
    free(d->labels);
    free(d->seg);
    for (int i = 0; d->files && i < d->n; i++) free(d->files[i]);
    free(d->files);
    for (int i = 0; d->seg_files && i < d->n; i++) free(d->seg_files[i]);
    free(d->seg_files);
    free(d->hw);
    db_detset_free(d->det);
    free(d->det);
    memset(d, 0, sizeof *d);
}
