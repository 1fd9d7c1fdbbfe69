"""The book's plain layers (common/layers.py) with its constructor arguments,
attributes and return values, compiled where it pays.

    MatMul, Affine     the TimeAffine kernels (_core.time_affine_forward/_backward)
                       on x viewed as (N, 1, D): one GEMM each way, dW and db from
                       one product, the package's dtype rule and checks
    SoftmaxWithLoss    the softmax cross-entropy kernel (one pass over the scores);
                       the loss is then taken from its probabilities with the
                       book's 1e-7 inside the log
    Embedding          the embedding kernels (row gather; scatter-add in place of
                       np.add.at, which is slow)
    Softmax, Sigmoid, SigmoidWithLoss, Dropout
                       one vectorised NumPy pass each: a kernel would save nothing
                       (Dropout must draw its mask from NumPy's global generator
                       to reproduce the book's runs): the classes of
                       rnnscratch.reference.numpy_layers, which both sides share.

Shapes: N batch, D input features, H outputs, V classes. The formulas are in
rnnscratch.reference.basic, the NumPy twins of these classes.
"""
import numpy as np

from .._loader import _core
from .._policy import backward_cache, grads_like
from ..reference import basic as _ref
from ..reference._checks import check_ndim, check_shape
from ..reference.numpy_layers import Dropout, Sigmoid, SigmoidWithLoss, Softmax  # noqa: F401

__all__ = ["MatMul", "Affine", "Softmax", "SoftmaxWithLoss", "Sigmoid", "SigmoidWithLoss",
           "Dropout", "Embedding"]


def _as_rows(name, x, cols=None, legend="(N, D)"):
    """x (N, D) of numbers as the (N, 1, D) view the time kernels take; D == cols."""
    a = _ref.check_numeric(name, x)
    check_ndim(name, a, 2, legend)
    if cols is not None and a.shape[1] != cols[1]:
        check_shape(name, a, (a.shape[0], cols[1]), cols[0])
    return a[:, None, :]


def _in_cols(W):
    W = np.shape(W)
    return ("(N, D) with D = W.shape[0] = %d" % W[0], W[0]) if len(W) == 2 else None


def _out_cols(W):
    W = np.shape(W)
    return ("(N, H) with H = W.shape[1] = %d" % W[1], W[1]) if len(W) == 2 else None


class MatMul:
    """out = x @ W. W (D,H); forward(x (N,D)) -> (N,H); backward(dout (N,H)) -> dx (N,D),
    dW written into grads[0]."""

    def __init__(self, W):
        self.params = [W]
        self.grads = grads_like(self.params, ("W",))
        self.x = None

    def forward(self, x):
        x3 = _as_rows("x", x, _in_cols(self.params[0]))
        out = _core.time_affine_forward(x3, self.params[0], None)
        self.x = x3
        return out[:, 0, :]

    def backward(self, dout):
        backward_cache(self.x, "MatMul")
        d3 = _as_rows("dout", dout, _out_cols(self.params[0]), "(N, H)")
        dx = _core.time_affine_backward(d3, self.x, self.params[0], self.grads[0], None)
        return dx[:, 0, :]


class Affine:
    """out = x @ W + b. W (D,H), b (H,); forward(x (N,D)) -> (N,H);
    backward(dout (N,H)) -> dx (N,D), dW and db written into grads."""

    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = grads_like(self.params, ("W", "b"))
        dW, db = self.grads
        if dW.ndim == 2 and db.shape == dW.shape[1:]:
            # dW and db as rows of one (D+1, H) array: the kernel then gets db
            # from the same product as dW (as TimeAffine does)
            both = np.zeros((dW.shape[0] + 1, dW.shape[1]), dtype=dW.dtype)
            self.grads = [both[:-1], both[-1]]
        self.x = None

    def forward(self, x):
        x3 = _as_rows("x", x, _in_cols(self.params[0]))
        out = _core.time_affine_forward(x3, self.params[0], self.params[1])
        self.x = x3
        return out[:, 0, :]

    def backward(self, dout):
        backward_cache(self.x, "Affine")
        d3 = _as_rows("dout", dout, _out_cols(self.params[0]), "(N, H)")
        dx = _core.time_affine_backward(d3, self.x, self.params[0], self.grads[0],
                                        self.grads[1])
        return dx[:, 0, :]


class SoftmaxWithLoss:
    """forward(x (N,V), t (N,) class ids or (N,V) one-hot) -> mean cross-entropy
    -sum log(y[n, t_n] + 1e-7) / N; backward(dout=1) -> dx (N,V).
    `y` holds the probabilities, `t` the class ids."""

    def __init__(self):
        self.params, self.grads = [], []
        self.y = None
        self.t = None

    def forward(self, x, t):
        x = _ref.check_numeric("x", x)
        check_ndim("x", x, 2, "(N, V)")
        N, V = x.shape
        t = _ref.class_ids("t", t, N, V)
        if V == 0:  # N == 0 too here (ids in [0, 0) exist only for no rows)
            raise ValueError(f"x: expected at least one class (V >= 1), got shape {x.shape}")
        _, ys = _core.softmax_cross_entropy_forward(x[:, None, :], t[:, None], -1)
        y = ys[:, 0, :]
        loss = -np.sum(np.log(y[np.arange(N), t] + _ref.EPS)) / N if N else np.float64(np.nan)
        self.y, self.t = y, t
        return loss

    def backward(self, dout=1):
        backward_cache(self.y, "SoftmaxWithLoss")
        dout = _ref._dout_scalar(dout)
        dx = _core.softmax_cross_entropy_backward(self.y[:, None, :], self.t[:, None], dout, -1)
        return dx[:, 0, :]


class Embedding:
    """W (V,D); forward(idx, integer ids of any shape) -> W[idx] (idx.shape + (D,));
    backward(dout) overwrites grads[0] with the scatter-add of dout into the rows
    of the ids (repeated ids add up) and returns None."""

    def __init__(self, W):
        self.params = [W]
        self.grads = grads_like(self.params, ("W",))
        self.idx = None

    def forward(self, idx):
        a = _ref.check_numeric("idx", idx)
        if a.dtype.kind not in "iu":
            raise TypeError(f"idx: expected integer ids, got dtype {a.dtype}")
        W = self.params[0]
        if np.ndim(W) == 2:  # the kernel checks too, naming its argument xs
            a = _ref.embedding_ids("idx", a, np.shape(W)[0])
        out = _core.embedding_forward(a.reshape(1, -1), W)
        self.idx = a
        return out.reshape(a.shape + out.shape[-1:])

    def backward(self, dout):
        backward_cache(self.idx, "Embedding")
        W = self.params[0]
        D = np.shape(W)[-1]
        d = _ref.check_numeric("dout", dout)
        check_shape("dout", d, self.idx.shape + (D,), "idx.shape + (D,)")
        _core.embedding_backward(d.reshape(1, -1, D), self.idx.reshape(1, -1), W, self.grads[0])
        return None
