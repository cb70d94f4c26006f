/* The paper's tables beside ours in one study's section (report/analyse.h): Table 1's gains
 * beside ours ("Beside the paper"), Table 1 as the paper prints it with our column, and Tables
 * 2-4 at this scale, each condition against its own initialisation's baseline. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "report/analyse.h"

void db_rep_paper_comparison(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const db_rep_cond *c, int nc,
                             const int *base_of, const db_rep_cmp *cmp, double *ours, double *lo, double *hi, double *ref,
                             const char **labels, int *npairs, double *seed_x, double *seed_d, int *nseed) {
    const db_paper_value *pb = db_rep_paper_top1(in, "none");
    *npairs = *nseed = 0;
    int rows = 0;
    for (int k = 0; k < nc; k++) rows += s->cells[c[k].cell0].paper_row[0] != 0;
    if (!rows || nc < 2) return; /* a detection or segmentation study: its paper is Table 3 or 4 (dense_table());
                                  * one condition: nothing to set beside the paper's gains */
    db_doc_heading(doc, 2, "Beside the paper (ResNet-50 on ImageNet, Table 1)");
    db_doc_para(doc, "Absolute accuracies are not comparable across scales; gains over the baseline are. The paper's "
                     "numbers carry their confirmation status (paper-tables.csv) and are the best validation accuracy "
                     "seen during training; ours here are the %s test top-1%s.", db_rep_score_best ? "best" : "final",
                db_rep_score_best ? "" : " (dropbench report --score best scores like the paper)");
    db_doc_table(doc, "condition\tpaper row\tpaper top-1 (status)\tpaper gain\tour gain (95% CI)\tdifference\tverdict");
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        const db_paper_value *pv = cell->paper_row[0] ? db_rep_paper_top1(in, cell->paper_row) : NULL;
        const int base = base_of[k];
        if (!pv || k == base) continue;
        double gain = pb ? pv->value - pb->value : NAN;
        char our[96] = "-", diff[32] = "-";
        const char *v;
        if (base < 0) v = "no baseline condition";
        else if (!cmp[k].n) v = c[k].n && c[base].n ? "no seed in common with the baseline" : "not run yet";
        else {
            char ci[64];
            db_rep_fmt_ci(ci, sizeof ci, cmp[k].d, cmp[k].n);
            if (cmp[k].n > 1) snprintf(our, sizeof our, "%+.2f (%s)", cmp[k].mean, ci); /* one pair: no interval */
            else snprintf(our, sizeof our, "%+.2f", cmp[k].mean);
            snprintf(diff, sizeof diff, "%+.2f", cmp[k].mean - gain);
            v = db_rep_paper_verdict(&cmp[k], gain);
        }
        db_doc_row(doc, "%s\t%s\t%.2f (%s)\t%+.2f\t%s\t%s\t%s", c[k].name, pv->regularizer, pv->value, pv->status, gain,
                   our, diff, v);
        if (cmp[k].n) {
            double l, h;
            db_rep_spread(cmp[k].d, cmp[k].n, &l, &h);
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
void db_rep_paper_table(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const db_rep_cond *c, int nc) {
    int rows = 0;
    for (int k = 0; k < nc; k++) rows += s->cells[c[k].cell0].paper_row[0] && db_rep_paper_top1(in, s->cells[c[k].cell0].paper_row);
    if (!rows || nc < 2) return; /* one condition (a pretraining): no table of methods */
    db_doc_heading(doc, 2, "Table 1 at this scale");
    db_doc_para(doc, "One row per method of the paper's Table 1 that this study runs. Ours: %s test top-1 in %%, mean ± sd "
                     "over the seeds (n), and the settings that make the rows comparable (keep_prob, DropBlock's block "
                     "size, the groups, the keep_prob schedule, whether the shortcut is regularized too, as resolved). "
                     "The paper's: ResNet-50 on ImageNet, top-1 ± its reported spread, with its settings. Absolute "
                     "accuracies differ across scales; compare each method's distance to its own baseline row.",
                db_rep_score_best ? "best" : "final");
    db_doc_table(doc, "method	ours: top-1	n	ours: keep_prob	block	groups	schedule	skip	paper: top-1	paper: settings");
    for (int k = 0; k < nc; k++) {
        const db_rep_cell *cell = &s->cells[c[k].cell0];
        const db_paper_value *pv = cell->paper_row[0] ? db_rep_paper_top1(in, cell->paper_row) : NULL;
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


/* A detection study beside the paper's Table 3 (RetinaNet ResNet-50-FPN on COCO), a segmentation
 * study beside its Table 4 (ResNet-FPN + FCN head on VOC), an AmoebaNet study beside its Table 2
 * (AmoebaNet-B on ImageNet, top-1): per condition our AP or mIOU and its
 * gain over the baseline, paired by seed, beside the paper's value and gain in the same
 * initialisation column. Table 3's DropBlock row is its best block size; ours are each. */
void db_rep_dense_table(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const db_rep_cond *c, int nc) {
    const int t = db_rep_dense_table_of(s, c, nc);
    if (!t) return;
    const char *m = db_rep_dense_metric(t);
    db_doc_heading(doc, 2, "Table %d at this scale", t);
    db_doc_para(doc, "One row per condition of this %s study that stands for a row of the paper's Table %d. Ours: "
                     "%s test %s (x100), mean ± sd over the seeds (n), and the gain over the baseline of the same "
                     "initialisation column (random or pretrained) paired by seed "
                     "(mean; its 95%% t-interval from 3 pairs, below that the range). The paper's: %s in the same "
                     "initialisation column, its %s and its gain over its own no-regularizer row%s. Absolute values "
                     "differ across data sets and scales; compare the gains.",
                t == 4 ? "segmentation" : t == 2 ? "AmoebaNet" : "detection", t, db_rep_score_best ? "best" : "final", m,
                db_rep_dense_system(t), m,
                t == 3   ? "; its DropBlock row is its best block size (unconfirmed which), ours are every block size run"
                : t == 2 ? "; its DropBlock row places DropBlock (block 11, keep_prob 0.9) after every batch norm and "
                           "on the skip connections of the last 50% of the cells"
                         : "; its DropBlock row places DropBlock (block 16) in the FCN head; DropBlock in the backbone "
                           "it reports as worse than in the head, without a number");
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
        const int b = col_base[cell->pretrained != 0];
        const db_paper_value *pv = db_rep_paper_dense(in, t, cell->dense_row, cell->pretrained),
                             *pb = db_rep_paper_dense(in, t, "none", cell->pretrained);
        char ours[48] = "-", gain[96] = "-", paper[32] = "-", pgain[32] = "-", bs[16] = "-", ci[64];
        if (c[k].n) snprintf(ours, sizeof ours, c[k].n > 1 ? "%.2f ± %.2f" : "%.2f", db_mean(c[k].v, c[k].n),
                             db_sd(c[k].v, c[k].n, 1));
        static double d[DB_REP_MAXS];
        const int np = b >= 0 && k != b ? db_rep_paired(&c[b], &c[k], d) : 0; /* this condition minus its column's baseline */
        if (np) {
            db_rep_fmt_ci(ci, sizeof ci, d, np);
            if (np == 1) snprintf(gain, sizeof gain, "%+.2f (1 pair)", db_mean(d, np));
            else snprintf(gain, sizeof gain, "%+.2f (%s; %d pairs)", db_mean(d, np), ci, np);
        }
        const int digits = t == 2 ? 2 : 1; /* as the paper prints them */
        if (pv) snprintf(paper, sizeof paper, "%.*f", digits, pv->value);
        if (pv && pb && strcmp(cell->dense_row, "none"))
            snprintf(pgain, sizeof pgain, "%+.*f", digits, pv->value - pb->value);
        if (!strcmp(cell->dense_row, DB_REP_ROW_BACKBONE)) snprintf(pgain, sizeof pgain, "below the head's");
        if (!strcmp(cell->regularizer, "dropblock")) snprintf(bs, sizeof bs, "%d", cell->block_size);
        db_doc_row(doc, "%s\t%s%s\t%s\t%s\t%d\t%s\t%s\t%s", c[k].name, cell->dense_row,
                   cell->pretrained ? " (pretrained)" : "", bs, ours, c[k].n, gain, paper, pgain);
    }
}
