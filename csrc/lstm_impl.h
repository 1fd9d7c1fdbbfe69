/* lstm_impl.h -- the LSTM kernels for one REAL; included by lstm.c once for
 * float and once for double. A template (template.h).
 *
 * Forward of a sequence (hoisted, as the RNN's):
 *   gates = X·Wx                    one (N*T, D)·(D,4H) product for all steps
 *   for t: gates_t += h_{t-1}·Wh    the only recurrent product, Wh packed once
 *          epilogue, rows still in cache: f,g,i,o = act(gates_t + b),
 *          c_t = f⊙c_{t-1} + g⊙i, h_t = o⊙tanh(c_t)
 * Backward:
 *   dA_{T-1} from dhs_{T-1} and dcT (epilogue code, no product)
 *   for t = T-2..0:  G = dA_{t+1}·Whᵀ;  dA_t from dhs_t + G and the running dc
 *                    (in the product's epilogue)
 *   dh0 = dA_0·Whᵀ;  [dWx; dWh] += [X | Hprev]ᵀ·dA (one product);  db += Σ dA;
 *   dXs = dA·Wxᵀ
 * The recurrence runs as up to rs_get_num_threads() tasks over blocks of batch
 * rows, each through all T steps (one fork/join per sequence); gemm sums every
 * element in a fixed order, so the split never changes a bit.
 * The elementwise arithmetic is written in the book's order, unfused (the
 * build does not contract a*b+c), so it rounds as the NumPy expressions do.
 */
#define GATED_PFX lstm
#include "seq_util.h"

#if RS_TU_BASE
ptrdiff_t FN(time_lstm_forward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    (void)N; (void)T; (void)D;
    ptrdiff_t G = rs_mul_size(4, H);
    if (G < 0 || rs_mul_size(H, G) < 0) return -1;
    ptrdiff_t rows = SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(H, G)); /* packed Wh */
    ptrdiff_t cols = SU(col_pack_size)(H, H, 4);    /* or each task's four (H, w) blocks */
    return cols < 0 ? -1 : rows > cols ? rows : cols;
}

/* elements of Whᵀ (4H,H) packed, rounded up to 64 bytes */
static ptrdiff_t FN(lstm_packT_size)(ptrdiff_t H)
{
    ptrdiff_t rows = SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(4 * H, H));
    ptrdiff_t cols = SU(col_pack_size)(4 * H, H, 1); /* or each task's (4H, w) block */
    return cols < 0 ? -1 : rows > cols ? rows : SU(round16)(cols);
}

ptrdiff_t FN(time_lstm_backward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    if (FN(time_lstm_forward_work_size)(N, T, D, H) < 0) return -1;
    ptrdiff_t packed = FN(lstm_packT_size)(H);                      /* packed Whᵀ */
    ptrdiff_t nth = rs_mul_size(N, rs_mul_size(T, H));
    ptrdiff_t dA = rs_mul_size(nth, 4);
    ptrdiff_t xh = rs_mul_size(rs_mul_size(N, T), SU(add_size)(D, H));  /* [X | Hprev] */
    ptrdiff_t dw = rs_mul_size(SU(add_size)(D, H), rs_mul_size(4, H));  /* [dWx; dWh] */
    return SU(add_size)(SU(add_size)(packed, SU(round16)(dA)),
                        SU(add_size)(SU(round16)(xh), dw));
}

ptrdiff_t FN(lstm_forward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    return FN(time_lstm_forward_work_size)(N, 1, D, H);
}

ptrdiff_t FN(lstm_backward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    return FN(time_lstm_backward_work_size)(N, 1, D, H);
}

int FN(time_lstm_column_tasks)(ptrdiff_t N, ptrdiff_t H)
{
    return SU(column_tasks)(N, H, 4 * H);
}

#endif /* RS_TU_BASE */

/* c = f⊙c_prev + g⊙i (c_prev NULL: g⊙i, which f⊙0 + g⊙i is), h = o⊙h, over n
   units whose four gates lie S apart in a (S == H for a whole row) */
SU_INLINE void FN(lstm_fwd_loop)(REAL *RS_RESTRICT c,        /* (n,) out */
                                 REAL *RS_RESTRICT h,        /* (n,) in: tanh(c); out: h */
                                 const REAL *RS_RESTRICT a,  /* f, g, i, o at 0, S, 2S, 3S */
                                 const REAL *RS_RESTRICT cp, /* (n,) or NULL */
                                 ptrdiff_t n, ptrdiff_t S, int stage)
{
    const REAL *RS_RESTRICT f = a, *RS_RESTRICT g = a + S, *RS_RESTRICT ig = a + 2 * S;
    const REAL *RS_RESTRICT o = a + 3 * S;
    if (stage == 0 && cp)
        for (ptrdiff_t j = 0; j < n; j++) c[j] = f[j] * cp[j] + g[j] * ig[j];
    else if (stage == 0)
        for (ptrdiff_t j = 0; j < n; j++) c[j] = g[j] * ig[j];
    else
        for (ptrdiff_t j = 0; j < n; j++) h[j] = o[j] * h[j];
}
SU_PATHED(FN(lstm_fwd_loops),  FN(lstm_fwd_loop),
          (REAL *c, REAL *h, const REAL *a, const REAL *cp, ptrdiff_t n, ptrdiff_t S, int stage),
          (c, h, a, cp, n, S, stage))

#if RS_TU_BASE
/* One row of the forward cell, for n hidden units whose four gates lie S apart
 * (a whole row: n == S == H; a column task's units: n of them, S == H).
 *   a:  f, g, i, o at a, a+S, a+2S, a+3S, n each; in: pre-activations without
 *       bias; out: the activated gates
 *   c:  (n,) out    h: (n,) out    cp: (n,) c_{t-1} or NULL
 *   b:  the bias at the same offsets as a, or NULL */
static void FN(lstm_cell_row)(REAL *a, REAL *c, REAL *h, const REAL *cp, const REAL *b,
                              ptrdiff_t n, ptrdiff_t S)
{
    FN(rs_act_bias_row)(a, b, n, RS_ACT_SIGMOID);                             /* f */
    FN(rs_act_bias_row)(a + S, b ? b + S : NULL, n, RS_ACT_TANH);            /* g */
    if (n == S) {
        FN(rs_act_bias_row)(a + 2 * S, b ? b + 2 * S : NULL, 2 * n, RS_ACT_SIGMOID); /* i, o */
    } else {
        FN(rs_act_bias_row)(a + 2 * S, b ? b + 2 * S : NULL, n, RS_ACT_SIGMOID);     /* i */
        FN(rs_act_bias_row)(a + 3 * S, b ? b + 3 * S : NULL, n, RS_ACT_SIGMOID);     /* o */
    }
    FN(lstm_fwd_loops)(c, h, a, cp, n, S, 0);
    FN(rs_tanh)(h, c, n);
    FN(lstm_fwd_loops)(c, h, a, cp, n, S, 1);
}

#endif /* RS_TU_BASE */

/* The backward cell's arithmetic, in the book's order, over n units whose four
   gates lie S apart in da and a; da[3S..3S+n) holds tanh(c) on entry. G or cp
   NULL: zeros. */
SU_INLINE void FN(lstm_back_loop1)(REAL *RS_RESTRICT da, REAL *RS_RESTRICT dc,
                                   const REAL *RS_RESTRICT dh, const REAL *RS_RESTRICT G,
                                   const REAL *RS_RESTRICT a, const REAL *RS_RESTRICT cp,
                                   ptrdiff_t n, ptrdiff_t S)
{
    REAL *RS_RESTRICT df = da, *RS_RESTRICT dg = da + S, *RS_RESTRICT di = da + 2 * S;
    REAL *RS_RESTRICT do_ = da + 3 * S;
    const REAL *RS_RESTRICT f = a, *RS_RESTRICT g = a + S, *RS_RESTRICT ig = a + 2 * S;
    const REAL *RS_RESTRICT o = a + 3 * S;
    for (ptrdiff_t j = 0; j < n; j++) {
        const REAL dhj = G ? dh[j] + G[j] : dh[j];
        const REAL tc = do_[j];
        const REAL ds = dc[j] + (dhj * o[j]) * ((REAL)1 - tc * tc);
        const REAL cpj = cp ? cp[j] : (REAL)0;
        dc[j] = ds * f[j];
        di[j] = (ds * g[j]) * (ig[j] * ((REAL)1 - ig[j]));
        df[j] = (ds * cpj) * (f[j] * ((REAL)1 - f[j]));
        do_[j] = (dhj * tc) * (o[j] * ((REAL)1 - o[j]));
        dg[j] = (ds * ig[j]) * ((REAL)1 - g[j] * g[j]);
    }
}

/* the loop specialized for G and cp present or not */
SU_INLINE void FN(lstm_back_loop)(REAL *da, REAL *dc, const REAL *dh, const REAL *G,
                                  const REAL *a, const REAL *cp, ptrdiff_t n, ptrdiff_t S)
{
    if (G && cp) FN(lstm_back_loop1)(da, dc, dh, G, a, cp, n, S);
    else if (G) FN(lstm_back_loop1)(da, dc, dh, G, a, NULL, n, S);
    else if (cp) FN(lstm_back_loop1)(da, dc, dh, NULL, a, cp, n, S);
    else FN(lstm_back_loop1)(da, dc, dh, NULL, a, NULL, n, S);
}
SU_PATHED(FN(lstm_back_loops), FN(lstm_back_loop),
          (REAL *da, REAL *dc, const REAL *dh, const REAL *G, const REAL *a, const REAL *cp,
           ptrdiff_t n, ptrdiff_t S),
          (da, dc, dh, G, a, cp, n, S))

#if RS_TU_BASE /* the kernels; a SIMD path's TU has only its loops (compat.h) */
/* One row of the backward cell, for n units whose gates lie S apart (as the
 * forward's).
 *   da: df, dg, di, do at da, da+S, da+2S, da+3S (out)
 *   dc: (n,) in: dc_t; out: dc_{t-1}       dh: (n,) upstream dhs_t
 *   G:  (n,) gradient from step t+1, or NULL
 *   a:  f, g, i, o at the offsets of da    c:  (n,) c_t    cp: (n,) c_{t-1} or NULL */
static void FN(lstm_cell_back_row)(REAL *da, REAL *dc, const REAL *dh, const REAL *G,
                                   const REAL *a, const REAL *c, const REAL *cp,
                                   ptrdiff_t n, ptrdiff_t S)
{
    FN(rs_tanh)(da + 3 * S, c, n); /* tanh(c), in the do slot until the loop */
    FN(lstm_back_loops)(da, dc, dh, G, a, cp, n, S);
}

/* ---- forward ---- */

/* Epilogue: rows [i0,i1) of step t's gate pre-activations are final. */
typedef struct {
    REAL *a;          /* (R,4H) at stride lda: step t's gates */
    REAL *c, *h;      /* (R,H) at stride ldh: step t's cs, hs */
    const REAL *cp;   /* (R,H) at stride ldp: c_{t-1}, or NULL */
    const REAL *b;    /* (4H,) or NULL */
    ptrdiff_t lda, ldh, ldp, H;
} FN(lstm_fwd_epi_t);

static void FN(lstm_fwd_epi)(void *p, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(lstm_fwd_epi_t) *e = p;
    for (ptrdiff_t i = i0; i < i1; i++)
        FN(lstm_cell_row)(e->a + i * e->lda, e->c + i * e->ldh, e->h + i * e->ldh,
                          e->cp ? e->cp + i * e->ldp : NULL, e->b, e->H, e->H);
}

typedef struct {
    REAL *hs, *cs, *gates;         /* (N,T,H), (N,T,H), (N,T,4H) */
    const REAL *h0, *c0;           /* (N,H) or NULL */
    const REAL *Whp;               /* Wh packed */
    const REAL *b;                 /* (4H,) or NULL */
    ptrdiff_t N, T, H;
} FN(lstm_fwd_job_t);

static void FN(lstm_fwd_task)(void *p, int task, int ntasks)
{
    const FN(lstm_fwd_job_t) *J = p;
    const ptrdiff_t T = J->T, H = J->H, G = 4 * H, ldh = T * H, lda = T * G;
    ptrdiff_t r0, r1;
    SU(row_block)(J->N, task, ntasks, &r0, &r1);
    const ptrdiff_t R = r1 - r0;
    REAL *hs = J->hs + r0 * ldh, *cs = J->cs + r0 * ldh, *gates = J->gates + r0 * lda;
    for (ptrdiff_t t = 0; t < T; t++) {
        FN(lstm_fwd_epi_t) e = {gates + t * G, cs + t * H, hs + t * H,
                                t ? cs + (t - 1) * H : (J->c0 ? J->c0 + r0 * H : NULL),
                                J->b, lda, ldh, t ? ldh : H, H};
        const REAL *hp = t ? hs + (t - 1) * H : (J->h0 ? J->h0 + r0 * H : NULL);
        if (hp)
            /* gates_t (R,4H) += h_{t-1} (R,H) · Wh (H,4H); then the cell */
            FN(rs_gemm_packed)(R, G, H, hp, t ? ldh : H, 1, J->Whp, e.a, lda, 1,
                               FN(lstm_fwd_epi), &e);
        else
            FN(lstm_fwd_epi)(&e, 0, R);
    }
}

/* The column split (seq_util.h): task k owns units [u0,u1) of every row: its
   four packed (H, w) blocks of Wh's f, g, i, o columns, and the cell there. */
typedef struct {
    REAL *hs, *cs, *gates;         /* (N,T,H), (N,T,H), (N,T,4H) */
    const REAL *h0, *c0, *b;       /* (N,H), (N,H), (4H,), each or NULL */
    const REAL *Wh;                /* (H,4H) */
    REAL *Bp;                      /* the tasks' blocks (SU(col_task)) */
    ptrdiff_t N, T, H, t;          /* t: the step this fork/join runs */
} FN(lstm_fwd_col_job_t);

static void FN(lstm_fwd_col_task)(void *p, int task, int ntasks)
{
    const FN(lstm_fwd_col_job_t) *J = p;
    const ptrdiff_t N = J->N, T = J->T, H = J->H, G = 4 * H, t = J->t;
    const ptrdiff_t ldh = T * H, lda = T * G;
    ptrdiff_t u0, w, bs;
    REAL *Bp = SU(col_task)(J->Bp, H, H, task, ntasks, 4, &u0, &w, &bs);
    if (t == 0)
        for (int g = 0; g < 4; g++) /* block g: Wh[:, g*H+u0 .. g*H+u0+w) */
            FN(rs_gemm_pack_b)(Bp + g * bs, H, w, J->Wh + g * H + u0, G, 1);
    REAL *a = J->gates + t * G, *c = J->cs + t * H, *h = J->hs + t * H;
    const REAL *hp = t ? J->hs + (t - 1) * H : J->h0;
    const REAL *cp = t ? J->cs + (t - 1) * H : J->c0;
    const ptrdiff_t ldp = t ? ldh : H;
    if (hp)
        /* gates_t[:, g*H+u0 ..] (N,w) += h_{t-1} (N,H) · block g (H,w), g = f, g, i, o */
        for (int g = 0; g < 4; g++)
            FN(rs_gemm_packed)(N, w, H, hp, ldp, 1, Bp + g * bs, a + g * H + u0, lda, 1,
                               NULL, NULL);
    for (ptrdiff_t i = 0; i < N; i++)
        FN(lstm_cell_row)(a + i * lda + u0, c + i * ldh + u0, h + i * ldh + u0,
                          cp ? cp + i * ldp + u0 : NULL, J->b ? J->b + u0 : NULL, w, H);
}

void FN(time_lstm_forward)(REAL *hs, REAL *cs, REAL *gates, REAL *work, const REAL *xs,
                           const REAL *h0, const REAL *c0, const REAL *Wx, const REAL *Wh,
                           const REAL *b, ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    const ptrdiff_t G = 4 * H;
    REAL *Whp = work; /* Wh (H,4H) packed once for all T steps, or the column blocks */
    if (N == 0 || T == 0 || H == 0) return; /* every output is empty */
    /* gates viewed as (N*T, 4H) = xs (N*T, D) · Wx (D,4H), every step at once */
    FN(rs_gemm)(N * T, G, D, xs, D, 1, Wx, G, 1, gates, G, 0);
    const int ct = SU(column_tasks)(N, H, G);
    if (!ct) FN(rs_gemm_pack_b)(Whp, H, G, Wh, G, 1);
    if (!h0) SU(zero_state_nonfinite)(gates, N, T * G, Wh, H, G);
    if (ct) { /* one fork/join per step; step 0 packs each task's blocks */
        FN(lstm_fwd_col_job_t) cj = {hs, cs, gates, h0, c0, b, Wh, work, N, T, H, 0};
        for (cj.t = 0; cj.t < T; cj.t++)
            rs_parallel_run(FN(lstm_fwd_col_task), &cj, ct);
        return;
    }
    FN(lstm_fwd_job_t) job = {hs, cs, gates, h0, c0, Whp, b, N, T, H};
    rs_parallel_run(FN(lstm_fwd_task), &job, SU(recurrence_tasks)(N, T, H, G));
}

void FN(lstm_forward)(REAL *h_next, REAL *c_next, REAL *gates, REAL *work, const REAL *x,
                      const REAL *h_prev, const REAL *c_prev, const REAL *Wx, const REAL *Wh,
                      const REAL *b, ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    FN(time_lstm_forward)(h_next, c_next, gates, work, x, h_prev, c_prev, Wx, Wh, b, N, 1, D, H);
}

/* ---- backward ---- */

/* Epilogue: rows [i0,i1) of G = dA_{t+1}·Whᵀ are final (or G is NULL at the
   last step); computes dA_t and the running dc for those rows. */
typedef struct {
    REAL *dA;          /* (R,4H) at stride lda: step t's slice of dA */
    REAL *dc;          /* (R,H) contiguous: in dc_t, out dc_{t-1} */
    const REAL *dh;    /* (R,H) at stride ldh: dhs_t */
    const REAL *G;     /* (R,H) contiguous, or NULL */
    const REAL *a;     /* (R,4H) at stride lda: gates_t */
    const REAL *c;     /* (R,H) at stride ldh: c_t */
    const REAL *cp;    /* (R,H) at stride ldp: c_{t-1}, or NULL */
    ptrdiff_t lda, ldh, ldp, H;
} FN(lstm_bwd_epi_t);

static void FN(lstm_bwd_epi)(void *p, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(lstm_bwd_epi_t) *e = p;
    const ptrdiff_t H = e->H;
    for (ptrdiff_t i = i0; i < i1; i++)
        FN(lstm_cell_back_row)(e->dA + i * e->lda, e->dc + i * H, e->dh + i * e->ldh,
                               e->G ? e->G + i * H : NULL, e->a + i * e->lda,
                               e->c + i * e->ldh, e->cp ? e->cp + i * e->ldp : NULL, H, H);
}

typedef struct {
    REAL *dA;                      /* (N,T,4H) */
    REAL *dh0, *dc0;               /* (N,H) */
    const REAL *dhs, *dcT;         /* (N,T,H), (N,H) or NULL */
    const REAL *c0, *cs, *gates;   /* (N,H) or NULL, (N,T,H), (N,T,4H) */
    const REAL *WhTp;              /* Whᵀ packed */
    ptrdiff_t N, T, H;
} FN(lstm_bwd_job_t);

static void FN(lstm_bwd_task)(void *p, int task, int ntasks)
{
    const FN(lstm_bwd_job_t) *J = p;
    const ptrdiff_t T = J->T, H = J->H, G4 = 4 * H, ldh = T * H, lda = T * G4;
    ptrdiff_t r0, r1;
    SU(row_block)(J->N, task, ntasks, &r0, &r1);
    const ptrdiff_t R = r1 - r0;
    REAL *dA = J->dA + r0 * lda;
    const REAL *dhs = J->dhs + r0 * ldh, *cs = J->cs + r0 * ldh, *gates = J->gates + r0 * lda;
    REAL *G = J->dh0 + r0 * H;  /* (R,H): gradient flowing into h_{t-1} */
    REAL *dc = J->dc0 + r0 * H; /* (R,H): gradient flowing into c_t */
    if (J->dcT)
        memcpy(dc, J->dcT + r0 * H, (size_t)(R * H) * sizeof(REAL));
    else
        for (ptrdiff_t k = 0; k < R * H; k++) dc[k] = 0;
    for (ptrdiff_t t = T - 1; t >= 0; t--) {
        FN(lstm_bwd_epi_t) e = {dA + t * G4, dc, dhs + t * H, t < T - 1 ? G : NULL,
                                gates + t * G4, cs + t * H,
                                t ? cs + (t - 1) * H : (J->c0 ? J->c0 + r0 * H : NULL),
                                lda, ldh, t ? ldh : H, H};
        if (t == T - 1)
            FN(lstm_bwd_epi)(&e, 0, R);
        else
            /* G (R,H) = dA_{t+1} (R,4H) · Whᵀ (4H,H), then dA_t in the epilogue */
            FN(rs_gemm_packed)(R, H, G4, dA + (t + 1) * G4, lda, 1, J->WhTp, G, H, 0,
                               FN(lstm_bwd_epi), &e);
    }
    /* dh0 (R,H) = dA_0 · Whᵀ */
    FN(rs_gemm_packed)(R, H, G4, dA, lda, 1, J->WhTp, G, H, 0, NULL, NULL);
}

/* The column split: task k owns units [u0,u1): its packed (4H, w) block of
   Whᵀ's columns, G[:, u0:u1], dc[:, u0:u1] and dA_t's four gates there. Step
   t = -1 is dh0 = dA_0·Whᵀ. */
typedef struct {
    REAL *dA, *dh0, *dc0;          /* (N,T,4H), (N,H), (N,H) */
    const REAL *dhs, *dcT;         /* (N,T,H), (N,H) or NULL */
    const REAL *c0, *cs, *gates;   /* (N,H) or NULL, (N,T,H), (N,T,4H) */
    const REAL *Wh;                /* (H,4H) */
    REAL *Bp;                      /* the tasks' blocks */
    ptrdiff_t N, T, H, t;
} FN(lstm_bwd_col_job_t);

static void FN(lstm_bwd_col_task)(void *p, int task, int ntasks)
{
    const FN(lstm_bwd_col_job_t) *J = p;
    const ptrdiff_t N = J->N, T = J->T, H = J->H, G4 = 4 * H, t = J->t;
    const ptrdiff_t ldh = T * H, lda = T * G4;
    ptrdiff_t u0, w, bs;
    REAL *Bp = SU(col_task)(J->Bp, G4, H, task, ntasks, 1, &u0, &w, &bs);
    REAL *G = J->dh0 + u0, *dc = J->dc0 + u0; /* (N,w) at stride H */
    if (t == T - 1) {
        FN(rs_gemm_pack_b)(Bp, G4, w, J->Wh + u0 * G4, 1, G4); /* Whᵀ[:, u0:u1] */
        for (ptrdiff_t i = 0; i < N; i++)
            for (ptrdiff_t j = 0; j < w; j++)
                dc[i * H + j] = J->dcT ? J->dcT[i * H + u0 + j] : 0;
    }
    if (t < T - 1)
        /* G[:, u0:u1] (N,w) = dA_{t+1} (N,4H) · Whᵀ[:, u0:u1] (4H,w) */
        FN(rs_gemm_packed)(N, w, G4, J->dA + (t + 1) * G4, lda, 1, Bp, G, H, 0, NULL, NULL);
    if (t < 0)
        return; /* that was dh0 */
    const REAL *cp = t ? J->cs + (t - 1) * H : J->c0;
    const ptrdiff_t ldp = t ? ldh : H;
    REAL *dA = J->dA + t * G4 + u0;
    const REAL *a = J->gates + t * G4 + u0, *c = J->cs + t * H + u0, *dh = J->dhs + t * H + u0;
    for (ptrdiff_t i = 0; i < N; i++)
        FN(lstm_cell_back_row)(dA + i * lda, dc + i * H, dh + i * ldh,
                               t < T - 1 ? G + i * H : NULL, a + i * lda, c + i * ldh,
                               cp ? cp + i * ldp + u0 : NULL, w, H);
}

void FN(time_lstm_backward)(REAL *dxs, REAL *dh0, REAL *dc0, REAL *dWx, REAL *dWh, REAL *db,
                            REAL *work, const REAL *dhs, const REAL *dcT, const REAL *xs,
                            const REAL *h0, const REAL *c0, const REAL *hs, const REAL *cs,
                            const REAL *gates, const REAL *Wx, const REAL *Wh,
                            ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    const ptrdiff_t G4 = 4 * H;
    REAL *WhTp = work;                           /* Whᵀ (4H,H) packed, or the column blocks */
    REAL *dA = work + FN(lstm_packT_size)(H);                       /* (N,T,4H) */
    REAL *XH = dA + SU(round16)(N * T * G4);                        /* (N*T, D+H) */
    REAL *dW = XH + SU(round16)(N * T * (D + H));                   /* (D+H, 4H) */

    if (N == 0 || T == 0 || H == 0) {
        /* no step: dxs = 0, dh0 = 0, dc0 = dcT (c_T is c0 when T == 0) */
        memset(dxs, 0, (size_t)(N * T * D) * sizeof(REAL));
        memset(dh0, 0, (size_t)(N * H) * sizeof(REAL));
        if (dcT && N * H > 0)
            memcpy(dc0, dcT, (size_t)(N * H) * sizeof(REAL));
        else
            memset(dc0, 0, (size_t)(N * H) * sizeof(REAL));
        return;
    }
    const int ct = SU(column_tasks)(N, H, G4);
    if (ct) { /* one fork/join per step, and one for dh0 */
        FN(lstm_bwd_col_job_t) cj = {dA, dh0, dc0, dhs, dcT, c0, cs, gates, Wh, WhTp,
                                     N, T, H, 0};
        for (cj.t = T - 1; cj.t >= -1; cj.t--)
            rs_parallel_run(FN(lstm_bwd_col_task), &cj, ct);
    } else {
        FN(rs_gemm_pack_b)(WhTp, G4, H, Wh, 1, G4);
        FN(lstm_bwd_job_t) job = {dA, dh0, dc0, dhs, dcT, c0, cs, gates, WhTp, N, T, H};
        rs_parallel_run(FN(lstm_bwd_task), &job, SU(recurrence_tasks)(N, T, H, G4));
    }

    /* [dWx; dWh] (D+H, 4H) += [X | Hprev]ᵀ (D+H, N*T) · dA (N*T, 4H): one product
       (a thin D-row one on its own runs far below the gemm's rate). Every element
       is the same FMA chain over the N*T rows, in order, from the same starting
       value as two separate products: the same bits. */
    SU(build_xh)(XH, xs, h0, hs, N, T, D, H);
    memcpy(dW, dWx, (size_t)(D * G4) * sizeof(REAL));
    memcpy(dW + D * G4, dWh, (size_t)(H * G4) * sizeof(REAL));
    FN(rs_gemm)(D + H, G4, N * T, XH, 1, D + H, dA, G4, 1, dW, G4, 1);
    memcpy(dWx, dW, (size_t)(D * G4) * sizeof(REAL));
    memcpy(dWh, dW + D * G4, (size_t)(H * G4) * sizeof(REAL));
    if (db)
        SU(colsum_add)(db, dA, N * T, G4, G4);
    /* dxs (N*T, D) = dA (N*T, 4H) · Wxᵀ (4H, D) */
    FN(rs_gemm)(N * T, D, G4, dA, G4, 1, Wx, 1, G4, dxs, D, 0);
}

void FN(lstm_backward)(REAL *dx, REAL *dh_prev, REAL *dc_prev, REAL *dWx, REAL *dWh, REAL *db,
                       REAL *work, const REAL *dh_next, const REAL *dc_next, const REAL *x,
                       const REAL *h_prev, const REAL *c_prev, const REAL *c_next,
                       const REAL *gates, const REAL *Wx, const REAL *Wh,
                       ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    FN(time_lstm_backward)(dx, dh_prev, dc_prev, dWx, dWh, db, work, dh_next, dc_next, x,
                           h_prev, c_prev, NULL, c_next, gates, Wx, Wh, N, 1, D, H);
}

#endif /* RS_TU_BASE */

#undef SU
#undef GATED_PFX
