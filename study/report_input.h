/* A report's input, read from the results store: every study (or one) with its cells, its runs
 * (and finished runs of other studies that fill its cells), the provenance of its newest run and
 * the paper's values. The report (report/) then needs nothing else. */
#ifndef DB_STUDY_REPORT_INPUT_H
#define DB_STUDY_REPORT_INPUT_H

#include "report/report.h"

/* Fills in (zeroed by the caller; its dropbench_version is the caller's) from the store at
 * db_path, every study or only the one named `only`. A missing database is DB_ERR_IO and never
 * created; an empty one, or an unknown study, DB_ERR_ARG. Free with db_report_input_free, also
 * after a failure. */
db_status db_report_collect(const char *db_path, const char *only, db_rep_input *in);
void db_report_input_free(db_rep_input *in);

#endif
