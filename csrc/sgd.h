/* sgd.h -- the plain SGD step, float and double:
 *
 *   param[i] = param[i] - (REAL)lr * grad[i]      i = 0..n-1, in one pass
 *
 * With scale != 1 (the gradient clip's rate, fused into the step) each grad
 * element is first rescaled in place, grad[i] = grad[i] * (REAL)scale, and
 * the step uses the rescaled value: NumPy's `g *= rate; p -= lr * g` (rate of
 * the arrays' dtype) in one pass instead of two. Adam takes the same scale.
 *
 * lr rounded to REAL, the product rounded, then the difference: NumPy's
 * numbers for `param -= lr * grad` with lr a Python float, bit for bit (no
 * fused multiply-add). grad may be param itself, but must not partly
 * overlap it.
 *
 * The Adam step of the book (common/optimizer.py), element by element:
 *
 *   m += (REAL)c1 * (g - m);  v += (REAL)c2 * (g*g - v)       in REAL
 *   p  = (REAL)((double)p - lr_t * (double)m / (double)(sqrt(v) + (REAL)1e-7))
 *
 * NumPy's numbers for the book's expressions with c1, c2 Python floats and
 * lr_t a NumPy float64 (its product with m is float64), bit for bit. The four
 * arrays must not overlap. Large arrays are split over the threads (an
 * elementwise pass: the split changes nothing). */
#ifndef RS_DECLS
#ifndef RNNSCRATCH_SGD_H
#define RNNSCRATCH_SGD_H

#include <stddef.h>

/* the prototypes below, for float and double: template.h includes this
   file again with RS_DECLS defined */
#define RS_DECLS
#define RS_TEMPLATE "sgd.h"
#include "template.h"
#undef RS_DECLS

#endif /* RNNSCRATCH_SGD_H */

#else /* RS_DECLS: the prototypes, a template (template.h); definitions: sgd_impl.h */

void FN(sgd_update)(REAL *param,       /* (n,) updated in place */
                    REAL *grad,        /* (n,) read; rescaled in place when scale != 1 */
                    double lr, double scale, ptrdiff_t n);
void FN(adam_update)(REAL *param,      /* (n,) updated in place */
                     REAL *grad,       /* (n,) read; rescaled in place when scale != 1 */
                     REAL *m,          /* (n,) first moment, updated in place */
                     REAL *v,          /* (n,) second moment, updated in place */
                     double c1, double c2, double lr_t, double scale, ptrdiff_t n);
/* NumPy's np.sum(x ** 2) for a C-contiguous x of n elements: the squares rounded
   to REAL, added by NumPy's pairwise summation (in REAL); large arrays split
   over the threads along the summation's own tree (the same bits) */
REAL FN(sum_squares)(const REAL *x, ptrdiff_t n);

#endif /* RS_DECLS */
