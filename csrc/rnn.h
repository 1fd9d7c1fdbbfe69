/* rnn.h -- vanilla RNN kernels, one step and a whole sequence, float and double.
 *
 *   a_t = x_t·Wx + h_{t-1}·Wh + b        h_t = f(a_t),  f = tanh | relu | sigmoid
 *
 * Shapes (one legend everywhere): N batch, T time steps, D input features,
 * H hidden units. Layout batch-first, C-contiguous: xs (N,T,D), hs (N,T,H),
 * Wx (D,H), Wh (H,H), b (H,). Outputs first, then inputs, then sizes.
 * Backward takes f' from the stored output (tanh: 1-h², sigmoid: h(1-h),
 * relu: h>0) and ADDS into dWx, dWh, db (the caller zeroes them), so sums over
 * time steps and over calls come naturally. b / db / h0 may be NULL (no bias,
 * zero initial state). Any size may be 0.
 */
#ifndef RS_DECLS
#ifndef RNNSCRATCH_RNN_H
#define RNNSCRATCH_RNN_H

#include <stddef.h>
#include "act.h"

/* the prototypes below, for float and double: template.h includes this
   file again with RS_DECLS defined */
#define RS_DECLS
#define RS_TEMPLATE "rnn.h"
#include "template.h"
#undef RS_DECLS

/* a*b for sizes, or -1 when either is negative or the product overflows */
ptrdiff_t rs_mul_size(ptrdiff_t a, ptrdiff_t b);

#endif /* RNNSCRATCH_RNN_H */

#else /* RS_DECLS: the prototypes, a template (template.h); definitions: rnn_impl.h */

/* One step: h_next = f(x·Wx + h_prev·Wh + b). */
void FN(rnn_forward)(
    REAL *h_next,       /* (N,H) out */
    const REAL *x,      /* (N,D) */
    const REAL *h_prev, /* (N,H) or NULL = zeros */
    const REAL *Wx,     /* (D,H) */
    const REAL *Wh,     /* (H,H) */
    const REAL *b,      /* (H,) or NULL */
    ptrdiff_t N, ptrdiff_t D, ptrdiff_t H, int act);

/* Its backward: dx and dh_prev are written, dWx/dWh/db accumulated. */
void FN(rnn_backward)(
    REAL *dx,            /* (N,D) out */
    REAL *dh_prev,       /* (N,H) out */
    REAL *dWx,           /* (D,H) += */
    REAL *dWh,           /* (H,H) += */
    REAL *db,            /* (H,) += or NULL */
    REAL *work,          /* rnn_backward_work_size() elements */
    const REAL *dh_next, /* (N,H) */
    const REAL *x,       /* (N,D) */
    const REAL *h_prev,  /* (N,H) or NULL = zeros */
    const REAL *h_next,  /* (N,H) the forward output */
    const REAL *Wx,      /* (D,H) */
    const REAL *Wh,      /* (H,H) */
    ptrdiff_t N, ptrdiff_t D, ptrdiff_t H, int act);

/* A whole sequence: hs[:,t] = f(xs[:,t]·Wx + hs[:,t-1]·Wh + b), hs[:,-1] = h0. */
void FN(time_rnn_forward)(
    REAL *hs,        /* (N,T,H) out */
    REAL *work,      /* time_rnn_forward_work_size() elements, 64-byte aligned */
    const REAL *xs,  /* (N,T,D) */
    const REAL *h0,  /* (N,H) or NULL = zeros */
    const REAL *Wx,  /* (D,H) */
    const REAL *Wh,  /* (H,H) */
    const REAL *b,   /* (H,) or NULL */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H, int act);

/* Backpropagation through time over the whole sequence. */
void FN(time_rnn_backward)(
    REAL *dxs,       /* (N,T,D) out */
    REAL *dh0,       /* (N,H) out: gradient w.r.t. the initial state */
    REAL *dWx,       /* (D,H) += */
    REAL *dWh,       /* (H,H) += */
    REAL *db,        /* (H,) += or NULL */
    REAL *work,      /* time_rnn_backward_work_size() elements, 64-byte aligned */
    const REAL *dhs, /* (N,T,H) upstream gradient of every hs */
    const REAL *xs,  /* (N,T,D) */
    const REAL *h0,  /* (N,H) or NULL = zeros */
    const REAL *hs,  /* (N,T,H) the forward output */
    const REAL *Wx,  /* (D,H) */
    const REAL *Wh,  /* (H,H) */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H, int act);

/* Workspace, in elements of REAL, the kernels need (-1 when the count overflows):
 *   time_rnn_forward:  Wh packed for the per-step product
 *   time_rnn_backward: Whᵀ packed, and two (N,T,H) buffers (dA of every step,
 *                      h_{t-1} of every step)
 *   rnn_backward:      (N,H) for dA */
ptrdiff_t FN(time_rnn_forward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);
ptrdiff_t FN(time_rnn_backward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);
ptrdiff_t FN(rnn_backward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H);

#endif /* RS_DECLS */
