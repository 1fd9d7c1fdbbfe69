"""The layers that are NumPy code on both sides: rnnscratch.layers and
rnnscratch.reference export these same classes (a kernel would save nothing:
one vectorised pass each; the dropout masks must come from NumPy's global
generator to reproduce the book's runs). Their oracle in the tests is the
book's own classes (tests/registry.py: impls "book:...").

    Softmax           y = exp(x - max x) / sum        dx = y*dout - y * sum(y*dout)
    Sigmoid           y = 1 / (1 + exp(-x))           dx = dout * (1 - y) * y
    SigmoidWithLoss   loss = -sum_n log(p_n + 1e-7) / N, p_n = y_n if t_n == 1 else 1 - y_n
                      dx = (y - t) * dout / N
    Dropout           mask = np.random.rand(*x.shape) > ratio (NumPy's global
                      generator, as the book draws it); out = x * mask, or
                      x * (1 - ratio) when train_flg is False
    TimeDropout       draws ``np.random.rand(*xs.shape) > dropout_ratio`` from NumPy's
global generator (the book's call, so ``np.random.seed`` reproduces the book)
and scales the kept entries by 1 / (1 - dropout_ratio).
TimeSigmoidWithLoss: xs (N, T) logits, ts (N, T) labels 0/1, y = sigma(xs)::

    loss = -1/(N T) sum_{n,t} log(p[n,t] + 1e-7),  p = y where ts == 1, 1 - y where ts == 0
    dxs  = (y - ts) * dout / (N T)

(the book's epsilon is in the loss, not in its gradient, as in the book).

Bad arguments raise ValueError/TypeError naming them, before any attribute
changes. Dtype: the input's compute dtype (rnnscratch._policy.compute_dtype).
"""
import numbers

import numpy as np

from .._policy import check_numeric, compute_dtype
from ._checks import check_ndim, check_shape

__all__ = ["Softmax", "Sigmoid", "SigmoidWithLoss", "Dropout", "TimeDropout",
           "TimeSigmoidWithLoss"]

EPS = 1e-7  # the book's cross_entropy_error: log(y + 1e-7)
SIGMOID_LOSS_EPS = EPS  # the same epsilon inside the log of the binary cross-entropy
_NUMERIC_KINDS = "biuf"
_numeric = check_numeric
_ndim = check_ndim
_shape = check_shape


def _float_input(name, x, dt=None, ndims=(2,), legend="(N, D)"):
    """x as an array of numbers with one of `ndims` dimensions, in dt (default:
    its own compute dtype)."""
    a = check_numeric(name, x)
    if a.ndim not in ndims:
        raise ValueError(f"{name}: expected an array of shape {legend}, got shape {a.shape}")
    return a.astype(compute_dtype(a) if dt is None else dt, copy=False)


def _backward_ready(obj, attr):
    if getattr(obj, attr) is None:
        raise RuntimeError(f"{type(obj).__name__}.backward() called before forward()")


def _out_and_dout(layer, dout):
    """The backward of an elementwise layer: its forward's output y and dout
    checked against it (the dtype and shape of y)."""
    _backward_ready(layer, "out")
    y = layer.out
    dout = _float_input("dout", dout, y.dtype, ndims=(y.ndim,), legend=str(y.shape))
    check_shape("dout", dout, y.shape, "the shape of forward's output")
    return y, dout


def _dout_scalar(dout):
    """The scalar dout of a loss layer's backward."""
    a = check_numeric("dout", dout)
    if a.ndim != 0:
        raise ValueError(f"dout: expected a scalar, got an array of shape {a.shape}")
    return float(a)


def softmax_rows(x):
    """Softmax over the last axis, max-subtracted (the book's formula)."""
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(x):
    with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x: y = 0, exact
        return 1 / (1 + np.exp(-x))


def binary_labels(name, t, shape):
    """0/1 labels shaped like the scores (N,) (or (N, 1)), as int64."""
    t = check_numeric(name, t)
    if t.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected integer labels 0 or 1, got dtype {t.dtype}")
    if t.size != int(np.prod(shape)) or t.reshape(shape).shape != tuple(shape) \
            or t.ndim not in (1, 2) or (t.ndim == 2 and t.shape[1] != 1):
        raise ValueError(f"{name}: expected 0/1 labels of shape {tuple(shape)} like x, "
                         f"got {t.shape}")
    if not np.all((t == 0) | (t == 1)):
        raise ValueError(f"{name}: expected labels 0 or 1")
    return t.reshape(shape).astype(np.int64)


def _sigmoid(a):
    """1/(1+e^-a) without overflow: e^a/(1+e^a) for a < 0."""
    e = np.exp(-np.abs(a))
    s = 1 / (1 + e)
    return np.where(a >= 0, s, e * s)



class Softmax:
    """forward(x (N,V) or (V,)) -> probabilities over the last axis; backward(dout) -> dx."""

    def __init__(self):
        self.params, self.grads = [], []
        self.out = None

    def forward(self, x):
        x = _float_input("x", x, ndims=(1, 2), legend="(N, V) or (V,)")
        if x.shape[-1] == 0:
            raise ValueError(f"x: expected at least one class (V >= 1), got shape {x.shape}")
        self.out = softmax_rows(x)
        return self.out

    def backward(self, dout):
        y, dout = _out_and_dout(self, dout)
        dx = y * dout
        dx -= y * dx.sum(axis=-1, keepdims=True)
        return dx


class Sigmoid:
    """forward(x) -> 1 / (1 + exp(-x)), any shape; backward(dout) -> dout * (1 - y) * y."""

    def __init__(self):
        self.params, self.grads = [], []
        self.out = None

    def forward(self, x):
        x = _float_input("x", x, ndims=tuple(range(33)), legend="any shape")
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        y, dout = _out_and_dout(self, dout)
        return dout * (1.0 - y) * y


class SigmoidWithLoss:
    """forward(x (N,) scores, t (N,) 0/1 labels) -> mean binary cross-entropy
    (with the book's 1e-7 inside the log); backward(dout=1) -> (y - t) * dout / N."""

    def __init__(self):
        self.params, self.grads = [], []
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        x = _float_input("x", x, ndims=(1, 2), legend="(N,) or (N, 1)")
        if x.ndim == 2 and x.shape[1] != 1:
            raise ValueError(f"x: expected scores of shape (N,) or (N, 1), got {x.shape}")
        t = binary_labels("t", t, x.shape)
        y = sigmoid(x)
        N = x.shape[0]
        yf, tf = y.reshape(N), t.reshape(N)
        p = np.where(tf == 1, yf, 1 - yf)
        self.loss = -np.sum(np.log(p + EPS)) / N if N else np.float64(np.nan)
        self.y, self.t = y, t
        return self.loss

    def backward(self, dout=1):
        _backward_ready(self, "y")
        dout = _dout_scalar(dout)
        N = self.y.shape[0]
        return (self.y - self.t) * dout / N


class Dropout:
    """forward(x, train_flg=True): x * mask with mask = np.random.rand(*x.shape) >
    dropout_ratio (NumPy's global generator); x * (1 - dropout_ratio) when not
    training. backward(dout) -> dout * mask."""

    def __init__(self, dropout_ratio=0.5):
        r = check_numeric("dropout_ratio", dropout_ratio)
        if r.ndim != 0 or not (0.0 <= float(r) < 1.0):
            raise ValueError(f"dropout_ratio: expected a number in [0, 1), got {dropout_ratio!r}")
        self.params, self.grads = [], []
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        x = _float_input("x", x, ndims=tuple(range(33)), legend="any shape")
        if train_flg:
            # np.asarray: for a 0-d x, rand() gives a float and the comparison a bool
            self.mask = np.asarray(np.random.rand(*x.shape) > self.dropout_ratio)
            return x * self.mask
        return x * x.dtype.type(1.0 - self.dropout_ratio)

    def backward(self, dout):
        _backward_ready(self, "mask")
        dout = _float_input("dout", dout, ndims=(self.mask.ndim,), legend=str(self.mask.shape))
        check_shape("dout", dout, self.mask.shape, "the shape of forward's input")
        return dout * self.mask


# --------------------------------------------------------------------------
# TimeDropout
# --------------------------------------------------------------------------

def _input_dtype(arr):
    return compute_dtype([arr])


class TimeDropout:
    """Inverted dropout over any array (the book's TimeDropout).

    With ``train_flg`` True, forward(xs) draws ``np.random.rand(*xs.shape) >
    dropout_ratio`` from NumPy's global generator (exactly the book's call),
    keeps ``mask = kept / (1 - dropout_ratio)`` and returns ``xs * mask``;
    backward(dout) returns ``dout * mask``. With ``train_flg`` False forward
    returns xs unchanged and backward returns dout unchanged (identity).
    """

    def __init__(self, dropout_ratio=0.5):
        self.params, self.grads = [], []
        self.dropout_ratio = self._ratio(dropout_ratio)
        self.mask = None
        self.train_flg = True
        self._shape = None  # shape seen by the last forward; None before any

    @staticmethod
    def _ratio(value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError("dropout_ratio must be a real number in [0, 1), got %r (type %s)"
                            % (value, type(value).__name__))
        if not 0 <= value < 1:
            raise ValueError("dropout_ratio must be in [0, 1), got %r" % (value,))
        return value

    def forward(self, xs):
        ratio = self._ratio(self.dropout_ratio)
        xs = _numeric("xs", xs)
        dt = _input_dtype(xs)
        if not self.train_flg:
            self._shape, self.mask = (xs.shape, False), None
            return xs
        # (np.asarray: for a 0-d xs, rand() is a Python float and the comparison a bool)
        kept = np.asarray(np.random.rand(*xs.shape) > ratio)
        mask = kept.astype(dt) * dt.type(1 / (1.0 - ratio))
        self._shape, self.mask = (xs.shape, True), mask
        return xs.astype(dt, copy=False) * mask

    def backward(self, dout):
        if self._shape is None:
            raise RuntimeError("TimeDropout.backward called before forward")
        shape, trained = self._shape
        dout = _numeric("dout", dout)
        _shape("dout", dout, shape, "like the forward input xs")
        if not trained:
            return dout
        return dout.astype(self.mask.dtype, copy=False) * self.mask


# --------------------------------------------------------------------------
# TimeSigmoidWithLoss
# --------------------------------------------------------------------------

class TimeSigmoidWithLoss:
    """Binary cross-entropy of sigmoid(xs) against 0/1 labels, averaged over N and T.

    forward(xs (N,T), ts (N,T) of 0/1) -> loss (a float); backward(dout=1) ->
    dxs (N,T) = (sigmoid(xs) - ts) * dout / (N T). See the module docstring.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.xs_shape = None
        self._cache = None

    def forward(self, xs, ts):
        xs = _numeric("xs", xs)
        _ndim("xs", xs, 2, "(N, T)")
        dt = _input_dtype(xs)
        ts = _numeric("ts", ts)
        _shape("ts", ts, xs.shape, "(N, T) like xs")
        bad = (ts != 0) & (ts != 1)
        if bad.any():
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError("ts must hold labels 0 or 1, got %r at index %s"
                             % (ts[pos].item(), pos))
        xs = xs.astype(dt, copy=False)
        t = ts.astype(dt)
        y = _sigmoid(xs)
        p = np.where(t == 1, y, 1 - y)
        N, T = xs.shape
        loss = -float(np.sum(np.log(p.astype(np.float64) + SIGMOID_LOSS_EPS))) / (N * T) \
            if xs.size else float("nan")
        self.xs_shape = xs.shape
        self._cache = (y, t)
        return loss

    def backward(self, dout=1):
        if self._cache is None:
            raise RuntimeError("TimeSigmoidWithLoss.backward called before forward")
        if isinstance(dout, bool) or not isinstance(dout, (numbers.Real, np.ndarray)) \
                or np.ndim(dout) != 0 or np.asarray(dout).dtype.kind not in _NUMERIC_KINDS:
            raise TypeError("dout must be a real scalar, got %r (type %s)"
                            % (dout, type(dout).__name__))
        y, t = self._cache
        N, T = y.shape
        return (y - t) * y.dtype.type(float(dout) / (N * T)) if y.size else (y - t)
