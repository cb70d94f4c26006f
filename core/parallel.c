#include "core/parallel.h"

#include <stdio.h>

db_status db_parallel_each(int count, db_each_fn fn, void *ctx) {
    int failed = 0;
    char why[1200] = "";
    db_status first = DB_OK;
#pragma omp parallel for schedule(dynamic)
    for (int i = 0; i < count; i++) {
        int stop;
#pragma omp atomic read
        stop = failed;
        if (stop) continue;
        db_status st = fn(ctx, i);
        if (st != DB_OK) {
#pragma omp critical(db_parallel_each_error)
            if (!first) {
                first = st;
                snprintf(why, sizeof why, "%s", db_last_error());
#pragma omp atomic write
                failed = 1;
            }
        }
    }
    return first == DB_OK ? DB_OK : db_fail(first, "%s", why);
}
