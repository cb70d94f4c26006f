// The GPU backend's entry point (nets/gpu_backend.h), built into build/libdropbench_gpu.so with
// the cuDNN and cuBLAS ops.
#include <cublas_v2.h>
#include <cudnn.h>

#include "nets/dist_nccl.h"
#include "nets/gpu_backend.h"

static int cublas_version(void) {
    int major = 0, minor = 0, patch = 0;
    if (cublasGetProperty(MAJOR_VERSION, &major) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(MINOR_VERSION, &minor) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(PATCH_LEVEL, &patch) != CUBLAS_STATUS_SUCCESS)
        return 0;
    return major * 10000 + minor * 100 + patch;
}

static size_t cudnn_version(void) { return cudnnGetVersion(); }

extern "C" const db_gpu_backend *db_gpu_backend_entry(void) {
    static const db_gpu_backend table = {DB_GPU_ABI,
                                         cudnn_version,
                                         cublas_version,
                                         db_gpu_graph_create,
                                         db_gpu_graph_destroy,
                                         db_gpu_graph_push,
                                         db_gpu_graph_pull,
                                         db_gpu_graph_input,
                                         db_gpu_graph_labels,
                                         db_gpu_graph_forward_loss,
                                         db_gpu_graph_backward_update,
                                         db_gpu_graph_describe,
                                         db_nccl_unique_id,
                                         db_gpu_graph_join,
                                         db_gpu_graph_forward,
                                         db_gpu_detect_create,
                                         db_gpu_detect_destroy,
                                         db_gpu_detect_loss};
    return &table;
}
