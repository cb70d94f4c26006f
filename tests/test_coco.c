/* Tests of the COCO reader (datasets/coco.h) and box evaluator (eval/coco_eval.h): the known
 * answer of metrics.md, hand-checkable crowd and area-range cases, and malformed files. The
 * agreement with pycocotools on random data is tests/coco_crosscheck.py (a command-line test). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/coco.h"
#include "eval/coco_eval.h"
#include "tests/check.h"

static char co_dir[64];

static const char *co_write(const char *name, const char *text) {
    const char *p = db_test_path(co_dir, name);
    FILE *f = fopen(p, "w");
    CHECK(f && fputs(text, f) >= 0, "cannot write %s", p);
    if (f) fclose(f);
    return p;
}

static void co_setup(void) { db_test_mkdtemp(co_dir, "coco"); }
static void co_cleanup(void) { db_test_rmtree(co_dir); }

/* stats of gt/results texts */
static db_status co_eval(const char *gt, const char *dt, double stats[12]) {
    db_coco c;
    DB_TRY(db_coco_load_gt(&c, co_write("gt.json", gt)));
    db_status s = db_coco_load_results(&c, co_write("dt.json", dt));
    db_coco_result r = {0};
    if (s == DB_OK) s = db_coco_evaluate(&c, &r);
    if (s == DB_OK) memcpy(stats, r.stats, sizeof r.stats);
    db_coco_result_free(&r);
    db_coco_free(&c);
    return s;
}

static void test_coco_single_box(void) {
    co_setup();
    double st[12];
    CHECK_OK(co_eval("{\"images\":[{\"id\":1}],\"categories\":[{\"id\":1}],\"annotations\":[{\"id\":1,\"image_id\":1,"
                     "\"category_id\":1,\"bbox\":[214,41,348,244],\"area\":84912,\"iscrowd\":0}]}",
                     "[{\"image_id\":1,\"category_id\":1,\"bbox\":[258,41,348,244],\"score\":0.536}]", st));
    /* IoU 0.7755: matched at 0.50 .. 0.75, 6 of 10 thresholds; area 84,912: large */
    const double want[12] = {0.6, 1, 1, -1, -1, 0.6, 0.6, 0.6, 0.6, -1, -1, 0.6};
    for (int i = 0; i < 12; i++) CHECK(fabs(st[i] - want[i]) < 1e-12, "%s = %.15g, want %g", db_coco_stat_names[i], st[i], want[i]);
    co_cleanup();
}

static void test_coco_crowd_and_areas(void) {
    co_setup();
    double st[12];
    /* a crowd ground truth absorbs two detections without counting; a 32x32 box counts as
     * small and medium (inclusive bounds); an unmatched tiny detection is ignored for the
     * medium range */
    CHECK_OK(co_eval("{\"images\":[{\"id\":5}],\"categories\":[{\"id\":2}],\"annotations\":["
                     "{\"id\":1,\"image_id\":5,\"category_id\":2,\"bbox\":[0,0,100,100],\"area\":10000,\"iscrowd\":1},"
                     "{\"id\":2,\"image_id\":5,\"category_id\":2,\"bbox\":[200,200,32,32],\"area\":1024,\"iscrowd\":0}]}",
                     "[{\"image_id\":5,\"category_id\":2,\"bbox\":[10,10,50,50],\"score\":0.9},"
                     "{\"image_id\":5,\"category_id\":2,\"bbox\":[20,20,50,50],\"score\":0.8},"
                     "{\"image_id\":5,\"category_id\":2,\"bbox\":[200,200,32,32],\"score\":0.7},"
                     "{\"image_id\":5,\"category_id\":2,\"bbox\":[400,400,4,4],\"score\":0.95}]", st));
    /* all: the exact box is the second true detection after a false one (the 4x4, score 0.95):
     * precision 0.5 at recall 1 for every threshold */
    CHECK(fabs(st[0] - 0.5) < 1e-12, "AP %.15g, want 0.5", st[0]);
    CHECK(fabs(st[3] - 0.5) < 1e-12, "APsmall %.15g, want 0.5 (32x32 is small, the 4x4 counts)", st[3]);
    CHECK(fabs(st[4] - 1.0) < 1e-12, "APmedium %.15g, want 1 (32x32 is medium too; the 4x4 is ignored)", st[4]);
    CHECK(st[5] == -1, "APlarge %g: the only large ground truth is a crowd", st[5]);
    CHECK(fabs(st[6] - 0.0) < 1e-12 && fabs(st[8] - 1.0) < 1e-12, "AR1 %g (the top detection is false), AR100 %g", st[6], st[8]);
    co_cleanup();
}

static void test_coco_bad_files(void) {
    co_setup();
#define GT1 "{\"images\":[{\"id\":1}],\"categories\":[{\"id\":1}],\"annotations\":[]}"
    static const struct { const char *gt, *dt, *needle; } cases[] = {
        {"{\"images\":", NULL, "not JSON"},
        {"[]", NULL, "want an object"},
        {"{\"images\":[]}", NULL, "'images', 'categories' and 'annotations'"},
        {"{\"images\":[{\"id\":1},{\"id\":1}],\"categories\":[],\"annotations\":[]}", NULL, "image id 1 appears twice"},
        {"{\"images\":[{\"id\":1}],\"categories\":[{\"id\":1}],\"annotations\":[{\"id\":1,\"image_id\":2,\"category_id\":1,"
         "\"bbox\":[0,0,1,1],\"area\":1}]}", NULL, "image_id 2 is not among the images"},
        {"{\"images\":[{\"id\":1}],\"categories\":[{\"id\":1}],\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,"
         "\"bbox\":[0,0,-1,1],\"area\":1}]}", NULL, "negative box size"},
        {"{\"images\":[{\"id\":1}],\"categories\":[{\"id\":1}],\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,"
         "\"bbox\":[0,0,1,1]}]}", NULL, "no 'area'"},
        {GT1, "{}", "a list of detections"},
        {GT1, "[{\"image_id\":9,\"category_id\":1,\"bbox\":[0,0,1,1],\"score\":1}]", "image_id 9 is not in the ground truth"},
        {GT1, "[{\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,1],\"score\":1}]", "'bbox' must be [x, y, w, h]"},
        {GT1, "[{\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,1,1]}]", "no 'score'"},
        {GT1, "[{\"image_id\":\"1\",\"category_id\":1,\"bbox\":[0,0,1,1],\"score\":1}]", "non-integer 'image_id'"},
        {"{\"images\":[{\"id\":1}],\"categories\":[{\"id\":1}],\"annotations\":[{\"id\":1,\"image_id\":1,\"category_id\":1,"
         "\"bbox\":[0,0,1,1],\"area\":-5}]}", NULL, "negative area"},
        /* every result's category unknown: 0-based indices for the ground truth's ids */
        {GT1, "[{\"image_id\":1,\"category_id\":0,\"bbox\":[0,0,1,1],\"score\":1}]", "none of the 1 results' category_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        db_coco c;
        db_status s = db_coco_load_gt(&c, co_write("g.json", cases[i].gt));
        if (s == DB_OK && cases[i].dt) s = db_coco_load_results(&c, co_write("d.json", cases[i].dt));
        CHECK(s == DB_ERR_FORMAT && strstr(db_last_error(), cases[i].needle) && strstr(db_last_error(), co_dir),
              "case %zu: %s", i, db_last_error());
        db_coco_free(&c);
    }
    db_coco c;
    /* iscrowd as JSON's true and false, as pycocotools reads them */
    CHECK_OK(db_coco_load_gt(&c, co_write("b.json", "{\"images\":[{\"id\":1}],\"categories\":[{\"id\":1}],\"annotations\":["
                                               "{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,1,1],\"area\":1,\"iscrowd\":true},"
                                               "{\"id\":2,\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,1,1],\"area\":1,\"iscrowd\":false}]}")));
    CHECK(c.n_gt == 2 && c.gt[0].iscrowd && !c.gt[1].iscrowd, "iscrowd true and false");
    /* detections made in memory with a box that is not finite (a detector's overflow) are refused by the
     * evaluator and the results writer, never scored as a match */
    db_coco_box bad = {.x = NAN, .y = 0, .w = 1, .h = 1, .score = 0.9, .image = 0, .category = 0};
    c.dt = &bad;
    c.n_dt = 1;
    db_coco_result r = {0};
    CHECK(db_coco_evaluate(&c, &r) == DB_ERR_ARG && strstr(db_last_error(), "not finite"), "a NaN box: %s", db_last_error());
    bad.x = 0, bad.h = INFINITY;
    CHECK(db_coco_write_results(&c, db_test_path(co_dir, "inf.json")) == DB_ERR_ARG && strstr(db_last_error(), "not finite"),
          "an infinite box written: %s", db_last_error());
    c.dt = NULL;
    c.n_dt = 0;
    db_coco_free(&c);
    CHECK(db_coco_load_gt(&c, "/nonexistent.json") == DB_ERR_IO && strstr(db_last_error(), "/nonexistent.json") &&
              strstr(db_last_error(), "cannot read the file") && !strstr(db_last_error(), "not JSON"),
          "a missing file is unreadable, not bad JSON: %s", db_last_error());
    co_cleanup();
}

const db_test db_tests_coco[] = {
    {"coco_single_box_known_answer", test_coco_single_box},
    {"coco_crowd_and_area_ranges", test_coco_crowd_and_areas},
    {"coco_bad_files", test_coco_bad_files},
    {NULL, NULL},
};
