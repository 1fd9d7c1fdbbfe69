/* sgd_impl.h -- the SGD step (sgd.h), a template (template.h) instantiated by sgd.c. */
void FN(sgd_update)(REAL *param, const REAL *grad, double lr, ptrdiff_t n)
{
    /* no restrict: grad == param is allowed (each element read, then written) */
    const REAL a = (REAL)lr;
    for (ptrdiff_t i = 0; i < n; i++) param[i] = param[i] - a * grad[i];
}
