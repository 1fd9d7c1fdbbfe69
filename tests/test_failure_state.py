"""A call that raises changes nothing (issue 7).

For every layer class and every kind of bad argument: after a good
forward+backward (so that caches, states and gradients are populated), a
failing call must leave every parameter, every gradient array (values and
identity), the layer state (h, dh, cache, idx, x, ...) exactly as they were,
and the next good call must give bit-identical results to a twin layer that
never saw the failing call.
"""
import warnings

import numpy as np
import pytest

import rnnscratch
from rnnscratch import diveintocode

N, T, D, H, V = 3, 4, 5, 6, 7


class _Boom:
    def __array__(self, dtype=None, copy=None):
        raise ValueError("conversion refused")


def _ro(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def _ragged():
    return [[1.0, 2.0], [3.0]]


# bad values for an argument that should be a float array of `shape`
def bad_arrays(shape):
    wrong = tuple(s + 1 for s in shape)
    return {
        "None": None,
        "wrong shape": np.zeros(wrong),
        "wrong ndim": np.zeros(shape + (1,)),
        "0-d": np.float64(1.0),
        "complex": np.zeros(shape, complex),
        "object": np.zeros(shape, object),
        "str": np.full(shape, "a"),
        "datetime": np.zeros(shape, "datetime64[s]"),
        "ragged list": _ragged(),
        "__array__ raises": _Boom(),
        "empty wrong": np.zeros((0,) * len(shape) if len(shape) > 1 else (0, 0)),
    }


def bad_ids(shape):
    out = {k: v for k, v in bad_arrays(shape).items() if k != "0-d"}
    too_big = np.zeros(shape, int)
    too_big[-1, -1] = V
    neg = np.zeros(shape, int)
    neg[0, 0] = -2
    out.update({"float ids": np.zeros(shape), "id == V": too_big, "id < 0": neg,
                "uint64 max": np.full(shape, np.iinfo(np.uint64).max, np.uint64)})
    return out


def state(obj, seen=None):
    """Everything a layer holds, recursively: arrays by identity and bytes."""
    if seen is None:
        seen = {}
    if isinstance(obj, np.ndarray):
        return ("nd", id(obj), obj.dtype.str, obj.shape, obj.strides,
                obj.tobytes() if obj.dtype.kind != "O" else None)
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, id(obj) if isinstance(obj, list) else None,
                [state(v, seen) for v in obj])
    if isinstance(obj, dict):
        return ("dict", sorted((k, state(v, seen)) for k, v in obj.items()))
    if hasattr(obj, "__dict__") and type(obj).__module__.startswith("rnnscratch"):
        if id(obj) in seen:
            return ("seen", id(obj))
        seen[id(obj)] = True
        return ("obj", type(obj).__name__, sorted((k, state(v, seen))
                                                    for k, v in vars(obj).items()))
    return ("val", repr(obj))


def _w(rng, *shape, dtype=np.float64):
    return (rng.standard_normal(shape) * 0.4).astype(dtype)


# --------------------------------------------------------------------------
# one factory per class: (make layer, good calls, bad calls)
# --------------------------------------------------------------------------

def rnn_case(rng, dtype):
    Wx, Wh, b = _w(rng, D, H, dtype=dtype), _w(rng, H, H, dtype=dtype), _w(rng, H, dtype=dtype)
    x, h, dh = _w(rng, N, D), _w(rng, N, H), _w(rng, N, H)

    def make():
        return rnnscratch.RNN(Wx.copy(), Wh.copy(), b.copy(), activation="tanh")

    def good(L):
        out = L.forward(x, h)
        return [out, *L.backward(dh)]

    bad = {}
    for k, v in bad_arrays((N, D)).items():
        bad["forward x " + k] = lambda L, v=v: L.forward(v, h)
    for k, v in bad_arrays((N, H)).items():
        if k != "None":  # h_prev=None means zeros: valid
            bad["forward h_prev " + k] = lambda L, v=v: L.forward(x, v)
    for k, v in bad_arrays((N, H)).items():
        bad["backward dh " + k] = lambda L, v=v: L.backward(v)
    bad["backward read-only db"] = ("grads", 2)
    bad["backward int dWh"] = ("int-grad", 1)
    return make, good, bad


def time_rnn_case(rng, dtype, stateful):
    Wx, Wh, b = _w(rng, D, H, dtype=dtype), _w(rng, H, H, dtype=dtype), _w(rng, H, dtype=dtype)
    xs, dhs = _w(rng, N, T, D), _w(rng, N, T, H)

    def make():
        return rnnscratch.TimeRNN(Wx.copy(), Wh.copy(), b.copy(), stateful=stateful,
                                  activation="sigmoid")

    def good(L):
        hs = L.forward(xs)
        dxs = L.backward(dhs)
        return [hs, dxs, L.dh, L.h]

    bad = {}
    for k, v in bad_arrays((N, T, D)).items():
        bad["forward xs " + k] = lambda L, v=v: L.forward(v)
    if stateful:  # a stateful layer with h for another batch size
        bad["forward xs other batch"] = lambda L: L.forward(np.zeros((N + 1, T, D)))
    for k, v in bad_arrays((N, T, H)).items():
        bad["backward dhs " + k] = lambda L, v=v: L.backward(v)
    bad["backward read-only dWx"] = ("grads", 0)
    bad["backward int db"] = ("int-grad", 2)
    return make, good, bad


def embedding_case(rng, dtype):
    W = _w(rng, V, D, dtype=dtype)
    ids = rng.integers(0, V, size=(N, T))
    dout = _w(rng, N, T, D)

    def make():
        return rnnscratch.TimeEmbedding(W.copy())

    def good(L):
        out = L.forward(ids)
        L.backward(dout)
        return [out, L.grads[0].copy()]

    bad = {}
    for k, v in bad_ids((N, T)).items():
        bad["forward xs " + k] = lambda L, v=v: L.forward(v)
    for k, v in bad_arrays((N, T, D)).items():
        bad["backward dout " + k] = lambda L, v=v: L.backward(v)
    bad["backward read-only dW"] = ("grads", 0)
    return make, good, bad


def affine_case(rng, dtype):
    W, b = _w(rng, D, V, dtype=dtype), _w(rng, V, dtype=dtype)
    x, dout = _w(rng, N, T, D), _w(rng, N, T, V)

    def make():
        return rnnscratch.TimeAffine(np.asfortranarray(W), b.copy())

    def good(L):
        return [L.forward(x), L.backward(dout)]

    bad = {}
    for k, v in bad_arrays((N, T, D)).items():
        bad["forward x " + k] = lambda L, v=v: L.forward(v)
    for k, v in bad_arrays((N, T, V)).items():
        bad["backward dout " + k] = lambda L, v=v: L.backward(v)
    bad["backward read-only db"] = ("grads", 1)
    bad["backward int dW"] = ("int-grad", 0)
    return make, good, bad


def softmax_case(rng, dtype):
    xs = _w(rng, N, T, V, dtype=dtype) * 5
    ts = rng.integers(0, V, size=(N, T))

    def make():
        return rnnscratch.TimeSoftmaxWithLoss()

    def good(L):
        return [L.forward(xs, ts), L.backward()]

    bad = {}
    for k, v in bad_arrays((N, T, V)).items():
        bad["forward xs " + k] = lambda L, v=v: L.forward(v, ts)
    for k, v in bad_ids((N, T)).items():
        bad["forward ts " + k] = lambda L, v=v: L.forward(xs, v)
    bad["forward one-hot wrong shape"] = lambda L: L.forward(xs, np.zeros((N, T, V + 1)))
    bad["backward dout str"] = lambda L: L.backward("x")
    bad["backward dout list"] = lambda L: L.backward([1, 2])
    return make, good, bad


def rnnlm_case(rng, dtype):
    ids = rng.integers(0, V, size=(N, T))
    ts = rng.integers(0, V, size=(N, T))

    def make():
        np.random.seed(5)
        return rnnscratch.SimpleRnnlm(V, D, H)

    def good(L):
        loss = L.forward(ids, ts)
        L.backward()
        return [np.float64(loss)] + [g.copy() for g in L.grads] + [L.rnn_layer.h]

    bad = {}
    for k, v in bad_ids((N, T)).items():
        bad["forward xs " + k] = lambda L, v=v: L.forward(v, ts)
        bad["forward ts " + k] = lambda L, v=v: L.forward(ids, v)
    bad["forward ts other shape"] = lambda L: L.forward(ids, ts[:, :2])
    bad["backward dout str"] = lambda L: L.backward("x")
    bad["backward read-only rnn db"] = ("grads", 3)
    return make, good, bad


def simple_rnn_case(rng, dtype):
    X, dh = _w(rng, N, T, D), _w(rng, N, H)

    def make():
        L = diveintocode.SimpleRNN(D, H, diveintocode.XavierInitializer(random_state=1),
                                   diveintocode.SGD(0.1))
        L.W_x, L.W_h, L.B = (a.astype(dtype) for a in (L.W_x, L.W_h, L.B))
        return L

    def good(L):
        h = L.forward(X)
        dX = L.backward(dh)
        return [h, dX, L.W_x, L.W_h, L.B, L.dW_x]

    bad = {}
    for k, v in bad_arrays((N, T, D)).items():
        bad["forward X " + k] = lambda L, v=v: L.forward(v)
    for k, v in bad_arrays((N, H)).items():
        bad["backward dh " + k] = lambda L, v=v: L.backward(v)
    bad["forward h0 wrong shape"] = lambda L: L.forward(X, np.zeros((N, H + 1)))
    return make, good, bad


CASES = {
    "RNN": rnn_case,
    "TimeRNN": lambda rng, dt: time_rnn_case(rng, dt, False),
    "TimeRNN-stateful": lambda rng, dt: time_rnn_case(rng, dt, True),
    "TimeEmbedding": embedding_case,
    "TimeAffine": affine_case,
    "TimeSoftmaxWithLoss": softmax_case,
    "SimpleRnnlm": rnnlm_case,
    "diveintocode.SimpleRNN": simple_rnn_case,
}

# failures that do change state today (reported); strict: remove when fixed


def _all_params():
    out = []
    for cls, factory in CASES.items():
        _, _, bad = factory(np.random.default_rng(0), np.float64)
        for label in bad:
            out.append(pytest.param(cls, label, id="%s-%s" % (cls, label)))
    return out


def _apply_bad(L, bad, undo):
    """Make the failing call. For ("grads", i) / ("int-grad", i) one gradient array is made
    unusable (read-only / an int array in its place) and backward is called; `undo` gets the
    callable that puts things back (so the state can be compared)."""
    if callable(bad):
        bad(L)
        return
    kind, i = bad
    grads = L.grads
    if kind == "grads":
        grads[i].flags.writeable = False
        undo.append(lambda: setattr(grads[i].flags, "writeable", True))
    else:
        saved = grads[i]
        grads[i] = saved.astype(np.int64)
        undo.append(lambda: grads.__setitem__(i, saved))
    if isinstance(L, rnnscratch.SimpleRnnlm):
        L.backward()
    else:
        L.backward(_last_dout(L))


def _last_dout(L):
    """A valid upstream gradient for the layer's last forward."""
    if isinstance(L, rnnscratch.RNN):
        return np.ones(L.cache[2].shape)
    if isinstance(L, rnnscratch.TimeRNN):
        return np.ones(L.cache[2].shape)
    if isinstance(L, rnnscratch.TimeEmbedding):
        return np.ones(np.shape(L.idx) + (L.params[0].shape[1],))
    if isinstance(L, rnnscratch.TimeAffine):
        return np.ones(np.shape(L.x)[:2] + (L.params[0].shape[1],))
    raise AssertionError(L)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,label", _all_params())
def test_failed_call_changes_nothing(cls, label, dtype):
    make, good, bad = CASES[cls](np.random.default_rng(11), dtype)
    L, twin = make(), make()
    r0, t0 = good(L), good(twin)  # populate caches, states and gradients
    for a, b in zip(r0, t0):
        np.testing.assert_array_equal(a, b)
    before = state(L)
    grads_ids = [id(g) for g in getattr(L, "grads", [])]
    undo = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((ValueError, TypeError, IndexError, RuntimeError)) as ei:
            _apply_bad(L, bad[label], undo)
    for u in undo:
        u()
    assert str(ei.value).strip(), "empty error message"
    assert state(L) == before, "state changed by a failing call: %s" % label
    assert [id(g) for g in getattr(L, "grads", [])] == grads_ids
    # the next good call: exactly what the twin computes
    r1, t1 = good(L), good(twin)
    for a, b in zip(r1, t1):
        np.testing.assert_array_equal(a, b)


def test_simple_rnnlm_failed_forward_keeps_state_direct():
    """Bad labels after good ids: the failed call leaves the stateful h as it was."""
    np.random.seed(0)
    m = rnnscratch.SimpleRnnlm(5, 3, 4)
    ids = np.zeros((2, 3), int)
    m.forward(ids, ids)
    h = m.rnn_layer.h.copy()
    with pytest.raises(ValueError):
        m.forward(ids, ids + 5)  # label 5 out of range
    assert np.array_equal(m.rnn_layer.h, h)
