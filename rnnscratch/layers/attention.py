"""The attention layers of chapter 8 (seq2seq with attention), computed by
rnnscratch._core: WeightSum, AttentionWeight, Attention, TimeAttention with
the book's APIs (ch08/attention_layer.py).

Shapes: N batch, S encoder steps, T decoder steps, H hidden units.

    AttentionWeight  a (N,S) = softmax over i of hs[:, i] . h        hs (N,S,H), h (N,H)
    WeightSum        c (N,H) = sum_i a[:, i] * hs[:, i]
    Attention        both: c = WeightSum(hs, AttentionWeight(hs, h))
    TimeAttention    Attention for every decoder step at once: hs_enc (N,S,H),
                     hs_dec (N,T,H) -> (N,T,H), the whole sequence in one C call;
                     backward returns dhs_enc summed over the steps, as the book's.

The layers have no parameters (params = grads = []). The compute dtype comes
from the hidden states (float32 when they all are float16/float32, else
float64; the other arguments are cast to it). The per-step classes call the
sequence kernels with T = 1.
"""
import numpy as np

from .._loader import _core
from .._policy import backward_cache, check_numeric

__all__ = ["WeightSum", "AttentionWeight", "Attention", "TimeAttention"]


def _checked(name, value, ndim, legend, dims=None, dims_from=None):
    """value as an array of numbers with ndim dimensions; dims: the expected
    leading sizes (None = any), taken from dims_from (for the message)."""
    a = check_numeric(name, value)
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array of shape {legend}, got shape {a.shape}")
    if dims is not None and any(d is not None and s != d for s, d in zip(a.shape, dims)):
        want = tuple("?" if d is None else d for d in dims)
        raise ValueError(f"{name}: expected shape {legend} = {want} (from {dims_from}), "
                         f"got {a.shape}")
    return a


def _states(hs, h):
    """hs (N,S,H) and h (N,H) checked, h as (N,1,H): one decoder step's
    arguments for the sequence kernels."""
    hs = _checked("hs", hs, 3, "(N, S, H)")
    N, S, H = hs.shape
    h = _checked("h", h, 2, "(N, H)", (N, H), "hs")
    return hs, h.reshape(N, 1, H)


class _SoftmaxOut:
    """Stands for the book's Softmax sub-layer of AttentionWeight: its `out`
    (the weights of the last forward)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.out = None


class WeightSum:
    """c (N,H) = sum_i a[:, i, None] * hs[:, i]: the context vector.

    forward(hs (N,S,H), a (N,S)) -> c (N,H); backward(dc (N,H)) -> (dhs (N,S,H), da (N,S)).
    cache = (hs, a reshaped to (N,S,1)), as the book's.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None

    def forward(self, hs, a):
        hs = _checked("hs", hs, 3, "(N, S, H)")
        N, S, _ = hs.shape
        a = _checked("a", a, 2, "(N, S)", (N, S), "hs")
        c = _core.weight_sum_forward(hs, a.reshape(N, 1, S))
        self.cache = (hs, a.reshape(N, S, 1))
        return c.reshape(N, c.shape[2])

    def backward(self, dc):
        hs, ar = backward_cache(self.cache, "WeightSum")
        N, S, H = hs.shape
        dc = _checked("dc", dc, 2, "(N, H)", (N, H), "hs of forward")
        dhs, da = _core.weight_sum_backward(dc.reshape(N, 1, H), hs, ar.reshape(N, 1, S))
        return dhs, da.reshape(N, S)


class AttentionWeight:
    """a (N,S) = softmax over i of sum_h hs[:, i, h] * h[:, h]: the weights.

    forward(hs (N,S,H), h (N,H)) -> a (N,S); backward(da (N,S)) -> (dhs (N,S,H), dh (N,H)).
    cache = (hs, h reshaped to (N,1,H)) and softmax.out = a, as the book's.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.softmax = _SoftmaxOut()
        self.cache = None

    def forward(self, hs, h):
        hs, hr = _states(hs, h)
        N, S, H = hs.shape
        a = _core.attention_weight_forward(hs, hr).reshape(N, S)
        self.cache = (hs, hr)
        self.softmax.out = a
        return a

    def backward(self, da):
        hs, hr = backward_cache(self.cache, "AttentionWeight")
        N, S, H = hs.shape
        da = _checked("da", da, 2, "(N, S)", (N, S), "hs of forward")
        dhs, dh = _core.attention_weight_backward(da.reshape(N, 1, S), hs, hr,
                                                  self.softmax.out.reshape(N, 1, S))
        return dhs, dh.reshape(N, H)


class Attention:
    """One decoder step: out (N,H) = WeightSum(hs, AttentionWeight(hs, h)).

    forward(hs (N,S,H), h (N,H)) -> out (N,H), attention_weight = a (N,S);
    backward(dout (N,H)) -> (dhs (N,S,H), dh (N,H)), dhs the sum of the two
    sub-layers'. Computed as TimeAttention with T = 1; the sub-layers
    (attention_weight_layer, weight_sum_layer) get the caches the book's have.
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.attention_weight_layer = AttentionWeight()
        self.weight_sum_layer = WeightSum()
        self.attention_weight = None

    def forward(self, hs, h):
        hs, hr = _states(hs, h)
        N, S, H = hs.shape
        out, a3 = _core.time_attention_forward(hs, hr)
        a = a3.reshape(N, S)
        self.attention_weight_layer.cache = (hs, hr)
        self.attention_weight_layer.softmax.out = a
        self.weight_sum_layer.cache = (hs, a.reshape(N, S, 1))
        self.attention_weight = a
        return out.reshape(N, H)

    def backward(self, dout):
        hs, hr = backward_cache(self.attention_weight_layer.cache, "Attention")
        N, S, H = hs.shape
        dout = _checked("dout", dout, 2, "(N, H)", (N, H), "hs of forward")
        a = self.attention_weight_layer.softmax.out
        dhs, dh = _core.time_attention_backward(dout.reshape(N, 1, H), hs, hr,
                                                a.reshape(N, 1, S))
        return dhs, dh.reshape(N, H)


class TimeAttention:
    """Attention for every decoder step, the whole sequence in one C call.

    forward(hs_enc (N,S,H), hs_dec (N,T,H)) -> out (N,T,H), out[:, t] the
    context of step t; attention_weights = the list of the T weights (N,S)
    (views of one (N,T,S) array), for visualisation as in the book.
    backward(dout (N,T,H)) -> (dhs_enc (N,S,H) summed over the steps,
    dhs_dec (N,T,H)).

    The book keeps one Attention layer per step in `layers`; here `layers`
    builds them on access from cache = (hs_enc, hs_dec, a (N,T,S)), with the
    same caches and weights (None before forward).
    """

    def __init__(self):
        self.params, self.grads = [], []
        self.attention_weights = None
        self.cache = None

    def forward(self, hs_enc, hs_dec):
        out, a = _core.time_attention_forward(hs_enc, hs_dec)
        self.cache = (hs_enc, hs_dec, a)
        self.attention_weights = [a[:, t] for t in range(a.shape[1])]
        return out

    def backward(self, dout):
        hs_enc, hs_dec, a = backward_cache(self.cache, "TimeAttention")
        try:
            return _core.time_attention_backward(dout, hs_enc, hs_dec, a)
        except (ValueError, TypeError) as e:
            if str(e).startswith("dc:"):  # the kernel's name for it
                raise type(e)("dout:" + str(e)[3:]) from None
            raise

    @property
    def layers(self):
        if self.cache is None:
            return None
        hs_enc, hs_dec, a = self.cache
        hs = np.asarray(hs_enc)
        hd = np.asarray(hs_dec)
        N, S, H = hs.shape
        layers = []
        for t in range(a.shape[1]):
            layer = Attention()
            at = a[:, t]
            hr = hd[:, t].reshape(N, 1, H)
            layer.attention_weight_layer.cache = (hs, hr)
            layer.attention_weight_layer.softmax.out = at
            layer.weight_sum_layer.cache = (hs, at.reshape(N, S, 1))
            layer.attention_weight = at
            layers.append(layer)
        return layers
