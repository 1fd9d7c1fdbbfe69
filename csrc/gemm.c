/* gemm.c -- float and double instances of gemm_impl.h (see gemm.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "compat.h"
#include "gemm.h"
#include "threads.h"
#include "blas.h"
#if RS_X86_DISPATCH
#  include <immintrin.h>
#endif
#if RS_ARM_NEON
#  include <arm_neon.h>
#endif

/* Each C element is one chain of multiply-adds: fused on the SIMD paths (by
   the intrinsics), never contracted on the portable one (clang contracts a*b+c
   by default, which would make its bits differ between compilers). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define RS_PRAGMA(x) _Pragma(#x)
#  if defined(__clang__)
#    define RS_UNROLL(n) RS_PRAGMA(unroll n)
#  else
#    define RS_UNROLL(n) RS_PRAGMA(GCC unroll n)
#  endif
#else
#  define RS_UNROLL(n)
#endif

static inline ptrdiff_t rs_min(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
static inline ptrdiff_t rs_max(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }
static inline ptrdiff_t rs_round_up(ptrdiff_t a, ptrdiff_t m) { return (a + m - 1) / m * m; }

/* How the driver gets B micro-panels. */
enum gemm_bmode {
    GEMM_PACK = 0,      /* pack (kc, nc) blocks of B into a buffer */
    GEMM_DIRECT = 1,    /* read B in place (rows contiguous, csb == 1) */
    GEMM_PREPACKED = 2  /* rs_gemm_pack_b output: panels (K, NR) */
};

/* Header of a pre-packed B (first 64 bytes). */
#define GEMM_MAGIC 0x42475352u /* "RSGB" */
typedef struct {
    uint32_t magic;
    int32_t elem;   /* sizeof(REAL) */
    int32_t path;   /* rs_get_path() when packed */
    int32_t nr;     /* panel width */
    int64_t K, N;
} gemm_hdr;

/* ---- the CBLAS backend switch (blas.h) ---- */
#if RS_CBLAS
static int blas_on = 1;
#  if defined(RS_CBLAS_OPENBLAS)
static char blas_desc[160];
#  endif
#endif

int rs_blas_get(void)
{
#if RS_CBLAS
    return blas_on;
#else
    return 0;
#endif
}

int rs_blas_set(int on)
{
#if RS_CBLAS
    blas_on = on != 0;
    return 0;
#else
    (void)on;
    return -1;
#endif
}

void rs_blas_init(void)
{
#if RS_CBLAS && defined(RS_CBLAS_OPENBLAS)
    /* Our thread pool splits a product into row or column blocks, one
       single-threaded CBLAS call each. Process-wide: a NumPy linked to the same
       libopenblas (not the wheels, which carry their own) then runs its
       products on one thread too. */
    openblas_set_num_threads(1);
    const char *cfg = openblas_get_config();
    snprintf(blas_desc, sizeof blas_desc, "openblas (%s; core %s)", cfg ? cfg : "?",
             openblas_get_corename());
#endif
}

const char *rs_blas_name(void)
{
#if RS_CBLAS && defined(RS_CBLAS_OPENBLAS)
    return blas_desc[0] ? blas_desc : "openblas";
#elif RS_CBLAS && defined(RS_CBLAS_ACCELERATE)
    return "accelerate";
#elif RS_CBLAS
    return "cblas";
#else
    return "none";
#endif
}

#define RS_TEMPLATE "gemm_impl.h"
#include "template.h"
