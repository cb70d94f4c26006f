/* Small-sample statistics for comparing runs: the summaries, Student's t distribution and the
 * MLPerf-style reference-convergence check (RCP). Pure functions on arrays of doubles; the
 * report (report/) and the nightly regression check (results/regress.c) build on them. */
#ifndef DB_CORE_STATS_H
#define DB_CORE_STATS_H

double db_mean(const double *x, int n);
/* Standard deviation with ddof degrees of freedom removed (1: the sample sd, 0: the population's) */
double db_sd(const double *x, int n, int ddof);
/* Student's t distribution with df degrees of freedom (df > 0, not necessarily whole) */
double db_t_cdf(double t, double df);
double db_t_quantile(double p, double df); /* p in (0, 1): the t with cdf p, e.g. t(0.975, 9) = 2.262 */
double db_median(const double *x, int n);
/* The t-interval for the mean at confidence level (e.g. 0.95): mean -+ t(1/2 + level/2, n-1) sd/sqrt(n)
 * (sample sd); NaN ends for n < 2 */
void db_t_interval(const double *x, int n, double level, double *lo, double *hi);
/* Welch's unequal-variance t test of mean(x) - mean(y): the statistic, its Welch-Satterthwaite
 * degrees of freedom and the two-sided p-value (NaN when either group has fewer than 2 values
 * or both have no spread) */
void db_welch(const double *x, int nx, const double *y, int ny, double *t, double *df, double *p);
/* The exact sign-flip (paired permutation) test of n paired differences against 0: the share of
 * the 2^n sign patterns whose sum is at least as extreme as the observed one (two-sided: in
 * absolute value). n <= 24; NaN above or for n = 0. */
double db_signflip_p(const double *d, int n, int two_sided);
/* The smallest p-value that test can give with n pairs (1/2^n one-sided, 2/2^n two-sided): with
 * fewer seeds than it takes to get below alpha the verdict is "underpowered" */
double db_signflip_min_p(int n, int two_sided);
/* Holm's step-down adjustment of m p-values (adj may alias p); NaN entries stay NaN and do not count */
void db_holm(const double *p, int m, double *adj);
/* Olympic scoring: sorts a copy of x and drops its smallest and largest value (n >= 3) into out;
 * returns the count kept (n - 2), or 0 when n < 3. */
int db_olympic(const double *x, int n, double *out);

/* The reference-convergence check of MLPerf's RCP checker: the smallest olympic mean of n_sub
 * submitted runs that a one-sided equal-variance t-test at level alpha cannot tell below the
 * reference runs' olympic mean. MLPerf applies it to epochs-to-converge (a submission may not
 * converge statistically faster than the reference); the regression check applies it to
 * accuracy (a new build may not be statistically less accurate). The reference's sd is that of
 * its trimmed list (ddof 0) when trimmed_sd, else of the full list (what MLPerf's checker code
 * does). */
typedef struct {
    double ref_mean;   /* olympic mean of the reference */
    double ref_sd;     /* the sd used */
    double margin;     /* t(1 - alpha, df) * sd * sqrt(1/n_ref' + 1/n_sub') */
    double min_mean;   /* ref_mean - margin: a submission's olympic mean must reach this */
    int n_ref, n_sub;  /* counts after trimming */
} db_rcp;
/* Needs n_ref >= 4 and n_sub >= 3 (two values left after trimming the reference, one of the
 * submission); returns 0 when there are too few, 1 when *out is filled. */
int db_rcp_bound(const double *ref, int n_ref, int n_sub, double alpha, int trimmed_sd, db_rcp *out);

#endif
