// Batch norm on the GPU's NCHW maps with its ReLU in the same passes (nets/ops_cuda.h), the
// CPU op's formulas (nets/batchnorm.c): statistics shifted by the channel's first value and
// summed in double, save_invstd = 1/sqrt(var + eps), the running variance unbiased; the backward
// from the sums of g and g * (x - mean), g the output gradient where the output is positive;
// every product and sum rounded on its own as the CPU's are (no contraction into FMAs). The CPU
// sums in float lanes gathered in double, this in double: within rounding, not bit for bit.
// Each channel's n * hw values are cut into fixed slices, one block each, whose sums a second
// launch adds in slice order: the same bits run after run. cuDNN's batch norm on NCHW fp32 has no
// ReLU of its own, so with it the graph makes a ReLU pass after it forward and a ReLU-backward
// pass into a scratch tensor before it backward.
#include <cuda_runtime.h>

#include "nets/ops_cuda.h"

enum { THREADS = 256, SLICES = 64, CHUNK = 4096 }; // a slice: at least CHUNK values, at most SLICES of them

static int slices(size_t m) {
    const size_t s = (m + CHUNK - 1) / CHUNK, most = SLICES;
    return (int)(s < 1 ? 1 : s > most ? most : s);
}

// The scratch: per channel and slice two partial sums (double), then per channel four floats
extern "C" size_t db_bn_cuda_scratch(int c) { return (size_t)c * SLICES * 2 * sizeof(double) + (size_t)c * 4 * sizeof(float); }
static float *coefs(void *scratch, int c) { return (float *)((double *)scratch + (size_t)c * SLICES * 2); }

// Unit u of channel ch (u < n * hw): sample u / hw, pixel u % hw
static __device__ __forceinline__ size_t unit_at(int ch, unsigned u, int c, unsigned hw) {
    return ((size_t)(u / hw) * c + ch) * hw + u % hw;
}

// The output gradient the normalisation sees: dy, zero where the fused ReLU clipped. y is read
// only with the ReLU (a full map's read saved without it; y may then be NULL)
static __device__ __forceinline__ float seen(const float *dy, const float *y, size_t i, int relu) {
    return relu && !(y[i] > 0.0f) ? 0.0f : dy[i];
}

// Block-wide sums of a and b (double), left in thread 0's
static __device__ void block_sums(double *a, double *b) {
    __shared__ double sa[THREADS], sb[THREADS];
    sa[threadIdx.x] = *a, sb[threadIdx.x] = *b;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) sa[threadIdx.x] += sa[threadIdx.x + half], sb[threadIdx.x] += sb[threadIdx.x + half];
        __syncthreads();
    }
    *a = sa[0], *b = sb[0];
}

// Block (slice s, channel ch): mode 0 the sums of t and t^2, t = x - the channel's first value;
// mode 1 the sums of g and g * (x - mean)
template <int MODE>
static __global__ void partial_k(double *part, const float *x, const float *dy, const float *y, const float *mean, int relu,
                                 int c, unsigned hw, unsigned m) {
    const int s = blockIdx.x, ch = blockIdx.y, S = gridDim.x;
    const unsigned per = (m + S - 1) / S, u0 = (unsigned)s * per, u1 = u0 + per < m ? u0 + per : m;
    const float at0 = MODE == 0 ? x[(size_t)ch * hw] : mean[ch];
    double a = 0, b = 0;
    for (unsigned u = u0 + threadIdx.x; u < u1; u += THREADS) {
        const size_t i = unit_at(ch, u, c, hw);
        const float d = x[i] - at0;
        if (MODE == 0) {
            a += d, b = __dadd_rn(b, __dmul_rn(d, d));
        } else {
            const float g = seen(dy, y, i, relu);
            a += g, b += (double)__fmul_rn(g, d);
        }
    }
    block_sums(&a, &b);
    if (threadIdx.x == 0) part[((size_t)ch * S + s) * 2] = a, part[((size_t)ch * S + s) * 2 + 1] = b;
}

static __device__ void sum_slices(const double *part, int ch, int S, double *a, double *b) {
    *a = 0, *b = 0;
    for (int s = 0; s < S; s++) *a += part[((size_t)ch * S + s) * 2], *b += part[((size_t)ch * S + s) * 2 + 1];
}

// Per channel: the statistics, the running ones, and the scale and shift the apply pass takes
static __global__ void stats_k(float *save_mean, float *save_invstd, float *run_mean, float *run_var, float *coef,
                               const double *part, const float *x, const float *gamma, const float *beta, float momentum,
                               float eps, int c, unsigned hw, unsigned m, int S) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double s1, s2;
    sum_slices(part, ch, S, &s1, &s2);
    const double mt = s1 / m;
    double var = __dsub_rn(s2 / m, __dmul_rn(mt, mt));
    if (var < 0.0) var = 0.0;
    const double mean = mt + x[(size_t)ch * hw];
    const float inv = (float)(1.0 / sqrt(var + eps));
    const float sc = __fmul_rn(gamma[ch], inv), sh = __fsub_rn(beta[ch], __fmul_rn((float)mean, sc));
    save_mean[ch] = (float)mean, save_invstd[ch] = inv;
    coef[2 * ch] = sc, coef[2 * ch + 1] = sh;
    const double unbiased = m > 1 ? var * m / (m - 1) : var;
    run_mean[ch] = __fadd_rn(__fmul_rn(1.0f - momentum, run_mean[ch]), __fmul_rn(momentum, (float)mean));
    run_var[ch] = __fadd_rn(__fmul_rn(1.0f - momentum, run_var[ch]), __fmul_rn(momentum, (float)unbiased));
}

// Inference: the scale and shift from the running statistics
static __global__ void infer_coef_k(float *coef, const float *gamma, const float *beta, const float *run_mean,
                                    const float *run_var, float eps, int c) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    const float sc = gamma[ch] / sqrtf(__fadd_rn(run_var[ch], eps));
    coef[2 * ch] = sc, coef[2 * ch + 1] = __fsub_rn(beta[ch], __fmul_rn(run_mean[ch], sc));
}

static __device__ __forceinline__ float bn1(float x, const float *coef, int ch, int relu) {
    const float v = __fadd_rn(__fmul_rn(x, coef[2 * ch]), coef[2 * ch + 1]);
    return relu ? (v > 0.0f ? v : 0.0f) : v;
}

// y = relu?(x * sc + sh) over NCHW; four values at a time when hw is a multiple of 4 (one channel)
static __global__ void apply_k(float *y, const float *x, const float *coef, int relu, int c, unsigned hw, size_t len, int vec4) {
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    if (vec4) {
        for (size_t q = (size_t)blockIdx.x * blockDim.x + threadIdx.x; q < len / 4; q += stride) {
            const int ch = (int)((q * 4 / hw) % c);
            float4 v = ((const float4 *)x)[q];
            v.x = bn1(v.x, coef, ch, relu), v.y = bn1(v.y, coef, ch, relu), v.z = bn1(v.z, coef, ch, relu), v.w = bn1(v.w, coef, ch, relu);
            ((float4 *)y)[q] = v;
        }
        return;
    }
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < len; i += stride)
        y[i] = bn1(x[i], coef, (int)((i / hw) % c), relu);
}

// Per channel: dgamma, dbeta and the input gradient's coefficients, as the CPU's backward_apply
static __global__ void grads_k(float *dgamma, float *dbeta, float *coef, const double *part, const float *gamma,
                               const float *save_invstd, int c, unsigned m, int S) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double sdy, sdyx;
    sum_slices(part, ch, S, &sdy, &sdyx);
    const float inv = save_invstd[ch];
    dgamma[ch] = (float)(sdyx * inv), dbeta[ch] = (float)sdy;
    coef[3 * ch] = __fmul_rn(gamma[ch], inv);
    coef[3 * ch + 1] = (float)(sdy / m);
    coef[3 * ch + 2] = __fmul_rn((float)(sdyx * inv / m), inv);
}

// dx (+)= a * (g - b - (x - mean) * cc)
static __global__ void dx_k(float *dx, const float *dy, const float *x, const float *y, const float *coef,
                            const float *save_mean, int relu, int c, unsigned hw, size_t len, int accum) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < len; i += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)((i / hw) % c);
        const float g = seen(dy, y, i, relu);
        const float v = __fmul_rn(coef[3 * ch], __fsub_rn(__fsub_rn(g, coef[3 * ch + 1]), __fmul_rn(x[i] - save_mean[ch], coef[3 * ch + 2])));
        dx[i] = accum ? __fadd_rn(dx[i], v) : v;
    }
}

static unsigned blocks_for(size_t n) {
    const size_t b = (n + THREADS - 1) / THREADS;
    return (unsigned)(b < 1 ? 1 : b > 65536 ? 65536 : b);
}

static int launched(void) { return cudaGetLastError() == cudaSuccess ? 0 : -1; }

// A call's shape: a channel's m = n * hw values (within 31 bits of units: the slices' indices), S
// slices of them, the scratch's sums and coefficients; 0 when the shape does not fit
typedef struct {
    unsigned m, hw;
    int S;
    double *part;
    float *coef;
    size_t len;
} shape;
extern "C" int db_bn_cuda_fits(int c, int n, int hw) {
    return c > 0 && n > 0 && hw > 0 && (size_t)n * hw < 0x7fffffffu && c <= 65535;
}
static int shape_of(shape *p, int c, int n, int hw, void *scratch) {
    if (!db_bn_cuda_fits(c, n, hw)) return 0;
    p->m = (unsigned)((size_t)n * hw), p->hw = (unsigned)hw, p->S = slices(p->m);
    p->part = (double *)scratch, p->coef = coefs(scratch, c), p->len = (size_t)c * p->m;
    return 1;
}

// y = relu?(x * sc + sh) with the coefficients in place
static int apply(float *y, const float *x, const shape *p, int relu, int c, cudaStream_t s) {
    const int vec4 = p->hw % 4 == 0 && ((size_t)x | (size_t)y) % 16 == 0;
    apply_k<<<blocks_for(vec4 ? p->len / 4 : p->len), THREADS, 0, s>>>(y, x, p->coef, relu, c, p->hw, p->len, vec4);
    return launched();
}

extern "C" int db_bn_forward_train_cuda(float *y, float *save_mean, float *save_invstd, float *run_mean, float *run_var,
                                        const float *x, const float *gamma, const float *beta, float momentum, float eps,
                                        int relu, int c, int n, int hw, void *scratch, cudaStream_t s) {
    shape p;
    if (!shape_of(&p, c, n, hw, scratch)) return -1;
    partial_k<0><<<dim3(p.S, c), THREADS, 0, s>>>(p.part, x, NULL, NULL, NULL, 0, c, p.hw, p.m);
    stats_k<<<(c + THREADS - 1) / THREADS, THREADS, 0, s>>>(save_mean, save_invstd, run_mean, run_var, p.coef, p.part, x, gamma,
                                                            beta, momentum, eps, c, p.hw, p.m, p.S);
    return apply(y, x, &p, relu, c, s);
}

extern "C" int db_bn_forward_infer_cuda(float *y, const float *x, const float *gamma, const float *beta, const float *run_mean,
                                        const float *run_var, float eps, int relu, int c, int n, int hw, void *scratch,
                                        cudaStream_t s) {
    shape p;
    if (!shape_of(&p, c, n, hw, scratch)) return -1;
    infer_coef_k<<<(c + THREADS - 1) / THREADS, THREADS, 0, s>>>(p.coef, gamma, beta, run_mean, run_var, eps, c);
    return apply(y, x, &p, relu, c, s);
}

extern "C" int db_bn_backward_cuda(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x, const float *y,
                                   const float *gamma, const float *save_mean, const float *save_invstd, int relu, int c,
                                   int n, int hw, int accum, void *scratch, cudaStream_t s) {
    shape p;
    if (!shape_of(&p, c, n, hw, scratch)) return -1;
    partial_k<1><<<dim3(p.S, c), THREADS, 0, s>>>(p.part, x, dy, y, save_mean, relu, c, p.hw, p.m);
    grads_k<<<(c + THREADS - 1) / THREADS, THREADS, 0, s>>>(dgamma, dbeta, p.coef, p.part, gamma, save_invstd, c, p.m, p.S);
    if (dx) dx_k<<<blocks_for(p.len), THREADS, 0, s>>>(dx, dy, x, y, p.coef, save_mean, relu, c, p.hw, p.len, accum);
    return launched();
}
