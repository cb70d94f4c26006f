#include "datasets/cifar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IMAGE 3072

typedef struct {
    int classes, label_bytes, n_files;
    const char *files[5]; /* the split's members, in order */
} layout;

static db_status layout_of(int classes, const char *split, layout *l) {
    memset(l, 0, sizeof *l);
    int train = !strcmp(split, "train");
    if (!train && strcmp(split, "test")) return db_fail(DB_ERR_ARG, "CIFAR: split '%s' must be train or test", split);
    l->classes = classes;
    if (classes == 10) {
        static const char *tr[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                                   "data_batch_5.bin"};
        static const char *te[] = {"test_batch.bin"};
        l->label_bytes = 1;
        l->n_files = train ? 5 : 1;
        memcpy(l->files, train ? tr : te, sizeof(char *) * (size_t)l->n_files);
    } else if (classes == 100) {
        l->label_bytes = 2;
        l->n_files = 1;
        l->files[0] = train ? "train.bin" : "test.bin";
    } else {
        return db_fail(DB_ERR_ARG, "CIFAR: %d classes (10 or 100)", classes);
    }
    return DB_OK;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

db_status db_cifar_locate(const char *dir, int classes, char *out, size_t n) {
    const char *tgz = classes == 100 ? "cifar-100-binary.tar.gz" : "cifar-10-binary.tar.gz";
    const char *sub = classes == 100 ? "cifar-100-binary" : "cifar-10-batches-bin";
    const char *probe = classes == 100 ? "train.bin" : "data_batch_1.bin";
    char p[4096];
    snprintf(out, n, "%s/%s", dir, tgz);
    if (exists(out)) return DB_OK;
    snprintf(out, n, "%s/%s", dir, sub);
    if (is_dir(out)) return DB_OK;
    snprintf(p, sizeof p, "%s/%s", dir, probe);
    snprintf(out, n, "%s", dir);
    if (exists(p)) return DB_OK;
    return db_fail(DB_ERR_IO, "%s: no CIFAR-%d here (want %s, the folder %s, or its .bin files); dropbench data fetch "
                   "cifar%d puts it in the cache", dir, classes, tgz, sub, classes);
}

/* Append one member's records (bytes, len) to the data set, checking size and labels */
static db_status take(db_dataset *d, const layout *l, const unsigned char *bytes, size_t len, const char *where) {
    size_t rec = (size_t)l->label_bytes + IMAGE;
    if (len == 0 || len % rec)
        return db_fail(DB_ERR_FORMAT, "%s: %zu bytes is not a whole number of %zu-byte CIFAR-%d records (truncated or "
                       "not CIFAR-%d)", where, len, rec, l->classes, l->classes);
    size_t count = len / rec;
    if ((size_t)d->n + count > 1000000) return db_fail(DB_ERR_FORMAT, "%s: too many records", where);
    uint8_t *im = realloc(d->images, ((size_t)d->n + count) * IMAGE);
    if (!im) return db_fail(DB_ERR_NOMEM, "out of memory reading %s", where);
    d->images = im;
    uint16_t *lb = realloc(d->labels, sizeof *lb * ((size_t)d->n + count));
    if (!lb) return db_fail(DB_ERR_NOMEM, "out of memory reading %s", where);
    d->labels = lb;
    for (size_t i = 0; i < count; i++) {
        const unsigned char *r = bytes + i * rec;
        unsigned label = r[l->label_bytes - 1]; /* CIFAR-100: the fine label */
        if (label >= (unsigned)l->classes || (l->label_bytes == 2 && r[0] >= 20))
            return db_fail(DB_ERR_FORMAT, "%s: record %zu has label %u (want < %d): not CIFAR-%d", where, i, label,
                           l->classes, l->classes);
        d->labels[d->n + i] = (uint16_t)label;
        memcpy(d->images + ((size_t)d->n + i) * IMAGE, r + l->label_bytes, IMAGE);
    }
    d->n += (int)count;
    return DB_OK;
}

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The archive's members of the split, each read whole, taken in the layout's order */
static db_status from_archive(const char *path, const layout *l, db_dataset *d) {
    unsigned char *data[5] = {NULL};
    size_t len[5] = {0};
    struct archive *a = archive_read_new();
    if (!a) return db_fail(DB_ERR_NOMEM, "out of memory");
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    db_status s = DB_OK;
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK)
        s = db_fail(DB_ERR_FORMAT, "%s: cannot open as an archive: %s", path, archive_error_string(a));
    struct archive_entry *e;
    int r;
    while (s == DB_OK && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        int k = -1;
        for (int i = 0; name && i < l->n_files; i++)
            if (!strcmp(base(name), l->files[i])) k = i;
        if (k < 0 || data[k]) continue;
        int64_t size = archive_entry_size(e);
        if (size <= 0 || size > (int64_t)1 << 30) {
            s = db_fail(DB_ERR_FORMAT, "%s: member %s has %lld bytes", path, name, (long long)size);
            break;
        }
        data[k] = malloc((size_t)size);
        if (!data[k]) { s = db_fail(DB_ERR_NOMEM, "out of memory reading %s", path); break; }
        la_ssize_t got = archive_read_data(a, data[k], (size_t)size);
        if (got != size)
            s = db_fail(DB_ERR_FORMAT, "%s: member %s is truncated or corrupt (%lld of %lld bytes: %s)", path, name,
                        (long long)(got < 0 ? 0 : got), (long long)size, got < 0 ? archive_error_string(a) : "short");
        len[k] = (size_t)size;
    }
    if (s == DB_OK && r != ARCHIVE_EOF)
        s = db_fail(DB_ERR_FORMAT, "%s: truncated or corrupt archive: %s", path, archive_error_string(a));
    archive_read_free(a);
    for (int i = 0; s == DB_OK && i < l->n_files; i++) {
        char where[4300];
        snprintf(where, sizeof where, "%s (%s)", path, l->files[i]);
        s = data[i] ? take(d, l, data[i], len[i], where)
                    : db_fail(DB_ERR_FORMAT, "%s: no member %s: not the CIFAR-%d binary archive", path, l->files[i],
                              l->classes);
    }
    for (int i = 0; i < 5; i++) free(data[i]);
    return s;
}

static db_status from_folder(const char *dir, const layout *l, db_dataset *d) {
    for (int i = 0; i < l->n_files; i++) {
        char p[4300];
        snprintf(p, sizeof p, "%s/%s", dir, l->files[i]);
        FILE *f = fopen(p, "rb");
        if (!f) return db_fail(DB_ERR_IO, "%s: cannot read: %s", p, strerror(errno));
        unsigned char *buf = NULL;
        size_t len = 0, cap = 0, got;
        db_status s = DB_OK;
        do {
            if (len == cap) {
                unsigned char *nb = cap < ((size_t)1 << 30) ? realloc(buf, cap = cap ? 2 * cap : 1 << 20) : NULL;
                if (!nb) { s = db_fail(DB_ERR_NOMEM, "%s: too large or out of memory", p); break; }
                buf = nb;
            }
            got = fread(buf + len, 1, cap - len, f);
            len += got;
        } while (got > 0);
        if (s == DB_OK && ferror(f)) s = db_fail(DB_ERR_IO, "%s: read error: %s", p, strerror(errno));
        fclose(f);
        if (s == DB_OK) s = take(d, l, buf, len, p);
        free(buf);
        if (s != DB_OK) return s;
    }
    return DB_OK;
}

db_status db_cifar_load(const char *path, int classes, const char *split, db_dataset *out) {
    memset(out, 0, sizeof *out);
    layout l;
    DB_TRY(layout_of(classes, split, &l));
    db_status s = is_dir(path) ? from_folder(path, &l, out) : from_archive(path, &l, out);
    if (s != DB_OK) { db_dataset_free(out); return s; }
    snprintf(out->name, sizeof out->name, "cifar%d-%s", classes, split);
    out->c = 3; out->h = 32; out->w = 32;
    out->num_classes = classes;
    snprintf(out->source, sizeof out->source, "%s", path);
    return DB_OK;
}
