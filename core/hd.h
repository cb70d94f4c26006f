/* DB_HD marks the per-element bodies shared by the CPU loops and the CUDA launchers:
 * host+device under nvcc, plain static inline under cc (design principle 1). */
#ifndef DB_HD_H
#define DB_HD_H
#ifdef __CUDACC__
#define DB_HD __host__ __device__ static inline
#else
#define DB_HD static inline
#endif

/* a * b rounded on its own: nvcc would otherwise fuse it with a following add into an FMA that
 * the CPU code (C11, no contraction) does not make, and the devices would differ in the last
 * bit wherever a body accumulates. */
DB_HD float db_mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}
#endif
