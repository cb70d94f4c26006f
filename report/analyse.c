/* The report's content: per study its matrix, results with statistics, the paper comparison
 * and figures; then one verdict per research question of the paper. Values are a run's scoring
 * metric x100 (test top-1 in percent, AP or mIOU x100); comparisons pair runs by seed. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/stats.h"
#include "report/doc.h"
#include "report/nightly.h"
#include "report/plots.h"
#include "report/report.h"

#define ALPHA 0.05
enum { MAXC = 128, MAXS = 64 }; /* conditions per study, seeds per condition */

typedef struct {
    const char *name;
    int cell0;                 /* its first cell: the settings every cell of it shares */
    int n;                     /* done runs */
    double v[MAXS];            /* their test top-1 (final or best), % */
    uint64_t seed[MAXS];
    int state[6];              /* cells done, failed, diverged, interrupted, running, missing */
    int ncells;
    double ips, drop, expected; /* means over done runs (NaN when none) */
    int n_ips, n_drop;          /* how many runs had them */
} cond;

static int score_best; /* the report's --score: best over the epochs, else final */
static char score_label[32] = "top-1"; /* the study now written: what scores its runs (top-1, AP, ...) */

/* The name its runs' scoring metric goes by in the text: top-1 for test/top1, else the metric's
 * own name (AP) */
static void set_score_label(const db_rep_study *s) {
    const char *m = "test/top1";
    for (int i = 0; i < s->nruns; i++)
        if (s->runs[i].metric[0]) { m = s->runs[i].metric; break; }
    const char *name = strncmp(m, "test/", 5) ? m : m + 5;
    snprintf(score_label, sizeof score_label, "%s", !strcmp(name, "top1") ? "top-1" : name);
}

static const char *const state_names[6] = {"done", "failed", "diverged", "interrupted", "running", "missing"};

/* Could run r fill cell c (the same settings, on either device for device auto)? */
static int fills(const db_rep_cell *c, const db_run_row *r) {
    return !strcmp(r->fingerprint, c->fingerprint) || (c->fingerprint2[0] && !strcmp(r->fingerprint, c->fingerprint2));
}

/* The run filling a cell: the newest with its fingerprint */
static const db_run_row *cell_run(const db_rep_study *s, const db_rep_cell *c) {
    const db_run_row *r = NULL;
    for (int i = 0; i < s->nruns; i++)
        if (fills(c, &s->runs[i]) && (!r || s->runs[i].id > r->id)) r = &s->runs[i];
    return r;
}

/* The condition of the study's cell that run r fills (NULL: none, e.g. another study's run) */
static const char *run_condition(const db_rep_study *s, const db_run_row *r) {
    for (int k = 0; k < s->ncells; k++)
        if (fills(&s->cells[k], r)) return s->cells[k].condition;
    return NULL;
}

/* A run's score as the report counts it (--score): its final or its best, in points (NaN: none) */
static double run_score(const db_run_row *r) { return 100 * (score_best ? r->best_score : r->final_score); }

static int state_of(const db_run_row *r) {
    if (!r) return 5;
    for (int k = 0; k < 5; k++)
        if (!strcmp(r->status, state_names[k])) return k;
    return 4; /* planned */
}

static int conditions(const db_rep_study *s, cond *c) {
    int n = 0;
    for (int i = 0; i < s->ncells; i++) {
        const db_rep_cell *cell = &s->cells[i];
        int k = 0;
        while (k < n && strcmp(c[k].name, cell->condition)) k++;
        if (k == n) {
            if (n == MAXC) continue;
            memset(&c[n], 0, sizeof c[n]);
            c[n].name = cell->condition;
            c[n].cell0 = i;
            c[n].ips = c[n].drop = c[n].expected = 0;
            n++;
        }
        cond *x = &c[k];
        const db_run_row *r = cell_run(s, cell);
        int st = state_of(r);
        x->state[st]++;
        x->ncells++;
        double score = !r ? NAN : run_score(r); /* no run: a missing cell */
        int seen = 0; /* a seed listed twice is one run: counted once */
        for (int j = 0; j < x->n; j++) seen |= x->seed[j] == cell->seed;
        if (st == 0 && !seen && x->n < MAXS && !isnan(score)) {
            x->v[x->n] = score;
            x->seed[x->n] = cell->seed;
            x->n++;
            if (!isnan(r->images_per_s)) { x->ips += r->images_per_s; x->n_ips++; }
            double e = 0;
            for (int j = 0; j < r->nsites; j++) e += r->sites[j].expected_fraction;
            if (!isnan(r->drop_fraction)) { x->drop += r->drop_fraction; x->expected += r->nsites ? e / r->nsites : 0; x->n_drop++; }
        }
    }
    for (int k = 0; k < n; k++) {
        c[k].ips = c[k].n_ips ? c[k].ips / c[k].n_ips : NAN;
        c[k].drop = c[k].n_drop ? c[k].drop / c[k].n_drop : NAN;
        c[k].expected = c[k].n_drop ? c[k].expected / c[k].n_drop : NAN;
    }
    return n;
}

/* b - a per seed done in both (a condition holds each seed once: conditions()) */
static int paired(const cond *a, const cond *b, double *d) {
    int n = 0;
    for (int i = 0; i < b->n && n < MAXS; i++)
        for (int j = 0; j < a->n; j++)
            if (b->seed[i] == a->seed[j]) { d[n++] = b->v[i] - a->v[j]; break; }
    return n;
}

/* Two-sided p of n paired differences: the exact sign-flip test up to 24 pairs, the paired t
 * test beyond (2^24 sign patterns is where enumeration stops) */
static double paired_p(const double *d, int n) {
    if (n <= 24) return db_signflip_p(d, n, 1);
    double sd = db_sd(d, n, 1), mean = db_mean(d, n);
    if (sd == 0) return mean == 0 ? 1.0 : 0.0;
    return 2 * db_t_cdf(-fabs(mean / (sd / sqrt((double)n))), n - 1);
}

typedef struct { int n, unpaired, m; double d[MAXS]; double p, p_adj, mean; } comparison; /* m: comparisons Holm adjusts over */

/* Can n paired seeds reach p < alpha at all? The exact test's smallest p is 2/2^n, and Holm
 * multiplies the smallest of m p-values by m. */
static int seeds_needed(int m) {
    int n = 1;
    while (n < 24 && db_signflip_min_p(n, 1) * (m > 0 ? m : 1) >= ALPHA) n++;
    return n;
}
static int underpowered(const comparison *c) { return !c->unpaired && !(c->p_adj < ALPHA) && c->n < seeds_needed(c->m); }

static const char *verdict(const comparison *c) {
    if (c->n == 0) return "not run";
    if (underpowered(c)) return "underpowered";
    if (c->p_adj < ALPHA) return c->mean > 0 ? "better" : "worse";
    return "no detectable difference";
}

/* What the report says of the spread of k values: the 95% t-interval from 3 values on; below 3
 * the values' range (a t-interval from two values is too wide to mean anything: t(0.975, 1) is
 * 12.7), and nothing for one */
enum { MIN_CI = 3 };
static void spread(const double *x, int k, double *lo, double *hi) {
    if (k >= MIN_CI) { db_t_interval(x, k, 0.95, lo, hi); return; }
    *lo = *hi = k ? x[0] : NAN;
    for (int i = 1; i < k; i++) { *lo = fmin(*lo, x[i]); *hi = fmax(*hi, x[i]); }
}

static void fmt_ci(char *out, size_t n, const double *x, int k) {
    double lo, hi;
    spread(x, k, &lo, &hi);
    if (k < 2) snprintf(out, n, "-");
    else if (k < MIN_CI) snprintf(out, n, "range %.2f to %.2f", lo, hi);
    else snprintf(out, n, "%.2f to %.2f", lo, hi);
}

static const db_paper_value *paper_top1(const db_rep_input *in, const char *row) {
    for (int i = 0; i < in->npaper; i++)
        if (!strcmp(in->paper[i].source, "Table1") && !strcmp(in->paper[i].metric, "top1") &&
            !strcmp(in->paper[i].regularizer, row))
            return &in->paper[i];
    return NULL;
}

/* The fewest done runs of any condition that has some */
static int fewest(const cond *c, int nc) {
    int m = 0;
    for (int k = 0; k < nc; k++)
        if (c[k].n && (!m || c[k].n < m)) m = c[k].n;
    return m;
}

/* ---- one study ---- */



static void matrix(db_doc *doc, const db_rep_study *s, const cond *c, int nc) {
    db_doc_heading(doc, 2, "Matrix");
    db_doc_table(doc, "condition\tcells\tdone\tfailed\tdiverged\tinterrupted\trunning\tmissing");
    for (int k = 0; k < nc; k++)
        db_doc_row(doc, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d", c[k].name, c[k].ncells, c[k].state[0], c[k].state[1],
                   c[k].state[2], c[k].state[3], c[k].state[4], c[k].state[5]);
    int problems = 0;
    for (int i = 0; i < s->ncells; i++) {
        const db_run_row *r = cell_run(s, &s->cells[i]);
        int st = state_of(r);
        if (st == 0) continue;
        if (!problems++) db_doc_para(doc, "Cells without a result (counted above, left out of every statistic below):");
        if (st == 5) db_doc_item(doc, "%s: missing (never run); %s", s->cells[i].label, s->cells[i].command);
        else db_doc_item(doc, "%s: %s (run %lld)%s%s", s->cells[i].label, r->status, (long long)r->id,
                         r->exit_reason[0] ? ": " : "", r->exit_reason);
    }
}

static void results(db_doc *doc, const cond *c, int nc, int base, comparison *cmp) {
    double p[MAXC], adj[MAXC];
    for (int k = 0; k < nc; k++) {
        cmp[k].n = base >= 0 && k != base ? paired(&c[base], &c[k], cmp[k].d) : 0;
        cmp[k].mean = cmp[k].n ? db_mean(cmp[k].d, cmp[k].n) : NAN;
        cmp[k].p = p[k] = cmp[k].n ? paired_p(cmp[k].d, cmp[k].n) : NAN;
        cmp[k].unpaired = 0;
        if (base >= 0 && k != base && !cmp[k].n && c[k].n > 1 && c[base].n > 1) { /* no common seeds: Welch */
            double t, df;
            db_welch(c[k].v, c[k].n, c[base].v, c[base].n, &t, &df, &cmp[k].p);
            p[k] = cmp[k].p;
            cmp[k].mean = db_mean(c[k].v, c[k].n) - db_mean(c[base].v, c[base].n);
            cmp[k].unpaired = 1;
        }
    }
    db_holm(p, nc, adj);
    int m = 0;
    for (int k = 0; k < nc; k++) m += !isnan(p[k]);
    for (int k = 0; k < nc; k++) { cmp[k].p_adj = adj[k]; cmp[k].m = m; }
    db_doc_heading(doc, 2, "Results: %s test %s (%%)", score_best ? "best (over the epochs)" : "final", score_label);
    if (base < 0) db_doc_para(doc, "This study has no baseline condition (no regularizer, no Cutout, no label smoothing): "
                                   "conditions are shown without deltas.");
    else db_doc_para(doc, "Delta: per-seed difference to the baseline (%s), paired by seed; p: exact two-sided sign-flip "
                          "test, Holm-adjusted over the %d comparisons made (Welch's t where a condition shares no seed "
                          "with the baseline). The exact test cannot give p below 2/2^n on n seeds and Holm multiplies the "
                          "smallest p by the number of comparisons, so with fewer than %d paired seeds no difference can "
                          "reach p < 0.05: those are \"underpowered\", not \"no difference\".", c[base].name, m,
                     seeds_needed(m));
    db_doc_para(doc, "Columns: n, the runs done; 95%% CI, the t-interval of the mean (from 3 runs; with 2, the two values' "
                     "range); delta, this condition minus the baseline per seed (positive: better than the baseline), "
                     "mean over the paired seeds (their count); p (adjusted), the test's p and, in brackets, after Holm.");
    db_doc_table(doc, "condition\tn\tmean ± sd\t95% CI\tmedian\tdelta vs baseline (n)\t95% CI of delta\tp (adjusted)\tverdict");
    for (int k = 0; k < nc; k++) {
        char ci[64], dci[64] = "-", delta[64] = "-", pv[64] = "-", msd[64] = "-", med[32] = "-";
        fmt_ci(ci, sizeof ci, c[k].v, c[k].n);
        if (c[k].n) {
            snprintf(msd, sizeof msd, c[k].n > 1 ? "%.2f ± %.2f" : "%.2f", db_mean(c[k].v, c[k].n), db_sd(c[k].v, c[k].n, 1));
            snprintf(med, sizeof med, "%.2f", db_median(c[k].v, c[k].n));
        }
        const char *v = k == base ? "baseline" : base < 0 ? "-" : !cmp[k].n && c[k].n ? "no seed in common with the baseline"
                                                                    : verdict(&cmp[k]);
        if (cmp[k].unpaired) {
            v = cmp[k].p_adj < ALPHA ? (cmp[k].mean > 0 ? "better" : "worse") : "no detectable difference";
            snprintf(delta, sizeof delta, "%+.2f (unpaired)", cmp[k].mean);
            snprintf(pv, sizeof pv, "%.3g (%.3g) Welch", cmp[k].p, cmp[k].p_adj);
        }
        if (cmp[k].n) {
            snprintf(delta, sizeof delta, "%+.2f (%d)", cmp[k].mean, cmp[k].n);
            fmt_ci(dci, sizeof dci, cmp[k].d, cmp[k].n);
            snprintf(pv, sizeof pv, "%.3g (%.3g)", cmp[k].p, cmp[k].p_adj);
        }
        db_doc_row(doc, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", c[k].name, c[k].n, msd, ci, med, delta, dci, pv, v);
    }
}

static void paper_comparison(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const cond *c, int nc,
                             int base, const comparison *cmp, double *ours, double *lo, double *hi, double *ref,
                             const char **labels, int *npairs, double *seed_x, double *seed_d, int *nseed) {
    const db_paper_value *pb = paper_top1(in, "none");
    *npairs = *nseed = 0;
    int rows = 0;
    for (int k = 0; k < nc; k++) rows += s->cells[c[k].cell0].paper_row[0] != 0;
    if (!rows) return; /* a detection or segmentation study: its paper is Table 3 or 4 (dense_table()) */
    db_doc_heading(doc, 2, "Beside the paper (ResNet-50 on ImageNet, Table 1)");
    db_doc_para(doc, "Absolute accuracies are not comparable across scales; gains over the baseline are. The paper's "
                     "numbers carry their confirmation status (paper-tables.csv) and are the best validation accuracy "
                     "seen during training; ours here are the %s test top-1%s.", score_best ? "best" : "final",
                score_best ? "" : " (dropbench report --score best scores like the paper)");
    db_doc_table(doc, "condition\tpaper row\tpaper top-1 (status)\tpaper gain\tour gain (95% CI)\tdifference\tverdict");
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        const db_paper_value *pv = cell->paper_row[0] ? paper_top1(in, cell->paper_row) : NULL;
        if (!pv || k == base) continue;
        double gain = pb ? pv->value - pb->value : NAN;
        char our[96] = "-", diff[32] = "-";
        const char *v;
        if (base < 0 || !cmp[k].n) v = "not run";
        else {
            char ci[64];
            fmt_ci(ci, sizeof ci, cmp[k].d, cmp[k].n);
            snprintf(our, sizeof our, "%+.2f %s", cmp[k].mean, ci);
            snprintf(diff, sizeof diff, "%+.2f", cmp[k].mean - gain);
            v = underpowered(&cmp[k]) ? "underpowered"
                : cmp[k].p_adj < ALPHA && (cmp[k].mean > 0) == (gain > 0) ? "reproduced" : "not reproduced";
        }
        db_doc_row(doc, "%s\t%s\t%.2f (%s)\t%+.2f\t%s\t%s\t%s", c[k].name, pv->regularizer, pv->value, pv->status, gain,
                   our, diff, v);
        if (cmp[k].n) {
            double l, h;
            spread(cmp[k].d, cmp[k].n, &l, &h);
            labels[*npairs] = c[k].name;
            ours[*npairs] = cmp[k].mean; lo[*npairs] = l; hi[*npairs] = h; ref[*npairs] = gain;
            for (int i = 0; i < cmp[k].n; i++) { seed_x[*nseed] = *npairs; seed_d[(*nseed)++] = cmp[k].d[i]; }
            (*npairs)++;
        }
    }
}

/* The paper's Table 1 as this study has it: one row per method, ours (mean ± sd over the seeds,
 * and the settings that make the rows comparable) beside the paper's (top-1 ± its spread, and its
 * settings) */
static void paper_table(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const cond *c, int nc) {
    int rows = 0;
    for (int k = 0; k < nc; k++) rows += s->cells[c[k].cell0].paper_row[0] && paper_top1(in, s->cells[c[k].cell0].paper_row);
    if (!rows) return;
    db_doc_heading(doc, 2, "Table 1 at this scale");
    db_doc_para(doc, "One row per method of the paper's Table 1 that this study runs. Ours: %s test top-1 in %%, mean ± sd "
                     "over the seeds (n), and the settings that make the rows comparable (keep_prob, DropBlock's block "
                     "size, the groups, the keep_prob schedule, whether the shortcut is regularized too, as resolved). "
                     "The paper's: ResNet-50 on ImageNet, top-1 ± its reported spread, with its settings. Absolute "
                     "accuracies differ across scales; compare each method's distance to its own baseline row.",
                score_best ? "best" : "final");
    db_doc_table(doc, "method	ours: top-1	n	ours: keep_prob	block	groups	schedule	skip	paper: top-1	paper: settings");
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        const db_paper_value *pv = cell->paper_row[0] ? paper_top1(in, cell->paper_row) : NULL;
        if (!pv) continue;
        char ours[48] = "-", paper[48], kp[16] = "-", bs[16] = "-";
        if (c[k].n) snprintf(ours, sizeof ours, c[k].n > 1 ? "%.2f ± %.2f" : "%.2f", db_mean(c[k].v, c[k].n),
                             db_sd(c[k].v, c[k].n, 1));
        if (isnan(pv->plusminus)) snprintf(paper, sizeof paper, "%.2f", pv->value);
        else snprintf(paper, sizeof paper, "%.2f ± %.2f", pv->value, pv->plusminus);
        int reg = strcmp(cell->regularizer, "none") != 0;
        if (reg) snprintf(kp, sizeof kp, "%.3g", cell->keep_prob);
        if (!strcmp(cell->regularizer, "dropblock")) snprintf(bs, sizeof bs, "%d", cell->block_size);
        db_doc_row(doc, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", pv->regularizer, ours, c[k].n, kp, bs,
                   reg ? cell->groups : "-", reg ? cell->schedule : "-", reg ? (cell->skip ? "yes" : "no") : "-", paper,
                   pv->params[0] ? pv->params : "-");
    }
}

/* What the paper's Tables 3 and 4 score and with which system */
static const char *dense_metric(int table) { return table == 4 ? "mIOU" : table == 2 ? "top1" : "AP"; }
static const char *dense_system(int table) {
    return table == 4   ? "ResNet-FPN with an FCN head on PASCAL VOC 2012"
           : table == 2 ? "AmoebaNet-B (6, 256) on ImageNet at 331x331"
                        : "RetinaNet ResNet-50-FPN on COCO";
}

/* The paper's Table 2, 3 or 4 value of a row in the initialisation column (random or pretrained;
 * Table 2 has one column, its baseline row named "none (baseline recipe)") */
static const db_paper_value *paper_dense(const db_rep_input *in, int table, const char *row, int pretrained) {
    const char *col = table == 2 ? "" : pretrained ? "ImageNet-pretrained init" : "random init";
    if (table == 2 && pretrained) return NULL;
    if (table == 2 && !strcmp(row, "none")) row = "none (baseline recipe)";
    char source[16];
    snprintf(source, sizeof source, "Table%d", table);
    for (int i = 0; i < in->npaper; i++)
        if (!strcmp(in->paper[i].source, source) && !strcmp(in->paper[i].metric, dense_metric(table)) &&
            !strcmp(in->paper[i].regularizer, row) && !strncmp(in->paper[i].params, col, strlen(col)))
            return &in->paper[i];
    return NULL;
}

/* The paper's table (2, 3 or 4) an AmoebaNet, detection or segmentation study's conditions stand
 * for; 0 for none */
static int dense_table_of(const db_rep_study *s, const cond *c, int nc) {
    for (int k = 0; k < nc; k++)
        if (s->cells[c[k].cell0].dense_row[0]) return s->cells[c[k].cell0].dense_table;
    return 0;
}

/* A detection study beside the paper's Table 3 (RetinaNet ResNet-50-FPN on COCO), a segmentation
 * study beside its Table 4 (ResNet-FPN + FCN head on VOC), an AmoebaNet study beside its Table 2
 * (AmoebaNet-B on ImageNet, top-1): per condition our AP or mIOU and its
 * gain over the baseline, paired by seed, beside the paper's value and gain in the same
 * initialisation column. Table 3's DropBlock row is its best block size; ours are each. */
static void dense_table(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const cond *c, int nc, int base) {
    const int t = dense_table_of(s, c, nc);
    if (!t) return;
    const char *m = dense_metric(t);
    db_doc_heading(doc, 2, "Table %d at this scale", t);
    db_doc_para(doc, "One row per condition of this %s study that stands for a row of the paper's Table %d. Ours: "
                     "%s test %s (x100), mean ± sd over the seeds (n), and the gain over the baseline of the same "
                     "initialisation column (random or pretrained) paired by seed "
                     "(mean; its 95%% t-interval from 3 pairs, below that the range). The paper's: %s in the same "
                     "initialisation column, its %s and its gain over its own no-regularizer row%s. Absolute values "
                     "differ across data sets and scales; compare the gains.",
                t == 4 ? "segmentation" : t == 2 ? "AmoebaNet" : "detection", t, score_best ? "best" : "final", m,
                dense_system(t), m,
                t == 3   ? "; its DropBlock row is its best block size (unconfirmed which), ours are every block size run"
                : t == 2 ? "; its DropBlock row places DropBlock (block 11, keep_prob 0.9) after every batch norm and "
                           "on the skip connections of the last 50% of the cells"
                         : "; its DropBlock row places DropBlock (block 16) in the FCN head");
    char header[160];
    snprintf(header, sizeof header, "condition\tpaper row\tblock\tours: %s\tn\tours: gain (paired)\tpaper: %s\tpaper: gain",
             m, m);
    db_doc_table(doc, header);
    int col_base[2] = {-1, -1}; /* each initialisation column's own no-regularizer condition */
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        if (!strcmp(cell->dense_row, "none") && col_base[cell->pretrained != 0] < 0) col_base[cell->pretrained != 0] = k;
    }
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        if (!cell->dense_row[0]) continue;
        const int b = col_base[cell->pretrained != 0] >= 0 ? col_base[cell->pretrained != 0] : cell->pretrained ? -1 : base;
        const db_paper_value *pv = paper_dense(in, t, cell->dense_row, cell->pretrained),
                             *pb = paper_dense(in, t, "none", cell->pretrained);
        char ours[48] = "-", gain[96] = "-", paper[32] = "-", pgain[32] = "-", bs[16] = "-", ci[64];
        if (c[k].n) snprintf(ours, sizeof ours, c[k].n > 1 ? "%.2f ± %.2f" : "%.2f", db_mean(c[k].v, c[k].n),
                             db_sd(c[k].v, c[k].n, 1));
        static double d[MAXS];
        const int np = b >= 0 && k != b ? paired(&c[b], &c[k], d) : 0; /* this condition minus its column's baseline */
        if (np) {
            fmt_ci(ci, sizeof ci, d, np);
            snprintf(gain, sizeof gain, "%+.2f (%s; %d pairs)", db_mean(d, np), ci, np);
        }
        const int digits = t == 2 ? 2 : 1; /* as the paper prints them */
        if (pv) snprintf(paper, sizeof paper, "%.*f", digits, pv->value);
        if (pv && pb && strcmp(cell->dense_row, "none"))
            snprintf(pgain, sizeof pgain, "%+.*f", digits, pv->value - pb->value);
        if (!strcmp(cell->regularizer, "dropblock")) snprintf(bs, sizeof bs, "%d", cell->block_size);
        db_doc_row(doc, "%s\t%s%s\t%s\t%s\t%d\t%s\t%s\t%s", c[k].name, cell->dense_row,
                   cell->pretrained ? " (pretrained)" : "", bs, ours, c[k].n, gain, paper, pgain);
    }
}

/* Test top-1 per epoch of every done run, one line per run (seed), a colour per condition: means
 * and bands over a few seeds hide more than they show. *ns series of *epochs points each; group
 * gives each series' condition, labels its name. */
static void curves(const db_rep_study *s, const cond *c, int nc, int *epochs, int *ns, double **x, double **y,
                   int **group, const char ***labels) {
    int E = 0, n = 0;
    for (int i = 0; i < s->nruns; i++) if (s->runs[i].ncurve > E) E = s->runs[i].ncurve;
    *epochs = E;
    *ns = 0;
    *x = calloc((size_t)(E ? E : 1), sizeof **x);
    *y = calloc((size_t)(s->ncells ? s->ncells : 1) * (E ? E : 1), sizeof **y);
    *group = calloc((size_t)(s->ncells ? s->ncells : 1), sizeof **group);
    *labels = calloc((size_t)(s->ncells ? s->ncells : 1), sizeof **labels);
    if (!*x || !*y || !*group || !*labels) { *epochs = 0; return; }
    for (int e = 0; e < E; e++) (*x)[e] = e + 1;
    for (int k = 0; k < nc; k++)
        for (int i = 0; i < s->ncells; i++) {
            if (strcmp(s->cells[i].condition, c[k].name)) continue;
            const db_run_row *r = cell_run(s, &s->cells[i]);
            if (!r || strcmp(r->status, "done")) continue;
            for (int e = 0; e < E; e++) (*y)[(size_t)n * E + e] = e < r->ncurve ? 100 * r->curve[e] : NAN;
            (*group)[n] = k;
            (*labels)[n] = c[k].name;
            n++;
        }
    *ns = n;
}

static void figure(db_doc *doc, const db_plot *p, const char *out, const db_rep_options *opt, FILE *log, int *skipped) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/plots", out);
    int rendered = 0;
    if (db_plot_write(p, dir, opt->plots ? opt->gnuplot : NULL, &rendered) != DB_OK) {
        fprintf(log, "report: figure %s not written: %s\n", p->name, db_last_error());
        (*skipped)++;
        return;
    }
    if (!rendered) { (*skipped)++; return; }
    db_doc_figure(doc, out, p->name, p->title);
}

/* Figure 3 or 4 at this study's scale: mean top-1 against keep_prob (series: regularizer and
 * schedule) or against DropBlock's block size (series: groups and skip), when the study sweeps it */
static void sweep(db_doc *doc, const db_rep_study *s, const cond *c, int nc, int by_block, const char *out,
                  const db_rep_options *opt, FILE *log, int *skipped) {
    enum { MAXX = 32, MAXSER = 16 };
    double xs[MAXX];
    char series[MAXSER][80];
    const char *labels[MAXSER];
    int nx = 0, ns = 0;
    static double m[MAXSER * MAXX], lo[MAXSER * MAXX], hi[MAXSER * MAXX];
    for (int k = 0; k < nc; k++) { /* the x values */
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        if (by_block ? strcmp(cell->regularizer, "dropblock") : !strcmp(cell->regularizer, "none")) continue;
        double x = by_block ? cell->block_size : cell->keep_prob;
        int j = 0;
        while (j < nx && xs[j] != x) j++;
        if (j == nx && nx < MAXX) xs[nx++] = x;
    }
    if (nx < 2) return;
    for (int i = 1; i < nx; i++) /* ascending */
        for (int j = i; j > 0 && xs[j] < xs[j - 1]; j--) { double t = xs[j]; xs[j] = xs[j - 1]; xs[j - 1] = t; }
    for (int i = 0; i < MAXSER * MAXX; i++) m[i] = lo[i] = hi[i] = NAN;
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        if ((by_block ? strcmp(cell->regularizer, "dropblock") : !strcmp(cell->regularizer, "none")) || !c[k].n) continue;
        char name[80];
        if (by_block) snprintf(name, sizeof name, "groups %s, %s", cell->groups, cell->skip ? "conv+skip" : "conv only");
        else snprintf(name, sizeof name, "%s, %s keep_prob", cell->regularizer, cell->schedule);
        int j = 0;
        while (j < ns && strcmp(series[j], name)) j++;
        if (j == ns) {
            if (ns == MAXSER) continue;
            snprintf(series[ns], sizeof series[ns], "%s", name);
            labels[ns] = series[ns];
            ns++;
        }
        double x = by_block ? cell->block_size : cell->keep_prob;
        int xi = 0;
        while (xi < nx && xs[xi] != x) xi++;
        if (xi == nx) continue;
        size_t at = (size_t)j * nx + xi;
        m[at] = db_mean(c[k].v, c[k].n);
        spread(c[k].v, c[k].n, &lo[at], &hi[at]);
    }
    int swept = 0; /* a sweep needs a series with two points at least (Table 1's rows are not one) */
    for (int j = 0; j < ns; j++) {
        int pts = 0;
        for (int xi = 0; xi < nx; xi++) pts += !isnan(m[(size_t)j * nx + xi]);
        swept |= pts >= 2;
    }
    if (!swept) return;
    char name[200], title[300];
    snprintf(name, sizeof name, "%s-%s", s->name, by_block ? "block-size" : "keep-prob");
    snprintf(title, sizeof title, by_block ? "%s: %s test %s against DropBlock's block size (Figure 4 analogue)"
                                           : "%s: %s test %s against keep_prob (Figure 3 analogue)", s->name,
             score_best ? "best" : "final", score_label);
    db_doc_heading(doc, 2, by_block ? "Block-size sweep" : "keep_prob sweep");
    char ylab[48];
    snprintf(ylab, sizeof ylab, "test %s (%%)", score_label);
    db_plot p = {DB_PLOT_XY, name, title, by_block ? "block size" : "keep_prob", ylab, NULL, ns, labels, nx,
                 xs, m, lo, hi, NULL, NULL, 0, NULL, NULL, 1, 0, 100, NULL};
    figure(doc, &p, out, opt, log, skipped);
}

/* Realised against expected drop fraction per site (every done run's last epoch), and training
 * throughput per condition */
static void drop_and_speed(db_doc *doc, const db_rep_study *s, const cond *c, int nc, const char *out,
                           const db_rep_options *opt, FILE *log, int *skipped) {
    enum { MAXSER = 16, MAXP = 4096 };
    static double xs[MAXSER * MAXP], ys[MAXSER * MAXP];
    const char *labels[MAXC];
    int ns = 0, np = 0;
    for (int k = 0; k < nc && ns < MAXSER; k++) { /* how many points the widest series has */
        int pts = 0;
        for (int i = 0; i < s->ncells; i++) {
            const db_run_row *r = cell_run(s, &s->cells[i]);
            if (!strcmp(s->cells[i].condition, c[k].name) && r && !strcmp(r->status, "done")) pts += r->nsites;
        }
        if (pts) { labels[ns++] = c[k].name; if (pts > np) np = pts; }
    }
    if (np > MAXP) np = MAXP;
    if (ns && np) {
        for (int i = 0; i < ns * np; i++) xs[i] = ys[i] = NAN;
        for (int j = 0; j < ns; j++) {
            int at = 0;
            for (int i = 0; i < s->ncells; i++) {
                const db_run_row *r = cell_run(s, &s->cells[i]);
                if (strcmp(s->cells[i].condition, labels[j]) || !r || strcmp(r->status, "done")) continue;
                for (int q = 0; q < r->nsites && at < np; q++, at++) {
                    xs[(size_t)j * np + at] = r->sites[q].expected_fraction;
                    ys[(size_t)j * np + at] = r->sites[q].drop_fraction;
                }
            }
        }
        char name[200], title[300];
        snprintf(name, sizeof name, "%s-drop", s->name);
        snprintf(title, sizeof title, "%s: realised against expected drop fraction, per site (last epoch of each run)", s->name);
        db_plot p = {DB_PLOT_SCATTER, name, title, "expected drop fraction", "realised drop fraction", NULL, ns, labels,
                     np, NULL, ys, NULL, NULL, NULL, xs, 0, NULL, NULL, 1, 0, 1, NULL};
        figure(doc, &p, out, opt, log, skipped);
    }
    double m[MAXC], lo[MAXC], hi[MAXC];
    int nb = 0;
    const char *device = "cpu";
    int fewest_runs = 0;
    for (int k = 0; k < nc; k++) {
        double v[MAXS];
        int n = 0;
        for (int i = 0; i < s->ncells && n < MAXS; i++) {
            const db_run_row *r = cell_run(s, &s->cells[i]);
            if (strcmp(s->cells[i].condition, c[k].name) || !r || strcmp(r->status, "done") || isnan(r->images_per_s)) continue;
            v[n++] = r->images_per_s;
            device = r->device;
        }
        if (!n) continue;
        labels[nb] = c[k].name;
        m[nb] = db_mean(v, n);
        spread(v, n, &lo[nb], &hi[nb]);
        fewest_runs = !fewest_runs || n < fewest_runs ? n : fewest_runs;
        nb++;
    }
    if (!nb) return;
    char name[200], title[300];
    snprintf(name, sizeof name, "%s-throughput", s->name);
    snprintf(title, sizeof title, "%s: training images/s per condition (device %s; mean, %s)", s->name, device,
             fewest_runs >= MIN_CI ? "95% CI" : "the runs' range");
    db_plot p = {DB_PLOT_BARS, name, title, "", "images/s", NULL, nb, labels, 0, NULL, m, lo, hi, NULL, NULL, 0, NULL, NULL,
                 1, 0, INFINITY, NULL};
    figure(doc, &p, out, opt, log, skipped);
}

/* For nightly use: every run of the study (folded), and, where its runs come from more than one
 * build, each condition's score and throughput per commit */
static void runs_table(db_doc *doc, const db_rep_study *s, const cond *c, int nc) {
    if (!s->nruns) return;
    db_doc_heading(doc, 2, "Runs");
    db_doc_fold(doc, "every run recorded for this study");
    db_doc_table(doc, "run\tcondition\tseed\tstatus\tepochs\twall time\tdevice\tcommit\tscore (%)");
    const char *commits[64]; /* the builds the runs come from, in the order they first ran */
    int ncommits = 0;
    for (int i = 0; i < s->nruns; i++) {
        const db_run_row *r = &s->runs[i];
        const char *cond_name = run_condition(s, r);
        char wall[32] = "-", score[32] = "-";
        if (!isnan(r->wall_s)) snprintf(wall, sizeof wall, "%dm%02ds", (int)r->wall_s / 60, (int)r->wall_s % 60);
        if (!isnan(run_score(r))) snprintf(score, sizeof score, "%.2f", run_score(r));
        db_doc_row(doc, "%lld\t%s\t%llu\t%s\t%d/%d\t%s\t%s\t%s\t%s", (long long)r->id,
                   cond_name ? cond_name : "(another study's run)", (unsigned long long)r->seed, r->status,
                   r->epochs_done, r->epochs, wall, r->device, r->commit[0] ? r->commit : "-", score);
        int seen = !r->commit[0];
        for (int j = 0; j < ncommits && !seen; j++) seen = !strcmp(commits[j], r->commit);
        if (!seen && ncommits < 64) commits[ncommits++] = r->commit;
    }
    db_doc_fold_end(doc);
    if (ncommits < 2) return;
    db_doc_heading(doc, 2, "Across builds");
    db_doc_para(doc, "Each condition's done runs grouped by the commit that built them, in the order the commits first "
                     "ran: the mean score and training images/s, and how many runs. A change between builds with the "
                     "same seeds is a regression or an improvement; dropbench regress decides it.");
    db_doc_table(doc, "condition\tcommit\truns\tmean score (%)\tmean images/s");
    for (int k = 0; k < nc; k++)
        for (int j = 0; j < ncommits; j++) {
            double sc = 0, ips = 0;
            int n = 0, ni = 0;
            for (int i = 0; i < s->nruns; i++) {
                const db_run_row *r = &s->runs[i];
                const char *cond_name = run_condition(s, r);
                if (strcmp(r->commit, commits[j]) || strcmp(r->status, "done") || isnan(run_score(r)) || !cond_name ||
                    strcmp(cond_name, c[k].name))
                    continue;
                sc += run_score(r);
                n++;
                if (!isnan(r->images_per_s)) { ips += r->images_per_s; ni++; }
            }
            if (n) db_doc_row(doc, "%s\t%s\t%d\t%.2f\t%.0f", c[k].name, commits[j], n, sc / n, ni ? ips / ni : NAN);
        }
}

static void study_section(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const char *out,
                          const db_rep_options *opt, FILE *log, int *skipped) {
    static cond c[MAXC];
    static comparison cmp[MAXC];
    set_score_label(s);
    int nc = conditions(s, c), base = -1;
    for (int k = 0; k < nc && base < 0; k++) if (s->cells[c[k].cell0].is_baseline) base = k;
    db_doc_heading(doc, 1, "Study %s", s->name);
    if (s->description[0]) db_doc_para(doc, "%s", s->description);
    db_doc_para(doc, "Recipe %s; %d cells in %d conditions; %d runs recorded.", s->recipe, s->ncells, nc, s->nruns);
    if (s->nassumptions) {
        db_doc_para(doc, "Assumptions: readings of the paper it does not state, made by this recipe.");
        for (int i = 0; i < s->nassumptions; i++) db_doc_item(doc, "%s", s->assumption[i]);
    }
    if (s->problem[0]) db_doc_para(doc, "Its matrix cannot be shown: %s. Its %d runs are in the database (dropbench list "
                                        "--study %s).", s->problem, s->nruns, s->name);
    matrix(doc, s, c, nc);
    results(doc, c, nc, base, cmp);
    const char *labels[MAXC];
    double mean[MAXC], lo[MAXC], hi[MAXC], ref[MAXC];
    int nb = 0, npts = 0;
    static double px[MAXC * MAXS], py[MAXC * MAXS];
    for (int k = 0; k < nc; k++) {
        if (!c[k].n) continue;
        for (int i = 0; i < c[k].n; i++) { px[npts] = nb; py[npts++] = c[k].v[i]; }
        labels[nb] = c[k].name;
        mean[nb] = db_mean(c[k].v, c[k].n);
        spread(c[k].v, c[k].n, &lo[nb], &hi[nb]);
        nb++;
    }
    char name[200], title[300], ylab[48];
    snprintf(ylab, sizeof ylab, "test %s (%%)", score_label);
    if (nb) {
        snprintf(name, sizeof name, "%s-top1", s->name);
        snprintf(title, sizeof title, "%s: %s test %s per condition (mean; %s), each seed a circle", s->name,
                 score_best ? "best" : "final", score_label,
                 fewest(c, nc) >= MIN_CI ? "95% CI" : "the seeds' range below 3 seeds");
        db_plot p = {DB_PLOT_BARS, name, title, "", ylab, NULL, nb, labels, 0, NULL, mean, lo, hi, NULL,
                     NULL, npts, px, py, 1, 0, 100, NULL};
        figure(doc, &p, out, opt, log, skipped);
    }
    int np = 0;
    paper_table(doc, in, s, c, nc);
    dense_table(doc, in, s, c, nc, base);
    static double gx[MAXC * MAXS], gd[MAXC * MAXS];
    int ng = 0;
    paper_comparison(doc, in, s, c, nc, base, cmp, mean, lo, hi, ref, labels, &np, gx, gd, &ng);
    if (np) {
        snprintf(name, sizeof name, "%s-gains", s->name);
        snprintf(title, sizeof title, "%s: gain over the baseline, ours (mean; %s; each seed's difference a circle) beside "
                 "the paper's", s->name, fewest(c, nc) >= MIN_CI ? "95% CI" : "the seeds' range");
        db_plot p = {DB_PLOT_PAIRS, name, title, "", "top-1 gain (points)", "paper (ResNet-50, ImageNet)", np, labels,
                     0, NULL, mean, lo, hi, ref, NULL, ng, gx, gd, 0, 0, 0, NULL};
        figure(doc, &p, out, opt, log, skipped);
    }
    int E, ns;
    double *x, *y;
    int *group;
    const char **series;
    curves(s, c, nc, &E, &ns, &x, &y, &group, &series);
    int scored = 0; /* epochs with a test score (eval_every may leave only the last) */
    for (int e = 0; e < E; e++)
        for (int k = 0; k < ns && y; k++)
            if (!isnan(y[(size_t)k * E + e])) { scored++; break; }
    if (E > 1 && ns > 0 && scored < 2)
        db_doc_para(doc, "No learning curves: this study scores the test set only after the last epoch (eval_every).");
    else if (E > 1 && ns > 0) { /* a single epoch is no curve */
        snprintf(name, sizeof name, "%s-curves", s->name);
        snprintf(title, sizeof title, "%s: test %s per epoch, one line per run (seed), a colour per condition", s->name,
                 score_label);
        db_plot p = {DB_PLOT_CURVES, name, title, "epoch", ylab, NULL, ns, series, E, x, y, NULL, NULL, NULL,
                     NULL, 0, NULL, NULL, 1, 0, 100, group};
        figure(doc, &p, out, opt, log, skipped);
    }
    free(x); free(y); free(group); free(series);
    sweep(doc, s, c, nc, 0, out, opt, log, skipped);
    sweep(doc, s, c, nc, 1, out, opt, log, skipped);
    db_doc_heading(doc, 2, "Drop fractions and throughput");
    db_doc_table(doc, "condition\tregularizer\tkeep_prob\tblock\texpected drop (last epoch)\trealised drop\ttraining images/s");
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        db_doc_row(doc, "%s\t%s\t%.3g\t%d\t%.4f\t%.4f\t%.0f", c[k].name, cell->regularizer, cell->keep_prob,
                   cell->block_size, c[k].expected, c[k].drop, c[k].ips);
    }
    drop_and_speed(doc, s, c, nc, out, opt, log, skipped);
    runs_table(doc, s, c, nc);
    db_doc_heading(doc, 2, "Reproduce");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "./dropbench study %s --db %s\n# one cell alone, e.g.:\n%s", s->recipe, in->db_path,
             s->ncells ? s->cells[0].command : "");
    db_doc_code(doc, cmd);
}

/* ---- research questions, over every study ---- */

typedef struct { int n; double d[1024]; } pool;

static void pool_add(pool *p, const cond *a, const cond *b) {
    double d[MAXS];
    int n = paired(a, b, d);
    for (int i = 0; i < n && p->n < 1024; i++) p->d[p->n++] = d[i];
}

static const char *rq_verdict(const pool *p, char *why, size_t n) {
    if (!p->n) { snprintf(why, n, "no study has these conditions"); return "not run"; }
    double mean = db_mean(p->d, p->n), lo, hi, pv = paired_p(p->d, p->n);
    db_t_interval(p->d, p->n, 0.95, &lo, &hi);
    snprintf(why, n, "mean paired difference %+.2f points over %d seed pairs, 95%% CI [%.2f, %.2f], p = %.3g", mean,
             p->n, lo, hi, pv);
    if (p->n <= 24 && db_signflip_min_p(p->n, 1) > ALPHA) return "underpowered";
    if (pv < ALPHA) return mean > 0 ? "supported" : "contradicted";
    return "not supported at this scale";
}

/* Do conditions a and b of one study differ only in the given setting? */
static int differ_only(const db_rep_cell *a, const db_rep_cell *b, const char *what) {
    int same_reg = !strcmp(a->regularizer, b->regularizer), same_kp = a->keep_prob == b->keep_prob,
        same_bs = a->block_size == b->block_size, same_sched = !strcmp(a->schedule, b->schedule),
        same_groups = !strcmp(a->groups, b->groups), same_skip = a->skip == b->skip;
    if (!strcmp(what, "schedule")) return !same_sched && same_reg && same_kp && same_bs && same_groups && same_skip;
    if (!strcmp(what, "skip")) return !same_skip && same_reg && same_kp && same_bs && same_groups && same_sched;
    if (!strcmp(what, "groups")) return !same_groups && same_reg && same_kp && same_bs && same_skip && same_sched;
    return 0;
}

static void research_questions(db_doc *doc, const db_rep_input *in) {
    static cond c[MAXC];
    pool vs_dropout = {0}, vs_spatial = {0}, sched = {0}, skip = {0}, groups = {0};
    char best_block[512] = "";
    for (int si = 0; si < in->nstudies; si++) {
        const db_rep_study *s = &in->studies[si];
        int nc = conditions(s, c);
        const cond *db = NULL, *dr = NULL, *sp = NULL;
        for (int k = 0; k < nc; k++) {
            const db_rep_cell *cell = &s->cells[c[k].cell0];
            if (!strcmp(cell->paper_row, "DropBlock") && !db) db = &c[k];
            if (!strcmp(cell->paper_row, "dropout") && !dr) dr = &c[k];
            if (!strcmp(cell->paper_row, "SpatialDropout") && !sp) sp = &c[k];
            for (int j = 0; j < nc; j++) {
                const db_rep_cell *o = &s->cells[c[j].cell0];
                if (!strcmp(cell->schedule, "linear") && differ_only(cell, o, "schedule")) pool_add(&sched, &c[j], &c[k]);
                if (cell->skip && differ_only(cell, o, "skip")) pool_add(&skip, &c[j], &c[k]);
                if (strlen(cell->groups) > strlen(o->groups) && differ_only(cell, o, "groups")) pool_add(&groups, &c[j], &c[k]);
            }
        }
        if (db && dr) pool_add(&vs_dropout, dr, db);
        if (db && sp) pool_add(&vs_spatial, sp, db);
        /* the block-size sweep: the best mean among DropBlock conditions of differing block size */
        double best = -1;
        int bk = 0, sizes = 0, seen[64] = {0};
        for (int k = 0; k < nc; k++) {
            const db_rep_cell *cell = &s->cells[c[k].cell0];
            if (strcmp(cell->regularizer, "dropblock") || !c[k].n) continue;
            if (cell->block_size < 64 && !seen[cell->block_size]++) sizes++;
            double m = db_mean(c[k].v, c[k].n);
            if (m > best) { best = m; bk = cell->block_size; }
        }
        if (sizes > 1) {
            size_t l = strlen(best_block);
            set_score_label(s);
            snprintf(best_block + l, sizeof best_block - l, "%sstudy %s: best mean %s at block size %d (%.2f%%) of %d sizes",
                     l ? "; " : "", s->name, score_label, bk, best, sizes);
        }
    }
    char why[300], why2[300];
    db_doc_heading(doc, 1, "Research questions");
    db_doc_para(doc, "Verdicts pool the paired per-seed differences of every study that has the conditions; small-scale "
                     "studies test the claims, they do not reproduce ImageNet numbers.");
    const char *v1 = rq_verdict(&vs_dropout, why, sizeof why), *v2 = rq_verdict(&vs_spatial, why2, sizeof why2);
    db_doc_table(doc, "question\tverdict\tevidence");
    db_doc_row(doc, "RQ1: DropBlock beats dropout\t%s\t%s", v1, why);
    db_doc_row(doc, "RQ1: DropBlock beats SpatialDropout\t%s\t%s", v2, why2);
    const char *v3 = rq_verdict(&sched, why, sizeof why);
    db_doc_row(doc, "RQ2: a linear keep_prob schedule beats a fixed one\t%s\t%s", v3, why);
    db_doc_row(doc, "RQ2: block size matters (paper: 7 best on ImageNet)\t%s\t%s", best_block[0] ? "see evidence" : "not run",
               best_block[0] ? best_block : "no study sweeps DropBlock's block size");
    const char *v4 = rq_verdict(&skip, why, sizeof why);
    db_doc_row(doc, "RQ3: DropBlock on the skip connections too helps\t%s\t%s", v4, why);
    const char *v5 = rq_verdict(&groups, why, sizeof why);
    db_doc_row(doc, "RQ3: more groups (3+4 vs 4) help\t%s\t%s", v5, why);
    db_doc_row(doc, "RQ4: DropBlock helps detection (RetinaNet, COCO) and segmentation (VOC)\tnot run\tthe detection and "
                    "segmentation networks are not available yet");
}

/* What kind of study it is, from its cells' settings: a pipeline check (a few epochs or a small
 * slice of the data), a small-scale analogue of the paper's experiment, or the paper's own scale */
static void study_kind(const db_rep_study *s, char *out, size_t n) {
    if (!s->ncells) { snprintf(out, n, "unknown (its recipe cannot be read)"); return; }
    const db_rep_cell *c = &s->cells[0];
    char data[96];
    if (c->train_limit) {
        char num[32], grouped[48];
        int len = snprintf(num, sizeof num, "%d", c->train_limit), o = 0;
        for (int i = 0; i < len; i++) { /* 6000 -> 6,000 */
            if (i && (len - i) % 3 == 0) grouped[o++] = ',';
            grouped[o++] = num[i];
        }
        grouped[o] = '\0';
        snprintf(data, sizeof data, "%s %s training images", grouped, c->dataset);
    }
    else snprintf(data, sizeof data, "all of %s", c->dataset);
    if (c->epochs <= 5)
        snprintf(out, n, "pipeline check: %d epoch%s on %s. It shows that training, recording and reporting work; "
                 "it is not a reproduction and its differences mean nothing", c->epochs, c->epochs == 1 ? "" : "s", data);
    else if (c->train_limit && c->train_limit < 20000 && strcmp(c->dataset, "imagenet"))
        snprintf(out, n, "small-data analogue: %d epochs on %s. It tests which regularizer gains when a network "
                 "trains long on little data, at this scale; it is not a reproduction of the paper's numbers",
                 c->epochs, data);
    else if (strcmp(c->dataset, "imagenet"))
        snprintf(out, n, "small-scale analogue: %d epochs on %s. It tests the paper's claims (which regularizer "
                 "gains) at this scale, not its numbers", c->epochs, data);
    else snprintf(out, n, "the paper's scale: %d epochs on %s", c->epochs, data);
}

/* The verdict box: per study what kind it is and, for DropBlock against each other condition the
 * paper compares it with, the paired difference, its uncertainty, the seeds and a verdict, the
 * paper's difference beside it */
/* The paper's row a condition stands for: in Table 1 for a classification study (t 0), in Table 3
 * or 4 for a detection or segmentation study (t) */
static const char *row_of(const db_rep_study *s, const cond *x, int t) {
    return t ? s->cells[x->cell0].dense_row : s->cells[x->cell0].paper_row;
}

static const db_paper_value *paper_of(const db_rep_input *in, const db_rep_study *s, const cond *x, const char *row,
                                      int t) {
    return t ? paper_dense(in, t, row, s->cells[x->cell0].pretrained) : paper_top1(in, row);
}

/* The DropBlock row of the paper's table: Table 1's and 3's "DropBlock", Table 4's in the FCN head
 * (not Table 1's "DropBlock + label smoothing": a comparison of its own) */
static int is_dropblock_row(const char *row) { return !strcmp(row, "DropBlock") || !strcmp(row, "DropBlock (in FCN head)"); }

/* One initialisation column's verdicts (col 1: the pretrained conditions): DropBlock against each
 * other condition of the column that stands for a row of the paper's table; in_col names the
 * column when the study has both */
static void column_verdicts(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const cond *c, int nc, int t3,
                            int col, const char *in_col) {
    int dbk = -1;
    /* Table 1: the first DropBlock condition; Table 3's DropBlock row is the paper's best block
     * size, so ours is the best of ours; Table 4's is block 16 in the head, so ours is the head
     * condition whose block size is nearest 16 (the first of equals) */
    double best = -INFINITY;
    for (int k = 0; k < nc; k++) {
        if ((s->cells[c[k].cell0].pretrained != 0) != col || !is_dropblock_row(row_of(s, &c[k], t3))) continue;
        const double mean = c[k].n ? db_mean(c[k].v, c[k].n) : -INFINITY;
        const int bs = s->cells[c[k].cell0].block_size;
        if (dbk < 0 || (t3 == 3 && mean > best) ||
            (t3 == 4 && abs(bs - 16) < abs(s->cells[c[dbk].cell0].block_size - 16)))
            dbk = k, best = mean;
    }
    if (dbk < 0) {
        db_doc_item(doc, "no DropBlock condition of the paper's Table %d to compare%s", t3 ? t3 : 1, in_col);
        return;
    }
    if (t3 == 3) db_doc_item(doc, "DropBlock here%s: %s, the block size with the best mean AP, as the paper's row is "
                             "its best", in_col, c[dbk].name);
    if (t3 == 4) db_doc_item(doc, "DropBlock here%s: %s, the FCN-head condition whose block size is nearest the "
                             "paper's 16 (chosen before looking at the results)", in_col, c[dbk].name);
    const db_paper_value *pdb = paper_of(in, s, &c[dbk], row_of(s, &c[dbk], t3), t3);
    /* DropBlock minus each other Table 1 condition, paired by seed; Holm over those made */
    static double d[MAXC][MAXS];
    int other[MAXC], n[MAXC], no = 0, m = 0;
    double pv[MAXC], adj[MAXC];
    for (int k = 0; k < nc; k++) {
        const char *row = row_of(s, &c[k], t3);
        if (k == dbk || !row[0] || is_dropblock_row(row) || (s->cells[c[k].cell0].pretrained != 0) != col)
            continue; /* another DropBlock, or another column: not a comparison of the paper's */
        other[no] = k;
        n[no] = paired(&c[k], &c[dbk], d[no]);
        pv[no] = n[no] ? paired_p(d[no], n[no]) : NAN;
        m += n[no] > 0;
        no++;
    }
    db_holm(pv, no, adj);
    for (int i = 0; i < no; i++) {
        const cond *x = &c[other[i]];
        const db_paper_value *pp = paper_of(in, s, x, row_of(s, x, t3), t3);
        char paper[64] = "the paper has no such row";
        if (pp && pdb) snprintf(paper, sizeof paper, "paper %+.2f", pdb->value - pp->value);
        if (!n[i]) {
            db_doc_item(doc, "DropBlock − %s: no paired seeds yet (not run); %s", x->name, paper);
            continue;
        }
        double lo, hi, mean = db_mean(d[i], n[i]);
        spread(d[i], n[i], &lo, &hi);
        char v[96];
        if (adj[i] < ALPHA) snprintf(v, sizeof v, "DropBlock %s (p %.3f)", mean > 0 ? "better" : "worse", adj[i]);
        else if (n[i] < seeds_needed(m)) snprintf(v, sizeof v, "inconclusive (too few seeds to decide)");
        else snprintf(v, sizeof v, "no significant difference (p %.3f)", adj[i]);
        if (pp && pdb && n[i] >= MIN_CI) { /* whether this scale's answer can hold the paper's difference */
            double pd = pdb->value - pp->value;
            if (pd > hi || pd < lo)
                snprintf(paper + strlen(paper), sizeof paper - strlen(paper), ", outside our 95%% CI");
            else snprintf(paper + strlen(paper), sizeof paper - strlen(paper), ", inside our 95%% CI");
        }
        db_doc_item(doc, "DropBlock − %s: %+.2f points, %s %+.2f to %+.2f, %d paired seed%s: %s; %s", x->name, mean,
                    n[i] >= MIN_CI ? "95% CI" : "range", lo, hi, n[i], n[i] == 1 ? "" : "s", v, paper);
    }
}

static void verdict_box(db_doc *doc, const db_rep_input *in) {
    static cond c[MAXC];
    db_doc_heading(doc, 1, "Verdicts");
    db_doc_para(doc, "Per study, DropBlock minus each condition of the paper's Table 1 in test top-1 points, paired by "
                     "seed (positive: DropBlock better): the mean, its 95%% t-interval (below 3 seeds the range), and "
                     "the exact two-sided sign-flip test's p, Holm-adjusted over the study's comparisons; beside it the "
                     "paper's difference and whether our interval holds it. A detection study compares in test AP "
                     "(x100) with the paper's Table 3 alike, a segmentation study in test mIOU (x100) with its Table 4, an "
                     "AmoebaNet study in test top-1 with its Table 2.");
    db_report_regress_verdict(doc, &in->regression);
    for (int si = 0; si < in->nstudies; si++) {
        const db_rep_study *s = &in->studies[si];
        char kind[400];
        study_kind(s, kind, sizeof kind);
        db_doc_para(doc, "Study %s: %s.", s->name, kind);
        const int nc = conditions(s, c);
        const int t3 = dense_table_of(s, c, nc); /* AmoebaNet (2), detection (3), segmentation (4); 0: Table 1 */
        int cols[2] = {0, 0}; /* conditions from random initialisation, from a pretrained backbone */
        for (int k = 0; k < nc; k++) cols[s->cells[c[k].cell0].pretrained != 0]++;
        for (int col = 0; col < 2; col++) /* each column compared within itself, as the paper's tables are */
            if (cols[col])
                column_verdicts(doc, in, s, c, nc, t3, col, cols[!col] ? (col ? " (pretrained)" : " (random initialisation)")
                                                                       : "");
    }
}

static void header(db_doc *doc, const db_rep_input *in) {
    char when[64];
    time_t t = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    db_doc_para(doc, "Written %s by dropbench %s from %s: %d stud%s.", when, in->dropbench_version, in->db_path,
                in->nstudies, in->nstudies == 1 ? "y" : "ies");
}

/* Where the numbers come from, folded at the end */
static void provenance(db_doc *doc, const db_rep_input *in) {
    db_doc_heading(doc, 1, "Provenance");
    db_doc_fold(doc, "the source, build, machine and data of each study's newest run");
    db_doc_table(doc, "study\tkey\tvalue (its newest run)");
    static const char *const keys[] = {"git_commit", "git_dirty", "compiler", "cflags", "host", "cpu", "ram_gib", "blas",
                                       "cuda", "gpu", "determinism", "dataset_files", "slurm"};
    for (int si = 0; si < in->nstudies; si++)
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            const char *p = in->studies[si].provenance;
            size_t kl = strlen(keys[k]);
            while (p && *p) {
                if (!strncmp(p, keys[k], kl) && p[kl] == '=') {
                    const char *v = p + kl + 1;
                    int len = (int)strcspn(v, "\n");
                    db_doc_row(doc, "%s\t%s\t%.*s", in->studies[si].name, keys[k], len, v);
                    break;
                }
                p = strchr(p, '\n');
                if (p) p++;
            }
        }
    db_doc_fold_end(doc);
}

db_status db_report_write(const db_rep_input *in, const char *out, const db_rep_options *opt, FILE *log) {
    char path[1100];
    if (mkdir(out, 0777) != 0 && errno != EEXIST) return db_fail(DB_ERR_IO, "%s: cannot create: %s", out, strerror(errno));
    snprintf(path, sizeof path, "%s/plots", out);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return db_fail(DB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    db_doc *doc = db_doc_new("dropbench report: DropBlock (Ghiasi, Lin, Le, NeurIPS 2018), our runs beside the paper's");
    if (!doc) return db_fail(DB_ERR_NOMEM, "out of memory");
    int skipped = 0;
    score_best = opt->best;
    header(doc, in);
    verdict_box(doc, in);
    for (int si = 0; si < in->nstudies; si++) study_section(doc, in, &in->studies[si], out, opt, log, &skipped);
    research_questions(doc, in);
    db_report_regress_section(doc, &in->regression);
    provenance(doc, in);
    if (skipped)
        db_doc_para(doc, "%d figure%s not rendered (%s); their data and gnuplot scripts are in plots/.", skipped,
                    skipped == 1 ? "" : "s", opt->plots ? "gnuplot failed or is not installed" : "plots were turned off");
    snprintf(path, sizeof path, "%s/REPORT.md", out);
    db_status st = db_doc_write_markdown(doc, path);
    snprintf(path, sizeof path, "%s/index.html", out);
    if (st == DB_OK) st = db_doc_write_html(doc, path);
    snprintf(path, sizeof path, "%s/SUMMARY.md", out);
    if (st == DB_OK && opt->summary) st = db_doc_write_summary(doc, path);
    db_doc_free(doc);
    if (st == DB_OK && skipped) fprintf(log, "report: %d figure(s) skipped (gnuplot missing or failed)\n", skipped);
    return st;
}
