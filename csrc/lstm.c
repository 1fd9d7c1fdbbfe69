/* lstm.c -- float and double instances of lstm_impl.h. */
#include <stdint.h>
#include <string.h>
#include "compat.h"
#include "gemm.h"
#include "act.h"
#include "rnn.h"      /* rs_mul_size */
#include "lstm.h"
#include "threads.h"

/* the elementwise loops round as NumPy does: no a*b+c contraction (gcc does
   not contract in ISO C mode; clang would by default) */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define RS_TEMPLATE "lstm_impl.h"
#include "template.h"
