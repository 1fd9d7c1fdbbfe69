"""The matrix product under the kernels, every SIMD path, 1 and 2 threads.

Checked against a plain triple loop (in float64/longdouble) on sizes that cross
every edge of the register tiles and cache blocks, with transposed, sliced and
reversed operands; the thread count never changes a bit of any result.
"""
import numpy as np
import pytest

import rnnscratch
from rnnscratch import _core

EDGE_SIZES = [0, 1, 2, 3, 5, 7, 13, 15, 16, 17, 31, 33, 63, 65, 100, 129]


def triple_loop(a, b):
    """The textbook product, one dot product per element, in long double."""
    a = a.astype(np.longdouble)
    b = b.astype(np.longdouble)
    M, K = a.shape
    N = b.shape[1]
    c = np.zeros((M, N), dtype=np.longdouble)
    for i in range(M):
        for k in range(K):
            c[i, :] += a[i, k] * b[k, :]
    return c


@pytest.fixture(params=_core.available_simd_paths())
def path(request):
    old = _core.get_simd_path()
    _core.set_simd_path(request.param)
    yield request.param
    _core.set_simd_path(old)


@pytest.fixture
def threads():
    old = rnnscratch.get_num_threads()
    yield
    rnnscratch.set_num_threads(old)


def tol(dtype, K):
    eps = np.finfo(dtype).eps
    return 4 * eps * max(K, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("packed", [False, True])
def test_edges_against_triple_loop(path, dtype, packed):
    rng = np.random.default_rng(7)
    for M, N, K in [(m, n, k) for m in EDGE_SIZES[::3] for n in EDGE_SIZES[1::3] for k in EDGE_SIZES[2::4]]:
        a = rng.uniform(-1, 1, (M, K)).astype(dtype)
        b = rng.uniform(-1, 1, (K, N)).astype(dtype)
        c = _core.matmul(a, b, packed=packed)
        assert c.dtype == dtype and c.shape == (M, N)
        # |a|·|b| bounds every rounding error of a K-term dot product
        bound = triple_loop(np.abs(a), np.abs(b)) * tol(dtype, K)
        assert np.all(np.abs(c - triple_loop(a, b)) <= bound + np.finfo(dtype).tiny), (M, N, K)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_operands(path, dtype):
    rng = np.random.default_rng(3)
    big_a = rng.uniform(-1, 1, (70, 90)).astype(dtype)
    big_b = rng.uniform(-1, 1, (90, 80)).astype(dtype)
    cases = [
        (big_a[:33, :47], big_b[:47, :29]),            # sliced rows
        (big_a[:47, :33].T, big_b[:29, :47].T),        # both transposed (TN / NT forms)
        (big_a[::2, ::3][:17, :23], big_b[::3, 1::2][:23, :19]),  # element strides
        (big_a[:20, :30][::-1], big_b[:30, :25][:, ::-1]),        # reversed
        (np.asfortranarray(big_a[:40, :50]), big_b[:50, :45]),
    ]
    for a, b in cases:
        for packed in (False, True):
            c = _core.matmul(a, b, packed=packed)
            bound = triple_loop(np.abs(a), np.abs(b)) * tol(dtype, a.shape[1])
            assert np.all(np.abs(c - triple_loop(a, b)) <= bound)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_count_changes_no_bit(path, threads, dtype):
    rng = np.random.default_rng(11)
    for M, N, K in [(700, 100, 100), (257, 513, 129), (6400 // 8, 1024 // 4, 300), (100, 100, 700)]:
        a = rng.standard_normal((M, K)).astype(dtype)
        b = rng.standard_normal((K, N)).astype(dtype)
        results = []
        for n in (1, 2):
            rnnscratch.set_num_threads(n)
            results.append((_core.matmul(a, b), _core.matmul(a.T.copy().T, b, packed=True)))
        for x, y in zip(*results):
            assert np.array_equal(x, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_time_rnn_thread_count_changes_no_bit(path, threads, dtype):
    rng = np.random.default_rng(5)
    N, T, D, H = 16, 12, 300, 257
    Wx = (rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype)
    Wh = (rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype)
    b = rng.standard_normal(H).astype(dtype)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    outs = []
    for n in (1, 2):
        rnnscratch.set_num_threads(n)
        layer = rnnscratch.TimeRNN(Wx, Wh, b)
        hs = layer.forward(xs)
        dxs = layer.backward(dhs)
        outs.append([hs, dxs, layer.dh] + [g.copy() for g in layer.grads])
    for x, y in zip(*outs):
        assert np.array_equal(x, y)


def test_num_threads_api(threads):
    rnnscratch.set_num_threads(1)
    assert rnnscratch.get_num_threads() == 1
    rnnscratch.set_num_threads(2)
    assert rnnscratch.get_num_threads() == 2
    for bad, exc in [(0, ValueError), (-3, ValueError), (_core.max_threads + 1, ValueError),
                     ("2", TypeError), (2.0, TypeError), (True, TypeError), (None, TypeError)]:
        with pytest.raises(exc, match="^n: "):
            rnnscratch.set_num_threads(bad)
    assert rnnscratch.get_num_threads() == 2


def test_simd_paths_of_this_machine():
    """aarch64 offers 'neon' (always: it is the base ISA) and no x86 path;
    x86-64 never offers 'neon'. A path the machine lacks is refused by name."""
    import platform
    paths = _core.available_simd_paths()
    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64"):
        assert paths == ["portable", "neon"]
        missing = ["avx2", "avx512"]
    else:
        assert "neon" not in paths
        missing = ["neon"] + [p for p in ("avx2", "avx512") if p not in paths]
    old = _core.get_simd_path()
    try:
        for p in missing:
            with pytest.raises(ValueError, match="does not support '%s'" % p):
                _core.set_simd_path(p)
            assert _core.get_simd_path() == old
    finally:
        _core.set_simd_path(old)


def test_simd_path_api():
    paths = _core.available_simd_paths()
    assert paths[0] == "portable"
    old = _core.get_simd_path()
    try:
        for p in paths:
            _core.set_simd_path(p)
            assert _core.get_simd_path() == p
        _core.set_simd_path("best")
        assert _core.get_simd_path() == paths[-1]
        with pytest.raises(ValueError, match="path: expected"):
            _core.set_simd_path("sse9")
        with pytest.raises(TypeError, match="path: expected a str"):
            _core.set_simd_path(3)
    finally:
        _core.set_simd_path(old)


def test_matmul_errors():
    with pytest.raises(ValueError, match=r"b: expected shape \(K, N\) with K=3 \(from a\), got \(4, 2\)"):
        _core.matmul(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(TypeError, match="a: expected an array of numbers"):
        _core.matmul(np.ones((2, 3), complex), np.ones((3, 2)))


def test_show_config(capsys):
    rnnscratch.show_config()
    out = capsys.readouterr().out
    assert "kernel path: " + _core.get_simd_path() in out
    assert f"threads: {rnnscratch.get_num_threads()}" in out
    assert "-O3" in out and "march=native" not in out and "fast-math" not in out


def test_blas_switch():
    """_set_blas: in a CBLAS build (_core.blas != 'none') it switches the large
    products between CBLAS and our kernels; without one, True is refused."""
    with pytest.raises(TypeError, match="^on: expected True or False"):
        _core._set_blas(1)
    if _core.blas == "none":
        assert _core._set_blas(False) is False
        with pytest.raises(ValueError, match="^on: this build has no CBLAS backend"):
            _core._set_blas(True)
        assert _core._set_blas(False) is False
    else:
        assert _core._set_blas(False) is True
        assert _core._set_blas(True) is False
        assert _core._set_blas(True) is True


# chapter-6 shapes (TimeLSTM 20x35, D = H = 650; the 10000-word head) and
# shapes whose rows do not fill the 96-row CBLAS blocks
BIG_SHAPES = [(700, 2600, 650), (650, 2600, 700), (700, 650, 2600), (197, 1000, 300),
              (1001, 333, 129)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_products_both_backends(threads, dtype):
    """Above _core.blas_min_flops a CBLAS build hands the product to CBLAS: it
    must agree with our kernels within the dot-product error bound and, like
    them, not change a bit with the thread count (tests the row-block split
    of csrc/gemm_impl.h). Without CBLAS: our kernels, the same checks."""
    rng = np.random.default_rng(23)
    backends = [False] + ([True] if _core.blas != "none" else [])
    before = _core._set_blas(False)
    try:
        for M, N, K in BIG_SHAPES:
            assert 2.0 * M * N * K >= _core.blas_min_flops
            a = rng.uniform(-1, 1, (M, K)).astype(dtype)
            b = rng.uniform(-1, 1, (K, N)).astype(dtype)
            exact = a.astype(np.float64) @ b.astype(np.float64)
            bound = (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)) * tol(dtype, K)
            for on in backends:
                _core._set_blas(on)
                for x in (a, np.asfortranarray(a)):
                    got = []
                    for n in (1, 2):
                        rnnscratch.set_num_threads(n)
                        got.append(_core.matmul(x, b))
                    assert np.array_equal(got[0], got[1]), (M, N, K, on)
                    assert np.all(np.abs(got[0] - exact) <= bound), (M, N, K, on)
    finally:
        _core._set_blas(before)


def test_head_on_both_backends(threads):
    """The 10000-word output head (softmax cross-entropy fused on the product's
    row blocks): CBLAS and our kernels agree to float32 rounding, each is the
    same for 1 and 2 threads."""
    rng = np.random.default_rng(29)
    N, T, D, V = 20, 35, 650, 10000
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    W = (rng.standard_normal((D, V)) * 0.05).astype(np.float32)
    b = (rng.standard_normal(V) * 0.1).astype(np.float32)
    ts = rng.integers(0, V, (N, T))
    backends = [False] + ([True] if _core.blas != "none" else [])
    before = _core._set_blas(False)
    res = {}
    try:
        for on in backends:
            _core._set_blas(on)
            got = []
            for n in (1, 2):
                rnnscratch.set_num_threads(n)
                got.append(_core.affine_softmax_cross_entropy(x, W, ts, b))
            assert got[0][0] == got[1][0] and np.array_equal(got[0][1], got[1][1]), on
            res[on] = got[0]
    finally:
        _core._set_blas(before)
    loss, d = res[False]
    for on, (l2, d2) in res.items():
        assert abs(l2 - loss) <= 1e-5 * abs(loss)
        assert np.max(np.abs(d2 - d)) <= 1e-6 * np.max(np.abs(d)) + 1e-9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocking_from_the_caches_never_changes_a_bit(path, threads, dtype):
    """The cache blocks (kc, mc, nc) come from the detected cache sizes, so
    they differ between machines: any blocks give the same bits."""
    info = _core._gemm_blocking()
    assert info["l1d"] > 0 and info["l2"] > 0 and info["l3"] > 0
    for dt in ("float32", "float64"):
        kc, mc, nc = info[dt]
        assert kc >= 64 and mc >= 4 and nc >= 4
    rng = np.random.default_rng(21)
    cases = [(300, 700, 530), (64, 1000, 300), (20, 2600, 650), (129, 65, 1031)]
    try:
        for M, N, K in cases:
            a = rng.standard_normal((M, K)).astype(dtype)
            b = rng.standard_normal((K, N)).astype(dtype)
            rnnscratch.set_num_threads(2)
            _core._set_gemm_blocking(0, 0, 0)
            want = _core.matmul(a, b)
            for blocks in [(64, 8, 16), (96, 48, 64), (300, 200, 100), (1024, 2000, 4096)]:
                for nt in (1, 2):
                    rnnscratch.set_num_threads(nt)
                    _core._set_gemm_blocking(*blocks)
                    np.testing.assert_array_equal(_core.matmul(a, b), want)
                    np.testing.assert_array_equal(_core.matmul(a.T.copy().T, b[:, ::-1])[:, ::-1],
                                                  want)
    finally:
        _core._set_gemm_blocking(0, 0, 0)


@pytest.mark.parametrize("args, exc, message", [
    ((-1, 0, 0), ValueError, "kc: expected 0 (from the caches) to 65536, got -1"),
    ((0, 70000, 0), ValueError, "mc: expected 0 (from the caches) to 65536, got 70000"),
    ((0, 0, 1.5), TypeError, "nc"),
])
def test_set_gemm_blocking_errors(args, exc, message):
    before = _core._gemm_blocking()
    with pytest.raises(exc) as e:
        _core._set_gemm_blocking(*args)
    assert message in str(e.value)
    assert _core._gemm_blocking() == before  # nothing set


@pytest.fixture
def split():
    old = _core._set_recurrence_split("auto")
    yield
    _core._set_recurrence_split(old)


def lstm_run(dtype, N, T, D, H, stateful, seed=11):
    """Two forward/backward passes of a TimeLSTM (the second from the first's
    state when stateful): every output, gradient and carried state."""
    rng = np.random.default_rng(seed)
    Wx = (rng.standard_normal((D, 4 * H)) / np.sqrt(D)).astype(dtype)
    Wh = (rng.standard_normal((H, 4 * H)) / np.sqrt(H)).astype(dtype)
    b = rng.standard_normal(4 * H).astype(dtype)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    layer = rnnscratch.TimeLSTM(Wx, Wh, b, stateful=stateful)
    if stateful:
        layer.set_state(rng.standard_normal((N, H)).astype(dtype),
                        rng.standard_normal((N, H)).astype(dtype))
    out = []
    for _ in range(2):
        out += [layer.forward(xs), layer.backward(dhs), layer.dh.copy()]
        out += [g.copy() for g in layer.grads]
        if stateful:
            out += [layer.h.copy(), layer.c.copy()]
    return out


# (N, T, D, H): one row, one step, H of one panel per task, ragged last block,
# BetterRnnlm's per-thread shape
SPLIT_SHAPES = [(1, 3, 5, 64), (3, 1, 7, 100), (7, 5, 3, 97), (5, 4, 9, 130), (20, 6, 40, 650)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stateful", [False, True])
def test_time_lstm_column_split_changes_no_bit(path, threads, split, dtype, stateful):
    """The column split (hidden units over the threads, a fork/join per step)
    gives the row split's and one thread's bits, for any task count."""
    for N, T, D, H in SPLIT_SHAPES:
        rnnscratch.set_num_threads(1)
        ref = lstm_run(dtype, N, T, D, H, stateful)
        for n in (2, 3, 5):
            rnnscratch.set_num_threads(n)
            _core._set_recurrence_split("columns")
            kind, tasks = _core._recurrence_split(N, H, dtype == np.float64)
            align = 128 // np.dtype(dtype).itemsize
            assert kind == "columns" and tasks == min(n, H // align), (N, H, n)
            got = lstm_run(dtype, N, T, D, H, stateful)
            for x, y in zip(ref, got):
                assert np.array_equal(x, y), (N, T, D, H, n)
            _core._set_recurrence_split("rows")
            assert _core._recurrence_split(N, H, dtype == np.float64) == ("rows", 0)
            got = lstm_run(dtype, N, T, D, H, stateful)
            for x, y in zip(ref, got):
                assert np.array_equal(x, y), (N, T, D, H, n, "rows")


def test_recurrence_split_rule(threads, split):
    """auto: columns for few rows per thread, a large H and a Wh over a quarter
    of the L3 (TimeLSTM 64x1024 on a 32 MB L3), rows otherwise; one thread
    never splits."""
    rnnscratch.set_num_threads(2)
    l3 = _core._gemm_blocking()["l3"]

    def wants(N, H):
        big = l3 > 0 and H * 4 * H * 4 * 4 > l3
        return ("columns", 2) if big else ("rows", 0)
    assert _core._recurrence_split(64, 1024, False) == wants(64, 1024)
    assert _core._recurrence_split(20, 650, False) == wants(20, 650)
    if 0 < l3 <= 64 * 2**20:
        assert _core._recurrence_split(64, 1024, False) == ("columns", 2)
    if l3 >= 28 * 2**20:
        assert _core._recurrence_split(20, 650, False) == ("rows", 0)  # Wh 6.8 MB: rows
    assert _core._recurrence_split(20, 100, False) == ("rows", 0)   # H too small
    assert _core._recurrence_split(128, 256, False) == ("rows", 0)  # 64 rows per thread
    assert _core._recurrence_split(1, 64, False) == ("rows", 0)     # too little work
    rnnscratch.set_num_threads(1)
    assert _core._recurrence_split(64, 1024, False) == ("rows", 0)


@pytest.mark.parametrize("mode, exc, message", [
    ("diagonal", ValueError, "mode: expected 'auto', 'rows' or 'columns', got 'diagonal'"),
    (2, ValueError, "mode: expected 'auto', 'rows' or 'columns', got 2"),
])
def test_set_recurrence_split_errors(split, mode, exc, message):
    with pytest.raises(exc) as e:
        _core._set_recurrence_split(mode)
    assert message in str(e.value)
    assert _core._set_recurrence_split("auto") == "auto"  # nothing set


@pytest.mark.parametrize("args, exc, message", [
    ((-1, 5, False), ValueError, "N, H: expected sizes >= 0, got -1, 5"),
    ((1, "5", False), TypeError, ""),
])
def test_recurrence_split_errors(args, exc, message):
    with pytest.raises(exc) as e:
        _core._recurrence_split(*args)
    assert message in str(e.value)
