/* Loading the GPU backend's shared object (nets/gpu_backend.h) on first use. */
#include <dlfcn.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cuda.h"
#include "nets/gpu_backend.h"

static db_status locate(char *path, size_t n) {
    const char *env = getenv("DROPBENCH_GPU_BACKEND");
    if (env && *env) {
        snprintf(path, n, "%s", env);
        return DB_OK;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return db_fail(DB_ERR_IO, "GPU backend: cannot find this program's folder (set DROPBENCH_GPU_BACKEND)");
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    snprintf(path, n, "%s/build/libdropbench_gpu.so", exe);
    return DB_OK;
}

const db_gpu_backend *db_gpu_backend_load(void) {
    static const db_gpu_backend *loaded;
    if (loaded) return loaded;
    if (!db_cuda_built()) {
        db_fail(DB_ERR_UNSUPPORTED, "GPU backend: this dropbench was built without CUDA");
        return NULL;
    }
    char path[PATH_MAX + 64];
    if (locate(path, sizeof path) != DB_OK) return NULL;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL); /* kept for the process's life */
    if (!h) {
        const char *why = dlerror();
        db_fail(DB_ERR_UNSUPPORTED, "GPU backend: cannot load %s: %s", path, why ? why : "unknown error");
        return NULL;
    }
    const db_gpu_backend *(*entry)(void) = (const db_gpu_backend *(*)(void))dlsym(h, "db_gpu_backend_entry");
    const db_gpu_backend *b = entry ? entry() : NULL;
    if (!b || b->abi != DB_GPU_ABI) {
        db_fail(DB_ERR_UNSUPPORTED, "GPU backend: %s is not this build's (abi %d, want %d): run make", path, b ? b->abi : -1,
                DB_GPU_ABI);
        return NULL;
    }
    return loaded = b;
}

void db_cuda_lib_versions(int *cudnn, int *cublas) {
    const db_gpu_backend *b = db_gpu_backend_load();
    *cudnn = b ? (int)b->cudnn_version() : 0;
    *cublas = b ? b->cublas_version() : 0;
}
