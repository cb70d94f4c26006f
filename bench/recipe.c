#include "bench/recipe.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* one `key = value` line; msg receives what is wrong */
static int parse_line(db_recipe *r, char *line, char *msg, size_t n) {
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *t = trim(line);
    if (!*t) return 0;
    char *eq = strchr(t, '=');
    if (!eq) { snprintf(msg, n, "expected 'key = value', got '%s'", t); return -1; }
    *eq = '\0';
    char *key = trim(t), *value = trim(eq + 1);
    if (!strcmp(key, "study")) {
        if (!*value || strlen(value) >= sizeof r->study || strpbrk(value, "/ \t")) {
            snprintf(msg, n, "study: a name without spaces or '/', up to %zu characters", sizeof r->study - 1);
            return -1;
        }
        strcpy(r->study, value);
        return 0;
    }
    if (!strcmp(key, "description")) { snprintf(r->description, sizeof r->description, "%s", value); return 0; }
    if (!strncmp(key, "vary.", 5)) {
        const char *k = key + 5;
        db_config probe = r->base;
        if (r->nvary >= DB_RECIPE_MAX_VARY) { snprintf(msg, n, "at most %d vary keys", DB_RECIPE_MAX_VARY); return -1; }
        for (int i = 0; i < r->nvary; i++)
            if (!strcmp(r->vary_key[i], k)) { snprintf(msg, n, "%s is varied twice", key); return -1; }
        int v = r->nvary, count = 0;
        snprintf(r->vary_key[v], sizeof r->vary_key[v], "%s", k);
        for (char *tok = strtok(value, ","); tok; tok = strtok(NULL, ",")) {
            char *val = trim(tok);
            if (count >= DB_RECIPE_MAX_VALUES) { snprintf(msg, n, "%s: at most %d values", key, DB_RECIPE_MAX_VALUES); return -1; }
            if (db_config_set(&probe, k, val) != DB_OK) { snprintf(msg, n, "%s", db_last_error()); return -1; }
            snprintf(r->value[v][count++], sizeof r->value[v][0], "%s", val);
        }
        if (!count) { snprintf(msg, n, "%s: no values", key); return -1; }
        r->nvalues[v] = count;
        r->nvary++;
        return 0;
    }
    if (db_config_set(&r->base, key, value) != DB_OK) { snprintf(msg, n, "%s", db_last_error()); return -1; }
    return 0;
}

db_status db_recipe_load(const char *path, db_recipe *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    db_config_defaults(&r->base);
    FILE *f = fopen(path, "r");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot read the recipe: %s", path, strerror(errno));
    size_t cap = 0, len = 0;
    char line[2048], msg[600];
    int lineno = 0;
    db_status st = DB_OK;
    while (st == DB_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t l = strlen(line);
        if (len + l + 1 > cap) {
            char *t = realloc(r->text, cap = (len + l + 1) * 2);
            if (!t) { st = db_fail(DB_ERR_NOMEM, "out of memory"); break; }
            r->text = t;
        }
        memcpy(r->text + len, line, l + 1);
        len += l;
        if (l == sizeof line - 1 && line[l - 1] != '\n')
            st = db_fail(DB_ERR_FORMAT, "%s:%d: line longer than %zu characters", path, lineno, sizeof line - 2);
        else if (parse_line(r, line, msg, sizeof msg) != 0)
            st = db_fail(DB_ERR_ARG, "%s:%d: %s", path, lineno, msg);
    }
    if (st == DB_OK && ferror(f)) st = db_fail(DB_ERR_IO, "%s: read error", path);
    fclose(f);
    if (st == DB_OK && !r->study[0]) st = db_fail(DB_ERR_ARG, "%s: no 'study = NAME' line", path);
    for (int i = 0; st == DB_OK && i < db_recipe_cells(r); i++) { /* every cell must be a valid run */
        db_config c;
        char label[256];
        st = db_recipe_cell(r, i, &c, label, sizeof label);
    }
    if (st != DB_OK) db_recipe_free(r);
    return st;
}

void db_recipe_free(db_recipe *r) {
    free(r->text);
    r->text = NULL;
}

int db_recipe_cells(const db_recipe *r) {
    int n = 1;
    for (int i = 0; i < r->nvary; i++) n *= r->nvalues[i];
    return n;
}

db_status db_recipe_cell(const db_recipe *r, int i, db_config *out, char *label, size_t n) {
    int idx[DB_RECIPE_MAX_VARY];
    *out = r->base;
    for (int v = r->nvary - 1; v >= 0; v--) { /* the last vary key changes fastest */
        idx[v] = i % r->nvalues[v];
        i /= r->nvalues[v];
        if (db_config_set(out, r->vary_key[v], r->value[v][idx[v]]) != DB_OK)
            return db_fail(DB_ERR_ARG, "%s: %s", r->path, db_last_error());
    }
    size_t used = 0;
    label[0] = '\0';
    for (int v = 0; v < r->nvary; v++)
        used += (size_t)snprintf(label + used, used < n ? n - used : 0, "%s%s=%s", v ? "," : "", r->vary_key[v],
                                 r->value[v][idx[v]]);
    if (used >= n) return db_fail(DB_ERR_ARG, "%s: the cell label is too long", r->path);
    char dir[1024];
    int dl = snprintf(dir, sizeof dir, "%s/%s/%s", r->base.checkpoint_dir[0] ? r->base.checkpoint_dir : "runs",
                      r->study, label[0] ? label : "single");
    if (dl < 0 || (size_t)dl >= sizeof out->checkpoint_dir)
        return db_fail(DB_ERR_ARG, "%s: the cell's checkpoint folder %s is too long", r->path, dir);
    if (db_config_set(out, "checkpoint_dir", dir) != DB_OK) return db_fail(DB_ERR_ARG, "%s: %s", r->path, db_last_error());
    DB_TRY(db_config_validate(out));
    db_reg_plan plan;
    return db_config_reg_plan(out, &plan);
}
