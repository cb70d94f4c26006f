#include "report/doc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { B_HEADING, B_PARA, B_ITEM, B_CODE, B_TABLE, B_ROW, B_FIGURE } block_kind;

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

void db_doc_figure(db_doc *d, const char *dir, const char *name, const char *caption) {
    block *b = add(d, B_FIGURE, 0, strdup(name));
    if (!b) return;
    b->extra = strdup(caption);
    b->extra2 = strdup(dir);
    if (!b->extra || !b->extra2) d->failed = 1;
}

/* ---- Markdown ---- */

static void md_cells(FILE *f, const char *text) {
    fputs("| ", f);
    for (const char *c = text; *c; c++) {
        if (*c == '\t') fputs(" | ", f);
        else if (*c == '|') fputs("\\|", f);
        else fputc(*c, f);
    }
    fputs(" |\n", f);
}

static int ncols(const char *text) {
    int n = 1;
    for (; *text; text++) n += *text == '\t';
    return n;
}

db_status db_doc_write_markdown(const db_doc *d, const char *path) {
    if (db_doc_failed(d)) return db_fail(DB_ERR_NOMEM, "out of memory while building the report");
    FILE *f = fopen(path, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    fprintf(f, "# %s\n", d->title);
    for (int i = 0; i < d->n; i++) {
        const block *b = &d->b[i];
        block_kind prev = i ? d->b[i - 1].kind : B_PARA;
        switch (b->kind) {
        case B_HEADING: fprintf(f, "\n%.*s %s\n", b->level + 1, "######", b->text); break;
        case B_PARA: fprintf(f, "\n%s\n", b->text); break;
        case B_ITEM: fprintf(f, "%s- %s\n", prev == B_ITEM ? "" : "\n", b->text); break;
        case B_CODE: fprintf(f, "\n```\n%s\n```\n", b->text); break;
        case B_TABLE:
            fputc('\n', f);
            md_cells(f, b->text);
            fputs("|", f);
            for (int c = 0; c < ncols(b->text); c++) fputs(" --- |", f);
            fputc('\n', f);
            break;
        case B_ROW: md_cells(f, b->text); break;
        case B_FIGURE: fprintf(f, "\n![%s](plots/%s.png)\n\n*%s*\n", b->extra, b->text, b->extra); break;
        }
    }
    if (ferror(f) | fclose(f)) return db_fail(DB_ERR_IO, "%s: writing failed (disk full?)", path);
    return DB_OK;
}

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

/* The SVG file's <svg ...>...</svg> element, inlined so that the page needs no other file */
static int inline_svg(FILE *f, const char *dir, const char *name) {
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
    if (start) fputs(start, f);
    free(buf);
    return start != NULL;
}

static const char *const css =
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}"
    "table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left}th{background:#f3f3f3}pre{background:#f6f6f6;padding:.75rem;overflow-x:auto}"
    "figure{margin:1.5rem 0}figure svg{max-width:100%;height:auto}figcaption{font-style:italic;font-size:.9rem}";

db_status db_doc_write_html(const db_doc *d, const char *path) {
    if (db_doc_failed(d)) return db_fail(DB_ERR_NOMEM, "out of memory while building the report");
    FILE *f = fopen(path, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
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
        case B_TABLE: fputs("<table>\n", f); html_cells(f, b->text, "th"); if (next != B_ROW) fputs("</table>\n", f); break;
        case B_ROW: html_cells(f, b->text, "td"); if (next != B_ROW) fputs("</table>\n", f); break;
        case B_FIGURE:
            fputs("<figure>\n", f);
            if (!inline_svg(f, b->extra2, b->text)) fputs("<p>(image missing)</p>", f);
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
