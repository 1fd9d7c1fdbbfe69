/* attention.c -- float and double instances of attention_impl.h (the
 * attention weight, the weight sum, and both over a whole decoder sequence,
 * forward and backward). Formulas: attention.h. */
#include <stddef.h>
#include "compat.h"
#include "gemm.h"
#include "act.h"
#include "rnn.h" /* rs_mul_size */
#include "threads.h"
#include "attention.h"

#define RS_TEMPLATE "attention_impl.h"
#include "template.h"
