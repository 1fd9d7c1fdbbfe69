/* lstm.c -- float and double instances of lstm_impl.h. */
#include <stdint.h>
#include <string.h>
#include "compat.h"
#include "gemm.h"
#include "act.h"
#include "rnn.h"      /* rs_mul_size */
#include "lstm.h"
#include "threads.h"

#define RS_TEMPLATE "lstm_impl.h"
#include "template.h"
