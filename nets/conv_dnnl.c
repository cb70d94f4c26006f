/* Convolutions through oneDNN (nets/conv_dnnl.h). */
#include "nets/conv_dnnl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static int enabled;
static char description[128];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static db_status dnnl_status(dnnl_status_t st, const char *what, const char *file, int line) {
    if (st == dnnl_success) return DB_OK;
    return db_fail(st == dnnl_out_of_memory ? DB_ERR_NOMEM : DB_ERR_INTERNAL, "oneDNN: %s: status %d [%s:%d]", what, (int)st,
                   file, line);
}
#define DNNL_TRY(call, what) DB_TRY(dnnl_status((call), (what), __FILE__, __LINE__))

/* A tensor as our arrays hold it and as a primitive wants it: a reorder between them when the
 * two layouts differ (NULL when the primitive takes ours as it is) */
typedef struct {
    dnnl_memory_t user, inner; /* user: our array, set per call; inner: oneDNN's blocked copy (== user when no reorder) */
    dnnl_primitive_t reorder;  /* user -> inner for inputs, inner -> user for outputs */
} stage;

/* One batch size's primitives and staging */
typedef struct {
    int n;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    stage src, w, dst;            /* forward */
    stage bw_src, bw_ddst, dw;    /* backward-weights (bw_src may share the forward's blocked input) */
    stage bd_ddst, bd_w, dsrc, dsrc_acc; /* backward-data; dsrc_acc: the reorder that adds into ours */
    int bw_src_shared, bd_ddst_shared, bd_w_shared;
} set;

struct db_dnnl_conv {
    db_conv_dims d;
    set sets[2]; /* [0] batch n_max, [1] the latest other batch size (n 0: none) */
};

static void init_once(void) {
    const char *e = getenv("DROPBENCH_CONV");
    if (e && !strcmp(e, "gemm")) return;
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return;
    if (dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) return;
    enabled = 1;
    const dnnl_version_t *v = dnnl_version();
    snprintf(description, sizeof description, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
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
    if (s->reorder) dnnl_primitive_destroy(s->reorder);
    if (s->inner && s->inner != s->user) dnnl_memory_destroy(s->inner);
    if (s->user) dnnl_memory_destroy(s->user);
    memset(s, 0, sizeof *s);
}

/* ours: our layout; theirs: what the primitive takes. to_inner: an input (ours -> theirs), else an
 * output (theirs -> ours); accumulate: the output reorder adds into ours (sum post-op). */
static db_status stage_make(stage *s, const dnnl_memory_desc_t *ours, const dnnl_memory_desc_t *theirs, int to_inner,
                            int accumulate) {
    memset(s, 0, sizeof *s);
    DNNL_TRY(dnnl_memory_create(&s->user, ours, engine, DNNL_MEMORY_NONE), "a memory");
    if (dnnl_memory_desc_equal(ours, theirs) && !accumulate) {
        s->inner = s->user;
        return DB_OK;
    }
    DNNL_TRY(dnnl_memory_create(&s->inner, theirs, engine, DNNL_MEMORY_ALLOCATE), "a blocked buffer");
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    if (accumulate) {
        DNNL_TRY(dnnl_primitive_attr_create(&attr), "an attribute");
        DNNL_TRY(dnnl_post_ops_create(&po), "post-ops");
        DNNL_TRY(dnnl_post_ops_append_sum(po, 1.0f), "the sum post-op");
        DNNL_TRY(dnnl_primitive_attr_set_post_ops(attr, po), "the post-ops");
    }
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = to_inner ? dnnl_reorder_primitive_desc_create(&pd, ours, engine, theirs, engine, attr)
                                : dnnl_reorder_primitive_desc_create(&pd, theirs, engine, ours, engine, attr);
    if (st == dnnl_success) st = dnnl_primitive_create(&s->reorder, pd);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    DNNL_TRY(st, "a reorder");
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
    if (!s->reorder) return DB_OK;
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, s->user}, {DNNL_ARG_TO, s->inner}};
    return execute(s->reorder, 2, a, "a reorder in");
}

static db_status stage_out(stage *s, float *ours) {
    DNNL_TRY(dnnl_memory_set_data_handle(s->user, ours), "a memory's address");
    if (!s->reorder) return DB_OK;
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, s->inner}, {DNNL_ARG_TO, s->user}};
    return execute(s->reorder, 2, a, "a reorder out");
}

static void set_free(set *s) {
    if (s->fwd) dnnl_primitive_destroy(s->fwd);
    if (s->bwd_data) dnnl_primitive_destroy(s->bwd_data);
    if (s->bwd_weights) dnnl_primitive_destroy(s->bwd_weights);
    stage *all[] = {&s->src, &s->w, &s->dst, &s->bw_ddst, &s->dw, &s->dsrc, &s->dsrc_acc};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) stage_free(all[i]);
    if (!s->bw_src_shared) stage_free(&s->bw_src);
    if (!s->bd_ddst_shared) stage_free(&s->bd_ddst);
    if (!s->bd_w_shared) stage_free(&s->bd_w);
    memset(s, 0, sizeof *s);
}

/* an input stage for a backward pass: the earlier stage's blocked buffer when the layout is the
 * same (its reorder then already ran this step), else a stage of its own */
static db_status stage_share(stage *s, int *shared, const stage *earlier, const dnnl_memory_desc_t *ours,
                             const dnnl_memory_desc_t *theirs) {
    const dnnl_memory_desc_t *md = NULL;
    DNNL_TRY(dnnl_memory_get_memory_desc(earlier->inner, &md), "a memory descriptor");
    if (dnnl_memory_desc_equal(md, theirs)) {
        *s = *earlier;
        *shared = 1;
        return DB_OK;
    }
    *shared = 0;
    return stage_make(s, ours, theirs, 1, 0);
}

static db_status set_make(set *s, const db_conv_dims *d, int n) {
    memset(s, 0, sizeof *s);
    s->n = n;
    dnnl_memory_desc_t src_u, w_u, dst_u, src_a, w_a, dst_a;
    DB_TRY(md_of(&src_u, n, d->cin, d->h, d->w, dnnl_bacd));
    DB_TRY(md_of(&dst_u, n, d->cout, d->oh, d->ow, dnnl_bacd));
    DB_TRY(md_of(&w_u, d->cout, d->cin, d->k, d->k, dnnl_oihw));
    DB_TRY(md_of(&src_a, n, d->cin, d->h, d->w, dnnl_format_tag_any));
    DB_TRY(md_of(&dst_a, n, d->cout, d->oh, d->ow, dnnl_format_tag_any));
    DB_TRY(md_of(&w_a, d->cout, d->cin, d->k, d->k, dnnl_format_tag_any));
    dnnl_dims_t strides = {d->stride, d->stride}, pad = {d->pad, d->pad};
    int bottom = (d->oh - 1) * d->stride + d->k - d->h - d->pad, right = (d->ow - 1) * d->stride + d->k - d->w - d->pad;
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
        dnnl_primitive_desc_create(&bdpd, &bdd, NULL, engine, fpd) != dnnl_success ||
        dnnl_primitive_desc_create(&bwpd, &bwd, NULL, engine, fpd) != dnnl_success)
        st = db_fail(DB_ERR_UNSUPPORTED, "oneDNN has no convolution for %d->%d channels, %dx%d kernel, %dx%d map", d->cin,
                     d->cout, d->k, d->k, d->h, d->w);
#define Q(pd, what) dnnl_primitive_desc_query_md(pd, what, 0)
    if (st == DB_OK) st = stage_make(&s->src, &src_u, Q(fpd, dnnl_query_src_md), 1, 0);
    if (st == DB_OK) st = stage_make(&s->w, &w_u, Q(fpd, dnnl_query_weights_md), 1, 0);
    if (st == DB_OK) st = stage_make(&s->dst, &dst_u, Q(fpd, dnnl_query_dst_md), 0, 0);
    if (st == DB_OK) { /* the weight gradient reads the forward's (blocked) input, reordered again only if it wants another layout */
        const dnnl_memory_desc_t *fwd_src = Q(fpd, dnnl_query_src_md);
        st = stage_share(&s->bw_src, &s->bw_src_shared, &s->src, fwd_src, Q(bwpd, dnnl_query_src_md));
    }
    if (st == DB_OK) st = stage_make(&s->bw_ddst, &dst_u, Q(bwpd, dnnl_query_diff_dst_md), 1, 0);
    if (st == DB_OK) st = stage_make(&s->dw, &w_u, Q(bwpd, dnnl_query_diff_weights_md), 0, 0);
    if (st == DB_OK) st = stage_share(&s->bd_ddst, &s->bd_ddst_shared, &s->bw_ddst, &dst_u, Q(bdpd, dnnl_query_diff_dst_md));
    if (st == DB_OK) st = stage_share(&s->bd_w, &s->bd_w_shared, &s->w, &w_u, Q(bdpd, dnnl_query_weights_md));
    if (st == DB_OK) st = stage_make(&s->dsrc, &src_u, Q(bdpd, dnnl_query_diff_src_md), 0, 0);
    if (st == DB_OK) st = stage_make(&s->dsrc_acc, &src_u, Q(bdpd, dnnl_query_diff_src_md), 0, 1);
#undef Q
    if (st == DB_OK && (dnnl_primitive_create(&s->fwd, fpd) != dnnl_success ||
                        dnnl_primitive_create(&s->bwd_data, bdpd) != dnnl_success ||
                        dnnl_primitive_create(&s->bwd_weights, bwpd) != dnnl_success))
        st = db_fail(DB_ERR_INTERNAL, "oneDNN: creating a convolution's primitives failed");
    if (st == DB_OK && !strchr(description, '(')) {
        const char *impl = NULL;
        if (dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
            snprintf(description + strlen(description), sizeof description - strlen(description), " (%s)", impl);
    }
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (bdpd) dnnl_primitive_desc_destroy(bdpd);
    if (bwpd) dnnl_primitive_desc_destroy(bwpd);
    if (st != DB_OK) set_free(s);
    return st;
}

db_status db_dnnl_conv_create(db_dnnl_conv **out, const db_conv_dims *d, int n_max) {
    *out = NULL;
    if (!db_dnnl_enabled()) return db_fail(DB_ERR_UNSUPPORTED, "oneDNN is not in use");
    db_dnnl_conv *c = calloc(1, sizeof *c);
    if (!c) return db_fail(DB_ERR_NOMEM, "out of memory");
    c->d = *d;
    db_status s = set_make(&c->sets[0], d, n_max);
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

/* the primitives for batch n, made now when n is new */
static db_status set_for(db_dnnl_conv *c, int n, set **out) {
    if (c->sets[0].n == n) { *out = &c->sets[0]; return DB_OK; }
    if (c->sets[1].n != n) {
        set_free(&c->sets[1]);
        DB_TRY(set_make(&c->sets[1], &c->d, n));
    }
    *out = &c->sets[1];
    return DB_OK;
}

db_status db_dnnl_conv_forward(db_dnnl_conv *c, float *out, const float *in, const float *weight, int n) {
    set *s;
    DB_TRY(set_for(c, n, &s));
    DB_TRY(stage_in(&s->src, in));
    DB_TRY(stage_in(&s->w, weight));
    dnnl_memory_set_data_handle(s->dst.user, out);
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, s->src.inner}, {DNNL_ARG_WEIGHTS, s->w.inner}, {DNNL_ARG_DST, s->dst.inner}};
    DB_TRY(execute(s->fwd, 3, a, "convolution forward"));
    return stage_out(&s->dst, out);
}

db_status db_dnnl_conv_backward(db_dnnl_conv *c, float *din, float *dweight, const float *dout, const float *weight,
                                int n, int accum) {
    set *s;
    DB_TRY(set_for(c, n, &s));
    DB_TRY(stage_in(&s->bw_ddst, dout));
    /* the forward left its input in s->src.inner (blocked, or our array itself); a weight
     * gradient that wants another layout reorders from there */
    if (!s->bw_src_shared) {
        void *fwd_in = NULL;
        DNNL_TRY(dnnl_memory_get_data_handle(s->src.inner, &fwd_in), "the forward's input");
        DB_TRY(stage_in(&s->bw_src, fwd_in));
    }
    dnnl_memory_set_data_handle(s->dw.user, dweight);
    dnnl_exec_arg_t bw[3] = {{DNNL_ARG_SRC, s->bw_src.inner}, {DNNL_ARG_DIFF_DST, s->bw_ddst.inner},
                             {DNNL_ARG_DIFF_WEIGHTS, s->dw.inner}};
    DB_TRY(execute(s->bwd_weights, 3, bw, "convolution backward (weights)"));
    DB_TRY(stage_out(&s->dw, dweight));
    if (!din) return DB_OK;
    if (!s->bd_ddst_shared) DB_TRY(stage_in(&s->bd_ddst, dout));
    if (!s->bd_w_shared) DB_TRY(stage_in(&s->bd_w, weight));
    stage *ds = accum ? &s->dsrc_acc : &s->dsrc;
    dnnl_memory_set_data_handle(ds->user, din);
    dnnl_exec_arg_t bd[3] = {{DNNL_ARG_DIFF_DST, s->bd_ddst.inner}, {DNNL_ARG_WEIGHTS, s->bd_w.inner},
                             {DNNL_ARG_DIFF_SRC, ds->inner}};
    DB_TRY(execute(s->bwd_data, 3, bd, "convolution backward (data)"));
    return stage_out(ds, din);
}

const char *db_dnnl_describe(void) {
    if (!db_dnnl_enabled()) return "";
    if (!strchr(description, '(')) { /* learn the implementation from a small convolution */
        db_conv_dims d;
        db_conv_dims_init(&d, 16, 16, 3, 1, 1, 8, 8);
        db_dnnl_conv *c = NULL;
        if (db_dnnl_conv_create(&c, &d, 2) == DB_OK) db_dnnl_conv_destroy(c);
    }
    return description;
}

#else /* without oneDNN: the GEMM path everywhere */

int db_dnnl_enabled(void) { return 0; }
const char *db_dnnl_describe(void) { return ""; }
db_status db_dnnl_conv_create(db_dnnl_conv **out, const db_conv_dims *d, int n_max) {
    (void)d; (void)n_max;
    *out = NULL;
    return db_fail(DB_ERR_UNSUPPORTED, "this build has no oneDNN");
}
void db_dnnl_conv_destroy(db_dnnl_conv *c) { (void)c; }
db_status db_dnnl_conv_forward(db_dnnl_conv *c, float *out, const float *in, const float *weight, int n) {
    (void)c; (void)out; (void)in; (void)weight; (void)n;
    return db_fail(DB_ERR_UNSUPPORTED, "this build has no oneDNN");
}
db_status db_dnnl_conv_backward(db_dnnl_conv *c, float *din, float *dweight, const float *dout, const float *weight,
                                int n, int accum) {
    (void)c; (void)din; (void)dweight; (void)dout; (void)weight; (void)n; (void)accum;
    return db_fail(DB_ERR_UNSUPPORTED, "this build has no oneDNN");
}
#endif
