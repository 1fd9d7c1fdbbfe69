"""The C kernels of the gated layers (LSTM, GRU) through rnnscratch._core: what
the generic kernel tests cannot express. One step against a small NumPy
implementation written here from the book's formulas (gate blocks f, g, i, o for
the LSTM; z, r, h~ for the GRU, the reset gate applied to h_prev before its
product with Whh; the cache's layout), and the step bit for bit the sequence of
T = 1; float32 computation accumulating into float64 gradients keeps their
precision; the gate-count messages. The sequence formulas (ref_time_*) are the
oracle of the gated kernels in test_fuzz.py and test_simd_paths.py. Every kernel on every SIMD path and thread
count, sizes 0, None states, accumulate and bad arguments: test_simd_paths.py,
test_fuzz.py, test_core_errors.py (notes/tests-merged.md).
"""

import numpy as np
import pytest

from rnnscratch import _core as C


# --------------------------------------------------------------------------
# NumPy oracle, from the formulas
# --------------------------------------------------------------------------

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_step(x, h_prev, c_prev, Wx, Wh, b):
    H = Wh.shape[0]
    a = x @ Wx + h_prev @ Wh + b
    f = sigmoid(a[:, :H])
    g = np.tanh(a[:, H:2 * H])
    i = sigmoid(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c = f * c_prev + g * i
    h = o * np.tanh(c)
    return h, c, np.hstack([f, g, i, o])


def lstm_step_back(dh, dc, x, h_prev, c_prev, c, gates, Wx, Wh):
    """-> dx, dh_prev, dc_prev, dWx, dWh, db"""
    H = Wh.shape[0]
    f, g, i, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
    tc = np.tanh(c)
    ds = dc + dh * o * (1 - tc ** 2)
    dA = np.hstack([ds * c_prev * f * (1 - f), ds * i * (1 - g ** 2),
                    ds * g * i * (1 - i), dh * tc * o * (1 - o)])
    return (dA @ Wx.T, dA @ Wh.T, ds * f, x.T @ dA, h_prev.T @ dA, dA.sum(0))


def gru_step(x, h_prev, Wx, Wh, b):
    H = Wh.shape[0]
    z = sigmoid(x @ Wx[:, :H] + h_prev @ Wh[:, :H] + b[:H])
    r = sigmoid(x @ Wx[:, H:2 * H] + h_prev @ Wh[:, H:2 * H] + b[H:2 * H])
    hh = np.tanh(x @ Wx[:, 2 * H:] + (r * h_prev) @ Wh[:, 2 * H:] + b[2 * H:])
    h = (1 - z) * h_prev + z * hh
    return h, np.hstack([z, r, hh, r * h_prev])


def gru_step_back(dh, x, h_prev, cache, Wx, Wh):
    """-> dx, dh_prev, dWx, dWh, db"""
    H = Wh.shape[0]
    z, r, hh = cache[:, :H], cache[:, H:2 * H], cache[:, 2 * H:3 * H]
    dt_h = dh * z * (1 - hh ** 2)
    dhr = dt_h @ Wh[:, 2 * H:].T
    dt_z = (dh * hh - dh * h_prev) * z * (1 - z)
    dt_r = dhr * h_prev * r * (1 - r)
    dA = np.hstack([dt_z, dt_r, dt_h])
    dh_prev = dh * (1 - z) + r * dhr + dA[:, :2 * H] @ Wh[:, :2 * H].T
    # dWhh from the cache's r*h_prev (the forward's), as the kernel does
    dWh = np.hstack([h_prev.T @ dA[:, :2 * H], cache[:, 3 * H:].T @ dt_h])
    return dA @ Wx.T, dh_prev, x.T @ dA, dWh, dA.sum(0)


def ref_time_lstm(xs, h0, c0, Wx, Wh, b):
    N, T, _ = xs.shape
    H = Wh.shape[0]
    h = np.zeros((N, H)) if h0 is None else h0
    c = np.zeros((N, H)) if c0 is None else c0
    b = np.zeros(4 * H) if b is None else b
    hs, cs, gs = np.zeros((N, T, H)), np.zeros((N, T, H)), np.zeros((N, T, 4 * H))
    for t in range(T):
        h, c, g = lstm_step(xs[:, t], h, c, Wx, Wh, b)
        hs[:, t], cs[:, t], gs[:, t] = h, c, g
    return hs, cs, gs

def ref_time_lstm_back(dhs, dcT, xs, h0, c0, hs, cs, gates, Wx, Wh):
    N, T, D = xs.shape
    H = Wh.shape[0]
    h0 = np.zeros((N, H)) if h0 is None else h0
    c0 = np.zeros((N, H)) if c0 is None else c0
    dxs = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
    dh = np.zeros((N, H))
    dc = np.zeros((N, H)) if dcT is None else dcT
    for t in reversed(range(T)):
        hp = hs[:, t - 1] if t else h0
        cp = cs[:, t - 1] if t else c0
        dx, dh, dc, gx, gh, gb = lstm_step_back(dhs[:, t] + dh, dc, xs[:, t], hp, cp,
                                                cs[:, t], gates[:, t], Wx, Wh)
        dxs[:, t] = dx
        dWx += gx
        dWh += gh
        db += gb
    return dxs, dh, dc, dWx, dWh, db

def ref_time_gru(xs, h0, Wx, Wh, b):
    N, T, _ = xs.shape
    H = Wh.shape[0]
    h = np.zeros((N, H)) if h0 is None else h0
    b = np.zeros(3 * H) if b is None else b
    hs, cache = np.zeros((N, T, H)), np.zeros((N, T, 4 * H))
    for t in range(T):
        h, cache[:, t] = gru_step(xs[:, t], h, Wx, Wh, b)
        hs[:, t] = h
    return hs, cache

def ref_time_gru_back(dhs, xs, h0, hs, cache, Wx, Wh):
    N, T, D = xs.shape
    H = Wh.shape[0]
    h0 = np.zeros((N, H)) if h0 is None else h0
    dxs = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(3 * H)
    dh = np.zeros((N, H))
    for t in reversed(range(T)):
        hp = hs[:, t - 1] if t else h0
        dx, dh, gx, gh, gb = gru_step_back(dhs[:, t] + dh, xs[:, t], hp, cache[:, t], Wx, Wh)
        dxs[:, t] = dx
        dWx += gx
        dWh += gh
        db += gb
    return dxs, dh, dWx, dWh, db


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-3, atol=2e-4)}


def close(got, want, dtype, what):
    assert got.dtype == dtype, what
    assert got.shape == want.shape, what
    np.testing.assert_allclose(got, want, err_msg=what, **TOL[dtype])


def make(rng, N, T, D, H, k, dtype, state=True):
    s = 1.0 / np.sqrt(max(D, 1))
    p = dict(xs=rng.standard_normal((N, T, D)), Wx=rng.standard_normal((D, k * H)) * s,
             Wh=rng.standard_normal((H, k * H)) / np.sqrt(max(H, 1)),
             b=rng.standard_normal(k * H) * 0.5,
             h0=rng.standard_normal((N, H)) if state else None,
             c0=rng.standard_normal((N, H)) if state else None,
             dhs=rng.standard_normal((N, T, H)), dcT=rng.standard_normal((N, H)) if state else None)
    return {key: (None if v is None else v.astype(dtype)) for key, v in p.items()}


def f64(a):
    return None if a is None else np.asarray(a, np.float64)


def grads(k, D, H, dtype, fill=0.0):
    return (np.full((D, k * H), fill, dtype), np.full((H, k * H), fill, dtype),
            np.full(k * H, fill, dtype))


def run_lstm(p, dtype, b=True, db=True, accumulate=False, fill=0.0):
    """compiled forward + backward -> (outputs, grads)"""
    N, T, D = p["xs"].shape
    H = p["Wh"].shape[0]
    hs, cs, cache = C.time_lstm_forward(p["xs"], p["h0"], p["c0"], p["Wx"], p["Wh"],
                                        p["b"] if b else None)
    dWx, dWh, dbv = grads(4, D, H, dtype, fill)
    dxs, dh0, dc0 = C.time_lstm_backward(p["dhs"], p["dcT"], p["xs"], p["h0"], p["c0"], hs, cs,
                                         cache, p["Wx"], p["Wh"], dWx, dWh,
                                         dbv if db else None, accumulate=accumulate)
    return (hs, cs, cache, dxs, dh0, dc0), (dWx, dWh, dbv)


def test_float64_gradients_of_float32_accumulate(rng):
    """float32 computation adding into float64 gradient arrays keeps their precision."""
    p = make(rng, 2, 3, 4, 5, 4, np.float32)
    hs, cs, cache = C.time_lstm_forward(p["xs"], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    assert hs.dtype == np.float32
    g = [np.full(s, 1e8 + 1.0) for s in ((4, 20), (5, 20), (20,))]
    C.time_lstm_backward(p["dhs"], p["dcT"], p["xs"], p["h0"], p["c0"], hs, cs, cache,
                         p["Wx"], p["Wh"], *g, accumulate=True)
    _, (dWx, dWh, db) = run_lstm(p, np.float32)
    np.testing.assert_allclose(g[0] - (1e8 + 1.0), dWx, atol=1e-7 * 1e8)
    assert np.all(np.abs(g[2] - (1e8 + 1.0) - db) < 1e-3)


# --------------------------------------------------------------------------
# one step
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("N,D,H", [(1, 1, 1), (3, 5, 7), (8, 13, 30)])
def test_lstm_step(rng, N, D, H, dtype):
    p = make(rng, N, 1, D, H, 4, dtype)
    x, h, c = p["xs"][:, 0], p["h0"], p["c0"]
    hn, cn, cache = C.lstm_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
    rh, rc, rg = lstm_step(f64(x), f64(h), f64(c), f64(p["Wx"]), f64(p["Wh"]), f64(p["b"]))
    close(hn, rh, dtype, "h_next")
    close(cn, rc, dtype, "c_next")
    close(cache, rg, dtype, "cache")
    dh, dc = p["dhs"][:, 0], p["dcT"]
    dWx, dWh, db = grads(4, D, H, dtype)
    dx, dhp, dcp = C.lstm_backward(dh, dc, x, h, c, cn, cache, p["Wx"], p["Wh"], dWx, dWh, db)
    want = lstm_step_back(f64(dh), f64(dc), f64(x), f64(h), f64(c), f64(cn), f64(cache),
                          f64(p["Wx"]), f64(p["Wh"]))
    for got, w, nm in zip((dx, dhp, dcp, dWx, dWh, db), want,
                          ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")):
        close(got, w, dtype, nm)
    # the step is the sequence with T = 1, bit for bit
    hs, cs, gs = C.time_lstm_forward(x[:, None], h, c, p["Wx"], p["Wh"], p["b"])
    np.testing.assert_array_equal(hs[:, 0], hn)
    np.testing.assert_array_equal(gs[:, 0], cache)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("N,D,H", [(1, 1, 1), (3, 5, 7), (8, 13, 30)])
def test_gru_step(rng, N, D, H, dtype):
    p = make(rng, N, 1, D, H, 3, dtype)
    x, h = p["xs"][:, 0], p["h0"]
    hn, cache = C.gru_forward(x, h, p["Wx"], p["Wh"], p["b"])
    rh, rc = gru_step(f64(x), f64(h), f64(p["Wx"]), f64(p["Wh"]), f64(p["b"]))
    close(hn, rh, dtype, "h_next")
    close(cache, rc, dtype, "cache")
    dh = p["dhs"][:, 0]
    dWx, dWh, db = grads(3, D, H, dtype)
    dx, dhp = C.gru_backward(dh, x, h, cache, p["Wx"], p["Wh"], dWx, dWh, db)
    want = gru_step_back(f64(dh), f64(x), f64(h), f64(cache), f64(p["Wx"]), f64(p["Wh"]))
    for got, w, nm in zip((dx, dhp, dWx, dWh, db), want, ("dx", "dh_prev", "dWx", "dWh", "db")):
        close(got, w, dtype, nm)
    hs, cs = C.time_gru_forward(x[:, None], h, p["Wx"], p["Wh"], p["b"])
    np.testing.assert_array_equal(hs[:, 0], hn)


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------

def _lstm_args(rng):
    p = make(rng, 2, 3, 4, 5, 4, np.float64)
    hs, cs, cache = C.time_lstm_forward(p["xs"], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    return p, hs, cs, cache


def test_wrong_gate_count_names_argument(rng):
    p, _, _, _ = _lstm_args(rng)
    with pytest.raises(ValueError, match=r"^Wx: .*\(D, 4H\).*15 is not a multiple of 4"):
        C.time_lstm_forward(p["xs"], None, None, np.zeros((4, 15)), np.zeros((5, 15)))
    # LSTM-shaped weights given to the GRU: 20 columns are not 3H
    with pytest.raises(ValueError, match=r"^Wx: .*\(D, 3H\).*20 is not a multiple of 3"):
        C.time_gru_forward(p["xs"], None, p["Wx"], p["Wh"])
    with pytest.raises(ValueError, match=r"^Wh: .*\(H, 3H\) with H=8 \(from Wx\)"):
        C.time_gru_forward(p["xs"], None, np.zeros((4, 24)), np.zeros((5, 15)))

