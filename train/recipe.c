#include "train/recipe.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* The next comma-separated value of a vary list; "double quotes" keep commas inside a value.
 * Returns NULL at the end; *bad is set on an unterminated quote. */
static char *next_value(char **cursor, int *bad) {
    char *p = *cursor;
    if (!p) return NULL;
    while (isspace((unsigned char)*p)) p++;
    char *val = p, *end;
    if (*p == '"') {
        val = ++p;
        while (*p && *p != '"') p++;
        if (!*p) { *bad = 1; return NULL; }
        *p++ = '\0';
        while (isspace((unsigned char)*p)) p++;
        if (*p && *p != ',') { *bad = 1; return NULL; }
        *cursor = *p ? p + 1 : NULL;
        return val;
    }
    end = strchr(p, ',');
    if (end) *end = '\0';
    *cursor = end ? end + 1 : NULL;
    return trim(val);
}

/* a key in its canonical spelling ('-' is '_'), as cell labels and folders spell it */
static void canonical(char *out, size_t n, const char *key) {
    snprintf(out, n, "%s", key);
    for (char *c = out; *c; c++) if (*c == '-') *c = '_';
}

/* Do two keys name one setting (their spellings, or an earlier name and its present one)? */
static int same_key(const char *a, const char *b) {
    const char *na = db_config_key_name(a), *nb = db_config_key_name(b);
    return na && nb ? na == nb : !strcmp(a, b);
}

static int parse_vary(db_recipe *r, const char *key, char *value, char *msg, size_t n) {
    char k[40];
    canonical(k, sizeof k, key + 5);
    db_config probe = r->base;
    if (r->nvary >= DB_RECIPE_MAX_VARY) { snprintf(msg, n, "at most %d vary keys", DB_RECIPE_MAX_VARY); return -1; }
    for (int i = 0; i < r->nvary; i++)
        if (same_key(r->vary_key[i], k)) { snprintf(msg, n, "%s is varied twice", key); return -1; }
    int v = r->nvary, count = 0, bad = 0;
    char as_read[DB_RECIPE_MAX_VALUES][96]; /* each value as the configuration holds it */
    snprintf(r->vary_key[v], sizeof r->vary_key[v], "%s", k);
    char *cursor = value;
    for (char *val; (val = next_value(&cursor, &bad));) {
        if (count >= DB_RECIPE_MAX_VALUES) { snprintf(msg, n, "%s: at most %d values", key, DB_RECIPE_MAX_VALUES); return -1; }
        if (!*val) { snprintf(msg, n, "%s: an empty value", key); return -1; }
        if (db_config_set(&probe, k, val) != DB_OK) { snprintf(msg, n, "%s", db_last_error()); return -1; }
        if (strlen(val) >= sizeof r->value[v][0]) {
            snprintf(msg, n, "%s: a value longer than %zu characters", key, sizeof r->value[v][0] - 1);
            return -1;
        }
        if (db_config_value_text(&probe, k, as_read[count], sizeof as_read[0]) != DB_OK) {
            snprintf(msg, n, "%s", db_last_error());
            return -1;
        }
        for (int j = 0; j < count; j++) /* the same value twice, as written or as read (0.9 and .9): one cell twice */
            if (!strcmp(as_read[j], as_read[count])) {
                if (!strcmp(r->value[v][j], val)) snprintf(msg, n, "%s: '%s' is listed twice", key, val);
                else snprintf(msg, n, "%s: '%s' and '%s' are the same value", key, r->value[v][j], val);
                return -1;
            }
        snprintf(r->value[v][count++], sizeof r->value[v][0], "%s", val);
    }
    if (bad) { snprintf(msg, n, "%s: a quoted value without its closing quote", key); return -1; }
    if (!count) { snprintf(msg, n, "%s: no values", key); return -1; }
    r->nvalues[v] = count;
    r->nvary++;
    return 0;
}

/* row.NAME.KEY = VALUE: one setting of one named row */
static int parse_row(db_recipe *r, const char *key, const char *value, char *msg, size_t n) {
    const char *name = key + 4, *dot = strchr(name, '.');
    if (!dot || dot == name || !dot[1]) { snprintf(msg, n, "expected 'row.NAME.KEY = VALUE', got '%s'", key); return -1; }
    size_t nl = (size_t)(dot - name);
    if (nl >= sizeof r->row[0].name || strcspn(name, "/ \t,=") < nl) {
        snprintf(msg, n, "row names are up to %zu characters without spaces, '/', ',' or '='", sizeof r->row[0].name - 1);
        return -1;
    }
    int i = 0;
    while (i < r->nrows && (strlen(r->row[i].name) != nl || strncmp(r->row[i].name, name, nl))) i++;
    if (i == r->nrows) {
        if (r->nrows >= DB_RECIPE_MAX_ROWS) { snprintf(msg, n, "at most %d rows", DB_RECIPE_MAX_ROWS); return -1; }
        memset(&r->row[i], 0, sizeof r->row[i]);
        memcpy(r->row[i].name, name, nl);
        r->nrows++;
    }
    db_recipe_row *row = &r->row[i];
    char k[40];
    canonical(k, sizeof k, dot + 1);
    db_config probe = r->base;
    if (db_config_set(&probe, k, value) != DB_OK) { snprintf(msg, n, "%s", db_last_error()); return -1; }
    for (int j = 0; j < row->nkeys; j++)
        if (same_key(row->key[j], k)) { snprintf(msg, n, "row %s sets %s twice", row->name, k); return -1; }
    if (row->nkeys >= DB_RECIPE_MAX_ROW_KEYS) { snprintf(msg, n, "row %s: at most %d keys", row->name, DB_RECIPE_MAX_ROW_KEYS); return -1; }
    if (strlen(k) >= sizeof row->key[0] || strlen(value) >= sizeof row->value[0]) {
        snprintf(msg, n, "row %s: key or value too long", row->name);
        return -1;
    }
    strcpy(row->key[row->nkeys], k);
    strcpy(row->value[row->nkeys++], value);
    return 0;
}

static db_status load_file(db_recipe *r, const char *path, int depth);

/* FILE of an include or requires line as a path from the working folder: relative to the folder
 * of the file `from` that names it */
static int beside(const char *from, const char *value, char *path, size_t size) {
    const char *slash = strrchr(from, '/');
    int len = value[0] == '/' || !slash ? snprintf(path, size, "%s", value)
                                        : snprintf(path, size, "%.*s/%s", (int)(slash - from), from, value);
    return len >= 0 && (size_t)len < size;
}

/* include = FILE: another recipe file's lines read here, FILE relative to this file's folder */
static int parse_include(db_recipe *r, const char *from, const char *value, int depth, char *msg, size_t n) {
    char path[1024];
    if (!*value) { snprintf(msg, n, "include: needs a file name"); return -1; }
    if (depth >= 4) { snprintf(msg, n, "include: nested more than 4 deep"); return -1; }
    if (!beside(from, value, path, sizeof path)) { snprintf(msg, n, "include: the path is too long"); return -1; }
    db_status st = load_file(r, path, depth + 1);
    if (st != DB_OK) snprintf(msg, n, "%s", db_last_error());
    return -(int)db_status_primary(st); /* the file's own kind of failure (missing: IO), as at the top */
}

/* requires = FILE: a recipe whose study runs before this one (its checkpoints are what this
 * one's init_from names); read when the study runs, not here (a recorded recipe's text is
 * loaded where the file may be gone) */
static int parse_requires(db_recipe *r, const char *from, const char *value, char *msg, size_t n) {
    if (!*value) { snprintf(msg, n, "requires: needs a recipe file"); return -1; }
    if (r->nrequires == DB_RECIPE_MAX_REQUIRES) { snprintf(msg, n, "requires: at most %d", DB_RECIPE_MAX_REQUIRES); return -1; }
    if (!beside(from, value, r->requires[r->nrequires], sizeof r->requires[0])) {
        snprintf(msg, n, "requires: the path is too long");
        return -1;
    }
    r->nrequires++;
    return 0;
}

/* one `key = value` line; msg receives what is wrong */
static int parse_line(db_recipe *r, const char *path, int depth, char *line, char *msg, size_t n) {
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *t = trim(line);
    if (!*t) return 0;
    char *eq = strchr(t, '=');
    if (!eq) { snprintf(msg, n, "expected 'key = value', got '%s'", t); return -1; }
    *eq = '\0';
    char *key = trim(t), *value = trim(eq + 1);
    if (!strcmp(key, "include")) return parse_include(r, path, value, depth, msg, n);
    if (!strcmp(key, "requires")) return parse_requires(r, path, value, msg, n);
    if (!strcmp(key, "study")) {
        if (!*value || strlen(value) >= sizeof r->study || strpbrk(value, "/ \t")) {
            snprintf(msg, n, "study: a name without spaces or '/', up to %zu characters", sizeof r->study - 1);
            return -1;
        }
        strcpy(r->study, value);
        return 0;
    }
    if (!strcmp(key, "description")) { snprintf(r->description, sizeof r->description, "%s", value); return 0; }
    if (!strcmp(key, "assumption")) {
        if (!*value || strlen(value) >= sizeof r->assumption[0] || r->nassumptions == DB_RECIPE_MAX_ASSUMPTIONS) {
            snprintf(msg, n, "assumption: a text of 1 to %zu characters, at most %d of them", sizeof r->assumption[0] - 1,
                     DB_RECIPE_MAX_ASSUMPTIONS);
            return -1;
        }
        strcpy(r->assumption[r->nassumptions++], value);
        return 0;
    }
    if (!strncmp(key, "vary.", 5)) return parse_vary(r, key, value, msg, n);
    if (!strncmp(key, "row.", 4)) return parse_row(r, key, value, msg, n);
    if (db_config_set(&r->base, key, value) != DB_OK) { snprintf(msg, n, "%s", db_last_error()); return -1; }
    return 0;
}

enum { RECIPE_MAX_BYTES = 1 << 20, RECIPE_MAX_CELLS = 100000 };

/* Appends to the recorded text (an included file's lines follow its include line); the buffer
 * grows geometrically, so reading stays linear */
static db_status append_text(db_recipe *r, const char *s) {
    size_t l = strlen(s);
    if (r->text_len + l + 1 > r->text_cap) {
        size_t cap = r->text_cap ? 2 * r->text_cap : 4096;
        while (cap < r->text_len + l + 1) cap *= 2;
        char *t = realloc(r->text, cap);
        if (!t) return db_fail(DB_ERR_NOMEM, "out of memory");
        r->text = t;
        r->text_cap = cap;
    }
    memcpy(r->text + r->text_len, s, l + 1);
    r->text_len += l;
    return DB_OK;
}

/* Is this line an include (recorded commented out: the included lines follow it) */
static int is_include(const char *line) {
    while (isspace((unsigned char)*line)) line++;
    if (strncmp(line, "include", 7)) return 0;
    line += 7;
    while (isspace((unsigned char)*line)) line++;
    return *line == '=';
}

/* The key a line sets once per file (not include, requires, assumption, vary.*, row.*: those
 * repeat or say so themselves): into key, else "" */
static void single_key(const char *line, char *key, size_t n) {
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", line);
    char *hash = strchr(buf, '#'), *eq;
    if (hash) *hash = '\0';
    key[0] = '\0';
    if (!(eq = strchr(buf, '='))) return;
    *eq = '\0';
    const char *k = trim(buf);
    if (!strcmp(k, "include") || !strcmp(k, "requires") || !strcmp(k, "assumption") || !strncmp(k, "vary.", 5) ||
        !strncmp(k, "row.", 4))
        return;
    const char *name = db_config_key_name(k); /* keep_prob and keep-prob, det_scale_min and scale_min: one key */
    if (name) snprintf(key, n, "%s", name);
    else canonical(key, n, k);
}

/* strict (a file, not a recorded text where includes are inlined): a key set twice in one file
 * is refused, naming both lines (the last would win unseen) */
static db_status load_stream(db_recipe *r, FILE *f, const char *path, int depth, int strict) {
    char head[1200], msg[600], *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int lineno = 0, nseen = 0;
    enum { SEEN = 256 };
    char (*seen)[64] = strict ? calloc(SEEN, 64) : NULL;
    int seen_at[SEEN];
    db_status st = strict && !seen ? db_fail(DB_ERR_NOMEM, "out of memory") : DB_OK;
    if (depth) {
        snprintf(head, sizeof head, "# ---- %s ----\n", path);
        st = append_text(r, head);
    }
    while (st == DB_OK && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t l = strlen(line);
        if ((size_t)got != l) { st = db_fail(DB_ERR_FORMAT, "%s:%d: a NUL byte: not a text file", path, lineno); break; }
        if (l > 2047) { st = db_fail(DB_ERR_FORMAT, "%s:%d: line longer than 2046 characters", path, lineno); break; }
        if (r->text_len + l > RECIPE_MAX_BYTES) {
            st = db_fail(DB_ERR_FORMAT, "%s:%d: the recipe (its includes too) is larger than %d bytes", path, lineno,
                         RECIPE_MAX_BYTES);
            break;
        }
        if (is_include(line) && (st = append_text(r, "# ")) != DB_OK) break;
        if ((st = append_text(r, line)) != DB_OK) break;
        if (l && line[l - 1] != '\n' && (st = append_text(r, "\n")) != DB_OK) break;
        char key[64];
        if (strict) single_key(line, key, sizeof key);
        for (int i = 0; strict && key[0] && i < nseen && st == DB_OK; i++)
            if (!strcmp(seen[i], key))
                st = db_fail(DB_ERR_ARG, "%s:%d: %s is set again (line %d sets it too): one line each", path, lineno, key,
                             seen_at[i]);
        if (st != DB_OK) break;
        if (strict && key[0] && nseen < SEEN) snprintf(seen[nseen], 64, "%s", key), seen_at[nseen++] = lineno;
        const int bad = -parse_line(r, path, depth, line, msg, sizeof msg); /* a db_status: DB_ERR_ARG, or an include's */
        if (bad) st = db_fail((db_status)bad, "%s:%d: %s", path, lineno, msg);
    }
    free(line);
    free(seen);
    if (st == DB_OK && ferror(f)) st = db_fail(DB_ERR_IO, "%s: read error", path);
    if (st == DB_OK && depth) {
        snprintf(head, sizeof head, "# ---- end of %s ----\n", path);
        st = append_text(r, head);
    }
    return st;
}

static db_status load_file(db_recipe *r, const char *path, int depth) {
    FILE *f = fopen(path, "r");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot read the recipe: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) { /* /dev/zero, a FIFO: never a recipe */
        fclose(f);
        return db_fail(DB_ERR_FORMAT, "%s: not a regular file", path);
    }
    db_status st = load_stream(r, f, path, depth, 1);
    fclose(f);
    return st;
}

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* After the lines are read: the study name, and every cell a valid run */
static db_status finish(db_recipe *r, db_status st) {
    if (st == DB_OK && !r->study[0]) st = db_fail(DB_ERR_ARG, "%s: no 'study = NAME' line", r->path);
    uint64_t cells = r->nrows ? (uint64_t)r->nrows : 1;
    for (int i = 0; st == DB_OK && i < r->nvary; i++) {
        cells *= (uint64_t)r->nvalues[i];
        if (cells > RECIPE_MAX_CELLS)
            st = db_fail(DB_ERR_ARG, "%s: the matrix has more than %d cells (split the study)", r->path, RECIPE_MAX_CELLS);
    }
    const int n = st == DB_OK ? db_recipe_cells(r) : 0;
    char **files = calloc((size_t)2 * n + 1, sizeof *files); /* the cells' results files, to find one shared */
    int nf = 0;
    if (!files) st = db_fail(DB_ERR_NOMEM, "out of memory");
    for (int i = 0; st == DB_OK && i < n; i++) {
        db_config c;
        char label[256];
        st = db_recipe_cell(r, i, &c, label, sizeof label);
        const char *mine[2] = {c.metrics, c.site_metrics};
        for (int k = 0; st == DB_OK && k < 2; k++)
            if (mine[k][0] && !(files[nf++] = strdup(mine[k]))) st = db_fail(DB_ERR_NOMEM, "out of memory");
    }
    if (st == DB_OK && nf > 1) {
        qsort(files, (size_t)nf, sizeof *files, by_text);
        for (int i = 1; st == DB_OK && i < nf; i++)
            if (!strcmp(files[i], files[i - 1]))
                st = db_fail(DB_ERR_ARG, "%s: cells would write the same results file %s (metrics, site_metrics), each "
                             "over the other's: each cell's metrics are in the database (dropbench export), or give "
                             "each row its own file", r->path, files[i]);
    }
    for (int i = 0; files && i < nf; i++) free(files[i]);
    free(files);
    if (st != DB_OK) db_recipe_free(r);
    return st;
}

db_status db_recipe_load_text(const char *name, const char *text, db_recipe *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", name);
    db_config_defaults(&r->base);
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    if (!f) return db_fail(DB_ERR_NOMEM, "out of memory");
    db_status st = load_stream(r, f, name, 0, 0);
    fclose(f);
    return finish(r, st);
}

db_status db_recipe_load(const char *path, db_recipe *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    db_config_defaults(&r->base);
    return finish(r, load_file(r, path, 0));
}

void db_recipe_free(db_recipe *r) {
    free(r->text);
    r->text = NULL;
    r->text_len = r->text_cap = 0;
}

int db_recipe_cells(const db_recipe *r) {
    int n = r->nrows ? r->nrows : 1;
    for (int i = 0; i < r->nvary; i++) n *= r->nvalues[i];
    return n;
}

db_status db_recipe_cell(const db_recipe *r, int i, db_config *out, char *label, size_t n) {
    int idx[DB_RECIPE_MAX_VARY];
    *out = r->base;
    for (int v = r->nvary - 1; v >= 0; v--) { /* the last vary key changes fastest, rows slowest */
        idx[v] = i % r->nvalues[v];
        i /= r->nvalues[v];
    }
    size_t used = 0;
    label[0] = '\0';
    if (r->nrows) {
        const db_recipe_row *row = &r->row[i];
        for (int j = 0; j < row->nkeys; j++) {
            for (int v = 0; v < r->nvary; v++)
                if (same_key(r->vary_key[v], row->key[j]))
                    return db_fail(DB_ERR_ARG, "%s: row %s sets %s, which the study also varies", r->path, row->name,
                                   row->key[j]);
            if (db_config_set(out, row->key[j], row->value[j]) != DB_OK)
                return db_fail(DB_ERR_ARG, "%s: row %s: %s", r->path, row->name, db_last_error());
        }
        used += (size_t)snprintf(label, n, "row=%s", row->name);
    }
    for (int v = 0; v < r->nvary; v++) {
        if (db_config_set(out, r->vary_key[v], r->value[v][idx[v]]) != DB_OK)
            return db_fail(DB_ERR_ARG, "%s: %s", r->path, db_last_error());
        used += (size_t)snprintf(label + used, used < n ? n - used : 0, "%s%s=%s", used ? "," : "", r->vary_key[v],
                                 r->value[v][idx[v]]);
    }
    if (used >= n) return db_fail(DB_ERR_ARG, "%s: the cell label is too long", r->path);
    char dir[1024];
    int dl = snprintf(dir, sizeof dir, "%s/%s/%s", r->base.checkpoint_dir[0] ? r->base.checkpoint_dir : "runs",
                      r->study, label[0] ? label : "single");
    if (dl < 0 || (size_t)dl >= sizeof out->checkpoint_dir)
        return db_fail(DB_ERR_ARG, "%s: the cell's checkpoint folder %s is too long", r->path, dir);
    if (db_config_set(out, "checkpoint_dir", dir) != DB_OK) return db_fail(DB_ERR_ARG, "%s: %s", r->path, db_last_error());
    if (out->predictions_dir[0]) { /* each cell's predictions in a folder of its own, as its checkpoint */
        char pred[1024];
        dl = snprintf(pred, sizeof pred, "%s/%s/%s", out->predictions_dir, r->study, label[0] ? label : "single");
        if (dl < 0 || (size_t)dl >= sizeof out->predictions_dir)
            return db_fail(DB_ERR_ARG, "%s: the cell's predictions folder %s is too long", r->path, pred);
        if (db_config_set(out, "predictions_dir", pred) != DB_OK)
            return db_fail(DB_ERR_ARG, "%s: %s", r->path, db_last_error());
    }
    DB_TRY(db_config_validate(out));
    db_reg_plan plan;
    return db_config_reg_plan(out, &plan);
}

void db_recipe_condition(const char *label, char *out, size_t n) {
    size_t used = 0;
    int in_seed = 0;
    out[0] = '\0';
    for (const char *p = label; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int has_key = memchr(p, '=', len) != NULL;
        if (has_key) in_seed = !strncmp(p, "seed=", 5);
        if (!in_seed && used + (used > 0) + len < n) {
            if (used) out[used++] = ',';
            memcpy(out + used, p, len);
            used += len;
            out[used] = '\0';
        }
        p = e ? e + 1 : p + len;
    }
    if (!out[0]) snprintf(out, n, "all");
}

uint64_t db_recipe_text_hash(const db_recipe *r) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < r->text_len; i++) h = (h ^ (unsigned char)r->text[i]) * 1099511628211ull;
    return h;
}
