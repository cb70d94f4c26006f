/* Data-parallel process groups (issue 21): one training run over several processes, started by
 * mpirun or srun, whose ranks train shards of every global batch and add their gradients.
 *
 * A process joins the group when its launcher's environment says it is one of several
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_SIZE, whichever is set, even at 1; without any, srun's
 * SLURM_STEP_NUM_TASKS > 1 with SLURM_PROCID, which DROPBENCH_ALONE=1 overrides); any other
 * process is rank 0 of 1 and starts nothing. The collectives below are MPI's (Open
 * MPI from Debian) where the build has it; a build without MPI refuses to run as one of several.
 *
 * Every sum is deterministic: each rank adds its share of the vector over the ranks in rank order
 * and the shares are gathered, so every rank holds the same bits, and a run at one world size
 * gives the same bits each time. Every collective waits at most the group's time limit; a rank
 * that stops answering ends the wait with an error naming the collective, not a hang. */
#ifndef DB_CORE_DIST_H
#define DB_CORE_DIST_H

#include <stddef.h>

#include "core/status.h"

typedef struct {
    int rank, size;     /* this process and the group's size (0 of 1 outside a group) */
    int local_rank;     /* among the ranks of this machine */
    char launcher[16];  /* "mpirun", "srun", or "" outside a group */
} db_dist_info;

/* Joins the group when launched as one of several (MPI_Init); otherwise, or a second time, only
 * fills in the info. Fails when launched as one of several by a build without MPI. */
db_status db_dist_init(int *argc, char ***argv);
const db_dist_info *db_dist(void);
/* This process's share of n items (a test set's images): items *first .. *first + *count - 1;
 * all of them outside a group; with alone, the first process takes all and the others none */
void db_dist_share(int n, int alone, int *first, int *count);
/* Seconds a collective may wait for the other ranks before it fails (default 600) */
void db_dist_set_timeout(double seconds);
double db_dist_timeout(void);
/* Leaves the group (MPI_Finalize); nothing outside one */
void db_dist_finalize(void);
/* Ends every rank of the group at once (after this rank failed and the others may be waiting
 * on it); returns only outside a group */
void db_dist_abort(int code);
/* 1 after a collective failed or timed out: the group cannot finish together (abort it) */
int db_dist_broken(void);

/* x (n values, the same n on every rank) becomes the sum over the ranks, added in rank order: the
 * same bits everywhere. Nothing to do outside a group. */
db_status db_dist_sum_floats(float *x, size_t n, const char *what);
db_status db_dist_sum_doubles(double *x, size_t n, const char *what);
/* bytes from root's buf to every rank's */
db_status db_dist_broadcast(void *buf, size_t bytes, int root, const char *what);

/* A sum of floats in flight, the same as db_dist_sum_floats (the same bits) but begun and ended
 * apart, so that work runs while the processes exchange (gradient buckets during the backward
 * pass). Its buffers are made once for n values and serve every later sum of n. */
typedef struct db_dist_sum db_dist_sum;
db_status db_dist_sum_new(db_dist_sum **out, size_t n);
void db_dist_sum_free(db_dist_sum *s);
/* Starts summing x (the n values of db_dist_sum_new) over the ranks; x must stay put until done */
db_status db_dist_sum_start(db_dist_sum *s, float *x, const char *what);
/* Moves it on without waiting: the exchange's arrival is summed and gathered; *done 1 when x
 * holds the sum */
db_status db_dist_sum_poll(db_dist_sum *s, int *done);
/* Waits for it (the group's time limit applies) */
db_status db_dist_sum_finish(db_dist_sum *s);

#endif
