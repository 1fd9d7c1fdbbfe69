/* rnn.c -- float and double instances of rnn_impl.h. */
#include <stdint.h>
#include "compat.h"
#include "gemm.h"
#include "act.h"
#include "rnn.h"

static ptrdiff_t mul_or_neg(ptrdiff_t a, ptrdiff_t b)
{
    if (a < 0 || b < 0) return -1;
    if (a != 0 && b > PTRDIFF_MAX / a) return -1;
    return a * b;
}

ptrdiff_t rnn_backward_work_size(ptrdiff_t N, ptrdiff_t D, ptrdiff_t H)
{
    (void)D;
    return mul_or_neg(N, H);
}

ptrdiff_t time_rnn_backward_work_size(ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    (void)D;
    return mul_or_neg(2, mul_or_neg(N, mul_or_neg(T, H)));
}

#define REAL float
#define RS_SUFFIX f32
#include "rnn_impl.h"
#undef REAL
#undef RS_SUFFIX

#define REAL double
#define RS_SUFFIX f64
#include "rnn_impl.h"
#undef REAL
#undef RS_SUFFIX
