/* gru.c -- float and double instances of gru_impl.h. */
#include <stdint.h>
#include <string.h>
#include "compat.h"
#include "gemm.h"
#include "act.h"
#include "rnn.h"      /* rs_mul_size */
#include "gru.h"
#include "threads.h"

#define RS_TEMPLATE "gru_impl.h"
#include "template.h"
