// CUDA twins of detect/loss.c and detect/layout.c (detect/detect_cuda.h).
#include "detect/detect_cuda.h"

#include "detect/boxes.h"

static unsigned blocks(size_t n) { return (unsigned)((n + 255) / 256); }
static int launched(void) { return cudaGetLastError() == cudaSuccess ? 0 : -1; }

/* One level: thread per (image j, position p, anchor an, value c) */
static __global__ void move_k(float *rows, float *lv, int n, int A, int C, int hw, long per_image, long first, int to_rows) {
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x, len = (size_t)n * hw * A * C;
    if (i >= len) return;
    const int c = (int)(i % C), an = (int)(i / C % A);
    const size_t p = i / ((size_t)C * A) % hw, j = i / ((size_t)C * A * hw);
    float *row = rows + ((size_t)j * per_image + first + p * A + an) * C + c;
    float *v = lv + ((j * A * C + (size_t)an * C + c) * hw + p);
    if (to_rows) *row = *v;
    else *v = *row;
}

static int move(float *rows, float *const *levels, const db_anchors *a, int n, int C, int to_rows, cudaStream_t st) {
    const int A = a->per_position;
    for (int l = 0; l < a->levels; l++) {
        const int hw = a->level_h[l] * a->level_w[l];
        move_k<<<blocks((size_t)n * hw * A * C), 256, 0, st>>>(rows, levels[l], n, A, C, hw, a->n, a->level_first[l],
                                                               to_rows);
        if (launched()) return -1;
    }
    return 0;
}

extern "C" int db_detect_gather_cuda(float *rows, const float *const *levels, const db_anchors *a, int n, int C,
                                     cudaStream_t st) {
    return move(rows, (float *const *)levels, a, n, C, 1, st);
}
extern "C" int db_detect_scatter_cuda(float *const *levels, const float *rows, const db_anchors *a, int n, int C,
                                      cudaStream_t st) {
    return move((float *)rows, levels, a, n, C, 0, st);
}

/* The workspace: the positives' count, then each anchor's class and box sums, then the two totals */
typedef struct {
    unsigned long long *positives;
    double *cls, *box, *totals;
} loss_work;

static loss_work work_of(void *work, long n) {
    loss_work w;
    char *p = (char *)work;
    w.positives = (unsigned long long *)p;
    w.cls = (double *)(p + 256);
    w.box = w.cls + n;
    w.totals = w.box + n;
    return w;
}

extern "C" size_t db_detect_loss_cuda_workspace(long n) { return 256 + sizeof(double) * (2 * (size_t)n + 2); }

/* Positive anchors: a block's count in shared memory, then one integer atomic (exact) per block */
static __global__ void count_k(const int *cls_t, long n, unsigned long long *count) {
    __shared__ unsigned int c;
    if (threadIdx.x == 0) c = 0;
    __syncthreads();
    const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && cls_t[i] >= 0) atomicAdd(&c, 1u);
    __syncthreads();
    if (threadIdx.x == 0 && c) atomicAdd(count, (unsigned long long)c);
}

/* One thread per anchor: its K focal terms and 4 Huber terms in the CPU's order, summed in
 * double, and their gradients scaled as the CPU scales them */
static __global__ void terms_k(float *dlogits, float *dcodes, const float *logits, const float *codes, const int *cls_t,
                               const float *box_t, long n, int K, db_detect_loss_cfg c, const unsigned long long *count,
                               double *cls_sum, double *box_sum) {
    const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const double norm = (double)*count + 1.0;
    const float gc = (float)(1.0 / norm), gb = (float)(c.box_weight / (4.0 * norm));
    const float *x = logits + i * K;
    double cls = 0.0, box = 0.0;
    for (int k = 0; k < K; k++) {
        float g = 0.0f;
        if (cls_t[i] != -2) cls += db_focal1(x[k], cls_t[i] == k, c.alpha, c.gamma, &g);
        if (dlogits) dlogits[i * K + k] = __fmul_rn(g, gc);
    }
    for (int j = 0; j < DB_BOX_CODE; j++) {
        float g = 0.0f, tj = box_t[i * DB_BOX_CODE + j];
        if (tj != 0.0f) box += db_huber1(__fsub_rn(codes[i * DB_BOX_CODE + j], tj), c.huber_delta, &g);
        if (dcodes) dcodes[i * DB_BOX_CODE + j] = __fmul_rn(g, gb);
    }
    cls_sum[i] = cls, box_sum[i] = box;
}

/* One block of 256: thread t adds entries t, t + 256, ... in order, then a fixed tree; the same
 * bits on every run */
static __global__ void sum_k(const double *a, const double *b, long n, double *totals) {
    __shared__ double sa[256], sb[256];
    double x = 0.0, y = 0.0;
    for (long i = threadIdx.x; i < n; i += 256) x += a[i], y += b[i];
    sa[threadIdx.x] = x, sb[threadIdx.x] = y;
    __syncthreads();
    for (int s = 128; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sa[threadIdx.x] += sa[threadIdx.x + s], sb[threadIdx.x] += sb[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) totals[0] = sa[0], totals[1] = sb[0];
}

extern "C" int db_detect_loss_cuda(db_detect_loss_parts *r, float *dlogits, float *dcodes, const float *logits,
                                   const float *codes, const int *cls_t, const float *box_t, long n, int K,
                                   const db_detect_loss_cfg *c, void *work, cudaStream_t st) {
    if (n <= 0) { /* no anchors: the CPU's zeros */
        *r = (db_detect_loss_parts){0, 0, 0, 0};
        return 0;
    }
    loss_work w = work_of(work, n);
    if (cudaMemsetAsync(w.positives, 0, sizeof *w.positives, st) != cudaSuccess) return -1;
    count_k<<<blocks((size_t)n), 256, 0, st>>>(cls_t, n, w.positives);
    terms_k<<<blocks((size_t)n), 256, 0, st>>>(dlogits, dcodes, logits, codes, cls_t, box_t, n, K, *c, w.positives, w.cls,
                                               w.box);
    sum_k<<<1, 256, 0, st>>>(w.cls, w.box, n, w.totals);
    if (launched()) return -1;
    unsigned long long positives = 0;
    double totals[2] = {0, 0};
    if (cudaMemcpyAsync(&positives, w.positives, sizeof positives, cudaMemcpyDeviceToHost, st) != cudaSuccess ||
        cudaMemcpyAsync(totals, w.totals, sizeof totals, cudaMemcpyDeviceToHost, st) != cudaSuccess ||
        cudaStreamSynchronize(st) != cudaSuccess)
        return -1;
    const double norm = (double)positives + 1.0;
    r->positives = (long)positives;
    r->cls = totals[0] / norm;
    r->box = totals[1] / (4.0 * norm);
    r->total = r->cls + c->box_weight * r->box;
    return 0;
}
