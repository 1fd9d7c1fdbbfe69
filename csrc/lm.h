/* lm.h -- the language-model layers around the RNN, float and double:
 * embedding, affine over a sequence, softmax fused with cross-entropy.
 *
 * Shapes (one legend everywhere): N batch, T time steps, D input features,
 * V vocabulary (or output size of the affine layer). Layout batch-first,
 * C-contiguous. Word ids are ptrdiff_t (NumPy's intp). Outputs first, then
 * inputs, then sizes. Backward kernels ADD into parameter gradients (the
 * caller zeroes them). Every output element is summed by one thread in a
 * fixed order, so results do not depend on the number of threads.
 *
 *   embedding:  out[n,t,:] = W[ids[n,t], :]            dW[ids[n,t], :] += dout[n,t,:]
 *               (scatter-add in row-major (n,t) order, repeated ids add up)
 *   affine:     out = x·W + b                          dW += xᵀ·dout, db += Σ dout, dx = dout·Wᵀ
 *   softmax-cross-entropy, rows r = (n,t), labels ts[r] (ignore_label = masked out):
 *               ys[r,:] = softmax(xs[r,:])   (max-subtracted: no overflow)
 *               loss    = Σ_valid (log Σ_j exp(xs[r,j]-m_r) - (xs[r,ts[r]]-m_r)) / count
 *               dxs[r,:] = (ys[r,:] - onehot(ts[r])) · dout / count,  0 for ignored rows
 *   count = number of rows whose label is not ignore_label; with count == 0
 *   the loss is NaN (the mean of nothing) and dxs is zero.
 */
#ifndef RNNSCRATCH_LM_H
#define RNNSCRATCH_LM_H

#include <stddef.h>
#include "compat.h"

/* Index of the first id outside [0, V) (ids equal to `ignore` are allowed
 * when allow_ignore is nonzero), or -1 when every id is valid. */
ptrdiff_t lm_first_bad_id(const ptrdiff_t *ids, /* (n,) */
                          ptrdiff_t n, ptrdiff_t V, int allow_ignore, ptrdiff_t ignore);

#define RS_TEMPLATE "lm_decl.h"
#include "template.h"

#endif
