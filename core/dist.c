/* Process groups over MPI (core/dist.h). */
#include "core/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef DB_HAVE_MPI
#include <mpi.h>
#endif

static db_dist_info info = {0, 1, 0, ""};
static double timeout_s = 600.0;
static int broken;

int db_dist_broken(void) { return broken; }

const db_dist_info *db_dist(void) { return &info; }

void db_dist_share(int n, int alone, int *first, int *count) {
    if (alone) {
        *first = 0, *count = info.rank == 0 ? n : 0;
        return;
    }
    *first = (int)((long)n * info.rank / info.size);
    *count = (int)((long)n * (info.rank + 1) / info.size) - *first;
}
void db_dist_set_timeout(double seconds) { timeout_s = seconds > 0 ? seconds : 600.0; }
double db_dist_timeout(void) { return timeout_s; }

/* The launcher's word on the group: its name and size, 0 when this process was started alone.
 * An MPI launcher's variable, where there is one, is its word (1 included: mpirun -np 1 inside a
 * Slurm step of several tasks is one process); Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, srun
 * with PMI or PMIx the PMI ones beside its step's task count. Only without any, srun's step (not
 * the batch script around it, which has SLURM_NTASKS too), unless DROPBENCH_ALONE=1 (a shell from
 * srun -n N --pty: one process; an mpirun started there is still its word). */
static int launched_size(const char **launcher) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    const char *alone = getenv("DROPBENCH_ALONE"), *tasks = getenv("SLURM_STEP_NUM_TASKS"),
               *procid = getenv("SLURM_PROCID");
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (!v) continue;
        const int n = atoi(v);
        *launcher = i > 0 && tasks && atoi(tasks) == n ? "srun" : "mpirun";
        return n > 1 ? n : 0;
    }
    if (tasks && procid && atoi(tasks) > 1 && !(alone && !strcmp(alone, "1"))) { *launcher = "srun"; return atoi(tasks); }
    return 0;
}

#ifndef DB_HAVE_MPI

db_status db_dist_init(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *launcher = "";
    int n = launched_size(&launcher);
    if (n > 1)
        return db_fail(DB_ERR_UNSUPPORTED, "started by %s as one of %d processes, but this build has no MPI: install "
                       "Open MPI (libopenmpi-dev, scripts/deps) and rebuild, or run one process", launcher, n);
    return DB_OK;
}
void db_dist_finalize(void) {}
void db_dist_abort(int code) { (void)code; }
db_status db_dist_sum_floats(float *x, size_t n, const char *what) { (void)x, (void)n, (void)what; return DB_OK; }
db_status db_dist_sum_doubles(double *x, size_t n, const char *what) { (void)x, (void)n, (void)what; return DB_OK; }
db_status db_dist_broadcast(void *buf, size_t bytes, int root, const char *what) {
    (void)buf, (void)bytes, (void)root, (void)what;
    return DB_OK;
}
struct db_dist_sum { int unused; };
db_status db_dist_sum_new(db_dist_sum **out, size_t n) {
    (void)n;
    *out = calloc(1, sizeof **out);
    return *out ? DB_OK : db_fail(DB_ERR_NOMEM, "out of memory");
}
void db_dist_sum_free(db_dist_sum *s) { free(s); }
db_status db_dist_sum_start(db_dist_sum *s, float *x, const char *what) { (void)s, (void)x, (void)what; return DB_OK; }
db_status db_dist_sum_poll(db_dist_sum *s, int *done) { (void)s; *done = 1; return DB_OK; }
db_status db_dist_sum_finish(db_dist_sum *s) { (void)s; return DB_OK; }

#else

static int joined; /* MPI_Init done, MPI_Finalize not yet */

static db_status mpi_failed(int rc, const char *call, const char *what) {
    broken = 1;
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return db_fail(DB_ERR_IO, "rank %d of %d: %s (%s) failed: %s", info.rank, info.size, call, what, msg);
}

#define MPI_TRY(call, what)                                      \
    do {                                                         \
        int rc_ = (call);                                        \
        if (rc_ != MPI_SUCCESS) return mpi_failed(rc_, #call, what); \
    } while (0)

db_status db_dist_init(int *argc, char ***argv) {
    if (joined) return DB_OK;
    const char *launcher = "";
    const int launched = launched_size(&launcher);
    if (launched < 2) return DB_OK;
    int provided = 0;
    /* one thread calls MPI (the loop's); OpenMP's threads never do */
    MPI_TRY(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "joining the group");
    joined = 1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_TRY(MPI_Comm_rank(MPI_COMM_WORLD, &info.rank), "the rank");
    MPI_TRY(MPI_Comm_size(MPI_COMM_WORLD, &info.size), "the size");
    if (info.size != launched) { /* N separate runs racing for one store and checkpoint: refused */
        int n = info.size;
        info.rank = 0, info.size = 1;
        MPI_Finalize();
        joined = 0;
        return db_fail(DB_ERR_UNSUPPORTED, "started by %s as one of %d processes, but MPI sees %d: this MPI library cannot "
                       "reach the launcher (with srun, try --mpi=pmix; or start the run with this MPI's mpirun; in a "
                       "shell of a step of several tasks, DROPBENCH_ALONE=1 runs one process)", launcher, launched, n);
    }
    MPI_Comm local;
    MPI_TRY(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, info.rank, MPI_INFO_NULL, &local),
            "the ranks of this machine");
    MPI_Comm_rank(local, &info.local_rank);
    MPI_Comm_free(&local);
    snprintf(info.launcher, sizeof info.launcher, "%s", launcher);
    return DB_OK;
}

void db_dist_finalize(void) {
    if (joined) MPI_Finalize();
    joined = 0;
}

void db_dist_abort(int code) {
    if (joined && info.size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

/* Waits for a request until the time limit, polling: a rank that died or hangs ends the wait
 * with an error instead of blocking this one forever */
static db_status wait_for(MPI_Request *req, const char *what) {
    const double t0 = MPI_Wtime();
    for (long polls = 0;; polls++) {
        int done = 0;
        MPI_TRY(MPI_Test(req, &done, MPI_STATUS_IGNORE), what);
        if (done) return DB_OK;
        if (MPI_Wtime() - t0 > timeout_s) {
            broken = 1;
            return db_fail(DB_ERR_IO, "rank %d of %d: no answer from the other processes in %.0f s (%s): one stopped "
                           "or hangs; the run's last checkpoint continues it", info.rank, info.size, timeout_s, what);
        }
        if (polls > 1000) nanosleep(&(struct timespec){0, 50000}, NULL); /* a long wait: spare the core */
    }
}

static void *scratch;
static size_t scratch_bytes;
static int *counts, *displs, *mine, *at;

/* Rank r's share of n values: count and first index */
static void shares(size_t n, int *count, int *first) {
    size_t base = n / (size_t)info.size, extra = n % (size_t)info.size, pos = 0;
    for (int r = 0; r < info.size; r++) {
        count[r] = (int)(base + ((size_t)r < extra));
        first[r] = (int)pos;
        pos += (size_t)count[r];
    }
}

static db_status prepare(size_t n, size_t elem) {
    if (n > (size_t)1 << 30) return db_fail(DB_ERR_ARG, "a collective of %zu values (at most 2^30)", n);
    if (!counts) {
        counts = calloc((size_t)info.size * 4, sizeof(int));
        if (!counts) return db_fail(DB_ERR_NOMEM, "out of memory");
        displs = counts + info.size, mine = displs + info.size, at = mine + info.size;
    }
    shares(n, counts, displs);
    const size_t need = (size_t)info.size * (size_t)counts[0] * elem;
    if (need > scratch_bytes) {
        void *p = realloc(scratch, need);
        if (!p) return db_fail(DB_ERR_NOMEM, "out of memory for a %zu-byte collective", need);
        scratch = p, scratch_bytes = need;
    }
    for (int q = 0; q < info.size; q++) mine[q] = counts[info.rank], at[q] = q * counts[info.rank];
    return DB_OK;
}

/* Reduce-scatter by exchange (each rank receives every rank's copy of its share), the share
 * summed in rank order, then gathered: the same bits on every rank */
#define DEFINE_SUM(name, T, MT)                                                                            \
    db_status name(T *x, size_t n, const char *what) {                                                     \
        if (!joined || info.size < 2 || n == 0) return DB_OK;                                               \
        DB_TRY(prepare(n, sizeof(T)));                                                                      \
        T *s = scratch;                                                                                     \
        const size_t m = (size_t)counts[info.rank];                                                         \
        MPI_Request req;                                                                                    \
        MPI_TRY(MPI_Ialltoallv(x, counts, displs, MT, s, mine, at, MT, MPI_COMM_WORLD, &req), what);        \
        DB_TRY(wait_for(&req, what));                                                                       \
        for (int q = 1; q < info.size; q++)                                                                 \
            for (size_t i = 0; i < m; i++) s[i] += s[(size_t)q * m + i];                                    \
        MPI_TRY(MPI_Iallgatherv(s, (int)m, MT, x, counts, displs, MT, MPI_COMM_WORLD, &req), what);         \
        return wait_for(&req, what);                                                                        \
    }

DEFINE_SUM(db_dist_sum_floats, float, MPI_FLOAT)
DEFINE_SUM(db_dist_sum_doubles, double, MPI_DOUBLE)

/* The same exchange, sum and gather as DEFINE_SUM, as a machine: phase 1 the exchange in flight,
 * phase 2 the gather, 0 idle or done. Each has a communicator of its own: the ranks begin the
 * sums in one order, but each rank's gathers follow its own exchanges' arrivals, and MPI wants
 * the collectives of one communicator in the same order everywhere. */
struct db_dist_sum {
    MPI_Comm comm;           /* MPI_COMM_NULL outside a group */
    size_t n, m;             /* values, this rank's share */
    int *counts, *displs, *mine, *at;
    float *scratch, *x;
    MPI_Request req;
    int phase;
    const char *what;
};

db_status db_dist_sum_new(db_dist_sum **out, size_t n) {
    if (n > (size_t)1 << 30) return db_fail(DB_ERR_ARG, "a collective of %zu values (at most 2^30)", n);
    const int p = info.size > 0 ? info.size : 1;
    db_dist_sum *s = calloc(1, sizeof *s);
    int *c = calloc((size_t)p * 4, sizeof(int));
    if (!s || !c) { free(s); free(c); return db_fail(DB_ERR_NOMEM, "out of memory"); }
    s->counts = c, s->displs = c + p, s->mine = c + 2 * p, s->at = c + 3 * p;
    s->n = n;
    s->comm = MPI_COMM_NULL;
    if (joined && p > 1) {
        int rc = MPI_Comm_dup(MPI_COMM_WORLD, &s->comm);
        if (rc != MPI_SUCCESS) {
            s->comm = MPI_COMM_NULL;
            db_dist_sum_free(s);
            return mpi_failed(rc, "MPI_Comm_dup", "a gradient bucket's communicator");
        }
        shares(n, s->counts, s->displs);
        s->m = (size_t)s->counts[info.rank];
        for (int q = 0; q < p; q++) s->mine[q] = (int)s->m, s->at[q] = q * (int)s->m;
        s->scratch = malloc(sizeof(float) * ((size_t)p * s->m + 1));
        if (!s->scratch) { db_dist_sum_free(s); return db_fail(DB_ERR_NOMEM, "out of memory for a %zu-value sum", n); }
    }
    *out = s;
    return DB_OK;
}

void db_dist_sum_free(db_dist_sum *s) {
    if (!s) return;
    if (joined && s->comm != MPI_COMM_NULL) MPI_Comm_free(&s->comm);
    free(s->counts);
    free(s->scratch);
    free(s);
}

db_status db_dist_sum_start(db_dist_sum *s, float *x, const char *what) {
    s->x = x, s->what = what, s->phase = 0;
    if (!joined || s->comm == MPI_COMM_NULL || s->n == 0) return DB_OK;
    MPI_TRY(MPI_Ialltoallv(x, s->counts, s->displs, MPI_FLOAT, s->scratch, s->mine, s->at, MPI_FLOAT, s->comm, &s->req),
            what);
    s->phase = 1;
    return DB_OK;
}

/* Phase 1 done: this rank's share summed in rank order, the gather started */
static db_status sum_and_gather(db_dist_sum *s) {
    float *t = s->scratch;
    for (int q = 1; q < info.size; q++)
        for (size_t i = 0; i < s->m; i++) t[i] += t[(size_t)q * s->m + i];
    MPI_TRY(MPI_Iallgatherv(t, (int)s->m, MPI_FLOAT, s->x, s->counts, s->displs, MPI_FLOAT, s->comm, &s->req), s->what);
    s->phase = 2;
    return DB_OK;
}

db_status db_dist_sum_poll(db_dist_sum *s, int *done) {
    int flag = 0;
    if (s->phase == 1) {
        MPI_TRY(MPI_Test(&s->req, &flag, MPI_STATUS_IGNORE), s->what);
        if (flag) DB_TRY(sum_and_gather(s));
    }
    if (s->phase == 2) {
        MPI_TRY(MPI_Test(&s->req, &flag, MPI_STATUS_IGNORE), s->what);
        if (flag) s->phase = 0;
    }
    *done = s->phase == 0;
    return DB_OK;
}

db_status db_dist_sum_finish(db_dist_sum *s) {
    if (s->phase == 1) {
        DB_TRY(wait_for(&s->req, s->what));
        DB_TRY(sum_and_gather(s));
    }
    if (s->phase == 2) DB_TRY(wait_for(&s->req, s->what));
    s->phase = 0;
    return DB_OK;
}

db_status db_dist_broadcast(void *buf, size_t bytes, int root, const char *what) {
    if (!joined || info.size < 2 || bytes == 0) return DB_OK;
    if (bytes > (size_t)1 << 30) return db_fail(DB_ERR_ARG, "a broadcast of %zu bytes (at most 2^30)", bytes);
    MPI_Request req;
    MPI_TRY(MPI_Ibcast(buf, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD, &req), what);
    return wait_for(&req, what);
}

#endif
