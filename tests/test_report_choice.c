/* The research questions' choices in a Figure 3-like study (a keep_prob sweep of every
 * regularizer, fixed and scheduled): RQ1 compares DropBlock with the dropout and SpatialDropout
 * conditions nearest the paper's Table 1 settings (their best keep_prob of the sweep, fixed), not
 * the first listed; RQ2's schedule question pools DropBlock's pairs alone; the paper's Figure 3
 * and 4 values are quoted with their status; a series whose points two conditions share is left
 * out of the sweep's figure, the others drawn. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "tests/check.h"
#include "tests/report_fixture.h"

#define NC 9

static void test_report_rq_choices(void) {
    static db_rep_study st;
    static db_rep_cell cells[NC];
    static db_run_row runs[NC];
    memset(&st, 0, sizeof st), memset(cells, 0, sizeof cells), memset(runs, 0, sizeof runs);
    /* listed first: the sweep's other points; DropBlock 0.9 scheduled at 85 */
    /* (dr_long: dropout at 0.7 fixed as Table 1's, but trained 290 epochs: never DropBlock's twin) */
    static const char *const cond[NC] = {"none",         "sd_k07_fixed",  "sd_k09_fixed",  "dr_long",     "dr_k09_fixed",
                                         "dr_k07_fixed", "dr_k07_linear", "db_k09_linear", "db_k09_fixed"};
    static const char *const reg[NC] = {"none",    "spatial_dropout", "spatial_dropout", "dropout",  "dropout",
                                        "dropout", "dropout",         "dropblock",       "dropblock"};
    static const char *const row[NC] = {"none",    "SpatialDropout", "SpatialDropout", "dropout",  "dropout",
                                        "dropout", "dropout",        "DropBlock",      "DropBlock"};
    const double score[NC] = {0.80, 0.70, 0.82, 0.10, 0.60, 0.83, 0.50, 0.85, 0.84},
                 kp[NC] = {1, 0.7, 0.9, 0.7, 0.9, 0.7, 0.7, 0.9, 0.9};
    snprintf(st.name, sizeof st.name, "fig3");
    st.cells = cells, st.runs = runs;
    for (int i = 0; i < NC; i++) {
        db_rep_cell *c = &cells[i];
        char fp[8];
        snprintf(fp, sizeof fp, "f%d", i);
        fixture_cell(c, cond[i], fp, reg[i]);
        snprintf(c->paper_row, sizeof c->paper_row, "%s", row[i]);
        snprintf(c->schedule, sizeof c->schedule, "%s", strstr(cond[i], "linear") ? "linear" : "fixed");
        snprintf(c->groups, sizeof c->groups, "3,4");
        c->is_baseline = !i, c->keep_prob = kp[i], c->block_size = i >= 7 ? 7 : 0;
        if (i == 3) c->epochs = 290;
        done_run(&runs[i], c, i + 1, 30, score[i]);
        st.ncells++, st.nruns++;
    }
    snprintf(st.recipe, sizeof st.recipe, "fig3.txt");
    const db_paper_value paper[] = {
        {"Table1", "ResNet-50", "dropout", "keep_prob=0.7 (best of sweep)", "top1", "unconfirmed", 76.80, 0.04},
        {"Table1", "ResNet-50", "SpatialDropout", "keep_prob=0.9 (best of sweep)", "top1", "unconfirmed", 77.41, 0.04},
        {"Fig3", "ResNet-50", "DropBlock vs dropout", "", "top1 gain over dropout", "confirmed", 1.3, NAN},
        {"Fig4", "ResNet-50", "DropBlock", "", "best block_size", "confirmed", 7, NAN}};
    char *m = report_md_paper(&st, 1, paper, 4);
    static const char *const want[] = {
        /* dropout 0.7 fixed (83) and SpatialDropout 0.9 fixed (82) against DropBlock 0.9 scheduled (85) */
        "| RQ1: DropBlock beats dropout (paper: +1.3 top-1 points, each at its best keep_prob on ImageNet, Fig3, confirmed) "
        "| underpowered | mean paired difference +2.00 points over 1 seed pair",
        "| RQ1: DropBlock beats SpatialDropout | underpowered | mean paired difference +3.00 points over 1 seed pair",
        /* DropBlock's own pair alone: 85 scheduled against 84 fixed (not dropout's 50 against 83) */
        "| RQ2: a linear keep_prob schedule beats a fixed one for DropBlock (paper: Figure 3(b), no number) | underpowered | "
        "mean paired difference "
        "+1.00 points over 1 seed pair",
        "| RQ2: block size matters (paper: best block size 7 on ImageNet, Fig4, confirmed) |"};
    for (int i = 0; i < 4; i++) CHECK(m && strstr(m, want[i]), "REPORT.md lacks '%s':\n%.6000s", want[i], m ? m : "(none)");
    /* dr_long shares the fixed dropout series' point 0.7 with another epoch count: that series alone goes */
    CHECK(m && strstr(m, "Left out of the figure: dropout, fixed keep_prob; some point of each"),
          "the series mixing epoch counts was drawn, or others went with it:\n%.6000s", m ? m : "(none)");
    free(m);

    /* two DropBlock conditions at one keep_prob and schedule, other block sizes: no line through them */
    cells[8].keep_prob = 0.9, snprintf(cells[8].schedule, sizeof cells[8].schedule, "linear"), cells[8].block_size = 5;
    cells[4].keep_prob = 0.8; /* (dropout's sweep has two points now) */
    m = report_md_paper(&st, 1, paper, 4);
    CHECK(m && strstr(m, "Left out of the figure: dropout, fixed keep_prob; dropblock, linear keep_prob; some point"),
          "a series mixing block sizes was drawn:\n%.6000s", m ? m : "(none)");
    /* (the exact note above names two series: the others are still the figure's) */
    CHECK(m && strstr(m, "### keep_prob sweep"), "the sweep's section went with the series");
    free(m);
}

const db_test db_tests_report_choice[] = {
    {"report_rq_choices", test_report_rq_choices},
    {NULL, NULL},
};
