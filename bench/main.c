#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nets/conv_dnnl.h"
#include "bench/cli.h"
#include "core/dist.h"
#include "core/cuda.h"
#include "core/gemm.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: dropbench COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  train    train a network and evaluate it every epoch (dropbench train --help); also: run\n"
            "  bench    training throughput on synthetic data (dropbench bench --help)\n"
            "  model    describe a network: layers, parameters, regularizer sites (dropbench model --help)\n"
            "  kernel   one regularizer kernel alone: dropped fraction, time, bandwidth\n"
            "  study    every cell of a recipe's matrix, recorded (dropbench study RECIPE)\n"
            "  resume   continue an interrupted run or study from the database (dropbench resume RUN)\n"
            "  slurm    an sbatch job-array script for a recipe's study, one shard database per cell\n"
            "  regress  this database's runs against a baseline database's (canary, seeds, throughput)\n"
            "  tag      keep a copy of the database as a named baseline for regress\n"
            "  report   the paper's tables and figures beside ours (REPORT.md, index.html)\n"
            "  list     the runs in the results database (--db PATH)\n"
            "  show     one run: configuration, provenance, metrics (dropbench show RUN)\n"
            "  export   every metric of every run as CSV or JSON (--format, --run)\n"
            "  merge    fold shard databases into one (idempotent)\n"
            "  data     the data-set cache: list, fetch NAME (verified downloads), verify NAME, unpack NAME,\n"
            "           make fmnist-detect (the small detection and segmentation set), bench\n"
            "  eval     score predictions: eval coco (detections, COCO AP), eval miou (label maps, mIOU)\n"
            "  version  build information\n");
}

/* OpenMP's threads wait for each other at the end of every op, and libgomp's default is to spin
 * a long while (300,000 rounds) before sleeping: beside another busy process a spinning thread
 * holds the core that the thread it waits for needs. Measured on 2 cores with one busy process
 * beside (BENCHMARKS.md): ResNet-20 trained at 230 images/s by default and at 315 with a spin
 * count of 3,000 (quiet: ~700 either way; 0, passive waiting, lost a quarter of the quiet rate).
 * libgomp reads the setting when it loads, before main, so the training commands set it and
 * start again -- unless the user chose GOMP_SPINCOUNT or OMP_WAIT_POLICY. */
static void fair_waiting(char **argv) {
    if (getenv("GOMP_SPINCOUNT") || getenv("OMP_WAIT_POLICY")) return;
    /* not when /proc/self/exe is not this program: started through the loader (ld-linux ./dropbench)
     * or under valgrind, whose preloaded tool an exec would shed */
    int self;
    db_cli_program(&self);
    if (!self) return;
    if (setenv("GOMP_SPINCOUNT", "3000", 1) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv("GOMP_SPINCOUNT"); /* the exec failed: go on as we are (slower only beside other processes) */
}

static int command(int argc, char **argv);

int main(int argc, char **argv) {
    db_cli_set_argv0(argv[0]);
    if (argc > 1 && (!strcmp(argv[1], "train") || !strcmp(argv[1], "run") || !strcmp(argv[1], "bench") ||
                     !strcmp(argv[1], "study") || !strcmp(argv[1], "resume")))
        fair_waiting(argv);
    db_cli_log_init();
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
    }
    /* started by mpirun or srun as one of several processes: a data-parallel run (core/dist.h) */
    db_status ds = db_dist_init(&argc, &argv);
    if (ds != DB_OK) return db_cli_error(ds);
    const db_dist_info *dist = db_dist();
    const char *cmd = argv[1];
    if (dist->size > 1 && strcmp(cmd, "train") && strcmp(cmd, "run") && strcmp(cmd, "resume") && strcmp(cmd, "study")) {
        if (dist->rank == 0)
            fprintf(stderr, "dropbench %s runs as one process; only train, run, resume and a study's cell run across "
                    "the %d processes of %s\n", cmd, dist->size, dist->launcher);
        db_dist_finalize();
        return DB_EXIT_USAGE;
    }
    int rc = command(argc, argv);
    if (dist->size > 1) {
        /* the outcomes the processes agree on at a step end together; any other failure may be
         * this process's alone (its store, its files) and leave the others waiting on it: end
         * them all */
        if (db_dist_broken() || (rc != DB_EXIT_OK && rc != DB_EXIT_DIVERGED && rc != DB_EXIT_INTERRUPTED))
            db_dist_abort(rc ? rc : DB_EXIT_FAIL);
        db_dist_finalize();
    }
    return rc;
}

static int command(int argc, char **argv) {
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train") || !strcmp(cmd, "run")) return db_cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return db_cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "model")) return db_cmd_model(argc - 1, argv + 1);
    if (!strcmp(cmd, "kernel")) return db_cmd_kernel(argc - 1, argv + 1);
    if (!strcmp(cmd, "study")) return db_cmd_study(argc - 1, argv + 1);
    if (!strcmp(cmd, "regress")) return db_cmd_regress(argc - 1, argv + 1);
    if (!strcmp(cmd, "slurm")) return db_cmd_slurm(argc - 1, argv + 1);
    if (!strcmp(cmd, "resume")) return db_cmd_resume(argc - 1, argv + 1);
    if (!strcmp(cmd, "tag")) return db_cmd_tag(argc - 1, argv + 1);
    if (!strcmp(cmd, "report")) return db_cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "data")) return db_cmd_data(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return db_cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "list") || !strcmp(cmd, "show") || !strcmp(cmd, "export") || !strcmp(cmd, "merge"))
        return db_cmd_results(argc - 1, argv + 1);
    if (!strcmp(cmd, "version")) {
        db_cuda_info ci;
        db_cuda_query(&ci);
        printf("dropbench 0.1\nblas: %s\nconvolutions (CPU): %s\ncuda: %s", db_blas_name(),
               db_dnnl_enabled() ? db_dnnl_describe() : "GEMM (im2col + the BLAS)", db_cuda_built() ? "built" : "not built");
        if (db_cuda_built()) printf(", runtime %d, %d device(s)%s%s", ci.runtime_version, ci.device_count,
                                    ci.device_count ? ": " : "", ci.name);
        int cudnn, cublas;
        db_cuda_lib_versions(&cudnn, &cublas);
        if (cudnn) printf("\ngpu backend: loaded (cuDNN %d, cuBLAS %d)", cudnn, cublas);
        else printf("\ngpu backend: not available: %s", db_last_error());
        printf("\n");
        return DB_EXIT_OK;
    }
    fprintf(stderr, "dropbench: unknown command '%s'\n", cmd);
    usage(stderr);
    return DB_EXIT_USAGE;
}
