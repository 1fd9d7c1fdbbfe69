/* lm.c -- float and double instances of lm_impl.h (embedding, affine over a
 * sequence, softmax fused with cross-entropy, the three fused as the output
 * head), and the id range check. */
#include <math.h>
#include <string.h>
#include "compat.h"
#include "gemm.h"
#include "act.h"
#include "lm.h"
#include "threads.h"
#include "blas.h"

static inline ptrdiff_t rs_lm_min(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }

ptrdiff_t lm_first_bad_id(const ptrdiff_t *ids, ptrdiff_t n, ptrdiff_t V, int allow_ignore,
                          ptrdiff_t ignore)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const ptrdiff_t id = ids[i];
        if ((id < 0 || id >= V) && !(allow_ignore && id == ignore)) return i;
    }
    return -1;
}

#if RS_X86_DISPATCH
#include <immintrin.h>

/* dst[j*ldd + i] = src[i*lds + j] for an 8x8 block of floats (AVX2 shuffles) */
static RS_TARGET_AVX2 void lm_transpose8_f32(float *dst, ptrdiff_t ldd, const float *src,
                                             ptrdiff_t lds)
{
    __m256 r[8], t[8], u[8];
    for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(src + k * lds);
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);     /* a0 b0 a1 b1 | a4 b4 a5 b5 */
        t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]); /* a2 b2 a3 b3 | a6 b6 a7 b7 */
    }
    for (int k = 0; k < 8; k += 4) {
        u[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int k = 0; k < 4; k++) {
        _mm256_storeu_ps(dst + k * ldd, _mm256_permute2f128_ps(u[k], u[k + 4], 0x20));
        _mm256_storeu_ps(dst + (k + 4) * ldd, _mm256_permute2f128_ps(u[k], u[k + 4], 0x31));
    }
}
#  define LM_TRANSPOSE8_F32 lm_transpose8_f32 /* used by the float instance */
#endif

#define RS_TEMPLATE "lm_impl.h"
#include "template.h"
