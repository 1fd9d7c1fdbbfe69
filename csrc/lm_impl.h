/* lm_impl.h -- the language-model kernels for one REAL; included by lm.c once
 * for float and once for double. Requires REAL and RS_SUFFIX. See lm.h for
 * the formulas.
 *
 * Reductions over a row (max, sum of exponentials) are act.h's softmax-row
 * functions: 16 partial results combined in a fixed order, vectorized on
 * every path, the same order whatever the SIMD width.
 */

/* ------------------------------------------------------------------------ */
/* embedding                                                                  */

void FN(embedding_forward)(REAL *out, const ptrdiff_t *ids, const REAL *W,
                           ptrdiff_t N, ptrdiff_t T, ptrdiff_t V, ptrdiff_t D)
{
    (void)V;
    const ptrdiff_t R = N * T;
    if (D == 0) return;
    for (ptrdiff_t r = 0; r < R; r++)
        memcpy(out + r * D, W + ids[r] * D, (size_t)D * sizeof(REAL));
}

void FN(embedding_backward)(REAL *dW, const REAL *dout, const ptrdiff_t *ids,
                            ptrdiff_t N, ptrdiff_t T, ptrdiff_t V, ptrdiff_t D)
{
    (void)V;
    const ptrdiff_t R = N * T;
    if (D == 0) return;
    /* rows in (n,t) order: a repeated id sums its rows in that order */
    for (ptrdiff_t r = 0; r < R; r++) {
        REAL *RS_RESTRICT dst = dW + ids[r] * D;       /* (D,) */
        const REAL *RS_RESTRICT src = dout + r * D;    /* (D,) */
        for (ptrdiff_t j = 0; j < D; j++) dst[j] += src[j];
    }
}

/* ------------------------------------------------------------------------ */
/* affine over a sequence                                                     */

void FN(time_affine_forward)(REAL *out, const REAL *x, const REAL *W, const REAL *b,
                             ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V)
{
    const ptrdiff_t R = N * T;
    /* out (R,V) = x (R,D) · W (D,V) */
    FN(rs_gemm)(R, V, D, x, D, 1, W, V, 1, out, V, 0);
    if (b) {
        for (ptrdiff_t r = 0; r < R; r++) {
            REAL *RS_RESTRICT row = out + r * V;
            for (ptrdiff_t j = 0; j < V; j++) row[j] += b[j];
        }
    }
}

/* db (V,) += Σ_r dout[r,:], task t of nt taking a block of columns: every
   column is summed over the rows in order, whatever the number of tasks */
typedef struct {
    REAL *db;
    const REAL *dout; /* (R,V) */
    ptrdiff_t R, V;
} FN(colsum_job);

static void FN(colsum_task)(void *arg, int t, int nt)
{
    const FN(colsum_job) *J = (const FN(colsum_job) *)arg;
    const ptrdiff_t blocks = (J->V + 15) / 16; /* 64-byte blocks of floats */
    const ptrdiff_t j0 = rs_lm_min(J->V, 16 * (blocks * t / nt));
    const ptrdiff_t j1 = rs_lm_min(J->V, 16 * (blocks * (t + 1) / nt));
    REAL *RS_RESTRICT db = J->db;
    for (ptrdiff_t r = 0; r < J->R; r++) {
        const REAL *RS_RESTRICT row = J->dout + r * J->V;
        for (ptrdiff_t j = j0; j < j1; j++) db[j] += row[j];
    }
}

/* dst (cols,rows) = src (rows,cols) transposed, in 32x32 tiles; task t of nt
   takes a block of the source's columns */
typedef struct {
    REAL *dst;
    const REAL *src;
    ptrdiff_t rows, cols;
} FN(transpose_job);

static void FN(transpose_task)(void *arg, int t, int nt)
{
    const FN(transpose_job) *J = (const FN(transpose_job) *)arg;
    const ptrdiff_t B = 32, nb = (J->cols + B - 1) / B;
    const ptrdiff_t c0 = B * (nb * t / nt), c1 = rs_lm_min(J->cols, B * (nb * (t + 1) / nt));
#if !RS_F64 && defined(LM_TRANSPOSE8_F32)
    const int simd = rs_get_path() >= RS_PATH_AVX2;
#endif
    for (ptrdiff_t i0 = 0; i0 < J->rows; i0 += B)
        for (ptrdiff_t j0 = c0; j0 < c1; j0 += B) {
            const ptrdiff_t i1 = rs_lm_min(J->rows, i0 + B), j1 = rs_lm_min(c1, j0 + B);
            ptrdiff_t i8 = i0, j8 = j0; /* the 8x8 blocks cover [i0,i8) x [j0,j8) */
#if !RS_F64 && defined(LM_TRANSPOSE8_F32)
            if (simd) {
                i8 = i0 + (i1 - i0) / 8 * 8;
                j8 = j0 + (j1 - j0) / 8 * 8;
                for (ptrdiff_t i = i0; i < i8; i += 8)
                    for (ptrdiff_t j = j0; j < j8; j += 8)
                        LM_TRANSPOSE8_F32(J->dst + j * J->rows + i, J->rows,
                                      J->src + i * J->cols + j, J->cols);
            }
#endif
            /* the rest, one element at a time: columns past j8, then rows past i8 */
            for (ptrdiff_t j = j8; j < j1; j++)
                for (ptrdiff_t i = i0; i < i1; i++)
                    J->dst[j * J->rows + i] = J->src[i * J->cols + j];
            for (ptrdiff_t j = j0; j < j8; j++)
                for (ptrdiff_t i = i8; i < i1; i++)
                    J->dst[j * J->rows + i] = J->src[i * J->cols + j];
        }
}

void FN(time_affine_backward)(REAL *dx, REAL *dW, REAL *db, const REAL *dout,
                              const REAL *x, const REAL *W,
                              ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V)
{
    const ptrdiff_t R = N * T;
    /* When db lies right after dW in memory (TimeAffine allocates them so), it
       is row D of one (D+1,V) product with a row of ones appended to xᵀ: the
       extra row fits in the gemm's row tiles for free, and each db[j] is the
       same chain of additions over the rows in order as the column sums. */
    REAL *xa = db && db == dW + D * V && R > 0
                   ? (REAL *)rs_ws_get((size_t)R * (size_t)(D + 1) * sizeof(REAL)) : NULL;
    if (xa) {
        for (ptrdiff_t r = 0; r < R; r++) { /* xa (R,D+1) = [x, 1] */
            memcpy(xa + r * (D + 1), x + r * D, (size_t)D * sizeof(REAL));
            xa[r * (D + 1) + D] = 1;
        }
        /* [dW; db] (D+1,V) += [x, 1]ᵀ (D+1,R) · dout (R,V) */
        FN(rs_gemm)(D + 1, V, R, xa, 1, D + 1, dout, V, 1, dW, V, 1);
        rs_ws_put(xa);
        db = NULL;
    } else {
        /* dW (D,V) += xᵀ (D,R) · dout (R,V) */
        FN(rs_gemm)(D, V, R, x, 1, D, dout, V, 1, dW, V, 1);
    }
    /* db (V,) += column sums of dout, rows in order */
    if (db) {
        FN(colsum_job) J = {.db = db, .dout = dout, .R = R, .V = V};
        int nt = (double)R * (double)V >= 262144.0 ? rs_get_num_threads() : 1;
        rs_parallel_run(FN(colsum_task), &J, nt);
    }
    /* dx (R,D) = dout (R,V) · Wᵀ (V,D). W is transposed first (unless tiny):
       the gemm packs rows of Wᵀ much faster than its columns, by 2x at the
       chapter-5 size (same result). */
    const double DV = (double)D * (double)V;
    REAL *WT = DV >= 2048.0 && R >= 8
                   ? (REAL *)rs_ws_get((size_t)D * (size_t)V * sizeof(REAL)) : NULL;
    if (WT) {
        FN(transpose_job) J = {.dst = WT, .src = W, .rows = D, .cols = V};
        rs_parallel_run(FN(transpose_task), &J, DV >= 262144.0 ? rs_get_num_threads() : 1);
        FN(rs_gemm)(R, D, V, dout, V, 1, WT, D, 1, dx, D, 0);
        rs_ws_put(WT);
    } else {
        FN(rs_gemm)(R, D, V, dout, V, 1, W, 1, V, dx, D, 0);
    }
}

void FN(tied_affine_backward)(REAL *dx, REAL *dE, REAL *db, const REAL *dout,
                              const REAL *x, const REAL *E,
                              ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V)
{
    const ptrdiff_t R = N * T;
    /* dE (V,D) += doutᵀ (V,R) · x (R,D): the gemm reads doutᵀ through its
       strides (columns contiguous), so no (V,R) copy */
    FN(rs_gemm)(V, D, R, dout, 1, V, x, D, 1, dE, D, 1);
    if (db) { /* db (V,) += column sums of dout, rows in order */
        FN(colsum_job) J = {.db = db, .dout = dout, .R = R, .V = V};
        int nt = (double)R * (double)V >= 262144.0 ? rs_get_num_threads() : 1;
        rs_parallel_run(FN(colsum_task), &J, nt);
    }
    /* dx (R,D) = dout (R,V) · E (V,D): E's rows are contiguous as they are */
    FN(rs_gemm)(R, D, V, dout, V, 1, E, D, 1, dx, D, 0);
}

/* ------------------------------------------------------------------------ */
/* softmax fused with cross-entropy                                           */

double FN(softmax_cross_entropy_forward)(REAL *ys, ptrdiff_t *count, const REAL *xs,
                                         const ptrdiff_t *ts, ptrdiff_t N, ptrdiff_t T,
                                         ptrdiff_t V, ptrdiff_t ignore_label)
{
    const ptrdiff_t R = N * T;
    double total = 0;
    ptrdiff_t cnt = 0;
    if (V == 0) { *count = 0; return NAN; }
    for (ptrdiff_t r = 0; r < R; r++) {
        const REAL *x = xs + r * V; /* (V,) */
        REAL *y = ys + r * V;       /* (V,) */
        memcpy(y, x, (size_t)V * sizeof(REAL));
        const REAL m = FN(rs_row_max_bias)(y, NULL, V);
        const REAL s = FN(rs_row_exp_sum)(y, m, V);
        FN(rs_row_div_scale)(y, s, (REAL)1, V);
        const ptrdiff_t t = ts[r];
        if (t == ignore_label) continue;
        /* -log softmax(x)[t] = log s - (x_t - m): s >= 1, so never log(0) */
        total += log((double)s) - ((double)x[t] - (double)m);
        cnt++;
    }
    *count = cnt;
    return cnt ? total / (double)cnt : NAN;
}

void FN(softmax_cross_entropy_backward)(REAL *dxs, const REAL *ys, const ptrdiff_t *ts,
                                        double dout, ptrdiff_t N, ptrdiff_t T, ptrdiff_t V,
                                        ptrdiff_t ignore_label)
{
    const ptrdiff_t R = N * T;
    ptrdiff_t cnt = 0;
    for (ptrdiff_t r = 0; r < R; r++) cnt += ts[r] != ignore_label;
    const REAL scale = cnt ? (REAL)(dout / (double)cnt) : (REAL)0;
    for (ptrdiff_t r = 0; r < R; r++) {
        REAL *dx = dxs + r * V;      /* (V,) */
        const REAL *y = ys + r * V;  /* (V,) */
        const ptrdiff_t t = ts[r];
        if (t == ignore_label || cnt == 0) {
            for (ptrdiff_t j = 0; j < V; j++) dx[j] = 0;
            continue;
        }
        const REAL yt = y[t];
        for (ptrdiff_t j = 0; j < V; j++) dx[j] = y[j] * scale;
        dx[t] = (yt - (REAL)1) * scale;
    }
}

/* ------------------------------------------------------------------------ */
/* the output head fused: affine, softmax, cross-entropy and its gradient     */

typedef struct {
    REAL *G;              /* (R,V) logits in, gradient out */
    const REAL *b;        /* (V,) or NULL */
    const ptrdiff_t *ts;  /* (R,) */
    double *rowloss;      /* (R,) out */
    ptrdiff_t V, ignore;
    REAL scale;           /* 1 / count */
} FN(head_ctx);

/* The gemm's epilogue: rows [i0, i1) of the logits are final and in cache.
 * Same operations, in the same order, as time_affine_forward (bias),
 * softmax_cross_entropy_forward and softmax_cross_entropy_backward (dout = 1). */
static void FN(head_rows)(void *p, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(head_ctx) *c = (const FN(head_ctx) *)p;
    const ptrdiff_t V = c->V;
    const REAL scale = c->scale;
    for (ptrdiff_t r = i0; r < i1; r++) {
        REAL *RS_RESTRICT g = c->G + r * V; /* (V,) */
        const ptrdiff_t t = c->ts[r];
        c->rowloss[r] = 0;
        if (t == c->ignore) {
            for (ptrdiff_t j = 0; j < V; j++) g[j] = 0;
            continue;
        }
        const REAL m = FN(rs_row_max_bias)(g, c->b, V); /* adds the bias */
        const REAL xt = g[t];
        const REAL s = FN(rs_row_exp_sum)(g, m, V);
        const REAL yt = g[t] / s;
        c->rowloss[r] = log((double)s) - ((double)xt - (double)m);
        FN(rs_row_div_scale)(g, s, scale, V);
        g[t] = (yt - (REAL)1) * scale;
    }
}

size_t FN(affine_softmax_ce_work_size)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V)
{
    const size_t align = 64 / sizeof(REAL);
    const size_t packed = (FN(rs_gemm_packed_size)(D, V) + align - 1) / align * align;
    return packed + (size_t)(N * T) * (sizeof(double) / sizeof(REAL) + 1);
}

double FN(affine_softmax_ce_forward)(REAL *G, ptrdiff_t *count, REAL *work, const REAL *x,
                                     const REAL *W, ptrdiff_t rsw, ptrdiff_t csw,
                                     const REAL *b, const ptrdiff_t *ts,
                                     ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V,
                                     ptrdiff_t ignore_label)
{
    const ptrdiff_t R = N * T;
    const size_t align = 64 / sizeof(REAL);
    REAL *Wp = work; /* W packed for the gemm */
    double *rowloss = (double *)(work + (FN(rs_gemm_packed_size)(D, V) + align - 1) / align * align);
    ptrdiff_t cnt = 0;
    for (ptrdiff_t r = 0; r < R; r++) cnt += ts[r] != ignore_label;
    *count = cnt;
    if (R == 0 || V == 0) {
        for (ptrdiff_t i = 0; i < R * V; i++) G[i] = 0;
        return NAN;
    }
    FN(head_ctx) ctx = {.G = G, .b = b, .ts = ts, .rowloss = rowloss, .V = V,
                        .ignore = ignore_label,
                        .scale = cnt ? (REAL)(1.0 / (double)cnt) : (REAL)0};
    /* logits (R,V) = x (R,D) · W (D,V), then head_rows on each block of rows
       while it is in cache; small heads (in cache anyway) skip packing W */
    if ((double)R * (double)V * sizeof(REAL) <= 262144.0) {
        FN(rs_gemm)(R, V, D, x, D, 1, W, rsw, csw, G, V, 0);
        FN(head_rows)(&ctx, 0, R);
    } else if (rs_blas_get() && 2.0 * (double)R * (double)V * (double)D >= RS_BLAS_MIN_FLOPS) {
        /* a CBLAS build: the platform BLAS, head_rows on its row blocks */
        FN(rs_gemm_epi)(R, V, D, x, D, 1, W, rsw, csw, G, V, 0, FN(head_rows), &ctx);
    } else {
        FN(rs_gemm_pack_b)(Wp, D, V, W, rsw, csw);
        FN(rs_gemm_packed)(R, V, D, x, D, 1, Wp, G, V, 0, FN(head_rows), &ctx);
    }
    double total = 0;
    for (ptrdiff_t r = 0; r < R; r++)
        if (ts[r] != ignore_label) total += rowloss[r];
    return cnt ? total / (double)cnt : NAN;
}

