/* gru.h -- GRU kernels (the book's GRU / TimeGRU), one step and a whole
 * sequence, float and double.
 *
 * Blocks of H columns z, r, h~ in Wx (D,3H), Wh (H,3H), b (3H,):
 *   z  = σ(x·Wxz + h_prev·Whz + bz)
 *   r  = σ(x·Wxr + h_prev·Whr + br)
 *   h~ = tanh(x·Wxh + (r⊙h_prev)·Whh + bh)    (reset gate BEFORE the product)
 *   h_next = (1 - z)⊙h_prev + z⊙h~
 * so each step has two dependent products: h_prev·[Whz|Whr], then
 * (r⊙h_prev)·Whh. Shapes: N batch, T time steps, D input features, H hidden
 * units; batch-first, C-contiguous: xs (N,T,D), hs (N,T,H). Outputs first,
 * then inputs, then sizes.
 *
 * The forward keeps, for every step, the (4H,) row [z | r | h~ | r⊙h_prev] in
 * `cache` (N,T,4H) (one step: (N,4H)): with hs that is all the backward needs.
 * The backward follows the book's expressions in its order of operations:
 *   dt_h = (dh⊙z)⊙(1 - h~²)          dhr = dt_h·Whhᵀ
 *   dt_z = ((dh⊙h~ - dh⊙h_prev)⊙z)⊙(1-z)   dt_r = ((dhr⊙h_prev)⊙r)⊙(1-r)
 *   dh_prev = dh⊙(1-z) + r⊙dhr + [dt_z dt_r]·[Whz|Whr]ᵀ
 *   dx = [dt_z dt_r dt_h]·Wxᵀ    dWx += xᵀ·[dt_z dt_r dt_h]    db += Σ [dt_z dt_r dt_h]
 *   dWh += [h_prevᵀ·dt_z | h_prevᵀ·dt_r | (r⊙h_prev)ᵀ·dt_h]
 * and ADDS into dWx, dWh, db (the caller zeroes them). h0 / h_prev / b / db
 * may be NULL (zero state, no bias, no bias gradient). Any size may be 0.
 * Results do not depend on the number of threads (bit-identical).
 */
#ifndef RNNSCRATCH_GRU_H
#define RNNSCRATCH_GRU_H

#include <stddef.h>
#include "compat.h"

#define RS_TEMPLATE "gru_decl.h"
#include "template.h"

#endif
