/* sgd_impl.h -- the SGD and Adam steps (sgd.h), a template (template.h) instantiated by sgd.c. */
#if RS_TU_BASE
void FN(sgd_update)(REAL *param, const REAL *grad, double lr, ptrdiff_t n)
{
    /* no restrict: grad == param is allowed (each element read, then written) */
    const REAL a = (REAL)lr;
    for (ptrdiff_t i = 0; i < n; i++) param[i] = param[i] - a * grad[i];
}
#endif

/* elements [i0, i1) of the Adam step; every operation rounded as NumPy's */
SGD_INLINE void FN(adam_body)(REAL *RS_RESTRICT p, const REAL *RS_RESTRICT g, REAL *RS_RESTRICT m,
                           REAL *RS_RESTRICT v, double c1, double c2, double lr_t,
                           ptrdiff_t i0, ptrdiff_t i1)
{
    const REAL a1 = (REAL)c1, a2 = (REAL)c2, eps = (REAL)1e-7;
    for (ptrdiff_t i = i0; i < i1; i++) {
        const REAL gi = g[i];
        REAL t = gi - m[i];
        t = t * a1;
        const REAL mi = m[i] + t;          /* m += c1 * (g - m) */
        REAL s = gi * gi;
        s = s - v[i];
        s = s * a2;
        const REAL vi = v[i] + s;          /* v += c2 * (g**2 - v) */
        REAL d = RS_SQRT(vi);
        d = d + eps;                       /* sqrt(v) + 1e-7 */
        double u = lr_t * (double)mi;      /* lr_t (float64) * m: a float64 product */
        u = u / (double)d;
        m[i] = mi;
        v[i] = vi;
        p[i] = (REAL)((double)p[i] - u);   /* p -= ...: in float64, rounded to REAL */
    }
}

/* the same loop compiled for each SIMD path (no contraction: same bits on all;
   split builds: in csrc/simd/sgd_*.c, see compat.h) */
#if RS_X86_DISPATCH
RS_SIMD_FN(AVX512, void, FN(adam_avx512), (REAL *p, const REAL *g, REAL *m, REAL *v, double c1,
                                           double c2, double lr_t, ptrdiff_t i0, ptrdiff_t i1))
{
    FN(adam_body)(p, g, m, v, c1, c2, lr_t, i0, i1);
}
RS_SIMD_FN(AVX2, void, FN(adam_avx2), (REAL *p, const REAL *g, REAL *m, REAL *v, double c1,
                                       double c2, double lr_t, ptrdiff_t i0, ptrdiff_t i1))
{
    FN(adam_body)(p, g, m, v, c1, c2, lr_t, i0, i1);
}
#endif
#if RS_TU_BASE
static void FN(adam_range)(REAL *p, const REAL *g, REAL *m, REAL *v, double c1, double c2,
                           double lr_t, ptrdiff_t i0, ptrdiff_t i1)
{
#if RS_X86_DISPATCH
    switch (rs_get_path()) {
    case RS_PATH_AVX512: FN(adam_avx512)(p, g, m, v, c1, c2, lr_t, i0, i1); return;
    case RS_PATH_AVX2: FN(adam_avx2)(p, g, m, v, c1, c2, lr_t, i0, i1); return;
    default: break;
    }
#endif
    FN(adam_body)(p, g, m, v, c1, c2, lr_t, i0, i1);
}

typedef struct {
    REAL *p; const REAL *g; REAL *m, *v;
    double c1, c2, lr_t;
    ptrdiff_t n;
} FN(adam_job);

static void FN(adam_task)(void *arg, int t, int nt)
{
    const FN(adam_job) *J = (const FN(adam_job) *)arg;
    /* split at multiples of 16 elements (whole cache lines) */
    const ptrdiff_t blocks = (J->n + 15) / 16;
    const ptrdiff_t i0 = SGD_MIN(J->n, blocks * t / nt * 16);
    const ptrdiff_t i1 = SGD_MIN(J->n, blocks * (t + 1) / nt * 16);
    FN(adam_range)(J->p, J->g, J->m, J->v, J->c1, J->c2, J->lr_t, i0, i1);
}

void FN(adam_update)(REAL *param, const REAL *grad, REAL *m, REAL *v, double c1, double c2,
                     double lr_t, ptrdiff_t n)
{
    FN(adam_job) J = {param, grad, m, v, c1, c2, lr_t, n};
    /* elementwise: the split never changes a bit; below ~128K elements one
       thread is faster than a fork/join */
    int nt = n >= 131072 ? rs_get_num_threads() : 1;
    if (nt > 1)
        rs_parallel_run(FN(adam_task), &J, nt);
    else
        FN(adam_range)(param, grad, m, v, c1, c2, lr_t, 0, n);
}

#endif /* RS_TU_BASE */

/* ---- sum of squares, NumPy's pairwise summation ----
 * NumPy (umath/loops_utils.h.src, pairwise_sum) adds n values as: n < 8: a
 * running sum from 0; n <= 128: eight running sums over the blocks of 8, then
 * ((r0+r1)+(r2+r3)) + ((r4+r5)+(r6+r7)), then the remainder one by one; larger
 * n: the sum of the halves, split at n/2 rounded down to a multiple of 8.
 * Here the values are the squares x[i]*x[i] rounded to REAL: np.sum(x ** 2),
 * bit for bit. */
SGD_INLINE REAL FN(pw_block)(const REAL *RS_RESTRICT x, ptrdiff_t n)
{
    if (n < 8) {
        REAL res = 0;
        for (ptrdiff_t i = 0; i < n; i++) {
            const REAL q = x[i] * x[i];
            res = res + q;
        }
        return res;
    }
    REAL r[8];
    for (int j = 0; j < 8; j++) r[j] = x[j] * x[j];
    ptrdiff_t i = 8;
    for (; i < n - (n % 8); i += 8)
        for (int j = 0; j < 8; j++) {
            const REAL q = x[i + j] * x[i + j];
            r[j] = r[j] + q;
        }
    REAL res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) {
        const REAL q = x[i] * x[i];
        res = res + q;
    }
    return res;
}

#define SGD_SSQ_BODY(name)                                                   \
    {                                                                        \
        if (n <= 128)                                                        \
            return FN(pw_block)(x, n);                                       \
        ptrdiff_t n2 = n / 2;                                                \
        n2 -= n2 % 8;                                                        \
        return name(x, n2) + name(x + n2, n - n2); /* depth log2(n/128) */   \
    }
#if RS_TU_BASE
static REAL FN(ssq_portable)(const REAL *x, ptrdiff_t n) SGD_SSQ_BODY(FN(ssq_portable))
#endif
#if RS_X86_DISPATCH
RS_SIMD_FN(AVX2, REAL, FN(ssq_avx2), (const REAL *x, ptrdiff_t n)) SGD_SSQ_BODY(FN(ssq_avx2))
RS_SIMD_FN(AVX512, REAL, FN(ssq_avx512), (const REAL *x, ptrdiff_t n)) SGD_SSQ_BODY(FN(ssq_avx512))
#endif
#undef SGD_SSQ_BODY

#if RS_TU_BASE
REAL FN(sum_squares)(const REAL *x, ptrdiff_t n)
{
#if RS_X86_DISPATCH
    switch (rs_get_path()) {
    case RS_PATH_AVX512: return FN(ssq_avx512)(x, n);
    case RS_PATH_AVX2: return FN(ssq_avx2)(x, n);
    default: break;
    }
#endif
    return FN(ssq_portable)(x, n);
}
#endif /* RS_TU_BASE */
