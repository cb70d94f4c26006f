#include "datasets/synthetic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"

db_status db_synthetic_parse(const char *spec, int v[6]) {
    static const char *what[6] = {"training samples", "test samples", "channels", "height", "width", "classes"};
    static const long lo[6] = {1, 1, 1, 1, 1, 2}, hi[6] = {10000000, 10000000, 4, 4096, 4096, 256};
    const char *p = spec;
    for (int i = 0; i < 6; i++) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || (i < 5 ? *end != ',' : *end != '\0'))
            return db_fail(DB_ERR_ARG, "synthetic '%s': want N_TRAIN,N_TEST,C,H,W,CLASSES", spec);
        if (x < lo[i] || x > hi[i])
            return db_fail(DB_ERR_ARG, "synthetic '%s': %s %ld is outside %ld..%ld", spec, what[i], x, lo[i], hi[i]);
        v[i] = (int)x;
        p = end + 1;
    }
    if ((double)v[0] * v[2] * v[3] * v[4] > 8e9)
        return db_fail(DB_ERR_ARG, "synthetic '%s': more than 8 GB of images", spec);
    return DB_OK;
}

db_status db_synthetic(db_dataset *out, int n, int c, int h, int w, int classes, uint64_t seed, const char *name) {
    memset(out, 0, sizeof *out);
    size_t per = (size_t)c * h * w;
    out->images = malloc(per * (size_t)n);
    out->labels = malloc(sizeof *out->labels * (size_t)n);
    if (!out->images || !out->labels) {
        db_dataset_free(out);
        return db_fail(DB_ERR_NOMEM, "synthetic: out of memory for %d images of %dx%dx%d", n, c, h, w);
    }
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        uint8_t label = (uint8_t)(db_rand4(seed, DB_STREAM_SYNTHETIC, 0, (uint64_t)i).v[0] % (uint32_t)classes);
        out->labels[i] = label;
        int mean = 32 + (191 * label) / (classes - 1); /* 32 .. 223 */
        uint8_t *img = out->images + per * (size_t)i;
        for (size_t j = 0; j < per; j += 4) {
            db_u32x4 r = db_rand4(seed, DB_STREAM_SYNTHETIC, 1 + (uint32_t)i, j / 4);
            for (size_t k = 0; k < 4 && j + k < per; k++) {
                int v = mean + (int)(r.v[k] % 65) - 32;
                img[j + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    snprintf(out->name, sizeof out->name, "%s", name ? name : "synthetic");
    out->n = n; out->c = c; out->h = h; out->w = w;
    out->num_classes = classes;
    snprintf(out->source, sizeof out->source, "synthetic %dx%dx%dx%d, %d classes, seed %llu", n, c, h, w, classes,
             (unsigned long long)seed);
    return DB_OK;
}
