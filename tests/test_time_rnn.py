"""``TimeRNN`` (compiled and reference): the course's worked example and usage,
the class's state semantics (stateful, set_state/reset_state, truncated BPTT,
params read at each call), its compute-dtype rule, and kernel properties no class
shows (unaligned/byte-swapped/list/broadcast memory, gradient buffers aliasing a
parameter). Compiled against reference on any shape, dtype, layout and SIMD path,
sizes 0, accumulate, errors, gradients and threads: the registry suites
(tests/registry.py TimeRNNEntry, test_simd_paths.py; notes/tests-merged.md)."""

import numpy as np
import pytest

from rnnscratch import reference as R

WORKED_X = np.array([[[1, 2], [2, 3], [3, 4]]]) / 100
WORKED_WX = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100
WORKED_WH = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) / 100
WORKED_B = np.array([1, 1, 1, 1])  # integers, as in the course
WORKED_FIRST = [0.76188798, 0.76213958, 0.76239095, 0.76255841]
WORKED_LAST = [[0.79494228, 0.81839002, 0.83939649, 0.85584174]]


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


@pytest.mark.parametrize("params_dtype, expected", [
    ((np.float32, np.float32, np.float32), np.float32),
    ((np.float16, np.float16, np.float16), np.float32),
    ((np.float64, np.float64, np.float64), np.float64),
    ((np.int64, np.int64, np.int64), np.float64),
    ((np.float32, np.float32, np.int64), np.float64),    # the worked example's int bias
    ((np.float32, np.float32, np.float64), np.float64),
    ((np.float16, np.float32, np.float16), np.float32),
    ((np.float32, np.float64, np.float32), np.float64),
    ((np.float64, np.float64, np.int64), np.float64),
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
