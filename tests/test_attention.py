"""The attention layers of chapter 8: WeightSum, AttentionWeight, Attention,
TimeAttention -- compiled (rnnscratch) against the NumPy reference
(rnnscratch.reference) and the book's own classes (ch08/attention_layer.py,
loaded from $RNNSCRATCH_COURSE_DIR; those tests skip, with that reason, when
it is not set), float64 central differences, every SIMD path with 1 and 2
threads, and every error path of the six _core functions.

Shapes: N batch, S encoder steps, T decoder steps, H hidden units. Hidden
states are drawn uniform in (-1, 1), like the tanh-bounded states of the
book's LSTMs.

Tolerances: the two sides sum in different orders. A score is a sum of H <= 67
products of size <= 1; the softmax turns an absolute error e of the scores into
a relative error about e of the weights; a context value sums S <= 29 terms.
float64: 1e-12 of max(1, the largest magnitude) (observed: a few 1e-15).
float32: 1e-4 of the same scale (observed: a few 1e-7); a formula error
(a wrong sign, a missing softmax term) shows up at 1e-2 or more.
"""
import importlib.util
import os
import sys
import zlib

import numpy as np
import pytest

from central_difference import numerical_gradient

from needs import course_dir

import rnnscratch
from rnnscratch.tools import course
from rnnscratch import _core
from rnnscratch import reference as R

RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-12}

# (N, S, T, H): sizes 1, odd sizes, S != T, the benchmark's shape
SHAPES = [(1, 1, 1, 1), (1, 3, 1, 5), (3, 1, 2, 1), (2, 7, 3, 5), (5, 9, 4, 13),
          (4, 29, 11, 16), (3, 2, 5, 33), (2, 17, 9, 67), (7, 5, 13, 3)]
SHAPE_IDS = ["N%d-S%d-T%d-H%d" % s for s in SHAPES]
# some size 0
EMPTY_SHAPES = [(0, 3, 2, 4), (2, 0, 3, 4), (2, 3, 0, 4), (2, 3, 4, 0), (0, 0, 0, 0)]
DTYPES = [np.float32, np.float64]
LAYOUTS = ("C", "F", "strided", "permuted")


def seeded(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def states(rng, shape, dtype):
    return rng.uniform(-1.0, 1.0, shape).astype(dtype)


def close(ours, theirs, what, dtype):
    o = np.asarray(ours, dtype=np.float64)
    t = np.asarray(theirs, dtype=np.float64)
    assert o.shape == t.shape, "%s: shape %s, expected %s" % (what, o.shape, t.shape)
    if t.size == 0:
        return
    assert np.all(np.isfinite(o)), what + ": non-finite values"
    scale = max(1.0, float(np.max(np.abs(t))))
    err = float(np.max(np.abs(o - t)))
    tol = RTOL[np.dtype(dtype)] * scale
    assert err <= tol, "%s: largest difference %.3g (tolerance %.3g)" % (what, err, tol)


def time_case(shape, dtype, key):
    N, S, T, H = shape
    rng = seeded("time", shape, np.dtype(dtype).name, key)
    return (states(rng, (N, S, H), dtype), states(rng, (N, T, H), dtype),
            states(rng, (N, T, H), dtype))


def run_time(mod, hs_enc, hs_dec, dout):
    layer = mod.TimeAttention()
    out = layer.forward(hs_enc, hs_dec)
    weights = [np.array(w) for w in layer.attention_weights]
    dhs_enc, dhs_dec = layer.backward(dout)
    return layer, out, weights, dhs_enc, dhs_dec


# --------------------------------------------------------------------------
# compiled against the reference
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_time_attention_matches_reference(shape, dtype):
    N, S, T, H = shape
    hs_enc, hs_dec, dout = time_case(shape, dtype, "ref")
    _, out, w, de, dd = run_time(rnnscratch, hs_enc, hs_dec, dout)
    _, rout, rw, rde, rdd = run_time(R, hs_enc, hs_dec, dout)
    for got, want in [(out, rout), (de, rde), (dd, rdd)]:
        assert got.dtype == np.dtype(dtype)
    close(out, rout, "out", dtype)
    assert len(w) == len(rw) == T
    for t in range(T):
        assert w[t].shape == (N, S)
        close(w[t], rw[t], "attention_weights[%d]" % t, dtype)
    close(de, rde, "dhs_enc", dtype)
    close(dd, rdd, "dhs_dec", dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_time_attention_any_layout(tools, layout, dtype):
    shape = (5, 9, 4, 13)
    hs_enc, hs_dec, dout = time_case(shape, dtype, "layout")
    _, out, w, de, dd = run_time(rnnscratch, hs_enc, hs_dec, dout)
    lay = [tools.with_layout(a, layout) for a in (hs_enc, hs_dec, dout)]
    assert layout == "C" or not lay[0].flags.c_contiguous
    _, lout, lw, lde, ldd = run_time(rnnscratch, *lay)
    # the same values in another layout: the same numbers, bit for bit
    np.testing.assert_array_equal(lout, out)
    np.testing.assert_array_equal(np.stack(lw), np.stack(w))
    np.testing.assert_array_equal(lde, de)
    np.testing.assert_array_equal(ldd, dd)


@pytest.mark.parametrize("shape", EMPTY_SHAPES, ids=["N%d-S%d-T%d-H%d" % s for s in EMPTY_SHAPES])
def test_time_attention_size_zero(shape):
    N, S, T, H = shape
    hs_enc, hs_dec, dout = time_case(shape, np.float64, "zero")
    _, out, w, de, dd = run_time(rnnscratch, hs_enc, hs_dec, dout)
    _, rout, rw, rde, rdd = run_time(R, hs_enc, hs_dec, dout)
    assert out.shape == (N, T, H) and de.shape == (N, S, H) and dd.shape == (N, T, H)
    close(out, rout, "out", np.float64)
    close(de, rde, "dhs_enc", np.float64)
    close(dd, rdd, "dhs_dec", np.float64)
    assert len(w) == T
    for t in range(T):
        close(w[t], rw[t], "attention_weights[%d]" % t, np.float64)
    if H == 0 and S > 0 and N > 0 and T > 0:  # no evidence: uniform weights
        np.testing.assert_array_equal(np.stack(w), np.full((T, N, S), 1.0 / S))
    if T == 0:  # no decoder step: nothing reaches the encoder
        np.testing.assert_array_equal(de, np.zeros((N, S, H)))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_step_classes_match_reference(shape, dtype):
    N, S, _, H = shape
    rng = seeded("step", shape, np.dtype(dtype).name)
    hs = states(rng, (N, S, H), dtype)
    h = states(rng, (N, H), dtype)
    dout = states(rng, (N, H), dtype)
    da_up = states(rng, (N, S), dtype)
    a_in = R.AttentionWeight().forward(hs, states(rng, (N, H), dtype))
    for mod_a, mod_b in [(rnnscratch, R)]:
        # Attention
        ours, ref = mod_a.Attention(), mod_b.Attention()
        close(ours.forward(hs, h), ref.forward(hs, h), "Attention.forward", dtype)
        close(ours.attention_weight, ref.attention_weight, "Attention.attention_weight", dtype)
        for g, r, name in zip(ours.backward(dout), ref.backward(dout), ("dhs", "dh")):
            close(g, r, "Attention.backward " + name, dtype)
        # the sub-layers hold the book's caches
        hs_c, hr = ours.attention_weight_layer.cache
        assert hr.shape == (N, 1, H) and hs_c.shape == (N, S, H)
        np.testing.assert_array_equal(ours.attention_weight_layer.softmax.out,
                                      ours.attention_weight)
        assert ours.weight_sum_layer.cache[1].shape == (N, S, 1)
        # AttentionWeight
        ours, ref = mod_a.AttentionWeight(), mod_b.AttentionWeight()
        a = ours.forward(hs, h)
        close(a, ref.forward(hs, h), "AttentionWeight.forward", dtype)
        assert a.shape == (N, S) and a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=RTOL[np.dtype(dtype)] * 10)
        assert ours.cache[1].shape == (N, 1, H) and ours.softmax.out is a
        for g, r, name in zip(ours.backward(da_up), ref.backward(da_up), ("dhs", "dh")):
            close(g, r, "AttentionWeight.backward " + name, dtype)
        # WeightSum
        ours, ref = mod_a.WeightSum(), mod_b.WeightSum()
        c = ours.forward(hs, a_in)
        close(c, ref.forward(hs, a_in), "WeightSum.forward", dtype)
        assert c.shape == (N, H) and ours.cache[1].shape == (N, S, 1)
        for g, r, name in zip(ours.backward(dout), ref.backward(dout), ("dhs", "da")):
            close(g, r, "WeightSum.backward " + name, dtype)


def test_attention_is_the_composition_of_its_sub_layers():
    """Attention's forward gives the numbers of AttentionWeight then WeightSum
    (the fused kernel makes the same calls); its backward is their sum."""
    rng = seeded("composition")
    N, S, H = 4, 7, 9
    hs, h, dout = states(rng, (N, S, H), np.float64), states(rng, (N, H), np.float64), \
        states(rng, (N, H), np.float64)
    att = rnnscratch.Attention()
    out = att.forward(hs, h)
    aw, ws = rnnscratch.AttentionWeight(), rnnscratch.WeightSum()
    a = aw.forward(hs, h)
    np.testing.assert_array_equal(att.attention_weight, a)
    np.testing.assert_array_equal(out, ws.forward(hs, a))
    dhs, dh = att.backward(dout)
    dhs0, da = ws.backward(dout)
    dhs1, dh1 = aw.backward(da)
    close(dhs, dhs0 + dhs1, "dhs", np.float64)
    np.testing.assert_array_equal(dh, dh1)


def test_time_attention_layers_are_the_per_step_layers():
    """TimeAttention.layers: one Attention per step with the book's caches;
    their backward summed over the steps is TimeAttention's."""
    hs_enc, hs_dec, dout = time_case((3, 5, 4, 6), np.float64, "layers")
    layer = rnnscratch.TimeAttention()
    assert layer.layers is None
    out = layer.forward(hs_enc, hs_dec)
    de, dd = layer.backward(dout)
    steps = layer.layers
    assert len(steps) == 4
    total = np.zeros_like(de)
    for t, step in enumerate(steps):
        np.testing.assert_array_equal(step.attention_weight, layer.attention_weights[t])
        np.testing.assert_array_equal(step.forward(hs_enc, hs_dec[:, t]), out[:, t])
        dhs, dh = step.backward(dout[:, t])
        total += dhs
        close(dh, dd[:, t], "dh of step %d" % t, np.float64)
    close(total, de, "dhs_enc", np.float64)


def test_attention_weights_are_views_of_the_cache():
    hs_enc, hs_dec, _ = time_case((2, 3, 4, 5), np.float32, "views")
    layer = rnnscratch.TimeAttention()
    layer.forward(hs_enc, hs_dec)
    a = layer.cache[2]
    assert a.shape == (2, 4, 3)
    for t, w in enumerate(layer.attention_weights):
        assert w.shape == (2, 3) and np.shares_memory(w, a)
        np.testing.assert_array_equal(w, a[:, t])
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("mod", [rnnscratch, R], ids=["compiled", "reference"])
def test_dtype_rule(mod):
    rng = seeded("dtype")
    e32, d32 = states(rng, (2, 3, 4), np.float32), states(rng, (2, 5, 4), np.float32)
    assert mod.TimeAttention().forward(e32, d32).dtype == np.float32
    assert mod.TimeAttention().forward(e32.astype(np.float16), d32).dtype == np.float32
    assert mod.TimeAttention().forward(e32, d32.astype(np.float64)).dtype == np.float64
    ints = mod.TimeAttention()
    out = ints.forward(np.ones((2, 3, 4), dtype=np.int64), np.ones((2, 5, 4), dtype=np.int32))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, 1.0)
    de, dd = ints.backward(np.ones((2, 5, 4), dtype=np.float32))
    assert de.dtype == dd.dtype == np.float64


# --------------------------------------------------------------------------
# the book's classes
# --------------------------------------------------------------------------



@pytest.fixture(scope="module")
def book():
    """ch08/attention_layer.py of the book, imported in isolation."""
    return course.load(course_dir("ch08", "attention_layer.py"), "ch08.attention_layer").attention_layer


@pytest.mark.parametrize("mod", [rnnscratch, R], ids=["compiled", "reference"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_time_attention_matches_the_book(book, mod, shape, dtype):
    N, S, T, H = shape
    hs_enc, hs_dec, dout = time_case(shape, dtype, "book")
    _, out, w, de, dd = run_time(mod, hs_enc, hs_dec, dout)
    _, bout, bw, bde, bdd = run_time(book, hs_enc, hs_dec, dout)
    close(out, bout, "out", dtype)
    assert len(w) == len(bw)
    for t in range(T):
        close(w[t], bw[t], "attention_weights[%d]" % t, dtype)
    close(de, bde, "dhs_enc", dtype)
    close(dd, bdd, "dhs_dec", dtype)


@pytest.mark.parametrize("mod", [rnnscratch, R], ids=["compiled", "reference"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_step_classes_match_the_book(book, mod, shape, dtype):
    N, S, _, H = shape
    rng = seeded("book-step", shape, np.dtype(dtype).name)
    hs, h = states(rng, (N, S, H), dtype), states(rng, (N, H), dtype)
    dout, da_up = states(rng, (N, H), dtype), states(rng, (N, S), dtype)
    a_in = book.AttentionWeight().forward(hs, states(rng, (N, H), dtype))

    ours, theirs = mod.Attention(), book.Attention()
    close(ours.forward(hs, h), theirs.forward(hs, h), "Attention.forward", dtype)
    close(ours.attention_weight, theirs.attention_weight, "Attention.attention_weight", dtype)
    for g, r, name in zip(ours.backward(dout), theirs.backward(dout), ("dhs", "dh")):
        close(g, r, "Attention.backward " + name, dtype)

    ours, theirs = mod.AttentionWeight(), book.AttentionWeight()
    close(ours.forward(hs, h), theirs.forward(hs, h), "AttentionWeight.forward", dtype)
    for got, want in zip(ours.cache, theirs.cache):
        np.testing.assert_array_equal(got, want)
    close(ours.softmax.out, theirs.softmax.out, "AttentionWeight.softmax.out", dtype)
    for g, r, name in zip(ours.backward(da_up), theirs.backward(da_up), ("dhs", "dh")):
        close(g, r, "AttentionWeight.backward " + name, dtype)

    ours, theirs = mod.WeightSum(), book.WeightSum()
    close(ours.forward(hs, a_in), theirs.forward(hs, a_in), "WeightSum.forward", dtype)
    for got, want in zip(ours.cache, theirs.cache):
        np.testing.assert_array_equal(got, want)
    for g, r, name in zip(ours.backward(dout), theirs.backward(dout), ("dhs", "da")):
        close(g, r, "WeightSum.backward " + name, dtype)


def test_api_as_the_books(book):
    for name in ("WeightSum", "AttentionWeight", "Attention", "TimeAttention"):
        for mod in (rnnscratch, R):
            ours, theirs = getattr(mod, name)(), getattr(book, name)()
            assert ours.params == theirs.params == [] and ours.grads == theirs.grads == []
            for attr in vars(theirs):
                assert hasattr(ours, attr), "%s.%s of %s" % (name, attr, mod.__name__)


# --------------------------------------------------------------------------
# gradients: float64 central differences
# --------------------------------------------------------------------------

numeric_grad = numerical_gradient  # tests/central_difference.py


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 4, 5), (3, 5, 2, 3), (2, 1, 3, 4)],
                         ids=lambda s: "N%d-S%d-T%d-H%d" % s)
def test_time_attention_central_differences(shape):
    N, S, T, H = shape
    rng = seeded("gradcheck", shape)
    hs_enc, hs_dec = states(rng, (N, S, H), np.float64), states(rng, (N, T, H), np.float64)
    W = rng.standard_normal((N, T, H))
    layer = rnnscratch.TimeAttention()

    def loss():
        return float(np.sum(rnnscratch.TimeAttention().forward(hs_enc, hs_dec) * W))

    layer.forward(hs_enc, hs_dec)
    de, dd = layer.backward(W)
    np.testing.assert_allclose(de, numeric_grad(loss, hs_enc), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dd, numeric_grad(loss, hs_dec), rtol=1e-6, atol=1e-8)


def test_step_classes_central_differences():
    N, S, H = 2, 4, 3
    rng = seeded("gradcheck-step")
    hs, h = states(rng, (N, S, H), np.float64), states(rng, (N, H), np.float64)
    a = R.AttentionWeight().forward(hs, states(rng, (N, H), np.float64))
    Wc, Wa = rng.standard_normal((N, H)), rng.standard_normal((N, S))

    layer = rnnscratch.WeightSum()
    layer.forward(hs, a)
    dhs, da = layer.backward(Wc)
    ws = lambda: float(np.sum(rnnscratch.WeightSum().forward(hs, a) * Wc))  # noqa: E731
    np.testing.assert_allclose(dhs, numeric_grad(ws, hs), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(da, numeric_grad(ws, a), rtol=1e-6, atol=1e-8)

    layer = rnnscratch.AttentionWeight()
    layer.forward(hs, h)
    dhs, dh = layer.backward(Wa)
    aw = lambda: float(np.sum(rnnscratch.AttentionWeight().forward(hs, h) * Wa))  # noqa: E731
    np.testing.assert_allclose(dhs, numeric_grad(aw, hs), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dh, numeric_grad(aw, h), rtol=1e-6, atol=1e-8)

    layer = rnnscratch.Attention()
    layer.forward(hs, h)
    dhs, dh = layer.backward(Wc)
    at = lambda: float(np.sum(rnnscratch.Attention().forward(hs, h) * Wc))  # noqa: E731
    np.testing.assert_allclose(dhs, numeric_grad(at, hs), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dh, numeric_grad(at, h), rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------
# SIMD paths and threads
# --------------------------------------------------------------------------

def all_core_results(hs_enc, hs_dec, dc, da):
    c, a = _core.time_attention_forward(hs_enc, hs_dec)
    return [c, a, *_core.time_attention_backward(dc, hs_enc, hs_dec, a),
            _core.attention_weight_forward(hs_enc, hs_dec),
            _core.weight_sum_forward(hs_enc, a),
            *_core.weight_sum_backward(dc, hs_enc, a),
            *_core.attention_weight_backward(da, hs_enc, hs_dec, a)]


# the first is large enough for the pool (8·N·T·S·H >= 1e7 flops), with an
# odd N that splits unevenly; the second runs on one thread either way
@pytest.mark.parametrize("shape", [(33, 29, 13, 129), (3, 5, 2, 7)],
                         ids=lambda s: "N%d-S%d-T%d-H%d" % s)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_every_simd_path_one_and_two_threads_bit_identical(shape, dtype):
    N, S, T, H = shape
    rng = seeded("threads", shape, np.dtype(dtype).name)
    hs_enc, hs_dec = states(rng, (N, S, H), dtype), states(rng, (N, T, H), dtype)
    dc, da = states(rng, (N, T, H), dtype), states(rng, (N, T, S), dtype)
    ref = run_time(R, hs_enc, hs_dec, dc)
    path0, threads0 = _core.get_simd_path(), _core.get_num_threads()
    paths = _core.available_simd_paths()
    assert "portable" in paths
    try:
        for path in paths:
            _core.set_simd_path(path)
            assert _core.get_simd_path() == path
            _core.set_num_threads(1)
            one = all_core_results(hs_enc, hs_dec, dc, da)
            _core.set_num_threads(2)
            two = all_core_results(hs_enc, hs_dec, dc, da)
            for k, (x, y) in enumerate(zip(one, two)):
                np.testing.assert_array_equal(x, y, err_msg="%s, result %d" % (path, k))
            # the fused forward makes the same calls as the two parts
            np.testing.assert_array_equal(one[1], one[4], err_msg=path)
            np.testing.assert_array_equal(one[0], one[5], err_msg=path)
            # and every path gives the reference's numbers
            close(one[0], ref[1], path + " out", dtype)
            close(one[2], ref[3], path + " dhs_enc", dtype)
            close(one[3], ref[4], path + " dhs_dec", dtype)
    finally:
        _core.set_simd_path(path0)
        _core.set_num_threads(threads0)


# --------------------------------------------------------------------------
# errors: every path of the six _core functions, and the classes
# --------------------------------------------------------------------------

N0, S0, T0, H0 = 2, 3, 5, 4  # all different: a shape in a message is unambiguous


def good():
    rng = seeded("errors")
    return dict(hs_enc=states(rng, (N0, S0, H0), np.float64),
                hs_dec=states(rng, (N0, T0, H0), np.float64),
                a=np.full((N0, T0, S0), 1.0 / S0),
                dc=states(rng, (N0, T0, H0), np.float64),
                da=states(rng, (N0, T0, S0), np.float64))


SIGNATURES = {
    "attention_weight_forward": ["hs_enc", "hs_dec"],
    "weight_sum_forward": ["hs_enc", "a"],
    "time_attention_forward": ["hs_enc", "hs_dec"],
    "weight_sum_backward": ["dc", "hs_enc", "a"],
    "attention_weight_backward": ["da", "hs_enc", "hs_dec", "a"],
    "time_attention_backward": ["dc", "hs_enc", "hs_dec", "a"],
}
SPECS = {"hs_enc": "NSH", "hs_dec": "NTH", "a": "NTS", "dc": "NTH", "da": "NTS"}
SIZE = {"N": N0, "S": S0, "T": T0, "H": H0}


def bad_values(fn, arg):
    """(id, value, exception, detail the message must show); a size is made
    wrong only where another argument of fn fixes it too"""
    shape = tuple(SIZE[x] for x in SPECS[arg])
    cases = [
        ("none", None, TypeError, None),
        ("complex", np.ones(shape, dtype=complex), TypeError, np.dtype(complex)),
        ("strings", np.full(shape, "x"), TypeError, None),
        ("junk", object(), TypeError, None),
        ("ragged", [[1.0], [1.0, 2.0]], TypeError, None),
        ("2d", np.ones(shape[:2]), ValueError, shape[:2]),
        ("4d", np.ones(shape + (1,)), ValueError, shape + (1,)),
    ]
    for k, letter in enumerate(SPECS[arg]):
        if not any(letter in SPECS[o] for o in SIGNATURES[fn] if o != arg):
            continue
        wrong = list(shape)
        wrong[k] += 1
        cases.append(("%s+1" % letter, np.ones(tuple(wrong)), ValueError, tuple(wrong)))
    return cases


ERROR_CASES = [(fn, arg, *case) for fn, args in SIGNATURES.items() for arg in args
               for case in bad_values(fn, arg)]


def _core_call(fn, args):
    return getattr(_core, fn)(*[args[name] for name in SIGNATURES[fn]])


@pytest.mark.parametrize("case", ERROR_CASES, ids=["%s-%s-%s" % c[:3] for c in ERROR_CASES])
def test_core_rejects_bad_argument(tools, case):
    fn, arg, _, value, exc, detail = case
    args = good()
    args[arg] = value
    with pytest.raises(exc) as info:
        _core_call(fn, args)
    names = [(arg, detail)]
    if case[2].endswith("+1"):
        # a mismatched size: blamed on this argument (with its shape) or, when
        # this one came first and fixed the size, on another (with its shape)
        names += [(other, tuple(SIZE[x] for x in SPECS[other]))
                  for other in SIGNATURES[fn] if other != arg]
    tools.assert_message(info, names)
    # the next good call works
    ok = _core_call(fn, good())
    assert ok is not None


@pytest.mark.parametrize("fn", sorted(SIGNATURES))
def test_core_argument_parsing(fn):
    args = good()
    names = SIGNATURES[fn]
    with pytest.raises(TypeError):  # one argument missing
        getattr(_core, fn)(*[args[n] for n in names[:-1]])
    with pytest.raises(TypeError):  # one too many
        getattr(_core, fn)(*[args[n] for n in names], args[names[0]])
    with pytest.raises(TypeError):  # an unknown keyword
        getattr(_core, fn)(*[args[n] for n in names], bogus=1)
    # keywords by their documented names
    by_kw = getattr(_core, fn)(**{n: args[n] for n in names})
    by_pos = _core_call(fn, args)
    for x, y in zip(by_kw if isinstance(by_kw, tuple) else (by_kw,),
                    by_pos if isinstance(by_pos, tuple) else (by_pos,)):
        np.testing.assert_array_equal(x, y)


def test_core_mismatch_names_both_sides():
    """hs_dec's H differs from hs_enc's: the message names hs_dec, its shape,
    and where H came from."""
    args = good()
    args["hs_dec"] = np.ones((N0, T0, H0 + 2))
    with pytest.raises(ValueError) as info:
        _core.time_attention_forward(args["hs_enc"], args["hs_dec"])
    msg = str(info.value)
    assert msg.startswith("hs_dec:") and str((N0, T0, H0 + 2)) in msg and "hs_enc" in msg
    args = good()
    args["a"] = np.ones((N0, T0, S0 + 1))
    with pytest.raises(ValueError) as info:
        _core.time_attention_backward(args["dc"], args["hs_enc"], args["hs_dec"], args["a"])
    msg = str(info.value)
    assert msg.startswith("a:") and str((N0, T0, S0 + 1)) in msg


@pytest.mark.parametrize("mod", [rnnscratch, R], ids=["compiled", "reference"])
def test_class_errors_name_the_argument_and_keep_state(mod, tools):
    args = good()
    hs, hd, dc = args["hs_enc"], args["hs_dec"], args["dc"]
    h, dout, a2 = hd[:, 0], dc[:, 0], args["a"][:, 0]

    # backward before forward
    for cls in ("WeightSum", "AttentionWeight", "Attention", "TimeAttention"):
        with pytest.raises(RuntimeError):
            getattr(mod, cls)().backward(dout if cls != "TimeAttention" else dc)

    layer = mod.TimeAttention()
    out = layer.forward(hs, hd)
    weights = [np.array(w) for w in layer.attention_weights]
    bad = [
        (lambda: layer.forward(hs, np.ones((N0, T0, H0 + 1))), ValueError, "hs_dec", (N0, T0, H0 + 1)),
        (lambda: layer.forward(hs[0], hd), ValueError, "hs_enc", (S0, H0)),
        (lambda: layer.forward(hs, hd.astype(complex)), TypeError, "hs_dec", np.dtype(complex)),
        (lambda: layer.backward(np.ones((N0, T0 + 1, H0))), ValueError, "dout", (N0, T0 + 1, H0)),
        (lambda: layer.backward(dc[:, :, 0]), ValueError, "dout", (N0, T0)),
    ]
    for call, exc, name, detail in bad:
        with pytest.raises(exc) as info:
            call()
        tools.assert_message(info, [(name, detail)])
    # nothing changed: backward still belongs to the good forward
    np.testing.assert_array_equal(np.stack(layer.attention_weights), np.stack(weights))
    de, dd = layer.backward(dc)
    _, rout, _, rde, rdd = run_time(R, hs, hd, dc)
    close(out, rout, "out", np.float64)
    close(de, rde, "dhs_enc", np.float64)
    close(dd, rdd, "dhs_dec", np.float64)

    step_bad = [
        (mod.Attention, "forward", (hs, hd), ValueError, "h", (N0, T0, H0)),
        (mod.Attention, "forward", (hs, h[:1]), ValueError, "h", (1, H0)),
        (mod.Attention, "forward", (hs[0], h), ValueError, "hs", (S0, H0)),
        (mod.AttentionWeight, "forward", (hs, h[:, :2]), ValueError, "h", (N0, 2)),
        (mod.AttentionWeight, "forward", (hs, "x"), TypeError, "h", None),
        (mod.WeightSum, "forward", (hs, a2[:, :2]), ValueError, "a", (N0, 2)),
        (mod.WeightSum, "forward", (hs, args["a"]), ValueError, "a", (N0, T0, S0)),
    ]
    for cls, method, call_args, exc, name, detail in step_bad:
        with pytest.raises(exc) as info:
            getattr(cls(), method)(*call_args)
        tools.assert_message(info, [(name, detail)])

    for cls, fwd, up, up_name, wrong in [
            (mod.Attention, (hs, h), dout, "dout", (N0, H0 + 1)),
            (mod.AttentionWeight, (hs, h), a2, "da", (N0, S0 + 1)),
            (mod.WeightSum, (hs, a2), dout, "dc", (N0 + 1, H0))]:
        layer = cls()
        layer.forward(*fwd)
        first = layer.backward(up)
        with pytest.raises(ValueError) as info:
            layer.backward(np.ones(wrong))
        tools.assert_message(info, [(up_name, wrong)])
        again = layer.backward(up)  # the failed call changed nothing
        for x, y in zip(first, again):
            np.testing.assert_array_equal(x, y)
