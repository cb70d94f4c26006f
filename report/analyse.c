/* The report's analysis (report/analyse.h): a study's conditions, their paired tests and the
 * spread of their values, and the paper's values beside them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "report/analyse.h"

int db_rep_score_best; /* the report's --score: best over the epochs, else final */
char db_rep_score_label[32] = "top-1"; /* the study now written: what scores its runs (top-1, AP, ...) */

/* The name its runs' scoring metric goes by in the text: top-1 for test/top1, else the metric's
 * own name (AP) */
void db_rep_set_score_label(const db_rep_study *s) {
    const char *m = "test/top1";
    for (int i = 0; i < s->nruns; i++)
        if (s->runs[i].metric[0]) { m = s->runs[i].metric; break; }
    const char *name = strncmp(m, "test/", 5) ? m : m + 5;
    snprintf(db_rep_score_label, sizeof db_rep_score_label, "%s", !strcmp(name, "top1") ? "top-1" : name);
}

const char *const db_rep_state_names[6] = {"done", "failed", "diverged", "interrupted", "running", "missing"};

/* Could run r fill cell c (the same settings, on either device for device auto)? */
static int fills(const db_rep_cell *c, const db_run_row *r) {
    return !strcmp(r->fingerprint, c->fingerprint) || (c->fingerprint2[0] && !strcmp(r->fingerprint, c->fingerprint2));
}

/* The run filling a cell: the newest with its fingerprint */
const db_run_row *db_rep_cell_run(const db_rep_study *s, const db_rep_cell *c) {
    const db_run_row *r = NULL;
    for (int i = 0; i < s->nruns; i++)
        if (fills(c, &s->runs[i]) && (!r || s->runs[i].id > r->id)) r = &s->runs[i];
    return r;
}

/* The condition of the study's cell that run r fills (NULL: none, e.g. another study's run) */
const char *db_rep_run_condition(const db_rep_study *s, const db_run_row *r) {
    for (int k = 0; k < s->ncells; k++)
        if (fills(&s->cells[k], r)) return s->cells[k].condition;
    return NULL;
}

/* A run's score as the report counts it (--score): its final or its best, in points (NaN: none) */
double db_rep_run_score(const db_run_row *r) { /* NaN for a value not finite: no score, never an infinite one */
    const double v = 100 * (db_rep_score_best ? r->best_score : r->final_score);
    return isfinite(v) ? v : NAN;
}

int db_rep_state_of(const db_run_row *r) {
    if (!r) return 5;
    for (int k = 0; k < 5; k++)
        if (!strcmp(r->status, db_rep_state_names[k])) return k;
    return 4; /* planned */
}

int db_rep_conditions(const db_rep_study *s, db_rep_cond *c) {
    int n = 0;
    for (int i = 0; i < s->ncells; i++) {
        const db_rep_cell *cell = &s->cells[i];
        int k = 0;
        while (k < n && strcmp(c[k].name, cell->condition)) k++;
        if (k == n) {
            if (n == DB_REP_MAXC) continue;
            memset(&c[n], 0, sizeof c[n]);
            c[n].name = cell->condition;
            c[n].cell0 = i;
            c[n].ips = c[n].drop = c[n].expected = 0;
            n++;
        }
        db_rep_cond *x = &c[k];
        const db_run_row *r = db_rep_cell_run(s, cell);
        int st = db_rep_state_of(r);
        x->state[st]++;
        x->ncells++;
        double score = !r ? NAN : db_rep_run_score(r); /* no run: a missing cell */
        int seen = 0; /* a seed listed twice is one run: counted once */
        for (int j = 0; j < x->n; j++) seen |= x->seed[j] == cell->seed;
        if (st == 0 && !seen && x->n < DB_REP_MAXS && !isnan(score)) {
            x->v[x->n] = score;
            x->seed[x->n] = cell->seed;
            x->run[x->n] = r->id;
            x->n++;
            if (!isnan(r->images_per_s)) { x->ips += r->images_per_s; x->n_ips++; }
            if (!isnan(r->drop_fraction)) { x->drop += r->drop_fraction; x->n_drop++; }
            if (!isnan(r->expected_fraction)) { x->expected += r->expected_fraction; x->n_expected++; }
        }
    }
    for (int k = 0; k < n; k++) {
        c[k].ips = c[k].n_ips ? c[k].ips / c[k].n_ips : NAN;
        c[k].drop = c[k].n_drop ? c[k].drop / c[k].n_drop : NAN;
        c[k].expected = c[k].n_expected ? c[k].expected / c[k].n_expected : NAN;
    }
    return n;
}

/* b - a per seed done in both (a condition holds each seed once: db_rep_conditions()) */
int db_rep_paired_runs(const db_rep_cond *a, const db_rep_cond *b, double *d, int64_t *ra, int64_t *rb) {
    int n = 0;
    for (int i = 0; i < b->n && n < DB_REP_MAXS; i++)
        for (int j = 0; j < a->n; j++)
            if (b->seed[i] == a->seed[j]) {
                if (ra) ra[n] = a->run[j], rb[n] = b->run[i];
                d[n++] = b->v[i] - a->v[j];
                break;
            }
    return n;
}

int db_rep_paired(const db_rep_cond *a, const db_rep_cond *b, double *d) { return db_rep_paired_runs(a, b, d, NULL, NULL); }

/* Two-sided p of n paired differences: the exact sign-flip test up to 24 pairs, the paired t
 * test beyond (2^24 sign patterns is where enumeration stops) */
double db_rep_paired_p(const double *d, int n) {
    if (n <= 24) return db_signflip_p(d, n, 1);
    double sd = db_sd(d, n, 1), mean = db_mean(d, n);
    if (sd == 0) return mean == 0 ? 1.0 : 0.0;
    return 2 * db_t_cdf(-fabs(mean / (sd / sqrt((double)n))), n - 1);
}


/* Can n paired seeds reach p < alpha at all? The exact test's smallest p is 2/2^n, and Holm
 * multiplies the smallest of m p-values by m. */
int db_rep_seeds_needed(int m) {
    int n = 1;
    while (n < 24 && db_signflip_min_p(n, 1) * (m > 0 ? m : 1) >= DB_REP_ALPHA) n++;
    return n;
}
int db_rep_underpowered(const db_rep_cmp *c) { return !c->unpaired && !(c->p_adj < DB_REP_ALPHA) && c->n < db_rep_seeds_needed(c->m); }

const char *db_rep_verdict(const db_rep_cmp *c) {
    if (c->n == 0) return "not run";
    if (db_rep_underpowered(c)) return "underpowered";
    if (c->p_adj < DB_REP_ALPHA) return c->mean > 0 ? "better" : "worse";
    return "no detectable difference";
}

/* Our gain beside the paper's (gain): "reproduced" when ours is significant (after Holm) in the
 * paper's direction, "contradicted" when significant against it; else "underpowered" where the
 * seeds cannot decide, and otherwise whether our interval holds the paper's gain ("consistent,
 * not significant": a paper gain near 0 is met by a null result) or not ("not reproduced") */
const char *db_rep_paper_verdict(const db_rep_cmp *c, double gain) {
    if (c->n == 0) return "not run";
    if (c->p_adj < DB_REP_ALPHA) return (c->mean > 0) == (gain > 0) ? "reproduced" : "contradicted";
    if (db_rep_underpowered(c)) return "underpowered";
    if (c->n < DB_REP_MIN_CI || isnan(gain)) return "not significant";
    double lo, hi;
    db_rep_spread(c->d, c->n, &lo, &hi);
    return gain >= lo && gain <= hi ? "consistent (not significant)" : "not reproduced (the paper's gain outside our 95% CI)";
}

/* What the report says of the spread of k values: the 95% t-interval from 3 values on; below 3
 * the values' range (a t-interval from two values is too wide to mean anything: t(0.975, 1) is
 * 12.7), and nothing for one */
void db_rep_spread(const double *x, int k, double *lo, double *hi) {
    if (k >= DB_REP_MIN_CI) { db_t_interval(x, k, 0.95, lo, hi); return; }
    *lo = *hi = k ? x[0] : NAN;
    for (int i = 1; i < k; i++) { *lo = fmin(*lo, x[i]); *hi = fmax(*hi, x[i]); }
}

void db_rep_fmt_ci(char *out, size_t n, const double *x, int k) {
    double lo, hi;
    db_rep_spread(x, k, &lo, &hi);
    if (k < 2) snprintf(out, n, "-");
    else if (k < DB_REP_MIN_CI) snprintf(out, n, "range %.2f to %.2f", lo, hi);
    else snprintf(out, n, "%.2f to %.2f", lo, hi);
}

const db_paper_value *db_rep_paper_top1(const db_rep_input *in, const char *row) {
    for (int i = 0; i < in->npaper; i++)
        if (!strcmp(in->paper[i].source, "Table1") && !strcmp(in->paper[i].metric, "top1") &&
            !strcmp(in->paper[i].regularizer, row))
            return &in->paper[i];
    return NULL;
}

/* The fewest done runs of any condition that has some */
int db_rep_fewest(const db_rep_cond *c, int nc) {
    int m = 0;
    for (int k = 0; k < nc; k++)
        if (c[k].n && (!m || c[k].n < m)) m = c[k].n;
    return m;
}

/* One key of a study's provenance (key=value lines): its value's length, -1 where it has none */
int db_rep_provenance(const db_rep_study *s, const char *key, const char **value) {
    size_t kl = strlen(key);
    for (const char *p = s->provenance; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, key, kl) && p[kl] == '=') {
            *value = p + kl + 1;
            return (int)strcspn(*value, "\n");
        }
    return -1;
}

/* The name of a study whose recipe requires s's (by file name; the first), or NULL */
const char *db_rep_required_by(const db_rep_input *in, const db_rep_study *s) {
    const char *base = strrchr(s->recipe, '/') ? strrchr(s->recipe, '/') + 1 : s->recipe;
    for (int i = 0; i < in->nstudies && base[0]; i++)
        for (int k = 0; k < in->studies[i].nrequires; k++)
            if (&in->studies[i] != s && !strcmp(in->studies[i].requires[k], base)) return in->studies[i].name;
    return NULL;
}

/* What the paper's Tables 2, 3 and 4 score and with which system */
const char *db_rep_dense_metric(int table) { return table == 4 ? "mIOU" : table == 2 ? "top1" : "AP"; }
const char *db_rep_dense_system(int table) {
    return table == 4   ? "ResNet-FPN with an FCN head on PASCAL VOC 2012"
           : table == 2 ? "AmoebaNet-B (6, 256) on ImageNet at 331x331"
                        : "RetinaNet ResNet-50-FPN on COCO";
}

/* The paper's Table 2, 3 or 4 value of a row in the initialisation column (random or pretrained;
 * Table 2 has one column, its baseline row named "none (baseline recipe)") */
const db_paper_value *db_rep_paper_dense(const db_rep_input *in, int table, const char *row, int pretrained) {
    const char *col = table == 2 ? "" : pretrained ? "ImageNet-pretrained init" : "random init";
    if (table == 2 && pretrained) return NULL;
    if (table == 2 && !strcmp(row, "none")) row = "none (baseline recipe)";
    char source[16];
    snprintf(source, sizeof source, "Table%d", table);
    for (int i = 0; i < in->npaper; i++)
        if (!strcmp(in->paper[i].source, source) && !strcmp(in->paper[i].metric, db_rep_dense_metric(table)) &&
            !strcmp(in->paper[i].regularizer, row) && !strncmp(in->paper[i].params, col, strlen(col)))
            return &in->paper[i];
    return NULL;
}

/* The paper's table (2, 3 or 4) an AmoebaNet, detection or segmentation study's conditions stand
 * for; 0 for none */
int db_rep_dense_table_of(const db_rep_study *s, const db_rep_cond *c, int nc) {
    for (int k = 0; k < nc; k++)
        if (s->cells[c[k].cell0].dense_row[0]) return s->cells[c[k].cell0].dense_table;
    return 0;
}
