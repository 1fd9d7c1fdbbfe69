/* lstm.h -- LSTM kernels (the book's LSTM / TimeLSTM), one step and a whole
 * sequence, float and double.
 *
 *   A_t = x_t·Wx + h_{t-1}·Wh + b                       (N, 4H)
 *   f = σ(A[:, 0:H])  g = tanh(A[:, H:2H])  i = σ(A[:, 2H:3H])  o = σ(A[:, 3H:4H])
 *   c_t = f⊙c_{t-1} + g⊙i        h_t = o⊙tanh(c_t)
 *
 * Gate blocks of H columns in the book's order f, g, i, o. Shapes (one legend
 * everywhere): N batch, T time steps, D input features, H hidden units. Layout
 * batch-first, C-contiguous: xs (N,T,D), hs and cs (N,T,H), Wx (D,4H),
 * Wh (H,4H), b (4H,). Outputs first, then inputs, then sizes.
 *
 * The forward keeps the gate activations f, g, i, o of every step in `gates`
 * (N,T,4H) (one step: (N,4H)), in that block order: that, cs and hs are what
 * the backward needs (tanh(c_t) is recomputed). The backward follows the
 * book's expressions in its order of operations:
 *   ds = dc + (dh⊙o)⊙(1 - tanh(c)²)   dc_prev = ds⊙f
 *   df = (ds⊙c_prev)⊙(f(1-f))  dg = (ds⊙i)⊙(1-g²)  di = (ds⊙g)⊙(i(1-i))
 *   do = (dh⊙tanh(c))⊙(o(1-o))    dA = [df dg di do]
 *   dh_prev = dA·Whᵀ   dx = dA·Wxᵀ   dWx += xᵀ·dA   dWh += h_prevᵀ·dA   db += Σ dA
 * and ADDS into dWx, dWh, db (the caller zeroes them). h0 / c0 / h_prev /
 * c_prev / dcT / dc_next / b / db may be NULL: zero state, zero upstream
 * gradient of the last cell, no bias, no bias gradient. Any size may be 0.
 * Results do not depend on the number of threads (bit-identical).
 */
#ifndef RS_DECLS
#ifndef RNNSCRATCH_LSTM_H
#define RNNSCRATCH_LSTM_H

#include <stddef.h>
#include "compat.h"

/* the prototypes below, for float and double: template.h includes this
   file again with RS_DECLS defined */
#define RS_DECLS
#define RS_TEMPLATE "lstm.h"
#include "template.h"
#undef RS_DECLS

#endif /* RNNSCRATCH_LSTM_H */

#else /* RS_DECLS: the prototypes, a template (template.h); definitions: lstm_impl.h */

/* A whole sequence, from (h0, c0). */
void FN(time_lstm_forward)(
    REAL *hs,        /* (N,T,H) out */
    REAL *cs,        /* (N,T,H) out: the cell state of every step */
    REAL *gates,     /* (N,T,4H) out: f, g, i, o of every step (for backward) */
    REAL *work,      /* time_lstm_forward_work_size() elements, 64-byte aligned */
    const REAL *xs,  /* (N,T,D) */
    const REAL *h0,  /* (N,H) or NULL = zeros */
    const REAL *c0,  /* (N,H) or NULL = zeros */
    const REAL *Wx,  /* (D,4H) */
    const REAL *Wh,  /* (H,4H) */
    const REAL *b,   /* (4H,) or NULL */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);

/* Backpropagation through time over the whole sequence. */
void FN(time_lstm_backward)(
    REAL *dxs,          /* (N,T,D) out */
    REAL *dh0,          /* (N,H) out: gradient w.r.t. h0 */
    REAL *dc0,          /* (N,H) out: gradient w.r.t. c0 */
    REAL *dWx,          /* (D,4H) += */
    REAL *dWh,          /* (H,4H) += */
    REAL *db,           /* (4H,) += or NULL */
    REAL *work,         /* time_lstm_backward_work_size() elements, 64-byte aligned */
    const REAL *dhs,    /* (N,T,H) upstream gradient of every hs */
    const REAL *dcT,    /* (N,H) upstream gradient of the last cs, or NULL = zeros */
    const REAL *xs,     /* (N,T,D) */
    const REAL *h0,     /* (N,H) or NULL = zeros */
    const REAL *c0,     /* (N,H) or NULL = zeros */
    const REAL *hs,     /* (N,T,H) forward output (may be NULL when T <= 1) */
    const REAL *cs,     /* (N,T,H) forward output */
    const REAL *gates,  /* (N,T,4H) forward output */
    const REAL *Wx,     /* (D,4H) */
    const REAL *Wh,     /* (H,4H) */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);

/* One step: the sequence kernels with T = 1. */
void FN(lstm_forward)(
    REAL *h_next,        /* (N,H) out */
    REAL *c_next,        /* (N,H) out */
    REAL *gates,         /* (N,4H) out: f, g, i, o */
    REAL *work,          /* lstm_forward_work_size() elements, 64-byte aligned */
    const REAL *x,       /* (N,D) */
    const REAL *h_prev,  /* (N,H) or NULL = zeros */
    const REAL *c_prev,  /* (N,H) or NULL = zeros */
    const REAL *Wx,      /* (D,4H) */
    const REAL *Wh,      /* (H,4H) */
    const REAL *b,       /* (4H,) or NULL */
    ptrdiff_t N, ptrdiff_t D, ptrdiff_t H);

void FN(lstm_backward)(
    REAL *dx,            /* (N,D) out */
    REAL *dh_prev,       /* (N,H) out */
    REAL *dc_prev,       /* (N,H) out */
    REAL *dWx,           /* (D,4H) += */
    REAL *dWh,           /* (H,4H) += */
    REAL *db,            /* (4H,) += or NULL */
    REAL *work,          /* lstm_backward_work_size() elements, 64-byte aligned */
    const REAL *dh_next, /* (N,H) */
    const REAL *dc_next, /* (N,H) or NULL = zeros */
    const REAL *x,       /* (N,D) */
    const REAL *h_prev,  /* (N,H) or NULL = zeros */
    const REAL *c_prev,  /* (N,H) or NULL = zeros */
    const REAL *c_next,  /* (N,H) forward output */
    const REAL *gates,   /* (N,4H) forward output */
    const REAL *Wx,      /* (D,4H) */
    const REAL *Wh,      /* (H,4H) */
    ptrdiff_t N, ptrdiff_t D, ptrdiff_t H);

/* Workspace, in elements of REAL (-1 when the count overflows):
 *   time_lstm_forward:  Wh packed for the per-step product (whole, or in
 *                       blocks of hidden units for the column split)
 *   time_lstm_backward: Whᵀ packed, dA (N,T,4H), h_{t-1} of every step (N,T,H)
 *   lstm_forward / lstm_backward: the same with T = 1 */
ptrdiff_t FN(time_lstm_forward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);
ptrdiff_t FN(time_lstm_backward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);
ptrdiff_t FN(lstm_forward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H);
ptrdiff_t FN(lstm_backward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H);

/* How time_lstm_forward / _backward would split the recurrence now: the
   number of column tasks (hidden units), or 0 for blocks of rows */
int FN(time_lstm_column_tasks)(ptrdiff_t N, ptrdiff_t H);

#endif /* RS_DECLS */
