/* cpu.c -- run-time choice of the SIMD path (see compat.h). */
#include "compat.h"

static int best_path = -1;   /* detected lazily, once */
static int forced_path = -1; /* -1: use best_path */

int rs_cpu_best_path(void)
{
    if (best_path < 0) {
        int p = RS_PATH_PORTABLE;
#if RS_X86_DISPATCH
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
