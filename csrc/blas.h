/* blas.h -- the optional CBLAS backend of the gemm.
 *
 * Chosen at build time (setup.py, RNNSCRATCH_BLAS=openblas|accelerate|none;
 * default: accelerate on macOS, none elsewhere), which defines
 *   RS_CBLAS              1 when built with a CBLAS, else 0 (or undefined)
 *   RS_CBLAS_OPENBLAS     OpenBLAS (<cblas.h>, -lopenblas)
 *   RS_CBLAS_ACCELERATE   Apple Accelerate (-framework Accelerate, with
 *                         ACCELERATE_NEW_LAPACK)
 * In such a build rs_gemm / rs_gemm_epi hand products of at least
 * RS_BLAS_MIN_FLOPS (2MNK) whose operands CBLAS can describe (each with a
 * unit stride on one axis) to cblas_sgemm / cblas_dgemm; smaller products,
 * every pre-packed product (the per-step recurrent ones) and the fused
 * epilogues stay ours. See gemm.h for what that means for the bits.
 */
#ifndef RNNSCRATCH_BLAS_H
#define RNNSCRATCH_BLAS_H

#ifndef RS_CBLAS
#  define RS_CBLAS 0
#endif

#if RS_CBLAS
#  if defined(RS_CBLAS_ACCELERATE)
#    if defined(__has_include)
#      if __has_include(<Accelerate/Accelerate.h>)
#        include <Accelerate/Accelerate.h>
#        define RS_CBLAS_HAVE_HEADER 1
#      endif
#    endif
#  elif defined(RS_CBLAS_OPENBLAS)
#    include <cblas.h>
#    define RS_CBLAS_HAVE_HEADER 1
#  endif
#  ifndef RS_CBLAS_HAVE_HEADER
/* No header: only for the macOS compile check without the SDK
   (.ci/macos-cross.sh). The standard CBLAS prototypes. */
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 };
void cblas_sgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int,
                 float, const float *, int, const float *, int, float, float *, int);
void cblas_dgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int,
                 double, const double *, int, const double *, int, double, double *, int);
#  endif
#endif

/* products of at least this many flops (2MNK) go to CBLAS */
#ifndef RS_BLAS_MIN_FLOPS
#  define RS_BLAS_MIN_FLOPS 5.0e7
#endif

/* 1 when the large products go to CBLAS now (a CBLAS build starts with 1;
   tests and benchmarks switch it); always 0 without CBLAS. */
int rs_blas_get(void);
/* on != 0: use CBLAS; returns -1 (nothing changed) in a build without one */
int rs_blas_set(int on);
/* "none", or the backend and its configuration ("openblas 0.3.21 ...") */
const char *rs_blas_name(void);
/* once at import: OpenBLAS to one thread per call (our pool splits the work) */
void rs_blas_init(void);

#endif
