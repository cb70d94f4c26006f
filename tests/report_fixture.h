/* The report tests' fixtures (tests/test_report.c, tests/test_report_choice.c): studies made in
 * memory, written as a report by db_report_write, its REPORT.md read back. */
#ifndef DB_TESTS_REPORT_FIXTURE_H
#define DB_TESTS_REPORT_FIXTURE_H

#include "report/report.h"

/* A file's text (at most 64 KiB; malloc'd), NULL when unreadable */
char *db_test_slurp(const char *path);
/* The REPORT.md of these studies beside these paper values (malloc'd) */
char *report_md_paper(const db_rep_study *st, int n, const db_paper_value *paper, int npaper);
char *report_md(const db_rep_study *st, int n);
/* A done run of cell c (id, its epochs, its score as final and best), as the store gives it */
void done_run(db_run_row *r, const db_rep_cell *c, int id, int epochs, double score);
/* A one-seed cell "seed=1,row=COND" of fingerprint FP, regularizer REG, on Fashion-MNIST */
void fixture_cell(db_rep_cell *c, const char *cond, const char *fp, const char *reg);

#endif
