"""The C kernels of the gated layers (LSTM, GRU) through rnnscratch._core.

Every output and gradient of lstm_forward/backward, time_lstm_forward/backward,
gru_forward/backward and time_gru_forward/backward is compared with a small
NumPy implementation written here from the book's formulas (gate blocks
f, g, i, o for the LSTM; z, r, h~ for the GRU, with the reset gate applied to
h_prev before its product with Whh): float64 tightly, float32 loosely (against
the float64 computation of the same float32 numbers). Also: shapes with 1s and
odd sizes, T = 1, N = 1, sizes 0, h0/c0/dcT/b/db None, accumulate, every SIMD
path the CPU has, 1 and 2 threads bit-identical, and bad shapes (the error
names the argument and no gradient array changes).
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

SHAPES = [  # N, T, D, H
    (1, 1, 1, 1), (1, 4, 3, 2), (2, 1, 5, 3), (3, 7, 1, 5), (5, 9, 29, 13),
    (4, 6, 17, 33), (7, 3, 2, 1), (9, 5, 8, 20), (17, 2, 3, 7),
]
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


def run_gru(p, dtype, b=True, db=True, accumulate=False, fill=0.0):
    N, T, D = p["xs"].shape
    H = p["Wh"].shape[0]
    hs, cache = C.time_gru_forward(p["xs"], p["h0"], p["Wx"], p["Wh"], p["b"] if b else None)
    dWx, dWh, dbv = grads(3, D, H, dtype, fill)
    dxs, dh0 = C.time_gru_backward(p["dhs"], p["xs"], p["h0"], hs, cache, p["Wx"], p["Wh"],
                                   dWx, dWh, dbv if db else None, accumulate=accumulate)
    return (hs, cache, dxs, dh0), (dWx, dWh, dbv)


def check_lstm(p, dtype, b=True):
    (hs, cs, cache, dxs, dh0, dc0), (dWx, dWh, db) = run_lstm(p, dtype, b=b)
    q = {k: f64(v) for k, v in p.items()}
    rhs, rcs, rg = ref_time_lstm(q["xs"], q["h0"], q["c0"], q["Wx"], q["Wh"],
                                 q["b"] if b else None)
    for got, want, nm in ((hs, rhs, "hs"), (cs, rcs, "cs"), (cache, rg, "cache")):
        close(got, want, dtype, nm)
    # backward from our own forward outputs: the oracle gets the same inputs
    want = ref_time_lstm_back(q["dhs"], q["dcT"], q["xs"], q["h0"], q["c0"], f64(hs), f64(cs),
                              f64(cache), q["Wx"], q["Wh"])
    for got, w, nm in zip((dxs, dh0, dc0, dWx, dWh, db), want,
                          ("dxs", "dh0", "dc0", "dWx", "dWh", "db")):
        close(got, w, dtype, nm)


def check_gru(p, dtype, b=True):
    (hs, cache, dxs, dh0), (dWx, dWh, db) = run_gru(p, dtype, b=b)
    q = {k: f64(v) for k, v in p.items()}
    rhs, rc = ref_time_gru(q["xs"], q["h0"], q["Wx"], q["Wh"], q["b"] if b else None)
    close(hs, rhs, dtype, "hs")
    close(cache, rc, dtype, "cache")
    want = ref_time_gru_back(q["dhs"], q["xs"], q["h0"], f64(hs), f64(cache), q["Wx"], q["Wh"])
    for got, w, nm in zip((dxs, dh0, dWx, dWh, db), want, ("dxs", "dh0", "dWx", "dWh", "db")):
        close(got, w, dtype, nm)


# --------------------------------------------------------------------------
# sequences
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N%dT%dD%dH%d" % s)
def test_time_lstm_matches_formulas(rng, shape, dtype):
    check_lstm(make(rng, *shape, 4, dtype), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N%dT%dD%dH%d" % s)
def test_time_gru_matches_formulas(rng, shape, dtype):
    check_gru(make(rng, *shape, 3, dtype), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_state_no_bias(rng, dtype):
    """h0, c0, dcT None = zeros; b None = no bias; db None = not computed."""
    p = make(rng, 4, 5, 6, 7, 4, dtype, state=False)
    check_lstm(p, dtype, b=False)
    out, (dWx, dWh, db) = run_lstm(p, dtype, db=False, fill=3.0)
    assert np.all(db == 3.0)
    p = make(rng, 4, 5, 6, 7, 3, dtype, state=False)
    check_gru(p, dtype, b=False)
    out, (dWx, dWh, db) = run_gru(p, dtype, db=False, fill=3.0)
    assert np.all(db == 3.0)


def test_none_state_equals_zeros(rng):
    p = make(rng, 3, 4, 5, 6, 4, np.float64, state=False)
    z = dict(p, h0=np.zeros((3, 6)), c0=np.zeros((3, 6)), dcT=np.zeros((3, 6)))
    for a, b in zip(run_lstm(p, np.float64)[0], run_lstm(z, np.float64)[0]):
        np.testing.assert_array_equal(a, b)
    p = make(rng, 3, 4, 5, 6, 3, np.float64, state=False)
    z = dict(p, h0=np.zeros((3, 6)))
    for a, b in zip(run_gru(p, np.float64)[0], run_gru(z, np.float64)[0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("run,k", [(run_lstm, 4), (run_gru, 3)], ids=["lstm", "gru"])
def test_accumulate(rng, run, k):
    """accumulate=False overwrites whatever the gradient arrays hold; True adds."""
    p = make(rng, 3, 4, 5, 6, k, np.float64)
    _, g0 = run(p, np.float64)
    _, g1 = run(p, np.float64, fill=123.0)
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)
    _, g2 = run(p, np.float64, accumulate=True, fill=1.5)
    for a, b in zip(g0, g2):
        np.testing.assert_allclose(b, a + 1.5, rtol=1e-12, atol=1e-12)


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


def test_steps_none_state(rng):
    p = make(rng, 3, 1, 4, 5, 4, np.float64)
    x = p["xs"][:, 0]
    hn, cn, cache = C.lstm_forward(x, None, None, p["Wx"], p["Wh"], p["b"])
    z = np.zeros((3, 5))
    rh, rc, rg = lstm_step(x, z, z, p["Wx"], p["Wh"], p["b"])
    close(hn, rh, np.float64, "h_next")
    dWx, dWh, db = grads(4, 4, 5, np.float64)
    dx, dhp, dcp = C.lstm_backward(p["dhs"][:, 0], None, x, None, None, cn, cache, p["Wx"],
                                   p["Wh"], dWx, dWh, db)
    want = lstm_step_back(p["dhs"][:, 0], z, x, z, z, cn, cache, p["Wx"], p["Wh"])
    for got, w in zip((dx, dhp, dcp, dWx, dWh, db), want):
        close(got, w, np.float64, "lstm step, None state")
    p = make(rng, 3, 1, 4, 5, 3, np.float64)
    hn, cache = C.gru_forward(x, None, p["Wx"], p["Wh"], p["b"])
    rh, rc = gru_step(x, z, p["Wx"], p["Wh"], p["b"])
    close(hn, rh, np.float64, "gru h_next")
    dWx, dWh, db = grads(3, 4, 5, np.float64)
    dx, dhp = C.gru_backward(p["dhs"][:, 0], x, None, cache, p["Wx"], p["Wh"], dWx, dWh, db)
    want = gru_step_back(p["dhs"][:, 0], x, z, cache, p["Wx"], p["Wh"])
    for got, w in zip((dx, dhp, dWx, dWh, db), want):
        close(got, w, np.float64, "gru step, None state")


# --------------------------------------------------------------------------
# sizes 0
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(0, 3, 4, 5), (2, 0, 4, 5), (2, 3, 0, 5), (2, 3, 4, 0)],
                         ids=["N0", "T0", "D0", "H0"])
def test_zero_sizes(rng, shape):
    N, T, D, H = shape
    p = make(rng, N, T, D, H, 4, np.float64)
    (hs, cs, cache, dxs, dh0, dc0), (dWx, dWh, db) = run_lstm(p, np.float64, fill=7.0)
    assert hs.shape == cs.shape == (N, T, H) and cache.shape == (N, T, 4 * H)
    assert dxs.shape == (N, T, D) and dh0.shape == dc0.shape == (N, H)
    want = ref_time_lstm_back(p["dhs"], p["dcT"], p["xs"], p["h0"], p["c0"], hs, cs, cache,
                              p["Wx"], p["Wh"])
    for got, w in zip((dxs, dh0, dc0, dWx, dWh, db), want):
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-12)
    if T == 0:  # c_T is c0: its gradient goes straight through
        np.testing.assert_array_equal(dc0, p["dcT"])
    p = make(rng, N, T, D, H, 3, np.float64)
    (hs, cache, dxs, dh0), (dWx, dWh, db) = run_gru(p, np.float64, fill=7.0)
    assert hs.shape == (N, T, H) and cache.shape == (N, T, 4 * H)
    want = ref_time_gru_back(p["dhs"], p["xs"], p["h0"], hs, cache, p["Wx"], p["Wh"])
    for got, w in zip((dxs, dh0, dWx, dWh, db), want):
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# SIMD paths, threads
# --------------------------------------------------------------------------

def test_every_simd_path(rng):
    paths = C.available_simd_paths()
    assert "portable" in paths
    before = C.get_simd_path()
    try:
        for path in paths:
            C.set_simd_path(path)
            for dtype in (np.float64, np.float32):
                check_lstm(make(rng, 5, 4, 9, 19, 4, dtype), dtype)
                check_gru(make(rng, 5, 4, 9, 19, 3, dtype), dtype)
    finally:
        C.set_simd_path(before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_threads_bit_identical(rng, dtype):
    """Big enough that the recurrence and the hoisted products are split."""
    p4 = make(rng, 16, 12, 40, 96, 4, dtype)
    p3 = make(rng, 16, 12, 40, 96, 3, dtype)
    before = C.get_num_threads()
    try:
        res = {}
        for n in (1, 2):
            C.set_num_threads(n)
            res[n] = run_lstm(p4, dtype)[0] + run_lstm(p4, dtype)[1] + \
                run_gru(p3, dtype)[0] + run_gru(p3, dtype)[1]
    finally:
        C.set_num_threads(before)
    for a, b in zip(res[1], res[2]):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------

def _lstm_args(rng):
    p = make(rng, 2, 3, 4, 5, 4, np.float64)
    hs, cs, cache = C.time_lstm_forward(p["xs"], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    return p, hs, cs, cache


@pytest.mark.parametrize("name,bad,named", [
    ("Wx", np.zeros((4, 15)), "Wx"), ("Wh", np.zeros((5, 21)), "Wh"),
    ("Wh", np.zeros((6, 20)), "Wh"), ("Wx", np.zeros((4, 24)), "Wh"),  # H=6 from Wx
    ("b", np.zeros(21), "b"), ("xs", np.zeros((2, 3, 5)), "xs"), ("h0", np.zeros((3, 5)), "h0"),
    ("c0", np.zeros((2, 6)), "c0"), ("xs", np.zeros((2, 3)), "xs")])
def test_time_lstm_forward_bad_shapes(rng, name, bad, named):
    p, _, _, _ = _lstm_args(rng)
    kw = dict(xs=p["xs"], h0=p["h0"], c0=p["c0"], Wx=p["Wx"], Wh=p["Wh"], b=p["b"])
    kw[name] = bad
    with pytest.raises(ValueError, match=r"^%s:" % named):
        C.time_lstm_forward(**kw)


def test_wrong_gate_count_names_argument(rng):
    p, _, _, _ = _lstm_args(rng)
    with pytest.raises(ValueError, match=r"^Wx: .*\(D, 4H\).*15 is not a multiple of 4"):
        C.time_lstm_forward(p["xs"], None, None, np.zeros((4, 15)), np.zeros((5, 15)))
    # LSTM-shaped weights given to the GRU: 20 columns are not 3H
    with pytest.raises(ValueError, match=r"^Wx: .*\(D, 3H\).*20 is not a multiple of 3"):
        C.time_gru_forward(p["xs"], None, p["Wx"], p["Wh"])
    with pytest.raises(ValueError, match=r"^Wh: .*\(H, 3H\) with H=8 \(from Wx\)"):
        C.time_gru_forward(p["xs"], None, np.zeros((4, 24)), np.zeros((5, 15)))


@pytest.mark.parametrize("name,bad", [
    ("dhs", np.zeros((2, 3, 6))), ("dcT", np.zeros((2, 4))), ("cache", np.zeros((2, 3, 19))),
    ("cs", np.zeros((2, 2, 5))), ("hs", np.zeros((1, 3, 5))), ("dWx", np.zeros((4, 21))),
    ("dWh", np.zeros((5, 19))), ("db", np.zeros(19))])
def test_time_lstm_backward_bad_shapes_change_nothing(rng, name, bad):
    p, hs, cs, cache = _lstm_args(rng)
    dWx, dWh, db = (np.full(s, 2.0) for s in ((4, 20), (5, 20), (20,)))
    kw = dict(dhs=p["dhs"], dcT=p["dcT"], xs=p["xs"], h0=p["h0"], c0=p["c0"], hs=hs, cs=cs,
              cache=cache, Wx=p["Wx"], Wh=p["Wh"], dWx=dWx, dWh=dWh, db=db)
    kw[name] = bad
    with pytest.raises(ValueError, match=r"^(%s|cache):" % name):
        C.time_lstm_backward(**kw)
    for g in (dWx, dWh, db):
        if g is not bad:
            assert np.all(g == 2.0)


@pytest.mark.parametrize("name,bad", [
    ("dhs", np.zeros((2, 3, 6))), ("cache", np.zeros((2, 3, 15))), ("hs", np.zeros((2, 4, 5))),
    ("h0", np.zeros((2, 4))), ("dWx", np.zeros((4, 16))), ("dWh", np.zeros((5, 14))),
    ("db", np.zeros(16))])
def test_time_gru_backward_bad_shapes_change_nothing(rng, name, bad):
    p = make(rng, 2, 3, 4, 5, 3, np.float64)
    hs, cache = C.time_gru_forward(p["xs"], p["h0"], p["Wx"], p["Wh"], p["b"])
    dWx, dWh, db = (np.full(s, 2.0) for s in ((4, 15), (5, 15), (15,)))
    kw = dict(dhs=p["dhs"], xs=p["xs"], h0=p["h0"], hs=hs, cache=cache, Wx=p["Wx"], Wh=p["Wh"],
              dWx=dWx, dWh=dWh, db=db)
    kw[name] = bad
    with pytest.raises(ValueError, match=r"^(%s|cache):" % name):
        C.time_gru_backward(**kw)
    for g in (dWx, dWh, db):
        if g is not bad:
            assert np.all(g == 2.0)


def test_step_bad_shapes(rng):
    p, _, _, _ = _lstm_args(rng)
    x = p["xs"][:, 0]
    with pytest.raises(ValueError, match=r"^c_prev:"):
        C.lstm_forward(x, p["h0"], np.zeros((2, 4)), p["Wx"], p["Wh"], p["b"])
    hn, cn, cache = C.lstm_forward(x, p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"])
    dWx, dWh, db = grads(4, 4, 5, np.float64, 2.0)
    with pytest.raises(ValueError, match=r"^cache:"):
        C.lstm_backward(hn, None, x, p["h0"], p["c0"], cn, cache[:, :19],
                        p["Wx"], p["Wh"], dWx, dWh, db)
    with pytest.raises(ValueError, match=r"^dh_next:"):
        C.lstm_backward(np.zeros((2, 4)), None, x, p["h0"], p["c0"], cn, cache, p["Wx"],
                        p["Wh"], dWx, dWh, db)
    assert np.all(dWx == 2.0) and np.all(db == 2.0)
    q = make(rng, 2, 1, 4, 5, 3, np.float64)
    with pytest.raises(ValueError, match=r"^h_prev:"):
        C.gru_forward(x, np.zeros((2, 6)), q["Wx"], q["Wh"], q["b"])
    hn, cache = C.gru_forward(x, q["h0"], q["Wx"], q["Wh"], q["b"])
    dWx, dWh, db = grads(3, 4, 5, np.float64, 2.0)
    with pytest.raises(ValueError, match=r"^cache:"):
        C.gru_backward(q["dhs"][:, 0], x, q["h0"], cache[:, :15], q["Wx"], q["Wh"], dWx, dWh, db)
    assert np.all(dWh == 2.0)


def test_bad_types(rng):
    p, hs, cs, cache = _lstm_args(rng)
    with pytest.raises(TypeError, match=r"^xs:"):
        C.time_lstm_forward("abc", None, None, p["Wx"], p["Wh"], p["b"])
    with pytest.raises(TypeError, match=r"^dWx:"):
        C.time_lstm_backward(p["dhs"], None, p["xs"], None, None, hs, cs, cache, p["Wx"],
                             p["Wh"], [[0.0] * 20] * 4, np.zeros((5, 20)), None)
    with pytest.raises(TypeError, match=r"^dWh:"):
        C.time_gru_backward(p["dhs"], p["xs"], None, hs, cache, p["Wx"][:, :15],
                            p["Wh"][:, :15], np.zeros((4, 15)), np.zeros((5, 15), np.int64))
