"""Reproducers of an adversarial probe of the _core glue (issue 12).

Python code that runs while a call is checking its arguments (an ndarray
subclass's __array_finalize__, a NumPy function replaced by the caller) must
not make a kernel touch memory outside the arrays it was handed: each call
below either computes the right numbers or raises a clean exception, never a
signal. Empty work returns at once; scalar arguments are named in their
errors; a write-back cannot leave gradients half-updated.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rnnscratch import _core


class _Armed:
    on = False

    def __enter__(self):
        _Armed.on = True

    def __exit__(self, *exc):
        _Armed.on = False


armed = _Armed()


def _victim_mutator(victims):
    """An ndarray subclass whose __array_finalize__ reshapes the victims
    (only inside `with armed:`)."""

    class Evil(np.ndarray):
        def __array_finalize__(self, obj):
            if not _Armed.on:
                return
            for v in victims:
                try:  # same bytes, other dtype: a float32 (.., 2k) becomes float64 (.., k)
                    v.dtype = np.float64 if v.dtype == np.float32 else np.float32
                except (AttributeError, ValueError):
                    pass

    return Evil


def _evil(a, cls):
    # int dtype and Fortran order, so that every conversion must copy
    return np.asfortranarray(a.astype(np.int64)).view(cls)


def _outcome(fn):
    """Run fn with the mutator armed: its result, or the clean exception."""
    try:
        with armed:
            return fn(), None
    except (ValueError, TypeError) as e:
        return None, e


def test_array_finalize_retyping_checked_arguments_time_rnn_forward():
    # Wx converts first (an int64 Fortran-order subclass: a copy, so its
    # __array_finalize__ runs); xs, checked as float32 (N,T,D), would then be
    # a float64 (N,T,D/2) view, half the elements the kernel reads
    rng = np.random.default_rng(0)
    N, T, D, H = 64, 32, 256, 8
    xs = rng.standard_normal((N, T, D)).astype(np.float32)
    Wh = rng.standard_normal((H, H))
    Evil = _victim_mutator([xs])
    Wx = _evil(rng.integers(-2, 3, (D, H)), Evil)
    expected = _core.time_rnn_forward(xs, None, np.asarray(Wx), Wh)
    hs, err = _outcome(lambda: _core.time_rnn_forward(xs, None, Wx, Wh))
    if err is None:  # computed from the arrays as they were checked
        np.testing.assert_allclose(hs, expected, rtol=1e-12)


def test_array_finalize_retyping_checked_arguments_time_rnn_backward():
    # dWx, checked as float32 (D,H), would be a float64 (D,H/2) buffer the
    # kernel writes D*H elements into
    rng = np.random.default_rng(1)
    N, T, D, H = 4, 3, 512, 256
    Wh = rng.standard_normal((H, H)) / H
    xs = rng.standard_normal((N, T, D))
    Wx_ = rng.integers(-1, 2, (D, H))
    hs = _core.time_rnn_forward(xs, None, Wx_, Wh)
    dhs = rng.standard_normal((N, T, H))
    dWx, dWh = np.zeros((D, H), np.float32), np.zeros((H, H), np.float32)
    Evil = _victim_mutator([dWx, dWh])
    Wx = _evil(Wx_, Evil)
    for _ in range(3):
        _outcome(lambda: _core.time_rnn_backward(dhs, xs, None, hs, Wx, Wh, dWx, dWh))
    ref = np.zeros((D, H)), np.zeros((H, H))
    _core.time_rnn_backward(dhs, xs, None, hs, Wx_, Wh, *ref)
    if dWx.dtype == np.float32:
        np.testing.assert_allclose(dWx, ref[0], rtol=1e-5, atol=1e-5)


def test_array_finalize_reshaping_matmul_operands():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((40, 3))
    b_src = rng.standard_normal((3, 50))
    Evil = _victim_mutator([a])
    b = _evil(np.round(b_src * 4), Evil)
    expected = a.copy() @ np.asarray(b, dtype=np.float64)
    a0 = a.copy()
    for packed in (False, True):
        c, err = _outcome(lambda: _core.matmul(a, b, packed=packed))
        if err is None:  # the product of the operands as they were checked
            np.testing.assert_allclose(c, a0 @ np.asarray(b, dtype=np.float64), rtol=1e-12)


def test_array_finalize_reshaping_embedding_backward():
    rng = np.random.default_rng(3)
    N, T, V, D = 2, 3, 5, 4
    W = rng.standard_normal((V, D))
    ids = rng.integers(0, V, (N, T))
    dout = rng.standard_normal((N, T, D))
    dW = np.zeros((V, D))
    Evil = _victim_mutator([dW, W])
    xs = _evil(ids, Evil)
    _outcome(lambda: _core.embedding_backward(dout, xs, W, dW))
    # the victims are back in shape after an even number of flips, or not;
    # either way the call above did not write outside dW


def test_replaced_numpy_function_is_not_called(monkeypatch):
    """Overlapping gradient buffers make the glue ask whether two arrays share
    memory: it uses NumPy's C function taken at import, not np.shares_memory
    looked up at call time (which a caller can replace)."""
    rng = np.random.default_rng(4)
    N, D, H = 2, 3, 4
    Wx, Wh = rng.standard_normal((D, H)), rng.standard_normal((H, H))
    x, h_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    h_next = _core.rnn_forward(x, h_prev, Wx, Wh)
    calls = []

    def replaced(*args, **kwargs):
        calls.append(args)
        x.shape = x.shape[::-1]
        return False

    monkeypatch.setattr(np, "shares_memory", replaced)
    buf = np.zeros(2 * D * H)
    dWx = buf[0::2].reshape(D, H)  # interleaved: byte ranges overlap, no element shared
    dWh_big = np.zeros((H, 2 * H))
    dWh = dWh_big[:, :H]
    dWx2 = buf[1::2].reshape(D, H)
    dx, dh_prev = _core.rnn_backward(np.ones((N, H)), x, h_prev, h_next, Wx, Wh, dWx, dWh)
    assert calls == []
    assert x.shape == (N, D)
    ref_dWx, ref_dWh = np.zeros((D, H)), np.zeros((H, H))
    _core.rnn_backward(np.ones((N, H)), x, h_prev, h_next, Wx, Wh, ref_dWx, ref_dWh)
    np.testing.assert_array_equal(dWx, ref_dWx)
    assert not dWx2.any()


def test_matmul_empty_result_with_huge_dimension_returns_at_once():
    # (0,0)·(0,2**40) is empty work: before the fix it looped over 2**40
    # columns with the GIL released. A subprocess with a generous limit turns
    # a hang into a failure (no timing is asserted).
    code = textwrap.dedent("""
        import numpy as np
        from rnnscratch import _core
        for packed in (False, True):
            c = _core.matmul(np.empty((0, 0)), np.empty((0, 2**40)), packed=packed)
            assert c.shape == (0, 2**40), c.shape
            c = _core.matmul(np.empty((2**40, 0)), np.empty((0, 0)), packed=packed)
            assert c.shape == (2**40, 0), c.shape
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=_repo_root())
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def _repo_root():
    import os
    import rnnscratch
    return os.path.dirname(os.path.dirname(os.path.abspath(rnnscratch.__file__)))


@pytest.mark.parametrize("bad, exc, msg", [
    (2**63, ValueError, r"ignore_label: 9223372036854775808 is out of range"),
    (-2**70, ValueError, r"ignore_label: .* is out of range"),
    (1.5, TypeError, r"ignore_label: expected an int, got float"),
    ("x", TypeError, r"ignore_label: expected an int, got str"),
    (True, TypeError, r"ignore_label: expected an int, got bool"),
])
def test_ignore_label_errors_name_it(bad, exc, msg):
    xs = np.zeros((1, 2, 3))
    ts = np.zeros((1, 2), dtype=np.int64)
    W = np.zeros((4, 3))
    x = np.zeros((1, 2, 4))
    with pytest.raises(exc, match=msg):
        _core.softmax_cross_entropy_forward(xs, ts, ignore_label=bad)
    with pytest.raises(exc, match=msg):
        _core.softmax_cross_entropy_backward(xs, ts, ignore_label=bad)
    with pytest.raises(exc, match=msg):
        _core.affine_softmax_cross_entropy(x, W, ts, ignore_label=bad)
    with pytest.raises(exc, match=msg):
        _core.tied_affine_softmax_cross_entropy(x, W.T, ts, ignore_label=bad)


def test_ignore_label_accepts_integer_scalars():
    xs = np.zeros((1, 2, 3))
    ts = np.array([[0, 7]])
    loss, ys = _core.softmax_cross_entropy_forward(xs, ts, ignore_label=np.int64(7))
    assert np.isclose(loss, np.log(3))


@pytest.mark.parametrize("bad", [None, "0.5", [0.5], object()])
def test_float_argument_errors_name_it(bad):
    """A float argument that is no real number: a TypeError naming it (PyArg's "d"
    said only "must be real number"); nothing is written."""
    kind = type(bad).__name__
    ys = np.full((1, 2, 3), 1 / 3)
    ts = np.zeros((1, 2), dtype=np.int64)
    with pytest.raises(TypeError, match=r"^dout: expected a real number, got %s$" % kind):
        _core.softmax_cross_entropy_backward(ys, ts, dout=bad)
    p, g, m, v = (np.ones(3) for _ in range(4))
    with pytest.raises(TypeError, match=r"^lr: expected a real number, got %s$" % kind):
        _core.sgd_update(p, g, bad)
    for i, name in enumerate(("c1", "c2", "lr_t")):
        scalars = [0.1, 0.1, 0.1]
        scalars[i] = bad
        with pytest.raises(TypeError, match=r"^%s: expected a real number, got %s$" % (name, kind)):
            _core.adam_update(p, g, m, v, *scalars)
    assert (p == 1).all() and (m == 1).all() and (v == 1).all()


def test_float_argument_other_errors_pass_through():
    """OverflowError (an int too large for a float) is not turned into a TypeError."""
    with pytest.raises(OverflowError):
        _core.sgd_update(np.ones(3), np.ones(3), 10 ** 400)


class _NoArithmetic(np.ndarray):
    """A gradient array whose own arithmetic raises: the write-back must not
    depend on it (it works on base-class views)."""

    def __iadd__(self, other):
        raise RuntimeError("no in-place add")

    def __add__(self, other):
        raise RuntimeError("no add")

    def __array_ufunc__(self, *args, **kwargs):
        raise RuntimeError("no ufuncs")


def test_accumulate_write_back_is_all_or_nothing_and_ignores_subclass_arithmetic():
    rng = np.random.default_rng(5)
    N, T, D, H = 2, 3, 4, 5
    Wx = rng.standard_normal((D, H)).astype(np.float32)
    Wh = rng.standard_normal((H, H)).astype(np.float32)
    b = np.zeros(H, np.float32)
    xs = rng.standard_normal((N, T, D)).astype(np.float32)
    hs = _core.time_rnn_forward(xs, None, Wx, Wh, b)
    dhs = rng.standard_normal((N, T, H)).astype(np.float32)
    start = [rng.standard_normal(s) for s in [(D, H), (H, H), (H,)]]
    grads = [s.copy().view(_NoArithmetic) for s in start]  # float64: the add-back path
    _core.time_rnn_backward(dhs, xs, None, hs, Wx, Wh, *grads, accumulate=True)
    fresh = [np.zeros(s.shape) for s in start]
    _core.time_rnn_backward(dhs, xs, None, hs, Wx, Wh, *fresh)
    for g, s, f in zip(grads, start, fresh):
        np.testing.assert_array_equal(np.asarray(g), s + f)


def test_failed_call_before_the_kernel_changes_no_gradient():
    # the third gradient is read-only: the first two must stay as they were
    rng = np.random.default_rng(6)
    N, D, H = 2, 3, 4
    Wx, Wh = rng.standard_normal((D, H)), rng.standard_normal((H, H))
    x = rng.standard_normal((N, D))
    h = _core.rnn_forward(x, None, Wx, Wh)
    dWx, dWh, db = np.ones((D, H)), np.ones((H, H)), np.ones(H)
    db.flags.writeable = False
    for acc in (False, True):
        with pytest.raises(ValueError, match="db: the gradient array is read-only"):
            _core.rnn_backward(np.ones((N, H)), x, None, h, Wx, Wh, dWx, dWh, db,
                               accumulate=acc)
        assert (dWx == 1).all() and (dWh == 1).all()
