"""Optimizers and clip_grads: the course's update rules, in place."""
import numpy as np
import pytest

from rnnscratch.training.optim import SGD, AdaGrad, Adam, Momentum, clip_grads


def setup(dtype=np.float32):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)]
    grads = [[rng.standard_normal(p.shape).astype(dtype) for p in params] for _ in range(3)]
    return params, grads


def run(opt, params, grads_seq):
    ids = [id(p) for p in params]
    for g in grads_seq:
        opt.update(params, g)
    assert [id(p) for p in params] == ids  # in place: layers keep their references
    return params


def test_sgd():
    params, gs = setup()
    expect = [p.copy() for p in params]
    for g in gs:
        for e, gi in zip(expect, g):
            e -= 0.1 * gi
    run(SGD(lr=0.1), params, gs)
    for p, e in zip(params, expect):
        np.testing.assert_array_equal(p, e)
    assert SGD().lr == 0.01


def test_momentum():
    params, gs = setup(np.float64)
    expect = [p.copy() for p in params]
    v = [np.zeros_like(p) for p in params]
    for g in gs:
        for i in range(2):
            v[i] = 0.9 * v[i] - 0.01 * g[i]
            expect[i] = expect[i] + v[i]
    run(Momentum(), params, gs)
    for p, e in zip(params, expect):
        np.testing.assert_allclose(p, e, rtol=1e-14)


def test_adagrad():
    params, gs = setup(np.float64)
    expect = [p.copy() for p in params]
    h = [np.zeros_like(p) for p in params]
    for g in gs:
        for i in range(2):
            h[i] += g[i] ** 2
            expect[i] = expect[i] - 0.01 * g[i] / (np.sqrt(h[i]) + 1e-7)
    run(AdaGrad(), params, gs)
    for p, e in zip(params, expect):
        np.testing.assert_allclose(p, e, rtol=1e-14)


def test_adam():
    params, gs = setup(np.float64)
    expect = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, lr = 0.9, 0.999, 0.001
    for t, g in enumerate(gs, 1):
        for i in range(2):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            mhat, vhat = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
            expect[i] = expect[i] - lr * mhat / (np.sqrt(vhat) + 1e-7 / np.sqrt(1 - b2 ** t))
    opt = Adam()
    run(opt, params, gs)
    assert opt.iter == 3
    for p, e in zip(params, expect):
        np.testing.assert_allclose(p, e, rtol=1e-12)
    # float32 parameters stay float32
    p32, g32 = setup(np.float32)
    run(Adam(), p32, g32)
    assert all(p.dtype == np.float32 for p in p32)


def test_clip_grads():
    g = [np.array([3.0, 0.0], np.float32), np.array([[4.0]], np.float32)]  # norm 5
    ids = [id(x) for x in g]
    clip_grads(g, 10.0)
    np.testing.assert_array_equal(g[0], [3, 0])
    clip_grads(g, 1.0)
    assert [id(x) for x in g] == ids
    np.testing.assert_allclose(g[0], [3 / 5, 0], rtol=1e-6)
    np.testing.assert_allclose(g[1], [[4 / 5]], rtol=1e-6)
    total = np.sqrt(sum(float((x.astype(np.float64) ** 2).sum()) for x in g))
    assert total == pytest.approx(1.0, rel=1e-5)
    clip_grads([np.zeros(3)], 1.0)  # zero gradients: no division by zero


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lr", [0.1, 20, 1e-3, 3, -0.5])
@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (100, 418), (3, 5, 17)])
def test_sgd_one_pass_is_numpy_bit_for_bit(dtype, lr, shape):
    """The C path (plain float arrays, a Python lr) gives NumPy's `p -= lr * g` exactly."""
    rng = np.random.default_rng(1)
    p = rng.standard_normal(shape).astype(dtype)
    g = (rng.standard_normal(shape) * 7).astype(dtype)
    want = p.copy()
    want -= lr * g
    SGD(lr).update([p], [g])
    np.testing.assert_array_equal(p, want)
    q = p.copy()  # the gradient array is the parameter itself
    want = q.copy()
    want -= lr * want
    SGD(lr).update([q], [q])
    np.testing.assert_array_equal(q, want)


def test_sgd_other_arrays_take_numpys_path():
    """Anything the C path does not cover keeps NumPy's semantics: views, float16, mixed
    dtypes, a NumPy float64 lr (which makes the product float64), overlapping arrays."""
    from rnnscratch.training.optim import _sgd_fast

    rng = np.random.default_rng(2)
    base = rng.standard_normal((6, 8)).astype(np.float32)
    cases = [
        (base.copy()[:, ::2], rng.standard_normal((6, 4)).astype(np.float32), 0.1),
        (base.astype(np.float16), base.astype(np.float16), 0.1),
        (base.copy(), base.astype(np.float64), 0.1),
        (base.copy(), base.copy(), np.float64(0.1)),
        (np.asfortranarray(base), np.asfortranarray(base * 2), 0.1),
    ]
    buf = base.copy().reshape(-1)
    cases.append((buf[:40], buf[8:], 0.1))  # partly overlapping
    for p, g, lr in cases:
        assert not _sgd_fast(p, g, lr)
        want = p.copy()
        want -= lr * (g.copy() if np.may_share_memory(p, g) else g)
        SGD(lr).update([p], [g])
        np.testing.assert_array_equal(p, want)


def test_sgd_update_errors():
    from rnnscratch import _core

    f32 = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match=r"param: expected a numpy.ndarray, got list"):
        _core.sgd_update([1.0], f32, 0.1)
    with pytest.raises(TypeError, match=r"grad: expected a float32 or float64 array, got dtype int64"):
        _core.sgd_update(f32, np.zeros((2, 3), np.int64), 0.1)
    with pytest.raises(TypeError, match=r"param: expected a float32 or float64 array, got dtype float16"):
        _core.sgd_update(f32.astype(np.float16), f32, 0.1)
    with pytest.raises(TypeError, match=r"grad: expected dtype float32 \(from param\), got float64"):
        _core.sgd_update(f32, np.zeros((2, 3)), 0.1)
    with pytest.raises(ValueError, match=r"grad: expected shape \(2, 3\) \(from param\), got \(3, 2\)"):
        _core.sgd_update(f32, np.zeros((3, 2), np.float32), 0.1)
    with pytest.raises(ValueError, match=r"param: expected a C-contiguous, aligned array"):
        _core.sgd_update(np.zeros((3, 2), np.float32).T, f32, 0.1)
    ro = np.zeros((2, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"param: the array is read-only"):
        _core.sgd_update(ro, f32, 0.1)
    buf = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match=r"grad: partly overlaps param"):
        _core.sgd_update(buf[:6], buf[2:8], 0.1)
    with pytest.raises(TypeError):
        _core.sgd_update(f32, f32, "0.1")
    assert not f32.any() and not buf.any()
