#include "train/task.h"

#include <stdio.h>
#include <string.h>

#include "nets/graph.h"
#include "nets/model.h"
#include "nets/retinanet.h"
#include "nets/segnet.h"

/* The classifier of cfg->model for the training set's shape and classes */
static db_status classify_build(db_graph *g, const db_config *cfg, const db_dataset *train, int n_max, void **state) {
    db_model_config mc;
    *state = NULL;
    DB_TRY(db_config_classifier(cfg, train->num_classes, train->c, train->h, train->w, &mc));
    return db_model_build(g, &mc, n_max);
}

/* Classification: softmax cross-entropy (with label smoothing in training), top-1 counted while
 * training, loss, top-1 and top-5 on the test split */
/* A step's result counted, or nothing where none came (a GPU's first step after a flush) */
static void classify_count(int have, int c1, double *loss, double *sums, int *finite) {
    if (have) sums[0] += c1;
    else *loss = 0.0, *finite = 1;
}

static db_status classify_step(db_stepper *st, void *state, const db_task_batch *b, double *loss, double *sums,
                               int *finite) {
    int c1 = 0, c5 = 0, have = 0;
    (void)state;
    DB_TRY(db_stepper_train_loss(st, b->label_smoothing, loss, &c1, &c5, finite, &have));
    classify_count(have, c1, loss, sums, finite);
    return DB_OK;
}

static db_status classify_flush(db_stepper *st, void *state, double *loss, double *sums, int *finite, int *have) {
    int c1 = 0, c5 = 0;
    (void)state;
    DB_TRY(db_stepper_train_flush(st, loss, &c1, &c5, finite, have));
    classify_count(*have, c1, loss, sums, finite);
    return DB_OK;
}

static void classify_train_metrics(const double *sums, double samples, double *out) { out[0] = sums[0] / samples; }

static db_status classify_evaluate(db_stepper *st, void *state, const db_dataset *d, const db_norm *norm, int *order,
                                   double *out) {
    db_graph *g = st->g;
    (void)state;
    double sum = 0.0;
    long c1 = 0, c5 = 0;
    db_status s = DB_OK;
    db_graph_set_training(g, 0);
    for (int i = 0; i < d->n; i++) order[i] = i;
    for (int i = 0; i < d->n && s == DB_OK; i += g->n_max) {
        int n = d->n - i < g->n_max ? d->n - i : g->n_max, a, b, finite;
        double l;
        db_graph_set_batch(g, n);
        s = db_batch_fill(d, order + i, n, NULL, norm, 0, 0, db_stepper_input(st), db_stepper_labels(st));
        if (s != DB_OK) break;
        s = db_stepper_forward_loss(st, 0.0f, &l, &a, &b, &finite);
        sum += l * n;
        c1 += a; c5 += b;
    }
    db_graph_set_training(g, 1);
    db_graph_set_batch(g, g->n_max);
    out[0] = sum / d->n; out[1] = (double)c1 / d->n; out[2] = (double)c5 / d->n;
    return s;
}

static const db_task classification = {
    "classification", 1, 3, {"top1"}, {"loss", "top1", "top5"}, {1}, {0, 1, 1}, 1, 0,
    classify_build, NULL, classify_step, classify_train_metrics, classify_evaluate, NULL, 1, 0, classify_flush,
};

const db_task *db_task_of_model(const char *model) {
    return db_model_is_detector(model) ? &db_task_detection
           : db_model_is_segmenter(model) ? &db_task_segmentation
                                          : &classification;
}

const db_task *db_config_task(const db_config *c) { return db_task_of_model(c->model); }

void db_task_primary(const db_task *t, char *out, size_t n) { snprintf(out, n, "test/%s", t->test_names[t->score]); }
