#include "train/checkpoint.h"

#include "core/dirs.h"

#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CKPT_MAGIC "DBCKPT\r\n"
#define CKPT_VERSION 7u /* 6: the task's metrics (DB_TASK_MAX_METRICS each) in the history; 7: eight of each */
#define CKPT_NAME "checkpoint.dbck"
#define HIST_FIELDS (7 + 2 * DB_TASK_MAX_METRICS)

void db_ckpt_path(const char *dir, char *out, size_t size) { snprintf(out, size, "%s/%s", dir, CKPT_NAME); }

static void progress_path(const char *dir, char *out, size_t size) { snprintf(out, size, "%s/progress", dir); }

db_status db_ckpt_mark_progress(const char *dir, int epoch, int epochs, int partial) {
    char path[1100], tmp[1120];
    progress_path(dir, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    int ok = fprintf(f, "epoch %d of %d%s\n", epoch, epochs, partial ? " partial" : "") > 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return DB_OK;
}

db_status db_ckpt_finished(const char *dir, int *known) {
    char ckpt[1100], path[1100], line[128] = "";
    *known = 0;
    db_ckpt_path(dir, ckpt, sizeof ckpt);
    if (access(ckpt, R_OK) != 0) return db_fail(DB_ERR_ARG, "no checkpoint there (%s: %s)", ckpt, strerror(errno));
    progress_path(dir, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) return DB_OK; /* from before progress was recorded */
    int epoch = 0, epochs = 0, got = fgets(line, sizeof line, f) && sscanf(line, "epoch %d of %d", &epoch, &epochs) == 2;
    fclose(f);
    if (!got) return db_fail(DB_ERR_ARG, "%s: not a run's progress ('%.60s')", path, line);
    *known = 1;
    if (epoch < epochs || strstr(line, "partial"))
        return db_fail(DB_ERR_ARG, "the run training in %s has not finished: %d of its %d epochs done%s", dir, epoch, epochs,
                       strstr(line, "partial") ? " and part of the next" : "");
    return DB_OK;
}

int db_ckpt_exists(const char *dir) {
    char p[1100];
    db_ckpt_path(dir, p, sizeof p);
    return access(p, F_OK) == 0;
}

db_status db_ckpt_lock(const char *dir, int *fd) {
    *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* the folder itself: no lock file left behind */
    if (*fd < 0) return db_fail(DB_ERR_IO, "checkpoint folder %s: cannot open it: %s", dir, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return db_fail(DB_ERR_UNSUPPORTED, "checkpoint folder %s is in use by another training process: wait for "
                           "it, stop it (kill -USR1; fuser -v %s names it) or give this run another folder", dir, dir);
        /* a file system without flock on folders (NFS emulates it with write locks, Lustre may lack
         * it): train unlocked; the results database still refuses a second process on a live run */
        static int said;
        if (!said++) db_log(DB_LOG_NOTE, "checkpoint folder %s cannot be locked here (%s); training without the lock",
                            dir, strerror(e));
    }
    return DB_OK;
}

void db_ckpt_unlock(int fd) {
    if (fd >= 0) close(fd); /* the lock goes with the descriptor */
}

db_status db_ckpt_prepare_dir(const char *dir) {
    if (db_make_dirs(dir) != DB_OK) { /* its parents first (a study's runs/STUDY/CELL) */
        char why[1200];
        snprintf(why, sizeof why, "%s", db_last_error());
        return db_fail(DB_ERR_IO, "checkpoint folder %s: %s", dir, why);
    }
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/.write-test-%d", dir, (int)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) return db_fail(DB_ERR_IO, "checkpoint folder %s is not writable: %s", dir, strerror(errno));
    close(fd);
    unlink(probe);
    return DB_OK;
}

typedef struct { FILE *f; uLong crc; int ok; } writer;

static void put(writer *w, const void *p, size_t n) {
    if (!w->ok) return;
    if (n && fwrite(p, 1, n, w->f) != n) { w->ok = 0; return; }
    const Bytef *b = p;
    while (n) { /* crc32 takes a uInt length */
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        w->crc = crc32(w->crc, b, chunk);
        b += chunk; n -= chunk;
    }
}

static void history_row(const db_epoch_result *r, double v[HIST_FIELDS]) {
    v[0] = r->epoch; v[1] = r->lr; v[2] = r->train_loss; v[3] = r->seconds; v[4] = r->images_per_s;
    v[5] = r->drop_fraction; v[6] = r->keep_prob;
    for (int i = 0; i < DB_TASK_MAX_METRICS; i++) {
        v[7 + i] = r->train[i];
        v[7 + DB_TASK_MAX_METRICS + i] = r->test[i];
    }
}

db_ckpt_meta *db_ckpt_meta_alloc(int epochs, int n_sites) {
    size_t head = sizeof(db_ckpt_meta) + (size_t)epochs * sizeof(db_epoch_result);
    head = (head + 15) & ~(size_t)15;
    size_t sites = (size_t)epochs * (size_t)n_sites * sizeof(db_site_stat);
    sites = (sites + 15) & ~(size_t)15;
    db_ckpt_meta *m = calloc(1, head + sites + (size_t)n_sites * 3 * sizeof(double));
    if (!m) return NULL;
    m->n_sites = n_sites;
    m->sites = (db_site_stat *)((char *)m + head);
    m->part_sites = (double *)((char *)m + head + sites);
    return m;
}

db_status db_ckpt_save(const char *dir, const db_graph *g, const db_sgd *opt, const db_ckpt_meta *meta) {
    char path[1100], tmp[1120];
    db_ckpt_path(dir, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write checkpoint: %s", tmp, strerror(errno));
    writer w = {f, crc32(0L, Z_NULL, 0), 1};
    uint32_t version = CKPT_VERSION;
    /* the threads field: the thread count in the low 16 bits, the world size less one above them
     * (0 in checkpoints from before data parallelism, which therefore read as one process) */
    int32_t epoch = meta->epoch, nh = meta->n_history, ns = meta->n_sites;
    int32_t threads = (int32_t)(((uint32_t)(meta->world > 1 ? meta->world - 1 : 0) << 16) | (uint32_t)(meta->threads & 0xffff));
    uint64_t sizes[3] = {g->param_arena.size, g->state_arena.size, opt->velocity.size};
    put(&w, CKPT_MAGIC, 8);
    put(&w, &version, 4);
    put(&w, &meta->fingerprint, 8);
    put(&w, &meta->seed, 8);
    put(&w, &epoch, 4);
    put(&w, &meta->step, 8);
    put(&w, &nh, 4);
    put(&w, &threads, 4);
    put(&w, &ns, 4);
    put(&w, sizes, sizeof sizes);
    for (int i = 0; i < nh; i++) {
        double v[HIST_FIELDS];
        history_row(&meta->history[i], v);
        put(&w, v, sizeof v);
    }
    put(&w, meta->sites, (size_t)nh * (size_t)ns * sizeof(db_site_stat));
    int32_t partial = meta->partial;
    double part[3] = {meta->part_loss_sum, meta->part_seconds, meta->part_lr};
    put(&w, &partial, 4);
    put(&w, part, sizeof part);
    put(&w, meta->part_sums, sizeof meta->part_sums);
    put(&w, meta->part_sites, (size_t)ns * 3 * sizeof(double));
    put(&w, g->param_arena.base, sizes[0] * sizeof(float));
    put(&w, g->state_arena.base, sizes[1] * sizeof(float));
    put(&w, opt->velocity.base, sizes[2] * sizeof(float));
    uint32_t crc = (uint32_t)w.crc;
    if (w.ok && fwrite(&crc, 4, 1, f) != 1) w.ok = 0;
    if (w.ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) w.ok = 0;
    int err = errno;
    if (fclose(f) != 0 && w.ok) { w.ok = 0; err = errno; }
    if (!w.ok) {
        unlink(tmp);
        return db_fail(DB_ERR_IO, "%s: writing the checkpoint failed: %s (the previous checkpoint, if any, is kept)",
                       tmp, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        return db_fail(DB_ERR_IO, "%s: cannot move the checkpoint into place: %s", path, strerror(err));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    return DB_OK;
}

typedef struct { FILE *f; uLong crc; const char *path; int64_t file_size; } reader;

static db_status get(reader *r, void *p, size_t n, const char *what) {
    if (n && fread(p, 1, n, r->f) != n) {
        if (ferror(r->f)) /* a failing disk or network share: the file may be fine, it is not moved aside */
            return db_fail(DB_ERR_IO, "%s: cannot read the checkpoint (%s): %s", r->path, what, strerror(errno));
        return db_fail(DB_ERR_CKPT_TRUNCATED, "%s: checkpoint truncated while reading %s", r->path, what);
    }
    const Bytef *b = p;
    while (n) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        r->crc = crc32(r->crc, b, chunk);
        b += chunk; n -= chunk;
    }
    return DB_OK;
}

/* The header's fixed fields, in file order */
typedef struct {
    uint64_t fp, seed, sizes[3];
    int32_t epoch, nh, threads, ns;
    int64_t step;
} fixed_header;

static db_status read_fixed(reader *r, fixed_header *h) {
    char magic[8];
    uint32_t version;
    DB_TRY(get(r, magic, 8, "the magic"));
    if (memcmp(magic, CKPT_MAGIC, 8) != 0)
        return db_fail(DB_ERR_CKPT_NOT, "%s: not a dropbench checkpoint (bad magic)", r->path);
    DB_TRY(get(r, &version, 4, "the version"));
    if (version != CKPT_VERSION)
        return db_fail(DB_ERR_CKPT_VERSION, "%s: checkpoint version %u, this build reads %u", r->path, version, CKPT_VERSION);
    DB_TRY(get(r, &h->fp, 8, "the header"));
    DB_TRY(get(r, &h->seed, 8, "the header"));
    DB_TRY(get(r, &h->epoch, 4, "the header"));
    DB_TRY(get(r, &h->step, 8, "the header"));
    DB_TRY(get(r, &h->nh, 4, "the header"));
    DB_TRY(get(r, &h->threads, 4, "the header"));
    DB_TRY(get(r, &h->ns, 4, "the header"));
    DB_TRY(get(r, h->sizes, sizeof h->sizes, "the header"));
    if (h->nh < 0 || h->nh > 1000000 || h->epoch < 0 || h->ns < 0 || h->ns > 100000 || h->sizes[0] > (1ull << 40) ||
        h->sizes[1] > (1ull << 40) || h->sizes[2] > (1ull << 40))
        return db_fail(DB_ERR_CKPT_CORRUPT, "%s: corrupt checkpoint header", r->path);
    return DB_OK;
}

/* The file's length as its fixed header describes it */
static uint64_t described_size(const fixed_header *h) {
    const uint64_t nh = (uint64_t)h->nh, ns = (uint64_t)h->ns;
    return 8 + 4 + 8 + 8 + 4 + 8 + 4 + 4 + 4 + sizeof h->sizes + nh * HIST_FIELDS * sizeof(double) +
           nh * ns * sizeof(db_site_stat) + 4 + 3 * sizeof(double) + DB_TASK_MAX_METRICS * sizeof(double) +
           ns * 3 * sizeof(double) + (h->sizes[0] + h->sizes[1] + h->sizes[2]) * sizeof(float) + 4;
}

/* Reads the header and history; leaves the file positioned at the tensors. */
static db_status read_header(reader *r, const db_graph *g, const db_sgd *opt, db_ckpt_meta **out) {
    fixed_header fh;
    DB_TRY(read_fixed(r, &fh));
    const uint64_t fp = fh.fp, seed = fh.seed, *sizes = fh.sizes;
    const int32_t epoch = fh.epoch, nh = fh.nh, threads = fh.threads, ns = fh.ns;
    const int64_t step = fh.step;
    /* the whole file's length follows from the header: a short file is truncated, and nothing
     * is allocated for counts the file cannot hold */
    const uint64_t want = described_size(&fh);
    if (want > (uint64_t)r->file_size)
        return db_fail(DB_ERR_CKPT_TRUNCATED, "%s: checkpoint truncated (%lld bytes, its header describes %llu)", r->path,
                       (long long)r->file_size, (unsigned long long)want);
    if (sizes[0] != g->param_arena.size || sizes[1] != g->state_arena.size)
        return db_fail(DB_ERR_CKPT_NETWORK, "%s: checkpoint holds a different network (%llu parameters, this one has %zu)",
                       r->path, (unsigned long long)sizes[0], g->param_arena.size);
    if (sizes[2] != opt->velocity.size)
        return db_fail(DB_ERR_CKPT_NETWORK, "%s: checkpoint holds another optimizer's state (%llu values, this run's "
                       "optimizer keeps %zu): resume with the same optimizer and ema_decay",
                       r->path, (unsigned long long)sizes[2], opt->velocity.size);
    db_ckpt_meta *m = db_ckpt_meta_alloc(nh, ns);
    if (!m) return db_fail(DB_ERR_NOMEM, "%s: out of memory", r->path);
    m->fingerprint = fp; m->seed = seed; m->epoch = epoch; m->step = step; m->n_history = nh;
    m->threads = threads & 0xffff;
    m->world = (int)((uint32_t)threads >> 16) + 1;
    for (int i = 0; i < nh; i++) {
        double v[HIST_FIELDS];
        db_status s = get(r, v, sizeof v, "the history");
        if (s != DB_OK) { free(m); return s; }
        db_epoch_result *h = &m->history[i];
        *h = (db_epoch_result){.epoch = (int)v[0], .lr = v[1], .train_loss = v[2], .seconds = v[3], .images_per_s = v[4],
                               .drop_fraction = v[5], .keep_prob = v[6]};
        for (int k = 0; k < DB_TASK_MAX_METRICS; k++) {
            h->train[k] = v[7 + k];
            h->test[k] = v[7 + DB_TASK_MAX_METRICS + k];
        }
    }
    db_status s = get(r, m->sites, (size_t)nh * (size_t)ns * sizeof(db_site_stat), "the site history");
    int32_t partial = 0;
    double part[3];
    if (s == DB_OK) s = get(r, &partial, 4, "the epoch in progress");
    if (s == DB_OK) s = get(r, part, sizeof part, "the epoch in progress");
    if (s == DB_OK) s = get(r, m->part_sums, sizeof m->part_sums, "the epoch in progress");
    if (s == DB_OK) s = get(r, m->part_sites, (size_t)ns * 3 * sizeof(double), "the epoch in progress");
    if (s == DB_OK && (partial < 0 || partial > 1)) s = db_fail(DB_ERR_CKPT_CORRUPT, "%s: corrupt checkpoint header", r->path);
    if (s != DB_OK) { free(m); return s; }
    m->partial = partial;
    m->part_loss_sum = part[0]; m->part_seconds = part[1]; m->part_lr = part[2];
    *out = m;
    return DB_OK;
}

static db_status read_tensors(reader *r, float *dst[3], const size_t sizes[3]) {
    static const char *what[3] = {"the parameters", "the batch-norm statistics", "the optimizer state"};
    float buf[4096];
    for (int t = 0; t < 3; t++)
        for (size_t off = 0; off < sizes[t];) {
            size_t n = sizes[t] - off < 4096 ? sizes[t] - off : 4096;
            DB_TRY(get(r, dst[t] ? dst[t] + off : buf, n * sizeof(float), what[t]));
            off += n;
        }
    return DB_OK;
}

static db_status check_crc(reader *r) {
    uint32_t want, have = (uint32_t)r->crc;
    if (fread(&want, 4, 1, r->f) != 1)
        return db_fail(DB_ERR_CKPT_TRUNCATED, "%s: checkpoint truncated (no checksum)", r->path);
    if (want != have) return db_fail(DB_ERR_CKPT_CORRUPT, "%s: checkpoint checksum mismatch (corrupt file)", r->path);
    if (fgetc(r->f) != EOF) return db_fail(DB_ERR_CKPT_CORRUPT, "%s: trailing bytes after the checkpoint", r->path);
    return DB_OK;
}

/* One pass over the file; with load == 0 nothing is written to the graph. */
static db_status pass(const char *path, db_graph *g, db_sgd *opt, int load, db_ckpt_meta **meta) {
    FILE *f = fopen(path, "rb");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    struct stat st;
    reader r = {f, crc32(0L, Z_NULL, 0), path, fstat(fileno(f), &st) == 0 ? (int64_t)st.st_size : INT64_MAX};
    db_ckpt_meta *m = NULL;
    db_status s = read_header(&r, g, opt, &m);
    if (s == DB_OK) {
        float *dst[3] = {load ? g->param_arena.base : NULL, load ? g->state_arena.base : NULL,
                         load ? opt->velocity.base : NULL};
        size_t sizes[3] = {g->param_arena.size, g->state_arena.size, opt->velocity.size};
        s = read_tensors(&r, dst, sizes);
    }
    if (s == DB_OK) s = check_crc(&r);
    fclose(f);
    if (s == DB_OK && meta) *meta = m;
    else free(m);
    return s;
}

int db_ckpt_unusable(db_status s) {
    return s == DB_ERR_CKPT_VERSION || s == DB_ERR_CKPT_NOT || s == DB_ERR_CKPT_CORRUPT || s == DB_ERR_CKPT_TRUNCATED ||
           s == DB_ERR_CKPT_NETWORK || s == DB_ERR_CKPT_CONFIG;
}

db_status db_ckpt_sizes(const char *dir, uint64_t sizes[3]) {
    char path[1100];
    db_ckpt_path(dir, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    reader r = {f, crc32(0L, Z_NULL, 0), path, INT64_MAX};
    fixed_header h;
    db_status s = read_fixed(&r, &h);
    fclose(f);
    if (s == DB_OK) memcpy(sizes, h.sizes, sizeof h.sizes);
    return s;
}

db_status db_ckpt_verify(const char *dir) {
    char path[1100];
    db_ckpt_path(dir, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    struct stat st;
    reader r = {f, crc32(0L, Z_NULL, 0), path, fstat(fileno(f), &st) == 0 ? (int64_t)st.st_size : -1};
    fixed_header h;
    db_status s = r.file_size < 0 ? db_fail(DB_ERR_IO, "%s: %s", path, strerror(errno)) : read_fixed(&r, &h);
    const uint64_t want = s == DB_OK ? described_size(&h) : 0;
    if (s == DB_OK && want > (uint64_t)r.file_size)
        s = db_fail(DB_ERR_CKPT_TRUNCATED, "%s: checkpoint truncated (%lld bytes, its header describes %llu)", path,
                    (long long)r.file_size, (unsigned long long)want);
    else if (s == DB_OK && want < (uint64_t)r.file_size)
        s = db_fail(DB_ERR_CKPT_CORRUPT, "%s: trailing bytes after the checkpoint", path);
    char buf[1 << 16];
    for (int64_t left = r.file_size - (int64_t)ftell(f) - 4; s == DB_OK && left > 0;) {
        size_t n = left < (int64_t)sizeof buf ? (size_t)left : sizeof buf;
        s = get(&r, buf, n, "the checkpoint");
        left -= (int64_t)n;
    }
    if (s == DB_OK) s = check_crc(&r);
    fclose(f);
    return s;
}

db_status db_ckpt_load(const char *dir, db_graph *g, db_sgd *opt, db_ckpt_meta **meta) {
    char path[1100];
    db_ckpt_path(dir, path, sizeof path);
    DB_TRY(pass(path, g, opt, 0, NULL)); /* verify everything before touching the model */
    return pass(path, g, opt, 1, meta);
}
