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
#endif
        best_path = p;
    }
    return best_path;
}

int rs_get_path(void)
{
    return forced_path >= 0 ? forced_path : rs_cpu_best_path();
}

int rs_set_path(int path)
{
    if (path < RS_PATH_PORTABLE || path > rs_cpu_best_path())
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
    default: return "unknown";
    }
}
