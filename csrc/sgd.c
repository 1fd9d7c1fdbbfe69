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
/* sqrt correctly rounded in each type, as NumPy's np.sqrt */
#define RS_SQRT(x) (sizeof(x) == sizeof(float) ? (REAL)sqrtf((float)(x)) : (REAL)sqrt((double)(x)))

#define RS_TEMPLATE "sgd_impl.h"
#include "template.h"
