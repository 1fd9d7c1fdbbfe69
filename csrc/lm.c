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

#define REAL float
#define RS_SUFFIX f32
#include "lm_impl.h"
#undef REAL
#undef RS_SUFFIX

#define REAL double
#define RS_SUFFIX f64
#include "lm_impl.h"
#undef REAL
#undef RS_SUFFIX
