/* DB_HD marks the per-element bodies shared by the CPU loops and the CUDA launchers:
 * host+device under nvcc, plain static inline under cc (design principle 1). */
#ifndef DB_HD_H
#define DB_HD_H
#ifdef __CUDACC__
#define DB_HD __host__ __device__ static inline
#else
#define DB_HD static inline
#endif
#endif
