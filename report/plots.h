/* Figures through gnuplot: each is a data file and a script beside it (plots/NAME.dat,
 * plots/NAME.gp) that renders NAME.png (pngcairo) and NAME.svg, so a figure can be rendered
 * again by hand (cd plots && gnuplot NAME.gp). db_plot_script writes the script for any
 * terminal, which is how the tests render them as text (gnuplot's dumb terminal). */
#ifndef DB_REPORT_PLOTS_H
#define DB_REPORT_PLOTS_H

#include <stdio.h>

#include "core/status.h"

typedef enum { DB_PLOT_BARS, DB_PLOT_PAIRS, DB_PLOT_CURVES, DB_PLOT_XY, DB_PLOT_SCATTER } db_plot_kind;

/* A figure's series. BARS: one bar per label, value with [lo, hi] error bars. PAIRS: per
 * label ours (value, lo, hi) beside a reference value (ref; NaN for none), e.g. our gain
 * beside the paper's, with single observations (npts) as circles. CURVES: per series a line
 * over x, with a [lo, hi] band when lo is not NULL. XY: per series
 * points over x joined by lines, with [lo, hi] error bars. SCATTER: per series points (xs,
 * value) beside the line y = x (e.g. realised against expected drop fraction). */
typedef struct {
    db_plot_kind kind;
    const char *name, *title, *xlabel, *ylabel, *ref_label;
    int n;                      /* labels (BARS, PAIRS) or series (CURVES, XY) */
    const char *const *labels;
    int npoints;                /* CURVES, XY: points per series */
    const double *x;            /* CURVES, XY: npoints x values (shared) */
    const double *value, *lo, *hi; /* BARS, PAIRS: n; CURVES, XY: n x npoints (NaN: no point) */
    const double *ref;          /* PAIRS: n */
    const double *xs;           /* SCATTER: n x npoints x values (NaN: no point) */
    int npts;                   /* BARS: single observations drawn over the bars (e.g. each seed) */
    const double *pts_x, *pts_y;
    int bounded;                /* the values cannot leave [ymin, ymax] (accuracy 0..100, a rate >= 0): */
    double ymin, ymax;          /* the axis stays inside (ymax INFINITY: no upper bound) */
    const int *group;           /* CURVES: series s drawn in group[s]'s colour, titled once per group
                                   (e.g. one line per seed, a colour per condition); NULL: its own */
} db_plot;

/* The data file for p (dir/NAME.dat) */
db_status db_plot_data(const db_plot *p, const char *dir);
/* The script rendering p with the given terminal lines (e.g. "set terminal dumb 80 24\n") */
void db_plot_script(const db_plot *p, FILE *f, const char *terminal);
/* Data, script (PNG and SVG) and, with gnuplot non-NULL, the images; *rendered says whether
 * gnuplot made both */
db_status db_plot_write(const db_plot *p, const char *dir, const char *gnuplot, int *rendered);
/* Runs `gnuplot SCRIPT` in dir; 1 when it exited 0 */
int db_plot_run(const char *gnuplot, const char *dir, const char *script);

/* A figure's file stem from a name (a study's, from the database): letters, digits, '_', and '.'
 * or '-' after the first character; anything else '_' (no '/' out of the plots folder, no
 * leading '-' that gnuplot would read as an option) */
void db_plot_stem(const char *name, char *out, size_t n);

#endif
