/* How far two CPU builds of the same steps drift apart: the measurement the GPU's whole-step
 * limits are set from (tests/gpu/gpu_graph.cu). Runs the whole-step fixture (tests/gpu/steps.h)
 * for every case with the GEMM this binary is linked with (OpenBLAS, or the portable one that
 * gpu-check's CPU side uses) and a thread count, and writes the results; --compare reads two
 * such files and prints each case's relative L2 differences.
 *
 *   cpu-spread --threads N --out FILE
 *   cpu-spread --compare A B
 *   cpu-spread --describe
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "nets/conv_dnnl.h"
#include "tests/gpu/steps.h"

static const char magic[8] = "DBSPRD2";

static int write_all(FILE *f, const void *p, size_t bytes) { return fwrite(p, 1, bytes, f) == bytes; }
static int read_all(FILE *f, void *p, size_t bytes) { return fread(p, 1, bytes, f) == bytes; }

static int run(int threads, const char *out) {
    omp_set_num_threads(threads);
    db_blas_set_threads(threads);
    FILE *f = fopen(out, "wb");
    if (!f) { perror(out); return 2; }
    int ok = write_all(f, magic, sizeof magic) && write_all(f, &db_steps_n_cases, sizeof(int));
    for (int c = 0; ok && c < db_steps_n_cases; c++) {
        db_graph g;
        db_sgd opt;
        float *ip, *is;
        if (db_steps_build(&g, &opt, &db_steps_cases[c], &ip, &is) != DB_OK) {
            fprintf(stderr, "cpu-spread: %s\n", db_last_error());
            fclose(f);
            return 2;
        }
        db_steps_result r;
        memset(&r, 0, sizeof r);
        db_steps_cpu_run(&g, &opt, &r);
        size_t np = g.param_arena.size, ns = g.state_arena.size;
        ok = write_all(f, &np, sizeof np) && write_all(f, &ns, sizeof ns) && write_all(f, r.train_loss, sizeof r.train_loss) &&
             write_all(f, &r.eval_loss, sizeof r.eval_loss) && write_all(f, &r.top1, sizeof r.top1) &&
             write_all(f, &r.dropped, sizeof r.dropped) && write_all(f, r.params, sizeof(float) * np) &&
             write_all(f, r.state, sizeof(float) * ns) && write_all(f, r.velocity, sizeof(float) * np) &&
             write_all(f, r.velocity1, sizeof(float) * np);
        db_steps_free(&r);
        free(ip); free(is);
        db_sgd_free(&opt);
        db_graph_free(&g);
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok) { fprintf(stderr, "cpu-spread: writing %s failed\n", out); return 2; }
    printf("cpu-spread: %d cases, %s, %d thread(s) -> %s\n", db_steps_n_cases, db_blas_name(), threads, out);
    return 0;
}

/* one case's result from f, for a graph with these arena sizes */
static int read_case(FILE *f, size_t np, size_t ns, db_steps_result *r) {
    size_t fp, fs;
    if (!read_all(f, &fp, sizeof fp) || !read_all(f, &fs, sizeof fs) || fp != np || fs != ns) return 0;
    r->params = malloc(sizeof(float) * np); r->velocity = malloc(sizeof(float) * np); r->state = malloc(sizeof(float) * ns);
    r->velocity1 = malloc(sizeof(float) * np);
    return r->params && r->velocity && r->state && r->velocity1 && read_all(f, r->train_loss, sizeof r->train_loss) &&
           read_all(f, &r->eval_loss, sizeof r->eval_loss) && read_all(f, &r->top1, sizeof r->top1) &&
           read_all(f, &r->dropped, sizeof r->dropped) && read_all(f, r->params, sizeof(float) * np) &&
           read_all(f, r->state, sizeof(float) * ns) && read_all(f, r->velocity, sizeof(float) * np) &&
           read_all(f, r->velocity1, sizeof(float) * np);
}

static FILE *open_results(const char *path) {
    FILE *f = fopen(path, "rb");
    char m[8];
    int n;
    if (!f) { perror(path); return NULL; }
    if (!read_all(f, m, sizeof m) || memcmp(m, magic, sizeof m) || !read_all(f, &n, sizeof n) || n != db_steps_n_cases) {
        fprintf(stderr, "cpu-spread: %s is not a results file of this build's cases\n", path);
        fclose(f);
        return NULL;
    }
    return f;
}

static int compare(const char *pa, const char *pb) {
    FILE *fa = open_results(pa), *fb = fa ? open_results(pb) : NULL;
    if (!fa || !fb) { if (fa) fclose(fa); return 2; }
    int rc = 0;
    db_steps_diff worst;
    memset(&worst, 0, sizeof worst);
    printf("%-34s %9s %9s %9s %9s %9s %9s %5s %7s\n", "case", "loss", "eval", "grad1 L2", "grad L2", "update L2", "running", "top1",
           "dropped");
    for (int c = 0; c < db_steps_n_cases && !rc; c++) {
        db_graph g;
        db_sgd opt;
        float *ip, *is;
        if (db_steps_build(&g, &opt, &db_steps_cases[c], &ip, &is) != DB_OK) { fprintf(stderr, "cpu-spread: %s\n", db_last_error()); return 2; }
        db_steps_result a, b;
        memset(&a, 0, sizeof a); memset(&b, 0, sizeof b);
        if (!read_case(fa, g.param_arena.size, g.state_arena.size, &a) || !read_case(fb, g.param_arena.size, g.state_arena.size, &b)) {
            fprintf(stderr, "cpu-spread: %s or %s is cut short or from another build\n", pa, pb);
            rc = 2;
        } else {
            db_steps_diff d;
            db_steps_compare(&g, ip, is, &a, &b, &d);
            printf("%-34s %9.2g %9.2g %9.2g %9.2g %9.2g %9.2g %5d %7.0f   (worst: %s, %s, %s, %s)\n", db_steps_cases[c].name,
                   d.loss, d.eval_loss, d.grad1, d.grad, d.update, d.running, d.top1, d.dropped, d.grad1_at, d.grad_at,
                   d.update_at, d.running_at);
            if (d.grad1 > worst.grad1) worst.grad1 = d.grad1;
            if (d.loss > worst.loss) worst.loss = d.loss;
            if (d.eval_loss > worst.eval_loss) worst.eval_loss = d.eval_loss;
            if (d.grad > worst.grad) worst.grad = d.grad;
            if (d.update > worst.update) worst.update = d.update;
            if (d.running > worst.running) worst.running = d.running;
            if (d.top1 > worst.top1) worst.top1 = d.top1;
        }
        db_steps_free(&a); db_steps_free(&b);
        free(ip); free(is);
        db_sgd_free(&opt);
        db_graph_free(&g);
    }
    if (!rc)
        printf("%-34s %9.2g %9.2g %9.2g %9.2g %9.2g %9.2g %5d\n", "worst", worst.loss, worst.eval_loss, worst.grad1, worst.grad,
               worst.update, worst.running, worst.top1);
    fclose(fa); fclose(fb);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--describe")) { /* what this binary's convolutions and GEMM are */
        printf("%s convolutions, %s\n", db_dnnl_enabled() ? db_dnnl_describe() : "GEMM", db_blas_name());
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "--compare")) return compare(argv[2], argv[3]);
    if (argc == 5 && !strcmp(argv[1], "--threads") && !strcmp(argv[3], "--out")) {
        int t = atoi(argv[2]);
        if (t < 1 || t > 1024) { fprintf(stderr, "cpu-spread: --threads takes 1 to 1024\n"); return 2; }
        return run(t, argv[4]);
    }
    fprintf(stderr, "usage: cpu-spread --threads N --out FILE | --compare A B\n");
    return 2;
}
