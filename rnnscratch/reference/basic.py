"""Pure-NumPy twins of the book's plain layers (common/layers.py), written from
the formulas. Shapes: N batch, D input features, H outputs, V classes.

    MatMul            out = x.W                       dx = dout.W^T, dW = x^T.dout
    Affine            out = x.W + b                   db = sum over N of dout
    SoftmaxWithLoss   loss = -sum_n log(y[n, t_n] + 1e-7) / N
                      dx = (y - onehot(t)) * dout / N
    Softmax, Sigmoid, SigmoidWithLoss, Dropout: numpy_layers (shared with
                      rnnscratch.layers)
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
           "Dropout", "Embedding"]  # Softmax, Sigmoid, SigmoidWithLoss, Dropout: numpy_layers'

# the layers both sides share (rnnscratch.layers imports the same classes)
from .numpy_layers import (Dropout, Sigmoid, SigmoidWithLoss, Softmax,  # noqa: E402
                           EPS, _backward_ready, _dout_scalar, _float_input, softmax_rows)

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
