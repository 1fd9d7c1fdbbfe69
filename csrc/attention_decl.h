/* attention_decl.h -- prototypes of the attention kernels, a template
 * (template.h) instantiated by attention.h (formulas there). Definitions:
 * attention_impl.h. */

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
