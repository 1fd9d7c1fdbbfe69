/* gemm_impl.h -- type-generic template, included by gemm.c once per REAL.
 * Requires: REAL, RS_SUFFIX. */
#define FN(name) RS_CAT(name, RS_SUFFIX)

void FN(rs_gemm)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                 const REAL *A, ptrdiff_t rsa, ptrdiff_t csa,
                 const REAL *B, ptrdiff_t rsb, ptrdiff_t csb,
                 REAL *C, ptrdiff_t ldc, int accumulate)
{
    for (ptrdiff_t i = 0; i < M; i++) {
        REAL *RS_RESTRICT c = C + i * ldc;                    /* (N,) */
        if (!accumulate)
            for (ptrdiff_t j = 0; j < N; j++) c[j] = 0;
        for (ptrdiff_t k = 0; k < K; k++) {
            const REAL a = A[i * rsa + k * csa];
            const REAL *RS_RESTRICT b = B + k * rsb;          /* (N,) */
            if (csb == 1)
                for (ptrdiff_t j = 0; j < N; j++) c[j] += a * b[j];
            else
                for (ptrdiff_t j = 0; j < N; j++) c[j] += a * b[j * csb];
        }
    }
}

#undef FN
