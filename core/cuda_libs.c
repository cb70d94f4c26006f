/* The versions of cuDNN and cuBLAS on this machine, for provenance. Looked up with dlopen when
 * asked, not linked: those libraries take about 0.1 s to load, which every dropbench command
 * would otherwise pay. Both answer without a GPU. */
#include <dlfcn.h>
#include <stddef.h>

#include "core/cuda.h"

/* the first of the names that loads, or NULL. Loaded libraries stay loaded for the process's
 * life: unloading C++ libraries strands their runtime's allocations (and the CUDA backend will
 * want them anyway). */
static void *open_any(const char *const *names) {
    for (; *names; names++) {
        void *h = dlopen(*names, RTLD_LAZY | RTLD_LOCAL);
        if (h) return h;
    }
    return NULL;
}

void db_cuda_lib_versions(int *cudnn, int *cublas) {
    static const char *const cudnn_names[] = {"libcudnn.so.9", "libcudnn.so", NULL};
    static const char *const cublas_names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so", NULL};
    *cudnn = *cublas = 0;
    void *h = open_any(cudnn_names);
    if (h) {
        size_t (*get)(void) = (size_t(*)(void))dlsym(h, "cudnnGetVersion");
        if (get) *cudnn = (int)get();
    }
    h = open_any(cublas_names);
    if (h) { /* cublasGetProperty(libraryPropertyType: 0 major, 1 minor, 2 patch, int *) */
        int (*prop)(int, int *) = (int (*)(int, int *))dlsym(h, "cublasGetProperty");
        int v[3] = {0, 0, 0};
        if (prop && !prop(0, &v[0]) && !prop(1, &v[1]) && !prop(2, &v[2])) *cublas = v[0] * 10000 + v[1] * 100 + v[2];
    }
}
