#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static db_log_sink sink;
static void *sink_user;

db_log_sink db_log_set_sink(db_log_sink s, void *user) {
    db_log_sink old = sink;
    sink = s;
    sink_user = user;
    return old;
}

int db_log_enabled(void) { return sink != NULL; }

void db_log(db_log_kind kind, const char *fmt, ...) {
    if (!sink) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sink(kind, msg, sink_user);
}
