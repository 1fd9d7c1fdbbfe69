"""No memory growth over many forward+backward calls, none after error paths (issue 7).

Three measures, after a warm-up:
* tracemalloc (Python objects and NumPy buffers; also PyMem_RawMalloc): traced bytes do not grow
  with the number of calls (a leaked array header per call shows up as N * ~100 bytes);
* the resident set size (/proc/self/statm) and the peak RSS (getrusage ru_maxrss) stay flat
  (catches plain malloc leaks in the kernels or the thread pool); POSIX only: where there is no
  `resource` module (Windows) the RSS is not measured, and test_rss_is_measured skips, saying so;
* sys.getrefcount of every argument is the same before and after (a missing Py_DECREF).
Inputs are compared byte for byte before and after.

Normal suite: several hundred calls per test, enough that a leak of one small
object (48 bytes) per call clears the floors below (seconds). Long mode:
RNNSCRATCH_MEMORY_ITERS=100000 runs that many forward+backward calls per layer.
"""
import functools
import gc
import os
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

from core_contract import CONTRACT, good_arguments
from registry import REGISTRY, Sizes, case_id, cases
from rnnscratch import _core

ITERS = int(os.environ.get("RNNSCRATCH_MEMORY_ITERS", "0") or 0) or 800
LONG = ITERS >= 20000
ERR_REPEAT = 150 if not LONG else 5000

_UNDER_TOOL = bool(os.environ.get("RNNSCRATCH_SANITIZER") or os.environ.get("RNNSCRATCH_VALGRIND"))
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resource():
    """The POSIX-only `resource` module, or None (Windows): imported here, not at
    module level, so that the suite collects everywhere."""
    try:
        import resource
    except ImportError:
        return None
    return resource


def rss_bytes():
    """The resident set size in bytes, or None where it is not measured."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:  # not Linux
        resource = _resource()
        return None if resource is None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss_bytes():
    """The peak resident set size in bytes, or None where it is not measured."""
    resource = _resource()
    if resource is None:
        return None
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def _growth(after, before):
    return None if after is None or before is None else after - before


@pytest.mark.parametrize("iters, per_step, floor", [
    (400, 1, 16 * 1024),           # core kernels, float64 layers
    (ITERS, 1, 16 * 1024),         # float32 layers
    (ERR_REPEAT, 6, 32 * 1024),    # class error paths: 6 bad calls per step
])
def test_the_counts_catch_a_small_leak(iters, per_step, floor):
    """The call counts above are sized so that one leaked 48-byte object per
    call fails assert_flat: the check itself, on a step that leaks that."""
    kept = []
    assert sys.getsizeof(bytes(15)) == 48

    def leaky():
        for _ in range(per_step):
            kept.append(bytes(15))  # one 48-byte object kept alive per call
    with pytest.raises(AssertionError, match="traced memory grew"):
        assert_flat("leaky", measure(leaky, iters, warmup=5), iters * per_step, floor=floor)
    assert len(kept) == (iters + 5 + 20) * per_step


def test_rss_is_measured():
    """The RSS half of the checks below needs `resource` (POSIX)."""
    if _resource() is None:
        pytest.skip("no `resource` module on this platform (Windows): the memory tests check "
                    "traced memory, reference counts and input bytes, not the RSS")
    r, p = rss_bytes(), peak_rss_bytes()
    assert isinstance(r, int) and r > 0 and isinstance(p, int) and p >= r // 2


def snapshot(a):
    a = np.asarray(a)
    return (a.dtype, a.shape, a.tobytes())


def measure(step, iters, warmup=200, traced=True):
    """Run step() warmup times, then iters times; return (traced growth, rss growth,
    peak rss growth) in bytes."""
    for _ in range(warmup):
        step()
    gc.collect()
    if traced:
        tracemalloc.start()
        for _ in range(20):
            step()
        gc.collect()
        t0 = tracemalloc.get_traced_memory()[0]
    r0, p0 = rss_bytes(), peak_rss_bytes()
    for _ in range(iters):
        step()
    gc.collect()
    t1 = tracemalloc.get_traced_memory()[0] if traced else 0
    if traced:
        tracemalloc.stop()
    return t1 - (t0 if traced else 0), _growth(rss_bytes(), r0), _growth(peak_rss_bytes(), p0)


def assert_flat(what, growth, iters, floor=16 * 1024):
    traced, rss, peak = growth
    # a leak of one small object per call would be >= 48 * iters bytes; below `floor`
    # are the bounded caches of CPython and NumPy
    assert traced < max(floor, 8 * iters), "%s: traced memory grew by %d bytes over %d calls" % (
        what, traced, iters)
    if _UNDER_TOOL:  # ASan/valgrind keep freed blocks in quarantine: RSS says nothing
        return
    if rss is None or peak is None:  # no RSS measure here (test_rss_is_measured says so)
        return
    # RSS is noisier (allocator arenas, page granularity): allow 4 MiB + 16 bytes per call
    limit = 4 * 2**20 + 16 * iters
    assert rss < limit, "%s: RSS grew by %d bytes over %d calls" % (what, rss, iters)
    assert peak < limit, "%s: peak RSS grew by %d bytes over %d calls" % (what, peak, iters)


def _w(rng, *shape, dtype=np.float64, scale=0.3):
    return (rng.standard_normal(shape) * scale).astype(dtype)


SZ = Sizes(N=3, T=5, D=4, H=6, V=7)
COMPILED_CASES = cases()  # (entry, variant, dtype) of every registry entry


def _fortran(v):
    """A layout that needs conversion."""
    if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.ndim >= 2:
        return np.asfortranarray(v)
    return v


def _layer_case(entry, variant, dtype, rng):
    """(step, arrays whose reference counts and bytes must not change): forward+backward
    of the compiled layer on fixed arguments."""
    opts = entry.variants[variant]
    L = entry.make(entry.impls[0], dtype, rng, SZ, variant)
    inputs = [_fortran(v) for v in entry.inputs(rng, SZ, dtype, **opts)]
    douts = entry.douts(rng, SZ, **opts)

    def step():
        entry.forward(L, inputs)
        entry.backward(L, douts)

    arrays = [v for v in inputs + douts if isinstance(v, np.ndarray)]
    return step, arrays, L


@pytest.mark.parametrize("entry,variant,dtype", COMPILED_CASES,
                         ids=[case_id(*c) for c in COMPILED_CASES])
def test_forward_backward_no_growth(entry, variant, dtype):
    rng = np.random.default_rng(1)
    step, inputs, layer = _layer_case(entry, variant, dtype, rng)
    name = case_id(entry, variant, dtype)
    step()  # the layers' caches hold references to the last inputs: count after one call
    gc.collect()
    params = [p for p in getattr(layer, "params", []) if isinstance(p, np.ndarray)]
    refs = [sys.getrefcount(a) for a in inputs + params]
    snaps = [snapshot(a) for a in inputs]
    # float64 at half the calls: 400 x 48 bytes (19 KB) still clears the 16 KiB floor
    iters = ITERS if np.dtype(dtype) == np.float32 or LONG else ITERS // 2
    growth = measure(step, iters, traced=not LONG)
    assert_flat(name, growth, iters)
    gc.collect()
    assert [sys.getrefcount(a) for a in inputs + params] == refs, \
        "%s: reference counts changed" % name
    assert [snapshot(a) for a in inputs] == snaps, "%s: an input was modified" % name


def _core_calls(rng):
    """(name, step, inputs) for every function of the contract that computes (kernels and
    the in-place update), on good arguments of mixed layouts and dtypes, by keyword."""
    out = []
    for i, fn in enumerate(CONTRACT):
        if fn.kind == "control":
            continue
        kw = good_arguments(fn, rng, dict(N=3, T=4, D=5, H=6, V=7, M=5, K=9, S=8), mixed=True)
        for a in fn.args:  # the other paths: activations, accumulate, None for optionals
            if a.name == "activation":
                kw[a.name] = ("relu", "sigmoid", "tanh")[i % 3]
            elif a.name == "accumulate":
                kw[a.name] = True
            elif a.optional and i % 2:
                kw[a.name] = None
        f = getattr(_core, fn.name)
        inputs = [kw[a.name] for a in fn.args
                  if a.role not in ("S", "O", "R") and isinstance(kw[a.name], np.ndarray)]
        out.append((fn.name, functools.partial(f, **kw), inputs))
    return out


def test_core_kernels_no_growth():
    rng = np.random.default_rng(2)
    calls = _core_calls(rng)
    assert {n for n, _, _ in calls} == {f.name for f in CONTRACT if f.kind != "control"}
    for name, step, inputs in calls:
        refs = [sys.getrefcount(a) for a in inputs]
        snaps = [snapshot(a) for a in inputs]
        iters = max(400, ITERS // 3)  # 400 x 48 bytes clears the 16 KiB floor
        assert_flat(name, measure(step, iters, warmup=50, traced=not LONG), iters)
        assert [sys.getrefcount(a) for a in inputs] == refs, name
        assert [snapshot(a) for a in inputs] == snaps, name


# --------------------------------------------------------------------------
# error paths: every kind of bad input, repeated
# --------------------------------------------------------------------------

class _Boom:
    def __array__(self, dtype=None, copy=None):
        raise ValueError("conversion refused")


def _bad_calls(rng):
    """(label, callable) pairs that must raise, covering each failure point of prepare_args
    and of the functions around it."""
    N, T, D, H, V = 2, 3, 4, 5, 6
    Wx, Wh, b = _w(rng, D, H), _w(rng, H, H), _w(rng, H)
    x, h = _w(rng, N, D), _w(rng, N, H)
    xs, hs = _w(rng, N, T, D), _w(rng, N, T, H)
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    ro = np.zeros((D, H))
    ro.flags.writeable = False
    ids = rng.integers(0, V, size=(N, T))
    bad_ids = ids.copy()
    bad_ids[1, 2] = V
    W = _w(rng, V, D)
    logits = _w(rng, N, T, V)
    c = _core
    keep = [Wx, Wh, b, x, h, xs, hs, dWx, dWh, db, ro, ids, bad_ids, W, logits]
    calls = [
        ("activation", lambda: c.rnn_forward(x, h, Wx, Wh, b, "gelu")),
        ("activation type", lambda: c.time_rnn_forward(xs, h, Wx, Wh, b, 3)),
        ("missing arg", lambda: c.rnn_forward(x, h, Wx)),
        ("None required", lambda: c.rnn_forward(None, h, Wx, Wh)),
        ("ragged list", lambda: c.rnn_forward([[1, 2], [3]], h, Wx, Wh)),
        ("__array__ raises", lambda: c.rnn_forward(_Boom(), h, Wx, Wh)),
        ("complex", lambda: c.rnn_forward(x.astype(complex), h, Wx, Wh)),
        ("object", lambda: c.time_rnn_forward(xs.astype(object), None, Wx, Wh)),
        ("string", lambda: c.rnn_forward(np.array(["a"]), h, Wx, Wh)),
        ("ndim", lambda: c.rnn_forward(xs, h, Wx, Wh, b)),
        ("shape late arg", lambda: c.time_rnn_forward(xs, h[:1], Wx, Wh, b)),
        ("bias shape", lambda: c.rnn_forward(x, h, Wx, Wh, b[:2])),
        ("grad readonly", lambda: c.rnn_backward(h, x, h, h, Wx, Wh, ro, dWh, db)),
        ("grad int", lambda: c.rnn_backward(h, x, h, h, Wx, Wh, dWx.astype(int), dWh, db)),
        ("grad list", lambda: c.rnn_backward(h, x, h, h, Wx, Wh, dWx.tolist(), dWh, db)),
        ("grad overlap", lambda: c.rnn_backward(h, x, h, h, Wx, Wh, dWx, dWh, dWh[0])),
        ("grad shape", lambda: c.time_rnn_backward(hs, xs, None, hs, Wx, Wh, dWx, dWh, db[:1])),
        ("last arg shape", lambda: c.time_rnn_backward(hs[:, :1], xs, None, hs, Wx, Wh, dWx,
                                                       dWh, db)),
        ("accumulate", lambda: c.rnn_backward(h, x, h, h, Wx, Wh, dWx, dWh, db,
                                              accumulate=np.ones(2))),
        ("ids dtype", lambda: c.embedding_forward(ids.astype(float), W)),
        ("ids range", lambda: c.embedding_forward(bad_ids, W)),
        ("ids range backward", lambda: c.embedding_backward(xs, bad_ids, W, np.zeros_like(W))),
        ("labels range", lambda: c.softmax_cross_entropy_forward(logits, bad_ids + 1)),
        ("ignore_label type", lambda: c.softmax_cross_entropy_forward(logits, ids, "x")),
        ("dout type", lambda: c.softmax_cross_entropy_backward(logits, ids, "x")),
        ("affine shape", lambda: c.time_affine_forward(xs, W)),
        ("affine grad", lambda: c.time_affine_backward(logits, xs, W.T, np.zeros(3), None)),
        ("unknown keyword", lambda: c.rnn_forward(x, h, Wx, Wh, bogus=1)),
        ("simd path", lambda: c.set_simd_path("sse9")),
    ]
    return calls, keep


def test_error_paths_no_growth_and_refcounts():
    rng = np.random.default_rng(3)
    calls, keep = _bad_calls(rng)
    refs = [sys.getrefcount(a) for a in keep]
    snaps = [snapshot(a) for a in keep]

    def all_errors():
        for label, call in calls:
            try:
                call()
            except (ValueError, TypeError, MemoryError, OverflowError) as e:
                assert str(e), label
            else:
                pytest.fail("%s: no exception" % label)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        growth = measure(all_errors, ERR_REPEAT, warmup=20, traced=not LONG)
    assert_flat("error paths", growth, ERR_REPEAT * len(calls))
    gc.collect()
    assert [sys.getrefcount(a) for a in keep] == refs, "reference counts changed on error paths"
    assert [snapshot(a) for a in keep] == snaps, "an input or gradient changed on an error path"


@pytest.mark.parametrize("entry,variant", [(e, v) for e in REGISTRY for v in e.variants],
                         ids=[case_id(e, v) for e in REGISTRY for v in e.variants])
def test_class_error_paths_no_growth(entry, variant):
    """Bad calls on the layer classes (a fresh layer each time, every forward argument
    bad), interleaved with good ones."""
    rng = np.random.default_rng(4)
    dtype = entry.dtypes[0]
    good, inputs, _ = _layer_case(entry, variant, dtype, rng)
    # a 4-d array is a bad input, except for a layer that takes any shape (TimeDropout):
    # there a 4-d array of strings
    bad_nd = np.full((2, 2, 2, 2), "a") if entry.any_shape else np.zeros((2, 2, 2, 2))
    bad_inputs = [None, "x", [[1, 2], [3]], bad_nd, np.zeros((1, 1), complex), _Boom()]
    n_args = len(entry.fwd_args(entry.variants[variant]))

    def layer_obj(a):
        layer = entry.make(entry.impls[0], dtype, np.random.default_rng(5), SZ, variant)
        return entry.forward(layer, [a] * n_args)

    good()
    gc.collect()
    refs = [sys.getrefcount(a) for a in inputs]

    def step():
        good()
        for a in bad_inputs:
            try:
                layer_obj(a)
            except (ValueError, TypeError, IndexError) as e:
                assert str(e)
            else:
                pytest.fail("%s.forward accepted %r" % (entry.id, a))

    # Error messages that format a dtype keep up to ~20 KB of strings alive in
    # CPython/NumPy however many calls follow (measured: the same ~200 blocks after
    # 400 or 1600 steps), so the floor is 32 KiB here, with enough calls (6 bad ones
    # per step, 150 steps) that a 48-byte leak per call (43 KB) still shows.
    iters = ERR_REPEAT
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_flat(case_id(entry, variant) + " errors",
                    measure(step, iters, warmup=20, traced=not LONG), iters * len(bad_inputs),
                    floor=32 * 1024)
    gc.collect()
    assert [sys.getrefcount(a) for a in inputs] == refs
