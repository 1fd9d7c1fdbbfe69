"""Tests of the pure-NumPy oracle ``rnnscratch.reference`` on its own.

The reference is what the compiled classes are compared against, so it is
checked here against hand computations, the course's worked example and the
step-by-step definition, float32 against float64, and the sigmoid's extreme
values; its gradients are checked numerically in test_gradcheck.py, its dtype
rule in test_time_rnn.py, its errors, sizes 0 and gradient arrays by the
registry suites (notes/tests-merged.md).
"""

import numpy as np
import pytest

from rnnscratch import reference as R


WORKED_X = np.array([[[1, 2], [2, 3], [3, 4]]]) / 100
WORKED_WX = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100
WORKED_WH = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) / 100
WORKED_B = np.array([1, 1, 1, 1])
WORKED_STEPS = np.array([
    [0.76188798, 0.76213958, 0.76239095, 0.76255841],
    [0.792209, 0.8141834, 0.83404912, 0.84977719],
    [0.79494228, 0.81839002, 0.83939649, 0.85584174],
])


def test_worked_example_time_rnn():
    layer = R.TimeRNN(WORKED_WX, WORKED_WH, WORKED_B)
    hs = layer.forward(WORKED_X)
    assert hs.shape == (1, 3, 4) and hs.dtype == np.float64
    np.testing.assert_allclose(hs[0], WORKED_STEPS, rtol=0, atol=5.1e-9)
    np.testing.assert_allclose(layer.h, WORKED_STEPS[-1:], rtol=0, atol=5.1e-9)


def test_worked_example_step_by_step():
    layer = R.RNN(WORKED_WX, WORKED_WH, WORKED_B)
    h = np.zeros((1, 4))
    for t in range(3):
        h = layer.forward(WORKED_X[:, t, :], h)
        np.testing.assert_allclose(h[0], WORKED_STEPS[t], rtol=0, atol=5.1e-9)


def test_scalar_hand_computation():
    # N = D = H = 1: every quantity can be written by hand
    wx, wh, bb, x, hp, g = 0.3, -0.7, 0.1, 0.5, 0.2, 1.7
    for act, f, df in [
        ("tanh", np.tanh, lambda h: 1 - h * h),
        ("sigmoid", lambda a: 1 / (1 + np.exp(-a)), lambda h: h * (1 - h)),
        ("relu", lambda a: max(a, 0.0), lambda h: float(h > 0)),
    ]:
        layer = R.RNN(np.array([[wx]]), np.array([[wh]]), np.array([bb]), activation=act)
        h = layer.forward(np.array([[x]]), np.array([[hp]]))
        a = x * wx + hp * wh + bb
        assert h[0, 0] == pytest.approx(f(a), rel=1e-14)
        dx, dhp = layer.backward(np.array([[g]]))
        dA = g * df(f(a))
        assert dx[0, 0] == pytest.approx(dA * wx, rel=1e-14, abs=1e-300)
        assert dhp[0, 0] == pytest.approx(dA * wh, rel=1e-14, abs=1e-300)
        dWx, dWh, db = layer.grads
        assert dWx[0, 0] == pytest.approx(dA * x, rel=1e-14, abs=1e-300)
        assert dWh[0, 0] == pytest.approx(dA * hp, rel=1e-14, abs=1e-300)
        assert db[0] == pytest.approx(dA, rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("bias", [True, False])
def test_time_rnn_equals_chained_steps(rng, tools, activation, bias):
    """TimeRNN = RNN applied T times; its grads = the sums of the step grads."""
    N, T, D, H = 3, 5, 4, 6
    Wx, Wh, b = tools.make_weights(rng, D, H, bias=bias)
    xs = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    dhs = rng.standard_normal((N, T, H))

    layer = R.TimeRNN(Wx, Wh, b, stateful=True, activation=activation)
    layer.set_state(h0)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)

    steps, h = [], h0
    for t in range(T):
        s = R.RNN(Wx, Wh, b, activation=activation)
        h = s.forward(xs[:, t], h)
        np.testing.assert_allclose(hs[:, t], h, rtol=1e-14, atol=1e-15)
        steps.append(s)
    dh = np.zeros((N, H))
    sums = [np.zeros_like(g) for g in layer.grads]
    for t in reversed(range(T)):
        dx, dh = steps[t].backward(dhs[:, t] + dh)
        np.testing.assert_allclose(dxs[:, t], dx, rtol=1e-12, atol=1e-14)
        for acc, g in zip(sums, steps[t].grads):
            acc += g
    np.testing.assert_allclose(layer.dh, dh, rtol=1e-12, atol=1e-14)
    for acc, g in zip(sums, layer.grads):
        np.testing.assert_allclose(g, acc, rtol=1e-12, atol=1e-14)


def test_params_are_the_objects_and_grads_are_zero(rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 4)
    for layer in (R.RNN(Wx, Wh, b), R.TimeRNN(Wx, Wh, b)):
        assert layer.params[0] is Wx and layer.params[1] is Wh and layer.params[2] is b
        assert [g.shape for g in layer.grads] == [(3, 4), (4, 4), (4,)]
        assert all(not g.any() and g.dtype == np.float64 for g in layer.grads)
    layer = R.TimeRNN(Wx, Wh, None)
    assert len(layer.params) == 2 and len(layer.grads) == 2
    assert layer.h is None and layer.dh is None and layer.stateful is False
    assert R.RNN(Wx, Wh).cache is None


def test_float32_close_to_float64(rng, tools):
    """The float32 path is the float64 path up to float32 rounding."""
    N, T, D, H = 4, 20, 5, 7
    Wx, Wh, b = tools.make_weights(rng, D, H, dtype=np.float32)
    xs = rng.standard_normal((N, T, D)).astype(np.float32)
    dhs = rng.standard_normal((N, T, H)).astype(np.float32)
    l32 = R.TimeRNN(Wx, Wh, b)
    l64 = R.TimeRNN(*(p.astype(np.float64) for p in (Wx, Wh, b)))
    tools.assert_close(l32.forward(xs), l64.forward(xs), np.float32)
    tools.assert_close(l32.backward(dhs), l64.backward(dhs), np.float32)
    for g32, g64 in zip(l32.grads, l64.grads):
        tools.assert_close(g32, g64, np.float32)


def test_sigmoid_does_not_overflow_and_keeps_precision():
    layer = R.RNN(np.array([[1000.0]]), np.array([[0.0]]), activation="sigmoid")
    with np.errstate(over="raise", invalid="raise"):
        h = layer.forward(np.array([[-5.0], [5.0]]), np.zeros((2, 1)))
    np.testing.assert_array_equal(h, [[0.0], [1.0]])
    layer = R.RNN(np.array([[1.0]]), np.array([[0.0]]), activation="sigmoid")
    a = np.array([[-40.0], [-3.0], [0.0], [2.5], [30.0]])
    np.testing.assert_allclose(layer.forward(a, np.zeros((5, 1))),
                               1 / (1 + np.exp(-a)), rtol=1e-15)

