/* rnn.c -- float and double instances of rnn_impl.h. */
#include <stdint.h>
#include "compat.h"
#include "gemm.h"
#include "act.h"
#include <string.h>
#include "rnn.h"
#include "threads.h"

ptrdiff_t rs_mul_size(ptrdiff_t a, ptrdiff_t b)
{
    if (a < 0 || b < 0) return -1;
    if (a != 0 && b > PTRDIFF_MAX / a) return -1;
    return a * b;
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
