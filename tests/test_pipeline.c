/* Tests of the batch pipeline (datasets/pipeline.h) and the synthetic data sets: every batch
 * equal, bit for bit, to filling it on the spot, whatever the worker count and ring depth; a
 * pipeline stopped mid-epoch or started mid-epoch; synthetic data deterministic per seed. */
#include <stdlib.h>
#include <string.h>

#include "datasets/batch.h"
#include "datasets/pipeline.h"
#include "datasets/synthetic.h"
#include "tests/check.h"

static void test_pipeline_same_batches(void) {
    db_dataset d;
    CHECK_OK(db_synthetic(&d, 1000, 3, 8, 8, 10, 5, "t"));
    db_norm norm;
    CHECK_OK(db_norm_compute(&d, &norm));
    db_augment aug = {2, 1, 0, 0, 0, 0, 0};
    const int B = 32, steps = d.n / B;
    size_t floats = (size_t)3 * B * 8 * 8;
    int *order = malloc(sizeof(int) * (size_t)d.n), labels[32], ref_labels[32];
    float *x = malloc(sizeof(float) * floats), *ref = malloc(sizeof(float) * floats);
    db_epoch_order(d.n, 9, 3, order);
    const int workers[4] = {0, 1, 3, 2}, depth[4] = {0, 1, 5, 2};
    for (int k = 0; k < 4; k++) {
        for (int first = 0; first <= 7; first += 7) { /* from the start, and resumed at step 7 */
            db_pipeline *p;
            db_pipeline_cfg pc = {&d, order, B, first, steps, &aug, &norm, 9, 3, workers[k], depth[k]};
            CHECK_OK(db_pipeline_start(&p, &pc));
            int differ = 0;
            for (int s = first; s < steps && p; s++) {
                CHECK_OK(db_pipeline_take(p, x, labels));
                db_batch_fill(&d, order + (size_t)s * B, B, &aug, &norm, 9, 3, ref, ref_labels);
                differ += memcmp(x, ref, sizeof(float) * floats) != 0 || memcmp(labels, ref_labels, sizeof labels) != 0;
            }
            CHECK(differ == 0, "%d of %d batches differ with %d workers, depth %d, from step %d", differ, steps - first,
                  workers[k], depth[k], first);
            CHECK(p && db_pipeline_take(p, x, labels) != DB_OK, "a take past the epoch is refused");
            db_pipeline_stop(p);
        }
    }
    /* stopped after two of the epoch's batches, with workers waiting on a full ring */
    db_pipeline *p;
    db_pipeline_cfg pc = {&d, order, B, 0, steps, &aug, &norm, 9, 3, 4, 2};
    CHECK_OK(db_pipeline_start(&p, &pc));
    CHECK_OK(db_pipeline_take(p, x, labels));
    CHECK_OK(db_pipeline_take(p, x, labels));
    db_pipeline_stop(p);
    db_pipeline_stop(NULL);
    free(order); free(x); free(ref);
    db_dataset_free(&d);
}

static void test_synthetic(void) {
    db_dataset a, b;
    CHECK_OK(db_synthetic(&a, 500, 2, 5, 7, 4, 11, NULL));
    CHECK_OK(db_synthetic(&b, 500, 2, 5, 7, 4, 11, NULL));
    CHECK(a.n == 500 && a.c == 2 && a.h == 5 && a.w == 7 && a.num_classes == 4, "shape");
    CHECK(!memcmp(a.images, b.images, 500 * 70) && !memcmp(a.labels, b.labels, 500 * sizeof *a.labels), "the same seed, the same data");
    int count[4] = {0}, lo = 255, hi = 0;
    double mean[4] = {0};
    for (int i = 0; i < 500; i++) {
        CHECK(a.labels[i] < 4, "label %d", a.labels[i]);
        if (a.labels[i] >= 4) break;
        count[a.labels[i]]++;
        for (int j = 0; j < 70; j++) mean[a.labels[i]] += a.images[i * 70 + j];
    }
    for (int k = 0; k < 4; k++) {
        CHECK(count[k] > 80, "class %d has %d samples", k, count[k]);
        mean[k] /= 70.0 * (count[k] ? count[k] : 1);
        if (mean[k] < lo) lo = (int)mean[k];
        if (mean[k] > hi) hi = (int)mean[k];
    }
    CHECK(mean[0] < mean[1] && mean[1] < mean[2] && mean[2] < mean[3], "classes separable by brightness: %.0f %.0f %.0f %.0f",
          mean[0], mean[1], mean[2], mean[3]);
    db_dataset_free(&b);
    CHECK_OK(db_synthetic(&b, 500, 2, 5, 7, 4, 12, NULL));
    CHECK(memcmp(a.images, b.images, 500 * 70) != 0, "another seed, other data");
    db_dataset_free(&a);
    db_dataset_free(&b);
    int v[6];
    CHECK_OK(db_synthetic_parse("100,20,3,32,32,10", v));
    CHECK(v[0] == 100 && v[1] == 20 && v[2] == 3 && v[5] == 10, "parsed");
    CHECK(db_synthetic_parse("100,20,3,32,32", v) == DB_ERR_ARG, "five numbers");
    CHECK(db_synthetic_parse("100,20,5,32,32,10", v) == DB_ERR_ARG && strstr(db_last_error(), "channels"), "5 channels");
    CHECK(db_synthetic_parse("100,20,3,32,32,1", v) == DB_ERR_ARG, "one class");
    CHECK(db_synthetic_parse("100,20,3,32,32,10x", v) == DB_ERR_ARG, "trailing junk");
}

const db_test db_tests_pipeline[] = {
    {"pipeline_same_batches", test_pipeline_same_batches},
    {"synthetic_data", test_synthetic},
    {NULL, NULL},
};
