/* Convolutions through oneDNN (nets/conv_dnnl.h). */
#include "nets/conv_dnnl.h"

#include "core/log.h"

#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static int enabled;
static char description[160];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static db_status dnnl_status(dnnl_status_t st, const char *what, const char *file, int line) {
    if (st == dnnl_success) return DB_OK;
    return db_fail(st == dnnl_out_of_memory ? DB_ERR_NOMEM : DB_ERR_INTERNAL, "oneDNN: %s: status %d [%s:%d]", what, (int)st,
                   file, line);
}
#define DNNL_TRY(call, what) DB_TRY(dnnl_status((call), (what), __FILE__, __LINE__))

/* Buffers that no convolution needs between its calls (the blocked output, output gradient and
 * input gradient), one per role for the whole process, grown to the largest need when
 * primitives are made; a stage bound to a slot points its memory there before each use. One
 * graph runs at a time in a process (the training loop's contract). */
enum { SLOT_DST, SLOT_DDST, SLOT_DDST_DATA, SLOT_DSRC, SLOT_BW_SRC, N_SLOTS, OWN = -1 };
static struct { void *p; size_t bytes; } pool[N_SLOTS];

static db_status pool_reserve(int slot, size_t bytes) {
    if (bytes <= pool[slot].bytes) return DB_OK;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) return db_fail(DB_ERR_NOMEM, "oneDNN: no memory for a %.1f MiB buffer", bytes / 1048576.0);
    free(pool[slot].p);
    pool[slot].p = p;
    pool[slot].bytes = bytes;
    return DB_OK;
}

/* A tensor as our arrays hold it and as a primitive wants it: a reorder between them when the
 * two layouts differ (none when the primitive takes ours as it is, or the stage is shared) */
typedef struct {
    dnnl_memory_t user, inner; /* user: our array, set per call; inner: oneDNN's copy (== user when no reorder) */
    dnnl_primitive_t reorder;  /* user -> inner for inputs, inner -> user for outputs */
    int slot;                  /* inner's buffer: a pool slot, or OWN */
    int shared;                /* a copy of another stage's handles: not destroyed here */
} stage;

/* One batch size's primitives and staging */
typedef struct {
    int n;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    stage src, w, dst;                   /* forward; src keeps the forward's input for the weight gradient */
    stage bw_src, bw_ddst, dw;           /* backward-weights (bw_src may share src) */
    stage bd_ddst, bd_w, dsrc, dsrc_acc; /* backward-data; dsrc_acc adds into ours (sum post-op) */
    const float *fwd_in;                 /* the input the last forward kept in src (NULL: none) */
} set;

struct db_dnnl_conv {
    db_conv_dims d;
    int needs_din, threads;
    set sets[2]; /* [0] batch n_max, [1] the latest other batch size (n 0: none) */
};

static void init_once(void) {
    const char *e = getenv("DROPBENCH_CONV");
    if (e && !strcmp(e, "gemm")) return;
    if (e && *e && strcmp(e, "onednn")) db_log(DB_LOG_NOTE, "DROPBENCH_CONV=%s is neither gemm nor onednn: using oneDNN", e);
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return;
    if (dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) return;
    /* fp32 convolutions stay fp32, whatever ONEDNN_DEFAULT_FPMATH_MODE says */
    if (dnnl_set_default_fpmath_mode(dnnl_fpmath_mode_strict) != dnnl_success) return;
    enabled = 1;
}

int db_dnnl_enabled(void) {
    pthread_once(&once, init_once);
    return enabled;
}

static db_status md_of(dnnl_memory_desc_t *md, int n, int c, int h, int w, dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {n, c, h, w};
    DNNL_TRY(dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag), "a memory descriptor");
    return DB_OK;
}

static void stage_free(stage *s) {
    if (!s->shared) {
        if (s->reorder) dnnl_primitive_destroy(s->reorder);
        if (s->inner && s->inner != s->user) dnnl_memory_destroy(s->inner);
        if (s->user) dnnl_memory_destroy(s->user);
    }
    memset(s, 0, sizeof *s);
}

/* ours: our layout; theirs: what the primitive takes. to_inner: an input (ours -> theirs), else an
 * output (theirs -> ours); accumulate: the output reorder adds into ours (sum post-op); slot: where
 * theirs lives (a pool slot or OWN). */
static db_status stage_make(stage *s, const dnnl_memory_desc_t *ours, const dnnl_memory_desc_t *theirs, int to_inner,
                            int accumulate, int slot) {
    memset(s, 0, sizeof *s);
    s->slot = OWN;
    DNNL_TRY(dnnl_memory_create(&s->user, ours, engine, DNNL_MEMORY_NONE), "a memory");
    if (dnnl_memory_desc_equal(ours, theirs) && !accumulate) {
        s->inner = s->user;
        return DB_OK;
    }
    if (slot != OWN) {
        DB_TRY(pool_reserve(slot, dnnl_memory_desc_get_size(theirs)));
        s->slot = slot;
    }
    DNNL_TRY(dnnl_memory_create(&s->inner, theirs, engine, slot == OWN ? DNNL_MEMORY_ALLOCATE : DNNL_MEMORY_NONE),
             "a blocked buffer");
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = dnnl_success;
    if (accumulate) {
        st = dnnl_primitive_attr_create(&attr);
        if (st == dnnl_success) st = dnnl_post_ops_create(&po);
        if (st == dnnl_success) st = dnnl_post_ops_append_sum(po, 1.0f);
        if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    if (st == dnnl_success)
        st = to_inner ? dnnl_reorder_primitive_desc_create(&pd, ours, engine, theirs, engine, attr)
                      : dnnl_reorder_primitive_desc_create(&pd, theirs, engine, ours, engine, attr);
    if (st == dnnl_success) st = dnnl_primitive_create(&s->reorder, pd);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    DNNL_TRY(st, "a reorder");
    return DB_OK;
}

/* an input stage of a later pass: the earlier stage itself when the layout is the same (its
 * reorder then already ran this step), else a stage of its own */
static db_status stage_share(stage *s, const stage *earlier, const dnnl_memory_desc_t *ours,
                             const dnnl_memory_desc_t *theirs, int slot) {
    const dnnl_memory_desc_t *md = NULL;
    DNNL_TRY(dnnl_memory_get_memory_desc(earlier->inner, &md), "a memory descriptor");
    if (dnnl_memory_desc_equal(md, theirs)) {
        *s = *earlier;
        s->shared = 1;
        return DB_OK;
    }
    return stage_make(s, ours, theirs, 1, 0, slot);
}

/* a pooled stage's buffer: bound before each use (the pool may have grown since) */
static db_status bind(stage *s) {
    if (s->slot != OWN) DNNL_TRY(dnnl_memory_set_data_handle(s->inner, pool[s->slot].p), "a buffer's address");
    return DB_OK;
}

static db_status execute(dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args, const char *what) {
    DNNL_TRY(dnnl_primitive_execute(p, stream, nargs, args), what);
    DNNL_TRY(dnnl_stream_wait(stream), what);
    return DB_OK;
}

/* our array in, through the reorder when there is one */
static db_status stage_in(stage *s, const float *ours) {
    DNNL_TRY(dnnl_memory_set_data_handle(s->user, (void *)ours), "a memory's address");
    DB_TRY(bind(s));
    if (!s->reorder) return DB_OK;
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, s->user}, {DNNL_ARG_TO, s->inner}};
    return execute(s->reorder, 2, a, "a reorder in");
}

/* before a primitive writes the stage: its buffers in place */
static db_status stage_ready(stage *s, float *ours) {
    DNNL_TRY(dnnl_memory_set_data_handle(s->user, ours), "a memory's address");
    return bind(s);
}

static db_status stage_out(stage *s) {
    if (!s->reorder) return DB_OK;
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, s->inner}, {DNNL_ARG_TO, s->user}};
    return execute(s->reorder, 2, a, "a reorder out");
}

static void set_free(set *s) {
    if (s->fwd) dnnl_primitive_destroy(s->fwd);
    if (s->bwd_data) dnnl_primitive_destroy(s->bwd_data);
    if (s->bwd_weights) dnnl_primitive_destroy(s->bwd_weights);
    /* the shared stages first: they only hold copies of the others' handles */
    stage *all[] = {&s->bw_src, &s->bd_ddst, &s->bd_w, &s->src, &s->w, &s->dst, &s->bw_ddst, &s->dw, &s->dsrc, &s->dsrc_acc};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) stage_free(all[i]);
    memset(s, 0, sizeof *s);
}

static db_status set_make(set *s, const db_conv_dims *d, int n, int needs_din) {
    memset(s, 0, sizeof *s);
    s->n = n;
    dnnl_memory_desc_t src_u, w_u, dst_u, src_a, w_a, dst_a;
    DB_TRY(md_of(&src_u, n, d->cin, d->h, d->w, dnnl_bacd));
    DB_TRY(md_of(&dst_u, n, d->cout, d->oh, d->ow, dnnl_bacd));
    DB_TRY(md_of(&w_u, d->cout, d->cin, d->kh, d->kw, dnnl_oihw));
    DB_TRY(md_of(&src_a, n, d->cin, d->h, d->w, dnnl_format_tag_any));
    DB_TRY(md_of(&dst_a, n, d->cout, d->oh, d->ow, dnnl_format_tag_any));
    DB_TRY(md_of(&w_a, d->cout, d->cin, d->kh, d->kw, dnnl_format_tag_any));
    dnnl_dims_t strides = {d->sh, d->sw}, pad = {d->ph, d->pw};
    int bottom = (d->oh - 1) * d->sh + d->kh - d->h - d->ph, right = (d->ow - 1) * d->sw + d->kw - d->w - d->pw;
    dnnl_dims_t pad_r = {bottom, right};
    dnnl_convolution_desc_t fd, bdd, bwd;
    DNNL_TRY(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &src_a, &w_a, NULL, &dst_a,
                                                strides, pad, pad_r), "the forward");
    DNNL_TRY(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &src_a, &w_a, &dst_a, strides, pad, pad_r),
             "the backward (data)");
    DNNL_TRY(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &src_a, &w_a, NULL, &dst_a, strides, pad,
                                                         pad_r), "the backward (weights)");
    dnnl_primitive_desc_t fpd = NULL, bdpd = NULL, bwpd = NULL;
    db_status st = DB_OK;
    if (dnnl_primitive_desc_create(&fpd, &fd, NULL, engine, NULL) != dnnl_success ||
        (needs_din && dnnl_primitive_desc_create(&bdpd, &bdd, NULL, engine, fpd) != dnnl_success) ||
        dnnl_primitive_desc_create(&bwpd, &bwd, NULL, engine, fpd) != dnnl_success)
        st = db_fail(DB_ERR_UNSUPPORTED, "oneDNN has no convolution for %d->%d channels, %dx%d kernel (rows x columns), "
                     "%dx%d map", d->cin, d->cout, d->kh, d->kw, d->h, d->w);
#define Q(pd, what) dnnl_primitive_desc_query_md(pd, what, 0)
    if (st == DB_OK) st = stage_make(&s->src, &src_u, Q(fpd, dnnl_query_src_md), 1, 0, OWN);
    if (st == DB_OK) st = stage_make(&s->w, &w_u, Q(fpd, dnnl_query_weights_md), 1, 0, OWN);
    if (st == DB_OK) st = stage_make(&s->dst, &dst_u, Q(fpd, dnnl_query_dst_md), 0, 0, SLOT_DST);
    /* the weight gradient reads the forward's input as the forward left it (reordered again only
     * for another layout) */
    if (st == DB_OK) st = stage_share(&s->bw_src, &s->src, Q(fpd, dnnl_query_src_md), Q(bwpd, dnnl_query_src_md), SLOT_BW_SRC);
    if (st == DB_OK) st = stage_make(&s->bw_ddst, &dst_u, Q(bwpd, dnnl_query_diff_dst_md), 1, 0, SLOT_DDST);
    if (st == DB_OK) st = stage_make(&s->dw, &w_u, Q(bwpd, dnnl_query_diff_weights_md), 0, 0, OWN);
    if (st == DB_OK && needs_din) {
        st = stage_share(&s->bd_ddst, &s->bw_ddst, &dst_u, Q(bdpd, dnnl_query_diff_dst_md), SLOT_DDST_DATA);
        if (st == DB_OK) st = stage_share(&s->bd_w, &s->w, &w_u, Q(bdpd, dnnl_query_weights_md), OWN);
        if (st == DB_OK) st = stage_make(&s->dsrc, &src_u, Q(bdpd, dnnl_query_diff_src_md), 0, 0, SLOT_DSRC);
        if (st == DB_OK) st = stage_make(&s->dsrc_acc, &src_u, Q(bdpd, dnnl_query_diff_src_md), 0, 1, SLOT_DSRC);
    }
#undef Q
    if (st == DB_OK && (dnnl_primitive_create(&s->fwd, fpd) != dnnl_success ||
                        (needs_din && dnnl_primitive_create(&s->bwd_data, bdpd) != dnnl_success) ||
                        dnnl_primitive_create(&s->bwd_weights, bwpd) != dnnl_success))
        st = db_fail(DB_ERR_INTERNAL, "oneDNN: creating a convolution's primitives failed");
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (bdpd) dnnl_primitive_desc_destroy(bdpd);
    if (bwpd) dnnl_primitive_desc_destroy(bwpd);
    if (st != DB_OK) set_free(s);
    return st;
}

db_status db_dnnl_conv_create(db_dnnl_conv **out, const db_conv_dims *d, int n_max, int needs_din) {
    *out = NULL;
    if (!db_dnnl_enabled()) return db_fail(DB_ERR_UNSUPPORTED, "oneDNN is not in use");
    db_dnnl_conv *c = calloc(1, sizeof *c);
    if (!c) return db_fail(DB_ERR_NOMEM, "out of memory");
    c->d = *d;
    c->needs_din = needs_din;
    c->threads = omp_get_max_threads();
    db_status s = set_make(&c->sets[0], d, n_max, needs_din);
    if (s != DB_OK) { free(c); return s; }
    *out = c;
    return DB_OK;
}

void db_dnnl_conv_destroy(db_dnnl_conv *c) {
    if (!c) return;
    set_free(&c->sets[0]);
    set_free(&c->sets[1]);
    free(c);
}

/* the primitives for batch n, made now when n is new; refused when the thread count changed
 * since they were made (they would keep the old one, and its bits) */
static db_status set_for(db_dnnl_conv *c, int n, set **out) {
    if (omp_get_max_threads() != c->threads)
        return db_fail(DB_ERR_ARG, "oneDNN: primitives made for %d threads, now %d", c->threads, omp_get_max_threads());
    if (c->sets[0].n == n) { *out = &c->sets[0]; return DB_OK; }
    if (c->sets[1].n != n) {
        set_free(&c->sets[1]);
        DB_TRY(set_make(&c->sets[1], &c->d, n, c->needs_din));
    }
    *out = &c->sets[1];
    return DB_OK;
}

db_status db_dnnl_conv_forward(db_dnnl_conv *c, float *out, const float *in, const float *weight, int n) {
    set *s = NULL;
    DB_TRY(set_for(c, n, &s));
    s->fwd_in = NULL;
    DB_TRY(stage_in(&s->src, in));
    DB_TRY(stage_in(&s->w, weight));
    DB_TRY(stage_ready(&s->dst, out));
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, s->src.inner}, {DNNL_ARG_WEIGHTS, s->w.inner}, {DNNL_ARG_DST, s->dst.inner}};
    DB_TRY(execute(s->fwd, 3, a, "convolution forward"));
    s->fwd_in = in;
    return stage_out(&s->dst);
}

db_status db_dnnl_conv_backward(db_dnnl_conv *c, float *din, float *dweight, const float *dout, const float *in,
                                const float *weight, int n, int accum) {
    set *s = NULL;
    DB_TRY(set_for(c, n, &s));
    if (din && !c->needs_din) return db_fail(DB_ERR_INTERNAL, "oneDNN: an input gradient asked of a convolution made without one");
    /* the forward's input is in s->src (and its weights in s->w) only after a forward of this
     * input at this batch size; else both are staged again from our arrays */
    if (s->fwd_in != in) {
        DB_TRY(stage_in(&s->src, in));
        DB_TRY(stage_in(&s->w, weight));
        s->fwd_in = in;
    }
    DB_TRY(stage_in(&s->bw_ddst, dout));
    if (!s->bw_src.shared) { /* another layout for the weight gradient: reordered from the forward's copy */
        void *fwd_copy = NULL;
        DNNL_TRY(dnnl_memory_get_data_handle(s->src.inner, &fwd_copy), "the forward's input");
        DB_TRY(stage_in(&s->bw_src, fwd_copy));
    }
    DB_TRY(stage_ready(&s->dw, dweight));
    dnnl_exec_arg_t bw[3] = {{DNNL_ARG_SRC, s->bw_src.inner}, {DNNL_ARG_DIFF_DST, s->bw_ddst.inner},
                             {DNNL_ARG_DIFF_WEIGHTS, s->dw.inner}};
    DB_TRY(execute(s->bwd_weights, 3, bw, "convolution backward (weights)"));
    DB_TRY(stage_out(&s->dw));
    if (!din) return DB_OK;
    if (!s->bd_ddst.shared) DB_TRY(stage_in(&s->bd_ddst, dout));
    if (!s->bd_w.shared) DB_TRY(stage_in(&s->bd_w, weight));
    stage *ds = accum ? &s->dsrc_acc : &s->dsrc;
    DB_TRY(stage_ready(ds, din));
    dnnl_exec_arg_t bd[3] = {{DNNL_ARG_DIFF_DST, s->bd_ddst.inner}, {DNNL_ARG_WEIGHTS, s->bd_w.inner},
                             {DNNL_ARG_DIFF_SRC, ds->inner}};
    DB_TRY(execute(s->bwd_data, 3, bd, "convolution backward (data)"));
    return stage_out(ds);
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

const char *db_dnnl_describe(void) {
    if (!db_dnnl_enabled()) return "";
    if (description[0]) return description;
    /* the version, the instruction set, and the forward a 16-channel 3x3 convolution gets */
    const dnnl_version_t *v = dnnl_version();
    int len = snprintf(description, sizeof description, "oneDNN %d.%d.%d, isa %s", v->major, v->minor, v->patch,
                       isa_name(dnnl_get_effective_cpu_isa()));
    dnnl_memory_desc_t src, w, dst;
    dnnl_dims_t strides = {1, 1}, pad = {1, 1};
    dnnl_convolution_desc_t fd;
    dnnl_primitive_desc_t pd = NULL;
    const char *impl = NULL;
    if (md_of(&src, 2, 16, 8, 8, dnnl_format_tag_any) == DB_OK && md_of(&w, 16, 16, 3, 3, dnnl_format_tag_any) == DB_OK &&
        md_of(&dst, 2, 16, 8, 8, dnnl_format_tag_any) == DB_OK &&
        dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &src, &w, NULL, &dst, strides,
                                           pad, pad) == dnnl_success &&
        dnnl_primitive_desc_create(&pd, &fd, NULL, engine, NULL) == dnnl_success &&
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl && len > 0)
        snprintf(description + len, sizeof description - (size_t)len, " (%s)", impl);
    if (pd) dnnl_primitive_desc_destroy(pd);
    return description;
}

#else /* without oneDNN: the GEMM path everywhere */

int db_dnnl_enabled(void) { return 0; }
const char *db_dnnl_describe(void) { return ""; }
db_status db_dnnl_conv_create(db_dnnl_conv **out, const db_conv_dims *d, int n_max, int needs_din) {
    (void)d; (void)n_max; (void)needs_din;
    *out = NULL;
    return db_fail(DB_ERR_UNSUPPORTED, "this build has no oneDNN");
}
void db_dnnl_conv_destroy(db_dnnl_conv *c) { (void)c; }
db_status db_dnnl_conv_forward(db_dnnl_conv *c, float *out, const float *in, const float *weight, int n) {
    (void)c; (void)out; (void)in; (void)weight; (void)n;
    return db_fail(DB_ERR_UNSUPPORTED, "this build has no oneDNN");
}
db_status db_dnnl_conv_backward(db_dnnl_conv *c, float *din, float *dweight, const float *dout, const float *in,
                                const float *weight, int n, int accum) {
    (void)c; (void)din; (void)dweight; (void)dout; (void)in; (void)weight; (void)n; (void)accum;
    return db_fail(DB_ERR_UNSUPPORTED, "this build has no oneDNN");
}
#endif
