/* lstm.h -- LSTM kernels (the book's LSTM / TimeLSTM), one step and a whole
 * sequence, float and double.
 *
 *   A_t = x_t·Wx + h_{t-1}·Wh + b                       (N, 4H)
 *   f = σ(A[:, 0:H])  g = tanh(A[:, H:2H])  i = σ(A[:, 2H:3H])  o = σ(A[:, 3H:4H])
 *   c_t = f⊙c_{t-1} + g⊙i        h_t = o⊙tanh(c_t)
 *
 * Gate blocks of H columns in the book's order f, g, i, o. Shapes (one legend
 * everywhere): N batch, T time steps, D input features, H hidden units. Layout
 * batch-first, C-contiguous: xs (N,T,D), hs and cs (N,T,H), Wx (D,4H),
 * Wh (H,4H), b (4H,). Outputs first, then inputs, then sizes.
 *
 * The forward keeps the gate activations f, g, i, o of every step in `gates`
 * (N,T,4H) (one step: (N,4H)), in that block order: that, cs and hs are what
 * the backward needs (tanh(c_t) is recomputed). The backward follows the
 * book's expressions in its order of operations:
 *   ds = dc + (dh⊙o)⊙(1 - tanh(c)²)   dc_prev = ds⊙f
 *   df = (ds⊙c_prev)⊙(f(1-f))  dg = (ds⊙i)⊙(1-g²)  di = (ds⊙g)⊙(i(1-i))
 *   do = (dh⊙tanh(c))⊙(o(1-o))    dA = [df dg di do]
 *   dh_prev = dA·Whᵀ   dx = dA·Wxᵀ   dWx += xᵀ·dA   dWh += h_prevᵀ·dA   db += Σ dA
 * and ADDS into dWx, dWh, db (the caller zeroes them). h0 / c0 / h_prev /
 * c_prev / dcT / dc_next / b / db may be NULL: zero state, zero upstream
 * gradient of the last cell, no bias, no bias gradient. Any size may be 0.
 * Results do not depend on the number of threads (bit-identical).
 */
#ifndef RNNSCRATCH_LSTM_H
#define RNNSCRATCH_LSTM_H

#include <stddef.h>
#include "compat.h"

#define RS_TEMPLATE "lstm_decl.h"
#include "template.h"

#endif
