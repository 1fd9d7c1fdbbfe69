"""The chapter-5 language-model layers, computed by rnnscratch._core.

TimeEmbedding -> TimeRNN (stateful) -> TimeAffine -> TimeSoftmaxWithLoss, with
the course's constructor arguments, attributes and return values (`params` and
`grads` lists, gradients written in place). Shapes: N batch, T time steps,
D input features, H hidden units, V vocabulary. All arithmetic and argument
checking happen in C; the classes hold the state.
"""
import sys

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
        if self.x is None:
            raise RuntimeError("TimeAffine.backward() called before forward()")
        db = self.grads[1] if len(self.grads) > 1 else None
        return _core.time_affine_backward(dout, self.x, self.params[0], self.grads[0], db)


def _label_ids(ts, score_shape, score_name):
    """ts as word ids (N,T): one-hot targets (N,T,V) are turned into their argmax."""
    ts = np.asarray(ts)
    if ts.ndim == 3:  # one-hot targets
        if ts.shape != tuple(score_shape):
            raise ValueError(
                f"ts: expected one-hot targets of shape (N, T, V) = {tuple(score_shape)} "
                f"(from {score_name}) or word ids of shape (N, T), got {ts.shape}")
        ts = ts.argmax(axis=2)
    return ts


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
        ts = _label_ids(ts, np.shape(xs), "xs")
        loss, ys = _core.softmax_cross_entropy_forward(xs, ts, self.ignore_label)
        self.cache = (ts, ys, self.ignore_label)
        return loss

    def backward(self, dout=1):
        if self.cache is None:
            raise RuntimeError("TimeSoftmaxWithLoss.backward() called before forward()")
        ts, ys, ignore = self.cache
        return _core.softmax_cross_entropy_backward(ys, ts, float(dout), ignore)


class SimpleRnnlm(RnnlmBase):
    __doc__ = RnnlmBase.__doc__ + """
    forward() runs the output head fused (_core.affine_softmax_cross_entropy):
    TimeAffine, the softmax and the cross-entropy in one pass that never stores
    the (N,T,V) scores or probabilities, leaving the gradient of the scores
    ready for backward(). The numbers are the same, bit for bit, as running
    TimeAffine and TimeSoftmaxWithLoss one after the other (loss_layer itself
    is not used by forward/backward; predict() still runs the layers).
    """
    _layer_classes = (TimeEmbedding, TimeRNN, TimeAffine, TimeSoftmaxWithLoss)

    def __init__(self, vocab_size=10000, wordvec_size=100, hidden_size=100):
        super().__init__(vocab_size, wordvec_size, hidden_size)
        self._dscore = None

    def _fused(self):
        """The fused head applies when the last two layers are still ours."""
        return (len(self.layers) == 3 and type(self.layers[2]) is TimeAffine
                and type(self.loss_layer) is TimeSoftmaxWithLoss)

    def forward(self, xs, ts):
        if not self._fused():  # a layer swapped for another class: run them one by one
            self._dscore = None
            return super().forward(xs, ts)
        embed, rnn, affine = self.layers
        # a call that raises leaves the model as it was (the RNN's state included)
        saved = [dict(layer.__dict__) for layer in self.layers]
        try:
            hs = rnn.forward(embed.forward(xs))
            W = affine.params[0]
            b = affine.params[1] if len(affine.params) > 1 else None
            shape = hs.shape[:2] + (np.shape(W)[-1],)
            ts = _label_ids(ts, shape, "the scores")
            loss, dscore = _core.affine_softmax_cross_entropy(
                hs, W, ts, b, self.loss_layer.ignore_label, out=self._reusable(shape, W, b))
        except BaseException:
            for layer, state in zip(self.layers, saved):
                layer.__dict__.clear()
                layer.__dict__.update(state)
            raise
        affine.x = hs
        self._dscore = dscore
        return loss

    def _reusable(self, shape, W, b):
        """Last step's dscore, when nothing else holds it and it fits: written
        over instead of allocating (N*T*V floats) at every step."""
        out = self._dscore
        if out is None or sys.getrefcount(out) > 3 or out.shape != shape:
            return None  # 3: self.__dict__, `out`, getrefcount's argument
        params = [np.asarray(W)] + ([np.asarray(b)] if b is not None else [])
        return out if out.dtype == compute_dtype(params) else None

    def backward(self, dout=1):
        if not self._fused():
            return super().backward(dout)
        if self._dscore is None:
            raise RuntimeError("SimpleRnnlm.backward() called before forward()")
        d = self._dscore  # (N,T,V), the gradient for dout = 1
        if dout != 1:
            d = d * d.dtype.type(dout)
        for layer in reversed(self.layers):
            d = layer.backward(d)
        return d
