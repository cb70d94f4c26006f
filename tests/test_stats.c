/* core/stats.c against known answers: t quantiles from the tables (harness.md), sums that can be
 * done by hand, and MLPerf's documented worked example of the reference-convergence check. */
#include <math.h>

#include "core/stats.h"
#include "tests/check.h"

static void test_stats_summaries(void) {
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    CHECK_CLOSE(db_mean(x, 8), 5.0, 1e-15, 0);
    CHECK_CLOSE(db_sd(x, 8, 0), 2.0, 1e-15, 0);              /* the textbook population sd */
    CHECK_CLOSE(db_sd(x, 8, 1), sqrt(32.0 / 7), 1e-14, 0);
    CHECK(isnan(db_sd(x, 1, 1)), "the sample sd of one value must be NaN");
    double o[8];
    const double y[] = {3, 1, 2, 10, -4};
    CHECK(db_olympic(y, 5, o) == 3 && o[0] == 1 && o[1] == 2 && o[2] == 3, "olympic kept %g %g %g", o[0], o[1], o[2]);
    CHECK(db_olympic(y, 2, o) == 0, "two values cannot be trimmed");
}

static void test_stats_t_distribution(void) {
    /* t(0.975, df) for df = 1, 2, 3, 4, 5, 9, 10, 29 and t(0.95, 9), three decimals as tabulated */
    const double df[] = {1, 2, 3, 4, 5, 9, 10, 29};
    const double want[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.262, 2.228, 2.045};
    for (int i = 0; i < 8; i++) CHECK_CLOSE(db_t_quantile(0.975, df[i]), want[i], 5e-4, 0);
    CHECK_CLOSE(db_t_quantile(0.95, 9), 1.833, 5e-4, 0);
    /* exact closed forms: df 1 is Cauchy, df 2 has cdf 1/2 + t / (2 sqrt(2 + t^2)) */
    CHECK_CLOSE(db_t_cdf(1.0, 1), 0.75, 1e-13, 0);
    CHECK_CLOSE(db_t_cdf(-3.0, 2), 0.5 - 3 / (2 * sqrt(11.0)), 1e-13, 0);
    CHECK_CLOSE(db_t_cdf(0.0, 7), 0.5, 1e-15, 0);
    CHECK_CLOSE(db_t_quantile(0.025, 10), -2.228, 5e-4, 0);
    CHECK_CLOSE(db_t_cdf(db_t_quantile(0.9, 3.5), 3.5), 0.9, 1e-12, 0);
    CHECK(db_t_cdf(1e6, 4) > 0.999999 && db_t_cdf(-1e6, 4) < 1e-6, "far tails");
    CHECK(isnan(db_t_quantile(1.0, 3)) && isnan(db_t_cdf(1, 0)), "out-of-range arguments must give NaN");
}

static void test_stats_rcp_worked_example(void) {
    /* harness.md: reference epochs-to-converge [16,14,16,17,16,16,15,16,15,16], 5 submitted runs
     * -> olympic mean 15.75, trimmed sd (ddof 0) 0.433, minimum acceptable mean 15.21; MLPerf's
     * code (full-list sd 0.781) gives 14.78; the submission [15,15,15,16,16] passes. */
    const double ref[] = {16, 14, 16, 17, 16, 16, 15, 16, 15, 16};
    db_rcp r;
    CHECK(db_rcp_bound(ref, 10, 5, 0.05, 1, &r) == 1, "the bound must exist");
    CHECK_CLOSE(r.ref_mean, 15.75, 1e-12, 0);
    CHECK_CLOSE(r.ref_sd, 0.433, 5e-4, 0);
    CHECK(r.n_ref == 8 && r.n_sub == 3, "trimmed counts %d %d", r.n_ref, r.n_sub);
    CHECK_CLOSE(r.min_mean, 15.21, 5e-3, 0);
    const double sub[] = {15, 15, 15, 16, 16};
    double t[5];
    int k = db_olympic(sub, 5, t);
    CHECK(k == 3 && fabs(db_mean(t, k) - 46.0 / 3) < 1e-12, "submission olympic mean %g", db_mean(t, k));
    CHECK(db_mean(t, k) >= r.min_mean, "the submission (15.33) must pass");
    const double fast[] = {14, 14, 15, 15, 15};
    k = db_olympic(fast, 5, t);
    CHECK(db_mean(t, k) < r.min_mean, "a submission of olympic mean %g must fail", db_mean(t, k));
    CHECK(db_rcp_bound(ref, 10, 5, 0.05, 0, &r) == 1, "the bound with the full-list sd");
    CHECK_CLOSE(r.ref_sd, 0.781, 5e-4, 0);
    CHECK_CLOSE(r.min_mean, 14.78, 5e-3, 0);
    /* too few runs: no bound; identical runs: the bound is the mean itself */
    CHECK(db_rcp_bound(ref, 3, 5, 0.05, 1, &r) == 0 && db_rcp_bound(ref, 10, 2, 0.05, 1, &r) == 0, "too few runs");
    const double same[] = {0.9, 0.9, 0.9, 0.9};
    CHECK(db_rcp_bound(same, 4, 3, 0.05, 1, &r) == 1 && r.min_mean == 0.9 && r.margin == 0, "sd 0: margin %g", r.margin);
}

static void test_stats_tests(void) {
    /* known answers from scipy 1.x (ttest_ind equal_var=False; t.ppf) and by enumeration */
    const double x[] = {0.912, 0.905, 0.921, 0.899, 0.915}, y[] = {0.925, 0.931, 0.918, 0.940, 0.927, 0.933};
    double t, df, p;
    db_welch(x, 5, y, 6, &t, &df, &p);
    CHECK_CLOSE(t, -3.7841163333, 1e-8, 0);
    CHECK_CLOSE(df, 8.0916929594, 1e-8, 0);
    CHECK_CLOSE(p, 0.0052457381, 1e-9, 0);
    double same[] = {1, 1, 1};
    db_welch(same, 3, same, 3, &t, &df, &p);
    CHECK(isnan(p), "no spread: p must be NaN, is %g", p);
    double lo, hi;
    db_t_interval(x, 5, 0.95, &lo, &hi);
    CHECK_CLOSE(lo, 0.8997332462, 1e-9, 0);
    CHECK_CLOSE(hi, 0.9210667538, 1e-9, 0);
    const double m6[] = {3, 1, 4, 1, 5, 9}, m5[] = {3, 1, 4, 1, 5};
    CHECK(db_median(m6, 6) == 3.5 && db_median(m5, 5) == 3, "medians %g %g", db_median(m6, 6), db_median(m5, 5));
    /* sign flips of [0.3 0.5 -0.1 0.4 0.6 0.2]: 4 of 64 patterns as extreme (two-sided), 2 one-sided */
    const double d[] = {0.3, 0.5, -0.1, 0.4, 0.6, 0.2};
    CHECK_CLOSE(db_signflip_p(d, 6, 1), 4.0 / 64, 1e-15, 0);
    CHECK_CLOSE(db_signflip_p(d, 6, 0), 2.0 / 64, 1e-15, 0);
    const double all_up[] = {0.1, 0.2, 0.3, 0.4, 0.5};
    CHECK_CLOSE(db_signflip_p(all_up, 5, 1), db_signflip_min_p(5, 1), 1e-15, 0);
    /* harness.md: two-sided needs n >= 6, one-sided n >= 5 to get below 0.05 */
    CHECK(db_signflip_min_p(5, 1) > 0.05 && db_signflip_min_p(6, 1) < 0.05 && db_signflip_min_p(4, 0) > 0.05 &&
          db_signflip_min_p(5, 0) < 0.05, "power thresholds");
    CHECK(isnan(db_signflip_p(d, 0, 1)) && isnan(db_signflip_p(d, 25, 1)), "out of range n");
    /* Holm on [0.01 0.04 0.03 0.005] -> [0.03 0.06 0.06 0.02]; NaN entries left out */
    const double ps[] = {0.01, 0.04, 0.03, 0.005, NAN};
    double adj[5];
    db_holm(ps, 5, adj);
    CHECK_CLOSE(adj[0], 0.03, 1e-15, 0);
    CHECK_CLOSE(adj[1], 0.06, 1e-15, 0);
    CHECK_CLOSE(adj[2], 0.06, 1e-15, 0);
    CHECK_CLOSE(adj[3], 0.02, 1e-15, 0);
    CHECK(isnan(adj[4]), "NaN stays NaN");
}

const db_test db_tests_stats[] = {
    {"stats_summaries", test_stats_summaries},
    {"stats_t_distribution", test_stats_t_distribution},
    {"stats_rcp_worked_example", test_stats_rcp_worked_example},
    {"stats_tests", test_stats_tests},
    {NULL, NULL},
};
