"""The chapter-5 language-model layers, computed by rnnscratch._core.

TimeEmbedding -> TimeRNN (stateful) -> TimeAffine -> TimeSoftmaxWithLoss, with
the course's constructor arguments, attributes and return values (`params` and
`grads` lists, gradients written in place). Shapes: N batch, T time steps,
D input features, H hidden units, V vocabulary. All arithmetic and argument
checking happen in C; the classes hold the state.
"""
import numpy as np

from . import _core
from ._rnnlm import RnnlmBase
from ._layers import TimeRNN, compute_dtype


def _grads_like(params):
    arrays = [np.asarray(p) for p in params]
    for a in arrays:
        if a.dtype.kind not in "biuf":
            raise TypeError(f"expected parameter arrays of numbers, got dtype {a.dtype}")
    dt = compute_dtype(arrays)
    return [np.zeros(a.shape, dtype=dt) for a in arrays]


class TimeEmbedding:
    """Word vectors for a batch of id sequences.

    W (V,D). forward(xs (N,T) integer ids in [0, V)) -> (N,T,D);
    backward(dout (N,T,D)) scatter-adds into grads[0] (repeated ids add up) and
    returns None.
    """

    def __init__(self, W):
        self.params = [W]
        self.grads = _grads_like(self.params)
        self.W = W
        self.idx = None

    def forward(self, xs):
        out = _core.embedding_forward(xs, self.params[0])
        self.idx = xs
        return out

    def backward(self, dout):
        if self.idx is None:
            raise RuntimeError("TimeEmbedding.backward() called before forward()")
        _core.embedding_backward(dout, self.idx, self.params[0], self.grads[0])
        return None


class TimeAffine:
    """out = x @ W + b at every time step.

    W (D,V) of any layout (weight tying passes embed_W.T), b (V,) or None.
    forward(x (N,T,D)) -> (N,T,V); backward(dout (N,T,V)) -> dx (N,T,D), with
    dW and db written into grads in place.
    """

    def __init__(self, W, b=None):
        self.params = [W] if b is None else [W, b]
        self.grads = _grads_like(self.params)
        self.x = None

    def forward(self, x):
        b = self.params[1] if len(self.params) > 1 else None
        out = _core.time_affine_forward(x, self.params[0], b)
        self.x = x
        return out

    def backward(self, dout):
        if self.x is None:
            raise RuntimeError("TimeAffine.backward() called before forward()")
        db = self.grads[1] if len(self.grads) > 1 else None
        return _core.time_affine_backward(dout, self.x, self.params[0], self.grads[0], db)


class TimeSoftmaxWithLoss:
    """Softmax over V fused with the mean cross-entropy over N and T.

    forward(xs (N,T,V), ts) -> loss (a float); ts are word ids (N,T) or one-hot
    targets (N,T,V). Positions whose label is `ignore_label` (-1) are left out
    of the mean. backward(dout=1) -> dxs (N,T,V). Numerically stable: no
    overflow for large logits, no log(0).
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None
        self.ignore_label = -1

    def forward(self, xs, ts):
        ts = np.asarray(ts)
        if ts.ndim == 3:  # one-hot targets
            xshape = np.shape(xs)
            if ts.shape != xshape:
                raise ValueError(
                    f"ts: expected one-hot targets of shape (N, T, V) = {xshape} (from xs) "
                    f"or word ids of shape (N, T), got {ts.shape}")
            ts = ts.argmax(axis=2)
        loss, ys = _core.softmax_cross_entropy_forward(xs, ts, self.ignore_label)
        self.cache = (ts, ys, self.ignore_label)
        return loss

    def backward(self, dout=1):
        if self.cache is None:
            raise RuntimeError("TimeSoftmaxWithLoss.backward() called before forward()")
        ts, ys, ignore = self.cache
        return _core.softmax_cross_entropy_backward(ys, ts, float(dout), ignore)


class SimpleRnnlm(RnnlmBase):
    __doc__ = RnnlmBase.__doc__
    _layer_classes = (TimeEmbedding, TimeRNN, TimeAffine, TimeSoftmaxWithLoss)
