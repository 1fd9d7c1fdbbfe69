/* kernels_test.c -- the C kernels and the thread pool, without Python, against
 * plain-C oracles. Built by .ci/windows.sh with MinGW-w64 and run under wine
 * (the Win32 thread pool, the MSVC CPU-dispatch code, the split SIMD layout);
 * it builds and runs natively too:
 *
 *   cc -O2 -std=c11 -Icsrc .ci/windows/kernels_test.c csrc/{act,attention,cpu,gemm,gru,lm,lstm,rnn,sgd,threads}.c -lm -pthread
 *
 * For every SIMD path the CPU has, and 1 to 4 threads (every product split:
 * RNNSCRATCH_PAR_FLOPS=0), each kernel family is compared with an oracle:
 *   gemm (plain and pre-packed, strided, accumulating), the activations and
 *   softmax rows (libm), the RNN / LSTM / GRU sequences (forward: oracle;
 *   backward: central differences of the oracle's forward), the language
 *   model's embedding, affine, softmax cross-entropy and fused head, the
 *   attention (forward and backward), SGD / Adam (bit for bit: the same
 *   expressions) and the sum of squares;
 * and every result must be bit-identical for every thread count. The last
 * line is "N passed, M failed"; the exit status is 1 when M > 0. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#  define _POSIX_C_SOURCE 200809L /* nanosleep, setenv under -std=c11 */
#endif
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "threads.h"
#include "gemm.h"
#include "act.h"
#include "rnn.h"
#include "lstm.h"
#include "gru.h"
#include "lm.h"
#include "attention.h"
#include "sgd.h"

#ifdef _WIN32
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
static unsigned long thread_id(void) { return (unsigned long)GetCurrentThreadId(); }
static void sleep_ms(int ms) { Sleep((DWORD)ms); }
static void set_env(const char *k, const char *v) { _putenv_s(k, v); }
#else
#  include <pthread.h>
#  include <time.h>
static unsigned long thread_id(void) { return (unsigned long)(uintptr_t)pthread_self(); }
static void sleep_ms(int ms)
{
    struct timespec t = {0, (long)ms * 1000000L};
    nanosleep(&t, NULL);
}
static void set_env(const char *k, const char *v) { setenv(k, v, 1); }
#endif

/* ------------------------------------------------------------ harness --- */
static int n_pass, n_fail;
static char ctx[160]; /* what is being checked: path, threads */

static void check(int ok, const char *what)
{
    if (ok) {
        n_pass++;
    } else {
        n_fail++;
        printf("FAIL: %s [%s]\n", what, ctx);
    }
}

/* max |a-b| / (atol + rtol*|b|) over n doubles: <= 1 passes */
static double worst(const double *a, const double *b, ptrdiff_t n, double atol, double rtol)
{
    double w = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / (atol + rtol * fabs(b[i]));
        if (!(e <= w)) w = e; /* NaN counts as worst */
    }
    return w;
}

static void check_close(const char *what, const double *got, const double *want, ptrdiff_t n,
                        double atol, double rtol)
{
    double w = worst(got, want, n, atol, rtol);
    char msg[200];
    snprintf(msg, sizeof msg, "%s (worst error %.3g of tolerance)", what, w);
    check(w <= 1.0, msg);
}

static void check_closef(const char *what, const float *got, const double *want, ptrdiff_t n,
                         double atol, double rtol)
{
    double *g = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (ptrdiff_t i = 0; i < n; i++) g[i] = got[i];
    check_close(what, g, want, n, atol, rtol);
    free(g);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void) /* in [-1, 1) */
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1.0;
}
static double *drand(ptrdiff_t n, double scale)
{
    double *p = rs_ws_get(sizeof(double) * (size_t)(n ? n : 1)); /* 64-byte aligned */
    for (ptrdiff_t i = 0; i < n; i++) p[i] = scale * urand();
    return p;
}
static double *dzeros(ptrdiff_t n)
{
    double *p = rs_ws_get(sizeof(double) * (size_t)(n ? n : 1));
    memset(p, 0, sizeof(double) * (size_t)(n ? n : 1));
    return p;
}
static double *dcopy(const double *s, ptrdiff_t n)
{
    double *p = dzeros(n);
    memcpy(p, s, sizeof(double) * (size_t)n);
    return p;
}
static float *tofloat(const double *s, ptrdiff_t n)
{
    float *p = rs_ws_get(sizeof(float) * (size_t)(n ? n : 1));
    for (ptrdiff_t i = 0; i < n; i++) p[i] = (float)s[i];
    return p;
}
static double dot(const double *a, const double *b, ptrdiff_t n)
{
    double s = 0;
    for (ptrdiff_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}
static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Results of one thread count, kept to compare the next ones bit for bit. */
#define MAX_KEEP 64
static struct { char name[48]; void *p; size_t bytes; } kept[MAX_KEEP];
static int nkept;
static int cur_threads;
static void same_bits(const char *name, const void *p, size_t bytes)
{
    int k = 0;
    while (k < nkept && strcmp(kept[k].name, name) != 0) k++;
    if (cur_threads == 1 || k == nkept) {
        if (k == nkept && nkept < MAX_KEEP) {
            snprintf(kept[k].name, sizeof kept[k].name, "%s", name);
            nkept++;
        } else {
            free(kept[k].p);
        }
        kept[k].p = malloc(bytes ? bytes : 1);
        memcpy(kept[k].p, p, bytes);
        kept[k].bytes = bytes;
        return;
    }
    char msg[120];
    snprintf(msg, sizeof msg, "%s: same bits as on 1 thread", name);
    check(kept[k].bytes == bytes && memcmp(kept[k].p, p, bytes) == 0, msg);
}
static void forget_bits(void)
{
    for (int k = 0; k < nkept; k++) free(kept[k].p);
    nkept = 0;
}

/* C (M,N) = A (M,K) · B (K,N), all row-major contiguous */
static void mm(double *C, const double *A, const double *B, ptrdiff_t M, ptrdiff_t N,
               ptrdiff_t K, int acc)
{
    for (ptrdiff_t i = 0; i < M; i++)
        for (ptrdiff_t j = 0; j < N; j++) {
            double s = acc ? C[i * N + j] : 0;
            for (ptrdiff_t k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
            C[i * N + j] = s;
        }
}

/* ------------------------------------------------------- thread pool --- */
#define POOL_TASKS 16
static unsigned long task_tid[POOL_TASKS];
static int task_runs[POOL_TASKS];
static void record_task(void *arg, int t, int n)
{
    (void)arg; (void)n;
    task_tid[t] = thread_id();
    task_runs[t]++;
    sleep_ms(20); /* long enough that the other threads take tasks too */
}
static int nested_ok;
static void inner_task(void *arg, int t, int n) { (void)t; (void)n; ((int *)arg)[t] = 1; }
static void outer_task(void *arg, int t, int n)
{
    (void)arg; (void)n;
    if (t == 0) { /* a nested call from a task runs serially, it must not deadlock */
        int done[3] = {0, 0, 0};
        rs_parallel_run(inner_task, done, 3);
        nested_ok = done[0] && done[1] && done[2];
    }
}

static void test_pool(void)
{
    snprintf(ctx, sizeof ctx, "pool");
    rs_set_num_threads(0);
    check(rs_get_num_threads() == 1, "RNNSCRATCH_NUM_THREADS=1 caps the default thread count");
    const int counts[] = {1, 2, 3, 4, 8};
    for (int c = 0; c < 5; c++) {
        const int nt = counts[c];
        rs_set_num_threads(nt);
        snprintf(ctx, sizeof ctx, "pool, %d threads", nt);
        check(rs_get_num_threads() == nt, "rs_get_num_threads returns the count set");
        check(rs_pool_selftest(3000) == 0, "pool self-test: every task once, within its job");
        {
            double wake[50], trip[50];
            check(rs_pool_timing(50, c == 0 ? 0 : 2000000, wake, trip) == nt,
                  "pool timing: one task per thread");
            int ok = 1;
            for (int j = 0; j < 50; j++) ok &= wake[j] >= 0 && wake[j] <= trip[j];
            check(ok, "pool timing: each job's wake-up within its round trip");
        }
        memset(task_runs, 0, sizeof task_runs);
        memset(task_tid, 0, sizeof task_tid);
        rs_parallel_run(record_task, NULL, nt);
        int once = 1, distinct = 0;
        for (int t = 0; t < nt; t++) {
            once &= task_runs[t] == 1;
            int seen = 0;
            for (int u = 0; u < t; u++) seen |= task_tid[u] == task_tid[t];
            distinct += !seen;
        }
        check(once, "each task of a job runs once");
        char msg[120];
        /* a worker that wakes late leaves its task to another thread: at least 2 */
        snprintf(msg, sizeof msg, "%d tasks of 20 ms ran on %d OS threads (want >= %d)", nt,
                 distinct, nt > 1 ? 2 : 1);
        check(distinct >= (nt > 1 ? 2 : 1), msg);
        printf("pool: %d tasks ran on %d OS threads\n", nt, distinct);
        nested_ok = 0;
        rs_parallel_run(outer_task, NULL, nt > 1 ? nt : 2);
        check(nested_ok, "a nested rs_parallel_run completes (serially)");
    }
    void *w = rs_ws_get(1000);
    check(w && ((uintptr_t)w & 63) == 0, "rs_ws_get: a 64-byte aligned buffer");
    rs_ws_put(w);
    void *w2 = rs_ws_get(900);
    check(w2 == w, "rs_ws_get reuses a returned buffer");
    rs_ws_put(w2);
}

/* ----------------------------------------------------------- dispatch --- */
static void test_dispatch(void)
{
    snprintf(ctx, sizeof ctx, "topology and caches");
    {
        int logical = 0, cores = 0;
        long caches[3] = {0, 0, 0};
        rs_cpu_topology(&logical, &cores);
        rs_cache_sizes(caches);
        printf("cpu: %d CPUs on %d cores; L1d %ld KB, L2 %ld KB per core, L3 %ld KB\n", logical, cores,
               caches[0] >> 10, caches[1] >> 10, caches[2] >> 10);
        check(logical >= 1 && cores >= 1 && cores <= logical, "GetLogicalProcessorInformation: cores");
        check(caches[0] >= 4096 && caches[1] >= caches[0] && caches[2] >= 65536,
              "GetLogicalProcessorInformation: cache sizes");
    }
    snprintf(ctx, sizeof ctx, "dispatch");
    int want = RS_PATH_PORTABLE;
#if RS_X86_DISPATCH && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) want = RS_PATH_AVX2;
    if (want == RS_PATH_AVX2 && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw"))
        want = RS_PATH_AVX512;
#endif
    char msg[160];
    snprintf(msg, sizeof msg, "CPUID/XGETBV detection (%s) agrees with the compiler's (%s)",
             rs_path_name(rs_cpu_best_path()), rs_path_name(want));
    check(rs_cpu_best_path() == want, msg);
    printf("cpu: best path %s\n", rs_path_name(rs_cpu_best_path()));
    check(rs_set_path(rs_cpu_best_path() + 1) == -1, "a path above the CPU's is refused");
    for (int p = RS_PATH_PORTABLE; p <= rs_cpu_best_path(); p++)
        check(rs_set_path(p) == 0 && rs_get_path() == p, "each supported path can be forced");
}

/* --------------------------------------------------------------- gemm --- */
static void test_gemm(void)
{
    const ptrdiff_t M = 131, N = 77, K = 149;
    double *A = drand(M * K, 1), *B = drand(K * N, 1), *C0 = drand(M * N, 1);
    double *want = dzeros(M * N), *wantacc = dcopy(C0, M * N);
    mm(want, A, B, M, N, K, 0);
    mm(wantacc, A, B, M, N, K, 1);
    /* A transposed in memory: At (K,M), read through strides */
    double *At = dzeros(K * M);
    for (ptrdiff_t i = 0; i < M; i++)
        for (ptrdiff_t k = 0; k < K; k++) At[k * M + i] = A[i * K + k];
    double *C = dzeros(M * N);
    rs_gemm_f64(M, N, K, A, K, 1, B, N, 1, C, N, 0);
    check_close("gemm f64", C, want, M * N, 1e-13, 1e-13);
    same_bits("gemm f64", C, sizeof(double) * M * N);
    rs_gemm_f64(M, N, K, At, 1, M, B, N, 1, C, N, 0);
    check_close("gemm f64, A transposed by strides", C, want, M * N, 1e-13, 1e-13);
    memcpy(C, C0, sizeof(double) * M * N);
    rs_gemm_f64(M, N, K, A, K, 1, B, N, 1, C, N, 1);
    check_close("gemm f64 accumulate", C, wantacc, M * N, 1e-13, 1e-13);
    same_bits("gemm f64 acc", C, sizeof(double) * M * N);

    float *Af = tofloat(A, M * K), *Bf = tofloat(B, K * N), *Cf = rs_ws_get(sizeof(float) * M * N);
    rs_gemm_f32(M, N, K, Af, K, 1, Bf, N, 1, Cf, N, 0);
    check_closef("gemm f32", Cf, want, M * N, 2e-4, 1e-4);
    same_bits("gemm f32", Cf, sizeof(float) * M * N);

    /* pre-packed B */
    size_t np = rs_gemm_packed_size_f32(K, N);
    float *Bp = rs_ws_get(sizeof(float) * np);
    rs_gemm_pack_b_f32(Bp, K, N, Bf, N, 1);
    int rc = rs_gemm_packed_f32(M, N, K, Af, K, 1, Bp, Cf, N, 0, NULL, NULL);
    check(rc == 0, "gemm_packed f32 accepts its packing");
    check_closef("gemm_packed f32", Cf, want, M * N, 2e-4, 1e-4);
    same_bits("gemm_packed f32", Cf, sizeof(float) * M * N);
    check(rs_gemm_packed_f32(M, N, K + 1, Af, K, 1, Bp, Cf, N, 0, NULL, NULL) == -1,
          "gemm_packed refuses a packing of another K");
    rs_ws_put(Bp);
    rs_ws_put(Af); rs_ws_put(Bf); rs_ws_put(Cf);
    rs_ws_put(A); rs_ws_put(B); rs_ws_put(C0); rs_ws_put(want); rs_ws_put(wantacc);
    rs_ws_put(At); rs_ws_put(C);
}

/* -------------------------------------------------------- activations --- */
static void test_act(void)
{
    const ptrdiff_t n = 1000;
    double *x = drand(n, 12), *y = dzeros(n), *w = dzeros(n);
    float *xf = tofloat(x, n), *yf = rs_ws_get(sizeof(float) * n);
    double *xr = dzeros(n); /* the float inputs, exactly */
    for (ptrdiff_t i = 0; i < n; i++) xr[i] = xf[i];

    for (ptrdiff_t i = 0; i < n; i++) w[i] = tanh(x[i]);
    rs_tanh_f64(y, x, n);
    check_close("tanh f64", y, w, n, 1e-300, 4e-16);
    for (ptrdiff_t i = 0; i < n; i++) w[i] = tanh(xr[i]);
    rs_tanh_f32(yf, xf, n);
    check_closef("tanh f32", yf, w, n, 1e-38, 2.5e-7);

    for (ptrdiff_t i = 0; i < n; i++) w[i] = sigm(x[i]);
    rs_sigmoid_f64(y, x, n);
    check_close("sigmoid f64", y, w, n, 1e-300, 4e-16);
    for (ptrdiff_t i = 0; i < n; i++) w[i] = sigm(xr[i]);
    rs_sigmoid_f32(yf, xf, n);
    check_closef("sigmoid f32", yf, w, n, 1e-38, 2.5e-7);

    for (ptrdiff_t i = 0; i < n; i++) w[i] = x[i] > 0 ? x[i] : 0;
    rs_relu_f64(y, x, n);
    check(memcmp(y, w, sizeof(double) * n) == 0, "relu f64 exact");

    for (ptrdiff_t i = 0; i < n; i++) w[i] = exp(-fabs(x[i]));
    for (ptrdiff_t i = 0; i < n; i++) y[i] = -fabs(x[i]);
    rs_exp_nonpos_f64(y, y, n);
    check_close("exp (x <= 0) f64, in place", y, w, n, 1e-300, 5e-16);

    /* special values */
    const double sp[6] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-300};
    double so[6];
    rs_tanh_f64(so, sp, 6);
    check(so[0] == 0 && !signbit(so[0]) && so[1] == 0 && signbit(so[1]) && so[2] == 1 &&
              so[3] == -1 && isnan(so[4]) && so[5] == 1e-300,
          "tanh: +-0, +-inf, NaN, tiny");
    rs_sigmoid_f64(so, sp, 6);
    check(so[0] == 0.5 && so[2] == 1 && so[3] == 0 && isnan(so[4]), "sigmoid: 0, +-inf, NaN");

    /* softmax of rows: max, exp-sum, scale */
    double *r = dcopy(x, 257), *b = drand(257, 1), *wr = dzeros(257);
    double m = -INFINITY;
    for (int i = 0; i < 257; i++) { wr[i] = x[i] + b[i]; if (wr[i] > m) m = wr[i]; }
    double s = 0;
    for (int i = 0; i < 257; i++) { wr[i] = exp(wr[i] - m); s += wr[i]; }
    for (int i = 0; i < 257; i++) wr[i] /= s;
    double gm = rs_row_max_bias_f64(r, b, 257);
    double gs = rs_row_exp_sum_f64(r, gm, 257);
    rs_row_div_scale_f64(r, gs, 1.0, 257);
    check(gm == m, "row max with bias");
    check_close("softmax row f64", r, wr, 257, 1e-300, 2e-15);
    same_bits("softmax row", r, sizeof(double) * 257);
    rs_ws_put(r); rs_ws_put(b); rs_ws_put(wr);
    rs_ws_put(x); rs_ws_put(y); rs_ws_put(w); rs_ws_put(xf); rs_ws_put(yf); rs_ws_put(xr);
}

/* --------------------------------------------- recurrent layers: oracles --- */
/* Forward oracles over (N,T,...) batch-first sequences, double. */
static void rnn_oracle(double *hs, const double *xs, const double *h0, const double *Wx,
                       const double *Wh, const double *b, ptrdiff_t N, ptrdiff_t T, ptrdiff_t D,
                       ptrdiff_t H)
{
    for (ptrdiff_t n = 0; n < N; n++)
        for (ptrdiff_t t = 0; t < T; t++)
            for (ptrdiff_t j = 0; j < H; j++) {
                double a = b[j];
                for (ptrdiff_t d = 0; d < D; d++) a += xs[(n * T + t) * D + d] * Wx[d * H + j];
                for (ptrdiff_t k = 0; k < H; k++) {
                    double hp = t ? hs[(n * T + t - 1) * H + k] : h0[n * H + k];
                    a += hp * Wh[k * H + j];
                }
                hs[(n * T + t) * H + j] = tanh(a);
            }
}

static void lstm_oracle(double *hs, const double *xs, const double *h0, const double *c0,
                        const double *Wx, const double *Wh, const double *b, ptrdiff_t N,
                        ptrdiff_t T, ptrdiff_t D, ptrdiff_t H)
{
    double *c = malloc(sizeof(double) * (size_t)(N * H)), *a = malloc(sizeof(double) * 4 * H);
    memcpy(c, c0, sizeof(double) * (size_t)(N * H));
    for (ptrdiff_t n = 0; n < N; n++)
        for (ptrdiff_t t = 0; t < T; t++) {
            for (ptrdiff_t j = 0; j < 4 * H; j++) {
                double s = b[j];
                for (ptrdiff_t d = 0; d < D; d++) s += xs[(n * T + t) * D + d] * Wx[d * 4 * H + j];
                for (ptrdiff_t k = 0; k < H; k++) {
                    double hp = t ? hs[(n * T + t - 1) * H + k] : h0[n * H + k];
                    s += hp * Wh[k * 4 * H + j];
                }
                a[j] = s;
            }
            for (ptrdiff_t j = 0; j < H; j++) { /* gates f, g, i, o */
                double f = sigm(a[j]), g = tanh(a[H + j]), i = sigm(a[2 * H + j]),
                       o = sigm(a[3 * H + j]);
                double cn = f * c[n * H + j] + g * i;
                c[n * H + j] = cn;
                hs[(n * T + t) * H + j] = o * tanh(cn);
            }
        }
    free(c); free(a);
}

static void gru_oracle(double *hs, const double *xs, const double *h0, const double *Wx,
                       const double *Wh, const double *b, ptrdiff_t N, ptrdiff_t T, ptrdiff_t D,
                       ptrdiff_t H)
{
    double *z = malloc(sizeof(double) * H), *r = malloc(sizeof(double) * H);
    for (ptrdiff_t n = 0; n < N; n++)
        for (ptrdiff_t t = 0; t < T; t++) {
            const double *x = xs + (n * T + t) * D;
            const double *hp = t ? hs + (n * T + t - 1) * H : h0 + n * H;
            for (ptrdiff_t j = 0; j < H; j++) { /* blocks z, r, h of 3H */
                double sz = b[j], sr = b[H + j];
                for (ptrdiff_t d = 0; d < D; d++) {
                    sz += x[d] * Wx[d * 3 * H + j];
                    sr += x[d] * Wx[d * 3 * H + H + j];
                }
                for (ptrdiff_t k = 0; k < H; k++) {
                    sz += hp[k] * Wh[k * 3 * H + j];
                    sr += hp[k] * Wh[k * 3 * H + H + j];
                }
                z[j] = sigm(sz);
                r[j] = sigm(sr);
            }
            for (ptrdiff_t j = 0; j < H; j++) {
                double sh = b[2 * H + j];
                for (ptrdiff_t d = 0; d < D; d++) sh += x[d] * Wx[d * 3 * H + 2 * H + j];
                for (ptrdiff_t k = 0; k < H; k++) sh += r[k] * hp[k] * Wh[k * 3 * H + 2 * H + j];
                hs[(n * T + t) * H + j] = (1 - z[j]) * hp[j] + z[j] * tanh(sh);
            }
        }
    free(z); free(r);
}

/* A recurrent layer for the gradient check: params[0..4] = xs, h0, Wx, Wh, b
   (LSTM: c0 is params[5]); loss = sum(dhs * hs) of the oracle's forward. */
enum { KIND_RNN, KIND_LSTM, KIND_GRU };
typedef struct {
    int kind;
    ptrdiff_t N, T, D, H, G; /* G: gate columns (H, 4H, 3H) */
    double *p[6];
    ptrdiff_t len[6];
    const double *dhs;
} rec_t;

static double rec_loss(const rec_t *R)
{
    const ptrdiff_t n = R->N * R->T * R->H;
    double *hs = malloc(sizeof(double) * (size_t)n);
    if (R->kind == KIND_RNN)
        rnn_oracle(hs, R->p[0], R->p[1], R->p[2], R->p[3], R->p[4], R->N, R->T, R->D, R->H);
    else if (R->kind == KIND_LSTM)
        lstm_oracle(hs, R->p[0], R->p[1], R->p[5], R->p[2], R->p[3], R->p[4], R->N, R->T, R->D,
                    R->H);
    else
        gru_oracle(hs, R->p[0], R->p[1], R->p[2], R->p[3], R->p[4], R->N, R->T, R->D, R->H);
    double l = dot(hs, R->dhs, n);
    free(hs);
    return l;
}

/* directional derivative of the oracle's loss along v for params[i], against
   the kernel's gradient g: <g, v> == (L(p + e v) - L(p - e v)) / 2e */
static void check_grad(const char *what, double (*loss)(const void *), void *model,
                       double *param, ptrdiff_t n, const double *g)
{
    double *v = drand(n, 1), *save = dcopy(param, n);
    const double e = 1e-6;
    for (ptrdiff_t i = 0; i < n; i++) param[i] = save[i] + e * v[i];
    double lp = loss(model);
    for (ptrdiff_t i = 0; i < n; i++) param[i] = save[i] - e * v[i];
    double lm = loss(model);
    memcpy(param, save, sizeof(double) * (size_t)n);
    double num = (lp - lm) / (2 * e), ana = dot(g, v, n);
    char msg[160];
    snprintf(msg, sizeof msg, "%s: gradient %.12g vs central difference %.12g", what, ana, num);
    check(fabs(ana - num) <= 1e-6 * (1 + fabs(num)), msg);
    rs_ws_put(v); rs_ws_put(save);
}
static double rec_loss_v(const void *m) { return rec_loss((const rec_t *)m); }

static void test_recurrent(int kind)
{
    const char *name = kind == KIND_RNN ? "rnn" : kind == KIND_LSTM ? "lstm" : "gru";
    rec_t R = {kind, 12, 7, 9, 11, 0, {0}, {0}, NULL};
    const ptrdiff_t N = R.N, T = R.T, D = R.D, H = R.H;
    R.G = kind == KIND_RNN ? H : kind == KIND_LSTM ? 4 * H : 3 * H;
    const ptrdiff_t G = R.G;
    R.len[0] = N * T * D; R.len[1] = N * H; R.len[2] = D * G; R.len[3] = H * G; R.len[4] = G;
    R.len[5] = N * H;
    for (int i = 0; i < 6; i++) R.p[i] = drand(R.len[i], i >= 2 && i <= 4 ? 0.4 : 1);
    double *dhs = drand(N * T * H, 1);
    R.dhs = dhs;
    double *hs = dzeros(N * T * H), *want = dzeros(N * T * H);
    double *aux = dzeros(N * T * 4 * H), *aux2 = dzeros(N * T * 4 * H);
    double *dxs = dzeros(N * T * D), *dh0 = dzeros(N * H), *dc0 = dzeros(N * H);
    double *dWx = dzeros(D * G), *dWh = dzeros(H * G), *db = dzeros(G);
    char what[80];

    if (kind == KIND_RNN) {
        rnn_oracle(want, R.p[0], R.p[1], R.p[2], R.p[3], R.p[4], N, T, D, H);
        double *w = dzeros(time_rnn_forward_work_size_f64(N, T, D, H));
        time_rnn_forward_f64(hs, w, R.p[0], R.p[1], R.p[2], R.p[3], R.p[4], N, T, D, H,
                             RS_ACT_TANH);
        rs_ws_put(w);
        w = dzeros(time_rnn_backward_work_size_f64(N, T, D, H));
        time_rnn_backward_f64(dxs, dh0, dWx, dWh, db, w, dhs, R.p[0], R.p[1], hs, R.p[2],
                              R.p[3], N, T, D, H, RS_ACT_TANH);
        rs_ws_put(w);
    } else if (kind == KIND_LSTM) {
        lstm_oracle(want, R.p[0], R.p[1], R.p[5], R.p[2], R.p[3], R.p[4], N, T, D, H);
        double *w = dzeros(time_lstm_forward_work_size_f64(N, T, D, H));
        time_lstm_forward_f64(hs, aux, aux2, w, R.p[0], R.p[1], R.p[5], R.p[2], R.p[3], R.p[4],
                              N, T, D, H);
        rs_ws_put(w);
        w = dzeros(time_lstm_backward_work_size_f64(N, T, D, H));
        time_lstm_backward_f64(dxs, dh0, dc0, dWx, dWh, db, w, dhs, NULL, R.p[0], R.p[1],
                               R.p[5], hs, aux, aux2, R.p[2], R.p[3], N, T, D, H);
        rs_ws_put(w);
    } else {
        gru_oracle(want, R.p[0], R.p[1], R.p[2], R.p[3], R.p[4], N, T, D, H);
        double *w = dzeros(time_gru_forward_work_size_f64(N, T, D, H));
        time_gru_forward_f64(hs, aux, w, R.p[0], R.p[1], R.p[2], R.p[3], R.p[4], N, T, D, H);
        rs_ws_put(w);
        w = dzeros(time_gru_backward_work_size_f64(N, T, D, H));
        time_gru_backward_f64(dxs, dh0, dWx, dWh, db, w, dhs, R.p[0], R.p[1], hs, aux, R.p[2],
                              R.p[3], N, T, D, H);
        rs_ws_put(w);
    }
    snprintf(what, sizeof what, "%s forward f64", name);
    check_close(what, hs, want, N * T * H, 1e-14, 1e-12);
    same_bits(what, hs, sizeof(double) * N * T * H);
    const char *pn[6] = {"dxs", "dh0", "dWx", "dWh", "db", "dc0"};
    double *grads[6] = {dxs, dh0, dWx, dWh, db, dc0};
    for (int i = 0; i < (kind == KIND_LSTM ? 6 : 5); i++) {
        snprintf(what, sizeof what, "%s backward %s", name, pn[i]);
        check_grad(what, rec_loss_v, &R, R.p[i], R.len[i], grads[i]);
        same_bits(what, grads[i], sizeof(double) * R.len[i]);
    }

    /* float: the forward against the same oracle */
    if (kind == KIND_LSTM) {
        float *pf[6];
        for (int i = 0; i < 6; i++) pf[i] = tofloat(R.p[i], R.len[i]);
        float *hf = rs_ws_get(sizeof(float) * N * T * H), *cf = rs_ws_get(sizeof(float) * N * T * H);
        float *gf = rs_ws_get(sizeof(float) * N * T * 4 * H);
        float *w = rs_ws_get(sizeof(float) * time_lstm_forward_work_size_f32(N, T, D, H));
        time_lstm_forward_f32(hf, cf, gf, w, pf[0], pf[1], pf[5], pf[2], pf[3], pf[4], N, T, D, H);
        check_closef("lstm forward f32", hf, want, N * T * H, 1e-5, 1e-4);
        same_bits("lstm forward f32", hf, sizeof(float) * N * T * H);
        rs_ws_put(w); rs_ws_put(hf); rs_ws_put(cf); rs_ws_put(gf);
        for (int i = 0; i < 6; i++) rs_ws_put(pf[i]);
    }
    for (int i = 0; i < 6; i++) rs_ws_put(R.p[i]);
    rs_ws_put(dhs); rs_ws_put(hs); rs_ws_put(want); rs_ws_put(aux); rs_ws_put(aux2);
    rs_ws_put(dxs); rs_ws_put(dh0); rs_ws_put(dc0); rs_ws_put(dWx); rs_ws_put(dWh); rs_ws_put(db);
}

/* TimeLSTM's column split (hidden units over the threads, a fork/join per
   step), forced: the 1-thread run is the row path, so every other thread count
   checks the Win32 pool's per-step jobs against it, bit for bit. */
static void test_lstm_column_split(void)
{
    const ptrdiff_t N = 5, T = 4, D = 7, H = 100, G = 4 * H;
    double *p[6] = {drand(N * T * D, 1), drand(N * H, 1), drand(D * G, 0.4), drand(H * G, 0.4),
                    drand(G, 0.4), drand(N * H, 1)}; /* xs, h0, Wx, Wh, b, c0 */
    double *dhs = drand(N * T * H, 1), *want = dzeros(N * T * H);
    rs_set_recurrence_split(RS_SPLIT_COLUMNS);
    lstm_oracle(want, p[0], p[1], p[5], p[2], p[3], p[4], N, T, D, H);
    {   /* double: forward against the oracle, then backward */
        double *hs = dzeros(N * T * H), *cs = dzeros(N * T * H), *gates = dzeros(N * T * G);
        double *dxs = dzeros(N * T * D), *dh0 = dzeros(N * H), *dc0 = dzeros(N * H);
        double *dWx = dzeros(D * G), *dWh = dzeros(H * G), *db = dzeros(G);
        double *w = dzeros(time_lstm_forward_work_size_f64(N, T, D, H));
        time_lstm_forward_f64(hs, cs, gates, w, p[0], p[1], p[5], p[2], p[3], p[4], N, T, D, H);
        rs_ws_put(w);
        check_close("lstm column split f64 forward", hs, want, N * T * H, 1e-12, 1e-12);
        same_bits("lstm column split f64 hs", hs, sizeof(double) * N * T * H);
        w = dzeros(time_lstm_backward_work_size_f64(N, T, D, H));
        time_lstm_backward_f64(dxs, dh0, dc0, dWx, dWh, db, w, dhs, NULL, p[0], p[1], p[5],
                               hs, cs, gates, p[2], p[3], N, T, D, H);
        rs_ws_put(w);
        same_bits("lstm column split f64 dxs", dxs, sizeof(double) * N * T * D);
        same_bits("lstm column split f64 dh0", dh0, sizeof(double) * N * H);
        same_bits("lstm column split f64 dc0", dc0, sizeof(double) * N * H);
        same_bits("lstm column split f64 dWh", dWh, sizeof(double) * H * G);
        double *all[] = {hs, cs, gates, dxs, dh0, dc0, dWx, dWh, db};
        for (int i = 0; i < 9; i++) rs_ws_put(all[i]);
    }
    {   /* float: the forward, 3 column tasks at most (32-float panels) */
        float *pf[6];
        for (int i = 0; i < 6; i++)
            pf[i] = tofloat(p[i], i == 0 ? N * T * D : i == 1 || i == 5 ? N * H
                                  : i == 2 ? D * G : i == 3 ? H * G : G);
        float *hf = rs_ws_get(sizeof(float) * N * T * H), *cf = rs_ws_get(sizeof(float) * N * T * H);
        float *gf = rs_ws_get(sizeof(float) * N * T * G);
        float *w = rs_ws_get(sizeof(float) * time_lstm_forward_work_size_f32(N, T, D, H));
        time_lstm_forward_f32(hf, cf, gf, w, pf[0], pf[1], pf[5], pf[2], pf[3], pf[4], N, T, D, H);
        check_closef("lstm column split f32 forward", hf, want, N * T * H, 1e-5, 1e-4);
        same_bits("lstm column split f32 hs", hf, sizeof(float) * N * T * H);
        rs_ws_put(w); rs_ws_put(hf); rs_ws_put(cf); rs_ws_put(gf);
        for (int i = 0; i < 6; i++) rs_ws_put(pf[i]);
    }
    rs_set_recurrence_split(RS_SPLIT_AUTO);
    for (int i = 0; i < 6; i++) rs_ws_put(p[i]);
    rs_ws_put(dhs); rs_ws_put(want);
}

/* ---------------------------------------------------------- attention --- */
typedef struct {
    ptrdiff_t N, S, T, H;
    double *enc, *dec;
    const double *dc;
} att_t;

static void att_oracle(double *c, double *a, const double *enc, const double *dec, ptrdiff_t N,
                       ptrdiff_t S, ptrdiff_t T, ptrdiff_t H)
{
    for (ptrdiff_t n = 0; n < N; n++)
        for (ptrdiff_t t = 0; t < T; t++) {
            double *ar = a + (n * T + t) * S, m = -INFINITY, s = 0;
            for (ptrdiff_t i = 0; i < S; i++) {
                ar[i] = dot(enc + (n * S + i) * H, dec + (n * T + t) * H, H);
                if (ar[i] > m) m = ar[i];
            }
            for (ptrdiff_t i = 0; i < S; i++) { ar[i] = exp(ar[i] - m); s += ar[i]; }
            for (ptrdiff_t i = 0; i < S; i++) ar[i] /= s;
            for (ptrdiff_t h = 0; h < H; h++) {
                double v = 0;
                for (ptrdiff_t i = 0; i < S; i++) v += ar[i] * enc[(n * S + i) * H + h];
                c[(n * T + t) * H + h] = v;
            }
        }
}
static double att_loss(const void *m)
{
    const att_t *A = m;
    double *c = malloc(sizeof(double) * (size_t)(A->N * A->T * A->H));
    double *a = malloc(sizeof(double) * (size_t)(A->N * A->T * A->S));
    att_oracle(c, a, A->enc, A->dec, A->N, A->S, A->T, A->H);
    double l = dot(c, A->dc, A->N * A->T * A->H);
    free(c); free(a);
    return l;
}

static void test_attention(void)
{
    const ptrdiff_t N = 6, S = 13, T = 9, H = 37;
    att_t A = {N, S, T, H, drand(N * S * H, 1), drand(N * T * H, 1), NULL};
    double *dc = drand(N * T * H, 1);
    A.dc = dc;
    double *c = dzeros(N * T * H), *a = dzeros(N * T * S), *wc = dzeros(N * T * H),
           *wa = dzeros(N * T * S);
    att_oracle(wc, wa, A.enc, A.dec, N, S, T, H);
    time_attention_forward_f64(c, a, A.enc, A.dec, N, S, T, H);
    check_close("attention weights f64", a, wa, N * T * S, 1e-14, 1e-12);
    check_close("attention context f64", c, wc, N * T * H, 1e-14, 1e-12);
    same_bits("attention forward", c, sizeof(double) * N * T * H);
    double *de = dzeros(N * S * H), *dd = dzeros(N * T * H);
    double *w = dzeros(time_attention_backward_work_size_f64(N, S, T, H));
    time_attention_backward_f64(de, dd, w, dc, A.enc, A.dec, a, N, S, T, H);
    check_grad("attention backward dhs_enc", att_loss, &A, A.enc, N * S * H, de);
    check_grad("attention backward dhs_dec", att_loss, &A, A.dec, N * T * H, dd);
    same_bits("attention backward enc", de, sizeof(double) * N * S * H);
    same_bits("attention backward dec", dd, sizeof(double) * N * T * H);
    float *ef = tofloat(A.enc, N * S * H), *df = tofloat(A.dec, N * T * H);
    float *cf = rs_ws_get(sizeof(float) * N * T * H), *af = rs_ws_get(sizeof(float) * N * T * S);
    time_attention_forward_f32(cf, af, ef, df, N, S, T, H);
    check_closef("attention context f32", cf, wc, N * T * H, 1e-5, 1e-4);
    same_bits("attention forward f32", cf, sizeof(float) * N * T * H);
    rs_ws_put(ef); rs_ws_put(df); rs_ws_put(cf); rs_ws_put(af);
    rs_ws_put(w); rs_ws_put(de); rs_ws_put(dd); rs_ws_put(c); rs_ws_put(a); rs_ws_put(wc);
    rs_ws_put(wa); rs_ws_put(dc); rs_ws_put(A.enc); rs_ws_put(A.dec);
}

/* ---------------------------------------------------- language model --- */
static void test_lm(void)
{
    const ptrdiff_t N = 5, T = 7, D = 19, V = 83, R = N * T;
    ptrdiff_t ids[5 * 7], ts[5 * 7];
    for (ptrdiff_t i = 0; i < R; i++) {
        ids[i] = (ptrdiff_t)((urand() + 1) * 0.5 * V) % V;
        ts[i] = i % 6 == 5 ? -1 : (ptrdiff_t)((urand() + 1) * 0.5 * V) % V; /* -1: ignored */
    }
    double *E = drand(V * D, 1), *out = dzeros(R * D), *want = dzeros(R * D);
    for (ptrdiff_t r = 0; r < R; r++) memcpy(want + r * D, E + ids[r] * D, sizeof(double) * D);
    embedding_forward_f64(out, ids, E, N, T, V, D);
    check(memcmp(out, want, sizeof(double) * R * D) == 0, "embedding forward: rows copied");
    double *dout = drand(R * D, 1), *dE = dzeros(V * D), *wdE = dzeros(V * D);
    for (ptrdiff_t r = 0; r < R; r++)
        for (ptrdiff_t d = 0; d < D; d++) wdE[ids[r] * D + d] += dout[r * D + d];
    embedding_backward_f64(dE, dout, ids, N, T, V, D);
    check_close("embedding backward (scatter-add)", dE, wdE, V * D, 1e-14, 1e-14);

    /* affine + softmax cross-entropy, and the fused head */
    double *x = drand(R * D, 1), *W = drand(D * V, 0.5), *b = drand(V, 0.5);
    double *lo = dzeros(R * V), *wlo = dzeros(R * V);
    mm(wlo, x, W, R, V, D, 0);
    for (ptrdiff_t r = 0; r < R; r++)
        for (ptrdiff_t v = 0; v < V; v++) wlo[r * V + v] += b[v];
    time_affine_forward_f64(lo, x, W, b, N, T, D, V);
    check_close("time affine forward", lo, wlo, R * V, 1e-13, 1e-13);
    same_bits("time affine forward", lo, sizeof(double) * R * V);
    double *ys = dzeros(R * V), *wys = dzeros(R * V), wloss = 0;
    ptrdiff_t count = 0, wcount = 0;
    for (ptrdiff_t r = 0; r < R; r++) {
        double m = -INFINITY, s = 0;
        for (ptrdiff_t v = 0; v < V; v++) m = fmax(m, wlo[r * V + v]);
        for (ptrdiff_t v = 0; v < V; v++) s += (wys[r * V + v] = exp(wlo[r * V + v] - m));
        for (ptrdiff_t v = 0; v < V; v++) wys[r * V + v] /= s;
        if (ts[r] >= 0) { wloss -= log(wys[r * V + ts[r]]); wcount++; }
    }
    wloss /= (double)wcount;
    double loss = softmax_cross_entropy_forward_f64(ys, &count, lo, ts, N, T, V, -1);
    check(count == wcount, "cross-entropy counts the rows not ignored");
    check(fabs(loss - wloss) <= 1e-12 * fabs(wloss), "cross-entropy mean loss");
    check_close("softmax probabilities", ys, wys, R * V, 1e-15, 1e-12);
    double *dx = dzeros(R * V), *wdx = dzeros(R * V);
    for (ptrdiff_t r = 0; r < R; r++)
        for (ptrdiff_t v = 0; v < V; v++)
            wdx[r * V + v] = ts[r] < 0 ? 0 : (wys[r * V + v] - (v == ts[r])) / (double)wcount;
    softmax_cross_entropy_backward_f64(dx, ys, ts, 1.0, N, T, V, -1);
    check_close("cross-entropy backward", dx, wdx, R * V, 1e-15, 1e-11);
    /* the fused head: bit-identical to the three kernels */
    double *G = dzeros(R * V), *wk = dzeros((ptrdiff_t)affine_softmax_ce_work_size_f64(N, T, D, V));
    ptrdiff_t fcount = 0;
    double floss = affine_softmax_ce_forward_f64(G, &fcount, wk, x, W, V, 1, b, ts, N, T, D, V, -1);
    check(floss == loss && fcount == count, "fused head: the same loss, bit for bit");
    check(memcmp(G, dx, sizeof(double) * R * V) == 0, "fused head: the same gradient, bit for bit");
    same_bits("fused head", G, sizeof(double) * R * V);
    /* affine backward: dx = dout W^T, dW += x^T dout, db += colsum */
    double *dxa = dzeros(R * D), *dW = dzeros(D * V), *dba = dzeros(V);
    double *wdxa = dzeros(R * D), *wdW = dzeros(D * V), *wdba = dzeros(V);
    for (ptrdiff_t r = 0; r < R; r++)
        for (ptrdiff_t v = 0; v < V; v++) {
            const double g = wdx[r * V + v];
            wdba[v] += g;
            for (ptrdiff_t d = 0; d < D; d++) {
                wdxa[r * D + d] += g * W[d * V + v];
                wdW[d * V + v] += x[r * D + d] * g;
            }
        }
    time_affine_backward_f64(dxa, dW, dba, dx, x, W, N, T, D, V);
    check_close("time affine backward dx", dxa, wdxa, R * D, 1e-15, 1e-11);
    check_close("time affine backward dW", dW, wdW, D * V, 1e-15, 1e-11);
    check_close("time affine backward db", dba, wdba, V, 1e-15, 1e-11);
    same_bits("time affine backward dW", dW, sizeof(double) * D * V);
    /* tied head, float (the AVX2 transpose): dE (V,D) += dout^T x */
    float *xf = tofloat(x, R * D), *Ef = tofloat(E, V * D), *gf = tofloat(wdx, R * V);
    float *dxf = rs_ws_get(sizeof(float) * R * D), *dEf = rs_ws_get(sizeof(float) * V * D);
    float *dbf = rs_ws_get(sizeof(float) * V);
    memset(dEf, 0, sizeof(float) * V * D);
    memset(dbf, 0, sizeof(float) * V);
    double *wdE2 = dzeros(V * D), *wdx2 = dzeros(R * D);
    for (ptrdiff_t r = 0; r < R; r++)
        for (ptrdiff_t v = 0; v < V; v++)
            for (ptrdiff_t d = 0; d < D; d++) {
                wdE2[v * D + d] += (double)gf[r * V + v] * xf[r * D + d];
                wdx2[r * D + d] += (double)gf[r * V + v] * Ef[v * D + d];
            }
    tied_affine_backward_f32(dxf, dEf, dbf, gf, xf, Ef, N, T, D, V);
    check_closef("tied head backward dE f32", dEf, wdE2, V * D, 1e-6, 1e-4);
    check_closef("tied head backward dx f32", dxf, wdx2, R * D, 1e-6, 1e-4);
    same_bits("tied head dE f32", dEf, sizeof(float) * V * D);
    void *fr[] = {E, out, want, dout, dE, wdE, x, W, b, lo, wlo, ys, wys, dx, wdx, G, wk, dxa,
                  dW, dba, wdxa, wdW, wdba, xf, Ef, gf, dxf, dEf, dbf, wdE2, wdx2};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) rs_ws_put(fr[i]);
}

/* ------------------------------------------------------- optimizers --- */
static void test_optim(void)
{
    const ptrdiff_t n = 300007; /* > 128K: Adam splits over threads */
    double *p = drand(n, 1), *g = drand(n, 1), *m = drand(n, 0.1), *v = dzeros(n);
    for (ptrdiff_t i = 0; i < n; i++) v[i] = fabs(g[i]) * 0.01;
    const double c1 = 0.1, c2 = 0.001, lr_t = 0.003;
    /* the book's expressions, in its order, rounded per operation */
    float *pf = tofloat(p, n), *gf = tofloat(g, n), *mf = tofloat(m, n), *vf = tofloat(v, n);
    float *wp = tofloat(p, n), *wm = tofloat(m, n), *wv = tofloat(v, n);
    for (ptrdiff_t i = 0; i < n; i++) {
        float t = gf[i] - wm[i];
        t = t * (float)c1;
        float mi = wm[i] + t;
        float s = gf[i] * gf[i];
        s = s - wv[i];
        s = s * (float)c2;
        float vi = wv[i] + s;
        float d = sqrtf(vi);
        d = d + (float)1e-7;
        double u = lr_t * (double)mi;
        u = u / (double)d;
        wm[i] = mi; wv[i] = vi;
        wp[i] = (float)((double)wp[i] - u);
    }
    adam_update_f32(pf, gf, mf, vf, c1, c2, lr_t, 1.0, n);
    check(memcmp(pf, wp, sizeof(float) * n) == 0 && memcmp(mf, wm, sizeof(float) * n) == 0 &&
              memcmp(vf, wv, sizeof(float) * n) == 0,
          "adam f32: the book's expressions, bit for bit");
    same_bits("adam f32", pf, sizeof(float) * n);
    double *q = dcopy(p, n), *wq = dcopy(p, n);
    for (ptrdiff_t i = 0; i < n; i++) wq[i] = wq[i] - 0.01 * g[i];
    sgd_update_f64(q, g, 0.01, 1.0, n);
    check(memcmp(q, wq, sizeof(double) * n) == 0, "sgd f64: p - lr * g, bit for bit");
    /* the clip's rescale fused into the step: g *= s; p -= lr * g */
    double *q2 = dcopy(p, n), *g2 = dcopy(g, n), *wq2 = dcopy(p, n), *wg2 = dcopy(g, n);
    for (ptrdiff_t i = 0; i < n; i++) {
        wg2[i] = wg2[i] * 0.37;
        wq2[i] = wq2[i] - 0.01 * wg2[i];
    }
    sgd_update_f64(q2, g2, 0.01, 0.37, n);
    check(memcmp(q2, wq2, sizeof(double) * n) == 0 && memcmp(g2, wg2, sizeof(double) * n) == 0,
          "sgd f64 with the clip's scale: g *= s, p -= lr * g, bit for bit");
    same_bits("sgd f64 scaled", q2, sizeof(double) * n);
    rs_ws_put(q2); rs_ws_put(g2); rs_ws_put(wq2); rs_ws_put(wg2);
    long double s = 0;
    for (ptrdiff_t i = 0; i < n; i++) s += (long double)g[i] * g[i];
    double ss = sum_squares_f64(g, n);
    check(fabs(ss - (double)s) <= 1e-12 * (double)s, "sum of squares f64");
    float ssf = sum_squares_f32(gf, n);
    double sf = 0;
    for (ptrdiff_t i = 0; i < n; i++) sf += (double)gf[i] * gf[i];
    check(fabs(ssf - sf) <= 1e-5 * sf, "sum of squares f32 (pairwise)");
    void *fr[] = {p, g, m, v, pf, gf, mf, vf, wp, wm, wv, q, wq};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) rs_ws_put(fr[i]);
}

int main(void)
{
    set_env("RNNSCRATCH_PAR_FLOPS", "0");  /* split every product that can be split */
    set_env("RNNSCRATCH_NUM_THREADS", "1"); /* the default's cap (checked, then overridden) */
    setvbuf(stdout, NULL, _IONBF, 0);
    rs_gemm_init(); /* the blocks from this machine's caches, as module init does */
    test_pool();
    test_dispatch();
    for (int path = RS_PATH_PORTABLE; path <= rs_cpu_best_path(); path++) {
        rs_set_path(path);
        for (int nt = 1; nt <= 4; nt++) {
            rs_set_num_threads(nt);
            cur_threads = nt;
            snprintf(ctx, sizeof ctx, "path %s, %d thread%s", rs_path_name(path), nt,
                     nt > 1 ? "s" : "");
            rng = 0x9E3779B97F4A7C15ull; /* the same data for every thread count */
            test_gemm();
            test_act();
            test_recurrent(KIND_RNN);
            test_recurrent(KIND_LSTM);
            test_lstm_column_split();
            test_recurrent(KIND_GRU);
            test_attention();
            test_lm();
            test_optim();
            printf("path %s, %d thread(s): %d passed, %d failed so far\n", rs_path_name(path), nt,
                   n_pass, n_fail);
        }
        forget_bits();
    }
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
