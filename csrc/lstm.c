/* lstm.c -- float and double instances of lstm_impl.h. */
#include <stdint.h>
#include <string.h>
#include "compat.h"
#include "gemm.h"
#include "act.h"
#include "rnn.h"      /* rs_mul_size */
#include "lstm.h"
#include "threads.h"

#define REAL float
#define RS_SUFFIX f32
#include "lstm_impl.h"
#undef REAL
#undef RS_SUFFIX

#define REAL double
#define RS_SUFFIX f64
#include "lstm_impl.h"
#undef REAL
#undef RS_SUFFIX
