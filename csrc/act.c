/* act.c -- float and double instances of act_impl.h.
 *
 * This file holds only what differs between the two types: constants,
 * polynomial coefficients, and the names of the intrinsics (_ps/_pd,
 * epi32/epi64). The algorithms are in act_impl.h, written once.
 *
 * Algorithms (x = input, a = |x|):
 *   tanh:    a < 0.55: a + a^3 P(a^2)            (odd minimax polynomial)
 *            else:     1 - 2e/(1 + e), e = exp(-2a), a clamped to 10 (float)
 *                      / 20 (double) where tanh already rounds to 1
 *            then the sign of x is put back.
 *            (Carrying the rounding errors as in sigmoid would give < 1 ulp
 *            instead of 1.5, but costs ~45% more time; tanh is the hot one.)
 *   sigmoid: e = exp(-a) (a clamped where e underflows to 0);
 *            x >= 0: 1/(1 + e);  x < 0: e/(1 + e), with the rounding errors
 *            of 1 + s and 1 + e carried along (Fast2Sum) and corrected after
 *            the division (without that, 2.4 ulp in float)
 *   exp(t), t <= 0: t = k ln2 + r, |r| <= ln2/2 (Cody-Waite, two-part ln2,
 *            k rounded with the 1.5*2^p "magic" add), e^r = 1 + r + r^2 P(r),
 *            2^k built in the exponent bits (in two halves for sigmoid, whose
 *            e may be subnormal).
 * Measured max error vs a correctly rounded reference (all 2^32 floats;
 * 1e8 sampled doubles vs long double), every path: see act.h.
 * Coefficients: minimax (Remez, relative error) computed with mpmath:
 *   float: exp 2^-28.3 (deg 6), tanh 2^-29.8 (deg 11 in a);
 *   double: exp 2^-57.9 (deg 11), tanh 2^-60.6 (deg 23 in a).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "compat.h"
#include "act.h"

#if RS_X86_DISPATCH
#include <immintrin.h>
#endif

/* The portable path must not fuse a*b+c (clang does so by default); gcc does
   not contract in ISO C mode. This keeps the backward bitwise NumPy's. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Force inlining of the small per-path helpers, so each loop is specialized
   for its activation (the portable one must be for gcc/clang to vectorize it). */
#if defined(_MSC_VER) && !defined(__clang__)
#  define RS_ACT_INLINE static __forceinline
#elif defined(__GNUC__) || defined(__clang__)
#  define RS_ACT_INLINE static inline __attribute__((always_inline))
#else
#  define RS_ACT_INLINE static inline
#endif

/* Elements per chunk of the portable loops (a stack buffer of this many). */
#define RS_ACT_CHUNK 256

/* ------------------------------------------------------------------ float */
#define REAL float
#define UREAL uint32_t                  /* unsigned integer of the same size */
#define RS_SUFFIX f32
#define RS_FABS fabsf
#define RS_COPYSIGN copysignf
#define RS_MANT_BITS 23
#define RS_MAGIC 0x1.8p23f              /* x + MAGIC rounds x to an integer */
#define RS_LOG2E 1.44269504088896341f
#define RS_LN2HI 0.693359375f           /* 9 significant bits: k*LN2HI exact */
#define RS_LN2LO (-2.12194440054690583e-4f)
#define RS_EXP_COEFS                    /* e^r = 1 + r + r^2 (c0 + c1 r + ...) */ \
    0.4999999345168878242f, 0.1666652068981918854f, 0.04166838736293359757f, \
    0.008368709826656567284f, 0.001381461327062845092f
#define RS_TANH_SMALL 0.55f             /* below: polynomial */
#define RS_TANH_CLAMP 10.0f             /* tanh(x) rounds to 1 beyond 9.02 */
#define RS_TANH_COEFS                   /* tanh a = a + a^3 (c0 + c1 a^2 + ...) */ \
    -0.3333331755966068909f, 0.1333258613834321246f, -0.05385230990763922125f, \
    0.02107167907647938893f, -0.006274239584466113741f
#define RS_SIG_CLAMP 104.0f             /* e^-104 rounds to 0 in float */
#if RS_X86_DISPATCH
#  define MM256(op) _mm256_##op##_ps
#  define MM512(op) _mm512_##op##_ps
#  define MM256I(op) _mm256_##op##_epi32
#  define MM512I(op) _mm512_##op##_epi32
#  define MM256_TOI _mm256_castps_si256
#  define MM256_TOV _mm256_castsi256_ps
#  define MM512_TOI _mm512_castps_si512
#  define MM512_TOV _mm512_castsi512_ps
#  define MM512_CMP _mm512_cmp_ps_mask
#  define MM512_SIGNS _mm512_movepi32_mask
#  define RS_M256 __m256
#  define RS_M512 __m512
#endif
#include "act_impl.h"
#undef REAL
#undef UREAL
#undef RS_SUFFIX
#undef RS_FABS
#undef RS_COPYSIGN
#undef RS_MANT_BITS
#undef RS_MAGIC
#undef RS_LOG2E
#undef RS_LN2HI
#undef RS_LN2LO
#undef RS_EXP_COEFS
#undef RS_TANH_SMALL
#undef RS_TANH_CLAMP
#undef RS_TANH_COEFS
#undef RS_SIG_CLAMP
#if RS_X86_DISPATCH
#  undef MM256
#  undef MM512
#  undef MM256I
#  undef MM512I
#  undef MM256_TOI
#  undef MM256_TOV
#  undef MM512_TOI
#  undef MM512_TOV
#  undef MM512_CMP
#  undef MM512_SIGNS
#  undef RS_M256
#  undef RS_M512
#endif

/* ----------------------------------------------------------------- double */
#define REAL double
#define UREAL uint64_t
#define RS_SUFFIX f64
#define RS_FABS fabs
#define RS_COPYSIGN copysign
#define RS_MANT_BITS 52
#define RS_MAGIC 0x1.8p52
#define RS_LOG2E 1.44269504088896340736
#define RS_LN2HI 6.93147180369123816490e-01 /* 32 significant bits (fdlibm) */
#define RS_LN2LO 1.90821492927058770002e-10
#define RS_EXP_COEFS \
    0.500000000000001061681, 0.1666666666666641277208, 0.04166666666653026542658, \
    0.008333333333494335824038, 0.001388888894359785174024, \
    0.0001984126950677314791047, 0.00002480149313602288903358, \
    0.000002755758627246771078802, 2.763023397782975435608e-7, \
    2.50000703111893286556e-8
#define RS_TANH_SMALL 0.55
#define RS_TANH_CLAMP 20.0              /* tanh(x) rounds to 1 beyond 19.1 */
#define RS_TANH_COEFS \
    -0.333333333333332984148, 0.1333333333332662075703, -0.0539682539637605855436, \
    0.02186948838585532642491, -0.008863232601435028358885, \
    0.003592092030386677534239, -0.00145554284550120763681, \
    0.0005884444854066732872489, -0.0002333815637575807075277, \
    0.0000833164458669858246245, -0.00001949468689829133025717
#define RS_SIG_CLAMP 746.0              /* e^-746 rounds to 0 in double */
#if RS_X86_DISPATCH
#  define MM256(op) _mm256_##op##_pd
#  define MM512(op) _mm512_##op##_pd
#  define MM256I(op) _mm256_##op##_epi64
#  define MM512I(op) _mm512_##op##_epi64
#  define MM256_TOI _mm256_castpd_si256
#  define MM256_TOV _mm256_castsi256_pd
#  define MM512_TOI _mm512_castpd_si512
#  define MM512_TOV _mm512_castsi512_pd
#  define MM512_CMP _mm512_cmp_pd_mask
#  define MM512_SIGNS _mm512_movepi64_mask
#  define RS_M256 __m256d
#  define RS_M512 __m512d
#endif
#include "act_impl.h"
