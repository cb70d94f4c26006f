#include "datasets/coco.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The index of id in the sorted ids, -1 when absent */
static int find(const int64_t *ids, int n, int64_t id) {
    const int64_t *hit = bsearch(&id, ids, (size_t)n, sizeof *ids, cmp_i64);
    return hit ? (int)(hit - ids) : -1;
}

static db_status load(const char *path, json_t **root) {
    json_error_t e;
    *root = NULL;
    FILE *f = fopen(path, "rb"); /* opened here: a missing file is said as such, not as bad JSON */
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot read the file: %s", path, strerror(errno));
    *root = json_loadf(f, JSON_DECODE_ANY, &e);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) { json_decref(*root); *root = NULL; return db_fail(DB_ERR_IO, "%s: reading the file failed", path); }
    if (!*root) return db_fail(DB_ERR_FORMAT, "%s: not JSON (line %d, column %d: %s)", path, e.line, e.column, e.text);
    return DB_OK;
}

static db_status get_int(const json_t *o, const char *key, int64_t *out, const char *path, const char *what, size_t i) {
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) { *out = json_integer_value(v); return DB_OK; }
    if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) && fabs(json_real_value(v)) < 9e15) {
        *out = (int64_t)json_real_value(v);
        return DB_OK;
    }
    return db_fail(DB_ERR_FORMAT, "%s: %s %zu: %s '%s'", path, what, i, v ? "a non-integer" : "no", key);
}

static db_status get_num(const json_t *o, const char *key, double *out, const char *path, const char *what, size_t i) {
    const json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) return db_fail(DB_ERR_FORMAT, "%s: %s %zu: %s '%s'", path, what, i, v ? "a non-number" : "no", key);
    *out = json_number_value(v);
    if (!isfinite(*out)) return db_fail(DB_ERR_FORMAT, "%s: %s %zu: '%s' is not finite", path, what, i, key);
    return DB_OK;
}

static db_status get_box(const json_t *o, db_coco_box *b, const char *path, const char *what, size_t i) {
    const json_t *bb = json_object_get(o, "bbox");
    if (!json_is_array(bb) || json_array_size(bb) != 4)
        return db_fail(DB_ERR_FORMAT, "%s: %s %zu: 'bbox' must be [x, y, w, h]", path, what, i);
    double v[4];
    for (size_t k = 0; k < 4; k++) {
        const json_t *x = json_array_get(bb, k);
        if (!json_is_number(x) || !isfinite(json_number_value(x)))
            return db_fail(DB_ERR_FORMAT, "%s: %s %zu: 'bbox' holds a non-number", path, what, i);
        v[k] = json_number_value(x);
    }
    if (v[2] < 0 || v[3] < 0)
        return db_fail(DB_ERR_FORMAT, "%s: %s %zu: negative box size %g x %g", path, what, i, v[2], v[3]);
    b->x = v[0]; b->y = v[1]; b->w = v[2]; b->h = v[3];
    return DB_OK;
}

/* The sorted, distinct ids of an array of objects */
static db_status ids_of(const json_t *arr, int64_t **out, int *n, const char *path, const char *what) {
    size_t len = json_array_size(arr);
    *out = malloc(sizeof(int64_t) * (len ? len : 1));
    if (!*out) return db_fail(DB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < len; i++) {
        const json_t *o = json_array_get(arr, i);
        if (!json_is_object(o)) return db_fail(DB_ERR_FORMAT, "%s: %s %zu is not an object", path, what, i);
        DB_TRY(get_int(o, "id", &(*out)[i], path, what, i));
    }
    qsort(*out, len, sizeof **out, cmp_i64);
    for (size_t i = 1; i < len; i++)
        if ((*out)[i] == (*out)[i - 1])
            return db_fail(DB_ERR_FORMAT, "%s: %s id %lld appears twice", path, what, (long long)(*out)[i]);
    *n = (int)len;
    return DB_OK;
}

static db_status gt_from(db_coco *c, const json_t *root, const char *path) {
    if (!json_is_object(root)) return db_fail(DB_ERR_FORMAT, "%s: not a COCO annotation file (want an object)", path);
    const json_t *images = json_object_get(root, "images"), *cats = json_object_get(root, "categories"),
                 *anns = json_object_get(root, "annotations");
    if (!json_is_array(images) || !json_is_array(cats) || !json_is_array(anns))
        return db_fail(DB_ERR_FORMAT, "%s: a COCO annotation file has 'images', 'categories' and 'annotations' lists", path);
    if (json_array_size(anns) > 100000000) return db_fail(DB_ERR_FORMAT, "%s: too many annotations", path);
    DB_TRY(ids_of(images, &c->image_ids, &c->n_images, path, "image"));
    DB_TRY(ids_of(cats, &c->category_ids, &c->n_categories, path, "category"));
    c->file_names = calloc((size_t)c->n_images + 1, sizeof *c->file_names);
    c->heights = calloc((size_t)c->n_images + 1, sizeof *c->heights);
    c->widths = calloc((size_t)c->n_images + 1, sizeof *c->widths);
    if (!c->file_names || !c->heights || !c->widths) return db_fail(DB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(images); i++) { /* where a training reader finds the pixels */
        const json_t *o = json_array_get(images, i), *f = json_object_get(o, "file_name");
        int64_t id, size[2] = {0, 0};
        DB_TRY(get_int(o, "id", &id, path, "image", i));
        const int at = find(c->image_ids, c->n_images, id);
        if (f && !json_is_string(f)) return db_fail(DB_ERR_FORMAT, "%s: image %zu: 'file_name' is not a string", path, i);
        if (f && !(c->file_names[at] = strdup(json_string_value(f)))) return db_fail(DB_ERR_NOMEM, "out of memory");
        for (int k = 0; k < 2; k++) {
            const char *key = k ? "width" : "height";
            if (!json_object_get(o, key)) continue;
            DB_TRY(get_int(o, key, &size[k], path, "image", i));
            if (size[k] < 1 || size[k] > 1 << 20)
                return db_fail(DB_ERR_FORMAT, "%s: image %zu: '%s' %lld is not a size in pixels", path, i, key,
                               (long long)size[k]);
        }
        c->heights[at] = (int)size[0], c->widths[at] = (int)size[1];
    }
    int64_t *ann_ids = NULL; /* annotation ids are unique too (pycocotools keys them in a dict) */
    int n_ann;
    db_status dup = ids_of(anns, &ann_ids, &n_ann, path, "annotation");
    free(ann_ids);
    DB_TRY(dup);
    size_t n = json_array_size(anns);
    c->gt = calloc(n ? n : 1, sizeof *c->gt);
    if (!c->gt) return db_fail(DB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_array_get(anns, i);
        db_coco_box *b = &c->gt[i];
        int64_t img, cat, crowd = 0;
        if (!json_is_object(a)) return db_fail(DB_ERR_FORMAT, "%s: annotation %zu is not an object", path, i);
        DB_TRY(get_int(a, "id", &b->id, path, "annotation", i));
        DB_TRY(get_int(a, "image_id", &img, path, "annotation", i));
        DB_TRY(get_int(a, "category_id", &cat, path, "annotation", i));
        DB_TRY(get_box(a, b, path, "annotation", i));
        DB_TRY(get_num(a, "area", &b->area, path, "annotation", i));
        if (b->area < 0)
            return db_fail(DB_ERR_FORMAT, "%s: annotation %zu: a negative area (%g)", path, i, b->area);
        const json_t *cr = json_object_get(a, "iscrowd");
        if (json_is_boolean(cr)) crowd = json_is_true(cr); /* (pycocotools takes true and false too) */
        else if (cr) DB_TRY(get_int(a, "iscrowd", &crowd, path, "annotation", i));
        b->iscrowd = crowd != 0;
        if ((b->image = find(c->image_ids, c->n_images, img)) < 0)
            return db_fail(DB_ERR_FORMAT, "%s: annotation %zu: image_id %lld is not among the images", path, i, (long long)img);
        if ((b->category = find(c->category_ids, c->n_categories, cat)) < 0)
            return db_fail(DB_ERR_FORMAT, "%s: annotation %zu: category_id %lld is not among the categories", path, i,
                           (long long)cat);
    }
    c->n_gt = (int)n;
    return DB_OK;
}

db_status db_coco_load_gt(db_coco *c, const char *path) {
    memset(c, 0, sizeof *c);
    json_t *root;
    DB_TRY(load(path, &root));
    db_status s = gt_from(c, root, path);
    json_decref(root);
    if (s != DB_OK) db_coco_free(c);
    return s;
}

static db_status dt_from(db_coco *c, const json_t *root, const char *path) {
    if (!json_is_array(root)) return db_fail(DB_ERR_FORMAT, "%s: a results file is a list of detections", path);
    size_t n = json_array_size(root);
    if (n > 100000000) return db_fail(DB_ERR_FORMAT, "%s: too many results", path);
    c->dt = calloc(n ? n : 1, sizeof *c->dt);
    if (!c->dt) return db_fail(DB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_array_get(root, i);
        db_coco_box *b = &c->dt[i];
        int64_t img, cat;
        if (!json_is_object(a)) return db_fail(DB_ERR_FORMAT, "%s: result %zu is not an object", path, i);
        DB_TRY(get_int(a, "image_id", &img, path, "result", i));
        DB_TRY(get_int(a, "category_id", &cat, path, "result", i));
        DB_TRY(get_box(a, b, path, "result", i));
        DB_TRY(get_num(a, "score", &b->score, path, "result", i));
        if ((b->image = find(c->image_ids, c->n_images, img)) < 0)
            return db_fail(DB_ERR_FORMAT, "%s: result %zu: image_id %lld is not in the ground truth", path, i, (long long)img);
        b->category = find(c->category_ids, c->n_categories, cat); /* unknown: never evaluated, as pycocotools */
        b->area = b->w * b->h;
        b->id = (int64_t)i + 1;
    }
    c->n_dt = (int)n;
    int unknown = 0;
    for (size_t i = 0; i < n; i++) unknown += c->dt[i].category < 0;
    if (n && unknown == (int)n)
        return db_fail(DB_ERR_FORMAT, "%s: none of the %zu results' category_id is among the ground truth's %d "
                       "categories (ids %lld to %lld): indices counted from 0 instead of the ground truth's ids?", path, n,
                       c->n_categories, c->n_categories ? (long long)c->category_ids[0] : 0LL,
                       c->n_categories ? (long long)c->category_ids[c->n_categories - 1] : 0LL);
    return DB_OK;
}

db_status db_coco_load_results(db_coco *c, const char *path) {
    free(c->dt);
    c->dt = NULL;
    c->n_dt = 0;
    json_t *root;
    DB_TRY(load(path, &root));
    db_status s = dt_from(c, root, path);
    json_decref(root);
    if (s != DB_OK) { free(c->dt); c->dt = NULL; c->n_dt = 0; }
    return s;
}

db_status db_coco_write_results(const db_coco *c, const char *path) {
    json_t *all = json_array();
    db_status s = all ? DB_OK : db_fail(DB_ERR_NOMEM, "out of memory writing %s", path);
    for (int i = 0; i < c->n_dt && s == DB_OK; i++) {
        const db_coco_box *b = &c->dt[i];
        if (!db_coco_box_finite(b)) {
            s = db_fail(DB_ERR_ARG, "%s: detection %d (image id %lld) has a box or score that is not finite; JSON "
                        "holds no such number", path, i, (long long)c->image_ids[b->image]);
            break;
        }
        json_t *e = json_pack("{s:I, s:I, s:[f, f, f, f], s:f}", "image_id", (json_int_t)c->image_ids[b->image],
                              "category_id", (json_int_t)c->category_ids[b->category], "bbox", b->x, b->y, b->w, b->h,
                              "score", b->score);
        if (!e || json_array_append_new(all, e) != 0) s = db_fail(DB_ERR_NOMEM, "out of memory writing %s", path);
    }
    char tmp[4200];
    if (s == DB_OK && snprintf(tmp, sizeof tmp, "%s.part", path) >= (int)sizeof tmp)
        s = db_fail(DB_ERR_ARG, "%s: the path is too long", path);
    if (s == DB_OK && json_dump_file(all, tmp, JSON_COMPACT | JSON_REAL_PRECISION(17)) != 0) {
        remove(tmp);
        s = db_fail(DB_ERR_IO, "%s: cannot write", tmp);
    }
    if (s == DB_OK && rename(tmp, path) != 0) s = db_fail(DB_ERR_IO, "%s: cannot rename to %s", tmp, path);
    json_decref(all);
    return s;
}

void db_coco_first_images(db_coco *c, int n) {
    if (n <= 0 || n >= c->n_images) return;
    int g = 0, d = 0;
    for (int i = 0; i < c->n_gt; i++)
        if (c->gt[i].image < n) c->gt[g++] = c->gt[i];
    for (int i = 0; i < c->n_dt; i++)
        if (c->dt[i].image < n) c->dt[d++] = c->dt[i];
    for (int i = n; c->file_names && i < c->n_images; i++) free(c->file_names[i]), c->file_names[i] = NULL;
    c->n_gt = g, c->n_dt = d, c->n_images = n; /* (db_coco_free frees the first n names, and the arrays) */
}

void db_coco_free(db_coco *c) {
    for (int i = 0; c->file_names && i < c->n_images; i++) free(c->file_names[i]);
    free(c->file_names);
    free(c->heights);
    free(c->widths);
    free(c->image_ids); free(c->category_ids); free(c->gt); free(c->dt);
    memset(c, 0, sizeof *c);
}
