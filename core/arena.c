#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

#define DB_ALIGN_FLOATS 16 /* 64 bytes */

float *db_arena_take(db_arena *a, size_t n) {
    size_t start = (a->used + DB_ALIGN_FLOATS - 1) / DB_ALIGN_FLOATS * DB_ALIGN_FLOATS;
    a->used = start + n;
    if (a->base == NULL) return NULL;
    if (a->used > a->size) return NULL; /* caller checks: layout changed between passes */
    return a->base + start;
}

db_status db_arena_alloc(db_arena *a) {
    a->size = a->used;
    a->used = 0;
    if (a->size == 0) { a->base = NULL; return DB_OK; }
    void *p = NULL;
    if (posix_memalign(&p, 64, a->size * sizeof(float)) != 0)
        return db_fail(DB_ERR_NOMEM, "cannot allocate %.1f MiB", a->size * 4.0 / 1048576.0);
    memset(p, 0, a->size * sizeof(float));
    a->base = p;
    return DB_OK;
}

void db_arena_free(db_arena *a) {
    free(a->base);
    a->base = NULL;
    a->size = a->used = 0;
}
