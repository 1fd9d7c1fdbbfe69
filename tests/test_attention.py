"""The attention layers of chapter 8: WeightSum, AttentionWeight, Attention,
TimeAttention -- compiled (rnnscratch) and the NumPy reference (rnnscratch.reference)
against the book's own classes (ch08/attention_layer.py, loaded from
$RNNSCRATCH_COURSE_DIR: tests/needs.py), the composition of the layers (Attention
is AttentionWeight then WeightSum; TimeAttention its per-step layers; the weights
views of the cache; the fused kernels their parts, bit for bit), the dtype rule,
and a mismatch message naming both sides. Compiled against reference on any
shape, layout, SIMD path and thread count, sizes 0, gradients and every error:
the registry suites (notes/tests-merged.md).

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
import zlib

import numpy as np
import pytest

from conftest import assert_close_to_scale
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
DTYPES = [np.float32, np.float64]


def seeded(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def states(rng, shape, dtype):
    return rng.uniform(-1.0, 1.0, shape).astype(dtype)


def close(ours, theirs, what, dtype):
    assert_close_to_scale(ours, theirs, what, RTOL[np.dtype(dtype)])


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
# the composition of the layers
# --------------------------------------------------------------------------

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
# the fused kernels
# --------------------------------------------------------------------------

def all_core_results(hs_enc, hs_dec, dc, da):
    c, a = _core.time_attention_forward(hs_enc, hs_dec)
    return [c, a, *_core.time_attention_backward(dc, hs_enc, hs_dec, a),
            _core.attention_weight_forward(hs_enc, hs_dec),
            _core.weight_sum_forward(hs_enc, a),
            *_core.weight_sum_backward(dc, hs_enc, a),
            *_core.attention_weight_backward(da, hs_enc, hs_dec, a)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_fused_kernels_are_their_parts_on_every_simd_path(dtype):
    """time_attention_forward makes the same calls as attention_weight_forward then
    weight_sum_forward: the same bits on every path (each kernel against the oracle on
    every path and thread count: test_simd_paths.py)."""
    N, S, T, H = 3, 5, 2, 7
    rng = seeded("fused", np.dtype(dtype).name)
    hs_enc, hs_dec = states(rng, (N, S, H), dtype), states(rng, (N, T, H), dtype)
    dc, da = states(rng, (N, T, H), dtype), states(rng, (N, T, S), dtype)
    path0 = _core.get_simd_path()
    try:
        for path in _core.available_simd_paths():
            _core.set_simd_path(path)
            one = all_core_results(hs_enc, hs_dec, dc, da)
            np.testing.assert_array_equal(one[1], one[4], err_msg=path)
            np.testing.assert_array_equal(one[0], one[5], err_msg=path)
    finally:
        _core.set_simd_path(path0)


# --------------------------------------------------------------------------
# a size mismatch names both sides
# --------------------------------------------------------------------------

N0, S0, T0, H0 = 2, 3, 5, 4  # all different: a shape in a message is unambiguous


def good():
    rng = seeded("errors")
    return dict(hs_enc=states(rng, (N0, S0, H0), np.float64),
                hs_dec=states(rng, (N0, T0, H0), np.float64),
                a=np.full((N0, T0, S0), 1.0 / S0),
                dc=states(rng, (N0, T0, H0), np.float64),
                da=states(rng, (N0, T0, S0), np.float64))


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

