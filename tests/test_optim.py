"""Optimizers and clip_grads: the course's update rules, in place."""
import numpy as np
import pytest

from rnnscratch.training.optim import SGD, AdaGrad, Adam, Momentum, clip_grads


def make_params(dtype=np.float32):
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
    params, gs = make_params()
    expect = [p.copy() for p in params]
    for g in gs:
        for e, gi in zip(expect, g):
            e -= 0.1 * gi
    run(SGD(lr=0.1), params, gs)
    for p, e in zip(params, expect):
        np.testing.assert_array_equal(p, e)
    assert SGD().lr == 0.01


def test_momentum():
    params, gs = make_params(np.float64)
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
    params, gs = make_params(np.float64)
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
    params, gs = make_params(np.float64)
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
    p32, g32 = make_params(np.float32)
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


def _book_adam_steps(params, grads_seq, lr=0.001, beta1=0.9, beta2=0.999):
    """The book's common/optimizer.py Adam.update, verbatim arithmetic."""
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for it, grads in enumerate(grads_seq, 1):
        lr_t = lr * np.sqrt(1.0 - beta2 ** it) / (1.0 - beta1 ** it)
        for i in range(len(params)):
            m[i] += (1 - beta1) * (grads[i] - m[i])
            v[i] += (1 - beta2) * (grads[i] ** 2 - v[i])
            params[i] -= lr_t * m[i] / (np.sqrt(v[i]) + 1e-7)
    return m, v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("path", ["portable", "best"])
@pytest.mark.parametrize("threads", [1, 2])
def test_adam_one_pass_is_the_books_bit_for_bit(dtype, path, threads):
    """The C pass (_core.adam_update) gives the book's NumPy expressions exactly,
    on every SIMD path and thread count (a large array is split over threads)."""
    import rnnscratch
    from rnnscratch import _core

    rng = np.random.default_rng(3)
    shapes = [(0,), (1,), (7,), (13, 16), (300, 437), (3, 5, 17)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads_seq = [[(rng.standard_normal(s) * 10.0 ** rng.uniform(-9, 4)).astype(dtype)
                  for s in shapes] for _ in range(6)]
    for gs in grads_seq[::2]:
        gs[3][0] = 0  # zero gradients: v and m decay
    want = [p.copy() for p in params]
    wm, wv = _book_adam_steps(want, grads_seq, lr=0.01)
    old_threads, old_path = rnnscratch.get_num_threads(), _core.get_simd_path()
    try:
        rnnscratch.set_num_threads(threads)
        _core.set_simd_path(path)
        opt = Adam(lr=0.01)
        run(opt, params, grads_seq)
    finally:
        rnnscratch.set_num_threads(old_threads)
        _core.set_simd_path(old_path)
    for got, w in ((params, want), (opt.m, wm), (opt.v, wv)):
        for a, b in zip(got, w):
            np.testing.assert_array_equal(a, b)


def test_adam_other_arrays_take_numpys_path():
    """Views, float16, mixed dtypes, overlapping arrays: NumPy's expressions."""
    from rnnscratch.training.optim import _adam_fast

    rng = np.random.default_rng(4)
    base = rng.standard_normal((6, 8)).astype(np.float32)
    cases = [
        (base.copy()[:, ::2], rng.standard_normal((6, 4)).astype(np.float32)),
        (base.astype(np.float16), base.astype(np.float16)),
        (base.copy(), base.astype(np.float64)),
        (np.asfortranarray(base), np.asfortranarray(base * 2)),
    ]
    for p, g in cases:
        want = p.copy()
        _book_adam_steps([want], [[g], [g * 0.5]])
        opt = Adam()
        opt.update([p], [g])
        opt.update([p], [g * 0.5])
        np.testing.assert_array_equal(p, want)
    # the gradient array is the parameter itself: the kernel refuses, NumPy's way
    p = base.copy()
    want = base.copy()
    _book_adam_steps([want], [[want]])
    opt = Adam()
    assert _adam_fast(p, p, np.zeros_like(p), np.zeros_like(p), 0.1, 0.001, np.float64(1e-3))
    opt.update([p], [p])
    np.testing.assert_array_equal(p, want)


def test_adam_update_errors():
    from rnnscratch import _core

    f32 = np.zeros((2, 3), np.float32)
    z = lambda: np.zeros((2, 3), np.float32)  # noqa: E731
    lr = np.float64(1e-3)
    with pytest.raises(TypeError, match=r"m: expected a numpy.ndarray, got list"):
        _core.adam_update(z(), f32, [0.0], z(), 0.1, 0.001, lr)
    with pytest.raises(TypeError, match=r"v: expected dtype float32 \(from param\), got float64"):
        _core.adam_update(z(), f32, z(), np.zeros((2, 3)), 0.1, 0.001, lr)
    with pytest.raises(ValueError, match=r"grad: expected shape \(2, 3\) \(from param\), got \(3, 2\)"):
        _core.adam_update(z(), np.zeros((3, 2), np.float32), z(), z(), 0.1, 0.001, lr)
    with pytest.raises(ValueError, match=r"m: expected a C-contiguous, aligned array"):
        _core.adam_update(z(), f32, np.zeros((3, 2), np.float32).T, z(), 0.1, 0.001, lr)
    ro = z()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"v: the array is read-only"):
        _core.adam_update(z(), f32, z(), ro, 0.1, 0.001, lr)
    buf = np.zeros(12, np.float32)
    with pytest.raises(ValueError, match=r"v: overlaps param"):
        _core.adam_update(buf[:6].reshape(2, 3), f32, z(), buf[3:9].reshape(2, 3), 0.1, 0.001, lr)
    with pytest.raises(TypeError):
        _core.adam_update(z(), f32, z(), z(), "0.1", 0.001, lr)
    assert not buf.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("path", ["portable", "best"])
def test_sum_squares_is_numpys_bit_for_bit(dtype, path):
    """_core.sum_squares(x) == np.sum(x ** 2) exactly (NumPy's pairwise summation),
    every size class of the pairwise sum, 1-d and n-d, on every SIMD path."""
    from rnnscratch import _core

    rng = np.random.default_rng(5)
    old = _core.get_simd_path()
    try:
        _core.set_simd_path(path)
        for n in list(range(0, 140)) + [255, 256, 257, 1000, 4097, 8193, 65536, 100003,
                                        131073, 1 << 20, 1690000]:
            x = (rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 6)).astype(dtype)
            got, want = _core.sum_squares(x), np.sum(x ** 2)
            assert type(got) is type(want) and got == want, n
        for shape in [(13, 16), (128, 512), (3, 5, 17)]:
            x = rng.standard_normal(shape).astype(dtype)
            assert _core.sum_squares(x) == np.sum(x ** 2)
    finally:
        _core.set_simd_path(old)


def test_clip_grads_is_the_books_bit_for_bit():
    """The global norm and the rate as the book's common/util.py clip_grads computes them."""
    rng = np.random.default_rng(6)
    shapes = [(59, 16), (16, 1024), (256, 1024), (1024,), (512, 59), (59,)]
    for dtype in (np.float32, np.float64, np.float16):
        grads = [(rng.standard_normal(s) * 0.3).astype(dtype) for s in shapes]
        want = [g.copy() for g in grads]
        total = 0
        for g in want:
            total += np.sum(g ** 2)
        total = np.sqrt(total)
        rate = 5.0 / (total + 1e-6)
        assert rate < 1
        for g in want:
            g *= rate
        clip_grads(grads, 5.0)
        for g, w in zip(grads, want):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)


def test_sum_squares_errors():
    from rnnscratch import _core

    with pytest.raises(TypeError, match=r"x: expected a numpy.ndarray, got list"):
        _core.sum_squares([1.0])
    with pytest.raises(TypeError, match=r"x: expected a float32 or float64 array, got dtype int64"):
        _core.sum_squares(np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=r"x: expected a C-contiguous, aligned array"):
        _core.sum_squares(np.zeros((3, 2), np.float32).T)


# ---- the clip fused into the step (clip_and_update, the kernels' scale) ----

def _book_clip(grads, max_norm):
    """The book's common/util.py clip_grads."""
    total = 0
    for g in grads:
        total += np.sum(g ** 2)
    total = np.sqrt(total)
    rate = max_norm / (total + 1e-6)
    if rate < 1:
        for g in grads:
            g *= rate


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("max_norm", [0.25, 5.0, 1e9])
def test_clip_and_update_is_clip_then_update_bit_for_bit(dtype, threads, kind, max_norm,
                                                         monkeypatch):
    """clip_and_update gives clip_grads then update exactly (and so the book's:
    test_clip_grads_is_the_books_bit_for_bit): the same parameters, the same
    rescaled gradients (and moments), on any thread count, small and large
    arrays (a large one is split over the threads)."""
    import types

    import rnnscratch
    from rnnscratch.training import optim
    from rnnscratch.training.optim import clip_and_update

    scales = []  # the fused path is the one taken: the kernels get the rate

    def spy(name):
        real = getattr(optim._core, name)

        def call(*args):
            scales.append(args[-1])
            return real(*args)
        return call
    monkeypatch.setattr(optim, "_core", types.SimpleNamespace(
        sgd_update=spy("sgd_update"), adam_update=spy("adam_update"),
        sum_squares=optim._core.sum_squares))

    rng = np.random.default_rng(11)
    shapes = [(0,), (1,), (7,), (650, 2600), (3, 5, 17), (300001,)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    want = [p.copy() for p in params]
    opt_w = SGD(20.0) if kind == "SGD" else Adam(0.01)
    opt = SGD(20.0) if kind == "SGD" else Adam(0.01)
    old = rnnscratch.get_num_threads()
    try:
        rnnscratch.set_num_threads(threads)
        for it in range(3):
            grads = [(rng.standard_normal(s) * 10.0 ** rng.uniform(-3, 1)).astype(dtype)
                     for s in shapes]
            gw = [g.copy() for g in grads]
            clip_grads(gw, max_norm)  # the two calls (NumPy's own np.sum: the test above)
            opt_w.update(want, gw)
            clip_and_update(opt, params, grads, max_norm)
            for a, b in zip(grads, gw):
                np.testing.assert_array_equal(a, b)  # the gradients rescaled as the book's
            for a, b in zip(params, want):
                np.testing.assert_array_equal(a, b)
    finally:
        rnnscratch.set_num_threads(old)
    if kind == "Adam":
        for a, b in zip(opt.m + opt.v, opt_w.m + opt_w.v):
            np.testing.assert_array_equal(a, b)
    # the book's update (opt_w) calls the kernels with scale 1; ours carried the rate
    # (NumPy >= 2: the rate has the gradients' dtype; NumPy 1.x makes a float32
    # rate float64, and the fallback takes NumPy's own multiply)
    rated = [s for s in scales if s != 1.0]
    if np.lib.NumpyVersion(np.__version__) < "2.0.0":
        return
    assert len(scales) == 2 * 3 * len(shapes)
    if max_norm < 1e9:
        assert len(rated) == 3 * len(shapes) and all(type(s) is dtype and s < 1 for s in rated)
    else:
        assert not rated


def test_clip_and_update_other_cases_take_the_two_calls():
    """float16, views, an array listed twice, another optimizer, the gradient
    that is the parameter itself: the same numbers as clip_grads then update."""
    from rnnscratch.training.optim import clip_and_update

    rng = np.random.default_rng(12)
    base = rng.standard_normal((6, 8)).astype(np.float32)
    cases = [
        (lambda: [base.astype(np.float16)], lambda: [base.astype(np.float16) * 3]),
        (lambda: [base.copy()[:, ::2]], lambda: [rng.standard_normal((6, 4)).astype(np.float32)]),
    ]
    for make_p, make_g in cases:
        for cls in (SGD, Adam, Momentum, AdaGrad):
            p, g = make_p(), make_g()
            pw, gw = [a.copy() for a in p], [a.copy() for a in g]
            _book_clip(gw, 0.5)
            cls().update(pw, gw)
            clip_and_update(cls(), p, g, 0.5)
            for a, b in zip(p + g, pw + gw):
                np.testing.assert_array_equal(a, b)
    # one gradient array listed twice: rescaled twice before either update, as the book does
    g = base * 4
    p1, p2 = base.copy(), base.copy() + 1
    gw = g.copy()
    w1, w2 = p1.copy(), p2.copy()
    _book_clip([gw, gw], 0.5)
    SGD(0.1).update([w1, w2], [gw, gw])
    clip_and_update(SGD(0.1), [p1, p2], [g, g], 0.5)
    for a, b in ((p1, w1), (p2, w2), (g, gw)):
        np.testing.assert_array_equal(a, b)
    # the gradient is the parameter itself
    p = base.copy() * 5
    w = p.copy()
    _book_clip([w], 0.5)
    SGD(0.1).update([w], [w])
    clip_and_update(SGD(0.1), [p], [p], 0.5)
    np.testing.assert_array_equal(p, w)


def test_clip_and_update_rejects_the_scratch_call():
    from rnnscratch.training.optim import clip_and_update

    with pytest.raises(TypeError, match=r"SGD.update\(params, grads\)"):
        clip_and_update(SGD(), type("L", (), {"W": 1})(), [np.ones(2)], 1.0)


def test_update_kernels_scale_errors_change_nothing():
    """A bad scale, or a read-only gradient that would be rescaled: the error
    names the argument, no array is written."""
    from rnnscratch import _core

    p, g = np.ones(4, np.float32), np.full(4, 2, np.float32)
    m, v = np.zeros(4, np.float32), np.zeros(4, np.float32)
    with pytest.raises(TypeError, match="scale"):
        _core.sgd_update(p, g, 0.1, "x")
    with pytest.raises(TypeError, match="scale"):
        _core.adam_update(p, g, m, v, 0.1, 0.001, np.float64(1e-3), [0.5])
    ro = g.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"grad: the array is read-only"):
        _core.sgd_update(p, ro, 0.1, 0.5)
    with pytest.raises(ValueError, match=r"grad: the array is read-only"):
        _core.adam_update(p, ro, m, v, 0.1, 0.001, np.float64(1e-3), 0.5)
    assert (p == 1).all() and (g == 2).all() and not m.any() and not v.any()
    _core.sgd_update(p, ro, 0.5)  # scale 1: the gradient is only read
    np.testing.assert_array_equal(p, np.zeros(4, np.float32))
    _core.sgd_update(p, g, 0.5, 0.25)
    np.testing.assert_array_equal(g, np.full(4, 0.5, np.float32))
    np.testing.assert_array_equal(p, np.full(4, -0.25, np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_squares_same_bits_for_any_thread_count(dtype):
    """A large array's sum of squares is split over the threads along NumPy's
    pairwise tree: the same bits whatever the thread count (that they are
    np.sum(x ** 2)'s: test_sum_squares_is_numpys_bit_for_bit, which runs the
    split sizes too)."""
    import rnnscratch
    from rnnscratch import _core

    rng = np.random.default_rng(13)
    old = rnnscratch.get_num_threads()
    try:
        for n in (131072, 131073, 200003, 1 << 20, 1690000):
            x = (rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 6)).astype(dtype)
            rnnscratch.set_num_threads(1)
            one = _core.sum_squares(x)
            for threads in (2, 3, 8):
                rnnscratch.set_num_threads(threads)
                assert _core.sum_squares(x) == one, (n, threads)
    finally:
        rnnscratch.set_num_threads(old)
