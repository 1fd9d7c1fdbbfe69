/* sgd_impl.h -- the SGD and Adam steps (sgd.h), a template (template.h) instantiated by sgd.c. */
#if RS_TU_BASE
/* elements [i0, i1): grad *= s first when scaling (the clip's rescale, rounded
   and written back), then param -= a * grad. No restrict: grad == param is
   allowed (each element read, then written). */
static void FN(sgd_range)(REAL *param, REAL *grad, REAL a, REAL s, int scale,
                          ptrdiff_t i0, ptrdiff_t i1)
{
    if (scale)
        for (ptrdiff_t i = i0; i < i1; i++) {
            const REAL g = grad[i] * s;
            grad[i] = g;
            param[i] = param[i] - a * g;
        }
    else
        for (ptrdiff_t i = i0; i < i1; i++) param[i] = param[i] - a * grad[i];
}

typedef struct {
    sgd_pass pass; /* first: the pass runs range() on slices */
    REAL *p, *g;
    REAL a, s;
    int scale;
} FN(sgd_job);

static void FN(sgd_slice)(const sgd_pass *pass, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(sgd_job) *J = (const FN(sgd_job) *)pass;
    FN(sgd_range)(J->p, J->g, J->a, J->s, J->scale, i0, i1);
}

void FN(sgd_update)(REAL *param, REAL *grad, double lr, double scale, ptrdiff_t n)
{
    FN(sgd_job) J = {{FN(sgd_slice), n}, param, grad, (REAL)lr, (REAL)scale, scale != 1.0};
    sgd_run_pass(&J.pass);
}
#endif

/* elements [i0, i1) of the Adam step; every operation rounded as NumPy's */
SGD_INLINE void FN(adam_body)(REAL *RS_RESTRICT p, REAL *RS_RESTRICT g, REAL *RS_RESTRICT m,
                           REAL *RS_RESTRICT v, double c1, double c2, double lr_t,
                           double scale, ptrdiff_t i0, ptrdiff_t i1)
{
    const REAL a1 = (REAL)c1, a2 = (REAL)c2, eps = (REAL)1e-7, sc = (REAL)scale;
    const int scaling = scale != 1.0;
    for (ptrdiff_t i = i0; i < i1; i++) {
        REAL gi = g[i];
        if (scaling) {                     /* g *= scale: the clip's rescale */
            gi = gi * sc;
            g[i] = gi;
        }
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
RS_SIMD_FN(AVX512, void, FN(adam_avx512), (REAL *p, REAL *g, REAL *m, REAL *v, double c1,
                                           double c2, double lr_t, double scale, ptrdiff_t i0,
                                           ptrdiff_t i1))
{
    FN(adam_body)(p, g, m, v, c1, c2, lr_t, scale, i0, i1);
}
RS_SIMD_FN(AVX2, void, FN(adam_avx2), (REAL *p, REAL *g, REAL *m, REAL *v, double c1,
                                       double c2, double lr_t, double scale, ptrdiff_t i0,
                                       ptrdiff_t i1))
{
    FN(adam_body)(p, g, m, v, c1, c2, lr_t, scale, i0, i1);
}
#endif
#if RS_TU_BASE
static void FN(adam_range)(REAL *p, REAL *g, REAL *m, REAL *v, double c1, double c2,
                           double lr_t, double scale, ptrdiff_t i0, ptrdiff_t i1)
{
#if RS_X86_DISPATCH
    switch (rs_get_path()) {
    case RS_PATH_AVX512: FN(adam_avx512)(p, g, m, v, c1, c2, lr_t, scale, i0, i1); return;
    case RS_PATH_AVX2: FN(adam_avx2)(p, g, m, v, c1, c2, lr_t, scale, i0, i1); return;
    default: break;
    }
#endif
    FN(adam_body)(p, g, m, v, c1, c2, lr_t, scale, i0, i1);
}

typedef struct {
    sgd_pass pass; /* first: the pass runs range() on slices */
    REAL *p, *g, *m, *v;
    double c1, c2, lr_t, scale;
} FN(adam_job);

static void FN(adam_slice)(const sgd_pass *pass, ptrdiff_t i0, ptrdiff_t i1)
{
    const FN(adam_job) *J = (const FN(adam_job) *)pass;
    FN(adam_range)(J->p, J->g, J->m, J->v, J->c1, J->c2, J->lr_t, J->scale, i0, i1);
}

void FN(adam_update)(REAL *param, REAL *grad, REAL *m, REAL *v, double c1, double c2,
                     double lr_t, double scale, ptrdiff_t n)
{
    FN(adam_job) J = {{FN(adam_slice), n}, param, grad, m, v, c1, c2, lr_t, scale};
    sgd_run_pass(&J.pass);
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
static REAL FN(ssq_path)(const REAL *x, ptrdiff_t n)
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

/* Large arrays: the top `depth` levels of the pairwise tree are cut into
   leaves (the same split as above), one task each, and the leaves' sums are
   added back up the same tree: the same additions in the same order, the
   same bits for any thread count. */
typedef struct {
    const REAL *x;
    ptrdiff_t off[SSQ_LEAVES], len[SSQ_LEAVES];
    REAL sum[SSQ_LEAVES];
    int k;
} FN(ssq_job);

static void FN(ssq_cut)(FN(ssq_job) *J, ptrdiff_t off, ptrdiff_t n, int depth)
{
    if (depth == 0 || n <= 128) {
        J->off[J->k] = off;
        J->len[J->k++] = n;
        return;
    }
    ptrdiff_t n2 = n / 2;
    n2 -= n2 % 8;
    FN(ssq_cut)(J, off, n2, depth - 1);
    FN(ssq_cut)(J, off + n2, n - n2, depth - 1);
}

static REAL FN(ssq_join)(FN(ssq_job) *J, ptrdiff_t n, int depth)
{
    if (depth == 0 || n <= 128)
        return J->sum[J->k++];
    ptrdiff_t n2 = n / 2;
    n2 -= n2 % 8;
    const REAL left = FN(ssq_join)(J, n2, depth - 1);
    return left + FN(ssq_join)(J, n - n2, depth - 1);
}

static void FN(ssq_task)(void *arg, int t, int nt)
{
    FN(ssq_job) *J = (FN(ssq_job) *)arg;
    (void)nt;
    J->sum[t] = FN(ssq_path)(J->x + J->off[t], J->len[t]);
}

REAL FN(sum_squares)(const REAL *x, ptrdiff_t n)
{
    const int nt = sgd_threads(n);
    if (nt <= 1)
        return FN(ssq_path)(x, n);
    FN(ssq_job) J;
    int depth = 0;
    while ((1 << depth) < nt && (1 << depth) < SSQ_LEAVES)
        depth++;
    J.x = x;
    J.k = 0;
    FN(ssq_cut)(&J, 0, n, depth);
    rs_parallel_run(FN(ssq_task), &J, J.k);
    J.k = 0;
    return FN(ssq_join)(&J, n, depth);
}
#endif /* RS_TU_BASE */
