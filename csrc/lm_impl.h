/* lm_impl.h -- the language-model kernels for one REAL; included by lm.c once
 * for float and once for double. Requires REAL and RS_SUFFIX. See lm.h for
 * the formulas.
 *
 * Reductions over a row (max, sum of exponentials) use LM_LANES partial
 * results combined in a fixed order, so the compiler can vectorize them and
 * the result does not depend on the SIMD width.
 */
#define FN(name) RS_CAT(name, RS_SUFFIX)

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

void FN(time_affine_backward)(REAL *dx, REAL *dW, REAL *db, const REAL *dout,
                              const REAL *x, const REAL *W,
                              ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t V)
{
    const ptrdiff_t R = N * T;
    /* dW (D,V) += xᵀ (D,R) · dout (R,V) */
    FN(rs_gemm)(D, V, R, x, 1, D, dout, V, 1, dW, V, 1);
    /* db (V,) += column sums of dout, rows in order */
    if (db) {
        for (ptrdiff_t r = 0; r < R; r++) {
            const REAL *RS_RESTRICT row = dout + r * V;
            for (ptrdiff_t j = 0; j < V; j++) db[j] += row[j];
        }
    }
    /* dx (R,D) = dout (R,V) · Wᵀ (V,D) */
    FN(rs_gemm)(R, D, V, dout, V, 1, W, 1, V, dx, D, 0);
}

/* ------------------------------------------------------------------------ */
/* softmax fused with cross-entropy                                           */

/* max of x (V,), V >= 1; NaNs are skipped here (they reach the sum anyway) */
static REAL FN(row_max)(const REAL *x, ptrdiff_t V)
{
    REAL acc[LM_LANES];
    for (int k = 0; k < LM_LANES; k++) acc[k] = x[0];
    ptrdiff_t j = 0;
    for (; j + LM_LANES <= V; j += LM_LANES)
        for (int k = 0; k < LM_LANES; k++)
            acc[k] = x[j + k] > acc[k] ? x[j + k] : acc[k];
    for (int k = 0; j + k < V; k++)
        acc[k] = x[j + k] > acc[k] ? x[j + k] : acc[k];
    REAL m = acc[0];
    for (int k = 1; k < LM_LANES; k++) m = acc[k] > m ? acc[k] : m;
    return m;
}

/* y = exp(x - m), returns the sum of y, summed in a fixed order */
static REAL FN(row_exp_sum)(REAL *RS_RESTRICT y, const REAL *RS_RESTRICT x, REAL m, ptrdiff_t V)
{
    for (ptrdiff_t j = 0; j < V; j++) y[j] = x[j] - m;
    FN(rs_exp_nonpos)(y, y, V); /* vectorized; every x - m <= 0 */
    REAL acc[LM_LANES] = {0};
    ptrdiff_t j = 0;
    for (; j + LM_LANES <= V; j += LM_LANES)
        for (int k = 0; k < LM_LANES; k++) acc[k] += y[j + k];
    for (int k = 0; j + k < V; k++) acc[k] += y[j + k];
    /* pairwise combination of the lanes, fixed order */
    for (int w = LM_LANES / 2; w > 0; w /= 2)
        for (int k = 0; k < w; k++) acc[k] += acc[k + w];
    return acc[0];
}

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
        const REAL m = FN(row_max)(x, V);
        const REAL s = FN(row_exp_sum)(y, x, m, V);
        for (ptrdiff_t j = 0; j < V; j++) y[j] = y[j] / s;
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

#undef FN
