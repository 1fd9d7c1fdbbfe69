"""Pure-NumPy twins of the language-model layers (re-exported by rnnscratch.reference).

Written from the formulas; the oracle of the tests and the baseline of the
benchmarks. Shapes: N batch, T time steps, D input features, V vocabulary.

    embedding     out[n,t] = W[xs[n,t]]                 dW[xs[n,t]] += dout[n,t]
    affine        out = x.W + b                         dW = x^T.dout, db = sum dout, dx = dout.W^T
    softmax-CE    ys = softmax(xs) over V (max-subtracted)
                  loss = mean over valid (n,t) of  logsumexp(xs[n,t]) - xs[n,t,ts[n,t]]
                  dxs = (ys - onehot(ts)) * dout / count, 0 where ts == ignore_label

Same API as the compiled classes (and the course's); the dtype is the
parameters' (float16/float32 -> float32, else float64), for TimeSoftmaxWithLoss
the logits'.
"""
import numpy as np

from ._rnnlm import RnnlmBase

__all__ = ["TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss", "SimpleRnnlm"]


def _dtype_of(*arrays):
    rt = np.result_type(*arrays)
    return np.dtype(np.float32) if rt in (np.float16, np.float32) else np.dtype(np.float64)


def _numeric(name, value):
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected an array of numbers, got dtype {a.dtype}")
    return a


def _ids(name, value, V, ignore=None):
    a = np.asarray(value)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an array of integer ids, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a 2-d array of shape (N, T), got shape {a.shape}")
    bad = (a < 0) | (a >= V)
    if ignore is not None:
        bad &= a != ignore
    if bad.any():
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: id {int(a[pos])} at {list(pos)} is out of range: "
                         f"expected ids in [0, {V})"
                         + ("" if ignore is None else f" or ignore_label={ignore}"))
    return a


def _shape(name, a, expected, legend):
    if a.shape != tuple(expected):
        raise ValueError(f"{name}: expected shape {legend} = {tuple(expected)}, got {a.shape}")


def _zeros_like_params(params):
    arrays = [_numeric(f"params[{i}]", p) for i, p in enumerate(params)]
    dt = _dtype_of(*arrays)
    return [np.zeros(a.shape, dtype=dt) for a in arrays]


class TimeEmbedding:
    """W (V,D); forward(xs (N,T) ids) -> (N,T,D); backward(dout) -> None."""

    def __init__(self, W):
        self.params = [W]
        self.grads = _zeros_like_params(self.params)
        self.W = W
        self.idx = None

    def forward(self, xs):
        W = _numeric("W", self.params[0])
        if W.ndim != 2:
            raise ValueError(f"W: expected shape (V, D), got {W.shape}")
        xs = _ids("xs", xs, W.shape[0])
        self.idx = xs
        return W.astype(_dtype_of(W), copy=False)[xs]

    def backward(self, dout):
        W = np.asarray(self.params[0])
        dt = _dtype_of(W)
        xs = self.idx
        N, T = xs.shape
        dout = _numeric("dout", dout)
        _shape("dout", dout, (N, T, W.shape[1]), "(N, T, D)")
        dW = np.zeros(W.shape, dtype=dt)
        # unbuffered: repeated ids add up, in (n, t) order
        np.add.at(dW, xs.reshape(-1), dout.reshape(N * T, -1).astype(dt, copy=False))
        self.grads[0][...] = dW
        return None


class TimeAffine:
    """W (D,V), b (V,) or None; forward(x (N,T,D)) -> (N,T,V); backward(dout) -> dx."""

    def __init__(self, W, b=None):
        self.params = [W] if b is None else [W, b]
        self.grads = _zeros_like_params(self.params)
        self.x = None

    def _weights(self):
        W = _numeric("W", self.params[0])
        if W.ndim != 2:
            raise ValueError(f"W: expected shape (D, V), got {W.shape}")
        b = _numeric("b", self.params[1]) if len(self.params) > 1 else None
        if b is not None:
            _shape("b", b, (W.shape[1],), "(V,)")
        dt = _dtype_of(*([W] if b is None else [W, b]))
        return W.astype(dt, copy=False), (None if b is None else b.astype(dt, copy=False)), dt

    def forward(self, x):
        W, b, dt = self._weights()
        x = _numeric("x", x)
        if x.ndim != 3 or x.shape[2] != W.shape[0]:
            raise ValueError(f"x: expected shape (N, T, D) with D={W.shape[0]} (from W), "
                             f"got {x.shape}")
        x = x.astype(dt, copy=False)
        N, T, D = x.shape
        out = x.reshape(N * T, D) @ W
        if b is not None:
            out = out + b
        self.x = x
        return out.reshape(N, T, W.shape[1])

    def backward(self, dout):
        W, b, dt = self._weights()
        x = self.x
        N, T, D = x.shape
        dout = _numeric("dout", dout)
        _shape("dout", dout, (N, T, W.shape[1]), "(N, T, V)")
        dout = dout.astype(dt, copy=False).reshape(N * T, W.shape[1])
        rx = x.reshape(N * T, D)
        self.grads[0][...] = rx.T @ dout
        if b is not None:
            self.grads[1][...] = dout.sum(axis=0)
        return (dout @ W.T).reshape(N, T, D)


class TimeSoftmaxWithLoss:
    """forward(xs (N,T,V), ts (N,T) ids or (N,T,V) one-hot) -> loss; backward(dout=1) -> dxs."""

    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None
        self.ignore_label = -1

    def forward(self, xs, ts):
        xs = _numeric("xs", xs)
        if xs.ndim != 3:
            raise ValueError(f"xs: expected shape (N, T, V), got {xs.shape}")
        xs = xs.astype(_dtype_of(xs), copy=False)
        N, T, V = xs.shape
        ts = np.asarray(ts)
        if ts.ndim == 3:
            _shape("ts", ts, xs.shape, "(N, T, V) like xs")
            ts = ts.argmax(axis=2)
        ts = _ids("ts", ts, V, ignore=self.ignore_label)
        _shape("ts", ts, (N, T), "(N, T)")

        x = xs.reshape(N * T, V)
        t = ts.reshape(N * T)
        mask = t != self.ignore_label
        m = x.max(axis=1, keepdims=True)
        e = np.exp(x - m)
        s = e.sum(axis=1, keepdims=True)
        ys = e / s
        safe_t = np.where(mask, t, 0)
        # -log softmax(x)[t] = log(sum exp(x - m)) - (x_t - m); the sum is >= 1
        ls = np.log(s[:, 0].astype(np.float64)) - (
            x[np.arange(N * T), safe_t].astype(np.float64) - m[:, 0])
        count = int(mask.sum())
        loss = float(ls[mask].sum() / count) if count else float("nan")
        self.cache = (t, ys, mask, (N, T, V))
        return loss

    def backward(self, dout=1):
        t, ys, mask, (N, T, V) = self.cache
        count = int(mask.sum())
        dx = ys.copy()
        rows = np.flatnonzero(mask)
        dx[rows, t[rows]] -= 1
        dx *= (float(dout) / count) if count else 0
        dx[~mask] = 0
        return dx.reshape(N, T, V)


class SimpleRnnlm(RnnlmBase):
    """The chapter-5 model built from the NumPy reference layers (see rnnscratch.SimpleRnnlm)."""

    @property
    def _layer_classes(self):
        from . import reference  # here, so that reference may import this module

        return (TimeEmbedding, reference.TimeRNN, TimeAffine, TimeSoftmaxWithLoss)
