#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

db_status db_fail(db_status code, const char *fmt, ...) {
    /* formatted aside first: a message may wrap the last one (db_fail(s, "x: %s", db_last_error())),
     * and vsnprintf may not read the buffer it writes */
    char msg[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(last_error, msg, sizeof msg);
    return code;
}

const char *db_last_error(void) { return last_error; }
void db_clear_error(void) { last_error[0] = '\0'; }

const char *db_status_name(db_status s) {
    switch (s) {
    case DB_OK: return "ok";
    case DB_ERR_ARG: return "invalid argument";
    case DB_ERR_IO: return "i/o error";
    case DB_ERR_FORMAT: return "bad file format";
    case DB_ERR_NOMEM: return "out of memory";
    case DB_ERR_DIVERGED: return "diverged";
    case DB_ERR_INTERNAL: return "internal error";
    case DB_ERR_UNSUPPORTED: return "unsupported";
    case DB_ERR_INTERRUPTED: return "interrupted";
    case DB_ERR_CKPT_VERSION: return "checkpoint of another version";
    case DB_ERR_CKPT_NOT: return "not a checkpoint";
    case DB_ERR_CKPT_CORRUPT: return "corrupt checkpoint";
    case DB_ERR_CKPT_TRUNCATED: return "truncated checkpoint";
    case DB_ERR_CKPT_NETWORK: return "checkpoint of another network";
    case DB_ERR_CKPT_CONFIG: return "checkpoint of another configuration";
    case DB_ERR_CKPT_THREADS: return "checkpoint of another thread count";
    case DB_ERR_CKPT_WORLD: return "checkpoint of another number of processes";
    }
    return "unknown error";
}
