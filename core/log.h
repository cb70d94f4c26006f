/* The library's only way to say something while it works: messages go to a sink that the
 * program installs (the command prints them; an embedding program may route them anywhere or
 * drop them). Without a sink nothing is printed. Failures are not messages: they are statuses
 * (core/status.h). */
#ifndef DB_CORE_LOG_H
#define DB_CORE_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DB_LOG_INFO,     /* what is happening ("study X: 8 cells"), for standard output */
    DB_LOG_NOTE,     /* a choice made for the user or a recoverable problem, for standard error */
    DB_LOG_PROGRESS  /* a progress line that the next one overwrites (no newline; terminals only) */
} db_log_kind;

typedef void (*db_log_sink)(db_log_kind kind, const char *message, void *user);

/* Installs the sink for the whole process (NULL: silence); returns the previous one. */
db_log_sink db_log_set_sink(db_log_sink sink, void *user);
/* printf-style; one message, without its final newline */
void db_log(db_log_kind kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Is anyone listening for this kind? (skip building an expensive message) */
int db_log_enabled(void);

#ifdef __cplusplus
}
#endif

#endif
