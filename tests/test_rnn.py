"""The compiled one-step ``rnnscratch.RNN`` (and ``_core.rnn_forward`` /
``_core.rnn_backward``) against the NumPy reference."""

import numpy as np
import pytest

import rnnscratch
from rnnscratch import reference as R

DTYPES = [np.float32, np.float64]


def _masks_agree(a, b):
    return np.array_equal(np.asarray(a) > 0, np.asarray(b) > 0)


# --------------------------------------------------------------------------
# compiled class vs reference on random shapes, dtypes, layouts
# --------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_rnn_matches_reference(rnn_shape, dtype, activation, rng, tools):
    N, D, H = rnn_shape
    for bias in (True, False):
        for layout in tools.LAYOUTS:
            for attempt in range(5):
                Wx, Wh, b = tools.make_weights(rng, D, H, dtype=dtype, bias=bias)
                x = tools.randn(rng, (N, D), dtype)
                h_prev = tools.randn(rng, (N, H), dtype) * dtype(0.5)
                dh_next = tools.randn(rng, (N, H), dtype)

                # the oracle runs in float64 from the same numbers (exact values
                # for the float32 case, not a second float32 rounding)
                ref = R.RNN(*(None if a is None else a.astype(np.float64)
                              for a in (Wx, Wh, b)), activation=activation)
                h_ref = ref.forward(x, h_prev)
                dx_ref, dhp_ref = ref.backward(dh_next)

                L = lambda a: None if a is None else tools.with_layout(a, layout)
                layer = rnnscratch.RNN(L(Wx), L(Wh), L(b), activation=activation)
                h = layer.forward(L(x), L(h_prev))
                # relu: a pre-activation that rounds to the other side of 0 in
                # the two implementations flips a derivative; not a bug, redraw
                if activation != "relu" or _masks_agree(h, h_ref):
                    break
            else:
                pytest.fail("relu masks kept disagreeing: forward is wrong")
            what = "bias=%s layout=%s" % (bias, layout)
            assert h.dtype == np.dtype(dtype), what
            tools.assert_close(h, h_ref, dtype, "h_next " + what)
            dx, dh_prev = layer.backward(L(dh_next))
            assert dx.dtype == np.dtype(dtype) and dh_prev.dtype == np.dtype(dtype)
            tools.assert_close(dx, dx_ref, dtype, "dx " + what)
            tools.assert_close(dh_prev, dhp_ref, dtype, "dh_prev " + what)
            assert len(layer.grads) == (3 if bias else 2)
            for name, g, gr in zip(("dWx", "dWh", "db"), layer.grads, ref.grads):
                assert g.dtype == np.dtype(dtype), name
                tools.assert_close(g, gr, dtype, name + " " + what, terms=N)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_rnn_empty_batch(dtype, rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 4, dtype=dtype)
    layer = rnnscratch.RNN(Wx, Wh, b)
    for g in layer.grads:
        g[...] = 5
    h = layer.forward(np.zeros((0, 3), dtype), np.zeros((0, 4), dtype))
    assert h.shape == (0, 4) and h.dtype == np.dtype(dtype)
    dx, dh_prev = layer.backward(np.zeros((0, 4), dtype))
    assert dx.shape == (0, 3) and dh_prev.shape == (0, 4)
    for g in layer.grads:  # overwritten with the (zero) gradient of an empty batch
        np.testing.assert_array_equal(g, 0)


def test_rnn_mixed_input_dtypes_are_cast(rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 5, dtype=np.float32)
    x = rng.standard_normal((4, 3))                 # float64 input, float32 params
    h_prev = rng.integers(-1, 2, (4, 5))            # integer input
    layer = rnnscratch.RNN(Wx, Wh, b)
    ref = R.RNN(Wx, Wh, b)
    h = layer.forward(x, h_prev)
    assert h.dtype == np.float32
    tools.assert_close(h, ref.forward(x, h_prev), np.float32)
    dx, dhp = layer.backward(np.ones((4, 5)))
    rdx, rdhp = ref.backward(np.ones((4, 5)))
    assert dx.dtype == np.float32
    tools.assert_close(dx, rdx, np.float32)
    tools.assert_close(dhp, rdhp, np.float32)


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


def test_rnn_grads_keep_identity(impl, rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 4)
    layer = impl.RNN(Wx, Wh, b, activation="sigmoid")
    ref = R.RNN(Wx, Wh, b, activation="sigmoid")
    held = list(layer.grads)
    ids = [id(g) for g in layer.grads]
    for _ in range(20):
        x, h_prev = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
        dh = rng.standard_normal((5, 4))
        layer.forward(x, h_prev)
        layer.backward(dh)
        ref.forward(x, h_prev)
        ref.backward(dh)
        assert [id(g) for g in layer.grads] == ids
        for h, g, r in zip(held, layer.grads, ref.grads):
            assert h is g
            np.testing.assert_allclose(h, r, rtol=1e-12, atol=1e-14)  # not accumulated


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
# _core.rnn_forward / rnn_backward
# --------------------------------------------------------------------------

def _core_problem(rng, tools, N=4, D=3, H=5, dtype=np.float64, activation="tanh"):
    Wx, Wh, b = tools.make_weights(rng, D, H, dtype=dtype)
    x = tools.randn(rng, (N, D), dtype)
    h_prev = tools.randn(rng, (N, H), dtype)
    dh_next = tools.randn(rng, (N, H), dtype)
    ref = R.RNN(Wx, Wh, b, activation=activation)
    h_next = ref.forward(x, h_prev)
    dx, dh_prev = ref.backward(dh_next)
    return dict(x=x, h_prev=h_prev, h_next=h_next, dh_next=dh_next, Wx=Wx, Wh=Wh, b=b,
                dx=dx, dh_prev=dh_prev, dWx=ref.grads[0], dWh=ref.grads[1], db=ref.grads[2])


@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed", "permuted"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_core_rnn_matches_reference(core, rng, tools, layout, activation):
    p = _core_problem(rng, tools, N=6, D=7, H=9, activation=activation)
    L = lambda a: tools.with_layout(a, layout)
    h = core.rnn_forward(L(p["x"]), L(p["h_prev"]), L(p["Wx"]), L(p["Wh"]), L(p["b"]),
                         activation=activation)
    assert h.flags.c_contiguous and h.dtype == np.float64
    tools.assert_close(h, p["h_next"], np.float64, "h_next")
    dWx, dWh, db = L(np.zeros((7, 9))), L(np.zeros((9, 9))), L(np.zeros(9))
    dx, dh_prev = core.rnn_backward(L(p["dh_next"]), L(p["x"]), L(p["h_prev"]), L(h),
                                    L(p["Wx"]), L(p["Wh"]), dWx, dWh, db,
                                    activation=activation)
    assert dx.flags.c_contiguous and dh_prev.flags.c_contiguous
    for name in ("dx", "dh_prev", "dWx", "dWh", "db"):
        tools.assert_close(locals()[name], p[name], np.float64, name)


def test_core_rnn_defaults_and_no_bias(core, rng, tools):
    Wx, Wh, _ = tools.make_weights(rng, 3, 4)
    x, h_prev = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    h = core.rnn_forward(x, h_prev, Wx, Wh)  # b=None, activation='tanh'
    np.testing.assert_allclose(h, np.tanh(x @ Wx + h_prev @ Wh), rtol=1e-12)
    dWx, dWh = np.zeros((3, 4)), np.zeros((4, 4))
    g = rng.standard_normal((2, 4))
    dx, dh_prev = core.rnn_backward(g, x, h_prev, h, Wx, Wh, dWx, dWh)
    dA = g * (1 - h ** 2)
    np.testing.assert_allclose(dx, dA @ Wx.T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dWh, h_prev.T @ dA, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("params_dtype, expected", [
    ((np.float32, np.float32, np.float32), np.float32),
    ((np.float16, np.float16, np.float16), np.float32),
    ((np.float64, np.float64, np.int64), np.float64),
    ((np.int64, np.int64, np.int64), np.float64),
    ((np.float32, np.float32, np.int64), np.float64),
    ((np.float32, np.float64, np.float32), np.float64),
])
def test_core_rnn_compute_dtype(core, rng, params_dtype, expected):
    Wx = (rng.standard_normal((3, 4)) * 2).astype(params_dtype[0])
    Wh = (rng.standard_normal((4, 4)) * 2).astype(params_dtype[1])
    b = (rng.standard_normal(4) * 2).astype(params_dtype[2])
    x = rng.standard_normal((2, 3))            # float64 input
    h_prev = np.zeros((2, 4), dtype=np.float32)
    h = core.rnn_forward(x, h_prev, Wx, Wh, b)
    assert h.dtype == expected
    cd = np.dtype(expected)
    want = np.tanh(x.astype(cd) @ Wx.astype(cd) + b.astype(cd))
    np.testing.assert_allclose(h, want, rtol=1e-5 if cd == np.float32 else 1e-12, atol=1e-6)


@pytest.mark.parametrize("kind", ["F", "strided", "reversed", "f32_buffers_f64_compute",
                                  "f64_buffers_f32_compute"])
def test_core_rnn_backward_write_back(core, rng, tools, kind):
    compute = np.float32 if kind == "f64_buffers_f32_compute" else np.float64
    p = _core_problem(rng, tools, N=5, D=6, H=7, dtype=compute)
    if kind in ("F", "strided", "reversed"):
        bufs = [tools.with_layout(np.zeros(s, compute), kind) for s in ((6, 7), (7, 7), (7,))]
    elif kind == "f32_buffers_f64_compute":
        bufs = [np.zeros(s, np.float32) for s in ((6, 7), (7, 7), (7,))]
    else:
        bufs = [np.zeros(s, np.float64) for s in ((6, 7), (7, 7), (7,))]
    bases = [b.base for b in bufs]
    snapshot = [None if bb is None else bb.copy() for bb in bases]  # NaN outside the view
    dx, dh_prev = core.rnn_backward(p["dh_next"], p["x"], p["h_prev"], p["h_next"],
                                    p["Wx"], p["Wh"], *bufs)
    tol = np.float32 if np.float32 in (compute, bufs[0].dtype) else np.float64
    for name, buf in zip(("dWx", "dWh", "db"), bufs):
        tools.assert_close(buf, p[name], tol, name + " " + kind)
    if kind == "strided":  # nothing outside the view was touched
        for view, base, snap in zip(bufs, bases, snapshot):
            mask = np.ones(base.shape, bool)
            mask[tuple(slice(1, None, 2) for _ in base.shape)] = False
            np.testing.assert_array_equal(base[mask], snap[mask])  # NaN == NaN here
    tools.assert_close(dx, p["dx"], compute, "dx")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_core_rnn_backward_accumulate(core, rng, tools, dtype):
    p = _core_problem(rng, tools, dtype=dtype)
    start = [tools.randn(rng, s, dtype) for s in ((3, 5), (5, 5), (5,))]
    bufs = [s.copy() for s in start]
    core.rnn_backward(p["dh_next"], p["x"], p["h_prev"], p["h_next"], p["Wx"], p["Wh"],
                      *bufs, accumulate=True)
    for name, buf, s in zip(("dWx", "dWh", "db"), bufs, start):
        tools.assert_close(buf, s + p[name], dtype, name)
    # accumulate=False (the default) overwrites whatever was there
    core.rnn_backward(p["dh_next"], p["x"], p["h_prev"], p["h_next"], p["Wx"], p["Wh"],
                      *bufs, accumulate=False)
    for name, buf in zip(("dWx", "dWh", "db"), bufs):
        tools.assert_close(buf, p[name], dtype, name)


def test_core_rnn_db_none_not_computed(core, rng, tools):
    p = _core_problem(rng, tools)
    dWx, dWh = np.zeros((3, 5)), np.zeros((5, 5))
    dx, dh_prev = core.rnn_backward(p["dh_next"], p["x"], p["h_prev"], p["h_next"],
                                    p["Wx"], p["Wh"], dWx, dWh, None)
    tools.assert_close(dWx, p["dWx"], np.float64, "dWx")
    tools.assert_close(dh_prev, p["dh_prev"], np.float64, "dh_prev")


def test_core_rnn_outputs_are_new_arrays(core, rng, tools):
    p = _core_problem(rng, tools)
    h = core.rnn_forward(p["x"], p["h_prev"], p["Wx"], p["Wh"], p["b"])
    for a in (p["x"], p["h_prev"], p["Wx"], p["Wh"], p["b"]):
        assert not np.shares_memory(h, a)
    dWx, dWh, db = np.zeros((3, 5)), np.zeros((5, 5)), np.zeros(5)
    dx, dh_prev = core.rnn_backward(p["dh_next"], p["x"], p["h_prev"], h,
                                    p["Wx"], p["Wh"], dWx, dWh, db)
    assert dx.flags.c_contiguous and dh_prev.flags.c_contiguous
    assert not np.shares_memory(dh_prev, p["dh_next"]) and not np.shares_memory(dh_prev, h)
    # bit-identical when repeated
    np.testing.assert_array_equal(
        h, core.rnn_forward(p["x"], p["h_prev"], p["Wx"], p["Wh"], p["b"]))


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
