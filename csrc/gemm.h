/* gemm.h -- the matrix product the RNN kernels are built on.
 *
 * Row-major with general strides, so transposes are just stride swaps:
 *   A(i,k) = A[i*rsa + k*csa]   (M,K)
 *   B(k,j) = B[k*rsb + j*csb]   (K,N)
 *   C(i,j) = C[i*ldc + j]       (M,N), rows may be strided, columns contiguous
 *   C = A·B          (accumulate == 0)
 *   C = C + A·B      (accumulate != 0)
 * Any of M, N, K may be 0 (K == 0 with accumulate == 0 zeroes C).
 * Each C element is summed in a fixed order that does not depend on the
 * number of threads.
 */
#ifndef RNNSCRATCH_GEMM_H
#define RNNSCRATCH_GEMM_H

#include <stddef.h>

void rs_gemm_f32(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                 const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                 const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                 float *C, ptrdiff_t ldc, int accumulate);
void rs_gemm_f64(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                 const double *A, ptrdiff_t rsa, ptrdiff_t csa,
                 const double *B, ptrdiff_t rsb, ptrdiff_t csb,
                 double *C, ptrdiff_t ldc, int accumulate);

#endif
