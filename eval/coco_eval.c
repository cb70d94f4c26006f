#include "eval/coco_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const db_coco_stat_names[DB_COCO_STATS] = {"AP", "AP50", "AP75", "APs", "APm", "APl",
                                                       "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};

enum { T = 10, R = 101, A = 4, M = 3 };
static const int max_dets[M] = {1, 10, 100};
static const double area_lo[A] = {0.0, 0.0, 32.0 * 32.0, 96.0 * 96.0};
static const double area_hi[A] = {1e10, 32.0 * 32.0, 96.0 * 96.0, 1e10};

/* numpy.linspace(start, stop, num): start + i * ((stop - start) / (num - 1)), the last = stop */
static void linspace(double start, double stop, int num, double *out) {
    double step = (stop - start) / (num - 1);
    for (int i = 0; i < num; i++) out[i] = (double)i * step + start;
    out[num - 1] = stop;
}

/* One (image, category, area range) evaluation at maxDet 100, as COCOeval.evaluateImg */
typedef struct {
    int nd, ng;           /* detections (score order, at most 100), ground truths */
    const double *scores; /* nd */
    unsigned char *matched; /* T x nd: matched to a ground truth (its id is nonzero) */
    unsigned char *dt_ignore; /* T x nd */
    int ng_counted;       /* ground truths not ignored */
} img_eval;

/* indices of boxes sorted by a key, stable */
typedef struct { double key; int idx; } keyed;
static int by_key(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->idx - y->idx;
}

/* pycocotools' bbIou: continuous coordinates; for a crowd ground truth the union is the
 * detection's own area */
static double iou(const db_coco_box *d, const db_coco_box *g, int crowd) {
    double w = fmin(d->x + d->w, g->x + g->w) - fmax(d->x, g->x);
    if (w <= 0) return 0;
    double h = fmin(d->y + d->h, g->y + g->h) - fmax(d->y, g->y);
    if (h <= 0) return 0;
    double i = w * h, u = crowd ? d->w * d->h : d->w * d->h + g->w * g->h - i;
    return i / u;
}

/* The boxes of each (image, category): ranges into an array of indices grouped by pair */
typedef struct {
    int *start; /* n_images * n_categories + 1 */
    int *idx;
} grouping;

static db_status group(const db_coco_box *b, int n, int n_images, int n_cats, grouping *g) {
    size_t pairs = (size_t)n_images * n_cats;
    g->start = calloc(pairs + 1, sizeof *g->start);
    g->idx = malloc(sizeof *g->idx * (size_t)(n ? n : 1));
    if (!g->start || !g->idx) return db_fail(DB_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        if (b[i].category >= 0) g->start[(size_t)b[i].image * n_cats + b[i].category + 1]++;
    for (size_t p = 0; p < pairs; p++) g->start[p + 1] += g->start[p];
    int *fill = malloc(sizeof *fill * (pairs ? pairs : 1));
    if (!fill) return db_fail(DB_ERR_NOMEM, "out of memory");
    memcpy(fill, g->start, sizeof *fill * pairs);
    for (int i = 0; i < n; i++) /* file order within a pair, as pycocotools' lists */
        if (b[i].category >= 0) g->idx[fill[(size_t)b[i].image * n_cats + b[i].category]++] = i;
    free(fill);
    return DB_OK;
}

static void grouping_free(grouping *g) { free(g->start); free(g->idx); }

/* Evaluate one (image, category) for every area range: ev[a] */
static db_status evaluate_pair(const db_coco *c, const int *gi, int ng, const int *di, int nd_all, const double *thr,
                               img_eval ev[A], keyed *kd, keyed *kg, double *ious, double *scores_out) {
    /* detections by score, descending, stable; at most 100 */
    for (int i = 0; i < nd_all; i++) { kd[i].key = -c->dt[di[i]].score; kd[i].idx = i; }
    qsort(kd, (size_t)nd_all, sizeof *kd, by_key);
    int nd = nd_all < 100 ? nd_all : 100;
    for (int d = 0; d < nd; d++) scores_out[d] = c->dt[di[kd[d].idx]].score;
    for (int a = 0; a < A; a++) {
        img_eval *e = &ev[a];
        e->nd = nd; e->ng = ng; e->scores = scores_out;
        /* ground truths: ignored ones (crowd, or outside the area range) last, stable */
        int counted = 0;
        for (int g = 0; g < ng; g++) {
            const db_coco_box *b = &c->gt[gi[g]];
            int ig = b->iscrowd || b->area < area_lo[a] || b->area > area_hi[a];
            kg[g].key = ig; kg[g].idx = g;
            counted += !ig;
        }
        qsort(kg, (size_t)ng, sizeof *kg, by_key);
        e->ng_counted = counted;
        for (int d = 0; d < nd; d++)
            for (int g = 0; g < ng; g++) {
                const db_coco_box *gb = &c->gt[gi[kg[g].idx]];
                ious[(size_t)d * ng + g] = iou(&c->dt[di[kd[d].idx]], gb, gb->iscrowd);
            }
        int64_t *gt_match = calloc((size_t)(ng ? ng : 1), sizeof *gt_match);
        if (!gt_match) return db_fail(DB_ERR_NOMEM, "out of memory");
        for (int t = 0; t < T; t++) {
            memset(gt_match, 0, sizeof *gt_match * (size_t)(ng ? ng : 1));
            for (int d = 0; d < nd; d++) {
                double best = fmin(thr[t], 1 - 1e-10);
                int m = -1;
                for (int g = 0; g < ng; g++) {
                    const db_coco_box *gb = &c->gt[gi[kg[g].idx]];
                    if (gt_match[g] > 0 && !gb->iscrowd) continue;
                    if (m > -1 && !kg[m].key && kg[g].key) break;
                    double v = ious[(size_t)d * ng + g];
                    if (v < best) continue;
                    best = v;
                    m = g;
                }
                unsigned char matched = 0, ign = 0;
                if (m >= 0) {
                    const db_coco_box *gb = &c->gt[gi[kg[m].idx]];
                    ign = (unsigned char)kg[m].key;
                    matched = gb->id != 0; /* pycocotools records the ground truth's id: 0 reads as no match */
                    gt_match[m] = c->dt[di[kd[d].idx]].id;
                }
                const db_coco_box *db = &c->dt[di[kd[d].idx]];
                if (!matched && (db->area < area_lo[a] || db->area > area_hi[a])) ign = 1;
                e->matched[(size_t)t * nd + d] = matched;
                e->dt_ignore[(size_t)t * nd + d] = ign;
            }
        }
        free(gt_match);
    }
    return DB_OK;
}

/* numpy.mean of the values > -1 (pairwise-summed there; the difference is in the last bits) */
static double mean_included(const double *v, size_t n) {
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > -1) { sum += v[i]; k++; }
    return k ? sum / (double)k : -1;
}

db_status db_coco_evaluate(const db_coco *c, db_coco_result *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < c->n_dt; i++) { /* (read results are checked; these guard every other caller) */
        const db_coco_box *b = &c->dt[i];
        if (!db_coco_box_finite(b))
            return db_fail(DB_ERR_ARG, "detection %d (image id %lld) has a box or score that is not finite", i,
                           b->image >= 0 && b->image < c->n_images ? (long long)c->image_ids[b->image] : -1LL);
    }
    const int I = c->n_images, K = c->n_categories;
    double thr[T], rec_thr[R];
    linspace(0.5, 0.95, T, thr);
    linspace(0.0, 1.0, R, rec_thr);
    grouping gg = {0}, gd = {0};
    db_status s = group(c->gt, c->n_gt, I, K, &gg);
    if (s == DB_OK) s = group(c->dt, c->n_dt, I, K, &gd);
    size_t pairs = (size_t)I * K;
    /* per pair and area: the evaluation; storage for the matches of every pair */
    img_eval *ev = calloc(pairs * A + 1, sizeof *ev);
    double *precision = malloc(sizeof(double) * T * R * K * A * M), *recall = malloc(sizeof(double) * T * K * A * M);
    int max_g = 1, max_d = 1;
    for (size_t p = 0; p < pairs && s == DB_OK; p++) {
        if (gg.start[p + 1] - gg.start[p] > max_g) max_g = gg.start[p + 1] - gg.start[p];
        if (gd.start[p + 1] - gd.start[p] > max_d) max_d = gd.start[p + 1] - gd.start[p];
    }
    keyed *kd = malloc(sizeof *kd * (size_t)max_d), *kg = malloc(sizeof *kg * (size_t)max_g);
    double *ious = malloc(sizeof(double) * (size_t)(max_d < 100 ? max_d : 100) * (size_t)max_g);
    /* scores and match bits only for the detections evaluated: at most 100 per pair */
    size_t evaluated = 0;
    for (size_t p = 0; p < pairs && s == DB_OK; p++) {
        int nd = gd.start[p + 1] - gd.start[p];
        evaluated += (size_t)(nd < 100 ? nd : 100);
    }
    double *all_scores = malloc(sizeof(double) * (evaluated + 1));
    unsigned char *bits = malloc((size_t)2 * T * A * evaluated + 1);
    if (s == DB_OK && (!ev || !precision || !recall || !kd || !kg || !ious || !all_scores || !bits))
        s = db_fail(DB_ERR_NOMEM, "COCO evaluation: out of memory for %d images x %d categories", I, K);
    size_t at = 0;
    for (size_t p = 0; p < pairs && s == DB_OK; p++) {
        int ng = gg.start[p + 1] - gg.start[p], nd = gd.start[p + 1] - gd.start[p], ne = nd < 100 ? nd : 100;
        if (!ng && !nd) continue; /* pycocotools: no evaluation (None) */
        img_eval *e = &ev[p * A];
        for (int a = 0; a < A; a++) {
            e[a].matched = bits + ((size_t)2 * T * A * at) + (size_t)2 * T * ne * a;
            e[a].dt_ignore = e[a].matched + (size_t)T * ne;
        }
        s = evaluate_pair(c, gg.idx + gg.start[p], ng, gd.idx + gd.start[p], nd, thr, e, kd, kg, ious, all_scores + at);
        at += (size_t)ne;
    }
    /* accumulate per (category, area, maxDet) */
    keyed *order = NULL;
    size_t order_cap = 0;
    for (int k = 0; k < K && s == DB_OK; k++)
        for (int a = 0; a < A && s == DB_OK; a++)
            for (int m = 0; m < M && s == DB_OK; m++) {
                double *prec = precision + (((size_t)k * A + a) * M + m) * T * R;
                double *rec = recall + (((size_t)k * A + a) * M + m) * T;
                for (int i = 0; i < T * R; i++) prec[i] = -1;
                for (int t = 0; t < T; t++) rec[t] = -1;
                int npig = 0, any = 0;
                size_t n = 0;
                for (int i = 0; i < I; i++) {
                    size_t p = (size_t)i * K + k;
                    int ng = gg.start[p + 1] - gg.start[p], nd = gd.start[p + 1] - gd.start[p];
                    if (!ng && !nd) continue;
                    any = 1;
                    npig += ev[p * A + a].ng_counted;
                    int take = ev[p * A + a].nd < max_dets[m] ? ev[p * A + a].nd : max_dets[m];
                    n += (size_t)take;
                }
                if (!any || npig == 0) continue;
                if (n > order_cap) {
                    keyed *o = realloc(order, sizeof *o * n);
                    if (!o) { s = db_fail(DB_ERR_NOMEM, "out of memory"); break; }
                    order = o;
                    order_cap = n;
                }
                /* every image's first maxDet detections, concatenated in image order, then a
                 * stable sort by score: idx encodes (pair, position) */
                size_t j = 0;
                for (int i = 0; i < I; i++) {
                    size_t p = (size_t)i * K + k;
                    int ng = gg.start[p + 1] - gg.start[p], nd = gd.start[p + 1] - gd.start[p];
                    if (!ng && !nd) continue;
                    int take = ev[p * A + a].nd < max_dets[m] ? ev[p * A + a].nd : max_dets[m];
                    for (int d = 0; d < take; d++, j++) {
                        order[j].key = -ev[p * A + a].scores[d];
                        order[j].idx = (int)j;
                    }
                }
                if (n) qsort(order, n, sizeof *order, by_key);
                /* map a concatenated position back to its (pair, detection) */
                int *pos_pair = malloc(sizeof(int) * (n ? n : 1)), *pos_det = malloc(sizeof(int) * (n ? n : 1));
                if (!pos_pair || !pos_det) { free(pos_pair); free(pos_det); s = db_fail(DB_ERR_NOMEM, "out of memory"); break; }
                j = 0;
                for (int i = 0; i < I; i++) {
                    size_t p = (size_t)i * K + k;
                    int ng = gg.start[p + 1] - gg.start[p], nd = gd.start[p + 1] - gd.start[p];
                    if (!ng && !nd) continue;
                    int take = ev[p * A + a].nd < max_dets[m] ? ev[p * A + a].nd : max_dets[m];
                    for (int d = 0; d < take; d++, j++) { pos_pair[j] = (int)p; pos_det[j] = d; }
                }
                double *rc = malloc(sizeof(double) * (n ? n : 1)), *pr = malloc(sizeof(double) * (n ? n : 1));
                if (!rc || !pr) { free(rc); free(pr); free(pos_pair); free(pos_det); s = db_fail(DB_ERR_NOMEM, "out of memory"); break; }
                for (int t = 0; t < T; t++) {
                    double tp = 0, fp = 0;
                    size_t nd = 0;
                    for (size_t q = 0; q < n; q++) {
                        size_t o = (size_t)order[q].idx;
                        const img_eval *e = &ev[(size_t)pos_pair[o] * A + a];
                        size_t at = (size_t)t * e->nd + (size_t)pos_det[o];
                        int ign = e->dt_ignore[at], hit = e->matched[at];
                        tp += hit && !ign;
                        fp += !hit && !ign;
                        rc[nd] = tp / npig;
                        pr[nd] = tp / (fp + tp + 2.220446049250313e-16);
                        nd++;
                    }
                    rec[t] = nd ? rc[nd - 1] : 0;
                    for (size_t i = nd; i-- > 1;)
                        if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
                    size_t lo = 0;
                    for (int r = 0; r < R; r++) { /* searchsorted(rc, thr, 'left') */
                        while (lo < nd && rc[lo] < rec_thr[r]) lo++;
                        prec[t * R + r] = lo < nd ? pr[lo] : 0;
                    }
                }
                free(rc); free(pr); free(pos_pair); free(pos_det);
            }
    if (s == DB_OK) {
        /* summarize: precision [T][R][K][A][M] and recall [T][K][A][M] in pycocotools' indexing */
        size_t np = (size_t)T * R * K;
        double *sel = malloc(sizeof(double) * (np ? np : 1));
        out->ap_per_category = malloc(sizeof(double) * (size_t)(K ? K : 1));
        if (!sel || !out->ap_per_category) s = db_fail(DB_ERR_NOMEM, "out of memory");
        for (int q = 0; q < DB_COCO_STATS && s == DB_OK; q++) {
            static const int ap[12] = {1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
            static const int tsel[12] = {-1, 0, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1};
            static const int asel[12] = {0, 0, 0, 1, 2, 3, 0, 0, 0, 1, 2, 3};
            static const int msel[12] = {2, 2, 2, 2, 2, 2, 0, 1, 2, 2, 2, 2};
            size_t k2 = 0;
            for (int k = 0; k < K; k++)
                for (int t = 0; t < T; t++) {
                    if (tsel[q] >= 0 && t != tsel[q]) continue;
                    if (ap[q]) {
                        const double *prec = precision + (((size_t)k * A + asel[q]) * M + msel[q]) * T * R + (size_t)t * R;
                        for (int r = 0; r < R; r++) sel[k2++] = prec[r];
                    } else {
                        sel[k2++] = recall[(((size_t)k * A + asel[q]) * M + msel[q]) * T + t];
                    }
                }
            out->stats[q] = mean_included(sel, k2);
        }
        for (int k = 0; k < K && s == DB_OK; k++)
            out->ap_per_category[k] = mean_included(precision + (((size_t)k * A + 0) * M + 2) * T * R, (size_t)T * R);
        out->n_categories = K;
        free(sel);
    }
    free(order); free(ev); free(precision); free(recall); free(kd); free(kg); free(ious); free(all_scores); free(bits);
    grouping_free(&gg);
    grouping_free(&gd);
    if (s != DB_OK) db_coco_result_free(out);
    return s;
}

void db_coco_result_free(db_coco_result *r) {
    free(r->ap_per_category);
    memset(r, 0, sizeof *r);
}
