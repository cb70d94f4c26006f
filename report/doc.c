#include "report/doc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { B_HEADING, B_PARA, B_ITEM, B_CODE, B_TABLE, B_ROW, B_FIGURE, B_FOLD, B_FOLD_END } block_kind;

typedef struct {
    block_kind kind;
    int level;
    char *text, *extra, *extra2; /* figure: name, caption, folder */
} block;

struct db_doc {
    char *title;
    block *b;
    int n, cap, failed;
};

db_doc *db_doc_new(const char *title) {
    db_doc *d = calloc(1, sizeof *d);
    if (d && !(d->title = strdup(title))) { free(d); d = NULL; }
    return d;
}

void db_doc_free(db_doc *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) { free(d->b[i].text); free(d->b[i].extra); free(d->b[i].extra2); }
    free(d->b);
    free(d->title);
    free(d);
}

int db_doc_failed(const db_doc *d) { return !d || d->failed; }

static block *add(db_doc *d, block_kind kind, int level, char *text) {
    if (!text || d->failed) { free(text); d->failed = 1; return NULL; }
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 64;
        block *g = realloc(d->b, (size_t)cap * sizeof *g);
        if (!g) { free(text); d->failed = 1; return NULL; }
        d->b = g;
        d->cap = cap;
    }
    block *b = &d->b[d->n++];
    *b = (block){kind, level, text, NULL, NULL};
    return b;
}

static char *vfmt(const char *fmt, va_list ap) {
    char *s = NULL;
    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

#define ADD_FMT(kind, level)            \
    va_list ap;                         \
    va_start(ap, fmt);                  \
    char *t = vfmt(fmt, ap);            \
    va_end(ap);                         \
    add(d, kind, level, t)

void db_doc_heading(db_doc *d, int level, const char *fmt, ...) { ADD_FMT(B_HEADING, level); }
void db_doc_para(db_doc *d, const char *fmt, ...) { ADD_FMT(B_PARA, 0); }
void db_doc_item(db_doc *d, const char *fmt, ...) { ADD_FMT(B_ITEM, 0); }
void db_doc_row(db_doc *d, const char *fmt, ...) { ADD_FMT(B_ROW, 0); }
void db_doc_code(db_doc *d, const char *text) { add(d, B_CODE, 0, strdup(text)); }
void db_doc_table(db_doc *d, const char *header) { add(d, B_TABLE, 0, strdup(header)); }

void db_doc_fold(db_doc *d, const char *summary) { add(d, B_FOLD, 0, strdup(summary)); }
void db_doc_fold_end(db_doc *d) { add(d, B_FOLD_END, 0, strdup("")); }

void db_doc_figure(db_doc *d, const char *dir, const char *name, const char *caption) {
    block *b = add(d, B_FIGURE, 0, strdup(name));
    if (!b) return;
    b->extra = strdup(caption);
    b->extra2 = strdup(dir);
    if (!b->extra || !b->extra2) d->failed = 1;
}

static void esc(FILE *f, const char *t, size_t n);

/* ---- Markdown ---- */

/* One character of text from the database as Markdown shows it: a line break a space (it would
 * end the paragraph, the item, the table's row), a '<' that would open a tag or comment as &lt;
 * (one unclosed hid the rest of the report); written, 1, or left to the caller, 0 */
static int md_char(FILE *f, const char *c) {
    if (*c == '\n' || *c == '\r') { fputc(' ', f); return 1; }
    if (*c == '<' && (c[1] == '/' || c[1] == '!' || c[1] == '?' || (c[1] >= 'a' && c[1] <= 'z') ||
                      (c[1] >= 'A' && c[1] <= 'Z'))) {
        fputs("&lt;", f);
        return 1;
    }
    return 0;
}

static void md_text(FILE *f, const char *text) {
    for (const char *c = text; *c; c++)
        if (!md_char(f, c)) fputc(*c, f);
}

static void md_cells(FILE *f, const char *text) {
    fputs("| ", f);
    for (const char *c = text; *c; c++) {
        if (*c == '\t') fputs(" | ", f);
        else if (*c == '|') fputs("\\|", f);
        else if (!md_char(f, c)) fputc(*c, f);
    }
    fputs(" |\n", f);
}

static int ncols(const char *text) {
    int n = 1;
    for (; *text; text++) n += *text == '\t';
    return n;
}

/* summary: everything up to the second top-level heading shown, the rest folded in one <details>,
 * and figures named by their captions instead of linked (a CI job summary or a pull-request
 * comment has no plots/ folder beside it) */
static db_status write_markdown(const db_doc *d, const char *path, int summary) {
    if (db_doc_failed(d)) return db_fail(DB_ERR_NOMEM, "out of memory while building the report");
    FILE *f = fopen(path, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    fprintf(f, "# %s\n", d->title);
    int top = 0, folded = 0;
    for (int i = 0; i < d->n; i++) {
        const block *b = &d->b[i];
        block_kind prev = i ? d->b[i - 1].kind : B_PARA;
        if (summary && b->kind == B_HEADING && b->level == 1 && ++top == 2) {
            fputs("\n<details><summary>The details: each study, the research questions, provenance (the full report "
                  "has the figures)</summary>\n", f);
            folded = 1;
        }
        if (summary && b->kind == B_FIGURE) {
            fputs("\n*Figure: ", f);
            md_text(f, b->extra);
            fputs("* (in the full report)\n", f);
            continue;
        }
        switch (b->kind) {
        case B_HEADING: fprintf(f, "\n%.*s ", b->level + 1, "######"); md_text(f, b->text); fputc('\n', f); break;
        case B_PARA: fputc('\n', f); md_text(f, b->text); fputc('\n', f); break;
        case B_ITEM: fputs(prev == B_ITEM ? "- " : "\n- ", f); md_text(f, b->text); fputc('\n', f); break;
        case B_CODE: fprintf(f, "\n```\n%s\n```\n", b->text); break;
        case B_TABLE:
            fputc('\n', f);
            md_cells(f, b->text);
            fputs("|", f);
            for (int c = 0; c < ncols(b->text); c++) fputs(" --- |", f);
            fputc('\n', f);
            break;
        case B_ROW: md_cells(f, b->text); break;
        case B_FIGURE: /* (its caption from the database: one line, no tag, no ']' ending the image's text) */
            fputs("\n![", f);
            for (const char *c = b->extra; *c; c++)
                if (!md_char(f, c)) fputc(*c == ']' || *c == '[' ? ' ' : *c, f);
            fprintf(f, "](plots/%s.png)\n\n*", b->text);
            md_text(f, b->extra);
            fputs("*\n", f);
            break;
        case B_FOLD: /* GitHub's Markdown shows <details> folded; a blank line lets Markdown resume inside */
            fputs("\n<details><summary>", f);
            esc(f, b->text, strlen(b->text));
            fputs("</summary>\n", f);
            break;
        case B_FOLD_END: fputs("\n</details>\n", f); break;
        }
    }
    if (folded) fputs("\n</details>\n", f);
    if (ferror(f) | fclose(f)) return db_fail(DB_ERR_IO, "%s: writing failed (disk full?)", path);
    return DB_OK;
}

db_status db_doc_write_markdown(const db_doc *d, const char *path) { return write_markdown(d, path, 0); }
db_status db_doc_write_summary(const db_doc *d, const char *path) { return write_markdown(d, path, 1); }

/* ---- HTML ---- */

static void esc(FILE *f, const char *t, size_t n) {
    for (size_t i = 0; i < n && t[i]; i++) {
        switch (t[i]) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(t[i], f);
        }
    }
}

static void html_cells(FILE *f, const char *text, const char *tag) {
    fputs("<tr>", f);
    const char *c = text;
    for (;;) {
        const char *tab = strchr(c, '\t');
        size_t n = tab ? (size_t)(tab - c) : strlen(c);
        fprintf(f, "<%s>", tag);
        esc(f, c, n);
        fprintf(f, "</%s>", tag);
        if (!tab) break;
        c = tab + 1;
    }
    fputs("</tr>\n", f);
}

/* The SVG file's <svg ...>...</svg> element, inlined so that the page needs no other file: named by
 * its caption for screen readers, and its ids (gnuplot's are the same in every file) prefixed
 * with the figure's number so that they stay unique on the page */
static int inline_svg(FILE *f, const char *dir, const char *name, const char *caption, int number) {
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/%s.svg", dir, name);
    FILE *s = fopen(path, "r");
    if (!s) return 0;
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[65536];
    while ((got = fread(chunk, 1, sizeof chunk, s)) > 0) {
        if (len + got + 1 > cap) {
            char *g = realloc(buf, cap = 2 * (len + got + 1));
            if (!g) { free(buf); fclose(s); return 0; }
            buf = g;
        }
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(s);
    if (!buf) return 0;
    buf[len] = '\0';
    char *start = strstr(buf, "<svg");
    if (start) {
        fputs("<svg role=\"img\" aria-label=\"", f);
        esc(f, caption, strlen(caption));
        fputc('"', f);
        static const char *const refs[] = {"id=\"", "url(#", "href=\"#"};
        for (const char *p = start + 4; *p;) {
            int hit = -1;
            for (int k = 0; k < 3 && hit < 0; k++)
                if (!strncmp(p, refs[k], strlen(refs[k]))) hit = k;
            if (hit < 0) { fputc(*p++, f); continue; }
            fputs(refs[hit], f);
            fprintf(f, "f%d-", number);
            p += strlen(refs[hit]);
        }
    }
    free(buf);
    return start != NULL;
}

static const char *const css =
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}"
    "table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left}th{background:#f3f3f3}pre{background:#f6f6f6;padding:.75rem;overflow-x:auto}"
    "figure{margin:1.5rem 0}figure svg{max-width:100%;height:auto}figcaption{font-style:italic;font-size:.9rem}"
    ".scroll{overflow-x:auto}td{text-align:right}td:first-child{text-align:left}"
    "details{margin:1rem 0}summary{cursor:pointer;font-weight:600}";

db_status db_doc_write_html(const db_doc *d, const char *path) {
    if (db_doc_failed(d)) return db_fail(DB_ERR_NOMEM, "out of memory while building the report");
    FILE *f = fopen(path, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
    int figures = 0;
    esc(f, d->title, strlen(d->title));
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", css);
    esc(f, d->title, strlen(d->title));
    fputs("</h1>\n", f);
    for (int i = 0; i < d->n; i++) {
        const block *b = &d->b[i];
        block_kind prev = i ? d->b[i - 1].kind : B_PARA, next = i + 1 < d->n ? d->b[i + 1].kind : B_PARA;
        switch (b->kind) {
        case B_HEADING:
            fprintf(f, "<h%d>", b->level + 1);
            esc(f, b->text, strlen(b->text));
            fprintf(f, "</h%d>\n", b->level + 1);
            break;
        case B_PARA: fputs("<p>", f); esc(f, b->text, strlen(b->text)); fputs("</p>\n", f); break;
        case B_ITEM:
            if (prev != B_ITEM) fputs("<ul>\n", f);
            fputs("<li>", f);
            esc(f, b->text, strlen(b->text));
            fputs("</li>\n", f);
            if (next != B_ITEM) fputs("</ul>\n", f);
            break;
        case B_CODE: fputs("<pre><code>", f); esc(f, b->text, strlen(b->text)); fputs("</code></pre>\n", f); break;
        case B_TABLE: /* in a box that scrolls sideways on a narrow screen */
            fputs("<div class=\"scroll\"><table>\n", f);
            html_cells(f, b->text, "th");
            if (next != B_ROW) fputs("</table></div>\n", f);
            break;
        case B_ROW: html_cells(f, b->text, "td"); if (next != B_ROW) fputs("</table></div>\n", f); break;
        case B_FOLD:
            fputs("<details><summary>", f);
            esc(f, b->text, strlen(b->text));
            fputs("</summary>\n", f);
            break;
        case B_FOLD_END: fputs("</details>\n", f); break;
        case B_FIGURE:
            fputs("<figure>\n", f);
            if (!inline_svg(f, b->extra2, b->text, b->extra, ++figures)) fputs("<p>(image missing)</p>", f);
            fputs("\n<figcaption>", f);
            esc(f, b->extra, strlen(b->extra));
            fputs("</figcaption>\n</figure>\n", f);
            break;
        }
    }
    fputs("</body>\n</html>\n", f);
    if (ferror(f) | fclose(f)) return db_fail(DB_ERR_IO, "%s: writing failed (disk full?)", path);
    return DB_OK;
}
