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
   fork/join costs more than the pass), else every thread, each on a slice
   that starts at a multiple of 16 elements (whole lines). A job struct starts
   with its sgd_pass: range(job, i0, i1) does elements [i0, i1). */
typedef struct sgd_pass {
    void (*range)(const struct sgd_pass *job, ptrdiff_t i0, ptrdiff_t i1);
    ptrdiff_t n;
} sgd_pass;

static inline int sgd_threads(ptrdiff_t n)
{
    return n >= 131072 ? rs_get_num_threads() : 1;
}

static inline void sgd_pass_task(void *arg, int t, int nt)
{
    const sgd_pass *J = (const sgd_pass *)arg;
    const ptrdiff_t blocks = (J->n + 15) / 16;
    J->range(J, SGD_MIN(J->n, blocks * t / nt * 16), SGD_MIN(J->n, blocks * (t + 1) / nt * 16));
}

static inline void sgd_run_pass(sgd_pass *J)
{
    rs_parallel_run(sgd_pass_task, J, sgd_threads(J->n));
}

/* sqrt correctly rounded in each type, as NumPy's np.sqrt */
#define RS_SQRT(x) (sizeof(x) == sizeof(float) ? (REAL)sqrtf((float)(x)) : (REAL)sqrt((double)(x)))

#define RS_TEMPLATE "sgd_impl.h"
#include "template.h"
