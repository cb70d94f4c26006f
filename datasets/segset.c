#include "datasets/segset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/detset.h"
#include "datasets/voc.h"

static db_status labels_of(db_dataset *out, const char *dir) {
    const db_coco *g = &out->det->gt;
    const size_t plane = (size_t)out->h * out->w;
    out->seg = malloc(plane * (size_t)out->n + 1);
    if (!out->seg) return db_fail(DB_ERR_NOMEM, "out of memory for %d label maps", out->n);
    char path[4400];
    for (int im = 0; im < out->n; im++) {
        if (snprintf(path, sizeof path, "%s/segmentation/%s", dir, g->file_names[im]) >= (int)sizeof path)
            return db_fail(DB_ERR_ARG, "%s: the path is too long", dir);
        uint8_t *px = NULL;
        int h = 0, w = 0;
        db_status s = db_grey_png_read(path, &px, &h, &w);
        if (s == DB_ERR_IO && im == 0)
            return db_fail(DB_ERR_IO, "%s: no label map: build the set again with this version (dropbench data make "
                           "fmnist-detect writes the label maps beside the boxes)", path);
        DB_TRY(s);
        if (h != out->h || w != out->w) {
            free(px);
            return db_fail(DB_ERR_FORMAT, "%s: %dx%d, its image is %dx%d", path, w, h, out->w, out->h);
        }
        for (size_t k = 0; k < plane; k++)
            if (px[k] >= out->num_classes && px[k] != DB_SEG_IGNORE) {
                const int v = px[k];
                free(px);
                return db_fail(DB_ERR_FORMAT, "%s: pixel (%zu, %zu) is %d: neither a class (0..%d) nor %d (ignored)", path,
                               k % (size_t)w, k / (size_t)w, v, out->num_classes - 1, DB_SEG_IGNORE);
            }
        memcpy(out->seg + plane * (size_t)im, px, plane);
        free(px);
    }
    return DB_OK;
}

db_status db_segset_load(const char *dir, const char *split, db_dataset *out) {
    DB_TRY(db_detset_load(dir, split, 0, out));
    db_status s = out->files ? db_fail(DB_ERR_UNSUPPORTED, "%s: fmnist-segment reads grey PNG canvases (JPEG sets with label PNGs: voc2012)",
                                       out->source)
                             : DB_OK;
    out->num_classes += 1; /* the background */
    if (s == DB_OK && out->num_classes > DB_SEG_IGNORE)
        s = db_fail(DB_ERR_FORMAT, "%s: %d categories: at most %d", out->source, out->num_classes - 1, DB_SEG_IGNORE - 1);
    if (s == DB_OK) s = labels_of(out, dir);
    if (s != DB_OK) db_dataset_free(out);
    return s;
}
