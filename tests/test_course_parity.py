"""Parity with the book's own classes (common/time_layers.py, common/layers.py).

The book's code is loaded from $RNNSCRATCH_COURSE_DIR (the directory that
holds ``common/``; .ci/run points it at ../shared/course); without it this
module is skipped with that reason.

Every class both sides have is compared: forward values, every gradient, and
the state after several stateful calls. The book runs in float32 (its
``dtype='f'`` buffers), so the comparisons are float32 runs with the same
float32 inputs on both sides; the single-step cells are also compared in
float64, where the book's arithmetic is float64 throughout.

Our side gets its inputs and parameters in C order, Fortran order, strided
(non-contiguous) views and time-major storage; the book gets C-contiguous
copies of the same values. Shapes are drawn with sizes 1 and odd sizes.

Implementations: each class is checked for the NumPy reference
(``rnnscratch.reference``) always, and for the compiled class
``rnnscratch.<Name>`` -- always for the chapter-5 classes, and for the gated
classes as soon as ``rnnscratch`` exports them (``hasattr``): nothing to edit
here when they land, and no skipped rows meanwhile
(test_implementation_rows lists which rows exist).

float32 tolerance: both sides round every operation to float32 (unit roundoff
u = 6e-8) but sum in different orders. Each value is a sum of at most
D + H + 1 <= 25 O(1) products per step, carried through at most 9 steps of a
contractive recurrence (weights scaled by 1/sqrt(fan-in)); gradients sum at
most N*T <= 45 such terms. A bound of a few hundred u relative to the largest
magnitude of the quantity covers that with a margin of about 30 over what we
observe (3e-6 at worst over this module), while a formula error (a swapped
gate, a wrong sign, the reset gate applied after the product) shows up at
1e-2 or more: RTOL32 = 1e-4 of the largest magnitude (at least 1). In float64
the worst observed is 6e-16; RTOL64 = 1e-12.
"""
import importlib
import os
import sys
import types
import zlib

import numpy as np
import pytest

from conftest import assert_close_to_scale  # noqa: E402
from needs import course_dir  # noqa: E402

COURSE_DIR = course_dir("common", "time_layers.py")

import rnnscratch  # noqa: E402
from rnnscratch.tools import course  # noqa: E402
from rnnscratch import reference  # noqa: E402

RTOL32 = 1e-4
RTOL64 = 1e-12

CHAPTER5 = ("RNN", "TimeRNN", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss")
GATED = ("LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeDropout", "TimeBiLSTM",
         "TimeSigmoidWithLoss")


def implementations(name):
    """The modules whose class ``name`` is compared with the book's: the
    reference always; the compiled package for the chapter-5 classes always
    (a missing one fails), for the gated ones when it exports the name."""
    rows = [pytest.param(reference, id="reference")]
    if name in CHAPTER5 or hasattr(rnnscratch, name):
        rows.append(pytest.param(rnnscratch, id="compiled"))
    return rows


def impl_ids(name):
    return [p.id for p in implementations(name)]


def named_rows(names):
    """(name, module) rows for the tests shared by several classes."""
    return [pytest.param(n, p.values[0], id="%s-%s" % (n, p.id))
            for n in names for p in implementations(n)]


# --------------------------------------------------------------------------
# the book's modules
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def book():
    """common.time_layers and common.layers of the book, imported in isolation."""
    b = course.load(COURSE_DIR, "common.time_layers", "common.layers")
    assert os.path.dirname(os.path.dirname(os.path.abspath(b.time_layers.__file__))) \
        == os.path.abspath(COURSE_DIR), b.time_layers.__file__
    return types.SimpleNamespace(tl=b.time_layers, layers=b.layers)


# --------------------------------------------------------------------------
# shapes, layouts, comparisons
# --------------------------------------------------------------------------

def _seq_shapes():
    fixed = [(1, 1, 1, 1), (1, 7, 3, 1), (3, 1, 1, 5), (5, 9, 13, 3), (2, 4, 7, 11)]
    pick = np.random.default_rng(13).choice((1, 2, 3, 5, 7, 9), size=(3, 4))
    return fixed + [tuple(int(v) for v in row) for row in pick]


SEQ_SHAPES = _seq_shapes()                                    # (N, T, D, H)
SEQ_IDS = ["N%d-T%d-D%d-H%d" % s for s in SEQ_SHAPES]
LAYOUTS = ("C", "F", "strided", "permuted")


def close(ours, theirs, what, rtol=RTOL32):
    assert_close_to_scale(ours, theirs, what, rtol)


def seeded(*key):
    """A generator seeded from the case (stable across runs and processes)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def f32(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def gate_weights(rng, D, H, G, dtype=np.float32):
    """The book's initialisation scale (randn / sqrt(fan-in)), plus a bias."""
    Wx = (rng.standard_normal((D, G * H)) / np.sqrt(D)).astype(dtype)
    Wh = (rng.standard_normal((H, G * H)) / np.sqrt(H)).astype(dtype)
    b = (rng.standard_normal(G * H) * 0.3).astype(dtype)
    return [Wx, Wh, b]


def laid_out(tools, arrays, layout):
    return [tools.with_layout(a, layout) for a in arrays]


def c_copies(arrays):
    return [np.ascontiguousarray(a) for a in arrays]


# --------------------------------------------------------------------------
# which rows exist
# --------------------------------------------------------------------------

def test_implementation_rows():
    """The reference row always exists; the compiled row exists for every
    chapter-5 class and for exactly the gated classes rnnscratch exports."""
    for name in CHAPTER5 + GATED:
        ids = impl_ids(name)
        assert ids[0] == "reference" and hasattr(reference, name), name
        expect_compiled = name in CHAPTER5 or hasattr(rnnscratch, name)
        assert ("compiled" in ids) == expect_compiled, name
    for name in CHAPTER5:
        assert isinstance(getattr(rnnscratch, name), type), name


def test_book_is_the_book(book):
    assert book.tl.np is np  # the book's CPU mode
    for name in CHAPTER5 + GATED:
        assert hasattr(book.tl, name), name


# --------------------------------------------------------------------------
# single-step cells: RNN, LSTM, GRU
# --------------------------------------------------------------------------

CELLS = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _cell_case(impl, book, tools, name, shape, layout, dtype, rtol):
    N, T, D, H = shape
    rng = seeded((name, shape, layout, str(dtype)))
    G = CELLS[name]
    params = gate_weights(rng, D, H, G, dtype)
    inputs = [f32(rng, (N, D)).astype(dtype), f32(rng, (N, H), 0.5).astype(dtype)]
    douts = [f32(rng, (N, H)).astype(dtype)]
    if name == "LSTM":
        inputs.append(f32(rng, (N, H)).astype(dtype))
        douts.append(f32(rng, (N, H)).astype(dtype))

    theirs = getattr(book.tl, name)(*c_copies(params))
    mine = getattr(impl, name)(*laid_out(tools, params, layout))
    out_t = theirs.forward(*c_copies(inputs))
    out_m = mine.forward(*laid_out(tools, inputs, layout))
    back_t = theirs.backward(*c_copies(douts))
    back_m = mine.backward(*laid_out(tools, douts, layout))
    if name != "LSTM":
        out_t, out_m = (out_t,), (out_m,)
    fwd_names = ("h_next", "c_next")
    for n, a, b in zip(fwd_names, out_m, out_t):
        close(a, b, n, rtol)
        assert np.asarray(a).dtype == dtype, n
    for n, a, b in zip(("dx", "dh_prev", "dc_prev"), back_m, back_t):
        close(a, b, n, rtol)
    assert len(back_m) == len(back_t)
    for n, a, b in zip(("dWx", "dWh", "db"), mine.grads, theirs.grads):
        close(a, b, n, rtol)
        assert a.dtype == dtype, n


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=SEQ_IDS)
@pytest.mark.parametrize("name, impl", named_rows(CELLS))
def test_cell_float32(book, tools, name, impl, shape, layout):
    _cell_case(impl, book, tools, name, shape, layout, np.float32, RTOL32)


@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=SEQ_IDS)
@pytest.mark.parametrize("name, impl", named_rows(CELLS))
def test_cell_float64(book, tools, name, impl, shape):
    """In float64 the book's cells are the formulas evaluated exactly: agreement
    to 1e-12 pins every term (a float32-sized error would show)."""
    _cell_case(impl, book, tools, name, shape, "F", np.float64, RTOL64)


# --------------------------------------------------------------------------
# sequence layers: TimeRNN, TimeLSTM, TimeGRU, TimeBiLSTM, over several calls
# --------------------------------------------------------------------------

SEQ = {"TimeRNN": (1, ("h",)), "TimeLSTM": (4, ("h", "c")), "TimeGRU": (3, ("h",)),
       "TimeBiLSTM": (4, ())}
CHUNKS = (3, 1, 2)  # the time lengths of the successive stateful calls, scaled by T


def _state_of(layer, name, attr):
    if name == "TimeBiLSTM":
        return [getattr(layer.forward_lstm, attr), getattr(layer.backward_lstm, attr)]
    return [getattr(layer, attr)]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=SEQ_IDS)
@pytest.mark.parametrize("stateful", [False, True], ids=["stateless", "stateful"])
@pytest.mark.parametrize("name, impl", named_rows(SEQ))
def test_sequence_layer(book, tools, name, impl, stateful, shape, layout):
    N, T, D, H = shape
    G, state_attrs = SEQ[name]
    rng = seeded((name, stateful, shape, layout))
    params = gate_weights(rng, D, H, G)
    if name == "TimeBiLSTM":
        params += gate_weights(rng, D, H, 4)
    Hout = 2 * H if name == "TimeBiLSTM" else H
    theirs = getattr(book.tl, name)(*c_copies(params), stateful=stateful)
    mine = getattr(impl, name)(*laid_out(tools, params, layout), stateful=stateful)

    if stateful and state_attrs:  # start from a given state
        init = [f32(rng, (N, H), 0.5) for _ in state_attrs]
        theirs.set_state(*c_copies(init))
        mine.set_state(*laid_out(tools, init, layout))
    calls = [max(1, T * k // 2) for k in CHUNKS] if stateful else [T]
    for call, Tc in enumerate(calls):
        where = "call %d (T=%d)" % (call, Tc)
        xs, dhs = f32(rng, (N, Tc, D)), f32(rng, (N, Tc, Hout))
        hs_t = theirs.forward(xs.copy())
        hs_m = mine.forward(tools.with_layout(xs, layout))
        close(hs_m, hs_t, "hs, " + where)
        assert np.asarray(hs_m).dtype == np.float32
        dxs_t = theirs.backward(dhs.copy())
        dxs_m = mine.backward(tools.with_layout(dhs, layout))
        close(dxs_m, dxs_t, "dxs, " + where)
        assert len(mine.grads) == len(theirs.grads) == len(params)
        for i, (a, b) in enumerate(zip(mine.grads, theirs.grads)):
            close(a, b, "grads[%d], %s" % (i, where))
        for attr in ("h", "c", "dh"):
            if name == "TimeBiLSTM" and attr == "dh" or attr == "c" and G != 4:
                continue
            for k, (a, b) in enumerate(zip(_state_of(mine, name, attr),
                                           _state_of(theirs, name, attr))):
                close(a, b, "%s[%d] after %s" % (attr, k, where))
    if stateful and state_attrs:
        mine.reset_state()
        theirs.reset_state()
        xs = f32(rng, (N, T, D))
        close(mine.forward(xs), theirs.forward(xs.copy()), "hs after reset_state")


@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=SEQ_IDS)
@pytest.mark.parametrize("impl", implementations("TimeLSTM"))
def test_time_lstm_dc_against_book_cells(book, tools, impl, shape):
    """The book's TimeLSTM drops the gradient of the initial cell state; ours
    keeps it in ``dc``. Its oracle: the book's LSTM cells chained by hand."""
    N, T, D, H = shape
    rng = seeded(("dc", shape))
    params = gate_weights(rng, D, H, 4)
    xs, dhs = f32(rng, (N, T, D)), f32(rng, (N, T, H))
    h0, c0 = f32(rng, (N, H), 0.5), f32(rng, (N, H))
    mine = impl.TimeLSTM(*params, stateful=True)
    mine.set_state(h0, c0)
    mine.forward(xs)
    mine.backward(dhs)
    cells, h, c = [], h0, c0
    for t in range(T):
        cell = book.tl.LSTM(*params)
        h, c = cell.forward(xs[:, t], h, c)
        cells.append(cell)
    dh, dc = 0, 0
    for t in reversed(range(T)):
        _, dh, dc = cells[t].backward(dhs[:, t] + dh, dc)
    close(mine.dh, dh, "dh")
    close(mine.dc, dc, "dc")
    close(mine.c, c, "c")


# --------------------------------------------------------------------------
# chapter-5 language-model layers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=SEQ_IDS)
@pytest.mark.parametrize("impl", implementations("TimeEmbedding"))
def test_time_embedding(book, tools, impl, shape, layout):
    N, T, D, V = shape  # H plays the vocabulary
    rng = seeded(("emb", shape, layout))
    W = f32(rng, (V, D))
    xs = rng.integers(0, V, (N, T))
    xs[0, 0] = xs[-1, -1]  # a repeated id: its gradient rows add up
    theirs, mine = book.tl.TimeEmbedding(W.copy()), impl.TimeEmbedding(tools.with_layout(W, layout))
    close(mine.forward(tools.with_layout(xs, layout)), theirs.forward(xs.copy()), "out")
    dout = f32(rng, (N, T, D))
    assert mine.backward(tools.with_layout(dout, layout)) is None
    theirs.backward(dout.copy())
    close(mine.grads[0], theirs.grads[0], "dW")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=SEQ_IDS)
@pytest.mark.parametrize("impl", implementations("TimeAffine"))
def test_time_affine(book, tools, impl, shape, layout):
    N, T, D, V = shape
    rng = seeded(("aff", shape, layout))
    W, b = f32(rng, (D, V), 1 / np.sqrt(D)), f32(rng, (V,))
    x, dout = f32(rng, (N, T, D)), f32(rng, (N, T, V))
    theirs = book.tl.TimeAffine(W.copy(), b.copy())
    mine = impl.TimeAffine(*laid_out(tools, (W, b), layout))
    close(mine.forward(tools.with_layout(x, layout)), theirs.forward(x.copy()), "out")
    close(mine.backward(tools.with_layout(dout, layout)), theirs.backward(dout.copy()), "dx")
    close(mine.grads[0], theirs.grads[0], "dW")
    close(mine.grads[1], theirs.grads[1], "db")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=SEQ_IDS)
@pytest.mark.parametrize("impl", implementations("TimeSoftmaxWithLoss"))
def test_time_softmax_with_loss(book, tools, impl, shape, layout):
    N, T, _, V = shape
    rng = seeded(("sm", shape, layout))
    xs = f32(rng, (N, T, V), 2.0)
    ts = rng.integers(0, V, (N, T))
    if ts.size > 1:
        ts[-1, -1] = -1  # ignore_label
    for one_hot, dout in ((False, 1), (True, 0.5)):
        t = np.eye(V, dtype=np.int32)[ts] if one_hot else ts
        if one_hot and ts.size > 1:
            t[-1, -1] = 0  # the book's one-hot labels have no ignore_label
            t[-1, -1, 0] = 1
        theirs, mine = book.tl.TimeSoftmaxWithLoss(), impl.TimeSoftmaxWithLoss()
        loss_t = theirs.forward(xs.copy(), t.copy())
        loss_m = mine.forward(tools.with_layout(xs, layout), tools.with_layout(t, layout))
        close(loss_m, loss_t, "loss")
        close(mine.backward(dout), theirs.backward(dout), "dxs")


# --------------------------------------------------------------------------
# TimeDropout, TimeSigmoidWithLoss
# --------------------------------------------------------------------------

@pytest.mark.parametrize("ratio", [0.5, 0.25, 0.0])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=SEQ_IDS)
@pytest.mark.parametrize("impl", implementations("TimeDropout"))
def test_time_dropout_same_seed(book, tools, impl, shape, layout, ratio):
    """Seeded with np.random.seed, ours draws the book's mask bit for bit and
    leaves the global generator where the book leaves it."""
    N, T, D, _ = shape
    rng = seeded(("drop", shape, layout, ratio))
    xs, dout = f32(rng, (N, T, D)), f32(rng, (N, T, D))
    theirs, mine = book.tl.TimeDropout(ratio), impl.TimeDropout(ratio)
    seed = int(rng.integers(2**31))
    for call in range(2):  # two calls: the second draws from where the first left off
        np.random.seed(seed + call)
        out_t = theirs.forward(xs.copy())
        after_t = np.random.get_state()
        np.random.seed(seed + call)
        out_m = mine.forward(tools.with_layout(xs, layout))
        after_m = np.random.get_state()
        assert np.asarray(out_m).dtype == np.float32
        np.testing.assert_array_equal(out_m, out_t)
        np.testing.assert_array_equal(after_m[1], after_t[1])
        assert after_m[2:] == after_t[2:]
        np.testing.assert_array_equal(mine.backward(tools.with_layout(dout, layout)),
                                      theirs.backward(dout.copy()))
    theirs.train_flg = mine.train_flg = False
    np.testing.assert_array_equal(mine.forward(tools.with_layout(xs, layout)),
                                  theirs.forward(xs.copy()))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SEQ_SHAPES, ids=SEQ_IDS)
@pytest.mark.parametrize("impl", implementations("TimeSigmoidWithLoss"))
def test_time_sigmoid_with_loss(book, tools, impl, shape, layout):
    N, T, _, _ = shape
    rng = seeded(("sig", shape, layout))
    xs = f32(rng, (N, T), 3.0)
    ts = rng.integers(0, 2, (N, T))
    for dout in (1, 0.25):
        theirs, mine = book.tl.TimeSigmoidWithLoss(), impl.TimeSigmoidWithLoss()
        close(mine.forward(tools.with_layout(xs, layout), tools.with_layout(ts, layout)),
              theirs.forward(xs.copy(), ts.copy()), "loss")
        dxs_m = mine.backward(dout)
        close(dxs_m, theirs.backward(dout), "dxs")
        assert np.asarray(dxs_m).dtype == np.float32
