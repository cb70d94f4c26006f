/* The latest regress in the report (report/nightly.h) */
#include "report/nightly.h"

#include <string.h>

static const char *outcome_word(int o) { return o > 0 ? "ok" : o == 0 ? "FAILED" : "skipped"; }

/* "N checks, M failed, K skipped" */
static void counts(const db_regression *r, char *out, size_t n) {
    snprintf(out, n, "%d check%s, %d failed, %d skipped (not compared)", r->checks, r->checks == 1 ? "" : "s",
             r->failures, r->skipped);
}

void db_report_regress_verdict(db_doc *doc, const db_regression *r) {
    if (!r->found) return;
    char c[128];
    counts(r, c, sizeof c);
    const char *v = r->failures ? "REGRESSION" : r->checks ? "no regression" : "nothing compared (no run has a twin)";
    db_doc_item(doc, "Nightly regression (dropbench regress, %s, against %s): %s; %s", r->at, r->baseline, v, c);
}

void db_report_regress_section(db_doc *doc, const db_regression *r) {
    if (!r->found) return;
    char c[128];
    counts(r, c, sizeof c);
    db_doc_heading(doc, 1, "Nightly regression");
    db_doc_para(doc, "The latest dropbench regress on this database, %s, against the baseline %s: %s. Canary: a run's "
                     "final test metrics equal its twin's (same settings) in the baseline bit for bit; throughput: "
                     "training images/s (epochs after the first where there are several) within the allowed slowdown on the "
                     "same CPU model; statistical: a family's "
                     "olympic mean over seeds reaches the baseline's reference-convergence bound; completion: every "
                     "run finished (or ended as its baseline twin did) and every cell of a study run here ran.",
                r->at, r->baseline, c);
    int nfail = 0;
    for (int i = 0; i < r->nrows; i++) nfail += r->rows[i].outcome == 0;
    if (nfail) {
        db_doc_table(doc, "check\tkind\toutcome\tdetail");
        for (int i = 0; i < r->nrows; i++)
            if (r->rows[i].outcome == 0)
                db_doc_row(doc, "%s\t%s\t%s\t%s", r->rows[i].name, r->rows[i].kind, outcome_word(0), r->rows[i].detail);
    }
    if (r->nrows == nfail) return;
    db_doc_fold(doc, nfail ? "the other checks (passed or skipped)" : "every check (passed or skipped)");
    db_doc_table(doc, "check\tkind\toutcome\tdetail");
    for (int i = 0; i < r->nrows; i++)
        if (r->rows[i].outcome != 0)
            db_doc_row(doc, "%s\t%s\t%s\t%s", r->rows[i].name, r->rows[i].kind, outcome_word(r->rows[i].outcome),
                       r->rows[i].detail);
    db_doc_fold_end(doc);
}
