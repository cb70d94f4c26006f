/* The parts of `make gpu-check`: each reports its checks through the runner's report(). */
#ifndef DB_TESTS_GPU_CHECK_H
#define DB_TESTS_GPU_CHECK_H

typedef void (*db_gpu_report)(int ok, const char *name, const char *detail);

#ifdef __cplusplus
extern "C" {
#endif
void db_gpu_check_conv(db_gpu_report report);    /* tests/gpu/gpu_conv.cu */
void db_gpu_check_bn_pool(db_gpu_report report); /* tests/gpu/gpu_ops.cu */
#ifdef __cplusplus
}
#endif
#endif
