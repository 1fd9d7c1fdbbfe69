/* sgd_decl.h -- a template (template.h) instantiated by sgd.h. */
void FN(sgd_update)(REAL *param,       /* (n,) updated in place */
                    const REAL *grad,  /* (n,) */
                    double lr, ptrdiff_t n);
