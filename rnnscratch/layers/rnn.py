"""RNN and TimeRNN, the course-compatible recurrent layers, computed by
rnnscratch._core.

State (params, grads, cache, the stateful h) lives here; all arithmetic and
all argument checking happen in C. Shapes: N batch, T time steps, D input
features, H hidden units.
"""
import numpy as np

from .._loader import _core
from .._policy import HiddenState, backward_cache, check_activation, grads_like

__all__ = ["RNN", "TimeRNN"]


class _ParamsMixin:
    """params = [Wx, Wh, b] (or [Wx, Wh] without bias); grads shaped like them."""

    def _init_params(self, Wx, Wh, b, activation):
        self.activation = check_activation(activation)
        self.params = [Wx, Wh] if b is None else [Wx, Wh, b]
        self.grads = grads_like(self.params, ("Wx", "Wh", "b"))

    def _bias(self):
        return self.params[2] if len(self.params) > 2 else None

    def _dbias(self):
        return self.grads[2] if len(self.grads) > 2 else None


class RNN(_ParamsMixin):
    """One time step: h_next = f(x @ Wx + h_prev @ Wh + b).

    Wx (D,H), Wh (H,H), b (H,) or None. forward(x (N,D), h_prev (N,H)) -> h_next (N,H);
    backward(dh_next (N,H)) -> (dx (N,D), dh_prev (N,H)), gradients written into
    the arrays of `grads` in place.
    """

    def __init__(self, Wx, Wh, b=None, activation="tanh"):
        self._init_params(Wx, Wh, b, activation)
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh = self.params[0], self.params[1]
        h_next = _core.rnn_forward(x, h_prev, Wx, Wh, self._bias(), self.activation)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        x, h_prev, h_next = backward_cache(self.cache, "RNN")
        Wx, Wh = self.params[0], self.params[1]
        return _core.rnn_backward(dh_next, x, h_prev, h_next, Wx, Wh,
                                  self.grads[0], self.grads[1], self._dbias(),
                                  self.activation, b=self._bias())


class TimeRNN(_ParamsMixin, HiddenState):
    """T time steps at once, the loop over time in C.

    forward(xs (N,T,D)) -> hs (N,T,H); backward(dhs (N,T,H)) -> dxs (N,T,D), with
    self.dh (N,H) the gradient of the initial state. stateful=True carries the
    last hidden state `h` into the next forward (truncated BPTT).
    """

    def __init__(self, Wx, Wh, b=None, stateful=False, activation="tanh"):
        self._init_params(Wx, Wh, b, activation)
        self.stateful = stateful
        self.h, self.dh = None, None
        self.cache = None

    def forward(self, xs):
        Wx, Wh = self.params[0], self.params[1]
        h0 = self.h if (self.stateful and self.h is not None) else None
        try:
            hs = _core.time_rnn_forward(xs, h0, Wx, Wh, self._bias(), self.activation)
        except (ValueError, TypeError) as e:
            if h0 is not None and str(e).startswith("h0:"):
                # the user never passed an h0: name the state they set
                raise type(e)("h (the state carried by stateful=True or set by set_state):"
                              + str(e)[3:]) from None
            raise
        self.cache = (xs, h0, hs)
        if hs.shape[1] > 0:
            self.h = hs[:, -1].copy()
        elif h0 is not None:
            self.h = h0
        else:
            self.h = np.zeros((hs.shape[0], hs.shape[2]), dtype=hs.dtype)
        return hs

    def backward(self, dhs):
        xs, h0, hs = backward_cache(self.cache, "TimeRNN")
        Wx, Wh = self.params[0], self.params[1]
        dxs, dh0 = _core.time_rnn_backward(dhs, xs, h0, hs, Wx, Wh,
                                           self.grads[0], self.grads[1], self._dbias(),
                                           self.activation, b=self._bias())
        self.dh = dh0
        return dxs
