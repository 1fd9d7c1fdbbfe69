/* gru.h -- GRU kernels (the book's GRU / TimeGRU), one step and a whole
 * sequence, float and double.
 *
 * Blocks of H columns z, r, h~ in Wx (D,3H), Wh (H,3H), b (3H,):
 *   z  = σ(x·Wxz + h_prev·Whz + bz)
 *   r  = σ(x·Wxr + h_prev·Whr + br)
 *   h~ = tanh(x·Wxh + (r⊙h_prev)·Whh + bh)    (reset gate BEFORE the product)
 *   h_next = (1 - z)⊙h_prev + z⊙h~
 * so each step has two dependent products: h_prev·[Whz|Whr], then
 * (r⊙h_prev)·Whh. Shapes: N batch, T time steps, D input features, H hidden
 * units; batch-first, C-contiguous: xs (N,T,D), hs (N,T,H). Outputs first,
 * then inputs, then sizes.
 *
 * The forward keeps, for every step, the (4H,) row [z | r | h~ | r⊙h_prev] in
 * `cache` (N,T,4H) (one step: (N,4H)): with hs that is all the backward needs.
 * The backward follows the book's expressions in its order of operations:
 *   dt_h = (dh⊙z)⊙(1 - h~²)          dhr = dt_h·Whhᵀ
 *   dt_z = ((dh⊙h~ - dh⊙h_prev)⊙z)⊙(1-z)   dt_r = ((dhr⊙h_prev)⊙r)⊙(1-r)
 *   dh_prev = dh⊙(1-z) + r⊙dhr + [dt_z dt_r]·[Whz|Whr]ᵀ
 *   dx = [dt_z dt_r dt_h]·Wxᵀ    dWx += xᵀ·[dt_z dt_r dt_h]    db += Σ [dt_z dt_r dt_h]
 *   dWh += [h_prevᵀ·dt_z | h_prevᵀ·dt_r | (r⊙h_prev)ᵀ·dt_h]
 * and ADDS into dWx, dWh, db (the caller zeroes them). h0 / h_prev / b / db
 * may be NULL (zero state, no bias, no bias gradient). Any size may be 0.
 * Results do not depend on the number of threads (bit-identical).
 */
#ifndef RS_DECLS
#ifndef RNNSCRATCH_GRU_H
#define RNNSCRATCH_GRU_H

#include <stddef.h>
#include "compat.h"

/* the prototypes below, for float and double: template.h includes this
   file again with RS_DECLS defined */
#define RS_DECLS
#define RS_TEMPLATE "gru.h"
#include "template.h"
#undef RS_DECLS

#endif /* RNNSCRATCH_GRU_H */

#else /* RS_DECLS: the prototypes, a template (template.h); definitions: gru_impl.h */

/* A whole sequence, from h0. */
void FN(time_gru_forward)(
    REAL *hs,        /* (N,T,H) out */
    REAL *cache,     /* (N,T,4H) out: z, r, h~, r⊙h_prev of every step */
    REAL *work,      /* time_gru_forward_work_size() elements, 64-byte aligned */
    const REAL *xs,  /* (N,T,D) */
    const REAL *h0,  /* (N,H) or NULL = zeros */
    const REAL *Wx,  /* (D,3H) */
    const REAL *Wh,  /* (H,3H) */
    const REAL *b,   /* (3H,) or NULL */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);

/* Backpropagation through time over the whole sequence. */
void FN(time_gru_backward)(
    REAL *dxs,          /* (N,T,D) out */
    REAL *dh0,          /* (N,H) out: gradient w.r.t. h0 */
    REAL *dWx,          /* (D,3H) += */
    REAL *dWh,          /* (H,3H) += */
    REAL *db,           /* (3H,) += or NULL */
    REAL *work,         /* time_gru_backward_work_size() elements, 64-byte aligned */
    const REAL *dhs,    /* (N,T,H) upstream gradient of every hs */
    const REAL *xs,     /* (N,T,D) */
    const REAL *h0,     /* (N,H) or NULL = zeros */
    const REAL *hs,     /* (N,T,H) forward output (may be NULL when T <= 1) */
    const REAL *cache,  /* (N,T,4H) forward output */
    const REAL *Wx,     /* (D,3H) */
    const REAL *Wh,     /* (H,3H) */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);

/* One step: the sequence kernels with T = 1. */
void FN(gru_forward)(
    REAL *h_next,        /* (N,H) out */
    REAL *cache,         /* (N,4H) out: z, r, h~, r⊙h_prev */
    REAL *work,          /* gru_forward_work_size() elements, 64-byte aligned */
    const REAL *x,       /* (N,D) */
    const REAL *h_prev,  /* (N,H) or NULL = zeros */
    const REAL *Wx,      /* (D,3H) */
    const REAL *Wh,      /* (H,3H) */
    const REAL *b,       /* (3H,) or NULL */
    ptrdiff_t N, ptrdiff_t D, ptrdiff_t H);

void FN(gru_backward)(
    REAL *dx,            /* (N,D) out */
    REAL *dh_prev,       /* (N,H) out */
    REAL *dWx,           /* (D,3H) += */
    REAL *dWh,           /* (H,3H) += */
    REAL *db,            /* (3H,) += or NULL */
    REAL *work,          /* gru_backward_work_size() elements, 64-byte aligned */
    const REAL *dh_next, /* (N,H) */
    const REAL *x,       /* (N,D) */
    const REAL *h_prev,  /* (N,H) or NULL = zeros */
    const REAL *cache,   /* (N,4H) forward output */
    const REAL *Wx,      /* (D,3H) */
    const REAL *Wh,      /* (H,3H) */
    ptrdiff_t N, ptrdiff_t D, ptrdiff_t H);

/* Workspace, in elements of REAL (-1 when the count overflows):
 *   time_gru_forward:  [Whz|Whr] (H,2H) and Whh (H,H) packed
 *   time_gru_backward: [Whz|Whr]ᵀ and Whhᵀ packed, dA (N,T,3H), h_{t-1} of every
 *                      step (N,T,H), dhr (N,H)
 *   gru_forward / gru_backward: the same with T = 1 */
ptrdiff_t FN(time_gru_forward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);
ptrdiff_t FN(time_gru_backward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H);
ptrdiff_t FN(gru_forward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H);
ptrdiff_t FN(gru_backward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H);

#endif /* RS_DECLS */
