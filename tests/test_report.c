/* The report's writers: the Markdown and HTML renderings of one document (escaping, tables,
 * lists), and the gnuplot figures rendered as text by gnuplot's dumb terminal against golden
 * files (tests/fixtures/golden/; regenerate with DB_GOLDEN_UPDATE=1 build/tests/unit plot). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dirs.h"
#include "report/doc.h"
#include "report/analyse.h"
#include "report/plots.h"
#include "report/report.h"
#include "tests/check.h"
#include "tests/report_fixture.h"

static void test_report_doc_writers(void) {
    char dir[] = "/tmp/dropbench-doc-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    db_doc *d = db_doc_new("A <title> & more");
    db_doc_heading(d, 1, "Section %d", 1);
    db_doc_para(d, "x < y and a|b");
    db_doc_item(d, "first");
    db_doc_item(d, "second");
    db_doc_item(d, "from a name: <!-- open\nand a line");
    db_doc_table(d, "name\tvalue");
    db_doc_row(d, "a|b\t%d", 3);
    db_doc_row(d, "<c>\t4");
    db_doc_code(d, "./dropbench study x.txt");
    char md[128], html[128];
    snprintf(md, sizeof md, "%s/r.md", dir);
    snprintf(html, sizeof html, "%s/r.html", dir);
    CHECK_OK(db_doc_write_markdown(d, md));
    CHECK_OK(db_doc_write_html(d, html));
    db_doc_free(d);
    char *m = db_test_slurp(md), *h = db_test_slurp(html);
    CHECK(m && strstr(m, "# A <title> & more\n") && strstr(m, "\n## Section 1\n") && strstr(m, "\n- first\n- second\n") &&
          strstr(m, "- from a name: &lt;!-- open and a line\n") && strstr(m, "x < y and a|b") &&
          strstr(m, "| name | value |\n| --- | --- |\n| a\\|b | 3 |\n| &lt;c> | 4 |\n") && strstr(m, "```\n./dropbench study x.txt\n```"),
          "markdown:\n%s", m ? m : "(none)");
    CHECK(h && strstr(h, "<title>A &lt;title&gt; &amp; more</title>") && strstr(h, "<p>x &lt; y and a|b</p>") &&
          strstr(h, "<ul>\n<li>first</li>\n<li>second</li>\n<li>from a name: &lt;!-- open") &&
          strstr(h, "<table>\n<tr><th>name</th><th>value</th></tr>\n<tr><td>a|b</td><td>3</td></tr>\n"
                    "<tr><td>&lt;c&gt;</td><td>4</td></tr>\n</table>"),
          "html:\n%s", h ? h : "(none)");
    free(m);
    free(h);
    unlink(md);
    unlink(html);
    rmdir(dir);
}

/* renders p with the dumb terminal and compares with the golden file */
static void golden(const db_plot *p, const char *golden_path) {
    char dir[] = "/tmp/dropbench-plot-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    CHECK_OK(db_plot_data(p, dir));
    char script[160], out[160];
    snprintf(script, sizeof script, "%s/t.gp", dir);
    snprintf(out, sizeof out, "%s/t.txt", dir);
    FILE *f = fopen(script, "w");
    CHECK(f != NULL, "script");
    if (!f) return;
    db_plot_script(p, f, "set terminal dumb noenhanced size 79,24\nset output 't.txt'\n");
    fclose(f);
    CHECK(db_plot_run("gnuplot", dir, "t.gp"), "gnuplot did not run (scripts/deps installs gnuplot-nox)");
    char *got = db_test_slurp(out);
    if (getenv("DB_GOLDEN_UPDATE") && got) {
        FILE *g = fopen(golden_path, "w");
        if (g) { fputs(got, g); fclose(g); }
    }
    char *want = db_test_slurp(golden_path);
    CHECK(got && want && !strcmp(got, want), "%s differs from the rendering:\n%s", golden_path, got ? got : "(none)");
    free(got);
    free(want);
    char path[200];
    snprintf(path, sizeof path, "%s/%s.dat", dir, p->name);
    unlink(path);
    unlink(script);
    unlink(out);
    rmdir(dir);
}

static void test_report_plot_golden(void) {
    const char *labels[] = {"none", "dropout", "dropblock"};
    const double v[] = {91.2, 91.5, 92.1}, lo[] = {90.8, 91.0, 91.6}, hi[] = {91.6, 92.0, 92.6}, ref[] = {0, 0.29, 1.62};
    db_plot bars = {DB_PLOT_BARS, "bars", "top-1 per condition", "", "top-1 (%)", NULL, 3, labels, 0, NULL, v, lo, hi, NULL, NULL, 0, NULL, NULL, 0, 0, 0, NULL};
    golden(&bars, "tests/fixtures/golden/plot-bars.txt");
    const double g[] = {0.3, 0.9}, glo[] = {-0.1, 0.4}, ghi[] = {0.7, 1.4};
    db_plot pairs = {DB_PLOT_PAIRS, "pairs", "gains", "", "points", "paper", 2, labels + 1, 0, NULL, g, glo, ghi, ref + 1, NULL, 0, NULL, NULL, 0, 0, 0, NULL};
    golden(&pairs, "tests/fixtures/golden/plot-pairs.txt");
    const char *series[] = {"none", "dropblock"};
    const double x[] = {1, 2, 3};
    const double m[] = {80, 86, 89, 79, 86, NAN}, mlo[] = {79, 85, 88, 78, 85, NAN}, mhi[] = {81, 87, 90, 80, 87, NAN};
    db_plot curves = {DB_PLOT_CURVES, "curves", "curves", "epoch", "top-1 (%)", NULL, 2, series, 3, x, m, mlo, mhi, NULL, NULL, 0, NULL, NULL, 0, 0, 0, NULL};
    golden(&curves, "tests/fixtures/golden/plot-curves.txt");
    const char *sweeps[] = {"dropout, fixed", "dropblock, linear"};
    const double kp[] = {0.7, 0.8, 0.9};
    const double sm[] = {88, 89, 89.5, 88.5, 90, 90.5}, slo[] = {87, 88, 89, 88, 89, 90}, shi[] = {89, 90, 90, 89, 91, 91};
    db_plot xy = {DB_PLOT_XY, "sweep", "keep_prob sweep", "keep_prob", "top-1 (%)", NULL, 2, sweeps, 3, kp, sm, slo, shi,
                  NULL, NULL, 0, NULL, NULL, 0, 0, 0, NULL};
    golden(&xy, "tests/fixtures/golden/plot-sweep.txt");
    const double ex[] = {0.05, 0.075, 0.1, 0.02, 0.04, NAN}, re[] = {0.051, 0.074, 0.1, 0.021, 0.04, NAN};
    db_plot sc = {DB_PLOT_SCATTER, "scatter", "drop fractions", "expected", "realised", NULL, 2, sweeps, 3, NULL, re, NULL,
                  NULL, NULL, ex, 0, NULL, NULL, 0, 0, 0, NULL};
    golden(&sc, "tests/fixtures/golden/plot-scatter.txt");
    const double dots_x[] = {0, 0, 1, 2}, dots_y[] = {91.0, 91.4, 91.5, 92.3};
    db_plot dots = {DB_PLOT_BARS, "dots", "top-1 with seeds", "", "top-1 (%)", NULL, 3, labels, 0, NULL, v, lo, hi, NULL,
                    NULL, 4, dots_x, dots_y, 0, 0, 0, NULL};
    golden(&dots, "tests/fixtures/golden/plot-seeds.txt");
    /* bounded axes: accuracies whose intervals reach past 100 (two seeds' t-interval) stay in
     * [0, 100]; a rate stays at or above 0 */
    const double bv[] = {95, 60}, blo[] = {80, -20}, bhi[] = {110, 140};
    db_plot acc = {DB_PLOT_BARS, "acc", "bounded", "", "top-1 (%)", NULL, 2, labels, 0, NULL, bv, blo, bhi, NULL, NULL, 0,
                   NULL, NULL, 1, 0, 100, NULL};
    db_plot rate = acc;
    rate.ymax = INFINITY;
    for (int k = 0; k < 2; k++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        db_plot_script(k ? &rate : &acc, f, "set terminal dumb\n");
        fclose(f);
        const char *y = text ? strstr(text, "set yrange [") : NULL;
        double a = NAN, b = NAN;
        CHECK(y && sscanf(y, "set yrange [%lf:%lf]", &a, &b) == 2, "no y range: %s", text ? text : "");
        CHECK(a == 0 && (k ? b > 140 : b == 100), "%s axis [%g, %g]", k ? "rate" : "accuracy", a, b);
        free(text);
    }
}

/* The REPORT.md the report writes for these studies and the paper's values (malloc'd; NULL on
 * failure), its folder removed */
/* The verdict box at 1, 2, 3 and 9 paired seeds of a DropBlock that beats the baseline by about a
 * point every time: ranges below 3 seeds, a t-interval from 3; undecided (the exact test cannot
 * reach p < 0.05) until enough seeds, then decided with its p */
static void test_report_verdicts_by_seeds(void) {
    static const int seeds[4] = {1, 2, 3, 9};
    static db_rep_study st[4];
    static db_rep_cell cells[4][18];
    static db_run_row runs[4][18];
    memset(st, 0, sizeof st);
    memset(cells, 0, sizeof cells);
    memset(runs, 0, sizeof runs);
    for (int k = 0; k < 4; k++) {
        db_rep_study *s = &st[k];
        snprintf(s->name, sizeof s->name, "n%d", seeds[k]);
        s->cells = cells[k];
        s->runs = runs[k];
        for (int seed = 1; seed <= seeds[k]; seed++)
            for (int dbk = 0; dbk < 2; dbk++) {
                db_rep_cell *c = &cells[k][s->ncells];
                db_run_row *r = &runs[k][s->nruns];
                snprintf(c->label, sizeof c->label, "seed=%d,regularizer=%s", seed, dbk ? "dropblock" : "none");
                snprintf(c->condition, sizeof c->condition, "regularizer=%s", dbk ? "dropblock" : "none");
                snprintf(c->fingerprint, sizeof c->fingerprint, "f%d-%d", seed, dbk);
                snprintf(c->paper_row, sizeof c->paper_row, "%s", dbk ? "DropBlock" : "none");
                snprintf(c->regularizer, sizeof c->regularizer, "%s", dbk ? "dropblock" : "none");
                snprintf(c->dataset, sizeof c->dataset, "fashion-mnist");
                c->seed = (uint64_t)seed;
                c->is_baseline = !dbk;
                c->epochs = 30;
                c->train_limit = 1000;
                done_run(r, c, s->nruns + 1, 30, 0.80 + 0.001 * seed + (dbk ? 0.01 + 0.0005 * (seed % 3) : 0));
                s->ncells++;
                s->nruns++;
            }
    }
    static const db_paper_value paper[2] = {{"Table1", "ResNet-50", "none", "", "top1", "confirmed-value", 76.51, 0.07},
                                            {"Table1", "ResNet-50", "DropBlock", "", "top1", "confirmed-value", 78.13, 0.05}};
    char *m = report_md_paper(st, 4, paper, 2);
    static const char *const want[] = {
        "- DropBlock − regularizer=none: +1.05 points, range +1.05 to +1.05, 1 paired seed: inconclusive",
        "- DropBlock − regularizer=none: +1.08 points, range +1.05 to +1.10, 2 paired seeds: inconclusive",
        "- DropBlock − regularizer=none: +1.05 points, 95% CI +0.93 to +1.17, 3 paired seeds: inconclusive",
        "9 paired seeds: DropBlock better (p 0.004)",
        /* beside the paper: our gain with its interval in brackets (none for one pair) */
        "| +1.05 | -0.57 | underpowered |", "| +1.08 (range 1.05 to 1.10) |", "| +1.05 (0.93 to 1.17) |"};
    for (int i = 0; i < 7; i++) CHECK(m && strstr(m, want[i]), "REPORT.md lacks '%s':\n%.3000s", want[i], m ? m : "(none)");
    free(m);
}

/* Table 1's "DropBlock + label smoothing" is a row DropBlock is compared with, not DropBlock
 * itself; Table 4's DropBlock is the FCN-head condition nearest block 16, whatever its result */
static void test_report_verdict_rows(void) {
    static db_rep_study st[2];
    static db_rep_cell cells[2][3];
    static db_run_row runs[2][3];
    memset(st, 0, sizeof st), memset(cells, 0, sizeof cells), memset(runs, 0, sizeof runs);
    static const char *const cond[2][3] = {{"none", "dropblock", "dropblock_ls"}, {"none", "head_k3", "head_k9"}};
    static const char *const row[2][3] = {{"none", "DropBlock", "DropBlock + label smoothing"},
                                          {"none", "DropBlock (in FCN head)", "DropBlock (in FCN head)"}};
    const double score[2][3] = {{0.80, 0.81, 0.83}, {0.40, 0.45, 0.41}};
    const int bs[3] = {0, 3, 9};
    for (int k = 0; k < 2; k++) {
        db_rep_study *x = &st[k];
        snprintf(x->name, sizeof x->name, "t%d", k);
        x->cells = cells[k], x->runs = runs[k];
        for (int i = 0; i < 3; i++) {
            db_rep_cell *c = &cells[k][i];
            db_run_row *r = &runs[k][i];
            snprintf(c->label, sizeof c->label, "seed=1,row=%s", cond[k][i]);
            snprintf(c->condition, sizeof c->condition, "row=%s", cond[k][i]);
            snprintf(c->fingerprint, sizeof c->fingerprint, "g%d-%d", k, i);
            if (k) c->dense_table = 4, snprintf(c->dense_row, sizeof c->dense_row, "%s", row[k][i]);
            else snprintf(c->paper_row, sizeof c->paper_row, "%s", row[k][i]);
            snprintf(c->regularizer, sizeof c->regularizer, "%s", i ? "dropblock" : "none");
            snprintf(c->dataset, sizeof c->dataset, "fashion-mnist");
            c->seed = 1, c->is_baseline = !i, c->epochs = 30, c->train_limit = 1000, c->block_size = bs[i];
            done_run(r, c, i + 1, 30, score[k][i]);
            x->ncells++, x->nruns++;
        }
    }
    char *m = report_md(st, 2);
    static const char *const want[] = {
        "- DropBlock − row=none: +1.00 points", "- DropBlock − row=dropblock_ls: -2.00 points",
        "- DropBlock here: row=head_k9, the FCN-head condition whose block size is nearest",
        "row=dropblock_ls: -2.00 points, range -2.00 to -2.00, 1 paired seed"};
    for (int i = 0; i < 4; i++) CHECK(m && strstr(m, want[i]), "REPORT.md lacks '%s':\n%.3000s", want[i], m ? m : "(none)");
    CHECK(m && !strstr(m, "+5.00 points"), "Table 4's DropBlock taken by its result (head_k3's +5.00), not its block size");
    free(m);
}

/* Choices the report makes by settings, not results: Table 1's DropBlock is the condition nearest
 * the paper's (keep_prob 0.9, scheduled), not the first listed; the block-size research question
 * compares only conditions that differ in block size alone (not the 0.7 fixed one against the 0.9
 * scheduled ones); a done run without a score is named, not dropped unseen */
static void test_report_choices(void) {
    static db_rep_study st;
    static db_rep_cell cells[6];
    static db_run_row runs[6];
    memset(&st, 0, sizeof st), memset(cells, 0, sizeof cells), memset(runs, 0, sizeof runs);
    static const char *const cond[6] = {"none", "db_k07_fixed_b5", "db_k09_lin_b3", "db_k09_lin_b5", "dropout", "sdrop"};
    static const char *const row[6] = {"none", "DropBlock", "DropBlock", "DropBlock", "dropout", "SpatialDropout"};
    static const char *const reg[6] = {"none", "dropblock", "dropblock", "dropblock", "dropout", "spatial_dropout"};
    const double score[6] = {0.80, 0.90, 0.82, 0.83, 0.81, NAN};
    const double kp[6] = {1, 0.7, 0.9, 0.9, 0.9, 0.9};
    const int bs[6] = {0, 5, 3, 5, 0, 0};
    snprintf(st.name, sizeof st.name, "t1");
    st.cells = cells, st.runs = runs;
    for (int i = 0; i < 6; i++) {
        db_rep_cell *c = &cells[i];
        char fp[8];
        snprintf(fp, sizeof fp, "c%d", i);
        fixture_cell(c, cond[i], fp, reg[i]);
        snprintf(c->paper_row, sizeof c->paper_row, "%s", row[i]);
        snprintf(c->schedule, sizeof c->schedule, "%s", i == 1 ? "fixed" : "linear");
        snprintf(c->groups, sizeof c->groups, "3,4");
        c->is_baseline = !i, c->keep_prob = kp[i], c->block_size = bs[i];
        done_run(&runs[i], c, i + 1, 30, score[i]);
        st.ncells++, st.nruns++;
    }
    snprintf(st.recipe, sizeof st.recipe, "t1.txt");
    char *m = report_md(&st, 1);
    static const char *const want[] = {
        "- DropBlock − row=dropout: +1.00 points", /* db_k09_lin_b3 (0.82), the first nearest the paper's settings */
        "- DropBlock − row=sdrop: done, but no score recorded",
        "| RQ1: DropBlock beats dropout | underpowered | mean paired difference +1.00 points over 1 seed pair",
        "study t1: best mean top-1 at block size 5 (83.00%) of 2 sizes",
        "- seed=1,row=sdrop: done (run 6) but no final test top-1 recorded"};
    for (int i = 0; i < 5; i++) CHECK(m && strstr(m, want[i]), "REPORT.md lacks '%s':\n%.4000s", want[i], m ? m : "(none)");
    CHECK(m && !strstr(m, "+9.00"), "Table 1's DropBlock taken as the first listed (0.7 fixed)");
    CHECK(m && !strstr(m, "(90.00%)"), "the block sweep compared conditions that differ in more than the block size");
    free(m);
    /* ours beside the paper's gain: significant either way, or the interval holding it or not */
    db_rep_cmp c = {0};
    c.n = 9, c.m = 1, c.mean = 1.0, c.p_adj = 0.01;
    for (int i = 0; i < 9; i++) c.d[i] = 1.0 + 0.1 * (i % 3 - 1);
    CHECK(!strcmp(db_rep_paper_verdict(&c, 1.6), "reproduced") && !strcmp(db_rep_paper_verdict(&c, -1), "contradicted"),
          "significant: %s / %s", db_rep_paper_verdict(&c, 1.6), db_rep_paper_verdict(&c, -1));
    c.p_adj = 0.3;
    CHECK(!strcmp(db_rep_paper_verdict(&c, 1.0), "consistent (not significant)") &&
          !strncmp(db_rep_paper_verdict(&c, 5.0), "not reproduced", 14),
          "not significant: %s / %s", db_rep_paper_verdict(&c, 1.0), db_rep_paper_verdict(&c, 5.0));
    c.n = 3;
    CHECK(!strcmp(db_rep_paper_verdict(&c, 1.0), "underpowered"), "3 seeds: %s", db_rep_paper_verdict(&c, 1.0));
}

/* A study's name from the database (a merged shard may bring any) never runs a command through
 * gnuplot nor writes a figure outside the plots folder: its lines and quotes kept in one line,
 * its file stem plain; an infinite score is no score */
static void test_report_hostile_names(void) {
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) { printf("    (skipped: no gnuplot)\n"); return; }
    char dir[] = "/tmp/dropbench-hostile-XXXXXX", out[160], cmd[400];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    static db_rep_study st;
    static db_rep_cell cells[2];
    static db_run_row runs[2];
    memset(&st, 0, sizeof st), memset(cells, 0, sizeof cells), memset(runs, 0, sizeof runs);
    snprintf(st.name, sizeof st.name, "x\nsystem('touch %s/PWNED')\n#../../ESC", dir);
    snprintf(st.recipe, sizeof st.recipe, "h.txt");
    st.cells = cells, st.runs = runs;
    for (int i = 0; i < 2; i++) {
        fixture_cell(&cells[i], i ? "db" : "none", i ? "h1" : "h0", i ? "dropblock" : "none");
        cells[i].is_baseline = !i;
        done_run(&runs[i], &cells[i], i + 1, 30, i ? INFINITY : 0.8);
        st.ncells++, st.nruns++;
    }
    db_rep_input in = {.db_path = "memory", .nstudies = 1, .studies = &st, .dropbench_version = "test"};
    db_rep_options opt = {.plots = 1, .gnuplot = "gnuplot"};
    snprintf(out, sizeof out, "%s/rep", dir);
    FILE *log = fopen("/dev/null", "w");
    CHECK_OK(db_report_write(&in, out, &opt, log));
    fclose(log);
    snprintf(cmd, sizeof cmd, "%s/PWNED", dir);
    CHECK(access(cmd, F_OK) != 0, "gnuplot ran a command from a study's name");
    snprintf(cmd, sizeof cmd, "ls %s | grep -v '^rep$' | grep -q .", dir);
    CHECK(system(cmd) != 0, "a figure written outside the report's folder");
    snprintf(cmd, sizeof cmd, "ls %s/rep/plots | grep -q '^x_system_.touch_.*-top1-[0-9a-f]\\{8\\}[.]png$'", dir);
    CHECK(system(cmd) == 0, "the figure's plain file stem not found");
    snprintf(cmd, sizeof cmd, "%s/rep/REPORT.md", dir);
    char *m = db_test_slurp(cmd);
    int printed = 0; /* inf or nan as a word (not "provenance") */
    static const char *const bad[] = {" inf", "-inf", "|inf", " nan", "-nan", "|nan"};
    for (int i = 0; m && i < 6; i++) printed |= strstr(m, bad[i]) != NULL;
    CHECK(m && !printed && strstr(m, "done (run 2) but no final test top-1 recorded"),
          "an infinite score reported:\n%.3000s", m ? m : "(none)");
    free(m);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "rm");
}

/* The research questions pool the newest version of an edited recipe alone (NAME#2, not NAME):
 * its older version may have had other settings */
static void test_report_pools_newest_version(void) {
    static db_rep_study st[2];
    static db_rep_cell cells[2][2];
    static db_run_row runs[2][2];
    memset(st, 0, sizeof st), memset(cells, 0, sizeof cells), memset(runs, 0, sizeof runs);
    const double score[2][2] = {{0.80, 0.85}, {0.80, 0.81}}; /* dropout, DropBlock: +5 in the old, +1 in the new */
    for (int k = 0; k < 2; k++) {
        db_rep_study *x = &st[k];
        snprintf(x->name, sizeof x->name, k ? "t1#2" : "t1");
        x->cells = cells[k], x->runs = runs[k];
        for (int i = 0; i < 2; i++) {
            db_rep_cell *c = &cells[k][i];
            snprintf(c->label, sizeof c->label, "seed=1,regularizer=%s", i ? "dropblock" : "dropout");
            snprintf(c->condition, sizeof c->condition, "regularizer=%s", i ? "dropblock" : "dropout");
            snprintf(c->fingerprint, sizeof c->fingerprint, "v%d-%d", k, i);
            snprintf(c->paper_row, sizeof c->paper_row, "%s", i ? "DropBlock" : "dropout");
            snprintf(c->regularizer, sizeof c->regularizer, "%s", i ? "dropblock" : "dropout");
            snprintf(c->dataset, sizeof c->dataset, "fashion-mnist");
            c->seed = 1, c->epochs = 30, c->train_limit = 1000, c->keep_prob = 0.9;
            done_run(&runs[k][i], c, 2 * k + i + 1, 30, score[k][i]);
            x->ncells++, x->nruns++;
        }
    }
    char *m = report_md(st, 2);
    const char *want = "| RQ1: DropBlock beats dropout | underpowered | mean paired difference +1.00 points over 1 seed pair";
    CHECK(m && strstr(m, want), "REPORT.md lacks '%s':\n%s", want, m && strstr(m, "Research") ? strstr(m, "Research") : "(none)");
    free(m);
}

/* A study with both initialisation columns (Tables 3 and 4 have them): each compared within
 * itself, in the table's gains and in the verdicts; never a pretrained condition against a
 * random-initialisation one */
static void test_report_pretrained_column(void) {
    static db_rep_study st;
    static db_rep_cell cells[4];
    static db_run_row runs[4];
    memset(&st, 0, sizeof st), memset(cells, 0, sizeof cells), memset(runs, 0, sizeof runs);
    static const char *const cond[4] = {"none", "head_k5", "pre_none", "pre_head_k5"};
    const double score[4] = {0.40, 0.45, 0.55, 0.57};
    snprintf(st.name, sizeof st.name, "cols");
    st.cells = cells, st.runs = runs;
    for (int i = 0; i < 4; i++) {
        db_rep_cell *c = &cells[i];
        db_run_row *r = &runs[i];
        snprintf(c->label, sizeof c->label, "seed=1,row=%s", cond[i]);
        snprintf(c->condition, sizeof c->condition, "row=%s", cond[i]);
        snprintf(c->fingerprint, sizeof c->fingerprint, "p%d", i);
        c->dense_table = 4, c->pretrained = i >= 2;
        snprintf(c->dense_row, sizeof c->dense_row, "%s", i % 2 ? "DropBlock (in FCN head)" : "none");
        snprintf(c->regularizer, sizeof c->regularizer, "%s", i % 2 ? "dropblock" : "none");
        snprintf(c->dataset, sizeof c->dataset, "fmnist-segment");
        snprintf(c->command, sizeof c->command, "/opt/test/dropbench study cols.txt --cell %d --db memory", i);
        c->seed = 1, c->is_baseline = i % 2 == 0, c->epochs = 10, c->block_size = i % 2 ? 5 : 0;
        done_run(r, c, i + 1, 10, score[i]);
        st.ncells++, st.nruns++;
    }
    snprintf(st.recipe, sizeof st.recipe, "cols.txt");
    char *m = report_md(&st, 1);
    static const char *const want[] = {
        "| row=pre_head_k5 | DropBlock (in FCN head) (pretrained) | 5 | 57.00 | 1 | +2.00",
        "| row=head_k5 | DropBlock (in FCN head) | 5 | 45.00 | 1 | +5.00",
        "- DropBlock here (random initialisation): row=head_k5",
        "- DropBlock − row=none: +5.00 points", "- DropBlock here (pretrained): row=pre_head_k5",
        "- DropBlock − row=pre_none: +2.00 points",
        /* the results table: each condition against its own column's baseline */
        "| row=pre_none | 1 | 55.00 | - | 55.00 | - | - | - | baseline |",
        "| row=pre_head_k5 | 1 | 57.00 | - | 57.00 | +2.00 (1) |",
        "baseline of the condition's initialisation (row=none; for the pretrained conditions row=pre_none)",
        /* Reproduce: the program by the path the report was given (the command's absolute path) */
        "## Reproduce\n\n```\n/opt/test/dropbench study cols.txt --db memory\n# one cell alone, e.g.:\n"
        "/opt/test/dropbench study cols.txt --cell 0 --db memory\n```"};
    for (int i = 0; i < 10; i++) CHECK(m && strstr(m, want[i]), "REPORT.md lacks '%s':\n%.3000s", want[i], m ? m : "(none)");
    /* no cross-column difference anywhere: the results table, the Table 4 section, the verdicts */
    int crossed = !m;
    static const char *const cross[] = {"+17.00", "-10.00", "+15.00", "+12.00"};
    for (int i = 0; i < 4 && !crossed; i++) crossed |= strstr(m, cross[i]) != NULL;
    CHECK(!crossed, "a pretrained condition compared with a random-initialisation one:\n%.3000s", m ? m : "(none)");
    /* the research question beyond classification: this study's random-initialisation pair alone
     * (+5.00, not the pretrained +2.00 pooled with it); no detection study, so detection not run */
    static const char *const rq[] = {
        "| RQ4: DropBlock in the FCN head helps segmentation (Table 4, mIOU), from random initialisation | underpowered | "
        "mean paired difference +5.00 points over 1 seed pair, range [5.00, 5.00]",
        "| RQ4: DropBlock helps detection (RetinaNet, Table 3, AP), from random initialisation | not run |"};
    for (int i = 0; i < 2; i++) CHECK(m && strstr(m, rq[i]), "REPORT.md lacks '%s':\n%s", rq[i], m ? strstr(m, "Research") : "(none)");
    CHECK(m && !strstr(m, "not available yet"), "the research questions still say a network is missing");
    free(m);
    /* Reproduce from the folder the study ran in (its provenance), quoted for the shell; an
     * absolute recipe path needs no folder */
    snprintf(st.provenance, sizeof st.provenance, "host=h\nworking_folderx=/no\nworking_folder=/home/o'neil/my runs\n");
    snprintf(st.recipe, sizeof st.recipe, "bench/recipes/cols.txt");
    m = report_md(&st, 1);
    const char *cd = "## Reproduce\n\n```\ncd '/home/o'\\''neil/my runs' && /opt/test/dropbench study "
                     "bench/recipes/cols.txt --db memory\n# one cell alone, e.g.:\ncd '/home/o'\\''neil/my runs' && "
                     "/opt/test/dropbench study cols.txt --cell 0 --db memory\n";
    CHECK(m && strstr(m, cd), "REPORT.md lacks '%s':\n%s", cd, m ? strstr(m, "## Reproduce") : "(none)");
    CHECK(m && strstr(m, "| cols | working_folder | /home/o'neil/my runs |"), "provenance without the working folder");
    free(m);
    snprintf(st.recipe, sizeof st.recipe, "/srv/recipes/cols.txt");
    m = report_md(&st, 1);
    cd = "## Reproduce\n\n```\n/opt/test/dropbench study /srv/recipes/cols.txt --db memory\n";
    CHECK(m && strstr(m, cd), "REPORT.md lacks '%s':\n%s", cd, m ? strstr(m, "## Reproduce") : "(none)");
    free(m);
    /* the random-initialisation column without a baseline of its own (its none made a dropout
     * condition): nothing there compared with the pretrained baseline */
    snprintf(cells[0].regularizer, sizeof cells[0].regularizer, "dropout");
    cells[0].dense_row[0] = '\0', cells[0].is_baseline = 0;
    m = report_md(&st, 1);
    static const char *const nobase[] = {"| row=head_k5 | 1 | 45.00 | - | 45.00 | - | - | - | no baseline |",
                                         "| row=pre_head_k5 | 1 | 57.00 | - | 57.00 | +2.00 (1) |"};
    for (int i = 0; i < 2; i++) CHECK(m && strstr(m, nobase[i]), "REPORT.md lacks '%s':\n%.3000s", nobase[i], m ? m : "(none)");
    CHECK(m && !strstr(m, "-10.00") && !strstr(m, "-15.00"), "a random-initialisation condition compared with the "
          "pretrained baseline:\n%.3000s", m ? m : "(none)");
    free(m);
}

/* Table 4's other placement: DropBlock in the backbone, set beside the head's in the verdicts, the
 * table and a research question, with the paper's word (worse than the head, no number) */
static void test_report_backbone_row(void) {
    static db_rep_study st;
    static db_rep_cell cells[9];
    static db_run_row runs[9];
    memset(&st, 0, sizeof st), memset(cells, 0, sizeof cells), memset(runs, 0, sizeof runs);
    static const char *const cond[3] = {"none", "head_k5", "backbone_k3"}, *const row[3] = {"none",
        "DropBlock (in FCN head)", "DropBlock (in backbone)"};
    const double score[3] = {0.58, 0.60, 0.55};
    snprintf(st.name, sizeof st.name, "t4");
    st.cells = cells, st.runs = runs;
    for (int i = 0; i < 9; i++) {
        db_rep_cell *c = &cells[i];
        const int k = i / 3;
        snprintf(c->label, sizeof c->label, "row=%s,seed=%d", cond[k], i % 3 + 1);
        snprintf(c->condition, sizeof c->condition, "row=%s", cond[k]);
        snprintf(c->fingerprint, sizeof c->fingerprint, "b%d", i);
        snprintf(c->dense_row, sizeof c->dense_row, "%s", row[k]);
        snprintf(c->regularizer, sizeof c->regularizer, "%s", k ? "dropblock" : "none");
        snprintf(c->dataset, sizeof c->dataset, "fmnist-segment");
        snprintf(c->command, sizeof c->command, "dropbench study t4.txt --cell %d --db memory", i);
        c->dense_table = 4, c->seed = (uint64_t)(i % 3 + 1), c->is_baseline = k == 0, c->epochs = 10;
        c->block_size = k == 1 ? 5 : k == 2 ? 3 : 0;
        done_run(&runs[i], c, i + 1, 10, score[k] + 0.001 * (i % 3));
        st.ncells++, st.nruns++;
    }
    char *m = report_md(&st, 1);
    static const char *const want[] = {
        "- DropBlock − row=backbone_k3: +5.00 points, 95% CI +5.00 to +5.00, 3 paired seeds: inconclusive (too few seeds "
        "to decide); the paper: the head better, no number",
        "| row=backbone_k3 | DropBlock (in backbone) | 3 | 55.10 ± 0.10 | 3 | -3.00 (-3.00 to -3.00; 3 pairs) | - | below "
        "the head's |",
        "| Also: DropBlock in the FCN head beats it in the backbone (Table 4's text), from random initialisation | "
        "underpowered | mean paired difference +5.00 points over 3 seed pairs"};
    for (int i = 0; i < 3; i++) CHECK(m && strstr(m, want[i]), "REPORT.md lacks '%s':\n%.6000s", want[i], m ? m : "(none)");
    CHECK(m && strstr(m, "- DropBlock here: row=head_k5"), "the backbone condition taken for the paper's DropBlock row");
    free(m);
}

/* A study of one condition that another study requires (a pretraining): its result and what it
 * is for in the verdicts, none of Table 1's comparisons in its section */
static void test_report_single_setting(void) {
    static db_rep_study st[2];
    static db_rep_cell cell;
    static db_run_row run;
    memset(st, 0, sizeof st), memset(&cell, 0, sizeof cell), memset(&run, 0, sizeof run);
    snprintf(st[0].name, sizeof st[0].name, "pre");
    snprintf(st[0].recipe, sizeof st[0].recipe, "bench/recipes/pre.txt");
    snprintf(cell.label, sizeof cell.label, "seed=1");
    snprintf(cell.condition, sizeof cell.condition, "all");
    snprintf(cell.fingerprint, sizeof cell.fingerprint, "f");
    snprintf(cell.paper_row, sizeof cell.paper_row, "none");
    snprintf(cell.regularizer, sizeof cell.regularizer, "none");
    snprintf(cell.dataset, sizeof cell.dataset, "fashion-mnist");
    snprintf(cell.command, sizeof cell.command, "/opt/test/dropbench study bench/recipes/pre.txt --cell 0 --db memory");
    cell.seed = 1, cell.is_baseline = 1, cell.epochs = 15;
    done_run(&run, &cell, 1, 15, 0.9088);
    st[0].cells = &cell, st[0].ncells = 1, st[0].runs = &run, st[0].nruns = 1;
    snprintf(st[1].name, sizeof st[1].name, "main");
    snprintf(st[1].recipe, sizeof st[1].recipe, "bench/recipes/main.txt");
    snprintf(st[1].requires[0], sizeof st[1].requires[0], "pre.txt");
    st[1].nrequires = 1;
    char *m = report_md(st, 2);
    const char *want = "Study pre: one setting (15 epochs on all of fashion-mnist), nothing to compare: the starting point "
                       "of study main (its recipe requires this one).\n\n- all: final test top-1 90.88, 1 run done";
    CHECK(m && strstr(m, want), "REPORT.md lacks '%s':\n%.2000s", want, m ? m : "(none)");
    CHECK(m && !strstr(m, "Table 1 at this scale") && !strstr(m, "Beside the paper"),
          "a single setting set beside the paper's Table 1:\n%.4000s", m ? m : "(none)");
    free(m);
    st[1].nrequires = 0; /* required by none: no such clause */
    m = report_md(st, 2);
    CHECK(m && strstr(m, "Study pre: one setting (15 epochs on all of fashion-mnist), nothing to compare.\n"),
          "REPORT.md:\n%.1500s", m ? m : "(none)");
    free(m);
}

/* The paths in the Reproduce commands as shell words: the shell gives each back as it was */
static void test_report_shell_words(void) {
    static const char *const paths[] = {"bench/recipes/x.txt", "my runs/a.db", "o'neil", "'", "$(touch /tmp/no)", "",
                                        "a;b&c|d", "tab\there", "\"q\" \\ `x`"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        char word[200], cmd[260], got[200] = "";
        db_shell_word(paths[i], word, sizeof word);
        CHECK(word[0], "'%s' gave no word", paths[i]);
        CHECK(i > 0 || !strcmp(word, paths[i]), "a plain path quoted: %s", word);
        snprintf(cmd, sizeof cmd, "printf %%s %s", word);
        FILE *f = popen(cmd, "r");
        CHECK(f != NULL, "popen");
        size_t len = f ? fread(got, 1, sizeof got - 1, f) : 0;
        got[len] = '\0';
        if (f) pclose(f);
        CHECK(!strcmp(got, paths[i]), "'%s' as %s came back as '%s'", paths[i], word, got);
    }
    char small[6];
    CHECK(!db_shell_word("a b c d", small, sizeof small)[0], "a word cut short instead of none");
}

const db_test db_tests_report[] = {
    {"report_shell_words", test_report_shell_words},
    {"report_single_setting", test_report_single_setting},
    {"report_backbone_row", test_report_backbone_row},
    {"report_verdict_rows", test_report_verdict_rows},
    {"report_pretrained_column", test_report_pretrained_column},
    {"report_choices", test_report_choices},
    {"report_hostile_names", test_report_hostile_names},
    {"report_pools_newest_version", test_report_pools_newest_version},
    {"report_verdicts_by_seeds", test_report_verdicts_by_seeds},
    {"report_doc_writers", test_report_doc_writers},
    {"report_plot_golden", test_report_plot_golden},
    {NULL, NULL},
};
