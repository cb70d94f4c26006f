/* One allocation per tensor set (parameters, gradients, activations, workspace), sized once
 * when a model is built, so the training step never allocates (design principle 6). */
#ifndef DB_ARENA_H
#define DB_ARENA_H

#include <stddef.h>

#include "core/status.h"

typedef struct {
    float *base;
    size_t size;  /* floats reserved */
    size_t used;  /* floats handed out */
} db_arena;

/* Two passes: first reserve (base == NULL) to count, then db_arena_alloc, then take again.
 * The arena is zeroed, and memory is taken only for the pages that are written (an arena a
 * run never touches costs none). */
db_status db_arena_alloc(db_arena *a);
/* Take n floats aligned to 64 bytes; during the counting pass returns NULL and counts. */
float *db_arena_take(db_arena *a, size_t n);
void db_arena_free(db_arena *a);

#endif
