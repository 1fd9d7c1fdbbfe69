"""The language-model layers (TimeEmbedding, TimeAffine, TimeSoftmaxWithLoss,
SimpleRnnlm) and the fused head (_core.affine_softmax_cross_entropy): repeated ids
summed in a fixed order, the tied (transposed) affine weight, ignore_label, one-hot
targets, extreme logits, the fused head bit for bit the layers on every SIMD path,
the model's initialisation, state and buffers, finite differences through a whole
model, and the messages' positions. Compiled against the NumPy twins on any shape,
dtype, layout, SIMD path and thread count, and every argument named in errors:
the registry suites (notes/tests-merged.md)."""
import numpy as np
import pytest

from central_difference import numerical_gradient

from rnnscratch import _core
import rnnscratch as C  # the compiled layers and models
from rnnscratch import reference as R
from rnnscratch.models import reference as RM
from rnnscratch.models import RnnlmBase

DTYPES = (np.float32, np.float64)
# (N, T, D, V): ones, off-grid sizes, a batch of the chapter-5 size
SHAPES = [(1, 1, 1, 1), (1, 1, 3, 2), (2, 3, 5, 7), (3, 1, 17, 33), (10, 5, 100, 317),
          (4, 7, 29, 130)]


def tol(dtype):
    return 2e-5 if np.dtype(dtype) == np.float32 else 1e-12


def close(a, b, dtype, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1.0)
    np.testing.assert_allclose(a, b, rtol=tol(dtype), atol=tol(dtype) * scale, err_msg=what)


@pytest.fixture
def rng(request):
    import zlib
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


# --------------------------------------------------------------------------
# TimeEmbedding

@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_repeated_ids_add_up(rng, dtype):
    V, D, N, T = 6, 4, 5, 7
    W = rng.standard_normal((V, D)).astype(dtype)
    xs = np.full((N, T), 3)
    xs[0, :3] = 1
    dout = rng.standard_normal((N, T, D)).astype(dtype)
    layer = C.TimeEmbedding(W)
    layer.forward(xs)
    layer.grads[0][...] = 99  # overwritten, not added to
    layer.backward(dout)
    dW = layer.grads[0]
    np.testing.assert_allclose(dW[3], dout[xs == 3].sum(axis=0), rtol=tol(dtype) * 10)
    np.testing.assert_allclose(dW[1], dout[0, :3].sum(axis=0), rtol=tol(dtype) * 10)
    assert not dW[[0, 2, 4, 5]].any()
    # the fixed (n, t) summation order: identical to a sequential loop
    expect = np.zeros(D, dtype)
    for n in range(N):
        for t in range(T):
            if xs[n, t] == 3:
                expect += dout[n, t]
    np.testing.assert_array_equal(dW[3], expect)


@pytest.mark.parametrize("bad", [9, -1, 2**40])
def test_embedding_out_of_range_ids(rng, bad):
    W = rng.standard_normal((9, 3)).astype(np.float32)
    xs = np.zeros((2, 3), dtype=np.int64)
    xs[1, 2] = bad
    layer = C.TimeEmbedding(W)
    with pytest.raises(ValueError) as e:
        layer.forward(xs)
    msg = str(e.value)
    assert msg.startswith("xs:") and str(bad) in msg and "[1, 2]" in msg and "V=9" in msg
    with pytest.raises(ValueError, match=r"out of range"):
        R.TimeEmbedding(W).forward(xs)
    # backward checks the ids it is given too
    with pytest.raises(ValueError, match=r"^xs:"):
        _core.embedding_backward(np.zeros((2, 3, 3), np.float32), xs, W, layer.grads[0])


# --------------------------------------------------------------------------
# TimeAffine

@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_tied_transposed_weight(rng, dtype):
    """Weight tying passes embed_W.T: a non-contiguous (D,V) view."""
    V, D, N, T = 23, 6, 3, 4
    embed_W = rng.standard_normal((V, D)).astype(dtype)
    W = embed_W.T
    assert not W.flags.c_contiguous
    b = rng.standard_normal(V).astype(dtype)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    dout = rng.standard_normal((N, T, V)).astype(dtype)
    a, r = C.TimeAffine(W, b), R.TimeAffine(np.ascontiguousarray(W), b)
    close(a.forward(x), r.forward(x), dtype, "out")
    close(a.backward(dout), r.backward(dout), dtype, "dx")
    close(a.grads[0], r.grads[0], dtype, "dW")
    assert a.params[0] is W  # the layer keeps the caller's view (the optimizer updates embed_W)
    # a gradient array of any layout is written in place
    dW = np.zeros_like(W)  # Fortran-ordered like W
    _core.time_affine_backward(dout, x, W, dW, None)
    close(dW, r.grads[0], dtype, "dW (F order)")


# --------------------------------------------------------------------------
# TimeSoftmaxWithLoss

@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_ignore_label(rng, dtype):
    N, T, V = 3, 4, 6
    xs = rng.standard_normal((N, T, V)).astype(dtype)
    ts = rng.integers(0, V, (N, T))
    ts[0, 1] = ts[2, 3] = -1
    a, r = C.TimeSoftmaxWithLoss(), R.TimeSoftmaxWithLoss()
    loss = a.forward(xs, ts)
    assert abs(loss - r.forward(xs, ts)) <= tol(dtype) * 10
    keep = ts != -1
    x = xs.astype(np.float64)
    lse = np.log(np.exp(x).sum(-1))
    expect = np.mean((lse - np.take_along_axis(x, np.where(keep, ts, 0)[..., None], -1)[..., 0])[keep])
    assert abs(loss - expect) <= 10 * tol(dtype)
    dx = a.backward()
    close(dx, r.backward(), dtype, "dxs")
    assert not dx[0, 1].any() and not dx[2, 3].any()
    # gradient rows sum to zero and the mean is over the 10 kept positions
    np.testing.assert_allclose(dx.sum(-1), 0, atol=1e-6)
    sm = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    np.testing.assert_allclose(dx[1, 0, ts[1, 0]], (sm[1, 0, ts[1, 0]] - 1) / 10,
                               rtol=1e-5)
    # another ignore_label value
    a.ignore_label = 2
    ts2 = np.where(ts == -1, 2, ts)
    assert np.isfinite(a.forward(xs, ts2))
    assert not a.backward()[ts2 == 2].any()


def test_softmax_all_ignored():
    layer = C.TimeSoftmaxWithLoss()
    loss = layer.forward(np.zeros((2, 2, 3)), np.full((2, 2), -1))
    assert np.isnan(loss)
    assert not layer.backward().any()  # nothing to learn from: zero, not NaN
    assert np.isnan(R.TimeSoftmaxWithLoss().forward(np.zeros((2, 2, 3)), np.full((2, 2), -1)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_one_hot_targets(rng, dtype):
    N, T, V = 2, 5, 7
    xs = rng.standard_normal((N, T, V)).astype(dtype)
    ts = rng.integers(0, V, (N, T))
    onehot = np.eye(V, dtype=np.int32)[ts]
    a, b = C.TimeSoftmaxWithLoss(), C.TimeSoftmaxWithLoss()
    assert a.forward(xs, onehot) == b.forward(xs, ts)
    np.testing.assert_array_equal(a.backward(), b.backward())
    r = R.TimeSoftmaxWithLoss()
    assert abs(r.forward(xs, onehot.astype(dtype)) - b.forward(xs, ts)) <= 10 * tol(dtype)
    with pytest.raises(ValueError, match=r"^ts:.*\(2, 5, 7\).*\(2, 5, 6\)"):
        a.forward(xs, onehot[..., :6])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1e4, 1e30])
def test_softmax_extreme_logits(rng, dtype, scale):
    """Logits of +-1e4 (and beyond): no overflow, no log(0), exact where it is exact."""
    N, T, V = 2, 3, 5
    if dtype == np.float32 and scale > 3e38:
        pytest.skip()
    xs = (np.sign(rng.standard_normal((N, T, V))) * scale).astype(dtype)
    ts = rng.integers(0, V, (N, T))
    layer = C.TimeSoftmaxWithLoss()
    with np.errstate(all="raise"):
        loss = layer.forward(xs, ts)
        dx = layer.backward()
    assert np.isfinite(loss) and np.isfinite(dx).all()
    x = xs.astype(np.float64).reshape(-1, V)
    m = x.max(1)
    cnt = (x == m[:, None]).sum(1)
    t = ts.reshape(-1)
    # -log p_t = log(count of maxima) + (max - x_t) (the other terms underflow to 0)
    expect = np.mean(np.log(cnt) + (m - x[np.arange(N * T), t]))
    assert abs(loss - expect) <= 1e-6 * max(1.0, expect)
    r = R.TimeSoftmaxWithLoss()
    with np.errstate(under="ignore"):
        assert abs(r.forward(xs, ts) - expect) <= 1e-6 * max(1.0, expect)
    np.testing.assert_allclose(dx.sum(-1), 0, atol=1e-6)


def test_softmax_errors(rng):
    xs = rng.standard_normal((2, 3, 4)).astype(np.float32)
    layer = C.TimeSoftmaxWithLoss()
    with pytest.raises(ValueError) as e:
        layer.forward(xs, np.zeros((2, 4), dtype=int))
    assert str(e.value).startswith("ts:") and "(2, 4)" in str(e.value) and "T=3" in str(e.value)
    for bad in (4, -2, 100):
        ts = np.zeros((2, 3), dtype=int)
        ts[1, 1] = bad
        with pytest.raises(ValueError) as e:
            layer.forward(xs, ts)
        msg = str(e.value)
        assert msg.startswith("ts:") and f"label {bad} at [1, 1]" in msg and "V=4" in msg
        assert "ignore_label=-1" in msg
        with pytest.raises(ValueError, match="out of range"):
            R.TimeSoftmaxWithLoss().forward(xs, ts)
    with pytest.raises(TypeError, match=r"^ts:.*integer"):
        layer.forward(xs, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"^xs:"):
        layer.forward(xs[0], np.zeros((2, 3), dtype=int))
    with pytest.raises(RuntimeError):
        C.TimeSoftmaxWithLoss().backward()


# --------------------------------------------------------------------------
# float64 finite differences

numerical_grad = numerical_gradient  # tests/central_difference.py


def test_finite_differences_float64(rng):
    """embedding -> TimeRNN -> tied-or-not affine -> softmax-CE, every gradient."""
    from rnnscratch import TimeRNN

    N, T, V, D, H = 2, 3, 7, 4, 5
    embed_W = rng.standard_normal((V, D)) * 0.5
    Wx = rng.standard_normal((D, H)) * 0.5
    Wh = rng.standard_normal((H, H)) * 0.5
    b = rng.standard_normal(H) * 0.1
    aW = rng.standard_normal((H, V)) * 0.5
    ab = rng.standard_normal(V) * 0.1
    xs = rng.integers(0, V, (N, T))
    xs[0, 0] = xs[1, 2] = 3  # a repeated id
    ts = rng.integers(0, V, (N, T))
    ts[1, 1] = -1
    layers = [C.TimeEmbedding(embed_W), TimeRNN(Wx, Wh, b), C.TimeAffine(aW, ab)]
    loss_layer = C.TimeSoftmaxWithLoss()

    def loss():
        h = xs
        for layer in layers:
            h = layer.forward(h)
        return loss_layer.forward(h, ts)

    loss()
    dout = loss_layer.backward()
    for layer in reversed(layers):
        dout = layer.backward(dout)
    for p, g in zip([embed_W, Wx, Wh, b, aW, ab],
                    [layers[0].grads[0], *layers[1].grads, *layers[2].grads]):
        num = numerical_grad(loss, p)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------
# SimpleRnnlm

def test_simple_rnnlm_params_and_init():
    np.random.seed(0)
    V, D, H = 400, 30, 20
    model = C.SimpleRnnlm(V, D, H)
    shapes = [(V, D), (D, H), (H, H), (H,), (H, V), (V,)]
    assert [p.shape for p in model.params] == shapes
    assert [g.shape for g in model.grads] == shapes
    assert all(p.dtype == np.float32 for p in model.params + model.grads)
    assert model.params[0] is model.layers[0].params[0]
    assert model.params[4] is model.layers[2].params[0]
    assert model.rnn_layer is model.layers[1] and model.rnn_layer.stateful
    np.testing.assert_allclose(model.params[0].std(), 1 / 100, rtol=0.05)
    np.testing.assert_allclose(model.params[1].std(), 1 / np.sqrt(D), rtol=0.1)
    np.testing.assert_allclose(model.params[2].std(), 1 / np.sqrt(H), rtol=0.1)
    np.testing.assert_allclose(model.params[4].std(), 1 / np.sqrt(H), rtol=0.05)
    assert not model.params[3].any() and not model.params[5].any()
    # the same draws as the reference model (and the course) from the same seed
    np.random.seed(0)
    ref = RM.SimpleRnnlm(V, D, H)
    for p, q in zip(model.params, ref.params):
        np.testing.assert_array_equal(p, q)


def test_simple_rnnlm_matches_reference_over_steps():
    V, D, H, N, T = 50, 16, 12, 4, 6
    np.random.seed(3)
    model = C.SimpleRnnlm(V, D, H)
    np.random.seed(3)
    ref = RM.SimpleRnnlm(V, D, H)
    rng = np.random.default_rng(1)
    grads = list(model.grads)
    for step in range(3):  # stateful: the hidden state carries over
        xs = rng.integers(0, V, (N, T)).astype(np.int32)
        ts = rng.integers(0, V, (N, T)).astype(np.int32)
        la, lr = model.forward(xs, ts), ref.forward(xs, ts)
        assert abs(la - lr) < 1e-5 * max(1, lr)
        model.backward()
        ref.backward()
        for i, (g, h) in enumerate(zip(model.grads, ref.grads)):
            close(g, h, np.float32, f"step {step} grad {i}")
        for p, q, g in zip(model.params, ref.params, model.grads):
            p -= 0.1 * g
            q -= 0.1 * g
    assert all(g is h for g, h in zip(model.grads, grads))
    assert model.rnn_layer.h is not None
    model.reset_state()
    assert model.rnn_layer.h is None


# --------------------------------------------------------------------------
# The fused output head: _core.affine_softmax_cross_entropy and SimpleRnnlm

def _layered_head(x, W, ts, b=None, ignore_label=-1):
    score = _core.time_affine_forward(x, W, b)
    loss, ys = _core.softmax_cross_entropy_forward(score, ts, ignore_label)
    return loss, _core.softmax_cross_entropy_backward(ys, ts, 1.0, ignore_label)


HEAD_SHAPES = SHAPES + [(2, 3, 0, 5), (0, 3, 4, 5), (3, 2, 4, 1), (20, 35, 16, 10000),
                        (7, 9, 3, 4000)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("shape", HEAD_SHAPES, ids=lambda s: "N%d-T%d-D%d-V%d" % s)
def test_fused_head_is_the_layers_bit_for_bit(rng, dtype, with_bias, shape):
    """Same numbers as TimeAffine + TimeSoftmaxWithLoss (forward and backward), bit for bit,
    on the small (unpacked) and the large (packed, cache-blocked) paths."""
    N, T, D, V = shape
    x = rng.standard_normal((N, T, D)).astype(dtype)
    W = (rng.standard_normal((D, V)) * 2).astype(dtype)
    b = rng.standard_normal(V).astype(dtype) if with_bias else None
    ts = rng.integers(0, max(V, 1), (N, T))
    if ts.size > 2:
        ts.flat[1] = -1
    loss, g = _core.affine_softmax_cross_entropy(x, W, ts, b)
    want_loss, want_g = _layered_head(x, W, ts, b)
    assert g.dtype == dtype and g.shape == (N, T, V) and g.flags.c_contiguous
    np.testing.assert_array_equal(g, want_g)
    assert loss == want_loss or (np.isnan(loss) and np.isnan(want_loss))
    # and against the NumPy reference layers
    if N * T and V:
        aff, sm = R.TimeAffine(W, b) if b is not None else R.TimeAffine(W), R.TimeSoftmaxWithLoss()
        ref_loss = sm.forward(aff.forward(x), ts)
        close(g, sm.backward(), dtype, "dscore")
        assert abs(loss - ref_loss) <= 10 * tol(dtype) * max(1.0, abs(ref_loss))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_head_every_simd_path(rng, dtype):
    """On each SIMD path: the fused head is the layers bit for bit, and close to the other paths
    (odd V: full 16-lane blocks and a tail)."""
    x = rng.standard_normal((6, 7, 13)).astype(dtype)
    W = (rng.standard_normal((13, 1237)) * 3).astype(dtype)
    b = rng.standard_normal(1237).astype(dtype)
    ts = rng.integers(0, 1237, (6, 7))
    first = None
    old = _core.get_simd_path()
    try:
        for path in _core.available_simd_paths():
            _core.set_simd_path(path)
            loss, g = _core.affine_softmax_cross_entropy(x, W, ts, b)
            want_loss, want_g = _layered_head(x, W, ts, b)
            np.testing.assert_array_equal(g, want_g, err_msg=path)
            assert loss == want_loss, path
            if first is None:
                first = (loss, g)
            else:
                close(g, first[1], dtype, path)
                assert abs(loss - first[0]) <= 1e-5 * abs(first[0])
    finally:
        _core.set_simd_path(old)


def test_fused_head_ignore_label_and_all_ignored(rng):
    x = rng.standard_normal((3, 4, 5))
    W = rng.standard_normal((5, 9))
    ts = rng.integers(0, 9, (3, 4))
    ts[0] = 7
    loss, g = _core.affine_softmax_cross_entropy(x, W, ts, ignore_label=7)
    want_loss, want_g = _layered_head(x, W, ts, ignore_label=7)
    np.testing.assert_array_equal(g, want_g)
    assert loss == want_loss and not g[0].any()
    loss, g = _core.affine_softmax_cross_entropy(x, W, np.full((3, 4), -1))
    assert np.isnan(loss) and not g.any()


def test_fused_head_finite_differences(rng):
    """float64: d loss / d score from the fused head, chained to x, W and b by hand."""
    N, T, D, V = 2, 3, 4, 6
    x = rng.standard_normal((N, T, D))
    W = rng.standard_normal((D, V))
    b = rng.standard_normal(V)
    ts = rng.integers(0, V, (N, T))
    ts[1, 0] = -1

    def loss():
        return _core.affine_softmax_cross_entropy(x, W, ts, b)[0]

    g = _core.affine_softmax_cross_entropy(x, W, ts, b)[1].reshape(N * T, V)
    np.testing.assert_allclose((g @ W.T).reshape(N, T, D), numerical_grad(loss, x),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(x.reshape(N * T, D).T @ g, numerical_grad(loss, W),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g.sum(axis=0), numerical_grad(loss, b), rtol=1e-6, atol=1e-9)


def test_fused_head_extreme_scores():
    x = np.ones((1, 2, 1), np.float32)
    W = np.array([[1e4, -1e4, 0.0]], np.float32)
    loss, g = _core.affine_softmax_cross_entropy(x, W, np.array([[1, 0]]))
    assert np.isfinite(loss) and np.isfinite(g).all()
    np.testing.assert_allclose(loss, (2e4 + 0) / 2, rtol=1e-6)


def test_fused_head_errors(rng):
    """The label's position and where V came from (each argument named: test_core_errors)."""
    x = rng.standard_normal((2, 3, 4))
    W = rng.standard_normal((4, 5))
    ts = rng.integers(0, 5, (2, 3))
    f = _core.affine_softmax_cross_entropy
    with pytest.raises(ValueError, match=r"ts: label 5 at \[1, 2\] is out of range.*V=5 from W"):
        bad = ts.copy()
        bad[1, 2] = 5
        f(x, W, bad)
    with pytest.raises(TypeError):
        f(x, W, ts, None, "nope")


def test_simple_rnnlm_uses_the_fused_head_bit_for_bit():
    """The compiled SimpleRnnlm (fused head) against the same layers run one by one."""
    V, D, H, N, T = 300, 16, 12, 5, 7
    np.random.seed(4)
    model = C.SimpleRnnlm(V, D, H)
    np.random.seed(4)
    layered = C.SimpleRnnlm(V, D, H)
    rng = np.random.default_rng(2)
    for step in range(3):
        xs = rng.integers(0, V, (N, T))
        ts = rng.integers(0, V, (N, T))
        if step == 1:  # one-hot targets, as the loss layer accepts
            ts = np.eye(V, dtype=np.float32)[ts]
        la = model.forward(xs, ts)
        lb = RnnlmBase.forward(layered, xs, ts)
        assert la == lb
        dx_a = model.backward(2.0 if step == 2 else 1)
        dx_b = RnnlmBase.backward(layered, 2.0 if step == 2 else 1)
        assert dx_a is None and dx_b is None
        for i, (g, h) in enumerate(zip(model.grads, layered.grads)):
            if step == 2:  # dout != 1 scales the stored gradient: rounding may differ
                close(g, h, np.float32, f"grad {i}")
            else:
                np.testing.assert_array_equal(g, h, err_msg=f"step {step} grad {i}")
        for p, q, g in zip(model.params, layered.params, model.grads):
            p -= 0.1 * g
            q -= 0.1 * g


def test_simple_rnnlm_fused_errors_leave_the_model_as_it_was():
    V, D, H = 20, 4, 3
    np.random.seed(0)
    model = C.SimpleRnnlm(V, D, H)
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward()
    xs = np.zeros((2, 3), int)
    model.forward(xs, xs)
    h = model.rnn_layer.h.copy()
    with pytest.raises(ValueError, match=r"ts: label 20 at \[0, 0\] is out of range"):
        model.forward(xs, np.full((2, 3), 20))
    np.testing.assert_array_equal(model.rnn_layer.h, h)
    with pytest.raises(ValueError, match=r"ts: expected one-hot targets of shape \(N, T, V\) "
                                         r"= \(2, 3, 20\)"):
        model.forward(xs, np.zeros((2, 3, 19)))
    np.testing.assert_array_equal(model.rnn_layer.h, h)


def test_simple_rnnlm_with_a_layer_of_your_own():
    """Swap the affine layer for another class: the model runs its layers one by one."""
    V, D, H = 30, 6, 5
    np.random.seed(1)
    model = C.SimpleRnnlm(V, D, H)
    np.random.seed(1)
    ref = RM.SimpleRnnlm(V, D, H)
    model.layers[2] = R.TimeAffine(*model.layers[2].params)
    xs = np.arange(12).reshape(3, 4) % V
    ts = (xs + 1) % V
    assert abs(model.forward(xs, ts) - ref.forward(xs, ts)) < 1e-5
    model.backward()
    ref.backward()
    for g, h in zip(model.grads[:4], ref.grads[:4]):
        close(g, h, np.float32)
    for g, h in zip(model.layers[2].grads, ref.grads[4:]):
        close(g, h, np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (4, 7, 29, 130), (3, 5, 100, 418),
                                   (2, 3, 70, 2000)], ids=lambda s: "N%d-T%d-D%d-V%d" % s)
def test_affine_backward_db_right_after_dW(rng, dtype, shape):
    """TimeAffine keeps dW and db as rows of one (D+1, V) array: db then comes out of the dW
    product (a row of ones), bit for bit the column sums of the separate arrays, on every
    SIMD path, overwriting or accumulating."""
    N, T, D, V = shape
    layer = C.TimeAffine(rng.standard_normal((D, V)).astype(dtype), np.zeros(V, dtype))
    dW, db = layer.grads
    assert db.ctypes.data == dW.ctypes.data + dW.nbytes  # adjacent
    x = rng.standard_normal((N, T, D)).astype(dtype)
    dout = rng.standard_normal((N, T, V)).astype(dtype)
    W = layer.params[0]
    old = _core.get_simd_path()
    try:
        for path in _core.available_simd_paths():
            _core.set_simd_path(path)
            for acc in (False, True):
                start = rng.standard_normal((D + 1, V)).astype(dtype)
                dW[...], db[...] = start[:-1], start[-1]
                sep_dW, sep_db = start[:-1].copy(), start[-1].copy()
                dx1 = _core.time_affine_backward(dout, x, W, dW, db, accumulate=acc)
                dx2 = _core.time_affine_backward(dout, x, W, sep_dW, sep_db, accumulate=acc)
                np.testing.assert_array_equal(dx1, dx2)
                np.testing.assert_array_equal(dW, sep_dW, err_msg=f"{path} acc={acc}")
                np.testing.assert_array_equal(db, sep_db, err_msg=f"{path} acc={acc}")
                if not acc:
                    close(db, dout.reshape(-1, V).sum(axis=0), dtype, "db")
    finally:
        _core.set_simd_path(old)


def test_fused_head_out_argument(rng):
    N, T, D, V = 3, 4, 5, 6
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    W = rng.standard_normal((D, V)).astype(np.float32)
    ts = rng.integers(0, V, (N, T))
    want = _core.affine_softmax_cross_entropy(x, W, ts)
    out = np.full((N, T, V), 7, np.float32)
    loss, g = _core.affine_softmax_cross_entropy(x, W, ts, out=out)
    assert g is out and loss == want[0]
    np.testing.assert_array_equal(out, want[1])
    f = _core.affine_softmax_cross_entropy
    bad = [
        (TypeError, r"out: expected a numpy.ndarray or None, got list", [[0.0]]),
        (TypeError, r"out: expected dtype float32 \(the compute dtype\), got float64",
         np.zeros((N, T, V))),
        (ValueError, r"out: expected shape \(3, 4, 6\), got \(3, 4, 5\)",
         np.zeros((N, T, V - 1), np.float32)),
        (ValueError, r"out: expected a C-contiguous, aligned, writeable array",
         np.zeros((V, T, N), np.float32).T),
        (ValueError, r"out: shares memory with x", np.zeros((N, T, V), np.float32)),
    ]
    ro = np.zeros((N, T, V), np.float32)
    ro.flags.writeable = False
    bad.append((ValueError, r"out: expected a C-contiguous, aligned, writeable array", ro))
    for exc, msg, o in bad:
        keep = np.array(o, copy=True) if isinstance(o, np.ndarray) else None
        xx = x
        if "shares memory" in msg:  # x is a view into out
            xx = o[:, :, :D]
            xx[...] = x
            keep = np.array(o, copy=True)
        with pytest.raises(exc, match=msg):
            f(xx, W, ts, out=o)
        if keep is not None:
            np.testing.assert_array_equal(o, keep)


def test_simple_rnnlm_reuses_its_dscore_buffer():
    np.random.seed(0)
    model = C.SimpleRnnlm(40, 5, 4)
    xs = np.arange(12).reshape(3, 4) % 40
    model.forward(xs, xs)
    first = model._dscore
    first_id = id(first)
    del first
    model.forward(xs, (xs + 1) % 40)
    assert id(model._dscore) == first_id  # written over: nothing else held it
    held = model._dscore
    snapshot = held.copy()
    model.forward(xs, (xs + 2) % 40)
    assert model._dscore is not held  # someone holds the old one: a new array
    np.testing.assert_array_equal(held, snapshot)
    model.reset_state()
    model.forward(xs[:2], xs[:2])  # another shape: a new array
    assert model._dscore.shape == (2, 4, 40)
