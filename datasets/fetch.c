#include "datasets/fetch.h"

#include "core/dirs.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

void db_fetch_defaults(db_fetch_opts *o) {
    memset(o, 0, sizeof *o);
    o->retries = 4;
    o->retry_delay = 2.0;
    o->connect_timeout = 30;
    o->stall_timeout = 60;
    o->progress = 1;
}

db_status db_data_root(const char *flag, char *out, size_t n) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int len;
    if (flag && *flag) len = snprintf(out, n, "%s", flag);
    else if (xdg && *xdg) len = snprintf(out, n, "%s/dropbench", xdg);
    else if (home && *home) len = snprintf(out, n, "%s/.cache/dropbench", home);
    else return db_fail(DB_ERR_ARG, "no cache folder: set --data-dir, XDG_CACHE_HOME or HOME");
    if (len < 0 || (size_t)len >= n) return db_fail(DB_ERR_ARG, "the cache folder's path is too long");
    return DB_OK;
}

void db_fetch_path(const db_fetch_opts *o, const db_catalog_file *f, char *out, size_t n) {
    snprintf(out, n, "%s/%s/%s", o->root, f->set, f->file);
}

db_status db_verify_file(const db_catalog_file *f, const char *path, db_digest *d) {
    DB_TRY(db_file_digest(path, d));
    if (f->size >= 0 && d->bytes != f->size)
        return db_fail(DB_ERR_FORMAT, "%s: %" PRId64 " bytes, the catalog says %" PRId64, path, d->bytes, f->size);
    if (f->md5[0] && strcmp(d->md5, f->md5))
        return db_fail(DB_ERR_FORMAT, "%s: checksum mismatch: MD5 %s, the catalog says %s", path, d->md5, f->md5);
    if (f->sha256[0] && strcmp(d->sha256, f->sha256))
        return db_fail(DB_ERR_FORMAT, "%s: checksum mismatch: SHA-256 %s, the catalog says %s", path, d->sha256, f->sha256);
    return DB_OK;
}

typedef struct {
    FILE *out;
    int write_errno;
    const db_catalog_file *f;
    int64_t offset;       /* bytes already in the partial file when this try began */
    int progress;
    double last, start;
    int64_t received;     /* bytes written by this try */
    int too_big;          /* the server sent more than the catalog's size: stopped there */
} transfer;

/* A file of unknown size ('-' in a catalog) stops here: an endless server fills no disk */
#define UNKNOWN_SIZE_MAX ((int64_t)64 << 30)

static size_t on_data(char *p, size_t size, size_t n, void *user) {
    transfer *t = user;
    const int64_t most = t->f->size >= 0 ? t->f->size : UNKNOWN_SIZE_MAX;
    if (t->offset + t->received + (int64_t)(size * n) > most) { /* never past the size */
        t->too_big = 1;
        return 0;
    }
    size_t w = fwrite(p, size, n, t->out);
    if (w != n) t->write_errno = errno ? errno : EIO;
    t->received += (int64_t)(w * size);
    return w * size;
}

static int on_progress(void *user, curl_off_t total, curl_off_t got, curl_off_t ut, curl_off_t un) {
    (void)ut; (void)un;
    transfer *t = user;
    double tm = db_now();
    if (!t->progress || tm - t->last < 0.25) return 0;
    t->last = tm;
    double have = (double)(t->offset + got), all = t->f->size > 0 ? (double)t->f->size : (double)(t->offset + total);
    double rate = got / (tm - t->start + 1e-9);
    if (all > 0)
        db_log(DB_LOG_PROGRESS, "  %s  %.1f / %.1f MB  %3.0f%%  %.1f MB/s ", t->f->file, have / 1e6, all / 1e6,
               100.0 * have / all, rate / 1e6);
    else
        db_log(DB_LOG_PROGRESS, "  %s  %.1f MB  %.1f MB/s ", t->f->file, have / 1e6, rate / 1e6);
    return 0;
}

/* The URL to fetch: the catalog's, or the mirror's base with the catalog URL's last part */
static void url_of(const db_catalog_file *f, const db_fetch_opts *o, char *out, size_t n) {
    if (!o->mirror || !*o->mirror) { snprintf(out, n, "%s", f->url); return; }
    const char *last = strrchr(f->url, '/');
    size_t m = strlen(o->mirror);
    snprintf(out, n, "%s%s%s", o->mirror, m && o->mirror[m - 1] == '/' ? "" : "/", last ? last + 1 : f->file);
}

typedef enum { TRY_DONE, TRY_AGAIN, TRY_RESTART, TRY_FATAL } try_result;

/* libcurl's one check: a failing call leaves its name, libcurl's reason and where in why and
 * returns its code (why and why_n in scope) */
#define CURL_CHECK(call)                                                                          \
    do {                                                                                          \
        CURLcode cc_ = (call);                                                                    \
        if (cc_ != CURLE_OK) {                                                                    \
            snprintf(why, why_n, "libcurl: %s: %s [%s:%d]", #call, curl_easy_strerror(cc_), __FILE__, \
                     __LINE__);                                                                   \
            return cc_;                                                                           \
        }                                                                                         \
    } while (0)

/* The handle set up for one try of url into t, continuing after `have` bytes; err receives
 * libcurl's message of the transfer */
static CURLcode configure(CURL *c, const char *url, transfer *t, const db_fetch_opts *o, int64_t have, char *err,
                          char *why, size_t why_n) {
    curl_easy_reset(c);
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_URL, url));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_WRITEDATA, t));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_XFERINFODATA, t));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L)); /* a trickle is a stall too */
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->stall_timeout));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_USERAGENT, "dropbench"));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file"));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err));
    if (have > 0) CURL_CHECK(curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)have));
    /* a server that announces a longer body is refused before it sends it; not when continuing,
     * where a server that ignores the range announces the whole file and must restart instead */
    if (t->f->size >= 0 && have == 0)
        CURL_CHECK(curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->f->size));
    return CURLE_OK;
}

/* The handle outlives a try's buffers: it forgets them */
static CURLcode forget(CURL *c, char *why, size_t why_n) {
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL));
    CURL_CHECK(curl_easy_setopt(c, CURLOPT_XFERINFODATA, NULL));
    return CURLE_OK;
}

/* One try: append to the partial file from its current size (*continued 0 when it starts over) */
static try_result try_once(CURL *c, const char *url, const char *part, const db_catalog_file *f, const db_fetch_opts *o,
                           int *continued, char *why, size_t why_n) {
    struct stat st;
    int64_t have = stat(part, &st) == 0 ? (int64_t)st.st_size : 0;
    if (f->size >= 0 && have > f->size) { /* longer than the file can be: start over */
        if (truncate(part, 0) != 0) { snprintf(why, why_n, "%s: cannot truncate: %s", part, strerror(errno)); return TRY_FATAL; }
        have = 0;
        *continued = 0;
    }
    if (f->size >= 0 && have == f->size) return TRY_DONE; /* a previous try got it all */
    transfer t = {.f = f, .offset = have, .progress = o->progress && db_log_enabled(), .start = db_now()};
    char err[CURL_ERROR_SIZE] = "";
    if (configure(c, url, &t, o, have, err, why, why_n) != CURLE_OK) return TRY_FATAL;
    if (!(t.out = fopen(part, "ab"))) {
        snprintf(why, why_n, "%s: cannot write: %s", part, strerror(errno));
        forget(c, why, why_n);
        return TRY_FATAL;
    }
    CURLcode rc = curl_easy_perform(c);
    int closed = fclose(t.out), close_errno = errno;
    if (forget(c, why, why_n) != CURLE_OK) return TRY_FATAL;
    if (t.progress && t.last > 0) db_log(DB_LOG_PROGRESS, "%s", ""); /* an empty one ends the progress line */
    long http = 0;
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http) != CURLE_OK) http = 0; /* unknown: judged by rc alone */
    if (rc == CURLE_OK && closed != 0) {
        snprintf(why, why_n, "%s: cannot write: %s", part, strerror(close_errno));
        return TRY_FATAL;
    }
    if (rc == CURLE_OK) { /* a server may end the body early without a length: resume then */
        struct stat now_st = {0}; /* unreadable: said as 0 bytes */
        if (f->size < 0 || (stat(part, &now_st) == 0 && (int64_t)now_st.st_size >= f->size)) return TRY_DONE;
        snprintf(why, why_n, "%s: the transfer ended at %lld of %lld bytes", url, (long long)now_st.st_size,
                 (long long)f->size);
        return TRY_AGAIN;
    }
    if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED) { /* not the file the catalog names: nothing of it kept */
        if (f->size >= 0)
            snprintf(why, why_n, "%s: the server sends more than the catalog's %lld bytes: not the file the catalog "
                     "names (a wrong URL or mirror?); nothing was kept", url, (long long)f->size);
        else
            snprintf(why, why_n, "%s: the server sends more than %lld GiB, the most taken for a file of unknown size "
                     "(give its size in the catalog); nothing was kept", url, (long long)(UNKNOWN_SIZE_MAX >> 30));
        unlink(part);
        return TRY_FATAL;
    }
    if (rc == CURLE_WRITE_ERROR && t.write_errno) {
        snprintf(why, why_n, "%s: cannot write: %s (the partial file is kept; fetch again to continue)", part,
                 strerror(t.write_errno));
        return TRY_FATAL;
    }
    const char *what = err[0] ? err : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(why, why_n, "%s: the transfer stalled (under 1 KiB/s for %ld s) or did not connect in %ld s (%s)", url,
                 o->stall_timeout, o->connect_timeout, what);
    else if (rc == CURLE_HTTP_RETURNED_ERROR)
        snprintf(why, why_n, "%s: HTTP %ld", url, http);
    else
        snprintf(why, why_n, "%s: %s", url, what);
    if (rc == CURLE_RANGE_ERROR || rc == CURLE_BAD_DOWNLOAD_RESUME || (rc == CURLE_HTTP_RETURNED_ERROR && http == 416))
        return TRY_RESTART;
    if (rc == CURLE_HTTP_RETURNED_ERROR) return http >= 500 || http == 408 || http == 429 ? TRY_AGAIN : TRY_FATAL;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: case CURLE_PARTIAL_FILE: case CURLE_COULDNT_CONNECT: case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: case CURLE_GOT_NOTHING: case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
        return TRY_AGAIN;
    default: return TRY_FATAL;
    }
}

/* The partial file held for this process alone (its lock goes with the returned descriptor):
 * two fetches of one file would append to one partial file. The lock counts only on the file
 * the name holds once it is taken: one its holder removed (or renamed into place) meanwhile is
 * opened again. */
static db_status lock_part(const char *part, int *fd) {
    for (int tries = 0;; tries++) {
        *fd = open(part, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (*fd < 0) return db_fail(DB_ERR_IO, "%s: cannot write: %s", part, strerror(errno));
        if (flock(*fd, LOCK_EX | LOCK_NB) != 0) break;
        struct stat held, named;
        if (fstat(*fd, &held) == 0 && stat(part, &named) == 0 && held.st_dev == named.st_dev && held.st_ino == named.st_ino)
            return DB_OK;
        close(*fd);
        if (tries == 3) { *fd = -1; return db_fail(DB_ERR_IO, "%s: it keeps being replaced as it is locked", part); }
    }
    const int e = errno;
    if (e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS) { /* a file system without locks: on without one */
        db_log(DB_LOG_NOTE, "%s: this file system cannot lock it (%s); two fetches of it at once would collide",
               part, strerror(e));
        return DB_OK;
    }
    close(*fd);
    *fd = -1;
    return e == EWOULDBLOCK ? db_fail(DB_ERR_IO, "%s: another process is downloading it now; wait for it to end", part)
                            : db_fail(DB_ERR_IO, "%s: cannot lock it: %s", part, strerror(e));
}

static db_status download_locked(const db_catalog_file *f, const db_fetch_opts *o, const char *path, db_digest *d,
                                 const char *part) {
    char url[1024], why[8192] = "";
    url_of(f, o, url, sizeof url);
    struct stat st0;
    int continued = stat(part, &st0) == 0 && st0.st_size > 0; /* an earlier process's bytes in it */
again:;
    CURL *c = curl_easy_init();
    if (!c) return db_fail(DB_ERR_INTERNAL, "libcurl: cannot start a transfer");
    double delay = o->retry_delay, t0 = db_now();
    try_result r = TRY_AGAIN;
    int restarts = 0;
    for (int attempt = 0; attempt <= o->retries; attempt++) {
        r = try_once(c, url, part, f, o, &continued, why, sizeof why);
        if (r == TRY_DONE || r == TRY_FATAL) break;
        if (r == TRY_RESTART && restarts++ < 2) { /* the server cannot continue where we stopped: from zero, */
            if (truncate(part, 0) != 0) { r = TRY_FATAL; snprintf(why, sizeof why, "%s: cannot truncate", part); break; }
            continued = 0;
            attempt--; /* not counted as a retry */
            continue;
        }
        if (attempt < o->retries) {
            db_log(DB_LOG_NOTE, "%s; retrying in %.1f s (%d of %d)", why, delay, attempt + 1, o->retries);
            struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
            nanosleep(&ts, NULL);
            delay *= 2;
        }
    }
    curl_easy_cleanup(c);
    struct stat st;
    int kept = stat(part, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_size > 0);
    if (r != TRY_DONE && !kept) unlink(part); /* nothing arrived */
    if (r != TRY_DONE)
        return db_fail(DB_ERR_IO, "fetching %s: %s%s%s", f->file, why, r == TRY_FATAL ? "" : " (gave up after the retries",
                       r == TRY_FATAL ? "" : kept ? "; what arrived is kept: fetch again to continue)" : ")");
    db_status s = db_verify_file(f, part, d);
    if (s != DB_OK && continued) { /* the earlier bytes may be what is wrong: once more, whole */
        db_log(DB_LOG_NOTE, "%s; the download continued an earlier partial file: fetching it whole once more",
               db_last_error());
        if (truncate(part, 0) != 0) return db_fail(DB_ERR_IO, "%s: cannot truncate: %s", part, strerror(errno));
        continued = 0;
        goto again;
    }
    if (s != DB_OK) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s", db_last_error());
        unlink(part);
        return db_fail(DB_ERR_FORMAT, "%s; the download was deleted (a bad mirror or a changed file: check the URL %s)", msg, url);
    }
    if (rename(part, path) != 0) return db_fail(DB_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
    db_log(DB_LOG_NOTE, "fetched %s (%.1f MB in %.1f s)", path, (double)d->bytes / 1e6, db_now() - t0);
    return DB_OK;
}

/* The same file, unchanged (device, inode, size, modification time) */
static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The cached copy at path, under the partial file's lock: DB_OK when it verifies (*ok 1); one
 * that fails verification set aside as bad. `seen` is the copy found bad before the lock (its
 * stat; NULL when none): unchanged, it is not read again; another one (a copy another process
 * finished meanwhile) is verified. */
static db_status check_cached(const db_catalog_file *f, const char *path, const char *bad, const struct stat *seen,
                              db_digest *d, int *ok) {
    *ok = 0;
    struct stat now;
    if (stat(path, &now) != 0) return DB_OK;
    if (!seen || !same_file(seen, &now)) {
        db_status v = db_verify_file(f, path, d);
        if (v == DB_OK) { *ok = 1; unlink(bad); return DB_OK; } /* (a stale rejected copy goes with it) */
        if (v != DB_ERR_FORMAT) return v; /* unreadable: not a reason to move it */
        db_log(DB_LOG_NOTE, "%s; fetching it again", db_last_error());
    }
    if (rename(path, bad) != 0) return db_fail(DB_ERR_IO, "%s: cannot move it aside: %s", path, strerror(errno));
    return DB_OK;
}

db_status db_fetch_file(const db_catalog_file *f, const db_fetch_opts *o, int *cached, db_digest *d) {
    char path[4096], part[4200], bad[4200];
    db_fetch_path(o, f, path, sizeof path);
    snprintf(part, sizeof part, "%s.part", path);
    snprintf(bad, sizeof bad, "%s.bad", path);
    *cached = 0;
    struct stat seen;
    int bad_seen = 0;
    if (stat(path, &seen) == 0) { /* verified outside the lock first: a cached set costs no lock file */
        db_status v = db_verify_file(f, path, d);
        if (v == DB_OK) { *cached = 1; unlink(bad); return DB_OK; }
        if (v != DB_ERR_FORMAT) return v; /* unreadable: not a reason to delete it */
        if (o->offline)
            return db_fail(DB_ERR_FORMAT, "%s (offline: not fetched again; delete it or go online)", db_last_error());
        db_log(DB_LOG_NOTE, "%s; fetching it again", db_last_error());
        bad_seen = 1;
    } else if (o->offline)
        return db_fail(DB_ERR_IO, "offline: %s is not in the cache (%s); fetch it where there is a network, or copy it there",
                       f->file, path);
    DB_TRY(db_make_dirs_for(path));
    int fd, ok;
    DB_TRY(lock_part(part, &fd));
    db_status s = check_cached(f, path, bad, bad_seen ? &seen : NULL, d, &ok);
    if (s == DB_OK && ok) { /* another process fetched it meanwhile */
        *cached = 1;
    } else if (s == DB_OK) {
        s = download_locked(f, o, path, d, part);
        if (s == DB_OK) unlink(bad); /* a copy that failed verification, now or in a process that did not end */
        else if (access(bad, F_OK) == 0) { /* no good copy came: the rejected one stays aside, where no reader takes it */
            char why[1400];
            snprintf(why, sizeof why, "%s", db_last_error());
            s = db_fail(s, "%s; the cached copy, which failed verification, is kept as %s and not used (a damaged file, "
                        "or a wrong checksum in the catalog: compare them, and move it back only if the catalog is wrong)",
                        why, bad);
        }
    }
    struct stat st; /* an empty partial file (the lock's, when nothing came) goes; one with bytes continues later */
    if (stat(part, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) unlink(part);
    if (fd >= 0) close(fd);
    return s;
}
