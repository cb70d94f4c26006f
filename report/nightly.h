/* The report's nightly part: the latest `dropbench regress` recorded in the database, as one
 * line of the verdict box and as a section listing its checks (failures first). */
#ifndef DB_REPORT_NIGHTLY_H
#define DB_REPORT_NIGHTLY_H

#include "report/doc.h"
#include "results/store.h"

/* One verdict line ("Nightly regression: ...") when a regress was recorded, else nothing */
void db_report_regress_verdict(db_doc *doc, const db_regression *r);
/* The section "Nightly regression" when a regress was recorded, else nothing */
void db_report_regress_section(db_doc *doc, const db_regression *r);

#endif
