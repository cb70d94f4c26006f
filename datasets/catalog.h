/* The data sets dropbench knows how to fetch: each a list of files with the URL the publisher
 * serves, the size and the checksum the publisher lists (MD5 for all of these; SHA-256 where a
 * catalog line gives one). A user's own catalog file adds or replaces entries: lines of
 *   NAME FILE URL SIZE MD5 SHA256
 * separated by blanks, '-' for an unknown size or checksum (at least one checksum), '#'
 * comments. Data sets that need a registration (ImageNet) are not fetched: the user points
 * data_dir at a copy. */
#ifndef DB_DATASETS_CATALOG_H
#define DB_DATASETS_CATALOG_H

#include <stdint.h>

#include "core/status.h"

typedef struct {
    char set[32];       /* data set name, e.g. "cifar10" */
    char file[128];     /* file name in the cache folder */
    char url[512];
    int64_t size;       /* bytes, -1: unknown */
    char md5[33];       /* "" when not listed */
    char sha256[65];
} db_catalog_file;

typedef struct {
    db_catalog_file *files;
    int n;
} db_catalog;

/* The built-in table, then the lines of path (NULL or "": none) replacing or adding entries */
db_status db_catalog_load(db_catalog *c, const char *path);
void db_catalog_free(db_catalog *c);
/* The files of data set `set` (indices into c->files, at most max); 0 when it is unknown */
int db_catalog_files(const db_catalog *c, const char *set, int *idx, int max);
/* What the built-in table says a set is, for listings ("" for user entries) */
const char *db_catalog_about(const char *set);

#endif
