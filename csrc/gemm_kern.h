/* gemm_kern.h -- register-tiled SIMD micro-kernel, a template over the vector
 * ISA and REAL. Included by gemm_impl.h once per (ISA, REAL) with:
 *   KNAME(x)   name mangling              KTARGET   function target attribute
 *   KMR, KNV   tile: KMR rows x KNV vectors of VL lanes (NR = KNV*VL columns)
 *   VEC, VL, V_ZERO(), V_LOAD(p), V_BCAST(x), V_FMA(a,b,c) = a*b+c, V_STORE(p,v)
 *   V_MASK_T, V_MASK(n) (first n lanes), V_LOAD_MASK(p,m), V_STORE_MASK(p,m,v)
 *   KHALF      1: a last vector with at most VL/2 columns is computed with
 *              half-width vectors (2x the FMA rate on AMD Zen 4), using
 *              HVEC, H_FROM_V(v) (low half), H_ZERO(), H_LOAD(p), H_FMA,
 *              H_STORE, H_MASK_T, H_MASK(n), H_LOAD_MASK(p,m), H_STORE_MASK
 *
 * The tile: C(mr, nr) = [C +] a·b over kc steps, where
 *   a: A micro-panel, a(i,p) = a[p*ka + i]  (arow == 0: packed, ka = mr, or
 *      A with contiguous columns), or a[i*ka + p] (arow == 1: A read in place
 *      with contiguous rows)                             (mr, kc)
 *   b: B micro-panel,        b(p,j) = b[p*ldb + j]      (kc, NR), full vectors
 *   c: C(i,j) = c[i*ldc + j], only j < nr touched       (mr, nr)
 * Every C element is one FMA chain over p = 0..kc-1 started from 0 or C.
 */

/* mr and nv are compile-time constants in every instance (see KNAME(kern)). */
RS_FORCE_INLINE KTARGET void
KNAME(tile)(const int mr, const int nv, const int half, const int arow, ptrdiff_t kc,
            const REAL *RS_RESTRICT a, /* (mr, kc) */
            ptrdiff_t ka,
            const REAL *RS_RESTRICT b, /* (kc, NR) rows ldb apart */
            ptrdiff_t ldb,
            REAL *RS_RESTRICT c,       /* (mr, nr) rows ldc apart */
            ptrdiff_t ldc, ptrdiff_t nr, int acc)
{
    VEC t[KMR][KNV];
    const int last = nv - 1;
    const int nfull = nv - half;               /* full-width vectors */
    const int part = nr < (ptrdiff_t)nv * VL;  /* last vector is partial */
    const V_MASK_T m = V_MASK((int)(nr - (ptrdiff_t)last * VL));
#if KHALF
    HVEC th[KMR];
    const H_MASK_T mh = H_MASK((int)(half ? nr - (ptrdiff_t)last * VL : 1));
#else
    (void)half;
#endif

    RS_UNROLL(16)
    for (int i = 0; i < KMR; i++) {
        if (i >= mr)
            break;
        RS_UNROLL(4)
        for (int v = 0; v < KNV; v++) {
            if (v >= nfull)
                break;
            const REAL *cp = c + i * ldc + v * VL;
            if (!acc)
                t[i][v] = V_ZERO();
            else if (v == last && part)
                t[i][v] = V_LOAD_MASK(cp, m);
            else
                t[i][v] = V_LOAD(cp);
        }
#if KHALF
        if (half)
            th[i] = acc ? H_LOAD_MASK(c + i * ldc + last * VL, mh) : H_ZERO();
#endif
    }

/* The k loop unrolled twice: 5-6 % faster on Zen 3 (AVX2) for TimeLSTM 650 and the
   chapter-6 products, alternating processes; a B prefetch 8 or 16 rows ahead gained
   nothing there (BENCHMARKS.md). The same FMA chains, so the same bits. */
#ifndef GEMM_KERN_UNROLL
#  define GEMM_KERN_UNROLL 2
#endif
#ifndef GEMM_KERN_PF
#  define GEMM_KERN_PF 0 /* prefetch B this many k rows ahead (0: none) */
#endif
    RS_UNROLL(GEMM_KERN_UNROLL)
    for (ptrdiff_t p = 0; p < kc; p++) {
        VEC bv[KNV];
#if GEMM_KERN_PF && (defined(__GNUC__) || defined(__clang__))
        __builtin_prefetch(b + GEMM_KERN_PF * ldb);
#endif
        RS_UNROLL(4)
        for (int v = 0; v < KNV; v++)
            if (v < nfull)
                bv[v] = V_LOAD(b + v * VL);
#if KHALF
        HVEC bh = H_ZERO();
        if (half)
            bh = H_LOAD(b + last * VL);
#endif
        RS_UNROLL(16)
        for (int i = 0; i < KMR; i++) {
            if (i >= mr)
                break;
            const VEC ai = V_BCAST(arow ? a[i * ka + p] : a[i]);
            RS_UNROLL(4)
            for (int v = 0; v < KNV; v++)
                if (v < nfull)
                    t[i][v] = V_FMA(ai, bv[v], t[i][v]);
#if KHALF
            if (half)
                th[i] = H_FMA(H_FROM_V(ai), bh, th[i]);
#endif
        }
        if (!arow)
            a += ka;
        b += ldb;
    }

    RS_UNROLL(16)
    for (int i = 0; i < KMR; i++) {
        if (i >= mr)
            break;
        RS_UNROLL(4)
        for (int v = 0; v < KNV; v++) {
            if (v >= nfull)
                break;
            REAL *cp = c + i * ldc + v * VL;
            if (v == last && part)
                V_STORE_MASK(cp, m, t[i][v]);
            else
                V_STORE(cp, t[i][v]);
        }
#if KHALF
        if (half)
            H_STORE_MASK(c + i * ldc + last * VL, mh, th[i]);
#endif
    }
}

/* One entry point: mr in [1, KMR], nr in [1, KNV*VL]. */
static KTARGET void
KNAME(kern)(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t kc,
            const REAL *a, ptrdiff_t ka, int arow,
            const REAL *b, ptrdiff_t ldb,
            REAL *c, ptrdiff_t ldc, int acc)
{
    const int nv = (int)((nr + VL - 1) / VL);
    const int half = KHALF && nr - (ptrdiff_t)(nv - 1) * VL <= VL / 2;
#define KCALL(M, V, H)                                                               \
    do {                                                                             \
        if (arow)                                                                    \
            KNAME(tile)(M, V, H, 1, kc, a, ka, b, ldb, c, ldc, nr, acc);             \
        else                                                                         \
            KNAME(tile)(M, V, H, 0, kc, a, ka, b, ldb, c, ldc, nr, acc);             \
    } while (0)
#define KCASE_NV(M, V)                                                               \
    case V:                                                                          \
        if ((V) <= KNV) {                                                            \
            if (KHALF && half)                                                       \
                KCALL(M, V, KHALF);                                                  \
            else                                                                     \
                KCALL(M, V, 0);                                                      \
        }                                                                            \
        break;
#define KCASE(M)                                                         \
    case M:                                                              \
        if ((M) <= KMR) {                                                \
            switch (nv) {                                                \
                KCASE_NV(M, 1) KCASE_NV(M, 2) KCASE_NV(M, 3) KCASE_NV(M, 4) \
            default: break;                                              \
            }                                                            \
        }                                                                \
        break;
    switch (mr) {
        KCASE(1) KCASE(2) KCASE(3) KCASE(4) KCASE(5) KCASE(6) KCASE(7) KCASE(8)
        KCASE(9) KCASE(10) KCASE(11) KCASE(12) KCASE(13) KCASE(14) KCASE(15) KCASE(16)
    default: break;
    }
#undef KCASE
#undef KCASE_NV
#undef KCALL
}

/* Copy a B panel with contiguous rows: d(p, 0:nv*VL) = s(p, 0:nr), zero-padded
   to whole vectors (the kernel reads nv = ceil(nr/VL) vectors per row). */
static KTARGET void
KNAME(copy_panel)(ptrdiff_t nr, ptrdiff_t kc,
                  const REAL *RS_RESTRICT s, ptrdiff_t lds, /* (kc, nr) */
                  REAL *RS_RESTRICT d, ptrdiff_t ldd)       /* (kc, ldd) */
{
    const int nv = (int)((nr + VL - 1) / VL);
    const int last = nv - 1;
    const V_MASK_T m = V_MASK((int)(nr - (ptrdiff_t)last * VL));
    if (nr == (ptrdiff_t)nv * VL) {
        for (ptrdiff_t p = 0; p < kc; p++)
            for (int v = 0; v < nv; v++)
                V_STORE(d + p * ldd + v * VL, V_LOAD(s + p * lds + v * VL));
    } else {
        for (ptrdiff_t p = 0; p < kc; p++) {
            for (int v = 0; v < last; v++)
                V_STORE(d + p * ldd + v * VL, V_LOAD(s + p * lds + v * VL));
            V_STORE(d + p * ldd + last * VL, V_LOAD_MASK(s + p * lds + last * VL, m));
        }
    }
}
