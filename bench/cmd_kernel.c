/* dropbench kernel: one regularizer kernel alone, forward and backward, on a random tensor:
 * the realised dropped fraction, the time per call and the effective bandwidth. */
#include <omp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "dropouts/dropblock.h"
#include "dropouts/dropout.h"
#include "dropouts/kernel_time.h"

static void usage(FILE *f) {
    fprintf(f, "usage: dropbench kernel dropout|spatial-dropout --shape N,C,H,W --keep-prob P\n"
               "       dropbench kernel dropblock --shape N,C,H,W --keep-prob P --block-size K\n"
               "                        [--semantics NAME] [--per-sample]\n"
               "       each also [--seed S] [--reps R] [--threads T] [--device cpu|cuda] [--json]\n"
               "Runs forward and backward R times (a new mask each time) and prints the realised\n"
               "dropped fraction, the milliseconds per forward+backward and the effective GB/s\n"
               "(16 bytes per element: the forward reads and writes one float, the backward too), and\n"
               "the same against a plain copy of those tensors timed in the same run.\n"
               "DropBlock semantics: paper (default), timm, torchvision, miguelvr, darknet\n"
               "(shared/reference/dropblock.md, section 3).\n");
}

/* The peer every kernel is held to: a plain copy of the same tensors (forward: x to y,
 * backward: dy to dx), threaded the same way, measured in the same run. Seconds per pair. */
static double copy_seconds(float *y, const float *x, float *dx, const float *dy, size_t len, long reps) {
    double t0 = 0.0;
    for (long r = -1; r < reps; r++) {
        if (r == 0) t0 = omp_get_wtime();
        #pragma omp parallel
        {
            size_t per = (len + (size_t)omp_get_num_threads() - 1) / (size_t)omp_get_num_threads();
            size_t lo = per * (size_t)omp_get_thread_num(), hi = lo + per < len ? lo + per : len;
            if (lo < hi) {
                memcpy(y + lo, x + lo, (hi - lo) * sizeof(float));
                memcpy(dx + lo, dy + lo, (hi - lo) * sizeof(float));
            }
        }
    }
    return (omp_get_wtime() - t0) / reps;
}

int db_cmd_kernel(int argc, char **argv) {
    if (argc < 2 || db_cli_wants_help(argc, argv)) { usage(argc < 2 ? stderr : stdout); return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK; }
    const char *kind = argv[1], *device = "cpu";
    int spatial = !strcmp(kind, "spatial-dropout"), dropblock = !strcmp(kind, "dropblock");
    if (!spatial && !dropblock && strcmp(kind, "dropout") != 0) {
        fprintf(stderr, "dropbench kernel: unknown kernel '%s' (dropout, spatial-dropout, dropblock)\n", kind);
        return DB_EXIT_USAGE;
    }
    db_dropblock_cfg bcfg = {0, 0, DB_SEM_PAPER};
    long shape[4] = {0}, reps = 10, threads = 2, seed = 1;
    double keep = -1;
    int json = 0, have_shape = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (!strcmp(a, "--per-sample")) { bcfg.per_sample = 1; continue; }
        if (!v) { fprintf(stderr, "dropbench kernel: %s needs a value\n", a); return DB_EXIT_USAGE; }
        i++;
        char tail;
        if (!strcmp(a, "--shape")) {
            /* each side at most 2^20 and the whole at most 2^31 values: no product wraps */
            have_shape = sscanf(v, "%9ld,%9ld,%9ld,%9ld%c", &shape[0], &shape[1], &shape[2], &shape[3], &tail) == 4 &&
                         shape[0] > 0 && shape[1] > 0 && shape[2] > 0 && shape[3] > 0 && shape[0] <= 1 << 20 &&
                         shape[1] <= 1 << 20 && shape[2] <= 1 << 20 && shape[3] <= 1 << 20;
            if (!have_shape) { fprintf(stderr, "dropbench kernel: --shape wants N,C,H,W (positive), got '%s'\n", v); return DB_EXIT_USAGE; }
        } else if (!strcmp(a, "--keep-prob")) {
            char *end;
            keep = strtod(v, &end);
            if (*end || !(keep > 0.0 && keep <= 1.0)) {
                fprintf(stderr, "dropbench kernel: --keep-prob must be in (0, 1], got '%s'\n", v);
                return DB_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--seed") || !strcmp(a, "--reps") || !strcmp(a, "--threads")) {
            long *t = !strcmp(a, "--seed") ? &seed : !strcmp(a, "--reps") ? &reps : &threads;
            if (!db_cli_long_opt("kernel", a, v, t == &seed ? 0 : 1, t == &threads ? 1024 : t == &reps ? 1000000 : LONG_MAX, t))
                return DB_EXIT_USAGE;
        } else if (!strcmp(a, "--block-size")) {
            long kb;
            if (!db_cli_parse_long(v, 1, &kb) || kb > 100000) {
                fprintf(stderr, "dropbench kernel: --block-size wants a whole number >= 1, got '%s'\n", v);
                return DB_EXIT_USAGE;
            }
            bcfg.block_size = (int)kb;
        } else if (!strcmp(a, "--semantics")) {
            db_status st = db_semantics_parse(v, &bcfg.sem);
            if (st != DB_OK) return db_cli_error(st);
        } else if (!strcmp(a, "--device")) {
            device = v;
            if (strcmp(v, "cpu") != 0 && strcmp(v, "cuda") != 0) {
                fprintf(stderr, "dropbench kernel: --device is cpu or cuda, got '%s'\n", v);
                return DB_EXIT_USAGE;
            }
        } else { fprintf(stderr, "dropbench kernel: unknown option '%s'\n", a); return DB_EXIT_USAGE; }
    }
    if (!have_shape || keep < 0) {
        fprintf(stderr, "dropbench kernel: %s\n", !have_shape ? "--shape N,C,H,W is needed (the tensor's batch, channels, height, width)"
                                                               : "--keep-prob P is needed (in (0, 1])");
        return DB_EXIT_USAGE;
    }
    if (dropblock && bcfg.block_size < 1) { fprintf(stderr, "dropbench kernel: dropblock needs --block-size K (a whole number >= 1)\n"); return DB_EXIT_USAGE; }
    const double whole = (double)shape[0] * shape[1] * shape[2] * shape[3]; /* (in double: 2^80 at most) */
    size_t len = whole > (double)((size_t)1 << 31) ? ((size_t)1 << 31) + 1 : (size_t)shape[0] * shape[1] * shape[2] * shape[3];
    if (len > ((size_t)1 << 31)) { fprintf(stderr, "dropbench kernel: the tensor is too large\n"); return DB_EXIT_USAGE; }
    omp_set_dynamic(0);
    omp_set_num_threads((int)threads);
    int n = (int)shape[0], c = (int)shape[1], h = (int)shape[2], w = (int)shape[3];
    float *x = malloc(len * sizeof(float)), *y = malloc(len * sizeof(float));
    float *dy = malloc(len * sizeof(float)), *dx = malloc(len * sizeof(float));
    uint8_t *mask = dropblock ? malloc(len) : NULL;
    float *scales = dropblock ? malloc((size_t)n * sizeof(float)) : NULL;
    if (!x || !y || !dy || !dx || (dropblock && (!mask || !scales))) {
        free(x); free(y); free(dy); free(dx); free(mask); free(scales);
        return db_cli_error(db_fail(DB_ERR_NOMEM, "cannot allocate 4 tensors of %zu floats", len));
    }
    for (size_t i = 0; i < len; i++) {
        db_u32x4 r = db_rand4((uint64_t)seed, 97, 0, i);
        x[i] = db_u01(r.v[0]) - 0.5f;
        dy[i] = db_u01(r.v[1]) - 0.5f;
    }
    db_drop_key key = {(uint64_t)seed, 0, 0, (float)keep};
    db_status s = db_drop_check(&key, c, n, h, w);
    if (s == DB_OK && dropblock) s = db_dropblock_check(&key, &bcfg, c, n, h, w);
    if (s != DB_OK) { free(x); free(y); free(dy); free(dx); free(mask); free(scales); return db_cli_error(s); }
    uint64_t dropped = 0;
    double t0 = 0.0, sec = 0.0, copy = 0.0;
    char devname[300] = "cpu";
    if (!strcmp(device, "cuda")) {
        db_kernel_timing kt;
        s = db_kernel_time_cuda(dropblock ? DB_KERNEL_DROPBLOCK : spatial ? DB_KERNEL_SPATIAL : DB_KERNEL_DROPOUT,
                                &bcfg, &key, x, dy, c, n, h, w, reps, &kt);
        if (s != DB_OK) { free(x); free(y); free(dy); free(dx); free(mask); free(scales); return db_cli_error(s); }
        dropped = kt.dropped;
        sec = kt.ms_per_call / 1e3;
        copy = kt.copy_ms / 1e3;
        snprintf(devname, sizeof devname, "cuda: %s", kt.device);
        goto report;
    }
    for (long r = -1; r < reps; r++) { /* r = -1: an untimed warm-up that touches every page */
        if (r == 0) { dropped = 0; t0 = omp_get_wtime(); }
        key.step = (uint32_t)(r + 1);
        if (dropblock) {
            dropped += db_dropblock_forward(y, mask, scales, x, &key, &bcfg, c, n, h, w);
            db_dropblock_backward(dx, dy, mask, scales, c, n, h, w, 0);
        } else if (spatial) {
            dropped += db_spatial_dropout_forward(y, x, &key, c, n, h, w);
            db_spatial_dropout_backward(dx, dy, &key, c, n, h, w, 0);
        } else {
            dropped += db_dropout_forward(y, x, &key, c, n, h, w);
            db_dropout_backward(dx, dy, &key, c, n, h, w, 0);
        }
    }
    sec = (omp_get_wtime() - t0) / reps;
    copy = copy_seconds(y, x, dx, dy, len, reps);
report:;
    double frac = (double)dropped / ((double)len * reps), gbs = 16.0 * len / sec / 1e9;
    double expect = dropblock ? db_dropblock_expected_fraction(&bcfg, (float)keep, h, w) : 1.0 - keep;
    if (json)
        printf("{\"kernel\":\"%s\",\"shape\":[%d,%d,%d,%d],\"keep_prob\":%g,\"seed\":%ld,\"reps\":%ld,\"threads\":%ld,"
               "\"device\":\"%s\",\"semantics\":\"%s\",\"block_size\":%d,\"drop_fraction\":%.6f,\"expected_fraction\":%.6f,\"ms_per_call\":%.4f,\"gb_per_s\":%.3f,"
               "\"copy_ms_per_call\":%.4f,\"vs_copy\":%.3f}\n",
               kind, n, c, h, w, keep, seed, reps, threads, devname, dropblock ? db_semantics_name(bcfg.sem) : "", bcfg.block_size, frac, expect, sec * 1e3, gbs, copy * 1e3,
               sec / copy);
    else
        printf("%s %dx%dx%dx%d keep_prob %g: dropped %.4f (expected %.4f), %.3f ms per forward+backward, %.2f GB/s, "
               "%.2fx a plain copy (%.3f ms) (%ld reps, %ld threads, %s)\n",
               kind, n, c, h, w, keep, frac, expect, sec * 1e3, gbs, sec / copy, copy * 1e3, reps, threads, devname);
    free(x); free(y); free(dy); free(dx); free(mask); free(scales);
    return DB_EXIT_OK;
}
