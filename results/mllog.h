/* An MLPerf-compatible event log per run, beside the database: one line per event,
 * ":::MLLOG " and a JSON object with namespace, time_ms, event_type (INTERVAL_START,
 * INTERVAL_END, POINT_IN_TIME), key, value and metadata, so MLPerf's log tools can read
 * dropbench runs. For database results/dropbench.db, run 12 logs to
 * results/dropbench.mllog/run-000012.log (appended to when the run resumes). */
#ifndef DB_RESULTS_MLLOG_H
#define DB_RESULTS_MLLOG_H

#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

typedef struct {
    FILE *f;
    char path[1100];
} db_mllog;

/* DB.mllog/run-NNNNNN.log beside DB, appended to; fresh (a new record): a log already there is
 * another run's, of a database deleted since, and goes aside to run-NNNNNN.log.old */
db_status db_mllog_open(db_mllog *m, const char *db_path, int64_t run, int fresh);
/* value_json and metadata_json are JSON texts ("0.1", "\"sgd\"", "{\"epoch_num\": 3}");
 * time_ms 0 means now. Write errors are reported once the log is closed. */
void db_mllog_event(db_mllog *m, const char *type, const char *key, const char *value_json,
                    const char *metadata_json, int64_t time_ms);
db_status db_mllog_close(db_mllog *m);
int64_t db_mllog_now_ms(void);

#endif
