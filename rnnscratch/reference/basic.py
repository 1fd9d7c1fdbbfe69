"""Pure-NumPy twins of the book's plain layers (common/layers.py), written from
the formulas. Shapes: N batch, D input features, H outputs, V classes.

    MatMul            out = x.W                       dx = dout.W^T, dW = x^T.dout
    Affine            out = x.W + b                   db = sum over N of dout
    Softmax           y = exp(x - max x) / sum        dx = y*dout - y * sum(y*dout)
    SoftmaxWithLoss   loss = -sum_n log(y[n, t_n] + 1e-7) / N
                      dx = (y - onehot(t)) * dout / N
    Sigmoid           y = 1 / (1 + exp(-x))           dx = dout * (1 - y) * y
    SigmoidWithLoss   loss = -sum_n log(p_n + 1e-7) / N, p_n = y_n if t_n == 1 else 1 - y_n
                      dx = (y - t) * dout / N
    Dropout           mask = np.random.rand(*x.shape) > ratio (NumPy's global
                      generator, as the book draws it); out = x * mask, or
                      x * (1 - ratio) when train_flg is False
    Embedding         out = W[idx] (idx of any shape)  dW = 0, then dW[idx] += dout

The epsilon 1e-7 inside the logarithms is the book's (its cross_entropy_error).
Dtype: the parameters' compute dtype (rnnscratch._policy.compute_dtype:
float16/float32 -> float32, else float64); for the layers without parameters
the input's. Bad arguments raise ValueError/TypeError naming them, before any
attribute changes.
"""
import numpy as np

from .._policy import check_id_range, compute_dtype, grads_like
from ._checks import check_ndim, check_numeric, check_shape

__all__ = ["MatMul", "Affine", "Softmax", "SoftmaxWithLoss", "Sigmoid", "SigmoidWithLoss",
           "Dropout", "Embedding"]

EPS = 1e-7  # the book's cross_entropy_error: log(y + 1e-7)


# ---------------------------------------------------------------- shared checks
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


def _dout_scalar(dout):
    """The scalar dout of a loss layer's backward."""
    a = check_numeric("dout", dout)
    if a.ndim != 0:
        raise ValueError(f"dout: expected a scalar, got an array of shape {a.shape}")
    return float(a)


def class_ids(name, t, N, V):
    """Targets of an (N, V) score: class ids (N,), or one-hot (N, V) read as
    their argmax (the book's rule: t.size == y.size). Returns int64 ids (N,)."""
    t = check_numeric(name, t)
    if t.shape == (N, V) and t.size:
        t = t.argmax(axis=1)
    elif t.shape == (N, V):  # empty one-hot
        t = np.zeros(N, dtype=np.int64)
    elif t.shape != (N,):
        raise ValueError(f"{name}: expected class ids of shape (N,) = ({N},) or one-hot targets "
                         f"of shape (N, V) = {(N, V)} (from x of shape {(N, V)}), "
                         f"got {t.shape}")
    elif t.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected integer class ids, got dtype {t.dtype}")
    t = t.astype(np.int64)
    check_id_range(name, t, V, what="class id")
    return t


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


def embedding_ids(name, idx, V):
    """idx as an array of integer ids in [0, V), any shape."""
    a = check_numeric(name, idx)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer ids, got dtype {a.dtype}")
    check_id_range(name, a, V)
    return a


def weight(name, W, ndim, legend):
    W = check_numeric(name, W)
    check_ndim(name, W, ndim, legend)
    return W


def softmax_rows(x):
    """Softmax over the last axis, max-subtracted (the book's formula)."""
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(x):
    with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x: y = 0, exact
        return 1 / (1 + np.exp(-x))


# ---------------------------------------------------------------- layers
class MatMul:
    """out = x @ W. W (D,H); forward(x (N,D)) -> (N,H); backward(dout (N,H)) -> dx (N,D),
    dW written into grads[0]."""

    def __init__(self, W):
        self.params = [W]
        self.grads = grads_like(self.params, ("W",))
        self.x = None

    def forward(self, x):
        W = weight("W", self.params[0], 2, "(D, H)")
        dt = compute_dtype(W)
        x = _float_input("x", x, dt)
        check_shape("x", x, (x.shape[0], W.shape[0]), "(N, D) with D = W.shape[0] = %d"
                    % W.shape[0])
        out = x @ W.astype(dt, copy=False)
        self.x = x
        return out

    def backward(self, dout):
        _backward_ready(self, "x")
        W = np.asarray(self.params[0])
        dt = compute_dtype(W)
        x = self.x
        dout = _float_input("dout", dout, dt, legend="(N, H)")
        check_shape("dout", dout, (x.shape[0], W.shape[1]), "(N, H)")
        dx = dout @ W.astype(dt, copy=False).T
        self.grads[0][...] = x.T @ dout
        return dx


class Affine:
    """out = x @ W + b. W (D,H), b (H,); forward(x (N,D)) -> (N,H);
    backward(dout (N,H)) -> dx (N,D), dW and db written into grads."""

    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = grads_like(self.params, ("W", "b"))
        self.x = None

    def _weights(self):
        W = weight("W", self.params[0], 2, "(D, H)")
        b = weight("b", self.params[1], 1, "(H,)")
        check_shape("b", b, (W.shape[1],), "(H,) with H = W.shape[1]")
        return W, b, compute_dtype(W, b)

    def forward(self, x):
        W, b, dt = self._weights()
        x = _float_input("x", x, dt)
        check_shape("x", x, (x.shape[0], W.shape[0]), "(N, D) with D = W.shape[0] = %d"
                    % W.shape[0])
        out = x @ W.astype(dt, copy=False) + b.astype(dt, copy=False)
        self.x = x
        return out

    def backward(self, dout):
        _backward_ready(self, "x")
        W, b, dt = self._weights()
        x = self.x
        dout = _float_input("dout", dout, dt, legend="(N, H)")
        check_shape("dout", dout, (x.shape[0], W.shape[1]), "(N, H)")
        dx = dout @ W.astype(dt, copy=False).T
        self.grads[0][...] = x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return dx


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
        _backward_ready(self, "out")
        y = self.out
        dout = _float_input("dout", dout, y.dtype, ndims=(y.ndim,), legend=str(y.shape))
        check_shape("dout", dout, y.shape, "the shape of forward's output")
        dx = y * dout
        dx -= y * dx.sum(axis=-1, keepdims=True)
        return dx


class SoftmaxWithLoss:
    """forward(x (N,V), t (N,) class ids or (N,V) one-hot) -> mean cross-entropy
    -sum log(y[n, t_n] + 1e-7) / N; backward(dout=1) -> dx (N,V)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.y = None
        self.t = None

    def forward(self, x, t):
        x = _float_input("x", x, legend="(N, V)")
        N, V = x.shape
        t = class_ids("t", t, N, V)
        if V == 0:  # N == 0 too here (ids in [0, 0) exist only for no rows)
            raise ValueError(f"x: expected at least one class (V >= 1), got shape {x.shape}")
        y = softmax_rows(x)
        loss = -np.sum(np.log(y[np.arange(N), t] + EPS)) / N if N else np.float64(np.nan)
        self.y, self.t = y, t
        return loss

    def backward(self, dout=1):
        _backward_ready(self, "y")
        dout = _dout_scalar(dout)
        N = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(N), self.t] -= 1
        dx *= dout
        return dx / N


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
        _backward_ready(self, "out")
        y = self.out
        dout = _float_input("dout", dout, y.dtype, ndims=(y.ndim,), legend=str(y.shape))
        check_shape("dout", dout, y.shape, "the shape of forward's output")
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


class Embedding:
    """W (V,D); forward(idx, integer ids of any shape) -> W[idx] (idx.shape + (D,));
    backward(dout) sets grads[0] to zero, scatter-adds dout into the rows of the
    ids (repeated ids add up) and returns None."""

    def __init__(self, W):
        self.params = [W]
        self.grads = grads_like(self.params, ("W",))
        self.idx = None

    def forward(self, idx):
        W = weight("W", self.params[0], 2, "(V, D)")
        idx = embedding_ids("idx", idx, W.shape[0])
        self.idx = idx
        return W.astype(compute_dtype(W), copy=False)[idx]

    def backward(self, dout):
        _backward_ready(self, "idx")
        W = np.asarray(self.params[0])
        dt = compute_dtype(W)
        dout = _float_input("dout", dout, dt, ndims=(self.idx.ndim + 1,),
                            legend="idx.shape + (D,)")
        check_shape("dout", dout, self.idx.shape + (W.shape[1],), "idx.shape + (D,)")
        dW = np.zeros(W.shape, dtype=dt)
        np.add.at(dW, self.idx.reshape(-1), dout.reshape(-1, W.shape[1]))
        self.grads[0][...] = dW
        return None
