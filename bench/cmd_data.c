/* dropbench data list | fetch NAME... | verify NAME... | unpack NAME... | bench | make fmnist-detect:
 * the data-set cache (datasets/fetch.h, datasets/unpack.h), the pipeline's rate, and the sets built
 * here (datasets/fmnist_detect.h) */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <omp.h>
#include <time.h>

#include "bench/cli.h"
#include "train/config.h"
#include "train/train.h"
#include "core/clock.h"
#include "datasets/fetch.h"
#include "datasets/fmnist_detect.h"
#include "datasets/pipeline.h"
#include "datasets/select.h"
#include "datasets/unpack.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: dropbench data list   [--data-dir DIR] [--catalog FILE]\n"
            "       dropbench data fetch  NAME... [--data-dir DIR] [--catalog FILE] [--mirror URL] [--offline]\n"
            "                             [--retries N] [--retry-delay S] [--timeout S] [--connect-timeout S]\n"
            "       dropbench data verify NAME... [--data-dir DIR] [--catalog FILE]\n"
            "       dropbench data unpack NAME... [--data-dir DIR] [--catalog FILE] [--into DIR]\n"
            "       dropbench data bench  [--workers 0,1,2] [--seconds S] [--json] [--KEY VALUE]... (training keys:\n"
            "                             --dataset, --data-dir, --batch, --augment-pad, --synthetic, --threads, ...)\n"
            "       dropbench data make   fmnist-detect [--out DIR] [--data-dir DIR] [--source DIR] [--size 128]\n"
            "                             [--train 30000] [--val 2000] [--items 1,4] [--sides 16,64] [--max-iou 0.3]\n"
            "                             [--seed 1]\n"
            "\n"
            "The cache is --data-dir, else $XDG_CACHE_HOME/dropbench, else ~/.cache/dropbench; a data set's\n"
            "files go to CACHE/NAME/. A download is kept only once its size and checksum match the catalog;\n"
            "a cut one continues where it stopped. --catalog adds or replaces entries with lines of\n"
            "  NAME FILE URL SIZE MD5 SHA256   ('-' for unknown; at least one checksum)\n"
            "--mirror URL fetches each file from URL/FILENAME instead of the publisher. --offline (or\n"
            "DROPBENCH_OFFLINE=1) never uses the network. --timeout: seconds under 1 KiB/s before a try is\n"
            "abandoned (default 60). The usual proxy variables (https_proxy, no_proxy) are honoured.\n"
            "unpack: verifies each archive of the sets, then unpacks it into --into, default CACHE/SET where SET is\n"
            "the name up to its first '-' (coco2017-annotations, coco2017-train and coco2017-val all go to\n"
            "CACHE/coco2017, the dataset coco2017's folder); an interrupted unpack leaves nothing half-written.\n"
            "bench: images/s the batch pipeline delivers (crop, flip, normalisation) with each worker count.\n"
            "make fmnist-detect: a detection set from Fashion-MNIST (--source, default the Debian package or the\n"
            "cache): canvases of --size pixels with --items items each, sides log-uniform in --sides, no two\n"
            "boxes overlapping more than --max-iou; training canvases from the training items, validation\n"
            "from the test items; COCO JSON + PNGs into --out (default CACHE/fmnist-detect), same seed, same bytes.\n");
}

typedef struct {
    const char *dir, *catalog, *into;
    db_fetch_opts fo;
    const char *names[64];
    int n_names;
} data_args;

static int parse(int argc, char **argv, data_args *a) {
    memset(a, 0, sizeof *a);
    db_fetch_defaults(&a->fo);
    a->catalog = getenv("DROPBENCH_CATALOG");
    a->fo.mirror = getenv("DROPBENCH_MIRROR");
    const char *off = getenv("DROPBENCH_OFFLINE");
    a->fo.offline = off && *off && strcmp(off, "0");
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL;
        long n;
        char *end;
        if (!strcmp(o, "--offline")) { a->fo.offline = 1; continue; }
        if (!strcmp(o, "--quiet")) { a->fo.progress = 0; continue; }
        if (o[0] != '-') {
            if (a->n_names == 64) { fprintf(stderr, "dropbench data: too many names\n"); return DB_EXIT_USAGE; }
            a->names[a->n_names++] = o;
            continue;
        }
        if (!v) { fprintf(stderr, "dropbench data: %s needs a value\n", o); return DB_EXIT_USAGE; }
        i++;
        if (!strcmp(o, "--data-dir")) a->dir = v;
        else if (!strcmp(o, "--catalog")) a->catalog = v;
        else if (!strcmp(o, "--into")) a->into = v;
        else if (!strcmp(o, "--mirror")) a->fo.mirror = v;
        else if (!strcmp(o, "--retries") && db_cli_parse_long(v, 0, &n) && n <= 100) a->fo.retries = (int)n;
        else if (!strcmp(o, "--timeout") && db_cli_parse_long(v, 1, &n) && n <= 86400) a->fo.stall_timeout = n;
        else if (!strcmp(o, "--connect-timeout") && db_cli_parse_long(v, 1, &n) && n <= 86400) a->fo.connect_timeout = n;
        else if (!strcmp(o, "--retry-delay") && (a->fo.retry_delay = strtod(v, &end), *v && !*end) &&
                 a->fo.retry_delay >= 0 && a->fo.retry_delay <= 3600) {
        } else {
            fprintf(stderr, "dropbench data: bad option or value: %s %s\n", o, v);
            usage(stderr);
            return DB_EXIT_USAGE;
        }
    }
    return DB_EXIT_OK;
}

static const char *human(int64_t b, char *buf, size_t n) {
    if (b < 0) snprintf(buf, n, "?");
    else if (b >= 1000000000) snprintf(buf, n, "%.1f GB", b / 1e9);
    else if (b >= 1000000) snprintf(buf, n, "%.1f MB", b / 1e6);
    else snprintf(buf, n, "%.1f kB", b / 1e3);
    return buf;
}

/* File i is its set's first in the catalog */
static int first_of_set(const db_catalog *c, int i) {
    for (int j = 0; j < i; j++)
        if (!strcmp(c->files[j].set, c->files[i].set)) return 0;
    return 1;
}

/* Each set once, in catalog order */
static int list(const db_catalog *c, const db_fetch_opts *fo) {
    printf("%-22s %5s %10s  %-28s %s\n", "NAME", "FILES", "SIZE", "IN THE CACHE", "ABOUT");
    for (int i = 0; i < c->n; i++) {
        if (!first_of_set(c, i)) continue;
        int idx[256], n = db_catalog_files(c, c->files[i].set, idx, 256), have = 0, partial = 0;
        int64_t size = 0;
        for (int k = 0; k < n; k++) {
            const db_catalog_file *f = &c->files[idx[k]];
            char path[4200], part[4300];
            db_fetch_path(fo, f, path, sizeof path);
            snprintf(part, sizeof part, "%s.part", path);
            struct stat st;
            have += stat(path, &st) == 0 && (f->size < 0 || st.st_size == f->size);
            partial += stat(part, &st) == 0;
            size = size < 0 || f->size < 0 ? -1 : size + f->size;
        }
        char sz[32], state[64];
        snprintf(state, sizeof state, "%d of %d%s", have, n, partial ? " (a download in part)" : "");
        printf("%-22s %5d %10s  %-28s %s\n", c->files[i].set, n, human(size, sz, sizeof sz), state,
               db_catalog_about(c->files[i].set));
    }
    printf("cache: %s\n", fo->root);
    for (int i = 0; i < c->n; i++) { /* where training reads a set from when that is not the cache */
        const char *origin = NULL;
        char dir[4200];
        db_data_spec d = {.name = c->files[i].set};
        if (first_of_set(c, i) && db_data_known(d.name) && (db_data_dir(&d, dir, sizeof dir, &origin), strstr(origin, "Debian")))
            printf("%s: training reads %s (%s) before the cache\n", d.name, dir, origin);
    }
    char made[4300];
    snprintf(made, sizeof made, "%s/fmnist-detect/make.txt", fo->root);
    if (access(made, R_OK) == 0)
        printf("fmnist-detect, fmnist-segment: built here (dropbench data make fmnist-detect; %s)\n", made);
    return DB_EXIT_OK;
}

/* fetch (verify = 0) or verify every file of every named set; goes on past a failed file */
static int each_file(const db_catalog *c, const data_args *a, int verify) {
    int failed = 0, missing = 0;
    for (int s = 0; s < a->n_names; s++) {
        int idx[256], n = db_catalog_files(c, a->names[s], idx, 256);
        if (!n) {
            fprintf(stderr, "dropbench data: unknown data set '%s' (dropbench data list shows them; ImageNet must be "
                    "downloaded by hand after registering, then given as data_dir)\n", a->names[s]);
            return DB_EXIT_USAGE;
        }
        for (int k = 0; k < n; k++) {
            const db_catalog_file *f = &c->files[idx[k]];
            db_digest d;
            char path[4200];
            db_fetch_path(&a->fo, f, path, sizeof path);
            int cached = 0;
            db_status st = verify ? db_verify_file(f, path, &d) : db_fetch_file(f, &a->fo, &cached, &d);
            if (st != DB_OK) {
                fprintf(stderr, "dropbench data: %s\n", db_last_error());
                failed++;
                missing += verify && access(path, F_OK) != 0;
                continue;
            }
            printf("%s/%s: ok (%s%s), sha256 %s\n", f->set, f->file, verify || cached ? "in the cache, " : "fetched, ",
                   f->md5[0] ? "MD5 verified" : "SHA-256 verified", d.sha256);
        }
        const char *origin = NULL;
        char dir[4200];
        db_data_spec ds = {.name = a->names[s]};
        if (missing && db_data_known(ds.name) && (db_data_dir(&ds, dir, sizeof dir, &origin), strstr(origin, "Debian")))
            fprintf(stderr, "dropbench data: %s is not in the cache, and training does not need it there: it reads %s "
                    "(%s), files the catalog's checksums do not cover (Debian recompresses them; each run records "
                    "their SHA-256)\n", ds.name, dir, origin);
        missing = 0;
    }
    return failed ? DB_EXIT_FAIL : DB_EXIT_OK;
}

/* verify, then unpack every archive of every named set */
static int unpack(const db_catalog *c, const data_args *a) {
    for (int s = 0; s < a->n_names; s++) {
        int idx[256], n = db_catalog_files(c, a->names[s], idx, 256);
        if (!n) {
            fprintf(stderr, "dropbench data unpack: unknown data set '%s' (dropbench data list shows them)\n", a->names[s]);
            return DB_EXIT_USAGE;
        }
        char dest[4200];
        if (a->into) snprintf(dest, sizeof dest, "%s", a->into);
        else snprintf(dest, sizeof dest, "%s/%.*s", a->fo.root, (int)strcspn(a->names[s], "-"), a->names[s]);
        for (int k = 0; k < n; k++) {
            const db_catalog_file *f = &c->files[idx[k]];
            db_digest d;
            db_unpack_stats st;
            char path[4200], size[32];
            db_fetch_path(&a->fo, f, path, sizeof path);
            db_status e = db_verify_file(f, path, &d);
            if (e == DB_OK) e = db_unpack(path, dest, &st);
            if (e != DB_OK) {
                fprintf(stderr, "dropbench data unpack: %s%s\n", db_last_error(),
                        e == DB_ERR_IO && access(path, R_OK) != 0 ? " (dropbench data fetch brings it)" : "");
                return DB_EXIT_FAIL;
            }
            printf("%s/%s: %ld files, %ld folders, %s into %s (", f->set, f->file, st.files, st.dirs,
                   human(st.bytes, size, sizeof size), dest);
            for (int t = 0; t < st.n_top && t < 8; t++) printf("%s%s", t ? ", " : "", st.top[t]);
            printf("%s)\n", st.n_top > 8 ? ", ..." : "");
        }
    }
    return DB_EXIT_OK;
}

/* images/s of the training pipeline for `workers`, over whole epochs until `seconds` pass */
static db_status pipeline_rate(const db_config *cfg, const db_dataset *d, int workers, double seconds, double *rate) {
    db_norm norm;
    DB_TRY(db_norm_compute(d, &norm));
    db_augment aug = db_train_augment(cfg);
    const int B = cfg->batch, steps = d->n / B;
    if (steps < 1) return db_fail(DB_ERR_ARG, "batch %d is larger than the %d samples", B, d->n);
    int *order = malloc(sizeof(int) * (size_t)d->n), *labels = malloc(sizeof(int) * (size_t)B);
    float *input = malloc(sizeof(float) * (size_t)d->c * B * d->h * d->w);
    if (!order || !labels || !input) { free(order); free(labels); free(input); return db_fail(DB_ERR_NOMEM, "out of memory"); }
    db_status s = DB_OK;
    long images = 0;
    double t0 = db_now();
    for (uint32_t epoch = 0; s == DB_OK && db_now() - t0 < seconds; epoch++) {
        db_epoch_order(d->n, cfg->seed, epoch, order);
        db_pipeline_cfg pc = {d, order, B, 0, steps, &aug, &norm, cfg->seed, epoch, workers, 2 * workers};
        db_pipeline *p;
        if ((s = db_pipeline_start(&p, &pc)) != DB_OK) break;
        for (int i = 0; i < steps && s == DB_OK && db_now() - t0 < seconds; i++) {
            s = db_pipeline_take(p, input, labels);
            if (s == DB_OK) images += B;
        }
        db_pipeline_stop(p);
    }
    *rate = images / (db_now() - t0);
    free(order); free(labels); free(input);
    return s;
}

static int bench(int argc, char **argv) {
    db_config cfg;
    db_config_defaults(&cfg);
    const char *workers = "0,1,2";
    double seconds = 3;
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) { json = 1; continue; }
        if (strncmp(argv[i], "--", 2) || !db_cli_has_value(argc, argv, i)) {
            fprintf(stderr, "dropbench data bench: %s '%s'\n", strncmp(argv[i], "--", 2) ? "bad argument" :
                    "an option without its value", argv[i]);
            return DB_EXIT_USAGE;
        }
        const char *k = argv[i] + 2, *v = argv[++i];
        char *end;
        if (!strcmp(k, "workers")) workers = v;
        else if (!strcmp(k, "seconds")) {
            seconds = strtod(v, &end);
            if (*end || !(seconds > 0 && seconds < 3600)) { fprintf(stderr, "dropbench data bench: --seconds %s\n", v); return DB_EXIT_USAGE; }
        } else {
            db_status s = db_config_set(&cfg, k, v);
            if (s != DB_OK) return db_cli_error(s);
        }
    }
    db_status s = db_config_validate(&cfg);
    if (s != DB_OK) return db_cli_error(s);
    omp_set_num_threads(cfg.threads);
    db_dataset train, test;
    db_data_spec spec = db_config_data(&cfg);
    if ((s = db_config_runnable(&cfg)) != DB_OK || (s = db_data_load(&spec, &train, &test)) != DB_OK) return db_cli_error(s);
    db_dataset_free(&test);
    int rc = DB_EXIT_OK;
    for (const char *p = workers; *p && rc == DB_EXIT_OK;) {
        long w;
        char item[16];
        size_t len = strcspn(p, ",");
        snprintf(item, sizeof item, "%.*s", (int)(len < 15 ? len : 15), p);
        p += len + (p[len] == ',');
        if (!db_cli_parse_long(item, 0, &w) || w > 64) {
            fprintf(stderr, "dropbench data bench: --workers takes counts 0..64, got '%s'\n", item);
            rc = DB_EXIT_USAGE;
            break;
        }
        double rate = 0;
        if ((s = pipeline_rate(&cfg, &train, (int)w, seconds, &rate)) != DB_OK) { rc = db_cli_error(s); break; }
        if (json)
            printf("{\"dataset\":\"%s\",\"shape\":[%d,%d,%d],\"batch\":%d,\"augment\":\"%s\",\"augment_pad\":%d,"
                   "\"flip\":%d,\"workers\":%ld,\"threads\":%d,\"images_per_s\":%.1f}\n",
                   cfg.dataset, train.c, train.h, train.w, cfg.batch, cfg.augment, cfg.augment_pad, cfg.augment_flip, w,
                   cfg.threads, rate);
        else if (!strcmp(cfg.augment, "inception"))
            printf("%s %dx%dx%d batch %d (random resized crop, area >= %g, flip %d): %ld worker%s: %.0f images/s\n",
                   cfg.dataset, train.c, train.h, train.w, cfg.batch, (double)cfg.crop_area_min, cfg.augment_flip, w,
                   w == 1 ? "" : "s", rate);
        else
            printf("%s %dx%dx%d batch %d (pad %d, flip %d): %ld worker%s: %.0f images/s\n", cfg.dataset, train.c, train.h,
                   train.w, cfg.batch, cfg.augment_pad, cfg.augment_flip, w, w == 1 ? "" : "s", rate);
    }
    db_dataset_free(&train);
    return rc;
}


/* "a,b" into two numbers */
static int parse_pair(const char *v, double *a, double *b) {
    char *end;
    *a = strtod(v, &end);
    if (end == v || *end != ',') return 0;
    const char *w = end + 1;
    *b = strtod(w, &end);
    return end != w && !*end;
}

static int make(int argc, char **argv) {
    if (argc < 3 || strcmp(argv[2], "fmnist-detect")) {
        fprintf(stderr, "dropbench data make: the sets built here: fmnist-detect\n");
        return DB_EXIT_USAGE;
    }
    db_fmd_cfg c = db_fmd_defaults();
    const char *out = NULL, *dir = NULL, *source = NULL;
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i], *v = db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL;
        long n;
        double a, b;
        char *end;
        if (!v) { fprintf(stderr, "dropbench data make: %s needs a value\n", o); return DB_EXIT_USAGE; }
        i++;
        if (!strcmp(o, "--out")) out = v;
        else if (!strcmp(o, "--data-dir")) dir = v;
        else if (!strcmp(o, "--source")) source = v;
        else if (!strcmp(o, "--size") && db_cli_parse_long(v, 1, &n) && n <= 1 << 20) c.size = (int)n;
        else if (!strcmp(o, "--train") && db_cli_parse_long(v, 1, &n) && n <= 1 << 30) c.n_train = (int)n;
        else if (!strcmp(o, "--val") && db_cli_parse_long(v, 1, &n) && n <= 1 << 30) c.n_val = (int)n;
        else if (!strcmp(o, "--seed") && db_cli_parse_long(v, 0, &n)) c.seed = (uint64_t)n;
        else if (!strcmp(o, "--items") && parse_pair(v, &a, &b) && a == (int)a && b == (int)b && fabs(a) < 1e6 &&
                 fabs(b) < 1e6)
            c.min_items = (int)a, c.max_items = (int)b;
        else if (!strcmp(o, "--sides") && parse_pair(v, &a, &b)) c.min_side = (float)a, c.max_side = (float)b;
        else if (!strcmp(o, "--max-iou") && (a = strtod(v, &end), end != v && !*end)) c.max_iou = (float)a;
        else {
            fprintf(stderr, "dropbench data make: bad option or value: %s %s\n", o, v);
            return DB_EXIT_USAGE;
        }
    }
    db_status s = db_fmd_check(&c);
    if (s != DB_OK) return db_cli_error(s);
    char root[4096], outbuf[4200], src[4096];
    if (!out) {
        if ((s = db_data_root(dir, root, sizeof root)) != DB_OK) return db_cli_error(s);
        snprintf(outbuf, sizeof outbuf, "%s/fmnist-detect", root);
        out = outbuf;
    }
    if (!source) {
        db_data_spec spec = {0};
        spec.name = "fashion-mnist";
        source = db_data_dir(&spec, src, sizeof src, NULL);
    }
    db_fmd_stats st[2];
    double t0 = db_now();
    if ((s = db_fmd_make(source, out, &c, st)) != DB_OK) return db_cli_error(s);
    printf("fmnist-detect: %s (from %s, seed %llu, %.1f s)\n", out, source, (unsigned long long)c.seed, db_now() - t0);
    printf("%-6s %7s %8s %8s %6s %6s %6s %22s  %s\n", "split", "images", "objects", "unplaced", "small", "medium",
           "large", "box side min/mean/max", "objects per image");
    static const char *const names[2] = {"train", "val"};
    for (int k = 0; k < 2; k++) {
        printf("%-6s %7ld %8ld %8ld %6ld %6ld %6ld %8.1f %6.1f %6.1f ", names[k], st[k].images, st[k].objects,
               st[k].unplaced, st[k].small, st[k].medium, st[k].large, st[k].side_min, st[k].side_mean, st[k].side_max);
        for (int m = 0; m <= c.max_items; m++)
            if (st[k].per_image[m]) printf(" %d:%ld", m, st[k].per_image[m]);
        printf("\n");
    }
    return DB_EXIT_OK;
}

int db_cmd_data(int argc, char **argv) {
    if (argc < 2 || db_cli_wants_help(argc, argv)) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "bench")) return bench(argc, argv);
    if (!strcmp(sub, "make")) return make(argc, argv);
    if (strcmp(sub, "list") && strcmp(sub, "fetch") && strcmp(sub, "verify") && strcmp(sub, "unpack")) {
        fprintf(stderr, "dropbench data: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return DB_EXIT_USAGE;
    }
    data_args a;
    int rc = parse(argc, argv, &a);
    if (rc != DB_EXIT_OK) return rc;
    if (a.into && strcmp(sub, "unpack")) {
        fprintf(stderr, "dropbench data %s: --into is for unpack\n", sub);
        return DB_EXIT_USAGE;
    }
    if (strcmp(sub, "list") && !a.n_names) {
        fprintf(stderr, "dropbench data %s: name a data set (dropbench data list)\n", sub);
        return DB_EXIT_USAGE;
    }
    if (!strcmp(sub, "list") && a.n_names) {
        fprintf(stderr, "dropbench data list: takes no names\n");
        return DB_EXIT_USAGE;
    }
    char root[4096];
    db_status s = db_data_root(a.dir, root, sizeof root);
    if (s != DB_OK) return db_cli_error(s);
    a.fo.root = root;
    db_catalog c;
    if ((s = db_catalog_load(&c, a.catalog)) != DB_OK) return db_cli_error(s);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        db_catalog_free(&c);
        fprintf(stderr, "dropbench data: libcurl did not start\n");
        return DB_EXIT_FAIL;
    }
    rc = !strcmp(sub, "list")     ? list(&c, &a.fo)
         : !strcmp(sub, "unpack") ? unpack(&c, &a)
                                  : each_file(&c, &a, !strcmp(sub, "verify"));
    curl_global_cleanup();
    db_catalog_free(&c);
    return rc;
}
