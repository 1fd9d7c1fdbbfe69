"""float64 central-difference gradient checks of every gradient.

loss = sum(out * G) with a fixed random G, so d loss / d out = G.  Every
input and every parameter is perturbed in place (parameters through
``layer.params``, which the layers must re-read at each call), and the
numerical derivative is compared with the analytic one from ``backward``:
max relative error < 1e-6.  Run against the compiled and the reference classes.
"""

import numpy as np
import pytest

from central_difference import numerical_gradient as central_difference

EPS = 1e-5          # central-difference step
MAX_REL_ERR = 1e-6
RELU_MARGIN = 1e-3  # pre-activations kept this far from the relu kink


def numerical_gradient(loss, arr):
    return central_difference(loss, arr, EPS)


def assert_grad_ok(analytic, numeric, what):
    analytic = np.asarray(analytic, dtype=np.float64)
    assert analytic.shape == numeric.shape, what
    # relative error per element; the floor keeps near-zero entries (whose
    # absolute error is at the 1e-10 level of the finite difference) fair
    denom = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-3)
    rel = np.max(np.abs(analytic - numeric) / denom) if analytic.size else 0.0
    assert rel < MAX_REL_ERR, "%s: max relative error %.3g\nanalytic=%s\nnumeric=%s" % (
        what, rel, analytic, numeric)
    # and the gradient is not trivially zero
    if numeric.size:
        assert np.max(np.abs(numeric)) > 1e-6, what


def pre_activations(xs, h0, Wx, Wh, b, activation):
    """Per-step pre-activations computed independently of the layers."""
    out, h = [], h0
    for t in range(xs.shape[1]):
        a = xs[:, t] @ Wx + h @ Wh + (0 if b is None else b)
        out.append(a)
        if activation == "tanh":
            h = np.tanh(a)
        elif activation == "relu":
            h = np.maximum(a, 0)
        else:
            h = 1 / (1 + np.exp(-a))
    return out


def draw(rng, tools, N, T, D, H, activation, bias):
    """Random float64 problem; for relu, re-drawn until no pre-activation is
    within RELU_MARGIN of 0 (the finite difference would cross the kink)."""
    for _ in range(200):
        Wx, Wh, b = tools.make_weights(rng, D, H, bias=bias, scale=0.9)
        xs = rng.standard_normal((N, T, D))
        h0 = rng.standard_normal((N, H)) * 0.5
        if activation != "relu" or tools.relu_safe(
                pre_activations(xs, h0, Wx, Wh, b, activation), RELU_MARGIN):
            return Wx, Wh, b, xs, h0
    raise AssertionError("could not draw a relu-safe problem")


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_rnn_gradcheck(impl, rng, tools, activation, bias):
    N, D, H = 3, 4, 5
    Wx, Wh, b, xs, h_prev = draw(rng, tools, N, 1, D, H, activation, bias)
    x = xs[:, 0].copy()
    G = rng.standard_normal((N, H))
    layer = impl.RNN(Wx, Wh, b, activation=activation)

    def loss():
        return float(np.sum(layer.forward(x, h_prev) * G))

    layer.forward(x, h_prev)
    dx, dh_prev = layer.backward(G)
    analytic = {"dx": np.array(dx), "dh_prev": np.array(dh_prev)}
    names = ["dWx", "dWh", "db"][:len(layer.params)]
    for name, g in zip(names, layer.grads):
        analytic[name] = g.copy()

    assert_grad_ok(analytic["dx"], numerical_gradient(loss, x), "dx")
    assert_grad_ok(analytic["dh_prev"], numerical_gradient(loss, h_prev), "dh_prev")
    for name, p in zip(names, layer.params):
        assert_grad_ok(analytic[name], numerical_gradient(loss, p), name)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_time_rnn_gradcheck(impl, rng, tools, activation, bias):
    N, T, D, H = 2, 4, 3, 5
    Wx, Wh, b, xs, h0 = draw(rng, tools, N, T, D, H, activation, bias)
    G = rng.standard_normal((N, T, H))
    layer = impl.TimeRNN(Wx, Wh, b, stateful=True, activation=activation)

    def loss():
        layer.set_state(h0)
        return float(np.sum(layer.forward(xs) * G))

    loss()
    dxs = np.array(layer.backward(G))
    analytic = {"dxs": dxs, "dh0": np.array(layer.dh)}
    names = ["dWx", "dWh", "db"][:len(layer.params)]
    for name, g in zip(names, layer.grads):
        analytic[name] = g.copy()

    assert_grad_ok(analytic["dxs"], numerical_gradient(loss, xs), "dxs")
    assert_grad_ok(analytic["dh0"], numerical_gradient(loss, h0), "dh0")
    for name, p in zip(names, layer.params):
        assert_grad_ok(analytic[name], numerical_gradient(loss, p), name)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_core_time_rnn_gradcheck(core, rng, tools, activation):
    """The same check straight on _core.time_rnn_forward / time_rnn_backward."""
    N, T, D, H = 3, 3, 2, 4
    Wx, Wh, b, xs, h0 = draw(rng, tools, N, T, D, H, activation, True)
    G = rng.standard_normal((N, T, H))

    def loss():
        return float(np.sum(core.time_rnn_forward(xs, h0, Wx, Wh, b, activation=activation) * G))

    hs = core.time_rnn_forward(xs, h0, Wx, Wh, b, activation=activation)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dxs, dh0 = core.time_rnn_backward(G, xs, h0, hs, Wx, Wh, dWx, dWh, db,
                                      activation=activation)
    for name, ana, arr in [("dxs", dxs, xs), ("dh0", dh0, h0), ("dWx", dWx, Wx),
                           ("dWh", dWh, Wh), ("db", db, b)]:
        assert_grad_ok(ana, numerical_gradient(loss, arr), name)


# --------------------------------------------------------------------------
# every layer of the registry (tests/registry.py), each variant, each implementation
# --------------------------------------------------------------------------

def _registry_cases():
    from registry import REGISTRY
    return [pytest.param(e, v, impl, id="%s-%s-%s" % (e.id, v, impl.rsplit(".", 1)[-1]))
            for e in REGISTRY for v in e.variants for impl in e.impls]


@pytest.mark.parametrize("entry,variant,impl", _registry_cases())
def test_registry_gradcheck(entry, variant, impl):
    """loss = sum(forward(inputs) * dout) (or loss * dout for a layer that returns the
    loss): backward's gradients of every parameter (``grad_arrays``) and of every float
    input (backward's returned arrays, in the inputs' order) against central
    differences. float64; a class that fixes float32 (SimpleRnnlm) is checked in
    float32 with a step and tolerance for float32."""
    from registry import Sizes

    sz = Sizes(N=2, T=3, D=4, H=5, V=6)
    opts = entry.variants[variant]
    f64 = np.float64 in entry.dtypes
    dtype = np.float64 if f64 else entry.dtypes[0]
    eps, max_rel = (EPS, MAX_REL_ERR) if f64 else (1e-2, 2e-2)
    max_rel = getattr(entry, "gradcheck_max_rel", max_rel)
    if impl == entry.impls[0]:
        L, _ = entry.pair(dtype, 7, sz, variant)  # (a layer that does not update itself)
    else:
        L = entry.make(impl, dtype, np.random.default_rng(7), sz, variant)
    rng = np.random.default_rng(8)
    inputs = [v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
              for v in entry.inputs(rng, sz, np.float64, **opts)]
    douts = entry.douts(rng, sz, **opts)
    G = rng.standard_normal(np.shape(entry.forward(L, inputs)))

    def loss():
        if hasattr(L, "reset_state"):  # a stateful layer starts from the same state
            L.reset_state()
        out = entry.forward(L, inputs)
        if np.ndim(out) == 0:
            return float(out) * float(douts[0])
        return float(np.sum(np.asarray(out, dtype=np.float64) * G))

    loss()
    back = entry.backward(L, douts if np.ndim(G) == 0 else [G])
    back = [b for b in (back if isinstance(back, tuple) else (back,)) if b is not None]
    analytic = [np.array(g, dtype=np.float64) for g in entry.grad_arrays(L)]
    params = entry.param_arrays(L)
    assert len(params) == len(analytic) > 0 or not params, entry.id
    float_inputs = [v for v in inputs if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    assert len(back) == len(float_inputs), "%s: %d input gradients for %d float inputs" % (
        entry.id, len(back), len(float_inputs))

    def numeric(arr):
        return central_difference(loss, arr, eps)

    def check(a, n, what):
        assert a.shape == n.shape, what
        denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-3 if f64 else 1e-1)
        rel = np.max(np.abs(a - n) / denom) if a.size else 0.0
        assert rel < max_rel, "%s: max relative error %.3g" % (what, rel)

    for i, (p, a) in enumerate(zip(params, analytic)):
        check(a, numeric(p), "%s param %d" % (entry.id, i))
    for i, (x, a) in enumerate(zip(float_inputs, back)):
        check(np.asarray(a, dtype=np.float64), numeric(x), "%s input %d" % (entry.id, i))
    assert any(np.any(a != 0) for a in analytic + [np.asarray(b) for b in back]), entry.id


# --------------------------------------------------------------------------
# every layer of the registry: the gradient arrays are kept, and overwritten
# --------------------------------------------------------------------------

def _grads_cases():
    from registry import REGISTRY, Sizes
    out = []
    for e in REGISTRY:
        for impl in e.impls:
            variant = next(iter(e.variants))
            layer = e.make(impl, e.dtypes[-1], np.random.default_rng(0), Sizes(), variant)
            if e.grads(layer):  # a layer with parameters
                out.append(pytest.param(e, variant, impl,
                                        id="%s-%s" % (e.id, impl.rsplit(".", 1)[-1])))
    return out


@pytest.mark.parametrize("entry,variant,impl", _grads_cases())
def test_registry_grads_kept_and_overwritten(entry, variant, impl):
    """The course's optimizers hold ``layer.grads``' arrays: backward writes into the
    same arrays at each call (never new ones), and overwrites them (never adds): a
    second forward+backward on other inputs gives the gradients a fresh layer gives."""
    from registry import Sizes

    sz, opts, dtype = Sizes(), entry.variants[variant], entry.dtypes[-1]
    L = entry.make(impl, dtype, np.random.default_rng(1), sz, variant)
    fresh = entry.make(impl, dtype, np.random.default_rng(1), sz, variant)
    held = entry.grads(L)
    rng = np.random.default_rng(2)
    entry.forward(L, entry.inputs(rng, sz, dtype, **opts))
    entry.backward(L, entry.douts(rng, sz, **opts))
    inputs, douts = entry.inputs(rng, sz, dtype, **opts), entry.douts(rng, sz, **opts)
    if hasattr(L, "reset_state"):  # the second call starts from the state a fresh one has
        L.reset_state()
    for layer in (L, fresh):
        entry.forward(layer, inputs)
        entry.backward(layer, douts)
    assert len(entry.grads(L)) == len(held)
    for i, (h, g, f) in enumerate(zip(held, entry.grads(L), entry.grads(fresh))):
        assert g is h, "%s: grads[%d] is a new array" % (entry.id, i)
        np.testing.assert_array_equal(g, f, err_msg="%s grads[%d]" % (entry.id, i))
