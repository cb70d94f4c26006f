/* libFuzzer target: the detection and segmentation sets' reader (datasets/detset.c, segset.c)
 * and, on what it accepts, where the boxes and pixels land in a batch (datasets/detbatch.c): the
 * input is a split's instances JSON, beside a fixture folder holding a 16x16 grey PNG (a.png,
 * with its label map) and a 24x20 JPEG (b.jpg). Every placed box must lie inside the batch's
 * input and be at least a pixel wide and high, mapped back inside its image; a batch that
 * fills must hold finite values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "datasets/batch.h"
#include "datasets/detbatch.h"
#include "datasets/detset.h"
#include "datasets/segset.h"
#include "datasets/voc.h"
#include "tests/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void fixture(void) {
    char path[128];
    snprintf(dir, sizeof dir, "/tmp/fuzz_detset_XXXXXX");
    if (!mkdtemp(dir)) abort();
    uint8_t png[16 * 16], lab[16 * 16], rgb[24 * 20 * 3];
    for (int i = 0; i < 16 * 16; i++) png[i] = (uint8_t)(i * 7), lab[i] = (uint8_t)(i % 3);
    for (int i = 0; i < 24 * 20 * 3; i++) rgb[i] = (uint8_t)(i * 13);
    snprintf(path, sizeof path, "%s/annotations", dir);
    if (mkdir(path, 0777)) abort();
    snprintf(path, sizeof path, "%s/segmentation", dir);
    if (mkdir(path, 0777)) abort();
    snprintf(path, sizeof path, "%s/a.png", dir);
    if (db_grey_png_write(path, png, 16, 16) != DB_OK) abort();
    snprintf(path, sizeof path, "%s/segmentation/a.png", dir);
    if (db_grey_png_write(path, lab, 16, 16) != DB_OK) abort();
    snprintf(path, sizeof path, "%s/b.jpg", dir);
    if (db_test_write_jpeg(path, rgb, 20, 24, 3) != DB_OK) abort();
}

static void check_set(db_dataset *d) {
    const int n = d->n < 8 ? d->n : 8;
    const db_augment aug = {d->files ? 0 : 2, 1, 0, 0, d->files ? 0.5f : 0.0f, d->files ? 1.5f : 0.0f, 0};
    for (int i = 0; i < n; i++) {
        const int m = d->det->count[i];
        float *boxes = malloc(sizeof(float) * 4 * (size_t)(m + 1));
        int *cls = malloc(sizeof(int) * (size_t)(m + 1)), kept;
        for (int a = 0; a < 2; a++) {
            db_det_boxes(d, i, a ? &aug : NULL, 3, 1, boxes, cls, &kept);
            if (kept < 0 || kept > m) abort();
            for (int k = 0; k < kept; k++) {
                const float *b = boxes + 4 * k;
                if (!(b[0] >= 0 && b[1] >= 0 && b[2] <= d->h && b[3] <= d->w && b[2] - b[0] >= 1 && b[3] - b[1] >= 1))
                    abort();
                if (cls[k] < 0 || cls[k] >= d->num_classes) abort();
                if (!a) {
                    float back[4] = {b[0], b[1], b[2], b[3]};
                    db_det_to_image(d, i, back);
                    for (int j = 0; j < 4; j++)
                        if (!isfinite(back[j]) || back[j] < 0) abort();
                }
            }
        }
        free(boxes);
        free(cls);
    }
    if (n == 0) return;
    int order[8], labels[8];
    for (int i = 0; i < n; i++) order[i] = i;
    float *out = malloc(sizeof(float) * (size_t)d->c * n * d->h * d->w);
    if (db_batch_fill(d, order, n, &aug, NULL, 3, 1, out, labels) == DB_OK)
        for (size_t k = 0; k < (size_t)d->c * n * d->h * d->w; k++)
            if (!isfinite(out[k])) abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) fixture();
    char path[128];
    snprintf(path, sizeof path, "%s/annotations/instances_f.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f)) abort();
    db_dataset d;
    if (db_detset_load(dir, "f", 32, &d) == DB_OK) {
        if ((size_t)d.n * d.h * d.w <= 1u << 22) check_set(&d);
        db_dataset_free(&d);
    }
    if (db_segset_load(dir, "f", &d) == DB_OK) db_dataset_free(&d);
    return 0;
}
