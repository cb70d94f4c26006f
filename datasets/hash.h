/* File digests for verifying downloads and recording what a run read: MD5 (what most data set
 * publishers list) and SHA-256, both in one pass, through OpenSSL's libcrypto. */
#ifndef DB_DATASETS_HASH_H
#define DB_DATASETS_HASH_H

#include <stdint.h>

#include "core/status.h"

typedef struct {
    char md5[33], sha256[65]; /* lower-case hex */
    int64_t bytes;
} db_digest;

/* Both digests of the file at path; a read error names the file */
db_status db_file_digest(const char *path, db_digest *out);

#endif
