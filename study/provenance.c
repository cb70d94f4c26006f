#include "nets/conv_dnnl.h"
#include "study/provenance.h"

#include "datasets/hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "build/gen/version.h"
#include "core/cuda.h"
#include "core/gemm.h"

static void add(db_provenance *p, const char *key, const char *fmt, ...) {
    if (p->n >= DB_PROV_MAX) return;
    snprintf(p->key[p->n], sizeof p->key[p->n], "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->value[p->n], DB_PROV_LEN, fmt, ap);
    va_end(ap);
    p->kv[p->n].key = p->key[p->n];
    p->kv[p->n].value = p->value[p->n];
    p->n++;
}

static void cpu_model(char *out, size_t n) {
    snprintf(out, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(out, n, "%s", strchr(line, ':') + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    fclose(f);
}

void db_provenance_collect(db_provenance *p, const char *const *data_files, int threads) {
    memset(p, 0, sizeof *p);
    add(p, "git_commit", "%s", DB_GIT_COMMIT);
    add(p, "git_dirty", "%s", DB_GIT_DIRTY);
    add(p, "source_tree", "%s", DB_GIT_TREE);
    add(p, "source_diff_sha1", "%s", DB_GIT_DIFF);
    add(p, "compiler", "%s", __VERSION__);
    add(p, "cflags", "%s", DB_CFLAGS);
    struct utsname u;
    if (uname(&u) == 0) {
        add(p, "host", "%s", u.nodename);
        add(p, "os", "%s %s %s", u.sysname, u.release, u.machine);
    }
    char here[DB_PROV_LEN]; /* where relative paths (recipes, init_from, data folders) were read from */
    if (getcwd(here, sizeof here)) add(p, "working_folder", "%s", here);
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    struct sysinfo si;
    add(p, "cpu", "%s, %ld online", cpu, (long)get_nprocs());
    if (sysinfo(&si) == 0) add(p, "ram_gib", "%.1f", (double)si.totalram * si.mem_unit / (1024.0 * 1024.0 * 1024.0));
    add(p, "blas", "%s", db_blas_name());
    add(p, "conv", "%s", db_dnnl_enabled() ? db_dnnl_describe() : "GEMM (im2col + the BLAS)");
    const char *spin = getenv("GOMP_SPINCOUNT"), *policy = getenv("OMP_WAIT_POLICY");
    add(p, "omp_wait", "GOMP_SPINCOUNT %s, OMP_WAIT_POLICY %s (speed only, not results)", spin ? spin : "unset",
        policy ? policy : "unset");
    db_cuda_info ci;
    db_cuda_query(&ci);
    add(p, "cuda", "%s; runtime %d, driver %d, %d device(s)", db_cuda_built() ? "built" : "not built",
        ci.runtime_version, ci.driver_version, ci.device_count);
    if (ci.device_count > 0) add(p, "gpu", "%s, %.1f GiB, %d SMs", ci.name, ci.memory_gib, ci.sm_count);
    int cudnn, cublas;
    db_cuda_lib_versions(&cudnn, &cublas);
    if (cudnn || cublas) add(p, "cuda_libs", "cuDNN %d, cuBLAS %d", cudnn, cublas);
    add(p, "determinism", "counter-based (Philox) draws; fixed-order reductions; bit-identical for %d threads on the same "
        "machine and build", threads);
    const char *job = getenv("SLURM_JOB_ID"), *array = getenv("SLURM_ARRAY_JOB_ID"), *task = getenv("SLURM_ARRAY_TASK_ID");
    if (job && *job)
        add(p, "slurm", "job %s%s%s%s%s", job, array && *array ? ", array " : "", array && *array ? array : "",
            task && *task ? ", task " : "", task && *task ? task : "");
    char sums[DB_PROV_LEN] = "";
    for (int i = 0; data_files && data_files[i]; i++) {
        db_digest d;
        int ok = db_file_digest(data_files[i], &d) == DB_OK;
        const char *base = strrchr(data_files[i], '/') ? strrchr(data_files[i], '/') + 1 : data_files[i];
        size_t len = strlen(sums);
        snprintf(sums + len, sizeof sums - len, "%s%s sha256 %s", len ? "; " : "", base, ok ? d.sha256 : "unreadable");
    }
    if (sums[0]) add(p, "dataset_files", "%s", sums);
}

void db_provenance_file(db_provenance *p, const char *key, const char *path) {
    db_digest d;
    const int ok = db_file_digest(path, &d) == DB_OK;
    add(p, key, "%s sha256 %s", path, ok ? d.sha256 : "unreadable");
}
