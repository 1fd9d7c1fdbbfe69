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
#if RS_ARM_NEON
#include <arm_neon.h>
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

#define RS_TEMPLATE "act_impl.h"
#include "template.h"

