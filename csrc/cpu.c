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

/* ---- cache sizes, for the gemm's blocking (gemm.c) ----
 * L1 data and L2 per core, L3 in all (bytes): Linux's sysfs (each level's
 * size divided among the cores that share it), macOS' sysctl (Apple silicon:
 * the performance cluster's, its L2 shared by the cluster's cores), Windows'
 * GetLogicalProcessorInformation. A size not found keeps its default:
 * 32 KB, 512 KB, 8 MB (the smallest of the CPUs this package is tuned on). */
#if defined(__linux__)
#include <stdio.h>
#include <stdlib.h>
static long sysfs_long(const char *path, int *ok)
{
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    *ok = 0;
    if (!f)
        return 0;
    if (fgets(buf, sizeof buf, f)) {
        char *end;
        long v = strtol(buf, &end, 10);
        if (end != buf) {
            *ok = 1;
            if (*end == 'K') v *= 1024;
            else if (*end == 'M') v *= 1024 * 1024;
        }
        fclose(f);
        return v;
    }
    fclose(f);
    return 0;
}

/* CPUs in a list such as "0-3,8-11" */
static long cpu_list_count(const char *path)
{
    char buf[256] = {0};
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    long n = 0;
    if (fgets(buf, sizeof buf, f)) {
        char *s = buf;
        while (*s && *s != '\n') {
            char *end;
            long a = strtol(s, &end, 10), b = a;
            if (end == s)
                break;
            s = end;
            if (*s == '-') {
                b = strtol(s + 1, &end, 10);
                s = end;
            }
            n += b >= a ? b - a + 1 : 1;
            if (*s == ',')
                s++;
        }
    }
    fclose(f);
    return n >= 1 ? n : 1;
}
#elif defined(__APPLE__)
#include <sys/types.h>
#include <sys/sysctl.h>
static long sysctl_long(const char *name)
{
    long long v = 0;
    size_t len = sizeof v;
    if (sysctlbyname(name, &v, &len, NULL, 0) != 0)
        return 0;
    return len == sizeof(int) ? (long)*(int *)&v : (long)v;
}
#elif defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#  define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <stdlib.h>
#endif

void rs_cache_sizes(long sizes[3])
{
    sizes[0] = 32L << 10;
    sizes[1] = 512L << 10;
    sizes[2] = 8L << 20;
#if defined(__linux__)
    int ok;
    /* hyperthreads of cpu0's core: a cache shared by n CPUs serves n / smt cores */
    long smt = cpu_list_count("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list");
    for (int i = 0; i < 8; i++) {
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        long level = sysfs_long(path, &ok);
        if (!ok)
            break;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        FILE *f = fopen(path, "r");
        char type[32] = {0};
        if (f) {
            if (!fgets(type, sizeof type, f))
                type[0] = 0;
            fclose(f);
        }
        if (type[0] == 'I') /* Instruction */
            continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        long size = sysfs_long(path, &ok);
        if (!ok || size <= 0)
            continue;
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", i);
        long cores = cpu_list_count(path) / (smt >= 1 ? smt : 1);
        if (level == 1)
            sizes[0] = size;
        else if (level == 2)
            sizes[1] = size / (cores >= 1 ? cores : 1);
        else if (level == 3)
            sizes[2] = size;
    }
#elif defined(__APPLE__)
    long l1 = sysctl_long("hw.perflevel0.l1dcachesize");
    long l2 = sysctl_long("hw.perflevel0.l2cachesize");
    long per = sysctl_long("hw.perflevel0.cpusperl2");
    if (!l1) l1 = sysctl_long("hw.l1dcachesize");
    if (!l2) l2 = sysctl_long("hw.l2cachesize");
    if (l1 > 0) sizes[0] = l1;
    if (l2 > 0) sizes[1] = l2 / (per >= 1 ? per : 1);
    long l3 = sysctl_long("hw.l3cachesize");
    if (l3 > 0) sizes[2] = l3;
    else if (l2 > 0) sizes[2] = l2; /* Apple silicon: no L3; the cluster's L2 */
#elif defined(_WIN32)
    DWORD len = 0;
    GetLogicalProcessorInformation(NULL, &len);
    SYSTEM_LOGICAL_PROCESSOR_INFORMATION *info = len ? malloc(len) : NULL;
    if (info && GetLogicalProcessorInformation(info, &len)) {
        for (DWORD i = 0; i < len / sizeof *info; i++) {
            if (info[i].Relationship != RelationCache)
                continue;
            const CACHE_DESCRIPTOR *c = &info[i].Cache;
            if (c->Type == CacheInstruction || c->Size == 0)
                continue;
            long cpus = 0;
            for (ULONG_PTR m = info[i].ProcessorMask; m; m &= m - 1)
                cpus++;
            if (c->Level == 1)
                sizes[0] = (long)c->Size;
            else if (c->Level == 2)
                sizes[1] = (long)c->Size / (cpus > 2 ? cpus / 2 : 1);
            else if (c->Level == 3)
                sizes[2] = (long)c->Size;
        }
    }
    free(info);
#endif
}
