/* The report's verdicts (report/analyse.h): per study, DropBlock against each condition of the
 * paper's table it stands for, and one verdict per research question of the paper, pooled over
 * every study. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "report/analyse.h"
#include "report/nightly.h"

/* The paper's row a condition stands for: in Table 1 for a classification study (t 0), in Table 3
 * or 4 for a detection or segmentation study (t) */
static const char *row_of(const db_rep_study *s, const db_rep_cond *x, int t) {
    return t ? s->cells[x->cell0].dense_row : s->cells[x->cell0].paper_row;
}

static const db_paper_value *paper_of(const db_rep_input *in, const db_rep_study *s, const db_rep_cond *x, const char *row,
                                      int t) {
    return t ? db_rep_paper_dense(in, t, row, s->cells[x->cell0].pretrained) : db_rep_paper_top1(in, row);
}

/* The DropBlock row of the paper's table: Table 1's and 3's "DropBlock", Table 4's in the FCN head
 * (not Table 1's "DropBlock + label smoothing": a comparison of its own) */
static int is_dropblock_row(const char *row) { return !strcmp(row, "DropBlock") || !strcmp(row, "DropBlock (in FCN head)"); }

/* How far a Table 1 or 2 DropBlock condition's settings are from the paper's (keep_prob 0.9,
 * scheduled linearly from 1): 0 for both, 1 the schedule alone, 2 keep_prob alone, 3 neither */
static int table1_distance(const db_rep_cell *c) {
    return (fabs(c->keep_prob - 0.9) > 1e-6) * 2 + (strcmp(c->schedule, "linear") != 0);
}

/* The condition that stands for the paper's DropBlock row in one initialisation column (col 1:
 * the pretrained conditions) of a study beside table t (0: Table 1): Table 1's and 2's the
 * DropBlock condition nearest the paper's settings (keep_prob 0.9, scheduled; the first of
 * equals); Table 3's row is the paper's best block size, so ours is the best mean of ours;
 * Table 4's is block 16 in the head, so ours is the head condition whose block size is nearest 16
 * (the first of equals). Except for Table 3's, chosen by settings before looking at the results.
 * -1: none */
static int dropblock_of(const db_rep_study *s, const db_rep_cond *c, int nc, int t, int col) {
    int dbk = -1;
    double best = -INFINITY;
    for (int k = 0; k < nc; k++) {
        if ((s->cells[c[k].cell0].pretrained != 0) != col || !is_dropblock_row(row_of(s, &c[k], t))) continue;
        const double mean = c[k].n ? db_mean(c[k].v, c[k].n) : -INFINITY;
        const db_rep_cell *cell = &s->cells[c[k].cell0], *was = dbk >= 0 ? &s->cells[c[dbk].cell0] : NULL;
        if (!was || (t == 3 && mean > best) || (t == 4 && abs(cell->block_size - 16) < abs(was->block_size - 16)) ||
            (t < 3 && table1_distance(cell) < table1_distance(was)))
            dbk = k, best = mean;
    }
    return dbk;
}

/* The paper's figure value of `metric` (e.g. "Fig3", "top1 gain over dropout") as " (paper:
 * BEFORE VALUE AFTER on ImageNet, FIGURE, STATUS)" into out ("" when the table lacks it) */
static void paper_fig(const db_rep_input *in, const char *fig, const char *metric, const char *before, const char *after,
                      char *out, size_t n) {
    out[0] = 0;
    for (int i = 0; i < in->npaper; i++)
        if (!strcmp(in->paper[i].source, fig) && !strcmp(in->paper[i].metric, metric))
            snprintf(out, n, " (paper: %s%g%s on ImageNet, %s, %s)", before, in->paper[i].value, after, fig,
                     in->paper[i].status);
}

/* The condition that stands for Table 1's dropout or SpatialDropout row beside DropBlock's
 * condition dbk (NULL: none): among those run as dbk is in all but the regularizer and its keep_prob
 * and schedule (initialisation, data, epochs, augmentation, label smoothing, groups), the one
 * nearest the paper's setting of that row (its best keep_prob of the sweep, paper-tables.csv's
 * "keep_prob=K"; fixed, as the Table 1 recipes read the paper), the first of equals; chosen by
 * settings, before looking at the results */
static const db_rep_cond *baseline_of(const db_rep_input *in, const db_rep_study *s, const db_rep_cond *c, int nc,
                                      const char *row, const db_rep_cell *dbk) {
    const db_paper_value *pv = db_rep_paper_top1(in, row);
    const char *at = pv ? strstr(pv->params, "keep_prob=") : NULL;
    const double want = at ? atof(at + 10) : 0.9;
    const db_rep_cond *best = NULL;
    double best_d = INFINITY;
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        if (strcmp(cell->paper_row, row) || (cell->pretrained != 0) != (dbk->pretrained != 0) ||
            strcmp(cell->dataset, dbk->dataset) || cell->epochs != dbk->epochs || cell->train_limit != dbk->train_limit ||
            cell->cutout != dbk->cutout || cell->autoaugment != dbk->autoaugment ||
            cell->label_smoothing != dbk->label_smoothing || strcmp(cell->groups, dbk->groups))
            continue;
        const double d = (strcmp(cell->schedule, "fixed") != 0) * 10.0 + fabs(cell->keep_prob - want);
        if (d < best_d - 1e-9) best = &c[k], best_d = d;
    }
    return best;
}

/* The column's condition that stands for the paper's row without a regularizer (-1: none) */
static int none_of(const db_rep_study *s, const db_rep_cond *c, int nc, int t, int col) {
    for (int k = 0; k < nc; k++)
        if ((s->cells[c[k].cell0].pretrained != 0) == col && !strcmp(row_of(s, &c[k], t), "none")) return k;
    return -1;
}

/* ---- research questions, over every study ---- */

typedef struct { int n; double d[1024]; int64_t ra[1024], rb[1024]; } pool;

/* The pairs of a and b, each pair of runs once: a run fills the cells of every study (a recipe's
 * new version, another recipe with the same cell) that has its settings */
static void pool_add(pool *p, const db_rep_cond *a, const db_rep_cond *b) {
    double d[DB_REP_MAXS];
    int64_t ra[DB_REP_MAXS], rb[DB_REP_MAXS];
    int n = db_rep_paired_runs(a, b, d, ra, rb);
    for (int i = 0; i < n && p->n < 1024; i++) {
        int seen = 0;
        for (int k = 0; k < p->n && !seen && ra[i] && rb[i]; k++) seen = p->ra[k] == ra[i] && p->rb[k] == rb[i];
        if (!seen) p->ra[p->n] = ra[i], p->rb[p->n] = rb[i], p->d[p->n++] = d[i];
    }
}

static const char *rq_verdict(const pool *p, char *why, size_t n) {
    if (!p->n) { snprintf(why, n, "no study has these conditions"); return "not run"; }
    double mean = db_mean(p->d, p->n), lo, hi, pv = db_rep_paired_p(p->d, p->n);
    db_rep_spread(p->d, p->n, &lo, &hi);
    snprintf(why, n, "mean paired difference %+.2f points over %d seed pair%s, %s [%.2f, %.2f], p = %.3g", mean, p->n,
             p->n == 1 ? "" : "s", p->n >= DB_REP_MIN_CI ? "95% CI" : "range", lo, hi, pv);
    if (p->n <= 24 && db_signflip_min_p(p->n, 1) > DB_REP_ALPHA) return "underpowered";
    if (pv < DB_REP_ALPHA) return mean > 0 ? "supported" : "contradicted";
    return "not supported at this scale";
}

/* Do conditions a and b of one study differ only in the given setting (from the same
 * initialisation)? */
static int differ_only(const db_rep_cell *a, const db_rep_cell *b, const char *what) {
    if ((a->pretrained != 0) != (b->pretrained != 0) || strcmp(a->paper_row, b->paper_row) ||
        strcmp(a->dense_row, b->dense_row) || strcmp(a->dataset, b->dataset) || a->epochs != b->epochs ||
        a->train_limit != b->train_limit || a->cutout != b->cutout || a->autoaugment != b->autoaugment ||
        a->label_smoothing != b->label_smoothing)
        return 0; /* (augmentation or label smoothing beside it, another placement, data or schedule length) */
    int same_reg = !strcmp(a->regularizer, b->regularizer), same_kp = a->keep_prob == b->keep_prob,
        same_bs = a->block_size == b->block_size, same_sched = !strcmp(a->schedule, b->schedule),
        same_groups = !strcmp(a->groups, b->groups), same_skip = a->skip == b->skip;
    if (!strcmp(what, "schedule")) return !same_sched && same_reg && same_kp && same_bs && same_groups && same_skip;
    if (!strcmp(what, "skip")) return !same_skip && same_reg && same_kp && same_bs && same_groups && same_sched;
    if (!strcmp(what, "groups")) return !same_groups && same_reg && same_kp && same_bs && same_skip && same_sched;
    if (!strcmp(what, "block")) return !same_bs && same_reg && same_kp && same_groups && same_skip && same_sched;
    return 0;
}

/* The block-size sweeps of a study: each set of DropBlock conditions that differ only in their
 * block size, its best mean (appended to out, "; "-separated) */
static void block_sweeps(const db_rep_study *s, const db_rep_cond *c, int nc, char *out, size_t n) {
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        if (strcmp(cell->regularizer, "dropblock") || !c[k].n) continue;
        double best = db_mean(c[k].v, c[k].n);
        int bk = cell->block_size, sizes = 1, first = 1, seen[DB_REP_MAXC];
        seen[0] = cell->block_size;
        for (int j = 0; j < nc && first; j++) {
            const db_rep_cell *o = &s->cells[c[j].cell0];
            if (j == k || !c[j].n || !differ_only(cell, o, "block")) continue;
            if (j < k) first = 0; /* the set is said once, at its first condition */
            int known = 0; /* distinct sizes counted */
            for (int i = 0; i < sizes && !known; i++) known = seen[i] == o->block_size;
            if (!known && sizes < DB_REP_MAXC) seen[sizes++] = o->block_size;
            if (db_mean(c[j].v, c[j].n) > best) best = db_mean(c[j].v, c[j].n), bk = o->block_size;
        }
        if (!first || sizes < 2) continue;
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%sstudy %s%s: best mean %s at block size %d (%.2f%%) of %d sizes", l ? "; " : "",
                 s->name, cell->pretrained ? " (pretrained)" : "", db_rep_score_label, bk, best, sizes);
    }
}

/* A study's version: 1 for NAME, k for NAME#k; *base_len the length of NAME */
static int version_of(const char *name, size_t *base_len) {
    const char *hash = strrchr(name, '#');
    char *end;
    long v = hash && hash[1] ? strtol(hash + 1, &end, 10) : 0;
    if (hash && hash[1] && !*end && v > 1) { *base_len = (size_t)(hash - name); return (int)v; }
    *base_len = strlen(name);
    return 1;
}

/* The newest done run of a study (its id; 0: none) */
static int64_t newest_done(const db_rep_study *s) {
    int64_t id = 0;
    for (int i = 0; i < s->nruns; i++)
        if (!strcmp(s->runs[i].status, "done") && s->runs[i].id > id) id = s->runs[i].id;
    return id;
}

/* Has another version of this study's recipe (NAME, NAME#k) run more recently? Its pairs are left
 * to that one: an edited recipe may have other settings (another network, other epochs); the
 * version last run is the recipe as it stands (an edit taken back runs the older version again) */
static int superseded(const db_rep_input *in, const db_rep_study *s) {
    size_t len, olen;
    version_of(s->name, &len);
    const int64_t mine = newest_done(s);
    for (int i = 0; i < in->nstudies; i++) {
        const db_rep_study *o = &in->studies[i];
        version_of(o->name, &olen);
        if (o != s && olen == len && !strncmp(o->name, s->name, len) && newest_done(o) > mine) return 1;
    }
    return 0;
}

void db_rep_research_questions(db_doc *doc, const db_rep_input *in) {
    static db_rep_cond c[DB_REP_MAXC];
    static pool vs_dropout, vs_spatial, sched, skip, groups; /* (large: not on the stack) */
    memset(&vs_dropout, 0, sizeof vs_dropout), memset(&vs_spatial, 0, sizeof vs_spatial);
    memset(&sched, 0, sizeof sched), memset(&skip, 0, sizeof skip), memset(&groups, 0, sizeof groups);
    static pool dense[3], placement; /* Tables 2, 3 and 4: DropBlock minus none; Table 4: in the head minus in the
                                      * backbone; from random initialisation */
    memset(dense, 0, sizeof dense), memset(&placement, 0, sizeof placement);
    char best_block[512] = "";
    for (int si = 0; si < in->nstudies; si++) {
        const db_rep_study *s = &in->studies[si];
        if (superseded(in, s)) continue;
        int nc = db_rep_conditions(s, c);
        for (int col = 0; col < 2; col++) { /* DropBlock (as the verdicts choose it) against dropout, in one column */
            const int dbk = dropblock_of(s, c, nc, 0, col);
            const db_rep_cell *dcell = dbk >= 0 ? &s->cells[c[dbk].cell0] : NULL;
            const db_rep_cond *dr = dcell ? baseline_of(in, s, c, nc, "dropout", dcell) : NULL,
                              *sp = dcell ? baseline_of(in, s, c, nc, "SpatialDropout", dcell) : NULL;
            if (dbk >= 0 && dr) pool_add(&vs_dropout, dr, &c[dbk]);
            if (dbk >= 0 && sp) pool_add(&vs_spatial, sp, &c[dbk]);
        }
        for (int k = 0; k < nc; k++) {
            const db_rep_cell *cell = &s->cells[c[k].cell0];
            for (int j = 0; j < nc; j++) {
                const db_rep_cell *o = &s->cells[c[j].cell0];
                if (!strcmp(cell->schedule, "linear") && !strcmp(cell->regularizer, "dropblock") && /* (the paper's claim) */
                    differ_only(cell, o, "schedule"))
                    pool_add(&sched, &c[j], &c[k]);
                if (cell->skip && differ_only(cell, o, "skip")) pool_add(&skip, &c[j], &c[k]);
                if (strlen(cell->groups) > strlen(o->groups) && differ_only(cell, o, "groups")) pool_add(&groups, &c[j], &c[k]);
            }
        }
        const int t = db_rep_dense_table_of(s, c, nc), dbk = t ? dropblock_of(s, c, nc, t, 0) : -1,
                  none = t ? none_of(s, c, nc, t, 0) : -1;
        if (t >= 2 && t <= 4 && dbk >= 0 && none >= 0) pool_add(&dense[t - 2], &c[none], &c[dbk]);
        for (int k = 0; t == 4 && dbk >= 0 && k < nc; k++)
            if (!s->cells[c[k].cell0].pretrained && !strcmp(row_of(s, &c[k], t), DB_REP_ROW_BACKBONE)) {
                pool_add(&placement, &c[k], &c[dbk]);
                break;
            }
        db_rep_set_score_label(s);
        block_sweeps(s, c, nc, best_block, sizeof best_block); /* conditions that differ only in block size */
    }
    char why[300], why2[300];
    db_doc_heading(doc, 1, "Research questions");
    db_doc_para(doc, "Verdicts pool the paired per-seed differences of every study that has the conditions (of an edited "
                     "recipe's versions, NAME#2..., the one run last alone; DropBlock as the verdicts choose it, within "
                     "an initialisation); small-scale studies test the claims, they do not reproduce ImageNet numbers.");
    const char *v1 = rq_verdict(&vs_dropout, why, sizeof why), *v2 = rq_verdict(&vs_spatial, why2, sizeof why2);
    db_doc_table(doc, "question\tverdict\tevidence");
    char pf[2][160];
    paper_fig(in, "Fig3", "top1 gain over dropout", "+", " top-1 points, each at its best keep_prob", pf[0], sizeof pf[0]);
    paper_fig(in, "Fig4", "best block_size", "best block size ", "", pf[1], sizeof pf[1]);
    db_doc_row(doc, "RQ1: DropBlock beats dropout%s\t%s\t%s", pf[0], v1, why);
    db_doc_row(doc, "RQ1: DropBlock beats SpatialDropout\t%s\t%s", v2, why2);
    const char *v3 = rq_verdict(&sched, why, sizeof why);
    db_doc_row(doc, "RQ2: a linear keep_prob schedule beats a fixed one for DropBlock (paper: Figure 3(b), no number)\t%s\t%s",
               v3, why);
    db_doc_row(doc, "RQ2: block size matters%s\t%s\t%s", pf[1], best_block[0] ? "see evidence" : "not run",
               best_block[0] ? best_block : "no study sweeps DropBlock's block size");
    const char *v4 = rq_verdict(&skip, why, sizeof why);
    db_doc_row(doc, "RQ3: DropBlock on the skip connections too helps\t%s\t%s", v4, why);
    const char *v5 = rq_verdict(&groups, why, sizeof why);
    db_doc_row(doc, "RQ3: more groups (3+4 vs 4) help\t%s\t%s", v5, why);
    /* beyond classification: DropBlock (as the verdicts choose it) against no regularizer, from
     * random initialisation as the paper's claims are, beside the paper's gain */
    static const char *const beyond[3] = {"Also: DropBlock helps AmoebaNet-B (Table 2, top-1)",
                                          "RQ4: DropBlock helps detection (RetinaNet, Table 3, AP)",
                                          "RQ4: DropBlock in the FCN head helps segmentation (Table 4, mIOU)"};
    for (int k = 1; k <= 3; k++) { /* detection, segmentation, then AmoebaNet */
        const int t = 2 + k % 3;
        const db_paper_value *pd = db_rep_paper_dense(in, t, t == 4 ? "DropBlock (in FCN head)" : "DropBlock", 0),
                             *pn = db_rep_paper_dense(in, t, "none", 0);
        const char *v = rq_verdict(&dense[t - 2], why, sizeof why);
        if (pd && pn)
            snprintf(why + strlen(why), sizeof why - strlen(why), "; the paper: %+.2f", pd->value - pn->value);
        db_doc_row(doc, "%s%s\t%s\t%s", beyond[t - 2], t == 2 ? "" : ", from random initialisation", v, why);
    }
    const char *v6 = rq_verdict(&placement, why, sizeof why);
    db_doc_row(doc, "Also: DropBlock in the FCN head beats it in the backbone (Table 4's text), from random initialisation"
               "\t%s\t%s%s", v6, why, placement.n ? "; the paper: the head better, no number" : "");
}

/* "N training images of SET" or "all of SET" */
static void data_of(const db_rep_cell *c, char *out, size_t n) {
    if (!c->train_limit) { snprintf(out, n, "all of %s", c->dataset); return; }
    char num[32], grouped[48];
    int len = snprintf(num, sizeof num, "%d", c->train_limit), o = 0;
    for (int i = 0; i < len; i++) { /* 6000 -> 6,000 */
        if (i && (len - i) % 3 == 0) grouped[o++] = ',';
        grouped[o++] = num[i];
    }
    grouped[o] = '\0';
    snprintf(out, n, "%s %s training images", grouped, c->dataset);
}

/* A study of one condition (a pretraining another study starts from): its result, no comparison */
static void single_setting(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const db_rep_cond *c) {
    char data[96] = "", score[96] = "no run done yet";
    if (s->ncells) data_of(&s->cells[0], data, sizeof data);
    db_rep_set_score_label(s);
    if (c->n) snprintf(score, sizeof score, "%s test %s %.2f%s", db_rep_score_best ? "best" : "final", db_rep_score_label,
                       db_mean(c->v, c->n), c->n > 1 ? " (mean)" : "");
    const char *by = db_rep_required_by(in, s);
    db_doc_para(doc, "Study %s: one setting (%d epoch%s on %s), nothing to compare%s%s%s.", s->name,
                s->ncells ? s->cells[0].epochs : 0, s->ncells && s->cells[0].epochs == 1 ? "" : "s", data,
                by ? ": the starting point of study " : "", by ? by : "", by ? " (its recipe requires this one)" : "");
    db_doc_item(doc, "%s: %s, %d run%s done", c->name, score, c->n, c->n == 1 ? "" : "s");
}

/* What kind of study it is, from its cells' settings: a pipeline check (a few epochs or a small
 * slice of the data), a small-scale analogue of the paper's experiment, or the paper's own scale */
static void study_kind(const db_rep_study *s, char *out, size_t n) {
    if (!s->ncells) { snprintf(out, n, "unknown (its recipe cannot be read)"); return; }
    const db_rep_cell *c = &s->cells[0];
    char data[96];
    data_of(c, data, sizeof data);
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
/* One initialisation column's verdicts (col 1: the pretrained conditions): DropBlock against each
 * other condition of the column that stands for a row of the paper's table; in_col names the
 * column when the study has both */
static void column_verdicts(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const db_rep_cond *c, int nc, int t3,
                            int col, const char *in_col) {
    const int dbk = dropblock_of(s, c, nc, t3, col);
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
    static double d[DB_REP_MAXC][DB_REP_MAXS];
    int other[DB_REP_MAXC], n[DB_REP_MAXC], no = 0, m = 0;
    double pv[DB_REP_MAXC], adj[DB_REP_MAXC];
    for (int k = 0; k < nc; k++) {
        const char *row = row_of(s, &c[k], t3);
        if (k == dbk || !row[0] || is_dropblock_row(row) || (s->cells[c[k].cell0].pretrained != 0) != col)
            continue; /* another DropBlock, or another column: not a comparison of the paper's */
        other[no] = k;
        n[no] = db_rep_paired(&c[k], &c[dbk], d[no]);
        pv[no] = n[no] ? db_rep_paired_p(d[no], n[no]) : NAN;
        m += n[no] > 0;
        no++;
    }
    db_holm(pv, no, adj);
    for (int i = 0; i < no; i++) {
        const db_rep_cond *x = &c[other[i]];
        const db_paper_value *pp = paper_of(in, s, x, row_of(s, x, t3), t3);
        char paper[64] = "the paper has no such row";
        if (pp && pdb) snprintf(paper, sizeof paper, "paper %+.2f", pdb->value - pp->value);
        if (!strcmp(row_of(s, x, t3), DB_REP_ROW_BACKBONE)) snprintf(paper, sizeof paper, "the paper: the head better, no number");
        if (!n[i]) {
            db_doc_item(doc, "DropBlock − %s: %s; %s", x->name, x->n && c[dbk].n ? "no seed in common (not compared)"
                        : (x->state[0] && !x->n) || (c[dbk].state[0] && !c[dbk].n) ? "done, but no score recorded"
                        : "no paired seeds yet (not run)", paper);
            continue;
        }
        double lo, hi, mean = db_mean(d[i], n[i]);
        db_rep_spread(d[i], n[i], &lo, &hi);
        char v[96];
        if (adj[i] < DB_REP_ALPHA) snprintf(v, sizeof v, "DropBlock %s (p %.3f)", mean > 0 ? "better" : "worse", adj[i]);
        else if (n[i] < db_rep_seeds_needed(m)) snprintf(v, sizeof v, "inconclusive (too few seeds to decide)");
        else snprintf(v, sizeof v, "no significant difference (p %.3f)", adj[i]);
        if (pp && pdb && n[i] >= DB_REP_MIN_CI) { /* whether this scale's answer can hold the paper's difference */
            double pd = pdb->value - pp->value;
            if (pd > hi || pd < lo)
                snprintf(paper + strlen(paper), sizeof paper - strlen(paper), ", outside our 95%% CI");
            else snprintf(paper + strlen(paper), sizeof paper - strlen(paper), ", inside our 95%% CI");
        }
        db_doc_item(doc, "DropBlock − %s: %+.2f points, %s %+.2f to %+.2f, %d paired seed%s: %s; %s", x->name, mean,
                    n[i] >= DB_REP_MIN_CI ? "95% CI" : "range", lo, hi, n[i], n[i] == 1 ? "" : "s", v, paper);
    }
}

void db_rep_verdict_box(db_doc *doc, const db_rep_input *in) {
    static db_rep_cond c[DB_REP_MAXC];
    db_doc_heading(doc, 1, "Verdicts");
    db_doc_para(doc, "Per study, DropBlock minus each condition of the paper's Table 1 in test top-1 points, paired by "
                     "seed (positive: DropBlock better): the mean, its 95%% t-interval (below 3 seeds the range), and "
                     "the exact two-sided sign-flip test's p, Holm-adjusted over the study's comparisons (the interval "
                     "is the t-test's, not adjusted: with few seeds it can leave out 0 where the exact test cannot decide); "
                     "beside it the paper's difference and whether our interval holds it. Table 1's DropBlock is the "
                     "condition nearest the paper's settings (keep_prob 0.9, scheduled). A detection study compares in test AP "
                     "(x100) with the paper's Table 3 alike, a segmentation study in test mIOU (x100) with its Table 4, an "
                     "AmoebaNet study in test top-1 with its Table 2.");
    db_report_regress_verdict(doc, &in->regression);
    for (int si = 0; si < in->nstudies; si++) {
        const db_rep_study *s = &in->studies[si];
        const int nc = db_rep_conditions(s, c);
        if (nc == 1) { /* a single setting: a pretraining other studies start from, a throughput check */
            single_setting(doc, in, s, &c[0]);
            continue;
        }
        char kind[400];
        study_kind(s, kind, sizeof kind);
        db_doc_para(doc, "Study %s: %s.", s->name, kind);
        const int t3 = db_rep_dense_table_of(s, c, nc); /* AmoebaNet (2), detection (3), segmentation (4); 0: Table 1 */
        int cols[2] = {0, 0}; /* conditions from random initialisation, from a pretrained backbone */
        for (int k = 0; k < nc; k++) cols[s->cells[c[k].cell0].pretrained != 0]++;
        for (int col = 0; col < 2; col++) /* each column compared within itself, as the paper's tables are */
            if (cols[col])
                column_verdicts(doc, in, s, c, nc, t3, col, cols[!col] ? (col ? " (pretrained)" : " (random initialisation)")
                                                                       : "");
    }
}
