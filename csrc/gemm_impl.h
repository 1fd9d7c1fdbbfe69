/* gemm_impl.h -- type-generic template, included by gemm.c once per REAL.
 * A template (template.h): REAL, RS_SUFFIX, RS_F64, FN; and from gemm.c the
 * type-independent pieces (RS_UNROLL, gemm_bmode, gemm_hdr, rs_min, ...).
 *
 * GotoBLAS/BLIS structure (row-major view, C = A·B):
 *
 *   for ic  in M step mc         A block  (mc, kc) packed into micro-panels of
 *    for pc in K step kc                  mr rows, (kc, mr) each      -> L2/L3
 *     pack A block
 *     for jc in N step nc        B block  (kc, nc) in panels of NR columns,
 *      pack B block (or use it             (kc, NR) each              -> L2
 *      directly / pre-packed)
 *      for each mr-row tile      A micro-panel (kc, mr)               -> L1
 *       for each NR-col panel    micro-kernel: C(mr, NR) += a·b, in registers
 *    epilogue(rows ic..ic+mc)
 *
 * Row tiles are balanced (a block of 20 rows with MR = 14 is two tiles of 10),
 * so no tile is tiny. Columns: full NR panels and one partial, masked panel
 * (half-width vectors when it is at most half a vector wide, AVX-512).
 *
 * Workspace: up to GEMM_SMALL_M rows per task (all per-step RNN products and
 * every packed-B call) everything lives in ~96 KB of stack buffers: A is packed
 * (or read in place when N spans only a few panels), B is read in place when its
 * rows are contiguous (only a partial last panel is copied) or packed. Larger
 * products take one buffer per call from the rs_ws_get() cache (threads.c);
 * if that allocation fails they fall back to the stack buffers (slower, same
 * result).
 * Every C element is one FMA chain over k in order, whatever the blocking or
 * the thread split, so results are bit-identical for any thread count.
 */

/* ---- blocking (elements): kc, mc, nc from the cache sizes, per path (the
   geometry's blk; gemm.c's gemm_blocking_of) ---- */
/* small-problem buffers, on the stack (no allocation at all) */
#define GEMM_STACK_A (65536 / (ptrdiff_t)sizeof(REAL))  /* A block */
#define GEMM_STACK_B (32768 / (ptrdiff_t)sizeof(REAL))  /* B block / edge panel */
#define GEMM_SMALL_M 64     /* up to this many rows: one stack-sized A block */
#define GEMM_PACKED_KC (768 * 4 / (ptrdiff_t)sizeof(REAL)) /* k block, A in place */
#define GEMM_PACKED_MC 128  /* row block of a many-row product with pre-packed B */
#define GEMM_ADIRECT_PANELS 4 /* A read in place when N <= this many panels */
#define GEMM_PANEL_OUTER_TILES 4 /* up to this many row tiles: B panels outermost */
#define GEMM_NR_MAX (128 / (ptrdiff_t)sizeof(REAL))     /* widest panel, any path */
#define GEMM_HDR (64 / (ptrdiff_t)sizeof(REAL))         /* packed-B header */
/* below this many flops (2MNK) one thread does it all */
#define GEMM_PAR_FLOPS rs_par_min_flops()

/* micro-kernel: C(mr,nr) = [C +] a·b, see gemm_kern.h */
typedef void (*FN(kfun))(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t kc,
                         const REAL *a, ptrdiff_t ka, int arow,
                         const REAL *b, ptrdiff_t ldb,
                         REAL *c, ptrdiff_t ldc, int acc);
/* B panel copy, rows contiguous: d(p, 0:nr) = s(p, 0:nr), padded to vectors */
typedef void (*FN(cfun))(ptrdiff_t nr, ptrdiff_t kc, const REAL *s, ptrdiff_t lds,
                         REAL *d, ptrdiff_t ldd);

/* ---- packing ---- */

/* A(i0.., p0..) -> ap(kc, mr): ap[p*mr + i] = A[i*rsa + p*csa] */
static void FN(pack_a)(ptrdiff_t mr, ptrdiff_t kc,
                       const REAL *A, ptrdiff_t rsa, ptrdiff_t csa,
                       REAL *RS_RESTRICT ap)
{
    if (rsa == 1) {          /* columns of A contiguous (A = X^T) */
        for (ptrdiff_t p = 0; p < kc; p++) {
            const REAL *s = A + p * csa;
            for (ptrdiff_t i = 0; i < mr; i++)
                ap[p * mr + i] = s[i];
        }
    } else if (csa == 1) {   /* rows of A contiguous */
        ptrdiff_t p = 0;
        for (; p + 4 <= kc; p += 4) {
            for (ptrdiff_t i = 0; i < mr; i++) {
                const REAL *s = A + i * rsa + p;
                ap[(p + 0) * mr + i] = s[0];
                ap[(p + 1) * mr + i] = s[1];
                ap[(p + 2) * mr + i] = s[2];
                ap[(p + 3) * mr + i] = s[3];
            }
        }
        for (; p < kc; p++)
            for (ptrdiff_t i = 0; i < mr; i++)
                ap[p * mr + i] = A[i * rsa + p];
    } else {
        for (ptrdiff_t p = 0; p < kc; p++)
            for (ptrdiff_t i = 0; i < mr; i++)
                ap[p * mr + i] = A[i * rsa + p * csa];
    }
}

/* The whole A block at once when A's columns are contiguous (A = Xᵀ, e.g.
   the gradient of an output layer, doutᵀ·x): the block's nt row tiles (tile r
   = rows [r*mc/nt, (r+1)*mc/nt)) packed as pack_a would, but reading 8 rows
   of X at a time from start to end, instead of going through kc distant rows
   of X for every tile to take a few elements of each. */
static void FN(pack_a_cols)(ptrdiff_t mc, ptrdiff_t nt, ptrdiff_t kc,
                            const REAL *A, ptrdiff_t csa, /* A(i,p) = A[i + p*csa] */
                            REAL *RS_RESTRICT abuf)
{
    for (ptrdiff_t p0 = 0; p0 < kc; p0 += 8) {
        const ptrdiff_t pn = rs_min(8, kc - p0);
        for (ptrdiff_t r = 0; r < nt; r++) {
            const ptrdiff_t i0 = r * mc / nt, mr = (r + 1) * mc / nt - i0;
            REAL *d = abuf + i0 * kc + p0 * mr;   /* tile r, steps p0.. */
            for (ptrdiff_t q = 0; q < pn; q++) {
                const REAL *s = A + (p0 + q) * csa + i0;
                for (ptrdiff_t i = 0; i < mr; i++)
                    d[q * mr + i] = s[i];
            }
        }
    }
}

/* B(p0.., j0..j0+nr) -> bp(kc, NR), zero-padded: bp[p*NR + j] = B[p*rsb + j*csb] */
static void FN(pack_b)(ptrdiff_t NR, ptrdiff_t nr, ptrdiff_t kc,
                       const REAL *B, ptrdiff_t rsb, ptrdiff_t csb,
                       REAL *RS_RESTRICT bp)
{
    if (csb == 1) {
        for (ptrdiff_t p = 0; p < kc; p++) {
            const REAL *s = B + p * rsb;
            REAL *d = bp + p * NR;
            for (ptrdiff_t j = 0; j < nr; j++)
                d[j] = s[j];
            for (ptrdiff_t j = nr; j < NR; j++)
                d[j] = 0;
        }
    } else {
        for (ptrdiff_t j = 0; j < nr; j++) {   /* reads along k (B = W^T) */
            const REAL *s = B + j * csb;
            for (ptrdiff_t p = 0; p < kc; p++)
                bp[p * NR + j] = s[p * rsb];
        }
        if (nr < NR)
            for (ptrdiff_t p = 0; p < kc; p++)
                for (ptrdiff_t j = nr; j < NR; j++)
                    bp[p * NR + j] = 0;
    }
}

/* ---- portable micro-kernel: plain C, auto-vectorized along j ---- */

#define PMR 4
#define PNR (32 / (int)sizeof(REAL))   /* 8 floats / 4 doubles */

static void FN(kern_portable)(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t kc,
                              const REAL *RS_RESTRICT a,  /* (mr, kc), see gemm_kern.h */
                              ptrdiff_t ka, int arow,
                              const REAL *RS_RESTRICT b,  /* (kc, PNR) rows ldb apart */
                              ptrdiff_t ldb,
                              REAL *RS_RESTRICT c,        /* (mr, nr) rows ldc apart */
                              ptrdiff_t ldc, int acc)
{
    REAL t[PMR][PNR];
    for (int i = 0; i < PMR; i++)
        for (int j = 0; j < PNR; j++)
            t[i][j] = (acc && i < mr && j < nr) ? c[i * ldc + j] : (REAL)0;
    const ptrdiff_t si = arow ? ka : 1, sp = arow ? 1 : ka; /* a(i,p) = a[i*si + p*sp] */
    if (mr == PMR && si == 1) {
        for (ptrdiff_t p = 0; p < kc; p++) {
            for (int i = 0; i < PMR; i++) {
                const REAL ai = a[i];
                for (int j = 0; j < PNR; j++)
                    t[i][j] += ai * b[j];
            }
            a += sp;
            b += ldb;
        }
    } else {
        for (ptrdiff_t p = 0; p < kc; p++) {
            for (ptrdiff_t i = 0; i < mr; i++) {
                const REAL ai = a[i * si];
                for (int j = 0; j < PNR; j++)
                    t[i][j] += ai * b[j];
            }
            a += sp;
            b += ldb;
        }
    }
    for (ptrdiff_t i = 0; i < mr; i++)
        for (ptrdiff_t j = 0; j < nr; j++)
            c[i * ldc + j] = t[i][j];
}

#undef PMR

static void FN(copy_portable)(ptrdiff_t nr, ptrdiff_t kc, const REAL *RS_RESTRICT s,
                              ptrdiff_t lds, REAL *RS_RESTRICT d, ptrdiff_t ldd)
{
    for (ptrdiff_t p = 0; p < kc; p++) {
        for (ptrdiff_t j = 0; j < nr; j++)
            d[p * ldd + j] = s[p * lds + j];
        for (ptrdiff_t j = nr; j < PNR; j++)
            d[p * ldd + j] = 0;
    }
}

/* ---- SIMD micro-kernels: gemm_kern.h instantiated per ISA ---- */
#if RS_X86_DISPATCH

/* AVX-512: 14 rows x 2 zmm (32 floats / 16 doubles): 28 accumulators */
#define KNAME(x) RS_CAT(RS_CAT(x, avx512), RS_SUFFIX)
#define KTARGET RS_TARGET_AVX512
#define KMR 14
#define KNV 2
#if RS_F64
#  define VEC __m512d
#  define VL 8
#  define V_ZERO() _mm512_setzero_pd()
#  define V_LOAD(p) _mm512_loadu_pd(p)
#  define V_BCAST(x) _mm512_set1_pd(x)
#  define V_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#  define V_STORE(p, v) _mm512_storeu_pd(p, v)
#  define V_MASK_T __mmask8
#  define V_MASK(n) ((__mmask8)(0xffu >> (8 - (n))))
#  define V_LOAD_MASK(p, m) _mm512_maskz_loadu_pd(m, p)
#  define V_STORE_MASK(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#  define HVEC __m256d
#  define H_FROM_V(v) _mm512_castpd512_pd256(v)
#  define H_ZERO() _mm256_setzero_pd()
#  define H_LOAD(p) _mm256_loadu_pd(p)
#  define H_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#  define H_MASK_T __mmask8
#  define H_MASK(n) ((__mmask8)(0xfu >> (4 - (n))))
#  define H_LOAD_MASK(p, m) _mm256_maskz_loadu_pd(m, p)
#  define H_STORE_MASK(p, m, v) _mm256_mask_storeu_pd(p, m, v)
#else
#  define VEC __m512
#  define VL 16
#  define V_ZERO() _mm512_setzero_ps()
#  define V_LOAD(p) _mm512_loadu_ps(p)
#  define V_BCAST(x) _mm512_set1_ps(x)
#  define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#  define V_STORE(p, v) _mm512_storeu_ps(p, v)
#  define V_MASK_T __mmask16
#  define V_MASK(n) ((__mmask16)(0xffffu >> (16 - (n))))
#  define V_LOAD_MASK(p, m) _mm512_maskz_loadu_ps(m, p)
#  define V_STORE_MASK(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#  define HVEC __m256
#  define H_FROM_V(v) _mm512_castps512_ps256(v)
#  define H_ZERO() _mm256_setzero_ps()
#  define H_LOAD(p) _mm256_loadu_ps(p)
#  define H_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#  define H_MASK_T __mmask8
#  define H_MASK(n) ((__mmask8)(0xffu >> (8 - (n))))
#  define H_LOAD_MASK(p, m) _mm256_maskz_loadu_ps(m, p)
#  define H_STORE_MASK(p, m, v) _mm256_mask_storeu_ps(p, m, v)
#endif
#define KHALF 1
#include "gemm_kern.h"
#define NR_AVX512 (KNV * VL)
#define MR_AVX512 KMR
enum { FN(nr_avx512) = NR_AVX512, FN(mr_avx512) = MR_AVX512 };
#undef NR_AVX512
#undef MR_AVX512
#undef KHALF
#undef HVEC
#undef H_FROM_V
#undef H_ZERO
#undef H_LOAD
#undef H_FMA
#undef H_MASK_T
#undef H_MASK
#undef H_LOAD_MASK
#undef H_STORE_MASK
#undef KNAME
#undef KTARGET
#undef KMR
#undef KNV
#undef VEC
#undef VL
#undef V_ZERO
#undef V_LOAD
#undef V_BCAST
#undef V_FMA
#undef V_STORE
#undef V_MASK_T
#undef V_MASK
#undef V_LOAD_MASK
#undef V_STORE_MASK

/* AVX2+FMA: 6 rows x 2 ymm (16 floats / 8 doubles): 12 accumulators */
#define KNAME(x) RS_CAT(RS_CAT(x, avx2), RS_SUFFIX)
#define KHALF 0
#define KTARGET RS_TARGET_AVX2
#define KMR 6
#define KNV 2
#if RS_F64
#  define VEC __m256d
#  define VL 4
#  define V_ZERO() _mm256_setzero_pd()
#  define V_LOAD(p) _mm256_loadu_pd(p)
#  define V_BCAST(x) _mm256_set1_pd(x)
#  define V_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#  define V_STORE(p, v) _mm256_storeu_pd(p, v)
#  define V_MASK_T __m256i
#  define V_MASK(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#  define V_LOAD_MASK(p, m) _mm256_maskload_pd(p, m)
#  define V_STORE_MASK(p, m, v) _mm256_maskstore_pd(p, m, v)
#else
#  define VEC __m256
#  define VL 8
#  define V_ZERO() _mm256_setzero_ps()
#  define V_LOAD(p) _mm256_loadu_ps(p)
#  define V_BCAST(x) _mm256_set1_ps(x)
#  define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#  define V_STORE(p, v) _mm256_storeu_ps(p, v)
#  define V_MASK_T __m256i
#  define V_MASK(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#  define V_LOAD_MASK(p, m) _mm256_maskload_ps(p, m)
#  define V_STORE_MASK(p, m, v) _mm256_maskstore_ps(p, m, v)
#endif
#include "gemm_kern.h"
enum { FN(nr_avx2) = KNV * VL, FN(mr_avx2) = KMR };
#undef KHALF
#undef KNAME
#undef KTARGET
#undef KMR
#undef KNV
#undef VEC
#undef VL
#undef V_ZERO
#undef V_LOAD
#undef V_BCAST
#undef V_FMA
#undef V_STORE
#undef V_MASK_T
#undef V_MASK
#undef V_LOAD_MASK
#undef V_STORE_MASK

#endif /* RS_X86_DISPATCH */

#if RS_ARM_NEON
/* ---- NEON (aarch64): 6 rows x 4 q-registers (16 floats / 8 doubles) ----
 * 24 accumulators + 4 B vectors + 2 (float) or 3 (double) A vectors of the
 * 32 v-registers. The full tile (mr = 6, A packed or with contiguous
 * columns) loads the 6 A values of a step as vectors and multiplies by lane
 * (fmla v.4s, v.4s, v.s[lane]); every other tile (edges, A read along its
 * rows) is gemm_kern.h with broadcasts. Both are fused multiply-adds, one
 * chain per C element over k in order from 0 or C: the bits of the x86
 * SIMD paths. */
#if RS_F64
#  define VEC float64x2_t
#  define VL 2
#  define V_ZERO() vdupq_n_f64(0.0)
#  define V_LOAD(p) vld1q_f64(p)
#  define V_BCAST(x) vdupq_n_f64(x)
#  define V_FMA(a, b, c) vfmaq_f64(c, a, b)
#  define V_STORE(p, v) vst1q_f64(p, v)
#else
#  define VEC float32x4_t
#  define VL 4
#  define V_ZERO() vdupq_n_f32(0.0f)
#  define V_LOAD(p) vld1q_f32(p)
#  define V_BCAST(x) vdupq_n_f32(x)
#  define V_FMA(a, b, c) vfmaq_f32(c, a, b)
#  define V_STORE(p, v) vst1q_f32(p, v)
#endif
/* NEON has no masked loads and stores: a partial vector goes through a
   zero-padded buffer (edge tiles only) */
static inline VEC FN(neon_load_part)(const REAL *p, int n)
{
    REAL t[VL] = {0};
    for (int i = 0; i < n; i++)
        t[i] = p[i];
    return V_LOAD(t);
}
static inline void FN(neon_store_part)(REAL *p, int n, VEC v)
{
    REAL t[VL];
    V_STORE(t, v);
    for (int i = 0; i < n; i++)
        p[i] = t[i];
}
#define V_MASK_T int
#define V_MASK(n) (n)
#define V_LOAD_MASK(p, m) FN(neon_load_part)(p, m)
#define V_STORE_MASK(p, m, v) FN(neon_store_part)(p, m, v)
#define KNAME(x) RS_CAT(RS_CAT(x, neonb), RS_SUFFIX)
#define KHALF 0
#define KTARGET
#define KMR 6
#define KNV 4
#include "gemm_kern.h"
enum { FN(nr_neon) = KNV * VL, FN(mr_neon) = KMR };

/* The full 6 x NR tile, A by lane. a(i,p) = a[p*ka + i]. The 24 accumulators
   are named variables (gcc keeps an array of 24 vectors on the stack). */
#define NT_ROW(X, i) X(i, 0) X(i, 1) X(i, 2) X(i, 3)
#define NT_ALL(X) NT_ROW(X, 0) NT_ROW(X, 1) NT_ROW(X, 2) NT_ROW(X, 3) NT_ROW(X, 4) NT_ROW(X, 5)
#define NT_DECL(i, v) VEC t##i##v = acc ? V_LOAD(c + i * ldc + v * VL) : V_ZERO();
#define NT_STORE(i, v) V_STORE(c + i * ldc + v * VL, t##i##v);
/* NT_A##i is "vector, lane": expanded before the call (clang's lane
   intrinsics are function-like macros that count their arguments first) */
#define NT_CALL(f, ...) f(__VA_ARGS__)
#if RS_F64
#  define NT_FMA(i, v) t##i##v = NT_CALL(vfmaq_laneq_f64, t##i##v, b##v, NT_A##i);
#  define NT_A0 a01, 0
#  define NT_A1 a01, 1
#  define NT_A2 a23, 0
#  define NT_A3 a23, 1
#  define NT_A4 a45, 0
#  define NT_A5 a45, 1
#else
#  define NT_FMA(i, v) t##i##v = NT_CALL(NT_LANE##i, t##i##v, b##v, NT_A##i);
#  define NT_LANE0 vfmaq_laneq_f32
#  define NT_LANE1 vfmaq_laneq_f32
#  define NT_LANE2 vfmaq_laneq_f32
#  define NT_LANE3 vfmaq_laneq_f32
#  define NT_LANE4 vfmaq_lane_f32
#  define NT_LANE5 vfmaq_lane_f32
#  define NT_A0 a03, 0
#  define NT_A1 a03, 1
#  define NT_A2 a03, 2
#  define NT_A3 a03, 3
#  define NT_A4 a45, 0
#  define NT_A5 a45, 1
#endif
static void FN(tile_neon)(ptrdiff_t kc, const REAL *RS_RESTRICT a, ptrdiff_t ka,
                          const REAL *RS_RESTRICT b, ptrdiff_t ldb,
                          REAL *RS_RESTRICT c, ptrdiff_t ldc, int acc)
{
    NT_ALL(NT_DECL)
    for (ptrdiff_t p = 0; p < kc; p++) {
        const VEC b0 = V_LOAD(b), b1 = V_LOAD(b + VL), b2 = V_LOAD(b + 2 * VL),
                  b3 = V_LOAD(b + 3 * VL);
#if RS_F64
        const float64x2_t a01 = vld1q_f64(a), a23 = vld1q_f64(a + 2), a45 = vld1q_f64(a + 4);
#else
        const float32x4_t a03 = vld1q_f32(a);
        const float32x2_t a45 = vld1_f32(a + 4);
#endif
        NT_ALL(NT_FMA)
        a += ka;
        b += ldb;
    }
    NT_ALL(NT_STORE)
}
#undef NT_ROW
#undef NT_ALL
#undef NT_DECL
#undef NT_STORE
#undef NT_CALL
#undef NT_FMA
#undef NT_LANE0
#undef NT_LANE1
#undef NT_LANE2
#undef NT_LANE3
#undef NT_LANE4
#undef NT_LANE5
#undef NT_A0
#undef NT_A1
#undef NT_A2
#undef NT_A3
#undef NT_A4
#undef NT_A5

static void FN(kern_neon)(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t kc,
                          const REAL *a, ptrdiff_t ka, int arow,
                          const REAL *b, ptrdiff_t ldb,
                          REAL *c, ptrdiff_t ldc, int acc)
{
    if (mr == KMR && nr == KNV * VL && !arow)
        FN(tile_neon)(kc, a, ka, b, ldb, c, ldc, acc);
    else
        FN(kern_neonb)(mr, nr, kc, a, ka, arow, b, ldb, c, ldc, acc);
}
#undef KHALF
#undef KNAME
#undef KTARGET
#undef KMR
#undef KNV
#undef VEC
#undef VL
#undef V_ZERO
#undef V_LOAD
#undef V_BCAST
#undef V_FMA
#undef V_STORE
#undef V_MASK_T
#undef V_MASK
#undef V_LOAD_MASK
#undef V_STORE_MASK
#endif /* RS_ARM_NEON */

/* ---- path geometry ---- */

typedef struct {
    ptrdiff_t mr, nr;  /* register tile */
    FN(kfun) kern;
    FN(cfun) copy;
    gemm_blocking blk; /* cache blocks for this tile and REAL */
} FN(geom);

static FN(geom) FN(geom_of)(int path)
{
    FN(geom) g = {4, PNR, FN(kern_portable), FN(copy_portable), {0, 0, 0}};
#if RS_X86_DISPATCH
    if (path == RS_PATH_AVX512) {
        g.mr = FN(mr_avx512); g.nr = FN(nr_avx512);
        g.kern = FN(kern_avx512); g.copy = FN(copy_panel_avx512);
    } else if (path == RS_PATH_AVX2) {
        g.mr = FN(mr_avx2); g.nr = FN(nr_avx2);
        g.kern = FN(kern_avx2); g.copy = FN(copy_panel_avx2);
    }
#elif RS_ARM_NEON
    if (path == RS_PATH_NEON) {
        g.mr = FN(mr_neon); g.nr = FN(nr_neon);
        g.kern = FN(kern_neon); g.copy = FN(copy_panel_neonb);
    }
#else
    (void)path;
#endif
    g.blk = gemm_blocking_of((ptrdiff_t)sizeof(REAL), g.mr, g.nr);
    return g;
}

/* ---- the blocked driver ---- */

typedef struct {
    FN(geom) g;
    ptrdiff_t M, N, K;
    const REAL *A; ptrdiff_t rsa, csa;  /* (M,K) */
    const REAL *B; ptrdiff_t rsb, csb;  /* (K,N); GEMM_PREPACKED: first panel */
    int bmode;
    int adirect;                        /* read A in place, no packing */
    REAL *C; ptrdiff_t ldc;             /* (M,N) */
    int acc;
    rs_epilogue epi; void *ctx;
    ptrdiff_t mc, kc, nc;               /* blocking */
    REAL *ws; ptrdiff_t ws_task;        /* heap workspace per task, or NULL */
    int split_m;                        /* tasks split rows (else column panels) */
} FN(job);

/* C rows [m0,m1) x cols [n0,n1) (n0 a multiple of NR), all of K. */
static void FN(run_block)(const FN(job) *J, ptrdiff_t m0, ptrdiff_t m1,
                          ptrdiff_t n0, ptrdiff_t n1,
                          REAL *abuf, /* (mc*kc,) */
                          REAL *bbuf, /* (kc*nc,) or (kc*NR,) */
                          int call_epi)
{
    const ptrdiff_t MR = J->g.mr, NR = J->g.nr, K = J->K;
    const FN(kfun) kern = J->g.kern;
    if (m1 <= m0 || n1 <= n0)
        return;
    const ptrdiff_t nblk = (m1 - m0 + J->mc - 1) / J->mc; /* balanced row blocks */
    for (ptrdiff_t blk = 0; blk < nblk; blk++) {
        const ptrdiff_t ic = m0 + blk * (m1 - m0) / nblk;
        const ptrdiff_t mcur = m0 + (blk + 1) * (m1 - m0) / nblk - ic;
        const ptrdiff_t nt = (mcur + MR - 1) / MR;
        for (ptrdiff_t pc = 0; pc < K; pc += J->kc) {
            const ptrdiff_t kcur = rs_min(J->kc, K - pc);
            const int acc = J->acc || pc > 0;
            if (!J->adirect && J->rsa == 1 && J->csa != 1)
                FN(pack_a_cols)(mcur, nt, kcur, J->A + ic + pc * J->csa, J->csa, abuf);
            else if (!J->adirect)
                for (ptrdiff_t r = 0; r < nt; r++) {
                    const ptrdiff_t i0 = r * mcur / nt, i1 = (r + 1) * mcur / nt;
                    FN(pack_a)(i1 - i0, kcur, J->A + (ic + i0) * J->rsa + pc * J->csa,
                               J->rsa, J->csa, abuf + i0 * kcur);
                }
            for (ptrdiff_t jc = n0; jc < n1; jc += J->nc) {
                const ptrdiff_t ncur = rs_min(J->nc, n1 - jc);
                const ptrdiff_t np = (ncur + NR - 1) / NR;
                const REAL *bb, *bedge = NULL;
                ptrdiff_t ldb, ps;
                if (J->bmode == GEMM_PACK) {
                    for (ptrdiff_t p = 0; p < np; p++) {
                        const REAL *s = J->B + pc * J->rsb + (jc + p * NR) * J->csb;
                        if (J->csb == 1)
                            J->g.copy(rs_min(NR, ncur - p * NR), kcur, s, J->rsb,
                                      bbuf + p * kcur * NR, NR);
                        else
                            FN(pack_b)(NR, rs_min(NR, ncur - p * NR), kcur, s,
                                       J->rsb, J->csb, bbuf + p * kcur * NR);
                    }
                    bb = bbuf; ldb = NR; ps = kcur * NR;
                } else if (J->bmode == GEMM_PREPACKED) {
                    bb = J->B + (jc / NR) * K * NR + pc * NR; ldb = NR; ps = K * NR;
                } else { /* GEMM_DIRECT: rows of B are contiguous */
                    bb = J->B + pc * J->rsb + jc; ldb = J->rsb; ps = NR;
                    if (ncur % NR) { /* partial last panel: copy, zero-padded */
                        J->g.copy(ncur % NR, kcur, bb + (np - 1) * NR, J->rsb, bbuf, NR);
                        bedge = bbuf;
                    }
                }
                /* A few row tiles (a per-step recurrent product): each B panel,
                   from L3 or memory, serves every tile while it is in L1, the
                   A tiles staying in L1/L2; else (a large block) each A tile
                   serves every B panel of the block, which stays in L2. */
                const int panel_outer = nt <= GEMM_PANEL_OUTER_TILES;
                const ptrdiff_t outer = panel_outer ? np : nt, inner = panel_outer ? nt : np;
                for (ptrdiff_t o = 0; o < outer; o++)
                    for (ptrdiff_t q = 0; q < inner; q++) {
                        const ptrdiff_t r = panel_outer ? q : o, p = panel_outer ? o : q;
                        const ptrdiff_t i0 = r * mcur / nt, i1 = (r + 1) * mcur / nt;
                        const REAL *ap;
                        ptrdiff_t ka;
                        int arow = 0;
                        if (!J->adirect) {        /* packed (kc, mr) */
                            ap = abuf + i0 * kcur; ka = i1 - i0;
                        } else {                  /* in place */
                            ap = J->A + (ic + i0) * J->rsa + pc * J->csa;
                            arow = J->csa == 1;
                            ka = arow ? J->rsa : J->csa;
                        }
                        REAL *cp = J->C + (ic + i0) * J->ldc + jc + p * NR;
                        const ptrdiff_t nr = rs_min(NR, ncur - p * NR);
                        if (bedge && p == np - 1)
                            kern(i1 - i0, nr, kcur, ap, ka, arow, bedge, NR, cp, J->ldc, acc);
                        else
                            kern(i1 - i0, nr, kcur, ap, ka, arow, bb + p * ps, ldb, cp, J->ldc, acc);
                    }
            }
        }
        if (call_epi && J->epi)
            J->epi(J->ctx, ic, ic + mcur);
    }
}

static void FN(task)(void *arg, int t, int nt)
{
    const FN(job) *J = (const FN(job) *)arg;
    RS_ALIGNED(64) REAL sa[GEMM_STACK_A];
    RS_ALIGNED(64) REAL sb[GEMM_STACK_B];
    REAL *abuf = sa, *bbuf = sb;
    if (J->ws) {
        abuf = J->ws + t * J->ws_task;
        bbuf = abuf + rs_round_up(J->mc * J->kc, 16);
    }
    if (J->split_m) {
        FN(run_block)(J, t * J->M / nt, (t + 1) * J->M / nt, 0, J->N, abuf, bbuf, 1);
    } else {
        const ptrdiff_t NR = J->g.nr, np = (J->N + NR - 1) / NR;
        const ptrdiff_t p0 = t * np / nt, p1 = (t + 1) * np / nt;
        FN(run_block)(J, 0, J->M, p0 * NR, rs_min(p1 * NR, J->N), abuf, bbuf, 0);
    }
}

/* Stack-sized blocking for a task of at most `rows` rows: no heap at all. */
static void FN(block_small)(FN(job) *J, ptrdiff_t rows)
{
    const ptrdiff_t NR = J->g.nr;
    J->mc = rs_min(rows, GEMM_SMALL_M);
    ptrdiff_t kc = rs_min(GEMM_STACK_A / J->mc, GEMM_STACK_B / NR);
    kc = rs_min(kc, J->g.blk.kc);
    J->kc = rs_min(kc, J->K);
    if (J->bmode == GEMM_PACK)
        J->nc = rs_max(NR, (GEMM_STACK_B / J->kc) / NR * NR);
    else
        J->nc = J->g.blk.nc;
    J->ws = NULL;
    J->ws_task = 0;
}

/* Read A in place (no packing) when each A micro-panel is used for only a
   few B panels, so packing would not pay. */
static int FN(a_direct)(const FN(job) *J, int nt)
{
    const ptrdiff_t NR = J->g.nr;
    const ptrdiff_t cols = J->split_m ? J->N : (J->N + nt - 1) / nt;
    if (cols > GEMM_ADIRECT_PANELS * NR)
        return 0;
    return J->rsa == 1 || (J->csa == 1 && J->g.kern != FN(kern_portable));
}

/* Number of tasks and how to split (rows or column panels). */
static int FN(plan_tasks)(FN(job) *J, int prefer_m)
{
    const double flops = 2.0 * (double)J->M * (double)J->N * (double)J->K;
    const ptrdiff_t tm = (J->M + J->g.mr - 1) / J->g.mr;
    const ptrdiff_t tn = (J->N + J->g.nr - 1) / J->g.nr;
    int nt = 1;
    if (flops >= GEMM_PAR_FLOPS)
        nt = rs_get_num_threads();
    J->split_m = tm >= tn || (prefer_m && tm >= 2 * (ptrdiff_t)nt);
    const ptrdiff_t tiles = J->split_m ? tm : tn;
    if ((ptrdiff_t)nt > tiles)
        nt = (int)tiles;
    if (nt < 1)
        nt = 1;
    return nt;
}

static void FN(zero_rows)(ptrdiff_t M, ptrdiff_t N, REAL *C, ptrdiff_t ldc)
{
    for (ptrdiff_t i = 0; i < M; i++)
        for (ptrdiff_t j = 0; j < N; j++)
            C[i * ldc + j] = 0;
}

#if RS_CBLAS
/* ---- the CBLAS backend (blas.h) ----
 * C = [C +] A·B as cblas_?gemm calls, row-major. An operand is described to
 * CBLAS when one of its strides is 1 and the other a valid leading dimension;
 * else (and below RS_BLAS_MIN_FLOPS, or with int overflow) the product stays
 * ours. Our pool splits C into row blocks, one single-threaded CBLAS call
 * per block (with an epilogue: calls of at most GEMM_BLAS_ROWS rows, each
 * handed to epi in pieces of GEMM_SMALL_M rows as soon as it is computed).
 *
 * Bits: OpenBLAS's sgemm (0.3.21, Zen kernels, measured) rounds an element
 * differently when it falls in a partial register tile, and how it chunks
 * the columns depends on N. So C is split by rows only (CBLAS's N, whose
 * chunking is the same for every block), at multiples of GEMM_BLAS_ALIGN
 * rows (96 = a multiple of every register-tile height from 2 to 32 and of
 * 24), which keeps the tiles where a single call would put them: the same
 * bits for any thread count (tests/test_gemm_threads.py checks it; OpenBLAS
 * does not promise it). Measured counter-examples: rows split at 16 or 400
 * changed up to a third of the elements; columns split anywhere, too. A
 * product with fewer than 2 x 96 rows runs as one call. */
#define GEMM_BLAS_ALIGN 96   /* blocks start at multiples of this (see below) */
#define GEMM_BLAS_ROWS 288   /* rows per call with an epilogue (3 x ALIGN) */

typedef struct {
    ptrdiff_t M, N, K;
    const REAL *A; ptrdiff_t lda; int ta;
    const REAL *B; ptrdiff_t ldb; int tb;
    REAL *C; ptrdiff_t ldc;
    int acc;
    rs_epilogue epi; void *ctx;
} FN(bjob);

/* one operand X(r, c) = X[r*rs + c*cs] of shape (R, Cn): 1 and its leading
   dimension when CBLAS can read it (trans: 0 NoTrans, 1 Trans), else 0 */
static int FN(blas_operand)(ptrdiff_t R, ptrdiff_t Cn, ptrdiff_t rs, ptrdiff_t cs,
                            ptrdiff_t *ld, int *trans)
{
    if (cs == 1 && rs >= rs_max(1, Cn) && rs <= INT32_MAX) {
        *ld = rs; *trans = 0; return 1;
    }
    if (rs == 1 && cs >= rs_max(1, R) && cs <= INT32_MAX) {
        *ld = cs; *trans = 1; return 1;
    }
    if (R == 1 && cs == 1) {   /* one row: any row stride */
        *ld = rs_max(1, Cn); *trans = 0; return 1;
    }
    if (Cn == 1 && rs == 1) {  /* one column */
        *ld = rs_max(1, R); *trans = 1; return 1;
    }
    return 0;
}

/* C rows [m0, m1): one CBLAS call */
static void FN(blas_block)(const FN(bjob) *J, ptrdiff_t m0, ptrdiff_t m1)
{
    const REAL *a = J->A + (J->ta ? m0 : m0 * J->lda);
#if RS_F64
    cblas_dgemm(
#else
    cblas_sgemm(
#endif
        CblasRowMajor, J->ta ? CblasTrans : CblasNoTrans, J->tb ? CblasTrans : CblasNoTrans,
        (int)(m1 - m0), (int)J->N, (int)J->K, (REAL)1, a, (int)J->lda, J->B, (int)J->ldb,
        J->acc ? (REAL)1 : (REAL)0, J->C + m0 * J->ldc, (int)J->ldc);
}

static void FN(blas_task)(void *arg, int t, int nt)
{
    const FN(bjob) *J = (const FN(bjob) *)arg;
    const ptrdiff_t nb = (J->M + GEMM_BLAS_ALIGN - 1) / GEMM_BLAS_ALIGN;
    const ptrdiff_t m0 = rs_min(J->M, t * nb / nt * GEMM_BLAS_ALIGN);
    const ptrdiff_t m1 = rs_min(J->M, (t + 1) * nb / nt * GEMM_BLAS_ALIGN);
    const ptrdiff_t step = J->epi ? GEMM_BLAS_ROWS : rs_max(1, m1 - m0);
    for (ptrdiff_t i = m0; i < m1; i += step) {
        const ptrdiff_t i1 = rs_min(m1, i + step);
        FN(blas_block)(J, i, i1);
        if (J->epi)
            for (ptrdiff_t r = i; r < i1; r += GEMM_SMALL_M)
                J->epi(J->ctx, r, rs_min(i1, r + GEMM_SMALL_M));
    }
}

/* 1 when CBLAS computed the product (and ran the epilogue), 0 when it is ours */
static int FN(blas_run)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                        const REAL *A, ptrdiff_t rsa, ptrdiff_t csa,
                        const REAL *B, ptrdiff_t rsb, ptrdiff_t csb,
                        REAL *C, ptrdiff_t ldc, int accumulate, rs_epilogue epi, void *ctx)
{
    const double flops = 2.0 * (double)M * (double)N * (double)K;
    if (!rs_blas_get() || flops < RS_BLAS_MIN_FLOPS)
        return 0;
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || ldc < N || ldc > INT32_MAX)
        return 0;
    FN(bjob) J;
    memset(&J, 0, sizeof J);
    if (!FN(blas_operand)(M, K, rsa, csa, &J.lda, &J.ta) ||
        !FN(blas_operand)(K, N, rsb, csb, &J.ldb, &J.tb))
        return 0;
    J.M = M; J.N = N; J.K = K; J.A = A; J.B = B; J.C = C; J.ldc = ldc;
    J.acc = accumulate != 0; J.epi = epi; J.ctx = ctx;
#if defined(RS_CBLAS_ACCELERATE)
    /* one call: Accelerate threads itself, and its matrix unit (AMX) is
       shared by a cluster's cores, so calls from our threads would queue */
    int nt = 1;
#else
    int nt = flops >= GEMM_PAR_FLOPS ? rs_get_num_threads() : 1;
#endif
    const ptrdiff_t blocks = (M + GEMM_BLAS_ALIGN - 1) / GEMM_BLAS_ALIGN;
    if ((ptrdiff_t)nt > blocks)
        nt = (int)blocks;
    if (nt < 1)
        nt = 1;
    rs_parallel_run(FN(blas_task), &J, nt);
    return 1;
}
#undef GEMM_BLAS_ROWS
#undef GEMM_BLAS_ALIGN
#endif /* RS_CBLAS */

void FN(rs_gemm_epi)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                     const REAL *A, ptrdiff_t rsa, ptrdiff_t csa,
                     const REAL *B, ptrdiff_t rsb, ptrdiff_t csb,
                     REAL *C, ptrdiff_t ldc, int accumulate, rs_epilogue epi, void *ctx)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        if (!accumulate)
            FN(zero_rows)(M, N, C, ldc);
        if (epi)
            for (ptrdiff_t i = 0; i < M; i += GEMM_SMALL_M)
                epi(ctx, i, rs_min(M, i + GEMM_SMALL_M));
        return;
    }
#if RS_CBLAS
    if (FN(blas_run)(M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate, epi, ctx))
        return;
#endif
    FN(job) J;
    memset(&J, 0, sizeof J);
    J.g = FN(geom_of)(rs_get_path());
    J.M = M; J.N = N; J.K = K;
    J.A = A; J.rsa = rsa; J.csa = csa;
    J.B = B; J.rsb = rsb; J.csb = csb;
    J.C = C; J.ldc = ldc; J.acc = accumulate != 0;
    J.epi = epi; J.ctx = ctx;
    const int nt = FN(plan_tasks)(&J, epi != NULL);
    J.adirect = FN(a_direct)(&J, nt);
    const ptrdiff_t rows = J.split_m ? (M + nt - 1) / nt : M;
    void *heap = NULL;
    if (rows <= GEMM_SMALL_M) {
        /* few rows: B is used once, read it in place when its rows are contiguous */
        J.bmode = csb == 1 ? GEMM_DIRECT : GEMM_PACK;
        FN(block_small)(&J, rows);
    } else {
        J.bmode = GEMM_PACK;
        const ptrdiff_t NR = J.g.nr;
        const ptrdiff_t cols = J.split_m ? N : ((N + NR - 1) / NR + nt - 1) / nt * NR;
        J.kc = rs_min(J.g.blk.kc, K);
        J.mc = rs_min(J.g.blk.mc, rows);
        J.nc = rs_min(J.g.blk.nc, rs_round_up(cols, NR));
        J.ws_task = rs_round_up(J.mc * J.kc, 16) + J.kc * J.nc;
        heap = rs_ws_get((size_t)(nt * J.ws_task) * sizeof(REAL));
        if (heap)
            J.ws = (REAL *)heap;
        else
            FN(block_small)(&J, rows);  /* out of memory: slower, same result */
    }
    rs_parallel_run(FN(task), &J, nt);
    rs_ws_put(heap);
    if (!J.split_m && epi) /* column split: rows are final only now */
        for (ptrdiff_t i = 0; i < M; i += GEMM_SMALL_M)
            epi(ctx, i, rs_min(M, i + GEMM_SMALL_M));
}

void FN(rs_gemm)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                 const REAL *A, ptrdiff_t rsa, ptrdiff_t csa,
                 const REAL *B, ptrdiff_t rsb, ptrdiff_t csb,
                 REAL *C, ptrdiff_t ldc, int accumulate)
{
    FN(rs_gemm_epi)(M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate, NULL, NULL);
}

/* ---- pre-packed B ---- */

size_t FN(rs_gemm_packed_size)(ptrdiff_t K, ptrdiff_t N)
{
    if (K < 0) K = 0;
    if (N < 0) N = 0;
    return (size_t)(GEMM_HDR + K * rs_round_up(N, GEMM_NR_MAX));
}

typedef struct {
    REAL *d;
    const REAL *B;
    ptrdiff_t K, N, rsb, csb, nr;
} FN(packb_job);

/* panels [p0, p1) of B, task t of nt */
static void FN(packb_task)(void *arg, int t, int nt)
{
    const FN(packb_job) *J = (const FN(packb_job) *)arg;
    const ptrdiff_t np = (J->N + J->nr - 1) / J->nr;
    const ptrdiff_t p0 = np * t / nt, p1 = np * (t + 1) / nt;
    for (ptrdiff_t p = p0; p < p1; p++)
        FN(pack_b)(J->nr, rs_min(J->nr, J->N - p * J->nr), J->K, J->B + p * J->nr * J->csb,
                   J->rsb, J->csb, J->d + p * J->K * J->nr);
}

void FN(rs_gemm_pack_b)(REAL *Bp, ptrdiff_t K, ptrdiff_t N,
                        const REAL *B, ptrdiff_t rsb, ptrdiff_t csb)
{
    if (K < 0) K = 0;
    if (N < 0) N = 0;
    const int path = rs_get_path();
    const FN(geom) g = FN(geom_of)(path);
    gemm_hdr h;
    memset(&h, 0, sizeof h);
    h.magic = GEMM_MAGIC;
    h.elem = (int32_t)sizeof(REAL);
    h.path = path;
    h.nr = (int32_t)g.nr;
    h.K = (int64_t)K;
    h.N = (int64_t)N;
    memcpy(Bp, &h, sizeof h);
    FN(packb_job) J = {.d = Bp + GEMM_HDR, .B = B, .K = K, .N = N, .rsb = rsb, .csb = csb,
                       .nr = g.nr};
    /* a large B (the output layer of a language model) is packed by all threads */
    int nt = (double)K * (double)N >= 262144.0 ? rs_get_num_threads() : 1;
    rs_parallel_run(FN(packb_task), &J, nt);
}

int FN(rs_gemm_packed)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                       const REAL *A, ptrdiff_t rsa, ptrdiff_t csa,
                       const REAL *Bp, REAL *C, ptrdiff_t ldc,
                       int accumulate, rs_epilogue epi, void *ctx)
{
    gemm_hdr h;
    memcpy(&h, Bp, sizeof h);
    if (M < 0) M = 0;
    if (h.magic != GEMM_MAGIC || h.elem != (int32_t)sizeof(REAL) ||
        h.K != (int64_t)(K < 0 ? 0 : K) || h.N != (int64_t)(N < 0 ? 0 : N) ||
        !rs_path_available(h.path))
        return -1;
    if (M == 0)
        return 0;
    const FN(geom) g = FN(geom_of)(h.path);
    if (g.nr != h.nr)
        return -1;
    if (N <= 0 || K <= 0) {
        if (N > 0 && !accumulate)
            FN(zero_rows)(M, N, C, ldc);
        if (epi)
            for (ptrdiff_t i = 0; i < M; i += GEMM_SMALL_M)
                epi(ctx, i, rs_min(M, i + GEMM_SMALL_M));
        return 0;
    }
    FN(job) J;
    memset(&J, 0, sizeof J);
    J.g = g;
    J.M = M; J.N = N; J.K = K;
    J.A = A; J.rsa = rsa; J.csa = csa;
    J.B = Bp + GEMM_HDR; J.bmode = GEMM_PREPACKED;
    J.C = C; J.ldc = ldc; J.acc = accumulate != 0;
    J.epi = epi; J.ctx = ctx;
    const int nt = FN(plan_tasks)(&J, 1);
    J.adirect = FN(a_direct)(&J, nt);
    FN(block_small)(&J, J.split_m ? (M + nt - 1) / nt : M);
    const ptrdiff_t rows = J.split_m ? (M + nt - 1) / nt : M;
    if (rows > GEMM_SMALL_M && csa == 1 && J.g.kern != FN(kern_portable)) {
        /* Many rows against a pre-packed B (an output layer over a whole
           sequence): A read in place over all of K at once (in near-equal
           k blocks of at most GEMM_PACKED_KC), so each C tile is written
           once, and GEMM_PACKED_MC rows share each B panel brought in from
           the cache. Same FMA chains as any other blocking. */
        const ptrdiff_t nk = (K + GEMM_PACKED_KC - 1) / GEMM_PACKED_KC;
        J.adirect = 1;
        J.kc = (K + nk - 1) / nk;
        J.mc = rs_min(rows, GEMM_PACKED_MC);
    }
    rs_parallel_run(FN(task), &J, nt);
    if (!J.split_m && epi) /* column split: rows are final only now */
        for (ptrdiff_t i = 0; i < M; i += GEMM_SMALL_M)
            epi(ctx, i, rs_min(M, i + GEMM_SMALL_M));
    return 0;
}

#undef PNR
#undef GEMM_STACK_A
#undef GEMM_STACK_B
#undef GEMM_SMALL_M
#undef GEMM_ADIRECT_PANELS
#undef GEMM_PANEL_OUTER_TILES
#undef GEMM_PACKED_KC
#undef GEMM_PACKED_MC
#undef GEMM_NR_MAX
#undef GEMM_HDR
#undef GEMM_PAR_FLOPS
