/* lm.h -- the language-model layers around the RNN, float and double:
 * embedding, affine over a sequence, softmax fused with cross-entropy.
 *
 * Shapes (one legend everywhere): N batch, T time steps, D input features,
 * V vocabulary (or output size of the affine layer). Layout batch-first,
 * C-contiguous. Word ids are ptrdiff_t (NumPy's intp). Outputs first, then
 * inputs, then sizes. Backward kernels ADD into parameter gradients (the
 * caller zeroes them). Every output element is summed by one thread in a
 * fixed order, so results do not depend on the number of threads.
 *
 *   embedding:  out[n,t,:] = W[ids[n,t], :]            dW[ids[n,t], :] += dout[n,t,:]
 *               (scatter-add in row-major (n,t) order, repeated ids add up)
 *   affine:     out = x·W + b                          dW += xᵀ·dout, db += Σ dout, dx = dout·Wᵀ
 *   softmax-cross-entropy, rows r = (n,t), labels ts[r] (ignore_label = masked out):
 *               ys[r,:] = softmax(xs[r,:])   (max-subtracted: no overflow)
 *               loss    = Σ_valid (log Σ_j exp(xs[r,j]-m_r) - (xs[r,ts[r]]-m_r)) / count
 *               dxs[r,:] = (ys[r,:] - onehot(ts[r])) · dout / count,  0 for ignored rows
 *   count = number of rows whose label is not ignore_label; with count == 0
 *   the loss is NaN (the mean of nothing) and dxs is zero.
 */
#ifndef RS_DECLS
#ifndef RNNSCRATCH_LM_H
#define RNNSCRATCH_LM_H

#include <stddef.h>
#include "compat.h"

/* Index of the first id outside [0, V) (ids equal to `ignore` are allowed
 * when allow_ignore is nonzero), or -1 when every id is valid. */
ptrdiff_t lm_first_bad_id(const ptrdiff_t *ids, /* (n,) */
                          ptrdiff_t n, ptrdiff_t V, int allow_ignore, ptrdiff_t ignore);

/* the prototypes below, for float and double: template.h includes this
   file again with RS_DECLS defined */
#define RS_DECLS
#define RS_TEMPLATE "lm.h"
#include "template.h"
#undef RS_DECLS

#endif /* RNNSCRATCH_LM_H */

#else /* RS_DECLS: the prototypes, a template (template.h); definitions: lm_impl.h */

void FN(embedding_forward)(
    REAL *out,            /* (N,T,D) out */
    const ptrdiff_t *ids, /* (N,T) every id in [0,V) */
    const REAL *W,        /* (V,D) */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t V, ptrdiff_t D);
void FN(embedding_backward)(
    REAL *dW,             /* (V,D) += */
    const REAL *dout,     /* (N,T,D) */
    const ptrdiff_t *ids, /* (N,T) every id in [0,V) */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t V, ptrdiff_t D);
void FN(time_affine_forward)(
    REAL *out,            /* (N,T,V) out */
    const REAL *x,        /* (N,T,D) */
    const REAL *W,        /* (D,V) */
    const REAL *b,        /* (V,) or NULL */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V);
void FN(time_affine_backward)(
    REAL *dx,             /* (N,T,D) out */
    REAL *dW,             /* (D,V) += */
    REAL *db,             /* (V,) += or NULL */
    const REAL *dout,     /* (N,T,V) */
    const REAL *x,        /* (N,T,D) */
    const REAL *W,        /* (D,V) */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V);
/* The backward of the tied output head, W = Eᵀ with E (V,D) the embedding */
/* matrix: dE += doutᵀ·x (the affine part of the tied gradient, written    */
/* into E's layout), db += column sums of dout, dx = dout·E.               */
void FN(tied_affine_backward)(
    REAL *dx,             /* (N,T,D) out */
    REAL *dE,             /* (V,D) += */
    REAL *db,             /* (V,) += or NULL */
    const REAL *dout,     /* (N,T,V) */
    const REAL *x,        /* (N,T,D) */
    const REAL *E,        /* (V,D) */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V);
/* Returns the mean loss (NaN when every label is ignored); *count gets  */
/* the number of rows that count. Labels in [0,V) or == ignore_label.     */
double FN(softmax_cross_entropy_forward)(
    REAL *ys,             /* (N,T,V) out: the probabilities */
    ptrdiff_t *count,     /* out: rows whose label is not ignore_label */
    const REAL *xs,       /* (N,T,V) logits */
    const ptrdiff_t *ts,  /* (N,T) labels */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t V, ptrdiff_t ignore_label);
void FN(softmax_cross_entropy_backward)(
    REAL *dxs,            /* (N,T,V) out; may be ys itself (in place) */
    const REAL *ys,       /* (N,T,V) the forward probabilities */
    const ptrdiff_t *ts,  /* (N,T) labels */
    double dout,
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t V, ptrdiff_t ignore_label);
/* The output head fused: G = d(mean loss)/d(logits) for dout = 1, where     */
/* logits = x·W + b, computed block of rows by block of rows while the       */
/* logits are in cache; the logits and probabilities never go to memory.     */
/* Bit-identical to time_affine_forward + softmax_cross_entropy_forward +    */
/* softmax_cross_entropy_backward(dout=1). Returns the mean loss.            */
size_t FN(affine_softmax_ce_work_size)(
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V);
double FN(affine_softmax_ce_forward)(
    REAL *G,              /* (N,T,V) out: (softmax - onehot) / count, 0 rows  */
                          /* where the label is ignore_label                  */
    ptrdiff_t *count,     /* out: rows whose label is not ignore_label */
    REAL *work,           /* _work_size() elements, 64-byte aligned */
    const REAL *x,        /* (N,T,D) */
    const REAL *W,        /* (D,V): W[d,v] at W[d*rsw + v*csw] */
    ptrdiff_t rsw, ptrdiff_t csw, /* (V,1) for a C-contiguous W; (1,D) for */
                          /* W = E.T with E (V,D) C-contiguous (weight tying) */
    const REAL *b,        /* (V,) or NULL */
    const ptrdiff_t *ts,  /* (N,T) labels in [0,V) or == ignore_label */
    ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V, ptrdiff_t ignore_label);

#endif /* RS_DECLS */
