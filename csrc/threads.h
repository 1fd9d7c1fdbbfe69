/* threads.h -- a small persistent thread pool and a workspace cache.
 *
 * The pool runs a fixed set of tasks t = 0..ntasks-1 of one job. Which OS
 * thread runs which task is not fixed, so callers make every task's result
 * independent of that (each output element written by exactly one task, in
 * a fixed order): results never depend on the thread count.
 *
 *   rs_set_num_threads(n)  n >= 1: use at most n threads (the caller counts as
 *                          one); n <= 0: back to the default.
 *   rs_get_num_threads()   the current limit. Default: the number of online
 *                          CPUs (on Linux: that this process may run on,
 *                          sched_getaffinity; on macOS: the performance
 *                          cores, hw.perflevel0.physicalcpu), capped by RNNSCRATCH_NUM_THREADS, else by
 *                          OMP_NUM_THREADS, when set (read at first use).
 *   rs_parallel_run(fn, arg, ntasks)
 *                          runs fn(arg, t, ntasks) for every t in [0, ntasks),
 *                          on the calling thread and up to ntasks-1 pool
 *                          workers, and returns when all are done. When the
 *                          pool is busy (another OS thread is using it) or
 *                          unavailable, the caller runs all tasks itself.
 *
 * Workers are created lazily; after fork() the child starts with no workers
 * and recreates them on first use (the parent is unaffected). The pool runs on
 * POSIX threads or, on Windows (MSVC and MinGW), on Win32 threads
 * (CreateThread, SRW locks, condition variables); where there is neither,
 * everything runs on the calling thread.
 *
 *   rs_ws_get(bytes)       a 64-byte aligned buffer of at least `bytes`
 *                          bytes, reused between calls (thread-safe), or
 *                          NULL when memory is short.
 *   rs_ws_put(p)           give it back (NULL is ignored).
 */
#ifndef RNNSCRATCH_THREADS_H
#define RNNSCRATCH_THREADS_H

#include <stddef.h>

#if defined(_WIN32)
#  define RS_HAVE_PTHREADS 0
#  define RS_WIN32_THREADS 1
#elif defined(__unix__) || defined(__APPLE__)
#  define RS_HAVE_PTHREADS 1
#  define RS_WIN32_THREADS 0
#else
#  define RS_HAVE_PTHREADS 0
#  define RS_WIN32_THREADS 0
#endif
#define RS_HAVE_THREADS (RS_HAVE_PTHREADS || RS_WIN32_THREADS)

#define RS_MAX_THREADS 64

typedef void (*rs_task_fn)(void *arg, int task, int ntasks);

void rs_set_num_threads(int n);
int rs_get_num_threads(void);
void rs_parallel_run(rs_task_fn fn, void *arg, int ntasks);
/* below this many flops a product is not worth splitting (see threads.c) */
double rs_par_min_flops(void);
/* How a recurrence (TimeLSTM) is split over the threads: RS_SPLIT_AUTO (the
   default: seq_util.h's rule), RS_SPLIT_ROWS (blocks of batch rows, one
   fork/join per sequence) or RS_SPLIT_COLUMNS (blocks of hidden units, one
   fork/join per step) whenever the shape allows it. The results never change;
   for the tests and the benchmark. */
enum { RS_SPLIT_AUTO = 0, RS_SPLIT_ROWS = 1, RS_SPLIT_COLUMNS = 2 };
void rs_set_recurrence_split(int mode);
int rs_get_recurrence_split(void);

void *rs_ws_get(size_t bytes);
void rs_ws_put(void *p);

/* runs `jobs` small pool jobs of alternating sizes and returns how many tasks
   ran twice, not at all, or outside their job (0 when the pool is sound) */
long rs_pool_selftest(long jobs);

/* the CPUs this process may run on and the physical cores among them */
void rs_cpu_topology(int *logical, int *cores);

/* `jobs` empty jobs of one task per thread, gap_ns apart: per job the
   latest worker's start and the fork/join round trip after the handover, in
   ns (wake, trip: `jobs` doubles each); returns the thread count */
int rs_pool_timing(long jobs, long long gap_ns, double *wake, double *trip);

#endif
