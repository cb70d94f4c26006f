#include "datasets/folder.h"

#include "core/parallel.h"

#include <strings.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/philox.h"
#include "datasets/autoaugment.h"
#include "datasets/image.h"

static int push(db_names *l, const char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    return (l->v[l->n] = strdup(s)) ? l->n++, 0 : -1;
}

void db_names_free(db_names *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int has_ext(const char *f, const char *const *exts) {
    const char *dot = strrchr(f, '.');
    for (int i = 0; dot && exts && exts[i]; i++)
        if (!strcasecmp(dot + 1, exts[i])) return 1;
    return 0;
}

/* out = a/b, refused when it does not fit */
static db_status join(char *out, size_t n, const char *a, const char *b) {
    int len = snprintf(out, n, "%s/%s", a, b);
    return len >= 0 && (size_t)len < n ? DB_OK : db_fail(DB_ERR_ARG, "%s/%s: path too long", a, b);
}

db_status db_dir_list(const char *dir, int dirs, const char *const *exts, db_names *out) {
    DIR *d = opendir(dir);
    if (!d) return db_fail(DB_ERR_IO, "%s: cannot read the folder: %s", dir, strerror(errno));
    struct dirent *e;
    db_status s = DB_OK;
    while (s == DB_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        struct stat st;
        if ((s = join(p, sizeof p, dir, e->d_name)) != DB_OK) break;
        if (stat(p, &st) != 0) { s = db_fail(DB_ERR_IO, "%s: %s", p, strerror(errno)); break; }
        if (dirs ? S_ISDIR(st.st_mode) : (S_ISREG(st.st_mode) && has_ext(e->d_name, exts)))
            if (push(out, e->d_name) != 0) s = db_fail(DB_ERR_NOMEM, "out of memory listing %s", dir);
    }
    closedir(d);
    if (s == DB_OK && out->n) qsort(out->v, (size_t)out->n, sizeof *out->v, by_name);
    return s;
}

static const char *const jpeg_exts[] = {"jpeg", "jpg", NULL};

static int class_of(const db_names *classes, const char *name) {
    char *const *hit = bsearch(&name, classes->v, (size_t)classes->n, sizeof *classes->v, by_name);
    return hit ? (int)(hit - classes->v) : -1;
}

/* Adds sample path with label to out (files, labels grown together) */
static db_status add_sample(db_dataset *out, int *cap, const char *path, int label) {
    if (out->n == *cap) {
        int c = *cap ? 2 * *cap : 1024;
        char **f = realloc(out->files, sizeof *f * (size_t)c);
        if (f) out->files = f;
        uint16_t *l = realloc(out->labels, sizeof *l * (size_t)c);
        if (l) out->labels = l;
        if (!f || !l) return db_fail(DB_ERR_NOMEM, "out of memory listing images");
        *cap = c;
    }
    if (!(out->files[out->n] = strdup(path))) return db_fail(DB_ERR_NOMEM, "out of memory listing images");
    out->labels[out->n++] = (uint16_t)label;
    return DB_OK;
}

/* ROOT/val without class folders: the labels file, each image it lists there, once (found now,
 * not at the first evaluation after a training epoch) */
static db_status flat_split(const char *root, const char *dir, const db_names *classes, db_dataset *out, int *cap) {
    char lp[4096];
    DB_TRY(join(lp, sizeof lp, root, "val_labels.txt"));
    FILE *f = fopen(lp, "r");
    if (!f) return db_fail(DB_ERR_IO, "%s has no class folders and %s cannot be read: %s", dir, lp, strerror(errno));
    char line[1024];
    int lineno = 0;
    db_status s = DB_OK;
    while (s == DB_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char file[512], cls[256];
        if (sscanf(line, "%511s %255s", file, cls) != 2) {
            if (strspn(line, " \t\r\n") == strlen(line)) continue;
            s = db_fail(DB_ERR_FORMAT, "%s:%d: want FILE CLASS", lp, lineno);
            break;
        }
        int label = class_of(classes, cls);
        char *end;
        long idx = strtol(cls, &end, 10);
        if (label < 0 && !*end && idx >= 0 && idx < classes->n) label = (int)idx;
        if (label < 0 || strchr(file, '/')) {
            s = db_fail(DB_ERR_FORMAT, "%s:%d: %s", lp, lineno, label < 0 ? "a class that is not a training class" : "FILE must be a plain name");
            break;
        }
        char p[4096];
        struct stat st;
        s = join(p, sizeof p, dir, file);
        const int there = s == DB_OK && stat(p, &st) == 0;
        if (s == DB_OK && (!there || !S_ISREG(st.st_mode)))
            s = db_fail(DB_ERR_FORMAT, "%s:%d: %s: %s", lp, lineno, p, there ? "not a file" : strerror(errno));
        if (s == DB_OK) s = add_sample(out, cap, p, label);
    }
    fclose(f);
    char **sorted = s == DB_OK && out->n > 1 ? malloc(sizeof *sorted * (size_t)out->n) : NULL;
    if (s == DB_OK && out->n > 1 && !sorted) s = db_fail(DB_ERR_NOMEM, "out of memory listing images");
    if (sorted) {
        memcpy(sorted, out->files, sizeof *sorted * (size_t)out->n);
        qsort(sorted, (size_t)out->n, sizeof *sorted, by_name);
        for (int i = 1; i < out->n && s == DB_OK; i++)
            if (!strcmp(sorted[i - 1], sorted[i])) s = db_fail(DB_ERR_FORMAT, "%s: %s is listed twice", lp, sorted[i]);
        free(sorted);
    }
    return s;
}

db_status db_folder_load(const char *root, const char *split, int size, float eval_crop, db_dataset *out) {
    memset(out, 0, sizeof *out);
    if (strcmp(split, "train") && strcmp(split, "val"))
        return db_fail(DB_ERR_ARG, "image folder: split '%s' must be train or val", split);
    if (size < 8 || size > 2048 || !(eval_crop > 0 && eval_crop <= 1))
        return db_fail(DB_ERR_ARG, "image folder: size %d (8..2048), eval crop %g ((0, 1])", size, (double)eval_crop);
    char tdir[4096], dir[4096];
    DB_TRY(join(tdir, sizeof tdir, root, "train"));
    DB_TRY(join(dir, sizeof dir, root, split));
    db_names classes = {0}, sub = {0};
    db_status s = db_dir_list(tdir, 1, NULL, &classes);
    if (s == DB_OK && classes.n < 2)
        s = db_fail(DB_ERR_FORMAT, "%s: %d class folders; an image-folder data set needs train/<class>/ folders", tdir, classes.n);
    if (s == DB_OK && classes.n > 65535) s = db_fail(DB_ERR_FORMAT, "%s: more than 65535 classes", tdir);
    if (s == DB_OK) s = db_dir_list(dir, 1, NULL, &sub);
    int cap = 0, empty = 0;
    char first_empty[4096] = "";
    if (s == DB_OK && sub.n == 0 && !strcmp(split, "val")) s = flat_split(root, dir, &classes, out, &cap);
    for (int c = 0; s == DB_OK && c < sub.n; c++) {
        int label = class_of(&classes, sub.v[c]);
        if (label < 0) { s = db_fail(DB_ERR_FORMAT, "%s/%s: not one of the training classes", dir, sub.v[c]); break; }
        char cdir[4096];
        db_names files = {0};
        s = join(cdir, sizeof cdir, dir, sub.v[c]);
        if (s == DB_OK) s = db_dir_list(cdir, 0, jpeg_exts, &files);
        for (int i = 0; s == DB_OK && i < files.n; i++) {
            char p[4096];
            s = join(p, sizeof p, cdir, files.v[i]);
            if (s == DB_OK) s = add_sample(out, &cap, p, label);
        }
        if (s == DB_OK && files.n == 0 && !empty++) snprintf(first_empty, sizeof first_empty, "%s", cdir);
        db_names_free(&files);
    }
    if (s == DB_OK && empty && out->n > 0) /* counted among the classes, never seen in this split */
        db_log(DB_LOG_NOTE, "%d class folder%s of %s hold%s no JPEG images (.jpg or .jpeg files; e.g. %s)", empty,
               empty == 1 ? "" : "s", dir, empty == 1 ? "s" : "", first_empty);
    if (s == DB_OK && out->n == 0) s = db_fail(DB_ERR_FORMAT, "%s: no JPEG images", dir);
    int n_classes = classes.n;
    db_names_free(&classes);
    db_names_free(&sub);
    if (s != DB_OK) { db_dataset_free(out); return s; }
    snprintf(out->name, sizeof out->name, "folder-%s", split);
    snprintf(out->source, sizeof out->source, "%.1000s", dir);
    out->c = 3; out->h = out->w = size;
    out->num_classes = n_classes;
    out->eval_crop = eval_crop;
    return DB_OK;
}

/* ---- transforms ---- */

typedef struct {
    int train;
    float area_min;
    float eval_crop;
    uint64_t seed;
    uint32_t epoch;
    int sample;
} pick_ctx;

static double u01(uint32_t x) { return (x >> 8) * (1.0 / 16777216.0); }

/* torchvision's RandomResizedCrop rule, from the draws of (seed, epoch, sample) */
static void pick(int H, int W, void *arg, db_crop *c) {
    const pick_ctx *p = arg;
    if (p->train) {
        double area = (double)H * W, lr0 = log(3.0 / 4.0), lr1 = log(4.0 / 3.0);
        for (int t = 0; t < 10; t++) {
            db_u32x4 r = db_rand4(p->seed, DB_STREAM_AUGMENT, p->epoch, ((uint64_t)p->sample << 4) | (uint64_t)t);
            double target = area * (p->area_min + (1.0 - p->area_min) * u01(r.v[0]));
            double ratio = exp(lr0 + (lr1 - lr0) * u01(r.v[1]));
            int w = (int)lround(sqrt(target * ratio)), h = (int)lround(sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= W && h <= H) {
                c->y0 = (double)(r.v[2] % (uint32_t)(H - h + 1));
                c->x0 = (double)(r.v[3] % (uint32_t)(W - w + 1));
                c->h = h; c->w = w;
                return;
            }
        }
        double ratio = (double)W / H; /* the fallback: the centre, the ratio clamped */
        int w = W, h = H;
        if (ratio < 3.0 / 4.0) h = (int)lround(w / (3.0 / 4.0));
        else if (ratio > 4.0 / 3.0) w = (int)lround(h * (4.0 / 3.0));
        c->y0 = (H - h) / 2; c->x0 = (W - w) / 2; c->h = h; c->w = w;
        return;
    }
    double side = (H < W ? H : W) * (double)p->eval_crop; /* resize short side, centre crop */
    c->h = c->w = side;
    c->y0 = (H - side) / 2;
    c->x0 = (W - side) / 2;
}

static db_status fill_one(void *arg, int i) {
    const db_fill_job *f = arg;
    const int s = f->order[i], S = f->d->h;
    const size_t plane = (size_t)S * S;
    f->labels[i] = f->d->labels[s];
    pick_ctx ctx = {f->aug && f->aug->inception, f->aug ? f->aug->area_min : 1.0f, f->d->eval_crop, f->seed, f->epoch, s};
    const int mirror = f->aug && f->aug->flip &&
                       (db_rand4(f->seed, DB_STREAM_AUGMENT, f->epoch, ((uint64_t)s << 4) | 15).v[0] >> 31);
    float *planes[3];
    for (int c = 0; c < 3; c++) planes[c] = f->out + ((size_t)c * f->count + i) * plane;
    if (!f->aug || !f->aug->autoaugment)
        return db_jpeg_to_planes(f->d->files[s], pick, &ctx, S, S, mirror, f->scale, f->bias, planes, S);
    /* AutoAugment works on the crop as bytes: resampled in pixel units, rounded, the policy, then
     * normalised */
    static const float unit[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
    DB_TRY(db_jpeg_to_planes(f->d->files[s], pick, &ctx, S, S, mirror, unit, zero, planes, S));
    uint8_t *px = malloc(2 * 3 * plane);
    if (!px) return db_fail(DB_ERR_NOMEM, "out of memory for AutoAugment's copy of %s", f->d->files[s]);
    for (int c = 0; c < 3; c++)
        for (size_t k = 0; k < plane; k++) {
            const float v = planes[c][k];
            px[(size_t)c * plane + k] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)(v + 0.5f);
        }
    db_autoaugment(px, px + 3 * plane, 3, S, S, f->seed, f->epoch, s);
    db_norm_bytes(px, 3, plane, f->scale, f->bias, planes[0], (size_t)f->count * plane);
    free(px);
    return DB_OK;
}

db_status db_folder_fill(const db_dataset *d, const int *order, int count, const db_augment *aug, const db_norm *norm,
                         uint64_t seed, uint32_t epoch, float *out, int *labels) {
    db_fill_job f = db_fill_job_of(d, order, count, aug, norm, seed, epoch, out, labels);
    return db_parallel_each(count, fill_one, &f);
}
