/* cpu.c -- run-time choice of the SIMD path (see compat.h). */
#include "compat.h"

#if RS_X86_DISPATCH && ((defined(_MSC_VER) && !defined(__clang__)) || defined(RS_CPUID_MANUAL))
#include <intrin.h>   /* __cpuid, __cpuidex */
#include <immintrin.h> /* _xgetbv */

/* MSVC has no __builtin_cpu_supports: read CPUID and, as libgcc does, check
   with XGETBV that the OS saves the AVX (and AVX-512) register state.
   (RS_CPUID_MANUAL compiles this with gcc too: .ci/windows.sh checks it
   against __builtin_cpu_supports, under MinGW and wine.) */
static int msvc_best_path(void)
{
    int r[4];
    __cpuid(r, 0);
    const int max_leaf = r[0];
    if (max_leaf < 7)
        return RS_PATH_PORTABLE;
    __cpuid(r, 1);
    const int fma = (r[2] >> 12) & 1, osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1;
    if (!(fma && osxsave && avx))
        return RS_PATH_PORTABLE;
    const unsigned long long xcr0 = _xgetbv(0);
    if ((xcr0 & 0x6) != 0x6) /* XMM and YMM state */
        return RS_PATH_PORTABLE;
    __cpuidex(r, 7, 0);
    const unsigned ebx = (unsigned)r[1];
    if (!((ebx >> 5) & 1)) /* AVX2 */
        return RS_PATH_PORTABLE;
    const int avx512 = ((ebx >> 16) & 1) /* F */ && ((ebx >> 17) & 1) /* DQ */ &&
                       ((ebx >> 30) & 1) /* BW */ && ((ebx >> 31) & 1) /* VL */;
    if (avx512 && (xcr0 & 0xe6) == 0xe6) /* + opmask, ZMM_Hi256, Hi16_ZMM state */
        return RS_PATH_AVX512;
    return RS_PATH_AVX2;
}
#endif

static int best_path = -1;   /* detected lazily, once */
static int forced_path = -1; /* -1: use best_path */

int rs_cpu_best_path(void)
{
    if (best_path < 0) {
        int p = RS_PATH_PORTABLE;
#if RS_X86_DISPATCH && ((defined(_MSC_VER) && !defined(__clang__)) || defined(RS_CPUID_MANUAL))
        p = msvc_best_path();
#elif RS_X86_DISPATCH
        __builtin_cpu_init();
        /* libgcc / compiler-rt check the OS enables the register state too */
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            p = RS_PATH_AVX2;
        if (p == RS_PATH_AVX2 && __builtin_cpu_supports("avx512f") &&
            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512bw"))
            p = RS_PATH_AVX512;
#elif RS_ARM_NEON
        p = RS_PATH_NEON; /* part of the aarch64 base ISA */
#endif
        best_path = p;
    }
    return best_path;
}

int rs_get_path(void)
{
    return forced_path >= 0 ? forced_path : rs_cpu_best_path();
}

int rs_path_available(int path)
{
    const int best = rs_cpu_best_path();
    if (path == RS_PATH_PORTABLE)
        return 1;
    if (path == RS_PATH_NEON)
        return best == RS_PATH_NEON;
    /* the x86 paths: every one up to the best (AVX-512 implies AVX2) */
    return (path == RS_PATH_AVX2 || path == RS_PATH_AVX512) && best != RS_PATH_NEON &&
           path <= best;
}

int rs_set_path(int path)
{
    if (!rs_path_available(path))
        return -1;
    forced_path = path;
    return 0;
}

const char *rs_path_name(int path)
{
    switch (path) {
    case RS_PATH_PORTABLE: return "portable";
    case RS_PATH_AVX2: return "avx2";
    case RS_PATH_AVX512: return "avx512";
    case RS_PATH_NEON: return "neon";
    default: return "unknown";
    }
}
