/* act.c -- float and double instances of act_impl.h. */
#include <math.h>
#include "compat.h"
#include "act.h"

#define REAL float
#define RS_SUFFIX f32
#define TANH tanhf
#define EXP expf
#include "act_impl.h"
#undef REAL
#undef RS_SUFFIX
#undef TANH
#undef EXP

#define REAL double
#define RS_SUFFIX f64
#define TANH tanh
#define EXP exp
#include "act_impl.h"
#undef REAL
#undef RS_SUFFIX
#undef TANH
#undef EXP
