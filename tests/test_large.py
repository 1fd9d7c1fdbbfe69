"""Large and awkward sizes (issue 7).

* Inputs of 2**31+ logical elements, made with np.broadcast_to / as_strided with
  zero strides (no memory behind them), are either computed or rejected with
  MemoryError / ValueError: never a crash, never a wrapped-around index. Run in a
  subprocess under resource.setrlimit(RLIMIT_AS) so that every huge allocation
  fails for sure and MemoryError is what comes back.
* A real computation with an index beyond 2**31 that touches almost no memory:
  an embedding table of 2**31+5 rows allocated with np.zeros (calloc: untouched
  pages cost nothing), reading and scatter-adding row 2**31+4.
* Empty arrays with huge logical dimensions (0 elements) must finish at once.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_UNDER_TOOL = bool(os.environ.get("RNNSCRATCH_SANITIZER")) or "asan" in os.environ.get(
    "LD_PRELOAD", "") or "valgrind" in os.environ.get("LD_PRELOAD", "")
needs_rlimit = pytest.mark.skipif(
    sys.platform != "linux" or _UNDER_TOOL,
    reason="RLIMIT_AS needs Linux and no sanitizer (ASan reserves terabytes of shadow memory)")


def run_child(code, timeout=120, limit_gb=None):
    """Run `code` in a fresh interpreter (optionally under RLIMIT_AS = current + limit_gb);
    return (returncode, stdout, stderr). A timeout is returned as returncode None."""
    prelude = textwrap.dedent("""
        import json, os, resource, sys
        import numpy as np
        import rnnscratch
        from rnnscratch import _core
        from numpy.lib.stride_tricks import as_strided
        broadcast_to = np.broadcast_to
        LIMIT_GB = %r
        if LIMIT_GB:
            with open('/proc/self/status') as f:
                vm = [int(l.split()[1]) * 1024 for l in f if l.startswith('VmSize')][0]
            lim = vm + int(LIMIT_GB * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        def zeros(shape, dtype=np.float32):
            return broadcast_to(np.zeros((), dtype), shape)
        def outcome(f):
            try:
                r = f()
                return 'ok', None
            except BaseException as e:
                return type(e).__name__, str(e)[:300]
    """) % (limit_gb,)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        p = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                           capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or "", e.stderr or ""
    return p.returncode, p.stdout, p.stderr


BIG = 2**31 + 3  # more elements than int32 can count

# (label, expression) evaluated in the child; each needs > 2**31 elements somewhere
HUGE_CASES = [
    ("time_rnn_forward xs (2^31+3 steps)",
     "_core.time_rnn_forward(zeros((1, BIG, 2)), None, np.zeros((2, 3), 'f'), np.zeros((3, 3), 'f'))"),
    ("time_rnn_forward batch 2^16 x 2^16",
     "_core.time_rnn_forward(zeros((2**16, 2**16, 1)), None, np.zeros((1, 1), 'f'), np.zeros((1, 1), 'f'))"),
    ("time_rnn_forward output 2^32 (D=0)",
     "_core.time_rnn_forward(np.zeros((2**16, 2**15, 0), 'f'), None, np.zeros((0, 2), 'f'), np.zeros((2, 2), 'f'))"),
    ("rnn_forward x rows 2^31+3",
     "_core.rnn_forward(zeros((BIG, 1)), None, np.zeros((1, 2)), np.zeros((2, 2)))"),
    ("rnn_forward Wx 2^31+3 columns",
     "_core.rnn_forward(np.zeros((1, 1)), None, zeros((1, BIG)), zeros((BIG, BIG)))"),
    ("rnn_backward broadcast everything",
     "_core.rnn_backward(zeros((BIG, 2)), zeros((BIG, 1)), None, zeros((BIG, 2)), np.zeros((1, 2)), "
     "np.zeros((2, 2)), np.zeros((1, 2)), np.zeros((2, 2)))"),
    ("time_rnn_backward broadcast",
     "_core.time_rnn_backward(zeros((2, BIG, 1)), zeros((2, BIG, 1)), None, zeros((2, BIG, 1)), "
     "np.zeros((1, 1), 'f'), np.zeros((1, 1), 'f'), np.zeros((1, 1), 'f'), np.zeros((1, 1), 'f'))"),
    ("time_rnn_backward work 2*N*T*H",
     "_core.time_rnn_backward(zeros((2**12, 2**12, 2**8), np.float16), np.zeros((2**12, 2**12, 0), 'f'), None, "
     "zeros((2**12, 2**12, 2**8), np.float16), np.zeros((0, 2**8), 'f'), np.zeros((2**8, 2**8), 'f'), "
     "np.zeros((0, 2**8), 'f'), np.zeros((2**8, 2**8), 'f'))"),
    ("embedding_forward ids 2^31+3",
     "_core.embedding_forward(zeros((BIG, 1), np.int64), np.zeros((3, 2)))"),
    ("embedding_forward output 2^33",
     "_core.embedding_forward(zeros((2**16, 2**16), np.int8), np.zeros((1, 2), 'f'))"),
    ("embedding_backward dout broadcast",
     "_core.embedding_backward(zeros((1, BIG, 1)), zeros((1, BIG), np.int32), np.zeros((1, 1)), np.zeros((1, 1)))"),
    ("time_affine_forward x broadcast",
     "_core.time_affine_forward(zeros((2**16, 2**16, 1)), np.zeros((1, 1)), None)"),
    ("time_affine_forward output 2^32",
     "_core.time_affine_forward(np.zeros((1, 1, 1), 'f'), zeros((1, 2**32)), None)"),
    ("time_affine_backward broadcast",
     "_core.time_affine_backward(zeros((1, BIG, 1)), zeros((1, BIG, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1))"),
    ("softmax forward xs broadcast",
     "_core.softmax_cross_entropy_forward(zeros((1, BIG, 2)), zeros((1, BIG), np.int16))"),
    ("softmax forward V = 2^31+3",
     "_core.softmax_cross_entropy_forward(zeros((1, 1, BIG)), np.zeros((1, 1), int))"),
    ("softmax backward broadcast",
     "_core.softmax_cross_entropy_backward(zeros((2**16, 2**16, 1)), zeros((2**16, 2**16), np.uint8))"),
    ("TimeRNN class",
     "rnnscratch.TimeRNN(np.zeros((1, 2), 'f'), np.zeros((2, 2), 'f')).forward(zeros((2**16, 2**16, 1)))"),
    ("TimeEmbedding class",
     "rnnscratch.TimeEmbedding(np.zeros((4, 2), 'f')).forward(zeros((2**16, 2**16), np.int64))"),
    ("SimpleRnnlm class",
     "rnnscratch.SimpleRnnlm(5, 2, 2).forward(zeros((2**16, 2**16), np.int64), zeros((2**16, 2**16), np.int64))"),
]


@needs_rlimit
def test_huge_logical_sizes_raise_memory_or_value_error():
    code = "BIG = %d\ncases = %r\n" % (BIG, HUGE_CASES) + textwrap.dedent("""
        for label, expr in cases:
            kind, msg = outcome(lambda: eval(expr))
            print(json.dumps([label, kind, msg]), flush=True)
        print(json.dumps(['done', 'ok', None]))
    """)
    rc, out, err = run_child(code, timeout=300, limit_gb=1.5)
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("[")]
    assert rc == 0 and lines and lines[-1][0] == "done", (
        "child crashed or hung (rc=%s) after %s\n%s" % (rc, lines[-1:] if lines else None,
                                                         err[-3000:]))
    bad = [(label, kind, msg) for label, kind, msg in lines[:-1]
           if kind not in ("MemoryError", "ValueError") or not msg]
    assert not bad, "expected MemoryError/ValueError with a message:\n" + "\n".join(map(str, bad))


@needs_rlimit
def test_allocation_failure_is_memory_error():
    """Valid arguments whose outputs cannot be allocated: MemoryError, not a crash; afterwards
    the same process computes normally."""
    code = textwrap.dedent("""
        xs = np.zeros((2**13, 2**13, 0), 'f')           # empty input
        Wx, Wh = np.zeros((0, 64), 'f'), np.zeros((64, 64), 'f')
        res = []
        # hs (N,T,H) = 2**32 floats = 16 GiB
        res.append(outcome(lambda: _core.time_rnn_forward(xs, None, Wx, Wh)))
        # the backward workspace / dxs
        hs = broadcast_to(np.zeros((), 'f'), (2**13, 2**13, 64))
        res.append(outcome(lambda: _core.time_rnn_backward(hs, xs, None, hs, Wx, Wh,
                                                           np.zeros((0, 64), 'f'), np.zeros((64, 64), 'f'))))
        # the softmax output (N,T,V)
        res.append(outcome(lambda: _core.time_affine_forward(np.zeros((2**12, 2**12, 0)), np.zeros((0, 2**9)))))
        # and a normal call still works
        r = _core.time_rnn_forward(np.ones((2, 3, 4)), None, np.ones((4, 5)) * .1, np.eye(5) * .1)
        res.append(('ok', float(r.sum())))
        print(json.dumps(res))
    """)
    rc, out, err = run_child(code, timeout=120, limit_gb=1.0)
    assert rc == 0, err[-3000:]
    res = json.loads(out.strip().splitlines()[-1])
    assert [k for k, _ in res[:-1]] == ["MemoryError"] * 3, res
    assert all(m for _, m in res[:-1]), res
    assert res[-1][0] == "ok"


@needs_rlimit
def test_memory_error_inside_array_conversion_stays_memory_error():
    """An __array__ that raises MemoryError (what a failed allocation during conversion looks
    like) must come out as MemoryError, not be turned into a TypeError."""
    code = textwrap.dedent("""
        class M:
            def __array__(self, dtype=None, copy=None):
                raise MemoryError('Unable to allocate 1 TiB')
        print(json.dumps(outcome(lambda: _core.rnn_forward(M(), None, np.zeros((2, 2)), np.zeros((2, 2))))))
    """)
    rc, out, err = run_child(code, timeout=60)
    assert rc == 0, err
    kind, msg = json.loads(out.strip().splitlines()[-1])
    assert kind == "MemoryError"


def _big_calloc_ok():
    if sys.platform != "linux" or _UNDER_TOOL:
        return False
    try:
        with open("/proc/meminfo") as f:
            info = {l.split(":")[0]: int(l.split()[1]) for l in f}
        return info.get("MemAvailable", 0) > 1.5 * 2**20  # > 1.5 GiB free (KiB units)
    except OSError:
        return False


@pytest.mark.skipif(not _big_calloc_ok(), reason="needs Linux, 1.5 GiB free, no sanitizer")
@pytest.mark.parametrize("id_dtype", [np.int64, np.uint64])
def test_embedding_row_beyond_int32(id_dtype):
    """A table of 2**31+5 rows (8 GiB of calloc'ed address space, a few pages touched):
    row 2**31+4 is read and scatter-added at the right place, in a subprocess."""
    code = textwrap.dedent("""
        V = 2**31 + 5
        W = np.zeros((V, 1), np.float32)     # calloc: untouched pages are free
        W[V - 1, 0] = 7.0
        W[3, 0] = -1.0
        ids = np.array([[V - 1, 3, V - 1]], dtype=np.%s)
        out = _core.embedding_forward(ids, W)
        dW = np.zeros((V, 1), np.float32)
        _core.embedding_backward(np.full((1, 3, 1), 2.0, np.float32), ids, W, dW, accumulate=True)
        print(json.dumps([out.ravel().tolist(), float(dW[V - 1, 0]), float(dW[3, 0]),
                          float(dW[(V - 1) %% 2**31, 0]), float(dW[(V - 1) %% 2**31 + 1, 0])]))
    """ % np.dtype(id_dtype).name)
    rc, out, err = run_child(code, timeout=120)
    assert rc == 0, err[-3000:]
    vals, d_last, d3, d_wrap31, total = json.loads(out.strip().splitlines()[-1])
    assert vals == [7.0, -1.0, 7.0]
    assert (d_last, d3, d_wrap31, total) == (4.0, 2.0, 0.0, 0.0)


# empty arrays whose other dimensions are huge: 0 elements, nothing to compute
EMPTY_HUGE = [
    ("time_rnn_forward T=2^56, D=H=0",
     "_core.time_rnn_forward(np.empty((1, 2**56, 0), 'f'), None, np.empty((0, 0), 'f'), np.empty((0, 0), 'f'))"),
    ("time_rnn_backward T=2^56, D=H=0",
     "_core.time_rnn_backward(np.empty((1, 2**56, 0), 'f'), np.empty((1, 2**56, 0), 'f'), None, "
     "np.empty((1, 2**56, 0), 'f'), np.empty((0, 0), 'f'), np.empty((0, 0), 'f'), np.empty((0, 0), 'f'), np.empty((0, 0), 'f'))"),
    ("time_affine_forward N*T=2^56, D=V=0",
     "_core.time_affine_forward(np.empty((2**28, 2**28, 0), 'f'), np.empty((0, 0), 'f'), np.empty(0, 'f'))"),
    ("time_affine_backward N*T=2^56, D=V=0",
     "_core.time_affine_backward(np.empty((2**28, 2**28, 0), 'f'), np.empty((2**28, 2**28, 0), 'f'), "
     "np.empty((0, 0), 'f'), np.empty((0, 0), 'f'), np.empty(0, 'f'))"),
]


@pytest.mark.skipif(_UNDER_TOOL, reason="timing-based")
@pytest.mark.parametrize("label,expr", EMPTY_HUGE)
def test_empty_arrays_with_huge_dims_finish(label, expr):
    rc, out, err = run_child("print(json.dumps(outcome(lambda: %s)))" % expr, timeout=5)
    assert rc is not None, "%s did not finish in 5 s" % label
    assert rc == 0, err[-2000:]
    kind, msg = json.loads(out.strip().splitlines()[-1])
    assert kind in ("ok", "MemoryError", "ValueError"), (kind, msg)
