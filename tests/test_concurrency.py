"""Threads and fork (issue 7).

* Several Python threads, each with its own layers, running at the same time
  (the kernels release the GIL) get bit-identical answers to a sequential run.
* A fork()ed child (multiprocessing, 'fork' start method) computes correctly
  after the parent used the kernels at sizes that use the thread pool (no
  deadlock on a pool whose threads did not survive the fork, no wrong answer).
* 1 and 2 threads (rnnscratch.set_num_threads) give bit-identical arrays for every
  layer.
The workload is every layer class of the registry (tests/registry.py), each variant.
"""
import multiprocessing
import os
import sys
import threading

import numpy as np
import pytest

import rnnscratch
from registry import REGISTRY, Sizes
from rnnscratch import _core

# big enough for the pool: 2*N*T*H*(D+H) = 1.3 GFLOP forward in float32
BIG = dict(N=64, T=20, D=512, H=512, V=1000)
MID = dict(N=16, T=12, D=96, H=112, V=150)
# large enough that the products and the recurrences run on the pool (above
# rs_par_min_flops), 8x cheaper than BIG
FORK = dict(N=40, T=10, D=256, H=256, V=500)


def _set_threads_fn():
    return rnnscratch.set_num_threads, rnnscratch.get_num_threads


def _arrays(r):
    if r is None:
        return []
    if isinstance(r, tuple):
        return [np.asarray(v) for v in r]
    return [np.asarray(r)]


def _reversed_view(v):
    """The same kind of argument in another layout: a view with axis 1 reversed."""
    if isinstance(v, np.ndarray) and v.ndim >= 2:
        return v[:, ::-1]
    return v


def workload(seed, size, dtype):
    """Every layer of the registry, each variant: two forwards (the second on reversed
    views: a stateful layer carries its state into it), then backward; returns the
    list of all arrays produced (results, gradients, state attributes)."""
    rng = np.random.default_rng(seed)
    sz = Sizes(**size)
    out = []
    for entry in REGISTRY:
        dt = dtype if dtype in entry.dtypes else entry.dtypes[0]
        for variant, opts in entry.variants.items():
            L = entry.make(entry.impls[0], dt, rng, sz, variant)
            inputs = entry.inputs(rng, sz, dt, **opts)
            out += _arrays(entry.forward(L, inputs))
            out += _arrays(entry.forward(L, [_reversed_view(v) for v in inputs]))
            out += _arrays(entry.backward(L, entry.douts(rng, sz, **opts)))
            out += [np.array(g, copy=True) for g in entry.grads(L)]
            out += [np.array(getattr(L, a), copy=True) for a in entry.state_attrs]
    return out


def assert_identical(got, want, what):
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want)):
        assert a.dtype == b.dtype and a.shape == b.shape, (what, i)
        assert a.tobytes() == b.tobytes(), "%s: array %d differs (max abs diff %g)" % (
            what, i, float(np.max(np.abs(a.astype(np.float64) - b))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_separate_layers_match_sequential(dtype):
    n_threads = 4
    seeds = list(range(n_threads))
    want = [workload(s, MID, dtype) for s in seeds]
    got = [None] * n_threads
    errors = []
    barrier = threading.Barrier(n_threads)

    def run(i):
        try:
            barrier.wait()
            for _ in range(2):  # twice, to overlap more
                got[i] = workload(seeds[i], MID, dtype)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "threads did not finish (deadlock?)"
    assert not errors, errors
    for i in range(n_threads):
        assert_identical(got[i], want[i], "thread %d" % i)


def test_threads_share_read_only_weights():
    """Threads that share the same (read-only) weight arrays with separate layers."""
    rng = np.random.default_rng(5)
    N, T, D, H = 8, 10, 64, 80
    Wx = (rng.standard_normal((D, H)) * 0.1).astype(np.float32)
    Wh = (rng.standard_normal((H, H)) * 0.1).astype(np.float32)
    Wx.flags.writeable = Wh.flags.writeable = False
    xs = [rng.standard_normal((N, T, D)).astype(np.float32) for _ in range(6)]
    want = [rnnscratch.TimeRNN(Wx, Wh).forward(x) for x in xs]
    got = [None] * len(xs)

    def run(i):
        for _ in range(20):
            got[i] = rnnscratch.TimeRNN(Wx, Wh).forward(xs[i])

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(xs))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=300)
    for g, w in zip(got, want):
        assert g.tobytes() == w.tobytes()


def _digest(arrays):
    import hashlib
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _child(q, seed):
    try:
        q.put(("ok", _digest(workload(seed, FORK, np.float32))))
    except BaseException as e:  # noqa: BLE001
        q.put(("error", repr(e)))


@pytest.mark.skipif(sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(),
                    reason="no fork on this platform")
def test_fork_child_computes_correctly_after_parent_used_kernels():
    # parent: threaded sizes first (the pool, if any, is started now)
    want = _digest(workload(0, FORK, np.float32))
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q, 0))
    p.start()
    p.join(timeout=240)
    if p.is_alive():
        p.kill()
        p.join()
        pytest.fail("the forked child hung (thread pool not fork-safe?)")
    assert p.exitcode == 0, "the forked child died with exit code %s" % p.exitcode
    status, value = q.get(timeout=10)
    assert status == "ok", value
    assert value == want, "the forked child computed different results"
    # and the parent still works after the fork
    assert _digest(workload(0, FORK, np.float32)) == want


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork")
def test_fork_child_of_a_busy_parent():
    """Fork while another thread of the parent is inside a kernel."""
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            workload(1, MID, np.float32)

    t = threading.Thread(target=busy)
    t.start()
    try:
        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()
        p = ctx.Process(target=_child_mid, args=(q,))
        p.start()
        p.join(timeout=240)
        if p.is_alive():
            p.kill()
            p.join()
            pytest.fail("the forked child hung")
        assert p.exitcode == 0
        status, value = q.get(timeout=10)
    finally:
        stop.set()
        t.join()
    assert status == "ok", value
    assert value == _digest(workload(2, MID, np.float32))


def _child_mid(q):
    try:
        q.put(("ok", _digest(workload(2, MID, np.float32))))
    except BaseException as e:  # noqa: BLE001
        q.put(("error", repr(e)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_vs_two_threads_bit_identical(dtype):
    set_n, get_n = _set_threads_fn()
    before = get_n()
    try:
        results = {}
        for n in (1, 2):
            set_n(n)
            assert get_n() == n
            results[n] = workload(3, BIG if dtype == np.float32 else MID, dtype)
    finally:
        set_n(before)
    assert_identical(results[2], results[1], "2 threads vs 1 thread")


def test_set_num_threads_rejects_nonsense():
    set_n, get_n = _set_threads_fn()
    before = get_n()
    try:
        set_n(3)
        for bad, exc, msg in ((0, ValueError, "n: expected a thread count from 1 to 64, got 0"),
                              (-1, ValueError, "got -1"), (65, ValueError, "got 65"),
                              (2**70, ValueError, "n: 1180591620717411303424 is out of range"),
                              ("2", TypeError, "n: expected an int, got str"),
                              (None, TypeError, "got NoneType"), (2.5, TypeError, "got float"),
                              (True, TypeError, "got bool")):
            with pytest.raises(exc, match=msg):
                set_n(bad)
            assert get_n() == 3
    finally:
        set_n(before)



@pytest.mark.parametrize("threads", [2, 3, 4, 8, 17])
def test_pool_jobs_of_different_sizes_back_to_back(threads):
    """Regression: a worker finishing one pool job could claim a task of the next
    job (published with more tasks) under the old job's claim word: that task ran
    twice (in time_rnn_backward, dWx rows added twice) and the caller could
    return while it still ran (a crash). _pool_selftest alternates jobs of 2 and
    2*threads+1 tasks and counts tasks run twice, never, or after their job."""
    before = _core.get_num_threads()
    try:
        _core.set_num_threads(threads)
        assert _core._pool_selftest(50000) == 0
    finally:
        _core.set_num_threads(before)


def test_pool_selftest_arguments():
    assert _core._pool_selftest(0) == 0
    with pytest.raises(ValueError, match="jobs: expected a count >= 0, got -1"):
        _core._pool_selftest(-1)
    with pytest.raises(TypeError, match="jobs: expected an int, got float"):
        _core._pool_selftest(1.0)
    with pytest.raises(ValueError, match="jobs: 1180591620717411303424 is out of range"):
        _core._pool_selftest(2**70)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_default_threads_follow_cpu_affinity():
    """The default thread count is the CPUs this process may use (taskset, a
    container's cpuset), not every CPU of the machine."""
    import subprocess
    cpu = min(os.sched_getaffinity(0))
    env = {k: v for k, v in os.environ.items()
           if k not in ("RNNSCRATCH_NUM_THREADS", "OMP_NUM_THREADS")}
    r = subprocess.run(
        [sys.executable, "-c",
         f"import os; os.sched_setaffinity(0, {{{cpu}}}); "
         "from rnnscratch import _core; print(_core.get_num_threads())"],
        env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1"
