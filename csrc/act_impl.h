/* act_impl.h -- type-generic template, included by act.c once per REAL.
 * Requires: REAL, RS_SUFFIX, and TANH / EXP naming the libm functions. */
#define FN(name) RS_CAT(name, RS_SUFFIX)

void FN(rs_tanh)(REAL *y, const REAL *x, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = TANH(x[i]);
}

void FN(rs_sigmoid)(REAL *y, const REAL *x, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = (REAL)1 / ((REAL)1 + EXP(-x[i]));
}

void FN(rs_relu)(REAL *y, const REAL *x, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : (x[i] != x[i] ? x[i] : 0);
}

#undef FN
