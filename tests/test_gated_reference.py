"""Tests of the pure-NumPy gated twins (rnnscratch.reference: LSTM, TimeLSTM, GRU,
TimeGRU, TimeDropout, TimeBiLSTM, TimeSigmoidWithLoss) on their own: the sequence
classes against their cells chained by hand, a cell by hand, stateful runs against
one long run, the bidirectional layer as two LSTMs, the dtype rule, the dropout's
draws from the global generator, the constructors' errors and the errors no
registry case reaches. Gradients (central differences), sizes 0, layouts and the
call errors: the registry suites (tests/registry.py; notes/tests-merged.md).
Comparisons with the book's own classes are in test_course_parity.py.
"""
import numpy as np
import pytest

from rnnscratch import reference as R

SEQ_SHAPES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 5, 1, 2), (1, 4, 3, 1), (4, 1, 2, 3)]  # (N, T, D, H)
GATES = {"LSTM": 4, "GRU": 3}


def gate_weights(rng, D, H, G, dtype=np.float64, scale=0.9):
    Wx = (rng.standard_normal((D, G * H)) / np.sqrt(D) * scale).astype(dtype)
    Wh = (rng.standard_normal((H, G * H)) / np.sqrt(H) * scale).astype(dtype)
    b = (rng.standard_normal(G * H) * 0.3).astype(dtype)
    return Wx, Wh, b


# --------------------------------------------------------------------------
# sequences = chained cells; stateful = one long run
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=lambda s: "N%d-T%d-D%d-H%d" % s)
def test_time_lstm_equals_chained_cells(rng, shape):
    N, T, D, H = shape
    Wx, Wh, b = gate_weights(rng, D, H, 4)
    xs, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    layer = R.TimeLSTM(Wx, Wh, b, stateful=True)
    layer.set_state(h0, c0)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)

    cells, h, c = [], h0, c0
    for t in range(T):
        cell = R.LSTM(Wx, Wh, b)
        h, c = cell.forward(xs[:, t], h, c)
        np.testing.assert_allclose(hs[:, t], h, rtol=1e-14, atol=1e-15)
        cells.append(cell)
    np.testing.assert_allclose(layer.h, h, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(layer.c, c, rtol=1e-14, atol=1e-15)
    dh, dc = np.zeros((N, H)), 0  # the book's TimeLSTM starts from dc = 0 (a scalar)
    sums = [np.zeros_like(g) for g in layer.grads]
    for t in reversed(range(T)):
        dx, dh, dc = cells[t].backward(dhs[:, t] + dh, dc)
        np.testing.assert_allclose(dxs[:, t], dx, rtol=1e-12, atol=1e-14)
        for acc, g in zip(sums, cells[t].grads):
            acc += g
    np.testing.assert_allclose(layer.dh, dh, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.dc, dc, rtol=1e-12, atol=1e-14)
    for acc, g in zip(sums, layer.grads):
        np.testing.assert_allclose(g, acc, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=lambda s: "N%d-T%d-D%d-H%d" % s)
def test_time_gru_equals_chained_cells(rng, shape):
    N, T, D, H = shape
    Wx, Wh, b = gate_weights(rng, D, H, 3)
    xs, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    h0 = rng.standard_normal((N, H))
    layer = R.TimeGRU(Wx, Wh, b, stateful=True)
    layer.set_state(h0)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)

    cells, h = [], h0
    for t in range(T):
        cell = R.GRU(Wx, Wh, b)
        h = cell.forward(xs[:, t], h)
        np.testing.assert_allclose(hs[:, t], h, rtol=1e-14, atol=1e-15)
        cells.append(cell)
    dh = np.zeros((N, H))
    sums = [np.zeros_like(g) for g in layer.grads]
    for t in reversed(range(T)):
        dx, dh = cells[t].backward(dhs[:, t] + dh)
        np.testing.assert_allclose(dxs[:, t], dx, rtol=1e-12, atol=1e-14)
        for acc, g in zip(sums, cells[t].grads):
            acc += g
    np.testing.assert_allclose(layer.dh, dh, rtol=1e-12, atol=1e-14)
    for acc, g in zip(sums, layer.grads):
        np.testing.assert_allclose(g, acc, rtol=1e-12, atol=1e-14)


def test_cells_by_hand_scalar():
    """N = D = H = 1: every gate written out by hand."""
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    x, hp, cp = 0.4, -0.3, 0.8
    wx = np.array([0.5, -0.2, 0.3, 0.7])   # f, g, i, o
    wh = np.array([0.1, 0.6, -0.4, 0.2])
    bb = np.array([0.05, -0.1, 0.2, 0.0])
    a = x * wx + hp * wh + bb
    f, g, i, o = sig(a[0]), np.tanh(a[1]), sig(a[2]), sig(a[3])
    c = f * cp + g * i
    h, c_ = R.LSTM(wx[None], wh[None], bb).forward(np.array([[x]]), np.array([[hp]]),
                                                      np.array([[cp]]))
    assert c_[0, 0] == pytest.approx(c, rel=1e-14)
    assert h[0, 0] == pytest.approx(o * np.tanh(c), rel=1e-14)

    wx3, wh3, b3 = wx[:3], wh[:3], bb[:3]   # z, r, h~
    z = sig(x * wx3[0] + hp * wh3[0] + b3[0])
    r = sig(x * wx3[1] + hp * wh3[1] + b3[1])
    hh = np.tanh(x * wx3[2] + (r * hp) * wh3[2] + b3[2])
    h = R.GRU(wx3[None], wh3[None], b3).forward(np.array([[x]]), np.array([[hp]]))
    assert h[0, 0] == pytest.approx((1 - z) * hp + z * hh, rel=1e-14)


@pytest.mark.parametrize("kind", ["TimeLSTM", "TimeGRU", "TimeBiLSTM"])
def test_stateful_chunks_equal_one_run(rng, kind):
    """Three stateful calls carry h (and c) over: their outputs are the
    outputs of one call over the concatenated sequence; reset_state restarts."""
    N, D, H, chunks = 3, 4, 5, (2, 1, 4)
    G = 4 if kind != "TimeGRU" else 3
    params = gate_weights(rng, D, H, G)
    if kind == "TimeBiLSTM":
        params = params + gate_weights(rng, D, H, 4)
    cls = getattr(R, kind)
    xs = rng.standard_normal((N, sum(chunks), D))
    whole = cls(*params).forward(xs)
    layer = cls(*params, stateful=True)
    outs, start = [], 0
    for T in chunks:
        outs.append(layer.forward(xs[:, start:start + T]))
        layer.backward(np.ones(outs[-1].shape))  # backward does not disturb the state
        start += T
    if kind == "TimeBiLSTM":
        # the forward direction is the long run; the backward one runs each
        # chunk reversed, starting from where the previous chunk left it
        np.testing.assert_allclose(np.concatenate(outs, axis=1)[:, :, :H], whole[:, :, :H],
                                   rtol=1e-12, atol=1e-14)
        fl = R.TimeLSTM(*params[3:], stateful=True)
        start = 0
        for T, out in zip(chunks, outs):
            back = fl.forward(xs[:, start:start + T][:, ::-1])[:, ::-1]
            np.testing.assert_allclose(out[:, :, H:], back, rtol=1e-12, atol=1e-14)
            start += T
        layer.reset_state()
        assert layer.forward_lstm.h is None and layer.backward_lstm.c is None
    else:
        np.testing.assert_allclose(np.concatenate(outs, axis=1), whole, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.h, whole[:, -1], rtol=1e-12, atol=1e-14)
        layer.reset_state()
        assert layer.h is None
        if kind == "TimeLSTM":
            assert layer.c is None
    # after reset_state, a stateful layer starts from zeros like a fresh one
    np.testing.assert_array_equal(layer.forward(xs[:, :2]), cls(*params).forward(xs[:, :2]))


def test_not_stateful_ignores_the_state(rng):
    Wx, Wh, b = gate_weights(rng, 2, 3, 4)
    xs = rng.standard_normal((2, 3, 2))
    layer = R.TimeLSTM(Wx, Wh, b)
    first = layer.forward(xs)
    layer.set_state(np.ones((2, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(layer.forward(xs), first)


def test_time_lstm_set_state_without_c_starts_c_from_zeros(rng):
    Wx, Wh, b = gate_weights(rng, 2, 3, 4)
    xs, h0 = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 3))
    a = R.TimeLSTM(Wx, Wh, b, stateful=True)
    a.set_state(h0)
    b_ = R.TimeLSTM(Wx, Wh, b, stateful=True)
    b_.set_state(h0, np.zeros((2, 3)))
    np.testing.assert_array_equal(a.forward(xs), b_.forward(xs))


def test_bilstm_is_two_lstms(rng):
    N, T, D, H1, H2 = 2, 5, 3, 4, 2
    p1, p2 = gate_weights(rng, D, H1, 4), gate_weights(rng, D, H2, 4)
    xs, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H1 + H2))
    layer = R.TimeBiLSTM(*p1, *p2)
    assert layer.params[0] is p1[0] and layer.params[5] is p2[2]
    out = layer.forward(xs)
    dxs = layer.backward(dhs)
    f, bk = R.TimeLSTM(*p1), R.TimeLSTM(*p2)
    np.testing.assert_allclose(out[:, :, :H1], f.forward(xs), rtol=1e-14)
    np.testing.assert_allclose(out[:, :, H1:], bk.forward(xs[:, ::-1])[:, ::-1], rtol=1e-14)
    expect = f.backward(dhs[:, :, :H1]) + bk.backward(dhs[:, ::-1, H1:])[:, ::-1]
    np.testing.assert_allclose(dxs, expect, rtol=1e-13, atol=1e-15)
    for g, e in zip(layer.grads, f.grads + bk.grads):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------
# conventions: params, dtype
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["LSTM", "TimeLSTM", "GRU", "TimeGRU"])
def test_params_are_the_callers_arrays(rng, name):
    """params holds the arrays given (an optimizer updates them in place); grads start
    as zeros of their shapes (kept and overwritten at each call: test_gradcheck.py)."""
    G = GATES[name.replace("Time", "")]
    Wx, Wh, b = gate_weights(rng, 3, 2, G)
    layer = getattr(R, name)(Wx, Wh, b)
    assert layer.params[0] is Wx and layer.params[1] is Wh and layer.params[2] is b
    assert [g.shape for g in layer.grads] == [(3, 2 * G), (2, 2 * G), (2 * G,)]
    assert all(g.dtype == np.float64 and not g.any() for g in layer.grads)


@pytest.mark.parametrize("dtypes, expected", [
    ((np.float32,) * 3, np.float32),
    ((np.float16,) * 3, np.float32),
    ((np.float64,) * 3, np.float64),
    ((np.float32, np.float64, np.float32), np.float64),
    ((np.int32,) * 3, np.float64),
])
@pytest.mark.parametrize("name", ["TimeLSTM", "TimeGRU"])
def test_dtype_rule(rng, name, dtypes, expected):
    G = 4 if name == "TimeLSTM" else 3
    ps = [(rng.standard_normal(s) * 2).astype(d)
          for s, d in zip(((2, 3 * G), (3, 3 * G), (3 * G,)), dtypes)]
    layer = getattr(R, name)(*ps)
    assert all(g.dtype == expected for g in layer.grads)
    hs = layer.forward(rng.standard_normal((2, 4, 2)))  # float64 input is cast
    assert hs.dtype == expected
    dxs = layer.backward(np.ones((2, 4, 3), dtype=np.float64))
    assert dxs.dtype == expected and layer.dh.dtype == expected
    assert all(g.dtype == expected for g in layer.grads)


def test_float32_close_to_float64(rng):
    N, T, D, H = 4, 12, 5, 7
    for cls, G in ((R.TimeLSTM, 4), (R.TimeGRU, 3)):
        p32 = gate_weights(rng, D, H, G, dtype=np.float32)
        xs = rng.standard_normal((N, T, D)).astype(np.float32)
        dhs = rng.standard_normal((N, T, H)).astype(np.float32)
        l32, l64 = cls(*p32), cls(*(p.astype(np.float64) for p in p32))
        np.testing.assert_allclose(l32.forward(xs), l64.forward(xs), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(l32.backward(dhs), l64.backward(dhs), rtol=1e-4, atol=1e-5)
        for g32, g64 in zip(l32.grads, l64.grads):
            np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------
# TimeDropout and TimeSigmoidWithLoss
# --------------------------------------------------------------------------

def test_dropout_draws_from_the_global_generator(rng):
    xs = rng.standard_normal((3, 4, 5)).astype(np.float32)
    layer = R.TimeDropout(0.4)
    np.random.seed(7)
    out = layer.forward(xs)
    after = np.random.rand()
    np.random.seed(7)
    kept = np.random.rand(*xs.shape) > 0.4
    assert np.random.rand() == after  # exactly one draw of xs.size numbers
    scale = np.float32(1 / (1.0 - 0.4))
    assert out.dtype == np.float32 and layer.mask.dtype == np.float32
    np.testing.assert_array_equal(out, xs * (kept.astype(np.float32) * scale))
    dout = rng.standard_normal(xs.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(dout), dout * layer.mask)
    assert 0 < kept.sum() < kept.size


def test_dropout_eval_mode_and_ratio_zero(rng):
    xs = rng.standard_normal((2, 3, 4))
    layer = R.TimeDropout(0.5)
    layer.train_flg = False
    state = np.random.get_state()[1].copy()
    assert layer.forward(xs) is xs
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # nothing drawn
    d = rng.standard_normal(xs.shape)
    np.testing.assert_array_equal(layer.backward(d), d)  # identity, not a stale mask
    layer = R.TimeDropout(0.0)
    np.testing.assert_array_equal(layer.forward(xs), xs)
    assert R.TimeDropout().dropout_ratio == 0.5 and layer.params == [] and layer.grads == []


def test_sigmoid_with_loss_by_hand():
    xs = np.array([[0.3, -1.2, 2.0], [0.0, 4.0, -0.5]])
    ts = np.array([[1, 0, 1], [0, 0, 1]])
    y = 1 / (1 + np.exp(-xs))
    p = np.where(ts == 1, y, 1 - y)
    layer = R.TimeSigmoidWithLoss()
    loss = layer.forward(xs, ts)
    assert loss == pytest.approx(-np.mean(np.log(p + 1e-7)), rel=1e-14)
    np.testing.assert_allclose(layer.backward(), (y - ts) / 6, rtol=1e-14)
    np.testing.assert_allclose(layer.backward(3), 3 * (y - ts) / 6, rtol=1e-14)
    # bool and float labels are labels too; float32 logits compute in float32
    assert layer.forward(xs.astype(np.float32), ts.astype(bool)) == pytest.approx(loss, rel=1e-6)
    assert layer.backward().dtype == np.float32
    assert layer.forward(xs, ts.astype(float)) == pytest.approx(loss, rel=1e-14)
    # no overflow for large logits
    with np.errstate(over="raise", invalid="raise"):
        big = layer.forward(np.array([[-800.0, 800.0]]), np.array([[0, 1]]))
    assert big == pytest.approx(-np.log(1 + 1e-7), rel=1e-12)


# --------------------------------------------------------------------------
# errors: message names the argument; nothing changes
# --------------------------------------------------------------------------

def snapshot(layer):
    """Everything a failing call must leave as it was."""
    out = {"grads": [g.copy() for g in getattr(layer, "grads", [])],
           "params": [np.array(p, copy=True) for p in getattr(layer, "params", [])]}
    for attr in ("h", "c", "dh", "dc", "cache", "_cache", "mask", "_shape", "xs_shape"):
        if hasattr(layer, attr):
            out[attr] = getattr(layer, attr)
    for sub in ("forward_lstm", "backward_lstm"):
        if hasattr(layer, sub):
            out[sub] = snapshot(getattr(layer, sub))
    return out


def assert_unchanged(before, after):
    assert before.keys() == after.keys()
    for k in before:
        a, b = before[k], after[k]
        if k in ("grads", "params"):
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u, v)
        elif isinstance(a, dict):
            assert_unchanged(a, b)
        else:
            assert a is b, k


def raises(layer, exc, call, tools, candidates):
    before = snapshot(layer)
    with pytest.raises(exc) as e:
        call()
    tools.assert_message(e, candidates)
    assert_unchanged(before, snapshot(layer))


@pytest.mark.parametrize("name", ["LSTM", "TimeLSTM", "GRU", "TimeGRU"])
def test_constructor_errors(rng, tools, name):
    G = GATES[name.replace("Time", "")]
    cls = getattr(R, name)
    Wx, Wh, b = gate_weights(rng, 3, 2, G)
    with pytest.raises(ValueError) as e:
        cls(Wx, Wh[:, :-1], b)
    tools.assert_message(e, [("Wh", (2, 2 * G - 1))])
    with pytest.raises(ValueError) as e:
        cls(Wx[:, :-1], Wh, b)
    tools.assert_message(e, [("Wx", (3, 2 * G - 1))])
    with pytest.raises(ValueError) as e:
        cls(Wx, Wh, b[:-1])
    tools.assert_message(e, [("b", (2 * G - 1,))])
    with pytest.raises(ValueError) as e:
        cls(Wx, Wh, b[None])
    tools.assert_message(e, [("b", (1, 2 * G))])
    with pytest.raises(ValueError) as e:
        cls(Wx[0], Wh, b)
    tools.assert_message(e, [("Wx", (2 * G,))])
    with pytest.raises(TypeError) as e:
        cls(Wx.astype(complex), Wh, b)
    tools.assert_message(e, [("Wx", np.dtype(complex))])
    with pytest.raises(TypeError) as e:
        cls(Wx, Wh, None)
    tools.assert_message(e, [("b", "None")])  # (check_numeric names a None as None)
    # the LSTM's weights are not a GRU's: 4 blocks where 3 are expected
    if G == 3:
        with pytest.raises(ValueError) as e:
            cls(*gate_weights(rng, 3, 2, 4))
        tools.assert_message(e, [("Wh", (2, 8))])


@pytest.mark.parametrize("name", ["LSTM", "GRU", "TimeLSTM", "TimeGRU"])
def test_params_replaced_after_forward(rng, tools, name):
    """A parameter replaced by an array of another shape between forward and backward:
    the message names the class and the shape, and the layer is unchanged (the other
    call errors: the registry's LSTMEntry, GRUEntry, TimeLSTMEntry, TimeGRUEntry)."""
    G = GATES[name.replace("Time", "")]
    layer = getattr(R, name)(*gate_weights(rng, 3, 2, G))
    N = 4
    if name.startswith("Time"):
        layer.forward(np.ones((N, 5, 3)))
        up = (np.ones((N, 5, 2)),)
    else:
        layer.forward(np.ones((N, 3)), *[np.ones((N, 2))] * (G == 4 and 2 or 1))
        up = (np.ones((N, 2)),) * (2 if G == 4 else 1)
    layer.params[0] = np.ones((5, 2 * G))
    raises(layer, ValueError, lambda: layer.backward(*up), tools,
           [(name, (5, 2 * G)), ("Wx", (5, 2 * G))])


def test_bilstm_errors(rng, tools):
    p1, p2 = gate_weights(rng, 3, 2, 4), gate_weights(rng, 3, 2, 4)
    with pytest.raises(ValueError) as e:
        R.TimeBiLSTM(*p1, *gate_weights(rng, 4, 2, 4))
    tools.assert_message(e, [("Wx2", (4, 8))])
    with pytest.raises(ValueError) as e:
        R.TimeBiLSTM(*p1, p2[0], p2[1], p2[2][:3])
    tools.assert_message(e, [("b", (3,))])
    with pytest.raises(TypeError) as e:
        R.TimeBiLSTM(*p1, *(p.astype(np.float32) for p in p2)).forward(np.ones((1, 2, 3)))
    tools.assert_message(e, [("Wx2", "float32")])
    layer = R.TimeBiLSTM(*p1, *p2, stateful=True)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 1, 4)))
    raises(layer, ValueError, lambda: layer.forward(np.ones((2, 3, 4))), tools, [("xs", (2, 3, 4))])
    layer.forward(np.ones((2, 3, 3)))
    # the BACKWARD direction's state does not fit: the forward direction must not move either
    layer.backward_lstm.h = np.zeros((5, 2))
    raises(layer, ValueError, lambda: layer.forward(np.ones((2, 3, 3))), tools, [("h", (5, 2))])
    layer.reset_state()
    layer.forward(np.ones((2, 3, 3)))
    raises(layer, ValueError, lambda: layer.backward(np.ones((2, 3, 2))), tools,
           [("dhs", (2, 3, 2))])


def test_dropout_errors(tools):
    for bad in (1.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError) as e:
            R.TimeDropout(bad)
        tools.assert_message(e, [("dropout_ratio", "[0, 1)")])
    for bad in ("0.5", None, True):
        with pytest.raises(TypeError) as e:
            R.TimeDropout(bad)
        tools.assert_message(e, [("dropout_ratio", type(bad).__name__)])
    layer = R.TimeDropout(0.5)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones(3))
    state = np.random.get_state()[1].copy()
    layer.dropout_ratio = 1
    raises(layer, ValueError, lambda: layer.forward(np.ones((2, 3))), tools,
           [("dropout_ratio", "1")])
    layer.dropout_ratio = 0.5
    raises(layer, TypeError, lambda: layer.forward(np.array(["a"])), tools, [("xs", "<U1")])
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # nothing drawn
    layer.forward(np.ones((2, 3)))
    raises(layer, ValueError, lambda: layer.backward(np.ones((3, 2))), tools, [("dout", (3, 2))])


def test_remaining_error_paths(rng, tools):
    # a params list that lost or gained an array
    layer = R.TimeLSTM(*gate_weights(rng, 3, 2, 4))
    layer.params.append(np.ones(3))
    raises(layer, ValueError, lambda: layer.forward(np.ones((1, 2, 3))), tools,
           [("params", "4 arrays")])
    # ragged input
    layer = R.GRU(*gate_weights(rng, 3, 2, 3))
    raises(layer, TypeError, lambda: layer.forward([[1.0], [1.0, 2.0]], np.ones((2, 2))), tools,
           [("x", "list")])
    # the GRU's parameters replaced after forward
    layer.forward(np.ones((2, 3)), np.ones((2, 2)))
    layer.params[0] = np.ones((4, 6))
    raises(layer, ValueError, lambda: layer.backward(np.ones((2, 2))), tools, [("GRU", (4, 6))])
    # TimeDropout.backward with a non-numeric dout; TimeSigmoidWithLoss with non-numeric xs
    drop = R.TimeDropout()
    drop.forward(np.ones((2, 3)))
    raises(drop, TypeError, lambda: drop.backward(np.array([["a"] * 3] * 2)), tools,
           [("dout", "<U1")])
    loss = R.TimeSigmoidWithLoss()
    raises(loss, TypeError, lambda: loss.forward(np.array([["a"]]), np.ones((1, 1), int)), tools,
           [("xs", "<U1")])
