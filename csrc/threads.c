/* threads.c -- persistent thread pool and workspace cache (see threads.h). */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#  define _POSIX_C_SOURCE 200809L /* pthread_atfork, sysconf under -std=c11 */
#endif
#if defined(__linux__) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE 1           /* sched_getaffinity, CPU_COUNT */
#endif
#if defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#  define _DARWIN_C_SOURCE 1      /* _SC_NPROCESSORS_ONLN */
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__APPLE__)
#  include <sys/types.h>
#  include <sys/sysctl.h>          /* sysctlbyname: the performance cores */
#endif
#include "threads.h"

/* ---- aligned allocation with a small header (size, original pointer) ---- */

typedef struct {
    void *base;
    size_t cap;
} ws_head;

static void *ws_alloc(size_t bytes)
{
    if (bytes > SIZE_MAX - 128)
        return NULL;
    char *base = malloc(bytes + 128);
    if (!base)
        return NULL;
    uintptr_t p = ((uintptr_t)base + sizeof(ws_head) + 63) & ~(uintptr_t)63;
    ws_head h = {base, bytes};
    memcpy((char *)p - sizeof(ws_head), &h, sizeof h);
    return (void *)p;
}

static ws_head ws_head_of(void *p)
{
    ws_head h;
    memcpy(&h, (char *)p - sizeof(ws_head), sizeof h);
    return h;
}

/* A thread count from the environment: a whole number >= 1, blanks around it
 * allowed; OMP_NUM_THREADS may be a list ("4,2": the first level counts).
 * Anything else ("1x", "abc", "-1") is ignored (0); rnnscratch/_config.py
 * warns about it at import. */
static int env_threads(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 1)
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end && !(*end == ',' && strcmp(name, "OMP_NUM_THREADS") == 0))
        return 0;
    return v > RS_MAX_THREADS ? RS_MAX_THREADS : (int)v;
}

/* Products smaller than this many flops run on one thread. Splitting a small
 * product costs more than it saves in a training loop: the caller has just
 * written the operands (an optimizer step), so a worker on another core first
 * pulls every line it reads out of the caller's cache. RNNSCRATCH_PAR_FLOPS
 * overrides the default (read once). */
#ifndef RS_PAR_FLOPS_DEFAULT
#  define RS_PAR_FLOPS_DEFAULT 1e7
#endif
double rs_par_min_flops(void)
{
    static double cached = -1; /* first set by module init, under the GIL */
    double v = cached;
    if (v < 0) {
        v = RS_PAR_FLOPS_DEFAULT;
        const char *s = getenv("RNNSCRATCH_PAR_FLOPS");
        if (s && *s) {
            char *end;
            double e = strtod(s, &end);
            while (*end == ' ' || *end == '\t')
                end++;
            if (end != s && !*end && e >= 0 && e < 1e300)
                v = e;
        }
        cached = v;
    }
    return v;
}

static int recurrence_split; /* RS_SPLIT_AUTO; set under the GIL, not while a kernel runs */
void rs_set_recurrence_split(int mode) { recurrence_split = mode; }
int rs_get_recurrence_split(void) { return recurrence_split; }

#if RS_HAVE_THREADS

/* ---- the few OS primitives the pool needs: POSIX threads, or Win32 ----
 *   rs_mutex_t / rs_cond_t, mutex_lock, mutex_unlock, mutex_trylock (0: got
 *   it), cond_wait, cond_broadcast, thread_start (detached, 4 MiB stack; 0 on
 *   success), thread_yield, now_ns (a monotonic clock), cpu_relax, pool_once
 * (C11 atomics on both: MSVC needs /experimental:c11atomics, see setup.py) */
#include <stdatomic.h>

#if RS_WIN32_THREADS
#ifndef WIN32_LEAN_AND_MEAN
#  define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

typedef SRWLOCK rs_mutex_t;
typedef CONDITION_VARIABLE rs_cond_t;
#define RS_MUTEX_INIT SRWLOCK_INIT
#define RS_COND_INIT CONDITION_VARIABLE_INIT
static void mutex_lock(rs_mutex_t *m) { AcquireSRWLockExclusive(m); }
static void mutex_unlock(rs_mutex_t *m) { ReleaseSRWLockExclusive(m); }
/* an SRW lock is not recursive: the owner's own try fails, as a nested call's must */
static int mutex_trylock(rs_mutex_t *m) { return TryAcquireSRWLockExclusive(m) ? 0 : -1; }
static void cond_wait(rs_cond_t *c, rs_mutex_t *m) { SleepConditionVariableSRW(c, m, INFINITE, 0); }
static void cond_broadcast(rs_cond_t *c) { WakeAllConditionVariable(c); }
static void thread_yield(void) { SwitchToThread(); }
#define cpu_relax() YieldProcessor()

static long long now_ns(void)
{
    static LARGE_INTEGER freq; /* constant while the system runs */
    LARGE_INTEGER t;
    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&t);
    return (long long)(t.QuadPart / freq.QuadPart) * 1000000000LL +
           (long long)(t.QuadPart % freq.QuadPart) * 1000000000LL / freq.QuadPart;
}

static void *worker_main(void *p);
static DWORD WINAPI worker_entry(LPVOID p)
{
    worker_main(p);
    return 0;
}

static int thread_start(void *arg)
{
    HANDLE h = CreateThread(NULL, (SIZE_T)4 << 20, worker_entry, arg,
                            STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
    if (!h)
        return -1;
    CloseHandle(h); /* detached: the thread runs on without its handle */
    return 0;
}

static void pool_once(void) {} /* no fork on Windows: nothing to register */

#else /* POSIX threads */
#include <pthread.h>
#include <unistd.h>
#include <sched.h>
#include <time.h>

typedef pthread_mutex_t rs_mutex_t;
typedef pthread_cond_t rs_cond_t;
#define RS_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define RS_COND_INIT PTHREAD_COND_INITIALIZER
static void mutex_lock(rs_mutex_t *m) { pthread_mutex_lock(m); }
static void mutex_unlock(rs_mutex_t *m) { pthread_mutex_unlock(m); }
static int mutex_trylock(rs_mutex_t *m) { return pthread_mutex_trylock(m) == 0 ? 0 : -1; }
static void cond_wait(rs_cond_t *c, rs_mutex_t *m) { pthread_cond_wait(c, m); }
static void cond_broadcast(rs_cond_t *c) { pthread_cond_broadcast(c); }
static void thread_yield(void) { sched_yield(); }

#if defined(__x86_64__) || defined(__i386__)
#  define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#  define cpu_relax() __asm__ __volatile__("yield")
#else
#  define cpu_relax() ((void)0)
#endif

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *worker_main(void *p);
static int thread_start(void *arg)
{
    pthread_attr_t attr;
    pthread_t th;
    int ok = pthread_attr_init(&attr) == 0;
    if (ok) {
        pthread_attr_setstacksize(&attr, (size_t)4 << 20);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        ok = pthread_create(&th, &attr, worker_main, arg) == 0;
        pthread_attr_destroy(&attr);
    }
    return ok ? 0 : -1;
}

static pthread_once_t pool_once_flag = PTHREAD_ONCE_INIT;
static void pool_init(void);
static void pool_once(void) { pthread_once(&pool_once_flag, pool_init); }
#endif

/* Waiting: spin with pause for a few microseconds, then keep polling with
   sched_yield / SwitchToThread (so a preempted thread on the same core can run) for up to
   RS_SPIN_NS, then block on a condition variable. Waking a blocked thread costs
   50-100 us on a VM, so back-to-back jobs (one per RNN time step) never block. */
#define SPIN_PAUSE 256
#ifndef RS_SPIN_NS
#  define RS_SPIN_NS 1000000L
#endif

/* Poll until (atomic_load(flag) == value) == want_eq; returns 0 when the spin
   budget ran out first. */
static int spin_until(atomic_int *flag, int value, int want_eq)
{
    for (int i = 0; i < SPIN_PAUSE; i++) {
        if ((atomic_load(flag) == value) == want_eq)
            return 1;
        cpu_relax();
    }
    const long long t0 = now_ns();
    for (;;) {
        for (int i = 0; i < 16; i++) {
            if ((atomic_load(flag) == value) == want_eq)
                return 1;
            thread_yield();
        }
        if (now_ns() - t0 > RS_SPIN_NS)
            return 0;
    }
}

static rs_mutex_t use_lock = RS_MUTEX_INIT; /* one job at a time */
static rs_mutex_t mtx = RS_MUTEX_INIT;      /* sleeping / waking */
static rs_cond_t cv_work = RS_COND_INIT;
static rs_cond_t cv_done = RS_COND_INIT;
static rs_mutex_t ws_lock = RS_MUTEX_INIT;  /* workspace cache */

static int nworkers;                   /* started (under use_lock) */
static atomic_int num_threads;         /* 0: not yet read */
static atomic_int sleepers;            /* workers blocked on cv_work */
/* The current job: (generation << 32) | next unclaimed task. A task is claimed
   by a CAS on this word. Before the fields of the next job are written, the
   word is set to (old generation, CLOSED): a worker still looping in
   run_tasks() for the old job that reads a new field (acquire) then sees the
   word changed, so its CAS fails and it never runs a task with fields of two
   different jobs, nor a task twice. */
#define CLOSED 0x7fffffffu
static _Atomic unsigned long long state;
static _Atomic(rs_task_fn) job_fn;
static _Atomic(void *) job_arg;
static atomic_int job_n;
static atomic_int job_left;            /* tasks not finished yet */
static atomic_int gen_pub;             /* generation of state, for waiting */

static unsigned gen_of(unsigned long long s) { return (unsigned)(s >> 32); }

static void run_tasks(unsigned g)
{
    for (;;) {
        unsigned long long s = atomic_load(&state);
        if (gen_of(s) != g)
            return;
        int t = (int)(s & 0xffffffffu);
        rs_task_fn fn = atomic_load_explicit(&job_fn, memory_order_acquire);
        void *arg = atomic_load_explicit(&job_arg, memory_order_acquire);
        int n = atomic_load_explicit(&job_n, memory_order_acquire);
        if (t >= n)
            return;
        if (!atomic_compare_exchange_weak(&state, &s, s + 1))
            continue;
        fn(arg, t, n);
        if (atomic_fetch_sub(&job_left, 1) == 1) {
            mutex_lock(&mtx);
            cond_broadcast(&cv_done);
            mutex_unlock(&mtx);
        }
    }
}

static void *worker_main(void *p)
{
    unsigned seen = (unsigned)(uintptr_t)p;
    for (;;) {
        spin_until(&gen_pub, (int)seen, 0);
        unsigned g = gen_of(atomic_load(&state));
        if (g == seen) {
            mutex_lock(&mtx);
            atomic_fetch_add(&sleepers, 1);
            while ((g = gen_of(atomic_load(&state))) == seen)
                cond_wait(&cv_work, &mtx);
            atomic_fetch_sub(&sleepers, 1);
            mutex_unlock(&mtx);
        }
        seen = g;
        run_tasks(g);
    }
    return NULL;
}

#if !RS_WIN32_THREADS
static void atfork_prepare(void)
{
    pthread_mutex_lock(&use_lock); /* waits for a running job to finish */
    pthread_mutex_lock(&ws_lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&ws_lock);
    pthread_mutex_unlock(&use_lock);
}

static void atfork_child(void)
{
    /* the workers do not exist in the child: start over, lazily */
    pthread_mutex_init(&use_lock, NULL);
    pthread_mutex_init(&mtx, NULL);
    pthread_mutex_init(&ws_lock, NULL);
    pthread_cond_init(&cv_work, NULL);
    pthread_cond_init(&cv_done, NULL);
    nworkers = 0;
    atomic_store(&sleepers, 0);
    atomic_store(&job_left, 0);
}

static void pool_init(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

#endif

/* The CPUs this process may run on (logical) and the physical cores they sit
   on: two hyperthreads of one core share its FMA units, so a second thread
   there adds little to a product and makes the split uneven. Linux: the
   affinity mask and each CPU's topology/thread_siblings_list (the smallest
   sibling names the core); Windows: the processor cores whose mask meets the
   process' affinity mask; elsewhere cores = logical. */
#if defined(__linux__) && defined(CPU_COUNT)
#include <stdio.h>
static int core_of(int cpu)
{
    char path[96];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
    FILE *f = fopen(path, "r");
    if (!f)
        return cpu;
    int first = -1;
    if (fscanf(f, "%d", &first) != 1 || first < 0)
        first = cpu; /* the list starts with its smallest CPU ("0,64", "0-1") */
    fclose(f);
    return first < cpu ? first : cpu;
}
#endif

void rs_cpu_topology(int *logical, int *cores)
{
    int nl = 0, nc = 0;
#if RS_WIN32_THREADS
    DWORD_PTR mine = 0, all = 0;
    if (!GetProcessAffinityMask(GetCurrentProcess(), &mine, &all))
        mine = 0;
    for (DWORD_PTR m = mine; m; m &= m - 1)
        nl++;
    DWORD len = 0;
    GetLogicalProcessorInformation(NULL, &len);
    SYSTEM_LOGICAL_PROCESSOR_INFORMATION *info = len ? malloc(len) : NULL;
    if (info && GetLogicalProcessorInformation(info, &len)) {
        for (DWORD i = 0; i < len / sizeof *info; i++)
            if (info[i].Relationship == RelationProcessorCore &&
                (info[i].ProcessorMask & mine))
                nc++;
    }
    free(info);
#elif defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        unsigned char seen[CPU_SETSIZE];
        memset(seen, 0, sizeof seen);
        for (int c = 0; c < CPU_SETSIZE; c++) {
            if (!CPU_ISSET(c, &allowed))
                continue;
            nl++;
            int core = core_of(c);
            if (core >= 0 && core < CPU_SETSIZE && !seen[core]) {
                seen[core] = 1;
                nc++;
            }
        }
    }
#elif defined(_SC_NPROCESSORS_ONLN)
    nl = (int)sysconf(_SC_NPROCESSORS_ONLN);
#endif
    if (nl < 1)
        nl = 1;
    if (nc < 1 || nc > nl)
        nc = nl;
    *logical = nl;
    *cores = nc;
}

static int default_threads(void)
{
#if RS_WIN32_THREADS
    /* the CPUs of this process' affinity mask (its processor group), else all */
    long n = (long)GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    DWORD_PTR mine, all;
    if (GetProcessAffinityMask(GetCurrentProcess(), &mine, &all) && mine) {
        long c = 0;
        for (; mine; mine &= mine - 1)
            c++;
        if (c >= 1 && (n < 1 || c < n))
            n = c;
    }
#elif defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
#else
    long n = 1;
#endif
#if defined(__APPLE__)
    /* Apple silicon: the performance cores only. Work is split evenly, so a
       task on an efficiency core (~1/3 of the speed) would hold up the rest.
       hw.perflevel0 exists on macOS 12+ (on Intel Macs it is all cores). */
    {
        int perf = 0;
        size_t len = sizeof perf;
        if (sysctlbyname("hw.perflevel0.physicalcpu", &perf, &len, NULL, 0) == 0 &&
            perf >= 1 && (n < 1 || perf < n))
            n = perf;
    }
#endif
#if (defined(__linux__) && defined(CPU_COUNT)) || RS_WIN32_THREADS
    /* the cores of the CPUs this process may run on (taskset, a container's
       cpuset): one thread per core, not per hyperthread */
    {
        int nl, nc;
        rs_cpu_topology(&nl, &nc);
        if (nc >= 1 && (n < 1 || nc < n))
            n = nc;
    }
#endif
    if (n < 1)
        n = 1;
    if (n > RS_MAX_THREADS)
        n = RS_MAX_THREADS;
    int cap = env_threads("RNNSCRATCH_NUM_THREADS");
    if (!cap)
        cap = env_threads("OMP_NUM_THREADS");
    if (cap && cap < n)
        n = cap;
    return (int)n;
}

void rs_set_num_threads(int n)
{
    if (n > RS_MAX_THREADS)
        n = RS_MAX_THREADS;
    atomic_store(&num_threads, n >= 1 ? n : default_threads());
}

int rs_get_num_threads(void)
{
    int n = atomic_load(&num_threads);
    if (n == 0) {
        int d = default_threads(), expect = 0;
        atomic_compare_exchange_strong(&num_threads, &expect, d);
        n = atomic_load(&num_threads);
    }
    return n;
}

static void run_serial(rs_task_fn fn, void *arg, int ntasks)
{
    for (int t = 0; t < ntasks; t++)
        fn(arg, t, ntasks);
}

void rs_parallel_run(rs_task_fn fn, void *arg, int ntasks)
{
    if (ntasks <= 0)
        return;
    int nt = rs_get_num_threads();
    if (ntasks == 1 || nt <= 1) {
        run_serial(fn, arg, ntasks);
        return;
    }
    pool_once();
    if (mutex_trylock(&use_lock) != 0) { /* busy, or nested call */
        run_serial(fn, arg, ntasks);
        return;
    }
    int want = (ntasks < nt ? ntasks : nt) - 1;
    unsigned g = gen_of(atomic_load(&state));
    while (nworkers < want) {
        if (thread_start((void *)(uintptr_t)g) != 0)
            break; /* fewer workers: the caller runs the remaining tasks */
        nworkers++;
    }
    if (nworkers == 0) {
        mutex_unlock(&use_lock);
        run_serial(fn, arg, ntasks);
        return;
    }
    /* publish: close the last job (see `state`), the fields, then the new
       generation */
    atomic_store(&state, ((unsigned long long)g << 32) | CLOSED);
    atomic_store_explicit(&job_fn, fn, memory_order_release);
    atomic_store_explicit(&job_arg, arg, memory_order_release);
    atomic_store_explicit(&job_n, ntasks, memory_order_release);
    atomic_store(&job_left, ntasks);
    g++;
    atomic_store(&state, (unsigned long long)g << 32);
    atomic_store(&gen_pub, (int)g);
    if (atomic_load(&sleepers) > 0) {
        mutex_lock(&mtx);
        cond_broadcast(&cv_work);
        mutex_unlock(&mtx);
    }
    run_tasks(g);
    if (!spin_until(&job_left, 0, 1)) {
        mutex_lock(&mtx);
        while (atomic_load(&job_left) > 0)
            cond_wait(&cv_done, &mtx);
        mutex_unlock(&mtx);
    }
    mutex_unlock(&use_lock);
}

/* ---- workspace cache: a few buffers kept for reuse ---- */

#define WS_SLOTS 4
static void *ws_slot[WS_SLOTS];

void *rs_ws_get(size_t bytes)
{
    void *p = NULL;
    pool_once(); /* the fork handlers guard ws_lock too */
    mutex_lock(&ws_lock);
    int best = -1;
    for (int i = 0; i < WS_SLOTS; i++)
        if (ws_slot[i] && ws_head_of(ws_slot[i]).cap >= bytes &&
            (best < 0 || ws_head_of(ws_slot[i]).cap < ws_head_of(ws_slot[best]).cap))
            best = i;
    if (best >= 0) {
        p = ws_slot[best];
        ws_slot[best] = NULL;
    }
    mutex_unlock(&ws_lock);
    if (p)
        return p;
    /* round up so that slightly bigger requests reuse it later */
    size_t r = bytes + (bytes >> 3);
    return ws_alloc(r >= bytes ? r : bytes);
}

void rs_ws_put(void *p)
{
    if (!p)
        return;
    void *drop = p;
    mutex_lock(&ws_lock);
    int slot = -1;
    for (int i = 0; i < WS_SLOTS && slot < 0; i++)
        if (!ws_slot[i])
            slot = i;
    if (slot < 0) { /* full: keep the bigger buffers */
        slot = 0;
        for (int i = 1; i < WS_SLOTS; i++)
            if (ws_head_of(ws_slot[i]).cap < ws_head_of(ws_slot[slot]).cap)
                slot = i;
        if (ws_head_of(ws_slot[slot]).cap >= ws_head_of(p).cap)
            slot = -1;
    }
    if (slot >= 0) {
        drop = ws_slot[slot];
        ws_slot[slot] = p;
    }
    mutex_unlock(&ws_lock);
    if (drop)
        free(ws_head_of(drop).base);
}

/* ---- self-test of the pool's job handover (tests call it through
   _core._pool_selftest; not for concurrent use) ----
   Jobs of 2 and of 2*threads+1 tasks alternate, so workers still leaving one
   job meet the next one with more tasks. Each task checks that it runs once,
   and while its job is the current one (not after rs_parallel_run returned). */

#define SELFTEST_MAX_TASKS (2 * RS_MAX_THREADS + 1)
typedef struct {
    long id;
    atomic_int runs[SELFTEST_MAX_TASKS];
} selftest_job;
static atomic_long selftest_current;
static atomic_long selftest_bad;

static void selftest_task(void *arg, int t, int n)
{
    selftest_job *J = arg;
    (void)n;
    if (atomic_load(&selftest_current) != J->id)
        atomic_fetch_add(&selftest_bad, 1);
    if (atomic_fetch_add(&J->runs[t], 1) != 0)
        atomic_fetch_add(&selftest_bad, 1);
}

long rs_pool_selftest(long jobs)
{
    const int big = 2 * rs_get_num_threads() + 1;
    atomic_store(&selftest_bad, 0);
    for (long i = 0; i < jobs; i++) {
        selftest_job J;
        const int n = i & 1 ? 2 : big;
        J.id = i;
        for (int t = 0; t < n; t++)
            atomic_init(&J.runs[t], 0);
        atomic_store(&selftest_current, i);
        rs_parallel_run(selftest_task, &J, n);
        atomic_store(&selftest_current, -1);
        for (int t = 0; t < n; t++)
            if (atomic_load(&J.runs[t]) != 1)
                atomic_fetch_add(&selftest_bad, 1);
    }
    return atomic_load(&selftest_bad);
}

/* ---- the pool's latencies (python -m rnnscratch bench --only pool) ----
   `jobs` jobs of one task per thread, `gap_ns` apart. Each task notes when it
   started and waits (bounded) until every task of its job has started, so
   each thread runs one. Per job: wake[j] = the last task's start - the time
   the job was handed over (how late the slowest worker joined), trip[j] =
   the return of rs_parallel_run - the handover (a fork/join of empty tasks,
   the per-step barrier's cost). Nanoseconds. Returns the thread count used. */
typedef struct {
    long long t0;
    atomic_llong last;
    atomic_int started;
    int n;
} timing_job;

static void timing_task(void *arg, int t, int n)
{
    timing_job *J = arg;
    (void)t;
    long long now = now_ns(), prev = atomic_load(&J->last);
    while (now > prev && !atomic_compare_exchange_weak(&J->last, &prev, now))
        ;
    atomic_fetch_add(&J->started, 1);
    const long long give_up = now + 100000000LL; /* 0.1 s */
    while (atomic_load(&J->started) < n && now_ns() < give_up)
        cpu_relax();
}

static void sleep_ns(long long ns)
{
    if (ns <= 0)
        return;
#if RS_WIN32_THREADS
    Sleep((DWORD)((ns + 999999) / 1000000));
#else
    struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
    nanosleep(&ts, NULL);
#endif
}

int rs_pool_timing(long jobs, long long gap_ns, double *wake, double *trip)
{
    const int n = rs_get_num_threads();
    for (long j = 0; j < jobs; j++) {
        sleep_ns(gap_ns);
        timing_job J;
        J.n = n;
        atomic_init(&J.started, 0);
        J.t0 = now_ns();
        atomic_init(&J.last, J.t0);
        rs_parallel_run(timing_task, &J, n);
        const long long t1 = now_ns();
        wake[j] = (double)(atomic_load(&J.last) - J.t0);
        trip[j] = (double)(t1 - J.t0);
    }
    return n;
}

#else /* no threads (neither POSIX nor Win32): everything on the calling thread */

static int num_threads_st = 0;

void rs_set_num_threads(int n)
{
    (void)n; /* single-threaded build */
    num_threads_st = 1;
}

int rs_get_num_threads(void)
{
    (void)env_threads;
    num_threads_st = 1;
    return num_threads_st;
}

void rs_parallel_run(rs_task_fn fn, void *arg, int ntasks)
{
    for (int t = 0; t < ntasks; t++)
        fn(arg, t, ntasks);
}

void *rs_ws_get(size_t bytes)
{
    return ws_alloc(bytes);
}

long rs_pool_selftest(long jobs)
{
    (void)jobs; /* no pool: every job runs its tasks in order on the caller */
    return 0;
}

void rs_cpu_topology(int *logical, int *cores)
{
    *logical = *cores = 1;
}

int rs_pool_timing(long jobs, long long gap_ns, double *wake, double *trip)
{
    (void)gap_ns; /* no pool: nothing to wake */
    for (long j = 0; j < jobs; j++)
        wake[j] = trip[j] = 0;
    return 1;
}

void rs_ws_put(void *p)
{
    if (p)
        free(ws_head_of(p).base);
}

#endif
