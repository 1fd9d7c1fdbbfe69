"""Pure-NumPy twins of the language-model layers (re-exported by rnnscratch.reference).

Written from the formulas; the oracle of the tests and the baseline of the
benchmarks. Shapes: N batch, T time steps, D input features, V vocabulary.

    embedding     out[n,t] = W[xs[n,t]]                 dW[xs[n,t]] += dout[n,t]
    affine        out = x.W + b                         dW = x^T.dout, db = sum dout, dx = dout.W^T
    softmax-CE    ys = softmax(xs) over V (max-subtracted)
                  loss = mean over valid (n,t) of  logsumexp(xs[n,t]) - xs[n,t,ts[n,t]]
                  dxs = (ys - onehot(ts)) * dout / count, 0 where ts == ignore_label

Same API as the compiled classes (and the course's); the dtype is the
parameters' (rnnscratch._policy.compute_dtype: float16/float32 -> float32, else
float64), for TimeSoftmaxWithLoss the logits'.
"""
import numpy as np

from .._policy import compute_dtype, grads_like, label_ids
from ._checks import check_ids, check_ndim, check_numeric, check_shape

__all__ = ["TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss"]


class TimeEmbedding:
    """W (V,D); forward(xs (N,T) ids) -> (N,T,D); backward(dout) -> None."""

    def __init__(self, W):
        self.params = [W]
        self.grads = grads_like(self.params, ("W",))
        self.W = W
        self.idx = None

    def forward(self, xs):
        W = check_numeric("W", self.params[0])
        check_ndim("W", W, 2, "(V, D)")
        xs = check_ids("xs", xs, W.shape[0])
        self.idx = xs
        return W.astype(compute_dtype(W), copy=False)[xs]

    def backward(self, dout):
        W = np.asarray(self.params[0])
        dt = compute_dtype(W)
        xs = self.idx
        N, T = xs.shape
        dout = check_numeric("dout", dout)
        check_shape("dout", dout, (N, T, W.shape[1]), "(N, T, D)")
        dW = np.zeros(W.shape, dtype=dt)
        # unbuffered: repeated ids add up, in (n, t) order
        np.add.at(dW, xs.reshape(-1), dout.reshape(N * T, -1).astype(dt, copy=False))
        self.grads[0][...] = dW
        return None


class TimeAffine:
    """W (D,V), b (V,) or None; forward(x (N,T,D)) -> (N,T,V); backward(dout) -> dx."""

    def __init__(self, W, b=None):
        self.params = [W] if b is None else [W, b]
        self.grads = grads_like(self.params, ("W", "b"))
        self.x = None

    def _weights(self):
        W = check_numeric("W", self.params[0])
        check_ndim("W", W, 2, "(D, V)")
        b = check_numeric("b", self.params[1]) if len(self.params) > 1 else None
        if b is not None:
            check_shape("b", b, (W.shape[1],), "(V,) with V = W.shape[1]")
        dt = compute_dtype(W, b)
        return W.astype(dt, copy=False), (None if b is None else b.astype(dt, copy=False)), dt

    def forward(self, x):
        W, b, dt = self._weights()
        x = check_numeric("x", x)
        check_ndim("x", x, 3, "(N, T, D)")
        check_shape("x", x, x.shape[:2] + (W.shape[0],), "(N, T, D) with D = W.shape[0]")
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
        dout = check_numeric("dout", dout)
        check_shape("dout", dout, (N, T, W.shape[1]), "(N, T, V)")
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
        xs = check_numeric("xs", xs)
        check_ndim("xs", xs, 3, "(N, T, V)")
        xs = xs.astype(compute_dtype(xs), copy=False)
        N, T, V = xs.shape
        ts = label_ids(ts, xs.shape, "xs")
        ts = check_ids("ts", ts, V, ignore=self.ignore_label)
        check_shape("ts", ts, (N, T), "(N, T)")

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
