/* Detection (issue 18): a RetinaNet (nets/retinanet.h) trained with the official code's targets
 * and losses (detect/) on a detection set (datasets/detset.h), scored in COCO box AP
 * (eval/coco_eval.h) after the per-level top-k, decoding and class-wise NMS (detect/postprocess.h).
 * Each image's boxes go where db_batch_fill put its pixels (datasets/detbatch.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/log.h"
#include "datasets/batch.h"
#include "datasets/detbatch.h"
#include "datasets/detset.h"
#include "detect/layout.h"
#include "detect/loss.h"
#include "detect/match.h"
#include "detect/postprocess.h"
#include "eval/coco_eval.h"
#include "nets/retinanet.h"
#include "train/predictions.h"
#include "train/task.h"

typedef struct {
    db_anchors anchors;
    db_match_cfg match;
    db_detect_loss_cfg loss;
    db_postprocess_cfg post;
    int K, n_max, w;
    int *cls_t;                              /* n_max images x anchors */
    float *box_t, *logits, *codes, *dlogits, *dcodes;
    db_box *gt;                              /* one image's boxes (placed as its pixels are) */
    float *placed;                           /* the same as db_det_boxes gives them */
    int *gt_cls, gt_cap;
    db_detection *found;                     /* one image's detections */
    char pred_dir[512];                      /* predictions_dir ("": none) */
    const db_gpu_backend *gpu;               /* a GPU run's loss on the device (made at its first step) */
    db_gpu_detect *gpu_loss;
} det_state;

static void det_free(void *p) {
    det_state *s = p;
    if (!s) return;
    if (s->gpu_loss) s->gpu->detect_destroy(s->gpu_loss);
    db_anchors_free(&s->anchors);
    free(s->cls_t); free(s->box_t); free(s->logits); free(s->codes); free(s->dlogits); free(s->dcodes);
    free(s->gt); free(s->gt_cls); free(s->placed); free(s->found);
    free(s);
}

static db_status det_build(db_graph *g, const db_config *cfg, const db_dataset *train, int n_max, void **state) {
    *state = NULL;
    if (cfg->predictions_dir[0]) DB_TRY(db_predictions_check(cfg->predictions_dir)); /* before any training */
    if (!train->det) return db_fail(DB_ERR_ARG, "%s: not a detection set (no boxes)", train->source);
    db_retinanet_config rc;
    DB_TRY(db_config_detector(cfg, train->num_classes, train->c, train->h, train->w, &rc));
    det_state *s = calloc(1, sizeof *s);
    if (!s) return db_fail(DB_ERR_NOMEM, "out of memory");
    snprintf(s->pred_dir, sizeof s->pred_dir, "%s", cfg->predictions_dir);
    db_anchor_cfg ac = db_anchor_defaults();
    ac.max_level = cfg->max_level;
    db_status st = db_anchors_make(&s->anchors, &ac, train->h, train->w);
    if (st == DB_OK) st = db_retinanet_build(g, &rc, n_max);
    if (st != DB_OK) { det_free(s); return st; }
    s->match = db_match_defaults();
    s->match.negative_iou = cfg->det_negative_iou;
    s->loss = db_detect_loss_defaults();
    s->loss.alpha = cfg->det_alpha, s->loss.gamma = cfg->det_gamma;
    s->post = db_postprocess_defaults();
    s->K = train->num_classes, s->n_max = n_max, s->w = train->w;
    const size_t rows = (size_t)n_max * s->anchors.n;
    s->cls_t = malloc(sizeof(int) * rows);
    s->box_t = malloc(sizeof(float) * 4 * rows), s->codes = malloc(sizeof(float) * 4 * rows);
    s->dcodes = malloc(sizeof(float) * 4 * rows);
    s->logits = malloc(sizeof(float) * s->K * rows), s->dlogits = malloc(sizeof(float) * s->K * rows);
    s->found = malloc(sizeof(db_detection) * (size_t)s->post.max_per_image);
    if (!s->cls_t || !s->box_t || !s->codes || !s->dcodes || !s->logits || !s->dlogits || !s->found) {
        det_free(s);
        return db_fail(DB_ERR_NOMEM, "out of memory for the detection targets (%zu anchors)", rows);
    }
    *state = s;
    return DB_OK;
}

/* The targets of the batch's images (sample[i]; their boxes placed as db_batch_fill placed their
 * pixels with aug, NULL in evaluation) into the state; the positives through *positives */
static db_status targets(det_state *s, const db_dataset *d, const int *sample, const db_augment *aug, uint64_t seed,
                         uint32_t epoch, int n, long *positives) {
    const db_detset *det = d->det;
    *positives = 0;
    for (int i = 0; i < n; i++) {
        const int im = sample[i], m = det->count[im];
        if (m > s->gt_cap) {
            db_box *g = realloc(s->gt, sizeof *g * (size_t)m);
            int *c = g ? realloc(s->gt_cls, sizeof *c * (size_t)m) : NULL;
            float *f = c ? realloc(s->placed, sizeof *f * 4 * (size_t)m) : NULL;
            if (g) s->gt = g;
            if (c) s->gt_cls = c;
            if (f) s->placed = f;
            if (!g || !c || !f) return db_fail(DB_ERR_NOMEM, "out of memory for %d boxes", m);
            s->gt_cap = m;
        }
        int kept, pos;
        db_det_boxes(d, im, aug, seed, epoch, s->placed, s->gt_cls, &kept);
        for (int k = 0; k < kept; k++) {
            const float *b = s->placed + 4 * (size_t)k;
            s->gt[k] = (db_box){b[0], b[1], b[2], b[3]};
        }
        const size_t at = (size_t)i * s->anchors.n;
        DB_TRY(db_label_anchors(s->cls_t + at, s->box_t + 4 * at, &pos, &s->anchors, s->gt, s->gt_cls, kept, &s->match));
        *positives += pos;
    }
    return DB_OK;
}

/* Forward (on the run's device; the outputs then in the host graph), then the loss over the
 * gathered outputs; with grads, the outputs' gradients */
static db_status forward_loss(det_state *s, db_stepper *st, int grads, db_detect_loss_parts *parts) {
    db_graph *g = st->g;
    const int L = s->anchors.levels, n = g->n;
    const float *cl[DB_ANCHOR_MAX_LEVELS], *bx[DB_ANCHOR_MAX_LEVELS];
    DB_TRY(db_stepper_forward(st, 1));
    for (int l = 0; l < L; l++) cl[l] = db_graph_output_at(g, 2 * l)->data, bx[l] = db_graph_output_at(g, 2 * l + 1)->data;
    db_detect_gather(s->logits, cl, &s->anchors, n, s->K);
    db_detect_gather(s->codes, bx, &s->anchors, n, 4);
    db_detect_loss_parts r = db_detect_loss(grads ? s->dlogits : NULL, grads ? s->dcodes : NULL, s->logits, s->codes,
                                            s->cls_t, s->box_t, (long)n * s->anchors.n, s->K, &s->loss);
    if (grads) {
        float *dcl[DB_ANCHOR_MAX_LEVELS], *dbx[DB_ANCHOR_MAX_LEVELS];
        for (int l = 0; l < L; l++) dcl[l] = db_graph_output_at(g, 2 * l)->grad, dbx[l] = db_graph_output_at(g, 2 * l + 1)->grad;
        db_detect_scatter(dcl, s->dlogits, &s->anchors, n, s->K);
        db_detect_scatter(dbx, s->dcodes, &s->anchors, n, 4);
    }
    *parts = r;
    return DB_OK;
}

static db_status det_step(db_stepper *st, void *state, const db_task_batch *b, double *loss, double *sums, int *finite) {
    det_state *s = state;
    db_graph *g = st->g;
    long positives;
    DB_TRY(targets(s, b->data, b->samples, b->aug, b->seed, b->epoch, g->n, &positives));
    db_detect_loss_parts r;
    if (st->gg) { /* on the GPU: the targets up, the loss and the outputs' gradients there */
        s->gpu = st->gpu;
        if (!s->gpu_loss) DB_TRY(st->gpu->detect_create(&s->gpu_loss, st->gg, &s->anchors, s->K, s->n_max));
        DB_TRY(db_stepper_forward(st, 0));
        DB_TRY(st->gpu->detect_loss(s->gpu_loss, st->gg, s->cls_t, s->box_t, g->n, &s->loss, &r));
    } else {
        DB_TRY(forward_loss(s, st, 1, &r));
    }
    *loss = r.total;
    *finite = isfinite(r.total) ? db_stepper_finite(st) : 1;
    sums[0] += (double)positives;
    return DB_OK;
}

static void det_train_metrics(const double *sums, double samples, double *out) { out[0] = sums[0] / samples; }

/* The evaluation's detections as DIR/detections.json, in COCO's results format */
static db_status write_detections(const char *dir, const db_coco *ev) {
    char part[600], path[700];
    DB_TRY(db_predictions_begin(dir, part, sizeof part));
    snprintf(path, sizeof path, "%s/detections.json", part);
    DB_TRY(db_coco_write_results(ev, path));
    return db_predictions_commit(dir, part);
}

/* Data parallel: every process's detections, the loss sum and any failure, so every process holds
 * the whole test set's detections in image order (ids renumbered as one process gives them).
 * Each process puts its images' detections in the slots of those images (max per image each,
 * the rest zero) and the slots are added up: a sum with zeros is exact. Every process comes
 * here, its own evaluation failed or not. */
enum { SLOT = 8 }; /* x, y, w, h, area, score, category, present */
static db_status combine_shares(db_coco *ev, int images, int per_image, double *loss_sum, db_status rc) {
    if (db_dist()->size < 2) return rc;
    const size_t slots = (size_t)images * per_image, n = slots * SLOT + 2;
    double *v = calloc(n, sizeof *v);
    int *used = calloc((size_t)images + 1, sizeof *used);
    if (!v || !used) { free(v); free(used); return db_fail(DB_ERR_NOMEM, "out of memory for the evaluation's detections"); }
    for (int i = 0; i < ev->n_dt && rc == DB_OK; i++) {
        const db_coco_box *b = &ev->dt[i];
        if (b->image < 0 || b->image >= images || used[b->image] >= per_image) {
            rc = db_fail(DB_ERR_INTERNAL, "detection %d: image %d or more than %d detections on it", i, b->image, per_image);
            break;
        }
        double *o = v + ((size_t)b->image * per_image + (size_t)used[b->image]++) * SLOT;
        o[0] = b->x, o[1] = b->y, o[2] = b->w, o[3] = b->h, o[4] = b->area, o[5] = b->score, o[6] = b->category, o[7] = 1;
    }
    v[n - 2] = *loss_sum, v[n - 1] = rc != DB_OK;
    db_status bs = db_dist_sum_doubles(v, n, "the evaluation's detections");
    ev->n_dt = 0;
    for (size_t k = 0; k < slots && bs == DB_OK && rc == DB_OK; k++) {
        const double *o = v + k * SLOT;
        if (o[7] == 0.0) continue;
        db_coco_box *b = &ev->dt[ev->n_dt];
        memset(b, 0, sizeof *b);
        b->x = o[0], b->y = o[1], b->w = o[2], b->h = o[3], b->area = o[4], b->score = o[5];
        b->category = (int)o[6], b->image = (int)(k / (size_t)per_image), b->id = ++ev->n_dt;
    }
    *loss_sum = v[n - 2];
    const int others_failed = v[n - 1] > 0.0;
    free(v);
    free(used);
    if (rc != DB_OK) return rc;
    if (bs != DB_OK) return bs;
    return others_failed ? db_fail(DB_ERR_INTERNAL, "another process's evaluation failed (its message says why)") : DB_OK;
}

/* The test metrics: this process's share of the test set detected (all of it outside a
 * data-parallel group), the detections combined over the processes, COCO's AP by every process;
 * the first writes them when kept */
static db_status det_evaluate(db_stepper *st, void *state, const db_dataset *d, const db_norm *norm, int *order,
                              double *out) {
    det_state *s = state;
    db_graph *g = st->g;
    const db_coco *gt = &d->det->gt;
    int first, count;
    db_dist_share(d->n, 0, &first, &count);
    const int end = first + count;
    db_coco ev = *gt; /* the first d->n images (a test_limit), their ground truth, our detections */
    ev.n_images = d->n;
    ev.gt = malloc(sizeof *ev.gt * (size_t)(gt->n_gt + 1));
    ev.dt = malloc(sizeof *ev.dt * ((size_t)d->n * s->post.max_per_image + 1));
    ev.n_gt = ev.n_dt = 0;
    if (!ev.gt || !ev.dt) { free(ev.gt); free(ev.dt); return db_fail(DB_ERR_NOMEM, "out of memory for the evaluation"); }
    for (int i = 0; i < gt->n_gt; i++)
        if (gt->gt[i].image < d->n) ev.gt[ev.n_gt++] = gt->gt[i];
    double loss_sum = 0.0;
    long nonfinite = 0;
    db_status rc = DB_OK;
    db_graph_set_training(g, 0);
    for (int i = first; i < end; i++) order[i] = i;
    for (int i0 = first; i0 < end && rc == DB_OK; i0 += g->n_max) {
        const int n = end - i0 < g->n_max ? end - i0 : g->n_max;
        long positives;
        db_graph_set_batch(g, n);
        rc = db_batch_fill(d, order + i0, n, NULL, norm, 0, 0, db_stepper_input(st), db_stepper_labels(st));
        if (rc == DB_OK) rc = targets(s, d, order + i0, NULL, 0, 0, n, &positives);
        if (rc != DB_OK) break;
        db_detect_loss_parts r;
        if ((rc = forward_loss(s, st, 0, &r)) != DB_OK) break;
        loss_sum += r.total * n;
        for (int j = 0; j < n && rc == DB_OK; j++) {
            int found;
            const size_t at = (size_t)j * s->anchors.n;
            rc = db_detect_postprocess(s->found, &found, s->logits + at * s->K, s->codes + 4 * at, &s->anchors, s->K, &s->post,
                                       &nonfinite);
            for (int k = 0; k < found && rc == DB_OK; k++) {
                const db_detection *f = &s->found[k];
                db_coco_box *b = &ev.dt[ev.n_dt];
                float at_image[4] = {f->box.y0, f->box.x0, f->box.y1, f->box.x1}; /* in the image's own pixels */
                db_det_to_image(d, i0 + j, at_image);
                memset(b, 0, sizeof *b);
                b->x = at_image[1], b->y = at_image[0], b->w = at_image[3] - at_image[1], b->h = at_image[2] - at_image[0];
                b->area = b->w * b->h, b->score = f->score, b->image = i0 + j, b->category = f->cls;
                b->id = ++ev.n_dt;
            }
        }
    }
    db_graph_set_training(g, 1);
    db_graph_set_batch(g, g->n_max);
    if (nonfinite) /* (COCO's scoring would ignore such a box in every area range) */
        db_log(DB_LOG_NOTE, "%ld detections of %d test images had a box too large to represent (a size code past "
               "exp's range) and were left out of the scoring", nonfinite, count);
    rc = combine_shares(&ev, d->n, s->post.max_per_image, &loss_sum, rc);
    if (rc == DB_OK && s->pred_dir[0] && db_dist()->rank == 0) rc = write_detections(s->pred_dir, &ev);
    db_coco_result res;
    memset(&res, 0, sizeof res);
    if (rc == DB_OK) rc = db_coco_evaluate(&ev, &res);
    free(ev.gt);
    free(ev.dt);
    if (rc != DB_OK) return rc;
    out[0] = loss_sum / d->n;
    for (int k = 0; k < 6; k++) out[1 + k] = res.stats[k]; /* AP, AP50, AP75, APs, APm, APl */
    out[7] = res.stats[8];                                 /* AR100 */
    db_coco_result_free(&res);
    return DB_OK;
}

const db_task db_task_detection = {
    "detection", 1, 8, {"positives"}, {"loss", "AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"}, {0},
    {0, 0, 0, 0, 0, 0, 0, 0}, 1, 0, det_build, det_free, det_step, det_train_metrics, det_evaluate, NULL, 0, 1, NULL,
};
