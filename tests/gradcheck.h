/* Finite-difference gradient checking and the small fixtures the op, spatial, network and
 * optimizer tests share (an op's probe, buffers, the convolution gradient check, a tiny ResNet-8). */
#ifndef DB_TESTS_GRADCHECK_H
#define DB_TESTS_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "nets/graph.h"

/* Fill with uniform values in [lo, hi) from a fixed seed. */
void tc_fill(float *x, size_t n, uint64_t seed, float lo, float hi);
/* Central differences of L = loss(ctx) with respect to x[i] for up to `samples` indices spread
 * over x, compared against analytic[i]. Returns the number of mismatches; adds the number of
 * indices checked to *checked when non-NULL. In strict mode every mismatch is a CHECK failure
 * naming what; otherwise the caller judges the count (see the ImageNet ResNet test). */
int tc_gradcheck_n(const char *what, double (*loss)(void *ctx), void *ctx, float *x,
                   const float *analytic, size_t n, int samples, float h, double atol, double rtol,
                   int strict, int *checked);
/* Every parameter of a network graph (nets/graph.h) that is not tied to another, `samples` of
 * its values each, against its gradient in the copy `grads` of the graph's gradient arena taken
 * after the backward; mismatches are counted, not failed (the network tests allow a few at ReLU
 * and max-pool kinks). Returns the mismatches; adds the values checked to *checked. */
int tc_gradcheck_graph(const char *what, const db_graph *g, const float *grads, double (*loss)(void *ctx),
                       void *ctx, int samples, int *checked);
/* A graph's forward and its softmax cross-entropy (label smoothing 0.1) on labels */
typedef struct { db_graph *g; int *labels; } tc_xent_net;
double tc_xent_loss(void *ctx);
/* A small graph's parameter gradients under softmax cross-entropy (label smoothing 0.1) on
 * labels: parameters from seed (batch-norm gammas and betas drawn in [0.5, 1.5) so no term
 * vanishes by symmetry), inputs uniform in [-1, 1), one backward, then `samples` values of every
 * parameter against finite differences (tc_gradcheck_graph). Returns the mismatches. */
int tc_graph_xent_grads(db_graph *g, int *labels, const char *what, uint64_t seed, int samples, int *checked);
/* The same under any loss: loss_grad(ctx) runs the forward and writes the outputs' gradients
 * (the backward's start), loss(ctx) the forward and the loss alone (the finite differences; it
 * may be loss_grad) */
int tc_graph_grads(db_graph *g, const char *what, uint64_t seed, int samples, double (*loss_grad)(void *ctx),
                   double (*loss)(void *ctx), void *ctx, int *checked);
/* One op under test: fwd writes out from the inputs; the loss is sum(out * r) */
typedef struct {
    void (*fwd)(void *t);
    float *out, *r;
    size_t nout;
} tc_probe;
double tc_probe_loss(void *ctx);
/* n zeroed floats (at least one) */
float *tc_falloc(size_t n);
/* The pools' workspace for 2 threads, checked to fit (the tests' maps are small) */
float *tc_pool_ws(int k, int s, int oh, int ow);
/* Both gradients of the convolution d on a batch of n (input and weights, 60 values each) against
 * finite differences, under a column buffer capped at cap floats on `threads` threads, and the
 * backward's accumulation */
void tc_conv_gradcheck(const db_conv_dims *d, int n, size_t cap, int threads);
/* A ResNet-8 on side x side single-channel images, `width` channels first, batch n */
void tc_tiny_resnet8(db_graph *g, int side, int width, int n);
#define tc_gradcheck(what, loss, ctx, x, an, n, samples, h, atol, rtol) \
    tc_gradcheck_n(what, loss, ctx, x, an, n, samples, h, atol, rtol, 1, NULL)

#endif
