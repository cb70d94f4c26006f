/* dropbench bench: training images/s of a network on synthetic data (forward, loss, backward,
 * SGD step), the median of three timed windows after a warm-up. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/cli.h"
#include "core/clock.h"
#include "core/gemm.h"
#include "core/philox.h"
#include "dropouts/dropblock.h"
#include "nets/conv_dnnl.h"
#include "nets/amoebanet.h"
#include "nets/model.h"
#include "nets/retinanet.h"
#include "nets/segnet.h"
#include "nets/optim.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The machine's attainable single-precision rate on these threads: the BLAS's SGEMM of 1024^3,
 * the best of ten (GFLOP/s; on a shared VM single runs varied 2x) -- what a convolution's rate is
 * set beside */
static double gemm_peak(void) {
    const int m = 1024;
    float *a = calloc((size_t)m * m, sizeof(float)), *b = calloc((size_t)m * m, sizeof(float)),
          *c = calloc((size_t)m * m, sizeof(float));
    double best = 0;
    for (int i = 0; a && b && c && i < (int)((size_t)m * m); i++) { a[i] = (float)(i % 7) * 0.1f; b[i] = (float)(i % 5) * 0.1f; }
    for (int r = 0; a && b && c && r < 11; r++) {
        double t0 = db_now();
        db_sgemm(0, 0, m, m, m, 1.0f, a, m, b, m, 0.0f, c, m);
        double gf = 2.0 * m * m * m / (db_now() - t0) / 1e9;
        if (r > 0 && gf > best) best = gf; /* the first warms up */
    }
    free(a); free(b); free(c);
    return best;
}

/* Milliseconds per step by op kind, forward and backward; each convolution's time and rate
 * beside the machine's SGEMM rate. */
static void print_profile(db_graph *g, double nsteps) {
    double f[DB_OP_KINDS] = {0}, b[DB_OP_KINDS] = {0}, total = 0;
    for (int i = 0; i < g->n_ops; i++) {
        f[g->ops[i].kind] += g->op_seconds[2 * i];
        b[g->ops[i].kind] += g->op_seconds[2 * i + 1];
    }
    for (int k = 0; k < DB_OP_KINDS; k++) total += f[k] + b[k];
    printf("%-10s %10s %10s %7s\n", "op", "fwd ms", "bwd ms", "share");
    for (int k = 0; k < DB_OP_KINDS; k++)
        if (f[k] + b[k] > 0)
            printf("%-10s %10.2f %10.2f %6.1f%%%s\n", db_op_kind_name((db_op_kind)k), 1e3 * f[k] / nsteps, 1e3 * b[k] / nsteps,
                   100 * (f[k] + b[k]) / total, k == DB_OP_REG ? "  (DropBlock: its mask draws; the apply is fused into bn and add)" : "");
    double peak = gemm_peak(), flops_all = 0, secs_all = 0;
    printf("convolutions (%s; GFLOP/s beside this machine's SGEMM, %.0f GFLOP/s on %d threads):\n",
           db_dnnl_enabled() ? db_dnnl_describe() : "GEMM path", peak, g->threads);
    printf("  %-22s %-24s %8s %8s %8s %8s %6s  %s\n", "", "", "fwd ms", "bwd ms", "fwd GF/s", "bwd GF/s", "of peak",
           "path");
    for (int i = 0; i < g->n_ops; i++) {
        const db_op *op = &g->ops[i];
        if (op->kind != DB_OP_CONV) continue;
        const db_conv_dims *d = &op->u.conv;
        double fwd = 2.0 * d->cout * d->cin * d->kh * d->kw * d->oh * d->ow * g->n;
        double bwd = (g->tensors[op->in[0]].grad ? 2.0 : 1.0) * fwd; /* the input gradient, then the weights' */
        double tf = g->op_seconds[2 * i] / nsteps, tb = g->op_seconds[2 * i + 1] / nsteps;
        flops_all += fwd + bwd;
        secs_all += tf + tb;
        char ks[32]; /* k3 s1, or k1x7 s1x2 for a rectangular kernel or stride (rows x columns, as "1x7") */
        if (d->kh == d->kw && d->sh == d->sw) snprintf(ks, sizeof ks, "k%d s%d", d->kh, d->sh);
        else snprintf(ks, sizeof ks, "k%dx%d s%dx%d", d->kh, d->kw, d->sh, d->sw);
        printf("  %-22s %3d->%-3d %-7s %3dx%-3d %8.2f %8.2f %8.1f %8.1f %5.0f%%  %s\n", g->params[op->param[0]].name,
               d->cin, d->cout, ks, d->oh, d->ow, 1e3 * tf, 1e3 * tb, fwd / tf / 1e9, bwd / tb / 1e9,
               peak > 0 ? 100 * (fwd + bwd) / (tf + tb) / 1e9 / peak : 0.0,
               op->dnnl ? "oneDNN" : db_conv_whole_batch(d, g->n, g->threads) ? "GEMM, whole batch" : "GEMM");
    }
    if (secs_all > 0)
        printf("  all convolutions: %.1f GFLOP/s, %.0f%% of the SGEMM rate\n", flops_all / secs_all / 1e9,
               peak > 0 ? 100 * flops_all / secs_all / 1e9 / peak : 0.0);
    free(g->op_seconds);
    g->op_seconds = NULL;
}

int db_cmd_bench(int argc, char **argv) {
    const char *model = "resnet20";
    int c = 1, h = 28, w = 28, batch = 128, threads = 2, warmup = 3, steps = 10, json = 0, classes = 0, profile = 0;
    int dropblock = 0, cells = 0, width = 0; /* AmoebaNet: normal cells in all and F (0: the model's own) */
    db_semantics sem = DB_SEM_PAPER;
    char shortcut = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = db_cli_has_value(argc, argv, i) ? argv[i + 1] : NULL;
        long num = 0;
        int *target = !strcmp(a, "--batch") ? &batch : !strcmp(a, "--threads") ? &threads
                    : !strcmp(a, "--warmup") ? &warmup : !strcmp(a, "--steps") ? &steps
                    : !strcmp(a, "--classes") ? &classes : !strcmp(a, "--cells") ? &cells
                    : !strcmp(a, "--width") ? &width : NULL;
        if (target) {
            long min = target == &warmup ? 0 : target == &classes ? 2 : 1;
            if (!v || !db_cli_parse_long(v, min, &num) || num > 1000000) {
                fprintf(stderr, "dropbench bench: %s wants an integer >= %ld, got '%s'\n", a, min, v ? v : "");
                return DB_EXIT_USAGE;
            }
            *target = (int)num;
            i++;
        } else if (!strcmp(a, "--model") && v) { model = v; i++; }
        else if (!strcmp(a, "--input") && v) {
            if (!db_cli_parse_shape(argv[++i], &c, &h, &w)) {
                fprintf(stderr, "dropbench bench: --input wants C,H,W, got '%s'\n", argv[i]);
                return DB_EXIT_USAGE;
            }
        } else if (!strcmp(a, "--shortcut") && v) {
            if (strcmp(v, "A") && strcmp(v, "B")) {
                fprintf(stderr, "dropbench bench: --shortcut is A or B, got '%s'\n", v);
                return DB_EXIT_USAGE;
            }
            shortcut = v[0];
            i++;
        }
        else if (!strcmp(a, "--col-cap") && v) {
            if (!db_cli_parse_long(v, 1, &num)) {
                fprintf(stderr, "dropbench bench: --col-cap wants a positive number of floats, got '%s'\n", v);
                return DB_EXIT_USAGE;
            }
            db_conv_set_col_cap((size_t)num);
            i++;
        } else if (!strcmp(a, "--dropblock") && v) { /* DropBlock of this block size at every site */
            if (!db_cli_parse_long(v, 1, &num) || num > 1000) {
                fprintf(stderr, "dropbench bench: --dropblock wants a block size >= 1, got '%s'\n", v);
                return DB_EXIT_USAGE;
            }
            dropblock = (int)num;
            i++;
        } else if (!strcmp(a, "--semantics") && v) {
            db_status st = db_semantics_parse(v, &sem);
            if (st != DB_OK) return db_cli_error(st);
            i++;
        } else if (!strcmp(a, "--profile")) profile = 1;
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: dropbench bench [--model resnet20] [--input 1,28,28] [--batch 128] [--threads 2]\n"
                   "                       [--warmup 3] [--steps 10] [--classes 10|1000] [--shortcut A|B]\n"
                   "                       [--col-cap FLOATS] [--dropblock K] [--semantics NAME]\n"
                   "                       [--profile] [--json] [--cells N] [--width F]\n"
                   "--dropblock K puts DropBlock (block K, keep_prob 0.9, the mask rules of --semantics,\n"
                   "default paper) at every regularizer site. --classes defaults to 1000 for the ImageNet\n"
                   "networks (resnet18, resnet50) and 10 for the others, as the PyTorch peer. AmoebaNets:\n"
                   "--cells (normal cells in all, 3N) and --width (F), the stem as dropbench train's auto picks it.\n");
            return DB_EXIT_OK;
        } else {
            static const char *const valued[] = {"--model", "--input", "--batch", "--threads", "--warmup", "--steps",
                                                 "--classes", "--shortcut", "--col-cap", "--dropblock", "--semantics",
                                                 "--cells", "--width", NULL};
            db_cli_refuse("bench", a, valued);
            return DB_EXIT_USAGE;
        }
    }
    omp_set_dynamic(0);
    omp_set_num_threads(threads);
    db_blas_set_threads(threads);
    db_model_config mc;
    if (db_model_is_segmenter(model)) {
        fprintf(stderr, "dropbench bench: times the classifiers; a segmenter's training rate is dropbench train's "
                        "images/s\n");
        return DB_EXIT_USAGE;
    }
    if (db_model_is_detector(model)) {
        fprintf(stderr, "dropbench bench: times the classifiers; a detector's training rate beside torchvision's RetinaNet "
                        "is scripts/bench_detect\n");
        return DB_EXIT_USAGE;
    }
    if (cells && !db_model_is_amoebanet(model)) {
        fprintf(stderr, "dropbench bench: --cells is the AmoebaNets'; %s has no cells\n", model);
        return DB_EXIT_USAGE;
    }
    db_status s = db_model_defaults(&mc, model);
    if (s != DB_OK) return db_cli_error(s);
    if (!classes) classes = mc.width == 64 ? 1000 : 10; /* the ImageNet networks' classifier, else CIFAR's (as the PyTorch peer) */
    mc.in_c = c; mc.in_h = h; mc.in_w = w; mc.classes = classes;
    if (cells) mc.cells = cells;
    if (width) mc.width = width;
    if (db_model_is_amoebanet(model)) mc.stem = db_amoebanet_auto_stem(h); /* as train's stem auto */
    if (shortcut) mc.shortcut = shortcut;
    if (dropblock) /* every group, conv branch and shortcut, keep_prob 0.9, no schedule */
        mc.reg = (db_reg_plan){.kind = DB_REG_DROPBLOCK, .keep_prob = 0.9f, .block_size = dropblock, .groups = 0x1E,
                                .on_skip = 1, .semantics = (int)sem};
    db_graph g;
    if ((s = db_model_build(&g, &mc, batch)) != DB_OK) return db_cli_error(s);
    db_graph_init_params(&g, 1);
    db_sgd opt;
    db_sgd_config sc = {.momentum = 0.9f, .weight_decay = 5e-4f};
    if ((s = db_sgd_init(&opt, &g, &sc)) != DB_OK) { db_graph_free(&g); return db_cli_error(s); }
    float *x = db_graph_input(&g);
    size_t nx = (size_t)c * batch * h * w;
    for (size_t i = 0; i < nx; i++) x[i] = 2.0f * db_u01(db_rand4(1, 99, 0, i).v[0]) - 1.0f;
    int *labels = malloc(sizeof(int) * batch);
    if (!labels) {
        db_sgd_free(&opt);
        db_graph_free(&g);
        return db_cli_error(db_fail(DB_ERR_NOMEM, "out of memory"));
    }
    for (int i = 0; i < batch; i++) labels[i] = (int)(db_rand4(1, 98, 0, i).v[0] % (uint32_t)classes);
    double windows[3];
    for (int r = -1; r < 3; r++) {
        int n = r < 0 ? warmup : steps;
        if (r == 0 && profile && !(g.op_seconds = calloc(2 * (size_t)g.n_ops, sizeof(double))))
            fprintf(stderr, "dropbench bench: no memory for --profile; timing without it\n");
        double t0 = db_now();
        for (int i = 0; i < n; i++) {
            g.step++; /* a new mask every step */
            db_graph_forward(&g);
            const db_tensor *o = db_graph_output(&g);
            db_softmax_xent(o->grad, o->data, labels, o->c, batch, 0.0f);
            db_graph_backward(&g);
            db_sgd_step(&opt, &g, 0.1f);
        }
        if (r >= 0) windows[r] = (db_now() - t0) / n;
    }
    qsort(windows, 3, sizeof *windows, cmp_double);
    double ms = windows[1] * 1e3, ips = batch / windows[1];
    if (json)
        printf("{\"engine\":\"dropbench\",\"model\":\"%s\",\"input\":[%d,%d,%d],\"batch\":%d,\"threads\":%d,"
               "\"params\":%zu,\"dropblock\":%d,\"images_per_s\":%.2f,\"ms_per_step\":%.3f}\n",
               model, c, h, w, batch, threads, db_graph_param_count(&g), dropblock, ips, ms);
    else
        printf("dropbench %s %dx%dx%d batch %d, %d threads: %.1f images/s (%.1f ms/step, median of 3 windows of %d steps)\n",
               model, c, h, w, batch, threads, ips, ms, steps);
    if (g.op_seconds) print_profile(&g, 3.0 * steps);
    free(labels);
    db_sgd_free(&opt);
    db_graph_free(&g);
    return DB_EXIT_OK;
}
