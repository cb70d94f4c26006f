// Device discovery through the CUDA runtime. A machine without a GPU (or driver) is a normal
// case here, not an error: the caller falls back to the CPU and says so.
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include "core/cuda.h"

extern "C" int db_cuda_built(void) { return 1; }

extern "C" void db_cuda_query(db_cuda_info *info) {
    memset(info, 0, sizeof *info);
    cudaRuntimeGetVersion(&info->runtime_version);
    cudaDriverGetVersion(&info->driver_version);
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n < 1) {
        cudaGetLastError(); // clear the sticky "no device" error
        return;
    }
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) return;
    info->device_count = n;
    snprintf(info->name, sizeof info->name, "%s", p.name);
    info->memory_gib = (double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0);
    info->sm_count = p.multiProcessorCount;
}
