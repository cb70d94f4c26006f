/* Wall-clock seconds for timings (monotonic: unaffected by clock changes). */
#ifndef DB_CORE_CLOCK_H
#define DB_CORE_CLOCK_H

#include <time.h>

static inline double db_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

#endif
