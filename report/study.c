/* One study's section of the report (report/analyse.h): its matrix, results with statistics,
 * the paper's tables beside ours (paper.c), figures (per condition, gains, curves, sweeps, drop
 * fractions, throughput), every run, and how to reproduce it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dirs.h"
#include "core/stats.h"
#include "report/analyse.h"

/* "cd DIR && " where the study's recipe was named from the folder it ran in (its provenance's
 * working_folder; its init_from and data folders may be relative too), else "" */
static const char *from_folder(const db_rep_study *s, char *out, size_t n) {
    const char *here = NULL;
    const int len = s->recipe[0] != '/' ? db_rep_provenance(s, "working_folder", &here) : -1;
    char dir[1400], word[1400];
    out[0] = '\0';
    if (len > 0 && snprintf(dir, sizeof dir, "%.*s", len, here) < (int)sizeof dir && db_shell_word(dir, word, sizeof word)[0])
        snprintf(out, n, "cd %s && ", word);
    return out;
}

static void matrix(db_doc *doc, const db_rep_study *s, const db_rep_cond *c, int nc) {
    db_doc_heading(doc, 2, "Matrix");
    db_doc_table(doc, "condition\tcells\tdone\tfailed\tdiverged\tinterrupted\trunning\tmissing");
    for (int k = 0; k < nc; k++)
        db_doc_row(doc, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d", c[k].name, c[k].ncells, c[k].state[0], c[k].state[1],
                   c[k].state[2], c[k].state[3], c[k].state[4], c[k].state[5]);
    int problems = 0;
    for (int i = 0; i < s->ncells; i++) {
        const db_run_row *r = db_rep_cell_run(s, &s->cells[i]);
        int st = db_rep_state_of(r);
        if (st == 0 && !isnan(db_rep_run_score(r))) continue;
        if (!problems++) db_doc_para(doc, "Cells without a result (counted above, left out of every statistic below):");
        if (st == 0) { /* done, but its score was not recorded (a non-finite value, or another version's metric) */
            db_doc_item(doc, "%s: done (run %lld) but no final test %s recorded", s->cells[i].label, (long long)r->id,
                        db_rep_score_label);
            continue;
        }
        char cd[1500];
        if (st == 5) db_doc_item(doc, "%s: missing (never run); %s%s", s->cells[i].label, from_folder(s, cd, sizeof cd),
                                 s->cells[i].command);
        else db_doc_item(doc, "%s: %s (run %lld)%s%s", s->cells[i].label, r->status, (long long)r->id,
                         r->exit_reason[0] ? ": " : "", r->exit_reason);
    }
}

/* Each condition's baseline: the first baseline condition of its initialisation column (from
 * random initialisation, from a pretrained backbone), compared within the column as the paper's
 * tables are; -1: its column has none */
static void column_baselines(const db_rep_study *s, const db_rep_cond *c, int nc, int *base_of) {
    int col[2] = {-1, -1};
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        if (cell->is_baseline && col[cell->pretrained != 0] < 0) col[cell->pretrained != 0] = k;
    }
    for (int k = 0; k < nc; k++) {
        const int pre = s->cells[c[k].cell0].pretrained != 0;
        base_of[k] = col[pre]; /* a column without its own baseline: nothing to compare with */
    }
}

static void results(db_doc *doc, const db_rep_study *s, const db_rep_cond *c, int nc, const int *base_of,
                    db_rep_cmp *cmp) {
    double p[DB_REP_MAXC];
    char bases[400] = ""; /* "row=none", or "row=none; for the pretrained conditions row=pretrained_none" */
    int nbases = 0;
    for (int k = 0; k < nc; k++)
        if (base_of[k] == k) {
            size_t l = strlen(bases);
            snprintf(bases + l, sizeof bases - l, "%s%s%s", nbases++ ? "; " : "",
                     s->cells[c[k].cell0].pretrained ? "for the pretrained conditions " : "", c[k].name);
        }
    for (int k = 0; k < nc; k++) {
        const int base = base_of[k];
        cmp[k].n = base >= 0 && k != base ? db_rep_paired(&c[base], &c[k], cmp[k].d) : 0;
        cmp[k].mean = cmp[k].n ? db_mean(cmp[k].d, cmp[k].n) : NAN;
        cmp[k].p = p[k] = cmp[k].n ? db_rep_paired_p(cmp[k].d, cmp[k].n) : NAN;
        cmp[k].unpaired = 0;
        if (base >= 0 && k != base && !cmp[k].n && c[k].n > 1 && c[base].n > 1) { /* no common seeds: Welch */
            double t, df;
            db_welch(c[k].v, c[k].n, c[base].v, c[base].n, &t, &df, &cmp[k].p);
            p[k] = cmp[k].p;
            cmp[k].mean = db_mean(c[k].v, c[k].n) - db_mean(c[base].v, c[base].n);
            cmp[k].unpaired = 1;
        }
    }
    /* Holm over each baseline's comparisons (an initialisation column's, as the verdicts do) */
    int m = 0, most = 0; /* comparisons in all; in the largest family */
    for (int k = 0; k < nc; k++) cmp[k].p_adj = NAN, cmp[k].m = 0;
    for (int b = 0; b < nc; b++) {
        if (base_of[b] != b) continue;
        double fp[DB_REP_MAXC], fadj[DB_REP_MAXC];
        int idx[DB_REP_MAXC], nf = 0, mf = 0;
        for (int k = 0; k < nc; k++)
            if (base_of[k] == b && k != b) idx[nf] = k, fp[nf++] = p[k];
        db_holm(fp, nf, fadj);
        for (int i = 0; i < nf; i++) mf += !isnan(fp[i]);
        for (int i = 0; i < nf; i++) cmp[idx[i]].p_adj = fadj[i], cmp[idx[i]].m = mf;
        m += mf;
        if (mf > most) most = mf;
    }
    db_doc_heading(doc, 2, "Results: %s test %s (%%)", db_rep_score_best ? "best (over the epochs)" : "final", db_rep_score_label);
    const char *whose = nbases > 1 ? "the baseline of the condition's initialisation (" : "the baseline (";
    if (!nbases) db_doc_para(doc, "This study has no baseline condition (none without a regularizer): conditions are "
                                  "shown without deltas.");
    else if (nc == 1) db_doc_para(doc, "One condition: nothing to compare.");
    else if (!m) db_doc_para(doc, "Delta: per-seed difference to %s%s), paired by seed: no other condition has "
                                  "a result to compare with it yet.", whose, bases);
    else db_doc_para(doc, "Delta: per-seed difference to %s%s), paired by seed; p: exact two-sided sign-flip "
                          "test, Holm-adjusted over the %d comparisons made%s (Welch's t where a condition shares no seed "
                          "with the baseline). The exact test cannot give p below 2/2^n on n seeds and Holm multiplies the "
                          "smallest p by the number of comparisons, so with fewer than %d paired seeds no difference can "
                          "reach p < 0.05: those are \"underpowered\", not \"no difference\".", whose, bases, m,
                     nbases > 1 ? " (within each initialisation)" : "", db_rep_seeds_needed(most));
    db_doc_para(doc, "Columns: n, the runs done; 95%% CI, the t-interval of the mean (from 3 runs; with 2, the two values' "
                     "range); delta, this condition minus the baseline per seed (positive: better than the baseline), "
                     "mean over the paired seeds (their count); p (adjusted), the test's p and, in brackets, after Holm.");
    db_doc_table(doc, "condition\tn\tmean ± sd\t95% CI\tmedian\tdelta vs baseline (n)\t95% CI of delta\tp (adjusted)\tverdict");
    for (int k = 0; k < nc; k++) {
        char ci[64], dci[64] = "-", delta[64] = "-", pv[64] = "-", msd[64] = "-", med[32] = "-";
        db_rep_fmt_ci(ci, sizeof ci, c[k].v, c[k].n);
        if (c[k].n) {
            snprintf(msd, sizeof msd, c[k].n > 1 ? "%.2f ± %.2f" : "%.2f", db_mean(c[k].v, c[k].n), db_sd(c[k].v, c[k].n, 1));
            snprintf(med, sizeof med, "%.2f", db_median(c[k].v, c[k].n));
        }
        const int base = base_of[k];
        const char *v = k == base ? "baseline" : base < 0 ? "no baseline"
                        : !cmp[k].n && c[k].n ? (c[base].n ? "no seed in common with the baseline" : "its baseline not run yet")
                                              : db_rep_verdict(&cmp[k]);
        if (cmp[k].unpaired) {
            v = cmp[k].p_adj < DB_REP_ALPHA ? (cmp[k].mean > 0 ? "better" : "worse") : "no detectable difference";
            snprintf(delta, sizeof delta, "%+.2f (unpaired)", cmp[k].mean);
            snprintf(pv, sizeof pv, "%.3g (%.3g) Welch", cmp[k].p, cmp[k].p_adj);
        }
        if (cmp[k].n) {
            snprintf(delta, sizeof delta, "%+.2f (%d)", cmp[k].mean, cmp[k].n);
            db_rep_fmt_ci(dci, sizeof dci, cmp[k].d, cmp[k].n);
            snprintf(pv, sizeof pv, "%.3g (%.3g)", cmp[k].p, cmp[k].p_adj);
        }
        db_doc_row(doc, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", c[k].name, c[k].n, msd, ci, med, delta, dci, pv, v);
    }
}

/* Test top-1 per epoch of every done run, one line per run (seed), a colour per condition: means
 * and bands over a few seeds hide more than they show. *ns series of *epochs points each; group
 * gives each series' condition, labels its name. */
static void curves(const db_rep_study *s, const db_rep_cond *c, int nc, int *epochs, int *ns, double **x, double **y,
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
            const db_run_row *r = db_rep_cell_run(s, &s->cells[i]);
            if (!r || strcmp(r->status, "done")) continue;
            for (int e = 0; e < E; e++) (*y)[(size_t)n * E + e] = e < r->ncurve ? 100 * r->curve[e] : NAN;
            (*group)[n] = k;
            (*labels)[n] = c[k].name;
            n++;
        }
    *ns = n;
}

static void figure(db_doc *doc, const db_plot *given, const char *out, const db_rep_options *opt, FILE *log,
                   int *skipped) {
    char dir[1100], stem[256];
    snprintf(dir, sizeof dir, "%s/plots", out);
    db_plot_stem(given->name, stem, sizeof stem); /* (its files' names: a study's name may hold anything) */
    db_plot p = *given;
    p.name = stem;
    int rendered = 0;
    if (db_plot_write(&p, dir, opt->plots ? opt->gnuplot : NULL, &rendered) != DB_OK) {
        fprintf(log, "report: figure %s not written: %s\n", p.name, db_last_error());
        (*skipped)++;
        return;
    }
    if (!rendered) { (*skipped)++; return; }
    db_doc_figure(doc, out, p.name, p.title);
}

/* Figure 3 or 4 at this study's scale: mean top-1 against keep_prob (series: regularizer and
 * schedule) or against DropBlock's block size (series: groups and skip), when the study sweeps it */
static void sweep(db_doc *doc, const db_rep_study *s, const db_rep_cond *c, int nc, int by_block, const char *out,
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
    int mixed[MAXSER] = {0};
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
        mixed[j] |= !isnan(m[at]); /* two conditions at one point: the study varies more than the sweep's key */
        m[at] = db_mean(c[k].v, c[k].n);
        db_rep_spread(c[k].v, c[k].n, &lo[at], &hi[at]);
    }
    char dropped[512] = ""; /* a line through points of different settings would mislead: such a series goes */
    int kept = 0;
    for (int j = 0; j < ns; j++) {
        if (mixed[j]) {
            size_t at = strlen(dropped);
            snprintf(dropped + at, sizeof dropped - at, "%s%.79s", at ? "; " : "", series[j]);
            continue;
        }
        if (kept != j) {
            memcpy(series[kept], series[j], sizeof series[kept]);
            memcpy(m + (size_t)kept * nx, m + (size_t)j * nx, sizeof *m * (size_t)nx);
            memcpy(lo + (size_t)kept * nx, lo + (size_t)j * nx, sizeof *lo * (size_t)nx);
            memcpy(hi + (size_t)kept * nx, hi + (size_t)j * nx, sizeof *hi * (size_t)nx);
        }
        labels[kept] = series[kept];
        kept++;
    }
    ns = kept;
    int swept = 0; /* a sweep needs a series with two points at least (Table 1's rows are not one) */
    for (int j = 0; j < ns; j++) {
        int pts = 0;
        for (int xi = 0; xi < nx; xi++) pts += !isnan(m[(size_t)j * nx + xi]);
        swept |= pts >= 2;
    }
    if (!swept && !dropped[0]) return;
    db_doc_heading(doc, 2, by_block ? "Block-size sweep" : "keep_prob sweep");
    if (dropped[0])
        db_doc_para(doc, "Left out of the figure: %s; some point of each is held by two conditions that differ in "
                         "another key as well, so a line through its points would mix settings (the results table has "
                         "each).", dropped);
    if (!swept) return;
    char name[200], title[300];
    snprintf(name, sizeof name, "%s-%s", s->name, by_block ? "block-size" : "keep-prob");
    snprintf(title, sizeof title, by_block ? "%s: %s test %s against DropBlock's block size (Figure 4 analogue; bars: 95%% CI, "
                                             "or the range below 3 seeds)"
                                           : "%s: %s test %s against keep_prob (Figure 3 analogue; bars: 95%% CI, or the range "
                                             "below 3 seeds)", s->name,
             db_rep_score_best ? "best" : "final", db_rep_score_label);
    char ylab[48];
    snprintf(ylab, sizeof ylab, "test %s (%%)", db_rep_score_label);
    db_plot p = {DB_PLOT_XY, name, title, by_block ? "block size" : "keep_prob", ylab, NULL, ns, labels, nx,
                 xs, m, lo, hi, NULL, NULL, 0, NULL, NULL, 1, 0, 100, NULL};
    figure(doc, &p, out, opt, log, skipped);
}

/* Realised against expected drop fraction per site (every done run's last epoch), and training
 * throughput per condition */
static void drop_and_speed(db_doc *doc, const db_rep_study *s, const db_rep_cond *c, int nc, const char *out,
                           const db_rep_options *opt, FILE *log, int *skipped) {
    enum { MAXSER = 16, MAXP = 4096 };
    static double xs[MAXSER * MAXP], ys[MAXSER * MAXP];
    const char *labels[DB_REP_MAXC];
    int ns = 0, np = 0;
    for (int k = 0; k < nc && ns < MAXSER; k++) { /* how many points the widest series has */
        int pts = 0;
        for (int i = 0; i < s->ncells; i++) {
            const db_run_row *r = db_rep_cell_run(s, &s->cells[i]);
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
                const db_run_row *r = db_rep_cell_run(s, &s->cells[i]);
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
    double m[DB_REP_MAXC], lo[DB_REP_MAXC], hi[DB_REP_MAXC];
    int nb = 0;
    const char *device = "cpu";
    int fewest_runs = 0;
    for (int k = 0; k < nc; k++) {
        double v[DB_REP_MAXS];
        int n = 0;
        for (int i = 0; i < s->ncells && n < DB_REP_MAXS; i++) {
            const db_run_row *r = db_rep_cell_run(s, &s->cells[i]);
            if (strcmp(s->cells[i].condition, c[k].name) || !r || strcmp(r->status, "done") || isnan(r->images_per_s)) continue;
            v[n++] = r->images_per_s;
            device = r->device;
        }
        if (!n) continue;
        labels[nb] = c[k].name;
        m[nb] = db_mean(v, n);
        db_rep_spread(v, n, &lo[nb], &hi[nb]);
        fewest_runs = !fewest_runs || n < fewest_runs ? n : fewest_runs;
        nb++;
    }
    if (!nb) return;
    char name[200], title[300];
    snprintf(name, sizeof name, "%s-throughput", s->name);
    snprintf(title, sizeof title, "%s: training images/s per condition (device %s; mean, %s)", s->name, device,
             fewest_runs >= DB_REP_MIN_CI ? "95% CI" : "the runs' range");
    db_plot p = {DB_PLOT_BARS, name, title, "", "images/s", NULL, nb, labels, 0, NULL, m, lo, hi, NULL, NULL, 0, NULL, NULL,
                 1, 0, INFINITY, NULL};
    figure(doc, &p, out, opt, log, skipped);
}

/* For nightly use: every run of the study (folded), and, where its runs come from more than one
 * build, each condition's score and throughput per commit */
static void runs_table(db_doc *doc, const db_rep_study *s, const db_rep_cond *c, int nc) {
    if (!s->nruns) return;
    db_doc_heading(doc, 2, "Runs");
    db_doc_fold(doc, "every run recorded for this study");
    db_doc_table(doc, "run\tcondition\tseed\tstatus\tepochs\twall time\tdevice\tcommit\tscore (%)");
    const char *commits[64]; /* the builds the runs come from, in the order they first ran */
    int ncommits = 0;
    for (int i = 0; i < s->nruns; i++) {
        const db_run_row *r = &s->runs[i];
        const char *cond_name = db_rep_run_condition(s, r);
        char wall[32] = "-", score[32] = "-";
        if (!isnan(r->wall_s)) snprintf(wall, sizeof wall, "%dm%02ds", (int)r->wall_s / 60, (int)r->wall_s % 60);
        if (!isnan(db_rep_run_score(r))) snprintf(score, sizeof score, "%.2f", db_rep_run_score(r));
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
                const char *cond_name = db_rep_run_condition(s, r);
                if (strcmp(r->commit, commits[j]) || strcmp(r->status, "done") || isnan(db_rep_run_score(r)) || !cond_name ||
                    strcmp(cond_name, c[k].name))
                    continue;
                sc += db_rep_run_score(r);
                n++;
                if (!isnan(r->images_per_s)) { ips += r->images_per_s; ni++; }
            }
            char rate[32] = "-"; /* (no images/s recorded: "-", not nan) */
            if (ni) snprintf(rate, sizeof rate, "%.0f", ips / ni);
            if (n) db_doc_row(doc, "%s\t%s\t%d\t%.2f\t%s", c[k].name, commits[j], n, sc / n, rate);
        }
}

void db_rep_study_section(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const char *out,
                          const db_rep_options *opt, FILE *log, int *skipped) {
    static db_rep_cond c[DB_REP_MAXC];
    static db_rep_cmp cmp[DB_REP_MAXC];
    db_rep_set_score_label(s);
    int nc = db_rep_conditions(s, c), base_of[DB_REP_MAXC];
    column_baselines(s, c, nc, base_of);
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
    results(doc, s, c, nc, base_of, cmp);
    const char *labels[DB_REP_MAXC];
    double mean[DB_REP_MAXC], lo[DB_REP_MAXC], hi[DB_REP_MAXC], ref[DB_REP_MAXC];
    int nb = 0, npts = 0;
    static double px[DB_REP_MAXC * DB_REP_MAXS], py[DB_REP_MAXC * DB_REP_MAXS];
    for (int k = 0; k < nc; k++) {
        if (!c[k].n) continue;
        for (int i = 0; i < c[k].n; i++) { px[npts] = nb; py[npts++] = c[k].v[i]; }
        labels[nb] = c[k].name;
        mean[nb] = db_mean(c[k].v, c[k].n);
        db_rep_spread(c[k].v, c[k].n, &lo[nb], &hi[nb]);
        nb++;
    }
    char name[200], title[300], ylab[48];
    snprintf(ylab, sizeof ylab, "test %s (%%)", db_rep_score_label);
    if (nb) {
        snprintf(name, sizeof name, "%s-top1", s->name);
        snprintf(title, sizeof title, "%s: %s test %s per condition (mean; %s), each seed a circle", s->name,
                 db_rep_score_best ? "best" : "final", db_rep_score_label,
                 db_rep_fewest(c, nc) >= DB_REP_MIN_CI ? "95% CI" : "the seeds' range below 3 seeds");
        db_plot p = {DB_PLOT_BARS, name, title, "", ylab, NULL, nb, labels, 0, NULL, mean, lo, hi, NULL,
                     NULL, npts, px, py, 1, 0, 100, NULL};
        figure(doc, &p, out, opt, log, skipped);
    }
    int np = 0;
    db_rep_paper_table(doc, in, s, c, nc);
    db_rep_dense_table(doc, in, s, c, nc);
    static double gx[DB_REP_MAXC * DB_REP_MAXS], gd[DB_REP_MAXC * DB_REP_MAXS];
    int ng = 0;
    db_rep_paper_comparison(doc, in, s, c, nc, base_of, cmp, mean, lo, hi, ref, labels, &np, gx, gd, &ng);
    if (np) {
        snprintf(name, sizeof name, "%s-gains", s->name);
        snprintf(title, sizeof title, "%s: gain over the baseline, ours (mean; %s; each seed's difference a circle) beside "
                 "the paper's", s->name, db_rep_fewest(c, nc) >= DB_REP_MIN_CI ? "95% CI" : "the seeds' range");
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
                 db_rep_score_label);
        db_plot p = {DB_PLOT_CURVES, name, title, "epoch", ylab, NULL, ns, series, E, x, y, NULL, NULL, NULL,
                     NULL, 0, NULL, NULL, 1, 0, 100, group};
        figure(doc, &p, out, opt, log, skipped);
    }
    free(x); free(y); free(group); free(series);
    sweep(doc, s, c, nc, 0, out, opt, log, skipped);
    sweep(doc, s, c, nc, 1, out, opt, log, skipped);
    db_doc_heading(doc, 2, "Drop fractions and throughput");
    db_doc_para(doc, "Drop fractions: the last epoch's, of the whole network (the model's own classifier dropout aside), "
                     "every site weighted by its units, expected and realised alike; the mean over the condition's done "
                     "runs.");
    db_doc_table(doc, "condition\tregularizer\tkeep_prob\tblock\texpected drop (last epoch)\trealised drop\ttraining images/s");
    for (int k = 0; k < nc; k++) { /* "-": no regularizer (keep_prob and block mean nothing), or no run done */
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        const int reg = strcmp(cell->regularizer, "none") != 0;
        char kp[16] = "-", bs[16] = "-", want[16] = "-", drop[16] = "-", ips[16] = "-";
        if (reg) snprintf(kp, sizeof kp, "%.3g", cell->keep_prob);
        if (reg && !strcmp(cell->regularizer, "dropblock")) snprintf(bs, sizeof bs, "%d", cell->block_size);
        if (reg && !isnan(c[k].expected)) snprintf(want, sizeof want, "%.4f", c[k].expected);
        if (reg && !isnan(c[k].drop)) snprintf(drop, sizeof drop, "%.4f", c[k].drop);
        if (!isnan(c[k].ips)) snprintf(ips, sizeof ips, "%.0f", c[k].ips);
        db_doc_row(doc, "%s\t%s\t%s\t%s\t%s\t%s\t%s", c[k].name, cell->regularizer, kp, bs, want, drop, ips);
    }
    drop_and_speed(doc, s, c, nc, out, opt, log, skipped);
    runs_table(doc, s, c, nc);
    db_doc_heading(doc, 2, "Reproduce");
    char cmd[11000], cd[1500], w[3][1400]; /* runnable from any folder: cd first where the study's paths are relative */
    const char *db = in->db_for_commands[0] ? in->db_for_commands : in->db_path;
    from_folder(s, cd, sizeof cd);
    snprintf(cmd, sizeof cmd, "%s%s study %s --db %s\n# one cell alone, e.g.:\n%s%s", cd,
             db_shell_word(in->program ? in->program : "dropbench", w[0], sizeof w[0]),
             db_shell_word(s->recipe, w[1], sizeof w[1]), db_shell_word(db, w[2], sizeof w[2]), s->ncells ? cd : "",
             s->ncells ? s->cells[0].command : "");
    db_doc_code(doc, cmd);
}
