"""SimpleRnnlm, the chapter-5 language model built from the compiled layers,
with its output head (TimeAffine + TimeSoftmaxWithLoss) fused into one kernel."""
import sys

import numpy as np

from .._loader import _core
from .._policy import compute_dtype, label_ids
from ..layers.lm import TimeAffine, TimeSoftmaxWithLoss
from .base import RnnlmBase, _backward_chain, _layer_marks, all_or_nothing, compiled_layers

__all__ = ["SimpleRnnlm"]


class SimpleRnnlm(RnnlmBase):
    __doc__ = RnnlmBase.__doc__ + """
    forward() runs the output head fused (_core.affine_softmax_cross_entropy):
    TimeAffine, the softmax and the cross-entropy in one pass that never stores
    the (N,T,V) scores or probabilities, leaving the gradient of the scores
    ready for backward(). The numbers are the same, bit for bit, as running
    TimeAffine and TimeSoftmaxWithLoss one after the other (loss_layer itself
    is not used by forward/backward; predict() still runs the layers).
    """
    _layers = staticmethod(compiled_layers)

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

        def run(keep):  # a call that raises leaves the model as it was (RNN state included)
            hs = rnn.forward(embed.forward(xs))
            W = affine.params[0]
            b = affine.params[1] if len(affine.params) > 1 else None
            shape = hs.shape[:2] + (np.shape(W)[-1],)
            t = label_ids(ts, shape, "the scores")
            loss, dscore = _core.affine_softmax_cross_entropy(
                hs, W, t, b, self.loss_layer.ignore_label, out=self._reusable(shape, W, b))
            affine.x = hs
            return loss, dscore
        # the layers only: a snapshot of the model would hold _dscore and stop
        # _reusable from writing over it
        loss, self._dscore = all_or_nothing(self.layers, run)
        self._marks = _layer_marks(self.layers)
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

        def run(keep):
            d = self._dscore  # (N,T,V), the gradient for dout = 1
            if dout != 1:
                d = d * d.dtype.type(dout)
            for layer in reversed(self.layers):
                keep(layer.grads)
                d = layer.backward(d)
            return d
        return _backward_chain(self, self.layers, run)
