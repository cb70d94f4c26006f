/* The parts of `make gpu-check`: each reports its checks through the runner's report(). */
#ifndef DB_TESTS_GPU_CHECK_H
#define DB_TESTS_GPU_CHECK_H

typedef void (*db_gpu_report)(int ok, const char *name, const char *detail);

#ifdef __cplusplus
extern "C" {
#endif
void db_gpu_check_conv(db_gpu_report report);    /* tests/gpu/gpu_conv.cu */
void db_gpu_check_bn_pool(db_gpu_report report); /* tests/gpu/gpu_ops.cu */
void db_gpu_check_graph(db_gpu_report report);   /* tests/gpu/gpu_graph.cu: whole ResNet-20 steps */
/* training images/s of the GPU graph (median of three windows of `steps`), -1 on failure */
double db_gpu_bench_graph(const char *arch, int c, int hw, int classes, int batch, int tf32, int steps);
#ifdef __cplusplus
}
#endif
#endif
