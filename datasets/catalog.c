#include "datasets/catalog.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The publishers' URLs, sizes and MD5s (as listed on their pages and by torchvision). MNIST
 * comes from the mirror torchvision uses: the original site refuses most automated clients. */
static const struct { const char *set, *file, *url; int64_t size; const char *md5; } builtin[] = {
    {"mnist", "train-images-idx3-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
     9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
    {"mnist", "train-labels-idx1-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
     28881, "d53e105ee54ea40749a09fcbcd1e9432"},
    {"mnist", "t10k-images-idx3-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
     1648877, "9fb629c4189551a2d022fa330f9573f3"},
    {"mnist", "t10k-labels-idx1-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
     4542, "ec29112dd5afa0611ce80d1b7f02629c"},
    {"fashion-mnist", "train-images-idx3-ubyte.gz",
     "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz", 26421880,
     "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
    {"fashion-mnist", "train-labels-idx1-ubyte.gz",
     "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz", 29515,
     "25c81989df183df01b3e8a0aad5dffbe"},
    {"fashion-mnist", "t10k-images-idx3-ubyte.gz",
     "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz", 4422102,
     "bef4ecab320f06d8554ea6380940ec79"},
    {"fashion-mnist", "t10k-labels-idx1-ubyte.gz",
     "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz", 5148,
     "bb300cfdad3c16e7a12a480ee83cd310"},
    {"cifar10", "cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", 170052171,
     "c32a1d4ab5d03f1284b67883e8d87530"},
    {"cifar100", "cifar-100-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", 168513733,
     "03b5dce01913d631647c71ecec9e9cb8"},
    {"voc2012", "VOCtrainval_11-May-2012.tar", "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
     1999639040, "6cd6e144f989b92b3379bac3b3de84fd"},
    {"coco2017-annotations", "annotations_trainval2017.zip",
     "http://images.cocodataset.org/annotations/annotations_trainval2017.zip", 252907541,
     "f4bbac642086de4f52a3fdda2de5fa2c"},
    {"coco2017-val", "val2017.zip", "http://images.cocodataset.org/zips/val2017.zip", 815585330,
     "442b8da7639aecaf257c1dceb8ba8c80"},
    {"coco2017-train", "train2017.zip", "http://images.cocodataset.org/zips/train2017.zip", 19336861798,
     "cced6f7f71b7629ddf16f17bbcfab6b2"},
};
#define N_BUILTIN (int)(sizeof builtin / sizeof *builtin)

static const struct { const char *set, *about; } abouts[] = {
    {"mnist", "MNIST digits, IDX (60,000 + 10,000 28x28 grey)"},
    {"fashion-mnist", "Fashion-MNIST, IDX (60,000 + 10,000 28x28 grey); Debian ships it as dataset-fashion-mnist"},
    {"cifar10", "CIFAR-10, binary version (50,000 + 10,000 32x32 colour, 10 classes)"},
    {"cifar100", "CIFAR-100, binary version (50,000 + 10,000 32x32 colour, 100 classes)"},
    {"voc2012", "PASCAL VOC 2012 train+val (segmentation and detection)"},
    {"coco2017-annotations", "COCO 2017 train+val annotations"},
    {"coco2017-val", "COCO 2017 validation images (5,000)"},
    {"coco2017-train", "COCO 2017 training images (118,287)"},
};

const char *db_catalog_about(const char *set) {
    for (size_t i = 0; i < sizeof abouts / sizeof *abouts; i++)
        if (!strcmp(abouts[i].set, set)) return abouts[i].about;
    return "";
}

static db_status put(db_catalog *c, const db_catalog_file *f) {
    for (int i = 0; i < c->n; i++) /* a user line replaces the entry of the same set and file */
        if (!strcmp(c->files[i].set, f->set) && !strcmp(c->files[i].file, f->file)) {
            c->files[i] = *f;
            return DB_OK;
        }
    int in_set = 0;
    for (int i = 0; i < c->n; i++) in_set += !strcmp(c->files[i].set, f->set);
    if (in_set >= 256) return db_fail(DB_ERR_FORMAT, "data set %s: more than 256 files", f->set);
    db_catalog_file *p = realloc(c->files, sizeof *p * (size_t)(c->n + 1));
    if (!p) return db_fail(DB_ERR_NOMEM, "out of memory");
    c->files = p;
    c->files[c->n++] = *f;
    return DB_OK;
}

static int is_hex(const char *s, size_t n) {
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

static db_status parse_line(char *line, const char *path, int lineno, db_catalog_file *f) {
    char *tok[7];
    int n = 0;
    for (char *t = strtok(line, " \t\r\n"); t && n < 7; t = strtok(NULL, " \t\r\n")) tok[n++] = t;
    if (n != 6)
        return db_fail(DB_ERR_FORMAT, "%s:%d: want NAME FILE URL SIZE MD5 SHA256 ('-' for unknown), got %d fields", path,
                       lineno, n);
    memset(f, 0, sizeof *f);
    if (strlen(tok[0]) >= sizeof f->set || strlen(tok[1]) >= sizeof f->file || strlen(tok[2]) >= sizeof f->url)
        return db_fail(DB_ERR_FORMAT, "%s:%d: a name, file or URL is too long", path, lineno);
    for (int i = 0; i < 2; i++) /* both become parts of CACHE/NAME/FILE */
        if (strchr(tok[i], '/') || !strcmp(tok[i], ".") || !strcmp(tok[i], ".."))
            return db_fail(DB_ERR_FORMAT, "%s:%d: %s '%s' must be a plain name", path, lineno, i ? "FILE" : "NAME", tok[i]);
    strcpy(f->set, tok[0]);
    strcpy(f->file, tok[1]);
    strcpy(f->url, tok[2]);
    char *end = tok[3];
    errno = 0;
    f->size = strcmp(tok[3], "-") ? strtoll(tok[3], &end, 10) : -1;
    if (strcmp(tok[3], "-") && (*end || f->size < 0 || errno == ERANGE))
        return db_fail(DB_ERR_FORMAT, "%s:%d: SIZE '%s' is not a byte count", path, lineno, tok[3]);
    if (strcmp(tok[4], "-") && !is_hex(tok[4], 32))
        return db_fail(DB_ERR_FORMAT, "%s:%d: MD5 '%s' is not 32 hex digits", path, lineno, tok[4]);
    if (strcmp(tok[5], "-") && !is_hex(tok[5], 64))
        return db_fail(DB_ERR_FORMAT, "%s:%d: SHA256 '%s' is not 64 hex digits", path, lineno, tok[5]);
    if (!strcmp(tok[4], "-") && !strcmp(tok[5], "-"))
        return db_fail(DB_ERR_FORMAT, "%s:%d: give an MD5 or a SHA-256: a download is only kept once verified", path, lineno);
    for (int i = 4; i <= 5; i++)
        for (char *p = tok[i]; *p; p++) *p = (char)tolower((unsigned char)*p);
    if (strcmp(tok[4], "-")) strcpy(f->md5, tok[4]);
    if (strcmp(tok[5], "-")) strcpy(f->sha256, tok[5]);
    return DB_OK;
}

db_status db_catalog_load(db_catalog *c, const char *path) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < N_BUILTIN; i++) {
        db_catalog_file f;
        memset(&f, 0, sizeof f);
        snprintf(f.set, sizeof f.set, "%s", builtin[i].set);
        snprintf(f.file, sizeof f.file, "%s", builtin[i].file);
        snprintf(f.url, sizeof f.url, "%s", builtin[i].url);
        f.size = builtin[i].size;
        snprintf(f.md5, sizeof f.md5, "%s", builtin[i].md5);
        db_status s = put(c, &f);
        if (s != DB_OK) { db_catalog_free(c); return s; }
    }
    if (!path || !*path) return DB_OK;
    FILE *in = fopen(path, "r");
    if (!in) return db_fail(DB_ERR_IO, "%s: cannot read the catalog: %s", path, strerror(errno));
    char line[2048];
    int lineno = 0;
    db_status s = DB_OK;
    while (s == DB_OK && fgets(line, sizeof line, in)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(in)) { s = db_fail(DB_ERR_FORMAT, "%s:%d: line too long", path, lineno); break; }
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == '#') continue;
        db_catalog_file f;
        s = parse_line(p, path, lineno, &f);
        if (s == DB_OK) s = put(c, &f);
    }
    fclose(in);
    if (s != DB_OK) db_catalog_free(c);
    return s;
}

void db_catalog_free(db_catalog *c) {
    free(c->files);
    memset(c, 0, sizeof *c);
}

int db_catalog_files(const db_catalog *c, const char *set, int *idx, int max) {
    int n = 0;
    for (int i = 0; i < c->n && n < max; i++)
        if (!strcmp(c->files[i].set, set)) idx[n++] = i;
    return n;
}
