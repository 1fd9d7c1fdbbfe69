/* sgd.c -- float and double instances of sgd_impl.h. */
#include "compat.h"
#include "sgd.h"

/* lr*grad must be rounded before the subtraction, as NumPy does (gcc does not
   contract a*b+c in ISO C mode; clang does unless told not to). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>

#include "threads.h"

#if defined(__GNUC__) || defined(__clang__)
#  define SGD_INLINE static inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#  define SGD_INLINE static __forceinline
#else
#  define SGD_INLINE static inline
#endif
#define SGD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SSQ_LEAVES 8 /* at most this many parallel pieces of a sum of squares */

/* An elementwise pass over n elements: one thread below 128K elements (a
   fork/join costs more than the pass), else every thread. */
static inline int sgd_threads(ptrdiff_t n)
{
    return n >= 131072 ? rs_get_num_threads() : 1;
}

/* elements [i0, i1) of task t of nt: split at multiples of 16 (whole lines) */
static inline void sgd_split(ptrdiff_t n, int t, int nt, ptrdiff_t *i0, ptrdiff_t *i1)
{
    const ptrdiff_t blocks = (n + 15) / 16;
    *i0 = SGD_MIN(n, blocks * t / nt * 16);
    *i1 = SGD_MIN(n, blocks * (t + 1) / nt * 16);
}
/* sqrt correctly rounded in each type, as NumPy's np.sqrt */
#define RS_SQRT(x) (sizeof(x) == sizeof(float) ? (REAL)sqrtf((float)(x)) : (REAL)sqrt((double)(x)))

#define RS_TEMPLATE "sgd_impl.h"
#include "template.h"
