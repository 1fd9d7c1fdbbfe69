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

/* ---- blocking, per path and element size, from the cache sizes ----
 *   kc  the A micro-panel (mr, kc) stays in L1: at most half of it, at most
 *       384 floats / 192 doubles (the C tile is loaded and stored once per kc;
 *       measured on Zen 3, AVX2: kc 384 against 256 is 2-6 % faster on the
 *       chapter-6 products, BENCHMARKS.md)
 *   nc  the packed B block (kc, nc) stays in L2: half of the core's L2, in
 *       whole NR panels, from 4 panels to 4096 columns
 *   mc  the packed A block (mc, kc): about 1 MB, at most a quarter of L3
 * The blocking never changes a bit (gemm.h): each C element is the same
 * chain of multiply-adds whatever the blocks. gemm_forced (the tests'
 * _core._set_gemm_blocking) replaces any of the three. */
typedef struct {
    ptrdiff_t kc, mc, nc;
} gemm_blocking;
static long gemm_caches[3] = {32L << 10, 512L << 10, 8L << 20}; /* rs_gemm_init */
static gemm_blocking gemm_forced;                                 /* 0: derived */

void rs_gemm_init(void)
{
    rs_cache_sizes(gemm_caches);
}

void rs_gemm_cache_sizes(long sizes[3])
{
    memcpy(sizes, gemm_caches, sizeof gemm_caches);
}

void rs_gemm_force_blocking(ptrdiff_t kc, ptrdiff_t mc, ptrdiff_t nc)
{
    gemm_forced.kc = kc;
    gemm_forced.mc = mc;
    gemm_forced.nc = nc;
}

static gemm_blocking gemm_blocking_of(ptrdiff_t elem, ptrdiff_t mr, ptrdiff_t nr)
{
    gemm_blocking b;
    const long l1 = gemm_caches[0], l2 = gemm_caches[1], l3 = gemm_caches[2];
    b.kc = elem == 4 ? 384 : 192;
    while (b.kc > 64 && 2 * mr * b.kc * elem > (ptrdiff_t)l1)
        b.kc -= 32;
    b.nc = (ptrdiff_t)(l2 / 2) / (b.kc * elem) / nr * nr;
    b.nc = rs_max(4 * nr, rs_min(b.nc, 4096));
    b.mc = ((ptrdiff_t)1 << 20) / (b.kc * elem);
    b.mc = rs_min(b.mc, (ptrdiff_t)(l3 / 4) / (b.kc * elem));
    b.mc = rs_max(4 * mr, b.mc / mr * mr);
    if (gemm_forced.kc > 0) b.kc = gemm_forced.kc;
    if (gemm_forced.mc > 0) b.mc = gemm_forced.mc;
    if (gemm_forced.nc > 0) b.nc = rs_max(nr, rs_round_up(gemm_forced.nc, nr));
    return b;
}

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

void rs_gemm_blocking(int path, int elem, ptrdiff_t out[3])
{
    const gemm_blocking b = elem == 8 ? geom_of_f64(path).blk : geom_of_f32(path).blk;
    out[0] = b.kc;
    out[1] = b.mc;
    out[2] = b.nc;
}
