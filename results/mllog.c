#include "results/mllog.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t db_mllog_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

db_status db_mllog_open(db_mllog *m, const char *db_path, int64_t run, int fresh) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", db_path);
    size_t n = strlen(dir);
    if (n > 3 && !strcmp(dir + n - 3, ".db")) dir[n - 3] = '\0';
    if (strlen(dir) + 7 >= sizeof dir) return db_fail(DB_ERR_ARG, "%s: path too long for its event log", db_path);
    strcat(dir, ".mllog");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return db_fail(DB_ERR_IO, "%s: cannot make the event-log folder: %s", dir, strerror(errno));
    snprintf(m->path, sizeof m->path, "%s/run-%06lld.log", dir, (long long)run);
    char old[sizeof m->path + 16];
    int k = 1; /* another run's, of a database gone: moved aside to the first free .old, .old-2, ... */
    for (; fresh && k < 10000 && access(m->path, F_OK) == 0; k++) {
        snprintf(old, sizeof old, k == 1 ? "%s.old" : "%s.old-%d", m->path, k);
        if (access(old, F_OK) == 0) continue;
        if (rename(m->path, old) != 0)
            return db_fail(DB_ERR_IO, "%s: cannot move the earlier run's event log aside: %s", m->path, strerror(errno));
    }
    if (fresh && access(m->path, F_OK) == 0)
        return db_fail(DB_ERR_IO, "%s: 10,000 earlier event logs of this number beside it", m->path);
    m->f = fopen(m->path, "a");
    if (!m->f) return db_fail(DB_ERR_IO, "%s: cannot write the event log: %s", m->path, strerror(errno));
    return DB_OK;
}

void db_mllog_event(db_mllog *m, const char *type, const char *key, const char *value_json,
                    const char *metadata_json, int64_t time_ms) {
    if (!m->f) return;
    fprintf(m->f, ":::MLLOG {\"namespace\": \"\", \"time_ms\": %lld, \"event_type\": \"%s\", \"key\": \"%s\", "
                  "\"value\": %s, \"metadata\": %s}\n",
            (long long)(time_ms ? time_ms : db_mllog_now_ms()), type, key, value_json ? value_json : "null",
            metadata_json ? metadata_json : "{}");
    fflush(m->f);
}

db_status db_mllog_close(db_mllog *m) {
    if (!m->f) return DB_OK;
    int bad = ferror(m->f);
    int rc = fclose(m->f);
    m->f = NULL;
    if (bad || rc != 0) return db_fail(DB_ERR_IO, "%s: writing the event log failed", m->path);
    return DB_OK;
}
