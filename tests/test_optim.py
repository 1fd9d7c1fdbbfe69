"""Optimizers and clip_grads: the course's update rules, in place."""
import numpy as np
import pytest

from rnnscratch.optim import SGD, AdaGrad, Adam, Momentum, clip_grads


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
