/* attention_impl.h -- the attention kernels for one REAL; included by
 * attention.c once for float and once for double. Formulas: attention.h.
 *
 * Every kernel is a loop over batch rows; each row is a few small products
 * and, for the weights, the softmax of each decoder step's row of scores. The
 * products with hs_encᵀ (the scores, and da) are dots of contiguous rows
 * (att_dots, below); the others use the package gemm, reading transposed
 * operands through their strides (no copies). Rows are
 * split over the thread pool in contiguous blocks; a row is computed the same
 * way whichever task runs it.
 */

/* ---- row-by-row dot products ---- */

/* C[t*ldc + i] = Σ_h X[t*H + h] · Y[i*H + h]  for t < M, i < Nc: products
 * with the transpose of a row-major Y, as dots of contiguous rows (the gemm
 * would have to pack Yᵀ column by column, slower than the product itself at
 * these sizes). Each dot is summed in 16 lanes, element h in lane h % 16 and
 * each lane in order, then the lanes pairwise (l += l+8, l += l+4, l += l+2,
 * l += l+1): the same numbers whatever the blocking. Blocks of TR rows of X by
 * IR rows of Y share their loads; `fused`: multiply-adds fused (the SIMD
 * paths, where the function is compiled for the path and its loops
 * vectorized by the compiler) or two operations (portable). */
#if (RS_X86_DISPATCH || RS_ARM_NEON) && (defined(__GNUC__) || defined(__clang__)) && RS_F64
#  define ATT_FMA(a, b, c) __builtin_fma((a), (b), (c))
#elif (RS_X86_DISPATCH || RS_ARM_NEON) && (defined(__GNUC__) || defined(__clang__))
#  define ATT_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#elif RS_X86_DISPATCH && RS_F64 /* MSVC: <math.h>'s, one instruction under /arch:AVX2 */
#  define ATT_FMA(a, b, c) fma((a), (b), (c))
#elif RS_X86_DISPATCH
#  define ATT_FMA(a, b, c) fmaf((a), (b), (c))
#else /* only the portable function exists: never fused */
#  define ATT_FMA(a, b, c) ((a) * (b) + (c))
#endif

static ATT_INLINE void FN(att_dots_block)(REAL *C, ptrdiff_t ldc, const REAL *x,
                                          const REAL *y, ptrdiff_t H, const int TR,
                                          const int IR, const int fused)
{
    REAL acc[2][4][16];
    for (int r = 0; r < TR; r++)
        for (int q = 0; q < IR; q++)
            for (int l = 0; l < 16; l++) acc[r][q][l] = 0;
    ptrdiff_t h0 = 0;
    for (; h0 + 16 <= H; h0 += 16)
        for (int r = 0; r < TR; r++)
            for (int q = 0; q < IR; q++)
                for (int l = 0; l < 16; l++) {
                    const REAL a = x[r * H + h0 + l], b = y[q * H + h0 + l];
                    acc[r][q][l] = fused ? ATT_FMA(a, b, acc[r][q][l]) : a * b + acc[r][q][l];
                }
    for (int r = 0; r < TR; r++)
        for (int q = 0; q < IR; q++)
            for (int l = 0; h0 + l < H; l++) {
                const REAL a = x[r * H + h0 + l], b = y[q * H + h0 + l];
                acc[r][q][l] = fused ? ATT_FMA(a, b, acc[r][q][l]) : a * b + acc[r][q][l];
            }
    for (int r = 0; r < TR; r++)
        for (int q = 0; q < IR; q++) {
            REAL *v = acc[r][q];
            for (int l = 0; l < 8; l++) v[l] += v[l + 8];
            for (int l = 0; l < 4; l++) v[l] += v[l + 4];
            for (int l = 0; l < 2; l++) v[l] += v[l + 2];
            C[r * ldc + q] = v[0] + v[1];
        }
}

static ATT_INLINE void FN(att_dots_all)(REAL *C, ptrdiff_t ldc, const REAL *X, const REAL *Y,
                                        ptrdiff_t M, ptrdiff_t Nc, ptrdiff_t H, const int fused)
{
    /* a block of 4 rows of Y (the bigger operand) is read from memory once
       and stays in L1 while every row of X passes over it */
    ptrdiff_t i = 0;
    for (; i + 4 <= Nc; i += 4) {
        ptrdiff_t t = 0;
        for (; t + 2 <= M; t += 2)
            FN(att_dots_block)(C + t * ldc + i, ldc, X + t * H, Y + i * H, H, 2, 4, fused);
        for (; t < M; t++)
            FN(att_dots_block)(C + t * ldc + i, ldc, X + t * H, Y + i * H, H, 1, 4, fused);
    }
    for (; i < Nc; i++) {
        ptrdiff_t t = 0;
        for (; t + 2 <= M; t += 2)
            FN(att_dots_block)(C + t * ldc + i, ldc, X + t * H, Y + i * H, H, 2, 1, fused);
        for (; t < M; t++)
            FN(att_dots_block)(C + t * ldc + i, ldc, X + t * H, Y + i * H, H, 1, 1, fused);
    }
}

#if RS_X86_DISPATCH /* split builds: in csrc/simd/attention_*.c, see compat.h */
RS_SIMD_FN(AVX2, void, FN(att_dots_avx2), (REAL *C, ptrdiff_t ldc, const REAL *X, const REAL *Y,
                                           ptrdiff_t M, ptrdiff_t Nc, ptrdiff_t H))
{
    FN(att_dots_all)(C, ldc, X, Y, M, Nc, H, 1);
}

RS_SIMD_FN(AVX512, void, FN(att_dots_avx512), (REAL *C, ptrdiff_t ldc, const REAL *X,
                                               const REAL *Y, ptrdiff_t M, ptrdiff_t Nc,
                                               ptrdiff_t H))
{
    FN(att_dots_all)(C, ldc, X, Y, M, Nc, H, 1);
}
#endif
#undef ATT_FMA

#if RS_TU_BASE
static void FN(att_dots_portable)(REAL *C, ptrdiff_t ldc, const REAL *X, const REAL *Y,
                                  ptrdiff_t M, ptrdiff_t Nc, ptrdiff_t H)
{
    FN(att_dots_all)(C, ldc, X, Y, M, Nc, H, 0);
}

#if RS_ARM_NEON
/* NEON is the aarch64 baseline: the fused loops vectorize to fmla as they are */
static void FN(att_dots_neon)(REAL *C, ptrdiff_t ldc, const REAL *X, const REAL *Y,
                              ptrdiff_t M, ptrdiff_t Nc, ptrdiff_t H)
{
    FN(att_dots_all)(C, ldc, X, Y, M, Nc, H, 1);
}
#endif
/* the path in use (rs_get_path(), read at every call) */
static void FN(att_dots)(REAL *C, ptrdiff_t ldc, const REAL *X, const REAL *Y,
                         ptrdiff_t M, ptrdiff_t Nc, ptrdiff_t H)
{
#if RS_X86_DISPATCH
    const int path = rs_get_path();
    if (path == RS_PATH_AVX512) { FN(att_dots_avx512)(C, ldc, X, Y, M, Nc, H); return; }
    if (path == RS_PATH_AVX2) { FN(att_dots_avx2)(C, ldc, X, Y, M, Nc, H); return; }
#elif RS_ARM_NEON
    if (rs_get_path() == RS_PATH_NEON) { FN(att_dots_neon)(C, ldc, X, Y, M, Nc, H); return; }
#endif
    FN(att_dots_portable)(C, ldc, X, Y, M, Nc, H);
}


/* ---- one batch row ---- */

/* a (T,S) = softmax over i of dec (T,H) · encᵀ (H,S) */
static void FN(att_weight_row)(REAL *a, const REAL *enc, const REAL *dec,
                               ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    FN(att_dots)(a, S, dec, enc, T, S, H);
    if (S == 0) return;
    for (ptrdiff_t t = 0; t < T; t++) {
        REAL *row = a + t * S; /* (S,) */
        const REAL m = FN(rs_row_max_bias)(row, NULL, S);
        const REAL s = FN(rs_row_exp_sum)(row, m, S);
        FN(rs_row_div_scale)(row, s, (REAL)1, S);
    }
}

/* c (T,H) = a (T,S) · enc (S,H) */
static void FN(att_sum_row)(REAL *c, const REAL *enc, const REAL *a,
                            ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    FN(rs_gemm)(T, H, S, a, S, 1, enc, H, 1, c, H, 0);
}

/* ds (T,S) = a·da - a·Σ_i a·da, row by row (the book's Softmax.backward:
   dx = a*da; dx -= a * sum(dx)); ds may be da (in place) */
static void FN(att_softmax_back_row)(REAL *ds, const REAL *da, const REAL *a,
                                     ptrdiff_t S, ptrdiff_t T)
{
    for (ptrdiff_t t = 0; t < T; t++) {
        REAL *d = ds + t * S;                    /* (S,) */
        const REAL *g = da + t * S;              /* (S,) may be d */
        const REAL *RS_RESTRICT p = a + t * S;   /* (S,) */
        REAL sum = 0;
        for (ptrdiff_t i = 0; i < S; i++) {
            const REAL x = p[i] * g[i];
            d[i] = x;
            sum += x;
        }
        for (ptrdiff_t i = 0; i < S; i++) {
            const REAL y = p[i] * sum;
            d[i] = d[i] - y;
        }
    }
}

/* ---- the jobs ---- */

enum { FN(ATT_WEIGHT), FN(ATT_SUM), FN(ATT_BOTH), FN(ATT_SUM_BACK), FN(ATT_WEIGHT_BACK),
       FN(ATT_BOTH_BACK) };

typedef struct {
    int kind;
    REAL *c, *a;                    /* forward outputs (N,T,H), (N,T,S) */
    REAL *dhs_enc, *dhs_dec, *da;   /* backward outputs (N,S,H), (N,T,H), (N,T,S) */
    REAL *work;                     /* (N,T,S) */
    const REAL *hs_enc, *hs_dec;    /* (N,S,H), (N,T,H) */
    const REAL *a_in;               /* (N,T,S) */
    const REAL *d_in;               /* the upstream gradient: dc (N,T,H), or da (N,T,S)
                                       for ATT_WEIGHT_BACK */
    ptrdiff_t N, S, T, H;
} FN(att_job);

static void FN(att_row)(const FN(att_job) *J, ptrdiff_t n)
{
    const ptrdiff_t S = J->S, T = J->T, H = J->H;
    const REAL *enc = J->hs_enc + n * S * H;                   /* (S,H) */
    const REAL *dec = J->hs_dec ? J->hs_dec + n * T * H : NULL; /* (T,H) */
    const ptrdiff_t ots = n * T * S, oth = n * T * H, osh = n * S * H;
    switch (J->kind) {
    case FN(ATT_WEIGHT):
        FN(att_weight_row)(J->a + ots, enc, dec, S, T, H);
        break;
    case FN(ATT_SUM):
        FN(att_sum_row)(J->c + oth, enc, J->a_in + ots, S, T, H);
        break;
    case FN(ATT_BOTH):
        FN(att_weight_row)(J->a + ots, enc, dec, S, T, H);
        FN(att_sum_row)(J->c + oth, enc, J->a + ots, S, T, H);
        break;
    case FN(ATT_SUM_BACK): {
        const REAL *dc = J->d_in + oth, *a = J->a_in + ots;
        /* da (T,S) = dc (T,H) · encᵀ (H,S);  dhs_enc (S,H) = aᵀ (S,T) · dc (T,H) */
        FN(att_dots)(J->da + ots, S, dc, enc, T, S, H);
        FN(rs_gemm)(S, H, T, a, 1, S, dc, H, 1, J->dhs_enc + osh, H, 0);
        break;
    }
    case FN(ATT_WEIGHT_BACK): {
        REAL *ds = J->work + ots;
        FN(att_softmax_back_row)(ds, J->d_in + ots, J->a_in + ots, S, T);
        /* dhs_enc (S,H) = dsᵀ (S,T) · dec (T,H);  dhs_dec (T,H) = ds (T,S) · enc (S,H) */
        FN(rs_gemm)(S, H, T, ds, 1, S, dec, H, 1, J->dhs_enc + osh, H, 0);
        FN(rs_gemm)(T, H, S, ds, S, 1, enc, H, 1, J->dhs_dec + oth, H, 0);
        break;
    }
    case FN(ATT_BOTH_BACK): {
        const REAL *dc = J->d_in + oth, *a = J->a_in + ots;
        REAL *ds = J->work + ots;
        REAL *dhs = J->dhs_enc + osh;
        FN(att_dots)(ds, S, dc, enc, T, S, H);                  /* da */
        FN(rs_gemm)(S, H, T, a, 1, S, dc, H, 1, dhs, H, 0);    /* the weight sum's dhs_enc */
        FN(att_softmax_back_row)(ds, ds, a, S, T);              /* da -> ds, in place */
        FN(rs_gemm)(S, H, T, ds, 1, S, dec, H, 1, dhs, H, 1);  /* += the weights' */
        FN(rs_gemm)(T, H, S, ds, S, 1, enc, H, 1, J->dhs_dec + oth, H, 0);
        break;
    }
    default:
        break;
    }
}

static void FN(att_task)(void *arg, int task, int ntasks)
{
    const FN(att_job) *J = (const FN(att_job) *)arg;
    const ptrdiff_t n0 = J->N * task / ntasks, n1 = J->N * (task + 1) / ntasks;
    for (ptrdiff_t n = n0; n < n1; n++) FN(att_row)(J, n);
}

/* the rows over the pool when the products are worth it (flops: about four
   products of T·S·H multiply-adds per row), in 8 blocks per thread: the pool
   hands blocks out as threads come free, so a thread the OS holds back costs
   little (the caller takes its blocks). Same numbers either way. */
static void FN(att_run)(FN(att_job) *J)
{
    if (J->N == 0) return;
    const double flops = 8.0 * (double)J->N * (double)J->T * (double)J->S * (double)J->H;
    const int nth = flops >= rs_par_min_flops() ? rs_get_num_threads() : 1;
    ptrdiff_t nt = nth > 1 ? 8 * (ptrdiff_t)nth : 1;
    if (nt > J->N) nt = J->N;
    rs_parallel_run(FN(att_task), J, (int)nt);
}

/* ---- the kernels ---- */

ptrdiff_t FN(time_attention_backward_work_size)(ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    (void)H;
    return rs_mul_size(N, rs_mul_size(T, S));
}

void FN(attention_weight_forward)(REAL *a, const REAL *hs_enc, const REAL *hs_dec,
                                  ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    FN(att_job) J = {.kind = FN(ATT_WEIGHT), .a = a, .hs_enc = hs_enc, .hs_dec = hs_dec,
                     .N = N, .S = S, .T = T, .H = H};
    FN(att_run)(&J);
}

void FN(weight_sum_forward)(REAL *c, const REAL *hs_enc, const REAL *a,
                            ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    FN(att_job) J = {.kind = FN(ATT_SUM), .c = c, .hs_enc = hs_enc, .a_in = a,
                     .N = N, .S = S, .T = T, .H = H};
    FN(att_run)(&J);
}

void FN(time_attention_forward)(REAL *c, REAL *a, const REAL *hs_enc, const REAL *hs_dec,
                                ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    FN(att_job) J = {.kind = FN(ATT_BOTH), .c = c, .a = a, .hs_enc = hs_enc,
                     .hs_dec = hs_dec, .N = N, .S = S, .T = T, .H = H};
    FN(att_run)(&J);
}

void FN(weight_sum_backward)(REAL *dhs_enc, REAL *da, const REAL *dc, const REAL *hs_enc,
                             const REAL *a, ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    FN(att_job) J = {.kind = FN(ATT_SUM_BACK), .dhs_enc = dhs_enc, .da = da, .d_in = dc,
                     .hs_enc = hs_enc, .a_in = a, .N = N, .S = S, .T = T, .H = H};
    FN(att_run)(&J);
}

/* attention_weight_backward (d_in = da) and time_attention_backward (d_in = dc):
   the same arguments, a different job */
static void FN(att_back)(int kind, REAL *dhs_enc, REAL *dhs_dec, REAL *work, const REAL *d_in,
                         const REAL *hs_enc, const REAL *hs_dec, const REAL *a,
                         ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    FN(att_job) J = {.kind = kind, .dhs_enc = dhs_enc, .dhs_dec = dhs_dec, .work = work,
                     .d_in = d_in, .hs_enc = hs_enc, .hs_dec = hs_dec, .a_in = a,
                     .N = N, .S = S, .T = T, .H = H};
    FN(att_run)(&J);
}

void FN(attention_weight_backward)(REAL *dhs_enc, REAL *dhs_dec, REAL *work, const REAL *da,
                                   const REAL *hs_enc, const REAL *hs_dec, const REAL *a,
                                   ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    FN(att_back)(FN(ATT_WEIGHT_BACK), dhs_enc, dhs_dec, work, da, hs_enc, hs_dec, a, N, S, T, H);
}

void FN(time_attention_backward)(REAL *dhs_enc, REAL *dhs_dec, REAL *work, const REAL *dc,
                                 const REAL *hs_enc, const REAL *hs_dec, const REAL *a,
                                 ptrdiff_t N, ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    FN(att_back)(FN(ATT_BOTH_BACK), dhs_enc, dhs_dec, work, dc, hs_enc, hs_dec, a, N, S, T, H);
}
#endif /* RS_TU_BASE */
