/* Folders made as they are needed, parents first (mkdir -p): for a checkpoint folder, a results
 * file's folder, a download's set folder. An existing folder is fine; a path that cannot be a
 * folder (below a regular file, unwritable) fails naming the part that could not be made. */
#ifndef DB_CORE_DIRS_H
#define DB_CORE_DIRS_H

#include "core/status.h"

/* dir and every missing folder above it */
db_status db_make_dirs(const char *dir);
/* The folder that holds path (nothing for a bare file name) */
db_status db_make_dirs_for(const char *path);

#endif
