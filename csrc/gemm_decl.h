/* gemm_decl.h -- prototypes of the gemm, a template (template.h) instantiated
 * by gemm.h, which documents them. Definitions: gemm_impl.h. */
void FN(rs_gemm)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                 const REAL *A, ptrdiff_t rsa, ptrdiff_t csa, /* (M,K) */
                 const REAL *B, ptrdiff_t rsb, ptrdiff_t csb, /* (K,N) */
                 REAL *C, ptrdiff_t ldc, int accumulate);     /* (M,N) */

void FN(rs_gemm_epi)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                     const REAL *A, ptrdiff_t rsa, ptrdiff_t csa, /* (M,K) */
                     const REAL *B, ptrdiff_t rsb, ptrdiff_t csb, /* (K,N) */
                     REAL *C, ptrdiff_t ldc, int accumulate,      /* (M,N) */
                     rs_epilogue epi, void *ctx);

size_t FN(rs_gemm_packed_size)(ptrdiff_t K, ptrdiff_t N); /* elements */

void FN(rs_gemm_pack_b)(REAL *Bp, /* (rs_gemm_packed_size(K,N),) */
                        ptrdiff_t K, ptrdiff_t N,
                        const REAL *B, ptrdiff_t rsb, ptrdiff_t csb); /* (K,N) */

int FN(rs_gemm_packed)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                       const REAL *A, ptrdiff_t rsa, ptrdiff_t csa, /* (M,K) */
                       const REAL *Bp,                              /* packed (K,N) */
                       REAL *C, ptrdiff_t ldc,                      /* (M,N) */
                       int accumulate, rs_epilogue epi, void *ctx);
