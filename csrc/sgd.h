/* sgd.h -- the plain SGD step, float and double:
 *
 *   param[i] = param[i] - (REAL)lr * grad[i]      i = 0..n-1, in one pass
 *
 * lr rounded to REAL, the product rounded, then the difference: NumPy's
 * numbers for `param -= lr * grad` with lr a Python float, bit for bit (no
 * fused multiply-add). grad may be param itself, but must not partly
 * overlap it. */
#ifndef RNNSCRATCH_SGD_H
#define RNNSCRATCH_SGD_H

#include <stddef.h>

#define RS_TEMPLATE "sgd_decl.h"
#include "template.h"

#endif
