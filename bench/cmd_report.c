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
               "their data and scripts are still written). Runs are scored by their final test top-1, or with\n"
               "--score best by the best over the epochs (the paper's way).\n"
               "--format gfm also writes DIR/SUMMARY.md: GitHub-flavoured Markdown for a CI job summary or a pull\n"
               "request comment (the verdicts shown, the rest folded, figures named but not linked).\n");
}

int db_cmd_report(int argc, char **argv) {
    const char *db_path = db_store_default_path(), *out = "report/out", *only = NULL;
    int plots = 1, best = 0, summary = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return DB_EXIT_OK; }
        if (!strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--study") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--no-plots")) plots = 0;
        else if (!strcmp(argv[i], "--format") && i + 1 < argc && (!strcmp(argv[i + 1], "full") || !strcmp(argv[i + 1], "gfm")))
            summary = !strcmp(argv[++i], "gfm");
        else if (!strcmp(argv[i], "--score") && i + 1 < argc && (!strcmp(argv[i + 1], "final") || !strcmp(argv[i + 1], "best")))
            best = !strcmp(argv[++i], "best");
        else { fprintf(stderr, "dropbench report: unexpected argument '%s'\n", argv[i]); usage(stderr); return DB_EXIT_USAGE; }
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
