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

#define RS_TEMPLATE "rnn_impl.h"
#include "template.h"
