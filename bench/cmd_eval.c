/* dropbench eval coco: COCO box AP of a results file against instance annotations */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench/cli.h"
#include "datasets/coco.h"
#include "eval/coco_eval.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench eval coco --gt INSTANCES.json --results DETECTIONS.json [--json] [--per-category]\n"
               "\n"
               "The twelve COCO box numbers (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl)\n"
               "exactly as pycocotools' COCOeval computes them; -1 where no ground truth takes part.\n");
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int coco(int argc, char **argv) {
    const char *gt = NULL, *res = NULL;
    int json = 0, per_cat = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--per-category")) per_cat = 1;
        else if (!strcmp(argv[i], "--gt") && i + 1 < argc) gt = argv[++i];
        else if (!strcmp(argv[i], "--results") && i + 1 < argc) res = argv[++i];
        else if (!strcmp(argv[i], "--help")) { usage(stdout); return DB_EXIT_OK; }
        else { fprintf(stderr, "dropbench eval coco: bad argument '%s'\n", argv[i]); usage(stderr); return DB_EXIT_USAGE; }
    }
    if (!gt || !res) { fprintf(stderr, "dropbench eval coco: --gt and --results are needed\n"); return DB_EXIT_USAGE; }
    db_coco c;
    double t0 = now();
    db_status s = db_coco_load_gt(&c, gt);
    if (s != DB_OK) return db_cli_error(s);
    if ((s = db_coco_load_results(&c, res)) != DB_OK) { db_coco_free(&c); return db_cli_error(s); }
    double t1 = now();
    db_coco_result r;
    s = db_coco_evaluate(&c, &r);
    double t2 = now();
    if (s != DB_OK) { db_coco_free(&c); return db_cli_error(s); }
    static const char *what[12] = {"Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
                                   "Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]",
                                   "Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ]",
                                   "Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
                                   "Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
                                   "Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]",
                                   "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]",
                                   "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ]",
                                   "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
                                   "Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
                                   "Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
                                   "Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]"};
    if (json) {
        printf("{\"images\":%d,\"categories\":%d,\"ground_truths\":%d,\"detections\":%d", c.n_images, c.n_categories, c.n_gt,
               c.n_dt);
        for (int i = 0; i < DB_COCO_STATS; i++) printf(",\"%s\":%.17g", db_coco_stat_names[i], r.stats[i]);
        if (per_cat) {
            printf(",\"per_category\":{");
            for (int k = 0; k < r.n_categories; k++)
                printf("%s\"%lld\":%.17g", k ? "," : "", (long long)c.category_ids[k], r.ap_per_category[k]);
            printf("}");
        }
        printf(",\"load_seconds\":%.3f,\"eval_seconds\":%.3f}\n", t1 - t0, t2 - t1);
    } else {
        printf("%d images, %d categories, %d ground truths, %d detections (read in %.2f s, evaluated in %.2f s)\n",
               c.n_images, c.n_categories, c.n_gt, c.n_dt, t1 - t0, t2 - t1);
        for (int i = 0; i < DB_COCO_STATS; i++) printf(" %s = %.3f\n", what[i], r.stats[i]);
        for (int k = 0; per_cat && k < r.n_categories; k++)
            printf(" category %lld: AP %.3f\n", (long long)c.category_ids[k], r.ap_per_category[k]);
    }
    db_coco_result_free(&r);
    db_coco_free(&c);
    return DB_EXIT_OK;
}

int db_cmd_eval(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
    }
    if (!strcmp(argv[1], "coco")) return coco(argc, argv);
    fprintf(stderr, "dropbench eval: unknown evaluator '%s' (coco)\n", argv[1]);
    return DB_EXIT_USAGE;
}
