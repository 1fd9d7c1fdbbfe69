/* gemm.c -- float and double instances of gemm_impl.h. */
#include "compat.h"
#include "gemm.h"

#define REAL float
#define RS_SUFFIX f32
#include "gemm_impl.h"
#undef REAL
#undef RS_SUFFIX

#define REAL double
#define RS_SUFFIX f64
#include "gemm_impl.h"
#undef REAL
#undef RS_SUFFIX
