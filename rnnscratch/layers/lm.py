"""The chapter-5 language-model layers, computed by rnnscratch._core.

TimeEmbedding, TimeAffine and TimeSoftmaxWithLoss with the course's
constructor arguments, attributes and return values (`params` and `grads`
lists, gradients written in place). Shapes: N batch, T time steps, D input
features, V vocabulary. All arithmetic and argument checking happen in C; the
classes hold the state.
"""
import numpy as np

from .._loader import _core
from .._policy import backward_cache, grads_like, label_ids

__all__ = ["TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss"]


class TimeEmbedding:
    """Word vectors for a batch of id sequences.

    W (V,D). forward(xs (N,T) integer ids in [0, V)) -> (N,T,D);
    backward(dout (N,T,D)) scatter-adds into grads[0] (repeated ids add up) and
    returns None.
    """

    def __init__(self, W):
        self.params = [W]
        self.grads = grads_like(self.params, ("W",))
        self.W = W
        self.idx = None

    def forward(self, xs):
        out = _core.embedding_forward(xs, self.params[0])
        self.idx = xs
        return out

    def backward(self, dout):
        backward_cache(self.idx, "TimeEmbedding")
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
        self.grads = grads_like(self.params, ("W", "b"))
        dW, *db = self.grads
        if db and dW.ndim == 2 and db[0].shape == dW.shape[1:]:
            # dW and db as rows of one (D+1, V) array: the backward kernel then
            # gets db from the same product as dW (see lm_impl.h)
            both = np.zeros((dW.shape[0] + 1, dW.shape[1]), dtype=dW.dtype)
            self.grads = [both[:-1], both[-1]]
        self.x = None

    def forward(self, x):
        b = self.params[1] if len(self.params) > 1 else None
        out = _core.time_affine_forward(x, self.params[0], b)
        self.x = x
        return out

    def backward(self, dout):
        backward_cache(self.x, "TimeAffine")
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
        ts = label_ids(ts, np.shape(xs), "xs")
        loss, ys = _core.softmax_cross_entropy_forward(xs, ts, self.ignore_label)
        self.cache = (ts, ys, self.ignore_label)
        return loss

    def backward(self, dout=1):
        ts, ys, ignore = backward_cache(self.cache, "TimeSoftmaxWithLoss")
        return _core.softmax_cross_entropy_backward(ys, ts, float(dout), ignore)
