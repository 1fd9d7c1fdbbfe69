"""The compiled ``rnnscratch.TimeRNN`` (and ``_core.time_rnn_forward`` /
``_core.time_rnn_backward``) against the NumPy reference, and the course
behaviour of the class (state, identity of grads, params read at each call)."""

import numpy as np
import pytest

import rnnscratch
from rnnscratch import reference as R

DTYPES = [np.float32, np.float64]

WORKED_X = np.array([[[1, 2], [2, 3], [3, 4]]]) / 100
WORKED_WX = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100
WORKED_WH = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) / 100
WORKED_B = np.array([1, 1, 1, 1])  # integers, as in the course
WORKED_FIRST = [0.76188798, 0.76213958, 0.76239095, 0.76255841]
WORKED_LAST = [[0.79494228, 0.81839002, 0.83939649, 0.85584174]]


def _masks_agree(a, b):
    return np.array_equal(np.asarray(a) > 0, np.asarray(b) > 0)


def _f64(*arrays):
    return [None if a is None else np.asarray(a, dtype=np.float64) for a in arrays]


def _run_pair(Wx, Wh, b, xs, h0, dhs, activation, layout, tools):
    """Forward+backward on the reference (C order) and on the compiled class
    (every array in ``layout``).  h0 None = stateless.  The reference runs in
    float64 from the same (possibly float32) numbers: the compiled float32
    results are then judged against the exact values, not against a second
    float32 rounding."""
    ref = R.TimeRNN(*_f64(Wx, Wh, b), stateful=h0 is not None, activation=activation)
    L = lambda a: None if a is None else tools.with_layout(a, layout)
    layer = rnnscratch.TimeRNN(L(Wx), L(Wh), L(b), stateful=h0 is not None,
                               activation=activation)
    if h0 is not None:
        ref.set_state(h0)
        layer.set_state(L(h0))
    hs_ref = ref.forward(xs)
    hs = layer.forward(L(xs))
    return ref, layer, hs_ref, hs, L


# --------------------------------------------------------------------------
# compiled class vs reference on random shapes, dtypes, layouts
# --------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_time_rnn_matches_reference(seq_shape, dtype, activation, rng, tools):
    N, T, D, H = seq_shape
    cases = [(bias, layout) for bias in (True, False) for layout in tools.LAYOUTS]
    for i, (bias, layout) in enumerate(cases):
        stateful = i % 2 == 1  # half of the cases start from a given h0
        for attempt in range(5):
            Wx, Wh, b = tools.make_weights(rng, D, H, dtype=dtype, bias=bias)
            xs = tools.randn(rng, (N, T, D), dtype)
            h0 = tools.randn(rng, (N, H), dtype) * dtype(0.5) if stateful else None
            dhs = tools.randn(rng, (N, T, H), dtype)
            ref, layer, hs_ref, hs, L = _run_pair(Wx, Wh, b, xs, h0, dhs, activation,
                                                  layout, tools)
            # relu: a pre-activation rounding to the other side of 0 in one of
            # the two implementations flips a derivative; not a bug, redraw
            if activation != "relu" or _masks_agree(hs, hs_ref):
                break
        else:
            pytest.fail("relu masks kept disagreeing: forward is wrong")
        what = "bias=%s layout=%s stateful=%s" % (bias, layout, stateful)
        assert hs.dtype == np.dtype(dtype), what
        tools.assert_close(hs, hs_ref, dtype, "hs " + what)
        tools.assert_close(layer.h, ref.h, dtype, "h " + what)

        dxs = layer.backward(L(dhs))
        dxs_ref = ref.backward(dhs)
        assert dxs.dtype == np.dtype(dtype), what
        tools.assert_close(dxs, dxs_ref, dtype, "dxs " + what)
        tools.assert_close(layer.dh, ref.dh, dtype, "dh " + what)
        assert len(layer.grads) == (3 if bias else 2)
        for name, g, gr in zip(("dWx", "dWh", "db"), layer.grads, ref.grads):
            assert g.dtype == np.dtype(dtype), name
            tools.assert_close(g, gr, dtype, name + " " + what, terms=N * T)


@pytest.mark.parametrize("stateful", [False, True])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("N, T", [(0, 5), (3, 0), (0, 0)])
def test_time_rnn_empty(N, T, dtype, stateful, rng, tools):
    D, H = 3, 4
    Wx, Wh, b = tools.make_weights(rng, D, H, dtype=dtype)
    layer = rnnscratch.TimeRNN(Wx, Wh, b, stateful=stateful)
    ref = R.TimeRNN(Wx, Wh, b, stateful=stateful)
    h0 = tools.randn(rng, (N, H), dtype)
    if stateful:
        layer.set_state(h0)
        ref.set_state(h0)
    for g in layer.grads:
        g[...] = 5
    hs = layer.forward(np.zeros((N, T, D), dtype))
    assert hs.shape == (N, T, H) and hs.dtype == np.dtype(dtype)
    assert layer.h.shape == (N, H)
    hs_ref = ref.forward(np.zeros((N, T, D), dtype))
    tools.assert_close(layer.h, ref.h, dtype, "h")
    if T == 0:
        np.testing.assert_array_equal(layer.h, h0 if stateful else 0)
    else:
        tools.assert_close(layer.h, hs_ref[:, -1], dtype, "h")
    dxs = layer.backward(np.zeros((N, T, H), dtype))
    assert dxs.shape == (N, T, D) and dxs.dtype == np.dtype(dtype)
    assert np.asarray(layer.dh).shape == (N, H)
    np.testing.assert_array_equal(layer.dh, 0)
    for g in layer.grads:
        np.testing.assert_array_equal(g, 0)


def test_time_rnn_mixed_input_dtypes_are_cast(rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 5, dtype=np.float32)
    xs = rng.standard_normal((4, 6, 3))  # float64 input, float32 params
    layer, ref = rnnscratch.TimeRNN(Wx, Wh, b), R.TimeRNN(Wx, Wh, b)
    hs = layer.forward(xs)
    assert hs.dtype == np.float32
    tools.assert_close(hs, ref.forward(xs), np.float32)
    dhs = rng.integers(-2, 3, (4, 6, 5))  # integer gradient input
    tools.assert_close(layer.backward(dhs), ref.backward(dhs), np.float32)
    for g, gr in zip(layer.grads, ref.grads):
        tools.assert_close(g, gr, np.float32)


# --------------------------------------------------------------------------
# the course's worked example and course behaviour (compiled and reference)
# --------------------------------------------------------------------------

def test_worked_example(impl):
    layer = impl.TimeRNN(WORKED_WX, WORKED_WH, WORKED_B)
    hs = layer.forward(WORKED_X)
    assert hs.shape == (1, 3, 4) and hs.dtype == np.float64
    np.testing.assert_allclose(hs[:, -1], WORKED_LAST, rtol=0, atol=5.1e-9)
    np.testing.assert_allclose(hs[0, 0], WORKED_FIRST, rtol=0, atol=5.1e-9)
    np.testing.assert_allclose(layer.h, WORKED_LAST, rtol=0, atol=5.1e-9)
    assert all(g.dtype == np.float64 for g in layer.grads)


def test_worked_example_float32_params(impl):
    layer = impl.TimeRNN(WORKED_WX.astype("f"), WORKED_WH.astype("f"), WORKED_B.astype("f"))
    hs = layer.forward(WORKED_X)
    assert hs.dtype == np.float32
    np.testing.assert_allclose(hs[:, -1], WORKED_LAST, rtol=0, atol=2e-7)


def test_course_language_model_usage(impl, rng):
    """The way the course's RNNLM builds and drives TimeRNN (float32 weights,
    stateful, truncated BPTT, grads read by an optimizer)."""
    V, D, H, N, T = 10, 6, 8, 4, 5
    rn = np.random.default_rng(1).standard_normal
    rnn_Wx = (rn((D, H)) / np.sqrt(D)).astype("f")
    rnn_Wh = (rn((H, H)) / np.sqrt(H)).astype("f")
    rnn_b = np.zeros(H).astype("f")
    layer = impl.TimeRNN(rnn_Wx, rnn_Wh, rnn_b, stateful=True)
    params, grads = layer.params, layer.grads
    for _ in range(3):
        xs = rng.standard_normal((N, T, D)).astype("f")
        hs = layer.forward(xs)
        assert hs.dtype == np.float32 and hs.shape == (N, T, H)
        dxs = layer.backward(np.ones_like(hs))
        assert dxs.dtype == np.float32 and dxs.shape == (N, T, D)
        for p, g in zip(params, grads):  # SGD, in place, through the shared lists
            p -= 0.1 * g
    assert layer.params[0] is rnn_Wx
    layer.reset_state()
    assert layer.h is None


def test_time_rnn_attributes(impl, rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 4)
    layer = impl.TimeRNN(Wx, Wh, b)
    assert layer.params[0] is Wx and layer.params[1] is Wh and layer.params[2] is b
    assert layer.h is None and layer.dh is None and layer.stateful is False
    assert layer.activation == "tanh"
    assert [g.shape for g in layer.grads] == [(3, 4), (4, 4), (4,)]
    assert all(g.dtype == np.float64 and not g.any() for g in layer.grads)
    layer = impl.TimeRNN(Wx, Wh, b, True)  # stateful positionally, as in the course
    assert layer.stateful is True
    layer = impl.TimeRNN(Wx, Wh, None, activation="relu")
    assert len(layer.params) == 2 and len(layer.grads) == 2 and layer.activation == "relu"
    layer.forward(rng.standard_normal((2, 3, 3)))
    layer.backward(np.ones((2, 3, 4)))


def test_time_rnn_grads_keep_identity(impl, rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 4)
    layer = impl.TimeRNN(Wx, Wh, b, activation="tanh")
    ref = R.TimeRNN(Wx, Wh, b)
    held = list(layer.grads)
    ids = [id(g) for g in layer.grads]
    for i in range(25):
        T = 1 + i % 6
        xs, dhs = rng.standard_normal((5, T, 3)), rng.standard_normal((5, T, 4))
        layer.forward(xs)
        layer.backward(dhs)
        ref.forward(xs)
        ref.backward(dhs)
        assert [id(g) for g in layer.grads] == ids
        for h, g, r in zip(held, layer.grads, ref.grads):
            assert h is g
            np.testing.assert_allclose(h, r, rtol=1e-12, atol=1e-14)  # not accumulated


def test_time_rnn_params_are_read_at_each_call(impl, rng, tools):
    Wx, Wh, b = tools.make_weights(rng, 3, 4)
    layer = impl.TimeRNN(Wx, Wh, b)
    xs = rng.standard_normal((2, 5, 3))
    hs1 = layer.forward(xs).copy()
    Wh *= -1.5                                      # in-place edit
    b += 0.25
    hs2 = layer.forward(xs)
    np.testing.assert_allclose(hs2, R.TimeRNN(Wx, Wh, b).forward(xs), rtol=1e-12, atol=1e-14)
    assert not np.allclose(hs1, hs2)
    newWx = rng.standard_normal((3, 4)) * 0.3       # replacement
    layer.params[0] = newWx
    hs3 = layer.forward(xs)
    ref = R.TimeRNN(newWx, Wh, b)
    np.testing.assert_allclose(hs3, ref.forward(xs), rtol=1e-12, atol=1e-14)
    dhs = rng.standard_normal((2, 5, 4))
    np.testing.assert_allclose(layer.backward(dhs), ref.backward(dhs), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.grads[0], ref.grads[0], rtol=1e-12, atol=1e-14)
    # every parameter replaced by float32 arrays: the compute dtype follows
    layer.params[:] = [p.astype(np.float32) for p in layer.params]
    assert layer.forward(xs).dtype == np.float32


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_stateful_carries_h_across_calls(impl, rng, tools, activation):
    N, T, D, H = 3, 8, 4, 5
    Wx, Wh, b = tools.make_weights(rng, D, H)
    xs = rng.standard_normal((N, T, D))
    whole = impl.TimeRNN(Wx, Wh, b, activation=activation).forward(xs)

    layer = impl.TimeRNN(Wx, Wh, b, stateful=True, activation=activation)
    first = layer.forward(xs[:, :T // 2])
    np.testing.assert_allclose(layer.h, first[:, -1], rtol=1e-13, atol=1e-15)
    second = layer.forward(xs[:, T // 2:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole,
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.h, whole[:, -1], rtol=1e-12, atol=1e-14)

    # stateless restarts from zeros at every call
    stateless = impl.TimeRNN(Wx, Wh, b, activation=activation)
    stateless.forward(xs[:, :T // 2])
    again = stateless.forward(xs[:, T // 2:])
    fresh = impl.TimeRNN(Wx, Wh, b, activation=activation).forward(xs[:, T // 2:])
    np.testing.assert_allclose(again, fresh, rtol=1e-13, atol=1e-15)
    assert not np.allclose(again, whole[:, T // 2:])
    np.testing.assert_allclose(stateless.h, again[:, -1], rtol=1e-13, atol=1e-15)


def test_stateful_truncated_bptt_gradients(impl, rng, tools):
    """Backward of the second block gives dh = gradient w.r.t. the carried state."""
    N, T, D, H = 2, 6, 3, 4
    Wx, Wh, b = tools.make_weights(rng, D, H)
    xs = rng.standard_normal((N, 2 * T, D))
    dhs = rng.standard_normal((N, T, H))
    layer = impl.TimeRNN(Wx, Wh, b, stateful=True)
    layer.forward(xs[:, :T])
    h_carried = np.array(layer.h)
    layer.forward(xs[:, T:])
    dxs = layer.backward(dhs)
    ref = R.TimeRNN(Wx, Wh, b, stateful=True)
    ref.set_state(h_carried)
    ref.forward(xs[:, T:])
    np.testing.assert_allclose(dxs, ref.backward(dhs), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.dh, ref.dh, rtol=1e-12, atol=1e-14)
    for g, gr in zip(layer.grads, ref.grads):
        np.testing.assert_allclose(g, gr, rtol=1e-12, atol=1e-14)


def test_set_state_and_reset_state(impl, rng, tools):
    N, T, D, H = 2, 4, 3, 5
    Wx, Wh, b = tools.make_weights(rng, D, H)
    xs = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    h0_copy = h0.copy()
    ref = R.TimeRNN(Wx, Wh, b, stateful=True)
    ref.set_state(h0)
    expected = ref.forward(xs)

    layer = impl.TimeRNN(Wx, Wh, b, stateful=True)
    layer.set_state(h0)
    assert layer.h is h0
    np.testing.assert_allclose(layer.forward(xs), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(h0, h0_copy)  # the user's array is not modified
    layer.set_state(np.asfortranarray(h0))       # any layout
    np.testing.assert_allclose(layer.forward(xs), expected, rtol=1e-12, atol=1e-14)
    layer.set_state(h0.astype(np.float32))       # cast to the compute dtype
    np.testing.assert_allclose(layer.forward(xs), expected, rtol=1e-6, atol=1e-7)

    layer.reset_state()
    assert layer.h is None
    zeros_start = impl.TimeRNN(Wx, Wh, b).forward(xs)
    np.testing.assert_allclose(layer.forward(xs), zeros_start, rtol=1e-13, atol=1e-15)

    # a stateless layer ignores a state set by set_state
    stateless = impl.TimeRNN(Wx, Wh, b)
    stateless.set_state(h0)
    np.testing.assert_allclose(stateless.forward(xs), zeros_start, rtol=1e-13, atol=1e-15)

    # T == 0 keeps the state
    layer.set_state(h0)
    layer.forward(np.zeros((N, 0, D)))
    np.testing.assert_array_equal(layer.h, h0)


# --------------------------------------------------------------------------
# _core.time_rnn_forward / time_rnn_backward
# --------------------------------------------------------------------------

def _core_problem(rng, tools, N=3, T=5, D=4, H=6, dtype=np.float64, activation="tanh",
                  bias=True, with_h0=True):
    Wx, Wh, b = tools.make_weights(rng, D, H, dtype=dtype, bias=bias)
    xs = tools.randn(rng, (N, T, D), dtype)
    h0 = tools.randn(rng, (N, H), dtype) if with_h0 else None
    dhs = tools.randn(rng, (N, T, H), dtype)
    ref = R.TimeRNN(Wx, Wh, b, stateful=True, activation=activation)
    if with_h0:
        ref.set_state(h0)
    hs = ref.forward(xs)
    dxs = ref.backward(dhs)
    return dict(xs=xs, h0=h0, hs=hs, dhs=dhs, Wx=Wx, Wh=Wh, b=b, dxs=dxs, dh0=ref.dh,
                dWx=ref.grads[0], dWh=ref.grads[1], db=ref.grads[2] if bias else None)


@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed", "permuted"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_core_time_rnn_matches_reference(core, rng, tools, layout, activation, dtype):
    for attempt in range(5):
        p = _core_problem(rng, tools, N=5, T=7, D=9, H=11, dtype=dtype, activation=activation)
        L = lambda a: tools.with_layout(a, layout)
        hs = core.time_rnn_forward(L(p["xs"]), L(p["h0"]), L(p["Wx"]), L(p["Wh"]), L(p["b"]),
                                   activation=activation)
        if activation != "relu" or _masks_agree(hs, p["hs"]):
            break
    assert hs.flags.c_contiguous and hs.dtype == np.dtype(dtype)
    tools.assert_close(hs, p["hs"], dtype, "hs")
    dWx, dWh, db = (L(np.zeros(s, dtype)) for s in ((9, 11), (11, 11), (11,)))
    dxs, dh0 = core.time_rnn_backward(L(p["dhs"]), L(p["xs"]), L(p["h0"]), L(hs),
                                      L(p["Wx"]), L(p["Wh"]), dWx, dWh, db,
                                      activation=activation)
    assert dxs.flags.c_contiguous and dh0.flags.c_contiguous
    assert dxs.dtype == np.dtype(dtype) and dh0.dtype == np.dtype(dtype)
    got = dict(dxs=dxs, dh0=dh0, dWx=dWx, dWh=dWh, db=db)
    for name, value in got.items():
        tools.assert_close(value, p[name], dtype, name)


def test_core_time_rnn_h0_none_and_no_bias(core, rng, tools):
    p = _core_problem(rng, tools, bias=False, with_h0=False)
    hs = core.time_rnn_forward(p["xs"], None, p["Wx"], p["Wh"])
    tools.assert_close(hs, p["hs"], np.float64, "hs")
    np.testing.assert_allclose(
        hs, core.time_rnn_forward(p["xs"], np.zeros((3, 6)), p["Wx"], p["Wh"], None),
        rtol=0, atol=0)
    dWx, dWh = np.zeros((4, 6)), np.zeros((6, 6))
    dxs, dh0 = core.time_rnn_backward(p["dhs"], p["xs"], None, hs, p["Wx"], p["Wh"],
                                      dWx, dWh)
    for name, value in dict(dxs=dxs, dh0=dh0, dWx=dWx, dWh=dWh).items():
        tools.assert_close(value, p[name], np.float64, name)


@pytest.mark.parametrize("kind", ["F", "strided", "reversed", "permuted",
                                  "f32_buffers_f64_compute", "f64_buffers_f32_compute"])
def test_core_time_rnn_backward_write_back(core, rng, tools, kind):
    compute = np.float32 if kind == "f64_buffers_f32_compute" else np.float64
    p = _core_problem(rng, tools, N=4, T=6, D=5, H=7, dtype=compute)
    shapes = ((5, 7), (7, 7), (7,))
    if kind == "f32_buffers_f64_compute":
        bufs = [np.zeros(s, np.float32) for s in shapes]
    elif kind == "f64_buffers_f32_compute":
        bufs = [np.zeros(s, np.float64) for s in shapes]
    else:
        bufs = [tools.with_layout(np.zeros(s, compute), kind) for s in shapes]
    bases = [b.base for b in bufs]
    snapshot = [None if bb is None else bb.copy() for bb in bases]
    dxs, dh0 = core.time_rnn_backward(p["dhs"], p["xs"], p["h0"], p["hs"],
                                      p["Wx"], p["Wh"], *bufs)
    tol = np.float32 if np.float32 in (compute, bufs[0].dtype) else np.float64
    for name, buf in zip(("dWx", "dWh", "db"), bufs):
        tools.assert_close(buf, p[name], tol, name + " " + kind)
    if kind == "strided":  # nothing outside the view was touched (still NaN)
        for base, snap in zip(bases, snapshot):
            mask = np.ones(base.shape, bool)
            mask[tuple(slice(1, None, 2) for _ in base.shape)] = False
            np.testing.assert_array_equal(base[mask], snap[mask])
    tools.assert_close(dxs, p["dxs"], compute, "dxs")
    tools.assert_close(dh0, p["dh0"], compute, "dh0")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_core_time_rnn_backward_accumulate(core, rng, tools, dtype):
    p = _core_problem(rng, tools, dtype=dtype)
    start = [tools.randn(rng, s, dtype) for s in ((4, 6), (6, 6), (6,))]
    bufs = [tools.with_layout(s, "F") for s in start]
    args = (p["dhs"], p["xs"], p["h0"], p["hs"], p["Wx"], p["Wh"])
    core.time_rnn_backward(*args, *bufs, accumulate=True)
    for name, buf, s in zip(("dWx", "dWh", "db"), bufs, start):
        tools.assert_close(buf, s + p[name], dtype, name)
    core.time_rnn_backward(*args, *bufs, accumulate=True)  # twice: two gradients added
    for name, buf, s in zip(("dWx", "dWh", "db"), bufs, start):
        tools.assert_close(buf, s + 2 * p[name], dtype, name)
    core.time_rnn_backward(*args, *bufs)  # default: overwrite
    for name, buf in zip(("dWx", "dWh", "db"), bufs):
        tools.assert_close(buf, p[name], dtype, name)


@pytest.mark.parametrize("params_dtype, expected", [
    ((np.float32, np.float32, np.float32), np.float32),
    ((np.float16, np.float16, np.float16), np.float32),
    ((np.float64, np.float64, np.int64), np.float64),
    ((np.int32, np.int32, np.int32), np.float64),
    ((np.float32, np.float32, np.int64), np.float64),
])
def test_core_time_rnn_compute_dtype(core, rng, params_dtype, expected):
    Wx = (rng.standard_normal((3, 4)) * 2).astype(params_dtype[0])
    Wh = (rng.standard_normal((4, 4)) * 0.5).astype(params_dtype[1])
    b = (rng.standard_normal(4) * 2).astype(params_dtype[2])
    xs = rng.standard_normal((2, 5, 3))
    hs = core.time_rnn_forward(xs, None, Wx, Wh, b)
    assert hs.dtype == expected and hs.flags.c_contiguous
    ref = R.TimeRNN(Wx, Wh, b).forward(xs)
    assert ref.dtype == expected
    np.testing.assert_allclose(hs, ref, rtol=1e-5 if expected == np.float32 else 1e-12,
                               atol=1e-6 if expected == np.float32 else 1e-14)
    dWx, dWh, db = np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4)
    dxs, dh0 = core.time_rnn_backward(np.ones((2, 5, 4)), xs, None, hs, Wx, Wh, dWx, dWh, db)
    # backward takes no b: its compute dtype can only follow (Wx, Wh)
    if np.result_type(Wx, Wh) == np.result_type(Wx, Wh, b):
        assert dxs.dtype == expected and dh0.dtype == expected


def test_core_time_rnn_repeatable_and_new_arrays(core, rng, tools):
    p = _core_problem(rng, tools, N=8, T=12, D=16, H=32)
    a = core.time_rnn_forward(p["xs"], p["h0"], p["Wx"], p["Wh"], p["b"])
    b = core.time_rnn_forward(p["xs"], p["h0"], p["Wx"], p["Wh"], p["b"])
    np.testing.assert_array_equal(a, b)  # bit-identical
    assert not np.shares_memory(a, b) and not np.shares_memory(a, p["xs"])
    g1 = [np.zeros((16, 32)), np.zeros((32, 32)), np.zeros(32)]
    g2 = [np.zeros((16, 32)), np.zeros((32, 32)), np.zeros(32)]
    r1 = core.time_rnn_backward(p["dhs"], p["xs"], p["h0"], a, p["Wx"], p["Wh"], *g1)
    r2 = core.time_rnn_backward(p["dhs"], p["xs"], p["h0"], a, p["Wx"], p["Wh"], *g2)
    for x, y in zip(list(r1) + g1, list(r2) + g2):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("params_dtype, expected", [
    ((np.float32, np.float32, np.float32), np.float32),
    ((np.float16, np.float16, np.float16), np.float32),
    ((np.float64, np.float64, np.float64), np.float64),
    ((np.int64, np.int64, np.int64), np.float64),
    ((np.float32, np.float32, np.int64), np.float64),    # the worked example's int bias
    ((np.float32, np.float32, np.float64), np.float64),
])
def test_class_compute_dtype_rule(impl, rng, params_dtype, expected):
    """One compute dtype, np.result_type(*params) -> float32/float64, for
    everything a layer returns or writes, forward and backward alike."""
    Wx = (rng.standard_normal((3, 4)) * 2).astype(params_dtype[0])
    Wh = (rng.standard_normal((4, 4)) * 0.5).astype(params_dtype[1])
    b = (rng.standard_normal(4) * 2).astype(params_dtype[2])
    layer = impl.TimeRNN(Wx, Wh, b)
    assert [g.dtype for g in layer.grads] == [np.dtype(expected)] * 3
    xs = rng.standard_normal((2, 5, 3)).astype(np.float32)
    hs = layer.forward(xs)
    dxs = layer.backward(np.ones((2, 5, 4), np.float32))
    assert (hs.dtype, dxs.dtype, layer.dh.dtype) == (np.dtype(expected),) * 3
    ref = R.TimeRNN(Wx, Wh, b)
    tol = dict(rtol=1e-5, atol=1e-5) if expected == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(hs, ref.forward(xs), **tol)
    np.testing.assert_allclose(dxs, ref.backward(np.ones((2, 5, 4))), **tol)
    for g, r in zip(layer.grads, ref.grads):
        np.testing.assert_allclose(g, r, **tol)

    step = impl.RNN(Wx, Wh, b)
    h = step.forward(xs[:, 0], np.zeros((2, 4), np.float32))
    dx, dh_prev = step.backward(np.ones((2, 4)))
    assert (h.dtype, dx.dtype, dh_prev.dtype) == (np.dtype(expected),) * 3


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_core_every_simd_path_matches_reference(core, simd_path, rng, tools, dtype,
                                                activation):
    """Sizes off the SIMD/blocking grid, on each kernel path the CPU offers."""
    for N, T, D, H in [(1, 3, 1, 2), (3, 5, 17, 33), (9, 4, 31, 15), (16, 3, 64, 65),
                       (2, 2, 100, 7)]:
        for attempt in range(5):
            p = _core_problem(rng, tools, N=N, T=T, D=D, H=H, dtype=dtype,
                              activation=activation)
            hs = core.time_rnn_forward(p["xs"], p["h0"], p["Wx"], p["Wh"], p["b"],
                                       activation=activation)
            if activation != "relu" or _masks_agree(hs, p["hs"]):
                break
        what = "%s N%d T%d D%d H%d" % (simd_path, N, T, D, H)
        tools.assert_close(hs, p["hs"], dtype, "hs " + what)
        bufs = [tools.with_layout(np.zeros(s, dtype), "F") for s in ((D, H), (H, H), (H,))]
        dxs, dh0 = core.time_rnn_backward(p["dhs"], p["xs"], p["h0"], hs, p["Wx"], p["Wh"],
                                          *bufs, activation=activation)
        for name, value in zip(("dxs", "dh0", "dWx", "dWh", "db"), [dxs, dh0] + bufs):
            tools.assert_close(value, p[name], dtype, name + " " + what)
        # the one-step kernels too
        x, h_prev = p["xs"][:, 0], p["h0"]
        h = core.rnn_forward(x, h_prev, p["Wx"], p["Wh"], p["b"], activation=activation)
        ref = R.RNN(p["Wx"], p["Wh"], p["b"], activation=activation)
        h_ref = ref.forward(x, h_prev)
        if activation == "relu" and not _masks_agree(h, h_ref):
            continue
        tools.assert_close(h, h_ref, dtype, "h_next " + what)
        g = p["dhs"][:, 0]
        bufs = [np.zeros(s, dtype) for s in ((D, H), (H, H), (H,))]
        dx, dh_prev = core.rnn_backward(g, x, h_prev, h, p["Wx"], p["Wh"], *bufs,
                                        activation=activation)
        rdx, rdh = ref.backward(g)
        for name, value, want in zip(("dx", "dh_prev", "dWx", "dWh", "db"),
                                     [dx, dh_prev] + bufs, [rdx, rdh] + ref.grads):
            tools.assert_close(value, want, dtype, name + " " + what)


def _unaligned(a):
    """A copy of ``a`` in a buffer that starts one byte off alignment."""
    buf = bytearray(a.nbytes + 1)
    out = np.frombuffer(buf, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    out[...] = a
    return out


@pytest.mark.parametrize("kind", ["big_endian", "unaligned", "lists", "broadcast"])
def test_core_unusual_memory(core, rng, tools, kind):
    """Byte-swapped, unaligned, nested-list and 0-stride (broadcast) arrays in;
    byte-swapped and unaligned gradient buffers written back."""
    p = _core_problem(rng, tools, N=3, T=4, D=5, H=6, with_h0=False)
    if kind == "broadcast":  # every time step gets the same input
        p["xs"] = np.broadcast_to(p["xs"][:, :1], p["xs"].shape)
        ref = R.TimeRNN(p["Wx"], p["Wh"], p["b"])
        p["hs"] = ref.forward(np.ascontiguousarray(p["xs"]))
        p["dxs"] = ref.backward(p["dhs"])
        p["dh0"], p["dWx"], p["dWh"], p["db"] = ref.dh, *ref.grads
    conv = {
        "big_endian": lambda a: a.astype(a.dtype.newbyteorder(">")),
        "unaligned": _unaligned,
        "lists": lambda a: a.tolist(),
        "broadcast": lambda a: a,
    }[kind]
    C = lambda name: conv(p[name]) if kind != "broadcast" or name != "xs" else p[name]
    hs = core.time_rnn_forward(C("xs"), None, C("Wx"), C("Wh"), C("b"))
    assert hs.dtype == np.float64 and hs.dtype.isnative and hs.flags.c_contiguous
    tools.assert_close(hs, p["hs"], np.float64, "hs")
    shapes = ((5, 6), (6, 6), (6,))
    if kind in ("big_endian", "unaligned"):
        bufs = [conv(np.zeros(s)) for s in shapes]
    else:
        bufs = [np.zeros(s) for s in shapes]
    dxs, dh0 = core.time_rnn_backward(C("dhs"), C("xs"), None, conv(hs) if kind != "broadcast"
                                      else hs, C("Wx"), C("Wh"), *bufs)
    for name, value in zip(("dxs", "dh0", "dWx", "dWh", "db"), [dxs, dh0] + bufs):
        tools.assert_close(value, p[name], np.float64, name + " " + kind)


@pytest.mark.parametrize("alias", ["dWx_is_Wx", "dWh_is_Wh", "db_is_b", "dWh_is_view_of_Wh"])
def test_core_gradient_buffer_aliasing_a_parameter(core, rng, tools, alias):
    """A gradient buffer that is also a parameter: either refused with a
    ValueError, or every result computed from the parameters' old values."""
    p = _core_problem(rng, tools, N=3, T=4, D=5, H=6, with_h0=True)
    Wx, Wh, b = p["Wx"].copy(), p["Wh"].copy(), p["b"].copy()
    bufs = {"dWx": np.zeros((5, 6)), "dWh": np.zeros((6, 6)), "db": np.zeros(6)}
    if alias == "dWx_is_Wx":
        bufs["dWx"] = Wx
    elif alias == "dWh_is_Wh":
        bufs["dWh"] = Wh
    elif alias == "db_is_b":
        bufs["db"] = b
    else:
        big = np.zeros((6, 12))
        big[:, ::2] = Wh
        Wh = big[:, ::2]
        bufs["dWh"] = big[:, ::2]
    try:
        dxs, dh0 = core.time_rnn_backward(p["dhs"], p["xs"], p["h0"], p["hs"], Wx, Wh,
                                          bufs["dWx"], bufs["dWh"], bufs["db"])
    except ValueError:
        return
    for name in ("dWx", "dWh", "db"):
        tools.assert_close(bufs[name], p[name], np.float64, name)
    tools.assert_close(dxs, p["dxs"], np.float64, "dxs")
    tools.assert_close(dh0, p["dh0"], np.float64, "dh0")
