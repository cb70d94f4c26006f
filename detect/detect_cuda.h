/* CUDA twins of the detector's loss (detect/loss.h) and its level <-> anchor-row moves
 * (detect/layout.h), for CUDA code only. Device pointers, launches on stream st; each returns 0,
 * or -1 when a launch or copy failed.
 *
 * The moves are the CPU's bits, on the GPU's NCHW level maps (level l: n x A*C x h_l x w_l).
 * The loss takes the same per-element bodies (db_focal1, db_huber1) with CUDA's exp, log1p and
 * pow, whose last bits may differ from the C library's (the gradients agree within 1e-5
 * relative); its sums are double, per anchor, then added in one fixed order, so a run gives the
 * same bits every time, though not the CPU's (which adds in per-thread runs). */
#ifndef DB_DETECT_DETECT_CUDA_H
#define DB_DETECT_DETECT_CUDA_H

#include <cuda_runtime.h>
#include <stddef.h>

#include "detect/anchors.h"
#include "detect/loss.h"

extern "C" {
/* rows (n * a->n x C) from levels[l] (NCHW), and back (levels overwritten) */
int db_detect_gather_cuda(float *rows, const float *const *levels, const db_anchors *a, int n, int C, cudaStream_t st);
int db_detect_scatter_cuda(float *const *levels, const float *rows, const db_anchors *a, int n, int C, cudaStream_t st);
/* bytes of device workspace db_detect_loss_cuda needs for n anchors */
size_t db_detect_loss_cuda_workspace(long n);
/* db_detect_loss on the device: the same arguments as device arrays (dlogits, dcodes may be NULL),
 * work of db_detect_loss_cuda_workspace(n) bytes; the parts come back to the host in *r (the call
 * waits for the stream) */
int db_detect_loss_cuda(db_detect_loss_parts *r, float *dlogits, float *dcodes, const float *logits, const float *codes,
                        const int *cls_t, const float *box_t, long n, int K, const db_detect_loss_cfg *c, void *work,
                        cudaStream_t st);
}

#endif
