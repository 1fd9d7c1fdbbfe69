/* sgd_decl.h -- a template (template.h) instantiated by sgd.h. */
void FN(sgd_update)(REAL *param,       /* (n,) updated in place */
                    const REAL *grad,  /* (n,) */
                    double lr, ptrdiff_t n);
void FN(adam_update)(REAL *param,      /* (n,) updated in place */
                     const REAL *grad, /* (n,) */
                     REAL *m,          /* (n,) first moment, updated in place */
                     REAL *v,          /* (n,) second moment, updated in place */
                     double c1, double c2, double lr_t, ptrdiff_t n);
/* NumPy's np.sum(x ** 2) for a C-contiguous x of n elements: the squares rounded
   to REAL, added by NumPy's pairwise summation (in REAL) */
REAL FN(sum_squares)(const REAL *x, ptrdiff_t n);
