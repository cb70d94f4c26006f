/* Unpacking a downloaded archive (zip, tar and their compressed kinds, through libarchive) into a
 * data set's folder, e.g. COCO 2017's three zips into CACHE/coco2017/ (annotations/, train2017/,
 * val2017/). Entries go first into DEST/.unpack-ARCHIVE.part/, so an interrupted unpack leaves
 * nothing half-written in DEST (the next one starts that folder afresh); once the whole archive is
 * out, each top-level entry is renamed into DEST. An entry with an absolute path or a ".." step,
 * a link, or anything but a file or a folder is refused, as is a top-level entry that DEST already
 * has (nothing is moved then). */
#ifndef DB_DATASETS_UNPACK_H
#define DB_DATASETS_UNPACK_H

#include <stdint.h>

#include "core/status.h"

typedef struct {
    long files, dirs;   /* entries written */
    int64_t bytes;      /* file contents written */
    char top[8][256];   /* the first top-level entries moved into DEST */
    int n_top;          /* how many there were (may exceed 8) */
} db_unpack_stats;

db_status db_unpack(const char *archive, const char *dest, db_unpack_stats *st);

#endif
