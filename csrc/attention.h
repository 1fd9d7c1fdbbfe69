/* attention.h -- the attention of chapter 8 (seq2seq with attention), float
 * and double: a decoder attends to the encoder's hidden states.
 *
 * Shapes: N batch, S encoder (source) steps, T decoder steps, H hidden units.
 * Layout batch-first, C-contiguous: hs_enc (N,S,H), hs_dec (N,T,H),
 * a (N,T,S), c (N,T,H). For every batch row n and decoder step t:
 *
 *   attention weight:  s[n,t,i] = Σ_h hs_enc[n,i,h] · hs_dec[n,t,h]
 *                      a[n,t,:] = softmax over i of s[n,t,:]   (max-subtracted)
 *   weight sum:        c[n,t,:] = Σ_i a[n,t,i] · hs_enc[n,i,:]
 *
 * Backward, the book's per-step arithmetic summed over t (its TimeAttention
 * adds the encoder gradient of every step):
 *
 *   weight sum:        da[n,t,i]      = Σ_h dc[n,t,h] · hs_enc[n,i,h]
 *                      dhs_enc[n,i,:] = Σ_t a[n,t,i] · dc[n,t,:]
 *   attention weight:  ds[n,t,i]      = a·da - a · Σ_i' a·da      (softmax backward)
 *                      dhs_enc[n,i,:] = Σ_t ds[n,t,i] · hs_dec[n,t,:]
 *                      dhs_dec[n,t,:] = Σ_i ds[n,t,i] · hs_enc[n,i,:]
 *   time attention:    both, dhs_enc the sum of the two.
 *
 * Outputs first, then the workspace, then inputs, then sizes. Every output is
 * written (not accumulated). Each batch row is computed by one thread (its
 * products: (T,H)·(H,S) as row-by-row dots, the others with the package gemm),
 * rows split over the thread pool: results do not depend on the thread count.
 * They do depend on the SIMD path (fused multiply-adds on AVX2/AVX-512, as in
 * the gemm). The softmax rows use act.h's fixed-order row helpers. Any size may be 0 (S = 0:
 * a and c are empty / zero; H = 0: a is uniform, 1/S).
 */
#ifndef RS_DECLS
#ifndef RNNSCRATCH_ATTENTION_H
#define RNNSCRATCH_ATTENTION_H

#include <stddef.h>

/* the prototypes below, for float and double: template.h includes this
   file again with RS_DECLS defined */
#define RS_DECLS
#define RS_TEMPLATE "attention.h"
#include "template.h"
#undef RS_DECLS

#endif /* RNNSCRATCH_ATTENTION_H */

#else /* RS_DECLS: the prototypes, a template (template.h); definitions: attention_impl.h */

/* a = softmax_i(hs_enc · hs_decᵀ), one row per decoder step. */
void FN(attention_weight_forward)(
    REAL *a,              /* (N,T,S) out */
    const REAL *hs_enc,   /* (N,S,H) */
    const REAL *hs_dec,   /* (N,T,H) */
    ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H);

/* c = a · hs_enc, per batch row. */
void FN(weight_sum_forward)(
    REAL *c,              /* (N,T,H) out */
    const REAL *hs_enc,   /* (N,S,H) */
    const REAL *a,        /* (N,T,S) */
    ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H);

/* Both: the same numbers as attention_weight_forward then weight_sum_forward. */
void FN(time_attention_forward)(
    REAL *c,              /* (N,T,H) out */
    REAL *a,              /* (N,T,S) out */
    const REAL *hs_enc,   /* (N,S,H) */
    const REAL *hs_dec,   /* (N,T,H) */
    ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H);

/* Backward of the weight sum. */
void FN(weight_sum_backward)(
    REAL *dhs_enc,        /* (N,S,H) out */
    REAL *da,             /* (N,T,S) out */
    const REAL *dc,       /* (N,T,H) */
    const REAL *hs_enc,   /* (N,S,H) */
    const REAL *a,        /* (N,T,S) */
    ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H);

/* Backward of the attention weight (softmax included), a its forward output. */
void FN(attention_weight_backward)(
    REAL *dhs_enc,        /* (N,S,H) out */
    REAL *dhs_dec,        /* (N,T,H) out */
    REAL *work,           /* time_attention_backward_work_size() elements */
    const REAL *da,       /* (N,T,S) */
    const REAL *hs_enc,   /* (N,S,H) */
    const REAL *hs_dec,   /* (N,T,H) */
    const REAL *a,        /* (N,T,S) */
    ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H);

/* Backward of both: dhs_enc = the weight sum's + the attention weight's
   (one product accumulated onto the other). */
void FN(time_attention_backward)(
    REAL *dhs_enc,        /* (N,S,H) out */
    REAL *dhs_dec,        /* (N,T,H) out */
    REAL *work,           /* time_attention_backward_work_size() elements */
    const REAL *dc,       /* (N,T,H) */
    const REAL *hs_enc,   /* (N,S,H) */
    const REAL *hs_dec,   /* (N,T,H) */
    const REAL *a,        /* (N,T,S) the forward weights */
    ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H);

/* Workspace of the two backward kernels, in elements of REAL: one (N,T,S)
   buffer (da, then ds, of every row); -1 when the count overflows. */
ptrdiff_t FN(time_attention_backward_work_size)(ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H);

#endif /* RS_DECLS */
