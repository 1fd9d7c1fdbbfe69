/* gru_impl.h -- the GRU kernels for one REAL; included by gru.c once for
 * float and once for double. A template (template.h).
 *
 * Cache row of a step (4H,): [z | r | h~ | r⊙h_prev].
 * Forward of a sequence:
 *   cache[:, :, 0:3H] = X·Wx          one (N*T, D)·(D,3H) product for all steps
 *   for t: zr_t += h_{t-1}·[Whz|Whr]   epilogue: z, r = σ(zr_t + b), rh = r⊙h_{t-1}
 *          hh_t += rh·Whh              epilogue: h~ = tanh(hh_t + bh),
 *                                                h_t = (1-z)⊙h_{t-1} + z⊙h~
 *   both weights packed once.
 * Backward, dA_t = [dt_z | dt_r | dt_h] (N,T,3H), G the gradient into h_t:
 *   step T-1: G = dhs; dt_h, dt_z (epilogue code)
 *   for t = T-1..0:
 *     dhr = dt_h·Whhᵀ        epilogue: dt_r, G = G⊙(1-z) + r⊙dhr
 *     G  += [dt_z dt_r]·[Whz|Whr]ᵀ   epilogue (t > 0): G = dhs_{t-1} + G;
 *                                    dt_h, dt_z of step t-1
 *   dh0 = G;  dWx += Xᵀ·dA;  dWh += [Hprevᵀ·dA_zr | RHᵀ·dt_h];  db += Σ dA;
 *   dXs = dA·Wxᵀ
 * The recurrence runs as batch-row tasks over all T steps, as the RNN's; the
 * results do not depend on the split. Elementwise arithmetic in the book's
 * order, unfused.
 */
#define GATED_PFX gru
#include "seq_util.h"

#if RS_TU_BASE
ptrdiff_t FN(time_gru_forward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    (void)N; (void)T; (void)D;
    ptrdiff_t H2 = rs_mul_size(2, H);
    if (H2 < 0 || rs_mul_size(H, rs_mul_size(4, H)) < 0) return -1;
    return SU(add_size)(SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(H, H2)),
                        SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(H, H)));
}

/* offset of the second packed matrix in the forward/backward workspace */
static ptrdiff_t FN(gru_pack2_offset)(ptrdiff_t H)
{
    return SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(H, 2 * H));
}

ptrdiff_t FN(time_gru_backward_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    /* [Whz|Whr]ᵀ (2H,H) and Whhᵀ packed take what their transposes take */
    ptrdiff_t packed = SU(add_size)(SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(2 * H, H)),
                                    SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(H, H)));
    if (FN(time_gru_forward_work_size)(N, T, D, H) < 0) return -1;
    ptrdiff_t nth = rs_mul_size(N, rs_mul_size(T, H));
    ptrdiff_t dA = SU(round16)(rs_mul_size(nth, 3));
    ptrdiff_t hp = SU(round16)(nth);
    return SU(add_size)(SU(add_size)(packed, dA), SU(add_size)(hp, rs_mul_size(N, H)));
}

ptrdiff_t FN(gru_forward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    return FN(time_gru_forward_work_size)(N, 1, D, H);
}

ptrdiff_t FN(gru_backward_work_size)(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    return FN(time_gru_backward_work_size)(N, 1, D, H);
}

#endif /* RS_TU_BASE */

/* ---- the elementwise loops of one row (see SU_PATHED) ---- */

/* stage 0: rh = r⊙hp;  stage 1: h = (1-z)⊙hp + z⊙h~  (hp NULL: zeros) */
SU_INLINE void FN(gru_fwd_loop1)(REAL *RS_RESTRICT out, const REAL *RS_RESTRICT a,
                                 const REAL *RS_RESTRICT hp, ptrdiff_t H, int stage)
{
    const REAL *RS_RESTRICT z = a, *RS_RESTRICT r = a + H, *RS_RESTRICT hh = a + 2 * H;
    if (stage == 0)
        for (ptrdiff_t j = 0; j < H; j++) out[j] = hp ? r[j] * hp[j] : (REAL)0;
    else
        for (ptrdiff_t j = 0; j < H; j++)
            out[j] = ((REAL)1 - z[j]) * (hp ? hp[j] : (REAL)0) + z[j] * hh[j];
}
SU_INLINE void FN(gru_fwd_loop)(REAL *out, const REAL *a, const REAL *hp, ptrdiff_t H,
                                int stage)
{
    if (hp) FN(gru_fwd_loop1)(out, a, hp, H, stage);
    else FN(gru_fwd_loop1)(out, a, NULL, H, stage);
}
SU_PATHED(FN(gru_fwd_loops), FN(gru_fwd_loop),
          (REAL *out, const REAL *a, const REAL *hp, ptrdiff_t H, int stage),
          (out, a, hp, H, stage))

/* G = dhs [+ G];  dt_h = (G⊙z)⊙(1-h~²);  dt_z = ((G⊙h~ - G⊙hp)⊙z)⊙(1-z) */
SU_INLINE void FN(gru_top_loop1)(REAL *RS_RESTRICT dA, REAL *RS_RESTRICT G,
                                 const REAL *RS_RESTRICT dh, const REAL *RS_RESTRICT a,
                                 const REAL *RS_RESTRICT hp, ptrdiff_t H, int add_G)
{
    const REAL *RS_RESTRICT z = a, *RS_RESTRICT hh = a + 2 * H;
    REAL *RS_RESTRICT dz = dA, *RS_RESTRICT dth = dA + 2 * H;
    for (ptrdiff_t j = 0; j < H; j++) {
        const REAL g = add_G ? dh[j] + G[j] : dh[j];
        G[j] = g;
        dth[j] = (g * z[j]) * ((REAL)1 - hh[j] * hh[j]);
        dz[j] = ((g * hh[j] - g * hp[j]) * z[j]) * ((REAL)1 - z[j]);
    }
}
SU_INLINE void FN(gru_top_loop)(REAL *dA, REAL *G, const REAL *dh, const REAL *a,
                                const REAL *hp, ptrdiff_t H, int add_G)
{
    if (add_G) FN(gru_top_loop1)(dA, G, dh, a, hp, H, 1);
    else FN(gru_top_loop1)(dA, G, dh, a, hp, H, 0);
}
SU_PATHED(FN(gru_top_loops), FN(gru_top_loop),
          (REAL *dA, REAL *G, const REAL *dh, const REAL *a, const REAL *hp, ptrdiff_t H,
           int add_G),
          (dA, G, dh, a, hp, H, add_G))

/* dt_r = ((dhr⊙hp)⊙r)⊙(1-r);  G = G⊙(1-z) + r⊙dhr */
SU_INLINE void FN(gru_mid_loop)(REAL *RS_RESTRICT dtr, REAL *RS_RESTRICT G,
                                const REAL *RS_RESTRICT dhr, const REAL *RS_RESTRICT a,
                                const REAL *RS_RESTRICT hp, ptrdiff_t H)
{
    const REAL *RS_RESTRICT z = a, *RS_RESTRICT r = a + H;
    for (ptrdiff_t j = 0; j < H; j++) {
        dtr[j] = ((dhr[j] * hp[j]) * r[j]) * ((REAL)1 - r[j]);
        G[j] = G[j] * ((REAL)1 - z[j]) + r[j] * dhr[j];
    }
}
SU_PATHED(FN(gru_mid_loops), FN(gru_mid_loop),
          (REAL *dtr, REAL *G, const REAL *dhr, const REAL *a, const REAL *hp, ptrdiff_t H),
          (dtr, G, dhr, a, hp, H))

#if RS_TU_BASE /* the kernels; a SIMD path's TU has only its loops (compat.h) */
/* ---- forward ---- */

/* Epilogues of step t, rows [i0,i1). */
typedef struct {
    REAL *a;          /* (R,4H) at stride lda: step t's cache rows */
    REAL *h;          /* (R,H) at stride ldh: h_t */
    const REAL *hp;   /* (R,H) at stride ldp: h_{t-1}, or NULL */
    const REAL *b;    /* (3H,) or NULL */
    ptrdiff_t lda, ldh, ldp, H;
} FN(gru_fwd_epi_t);

/* z, r = σ(pre + b);  rh = r⊙h_prev */
static void FN(gru_fwd_epi1)(void *p, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(gru_fwd_epi_t) *e = p;
    const ptrdiff_t H = e->H;
    for (ptrdiff_t i = i0; i < i1; i++) {
        REAL *a = e->a + i * e->lda;
        FN(rs_act_bias_row)(a, e->b, 2 * H, RS_ACT_SIGMOID);
        FN(gru_fwd_loops)(a + 3 * H, a, e->hp ? e->hp + i * e->ldp : NULL, H, 0);
    }
}

/* h~ = tanh(pre + bh);  h = (1-z)⊙h_prev + z⊙h~ */
static void FN(gru_fwd_epi2)(void *p, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(gru_fwd_epi_t) *e = p;
    const ptrdiff_t H = e->H;
    for (ptrdiff_t i = i0; i < i1; i++) {
        REAL *a = e->a + i * e->lda;
        FN(rs_act_bias_row)(a + 2 * H, e->b ? e->b + 2 * H : NULL, H, RS_ACT_TANH);
        FN(gru_fwd_loops)(e->h + i * e->ldh, a, e->hp ? e->hp + i * e->ldp : NULL, H, 1);
    }
}

typedef struct {
    REAL *hs, *cache;              /* (N,T,H), (N,T,4H) */
    const REAL *h0;                /* (N,H) or NULL */
    const REAL *Wzrp, *Whhp;       /* [Whz|Whr] (H,2H) and Whh (H,H), packed */
    const REAL *b;                 /* (3H,) or NULL */
    ptrdiff_t N, T, H;
} FN(gru_fwd_job_t);

static void FN(gru_fwd_task)(void *p, int task, int ntasks)
{
    const FN(gru_fwd_job_t) *J = p;
    const ptrdiff_t T = J->T, H = J->H, G = 4 * H, ldh = T * H, lda = T * G;
    ptrdiff_t r0, r1;
    SU(row_block)(J->N, task, ntasks, &r0, &r1);
    const ptrdiff_t R = r1 - r0;
    REAL *hs = J->hs + r0 * ldh, *cache = J->cache + r0 * lda;
    for (ptrdiff_t t = 0; t < T; t++) {
        const REAL *hp = t ? hs + (t - 1) * H : (J->h0 ? J->h0 + r0 * H : NULL);
        const ptrdiff_t ldp = t ? ldh : H;
        FN(gru_fwd_epi_t) e = {cache + t * G, hs + t * H, hp, J->b, lda, ldh, ldp, H};
        if (hp) {
            /* [z r]_t (R,2H) += h_{t-1} (R,H) · [Whz|Whr] (H,2H); then z, r, r⊙h_{t-1} */
            FN(rs_gemm_packed)(R, 2 * H, H, hp, ldp, 1, J->Wzrp, e.a, lda, 1,
                               FN(gru_fwd_epi1), &e);
            /* h~_t (R,H) += (r⊙h_{t-1}) (R,H) · Whh (H,H); then h~, h_t */
            FN(rs_gemm_packed)(R, H, H, e.a + 3 * H, lda, 1, J->Whhp, e.a + 2 * H, lda, 1,
                               FN(gru_fwd_epi2), &e);
        } else {
            FN(gru_fwd_epi1)(&e, 0, R);
            FN(gru_fwd_epi2)(&e, 0, R);
        }
    }
}

void FN(time_gru_forward)(REAL *hs, REAL *cache, REAL *work, const REAL *xs, const REAL *h0,
                          const REAL *Wx, const REAL *Wh, const REAL *b,
                          ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    const ptrdiff_t H3 = 3 * H;
    REAL *Wzrp = work, *Whhp = work + FN(gru_pack2_offset)(H);
    if (N == 0 || T == 0 || H == 0) return; /* every output is empty */
    /* cache[:, :, 0:3H] viewed as (N*T, 3H) at row stride 4H = xs (N*T, D) · Wx (D,3H) */
    FN(rs_gemm)(N * T, H3, D, xs, D, 1, Wx, H3, 1, cache, 4 * H, 0);
    FN(rs_gemm_pack_b)(Wzrp, H, 2 * H, Wh, H3, 1);
    FN(rs_gemm_pack_b)(Whhp, H, H, Wh + 2 * H, H3, 1);
    FN(gru_fwd_job_t) job = {hs, cache, h0, Wzrp, Whhp, b, N, T, H};
    rs_parallel_run(FN(gru_fwd_task), &job, SU(recurrence_tasks)(N, T, H, H3));
}

void FN(gru_forward)(REAL *h_next, REAL *cache, REAL *work, const REAL *x, const REAL *h_prev,
                     const REAL *Wx, const REAL *Wh, const REAL *b,
                     ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    FN(time_gru_forward)(h_next, cache, work, x, h_prev, Wx, Wh, b, N, 1, D, H);
}

/* ---- backward ---- */

typedef struct {
    REAL *dA;          /* (R,3H) at stride ldd: step t's dA */
    REAL *G;           /* (R,H) contiguous: gradient flowing into h_t, then h_{t-1} */
    const REAL *dhr;   /* (R,H) contiguous: dt_h·Whhᵀ */
    const REAL *dh;    /* (R,H) at stride ldh: dhs_t */
    const REAL *a;     /* (R,4H) at stride lda: step t's cache */
    const REAL *hp;    /* (R,H) at stride ldh: h_{t-1} (Hprev) */
    int add_G;         /* G holds a gradient from step t+1 to add to dhs_t */
    ptrdiff_t ldd, ldh, lda, H;
} FN(gru_bwd_epi_t);

/* dh = dhs_t [+ G] (kept in G);  dt_h = (dh⊙z)⊙(1-h~²);  dt_z = ((dh⊙h~ - dh⊙hp)⊙z)⊙(1-z) */
static void FN(gru_bwd_top)(void *p, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(gru_bwd_epi_t) *e = p;
    const ptrdiff_t H = e->H;
    for (ptrdiff_t i = i0; i < i1; i++)
        FN(gru_top_loops)(e->dA + i * e->ldd, e->G + i * H, e->dh + i * e->ldh,
                          e->a + i * e->lda, e->hp + i * e->ldh, H, e->add_G);
}

/* dt_r = ((dhr⊙hp)⊙r)⊙(1-r);  G = G⊙(1-z) + r⊙dhr */
static void FN(gru_bwd_mid)(void *p, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(gru_bwd_epi_t) *e = p;
    const ptrdiff_t H = e->H;
    for (ptrdiff_t i = i0; i < i1; i++)
        FN(gru_mid_loops)(e->dA + i * e->ldd + H, e->G + i * H, e->dhr + i * H,
                          e->a + i * e->lda, e->hp + i * e->ldh, H);
}

typedef struct {
    REAL *dA, *dh0, *dhr;          /* (N,T,3H), (N,H), (N,H) */
    const REAL *dhs, *Hprev, *cache; /* (N,T,H), (N,T,H), (N,T,4H) */
    const REAL *WzrTp, *WhhTp;     /* [Whz|Whr]ᵀ (2H,H) and Whhᵀ (H,H), packed */
    ptrdiff_t N, T, H;
} FN(gru_bwd_job_t);

static void FN(gru_bwd_task)(void *p, int task, int ntasks)
{
    const FN(gru_bwd_job_t) *J = p;
    const ptrdiff_t T = J->T, H = J->H, H3 = 3 * H, ldh = T * H, ldd = T * H3, lda = T * 4 * H;
    ptrdiff_t r0, r1;
    SU(row_block)(J->N, task, ntasks, &r0, &r1);
    const ptrdiff_t R = r1 - r0;
    REAL *dA = J->dA + r0 * ldd, *G = J->dh0 + r0 * H, *dhr = J->dhr + r0 * H;
    const REAL *dhs = J->dhs + r0 * ldh, *hprev = J->Hprev + r0 * ldh;
    const REAL *cache = J->cache + r0 * lda;
#define GRU_EPI(t, addG)                                                              \
    {dA + (t) * H3, G, dhr, dhs + (t) * H, cache + (t) * 4 * H, hprev + (t) * H, addG, \
     ldd, ldh, lda, H}
    {
        FN(gru_bwd_epi_t) e = GRU_EPI(T - 1, 0);
        FN(gru_bwd_top)(&e, 0, R);
    }
    for (ptrdiff_t t = T - 1; t >= 0; t--) {
        FN(gru_bwd_epi_t) e = GRU_EPI(t, 1);
        /* dhr (R,H) = dt_h (R,H) · Whhᵀ (H,H); then dt_r and G = G⊙(1-z) + r⊙dhr */
        FN(rs_gemm_packed)(R, H, H, dA + t * H3 + 2 * H, ldd, 1, J->WhhTp, dhr, H, 0,
                           FN(gru_bwd_mid), &e);
        /* G (R,H) += [dt_z dt_r] (R,2H) · [Whz|Whr]ᵀ (2H,H); then step t-1's top */
        if (t > 0) {
            FN(gru_bwd_epi_t) e1 = GRU_EPI(t - 1, 1);
            FN(rs_gemm_packed)(R, H, 2 * H, dA + t * H3, ldd, 1, J->WzrTp, G, H, 1,
                               FN(gru_bwd_top), &e1);
        } else {
            FN(rs_gemm_packed)(R, H, 2 * H, dA, ldd, 1, J->WzrTp, G, H, 1, NULL, NULL);
        }
    }
#undef GRU_EPI
}

void FN(time_gru_backward)(REAL *dxs, REAL *dh0, REAL *dWx, REAL *dWh, REAL *db, REAL *work,
                           const REAL *dhs, const REAL *xs, const REAL *h0, const REAL *hs,
                           const REAL *cache, const REAL *Wx, const REAL *Wh,
                           ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    const ptrdiff_t H3 = 3 * H;
    REAL *WzrTp = work;                                                   /* (2H,H) packed */
    REAL *WhhTp = WzrTp + SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(2 * H, H));
    REAL *dA = WhhTp + SU(round16)((ptrdiff_t)FN(rs_gemm_packed_size)(H, H)); /* (N,T,3H) */
    REAL *Hprev = dA + SU(round16)(N * T * H3);                            /* (N,T,H) */
    REAL *dhr = Hprev + SU(round16)(N * T * H);                            /* (N,H) */

    if (N == 0 || T == 0 || H == 0) { /* no step: dxs = 0, dh0 = 0 */
        memset(dxs, 0, (size_t)(N * T * D) * sizeof(REAL));
        memset(dh0, 0, (size_t)(N * H) * sizeof(REAL));
        return;
    }
    FN(rs_gemm_pack_b)(WzrTp, 2 * H, H, Wh, 1, H3);
    FN(rs_gemm_pack_b)(WhhTp, H, H, Wh + 2 * H, 1, H3);
    SU(build_hprev)(Hprev, h0, hs, N, T, H);
    FN(gru_bwd_job_t) job = {dA, dh0, dhr, dhs, Hprev, cache, WzrTp, WhhTp, N, T, H};
    rs_parallel_run(FN(gru_bwd_task), &job, SU(recurrence_tasks)(N, T, H, H3));

    /* dWx (D,3H) += Xᵀ (D, N*T) · dA (N*T, 3H) */
    FN(rs_gemm)(D, H3, N * T, xs, 1, D, dA, H3, 1, dWx, H3, 1);
    /* dWh[:, 0:2H] (H,2H) += Hprevᵀ (H, N*T) · dA[:, 0:2H] (N*T, 2H) */
    FN(rs_gemm)(H, 2 * H, N * T, Hprev, 1, H, dA, H3, 1, dWh, H3, 1);
    /* dWh[:, 2H:3H] (H,H) += RHᵀ (H, N*T) · dA[:, 2H:3H] (N*T, H), RH = cache[..., 3H:4H] */
    FN(rs_gemm)(H, H, N * T, cache + 3 * H, 1, 4 * H, dA + 2 * H, H3, 1, dWh + 2 * H, H3, 1);
    if (db)
        SU(colsum_add)(db, dA, N * T, H3, H3);
    /* dxs (N*T, D) = dA (N*T, 3H) · Wxᵀ (3H, D) */
    FN(rs_gemm)(N * T, D, H3, dA, H3, 1, Wx, 1, H3, dxs, D, 0);
}

void FN(gru_backward)(REAL *dx, REAL *dh_prev, REAL *dWx, REAL *dWh, REAL *db, REAL *work,
                      const REAL *dh_next, const REAL *x, const REAL *h_prev,
                      const REAL *cache, const REAL *Wx, const REAL *Wh,
                      ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    FN(time_gru_backward)(dx, dh_prev, dWx, dWh, db, work, dh_next, x, h_prev, NULL, cache,
                          Wx, Wh, N, 1, D, H);
}

#endif /* RS_TU_BASE */

#undef SU
#undef GATED_PFX
