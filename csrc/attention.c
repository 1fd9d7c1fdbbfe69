/* attention.c -- float and double instances of attention_impl.h (the
 * attention weight, the weight sum, and both over a whole decoder sequence,
 * forward and backward). Formulas: attention.h. */
#include <math.h>   /* fma, fmaf (MSVC) */
#include <stddef.h>
#include "compat.h"
#include "gemm.h"
#include "act.h"
#include "rnn.h" /* rs_mul_size */
#include "threads.h"
#include "attention.h"

/* the row-dot helper is inlined into each path's function, then vectorized for it */
#if defined(__GNUC__) || defined(__clang__)
#  define ATT_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#  define ATT_INLINE __forceinline
#else
#  define ATT_INLINE inline
#endif

#define RS_TEMPLATE "attention_impl.h"
#include "template.h"
