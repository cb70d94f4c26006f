#include "datasets/vocset.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "datasets/voc.h"

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The list and label folder of a split under root */
static db_status split_of(const char *root, const char *split, char *list, size_t n, const char **labels) {
    char aug[4300];
    if (snprintf(aug, sizeof aug, "%s/SegmentationClassAug", root) >= (int)sizeof aug)
        return db_fail(DB_ERR_ARG, "%s: the path is too long", root);
    *labels = "SegmentationClass";
    if (!strcmp(split, "train") && is_dir(aug)) {
        static const char *const names[] = {"train_aug.txt", "trainaug.txt"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(list, n, "%s/ImageSets/Segmentation/%s", root, names[i]);
            if (is_file(list)) {
                *labels = "SegmentationClassAug";
                return DB_OK;
            }
        }
    }
    if (strcmp(split, "train") && strcmp(split, "val"))
        return db_fail(DB_ERR_ARG, "voc2012: split '%s': train or val", split);
    snprintf(list, n, "%s/ImageSets/Segmentation/%s.txt", root, split);
    return DB_OK;
}

/* The image id of a list line: its first word, or the file name without folder and extension */
static int id_of(const char *line, char *id, size_t n) {
    while (isspace((unsigned char)*line)) line++;
    size_t len = strcspn(line, " \t\r\n");
    if (!len || len >= n) return (int)len;
    memcpy(id, line, len);
    id[len] = '\0';
    char *slash = strrchr(id, '/');
    if (slash) memmove(id, slash + 1, strlen(slash));
    char *dot = strrchr(id, '.');
    if (dot && dot != id) *dot = '\0';
    return id[0] ? (int)len : 0;
}

static db_status add(db_dataset *out, int *cap, const char *image, const char *labels, int h, int w) {
    if (out->n == *cap) {
        const int c = *cap ? 2 * *cap : 1024;
        char **f = realloc(out->files, sizeof *f * (size_t)c);
        if (f) out->files = f;
        char **l = realloc(out->seg_files, sizeof *l * (size_t)c);
        if (l) out->seg_files = l;
        int *hw = realloc(out->hw, sizeof *hw * 2 * (size_t)c);
        if (hw) out->hw = hw;
        if (!f || !l || !hw) return db_fail(DB_ERR_NOMEM, "out of memory listing %s", out->source);
        *cap = c;
    }
    out->files[out->n] = strdup(image);
    out->seg_files[out->n] = strdup(labels);
    out->hw[2 * out->n] = h, out->hw[2 * out->n + 1] = w;
    out->n++;
    if (!out->files[out->n - 1] || !out->seg_files[out->n - 1]) return db_fail(DB_ERR_NOMEM, "out of memory");
    return DB_OK;
}

static db_status read_list(db_dataset *out, const char *root, const char *list, const char *labels) {
    FILE *f = fopen(list, "r");
    if (!f)
        return db_fail(DB_ERR_IO, "%s: cannot read: %s (is VOC 2012 unpacked there? dropbench data fetch voc2012, then "
                       "dropbench data unpack voc2012)", list, strerror(errno));
    char line[4096], id[512], image[4800], label[4800];
    int line_no = 0, cap = 0;
    db_status s = DB_OK;
    while (s == DB_OK && fgets(line, sizeof line, f)) {
        line_no++;
        const int len = id_of(line, id, sizeof id);
        if (len >= (int)sizeof id) {
            s = db_fail(DB_ERR_FORMAT, "%s line %d: the image id is too long", list, line_no);
            break;
        }
        if (!len) {
            if (line[strspn(line, " \t\r\n")]) { /* a word that names no image (a path ending in '/') */
                s = db_fail(DB_ERR_FORMAT, "%s line %d: '%.*s' names no image", list, line_no,
                            (int)strcspn(line, "\r\n"), line);
                break;
            }
            continue;
        }
        snprintf(image, sizeof image, "%s/JPEGImages/%s.jpg", root, id);
        snprintf(label, sizeof label, "%s/%s/%s.png", root, labels, id);
        int h = 0, w = 0;
        if (!is_file(image))
            s = db_fail(DB_ERR_IO, "%s: missing or not a file (%s line %d)", image, list, line_no);
        else if (!is_file(label))
            s = db_fail(DB_ERR_IO, "%s: missing or not a file (%s line %d)", label, list, line_no);
        else if ((s = db_label_png_size(label, &h, &w)) == DB_OK)
            s = add(out, &cap, image, label, h, w);
    }
    if (s == DB_OK && ferror(f)) s = db_fail(DB_ERR_IO, "%s: read error", list);
    fclose(f);
    if (s == DB_OK && out->n == 0) s = db_fail(DB_ERR_FORMAT, "%s: lists no image", list);
    return s;
}

db_status db_vocset_load(const char *dir, const char *split, int size, db_dataset *out) {
    memset(out, 0, sizeof *out);
    char root[4200], list[4400];
    snprintf(root, sizeof root, "%s/VOCdevkit/VOC2012", dir);
    if (!is_dir(root)) snprintf(root, sizeof root, "%s", dir);
    if (size < 8) return db_fail(DB_ERR_ARG, "voc2012: the network's input side (image_size) is %d", size);
    const char *labels;
    DB_TRY(split_of(root, split, list, sizeof list, &labels));
    snprintf(out->name, sizeof out->name, "%s", split);
    if (snprintf(out->source, sizeof out->source, "%s", list) >= (int)sizeof out->source)
        return db_fail(DB_ERR_ARG, "%s: the path is too long", list);
    out->c = 3, out->h = out->w = size, out->num_classes = DB_VOC_CLASSES;
    db_status s = read_list(out, root, list, labels);
    if (s == DB_OK && !(out->labels = calloc((size_t)out->n + 1, sizeof *out->labels)))
        s = db_fail(DB_ERR_NOMEM, "out of memory");
    if (s != DB_OK) {
        db_dataset_free(out);
        return s;
    }
    db_log(DB_LOG_INFO, "voc2012 %s: %d images listed in %s, label maps in %s/", split, out->n, list, labels);
    return DB_OK;
}
