/* rnn_impl.h -- the RNN kernels for one REAL; included by rnn.c once for
 * float and once for double. Requires REAL and RS_SUFFIX.
 *
 * Forward of a sequence (hoisted, as oneDNN does):
 *   A  = X·Wx                  one (N*T, D)·(D,H) product for all steps
 *   for t: A_t += h_{t-1}·Wh   the only recurrent product, with Wh packed once
 *          h_t  = f(A_t + b)   in the product's epilogue, rows still in cache
 * Backward:
 *   dA_{T-1} = dhs_{T-1} * f'(h_{T-1})
 *   for t = T-2..0:  G = dA_{t+1}·Whᵀ,  dA_t = (dhs_t + G) * f'(h_t)  (epilogue)
 *   dh0 = dA_0·Whᵀ;  dWx += Xᵀ·dA;  dWh += Hprevᵀ·dA;  db += Σ dA;  dXs = dA·Wxᵀ
 * with dA and Hprev (h_{t-1} of every step) as the two (N,T,H) work buffers.
 * Hs and dA are (N,T,H): the (N,H) slice of step t starts at t*H, rows T*H apart.
 *
 * The recurrence is independent across the batch, so it runs as up to
 * rs_get_num_threads() tasks over blocks of rows, each task going through all
 * T steps: one fork/join per sequence, not per step. Every element is computed
 * the same way whatever the split (gemm sums each element in a fixed order),
 * so the thread count never changes a bit.
 */

#define GATED_PFX rnn
#include "seq_util.h"

ptrdiff_t FN(time_rnn_forward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    (void)N; (void)T; (void)D;
    return SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(H, H)); /* packed Wh */
}

ptrdiff_t FN(time_rnn_backward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    ptrdiff_t nth = rs_mul_size(N, rs_mul_size(T, H));
    ptrdiff_t packed = FN(time_rnn_forward_work_size)(N, T, D, H); /* packed Whᵀ */
    if (nth < 0 || nth > (PTRDIFF_MAX - packed) / 2) return -1;
    return packed + 2 * nth;                                        /* + dA, Hprev */
}

ptrdiff_t FN(rnn_backward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    (void)D;
    return rs_mul_size(N, H); /* dA */
}

/* rows (R,H) at row stride ld:  y = f(y + b) */
static void FN(act_rows)(REAL *y, ptrdiff_t R, ptrdiff_t ld, const REAL *b,
                         ptrdiff_t H, int act)
{
    for (ptrdiff_t r = 0; r < R; r++) FN(rs_act_bias_row)(y + r * ld, b, H, act);
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
    for (ptrdiff_t n = 0; n < N; n++)
        FN(rs_act_backward_row)(dA + n * H, dh_next + n * H, NULL, h_next + n * H, H, act);
    /* dWx (D,H) += xᵀ (D,N) · dA (N,H) */
    FN(rs_gemm)(D, H, N, x, 1, D, dA, H, 1, dWx, H, 1);
    /* dWh (H,H) += h_prevᵀ (H,N) · dA (N,H) */
    if (h_prev)
        FN(rs_gemm)(H, H, N, h_prev, 1, H, dA, H, 1, dWh, H, 1);
    if (db)
        SU(colsum_add)(db, dA, N, H, H);
    /* dx (N,D) = dA (N,H) · Wxᵀ (H,D) */
    FN(rs_gemm)(N, D, H, dA, H, 1, Wx, 1, H, dx, D, 0);
    /* dh_prev (N,H) = dA (N,H) · Whᵀ (H,H) */
    FN(rs_gemm)(N, H, H, dA, H, 1, Wh, 1, H, dh_prev, H, 0);
}

/* Forward epilogue: rows [i0,i1) of step t's pre-activations are final. */
typedef struct {
    REAL *a;        /* (N,H) at row stride ld: step t's slice of hs */
    const REAL *b;  /* (H,) or NULL */
    ptrdiff_t ld, H;
    int act;
} FN(fwd_epi_t);

static void FN(fwd_epi)(void *p, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(fwd_epi_t) *c = p;
    FN(act_rows)(c->a + i0 * c->ld, i1 - i0, c->ld, c->b, c->H, c->act);
}

typedef struct {
    REAL *hs;             /* (N,T,H) */
    const REAL *h0;       /* (N,H) or NULL */
    const REAL *Whp;      /* Wh packed */
    const REAL *b;        /* (H,) or NULL */
    ptrdiff_t N, T, H;
    int act;
} FN(fwd_job_t);

/* The forward recurrence for one block of batch rows, all T steps. */
static void FN(fwd_task)(void *p, int task, int ntasks)
{
    const FN(fwd_job_t) *J = p;
    const ptrdiff_t T = J->T, H = J->H, ld = T * H;
    ptrdiff_t r0, r1;
    SU(row_block)(J->N, task, ntasks, &r0, &r1);
    REAL *hs = J->hs + r0 * ld; /* this block's rows */
    for (ptrdiff_t t = 0; t < T; t++) {
        FN(fwd_epi_t) epi = {hs + t * H, J->b, ld, H, J->act};
        const REAL *h_prev = t ? hs + (t - 1) * H : (J->h0 ? J->h0 + r0 * H : NULL);
        if (h_prev)
            /* a_t (R,H) += h_prev (R,H) · Wh (H,H); then h_t = f(a_t + b) */
            FN(rs_gemm_packed)(r1 - r0, H, H, h_prev, t ? ld : H, 1, J->Whp, epi.a, ld, 1,
                               FN(fwd_epi), &epi);
        else
            FN(fwd_epi)(&epi, 0, r1 - r0);
    }
}

void FN(time_rnn_forward)(REAL *hs, REAL *work, const REAL *xs, const REAL *h0,
                          const REAL *Wx, const REAL *Wh, const REAL *b,
                          ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H, int act)
{
    REAL *Whp = work; /* Wh (H,H), packed once for all T steps */
    if (N == 0 || T == 0 || H == 0) return; /* hs is empty */
    /* hs viewed as (N*T, H) = xs (N*T, D) · Wx (D,H), every step at once */
    FN(rs_gemm)(N * T, H, D, xs, D, 1, Wx, H, 1, hs, H, 0);
    FN(rs_gemm_pack_b)(Whp, H, H, Wh, H, 1);
    if (!h0) SU(zero_state_nonfinite)(hs, N, T * H, Wh, H, H);
    FN(fwd_job_t) job = {hs, h0, Whp, b, N, T, H, act};
    rs_parallel_run(FN(fwd_task), &job, SU(recurrence_tasks)(N, T, H, H));
}

/* Backward epilogue: rows [i0,i1) of G = dA_{t+1}·Whᵀ are final;
 * dA_t = (dhs_t + G) * f'(h_t) for those rows. */
typedef struct {
    REAL *dA;        /* (N,H) at stride ld: step t's slice of dA */
    const REAL *dh;  /* (N,H) at stride ld: step t's slice of dhs */
    const REAL *h;   /* (N,H) at stride ld: step t's slice of hs */
    const REAL *G;   /* (N,H) contiguous, or NULL */
    ptrdiff_t ld, H;
    int act;
} FN(bwd_epi_t);

static void FN(bwd_epi)(void *p, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(bwd_epi_t) *c = p;
    for (ptrdiff_t i = i0; i < i1; i++)
        FN(rs_act_backward_row)(c->dA + i * c->ld, c->dh + i * c->ld,
                                c->G ? c->G + i * c->H : NULL, c->h + i * c->ld, c->H, c->act);
}

typedef struct {
    REAL *dA;          /* (N,T,H) */
    REAL *dh0;         /* (N,H) */
    const REAL *dhs;   /* (N,T,H) */
    const REAL *hs;    /* (N,T,H) */
    const REAL *WhTp;  /* Whᵀ packed */
    ptrdiff_t N, T, H;
    int act;
} FN(bwd_job_t);

/* The backward recurrence for one block of batch rows, all T steps. */
static void FN(bwd_task)(void *p, int task, int ntasks)
{
    const FN(bwd_job_t) *J = p;
    const ptrdiff_t T = J->T, H = J->H, ld = T * H;
    ptrdiff_t r0, r1;
    SU(row_block)(J->N, task, ntasks, &r0, &r1);
    const ptrdiff_t R = r1 - r0;
    REAL *dA = J->dA + r0 * ld;
    const REAL *dhs = J->dhs + r0 * ld, *hs = J->hs + r0 * ld;
    REAL *G = J->dh0 + r0 * H; /* (R,H): gradient flowing into h_{t-1} */
    {
        FN(bwd_epi_t) epi = {dA + (T - 1) * H, dhs + (T - 1) * H, hs + (T - 1) * H, NULL, ld, H, J->act};
        FN(bwd_epi)(&epi, 0, R);
    }
    for (ptrdiff_t t = T - 2; t >= 0; t--) {
        FN(bwd_epi_t) epi = {dA + t * H, dhs + t * H, hs + t * H, G, ld, H, J->act};
        /* G (R,H) = dA_{t+1} (R,H) · Whᵀ (H,H), then dA_t in the epilogue */
        FN(rs_gemm_packed)(R, H, H, dA + (t + 1) * H, ld, 1, J->WhTp, G, H, 0, FN(bwd_epi), &epi);
    }
    /* dh0 (R,H) = dA_0 · Whᵀ */
    FN(rs_gemm_packed)(R, H, H, dA, ld, 1, J->WhTp, G, H, 0, NULL, NULL);
}

void FN(time_rnn_backward)(REAL *dxs, REAL *dh0, REAL *dWx, REAL *dWh, REAL *db,
                           REAL *work, const REAL *dhs, const REAL *xs,
                           const REAL *h0, const REAL *hs, const REAL *Wx,
                           const REAL *Wh, ptrdiff_t N, ptrdiff_t T, ptrdiff_t D,
                           ptrdiff_t H, int act)
{
    REAL *WhTp = work;                                     /* Whᵀ (H,H), packed */
    REAL *dA = work + FN(time_rnn_forward_work_size)(N, T, D, H); /* (N,T,H) */
    REAL *Hprev = dA + N * T * H;  /* (N,T,H): Hprev[:,t] = h_{t-1}, Hprev[:,0] = h0 */

    if (N == 0 || T == 0 || H == 0) { /* no step has a gradient: dxs = 0, dh0 = 0 */
        memset(dxs, 0, (size_t)(N * T * D) * sizeof(REAL));
        memset(dh0, 0, (size_t)(N * H) * sizeof(REAL));
        return;
    }
    FN(rs_gemm_pack_b)(WhTp, H, H, Wh, 1, H);
    FN(bwd_job_t) job = {dA, dh0, dhs, hs, WhTp, N, T, H, act};
    rs_parallel_run(FN(bwd_task), &job, SU(recurrence_tasks)(N, T, H, H));

    SU(build_hprev)(Hprev, h0, hs, N, T, H);
    /* dWx (D,H) += Xᵀ (D, N*T) · dA (N*T, H) */
    FN(rs_gemm)(D, H, N * T, xs, 1, D, dA, H, 1, dWx, H, 1);
    /* dWh (H,H) += Hprevᵀ (H, N*T) · dA (N*T, H) */
    FN(rs_gemm)(H, H, N * T, Hprev, 1, H, dA, H, 1, dWh, H, 1);
    if (db)
        SU(colsum_add)(db, dA, N * T, H, H);
    /* dxs (N*T, D) = dA (N*T, H) · Wxᵀ (H, D) */
    FN(rs_gemm)(N * T, D, H, dA, H, 1, Wx, 1, H, dxs, D, 0);
}

