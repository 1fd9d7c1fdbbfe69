/* gru_decl.h -- prototypes of the GRU kernels, a template (template.h)
 * instantiated by gru.h. Definitions: gru_impl.h. */

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
