/* What the CUDA runtime reports, for device selection and provenance. In a CPU-only build
 * these say no device. */
#ifndef DB_CORE_CUDA_H
#define DB_CORE_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int device_count;
    int runtime_version, driver_version; /* e.g. 13000 */
    char name[256];                      /* of device 0 */
    double memory_gib;
    int sm_count;
} db_cuda_info;

/* Fills info; device_count is 0 when there is no usable device or no CUDA in the build. */
void db_cuda_query(db_cuda_info *info);
/* 1 when this binary was built with CUDA objects. */
int db_cuda_built(void);
/* The cuDNN (e.g. 91900 for 9.19.0) and cuBLAS (major*10000 + minor*100 + patch) libraries the
 * GPU backend is linked with (nets/gpu_backend.h; loading it loads them); 0 when it cannot be
 * loaded (a CPU-only build, or the libraries missing on this machine). */
void db_cuda_lib_versions(int *cudnn, int *cublas);

#ifdef __cplusplus
}
#endif
#endif
