/* A run's results files (train/results_csv.h): every epoch's metrics and every regularizer
 * site's record as CSV, each rewritten whole after every epoch, and the probe that fails before
 * training when a path cannot be written. */
#include "train/results_csv.h"

#include "core/dirs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A results file is rewritten whole after every epoch: to path.tmp, then renamed over path, so
 * a reader (or a crash) sees the previous complete file or the new one. */
static FILE *csv_open(const char *path, char *tmp, size_t size) {
    snprintf(tmp, size, "%s.tmp", path);
    return fopen(tmp, "w");
}

static db_status csv_close(FILE *f, const char *path, const char *tmp) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int err = bad ? EIO : errno;
        unlink(tmp);
        return db_fail(DB_ERR_IO, "%s: cannot write results: %s", path, strerror(err));
    }
    return DB_OK;
}

/* Every epoch's results, one row each, with the task's metrics named */
db_status db_results_write_metrics(const char *path, const db_task *t, const db_epoch_result *h, int n) {
    char tmp[600];
    FILE *f = csv_open(path, tmp, sizeof tmp);
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write metrics: %s", tmp, strerror(errno));
    fprintf(f, "epoch,lr,train_loss");
    for (int k = 0; k < t->n_train; k++) fprintf(f, ",train_%s", t->train_names[k]);
    for (int k = 0; k < t->n_test; k++) fprintf(f, ",test_%s", t->test_names[k]);
    fprintf(f, ",seconds,images_per_s,drop_fraction\n");
    for (int i = 0; i < n; i++) {
        fprintf(f, "%d,%.6g,%.6f", h[i].epoch, h[i].lr, h[i].train_loss);
        for (int k = 0; k < t->n_train; k++) fprintf(f, ",%.6f", h[i].train[k]);
        for (int k = 0; k < t->n_test; k++) fprintf(f, ",%.6f", h[i].test[k]);
        fprintf(f, ",%.3f,%.1f,%.6f\n", h[i].seconds, h[i].images_per_s, h[i].drop_fraction);
    }
    return csv_close(f, path, tmp);
}

/* Every epoch's record of every regularizer site, one row each. */
db_status db_results_write_sites(const char *path, const db_graph *g, const db_ckpt_meta *m) {
    char tmp[600];
    FILE *f = csv_open(path, tmp, sizeof tmp);
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write site metrics: %s", tmp, strerror(errno));
    fprintf(f, "epoch,site,name,group,where,channels,height,width,keep_prob,drop_fraction,expected_fraction\n");
    for (int e = 0; e < m->n_history; e++)
        for (int i = 0; i < m->n_sites; i++) {
            float keep = 0;
            const db_site *st = db_graph_reg_site(g, i, &keep);
            const db_site_stat *v = &m->sites[(size_t)e * m->n_sites + i];
            fprintf(f, "%d,%d,%s,%d,%s,%d,%d,%d,%.6g,%.6f,%.6f\n", m->history[e].epoch, (int)(st - g->sites),
                    st->name, st->group, db_site_kind_name(st->kind), st->c, st->h, st->w, keep,
                    v->drop_fraction, v->expected_fraction);
        }
    return csv_close(f, path, tmp);
}

/* Fail before training, not after the first epoch, when a results file cannot be written; its
 * folder is made when missing (as a checkpoint folder is: runs/NAME/metrics.csv beside it). */
db_status db_results_probe(const char *path) {
    DB_TRY(db_make_dirs_for(path));
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write metrics: %s", tmp, strerror(errno));
    fclose(f);
    unlink(tmp);
    return DB_OK;
}
