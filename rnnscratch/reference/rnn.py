"""Pure-NumPy reference implementation of the vanilla RNN layers.

This module is the oracle of the test suite and the slow baseline of the
benchmarks.  It is written directly from the formulas, one time step at a time:

    a_t = x_t . Wx + h_{t-1} . Wh + b          x_t (N,D), Wx (D,H), Wh (H,H), b (H,)
    h_t = f(a_t)                               f in {tanh, relu, sigmoid}

and, for the backward pass (the derivative of f is taken from its output h):

    dA_t      = dh_t * f'(h_t)                 tanh: 1-h^2, relu: h>0, sigmoid: h(1-h)
    dx_t      = dA_t . Wx^T
    dh_{t-1}  = dA_t . Wh^T
    dWx      += x_t^T . dA_t
    dWh      += h_{t-1}^T . dA_t
    db       += sum_n dA_t

The classes have exactly the API of the compiled ``rnnscratch.RNN`` and
``rnnscratch.TimeRNN`` (which is the API of the course classes, plus the
``activation=`` keyword and an optional bias).

Dtype policy (rnnscratch._policy.compute_dtype): the compute dtype is derived
from the parameters at every call, from NumPy's result type of them;
float16/float32 compute in float32, everything else (float64, integers, bool)
in float64. Inputs are cast to it.
"""

import numpy as np

from .._policy import HiddenState, check_activation, compute_dtype, grads_like
from ._checks import check_ndim, check_numeric, check_shape

__all__ = ["RNN", "TimeRNN"]


# --------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------

def _read_params(params):
    """Check the parameter list; return (Wx, Wh, b_or_None, D, H, dtype), all cast."""
    names = ("Wx", "Wh", "b")
    if len(params) not in (2, 3):
        raise ValueError("params: expected [Wx, Wh] or [Wx, Wh, b], got %d arrays"
                         % len(params))
    arrs = [check_numeric(names[i], p) for i, p in enumerate(params)]
    Wx, Wh = arrs[0], arrs[1]
    check_ndim("Wx", Wx, 2, "(D, H)")
    D, H = Wx.shape
    check_ndim("Wh", Wh, 2, "(H, H)")
    check_shape("Wh", Wh, (H, H), "(H, H) with H = Wx.shape[1] = %d" % H)
    b = None
    if len(arrs) == 3:
        b = arrs[2]
        check_ndim("b", b, 1, "(H,)")
        check_shape("b", b, (H,), "(H,) with H = Wx.shape[1] = %d" % H)
    dt = compute_dtype(arrs)
    Wx = Wx.astype(dt, copy=False)
    Wh = Wh.astype(dt, copy=False)
    if b is not None:
        b = b.astype(dt, copy=False)
    return Wx, Wh, b, D, H, dt


def _make_params_and_grads(Wx, Wh, b):
    params = [Wx, Wh] if b is None else [Wx, Wh, b]
    _read_params(params)  # validates shapes and dtypes at construction
    return params, grads_like(params, ("Wx", "Wh", "b"))


# --------------------------------------------------------------------------
# activations: value, and derivative from the stored output
# --------------------------------------------------------------------------

def _activate(a, activation):
    if activation == "tanh":
        return np.tanh(a)
    if activation == "relu":
        return np.maximum(a, 0)
    # sigmoid without overflow and with full relative precision for a << 0:
    # 1/(1+e^-a) for a >= 0, e^a/(1+e^a) for a < 0
    e = np.exp(-np.abs(a))
    s = 1 / (1 + e)
    return np.where(a >= 0, s, e * s)


def _derivative_from_output(h, activation):
    one = h.dtype.type(1)
    if activation == "tanh":
        return one - h * h
    if activation == "relu":
        return (h > 0).astype(h.dtype)
    return h * (one - h)


# --------------------------------------------------------------------------
# one time step
# --------------------------------------------------------------------------

def _step_forward(x, h_prev, Wx, Wh, b, activation):
    a = x @ Wx + h_prev @ Wh
    if b is not None:
        a = a + b
    return _activate(a, activation)


def _step_backward(dh_next, x, h_prev, h_next, Wx, Wh, with_bias, activation):
    """Return dx, dh_prev, dWx, dWh, db (db is None without bias)."""
    dA = dh_next * _derivative_from_output(h_next, activation)
    dx = dA @ Wx.T
    dh_prev = dA @ Wh.T
    dWx = x.T @ dA
    dWh = h_prev.T @ dA
    db = dA.sum(axis=0) if with_bias else None
    return dx, dh_prev, dWx, dWh, db


def _write_grads(grads, dWx, dWh, db):
    grads[0][...] = dWx
    grads[1][...] = dWh
    if db is not None:
        grads[2][...] = db


# --------------------------------------------------------------------------
# the layers
# --------------------------------------------------------------------------

class RNN:
    """One time step of a vanilla RNN: h_next = f(x.Wx + h_prev.Wh + b).

    x (N,D), h_prev (N,H) -> h_next (N,H).  ``backward(dh_next)`` returns
    ``(dx, dh_prev)`` and writes dWx, dWh (and db) into ``self.grads`` in place.
    """

    def __init__(self, Wx, Wh, b=None, activation="tanh"):
        self.activation = check_activation(activation)
        self.params, self.grads = _make_params_and_grads(Wx, Wh, b)
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b, D, H, dt = _read_params(self.params)
        activation = check_activation(self.activation)
        x = check_numeric("x", x)
        h_prev = check_numeric("h_prev", h_prev)
        check_ndim("x", x, 2, "(N, D)")
        N = x.shape[0]
        check_shape("x", x, (N, D), "(N, D) with D = Wx.shape[0] = %d" % D)
        check_ndim("h_prev", h_prev, 2, "(N, H)")
        check_shape("h_prev", h_prev, (N, H),
                     "(N, H) with N = x.shape[0] = %d, H = Wx.shape[1] = %d" % (N, H))
        x = x.astype(dt, copy=False)
        h_prev = h_prev.astype(dt, copy=False)

        h_next = _step_forward(x, h_prev, Wx, Wh, b, activation)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        if self.cache is None:
            raise RuntimeError("RNN.backward called before forward")
        Wx, Wh, b, D, H, dt = _read_params(self.params)
        activation = check_activation(self.activation)
        x, h_prev, h_next = self.cache
        if x.shape[1] != D or h_next.shape[1] != H:
            raise ValueError("params changed shape since forward: Wx has shape %s, "
                             "forward saw x of shape %s and h_next of shape %s"
                             % (Wx.shape, x.shape, h_next.shape))
        dh_next = check_numeric("dh_next", dh_next)
        check_ndim("dh_next", dh_next, 2, "(N, H)")
        check_shape("dh_next", dh_next, h_next.shape, "(N, H) like h_next")
        dh_next = dh_next.astype(dt, copy=False)
        x, h_prev, h_next = (a.astype(dt, copy=False) for a in (x, h_prev, h_next))

        dx, dh_prev, dWx, dWh, db = _step_backward(
            dh_next, x, h_prev, h_next, Wx, Wh, b is not None, activation)
        _write_grads(self.grads, dWx, dWh, db)
        return dx, dh_prev


class TimeRNN(HiddenState):
    """A vanilla RNN over T time steps (batch first).

    xs (N,T,D) -> hs (N,T,H).  ``backward(dhs)`` returns dxs (N,T,D), sets
    ``self.dh`` to the gradient w.r.t. the initial state and writes the sums
    over time of dWx, dWh (and db) into ``self.grads`` in place.

    With ``stateful=True`` the last hidden state ``self.h`` is carried over to
    the next ``forward`` call (truncated BPTT); otherwise each call starts from
    zeros.
    """

    def __init__(self, Wx, Wh, b=None, stateful=False, activation="tanh"):
        self.activation = check_activation(activation)
        self.params, self.grads = _make_params_and_grads(Wx, Wh, b)
        self.h, self.dh = None, None
        self.stateful = stateful
        self._cache = None

    def forward(self, xs):
        Wx, Wh, b, D, H, dt = _read_params(self.params)
        activation = check_activation(self.activation)
        xs = check_numeric("xs", xs)
        check_ndim("xs", xs, 3, "(N, T, D)")
        N, T = xs.shape[:2]
        check_shape("xs", xs, (N, T, D), "(N, T, D) with D = Wx.shape[0] = %d" % D)

        if self.stateful and self.h is not None:
            h0 = check_numeric("h", self.h)
            check_ndim("h", h0, 2, "(N, H)")
            check_shape("h", h0, (N, H),
                         "(N, H) with N = xs.shape[0] = %d, H = Wx.shape[1] = %d" % (N, H))
            h0 = h0.astype(dt, copy=True)
        else:
            h0 = np.zeros((N, H), dtype=dt)
        xs = xs.astype(dt, copy=False)

        hs = np.empty((N, T, H), dtype=dt)
        h = h0
        for t in range(T):
            h = _step_forward(xs[:, t, :], h, Wx, Wh, b, activation)
            hs[:, t, :] = h

        self._cache = (xs, h0, hs)
        self.h = hs[:, -1, :].copy() if T > 0 else h0.copy()
        return hs

    def backward(self, dhs):
        if self._cache is None:
            raise RuntimeError("TimeRNN.backward called before forward")
        Wx, Wh, b, D, H, dt = _read_params(self.params)
        activation = check_activation(self.activation)
        xs, h0, hs = self._cache
        N, T = xs.shape[:2]
        if xs.shape[2] != D or hs.shape[2] != H:
            raise ValueError("params changed shape since forward: Wx has shape %s, "
                             "forward saw xs of shape %s and hs of shape %s"
                             % (Wx.shape, xs.shape, hs.shape))
        dhs = check_numeric("dhs", dhs)
        check_ndim("dhs", dhs, 3, "(N, T, H)")
        check_shape("dhs", dhs, (N, T, H), "(N, T, H) like hs")
        dhs = dhs.astype(dt, copy=False)
        xs, h0, hs = (a.astype(dt, copy=False) for a in (xs, h0, hs))

        dxs = np.empty((N, T, D), dtype=dt)
        dWx = np.zeros((D, H), dtype=dt)
        dWh = np.zeros((H, H), dtype=dt)
        db = np.zeros(H, dtype=dt) if b is not None else None
        dh = np.zeros((N, H), dtype=dt)
        for t in reversed(range(T)):
            h_prev = hs[:, t - 1, :] if t > 0 else h0
            dx, dh, dWx_t, dWh_t, db_t = _step_backward(
                dhs[:, t, :] + dh, xs[:, t, :], h_prev, hs[:, t, :],
                Wx, Wh, b is not None, activation)
            dxs[:, t, :] = dx
            dWx += dWx_t
            dWh += dWh_t
            if db is not None:
                db += db_t

        _write_grads(self.grads, dWx, dWh, db)
        self.dh = dh
        return dxs
