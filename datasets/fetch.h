/* Verified downloads on libcurl: a catalog file (datasets/catalog.h) is fetched into
 * ROOT/SET/FILE through ROOT/SET/FILE.part, resumed with an HTTP Range request (or file://
 * offset) after a cut, retried with back-off on transient failures (timeouts, stalls, cut
 * connections, 5xx, 408, 429), and renamed into place only after its size and checksum match
 * the catalog; a mismatch deletes the partial file. http(s):// and file:// URLs; libcurl
 * honours the usual proxy variables (http_proxy, https_proxy, no_proxy). Offline, nothing is
 * fetched: a file must already be in the cache. */
#ifndef DB_DATASETS_FETCH_H
#define DB_DATASETS_FETCH_H

#include <stddef.h>

#include "core/status.h"
#include "datasets/catalog.h"
#include "datasets/hash.h"

typedef struct {
    const char *root;     /* the cache folder (db_data_root) */
    const char *mirror;   /* NULL, or a base URL replacing each URL up to its last '/' */
    int offline;
    int retries;          /* tries after the first */
    double retry_delay;   /* seconds before the first retry; doubles each time */
    long connect_timeout; /* seconds */
    long stall_timeout;   /* seconds without a byte before a try is abandoned */
    int progress;         /* a progress line on stderr (when it is a terminal) */
} db_fetch_opts;

void db_fetch_defaults(db_fetch_opts *o);
/* The cache folder: flag when given, else $XDG_CACHE_HOME/dropbench, else ~/.cache/dropbench */
db_status db_data_root(const char *flag, char *out, size_t n);
/* ROOT/SET/FILE of a catalog file */
void db_fetch_path(const db_fetch_opts *o, const db_catalog_file *f, char *out, size_t n);
/* Make sure the file is in the cache and verified: fetch it when missing (or when the cached
 * copy fails verification). *cached is 1 when nothing was downloaded; d gets its digests. */
db_status db_fetch_file(const db_catalog_file *f, const db_fetch_opts *o, int *cached, db_digest *d);
/* Check a file against its catalog entry (size and every listed checksum) */
db_status db_verify_file(const db_catalog_file *f, const char *path, db_digest *d);

#endif
