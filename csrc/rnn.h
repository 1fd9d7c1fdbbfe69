/* rnn.h -- vanilla RNN kernels, one step and a whole sequence, float and double.
 *
 *   a_t = x_t·Wx + h_{t-1}·Wh + b        h_t = f(a_t),  f = tanh | relu | sigmoid
 *
 * Shapes (one legend everywhere): N batch, T time steps, D input features,
 * H hidden units. Layout batch-first, C-contiguous: xs (N,T,D), hs (N,T,H),
 * Wx (D,H), Wh (H,H), b (H,). Outputs first, then inputs, then sizes.
 * Backward takes f' from the stored output (tanh: 1-h², sigmoid: h(1-h),
 * relu: h>0) and ADDS into dWx, dWh, db (the caller zeroes them), so sums over
 * time steps and over calls come naturally. b / db / h0 may be NULL (no bias,
 * zero initial state). Any size may be 0.
 */
#ifndef RNNSCRATCH_RNN_H
#define RNNSCRATCH_RNN_H

#include <stddef.h>
#include "act.h"

#define RS_TEMPLATE "rnn_decl.h"
#include "template.h"

/* a*b for sizes, or -1 when either is negative or the product overflows */
ptrdiff_t rs_mul_size(ptrdiff_t a, ptrdiff_t b);

#endif
