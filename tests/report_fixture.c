/* The report tests' fixtures: studies made in memory, written as a report, its REPORT.md read back. */
#include "tests/report_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"

char *db_test_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

char *report_md_paper(const db_rep_study *st, int n, const db_paper_value *paper, int npaper) {
    db_rep_input in = {.db_path = "memory", .nstudies = n, .studies = (db_rep_study *)st, .dropbench_version = "test",
                       .paper = paper, .npaper = npaper, .program = "/opt/test/dropbench"};
    db_rep_options opt = {0};
    char dir[] = "/tmp/dropbench-report-XXXXXX", md[128], cmd[200];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    FILE *log = fopen("/dev/null", "w");
    CHECK_OK(db_report_write(&in, dir, &opt, log));
    fclose(log);
    snprintf(md, sizeof md, "%s/REPORT.md", dir);
    char *m = db_test_slurp(md);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "rm");
    return m;
}
char *report_md(const db_rep_study *st, int n) { return report_md_paper(st, n, NULL, 0); }

/* A done run of cell c (id, its epochs, its score as final and best), as the store gives it */
void done_run(db_run_row *r, const db_rep_cell *c, int id, int epochs, double score) {
    r->id = id;
    snprintf(r->fingerprint, sizeof r->fingerprint, "%s", c->fingerprint);
    snprintf(r->status, sizeof r->status, "done");
    snprintf(r->regularizer, sizeof r->regularizer, "%s", c->regularizer);
    snprintf(r->device, sizeof r->device, "cpu");
    r->seed = c->seed, r->epochs = r->epochs_done = epochs;
    r->wall_s = r->images_per_s = r->drop_fraction = r->expected_fraction = r->final_top5 = NAN;
    r->final_score = r->best_score = score;
}

/* A one-seed cell "seed=1,row=COND" of fingerprint FP, regularizer REG, on Fashion-MNIST */
void fixture_cell(db_rep_cell *c, const char *cond, const char *fp, const char *reg) {
    snprintf(c->label, sizeof c->label, "seed=1,row=%s", cond);
    snprintf(c->condition, sizeof c->condition, "row=%s", cond);
    snprintf(c->fingerprint, sizeof c->fingerprint, "%s", fp);
    snprintf(c->regularizer, sizeof c->regularizer, "%s", reg);
    snprintf(c->dataset, sizeof c->dataset, "fashion-mnist");
    c->seed = 1, c->epochs = 30, c->train_limit = 1000;
}
