/* compat.h -- the compiler- and CPU-specific pieces, in one place.
 *
 * Everything else in csrc/ is plain C11 and uses only these macros:
 *   RS_RESTRICT        restrict-qualifier (C99 keyword, MSVC __restrict)
 *   RS_X86_DISPATCH    1 when x86-64 SIMD paths are compiled (gcc/clang/MSVC on x86-64)
 *   RS_TARGET_AVX2     function attribute: compile this function for AVX2+FMA
 *   RS_TARGET_AVX512   function attribute: compile this function for AVX-512 (F, DQ, VL, BW)
 *                      (empty under MSVC: it has no per-function targets; its
 *                      intrinsics need none, and the loops that rely on the
 *                      compiler's vectorization are split out, see below)
 *   RS_ARM_NEON        1 on aarch64 (gcc/clang), where Advanced SIMD is part of
 *                      the base ISA: the NEON path needs no target attribute
 *   RS_ALIGNED(n)      variable alignment
 *   RS_FORCE_INLINE    static inline, always inlined (always_inline / __forceinline)
 *   RS_SPLIT_TU, RS_TU_PATH, RS_TU_BASE, RS_SIMD_FN: SIMD paths in their own
 *                      translation units (below)
 * and the run-time CPU query rs_cpu_path() (cpu.c).
 *
 * The portable path is always compiled and always correct; the SIMD paths are
 * chosen at run time, never at build time (no -march=native).
 */
#ifndef RNNSCRATCH_COMPAT_H
#define RNNSCRATCH_COMPAT_H

#include <stddef.h>

#if defined(_MSC_VER) && !defined(__clang__)
#  define RS_RESTRICT __restrict
#  define RS_ALIGNED(n) __declspec(align(n))
#  define RS_FORCE_INLINE static __forceinline
#else
#  define RS_RESTRICT restrict
#  define RS_ALIGNED(n) __attribute__((aligned(n)))
#  define RS_FORCE_INLINE static inline __attribute__((always_inline))
#endif

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(_M_X64))
#  define RS_X86_DISPATCH 1
#  define RS_TARGET_AVX2 __attribute__((target("avx2,fma")))
#  define RS_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#elif defined(_MSC_VER) && defined(_M_X64) && !defined(_M_ARM64EC)
/* MSVC compiles AVX2/AVX-512 intrinsics in any function, whatever /arch */
#  define RS_X86_DISPATCH 1
#  define RS_TARGET_AVX2
#  define RS_TARGET_AVX512
#else
#  define RS_X86_DISPATCH 0
#  define RS_TARGET_AVX2
#  define RS_TARGET_AVX512
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__) && defined(__ARM_NEON)
#  define RS_ARM_NEON 1
#else
#  define RS_ARM_NEON 0
#endif

/* ---- SIMD paths in their own translation units ----
 * gcc and clang compile each path's function for its ISA with a target
 * attribute, all in one file. MSVC has none: a loop written in plain C and
 * left to the compiler to vectorize (seq_util.h's SU_PATHED, the attention
 * dots, Adam, the sum of squares) is vectorized for AVX2 only in a file
 * compiled with /arch:AVX2. With RS_SPLIT_TU (the default under MSVC; gcc and
 * clang take -DRS_SPLIT_TU=1 to test the layout), such a kernel file X.c is
 * compiled three times: as X.c, the base translation unit (portable path,
 * dispatch, public functions), and as csrc/simd/X_avx2.c and X_avx512.c,
 * which set RS_TU_PATH and include X.c, with the path's flags (setup.py's
 * per-file table: /arch:AVX2, /arch:AVX512; -mavx2 -mfma, -mavx512f ...).
 *   RS_TU_PATH    0 in a base TU, 1 (AVX2) or 2 (AVX-512) in a path's TU
 *   RS_TU_BASE    1 where the base part of a kernel file is compiled: always
 *                 without RS_SPLIT_TU; in split builds only in the base TU
 *   RS_SIMD_FN(P, ret, name, params) { body }
 *                 path P's (AVX2 or AVX512) version of a function: a static
 *                 function with P's target attribute; in split builds an
 *                 external function defined in P's TU and declared elsewhere
 *                 (the body then goes to an unused static inline decoy). */
#ifndef RS_SPLIT_TU
#  if defined(_MSC_VER) && !defined(__clang__) && RS_X86_DISPATCH
#    define RS_SPLIT_TU 1
#  else
#    define RS_SPLIT_TU 0
#  endif
#endif
#ifndef RS_TU_PATH
#  define RS_TU_PATH 0
#endif
#define RS_TU_PATH_AVX2 1
#define RS_TU_PATH_AVX512 2
#if !RS_SPLIT_TU
#  if RS_TU_PATH != 0
#    error "a SIMD path's translation unit (csrc/simd/) is only compiled with RS_SPLIT_TU"
#  endif
#  define RS_TU_BASE 1
#  define RS_SIMD_FN(P, ret, name, params) static RS_TARGET_##P ret name params
#else
#  define RS_TU_BASE (RS_TU_PATH == 0)
#  define RS_SIMD_FN(P, ret, name, params) RS_SIMD_FN_##P(ret, name, params)
#  define RS_SIMD_DEFINE_(ret, name, params) RS_SIMD_HIDDEN ret name params
#  define RS_SIMD_DECOY_(ret, name, params) \
      RS_SIMD_HIDDEN ret name params; static inline ret RS_CAT(name, decoy) params
#  if RS_TU_PATH == RS_TU_PATH_AVX2
#    define RS_SIMD_FN_AVX2 RS_SIMD_DEFINE_
#  else
#    define RS_SIMD_FN_AVX2 RS_SIMD_DECOY_
#  endif
#  if RS_TU_PATH == RS_TU_PATH_AVX512
#    define RS_SIMD_FN_AVX512 RS_SIMD_DEFINE_
#  else
#    define RS_SIMD_FN_AVX512 RS_SIMD_DECOY_
#  endif
#  if (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32) && !defined(__CYGWIN__)
#    define RS_SIMD_HIDDEN __attribute__((visibility("hidden")))
#  else
#    define RS_SIMD_HIDDEN
#  endif
#endif

/* Kernel paths. The x86 ones are in increasing order of capability; NEON is
   the one SIMD path of aarch64 (never available together with the x86 ones). */
enum rs_path {
    RS_PATH_PORTABLE = 0, /* plain C, any CPU */
    RS_PATH_AVX2 = 1,     /* x86-64 with AVX2 and FMA */
    RS_PATH_AVX512 = 2,   /* x86-64 with AVX-512 F/DQ/VL/BW */
    RS_PATH_NEON = 3,     /* aarch64 Advanced SIMD (fused multiply-adds) */
    RS_PATH_COUNT = 4
};

/* The best path this CPU supports (detected once). */
int rs_cpu_best_path(void);
/* 1 if this CPU (and build) supports the path, else 0. */
int rs_path_available(int path);
/* The path in use: the best one unless forced lower by rs_set_path(). */
int rs_get_path(void);
/* Force a path (for tests and benchmarks). Returns 0, or -1 when the CPU
   lacks it (the path is left unchanged). */
int rs_set_path(int path);
const char *rs_path_name(int path);
/* L1 data and L2 per core, L3 in all, bytes (cpu.c; defaults where unknown) */
void rs_cache_sizes(long sizes[3]);

/* Token pasting for the float/double templates:
   RS_FN(gemm) -> gemm_f32 when RS_SUFFIX is f32. */
#define RS_CAT2(a, b) a##_##b
#define RS_CAT(a, b) RS_CAT2(a, b)

#endif
