#include "core/arena.h"

#include <sys/mman.h>

#define DB_ALIGN_FLOATS 16 /* 64 bytes */

float *db_arena_take(db_arena *a, size_t n) {
    size_t start = (a->used + DB_ALIGN_FLOATS - 1) / DB_ALIGN_FLOATS * DB_ALIGN_FLOATS;
    a->used = start + n;
    if (a->base == NULL) return NULL;
    if (a->used > a->size) return NULL; /* caller checks: layout changed between passes */
    return a->base + start;
}

/* An anonymous mapping: zero pages that take memory only where they are first written, so an
 * arena a run never touches (the host's activations when the GPU trains) costs address space,
 * not memory; MAP_NORESERVE so that the kernel's overcommit heuristic does not refuse it for
 * its size alone. */
db_status db_arena_alloc(db_arena *a) {
    a->size = a->used;
    a->used = 0;
    if (a->size == 0) { a->base = NULL; return DB_OK; }
    void *p = mmap(NULL, a->size * sizeof(float), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        double mib = a->size * 4.0 / 1048576.0;
        a->size = 0;
        return db_fail(DB_ERR_NOMEM, "cannot allocate %.1f MiB", mib);
    }
    a->base = p;
    return DB_OK;
}

void db_arena_free(db_arena *a) {
    if (a->base) munmap(a->base, a->size * sizeof(float));
    a->base = NULL;
    a->size = a->used = 0;
}
