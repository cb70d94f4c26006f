/* The CPU-only build's answers to core/cuda.h. */
#ifndef DB_HAVE_CUDA
#include <string.h>

#include "core/cuda.h"

int db_cuda_built(void) { return 0; }
void db_cuda_query(db_cuda_info *info) { memset(info, 0, sizeof *info); }
#else
typedef int db_cuda_none_unused; /* ISO C wants a non-empty translation unit */
#endif
