/* rnn_impl.h -- the RNN kernels for one REAL; included by rnn.c once for
 * float and once for double. Requires REAL and RS_SUFFIX.
 *
 * Forward of a sequence (hoisted, as oneDNN does):
 *   A  = X·Wx                 one (N*T, D)·(D,H) product for all steps
 *   for t: A_t += h_{t-1}·Wh  the only recurrent product
 *          h_t  = f(A_t + b)  in place, row by row while hot
 * Backward:
 *   for t = T-1..0:  dA_t = (dhs_t + G) * f'(h_t);   G = dA_t·Whᵀ
 *   dh0 = G;  dWx += Xᵀ·dA;  dWh += Hprevᵀ·dA;  db += Σ dA;  dXs = dA·Wxᵀ
 * with dA and Hprev (h_{t-1} of every step) as the two (N,T,H) work buffers.
 */
#define FN(name) RS_CAT(name, RS_SUFFIX)

/* rows (R,H) at stride ld:  y = f(y + b) */
static void FN(act_rows)(REAL *y, ptrdiff_t R, ptrdiff_t ld, const REAL *b,
                         ptrdiff_t H, int act)
{
    for (ptrdiff_t r = 0; r < R; r++) {
        REAL *RS_RESTRICT row = y + r * ld; /* (H,) */
        if (b)
            for (ptrdiff_t j = 0; j < H; j++) row[j] += b[j];
        switch (act) {
        case RS_ACT_RELU: FN(rs_relu)(row, row, H); break;
        case RS_ACT_SIGMOID: FN(rs_sigmoid)(row, row, H); break;
        default: FN(rs_tanh)(row, row, H); break;
        }
    }
}

/* rows (R,H):  dA = (dh + g) * f'(h), f' taken from the output h.
 * dh, h, dA at row stride ld; g (R,H) contiguous or NULL. */
static void FN(dact_rows)(REAL *dA, const REAL *dh, const REAL *g, const REAL *h,
                          ptrdiff_t R, ptrdiff_t ld, ptrdiff_t H, int act)
{
    for (ptrdiff_t r = 0; r < R; r++) {
        REAL *RS_RESTRICT da = dA + r * ld;           /* (H,) */
        const REAL *RS_RESTRICT d = dh + r * ld;      /* (H,) */
        const REAL *RS_RESTRICT hh = h + r * ld;      /* (H,) */
        const REAL *RS_RESTRICT gg = g ? g + r * H : NULL;
        for (ptrdiff_t j = 0; j < H; j++) {
            REAL up = gg ? d[j] + gg[j] : d[j];
            REAL fp;
            switch (act) {
            case RS_ACT_RELU: fp = hh[j] > 0 ? (REAL)1 : (REAL)0; break;
            case RS_ACT_SIGMOID: fp = hh[j] * ((REAL)1 - hh[j]); break;
            default: fp = (REAL)1 - hh[j] * hh[j]; break;
            }
            da[j] = up * fp;
        }
    }
}

/* db (H,) += column sums of dA (R,H) contiguous, rows in order */
static void FN(colsum_add)(REAL *db, const REAL *dA, ptrdiff_t R, ptrdiff_t H)
{
    for (ptrdiff_t r = 0; r < R; r++) {
        const REAL *RS_RESTRICT row = dA + r * H;
        for (ptrdiff_t j = 0; j < H; j++) db[j] += row[j];
    }
}

void FN(rnn_forward)(REAL *h_next, const REAL *x, const REAL *h_prev,
                     const REAL *Wx, const REAL *Wh, const REAL *b,
                     ptrdiff_t N, ptrdiff_t D, ptrdiff_t H, int act)
{
    /* h_next (N,H) = x (N,D) · Wx (D,H) */
    FN(rs_gemm)(N, H, D, x, D, 1, Wx, H, 1, h_next, H, 0);
    /* h_next += h_prev (N,H) · Wh (H,H) */
    if (h_prev)
        FN(rs_gemm)(N, H, H, h_prev, H, 1, Wh, H, 1, h_next, H, 1);
    FN(act_rows)(h_next, N, H, b, H, act);
}

void FN(rnn_backward)(REAL *dx, REAL *dh_prev, REAL *dWx, REAL *dWh, REAL *db,
                      REAL *work, const REAL *dh_next, const REAL *x,
                      const REAL *h_prev, const REAL *h_next, const REAL *Wx,
                      const REAL *Wh, ptrdiff_t N, ptrdiff_t D, ptrdiff_t H, int act)
{
    REAL *dA = work; /* (N,H) */
    FN(dact_rows)(dA, dh_next, NULL, h_next, N, H, H, act);
    /* dWx (D,H) += xᵀ (D,N) · dA (N,H) */
    FN(rs_gemm)(D, H, N, x, 1, D, dA, H, 1, dWx, H, 1);
    /* dWh (H,H) += h_prevᵀ (H,N) · dA (N,H) */
    if (h_prev)
        FN(rs_gemm)(H, H, N, h_prev, 1, H, dA, H, 1, dWh, H, 1);
    if (db)
        FN(colsum_add)(db, dA, N, H);
    /* dx (N,D) = dA (N,H) · Wxᵀ (H,D) */
    FN(rs_gemm)(N, D, H, dA, H, 1, Wx, 1, H, dx, D, 0);
    /* dh_prev (N,H) = dA (N,H) · Whᵀ (H,H) */
    FN(rs_gemm)(N, H, H, dA, H, 1, Wh, 1, H, dh_prev, H, 0);
}

void FN(time_rnn_forward)(REAL *hs, const REAL *xs, const REAL *h0,
                          const REAL *Wx, const REAL *Wh, const REAL *b,
                          ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H, int act)
{
    const ptrdiff_t ld = T * H; /* row stride of one time step's (N,H) slice of hs */
    /* hs viewed as (N*T, H) = xs (N*T, D) · Wx (D,H), every step at once */
    FN(rs_gemm)(N * T, H, D, xs, D, 1, Wx, H, 1, hs, H, 0);
    for (ptrdiff_t t = 0; t < T; t++) {
        REAL *a_t = hs + t * H;                             /* (N,H) at stride ld */
        const REAL *h_prev = t ? hs + (t - 1) * H : h0;     /* (N,H) */
        const ptrdiff_t ld_prev = t ? ld : H;
        if (h_prev)
            FN(rs_gemm)(N, H, H, h_prev, ld_prev, 1, Wh, H, 1, a_t, ld, 1);
        FN(act_rows)(a_t, N, ld, b, H, act);
    }
}

void FN(time_rnn_backward)(REAL *dxs, REAL *dh0, REAL *dWx, REAL *dWh, REAL *db,
                           REAL *work, const REAL *dhs, const REAL *xs,
                           const REAL *h0, const REAL *hs, const REAL *Wx,
                           const REAL *Wh, ptrdiff_t N, ptrdiff_t T, ptrdiff_t D,
                           ptrdiff_t H, int act)
{
    const ptrdiff_t ld = T * H;
    REAL *dA = work;                 /* (N,T,H) */
    REAL *Hprev = work + N * T * H;  /* (N,T,H): Hprev[:,t] = h_{t-1}, Hprev[:,0] = h0 */
    REAL *G = dh0;                   /* (N,H): gradient flowing into h_{t-1} */

    for (ptrdiff_t i = 0; i < N * H; i++) G[i] = 0;
    for (ptrdiff_t t = T - 1; t >= 0; t--) {
        /* dA_t = (dhs_t + G) * f'(h_t) */
        FN(dact_rows)(dA + t * H, dhs + t * H, G, hs + t * H, N, ld, H, act);
        /* G (N,H) = dA_t (N,H) · Whᵀ (H,H) */
        FN(rs_gemm)(N, H, H, dA + t * H, ld, 1, Wh, 1, H, G, H, 0);
    }
    /* dh0 is G */

    for (ptrdiff_t n = 0; n < N; n++) {
        REAL *dst = Hprev + n * ld;
        if (T == 0) break;
        for (ptrdiff_t j = 0; j < H; j++) dst[j] = h0 ? h0[n * H + j] : 0;
        const REAL *src = hs + n * ld;
        for (ptrdiff_t j = 0; j < (T - 1) * H; j++) dst[H + j] = src[j];
    }
    /* dWx (D,H) += Xᵀ (D, N*T) · dA (N*T, H) */
    FN(rs_gemm)(D, H, N * T, xs, 1, D, dA, H, 1, dWx, H, 1);
    /* dWh (H,H) += Hprevᵀ (H, N*T) · dA (N*T, H) */
    FN(rs_gemm)(H, H, N * T, Hprev, 1, H, dA, H, 1, dWh, H, 1);
    if (db)
        FN(colsum_add)(db, dA, N * T, H);
    /* dxs (N*T, D) = dA (N*T, H) · Wxᵀ (H, D) */
    FN(rs_gemm)(N * T, D, H, dA, H, 1, Wx, 1, H, dxs, D, 0);
}

#undef FN
