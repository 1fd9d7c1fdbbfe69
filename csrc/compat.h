/* compat.h -- the compiler- and CPU-specific pieces, in one place.
 *
 * Everything else in csrc/ is plain C11 and uses only these macros:
 *   RS_RESTRICT        restrict-qualifier (C99 keyword, MSVC __restrict)
 *   RS_X86_DISPATCH    1 when x86-64 SIMD paths are compiled (gcc/clang on x86-64)
 *   RS_TARGET_AVX2     function attribute: compile this function for AVX2+FMA
 *   RS_TARGET_AVX512   function attribute: compile this function for AVX-512 (F, DQ, VL, BW)
 *   RS_ARM_NEON        1 on aarch64 (gcc/clang), where Advanced SIMD is part of
 *                      the base ISA: the NEON path needs no target attribute
 *   RS_ALIGNED(n)      variable alignment
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
#else
#  define RS_RESTRICT restrict
#  define RS_ALIGNED(n) __attribute__((aligned(n)))
#endif

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(_M_X64))
#  define RS_X86_DISPATCH 1
#  define RS_TARGET_AVX2 __attribute__((target("avx2,fma")))
#  define RS_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
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

/* Token pasting for the float/double templates:
   RS_FN(gemm) -> gemm_f32 when RS_SUFFIX is f32. */
#define RS_CAT2(a, b) a##_##b
#define RS_CAT(a, b) RS_CAT2(a, b)

#endif
