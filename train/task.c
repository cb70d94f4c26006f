#include "train/task.h"

#include <stdio.h>

#include "nets/graph.h"

/* Classification: softmax cross-entropy (with label smoothing in training), top-1 counted while
 * training, loss, top-1 and top-5 on the test split */
static db_status classify_step(db_stepper *st, float smoothing, double *loss, double *sums, int *finite) {
    int c1, c5;
    DB_TRY(db_stepper_forward_loss(st, smoothing, loss, &c1, &c5, finite));
    sums[0] += c1;
    return DB_OK;
}

static void classify_train_metrics(const double *sums, double samples, double *out) { out[0] = sums[0] / samples; }

static db_status classify_evaluate(db_stepper *st, const db_dataset *d, const db_norm *norm, int *order, double *out) {
    db_graph *g = st->g;
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
    classify_step, classify_train_metrics, classify_evaluate,
};

const db_task *db_task_of_model(const char *model) {
    (void)model;
    return &classification;
}

void db_task_primary(const db_task *t, char *out, size_t n) { snprintf(out, n, "test/%s", t->test_names[t->score]); }
