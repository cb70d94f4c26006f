/* What a run needs on record to be re-run and trusted: the source (git commit, dirty flag, tree
 * and diff hashes, from build time), the build (compiler, flags), the machine (host, CPU, RAM,
 * GPU and CUDA versions, BLAS), the data (file checksums) and the determinism switches. */
#ifndef DB_STUDY_PROVENANCE_H
#define DB_STUDY_PROVENANCE_H

#include "results/store.h"

enum { DB_PROV_MAX = 24, DB_PROV_LEN = 1024 };

typedef struct {
    int n;
    char key[DB_PROV_MAX][32];
    char value[DB_PROV_MAX][DB_PROV_LEN];
    db_kv kv[DB_PROV_MAX];  /* pointers into key/value, for db_store_begin_run */
} db_provenance;

/* data_files: the data set's files (their CRC-32s are recorded), NULL-terminated; threads: the
 * thread count (results are bit-identical for the same count) */
void db_provenance_collect(db_provenance *p, const char *const *data_files, int threads);
/* One more file on record under key: its path and SHA-256 (e.g. the checkpoint init_from starts
 * from: "init_from") */
void db_provenance_file(db_provenance *p, const char *key, const char *path);

#endif
