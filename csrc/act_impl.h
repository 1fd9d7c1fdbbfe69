/* act_impl.h -- the activations, a template (template.h) instantiated by
 * act.c. What differs between float and double (constants, coefficients,
 * intrinsic names: RS_FABS, RS_MAGIC, RS_EXP_COEFS, ..., MM256(op), ...)
 * is in act_types.h, included at the start of the outer part and undone at
 * its end.
 *
 * The file has two parts:
 *  - the outer part (RS_LANE undefined): per-REAL helpers; then, once per
 *    path, it defines a "lane" vocabulary (a vector type V of VLEN REALs and
 *    the operations V_ADD, V_FMA, ...) and includes this file again;
 *    then the public functions, which dispatch on rs_get_path().
 *  - the inner part (RS_LANE defined): the algorithms, written once over V.
 *    For the portable path V is a plain REAL and the loops are written so
 *    that gcc/clang auto-vectorize them (no branches, no libm calls).
 */
#ifndef RS_LANE
/* ====================================================== outer part ===== */
#include "act_types.h" /* the per-type constants and intrinsic names */

static const REAL FN(exp_coef)[] = { RS_EXP_COEFS };
static const REAL FN(tanh_coef)[] = { RS_TANH_COEFS };
#define RS_NCOEF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Bit patterns (memcpy is the portable type pun; it compiles to nothing). */
RS_ACT_INLINE UREAL FN(bits_of)(REAL x) { UREAL u; memcpy(&u, &x, sizeof u); return u; }
RS_ACT_INLINE REAL FN(real_of)(UREAL u) { REAL x; memcpy(&x, &u, sizeof x); return x; }
/* all ones if the sign bit of x is set, else 0 */
RS_ACT_INLINE UREAL FN(sign_mask)(REAL x)
{
    return (UREAL)0 - (FN(bits_of)(x) >> (8 * sizeof(UREAL) - 1));
}
/* mask all ones: t; mask zero: f */
RS_ACT_INLINE REAL FN(select_mask)(UREAL mask, REAL t, REAL f)
{
    return FN(real_of)((FN(bits_of)(t) & mask) | (FN(bits_of)(f) & ~mask));
}

/* Lane vocabulary, the same for every path:
 *   V, VLEN, RS_LANE (name suffix), RS_LANE_ATTR (function attribute)
 *   V_SET1(c) V_LOAD(p) V_STORE(p, v)  V_ADD V_SUB V_MUL V_DIV
 *   V_FMA(a, b, c)         a*b + c (fused on the SIMD paths)
 *   V_ABS(x)               |x|
 *   V_COPYSIGN(m, s)       |m| with the sign of s (m >= 0 or NaN)
 *   V_CLAMP_HI(x, c)       min(x, c) for x >= 0, NaN stays NaN
 *   V_SELECT_NEG(s, t, f)  sign bit of s set ? t : f
 *   V_RELU(x)              x <= 0 ? +0 : x  (NaN stays NaN)
 *   V_POW2(kf, one)        2^k * one, where kf = RS_MAGIC + k (k an integer)
 *                          and one is a power of two: exponent-field add   */

/* ---- portable: one REAL, plain C */
#define RS_LANE portable
#define RS_LANE_ATTR
#define V REAL
#define VLEN 1
#define V_SET1(c) ((REAL)(c))
#define V_LOAD(p) (*(p))
#define V_STORE(p, v) (*(p) = (v))
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_MUL(a, b) ((a) * (b))
#define V_DIV(a, b) ((a) / (b))
#define V_FMA(a, b, c) ((a) * (b) + (c))
#define V_ABS(x) RS_FABS(x)
#define V_COPYSIGN(m, s) RS_COPYSIGN(m, s)
/* Selects are done on bit patterns with a mask made from a sign bit, not
   with ?: or a comparison: gcc turns a ?: into a branch when an arm is
   constant or needs a division (which may trap), and then won't vectorize;
   nor can it make a 64-bit mask from a double comparison with plain SSE2.
   Clamp: c - x < 0 when x > c; a NaN x gives a NaN of x's (clear) sign. */
#define V_SELECT_NEG(s, t, f) FN(select_mask)(FN(sign_mask)(s), t, f)
#define V_CLAMP_HI(x, c) V_SELECT_NEG(V_SUB(c, x), c, x)
#define V_RELU(x) ((x) <= 0 ? (REAL)0 : (x))
#define V_MAX(a, b) ((a) > (b) ? (a) : (b))
#define V_POW2(kf, one) \
    FN(real_of)((UREAL)((FN(bits_of)(kf) << RS_MANT_BITS) + FN(bits_of)(one)))
#include "act_impl.h"

#if RS_X86_DISPATCH
/* ---- AVX2 + FMA: 256-bit vectors */
#define RS_LANE avx2
#define RS_LANE_ATTR RS_TARGET_AVX2
#define V RS_M256
#define VLEN ((int)(32 / sizeof(REAL)))
#define V_SET1(c) MM256(set1)((REAL)(c))
#define V_LOAD(p) MM256(loadu)(p)
#define V_STORE(p, v) MM256(storeu)(p, v)
#define V_ADD(a, b) MM256(add)(a, b)
#define V_SUB(a, b) MM256(sub)(a, b)
#define V_MUL(a, b) MM256(mul)(a, b)
#define V_DIV(a, b) MM256(div)(a, b)
#define V_FMA(a, b, c) MM256(fmadd)(a, b, c)
#define V_ABS(x) MM256(andnot)(MM256(set1)((REAL)-0.0), x)
#define V_COPYSIGN(m, s) MM256(or)(m, MM256(and)(s, MM256(set1)((REAL)-0.0)))
#define V_CLAMP_HI(x, c) MM256(min)(c, x) /* min returns its 2nd operand on NaN */
#define V_SELECT_NEG(s, t, f) MM256(blendv)(f, t, s) /* blendv reads sign bits */
#define V_RELU(x) MM256(and)(x, MM256(cmp)(x, MM256(setzero)(), _CMP_NLE_UQ))
#define V_MAX(a, b) MM256(max)(a, b) /* a > b ? a : b, as the portable one */
#define V_POW2(kf, one) \
    MM256_TOV(MM256I(add)(MM256I(slli)(MM256_TOI(kf), RS_MANT_BITS), MM256_TOI(one)))
#include "act_impl.h"

/* ---- AVX-512 (F, DQ): 512-bit vectors */
#define RS_LANE avx512
#define RS_LANE_ATTR RS_TARGET_AVX512
#define V RS_M512
#define VLEN ((int)(64 / sizeof(REAL)))
#define V_SET1(c) MM512(set1)((REAL)(c))
#define V_LOAD(p) MM512(loadu)(p)
#define V_STORE(p, v) MM512(storeu)(p, v)
#define V_ADD(a, b) MM512(add)(a, b)
#define V_SUB(a, b) MM512(sub)(a, b)
#define V_MUL(a, b) MM512(mul)(a, b)
#define V_DIV(a, b) MM512(div)(a, b)
#define V_FMA(a, b, c) MM512(fmadd)(a, b, c)
#define V_ABS(x) MM512(andnot)(MM512(set1)((REAL)-0.0), x)
#define V_COPYSIGN(m, s) MM512(or)(m, MM512(and)(s, MM512(set1)((REAL)-0.0)))
#define V_CLAMP_HI(x, c) MM512(min)(c, x)
#define V_SELECT_NEG(s, t, f) MM512(mask_blend)(MM512_SIGNS(MM512_TOI(s)), f, t)
#define V_RELU(x) MM512(maskz_mov)(MM512_CMP(x, MM512(setzero)(), _CMP_NLE_UQ), x)
#define V_MAX(a, b) MM512(max)(a, b)
#define V_POW2(kf, one) \
    MM512_TOV(MM512I(add)(MM512I(slli)(MM512_TOI(kf), RS_MANT_BITS), MM512_TOI(one)))
#include "act_impl.h"
#endif /* RS_X86_DISPATCH */

#if RS_ARM_NEON
/* ---- NEON (aarch64): 128-bit vectors. Each operation is the x86 one's
   (the selects and min/max keep the x86 operand order for NaNs), so the
   bits are those of the AVX2 / AVX-512 paths. */
#define RS_LANE neon
#define RS_LANE_ATTR
#define V RS_NV
#define VLEN ((int)(16 / sizeof(REAL)))
#define V_SET1(c) N_DUP((REAL)(c))
#define V_LOAD(p) NQF(vld1)(p)
#define V_STORE(p, v) NQF(vst1)(p, v)
#define V_ADD(a, b) NQF(vadd)(a, b)
#define V_SUB(a, b) NQF(vsub)(a, b)
#define V_MUL(a, b) NQF(vmul)(a, b)
#define V_DIV(a, b) NQF(vdiv)(a, b)
#define V_FMA(a, b, c) NQF(vfma)(c, a, b)
#define V_ABS(x) NQF(vabs)(x)
#define V_COPYSIGN(m, s) \
    N_U2F(NQU(vorr)(N_F2U(m), NQU(vand)(N_F2U(s), N_F2U(N_DUP((REAL)-0.0)))))
#define V_CLAMP_HI(x, c) NQF(vbsl)(NQF(vclt)(c, x), c, x) /* c < x ? c : x */
#define V_SELECT_NEG(s, t, f) NQF(vbsl)(N_SIGNS(s), t, f)
#define V_RELU(x) NQF(vbsl)(NQF(vcle)(x, N_DUP((REAL)0)), N_DUP((REAL)0), x)
#define V_MAX(a, b) NQF(vbsl)(NQF(vcgt)(a, b), a, b)
#define V_POW2(kf, one) N_U2F(NQU(vadd)(N_SHL_MANT(N_F2U(kf)), N_F2U(one)))
#include "act_impl.h"
#endif /* RS_ARM_NEON */

/* y = f(x [+ b]) on the path in use. x may equal y. */
static void FN(act_run)(REAL *y, const REAL *x, const REAL *b, ptrdiff_t n, int act)
{
    if (n <= 0)
        return;
#if RS_X86_DISPATCH
    switch (rs_get_path()) {
    case RS_PATH_AVX512: RS_CAT(FN(act_array), avx512)(y, x, b, n, act); return;
    case RS_PATH_AVX2: RS_CAT(FN(act_array), avx2)(y, x, b, n, act); return;
    default: break;
    }
#elif RS_ARM_NEON
    if (rs_get_path() == RS_PATH_NEON) {
        RS_CAT(FN(act_array), neon)(y, x, b, n, act);
        return;
    }
#endif
    RS_CAT(FN(act_array), portable)(y, x, b, n, act);
}

/* The path's version of a lane function: RS_PATHED(name) is an expression. */
#if RS_X86_DISPATCH
#  define RS_PATHED(name)                                              \
    (rs_get_path() == RS_PATH_AVX512 ? RS_CAT(FN(name), avx512)        \
     : rs_get_path() == RS_PATH_AVX2 ? RS_CAT(FN(name), avx2)          \
                                     : RS_CAT(FN(name), portable))
#elif RS_ARM_NEON
#  define RS_PATHED(name) \
    (rs_get_path() == RS_PATH_NEON ? RS_CAT(FN(name), neon) : RS_CAT(FN(name), portable))
#else
#  define RS_PATHED(name) RS_CAT(FN(name), portable)
#endif

REAL FN(rs_row_max_bias)(REAL *x, const REAL *b, ptrdiff_t n)
{
    return RS_PATHED(row_max_bias)(x, b, n);
}

REAL FN(rs_row_exp_sum)(REAL *x, REAL m, ptrdiff_t n)
{
    return RS_PATHED(row_exp_sum)(x, m, n);
}

void FN(rs_row_div_scale)(REAL *x, REAL s, REAL scale, ptrdiff_t n)
{
    RS_PATHED(row_div_scale)(x, s, scale, n);
}
#undef RS_PATHED

void FN(rs_tanh)(REAL *y, const REAL *x, ptrdiff_t n)
{
    FN(act_run)(y, x, NULL, n, RS_ACT_TANH);
}

void FN(rs_sigmoid)(REAL *y, const REAL *x, ptrdiff_t n)
{
    FN(act_run)(y, x, NULL, n, RS_ACT_SIGMOID);
}

void FN(rs_relu)(REAL *y, const REAL *x, ptrdiff_t n)
{
    FN(act_run)(y, x, NULL, n, RS_ACT_RELU);
}

void FN(rs_exp_nonpos)(REAL *y, const REAL *x, ptrdiff_t n)
{
    FN(act_run)(y, x, NULL, n, RS_ACT_EXP_NONPOS);
}

void FN(rs_act)(REAL *y, const REAL *x, ptrdiff_t n, int act)
{
    FN(act_run)(y, x, NULL, n, act);
}

void FN(rs_act_bias_row)(REAL *y,       /* (n,) in/out */
                         const REAL *b, /* (n,) or NULL */
                         ptrdiff_t n, int act)
{
    FN(act_run)(y, y, b, n, act);
}

/* da[i] = (dh[i] + dh2[i]) * f'(h[i]), for one constant act after inlining.
   da may alias the inputs; chunks go through a local buffer (see LN(map)). */
RS_ACT_INLINE void FN(bwd_loop)(REAL *da, const REAL *dh, const REAL *dh2,
                                const REAL *h, ptrdiff_t n, int act)
{
    REAL tmp[RS_ACT_CHUNK];
    for (ptrdiff_t i = 0; i < n; i += RS_ACT_CHUNK) {
        ptrdiff_t m = n - i < RS_ACT_CHUNK ? n - i : RS_ACT_CHUNK;
        for (ptrdiff_t j = 0; j < m; j++) {
            REAL g = dh2 ? dh[i + j] + dh2[i + j] : dh[i + j];
            REAL hj = h[i + j];
            switch (act) {
            case RS_ACT_TANH: g = g * ((REAL)1 - hj * hj); break;
            case RS_ACT_SIGMOID: g = g * ((REAL)1 - hj) * hj; break;
            case RS_ACT_RELU: g = hj > 0 ? g : (REAL)0; break;
            default: break;
            }
            tmp[j] = g;
        }
        memcpy(da + i, tmp, (size_t)m * sizeof(REAL));
    }
}

void FN(rs_act_backward_row)(REAL *da,        /* (n,) out */
                             const REAL *dh,  /* (n,) */
                             const REAL *dh2, /* (n,) or NULL */
                             const REAL *h,   /* (n,) forward output */
                             ptrdiff_t n, int act)
{
#define RS_BWD_CASE(LABEL, A)                            \
    LABEL:                                               \
        if (dh2)                                         \
            FN(bwd_loop)(da, dh, dh2, h, n, A);          \
        else                                             \
            FN(bwd_loop)(da, dh, NULL, h, n, A);         \
        break;
    switch (act) {
        RS_BWD_CASE(case RS_ACT_TANH, RS_ACT_TANH)
        RS_BWD_CASE(case RS_ACT_SIGMOID, RS_ACT_SIGMOID)
        RS_BWD_CASE(case RS_ACT_RELU, RS_ACT_RELU)
        RS_BWD_CASE(default, -1) /* identity */
    }
#undef RS_BWD_CASE
}

#undef RS_NCOEF
#define RS_ACT_TYPES_UNDEF
#include "act_types.h"

#else /* RS_LANE defined */
/* ====================================================== inner part ===== */
/* Kernels for one lane type V; names get the suffix _<type>_<path>. */
#define LN(name) RS_CAT(FN(name), RS_LANE)

/* c[0] + c[1] x + ... + c[nc-1] x^(nc-1), Horner (unrolled: nc is a constant) */
RS_ACT_INLINE RS_LANE_ATTR V LN(poly)(V x, const REAL *c, int nc)
{
    V p = V_SET1(c[nc - 1]);
    for (int i = nc - 2; i >= 0; i--)
        p = V_FMA(p, x, V_SET1(c[i]));
    return p;
}

/* e^t = (1 + s) * 2^k for t in [-RS_SIG_CLAMP, 0]: returns s = e^r - 1,
   |s| < 0.42, with r = t - k ln2, and sets *kf = RS_MAGIC + k. */
RS_ACT_INLINE RS_LANE_ATTR V LN(exp_parts)(V t, V *kf)
{
    V k = V_FMA(t, V_SET1(RS_LOG2E), V_SET1(RS_MAGIC)); /* MAGIC + round(t/ln2) */
    V kk = V_SUB(k, V_SET1(RS_MAGIC));                   /* k, exactly */
    V r = V_FMA(kk, V_SET1(-RS_LN2HI), t);               /* exact */
    r = V_FMA(kk, V_SET1(-RS_LN2LO), r);                 /* |r| <= ln2/2 */
    V p = LN(poly)(r, FN(exp_coef), RS_NCOEF(FN(exp_coef)));
    *kf = k;
    return V_FMA(V_MUL(r, r), p, r);
}

RS_ACT_INLINE RS_LANE_ATTR V LN(tanh_v)(V x)
{
    V a = V_CLAMP_HI(V_ABS(x), V_SET1(RS_TANH_CLAMP));
    /* small a: a + a^3 P(a^2) */
    V z = V_MUL(a, a);
    V ys = V_FMA(V_MUL(a, z), LN(poly)(z, FN(tanh_coef), RS_NCOEF(FN(tanh_coef))), a);
    /* large a: 1 - 2e/(1 + e), e = exp(-2a) = 2^k (1 + s) in (0, 1/3];
       2e and 1 + e are each rounded once */
    V one = V_SET1(1);
    V kf;
    V s = LN(exp_parts)(V_MUL(a, V_SET1(-2)), &kf);
    V p = V_POW2(kf, one);                          /* 2^k */
    V e2 = V_MUL(V_FMA(p, s, p), V_SET1(2));        /* 2e */
    V d = V_FMA(p, s, V_ADD(one, p));               /* 1 + e */
    V yl = V_SUB(one, V_DIV(e2, d));
    V y = V_SELECT_NEG(V_SUB(a, V_SET1(RS_TANH_SMALL)), ys, yl); /* NaN: both NaN */
    return V_COPYSIGN(y, x);
}

RS_ACT_INLINE RS_LANE_ATTR V LN(sigmoid_v)(V x)
{
    V one = V_SET1(1);
    V a = V_CLAMP_HI(V_ABS(x), V_SET1(RS_SIG_CLAMP));
    V kf;
    V s = LN(exp_parts)(V_MUL(a, V_SET1(-1)), &kf);
    /* e = exp(-a) = (q + q_lo) 2^k1 2^k2, k1 + k2 = k: each factor is a
       normal number even where e is subnormal (rounded once, at the end). */
    V q = V_ADD(one, s);
    V q_lo = V_ADD(V_SUB(one, q), s);                          /* exact */
    V kk = V_SUB(kf, V_SET1(RS_MAGIC));
    V k1 = V_FMA(kk, V_SET1(0.5), V_SET1(RS_MAGIC));           /* MAGIC + k1 */
    V k2 = V_ADD(V_SUB(kk, V_SUB(k1, V_SET1(RS_MAGIC))), V_SET1(RS_MAGIC));
    V p1 = V_POW2(k1, one), p2 = V_POW2(k2, one);
    V e = V_MUL(V_MUL(q, p1), p2);
    V e_lo = V_MUL(V_MUL(q_lo, p1), p2);
    /* d + d_lo = 1 + e + e_lo */
    V d = V_ADD(one, e);
    V d_lo = V_ADD(V_ADD(V_SUB(one, d), e), e_lo);
    /* y = num/(d + d_lo): x >= 0: num = 1;  x < 0: num = e + e_lo */
    V num = V_SELECT_NEG(x, e, one);
    V num_lo = V_SELECT_NEG(x, e_lo, V_SET1(0));
    V y0 = V_DIV(num, d);
    V inv_d = V_SELECT_NEG(x, V_SUB(one, y0), y0); /* ~ 1/d */
    V corr = V_MUL(V_SUB(num_lo, V_MUL(y0, d_lo)), inv_d);
    return V_ADD(y0, corr);
}

/* e^x for x <= 0 (softmax's x - max): the sigmoid's exp, with 2^k split in
   two factors so that subnormal results are rounded once. x > 0 gives 1. */
RS_ACT_INLINE RS_LANE_ATTR V LN(exp_nonpos_v)(V x)
{
    V a = V_CLAMP_HI(V_RELU(V_MUL(x, V_SET1(-1))), V_SET1(RS_SIG_CLAMP));
    V kf;
    V s = LN(exp_parts)(V_MUL(a, V_SET1(-1)), &kf);
    V kk = V_SUB(kf, V_SET1(RS_MAGIC));
    V k1 = V_FMA(kk, V_SET1(0.5), V_SET1(RS_MAGIC));           /* MAGIC + k1 */
    V k2 = V_ADD(V_SUB(kk, V_SUB(k1, V_SET1(RS_MAGIC))), V_SET1(RS_MAGIC));
    V p1 = V_POW2(k1, V_SET1(1)), p2 = V_POW2(k2, V_SET1(1));
    return V_MUL(V_FMA(p1, s, p1), p2);
}

RS_ACT_INLINE RS_LANE_ATTR V LN(relu_v)(V x)
{
    return V_RELU(x);
}

RS_ACT_INLINE RS_LANE_ATTR V LN(act_v)(V x, int act)
{
    switch (act) {
    case RS_ACT_TANH: return LN(tanh_v)(x);
    case RS_ACT_SIGMOID: return LN(sigmoid_v)(x);
    case RS_ACT_RELU: return LN(relu_v)(x);
    case RS_ACT_EXP_NONPOS: return LN(exp_nonpos_v)(x);
    default: return x;
    }
}

/* y = f(x [+ b]), for one constant act and b either NULL or not, after
   inlining. Whole vectors, then the tail through a zero-padded buffer. */
RS_ACT_INLINE RS_LANE_ATTR void LN(map)(REAL *y,       /* (n,) */
                                        const REAL *x, /* (n,), may be y */
                                        const REAL *b, /* (n,) or NULL */
                                        ptrdiff_t n, int act)
{
    ptrdiff_t i = 0;
    if (VLEN == 1) {
        /* portable: through a local buffer, which nothing else can alias,
           so the compilers vectorize the inner loop with no overlap check
           (y == x would send clang's checked loop to its scalar version) */
        REAL tmp[RS_ACT_CHUNK];
        for (; i < n; i += RS_ACT_CHUNK) {
            ptrdiff_t m = n - i < RS_ACT_CHUNK ? n - i : RS_ACT_CHUNK;
            for (ptrdiff_t j = 0; j < m; j++) {
                V v = V_LOAD(x + i + j);
                if (b)
                    v = V_ADD(v, V_LOAD(b + i + j));
                V_STORE(tmp + j, LN(act_v)(v, act));
            }
            memcpy(y + i, tmp, (size_t)m * sizeof(REAL));
        }
        return;
    }
    for (; i + VLEN <= n; i += VLEN) {
        V v = V_LOAD(x + i);
        if (b)
            v = V_ADD(v, V_LOAD(b + i));
        V_STORE(y + i, LN(act_v)(v, act));
    }
    if (VLEN > 1 && i < n) {
        REAL buf[VLEN];
        ptrdiff_t m = n - i;
        for (ptrdiff_t j = 0; j < VLEN; j++)
            buf[j] = j >= m ? (REAL)0 : b ? x[i + j] + b[i + j] : x[i + j];
        V_STORE(buf, LN(act_v)(V_LOAD(buf), act));
        memcpy(y + i, buf, (size_t)m * sizeof(REAL));
    }
}

/* The path's entry point: one specialized loop per (act, bias or not). */
static RS_LANE_ATTR void LN(act_array)(REAL *y, const REAL *x, const REAL *b,
                                       ptrdiff_t n, int act)
{
#define RS_MAP_CASE(A)                      \
    case A:                                 \
        if (b)                              \
            LN(map)(y, x, b, n, A);         \
        else                                \
            LN(map)(y, x, NULL, n, A);      \
        break;
    switch (act) {
        RS_MAP_CASE(RS_ACT_TANH)
        RS_MAP_CASE(RS_ACT_SIGMOID)
        RS_MAP_CASE(RS_ACT_RELU)
        RS_MAP_CASE(RS_ACT_EXP_NONPOS)
    default:
        if (b)
            LN(map)(y, x, b, n, -1);
        else if (y != x)
            memmove(y, x, (size_t)n * sizeof(REAL));
        break;
    }
#undef RS_MAP_CASE
}

/* ---- softmax rows. Reductions run over 16 fixed lanes (element j goes to
   lane j % 16, each lane summed in order) combined in a fixed order at the
   end: the same order on every path. */
#define RS_NACC (16 / VLEN)

/* x += b (b may be NULL), returns max_j x[j] ("x > m ? x : m": a NaN is kept
   only from x[0]; it reaches the sum anyway). n >= 1. */
static RS_LANE_ATTR REAL LN(row_max_bias)(REAL *x, const REAL *b, ptrdiff_t n)
{
    REAL a16[16];
    V acc[RS_NACC];
    const REAL x0 = b ? x[0] + b[0] : x[0];
    for (int q = 0; q < RS_NACC; q++) acc[q] = V_SET1(x0);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int q = 0; q < RS_NACC; q++) {
            V v = V_LOAD(x + i + q * VLEN);
            if (b) {
                v = V_ADD(v, V_LOAD(b + i + q * VLEN));
                V_STORE(x + i + q * VLEN, v);
            }
            acc[q] = V_MAX(v, acc[q]);
        }
    for (int q = 0; q < RS_NACC; q++) V_STORE(a16 + q * VLEN, acc[q]);
    for (int k = 0; i + k < n; k++) {
        REAL v = b ? x[i + k] + b[i + k] : x[i + k];
        if (b) x[i + k] = v;
        a16[k] = v > a16[k] ? v : a16[k];
    }
    REAL m = a16[0];
    for (int k = 1; k < 16; k++) m = a16[k] > m ? a16[k] : m;
    return m;
}

/* x = e^(x - m) in place, returns the sum of the new x. */
static RS_LANE_ATTR REAL LN(row_exp_sum)(REAL *x, REAL m, ptrdiff_t n)
{
    REAL a16[16];
    V acc[RS_NACC];
    const V vm = V_SET1(m);
    for (int q = 0; q < RS_NACC; q++) acc[q] = V_SET1(0);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int q = 0; q < RS_NACC; q++) {
            V e = LN(exp_nonpos_v)(V_SUB(V_LOAD(x + i + q * VLEN), vm));
            V_STORE(x + i + q * VLEN, e);
            acc[q] = V_ADD(acc[q], e);
        }
    for (int q = 0; q < RS_NACC; q++) V_STORE(a16 + q * VLEN, acc[q]);
    if (i < n) { /* the tail through a zero-padded buffer */
        REAL buf[16];
        const ptrdiff_t r = n - i;
        for (int k = 0; k < 16; k++) buf[k] = k < r ? x[i + k] - m : (REAL)0;
        for (int q = 0; q < RS_NACC; q++)
            V_STORE(buf + q * VLEN, LN(exp_nonpos_v)(V_LOAD(buf + q * VLEN)));
        for (int k = 0; k < r; k++) {
            x[i + k] = buf[k];
            a16[k] += buf[k];
        }
    }
    for (int w = 8; w > 0; w /= 2)
        for (int k = 0; k < w; k++) a16[k] += a16[k + w];
    return a16[0];
}

/* x = (x / s) * scale */
static RS_LANE_ATTR void LN(row_div_scale)(REAL *x, REAL s, REAL scale, ptrdiff_t n)
{
    const V vs = V_SET1(s), vc = V_SET1(scale);
    ptrdiff_t i = 0;
    for (; i + VLEN <= n; i += VLEN) V_STORE(x + i, V_MUL(V_DIV(V_LOAD(x + i), vs), vc));
    for (; i < n; i++) x[i] = (x[i] / s) * scale;
}
#undef RS_NACC

#undef LN
/* end of this lane: forget its vocabulary */
#undef RS_LANE
#undef RS_LANE_ATTR
#undef V
#undef VLEN
#undef V_SET1
#undef V_LOAD
#undef V_STORE
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_FMA
#undef V_ABS
#undef V_COPYSIGN
#undef V_CLAMP_HI
#undef V_SELECT_NEG
#undef V_RELU
#undef V_MAX
#undef V_POW2
#endif /* RS_LANE */
