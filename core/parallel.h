/* A loop over independent items on the OpenMP threads that stops at the first failure and
 * returns it with its message (db_last_error is per thread, so a worker's message is carried
 * back to the caller's thread). */
#ifndef DB_CORE_PARALLEL_H
#define DB_CORE_PARALLEL_H

#include "core/status.h"

typedef db_status (*db_each_fn)(void *ctx, int i);

/* fn(ctx, i) for i in 0 .. count-1, dynamically scheduled; once one fails, the items not yet
 * started are skipped and its status and message come back */
db_status db_parallel_each(int count, db_each_fn fn, void *ctx);

#endif
