"""The one-step ``RNN`` (compiled and reference): the course's notebook cell and
worked example, the class's attributes and state, and the activations' values
over their whole range on every SIMD path. Compiled against reference on any
shape, dtype and layout, sizes 0, errors, gradients, threads and SIMD paths: the
registry suites (tests/registry.py RNNEntry; notes/tests-merged.md)."""

import numpy as np
import pytest


DTYPES = [np.float32, np.float64]


# --------------------------------------------------------------------------
# course behaviour (compiled and reference)
# --------------------------------------------------------------------------

def test_course_notebook_snippet_runs_unchanged(impl):
    """The cell of the course's RNN exercise (D=1, H=5, N=4), as a student runs it."""
    np.random.seed(0)
    RNN = impl.RNN
    D, H = 1, 5
    Wx = np.random.randn(D, H)
    Wh = np.random.randn(H, H)
    b = np.zeros(H)
    rnn = RNN(Wx, Wh, b)
    ids = [id(rnn.grads[0]), id(rnn.grads[1]), id(rnn.grads[2])]
    N = 4
    x = np.random.randn(N, D)
    h_prev = np.random.randn(N, H)
    h_next = rnn.forward(x, h_prev)
    dh_next = np.random.randn(N, H)
    dx, dh_prev = rnn.backward(dh_next)
    assert [id(rnn.grads[0]), id(rnn.grads[1]), id(rnn.grads[2])] == ids
    assert h_next.shape == (N, H) and dx.shape == (N, D) and dh_prev.shape == (N, H)

    # the numbers are those of the course's formulas
    expected_h = np.tanh(h_prev @ Wh + x @ Wx + b)
    np.testing.assert_allclose(h_next, expected_h, rtol=1e-12, atol=1e-14)
    dA = dh_next * (1 - expected_h ** 2)
    np.testing.assert_allclose(dx, dA @ Wx.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dh_prev, dA @ Wh.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rnn.grads[0], x.T @ dA, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rnn.grads[1], h_prev.T @ dA, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rnn.grads[2], dA.sum(axis=0), rtol=1e-12, atol=1e-14)


def test_worked_example_step_by_step(impl):
    x = np.array([[[1, 2], [2, 3], [3, 4]]]) / 100
    Wx = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100
    Wh = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) / 100
    b = np.array([1, 1, 1, 1])
    layer = impl.RNN(Wx, Wh, b)
    h = np.zeros((1, 4))
    steps = []
    for t in range(3):
        h = layer.forward(x[:, t, :], h)
        steps.append(h[0])
    assert h.dtype == np.float64
    np.testing.assert_allclose(steps[0], [0.76188798, 0.76213958, 0.76239095, 0.76255841],
                               rtol=0, atol=5.1e-9)
    np.testing.assert_allclose(steps[2], [0.79494228, 0.81839002, 0.83939649, 0.85584174],
                               rtol=0, atol=5.1e-9)


def test_rnn_attributes(impl, rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 4)
    layer = impl.RNN(Wx, Wh, b)
    assert layer.params[0] is Wx and layer.params[1] is Wh and layer.params[2] is b
    assert layer.cache is None
    assert [g.shape for g in layer.grads] == [(3, 4), (4, 4), (4,)]
    assert all(g.dtype == np.float64 and not g.any() for g in layer.grads)
    x, h_prev = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    h = layer.forward(x, h_prev)
    assert isinstance(layer.cache, tuple) and len(layer.cache) == 3
    np.testing.assert_array_equal(layer.cache[0], x)
    np.testing.assert_array_equal(layer.cache[1], h_prev)
    np.testing.assert_array_equal(layer.cache[2], h)
    nb = impl.RNN(Wx, Wh)
    assert len(nb.params) == 2 and len(nb.grads) == 2
    nb = impl.RNN(Wx, Wh, None)
    assert len(nb.params) == 2 and len(nb.grads) == 2
    f32 = impl.RNN(Wx.astype("f"), Wh.astype("f"), b.astype("f"))
    assert all(g.dtype == np.float32 for g in f32.grads)


def test_rnn_params_are_read_at_each_call(impl, rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 4)
    layer = impl.RNN(Wx, Wh, b)
    x, h_prev = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    h1 = layer.forward(x, h_prev).copy()
    Wx *= 2                                    # in-place edit
    h2 = layer.forward(x, h_prev)
    np.testing.assert_allclose(h2, np.tanh(x @ (Wx) + h_prev @ Wh + b), rtol=1e-12)
    assert not np.allclose(h1, h2)
    newWh = rng.standard_normal((4, 4)) * 0.3  # replacement
    layer.params[1] = newWh
    h3 = layer.forward(x, h_prev)
    np.testing.assert_allclose(h3, np.tanh(x @ Wx + h_prev @ newWh + b), rtol=1e-12)
    dx, _ = layer.backward(np.ones((2, 4)))
    dA = 1 - h3 ** 2
    np.testing.assert_allclose(layer.grads[1], h_prev.T @ dA, rtol=1e-12)
    # replacing every parameter by float32 arrays: the compute dtype follows
    layer.params[:] = [p.astype(np.float32) for p in layer.params]
    assert layer.forward(x, h_prev).dtype == np.float32


# --------------------------------------------------------------------------
# activation accuracy on every SIMD path
# --------------------------------------------------------------------------

def _exact_activation(a, activation):
    a = a.astype(np.float64)
    if activation == "tanh":
        return np.tanh(a)
    if activation == "relu":
        return np.maximum(a, 0.0)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_activation_accuracy(core, simd_path, dtype, activation):
    """h = f(x) for x over the whole range (tiny, subnormal, large, +-inf), in
    every SIMD lane: x (N,1), Wx = ones (1,H) puts x[n] in every column."""
    finfo = np.finfo(dtype)
    special = [0.0, finfo.tiny, finfo.tiny / 8, 1e-30, 1e-8, 1e-4, 0.01, 0.3, 0.55, 1.0,
               2.0, 4.5, 8.9, 9.1, 10.0, 15.0, 18.5, 20.0, 30.0, 44.0, 88.0, 89.0, 100.0,
               700.0, 710.0, 1e4, float(finfo.max), np.inf]
    grid = np.linspace(-25, 25, 1001)
    x = np.concatenate([grid, special, [-v for v in special]]).astype(dtype)
    H = 37  # full SIMD vectors plus a remainder
    h = core.rnn_forward(x[:, None], np.zeros((x.size, H), dtype), np.ones((1, H), dtype),
                         np.zeros((H, H), dtype), None, activation=activation)
    assert h.dtype == np.dtype(dtype)
    want = _exact_activation(x, activation).astype(dtype)
    rtol = 2e-6 if dtype == np.float32 else 1e-13
    for j in (0, H // 2, H - 1):
        np.testing.assert_allclose(h[:, j], want, rtol=rtol, atol=finfo.tiny,
                                   err_msg="%s column %d" % (simd_path, j))
    assert not np.isnan(h).any()
    if activation != "relu":
        assert np.all((h >= -1) & (h <= 1))
