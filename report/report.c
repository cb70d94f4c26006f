/* The report (report/report.h): the document's frame -- header, the verdicts, one section per
 * study, the research questions, regressions, provenance -- written as Markdown, HTML and a
 * summary. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/dirs.h"
#include "report/analyse.h"
#include "report/nightly.h"

static void header(db_doc *doc, const db_rep_input *in) {
    char when[64];
    time_t t = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    db_doc_para(doc, "Written %s by dropbench %s from %s: %d stud%s.", when, in->dropbench_version, in->db_path,
                in->nstudies, in->nstudies == 1 ? "y" : "ies");
}

/* Where the numbers come from, folded at the end */
static void provenance(db_doc *doc, const db_rep_input *in) {
    db_doc_heading(doc, 1, "Provenance");
    db_doc_fold(doc, "the source, build, machine and data of each study's newest run");
    db_doc_table(doc, "study\tkey\tvalue (its newest run)");
    static const char *const keys[] = {"git_commit", "git_dirty", "compiler", "cflags", "host", "working_folder", "cpu",
                                       "ram_gib", "blas", "cuda", "gpu", "determinism", "dataset_files", "slurm"};
    for (int si = 0; si < in->nstudies; si++)
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            const char *v;
            int len = db_rep_provenance(&in->studies[si], keys[k], &v);
            if (len >= 0) db_doc_row(doc, "%s\t%s\t%.*s", in->studies[si].name, keys[k], len, v);
        }
    db_doc_fold_end(doc);
}

/* The report's folder, replaced whole: a report stopped or failing half-way (a kill, a full disk)
 * leaves the previous one as it was. A folder from before the marker holds only these names, and
 * its REPORT.md or index.html the report's title. */
static const char *const own[] = {"REPORT.md", "index.html", "SUMMARY.md", "plots", NULL};
static const db_swap_kind kind = {"--out", ".dropbench-report", "a report written by dropbench report; replaced whole "
                                  "by the next one", own, "dropbench report: "};

db_status db_report_write(const db_rep_input *in, const char *out_dir, const db_rep_options *opt, FILE *log) {
    char path[1200], out[1100];
    DB_TRY(db_swap_begin(out_dir, &kind, out, sizeof out)); /* written into DIR.part, then swapped in */
    snprintf(path, sizeof path, "%s/plots", out);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return db_fail(DB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    db_doc *doc = db_doc_new("dropbench report: DropBlock (Ghiasi, Lin, Le, NeurIPS 2018), our runs beside the paper's");
    if (!doc) return db_fail(DB_ERR_NOMEM, "out of memory");
    int skipped = 0;
    db_rep_score_best = opt->best;
    header(doc, in);
    db_rep_verdict_box(doc, in);
    for (int si = 0; si < in->nstudies; si++) db_rep_study_section(doc, in, &in->studies[si], out, opt, log, &skipped);
    db_rep_research_questions(doc, in);
    db_report_regress_section(doc, &in->regression);
    provenance(doc, in);
    /* why figures were not drawn: the user's choice, or gnuplot's (a figure whose data could not
     * be written said so itself) */
    const char *why = opt->plots ? "gnuplot failed or is not installed" : "plots turned off by --no-plots";
    if (skipped)
        db_doc_para(doc, "%d figure%s not rendered (%s); their data and gnuplot scripts are in plots/.", skipped,
                    skipped == 1 ? "" : "s", why);
    snprintf(path, sizeof path, "%s/REPORT.md", out);
    db_status st = db_doc_write_markdown(doc, path);
    snprintf(path, sizeof path, "%s/index.html", out);
    if (st == DB_OK) st = db_doc_write_html(doc, path);
    snprintf(path, sizeof path, "%s/SUMMARY.md", out);
    if (st == DB_OK && opt->summary) st = db_doc_write_summary(doc, path);
    db_doc_free(doc);
    if (st == DB_OK) st = db_swap_commit(out_dir, &kind, out);
    else db_remove_tree(out); /* the previous report stays */
    if (st == DB_OK && skipped)
        fprintf(log, "report: %d figure(s) not rendered (%s); their data and gnuplot scripts are in %s/plots\n", skipped,
                why, out_dir);
    return st;
}
