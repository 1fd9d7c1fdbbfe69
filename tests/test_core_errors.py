"""Every error path, at the ``_core`` level and at the class level.

Each bad call must raise the right exception type with a message that names
the argument and shows its actual shape (as Python prints a tuple) or dtype.
Nothing is written on error (gradient buffers keep their content), and the
next good call works.  The exact wording of messages is not tested.
"""

import re

import numpy as np
import pytest
from conftest import assert_close

from contract_calls import array_args, kernel_args, shape_of
from core_contract import BY_NAME, KERNELS, tokens
from registry import REGISTRY, Sizes
from rnnscratch import _core
from rnnscratch import reference as R

N, T, D, H = 2, 3, 5, 4       # all different, so a shape in a message is unambiguous
SENTINEL = 7.0

# the array arguments of the RNN kernels, from the contract table (tests/core_contract.py)
SIGNATURES = {f: [a.name for a in BY_NAME[f].args if a.is_array]
              for f in ("rnn_forward", "rnn_backward", "time_rnn_forward", "time_rnn_backward")}
GRAD_NAMES = tuple(a.name for a in BY_NAME["rnn_backward"].args if a.role == "O")
assert GRAD_NAMES == ("dWx", "dWh", "db")


def good_args():
    rng = np.random.default_rng(0)
    Wx = rng.standard_normal((D, H)) * 0.3
    Wh = rng.standard_normal((H, H)) * 0.3
    b = rng.standard_normal(H) * 0.1
    x = rng.standard_normal((N, D))
    h_prev = rng.standard_normal((N, H))
    xs = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    ref = R.TimeRNN(Wx, Wh, b, stateful=True)
    ref.set_state(h0)
    hs = ref.forward(xs)
    h_next = R.RNN(Wx, Wh, b).forward(x, h_prev)
    return dict(
        Wx=Wx, Wh=Wh, b=b, x=x, h_prev=h_prev, h_next=h_next,
        dh_next=rng.standard_normal((N, H)), xs=xs, h0=h0, hs=hs,
        dhs=rng.standard_normal((N, T, H)),
        dWx=np.full((D, H), SENTINEL), dWh=np.full((H, H), SENTINEL),
        db=np.full(H, SENTINEL))


def readonly(shape, dtype=np.float64):
    a = np.full(shape, SENTINEL, dtype)
    a.flags.writeable = False
    return a


def dt(s):
    return np.dtype(s)


DATETIME = np.array(["2020-01-01"] * H, dtype="datetime64[D]")

# (function, argument, bad value factory, exception, acceptable (name, detail) pairs)
# detail: the actual shape tuple, a dtype, or None (name only)
CASES = [
    # ---- rnn_forward -------------------------------------------------------
    ("rnn_forward", "x", lambda: np.ones(D), ValueError, [("x", (D,))]),
    ("rnn_forward", "x", lambda: np.ones((N, D, 1)), ValueError, [("x", (N, D, 1))]),
    ("rnn_forward", "x", lambda: np.ones((N, D + 1)), ValueError,
     [("x", (N, D + 1)), ("Wx", (D, H))]),
    ("rnn_forward", "h_prev", lambda: np.ones((N + 1, H)), ValueError,
     [("h_prev", (N + 1, H)), ("x", (N, D))]),
    ("rnn_forward", "h_prev", lambda: np.ones((N, H + 1)), ValueError,
     [("h_prev", (N, H + 1))]),
    ("rnn_forward", "h_prev", lambda: np.ones(H), ValueError, [("h_prev", (H,))]),
    ("rnn_forward", "Wx", lambda: np.ones(D), ValueError, [("Wx", (D,))]),
    ("rnn_forward", "Wx", lambda: np.ones((D, H, 1)), ValueError, [("Wx", (D, H, 1))]),
    ("rnn_forward", "Wh", lambda: np.ones((H, H + 1)), ValueError, [("Wh", (H, H + 1))]),
    ("rnn_forward", "Wh", lambda: np.ones((H - 1, H - 1)), ValueError,
     [("Wh", (H - 1, H - 1)), ("Wx", (D, H))]),
    ("rnn_forward", "b", lambda: np.ones(H + 1), ValueError, [("b", (H + 1,))]),
    ("rnn_forward", "b", lambda: np.ones((1, H)), ValueError, [("b", (1, H))]),
    ("rnn_forward", "x", lambda: np.ones((N, D), complex), TypeError,
     [("x", dt(complex))]),
    ("rnn_forward", "h_prev", lambda: np.array([["a"] * H] * N), TypeError,
     [("h_prev", dt("<U1")), ("h_prev", "str")]),
    ("rnn_forward", "Wx", lambda: np.ones((D, H), object), TypeError,
     [("Wx", dt(object))]),
    ("rnn_forward", "b", lambda: DATETIME, TypeError, [("b", dt("datetime64[D]"))]),
    ("rnn_forward", "x", lambda: object(), TypeError, [("x", None)]),
    ("rnn_forward", "Wh", lambda: None, TypeError, [("Wh", None)]),
    ("rnn_forward", "Wx", lambda: "Wx", TypeError, [("Wx", None)]),
    # ---- rnn_backward ------------------------------------------------------
    ("rnn_backward", "dh_next", lambda: np.ones((N, H + 1)), ValueError,
     [("dh_next", (N, H + 1))]),
    ("rnn_backward", "dh_next", lambda: np.ones((N + 1, H)), ValueError,
     [("dh_next", (N + 1, H))]),
    ("rnn_backward", "dh_next", lambda: np.ones(H), ValueError, [("dh_next", (H,))]),
    ("rnn_backward", "h_next", lambda: np.ones((N + 1, H)), ValueError,
     [("h_next", (N + 1, H))]),
    ("rnn_backward", "h_prev", lambda: np.ones((N, H - 1)), ValueError,
     [("h_prev", (N, H - 1))]),
    ("rnn_backward", "x", lambda: np.ones((N, D + 1)), ValueError,
     [("x", (N, D + 1)), ("Wx", (D, H))]),
    ("rnn_backward", "x", lambda: np.ones((N + 1, D)), ValueError,
     [("x", (N + 1, D)), ("dh_next", (N, H)), ("h_prev", (N, H)), ("h_next", (N, H))]),
    ("rnn_backward", "Wh", lambda: np.ones((H + 1, H + 1)), ValueError,
     [("Wh", (H + 1, H + 1)), ("Wx", (D, H))]),
    ("rnn_backward", "dWx", lambda: np.full((H, D), SENTINEL), ValueError, [("dWx", (H, D))]),
    ("rnn_backward", "dWx", lambda: np.full(D * H, SENTINEL), ValueError, [("dWx", (D * H,))]),
    ("rnn_backward", "dWh", lambda: np.full((H, H + 1), SENTINEL), ValueError,
     [("dWh", (H, H + 1))]),
    ("rnn_backward", "db", lambda: np.full(H + 1, SENTINEL), ValueError, [("db", (H + 1,))]),
    ("rnn_backward", "dWx", lambda: readonly((D, H)), ValueError, [("dWx", None)]),
    ("rnn_backward", "dWh", lambda: readonly((H, H)), ValueError, [("dWh", None)]),
    ("rnn_backward", "db", lambda: readonly(H), ValueError, [("db", None)]),
    ("rnn_backward", "dWx", lambda: np.full((D, H), 7, np.int64), TypeError,
     [("dWx", dt(np.int64))]),
    ("rnn_backward", "dWh", lambda: np.full((H, H), 7, np.int32), TypeError,
     [("dWh", dt(np.int32))]),
    ("rnn_backward", "db", lambda: np.ones(H, bool), TypeError, [("db", dt(bool))]),
    ("rnn_backward", "dWh", lambda: np.full((H, H), SENTINEL, complex), TypeError,
     [("dWh", dt(complex))]),
    ("rnn_backward", "dh_next", lambda: np.ones((N, H), complex), TypeError,
     [("dh_next", dt(complex))]),
    ("rnn_backward", "dWx", lambda: None, TypeError, [("dWx", None)]),
    # ---- time_rnn_forward --------------------------------------------------
    ("time_rnn_forward", "xs", lambda: np.ones((N, D)), ValueError, [("xs", (N, D))]),
    ("time_rnn_forward", "xs", lambda: np.ones((N, T, D, 1)), ValueError,
     [("xs", (N, T, D, 1))]),
    ("time_rnn_forward", "xs", lambda: np.ones((N, T, D + 1)), ValueError,
     [("xs", (N, T, D + 1)), ("Wx", (D, H))]),
    ("time_rnn_forward", "h0", lambda: np.ones((N + 1, H)), ValueError,
     [("h0", (N + 1, H))]),
    ("time_rnn_forward", "h0", lambda: np.ones((N, H + 1)), ValueError,
     [("h0", (N, H + 1))]),
    ("time_rnn_forward", "h0", lambda: np.ones(H), ValueError, [("h0", (H,))]),
    ("time_rnn_forward", "Wx", lambda: np.ones(D), ValueError, [("Wx", (D,))]),
    ("time_rnn_forward", "Wh", lambda: np.ones((H, H + 1)), ValueError,
     [("Wh", (H, H + 1))]),
    ("time_rnn_forward", "b", lambda: np.ones(H - 1), ValueError, [("b", (H - 1,))]),
    ("time_rnn_forward", "xs", lambda: np.ones((N, T, D), complex), TypeError,
     [("xs", dt(complex))]),
    ("time_rnn_forward", "h0", lambda: np.ones((N, H), object), TypeError,
     [("h0", dt(object))]),
    ("time_rnn_forward", "Wh", lambda: np.ones((H, H), "datetime64[s]"), TypeError,
     [("Wh", dt("datetime64[s]"))]),
    ("time_rnn_forward", "xs", lambda: {"a": 1}, TypeError, [("xs", None)]),
    ("time_rnn_forward", "xs", lambda: None, TypeError, [("xs", None)]),
    # ---- time_rnn_backward -------------------------------------------------
    ("time_rnn_backward", "dhs", lambda: np.ones((N, T - 1, H)), ValueError,
     [("dhs", (N, T - 1, H)), ("hs", (N, T, H))]),
    ("time_rnn_backward", "dhs", lambda: np.ones((N, T, H + 1)), ValueError,
     [("dhs", (N, T, H + 1))]),
    ("time_rnn_backward", "dhs", lambda: np.ones((N + 1, T, H)), ValueError,
     [("dhs", (N + 1, T, H))]),
    ("time_rnn_backward", "dhs", lambda: np.ones((N, H)), ValueError, [("dhs", (N, H))]),
    ("time_rnn_backward", "hs", lambda: np.ones((N, T + 1, H)), ValueError,
     [("hs", (N, T + 1, H)), ("xs", (N, T, D)), ("dhs", (N, T, H))]),
    ("time_rnn_backward", "xs", lambda: np.ones((N, T + 1, D)), ValueError,
     [("xs", (N, T + 1, D)), ("hs", (N, T, H)), ("dhs", (N, T, H))]),
    ("time_rnn_backward", "xs", lambda: np.ones((N, T, D + 1)), ValueError,
     [("xs", (N, T, D + 1)), ("Wx", (D, H))]),
    ("time_rnn_backward", "h0", lambda: np.ones((N + 1, H)), ValueError,
     [("h0", (N + 1, H))]),
    ("time_rnn_backward", "dWx", lambda: np.full((D + 1, H), SENTINEL), ValueError,
     [("dWx", (D + 1, H))]),
    ("time_rnn_backward", "dWh", lambda: np.full((H - 1, H), SENTINEL), ValueError,
     [("dWh", (H - 1, H))]),
    ("time_rnn_backward", "db", lambda: np.full((1, H), SENTINEL), ValueError,
     [("db", (1, H))]),
    ("time_rnn_backward", "dWx", lambda: readonly((D, H)), ValueError, [("dWx", None)]),
    ("time_rnn_backward", "dWh", lambda: readonly((H, H), np.float32), ValueError,
     [("dWh", None)]),
    ("time_rnn_backward", "db", lambda: readonly(H), ValueError, [("db", None)]),
    ("time_rnn_backward", "dWx", lambda: np.full((D, H), 7, np.int64), TypeError,
     [("dWx", dt(np.int64))]),
    ("time_rnn_backward", "db", lambda: np.ones(H, bool), TypeError, [("db", dt(bool))]),
    ("time_rnn_backward", "dWh", lambda: np.full((H, H), 7, np.uint8), TypeError,
     [("dWh", dt(np.uint8))]),
    ("time_rnn_backward", "dhs", lambda: np.ones((N, T, H), "datetime64[s]"), TypeError,
     [("dhs", dt("datetime64[s]"))]),
    ("time_rnn_backward", "xs", lambda: np.ones((N, T, D), complex), TypeError,
     [("xs", dt(complex))]),
    ("time_rnn_backward", "dWx", lambda: [[SENTINEL] * H] * D, TypeError, [("dWx", None)]),
]


def _case_id(case):
    fn, arg, make, exc, cand = case
    return "%s-%s-%s" % (fn, arg, cand[0][1] if cand[0][1] is not None else "junk")


def _call(core, fn, args, **kw):
    """Every array argument by keyword, as the contract table names them."""
    return getattr(core, fn)(**{name: args[name] for name in SIGNATURES[fn]}, **kw)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_core_rejects_bad_argument(core, tools, case):
    fn, arg, make, exc, candidates = case
    args = good_args()
    args[arg] = make()
    before = {g: np.array(args[g], copy=True) for g in GRAD_NAMES
              if g in SIGNATURES[fn] and isinstance(args[g], np.ndarray)}
    with pytest.raises(exc) as info:
        _call(core, fn, args)
    tools.assert_message(info, candidates)
    for name, snapshot in before.items():  # nothing was written
        np.testing.assert_array_equal(args[name], snapshot, err_msg=name)

    # the next good call works and gives the reference numbers
    good = good_args()
    out = _call(core, fn, good)
    ref = _reference_result(fn, good_args())
    got = out if isinstance(out, tuple) else (out,)
    for g, r in zip(got, ref[0]):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-14)
    for name, r in ref[1].items():
        np.testing.assert_allclose(good[name], r, rtol=1e-12, atol=1e-14)


def _reference_result(fn, a):
    """(outputs, gradients written) of a good call, from the reference."""
    if fn in ("rnn_forward", "rnn_backward"):
        layer = R.RNN(a["Wx"], a["Wh"], a["b"])
        h = layer.forward(a["x"], a["h_prev"])
        if fn == "rnn_forward":
            return (h,), {}
        dx, dh_prev = layer.backward(a["dh_next"])
        return (dx, dh_prev), dict(zip(GRAD_NAMES, layer.grads))
    layer = R.TimeRNN(a["Wx"], a["Wh"], a["b"], stateful=True)
    layer.set_state(a["h0"])
    hs = layer.forward(a["xs"])
    if fn == "time_rnn_forward":
        return (hs,), {}
    dxs = layer.backward(a["dhs"])
    return (dxs, layer.dh), dict(zip(GRAD_NAMES, layer.grads))


@pytest.mark.parametrize("fn", list(SIGNATURES))
@pytest.mark.parametrize("activation", ["softmax", "Tanh ", ""])
def test_core_unknown_activation(core, tools, fn, activation):
    args = good_args()
    before = {g: args[g].copy() for g in GRAD_NAMES}
    with pytest.raises(ValueError) as info:
        _call(core, fn, args, activation=activation)
    tools.assert_message(info, [("activation", None)])
    for name, snapshot in before.items():
        np.testing.assert_array_equal(args[name], snapshot)


@pytest.mark.parametrize("fn", list(SIGNATURES))
def test_core_non_string_activation(core, fn):
    with pytest.raises((TypeError, ValueError)) as info:
        _call(core, fn, good_args(), activation=3)
    assert "activation" in str(info.value)


@pytest.mark.parametrize("fn", ["rnn_backward", "time_rnn_backward"])
def test_core_bad_buffer_with_good_others_writes_nothing(core, fn):
    """A bad db must not leave dWx/dWh half written (checks happen before any write)."""
    for bad in (np.full(H + 1, SENTINEL), readonly(H), np.ones(H, np.int64)):
        args = good_args()
        args["db"] = bad
        with pytest.raises((ValueError, TypeError)):
            _call(core, fn, args)
        np.testing.assert_array_equal(args["dWx"], SENTINEL)
        np.testing.assert_array_equal(args["dWh"], SENTINEL)


# --------------------------------------------------------------------------
# class level (compiled and reference)
# --------------------------------------------------------------------------

def _weights():
    a = good_args()
    return a["Wx"], a["Wh"], a["b"]


def test_class_constructor_errors(impl, tools):
    Wx, Wh, b = _weights()
    for cls in (impl.RNN, impl.TimeRNN):
        with pytest.raises(ValueError) as info:
            cls(Wx, Wh, b, activation="softmax")
        tools.assert_message(info, [("activation", None)])
        with pytest.raises(TypeError) as info:
            layer = cls(Wx.astype(complex), Wh, b)
            _forward(layer, np.ones((N, T, D)))
        tools.assert_message(info, [("Wx", dt(complex))])
        with pytest.raises(ValueError) as info:
            layer = cls(Wx, Wh[:, :H - 1], b)
            _forward(layer, np.ones((N, T, D)))
        tools.assert_message(info, [("Wh", (H, H - 1))])
        with pytest.raises(ValueError) as info:
            layer = cls(Wx, Wh, np.ones(H + 2))
            _forward(layer, np.ones((N, T, D)))
        tools.assert_message(info, [("b", (H + 2,))])


def _forward(layer, xs):
    if hasattr(layer, "stateful"):
        return layer.forward(xs)
    return layer.forward(xs[:, 0], np.zeros((xs.shape[0], H)))


# --------------------------------------------------------------------------
# every layer of the registry: its precise bad-argument cases
# --------------------------------------------------------------------------

SZ = Sizes(N=N, T=T, D=D, H=H, V=7)


def _layer_cases():
    out = []
    for e in REGISTRY:
        for v in e.variants:
            for impl in e.impls:
                for bad in e.extra_bad(SZ, e.variants[v]):
                    out.append(pytest.param(e, v, impl, bad, id="%s-%s-%s-%s" % (
                        e.id, v, impl.rsplit(".", 1)[-1], bad.label)))
    return out


def _layer_and_twin(entry, variant, impl, dtype, seed):
    """The layer of ``impl`` and a twin to compare with: for the compiled class its
    oracle (the reference), for the reference another reference."""
    if impl == entry.impls[0]:
        return entry.pair(dtype, seed, SZ, variant)
    return (entry.make(impl, dtype, np.random.default_rng(seed), SZ, variant),
            entry.make(impl, dtype, np.random.default_rng(seed), SZ, variant))


def _assert_same_results(entry, got, want, dtype):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, dtype, "%s result %d" % (entry.id, i), terms=N * T)


@pytest.mark.parametrize("entry,variant,impl,bad", _layer_cases())
def test_layer_error_names_the_argument_then_usable(entry, variant, impl, bad):
    """The bad call raises the registry's exception, whose message names the argument
    and shows its actual shape or dtype; the layer's state attributes and gradient arrays
    are untouched; the next good calls give the twin's numbers."""
    dtype = np.float64 if np.float64 in entry.dtypes else entry.dtypes[0]
    opts = entry.variants[variant]
    L, twin = _layer_and_twin(entry, variant, impl, dtype, 3)
    rng = np.random.default_rng(4)
    inputs, douts = entry.inputs(rng, SZ, dtype, **opts), entry.douts(rng, SZ, **opts)

    if bad.call == "forward" and not bad.label.endswith("than h"):
        # on a fresh layer (nothing computed yet)
        with pytest.raises(bad.exc) as info:
            entry.apply_bad(L, bad, inputs, douts, [])
        assert re.search(bad.match, str(info.value)), (str(info.value), bad.match)
    # after a good forward+backward (a state, a cache, gradients)
    _assert_same_results(entry, entry.run(L, inputs, douts), entry.run(twin, inputs, douts),
                         dtype)
    grads = entry.grads(L)
    if bad.call == "backward":
        entry.forward(L, inputs)
        entry.forward(twin, inputs)
        for g in grads:
            g[...] = SENTINEL
    attrs = {a: getattr(L, a) for a in entry.state_attrs}
    with pytest.raises(bad.exc) as info:
        entry.apply_bad(L, bad, inputs, douts, [])
    assert re.search(bad.match, str(info.value)), (str(info.value), bad.match)
    for a, v in attrs.items():
        assert getattr(L, a) is v, "%s.%s changed by a failing call" % (entry.id, a)
    if bad.call == "backward":
        for g in grads:
            np.testing.assert_array_equal(g, SENTINEL)
        _assert_same_results(entry, entry.outputs(L, None, entry.backward(L, douts)),
                             entry.outputs(twin, None, entry.backward(twin, douts)), dtype)
    # the next good calls give the twin's numbers
    rng = np.random.default_rng(5)
    inputs, douts = entry.inputs(rng, SZ, dtype, **opts), entry.douts(rng, SZ, **opts)
    _assert_same_results(entry, entry.run(L, inputs, douts), entry.run(twin, inputs, douts),
                         dtype)


@pytest.mark.parametrize("entry", REGISTRY, ids=[e.id for e in REGISTRY])
def test_backward_before_forward(entry):
    """The compiled classes (and the reference RNN/TimeRNN) raise RuntimeError; the
    reference language-model layers mirror the book, which has no guard: they raise
    whatever their first use of the missing cache raises."""
    for impl in entry.impls:
        for variant, opts in entry.variants.items():
            dtype = entry.dtypes[0]
            L = entry.make(impl, dtype, np.random.default_rng(0), SZ, variant)
            douts = entry.douts(np.random.default_rng(1), SZ, **opts)
            exc = RuntimeError if impl in entry.guards_backward else Exception
            with pytest.raises(exc):
                entry.backward(L, douts)


@pytest.mark.parametrize("bad_h, shape", [
    (np.ones((N + 3, H)), (N + 3, H)),
    (np.ones((N, H + 1)), (N, H + 1)),
    (np.ones(H), (H,)),
])
def test_time_rnn_stateful_h_of_wrong_shape(impl, tools, bad_h, shape):
    a = good_args()
    layer = impl.TimeRNN(a["Wx"], a["Wh"], a["b"], stateful=True)
    layer.set_state(bad_h)
    with pytest.raises(ValueError) as info:
        layer.forward(a["xs"])
    tools.assert_message(info, [("h", shape)])
    assert layer.h is bad_h
    # a stored h of another batch size after a real forward
    layer.reset_state()
    layer.forward(np.ones((N + 1, T, D)))
    with pytest.raises(ValueError) as info:
        layer.forward(a["xs"])
    tools.assert_message(info, [("h", (N + 1, H))])
    layer.reset_state()
    ref = R.TimeRNN(a["Wx"], a["Wh"], a["b"])
    np.testing.assert_allclose(layer.forward(a["xs"]), ref.forward(a["xs"]), rtol=1e-12)


def test_time_rnn_stateful_h_of_wrong_dtype(impl, tools):
    a = good_args()
    layer = impl.TimeRNN(a["Wx"], a["Wh"], a["b"], stateful=True)
    layer.set_state(np.ones((N, H), complex))
    with pytest.raises(TypeError) as info:
        layer.forward(a["xs"])
    tools.assert_message(info, [("h", dt(complex))])


def test_replaced_param_of_wrong_shape(impl, tools):
    a = good_args()
    layer = impl.TimeRNN(a["Wx"], a["Wh"], a["b"])
    good_Wh = layer.params[1]
    layer.params[1] = np.ones((H + 1, H + 1))
    with pytest.raises(ValueError) as info:
        layer.forward(a["xs"])
    tools.assert_message(info, [("Wh", (H + 1, H + 1)), ("Wx", (D, H))])
    layer.params[1] = good_Wh
    ref = R.TimeRNN(a["Wx"], a["Wh"], a["b"])
    np.testing.assert_allclose(layer.forward(a["xs"]), ref.forward(a["xs"]), rtol=1e-12)


@pytest.mark.parametrize("fn", ["rnn_backward", "time_rnn_backward"])
def test_core_overlapping_gradient_buffers(core, tools, fn):
    """dWx and dWh sharing memory would make the result depend on write order."""
    args = good_args()
    big = np.full(D * H + H * H, SENTINEL)
    args["dWx"] = big[:D * H].reshape(D, H)
    args["dWh"] = big[D * H - 1:D * H - 1 + H * H].reshape(H, H)  # one element shared
    with pytest.raises(ValueError) as info:
        _call(core, fn, args)
    tools.assert_message(info, [("dWh", None), ("dWx", None)])
    np.testing.assert_array_equal(big, SENTINEL)


def test_interleaved_gradient_buffers_are_not_overlapping():
    """Two views that interleave in one buffer but share no element are separate outputs."""
    from rnnscratch import _core

    rng = np.random.default_rng(5)
    N_, T_, D_, H_ = 2, 3, 4, 4
    xs = rng.standard_normal((N_, T_, D_))
    Wx, Wh = rng.standard_normal((D_, H_)) * 0.3, rng.standard_normal((H_, H_)) * 0.3
    hs = _core.time_rnn_forward(xs, None, Wx, Wh)
    dhs = rng.standard_normal(hs.shape)
    G = np.full((D_, 2 * H_), SENTINEL)
    _core.time_rnn_backward(dhs, xs, None, hs, Wx, Wh, G[:, 0::2], G[:, 1::2])
    dWx, dWh = np.zeros((D_, H_)), np.zeros((H_, H_))
    _core.time_rnn_backward(dhs, xs, None, hs, Wx, Wh, dWx, dWh)
    np.testing.assert_array_equal(G[:, 0::2], dWx)
    np.testing.assert_array_equal(G[:, 1::2], dWh)


@pytest.mark.parametrize("grad_dtype", [np.float64, np.longdouble])
def test_accumulate_into_wider_gradients_keeps_their_precision(grad_dtype):
    """float32 parameters, float64 gradient arrays, accumulate=True: what the arrays hold is
    not rounded to float32 on the way (elements the call adds nothing to stay exact)."""
    from rnnscratch import _core

    f = np.float32
    xs = np.zeros((2, 3, 4), f)
    Wx, Wh = np.ones((4, 5), f), np.ones((5, 5), f)
    hs = _core.time_rnn_forward(xs, None, Wx, Wh)
    dWx, dWh, db = (np.full(s, 0.1, grad_dtype) for s in ((4, 5), (5, 5), (5,)))
    dhs = np.zeros((2, 3, 5), f)
    dhs[0, 2, 1] = 1.0
    _core.time_rnn_backward(dhs, xs, None, hs, Wx, Wh, dWx, dWh, db, accumulate=True)
    assert (dWx == grad_dtype(0.1)).all()  # xs = 0: nothing added
    fresh = [np.zeros(s, grad_dtype) for s in ((4, 5), (5, 5), (5,))]
    _core.time_rnn_backward(dhs, xs, None, hs, Wx, Wh, *fresh)
    assert fresh[2].any()  # hs = 0, so only db gets something
    np.testing.assert_array_equal(dWh, grad_dtype(0.1) + fresh[1])  # added in grad_dtype
    np.testing.assert_array_equal(db, grad_dtype(0.1) + fresh[2])
    dW = np.full((3, 2), grad_dtype(1) / 3)
    _core.embedding_backward(np.ones((1, 1, 2), f), np.zeros((1, 1), int), np.ones((3, 2), f),
                             dW, accumulate=True)
    assert (dW[1:] == grad_dtype(1) / 3).all()
    assert (dW[0] == grad_dtype(1) / 3 + 1).all()
    dWa, dba = np.full((4, 6), 0.1, grad_dtype), np.full(6, 0.1, grad_dtype)
    _core.time_affine_backward(np.zeros((1, 2, 6), f), np.ones((1, 2, 4), f),
                               np.ones((4, 6), f), dWa, dba, accumulate=True)
    assert (dWa == grad_dtype(0.1)).all() and (dba == grad_dtype(0.1)).all()


def test_ids_changed_by_another_thread_during_the_call():
    """Word ids are checked with the GIL held and then read without it: the kernel must read
    a private copy, or a thread changing an id in between makes it write out of bounds
    (this crashed before the fix)."""
    import threading

    from rnnscratch import _core

    V_, D_ = 10, 4
    W = np.ones((V_, D_), np.float32)
    ids = np.zeros((1, 1_000_000), np.intp)  # intp and C-contiguous: no conversion needed
    dW = np.zeros((V_, D_), np.float32)
    dout = np.ones((1, ids.shape[1], D_), np.float32)
    stop = threading.Event()

    def flipper():
        while not stop.is_set():
            ids[0, -1] = 10**9
            ids[0, -1] = 0

    t = threading.Thread(target=flipper)
    t.start()
    try:
        for _ in range(60):
            try:
                _core.embedding_backward(dout, ids, W, dW, accumulate=True)
            except ValueError as e:  # the check saw the bad id: fine
                assert "out of range" in str(e)
    finally:
        stop.set()
        t.join()
    assert np.isfinite(dW).all()


# --------------------------------------------------------------------------
# every kernel of the contract: each array argument made bad in turn
# --------------------------------------------------------------------------
# Generic over tests/core_contract.py (the hand-written CASES above are the RNN
# kernels' finer cases). A bad argument raises, the message names it (or, for a
# size another argument fixes too, that other argument) with the actual shape or
# dtype, the gradient arrays keep their content, and the next good call works.


# all different: a shape in a message is unambiguous (M, K: the plain product's)
KDIMS = {"N": 2, "T": 3, "D": 5, "H": 4, "V": 7, "S": 6, "M": 3, "K": 5}


def _kernel_bad_cases():
    out = []
    for fname in sorted(f.name for f in KERNELS):
        args = array_args(fname)
        for name, legend, role, optional in args:
            shape = shape_of(legend, KDIMS)
            ids = role == "ids"
            bad = [("ndim+1", np.ones(shape + (1,), int if ids else float), ValueError,
                    [(name, shape + (1,))]),
                   ("complex", np.ones(shape, complex), TypeError, [(name, dt(complex))]),
                   ("str", np.full(shape, "a"), TypeError, [(name, None)])]
            if ids:
                bad.append(("float ids", np.zeros(shape), TypeError, [(name, dt(float))]))
            if not optional:
                bad.append(("None", None, TypeError, [(name, None)]))
            if role == "O":
                ro = np.full(shape, SENTINEL)
                ro.flags.writeable = False
                bad.append(("read-only", ro, ValueError, [(name, None)]))
                bad.append(("int", np.zeros(shape, np.int64), TypeError,
                            [(name, dt(np.int64))]))
            for k, tok in enumerate(tokens(legend)):
                letter = tok[-1]
                others = [(o, shape_of(ol, KDIMS)) for o, ol, _, _ in args
                          if o != name and letter in ol]
                if not others:  # nothing else fixes this size: any is valid
                    continue
                wrong = shape[:k] + (shape[k] + int(tok[:-1] or 1),) + shape[k + 1:]
                bad.append(("%s+1" % letter, np.ones(wrong, int if ids else float),
                            ValueError, [(name, wrong)] + others))
            for label, value, exc, cand in bad:
                out.append(pytest.param(fname, name, value, exc, cand,
                                        id="%s-%s-%s" % (fname, name, label)))
    return out


@pytest.mark.parametrize("fname,arg,value,exc,candidates", _kernel_bad_cases())
def test_every_kernel_names_a_bad_argument(tools, fname, arg, value, exc, candidates):
    good = kernel_args(fname, KDIMS, np.float64, 0)
    kw = dict(good, **{arg: value})
    grads = [n for n, _, role, _ in array_args(fname) if role == "O" and n != arg]
    for n in grads:
        kw[n][...] = SENTINEL
    with pytest.raises(exc) as info:
        getattr(_core, fname)(**kw)
    tools.assert_message(info, candidates)
    for n in grads:
        assert np.all(kw[n] == SENTINEL), "%s: %s written by a failed call" % (fname, n)
    getattr(_core, fname)(**kernel_args(fname, KDIMS, np.float64, 0))  # usable again
