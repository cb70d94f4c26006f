#include "results/provenance.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <zlib.h>

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

/* CRC-32 of a whole file, or -1 when it cannot be read */
static long file_crc(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char buf[65536];
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) crc = crc32(crc, buf, (uInt)got);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : (long)crc;
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
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    struct sysinfo si;
    add(p, "cpu", "%s, %ld online", cpu, (long)get_nprocs());
    if (sysinfo(&si) == 0) add(p, "ram_gib", "%.1f", (double)si.totalram * si.mem_unit / (1024.0 * 1024.0 * 1024.0));
    add(p, "blas", "%s", db_blas_name());
    db_cuda_info ci;
    db_cuda_query(&ci);
    add(p, "cuda", "%s; runtime %d, driver %d, %d device(s)", db_cuda_built() ? "built" : "not built",
        ci.runtime_version, ci.driver_version, ci.device_count);
    if (ci.device_count > 0) add(p, "gpu", "%s, %.1f GiB, %d SMs", ci.name, ci.memory_gib, ci.sm_count);
    int cudnn, cublas;
    db_cuda_lib_versions(&cudnn, &cublas);
    if (cudnn || cublas) add(p, "cuda_libs", "cuDNN %d, cuBLAS %d", cudnn, cublas);
    add(p, "determinism", "counter-based (Philox) draws; fixed-order reductions; bit-identical for %d threads",
        threads);
    const char *job = getenv("SLURM_JOB_ID"), *array = getenv("SLURM_ARRAY_JOB_ID"), *task = getenv("SLURM_ARRAY_TASK_ID");
    if (job && *job)
        add(p, "slurm", "job %s%s%s%s%s", job, array && *array ? ", array " : "", array && *array ? array : "",
            task && *task ? ", task " : "", task && *task ? task : "");
    char sums[DB_PROV_LEN] = "";
    for (int i = 0; data_files && data_files[i]; i++) {
        long crc = file_crc(data_files[i]);
        const char *base = strrchr(data_files[i], '/') ? strrchr(data_files[i], '/') + 1 : data_files[i];
        size_t len = strlen(sums);
        snprintf(sums + len, sizeof sums - len, "%s%s crc32 %s%08lx", len ? "; " : "", base, crc < 0 ? "unreadable " : "",
                 crc < 0 ? 0ul : (unsigned long)crc);
    }
    if (sums[0]) add(p, "dataset_files", "%s", sums);
}
