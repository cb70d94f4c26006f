/* Segmentation (issue 19): the paper's ResNet-FPN with its FCN head (nets/segnet.h) trained with
 * the official code's per-pixel softmax cross-entropy at the logits' stride (segment/loss.h) on a
 * segmentation set (datasets/segset.h), scored in mIOU, pixel accuracy and mean class accuracy
 * (eval/miou.h) on the logits resized to the input's resolution, then placed back at each image's
 * own size against its label map as the file holds it: full resolution, as `eval miou` scores the
 * written predictions. Each image's label map goes where db_batch_fill put its pixels
 * (db_seg_labels) for the loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/log.h"
#include "datasets/batch.h"
#include "datasets/segbatch.h"
#include "datasets/segset.h"
#include "datasets/voc.h"
#include "train/predictions.h"
#include "eval/miou.h"
#include "nets/segnet.h"
#include "segment/loss.h"
#include "train/task.h"

typedef struct {
    int K, H, W, n_max;
    uint8_t *labels; /* n_max maps of H x W, placed as the batch's pixels */
    uint8_t *pred;   /* one image's prediction, H x W */
    float *scratch;  /* K x H x W */
    uint8_t **own;   /* evaluation: the batch's label maps as their files hold them, read once */
    int *own_hw;     /* their heights and widths */
    char pred_dir[512]; /* predictions_dir: each evaluation's label maps written there ("": none) */
    double iou[256];     /* the last evaluation's IoU per class (NaN: the class absent from both) */
    char iou_name[256][12];
    const char *iou_names[256];
} seg_state;

static void seg_free(void *p) {
    seg_state *s = p;
    if (!s) return;
    free(s->labels); free(s->pred); free(s->scratch); free(s->own); free(s->own_hw);
    free(s);
}

static db_status seg_build(db_graph *g, const db_config *cfg, const db_dataset *train, int n_max, void **state) {
    *state = NULL;
    if (cfg->predictions_dir[0]) DB_TRY(db_predictions_check(cfg->predictions_dir)); /* before any training */
    if (!train->seg && !train->seg_files)
        return db_fail(DB_ERR_ARG, "%s: not a segmentation set (no label maps)", train->source);
    db_segnet_config sc;
    DB_TRY(db_config_segmenter(cfg, train->num_classes, train->c, train->h, train->w, &sc));
    seg_state *s = calloc(1, sizeof *s);
    if (!s) return db_fail(DB_ERR_NOMEM, "out of memory");
    s->K = train->num_classes, s->H = train->h, s->W = train->w, s->n_max = n_max;
    snprintf(s->pred_dir, sizeof s->pred_dir, "%s", cfg->predictions_dir);
    for (int k = 0; k < s->K && k < 256; k++) {
        snprintf(s->iou_name[k], sizeof s->iou_name[k], "IoU/%d", k);
        s->iou_names[k] = s->iou_name[k], s->iou[k] = NAN;
    }
    const size_t plane = (size_t)s->H * s->W;
    s->labels = malloc(plane * (size_t)n_max), s->pred = malloc(plane);
    s->scratch = malloc(sizeof(float) * plane * (size_t)s->K);
    s->own = calloc((size_t)n_max, sizeof *s->own), s->own_hw = malloc(2 * sizeof(int) * (size_t)n_max);
    db_status st = s->labels && s->pred && s->scratch && s->own && s->own_hw
                       ? DB_OK
                       : db_fail(DB_ERR_NOMEM, "out of memory for the label maps");
    if (st == DB_OK) st = db_segnet_build(g, &sc, n_max);
    if (st != DB_OK) { seg_free(s); return st; }
    *state = s;
    return DB_OK;
}

/* Forward (on the run's device; the output then in the host graph), then the loss (with grads:
 * its gradient into the output's) over the batch's maps */
static db_status forward_loss(seg_state *s, db_stepper *st, int grads, long *counted, double *loss) {
    const db_graph *g = st->g;
    DB_TRY(db_stepper_forward(st, 1));
    const db_tensor *o = db_graph_output(g);
    *loss = db_seg_loss(grads ? o->grad : NULL, o->data, s->labels, g->n, s->K, o->h, o->w, s->H, s->W, DB_SEG_IGNORE,
                        counted);
    return DB_OK;
}

/* Pixels of the logits' grid whose arg-max class is their label's */
static long grid_correct(const seg_state *s, const db_graph *g) {
    const db_tensor *o = db_graph_output(g);
    const int n = g->n, h = o->h, w = o->w, sy = s->H / h, sx = s->W / w;
    const size_t hw = (size_t)h * w;
    long right = 0;
    for (int i = 0; i < n; i++)
        for (size_t p = 0; p < hw; p++) {
            const int t = s->labels[(size_t)i * s->H * s->W + (p / w) * sy * s->W + (p % w) * sx];
            if (t == DB_SEG_IGNORE) continue;
            int best = 0;
            for (int k = 1; k < s->K; k++)
                if (o->data[((size_t)k * n + i) * hw + p] > o->data[((size_t)best * n + i) * hw + p]) best = k;
            right += best == t;
        }
    return right;
}

static db_status seg_step(db_stepper *st, void *state, const db_task_batch *b, double *loss, double *sums, int *finite) {
    seg_state *s = state;
    db_graph *g = st->g;
    const size_t plane = (size_t)s->H * s->W;
    for (int i = 0; i < g->n; i++)
        DB_TRY(db_seg_labels(b->data, b->samples[i], b->aug, b->seed, b->epoch, s->labels + plane * i));
    long counted;
    DB_TRY(forward_loss(s, st, 1, &counted, loss));
    if (counted < 0) return db_fail(DB_ERR_NOMEM, "out of memory for the segmentation loss");
    *finite = isfinite(*loss) ? db_stepper_finite(st) : 1;
    sums[0] += (double)grid_correct(s, g);
    sums[1] += (double)counted;
    return DB_OK;
}

/* The pixel accuracy on the logits' grid, and the pixels counted per image */
static void seg_train_metrics(const double *sums, double samples, double *out) {
    out[0] = sums[1] > 0 ? sums[0] / sums[1] : 0.0;
    out[1] = sums[1] / samples;
}

/* Image `sample`'s prediction (s->pred, over its batch entry) scored at the image's own size
 * against its label map as the file holds it (full resolution, whatever the input's size), and
 * written there as a palette PNG named as the label map when predictions are kept (part) */
static db_status score_own(const seg_state *s, const db_dataset *d, int sample, const uint8_t *labels, int lh, int lw,
                           db_miou *m, const char *part) {
    uint8_t *own = NULL;
    int h = 0, w = 0;
    db_status st = DB_OK;
    if (!(own = malloc((size_t)lh * lw))) st = db_fail(DB_ERR_NOMEM, "out of memory for a prediction");
    if (st == DB_OK) db_seg_to_image(d, sample, s->pred, own, &h, &w);
    if (st == DB_OK && (h != lh || w != lw))
        st = db_fail(DB_ERR_INTERNAL, "%s: a prediction of %dx%d for a %dx%d label map", d->name, w, h, lw, lh);
    char path[1200];
    snprintf(path, sizeof path, "%s: %s", d->name, db_seg_label_name(d, sample)); /* the label map, for its errors */
    if (st == DB_OK) st = db_miou_add(m, labels, own, (size_t)h * w, path, "the network's prediction");
    if (st == DB_OK && part)
        st = snprintf(path, sizeof path, "%s/%s", part, db_seg_label_name(d, sample)) < (int)sizeof path
                 ? db_label_png_write(path, own, h, w)
                 : db_fail(DB_ERR_ARG, "%s: the path is too long", part);
    free(own);
    return st;
}

/* Data parallel: the processes' confusion matrices, loss sums and failures added up, so every
 * process holds the whole test set's (counts below 2^53 add exactly as doubles). Every process
 * comes here, its own evaluation failed or not, so none waits alone. */
static db_status combine_shares(db_miou *m, double *loss_sum, long *counted_sum, db_status rc) {
    if (db_dist()->size < 2) return rc;
    const size_t cells = (size_t)m->classes * m->classes, n = cells + 5;
    double *v = calloc(n, sizeof *v);
    if (!v) return db_fail(DB_ERR_NOMEM, "out of memory for the evaluation's counts"); /* (the job aborts) */
    for (size_t i = 0; i < cells; i++) v[i] = (double)m->confusion[i];
    v[cells] = (double)m->pixels, v[cells + 1] = (double)m->ignored, v[cells + 2] = *loss_sum;
    v[cells + 3] = (double)*counted_sum, v[cells + 4] = rc != DB_OK;
    db_status bs = db_dist_sum_doubles(v, n, "the evaluation's confusion matrix");
    for (size_t i = 0; i < cells; i++) m->confusion[i] = (uint64_t)v[i];
    m->pixels = (uint64_t)v[cells], m->ignored = (uint64_t)v[cells + 1], *loss_sum = v[cells + 2];
    *counted_sum = (long)v[cells + 3];
    const int others_failed = v[cells + 4] > 0.0;
    free(v);
    if (rc != DB_OK) return rc;
    if (bs != DB_OK) return bs;
    return others_failed ? db_fail(DB_ERR_INTERNAL, "another process's evaluation failed (its message says why)") : DB_OK;
}

/* The test metrics over this process's share of the test set (all of it outside a data-parallel
 * group), combined over the processes; with predictions kept the first process scores every
 * image (it writes the folder) and the others none */
static db_status seg_evaluate(db_stepper *st, void *state, const db_dataset *d, const db_norm *norm, int *order,
                              double *out) {
    seg_state *s = state;
    db_graph *g = st->g;
    const size_t plane = (size_t)s->H * s->W;
    const int writer = db_dist()->rank == 0;
    int first, count;
    db_dist_share(d->n, s->pred_dir[0] != 0, &first, &count);
    const int end = first + count;
    db_miou m;
    DB_TRY(db_miou_init(&m, s->K, DB_SEG_IGNORE));
    double loss_sum = 0.0;
    long counted_sum = 0;
    db_status rc = DB_OK;
    char part[600];
    if (s->pred_dir[0] && writer) rc = db_predictions_begin(s->pred_dir, part, sizeof part);
    db_graph_set_training(g, 0);
    for (int i = first; i < end; i++) order[i] = i;
    for (int i0 = first; i0 < end && rc == DB_OK; i0 += g->n_max) {
        const int n = end - i0 < g->n_max ? end - i0 : g->n_max;
        db_graph_set_batch(g, n);
        rc = db_batch_fill(d, order + i0, n, NULL, norm, 0, 0, db_stepper_input(st), db_stepper_labels(st));
        if (rc != DB_OK) break;
        for (int j = 0; j < n && rc == DB_OK; j++) { /* each label file read once: placed for the loss, whole for the mIOU */
            rc = db_seg_labels_own(d, i0 + j, &s->own[j], &s->own_hw[2 * j], &s->own_hw[2 * j + 1]);
            if (rc == DB_OK) db_seg_labels_place(d, i0 + j, NULL, 0, 0, s->own[j], s->labels + plane * j);
        }
        long counted = 0;
        double l = 0.0;
        if (rc == DB_OK) rc = forward_loss(s, st, 0, &counted, &l);
        if (counted < 0) rc = db_fail(DB_ERR_NOMEM, "out of memory for the segmentation loss");
        loss_sum += l * (double)counted, counted_sum += counted;
        const db_tensor *o = db_graph_output(g);
        for (int j = 0; j < n && rc == DB_OK; j++) {
            db_seg_predict(s->pred, o->data, j, n, s->K, o->h, o->w, s->H, s->W, s->scratch);
            rc = score_own(s, d, i0 + j, s->own[j], s->own_hw[2 * j], s->own_hw[2 * j + 1], &m, s->pred_dir[0] ? part : NULL);
        }
        for (int j = 0; j < n; j++) free(s->own[j]), s->own[j] = NULL;
    }
    db_graph_set_training(g, 1);
    db_graph_set_batch(g, g->n_max);
    db_miou_result r;
    memset(&r, 0, sizeof r);
    if (rc == DB_OK && s->pred_dir[0] && writer) rc = db_predictions_commit(s->pred_dir, part);
    rc = combine_shares(&m, &loss_sum, &counted_sum, rc);
    if (rc == DB_OK) rc = db_miou_compute(&m, &r);
    db_miou_free(&m);
    if (rc != DB_OK) return rc;
    out[0] = counted_sum ? loss_sum / (double)counted_sum : 0.0;
    out[1] = r.miou, out[2] = r.pixel_accuracy, out[3] = r.mean_class_accuracy;
    for (int k = 0; k < r.classes && k < 256; k++) s->iou[k] = r.iou[k];
    if (db_log_enabled()) { /* which classes the mIOU loses: one line per evaluation */
        char line[1024];
        int at = snprintf(line, sizeof line, "IoU per class (0: background, then the categories in id order):");
        for (int k = 0; k < r.classes && at < (int)sizeof line - 16; k++)
            at += snprintf(line + at, sizeof line - (size_t)at, isnan(r.iou[k]) ? " -" : " %.3f", r.iou[k]);
        db_log(DB_LOG_INFO, "%s", line);
    }
    db_miou_result_free(&r);
    return DB_OK;
}

/* The IoU of each class (0: background), "IoU/K", for the record */
static int seg_extra(const void *state, const char *const **names, const double **values) {
    const seg_state *s = state;
    *names = s->iou_names, *values = s->iou;
    return s->K < 256 ? s->K : 256;
}

const db_task db_task_segmentation = {
    "segmentation", 2, 4, {"pixel_acc", "pixels"}, {"loss", "mIOU", "pixel_acc", "class_acc"}, {1, 0}, {0, 1, 1, 1}, 1, 0,
    seg_build, seg_free, seg_step, seg_train_metrics, seg_evaluate, seg_extra, 0, 1, NULL,
};
