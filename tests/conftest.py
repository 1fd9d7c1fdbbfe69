"""Shared fixtures for the rnnscratch test suite.

Fixtures
--------
rng      a seeded ``np.random.Generator``; the seed is derived from the test's
         node id, so every test has its own reproducible stream.
impl     parametrized over the compiled classes (``rnnscratch``) and the NumPy
         reference (``rnnscratch.reference``); for tests of class behaviour
         that both must share.
tools    a namespace of small helpers (weights, layouts, comparisons) so that
         test modules do not need to import this file.

Tests that take an argument named ``rnn_shape`` (N, D, H) or ``seq_shape``
(N, T, D, H) are parametrized here with a seeded subset of the shapes built
from {1, 2, 3, 7, 64} with D != H.
"""

import itertools
import re
import types
import zlib

import numpy as np
import pytest

SIZES = (1, 2, 3, 7, 64)
N_SEQ_COMBOS = 40
N_RNN_COMBOS = 30
LAYOUTS = ("C", "F", "strided", "reversed", "permuted")
ACTIVATIONS = ("tanh", "relu", "sigmoid")


# --------------------------------------------------------------------------
# shape combinations
# --------------------------------------------------------------------------

def _seq_combos():
    allc = [c for c in itertools.product(SIZES, repeat=4) if c[2] != c[3]]
    pick = np.random.default_rng(2024).choice(len(allc), N_SEQ_COMBOS, replace=False)
    chosen = [allc[i] for i in sorted(pick)]
    # corners that must always be present (min and max sizes, long sequences)
    for c in [(1, 1, 1, 2), (1, 64, 2, 1), (64, 64, 7, 64), (64, 1, 64, 3),
              (2, 64, 64, 7), (3, 7, 1, 64)]:
        if c not in chosen:
            chosen.append(c)
    # off-grid sizes that exercise remainder loops of blocked kernels,
    # and the language-model benchmark size
    chosen += [(5, 9, 29, 13), (20, 35, 100, 100 + 1), (4, 6, 17, 33)]
    return chosen


def _rnn_combos():
    allc = [c for c in itertools.product(SIZES, repeat=3) if c[1] != c[2]]
    pick = np.random.default_rng(7).choice(len(allc), N_RNN_COMBOS, replace=False)
    chosen = [allc[i] for i in sorted(pick)]
    for c in [(1, 1, 2), (64, 64, 7), (64, 1, 64), (3, 64, 1)]:
        if c not in chosen:
            chosen.append(c)
    chosen += [(5, 29, 13), (20, 100, 101), (4, 17, 33)]
    return chosen


SEQ_COMBOS = _seq_combos()
RNN_COMBOS = _rnn_combos()


def pytest_generate_tests(metafunc):
    if "seq_shape" in metafunc.fixturenames:
        metafunc.parametrize("seq_shape", SEQ_COMBOS,
                             ids=["N%d-T%d-D%d-H%d" % c for c in SEQ_COMBOS])
    if "rnn_shape" in metafunc.fixturenames:
        metafunc.parametrize("rnn_shape", RNN_COMBOS,
                             ids=["N%d-D%d-H%d" % c for c in RNN_COMBOS])


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

@pytest.fixture
def rng(request):
    """A np.random.Generator seeded from the test id (stable across runs)."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(params=["compiled", "reference"])
def impl(request):
    """The module holding RNN and TimeRNN: compiled or reference."""
    if request.param == "compiled":
        import rnnscratch
        return rnnscratch
    from rnnscratch import reference
    return reference


@pytest.fixture(scope="session")
def core():
    from rnnscratch import _core
    return _core


def pytest_configure(config):
    """RNNSCRATCH_SIMD_PATH=name runs the whole session on that kernel path
    (the arm64 lane runs its suites once on 'neon' and once on 'portable');
    tests that iterate the paths still visit each one and restore it."""
    import os
    name = os.environ.get("RNNSCRATCH_SIMD_PATH")
    if name:
        from rnnscratch import _core
        _core.set_simd_path(name)  # ValueError names an unknown/unsupported path


def _simd_paths():
    from rnnscratch import _core
    return _core.available_simd_paths()


@pytest.fixture(params=_simd_paths())
def simd_path(request, core):
    """Run the test on each SIMD path this CPU offers: 'portable' and the x86
    ones ('avx2', 'avx512') or 'neon' (aarch64); test_simd_paths checks that
    the list holds every path the CPU supports."""
    before = core.get_simd_path()
    core.set_simd_path(request.param)
    try:
        yield request.param
    finally:
        core.set_simd_path(before)


@pytest.fixture(scope="session")
def ref():
    from rnnscratch import reference
    return reference


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def make_weights(rng, D, H, dtype=np.float64, bias=True, scale=0.5):
    """Weights that keep the recurrence contractive (errors do not grow)."""
    Wx = (rng.standard_normal((D, H)) / np.sqrt(D) * scale).astype(dtype)
    Wh = (rng.standard_normal((H, H)) / np.sqrt(H) * scale).astype(dtype)
    b = (rng.standard_normal(H) * 0.2).astype(dtype) if bias else None
    return Wx, Wh, b


def randn(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def with_layout(a, kind):
    """A copy of ``a`` (same values) stored with the given memory layout.

    C        C-contiguous
    F        Fortran-contiguous
    strided  every-other-element view into a bigger NaN-filled buffer
    reversed negative strides on every axis
    permuted axes stored in another order (2-D: reversed-row Fortran, 3-D: time-major)
    """
    a = np.asarray(a)
    if kind == "C":
        return np.array(a, order="C")
    if kind == "F":
        return np.array(a, order="F")
    if kind == "strided":
        big_shape = tuple(2 * s + 1 for s in a.shape)
        if a.dtype.kind == "f":
            big = np.full(big_shape, np.nan, dtype=a.dtype)
        else:
            big = np.full(big_shape, 99, dtype=a.dtype)
        view = big[tuple(slice(1, None, 2) for _ in a.shape)]
        view[...] = a
        assert not view.flags.c_contiguous or a.size <= 1
        return view
    if kind == "reversed":
        rev = tuple(slice(None, None, -1) for _ in a.shape)
        return a[rev].copy()[rev]
    if kind == "permuted":
        if a.ndim == 2:  # Fortran storage with a negative stride on axis 0
            return np.asfortranarray(a[::-1])[::-1]
        if a.ndim == 3:
            return np.ascontiguousarray(a.transpose(1, 0, 2)).transpose(1, 0, 2)
        return a.copy()
    raise ValueError(kind)


def rtol_for(dtype):
    return 1e-5 if np.dtype(dtype) == np.float32 else 1e-12


def assert_close(actual, expected, dtype, what="", terms=1):
    """Compare with rtol 1e-5 (float32) / 1e-12 (float64) and an atol scaled
    to the magnitude of ``expected`` (inputs are O(1) by construction)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, "%s: shape %s != %s" % (
        what, actual.shape, expected.shape)
    rtol = rtol_for(dtype)
    # the atol covers the rounding of sums whose terms are O(1) but whose result
    # cancels (e.g. dWh with H = 1): scale = max(|expected|, sqrt(terms), 1),
    # where ``terms`` is how many O(1) products each element sums (N*T for dW)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    atol = rtol * max(scale, np.sqrt(terms), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol,
                               err_msg=what)



def assert_close_to_scale(ours, theirs, what, rtol):
    """|ours - theirs| <= rtol * max(1, max|theirs|), the same shape, ours finite: the
    comparison with another implementation (the book's, the reference) whose sums run
    in another order."""
    o = np.asarray(ours, dtype=np.float64)
    t = np.asarray(theirs, dtype=np.float64)
    assert o.shape == t.shape, "%s: shape %s, expected %s" % (what, o.shape, t.shape)
    if t.size == 0:
        return
    assert np.all(np.isfinite(o)), what + ": non-finite values"
    scale = max(1.0, float(np.max(np.abs(t))))
    err = float(np.max(np.abs(o - t)))
    assert err <= rtol * scale, "%s: largest difference %.3g (scale %.3g, tolerance %.3g)" % (
        what, err, scale, rtol * scale)

def _token_re(name):
    return re.compile(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(name))


def message_names(msg, name):
    """True if ``name`` appears in ``msg`` as an identifier of its own
    (so 'Wx' does not match inside 'dWx', 'hs' not inside 'dhs')."""
    return bool(_token_re(name).search(msg))


def assert_message(exc_info, candidates):
    """The message names one of the arguments and shows its actual shape/dtype.

    candidates: list of (name, detail) with detail a shape tuple, a dtype, a
    string that must appear, or None (name only).
    """
    msg = str(exc_info.value)
    for name, detail in candidates:
        if not message_names(msg, name):
            continue
        if detail is None:
            return
        if isinstance(detail, tuple):
            if str(detail) in msg:
                return
        elif isinstance(detail, np.dtype):
            if str(detail) in msg or detail.name in msg:
                return
        elif isinstance(detail, (list, set, frozenset)):
            if any(d in msg for d in detail):
                return
        elif str(detail) in msg:
            return
    pytest.fail("error message %r does not name any of %r with its shape/dtype"
                % (msg, candidates))


def relu_safe(pre_activations, margin):
    """True if no pre-activation is within ``margin`` of the relu kink."""
    return all(np.all(np.abs(a) >= margin) for a in pre_activations)


@pytest.fixture(scope="session")
def tools():
    return types.SimpleNamespace(
        make_weights=make_weights,
        randn=randn,
        with_layout=with_layout,
        LAYOUTS=LAYOUTS,
        ACTIVATIONS=ACTIVATIONS,
        rtol_for=rtol_for,
        assert_close=assert_close,
        assert_message=assert_message,
        message_names=message_names,
        relu_safe=relu_safe,
    )
