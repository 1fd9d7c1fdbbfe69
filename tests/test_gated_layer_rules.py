"""Behaviours of the gated layer classes that the registry suites found or that
they do not reach (construction), compiled and reference alike: b=None is
rejected naming b; LSTM.backward takes a scalar dc_next (the book's TimeLSTM
passes 0) and rejects a non-numeric one naming it; a NaN gate with the zero
initial state gives the book's NaN (f*0 + g*i), not the kernel's dropped term;
TimeDropout takes a 0-d array."""
import re

import numpy as np
import pytest

import rnnscratch
from rnnscratch import reference

IMPLS = [rnnscratch, reference]
IDS = ["rnnscratch", "reference"]


def _w(rng, *shape):
    return rng.standard_normal(shape) * 0.4


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
@pytest.mark.parametrize("name,G", [("LSTM", 4), ("TimeLSTM", 4), ("GRU", 3), ("TimeGRU", 3)])
def test_bias_none_rejected_naming_b(impl, name, G):
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=r"^b: .*None"):
        getattr(impl, name)(_w(rng, 3, G * 2), _w(rng, 2, G * 2), None)


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_time_bilstm_bias_none_rejected(impl):
    rng = np.random.default_rng(0)
    w = [_w(rng, 3, 8), _w(rng, 2, 8), _w(rng, 8)]
    with pytest.raises(TypeError, match=r"^b: .*None"):
        impl.TimeBiLSTM(w[0], w[1], None, *w)
    with pytest.raises(TypeError, match=r"^b: .*None"):
        impl.TimeBiLSTM(*w, w[0], w[1], None)


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
@pytest.mark.parametrize("dc", [0, 0.5, np.float32(-1.5), np.array(2.0), True])
def test_lstm_backward_scalar_dc_next_is_broadcast(impl, dc):
    rng = np.random.default_rng(1)
    N, D, H = 3, 4, 5
    W = [_w(rng, D, 4 * H), _w(rng, H, 4 * H), _w(rng, 4 * H)]
    x, h, c, dh = _w(rng, N, D), _w(rng, N, H), _w(rng, N, H), _w(rng, N, H)
    a, b = impl.LSTM(*W), impl.LSTM(*W)
    a.forward(x, h, c)
    b.forward(x, h, c)
    ra = a.backward(dh, dc)
    rb = b.backward(dh, np.full((N, H), float(dc)))
    for u, v in zip(list(ra) + a.grads, list(rb) + b.grads):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
@pytest.mark.parametrize("dc,kind", [("0", "str|<U1"), (1j, "complex"), (None, "None"),
                                      ([[1.0], [2.0, 3.0]], "")])
def test_lstm_backward_bad_scalar_dc_next_named(impl, dc, kind):
    rng = np.random.default_rng(2)
    N, D, H = 2, 3, 2
    L = impl.LSTM(_w(rng, D, 4 * H), _w(rng, H, 4 * H), _w(rng, 4 * H))
    L.forward(_w(rng, N, D), _w(rng, N, H), _w(rng, N, H))
    grads = [g.copy() for g in L.grads]
    with pytest.raises(TypeError) as e:
        L.backward(_w(rng, N, H), dc)
    assert str(e.value).startswith("dc_next")
    assert re.search(kind, str(e.value))
    for g, g0 in zip(L.grads, grads):
        np.testing.assert_array_equal(g, g0)


@pytest.mark.parametrize("name", ["TimeLSTM", "TimeGRU", "TimeBiLSTM"])
def test_nan_gate_with_zero_initial_state_like_the_book(name):
    """Weights with a zero entry and xs = -inf: 0 * -inf is NaN in one gate (the LSTM's
    f, the GRU's r), the others saturate; the book's f*c_prev + g*i (GRU: r*h_prev) with
    the zero state is then NaN, and so is h."""
    G = 3 if name == "TimeGRU" else 4
    Wx = [[-1.0, 0.0, -1.0]] if G == 3 else [[0.0, 1.0, 1.0, 1.0]]
    W = [np.array(Wx), -np.ones((1, G)), np.ones(G) * 0.5]
    args = W + W if name == "TimeBiLSTM" else W
    xs = np.full((1, 2, 1), -np.inf)
    with np.errstate(all="ignore"):
        ours = getattr(rnnscratch, name)(*args).forward(xs)
        book = getattr(reference, name)(*args).forward(xs)
    assert np.isnan(book).any()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(book))
    np.testing.assert_array_equal(np.nan_to_num(ours), np.nan_to_num(book))


def test_time_dropout_0d():
    d = rnnscratch.TimeDropout(0.5)
    np.random.seed(3)
    y = d.forward(np.float64(2.0))
    np.random.seed(3)
    kept = np.random.rand() > 0.5
    assert y == (4.0 if kept else 0.0)
    assert d.backward(np.float64(1.0)) == (2.0 if kept else 0.0)
