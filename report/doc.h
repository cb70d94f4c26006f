/* One document written twice: Markdown and self-contained HTML. The report adds blocks
 * (headings, paragraphs, list items, code, tables, figures) once; each writer renders them. */
#ifndef DB_REPORT_DOC_H
#define DB_REPORT_DOC_H

#include "core/status.h"

typedef struct db_doc db_doc;

db_doc *db_doc_new(const char *title);
void db_doc_free(db_doc *d);
void db_doc_heading(db_doc *d, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void db_doc_para(db_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void db_doc_item(db_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3))); /* a bullet */
void db_doc_code(db_doc *d, const char *text);
/* A table: the header's cells separated by '\t'; then its rows, the same way */
void db_doc_table(db_doc *d, const char *header);
void db_doc_row(db_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A folded section (HTML and GitHub Markdown: <details>): summary shown, the blocks added until
 * db_doc_fold_end hidden until opened */
void db_doc_fold(db_doc *d, const char *summary);
void db_doc_fold_end(db_doc *d);
/* A figure: plots/NAME.png in Markdown, the SVG file's content inlined in HTML */
void db_doc_figure(db_doc *d, const char *dir, const char *name, const char *caption);
db_status db_doc_write_markdown(const db_doc *d, const char *path);
/* GitHub-flavoured Markdown for a CI job summary or a pull-request comment: the part before the
 * second top-level heading shown, the rest folded, figures named by their captions, no links */
db_status db_doc_write_summary(const db_doc *d, const char *path);
db_status db_doc_write_html(const db_doc *d, const char *path);
/* Whether any allocation failed while adding blocks (then the writers refuse) */
int db_doc_failed(const db_doc *d);

#endif
