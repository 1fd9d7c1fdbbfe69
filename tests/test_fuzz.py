"""Property-based fuzzing of the Python/C boundary (issue 7).

Every function of ``rnnscratch._core`` (the contract table, tests/core_contract.py)
and every layer class of the registry (tests/registry.py) is called with
arbitrary arguments: arrays of ndim 0-4 with sizes 0, 1 and odd,
every dtype (ints, uints, float16/32/64, longdouble, complex, bool, object,
str/bytes, datetime, structured, byte-swapped), transposed / sliced / reversed
views, read-only arrays, NaN/inf, None, scalars, ragged lists, objects whose
``__array__`` raises, wrong keyword values. Each call must

* either return a correct result: an independent validator (written here from
  the documented contract: shapes by named dimension, numeric kinds, floating
  writeable gradient arrays that do not overlap, ids in range) decides whether
  the arguments are valid, and a NumPy oracle (rnnscratch.reference formulas)
  gives the expected values;
* or raise ValueError / TypeError / IndexError / MemoryError / RuntimeError /
  OverflowError with a non-empty message, when the validator says invalid;

and never modify its inputs (nor its gradient arrays when it raises). A crash
kills pytest: that is the failure signal.

Normal suite: a bounded, derandomized number of examples (the file runs in a
few seconds). Long mode: ``RNNSCRATCH_FUZZ_EXAMPLES=100000`` spreads that many
examples over the tests (random seeds); ``RNNSCRATCH_FUZZ_COUNT_FILE=path``
appends the number of examples each test ran.
"""
import functools
import math
import operator
import os
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rnnscratch import _core, reference  # noqa: E402
from core_contract import CONTRACT, KERNELS, token_size, tokens  # noqa: E402
from registry import REGISTRY, Sizes, randn, shape_of  # noqa: E402

# --------------------------------------------------------------------------
# budget
# --------------------------------------------------------------------------

_LONG_TOTAL = int(os.environ.get("RNNSCRATCH_FUZZ_EXAMPLES", "0") or 0)
_N_TESTS = 20  # about the number of @fuzz tests below: they share the long-mode budget
_PER_TEST = 100  # normal suite
_COUNT_FILE = os.environ.get("RNNSCRATCH_FUZZ_COUNT_FILE")


def fuzz(per_test=_PER_TEST):
    if _LONG_TOTAL:
        n = max(1, math.ceil(_LONG_TOTAL / _N_TESTS))
        s = settings(max_examples=n, deadline=None, database=None, derandomize=False,
                     suppress_health_check=list(HealthCheck), print_blob=True)
    else:
        s = settings(max_examples=per_test, deadline=None, database=None, derandomize=True,
                     suppress_health_check=list(HealthCheck))

    def deco(f):
        counter = {"n": 0}

        @functools.wraps(f)
        def counted(*a, **k):
            counter["n"] += 1
            return f(*a, **k)

        test = s(given(data=st.data())(counted))

        def run():
            counter["n"] = 0
            try:
                test()
            finally:
                if _COUNT_FILE:
                    with open(_COUNT_FILE, "a") as fh:
                        fh.write("%s %d\n" % (f.__name__, counter["n"]))

        run.__name__ = f.__name__
        run.__doc__ = f.__doc__
        return run

    return deco


OK_ERRORS = (ValueError, TypeError, IndexError, MemoryError, RuntimeError, OverflowError)
SIZES = (0, 1, 2, 3, 5)
ACTS = ("tanh", "relu", "sigmoid")
FLOAT_DTYPES = ("float16", "float32", "float64", "longdouble", ">f8", ">f4")
INT_DTYPES = ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
              "uint64", ">i4")
BAD_DTYPES = ("complex64", "complex128", "clongdouble", "object", "U3", "S3",
              "datetime64[s]", "timedelta64[ms]", [("a", "f4"), ("b", "i2")], "V4")
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES + BAD_DTYPES


class _Boom:
    """An object whose conversion to an array raises."""

    def __init__(self, exc):
        self.exc = exc

    def __array__(self, dtype=None, copy=None):
        raise self.exc("conversion refused")

    def __len__(self):
        raise self.exc("no len")


# --------------------------------------------------------------------------
# value generation
# --------------------------------------------------------------------------

def _fill(rng, shape, dtype, special):
    dt = np.dtype(dtype)
    k = dt.kind
    if k == "f":
        a = rng.standard_normal(shape) * 0.5
        if special and a.size:
            flat = a.reshape(-1)
            choices = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0, -0.0, 5e-324,
                                1e300])
            idx = rng.integers(0, flat.size, size=max(1, flat.size // 3))
            flat[idx] = rng.choice(choices, size=idx.size)
        with np.errstate(all="ignore"):
            return a.astype(dt)
    if k in "iu":
        info = np.iinfo(dt)
        if special:
            vals = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dt.newbyteorder("="))
        else:
            lo = 0 if k == "u" else -3
            vals = rng.integers(lo, 4, size=shape)
        return np.asarray(vals).astype(dt)
    if k == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if k == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    if k == "O":
        a = np.empty(shape, dtype=object)
        pool = [1.5, 2, "x", None, [1, 2], object()]
        for i in np.ndindex(*shape):
            a[i] = pool[rng.integers(len(pool))]
        return a
    if k in "US":
        return np.full(shape, "ab", dtype=dt)
    if k in "mM":
        return np.zeros(shape, dtype=dt)
    return np.zeros(shape, dtype=dt)


def _layout(rng, a, kind):
    """Same values, another memory layout (or a read-only / byte-swapped twin)."""
    if kind == "C" or a.ndim == 0:
        out = a
    elif kind == "F":
        out = np.asfortranarray(a)
    elif kind == "T":  # transposed storage
        out = np.ascontiguousarray(a.T).T
    elif kind == "rev":
        rev = tuple(slice(None, None, -1) for _ in a.shape)
        out = a[rev].copy()[rev]
    elif kind == "strided":
        big = np.empty(tuple(2 * s + 1 for s in a.shape), dtype=a.dtype)
        if big.dtype.kind == "f":
            big[...] = np.nan
        view = big[tuple(slice(1, None, 2) for _ in a.shape)]
        view[...] = a
        out = view
    elif kind == "readonly":
        out = a.copy()
        out.flags.writeable = False
    elif kind == "swapped":
        if a.dtype.kind in "biufc" and a.dtype.itemsize > 1:
            out = a.astype(a.dtype.newbyteorder())
        else:
            out = a
    else:
        raise AssertionError(kind)
    return out


LAYOUTS = ("C", "F", "T", "rev", "strided", "readonly", "swapped")


@st.composite
def arrays_any(draw, rng_seed=None):
    """An array of any ndim 0-4, size 0/1/odd, any dtype and layout."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.sampled_from(SIZES)) for _ in range(ndim))
    dtype = draw(st.sampled_from(ALL_DTYPES))
    special = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = _fill(rng, shape, dtype, special)
    return _layout(rng, a, draw(st.sampled_from(LAYOUTS)))


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _ODD_OBJECTS = [object(), {}, (), [], [[]], [[], [1]], _Boom(ValueError), _Boom(TypeError),
                    _Boom(MemoryError), np.float64(1.5), np.int8(3), np.array(2.0),
                    np.matrix([[1.0, 2.0]]), np.ma.masked_array([1.0, 2.0], mask=[0, 1]),
                    "tanh", np.float32, range(3), memoryview(b"abcd"), 1 + 2j]


def junk_values():
    """Anything a notebook user could pass."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-2**70, 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.complex_numbers(),
        st.text(max_size=3),
        st.binary(max_size=3),
        st.lists(st.floats(-2, 2), max_size=4),
        st.lists(st.lists(st.integers(-2, 2), max_size=3), max_size=3),  # maybe ragged
        st.lists(st.lists(st.lists(st.floats(-1, 1), min_size=2, max_size=2),
                          min_size=2, max_size=2), min_size=1, max_size=2),
        st.sampled_from(_ODD_OBJECTS),
        arrays_any(),
    )


# --------------------------------------------------------------------------
# the contract of every _core function: from the one table, tests/core_contract.py
# --------------------------------------------------------------------------
# table entries: (name, dims, role) with role P param, P? optional param,
# I input, I? optional input, ids integer ids, O gradient output, O? optional output.
# Not fuzzed here: result buffers (role R: affine_softmax_cross_entropy's out=),
# sgd_update (an in-place update: tests in test_optim.py) and the control functions
# (they get arbitrary arguments in test_fuzz_core_any_arguments).

def _fuzz_spec(fn):
    return dict(
        sig=tuple(a.name for a in fn.args if a.role != "R"), required=fn.required,
        table=[(a.name, a.shape, a.role + ("?" if a.optional else ""))
               for a in fn.args if a.role not in ("S", "R")])


CORE = {f.name: _fuzz_spec(f) for f in KERNELS}
SCALAR_ARGS = ("activation", "accumulate", "ignore_label", "dout", "packed")


def _scalars(fname):
    """The non-array arguments of a function (dout is an array except in the softmax)."""
    table = {n for n, _, _ in CORE[fname]["table"]}
    return [n for n in SCALAR_ARGS if n in CORE[fname]["sig"] and n not in table]


def test_core_table_covers_every_kernel():
    """Every kernel of the contract is fuzzed below (a test per kernel), and every
    scalar argument has bad values to draw from."""
    for f in KERNELS:
        assert callable(globals().get("test_fuzz_" + f.name)), f.name
        for a in f.args:
            if a.role == "S":
                assert a.name in SCALAR_ARGS and a.name in BAD_SCALARS, (f.name, a.name)


class Invalid(Exception):
    pass


def _compute_dtype(arrays):
    rt = np.result_type(*arrays)
    return np.dtype(np.float32) if rt in (np.float16, np.float32) else np.dtype(np.float64)


def validate(fname, kw):
    """The contract, independently of the C code: returns (dims, dtype, arrays) or raises Invalid."""
    spec = CORE[fname]
    # scalar arguments
    if "activation" in kw:
        act = kw["activation"]
        if not (isinstance(act, str) and act in ACTS):
            raise Invalid("activation")
    for flag in ("accumulate", "packed"):
        if flag in kw:
            try:
                bool(kw[flag])
            except Exception:
                raise Invalid(flag)
    if "ignore_label" in kw:
        try:
            v = operator.index(kw["ignore_label"])
        except Exception:
            raise Invalid("ignore_label")
        if not -2**63 <= v < 2**63:
            raise Invalid("ignore_label")
    if "dout" in kw and fname == "softmax_cross_entropy_backward":
        d = kw["dout"]
        if isinstance(d, (str, bytes, bytearray)) or isinstance(d, np.ndarray) and d.ndim:
            raise Invalid("dout")
        try:
            float(d)
        except Exception:
            raise Invalid("dout")
    dims, arrays = {}, {}
    params = []
    for name, ds, role in spec["table"]:
        obj = kw.get(name)
        if obj is None:
            if role.endswith("?"):
                continue
            raise Invalid(name)
        if role.startswith("O"):
            if not isinstance(obj, np.ndarray) or obj.dtype.kind != "f" or \
                    not obj.flags.writeable:
                raise Invalid(name)
            a = obj
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    a = np.asarray(obj)
            except Exception:
                raise Invalid(name)
            if a.dtype.kind not in "biuf":
                raise Invalid(name)
            if role == "ids" and a.dtype.kind not in "iu":
                raise Invalid(name)
        if a.ndim != len(tokens(ds)):
            raise Invalid(name)
        for t, s in zip(tokens(ds), a.shape):  # "4H": s must be 4 * H
            mult, d = int(t[:-1] or 1), t[-1]
            if s % mult or dims.setdefault(d, s // mult) != s // mult:
                raise Invalid(name)
        arrays[name] = a
        if role.startswith("P"):
            params.append(a)
    outs = [n for n, _, r in spec["table"] if r.startswith("O") and n in arrays]
    for i, a in enumerate(outs):
        for b in outs[i + 1:]:
            if np.shares_memory(arrays[a], arrays[b]):
                raise Invalid(b)
    ign = kw.get("ignore_label", -1)
    for name, ds, role in spec["table"]:
        if role == "ids" and name in arrays:
            ids = arrays[name]
            V = dims.get("V")
            ok = (ids >= 0) & (ids < V)
            if fname.startswith("softmax") or fname.endswith("affine_softmax_cross_entropy"):
                ok |= ids == ign
            if not ok.all():
                raise Invalid(name)
    return dims, _compute_dtype(params), arrays


# --------------------------------------------------------------------------
# oracle
# --------------------------------------------------------------------------

def _act(a, act):
    return reference._activate(a, act)


def _bptt(dhs, xs, h0, hs, Wx, Wh, act):
    N, T, D = xs.shape
    H = Wx.shape[1]
    dxs = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dh = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = hs[:, t - 1] if t > 0 else h0
        dx, dh, gx, gh, gb = reference._step_backward(dhs[:, t] + dh, xs[:, t], h_prev,
                                                      hs[:, t], Wx, Wh, True, act)
        dxs[:, t] = dx
        dWx += gx
        dWh += gh
        db += gb
    return dxs, dh, dWx, dWh, db


def _softmax_ce_and_grad(xs, ts, ign, V):
    """(mean loss, d loss / d xs) of the softmax cross-entropy, float64."""
    m = xs.max(axis=2, keepdims=True) if V else 0
    e = np.exp(xs - m)
    s = e.sum(axis=2, keepdims=True)
    ys = e / s
    mask = ts != ign
    cnt = int(mask.sum())
    if cnt == 0:
        return float("nan"), np.zeros_like(xs)
    tt = np.where(mask, ts, 0)
    lp = np.log(s[..., 0]) - (np.take_along_axis(xs, tt[..., None], 2)[..., 0] - m[..., 0])
    g = ys.copy()
    np.put_along_axis(g, tt[..., None], np.take_along_axis(g, tt[..., None], 2) - 1, 2)
    g[~mask] = 0
    return float(lp[mask].mean()), g / cnt


def oracle(fname, kw, dims, dt, arrays):
    """Expected (returned values, {gradient name: values}) in float64."""
    def f(name):
        a = arrays.get(name)
        if a is None:
            return None
        return a.astype(dt).astype(np.float64)

    d = {k: dims.get(k, 0) for k in "NTDHV"}
    act = kw.get("activation", "tanh")
    if fname == "rnn_forward":
        x, Wx, Wh, b = f("x"), f("Wx"), f("Wh"), f("b")
        h = f("h_prev") if "h_prev" in arrays else np.zeros((d["N"], d["H"]))
        a = x @ Wx + h @ Wh + (0 if b is None else b)
        return [_act(a, act)], {}
    if fname == "matmul":
        return [f("a") @ f("b")], {}
    if fname == "time_rnn_forward":
        xs, Wx, Wh, b = f("xs"), f("Wx"), f("Wh"), f("b")
        h = f("h0") if "h0" in arrays else np.zeros((d["N"], d["H"]))
        hs = np.zeros((d["N"], d["T"], d["H"]))
        for t in range(d["T"]):
            h = _act(xs[:, t] @ Wx + h @ Wh + (0 if b is None else b), act)
            hs[:, t] = h
        return [hs], {}
    if fname in ("rnn_backward", "time_rnn_backward"):
        Wx, Wh = f("Wx"), f("Wh")
        h0 = f("h_prev" if fname == "rnn_backward" else "h0")
        if h0 is None:
            h0 = np.zeros((d["N"], d["H"]))
        if fname == "rnn_backward":
            xs, hs, dhs = f("x")[:, None], f("h_next")[:, None], f("dh_next")[:, None]
        else:
            xs, hs, dhs = f("xs"), f("hs"), f("dhs")
        # hs is an input here: the derivative is taken from it as given (cast to dt)
        dxs, dh0, dWx, dWh, db = _bptt(dhs, xs, h0, hs, Wx, Wh, act)
        if fname == "rnn_backward":
            dxs = dxs[:, 0]
        grads = {"dWx": dWx, "dWh": dWh, "db": db}
        return [dxs, dh0], grads
    if fname == "embedding_forward":
        W = f("W")
        return [W[arrays["xs"].astype(np.int64)]], {}
    if fname == "embedding_backward":
        W = f("W")
        dW = np.zeros(W.shape)
        ids = arrays["xs"].astype(np.int64).reshape(-1)
        np.add.at(dW, ids, f("dout").reshape(ids.size, d["D"]))
        return [None], {"dW": dW}
    if fname == "time_affine_forward":
        x, W, b = f("x"), f("W"), f("b")
        return [x @ W + (0 if b is None else b)], {}
    if fname == "time_affine_backward":
        x, W, dout = f("x"), f("W"), f("dout")
        N, T, D, V = d["N"], d["T"], d["D"], d["V"]
        return [dout @ W.T], {"dW": x.reshape(N * T, D).T @ dout.reshape(N * T, V),
                              "db": dout.reshape(N * T, V).sum(axis=0)}
    if fname == "tied_affine_backward":
        x, E, dout = f("x"), f("E"), f("dout")
        N, T, D, V = d["N"], d["T"], d["D"], d["V"]
        return [dout @ E], {"dE": dout.reshape(N * T, V).T @ x.reshape(N * T, D),
                            "db": dout.reshape(N * T, V).sum(axis=0)}
    if fname == "affine_softmax_cross_entropy":
        x, W, b = f("x"), f("W"), f("b")
        xs = x @ W + (0 if b is None else b)
        ts = arrays["ts"].astype(np.int64)
        ign = kw.get("ignore_label", -1)
        return list(_softmax_ce_and_grad(xs, ts, ign, d["V"])), {}
    if fname == "tied_affine_softmax_cross_entropy":
        x, E, b = f("x"), f("E"), f("b")
        xs = x @ E.T + (0 if b is None else b)
        ts = arrays["ts"].astype(np.int64)
        ign = kw.get("ignore_label", -1)
        return list(_softmax_ce_and_grad(xs, ts, ign, d["V"])), {}
    if fname == "softmax_cross_entropy_forward":
        xs = f("xs")
        ts = arrays["ts"].astype(np.int64)
        ign = kw.get("ignore_label", -1)
        m = xs.max(axis=2, keepdims=True) if d["V"] else 0
        e = np.exp(xs - m)
        s = e.sum(axis=2, keepdims=True)
        ys = e / s
        mask = ts != ign
        if mask.sum() == 0:
            loss = float("nan")
        else:
            tt = np.where(mask, ts, 0)
            lp = np.log(s[..., 0]) - (np.take_along_axis(xs, tt[..., None], 2)[..., 0]
                                      - m[..., 0])
            loss = float(lp[mask].mean())
        return [loss, ys], {}
    if fname == "softmax_cross_entropy_backward":
        ys = f("ys")
        ts = arrays["ts"].astype(np.int64)
        ign = kw.get("ignore_label", -1)
        dout = float(kw.get("dout", 1.0))
        mask = ts != ign
        cnt = int(mask.sum())
        dx = ys.copy()
        if cnt:
            tt = np.where(mask, ts, 0)
            np.put_along_axis(dx, tt[..., None],
                              np.take_along_axis(dx, tt[..., None], 2) - 1, 2)
            dx = dx * (dout / cnt)
        else:
            dx[...] = 0
        dx[~mask] = 0
        return [dx], {}
    if fname in ATTENTION:
        return _attention_oracle(fname, f), {}
    if "lstm" in fname or "gru" in fname:
        return _gated_oracle(fname, f, d)
    raise AssertionError(fname)


ATTENTION = ("attention_weight_forward", "weight_sum_forward", "time_attention_forward",
             "weight_sum_backward", "attention_weight_backward", "time_attention_backward")


def _attention_oracle(fname, f):
    """The attention formulas (attention.h), float64."""
    enc = f("hs_enc")  # (N,S,H)
    if fname in ("attention_weight_forward", "time_attention_forward"):
        dec = f("hs_dec")
        s = np.einsum("nth,nsh->nts", dec, enc)
        if s.shape[2]:
            e = np.exp(s - s.max(axis=2, keepdims=True))
            a = e / e.sum(axis=2, keepdims=True)
        else:
            a = s
        if fname == "attention_weight_forward":
            return [a]
        return [a @ enc, a]
    a = f("a")
    if fname == "weight_sum_forward":
        return [a @ enc]
    if fname == "weight_sum_backward":
        dc = f("dc")
        return [np.einsum("nts,nth->nsh", a, dc), dc @ enc.transpose(0, 2, 1)]
    dec = f("hs_dec")
    da = f("da") if fname == "attention_weight_backward" else f("dc") @ enc.transpose(0, 2, 1)
    ds = a * da
    ds = ds - a * ds.sum(axis=2, keepdims=True)
    dhs_enc = np.einsum("nts,nth->nsh", ds, dec)
    if fname == "time_attention_backward":
        dhs_enc = dhs_enc + np.einsum("nts,nth->nsh", a, f("dc"))
    return [dhs_enc, ds @ enc]


def _gated_oracle(fname, f, d):
    """LSTM / GRU: the NumPy formulas of tests/test_gated_core.py (the given cache and
    states are used as they are, as the kernels do)."""
    import test_gated_core as G
    N, H = d["N"], d["H"]
    step = not fname.startswith("time_")

    def seq(name):  # one step's (N, X) arrays as (N, 1, X)
        a = f(name)
        return None if a is None else (a[:, None] if step else a)

    xs = seq("x" if step else "xs")
    h0 = f("h_prev" if step else "h0")
    Wx, Wh = f("Wx"), f("Wh")
    if fname.endswith("lstm_forward"):
        outs = G.ref_time_lstm(xs, h0, f("c_prev" if step else "c0"), Wx, Wh, f("b"))
        return [o[:, 0] if step else o for o in outs], {}
    if fname.endswith("gru_forward"):
        outs = G.ref_time_gru(xs, h0, Wx, Wh, f("b"))
        return [o[:, 0] if step else o for o in outs], {}
    hs = np.zeros((N, 1, H)) if step else f("hs")  # a step's backward reads no hs
    if fname.endswith("lstm_backward"):
        dxs, dh0, dc0, dWx, dWh, db = G.ref_time_lstm_back(
            seq("dh_next" if step else "dhs"), f("dc_next" if step else "dcT"), xs, h0,
            f("c_prev" if step else "c0"), hs, seq("c_next" if step else "cs"), seq("cache"),
            Wx, Wh)
        return [dxs[:, 0] if step else dxs, dh0, dc0], {"dWx": dWx, "dWh": dWh, "db": db}
    dxs, dh0, dWx, dWh, db = G.ref_time_gru_back(seq("dh_next" if step else "dhs"), xs, h0, hs,
                                                 seq("cache"), Wx, Wh)
    return [dxs[:, 0] if step else dxs, dh0], {"dWx": dWx, "dWh": dWh, "db": db}


def _finite(arrays, kw):
    for a in arrays.values():
        if a.dtype.kind == "f":
            with np.errstate(all="ignore"):
                if not np.all(np.isfinite(a.astype(np.float64))):
                    return False
                if a.size and np.max(np.abs(a.astype(np.float64))) > 1e3:
                    return False
        elif a.dtype.kind in "iu" and a.size and np.max(np.abs(a.astype(np.float64))) > 1e3:
            return False
    if "dout" in kw and not isinstance(kw["dout"], np.ndarray):
        try:
            if not abs(float(kw["dout"])) < 1e3:
                return False
        except Exception:
            return False
    return True


def _tol(dt, terms):
    if dt == np.float32:
        return 3e-5 * max(1.0, terms)
    return 1e-11 * max(1.0, terms)


def assert_close(got, want, dt, what, terms=1.0):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, "%s: shape %s, expected %s" % (what, got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    tol = _tol(dt, terms) * scale
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=what)


# --------------------------------------------------------------------------
# snapshots: inputs never modified
# --------------------------------------------------------------------------

def snapshot(obj):
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "O":
            data = [id(v) for v in obj.reshape(-1)] if obj.size else []
        else:
            data = obj.tobytes()
        return ("nd", obj.dtype, obj.shape, obj.strides, bool(obj.flags.writeable), data)
    if isinstance(obj, list):
        return ("list", repr(obj))
    return ("obj", id(obj))


def assert_unchanged(kw, snaps, skip=()):
    for name, s in snaps.items():
        if name in skip:
            continue
        assert snapshot(kw[name]) == s, "%s was modified by the call" % name


def call_core(fname, kw):
    """Call with positional required args and keyword optional ones; check the contract."""
    spec = CORE[fname]
    fn = getattr(_core, fname)
    sig = spec["sig"]
    pos = [kw.get(n) for n in sig[:spec["required"]]]
    opt = {n: kw[n] for n in sig[spec["required"]:] if n in kw}
    snaps = {n: snapshot(v) for n, v in kw.items()}
    try:
        verdict = validate(fname, kw)
    except Invalid as e:
        verdict = e
    outs = [n for n, _, r in spec["table"] if r.startswith("O")]
    # gradient arrays that alias an input: the caller asked for it, don't count as modification
    # gradient arrays that alias (share memory with) another argument: the caller asked for the
    # write to go there; those arguments are exempt from "unchanged" and from the oracle
    aliased = {n for n in outs if isinstance(kw.get(n), np.ndarray) and any(
        m != n and isinstance(kw[m], np.ndarray) and np.may_share_memory(kw[n], kw[m])
        for m in kw)}
    written = set(outs) | {m for m in kw if isinstance(kw[m], np.ndarray) and any(
        np.may_share_memory(kw[m], kw[n]) for n in aliased)}
    before = {n: np.array(kw[n], dtype=np.float64, copy=True) for n in outs
              if isinstance(kw.get(n), np.ndarray) and kw[n].dtype.kind == "f"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = fn(*pos, **opt)
        except OK_ERRORS as e:
            assert str(e).strip(), "%s raised %s with an empty message" % (fname, type(e).__name__)
            assert_unchanged(kw, snaps)  # includes the gradient arrays: nothing written
            if not isinstance(verdict, Invalid) and not isinstance(e, MemoryError):
                pytest.fail("%s rejected valid arguments: %s: %s" % (fname, type(e).__name__, e))
            return None
    if isinstance(verdict, Invalid):
        pytest.fail("%s accepted invalid argument %s (%r)" % (
            fname, verdict, _short(kw.get(str(verdict)))))
    dims, dt, arrays = verdict
    assert_unchanged(kw, snaps, skip=written)
    rets = list(result) if isinstance(result, tuple) else [result]
    # returned arrays: new, C-contiguous, compute dtype, not sharing memory with arguments
    for r in rets:
        if isinstance(r, np.ndarray):
            assert r.dtype == dt, "%s returned dtype %s, expected %s" % (fname, r.dtype, dt)
            assert r.flags.c_contiguous and r.flags.writeable
            for n, v in kw.items():
                if isinstance(v, np.ndarray) and r.size and v.size:
                    assert not np.shares_memory(r, v), "%s result shares memory with %s" % (
                        fname, n)
    if _finite(arrays, kw) and not aliased:
        want, grads = oracle(fname, kw, dims, dt, arrays)
        terms = 1.0 + dims.get("N", 1) * dims.get("T", 1) * 8
        if fname == "embedding_backward":
            want = [None]
        for i, (g, w) in enumerate(zip(rets, want)):
            if w is None:
                assert g is None
                continue
            assert_close(g, w, dt, "%s result %d" % (fname, i), terms)
        acc = bool(kw.get("accumulate", False))
        for n, w in grads.items():
            if n not in arrays:
                continue
            exp = w + before[n] if acc else w
            out_dt = arrays[n].dtype
            if out_dt.itemsize == 2:
                np.testing.assert_allclose(arrays[n].astype(np.float64), exp, rtol=2e-3,
                                           atol=2e-3 * max(1, np.max(np.abs(exp), initial=0)),
                                           err_msg="%s %s" % (fname, n))
            else:
                assert_close(arrays[n], exp, np.float32 if out_dt.itemsize == 4 else dt,
                             "%s %s" % (fname, n), terms)
    return result


def _short(v):
    r = repr(v)
    return r if len(r) < 200 else r[:200] + "..."


# --------------------------------------------------------------------------
# argument generation: well-formed, then mutated
# --------------------------------------------------------------------------

def _valid_array(data, rng, shape, role, V, special_ok=True):
    if role == "ids":
        dtype = data.draw(st.sampled_from(("int64", "int32", "uint8", "int8", "uint64", ">i4",
                                           "int16")), label="ids dtype")
        a = rng.integers(0, max(V, 1), size=shape) if V else np.zeros(shape, int)
        a = a.astype(dtype)
    else:
        if role.startswith("O"):
            dtype = data.draw(st.sampled_from(("float64", "float32", "float16", "longdouble",
                                               ">f8")), label="grad dtype")
        else:
            dtype = data.draw(st.sampled_from(FLOAT_DTYPES + ("int8", "int64", "bool",
                                                              "uint16")), label="dtype")
        special = special_ok and data.draw(st.integers(0, 9), label="special") == 0
        a = _fill(rng, shape, dtype, special)
    lay = data.draw(st.sampled_from(LAYOUTS), label="layout")
    if role.startswith("O") and lay == "readonly":
        lay = "C"
    return _layout(rng, a, lay)


def draw_call(data, fname, mutate=True):
    spec = CORE[fname]
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    letters = sorted({t[-1] for _, ds, _ in spec["table"] for t in tokens(ds)})
    dims = {d: data.draw(st.sampled_from(SIZES), label=d) for d in letters}
    kw = {}
    for name, ds, role in spec["table"]:
        if role.endswith("?") and data.draw(st.booleans(), label=name + " absent"):
            if data.draw(st.booleans()):
                kw[name] = None
            continue
        shape = tuple(token_size(t, dims) for t in tokens(ds))
        kw[name] = _valid_array(data, rng, shape, role.rstrip("?"), dims.get("V", 0))
    if "activation" in spec["sig"] and data.draw(st.booleans()):
        kw["activation"] = data.draw(st.sampled_from(ACTS))
    if "packed" in spec["sig"] and data.draw(st.booleans()):
        kw["packed"] = data.draw(st.booleans())
    if "accumulate" in spec["sig"] and data.draw(st.booleans()):
        kw["accumulate"] = data.draw(st.booleans())
    if "ignore_label" in spec["sig"] and data.draw(st.booleans()):
        kw["ignore_label"] = data.draw(st.sampled_from((-1, 0, 1, 2, -7, 10**6)))
        ids = kw["ts"]
        if ids.size and data.draw(st.booleans()):  # some positions ignored
            ids2 = np.array(ids)
            if np.can_cast(np.min_scalar_type(kw["ignore_label"]), ids2.dtype):
                ids2.reshape(-1)[0] = kw["ignore_label"]
                kw["ts"] = ids2
    if "dout" in _scalars(fname) and data.draw(st.booleans()):
        kw["dout"] = data.draw(st.sampled_from((1.0, 0.5, -2.0, 0, 3, np.float32(0.25), True)))
    if not mutate:
        return kw
    n_mut = data.draw(st.integers(0, 3), label="mutations")
    names = [n for n, _, _ in spec["table"]] + _scalars(fname)
    for _ in range(n_mut):
        name = data.draw(st.sampled_from(names), label="mutated arg")
        how = data.draw(st.sampled_from(("junk", "array", "shape", "dtype", "alias", "ids",
                                         "scalar", "list")), label="how")
        _mutate(data, rng, kw, fname, name, how, dims)
    return kw


BAD_SCALARS = {
    "activation": ["TANH", "", "tanh\0", b"tanh", None, 3, "softmax", ["tanh"], np.str_("relu"),
                   "sigmoid", "relu"],
    "accumulate": [np.array([1, 2]), 0, 1, "yes", None, np.float64(1.0), _Boom(ValueError),
                   [], [0]],
    "packed": [np.array([1, 2]), 0, 1, "yes", None, _Boom(ValueError), []],
    "ignore_label": [2**63, -2**63, 2**64, 1.5, "1", None, np.int64(-1), np.uint64(3), True,
                     np.array(-1), np.array([1])],
    "dout": ["1", b"1", None, float("nan"), float("inf"), 1e308, np.array(2.0),
             np.array([1.0]), 1 + 1j, 2**2000, np.float16(2)],
}


class _BoolBoom:
    def __bool__(self):
        raise ValueError("no truth value")


BAD_SCALARS["accumulate"].append(_BoolBoom())


def _mutate(data, rng, kw, fname, name, how, dims):
    spec = CORE[fname]
    if name in _scalars(fname):
        kw[name] = data.draw(st.sampled_from(BAD_SCALARS[name]), label=name)
        return
    entry = {n: (ds, r) for n, ds, r in spec["table"]}[name]
    ds, role = entry
    cur = kw.get(name)
    if how == "junk":
        kw[name] = data.draw(junk_values(), label="junk")
    elif how == "array":
        kw[name] = data.draw(arrays_any(), label="any array")
    elif how == "shape":
        shape = tuple(data.draw(st.sampled_from(SIZES)) for _ in
                      range(data.draw(st.sampled_from((len(tokens(ds)), len(tokens(ds)),
                                                       len(tokens(ds)) - 1,
                                                       len(tokens(ds)) + 1)))))
        kw[name] = _valid_array(data, rng, shape, role.rstrip("?"), dims.get("V", 0))
    elif how == "dtype" and isinstance(cur, np.ndarray):
        dt = data.draw(st.sampled_from(ALL_DTYPES), label="new dtype")
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                kw[name] = cur.astype(dt)
            except Exception:
                kw[name] = _fill(rng, cur.shape, dt, False)
    elif how == "alias":
        others = [n for n in kw if n != name and isinstance(kw[n], np.ndarray)]
        if others:
            other = data.draw(st.sampled_from(sorted(others)), label="alias of")
            src = kw[other]
            if isinstance(cur, np.ndarray) and src.size >= cur.size > 0 and \
                    data.draw(st.booleans()):
                # an overlapping view of another argument with this argument's shape
                try:
                    kw[name] = src.reshape(-1)[:cur.size].reshape(cur.shape)
                except Exception:
                    kw[name] = src
            else:
                kw[name] = src
    elif how == "ids" and role == "ids" and isinstance(cur, np.ndarray) and cur.size and \
            cur.dtype.kind in "biuf":
        V = dims.get("V", 0)
        bad = data.draw(st.sampled_from((-1, -2, V, V + 1, 2**31, 2**62,
                                         -2**63, 2**64 - 1, 255)), label="bad id")
        dt = data.draw(st.sampled_from(("int64", "uint64", "int32", "uint8", "int8")))
        a = np.array(cur, dtype=np.int64).astype(dt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                a.reshape(-1)[rng.integers(a.size)] = np.array(bad).astype(dt)
            except (OverflowError, ValueError):
                pass
        kw[name] = a
    elif how == "scalar":
        kw[name] = data.draw(st.sampled_from((0, 1.5, np.float32(2), True, np.nan, None)))
    elif how == "list" and isinstance(cur, np.ndarray):
        kw[name] = cur.tolist() if cur.dtype.kind != "V" else cur
    # otherwise leave as is


# --------------------------------------------------------------------------
# the _core fuzz tests
# --------------------------------------------------------------------------

def _core_test(fname):
    def t(data):
        kw = draw_call(data, fname)
        call_core(fname, kw)
    t.__name__ = t.__qualname__ = "test_fuzz_" + fname
    return fuzz()(t)


for _f in KERNELS:
    globals()["test_fuzz_" + _f.name] = _core_test(_f.name)


@fuzz(per_test=25)
def test_fuzz_core_any_arguments(data):
    """Completely arbitrary positional and keyword arguments (any count) to every function,
    including the SIMD-path functions: a result or a clean exception, never a crash."""
    # every function of the contract, but _pool_selftest (its count of jobs is a run time)
    names = [f.name for f in CONTRACT if not f.name.startswith("_")]
    fname = data.draw(st.sampled_from(names))
    fn = getattr(_core, fname)
    args = data.draw(st.lists(junk_values(), max_size=13), label="args")
    kwargs = {}
    if data.draw(st.booleans()):
        keys = data.draw(st.lists(st.sampled_from(
            ["x", "xs", "W", "Wx", "Wh", "b", "dW", "activation", "accumulate", "ignore_label",
             "dout", "bogus", "h0", "ts"]), max_size=4, unique=True))
        kwargs = {k: data.draw(junk_values()) for k in keys}
    snaps = [snapshot(a) for a in args]
    before = _core.get_simd_path()
    threads_before = _core.get_num_threads()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(*args, **kwargs)
    except OK_ERRORS as e:
        assert str(e).strip(), "%s raised %s with an empty message" % (fname, type(e).__name__)
    finally:
        _core.set_simd_path(before)
        _core.set_num_threads(threads_before)
    if fname in CORE:  # every argument here is an input: never modified
        # gradient arrays (positions 6, 7 of the backward functions, ...) may be written
        # legitimately on success; only check objects that are never outputs
        pass
    for a, s in zip(args, snaps):
        if isinstance(a, np.ndarray) and (a.dtype.kind != "f" or not a.flags.writeable):
            assert snapshot(a) == s


# --------------------------------------------------------------------------
# the classes
# --------------------------------------------------------------------------

def _maybe_junk(data, valid):
    """The valid value most of the time, something else sometimes."""
    k = data.draw(st.integers(0, 7), label="junk?")
    if k == 0:
        return data.draw(junk_values(), label="junk arg"), False
    if k == 1 and isinstance(valid, np.ndarray):
        return data.draw(arrays_any(), label="any array"), False
    return valid, True


def _run_pair(ours, theirs, call):
    """call(ours) and call(theirs): both succeed (results compared by the caller) or ours
    raises a clean exception."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            r1 = call(ours)
        except OK_ERRORS as e:
            assert str(e).strip(), "empty %s message" % type(e).__name__
            r1 = e
        try:
            r2 = call(theirs)
        except Exception as e:  # noqa: BLE001 - the reference's own checks
            r2 = e
    return r1, r2


def _known_reference_bug(r):
    """rnnscratch.reference's TimeAffine cannot reshape N*T == 0 outputs (reported; see
    test_reference_time_affine_empty_batch below)."""
    return isinstance(r, ValueError) and "cannot reshape array of size 0" in str(r)


def _cmp(r1, r2, dt, what, valid):
    if _known_reference_bug(r2):
        return False
    if isinstance(r1, Exception) or isinstance(r2, Exception):
        if valid:
            assert isinstance(r1, Exception) == isinstance(r2, Exception) or \
                isinstance(r1, MemoryError), "%s: compiled %r, reference %r" % (what, r1, r2)
        return False
    if r1 is None or r2 is None:
        assert r1 is None and r2 is None, what
        return True
    if isinstance(r1, tuple):
        for i, (a, b) in enumerate(zip(r1, r2)):
            assert_close(a, b, dt, "%s[%d]" % (what, i), 50)
    else:
        assert_close(r1, r2, dt, what, 50)
    return True


def _compare_layers(entry, ours, theirs, dt, what):
    for g1, g2 in zip(entry.grads(ours), entry.grads(theirs)):
        assert_close(g1, g2, dt, what + " grads", entry.fuzz_terms)
    for attr in entry.compare_attrs:
        a1, a2 = getattr(ours, attr), getattr(theirs, attr)
        if a1 is None or a2 is None:
            assert a1 is None and a2 is None, "%s.%s" % (what, attr)
        else:
            assert_close(a1, a2, dt, "%s.%s" % (what, attr), entry.fuzz_terms)


def _class_fuzz(entry):
    """Every layer class of the registry, compiled vs its twin (the NumPy reference, or the
    registry's oracle), sizes 0/1/odd, parameters of every numeric dtype and layout, each
    option of the entry, 1-3 rounds of forward+backward with valid or arbitrary arguments:
    both succeed and agree, or ours raises a clean exception (and must not where the
    arguments are valid and the twin succeeds); no argument is ever modified."""

    def t(data):
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        rng = np.random.default_rng(seed)
        sz_kw = {c: data.draw(st.sampled_from(entry.fuzz_sizes.get(c, SIZES)), label=c)
                 for c in "NTDHV"}
        sz = Sizes(**sz_kw)
        dtype = data.draw(st.sampled_from(entry.fuzz_dtypes), label="dtype")
        opts = {k: data.draw(st.sampled_from(v), label=k) for k, v in entry.options.items()}
        lay = data.draw(st.sampled_from(LAYOUTS), label="weight layout")
        ours, theirs = entry.pair(dtype, seed, sz, opts=opts,
                                  layout=lambda a: _layout(rng, a, lay))
        params = entry.param_arrays(ours)
        valid_sizes = entry.inputs_valid(sz, opts)
        for _ in range(data.draw(st.integers(1, 3), label="rounds")):
            inputs, ok = [], valid_sizes
            for v in entry.inputs(rng, sz, dtype=dtype if not params else np.float64, **opts):
                if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                    v = _layout(rng, v, data.draw(st.sampled_from(LAYOUTS), label="layout"))
                if v is None:  # an optional initial state: leave it most of the time
                    w, k = (v, True) if data.draw(st.integers(0, 3)) else _maybe_junk(
                        data, np.zeros((sz.N, sz.H)))
                else:
                    w, k = _maybe_junk(data, v)
                inputs.append(w)
                ok = ok and k
            if params:
                dt = _compute_dtype(params)
            else:  # no parameters: the inputs decide
                xs0 = inputs[0] if isinstance(inputs[0], np.ndarray) else None
                dt = _compute_dtype([xs0]) if xs0 is not None and xs0.dtype.kind in "biuf" \
                    else np.dtype(np.float64)
            snaps = [snapshot(v) for v in inputs + params]
            if entry.state_shape and data.draw(st.integers(0, 5), label="set_state?") == 0:
                hstate, _ = _maybe_junk(data, randn(rng, *shape_of(entry.state_shape, sz)))
                ours.set_state(hstate)
                theirs.set_state(hstate)
            r1, r2 = _run_pair(ours, theirs, lambda L: entry.forward(L, inputs))
            if entry.resync_after_error and (isinstance(r1, Exception) or
                                             isinstance(r2, Exception)):
                if ok and not _known_reference_bug(r2):
                    assert isinstance(r1, Exception) == isinstance(r2, Exception), (r1, r2)
                ours.reset_state()  # keep both models in step for the next round
                theirs.reset_state()
                assert [snapshot(v) for v in inputs + params] == snaps
                continue
            comparable = entry.comparable(inputs, sz, ok)
            fwd = _cmp(r1, r2, dt, entry.id + ".forward", ok) if comparable else \
                not isinstance(r1, Exception) and not isinstance(r2, Exception)
            douts, ok2 = [], True
            for v in entry.douts(rng, sz, **opts):
                w, k = _maybe_junk(data, v)
                douts.append(w)
                ok2 = ok2 and k
            r1, r2 = _run_pair(ours, theirs, lambda L: entry.backward(L, douts))
            if fwd and _cmp(r1, r2, dt, entry.id + ".backward", ok and ok2) and comparable:
                _compare_layers(entry, ours, theirs, dt, entry.id)
            assert [snapshot(v) for v in inputs + params] == snaps, \
                "%s modified an input" % entry.id

    t.__name__ = t.__qualname__ = "test_fuzz_class_" + entry.id.replace(".", "_")
    return fuzz(per_test=30)(t)


for _e in REGISTRY:
    globals()["test_fuzz_class_" + _e.id.replace(".", "_")] = _class_fuzz(_e)


# --------------------------------------------------------------------------
# bugs the fuzzing found, fixed: they stay as regression tests
# --------------------------------------------------------------------------

def test_matmul_byteswapped():
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(_core.matmul(a, b.astype(">f8")), a @ b)


def test_reference_time_affine_empty_batch():
    W = np.ones((3, 4))
    out = reference.TimeAffine(W).forward(np.zeros((0, 2, 3)))
    assert out.shape == (0, 2, 4)
