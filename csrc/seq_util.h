/* seq_util.h -- small helpers shared by the sequence kernels
 * (rnn_impl.h, lstm_impl.h, gru_impl.h), for one REAL: included by those templates
 * (template.h), and everything here is static.
 * Included once per (template, REAL): the names carry a GATED_PFX prefix.
 */
#define SU(name) RS_CAT(RS_CAT(GATED_PFX, name), RS_SUFFIX)

/* elements, rounded up to a multiple of 16 (64 bytes for float); -1 stays -1 */
static ptrdiff_t SU(round16)(ptrdiff_t n) { return n < 0 ? -1 : (n + 15) / 16 * 16; }

/* a + b for sizes, or -1 when either is negative or the sum overflows */
static inline ptrdiff_t SU(add_size)(ptrdiff_t a, ptrdiff_t b)
{
    if (a < 0 || b < 0 || a > PTRDIFF_MAX - b) return -1;
    return a + b;
}

/* How many row blocks a recurrence of per-step cost 2·N·H·GH flops is split
 * into: one per thread, when each has at least 4 rows and the whole sequence
 * enough work to pay for waking the workers. */
static int SU(recurrence_tasks)(ptrdiff_t N, ptrdiff_t T, ptrdiff_t H, ptrdiff_t GH)
{
    const double flops = 2.0 * (double)N * (double)T * (double)H * (double)GH;
    ptrdiff_t tasks = rs_get_num_threads();
    if (tasks > N / 4) tasks = N / 4;
    if (flops < rs_par_min_flops() || tasks < 1) tasks = 1;
    return (int)tasks;
}

/* ---- the column split (TimeLSTM): tasks own blocks of hidden units ----
 * With few batch rows per thread and a large H, a row split has every thread
 * stream all of Wh each step for a handful of rows. Splitting the hidden units
 * instead, each task reads only its own columns of Wh (all four gates of its
 * units, packed once per sequence) for every row, at the price of one
 * fork/join per step (step t's product needs all of h_{t-1}). Unit bounds are
 * multiples of SU_COL_ALIGN, the gemm's widest panel, so the tasks' packed
 * blocks add up to one padded H. */
#define SU_COL_ALIGN (128 / (ptrdiff_t)sizeof(REAL))
#ifndef SU_COL_MIN_FLOPS
#  define SU_COL_MIN_FLOPS 2e6 /* per task and step: ~30 us, against ~1 us of fork/join */
#endif
#ifndef SU_COL_MAX_ROWS
#  define SU_COL_MAX_ROWS 32   /* rows per thread at which a row split streams Wh well */
#endif
/* Measured (BENCHMARKS.md, AMD EPYC, 32 MB L3): with Wh well inside the L3
   (650: 6.8 MB) the column split gained nothing (0.82-1.06x the row split in
   rounds); at 1024 (16.8 MB, both threads streaming it) the forward gained
   1.10-1.29x. So columns only when Wh is over a quarter of the L3 (unknown L3:
   never). */
#ifndef SU_COL_L3_SHARE
#  define SU_COL_L3_SHARE 4
#endif

/* how many column tasks a recurrence of per-step cost 2·N·H·GH flops runs as;
   0: split rows instead (or run on one thread) */
static inline int SU(column_tasks)(ptrdiff_t N, ptrdiff_t H, ptrdiff_t GH)
{
    const int mode = rs_get_recurrence_split();
    int tasks = rs_get_num_threads();
    if (mode == RS_SPLIT_ROWS || N < 1) return 0;
    if (tasks > H / SU_COL_ALIGN) tasks = (int)(H / SU_COL_ALIGN); /* >= one panel each */
    if (tasks < 2) return 0;
    if (mode == RS_SPLIT_COLUMNS) return tasks;
    if (tasks > H / (2 * SU_COL_ALIGN)) tasks = (int)(H / (2 * SU_COL_ALIGN));
    const double step = 2.0 * (double)N * (double)H * (double)GH;
    if (tasks < 2 || step / tasks < SU_COL_MIN_FLOPS || N / tasks > SU_COL_MAX_ROWS) return 0;
    long caches[3];
    rs_gemm_cache_sizes(caches);
    const double wh = (double)H * (double)GH * (double)sizeof(REAL);
    if (caches[2] <= 0 || wh * SU_COL_L3_SHARE <= (double)caches[2]) return 0;
    return tasks;
}

/* the first unit of task k of n (k == n: H) */
static inline ptrdiff_t SU(unit_bound)(ptrdiff_t H, int k, int n)
{
    if (k <= 0) return 0;
    if (k >= n) return H;
    ptrdiff_t u = (H * k / n + SU_COL_ALIGN / 2) / SU_COL_ALIGN * SU_COL_ALIGN;
    return u < H ? u : H;
}

/* elements of nb packed blocks (K, w_k) for every task of any split: each
   task's blocks start at nb * (k * hdr + K * u0_k) */
static inline ptrdiff_t SU(col_pack_size)(ptrdiff_t K, ptrdiff_t H, ptrdiff_t nb)
{
    const ptrdiff_t hdr = (ptrdiff_t)FN(rs_gemm_packed_size)(0, 0);
    const ptrdiff_t Hp = SU(add_size)(H, SU_COL_ALIGN - 1) / SU_COL_ALIGN * SU_COL_ALIGN;
    if (Hp < 0) return -1;
    return rs_mul_size(nb, SU(add_size)(RS_MAX_THREADS * hdr, rs_mul_size(K, Hp)));
}

/* task k of n: its units [*u0, *u0 + *w), its first packed block in Bp, and
   the size of each of its nb (K, w) blocks */
static inline REAL *SU(col_task)(REAL *Bp, ptrdiff_t K, ptrdiff_t H, int k, int n, ptrdiff_t nb,
                                 ptrdiff_t *u0, ptrdiff_t *w, ptrdiff_t *bsize)
{
    const ptrdiff_t hdr = (ptrdiff_t)FN(rs_gemm_packed_size)(0, 0);
    *u0 = SU(unit_bound)(H, k, n);
    *w = SU(unit_bound)(H, k + 1, n) - *u0;
    *bsize = (ptrdiff_t)FN(rs_gemm_packed_size)(K, *w);
    return Bp + nb * (k * hdr + K * *u0);
}

/* rows [r0,r1) of the batch: task `task` of `ntasks` */
static void SU(row_block)(ptrdiff_t N, int task, int ntasks, ptrdiff_t *r0, ptrdiff_t *r1)
{
    *r0 = N * task / ntasks;
    *r1 = N * (task + 1) / ntasks;
}

/* db (G,) += column sums of dA (R,G) at row stride ld, rows in order */
static void SU(colsum_add)(REAL *db, const REAL *dA, ptrdiff_t R, ptrdiff_t G, ptrdiff_t ld)
{
    for (ptrdiff_t r = 0; r < R; r++) {
        const REAL *RS_RESTRICT row = dA + r * ld;
        for (ptrdiff_t j = 0; j < G; j++) db[j] += row[j];
    }
}

/* Hprev (N,T,H): Hprev[:,0] = h0 (zeros when NULL), Hprev[:,t] = hs[:,t-1].
   hs may be NULL when T == 1. */
static inline void SU(build_hprev)(REAL *Hprev, const REAL *h0, const REAL *hs,
                                   ptrdiff_t N, ptrdiff_t T, ptrdiff_t H)
{
    const ptrdiff_t ld = T * H;
    for (ptrdiff_t n = 0; n < N; n++) {
        REAL *dst = Hprev + n * ld;
        if (h0)
            memcpy(dst, h0 + n * H, (size_t)H * sizeof(REAL));
        else
            for (ptrdiff_t j = 0; j < H; j++) dst[j] = 0;
        if (T > 1)
            memcpy(dst + H, hs + n * ld, (size_t)((T - 1) * H) * sizeof(REAL));
    }
}

/* XH (N*T, D+H): row (n,t) = [xs[n,t] | h_{t-1}], h_{-1} = h0 (zeros when NULL).
   hs may be NULL when T == 1. */
static inline void SU(build_xh)(REAL *XH, const REAL *xs, const REAL *h0, const REAL *hs,
                                ptrdiff_t N, ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    const ptrdiff_t W = D + H;
    for (ptrdiff_t n = 0; n < N; n++)
        for (ptrdiff_t t = 0; t < T; t++) {
            REAL *dst = XH + (n * T + t) * W;
            memcpy(dst, xs + (n * T + t) * D, (size_t)D * sizeof(REAL));
            const REAL *hp = t ? hs + (n * T + t - 1) * H : (h0 ? h0 + n * H : NULL);
            if (hp)
                memcpy(dst + D, hp, (size_t)H * sizeof(REAL));
            else
                for (ptrdiff_t j = 0; j < H; j++) dst[D + j] = 0;
        }
}

/* h0 == NULL: the book computes step 0 as a_0 += 0·Wh with a zero state.
 * That adds ±0 (no change) in every column of Wh whose values are finite,
 * and NaN in a column that holds an inf or a NaN (0·inf = NaN). One pass
 * over Wh, just read by the packing (x - x is 0 unless x is inf or NaN),
 * finds whether there is any (about 0.1 ms for 650 x 2600); only then are
 * the columns summed as the book's product would and the NaN added to step 0
 * of every row. */
static inline void SU(zero_state_nonfinite)(REAL *a, ptrdiff_t N, ptrdiff_t lda, const REAL *Wh,
                                            ptrdiff_t H, ptrdiff_t G)
{
    REAL s[16] = {0}, any = 0; /* 16 running sums: vectorized without reassociating */
    const ptrdiff_t n = H * G;
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) s[l] += Wh[i + l] - Wh[i + l];
    for (; i < n; i++) any += Wh[i] - Wh[i];
    for (int l = 0; l < 16; l++) any += s[l];
    if (any == 0) return; /* every x - x was 0: Wh is finite */
    for (ptrdiff_t j = 0; j < G; j++) {
        REAL z = 0;
        for (ptrdiff_t k = 0; k < H; k++) z += (REAL)0 * Wh[k * G + j];
        if (z != z)
            for (ptrdiff_t r = 0; r < N; r++) a[r * lda + j] += z;
    }
}

/* ---- elementwise loops compiled for each SIMD path ----
 * SU_PATHED(name, body, params, args) defines `static void name params` that
 * runs `body args` (body: an always-inline function of plain C loops) compiled
 * for the path in use (rs_get_path()), so the compiler vectorizes the same
 * loops with AVX-512, AVX2 or the baseline ISA. The build does not contract
 * a*b+c (ISO C mode; clang: the pragma in lstm.c / gru.c), so every path
 * gives the same bits: those of the NumPy expressions, in the book's order. */
#ifndef SU_PATHED
#  if defined(__GNUC__) || defined(__clang__)
#    define SU_INLINE static inline __attribute__((always_inline))
#  elif defined(_MSC_VER)
#    define SU_INLINE static __forceinline
#  else
#    define SU_INLINE static inline
#  endif
#  if RS_X86_DISPATCH && RS_TU_BASE
#    define SU_PATHED(name, body, params, args)                                       \
        RS_SIMD_FN(AVX512, void, RS_CAT(name, avx512), params) { body args; }         \
        RS_SIMD_FN(AVX2, void, RS_CAT(name, avx2), params) { body args; }             \
        static void name params                                                       \
        {                                                                             \
            switch (rs_get_path()) {                                                  \
            case RS_PATH_AVX512: RS_CAT(name, avx512) args; return;                   \
            case RS_PATH_AVX2: RS_CAT(name, avx2) args; return;                       \
            default: body args; return;                                               \
            }                                                                         \
        }
#  elif RS_X86_DISPATCH /* a SIMD path's translation unit (compat.h, RS_SPLIT_TU) */
#    define SU_PATHED(name, body, params, args)                                       \
        RS_SIMD_FN(AVX512, void, RS_CAT(name, avx512), params) { body args; }         \
        RS_SIMD_FN(AVX2, void, RS_CAT(name, avx2), params) { body args; }
#  else
#    define SU_PATHED(name, body, params, args) static void name params { body args; }
#  endif
#endif
