/* gemm.h -- the matrix product the RNN kernels are built on.
 *
 * Row-major with general strides, so transposes are just stride swaps:
 *   A(i,k) = A[i*rsa + k*csa]   (M,K)
 *   B(k,j) = B[k*rsb + j*csb]   (K,N)
 *   C(i,j) = C[i*ldc + j]       (M,N), rows may be strided, columns contiguous
 *   C = A·B          (accumulate == 0)
 *   C = C + A·B      (accumulate != 0)
 * Any of M, N, K may be 0 (K == 0 with accumulate == 0 zeroes C).
 * C must not overlap A or B.
 *
 * Each C element is one chain of multiply-adds over k = 0..K-1 in order,
 * started from 0 (or from C when accumulating), computed by one thread: the
 * result does not depend on the number of threads (rs_set_num_threads) nor
 * on the blocking. It does depend on the SIMD path (rs_get_path(), read at
 * every call): the SIMD paths use fused multiply-adds, the portable one may not.
 *
 * Large products are split over up to rs_get_num_threads() threads, by rows
 * or by column panels of C, never over K. Calls from several OS threads at
 * once are safe.
 */
#ifndef RNNSCRATCH_GEMM_H
#define RNNSCRATCH_GEMM_H

#include <stddef.h>

/* ---- Pre-packed B: for C = [C +] A·B repeated with the same B ----
 *
 *   n = rs_gemm_packed_size_f32(K, N);            elements (not bytes)
 *   Bp = 64-byte aligned buffer of n floats        (caller allocates; any
 *                                                   float alignment works,
 *                                                   64 is faster)
 *   rs_gemm_pack_b_f32(Bp, K, N, B, rsb, csb);    B(k,j) = B[k*rsb + j*csb]
 *   rs_gemm_packed_f32(M, N, K, A, rsa, csa, Bp, C, ldc, acc, epi, ctx);
 *
 * Bp starts with a small header recording K, N and the SIMD path in use when
 * it was packed; rs_gemm_packed uses that path (not the current one), so a
 * buffer stays valid if rs_set_path() changes in between. The size does not
 * depend on the path. rs_gemm_packed returns 0, or -1 (C untouched, epi not
 * called) when Bp was not packed for this K and N.
 *
 * epi (may be NULL): epi(ctx, i0, i1) is called once for each row range
 * [i0, i1) of C as soon as those rows are final (all of K summed, all N
 * columns written), while they are still in cache. The ranges partition
 * [0, M) and are at most 128 rows. With several threads, epi is
 * called from worker threads too, concurrently for disjoint row ranges, so
 * it must only touch its own rows. (M == 0: not called. K == 0: called on
 * the zeroed / unchanged rows.)
 */
typedef void (*rs_epilogue)(void *ctx, ptrdiff_t i0, ptrdiff_t i1);
typedef rs_epilogue rs_epilogue_f32;
typedef rs_epilogue rs_epilogue_f64;

/* rs_gemm_f32/_f64, rs_gemm_packed_size_, rs_gemm_pack_b_, rs_gemm_packed_ */
#define RS_TEMPLATE "gemm_decl.h"
#include "template.h"

/* The thread count: rs_set_num_threads / rs_get_num_threads in threads.h. */

/* The cache blocks come from the cache sizes (rs_cache_sizes), read once by
   rs_gemm_init (module init). rs_gemm_force_blocking(kc, mc, nc) replaces
   each one that is > 0 (for the tests and the benchmark: the results never
   change; not while a product runs). */
void rs_gemm_init(void);
void rs_gemm_cache_sizes(long sizes[3]);
void rs_gemm_force_blocking(ptrdiff_t kc, ptrdiff_t mc, ptrdiff_t nc);
/* the blocks of a path for one element size (4, 8): kc, mc, nc */
void rs_gemm_blocking(int path, int elem, ptrdiff_t out[3]);

#endif
