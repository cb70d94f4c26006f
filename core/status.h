/* Errors are values: every library function returns a db_status and, on failure, leaves a
 * message in a thread-local buffer that the CLI prints. Nothing inside the library exits. */
#ifndef DB_STATUS_H
#define DB_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DB_OK = 0,
    DB_ERR_ARG,       /* a wrong parameter or configuration value */
    DB_ERR_IO,        /* a file could not be opened, read or written */
    DB_ERR_FORMAT,    /* a file was read but its content is wrong */
    DB_ERR_NOMEM,     /* an allocation failed */
    DB_ERR_DIVERGED,  /* the loss became NaN or Inf */
    DB_ERR_INTERNAL,  /* a broken invariant or a failing library call */
    DB_ERR_UNSUPPORTED,
    DB_ERR_INTERRUPTED, /* stopped on request (a signal); the checkpoint continues it */

    /* Extended codes, in the manner of SQLite's: the primary code above in the low byte, a
     * detail a caller can act on in the byte above it. Compare db_status_primary(s) with a
     * primary code, or s itself with an extended one. */
    DB_ERR_CKPT_VERSION = DB_ERR_FORMAT | 1 << 8,    /* a checkpoint of another format version */
    DB_ERR_CKPT_NOT = DB_ERR_FORMAT | 2 << 8,        /* not a dropbench checkpoint (bad magic) */
    DB_ERR_CKPT_CORRUPT = DB_ERR_FORMAT | 3 << 8,    /* impossible header values, checksum mismatch,
                                                        trailing bytes, a step outside its epoch */
    DB_ERR_CKPT_TRUNCATED = DB_ERR_FORMAT | 4 << 8,  /* the file ends early */
    DB_ERR_CKPT_NETWORK = DB_ERR_FORMAT | 5 << 8,    /* another network's tensors */
    DB_ERR_CKPT_CONFIG = DB_ERR_ARG | 6 << 8,        /* another configuration's run (fingerprint,
                                                        seed, epochs or regularizer sites) */
    DB_ERR_CKPT_THREADS = DB_ERR_ARG | 7 << 8,       /* written with another thread count: resumable
                                                        with that count */
    DB_ERR_CKPT_WORLD = DB_ERR_ARG | 8 << 8          /* written by another number of data-parallel
                                                        processes: resumable with that number */
} db_status;

/* The primary code of a status (DB_ERR_CKPT_CORRUPT -> DB_ERR_FORMAT) */
static inline db_status db_status_primary(db_status s) { return (db_status)(s & 0xff); }

/* Record a message (printf-style) for the current thread and return code. */
db_status db_fail(db_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message of the last failure on this thread ("" when none). */
const char *db_last_error(void);
void db_clear_error(void);
/* A short name for the code, e.g. "io error". */
const char *db_status_name(db_status s);

#ifdef __cplusplus
}
#endif

/* Propagate a failing status unchanged. */
#define DB_TRY(expr) do { db_status db_try_s_ = (expr); if (db_try_s_ != DB_OK) return db_try_s_; } while (0)

#endif
