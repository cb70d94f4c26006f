#include "report/plots.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Text from the database (names, labels, devices) as one line: a control character (a line
 * break would end a comment or a string, the rest a gnuplot command) written as a space */
static void line_text(FILE *f, const char *s) {
    for (; *s; s++) fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
}

/* a gnuplot single-quoted string: ' doubled, one line (gnuplot expands nothing inside) */
static void quoted(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
    }
    fputc('\'', f);
}

/* a value, or NaN for one not finite (gnuplot skips it; inf would draw off the page) */
static void num(FILE *f, double v) {
    if (!isfinite(v)) fputs(" NaN", f);
    else fprintf(f, " %.9g", v);
}

void db_plot_stem(const char *name, char *out, size_t n) {
    size_t k = 0;
    int replaced = 0;
    uint32_t h = 2166136261u; /* FNV-1a of the whole name: names that differ keep stems that differ */
    for (const char *c = name; *c; c++) h = (h ^ (unsigned char)*c) * 16777619u;
    for (const char *c = name; *c && k + 10 < n; c++, k++) {
        const int plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                          *c == '_' || ((*c == '.' || *c == '-') && k > 0);
        out[k] = plain ? *c : '_';
        replaced |= !plain;
    }
    out[k] = '\0';
    if (replaced) snprintf(out + k, n - k, "-%08x", h);
}

db_status db_plot_data(const db_plot *p, const char *dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.dat", dir, p->name);
    FILE *f = fopen(path, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    fputs("# ", f);
    line_text(f, p->title);
    fputc('\n', f);
    if (p->kind == DB_PLOT_BARS || p->kind == DB_PLOT_PAIRS) {
        fputs("# index label value lo hi ref\n", f);
        for (int i = 0; i < p->n; i++) {
            fprintf(f, "%d \"", i);
            for (const char *c = p->labels[i]; *c; c++) fputc(*c == '"' ? '\'' : (unsigned char)*c < 0x20 ? ' ' : *c, f);
            fputc('"', f);
            num(f, p->value[i]); num(f, p->lo[i]); num(f, p->hi[i]);
            num(f, p->ref ? p->ref[i] : NAN);
            fputc('\n', f);
        }
        if (p->npts) fputs("\n\n# x value: single observations\n", f);
        for (int i = 0; i < p->npts; i++) {
            num(f, p->pts_x[i]); num(f, p->pts_y[i]);
            fputc('\n', f);
        }
    } else {
        for (int s = 0; s < p->n; s++) { /* one block per series, two blank lines apart (gnuplot's index) */
            fprintf(f, "%s# series %d: ", s ? "\n\n" : "", s);
            line_text(f, p->labels[s]);
            fputs("\n# x value lo hi\n", f);
            for (int k = 0; k < p->npoints; k++) {
                size_t i = (size_t)s * p->npoints + k;
                num(f, p->kind == DB_PLOT_SCATTER ? p->xs[i] : p->x[k]); num(f, p->value[i]);
                num(f, p->lo ? p->lo[i] : NAN); num(f, p->hi ? p->hi[i] : NAN);
                fputc('\n', f);
            }
        }
    }
    if (ferror(f) | fclose(f)) return db_fail(DB_ERR_IO, "%s: writing failed", path);
    return DB_OK;
}

/* BARS of values that cannot leave [ymin, ymax]: the axis spans the values, their intervals and
 * the single observations, padded, but never past the bounds (a two-seed interval reaching 110%%
 * draws as far as 100) */
static void bounded_range(const db_plot *p, FILE *f) {
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < p->n; i++) {
        const double v[3] = {p->value[i], p->lo ? p->lo[i] : NAN, p->hi ? p->hi[i] : NAN};
        for (int k = 0; k < 3; k++)
            if (!isnan(v[k])) { lo = fmin(lo, v[k]); hi = fmax(hi, v[k]); }
    }
    for (int i = 0; i < p->npts; i++)
        if (!isnan(p->pts_y[i])) { lo = fmin(lo, p->pts_y[i]); hi = fmax(hi, p->pts_y[i]); }
    if (!(lo <= hi)) return;
    double pad = 0.1 * (hi - lo) + 0.5;
    lo = fmax(lo - pad, p->ymin);
    hi = isinf(p->ymax) ? hi + pad : fmin(hi + pad, p->ymax);
    fprintf(f, "set yrange [%.6g:%.6g]\n", lo, hi);
}

static void body(const db_plot *p, FILE *f) {
    char dat[300];
    snprintf(dat, sizeof dat, "%s.dat", p->name);
    fputs("set title ", f); quoted(f, p->title); fputc('\n', f);
    fputs("set xlabel ", f); quoted(f, p->xlabel ? p->xlabel : ""); fputc('\n', f);
    fputs("set ylabel ", f); quoted(f, p->ylabel ? p->ylabel : ""); fputc('\n', f);
    fputs("set grid ytics\nset key top left\n", f);
    switch (p->kind) {
    case DB_PLOT_BARS:
        /* absolute accuracies: points with their intervals (bars from zero would hide the differences) */
        if (p->bounded) bounded_range(p, f);
        fprintf(f, "set xrange [-0.7:%d.7]\nset offsets 0, 0, graph 0.05, graph 0.05\nset xtics rotate by -30\n"
                   "plot ", p->n - 1);
        quoted(f, dat);
        fputs(" index 0 using 1:3:4:5:xticlabels(2) with yerrorbars lc rgb '#4477aa' pt 7 ps 1.5 lw 2 title 'mean and its interval'", f);
        if (p->npts) fputs(", \\\n     '' index 1 using ($1+0.15):2 with points lc rgb '#222222' pt 6 title 'each seed'", f);
        fputc('\n', f);
        break;
    case DB_PLOT_PAIRS:
        fprintf(f, "set style fill solid 0.5 border -1\nset boxwidth 0.35\nset xrange [-0.7:%d.7]\nset xtics rotate by -30\n"
                   "plot ", p->n - 1);
        quoted(f, dat);
        fputs(" index 0 using ($1-0.18):3:xticlabels(2) with boxes lc rgb '#4477aa' title 'ours', \\\n"
              "     '' index 0 using ($1-0.18):3:4:5 with yerrorbars lc rgb 'black' pt 0 title 'ours: interval', \\\n"
              "     '' index 0 using ($1+0.18):6 with boxes lc rgb '#ee6677' title ", f);
        quoted(f, p->ref_label ? p->ref_label : "reference");
        if (p->npts) fputs(", \\\n     '' index 1 using ($1-0.06):2 with points lc rgb '#222222' pt 6 title 'each seed'", f);
        fputc('\n', f);
        break;
    case DB_PLOT_SCATTER:
        fputs("set key bottom right\nset size ratio -1\nset xrange [0:*]\nset yrange [0:*]\nplot x with lines dt 2 lc rgb 'gray' "
              "title 'realised = expected'", f);
        for (int s = 0; s < p->n; s++) {
            fputs(", \\\n     ", f);
            quoted(f, dat);
            fprintf(f, " index %d using 1:2 with points pt %d lc %d title ", s, 5 + s % 4, s + 1);
            quoted(f, p->labels[s]);
        }
        fputc('\n', f);
        break;
    case DB_PLOT_CURVES:
    case DB_PLOT_XY: {
        /* the y range of the means, padded: CI bands wider than that are clipped, not rescaled */
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < (size_t)p->n * p->npoints; i++)
            if (!isnan(p->value[i])) { lo = fmin(lo, p->value[i]); hi = fmax(hi, p->value[i]); }
        if (lo <= hi) {
            double pad = 0.5 * (hi - lo) + 1;
            if (p->bounded) { lo = fmax(lo - pad, p->ymin) + pad; hi = fmin(hi + pad, p->ymax) - pad; }
            fprintf(f, "set yrange [%.6g:%.6g]\n", lo - pad, hi + pad);
        }
        int gaps = 0; /* epochs not evaluated (eval_every): points, or a lone one would not show */
        for (size_t i = 0; i < (size_t)p->n * p->npoints; i++) gaps |= isnan(p->value[i]);
        if (p->kind == DB_PLOT_CURVES && p->npoints <= 20) fputs("set xtics 1\n", f);
        if (p->kind == DB_PLOT_XY) fputs("set offsets graph 0.05, graph 0.05, 0, 0\n", f);
        fputs("set key bottom right\nset style fill transparent solid 0.2 noborder\nplot ", f);
        for (int s = 0; s < p->n; s++) {
            int colour = (p->group ? p->group[s] : s) + 1, titled = !p->group || !s || p->group[s - 1] != p->group[s];
            fputs(s ? ", \\\n     " : "", f);
            quoted(f, dat);
            if (p->kind == DB_PLOT_XY || p->lo) /* a band between lo and hi; bars at (x, mean) from lo to hi */
                fprintf(f, " index %d using %s with %s lc %d notitle, \\\n     ''", s,
                        p->kind == DB_PLOT_CURVES ? "1:3:4" : "1:2:3:4", p->kind == DB_PLOT_CURVES ? "filledcurves" : "yerrorbars",
                        colour);
            fprintf(f, " index %d using 1:2 with %s lc %d ", s,
                    p->kind == DB_PLOT_XY ? "linespoints" : gaps ? "linespoints pt 7" : "lines lw 2", colour);
            if (!titled) fputs("notitle", f);
            else { fputs("title ", f); quoted(f, p->labels[s]); }
        }
        fputc('\n', f);
        break;
    }
    }
}

void db_plot_script(const db_plot *p, FILE *f, const char *terminal) {
    fputs("# dropbench report figure: ", f);
    line_text(f, p->title);
    fprintf(f, " (data: %s.dat)\n%s", p->name, terminal);
    body(p, f);
}

int db_plot_run(const char *gnuplot, const char *dir, const char *script) {
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) { dup2(null, 1); dup2(null, 2); }
        if (chdir(dir) != 0) _exit(127);
        execlp(gnuplot, gnuplot, script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

db_status db_plot_write(const db_plot *p, const char *dir, const char *gnuplot, int *rendered) {
    *rendered = 0;
    DB_TRY(db_plot_data(p, dir));
    char path[1200], term[600];
    snprintf(path, sizeof path, "%s/%s.gp", dir, p->name);
    FILE *f = fopen(path, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    char png[300], svg[300];
    snprintf(png, sizeof png, "%s.png", p->name);
    snprintf(svg, sizeof svg, "%s.svg", p->name);
    FILE *t = fmemopen(term, sizeof term, "w");
    if (t) {
        fputs("set terminal pngcairo noenhanced size 960,600 font 'sans,11'\nset output ", t);
        quoted(t, png);
        fputc('\n', t);
        fclose(t);
    }
    db_plot_script(p, f, term);
    fputs("set terminal svg noenhanced size 960,600 font 'sans,11'\nset output ", f);
    quoted(f, svg);
    fputs("\nreplot\nset output\n", f);
    if (ferror(f) | fclose(f)) return db_fail(DB_ERR_IO, "%s: writing failed", path);
    if (!gnuplot) return DB_OK;
    snprintf(path, sizeof path, "%s.gp", p->name);
    *rendered = db_plot_run(gnuplot, dir, path);
    return DB_OK;
}
