"""Pure-NumPy reference of the attention layers (chapter 8), written from the
formulas, one decoder step at a time. Shapes: N batch, S encoder steps,
T decoder steps, H hidden units.

    AttentionWeight   s[n,i] = sum_h hs[n,i,h] * h[n,h]
                      a[n,:] = exp(s[n,:] - max_i s[n,i]) / sum_i exp(...)
                      backward: ds = a*da - a * sum_i a*da
                                dhs[n,i,:] = ds[n,i] * h[n,:],  dh[n,:] = sum_i ds[n,i] * hs[n,i,:]
    WeightSum         c[n,:] = sum_i a[n,i] * hs[n,i,:]
                      backward: dhs[n,i,:] = a[n,i] * dc[n,:],  da[n,i] = sum_h dc[n,h] * hs[n,i,h]
    Attention         WeightSum(hs, AttentionWeight(hs, h)); dhs = the sum of both parts
    TimeAttention     Attention at every decoder step t; dhs_enc = sum over t

The same APIs as the compiled classes (rnnscratch.layers.attention), which
are the book's. Dtype: compute_dtype of the hidden states (float32 when they
are all float16/float32, else float64); the other arguments are cast to it.
"""
import numpy as np

from .._policy import backward_cache, compute_dtype
from ._checks import check_ndim, check_numeric, check_shape

__all__ = ["WeightSum", "AttentionWeight", "Attention", "TimeAttention"]


def _states(hs, h):
    """(hs (N,S,H), h (N,H)) checked and cast to their compute dtype."""
    hs = check_numeric("hs", hs)
    check_ndim("hs", hs, 3, "(N, S, H)")
    N, S, H = hs.shape
    h = check_numeric("h", h)
    check_ndim("h", h, 2, "(N, H)")
    check_shape("h", h, (N, H), "(N, H) from hs")
    dt = compute_dtype(hs, h)
    return hs.astype(dt, copy=False), h.astype(dt, copy=False)


def _upstream(name, x, shape, legend, dt):
    x = check_numeric(name, x)
    check_ndim(name, x, len(shape), legend)
    check_shape(name, x, shape, legend + " from forward")
    return x.astype(dt, copy=False)


def _softmax(s):
    """softmax over the last axis, max-subtracted; an empty axis stays empty"""
    if s.shape[-1] == 0:
        return s.copy()
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class _SoftmaxOut:
    def __init__(self):
        self.params, self.grads = [], []
        self.out = None


class WeightSum:
    """forward(hs (N,S,H), a (N,S)) -> c (N,H); backward(dc) -> (dhs, da)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None

    def forward(self, hs, a):
        hs = check_numeric("hs", hs)
        check_ndim("hs", hs, 3, "(N, S, H)")
        N, S, H = hs.shape
        dt = compute_dtype(hs)
        hs = hs.astype(dt, copy=False)
        a = _upstream("a", a, (N, S), "(N, S)", dt)
        ar = a.reshape(N, S, 1)
        c = (hs * ar).sum(axis=1)
        self.cache = (hs, ar)
        return c

    def backward(self, dc):
        hs, ar = backward_cache(self.cache, "WeightSum")
        N, S, H = hs.shape
        dc = _upstream("dc", dc, (N, H), "(N, H)", hs.dtype)
        dhs = ar * dc[:, None, :]
        da = (hs * dc[:, None, :]).sum(axis=2)
        return dhs, da


class AttentionWeight:
    """forward(hs (N,S,H), h (N,H)) -> a (N,S); backward(da) -> (dhs, dh)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.softmax = _SoftmaxOut()
        self.cache = None

    def forward(self, hs, h):
        hs, h = _states(hs, h)
        N, S, H = hs.shape
        hr = h.reshape(N, 1, H)
        a = _softmax((hs * hr).sum(axis=2))
        self.cache = (hs, hr)
        self.softmax.out = a
        return a

    def backward(self, da):
        hs, hr = backward_cache(self.cache, "AttentionWeight")
        N, S, H = hs.shape
        da = _upstream("da", da, (N, S), "(N, S)", hs.dtype)
        a = self.softmax.out
        ds = a * da
        ds = ds - a * ds.sum(axis=1, keepdims=True)
        dhs = ds[:, :, None] * hr
        dh = (ds[:, :, None] * hs).sum(axis=1)
        return dhs, dh


class Attention:
    """forward(hs (N,S,H), h (N,H)) -> (N,H), attention_weight (N,S);
    backward(dout (N,H)) -> (dhs (N,S,H), dh (N,H))."""

    def __init__(self):
        self.params, self.grads = [], []
        self.attention_weight_layer = AttentionWeight()
        self.weight_sum_layer = WeightSum()
        self.attention_weight = None

    def forward(self, hs, h):
        a = self.attention_weight_layer.forward(hs, h)
        out = self.weight_sum_layer.forward(self.attention_weight_layer.cache[0], a)
        self.attention_weight = a
        return out

    def backward(self, dout):
        backward_cache(self.attention_weight, "Attention")
        hs = self.attention_weight_layer.cache[0]
        N, S, H = hs.shape
        dout = _upstream("dout", dout, (N, H), "(N, H)", hs.dtype)
        dhs0, da = self.weight_sum_layer.backward(dout)
        dhs1, dh = self.attention_weight_layer.backward(da)
        return dhs0 + dhs1, dh


class TimeAttention:
    """forward(hs_enc (N,S,H), hs_dec (N,T,H)) -> (N,T,H), attention_weights
    the T arrays (N,S); backward(dout (N,T,H)) -> (dhs_enc (N,S,H) summed over
    the steps, dhs_dec (N,T,H)). layers: the per-step Attention layers."""

    def __init__(self):
        self.params, self.grads = [], []
        self.layers = None
        self.attention_weights = None

    def forward(self, hs_enc, hs_dec):
        hs_enc = check_numeric("hs_enc", hs_enc)
        check_ndim("hs_enc", hs_enc, 3, "(N, S, H)")
        N, S, H = hs_enc.shape
        hs_dec = check_numeric("hs_dec", hs_dec)
        check_ndim("hs_dec", hs_dec, 3, "(N, T, H)")
        if hs_dec.shape[0] != N or hs_dec.shape[2] != H:
            raise ValueError(f"hs_dec: expected shape (N, T, H) with N = {N}, H = {H} "
                             f"(from hs_enc), got {hs_dec.shape}")
        dt = compute_dtype(hs_enc, hs_dec)
        hs_enc = hs_enc.astype(dt, copy=False)
        hs_dec = hs_dec.astype(dt, copy=False)
        T = hs_dec.shape[1]
        out = np.empty((N, T, H), dtype=dt)
        layers, weights = [], []
        for t in range(T):
            layer = Attention()
            out[:, t, :] = layer.forward(hs_enc, hs_dec[:, t, :])
            layers.append(layer)
            weights.append(layer.attention_weight)
        self.layers, self.attention_weights = layers, weights
        self._hs_enc = hs_enc
        return out

    def backward(self, dout):
        backward_cache(self.layers, "TimeAttention")
        hs_enc = self._hs_enc
        N, S, H = hs_enc.shape
        T = len(self.layers)
        dout = _upstream("dout", dout, (N, T, H), "(N, T, H)", hs_enc.dtype)
        dhs_enc = np.zeros((N, S, H), dtype=hs_enc.dtype)
        dhs_dec = np.empty((N, T, H), dtype=hs_enc.dtype)
        for t, layer in enumerate(self.layers):
            dhs, dh = layer.backward(dout[:, t, :])
            dhs_enc += dhs
            dhs_dec[:, t, :] = dh
        return dhs_enc, dhs_dec
