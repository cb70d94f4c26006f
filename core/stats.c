#include "core/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double db_mean(const double *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return n > 0 ? s / n : NAN;
}

double db_sd(const double *x, int n, int ddof) {
    if (n - ddof <= 0) return NAN;
    double m = db_mean(x, n), s = 0;
    for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (n - ddof));
}

/* The continued fraction of the regularized incomplete beta function I_x(a, b), evaluated by the
 * modified Lentz method; converges fast for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double f = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));  /* the even step */
        d = 1 + num * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + num / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        f *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)); /* the odd step */
        d = 1 + num * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + num / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double delta = d * c;
        f *= delta;
        if (fabs(delta - 1) < 1e-15) break;
    }
    return f;
}

static double inc_beta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * beta_cf(a, b, x) / a;
    return 1 - front * beta_cf(b, a, 1 - x) / b; /* the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) */
}

double db_t_cdf(double t, double df) {
    if (!(df > 0) || isnan(t)) return NAN;
    if (isinf(t)) return t > 0 ? 1 : 0;
    double tail = 0.5 * inc_beta(df / 2, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t > 0 ? 1 - tail : tail;
}

double db_t_quantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0)) return NAN;
    double lo = -1, hi = 1;
    while (db_t_cdf(lo, df) > p) lo *= 2;
    while (db_t_cdf(hi, df) < p) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-13 * (1 + fabs(lo)); i++) { /* the cdf is increasing */
        double mid = 0.5 * (lo + hi);
        if (db_t_cdf(mid, df) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int db_olympic(const double *x, int n, double *out) {
    if (n < 3) return 0;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return 0;
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    memcpy(out, s + 1, (size_t)(n - 2) * sizeof *s);
    free(s);
    return n - 2;
}

int db_rcp_bound(const double *ref, int n_ref, int n_sub, double alpha, int trimmed_sd, db_rcp *out) {
    if (n_ref < 4 || n_sub < 3 || !(alpha > 0 && alpha < 1)) return 0;
    double *t = malloc((size_t)n_ref * sizeof *t);
    if (!t) return 0;
    int k = db_olympic(ref, n_ref, t);
    out->n_ref = k;
    out->n_sub = n_sub - 2;
    out->ref_mean = db_mean(t, k);
    out->ref_sd = trimmed_sd ? db_sd(t, k, 0) : db_sd(ref, n_ref, 0);
    free(t);
    double df = out->n_ref + out->n_sub - 2;
    /* with equal sds the t statistic of (m - mean) is linear in m: the bound is where the
     * one-sided p-value equals alpha */
    out->margin = df > 0 ? db_t_quantile(1 - alpha, df) * out->ref_sd * sqrt(1.0 / out->n_ref + 1.0 / out->n_sub) : INFINITY;
    if (out->ref_sd == 0) out->margin = 0;
    out->min_mean = out->ref_mean - out->margin;
    return 1;
}

double db_median(const double *x, int n) {
    if (n < 1) return NAN;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

void db_t_interval(const double *x, int n, double level, double *lo, double *hi) {
    if (n < 2) { *lo = *hi = NAN; return; }
    double m = db_mean(x, n), h = db_t_quantile(0.5 + level / 2, n - 1) * db_sd(x, n, 1) / sqrt((double)n);
    *lo = m - h;
    *hi = m + h;
}

void db_welch(const double *x, int nx, const double *y, int ny, double *t, double *df, double *p) {
    *t = *df = *p = NAN;
    if (nx < 2 || ny < 2) return;
    double vx = db_sd(x, nx, 1), vy = db_sd(y, ny, 1);
    vx = vx * vx / nx;
    vy = vy * vy / ny;
    if (vx + vy <= 0) return;
    *t = (db_mean(x, nx) - db_mean(y, ny)) / sqrt(vx + vy);
    *df = (vx + vy) * (vx + vy) / (vx * vx / (nx - 1) + vy * vy / (ny - 1));
    *p = 2 * db_t_cdf(-fabs(*t), *df);
}

double db_signflip_p(const double *d, int n, int two_sided) {
    if (n < 1 || n > 24) return NAN;
    double obs = 0, scale = 0;
    for (int i = 0; i < n; i++) { obs += d[i]; scale += fabs(d[i]); }
    const double tol = 1e-12 * (scale > 0 ? scale : 1); /* sums equal up to rounding count as ties */
    long hits = 0, total = 1L << n;
    for (long mask = 0; mask < total; mask++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += mask >> i & 1 ? -d[i] : d[i];
        hits += two_sided ? fabs(s) >= fabs(obs) - tol : s >= obs - tol;
    }
    return (double)hits / (double)total;
}

double db_signflip_min_p(int n, int two_sided) {
    return n < 1 ? 1.0 : (two_sided ? 2.0 : 1.0) / ldexp(1.0, n);
}

void db_holm(const double *p, int m, double *adj) {
    int *order = malloc((size_t)(m > 0 ? m : 1) * sizeof *order);
    double *v = malloc((size_t)(m > 0 ? m : 1) * sizeof *v);
    if (!order || !v) {
        for (int i = 0; i < m; i++) adj[i] = NAN;
        free(order); free(v);
        return;
    }
    int k = 0;
    for (int i = 0; i < m; i++) {
        v[i] = p[i];
        if (!isnan(p[i])) order[k++] = i;
    }
    for (int i = 1; i < k; i++) /* insertion sort by p: m is small */
        for (int j = i; j > 0 && v[order[j]] < v[order[j - 1]]; j--) { int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t; }
    double run = 0;
    for (int i = 0; i < m; i++) adj[i] = NAN;
    for (int r = 0; r < k; r++) {
        double a = (k - r) * v[order[r]];
        if (a > 1) a = 1;
        if (a > run) run = a;
        adj[order[r]] = run;
    }
    free(order);
    free(v);
}
