/* The GPU backend: the code that needs cuDNN and cuBLAS lives in a shared object
 * (build/libdropbench_gpu.so) that ./dropbench loads only when it is asked for, because those
 * libraries take about 0.1 s to load and most commands never touch a GPU. The object exports
 * one function returning a table of entry points; the table's abi number must match. The
 * object calls back into the program for errors (db_fail), so ./dropbench exports its symbols. */
#ifndef DB_NETS_GPU_BACKEND_H
#define DB_NETS_GPU_BACKEND_H

#include <stddef.h>

#include "core/status.h"
#include "detect/detect_gpu.h"
#include "nets/graph_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DB_GPU_ABI 10

typedef struct {
    int abi;                       /* DB_GPU_ABI of the object's build */
    size_t (*cudnn_version)(void); /* the cuDNN the object is linked with */
    int (*cublas_version)(void);   /* major*10000 + minor*100 + patch */
    /* the graph on the GPU (nets/graph_cuda.h) */
    db_status (*graph_create)(db_gpu_graph **out, db_graph *g, db_sgd *opt, const db_gpu_options *o);
    void (*graph_destroy)(db_gpu_graph *gg);
    db_status (*graph_push)(db_gpu_graph *gg);
    db_status (*graph_pull)(db_gpu_graph *gg);
    float *(*graph_input)(db_gpu_graph *gg);
    int *(*graph_labels)(db_gpu_graph *gg);
    db_status (*graph_forward_loss)(db_gpu_graph *gg, float smoothing, db_gpu_step *out);
    db_status (*graph_backward_update)(db_gpu_graph *gg, float lr);
    void (*graph_describe)(const db_gpu_graph *gg, char *out, size_t n);
    /* data parallel across GPUs (nets/dist_nccl.h): a group's id, and a graph joining it */
    db_status (*nccl_unique_id)(void *id, size_t bytes);
    db_status (*graph_join)(db_gpu_graph *gg, const void *id, int rank, int size);
    /* the forward alone, its outputs to the host graph or not (a task's own loss: detection, segmentation) */
    db_status (*graph_forward)(db_gpu_graph *gg, int *finite, int to_host);
    /* the detector's training loss on the device (detect/detect_gpu.h) over gg's outputs, after
     * graph_forward(gg, .., 0): the outputs' gradients set there for the next backward */
    db_status (*detect_create)(db_gpu_detect **out, db_gpu_graph *gg, const db_anchors *a, int K, int n_max);
    void (*detect_destroy)(db_gpu_detect *d);
    db_status (*detect_loss)(db_gpu_detect *d, db_gpu_graph *gg, const int *cls_t, const float *box_t, int n,
                             const db_detect_loss_cfg *c, db_detect_loss_parts *r);
    /* training's classification step with its result read a step late, and the last one */
    db_status (*graph_forward_loss_late)(db_gpu_graph *gg, float smoothing, db_gpu_step *prev, int *have);
    db_status (*graph_loss_flush)(db_gpu_graph *gg, db_gpu_step *last, int *have);
} db_gpu_backend;

/* Exported by the shared object */
const db_gpu_backend *db_gpu_backend_entry(void);

/* In the program: the backend, loaded on first use from $DROPBENCH_GPU_BACKEND or
 * build/libdropbench_gpu.so beside the executable; NULL with the reason in db_last_error()
 * (a CPU-only build, the object missing, cuDNN or cuBLAS missing, another abi). */
const db_gpu_backend *db_gpu_backend_load(void);

#ifdef __cplusplus
}
#endif
#endif
