/* gemm.c -- float and double instances of gemm_impl.h (see gemm.h). */
#include <stdint.h>
#include <string.h>
#include "compat.h"
#include "gemm.h"
#include "threads.h"
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

#define RS_TEMPLATE "gemm_impl.h"
#include "template.h"
