/* The report's analysis, shared by its five parts: report.c (the document's frame), analyse.c
 * (a study's conditions, the paired tests, the paper's values), study.c (one study's sections:
 * matrix, results, figures, runs), paper.c (its sections of the paper's tables) and verdicts.c (the verdict box and the
 * research questions). Values are a run's scoring metric x100 (test top-1 in percent, AP or mIOU x100);
 * comparisons pair runs by seed. Internal to report/. */
#ifndef DB_REPORT_ANALYSE_H
#define DB_REPORT_ANALYSE_H

#include "report/doc.h"
#include "report/plots.h"
#include "report/report.h"

#define DB_REP_ALPHA 0.05
/* conditions per study, seeds per condition; the fewest values a t-interval is given for (below
 * it the values' range: a t-interval from two values is too wide to mean anything) */
enum { DB_REP_MAXC = 128, DB_REP_MAXS = 64, DB_REP_MIN_CI = 3 };

/* One condition of a study: its cells differ in seed only */
typedef struct {
    const char *name;
    int cell0;                 /* its first cell: the settings every cell of it shares */
    int n;                     /* done runs */
    double v[DB_REP_MAXS];     /* their scores (final or best), points */
    uint64_t seed[DB_REP_MAXS];
    int64_t run[DB_REP_MAXS];  /* their runs (one run can fill cells of several studies) */
    int state[6];              /* cells done, failed, diverged, interrupted, running, missing */
    int ncells;
    double ips, drop, expected; /* means over done runs (NaN when none); drop and expected both the
                                   whole network's, weighted by the sites' units */
    int n_ips, n_drop, n_expected; /* how many runs had them */
} db_rep_cond;

/* One condition against the baseline; m: the comparisons Holm adjusts over */
typedef struct { int n, unpaired, m; double d[DB_REP_MAXS]; double p, p_adj, mean; } db_rep_cmp;

extern int db_rep_score_best;         /* the report's --score: best over the epochs, else final */
extern char db_rep_score_label[32];   /* what scores the study now written (top-1, AP, mIOU) */
extern const char *const db_rep_state_names[6]; /* done, failed, diverged, interrupted, running, missing */

void db_rep_set_score_label(const db_rep_study *s);
/* The run filling a cell (the newest with its fingerprint; NULL: none) and the condition of the
 * cell a run fills (NULL: another study's run) */
const db_run_row *db_rep_cell_run(const db_rep_study *s, const db_rep_cell *c);
const char *db_rep_run_condition(const db_rep_study *s, const db_run_row *r);
double db_rep_run_score(const db_run_row *r); /* final or best (--score), in points; NaN: none */
int db_rep_state_of(const db_run_row *r);     /* an index of db_rep_state_names (NULL: missing) */
int db_rep_conditions(const db_rep_study *s, db_rep_cond *c); /* at most DB_REP_MAXC */
/* b - a per seed done in both; the two-sided p of n paired differences. db_rep_paired_runs also
 * gives each pair's runs (ra[i] of a, rb[i] of b) */
int db_rep_paired(const db_rep_cond *a, const db_rep_cond *b, double *d);
int db_rep_paired_runs(const db_rep_cond *a, const db_rep_cond *b, double *d, int64_t *ra, int64_t *rb);
double db_rep_paired_p(const double *d, int n);
int db_rep_seeds_needed(int m); /* paired seeds that can reach p < alpha among m comparisons */
int db_rep_underpowered(const db_rep_cmp *c);
const char *db_rep_verdict(const db_rep_cmp *c);
const char *db_rep_paper_verdict(const db_rep_cmp *c, double paper_gain); /* ours beside the paper's gain */
/* the 95% t-interval from DB_REP_MIN_CI values, the range below; as text */
void db_rep_spread(const double *x, int k, double *lo, double *hi);
void db_rep_fmt_ci(char *out, size_t n, const double *x, int k);
const char *db_rep_required_by(const db_rep_input *in, const db_rep_study *s); /* a study requiring it, or NULL */
int db_rep_provenance(const db_rep_study *s, const char *key, const char **value); /* its length; -1: none */
int db_rep_fewest(const db_rep_cond *c, int nc); /* the fewest done runs of a condition that has some */
/* The paper's values: Table 1's top-1 of a row; Table 2, 3 or 4's of a row in an initialisation
 * column; what those tables score and with which system; the table a study's conditions stand
 * for (0: Table 1) */
const db_paper_value *db_rep_paper_top1(const db_rep_input *in, const char *row);
const db_paper_value *db_rep_paper_dense(const db_rep_input *in, int table, const char *row, int pretrained);
const char *db_rep_dense_metric(int table);
const char *db_rep_dense_system(int table);
int db_rep_dense_table_of(const db_rep_study *s, const db_rep_cond *c, int nc);

/* The paper's tables in a study's section (paper.c): Table 1's gains beside ours, each condition
 * against its baseline base_of[k] with its comparison cmp[k], giving the gains figure's points;
 * Table 1 as the paper prints it beside ours; Tables 2-4 at this scale */
void db_rep_paper_comparison(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const db_rep_cond *c, int nc,
                             const int *base_of, const db_rep_cmp *cmp, double *ours, double *lo, double *hi, double *ref,
                             const char **labels, int *npairs, double *seed_x, double *seed_d, int *nseed);
void db_rep_paper_table(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const db_rep_cond *c, int nc);
void db_rep_dense_table(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const db_rep_cond *c, int nc);

/* The document's parts (study.c, verdicts.c) */
void db_rep_study_section(db_doc *doc, const db_rep_input *in, const db_rep_study *s, const char *out,
                          const db_rep_options *opt, FILE *log, int *skipped);
void db_rep_verdict_box(db_doc *doc, const db_rep_input *in);
void db_rep_research_questions(db_doc *doc, const db_rep_input *in);

#endif
