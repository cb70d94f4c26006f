/* Checkpoints: everything a run needs to continue bit-for-bit — parameters, batch-norm running
 * statistics, optimizer velocity, the epoch and step reached (with the seed, that is the whole
 * state of the counter-based RNG) and the per-epoch history, per regularizer site too — written atomically (temporary
 * file, fsync, rename, fsync of the folder) and guarded by a CRC-32. Normally written after an
 * epoch; when a stop is requested (a cluster's pre-timeout signal) also inside one, with the
 * epoch's running sums, so the continuation is still bit-identical. */
#ifndef DB_TRAIN_CHECKPOINT_H
#define DB_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "train/train.h"
#include "nets/graph.h"
#include "nets/optim.h"

typedef struct {
    uint64_t fingerprint;      /* db_config_fingerprint of the run */
    uint64_t seed;
    int epoch;                 /* epochs completed */
    int64_t step;              /* optimizer steps taken */
    int threads;               /* bit-identical continuation needs the same thread count */
    int world;                 /* and the same number of data-parallel processes (1: one) */
    int n_history;
    int n_sites;               /* regularizer ops: each epoch's per-site record has this many */
    db_site_stat *sites;       /* n_history x n_sites, in the same allocation as the struct */
    /* A checkpoint taken inside an epoch (when a stop was requested): step lies inside epoch
     * `epoch` (0-based, not completed), and these are that epoch's running sums so far */
    int partial;
    double part_loss_sum, part_seconds, part_lr;
    double part_sums[DB_TASK_MAX_METRICS]; /* the task's training counts so far */
    double *part_sites;        /* n_sites x 3 (dropped, units, expected); same allocation */
    db_epoch_result history[]; /* flexible: n_history entries */
} db_ckpt_meta;

/* One allocation for a meta with room for `epochs` history entries and their site records. */
db_ckpt_meta *db_ckpt_meta_alloc(int epochs, int n_sites);

/* Make the folder if needed and check that a file can be written there. */
db_status db_ckpt_prepare_dir(const char *dir);
/* Holds the folder for this process (an flock on the folder itself) until db_ckpt_unlock: a
 * second process training into it is refused. Where the file system cannot lock a folder, a
 * note says so and *fd is -1 (training goes on unlocked). */
db_status db_ckpt_lock(const char *dir, int *fd);
void db_ckpt_unlock(int fd);
db_status db_ckpt_save(const char *dir, const db_graph *g, const db_sgd *opt,
                       const db_ckpt_meta *meta);
/* Loads into g and opt (already built with the same shapes). *meta is malloc'd. Returns
 * DB_ERR_IO with errno ENOENT-style message when there is no checkpoint (check with
 * db_ckpt_exists first). */
db_status db_ckpt_load(const char *dir, db_graph *g, db_sgd *opt, db_ckpt_meta **meta);
int db_ckpt_exists(const char *dir);
/* The checkpoint in dir whole and unchanged (its format and checksum), without a network to load
 * it into; the checks of its contents against a network are db_ckpt_load's */
db_status db_ckpt_verify(const char *dir);
/* The numbers of parameter values, running statistics and optimizer-state values the checkpoint in
 * dir holds (its header only; nothing verified) */
db_status db_ckpt_sizes(const char *dir, uint64_t sizes[3]);
/* Is s a failure that only a fresh start gets past: the checkpoint is from another format
 * version, not a checkpoint, corrupt, truncated, or another network's or configuration's? (A
 * checkpoint written with another thread count is not: it resumes with that count.) */
int db_ckpt_unusable(db_status s);
/* The checkpoint's file name inside dir. */
void db_ckpt_path(const char *dir, char *out, size_t size);
/* The run's progress beside its checkpoint (dir/progress, "epoch E of N", "partial" when a stop
 * came inside an epoch), written after each save: what tells a finished run's weights from a
 * half-trained run's */
db_status db_ckpt_mark_progress(const char *dir, int epoch, int epochs, int partial);
/* May another run start from dir's weights (init_from)? DB_OK when its run finished, or when
 * its checkpoint was written before dropbench recorded progress (*known 0: a note is the
 * caller's); otherwise DB_ERR_ARG saying what is there: no checkpoint, or how far its run got. */
db_status db_ckpt_finished(const char *dir, int *known);

#endif
