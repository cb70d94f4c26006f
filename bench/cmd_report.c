/* dropbench report: the results database turned into REPORT.md and index.html (the harness
 * collects the input, study/report_input.h; report/ writes it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "build/gen/version.h"
#include "study/report_input.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench report [--db PATH] [--out DIR] [--study NAME] [--score final|best] [--no-plots]\n"
               "                       [--format full|gfm]\n"
               "Writes DIR/REPORT.md and DIR/index.html (default report/out): every study in the database\n"
               "(or one) with its matrix, results (mean, sd, CI, paired deltas with sign-flip p, Holm),\n"
               "the paper's numbers beside ours and a verdict per research question; figures through\n"
               "gnuplot in DIR/plots (not drawn, and said why, where gnuplot is missing or with --no-plots:\n"
               "their data and scripts are still written). Runs are scored by their task's metric (top-1,\n"
               "detection AP, segmentation mIOU) after the last epoch, or with --score best by its best over\n"
               "the epochs (the paper's way).\n"
               "--format gfm also writes DIR/SUMMARY.md: GitHub-flavoured Markdown for a CI job summary or a pull\n"
               "request comment (the verdicts shown, the rest folded, figures named but not linked).\n");
}

int db_cmd_report(int argc, char **argv) {
    const char *db_path = db_store_default_path(), *out = "report/out", *only = NULL;
    int plots = 1, best = 0, summary = 0;
    static const char *const scores[] = {"final", "best", NULL}, *const formats[] = {"full", "gfm", NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return DB_EXIT_OK; }
        if (!strcmp(a, "--no-plots")) { plots = 0; continue; }
        const int valued = !strcmp(a, "--db") || !strcmp(a, "--out") || !strcmp(a, "--study") || !strcmp(a, "--score") ||
                           !strcmp(a, "--format");
        if (!valued) { fprintf(stderr, "dropbench report: unexpected argument '%s'\n", a); usage(stderr); return DB_EXIT_USAGE; }
        if (!v) { fprintf(stderr, "dropbench report: %s needs a value\n", a); return DB_EXIT_USAGE; }
        i++;
        if (!strcmp(a, "--db")) db_path = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--study")) only = v;
        else if (!strcmp(a, "--score") && (best = db_cli_choice("report", a, v, scores)) < 0) return DB_EXIT_USAGE;
        else if (!strcmp(a, "--format") && (summary = db_cli_choice("report", a, v, formats)) < 0) return DB_EXIT_USAGE;
    }
    char version[96];
    snprintf(version, sizeof version, "%s%s", DB_GIT_COMMIT, !strcmp(DB_GIT_DIRTY, "yes") ? " (modified)" : "");
    db_rep_input in = {0};
    in.dropbench_version = version;
    in.program = db_cli_program(NULL); /* the Reproduce lines may run from any folder */
    db_status st = db_report_collect(db_path, only, &in);
    if (st == DB_OK) {
        db_rep_options opt = {plots, "gnuplot", best, summary};
        st = db_report_write(&in, out, &opt, stderr);
    }
    db_report_input_free(&in);
    if (st != DB_OK) return db_cli_error(st);
    printf("report: %s/index.html and %s/REPORT.md%s%s%s\n", out, out, summary ? " (summary: " : "", summary ? out : "",
           summary ? "/SUMMARY.md)" : "");
    return DB_EXIT_OK;
}
