/* Tests of the CIFAR reader (datasets/cifar.h) and the download verification's digests
 * (datasets/hash.h). Fixtures are generated here: records with known labels and pixels, packed
 * into a real .tar.gz by libarchive's writer, and the same records as loose .bin files. */
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/cifar.h"
#include "datasets/hash.h"
#include "tests/check.h"

#define REC10 (1 + 3072)
#define REC100 (2 + 3072)

static char cf_dir[64];

static const char *cf_path(const char *name) { return db_test_path(cf_dir, name); }
static void cf_setup(void) { db_test_mkdtemp(cf_dir, "cifar"); }
static void cf_teardown(void) { db_test_rmtree(cf_dir); }

/* count records of file k: label (k*7 + i) % classes, pixels a function of (k, i, byte) */
static uint8_t *cf_records(int classes, int k, int count, size_t *len) {
    int lb = classes == 100 ? 2 : 1;
    size_t rec = (size_t)lb + 3072;
    uint8_t *b = malloc(rec * (size_t)count);
    for (int i = 0; i < count; i++) {
        uint8_t *r = b + rec * (size_t)i;
        int label = (k * 7 + i) % classes;
        if (lb == 2) r[0] = (uint8_t)(label / 5); /* coarse */
        r[lb - 1] = (uint8_t)label;
        for (int j = 0; j < 3072; j++) r[lb + j] = (uint8_t)(k * 31 + i * 7 + j);
    }
    *len = rec * (size_t)count;
    return b;
}

/* a tar.gz with the given members (name, bytes) */
static void cf_tar(const char *path, const char **names, uint8_t **data, const size_t *lens, int n) {
    struct archive *a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    CHECK(archive_write_open_filename(a, path) == ARCHIVE_OK, "cannot write %s", path);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_size(e, (la_int64_t)lens[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_write_header(a, e);
        archive_write_data(a, data[i], lens[i]);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static void cf_write(const char *path, const uint8_t *b, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b, 1, len, f) == len, "cannot write %s", path);
    if (f) fclose(f);
}

/* CIFAR-10: 5 training batches of 2..6 records (members stored out of order) and a test batch */
static void cf_cifar10(const char *tgz, int loose) {
    const char *names[6] = {"cifar-10-batches-bin/data_batch_3.bin", "cifar-10-batches-bin/data_batch_1.bin",
                            "cifar-10-batches-bin/data_batch_2.bin", "cifar-10-batches-bin/test_batch.bin",
                            "cifar-10-batches-bin/data_batch_5.bin", "cifar-10-batches-bin/data_batch_4.bin"};
    const int k[6] = {3, 1, 2, 0, 5, 4};
    uint8_t *data[6];
    size_t lens[6];
    for (int i = 0; i < 6; i++) data[i] = cf_records(10, k[i], k[i] + 1, &lens[i]); /* batch b: b+1 records */
    if (tgz) cf_tar(tgz, names, data, lens, 6);
    for (int i = 0; loose && i < 6; i++) cf_write(cf_path(strrchr(names[i], '/') + 1), data[i], lens[i]);
    for (int i = 0; i < 6; i++) free(data[i]);
}

static void check_cifar10(const char *src) {
    db_dataset tr, te;
    CHECK_OK(db_cifar_load(src, 10, "train", &tr));
    CHECK(tr.n == 2 + 3 + 4 + 5 + 6 && tr.c == 3 && tr.h == 32 && tr.w == 32 && tr.num_classes == 10, "train shape n=%d", tr.n);
    /* batches in order 1..5: the first record of batch 2 is sample 2 */
    CHECK(tr.n > 2 && tr.labels[0] == 7 && tr.labels[1] == 8 && tr.labels[2] == 4, "labels %d %d %d", tr.labels[0],
          tr.labels[1], tr.labels[2]);
    CHECK(tr.n > 2 && tr.images[2 * 3072 + 5] == (uint8_t)(2 * 31 + 5), "pixel of sample 2: %d", tr.images[2 * 3072 + 5]);
    CHECK_OK(db_cifar_load(src, 10, "test", &te));
    CHECK(te.n == 1 && te.labels[0] == 0 && te.images[100] == 100, "test n=%d", te.n);
    db_dataset_free(&tr);
    db_dataset_free(&te);
}

static void test_cifar10_archive_and_folder(void) {
    cf_setup();
    char where[4096];
    cf_cifar10(cf_path("cifar-10-binary.tar.gz"), 0);
    CHECK_OK(db_cifar_locate(cf_dir, 10, where, sizeof where));
    CHECK(strstr(where, "cifar-10-binary.tar.gz") != NULL, "located %s", where);
    check_cifar10(where);
    unlink(cf_path("cifar-10-binary.tar.gz"));
    cf_cifar10(NULL, 1); /* the extracted .bin files, loose in the folder */
    CHECK_OK(db_cifar_locate(cf_dir, 10, where, sizeof where));
    check_cifar10(where);
    cf_teardown();
}

static void test_cifar100(void) {
    cf_setup();
    size_t l1, l2;
    uint8_t *tr = cf_records(100, 9, 30, &l1), *te = cf_records(100, 4, 5, &l2);
    const char *names[2] = {"cifar-100-binary/train.bin", "cifar-100-binary/test.bin"};
    uint8_t *data[2] = {tr, te};
    size_t lens[2] = {l1, l2};
    cf_tar(cf_path("cifar-100-binary.tar.gz"), names, data, lens, 2);
    char where[4096];
    CHECK_OK(db_cifar_locate(cf_dir, 100, where, sizeof where));
    db_dataset d;
    CHECK_OK(db_cifar_load(where, 100, "train", &d));
    CHECK(d.n == 30 && d.num_classes == 100 && d.labels[1] == 64, "n=%d label %d (fine labels)", d.n, d.n > 1 ? d.labels[1] : -1);
    db_dataset_free(&d);
    free(tr);
    free(te);
    cf_teardown();
}

static void test_cifar_bad_files(void) {
    cf_setup();
    db_dataset d;
    char where[4096];
    db_status s = db_cifar_locate(cf_dir, 10, where, sizeof where); /* nothing there */
    CHECK(s == DB_ERR_IO && strstr(db_last_error(), "data fetch cifar10"), "empty folder: %s", db_last_error());
    /* a member with a partial record */
    size_t len;
    uint8_t *good = cf_records(10, 1, 3, &len);
    const char *names[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                            "data_batch_5.bin", "test_batch.bin"};
    uint8_t *data[6] = {good, good, good, good, good, good};
    size_t lens[6] = {len, len, len - 10, len, len, len};
    const char *tgz = cf_path("cifar-10-binary.tar.gz");
    cf_tar(tgz, names, data, lens, 6);
    s = db_cifar_load(tgz, 10, "train", &d);
    CHECK(s == DB_ERR_FORMAT && strstr(db_last_error(), "data_batch_3.bin") && strstr(db_last_error(), "whole number"),
          "partial record: %s", db_last_error());
    CHECK(d.images == NULL && d.n == 0, "a failed load leaves the data set empty");
    /* a missing member */
    cf_tar(tgz, names, data, (size_t[]){len, len, len, len, len, len}, 5);
    s = db_cifar_load(tgz, 10, "test", &d);
    CHECK(s == DB_ERR_FORMAT && strstr(db_last_error(), "no member test_batch.bin"), "missing member: %s", db_last_error());
    /* a label out of range */
    good[0] = 10;
    cf_tar(tgz, names, data, (size_t[]){len, len, len, len, len, len}, 6);
    s = db_cifar_load(tgz, 10, "train", &d);
    CHECK(s == DB_ERR_FORMAT && strstr(db_last_error(), "label 10"), "bad label: %s", db_last_error());
    good[0] = 1;
    /* the archive cut short, and garbage */
    cf_tar(tgz, names, data, (size_t[]){len, len, len, len, len, len}, 6);
    FILE *f = fopen(tgz, "rb");
    uint8_t *whole = malloc(1 << 20);
    size_t n = f ? fread(whole, 1, 1 << 20, f) : 0;
    if (f) fclose(f);
    for (size_t cut = n / 3; cut < n; cut += n / 3) {
        cf_write(tgz, whole, cut);
        s = db_cifar_load(tgz, 10, "train", &d);
        CHECK(s == DB_ERR_FORMAT && strstr(db_last_error(), tgz), "cut at %zu of %zu: %s", cut, n, db_last_error());
    }
    for (size_t i = 0; i < 5000; i++) whole[i] = (uint8_t)(i * 131 + 7);
    cf_write(tgz, whole, 5000);
    s = db_cifar_load(tgz, 10, "train", &d);
    CHECK(s == DB_ERR_FORMAT && strstr(db_last_error(), tgz), "garbage: %s", db_last_error());
    CHECK(db_cifar_load(tgz, 10, "validation", &d) == DB_ERR_ARG, "a bad split");
    CHECK(db_cifar_load(tgz, 12, "train", &d) == DB_ERR_ARG, "a bad class count");
    free(whole);
    free(good);
    cf_teardown();
}

static void test_file_digest(void) {
    cf_setup();
    const char *p = cf_path("abc");
    cf_write(p, (const uint8_t *)"abc", 3);
    db_digest d;
    CHECK_OK(db_file_digest(p, &d));
    /* the published test vectors for "abc" */
    CHECK(!strcmp(d.md5, "900150983cd24fb0d6963f7d28e17f72"), "md5 %s", d.md5);
    CHECK(!strcmp(d.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256 %s", d.sha256);
    CHECK(d.bytes == 3, "bytes %lld", (long long)d.bytes);
    CHECK(db_file_digest(cf_path("missing"), &d) == DB_ERR_IO && strstr(db_last_error(), "missing"), "a missing file");
    cf_teardown();
}

const db_test db_tests_cifar[] = {
    {"cifar10_archive_and_folder", test_cifar10_archive_and_folder},
    {"cifar100_fine_labels", test_cifar100},
    {"cifar_bad_files", test_cifar_bad_files},
    {"file_digest_known", test_file_digest},
    {NULL, NULL},
};
