"""The rules every class of rnnscratch follows, written once.

The compiled layers (rnnscratch.layers), the models, the scratch-course
front-end (rnnscratch.diveintocode) and the NumPy reference
(rnnscratch.reference) all import these; none keeps a copy of its own.

compute_dtype   the dtype a layer computes in, from its parameters:
                float32 when np.result_type of the parameters is float16 or
                float32, float64 otherwise (float64, integers, bool). The C
                kernels apply the same rule (see _core.pyi).
check_activation  'tanh', 'relu' or 'sigmoid', else ValueError.
check_numeric   an array of numbers (bool, int, uint, float), else TypeError
                naming the argument.
grads_like      zero gradient arrays shaped like the parameters, in their
                compute dtype.
label_ids       targets as word ids (N, T): one-hot targets (N, T, V) are read
                as their argmax.
backward_cache  what a layer's forward kept, for its backward; RuntimeError
                '<Layer>.backward() called before forward()' when it has not run.
HiddenState     set_state(h) / reset_state() of the layers with one carried
                state `h` (TimeRNN, TimeGRU, compiled and reference).
"""
import numpy as np

ACTIVATIONS = ("tanh", "relu", "sigmoid")

NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, float

_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)


def compute_dtype(*arrays):
    """The compute dtype of parameters: compute_dtype(Wx, Wh, b) or
    compute_dtype([Wx, Wh, b]) (arrays or dtypes; None entries, an absent
    bias, are left out). float32 when np.result_type of them is float16 or
    float32, else float64."""
    if len(arrays) == 1 and isinstance(arrays[0], (list, tuple)):
        arrays = tuple(arrays[0])
    rt = np.result_type(*(a for a in arrays if a is not None))
    return _FLOAT32 if rt in (np.float16, np.float32) else _FLOAT64


def check_activation(activation):
    """Return activation when it is one of ACTIVATIONS, else raise ValueError."""
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"activation: expected 'tanh', 'relu' or 'sigmoid', got {activation!r}")
    return activation


def check_numeric(name, value):
    """value as an ndarray of numbers (no copy when it already is one), else
    TypeError naming the argument."""
    if value is None:
        raise TypeError(f"{name}: expected an array of numbers, got None")
    try:
        a = np.asarray(value)
    except Exception as exc:  # ragged lists and other junk
        raise TypeError(f"{name}: expected an array of numbers, got {type(value).__name__} "
                        f"({exc})") from None
    if a.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"{name}: expected an array of numbers, got dtype {a.dtype}")
    return a


def grads_like(params, names=None):
    """Zero arrays shaped like params, in their compute dtype. Each parameter
    must be an array of numbers (TypeError naming it: names[i], or params[i])."""
    if names is None:
        names = [f"params[{i}]" for i in range(len(params))]
    arrays = [check_numeric(name, p) for name, p in zip(names, params)]
    dt = compute_dtype(arrays)
    return [np.zeros(a.shape, dtype=dt) for a in arrays]


def label_ids(ts, score_shape, score_name):
    """ts as word ids (N, T): one-hot targets (N, T, V) are turned into their
    argmax; they must have the shape of the scores (score_shape, from
    score_name)."""
    ts = check_numeric("ts", ts)
    if ts.ndim == 3:  # one-hot targets
        if ts.shape != tuple(score_shape):
            raise ValueError(
                f"ts: expected one-hot targets of shape (N, T, V) = {tuple(score_shape)} "
                f"(from {score_name}) or word ids of shape (N, T), got {ts.shape}")
        ts = ts.argmax(axis=2)
    return ts


def check_id_range(name, a, V, ignore=None, what="id"):
    """The one range check of integer ids: ValueError naming the first entry
    of ``a`` outside [0, V) (entries equal to ``ignore`` allowed), its
    position and the range."""
    bad = (a < 0) | (a >= V)
    if ignore is not None:
        bad &= a != ignore
    if bad.any():
        pos = [int(i) for i in np.argwhere(bad)[0]]
        raise ValueError(f"{name}: {what} {int(a[tuple(pos)])} at {pos} is out of range: "
                         f"expected ids in [0, {V})"
                         + ("" if ignore is None else f" or ignore_label={ignore}"))


def backward_cache(cache, layer):
    """What the forward of `layer` (a class name, for the message) kept for
    the backward: cache, or RuntimeError when forward has not run (None)."""
    if cache is None:
        raise RuntimeError(f"{layer}.backward() called before forward()")
    return cache


class HiddenState:
    """The carried state of a sequence layer with one state `h` (TimeRNN,
    TimeGRU): set_state(h) holds h for the next forward (stateful=True),
    reset_state() forgets it."""

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None
