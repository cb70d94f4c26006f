/* dropbench eval coco: COCO box AP of a results file against instance annotations */
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/cli.h"
#include "core/clock.h"
#include "datasets/coco.h"
#include "datasets/folder.h"
#include "datasets/voc.h"
#include "eval/coco_eval.h"
#include "eval/miou.h"
#include "results/store.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench eval coco --gt INSTANCES.json --results DETECTIONS.json [--limit N] [--json] [--per-category]\n"
               "       dropbench eval miou --gt DIR --pred DIR [--classes 21] [--ignore 255] [--json]\n"
               "\n"
               "coco: the twelve COCO box numbers (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl)\n"
               "exactly as pycocotools' COCOeval computes them; -1 where no ground truth takes part. --limit N\n"
               "scores the first N images by id alone, as a run with test_limit N scored its detections.\n"
               "miou: every label PNG in --gt against the PNG of the same name in --pred (palette or 8-bit grey,\n"
               "the index is the class), one confusion matrix over all of them: per-class IoU and accuracy, mIOU,\n"
               "pixel accuracy, mean class accuracy; a class absent from both sides has no IoU and is left out.\n"
               "Both take --db PATH --run ID [--epoch E]: the numbers also go to that run's metrics (split\n"
               "'eval', names coco_AP... or miou, pixel_accuracy, mean_class_accuracy, iou_CLASS), at epoch E\n"
               "(default 0).\n");
}

/* Where results are stored: --db PATH --run ID [--epoch E] */
typedef struct {
    const char *db;
    long run, epoch;
} store_to;

/* 1 when argv[*i] is a storage option (consumed), -1 when it is one with a bad value, 0 otherwise */
static int store_arg(const char *cmd, int argc, char **argv, int *i, store_to *t) {
    const char *o = argv[*i];
    if (strcmp(o, "--db") && strcmp(o, "--run") && strcmp(o, "--epoch")) return 0;
    const char *v = db_cli_has_value(argc, argv, *i) ? argv[++*i] : NULL;
    if (!strcmp(o, "--db")) {
        if (!v || !v[0]) { fprintf(stderr, "dropbench %s: --db needs a path\n", cmd); return -1; }
        t->db = v;
        return 1;
    }
    long n;
    const int run = !strcmp(o, "--run");
    if (!db_cli_long_opt(cmd, o, v, run ? 1 : 0, run ? LONG_MAX : 1000000, &n)) return -1;
    *(run ? &t->run : &t->epoch) = n;
    return 1;
}

/* The metrics into the run's record, when asked for */
static db_status store(const store_to *t, const db_metric *m, int n) {
    if (!t->db && !t->run) return DB_OK;
    if (!t->db || !t->run) return db_fail(DB_ERR_ARG, "storing the scores needs both --db PATH and --run ID");
    db_store *st;
    DB_TRY(db_store_open_existing(&st, t->db)); /* the run's database: never made here */
    db_run_record rec;
    db_status s = db_store_get_run(st, t->run, &rec);
    if (s == DB_OK) {
        db_run_record_free(&rec);
        s = db_store_epoch(st, t->run, (int)t->epoch, 0, m, n);
    }
    db_store_close(st);
    return s;
}

static int coco(int argc, char **argv) {
    const char *gt = NULL, *res = NULL;
    int json = 0, per_cat = 0, k;
    long limit = 0;
    store_to to = {NULL, 0, 0};
    for (int i = 2; i < argc; i++) {
        if ((k = store_arg("eval coco", argc, argv, &i, &to)) != 0) {
            if (k < 0) return DB_EXIT_USAGE;
        } else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--per-category")) per_cat = 1;
        else if (!strcmp(argv[i], "--gt") && db_cli_has_value(argc, argv, i)) gt = argv[++i];
        else if (!strcmp(argv[i], "--results") && db_cli_has_value(argc, argv, i)) res = argv[++i];
        else if (!strcmp(argv[i], "--limit")) {
            if (!db_cli_long_opt("eval coco", "--limit", db_cli_has_value(argc, argv, i) ? argv[++i] : NULL, 1, 1L << 30, &limit))
                return DB_EXIT_USAGE;
        } else if (!strcmp(argv[i], "--help")) { usage(stdout); return DB_EXIT_OK; }
        else {
            static const char *const valued[] = {"--gt", "--results", "--limit", "--db", "--run", "--epoch", NULL};
            db_cli_refuse("eval coco", argv[i], valued);
            usage(stderr);
            return DB_EXIT_USAGE;
        }
    }
    if (!gt || !res) { fprintf(stderr, "dropbench eval coco: --gt and --results are needed\n"); return DB_EXIT_USAGE; }
    if (limit && to.db) { /* a run's own test metrics already hold what it scored */
        fprintf(stderr, "dropbench eval coco: --limit scores a part of the set; it is not stored with --db\n");
        return DB_EXIT_USAGE;
    }
    db_coco c;
    double t0 = db_now();
    db_status s = db_coco_load_gt(&c, gt);
    if (s != DB_OK) return db_cli_error(s);
    if ((s = db_coco_load_results(&c, res)) != DB_OK) { db_coco_free(&c); return db_cli_error(s); }
    db_coco_first_images(&c, (int)limit);
    double t1 = db_now();
    db_coco_result r;
    s = db_coco_evaluate(&c, &r);
    double t2 = db_now();
    if (s != DB_OK) { db_coco_free(&c); return db_cli_error(s); }
    db_metric m[DB_COCO_STATS];
    char names[DB_COCO_STATS][16];
    for (int i = 0; i < DB_COCO_STATS; i++) {
        snprintf(names[i], sizeof names[i], "coco_%s", db_coco_stat_names[i]);
        m[i] = (db_metric){"eval", names[i], r.stats[i]};
    }
    if ((s = store(&to, m, DB_COCO_STATS)) != DB_OK) {
        db_coco_result_free(&r);
        db_coco_free(&c);
        return db_cli_error(s);
    }
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
        int unknown = 0;
        for (int i = 0; i < c.n_dt; i++) unknown += c.dt[i].category < 0;
        printf("%d images, %d categories, %d ground truths, %d detections (read in %.2f s, evaluated in %.2f s)\n",
               c.n_images, c.n_categories, c.n_gt, c.n_dt, t1 - t0, t2 - t1);
        if (unknown)
            printf(" %d of the detections have a category_id not among the ground truth's: left out, as pycocotools "
                   "does\n", unknown);
        for (int i = 0; i < DB_COCO_STATS; i++) printf(" %s = %.3f\n", what[i], r.stats[i]);
        for (int k = 0; per_cat && k < r.n_categories; k++)
            printf(" category %lld: AP %.3f\n", (long long)c.category_ids[k], r.ap_per_category[k]);
    }
    db_coco_result_free(&r);
    db_coco_free(&c);
    return DB_EXIT_OK;
}

static db_status score_maps(const char *gt_dir, const char *pred_dir, db_miou *m, int *maps) {
    static const char *const png[] = {"png", NULL};
    db_names list = {0};
    DB_TRY(db_dir_list(gt_dir, 0, png, &list));
    char **names = list.v;
    int n = list.n;
    db_status s = n ? DB_OK : db_fail(DB_ERR_FORMAT, "%s: no .png label maps", gt_dir);
    for (int i = 0; i < n && s == DB_OK; i++) {
        char gp[4096], pp[4096];
        snprintf(gp, sizeof gp, "%s/%s", gt_dir, names[i]);
        snprintf(pp, sizeof pp, "%s/%s", pred_dir, names[i]);
        uint8_t *g = NULL, *p = NULL;
        int gh, gw, ph, pw;
        s = db_label_png_read(gp, &g, &gh, &gw);
        if (s == DB_OK) s = db_label_png_read(pp, &p, &ph, &pw);
        if (s == DB_OK && (gh != ph || gw != pw))
            s = db_fail(DB_ERR_FORMAT, "%s is %dx%d but its ground truth %s is %dx%d", pp, pw, ph, gp, gw, gh);
        if (s == DB_OK) s = db_miou_add(m, g, p, (size_t)gh * gw, gp, pp);
        free(g);
        free(p);
    }
    db_names_free(&list);
    *maps = n;
    return s;
}

static void json_num(double v) {
    if (isnan(v)) printf("null");
    else printf("%.17g", v);
}

static int miou(int argc, char **argv) {
    const char *gt = NULL, *pred = NULL;
    long classes = 21, ignore = 255;
    int json = 0, k;
    store_to to = {NULL, 0, 0};
    for (int i = 2; i < argc; i++) {
        if ((k = store_arg("eval miou", argc, argv, &i, &to)) != 0) {
            if (k < 0) return DB_EXIT_USAGE;
        } else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--gt") && db_cli_has_value(argc, argv, i)) gt = argv[++i];
        else if (!strcmp(argv[i], "--pred") && db_cli_has_value(argc, argv, i)) pred = argv[++i];
        else if (!strcmp(argv[i], "--classes") || !strcmp(argv[i], "--ignore")) {
            const int cl = argv[i][2] == 'c';
            if (!db_cli_long_opt("eval miou", argv[i], db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL, cl ? 1 : 0, cl ? 256 : 255,
                                 cl ? &classes : &ignore))
                return DB_EXIT_USAGE;
            i++;
        }
        else {
            static const char *const valued[] = {"--gt", "--pred", "--classes", "--ignore", "--db", "--run", "--epoch", NULL};
            db_cli_refuse("eval miou", argv[i], valued);
            usage(stderr);
            return DB_EXIT_USAGE;
        }
    }
    if (!gt || !pred) { fprintf(stderr, "dropbench eval miou: --gt and --pred are needed\n"); return DB_EXIT_USAGE; }
    db_miou m;
    db_status s = db_miou_init(&m, (int)classes, (int)ignore);
    if (s != DB_OK) return db_cli_error(s);
    int maps = 0;
    double t0 = db_now();
    s = score_maps(gt, pred, &m, &maps);
    db_miou_result r = {0};
    if (s == DB_OK) s = db_miou_compute(&m, &r);
    if (s == DB_OK) { /* into the run's metrics: the three scores and each class's IoU (NULL where undefined) */
        db_metric *mt = malloc(sizeof *mt * (size_t)(3 + r.classes));
        char (*nm)[16] = malloc(sizeof *nm * (size_t)(r.classes ? r.classes : 1));
        if (!mt || !nm) s = db_fail(DB_ERR_NOMEM, "out of memory");
        if (s == DB_OK) {
            mt[0] = (db_metric){"eval", "miou", r.miou};
            mt[1] = (db_metric){"eval", "pixel_accuracy", r.pixel_accuracy};
            mt[2] = (db_metric){"eval", "mean_class_accuracy", r.mean_class_accuracy};
            for (int c = 0; c < r.classes; c++) {
                snprintf(nm[c], sizeof nm[c], "iou_%d", c);
                mt[3 + c] = (db_metric){"eval", nm[c], r.iou[c]};
            }
            s = store(&to, mt, 3 + r.classes);
        }
        free(mt);
        free(nm);
    }
    if (s != DB_OK) { db_miou_result_free(&r); db_miou_free(&m); return db_cli_error(s); }
    if (json) {
        printf("{\"maps\":%d,\"pixels\":%llu,\"ignored\":%llu,\"miou\":", maps, (unsigned long long)m.pixels,
               (unsigned long long)m.ignored);
        json_num(r.miou);
        printf(",\"pixel_accuracy\":");
        json_num(r.pixel_accuracy);
        printf(",\"mean_class_accuracy\":");
        json_num(r.mean_class_accuracy);
        printf(",\"iou\":[");
        for (int c = 0; c < r.classes; c++) { printf(c ? "," : ""); json_num(r.iou[c]); }
        printf("],\"accuracy\":[");
        for (int c = 0; c < r.classes; c++) { printf(c ? "," : ""); json_num(r.accuracy[c]); }
        printf("],\"seconds\":%.3f}\n", db_now() - t0);
    } else {
        printf("%d maps, %llu pixels scored, %llu ignored (label %ld)\n", maps, (unsigned long long)m.pixels,
               (unsigned long long)m.ignored, ignore);
        printf("class  IoU     accuracy\n");
        for (int c = 0; c < r.classes; c++) {
            if (isnan(r.iou[c])) printf("%5d  -       -        (absent from both)\n", c);
            else if (isnan(r.accuracy[c])) printf("%5d  %.4f  -        (not in the ground truth)\n", c, r.iou[c]);
            else printf("%5d  %.4f  %.4f\n", c, r.iou[c], r.accuracy[c]);
        }
        printf("mIOU %.4f over %d classes, pixel accuracy %.4f, mean class accuracy %.4f over %d classes\n", r.miou,
               r.iou_defined, r.pixel_accuracy, r.mean_class_accuracy, r.accuracy_defined);
    }
    db_miou_result_free(&r);
    db_miou_free(&m);
    return DB_EXIT_OK;
}

int db_cmd_eval(int argc, char **argv) {
    if (argc < 2 || db_cli_wants_help(argc, argv)) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
    }
    if (!strcmp(argv[1], "coco")) return coco(argc, argv);
    if (!strcmp(argv[1], "miou")) return miou(argc, argv);
    fprintf(stderr, "dropbench eval: unknown evaluator '%s' (coco or miou)\n", argv[1]);
    return DB_EXIT_USAGE;
}
