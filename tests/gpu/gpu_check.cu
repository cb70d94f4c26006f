// GPU checks of the CUDA code that exists so far, against the CPU reference of the same body:
// the Philox generator, the SGD update and every regularizer (masks, outputs, accumulated
// gradients) must be bit-identical on both devices (the bodies spell out their FMAs and
// roundings so that neither compiler contracts differently).
// cuDNN's convolutions, batch norm and pooling against the CPU's (tests/gpu/gpu_conv.cu, gpu_bn.cu, gpu_ops.cu).
// Built and run by `make gpu-check`; needs nvcc, cuDNN and a GPU, nothing else.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cuda.h"
#include "core/philox.h"
#include "dropouts/dropouts_cuda.h"
#include "dropouts/droppath.h"
#include "nets/ops_cuda.h"
#include "nets/sgd.h"
#include "tests/gpu/gpu_check.h"


#define CK(x)                                                                                  \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "gpu-check: %s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

static __global__ void philox_kernel(uint32_t *out, long n, uint64_t seed, uint32_t stream, uint32_t step) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    db_u32x4 r = db_rand4(seed, stream, step, (uint64_t)i);
    for (int k = 0; k < 4; k++) out[4 * i + k] = r.v[k];
}

static int passed, failed;
static void report(int ok, const char *name, const char *detail) {
    printf("%s %s: %s\n", ok ? "ok  " : "FAIL", name, detail);
    fflush(stdout); /* each line out as it completes: a crash or a time limit keeps every finished one */
    if (ok) passed++; else failed++;
}

/* One throughput line per MODEL:BATCH:MODE of a comma-separated list (MODE fp32, tf32, bf16 or
 * bf16nhwc: bf16 on channels-last operands; +bn after it: the fused batch norm), as
 * scripts/gpu_check reads them: gpu-bench MODEL C,H,W BATCH MODE IMAGES_PER_S */
static int run_benches(const char *list, int profile) {
    char spec[512];
    snprintf(spec, sizeof spec, "%s", list);
    int bad = 0;
    printf("training throughput on the GPU graph (the fastest measured cuDNN algorithms):\n");
    for (char *save = NULL, *t = strtok_r(spec, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char model[32] = "", mode[16] = "", base[16];
        int batch = 0;
        const int ok = sscanf(t, "%31[^:]:%d:%15s", model, &batch, mode) == 3;
        snprintf(base, sizeof base, "%s", mode);
        char *plus = strchr(base, '+');
        const int bn = plus && !strcmp(plus, "+bn");
        if (bn) *plus = '\0';
        if (!ok || batch < 1 || (plus && !bn) ||
            (strcmp(base, "fp32") && strcmp(base, "tf32") && strcmp(base, "bf16") && strcmp(base, "bf16nhwc")) ||
            (strcmp(model, "resnet20") && strcmp(model, "resnet50") && strcmp(model, "amoebanet-b"))) {
            printf("gpu-check: bad benchmark '%s' (want resnet20|resnet50|amoebanet-b:BATCH:fp32|tf32|bf16|bf16nhwc[+bn])\n", t);
            bad = 1;
            continue;
        }
        // ResNet-20 on 32x32x3; ResNet-50 on 224x224x3; AmoebaNet-B (2, 16) on 28x28x1, the small-scale Table 2's
        const int r20 = !strcmp(model, "resnet20"), amoeba = !strcmp(model, "amoebanet-b");
        const int c = amoeba ? 1 : 3, hw = r20 ? 32 : amoeba ? 28 : 224;
        double ips = db_gpu_bench_graph(model, c, hw, r20 || amoeba ? 10 : 1000, batch, (!strcmp(base, "tf32") ? 1 : !strcmp(base, "bf16") ? 2 : !strcmp(base, "bf16nhwc") ? 3 : 0) | (bn ? 4 : 0),
                                        r20 || amoeba ? 50 : 10, profile);
        printf("gpu-bench %s %d,%d,%d %d %s %.1f\n", model, c, hw, hw, batch, mode, ips);
        bad |= ips <= 0;
    }
    return bad;
}

/* The generator, the SGD update and every regularizer's mask, bit for bit against the CPU */
static void check_basics(void) {
    char detail[256];

    /* Philox: 4M draws, every word equal */
    const long n = 1 << 20;
    uint32_t *h = (uint32_t *)malloc(sizeof(uint32_t) * 4 * n), *d;
    CK(cudaMalloc(&d, sizeof(uint32_t) * 4 * n));
    philox_kernel<<<(unsigned)((n + 255) / 256), 256>>>(d, n, 0x123456789abcdefull, 77, 5);
    CK(cudaGetLastError());
    CK(cudaMemcpy(h, d, sizeof(uint32_t) * 4 * n, cudaMemcpyDeviceToHost));
    long diff = 0;
    for (long i = 0; i < n; i++) {
        db_u32x4 r = db_rand4(0x123456789abcdefull, 77, 5, (uint64_t)i);
        for (int k = 0; k < 4; k++) diff += h[4 * i + k] != r.v[k];
    }
    snprintf(detail, sizeof detail, "%ld of %ld words differ from the CPU", diff, 4 * n);
    report(diff == 0, "philox_bit_identical", detail);
    CK(cudaFree(d));
    free(h);

    /* SGD: 20 steps on 1M parameters, both momentum kinds */
    for (int nesterov = 0; nesterov < 2; nesterov++) {
        float *p = (float *)malloc(4 * n), *v = (float *)calloc(n, 4), *g = (float *)malloc(4 * n);
        float *pg = (float *)malloc(4 * n), *dp, *dv, *dg;
        for (long i = 0; i < n; i++) {
            db_u32x4 r = db_rand4(1, 3, 0, (uint64_t)i);
            p[i] = db_u01(r.v[0]) * 2 - 1;
        }
        CK(cudaMalloc(&dp, 4 * n)); CK(cudaMalloc(&dv, 4 * n)); CK(cudaMalloc(&dg, 4 * n));
        CK(cudaMemcpy(dp, p, 4 * n, cudaMemcpyHostToDevice));
        CK(cudaMemset(dv, 0, 4 * n));
        for (int s = 0; s < 20; s++) {
            for (long i = 0; i < n; i++) g[i] = db_u01(db_rand4(1, 4, (uint32_t)s, (uint64_t)i).v[0]) - 0.5f;
            float lr = 0.1f / (1 + s);
            for (long i = 0; i < n; i++) db_sgd_element(&p[i], &v[i], g[i], lr, 0.9f, 5e-4f, nesterov);
            CK(cudaMemcpy(dg, g, 4 * n, cudaMemcpyHostToDevice));
            if (db_sgd_step_cuda(dp, dv, dg, n, lr, 0.9f, 5e-4f, nesterov, 0) != 0) { report(0, "sgd", "launch failed"); break; }
        }
        CK(cudaMemcpy(pg, dp, 4 * n, cudaMemcpyDeviceToHost));
        long exact = 0;
        double worst = 0;
        for (long i = 0; i < n; i++) {
            exact += pg[i] == p[i];
            double rel = fabs((double)pg[i] - p[i]) / (fabs((double)p[i]) + 1e-6);
            if (rel > worst) worst = rel;
        }
        snprintf(detail, sizeof detail, "%ld of %ld parameters bit-identical after 20 steps, worst relative difference %.2e",
                 exact, n, worst);
        report(exact == n, nesterov ? "sgd_nesterov_bit_identical" : "sgd_bit_identical", detail);
        CK(cudaFree(dp)); CK(cudaFree(dv)); CK(cudaFree(dg));
        free(p); free(v); free(g); free(pg);
    }
    /* Dropout, SpatialDropout and DropPath: the GPU's outputs and accumulated gradients (NCHW)
     * equal the CPU's (CNHW) bit for bit, element by element */
    for (int kind = 0; kind < 3; kind++) {
        static const char *names[3] = {"dropout_bit_identical", "spatial_dropout_bit_identical",
                                       "droppath_bit_identical"};
        const int c = 64, nn = 32, hh = 14, ww = 13;
        const long len = (long)c * nn * hh * ww;
        float *x = (float *)malloc(4 * len), *y = (float *)malloc(4 * len), *yg = (float *)malloc(4 * len);
        float *dx = (float *)malloc(4 * len), *dxg = (float *)malloc(4 * len), *dev_y;
        for (long i = 0; i < len; i++) x[i] = db_u01(db_rand4(3, 9, 0, (uint64_t)i).v[0]) - 0.5f;
        db_drop_key k = {12345, 6, 77, kind == 2 ? 0.7f : 0.9f};
        unsigned long long *dev_count, count = 0;
        uint64_t cpu_count = 0;
        /* the GPU's order; the backward accumulates onto x */
        float *dev_x = db_upload_nchw(x, c, nn, (size_t)hh * ww), *dev_dx = db_upload_nchw(x, c, nn, (size_t)hh * ww);
        if (!dev_x || !dev_dx) { fprintf(stderr, "gpu-check: out of device memory\n"); exit(1); }
        CK(cudaMalloc(&dev_y, 4 * len));
        CK(cudaMalloc(&dev_count, sizeof count)); CK(cudaMemset(dev_count, 0, sizeof count));
        memcpy(dx, x, 4 * len);
        int bad_launch = kind == 2 ? db_droppath_cuda(dev_y, dev_x, &k, c, nn, hh, ww, 0, dev_count, 0) ||
                                         db_droppath_cuda(dev_dx, dev_x, &k, c, nn, hh, ww, 1, NULL, 0)
                                   : db_dropout_cuda(dev_y, dev_x, &k, c, nn, hh, ww, kind, 0, dev_count, 0) ||
                                         db_dropout_cuda(dev_dx, dev_x, &k, c, nn, hh, ww, kind, 1, NULL, 0);
        db_download_cnhw(yg, dev_y, c, nn, (size_t)hh * ww);
        db_download_cnhw(dxg, dev_dx, c, nn, (size_t)hh * ww);
        CK(cudaMemcpy(&count, dev_count, sizeof count, cudaMemcpyDeviceToHost));
        if (kind == 2) {
            cpu_count = (uint64_t)db_droppath_forward(y, x, &k, c, nn, hh, ww) * (uint64_t)(c * hh * ww);
            db_droppath_backward(dx, x, &k, c, nn, hh, ww, 1);
        } else if (kind == 1) {
            cpu_count = db_spatial_dropout_forward(y, x, &k, c, nn, hh, ww);
            db_spatial_dropout_backward(dx, x, &k, c, nn, hh, ww, 1);
        } else {
            cpu_count = db_dropout_forward(y, x, &k, c, nn, hh, ww);
            db_dropout_backward(dx, x, &k, c, nn, hh, ww, 1);
        }
        long differ = 0, zeros = 0;
        for (long i = 0; i < len; i++) {
            differ += memcmp(&yg[i], &y[i], 4) != 0 || memcmp(&dxg[i], &dx[i], 4) != 0;
            zeros += y[i] == 0.0f;
        }
        snprintf(detail, sizeof detail, "%ld of %ld outputs or gradients differ from the CPU (%.4f dropped); "
                 "dropped count %llu, CPU %llu", differ, len, (double)zeros / len, count, (unsigned long long)cpu_count);
        report(!bad_launch && differ == 0 && count == cpu_count, names[kind], detail);
        CK(cudaFree(dev_x)); CK(cudaFree(dev_y)); CK(cudaFree(dev_dx)); CK(cudaFree(dev_count));
        free(x); free(y); free(yg); free(dx); free(dxg);
    }
    /* DropBlock: the GPU's gathered mask equals the CPU's scattered one, and so do the counts,
     * for every semantics with a per-unit body (darknet's seed needs a whole plane); the mask
     * applied to the GPU's NCHW tensor gives the CPU's output bit for bit */
    for (int sem = DB_SEM_PAPER; sem <= DB_SEM_MIGUELVR; sem++) {
        const int c = 64, nn = 16, hh = 14, ww = 13, block = sem == DB_SEM_TORCHVISION ? 7 : 6;
        const long len = (long)c * nn * hh * ww;
        float *x = (float *)malloc(4 * len), *y = (float *)malloc(4 * len), scales[16];
        uint8_t *m = (uint8_t *)malloc(len), *mg = (uint8_t *)malloc(len), *dev_m;
        unsigned long long counts[16], *dev_counts;
        for (long i = 0; i < len; i++) x[i] = db_u01(db_rand4(3, 10, 0, (uint64_t)i).v[0]) - 0.5f;
        db_drop_key k = {99, 3, 12, 0.9f};
        db_dropblock_cfg cfg = {block, 0, (db_semantics)sem};
        uint64_t dropped = db_dropblock_forward(y, m, scales, x, &k, &cfg, c, nn, hh, ww);
        CK(cudaMalloc(&dev_m, len)); CK(cudaMalloc(&dev_counts, sizeof counts));
        int bad_launch = db_dropblock_mask_cuda(dev_m, dev_counts, &k, &cfg, c, nn, hh, ww, 0);
        CK(cudaMemcpy(mg, dev_m, len, cudaMemcpyDeviceToHost));
        CK(cudaMemcpy(counts, dev_counts, sizeof counts, cudaMemcpyDeviceToHost));
        /* the per-sample factors, from the device's counts */
        db_dropblock_rules rules = db_dropblock_rules_for(&cfg, k.keep_prob, hh, ww);
        float gscales[16], *dev_scales;
        unsigned long long *dev_total, total_dev = 0;
        CK(cudaMalloc(&dev_scales, sizeof gscales)); CK(cudaMalloc(&dev_total, sizeof total_dev));
        CK(cudaMemset(dev_total, 0, sizeof total_dev));
        bad_launch |= db_dropblock_scales_cuda(dev_scales, dev_total, dev_counts, nn, (unsigned long long)c * hh * ww,
                                               rules.per_sample, rules.eps, 0);
        CK(cudaMemcpy(gscales, dev_scales, sizeof gscales, cudaMemcpyDeviceToHost));
        CK(cudaMemcpy(&total_dev, dev_total, sizeof total_dev, cudaMemcpyDeviceToHost));
        float *yg = (float *)malloc(4 * len), *dev_x = db_upload_nchw(x, c, nn, (size_t)hh * ww), *dev_y;
        if (!dev_x) { fprintf(stderr, "gpu-check: out of device memory\n"); exit(1); }
        CK(cudaMalloc(&dev_y, 4 * len));
        bad_launch |= db_dropblock_apply_cuda(dev_y, dev_x, dev_m, dev_scales, c, nn, hh, ww, 0, 0);
        db_download_cnhw(yg, dev_y, c, nn, (size_t)hh * ww);
        long out_differ = 0;
        for (long i = 0; i < len; i++) out_differ += memcmp(&yg[i], &y[i], 4) != 0;
        CK(cudaFree(dev_x)); CK(cudaFree(dev_y)); free(yg);
        CK(cudaFree(dev_scales)); CK(cudaFree(dev_total));
        long differ = memcmp(gscales, scales, sizeof scales) != 0 || total_dev != dropped;
        unsigned long long total = 0;
        for (long i = 0; i < len; i++) differ += m[i] != mg[i];
        for (int j = 0; j < nn; j++) total += counts[j];
        char name[64];
        snprintf(name, sizeof name, "dropblock_%s_mask_bit_identical", db_semantics_name((db_semantics)sem));
        snprintf(detail, sizeof detail, "%ld of %ld mask bytes (or the scales) and %ld outputs differ; dropped %llu on the GPU, "
                 "%llu on the CPU", differ, len, out_differ, total, (unsigned long long)dropped);
        report(!bad_launch && differ == 0 && out_differ == 0 && total == dropped, name, detail);
        CK(cudaFree(dev_m)); CK(cudaFree(dev_counts));
        free(x); free(y); free(m); free(mg);
    }
}

/* name is one of list's comma-separated words (a NULL list: every name) */
static int in_list(const char *list, const char *name) {
    const size_t len = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',')) {
        if (*p == ',') p++;
        if (!strncmp(p, name, len) && (p[len] == ',' || !p[len])) return 1;
    }
    return !list;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* line by line into a pipe or a log too */
    int bench = 1, checks = 1, profile = 0;
    const char *only = NULL; /* every section */
    const char *benches = "resnet20:128:fp32,resnet50:64:fp32,resnet50:64:bf16,amoebanet-b:128:fp32";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-bench")) bench = 0;
        else if (!strcmp(argv[i], "--bench-only")) checks = 0;
        else if (!strcmp(argv[i], "--profile")) profile = 1;
        else if (!strcmp(argv[i], "--bench") && i + 1 < argc) benches = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else {
            fprintf(stderr, "usage: gpu-check [--no-bench | --bench-only] [--profile] [--bench MODEL:BATCH:MODE,...] "
                            "[--only SECTION,...]\n  sections: basics conv ops graph detect nccl nets\n");
            return 1;
        }
    }
    static const struct { const char *name; void (*run)(db_gpu_report); } sections[] = {
        {"basics", NULL}, {"conv", db_gpu_check_conv}, {"ops", db_gpu_check_bn_pool}, {"graph", db_gpu_check_graph},
        {"detect", db_gpu_check_detect}, {"nccl", db_gpu_check_nccl}, {"nets", db_gpu_check_nets}};
    for (const char *p = only; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
        size_t known = 0, len = strcspn(p, ",");
        for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
            known += strlen(sections[i].name) == len && !strncmp(p, sections[i].name, len);
        if (!known) {
            fprintf(stderr, "gpu-check: no section '%.*s' (basics conv ops graph detect nccl nets)\n", (int)len, p);
            return 1;
        }
    }
    db_cuda_info ci;
    db_cuda_query(&ci);
    int blas_major = 0, blas_minor = 0, blas_patch = 0;
    cublasGetProperty(MAJOR_VERSION, &blas_major);
    cublasGetProperty(MINOR_VERSION, &blas_minor);
    cublasGetProperty(PATCH_LEVEL, &blas_patch);
    printf("cuda runtime %d, driver %d, cuDNN %zu (headers %d), cuBLAS %d.%d.%d, %d device(s)\n", ci.runtime_version,
           ci.driver_version, cudnnGetVersion(), CUDNN_VERSION, blas_major, blas_minor, blas_patch, ci.device_count);
    if (ci.device_count < 1) {
        printf("gpu-check: no CUDA device: nothing checked (this is not a pass)\n");
        return 2;
    }
    printf("device 0: %s, %.1f GiB, %d SMs\n", ci.name, ci.memory_gib, ci.sm_count);
    if (!checks) return bench ? run_benches(benches, profile) : 0;
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        if (!in_list(only, sections[i].name)) continue;
        printf("== %s\n", sections[i].name);
        if (sections[i].run) sections[i].run(report);
        else check_basics();
    }
    printf("gpu-check: %d passed, %d failed\n", passed, failed);
    if (bench) failed += run_benches(benches, profile);
    return failed ? 1 : 0;
}
