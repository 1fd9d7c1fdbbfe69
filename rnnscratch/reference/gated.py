"""Pure-NumPy twins of the gated layers of the book's chapters 6-8.

Written from the formulas below (the book's conventions: batch first, gate
blocks of H columns side by side in Wx (D, G*H), Wh (H, G*H), b (G*H,)).
sigma is the logistic sigmoid, * the elementwise product, . the matrix product.

LSTM (G = 4, blocks in the order f, g, i, o)::

    A      = x.Wx + h_prev.Wh + b                                    (N, 4H)
    f, g, i, o = sigma(A_f), tanh(A_g), sigma(A_i), sigma(A_o)
    c_next = f * c_prev + g * i
    h_next = o * tanh(c_next)

    ds      = dc_next + dh_next * o * (1 - tanh(c_next)^2)
    dc_prev = ds * f
    dA_f = ds * c_prev * f(1-f)      dA_g = ds * i * (1-g^2)
    dA_i = ds * g * i(1-i)           dA_o = dh_next * tanh(c_next) * o(1-o)
    dx = dA.Wx^T   dh_prev = dA.Wh^T   dWx = x^T.dA   dWh = h_prev^T.dA   db = sum_n dA

GRU, the book's variant (G = 3, blocks z, r, h~; the reset gate multiplies
h_prev BEFORE the product with Whh; z weighs the NEW candidate)::

    z      = sigma(x.Wxz + h_prev.Whz + bz)
    r      = sigma(x.Wxr + h_prev.Whr + br)
    h~     = tanh(x.Wxh + (r * h_prev).Whh + bh)
    h_next = (1 - z) * h_prev + z * h~

    dA_h = dh_next * z * (1 - h~^2)
    dA_z = dh_next * (h~ - h_prev) * z(1-z)
    dA_r = (dA_h.Whh^T) * h_prev * r(1-r)
    dx      = [dA_z, dA_r, dA_h].Wx^T
    dh_prev = dh_next * (1-z) + r * (dA_h.Whh^T) + dA_z.Whz^T + dA_r.Whr^T
    dWx = x^T.[dA_z, dA_r, dA_h]     db = sum_n [dA_z, dA_r, dA_h]
    dWh = [h_prev^T.dA_z, h_prev^T.dA_r, (r*h_prev)^T.dA_h]

TimeLSTM / TimeGRU chain the cells over T steps (zero initial state unless
``stateful`` and a state is held); backward starts from dh = dc = 0 after the
last step, sums the parameter gradients over time and keeps the gradient of
the initial state in ``dh`` (and, for the LSTM, ``dc``).

TimeBiLSTM runs one TimeLSTM over xs and another over xs reversed in time,
and concatenates [forward hs, backward hs re-reversed] on the feature axis.

Conventions of every reference twin: ``params``/``grads`` lists, gradients
written in place (the arrays keep their identity), parameters re-read at each
call; compute dtype float32 when the parameters are float16/float32, else
float64; inputs of any layout are accepted and cast; bad input raises
ValueError/TypeError naming the argument, and a call that raises changes no
parameter, gradient or state.
"""
import numpy as np

from .._policy import HiddenState, check_numeric, compute_dtype
from ._checks import check_ndim, check_shape
from .rnn import _write_grads

__all__ = ["LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeDropout", "TimeBiLSTM",
           "TimeSigmoidWithLoss"]  # TimeDropout, TimeSigmoidWithLoss: numpy_layers'

# the layers both sides share (rnnscratch.layers imports the same classes)
from .numpy_layers import TimeDropout, TimeSigmoidWithLoss, _sigmoid  # noqa: E402



# --------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------

# the checks every reference layer shares (one copy: _policy, _checks)
_numeric = check_numeric
_ndim = check_ndim
_shape = check_shape


def _array(name, value, expected, legend, dt):
    """Check ``value`` is numeric with the ``expected`` shape; return it cast to ``dt``."""
    arr = _numeric(name, value)
    _ndim(name, arr, len(expected), legend)
    _shape(name, arr, expected, legend)
    return arr.astype(dt, copy=False)


def _gate_params(params, G, cls):
    """Check [Wx (D,G*H), Wh (H,G*H), b (G*H,)]; return (Wx, Wh, b, D, H, dt), cast."""
    if len(params) != 3:
        raise ValueError("%s params must hold [Wx, Wh, b], got %d arrays" % (cls, len(params)))
    Wx, Wh, b = (_numeric(n, p) for n, p in zip(("Wx", "Wh", "b"), params))
    _ndim("Wh", Wh, 2, "(H, %d*H)" % G)
    H = Wh.shape[0]
    _shape("Wh", Wh, (H, G * H), "(H, %d*H) with H = Wh.shape[0] = %d" % (G, H))
    _ndim("Wx", Wx, 2, "(D, %d*H)" % G)
    D = Wx.shape[0]
    _shape("Wx", Wx, (D, G * H), "(D, %d*H) with H = Wh.shape[0] = %d" % (G, H))
    _ndim("b", b, 1, "(%d*H,)" % G)
    _shape("b", b, (G * H,), "(%d*H,) with H = Wh.shape[0] = %d" % (G, H))
    dt = compute_dtype([Wx, Wh, b])
    return Wx.astype(dt, copy=False), Wh.astype(dt, copy=False), b.astype(dt, copy=False), D, H, dt


def _init_params(Wx, Wh, b, G, cls):
    params = [Wx, Wh, b]
    _gate_params(params, G, cls)  # validates shapes and dtypes at construction
    dt = compute_dtype([np.asarray(p) for p in params])
    return params, [np.zeros(np.shape(p), dtype=dt) for p in params]


def _check_unchanged(cls, D, H, fD, fH, Wx):
    if (D, H) != (fD, fH):
        raise ValueError("%s params changed shape since forward: Wx has shape %s (D=%d, H=%d), "
                         "forward ran with D=%d, H=%d" % (cls, Wx.shape, D, H, fD, fH))


def _state(name, value, N, H, dt):
    return _array(name, value, (N, H), "(N, H) with N = %d, H = %d" % (N, H), dt)


# --------------------------------------------------------------------------
# LSTM cell
# --------------------------------------------------------------------------

def _step_input(x, D, dt):
    """A step's x (N,D) checked and cast to dt, and N."""
    x = _numeric("x", x)
    _ndim("x", x, 2, "(N, D)")
    N = x.shape[0]
    return _array("x", x, (N, D), "(N, D) with D = Wx.shape[0] = %d" % D, dt), N


def _lstm_step(x, h_prev, c_prev, Wx, Wh, b, H):
    A = x @ Wx + h_prev @ Wh + b
    f = _sigmoid(A[:, :H])
    g = np.tanh(A[:, H:2 * H])
    i = _sigmoid(A[:, 2 * H:3 * H])
    o = _sigmoid(A[:, 3 * H:])
    c_next = f * c_prev + g * i
    tc = np.tanh(c_next)
    h_next = o * tc
    return h_next, c_next, (f, g, i, o, tc)


def _lstm_step_back(dh_next, dc_next, x, h_prev, c_prev, gates, Wx, Wh):
    """Return dx, dh_prev, dc_prev, dWx, dWh, db."""
    f, g, i, o, tc = gates
    one = f.dtype.type(1)
    ds = dc_next + dh_next * o * (one - tc * tc)
    dc_prev = ds * f
    dA = np.concatenate((ds * c_prev * f * (one - f),
                         ds * i * (one - g * g),
                         ds * g * i * (one - i),
                         dh_next * tc * o * (one - o)), axis=1)
    return dA @ Wx.T, dA @ Wh.T, dc_prev, x.T @ dA, h_prev.T @ dA, dA.sum(axis=0)


class LSTM:
    """One LSTM step, the book's gate order f, g, i, o.

    Wx (D,4H), Wh (H,4H), b (4H,). forward(x (N,D), h_prev (N,H), c_prev (N,H))
    -> (h_next, c_next); backward(dh_next, dc_next) -> (dx, dh_prev, dc_prev)
    and writes dWx, dWh, db into ``grads`` in place. ``dc_next`` may also be a
    scalar (the book's TimeLSTM passes 0 at the last step).
    """

    def __init__(self, Wx, Wh, b):
        self.params, self.grads = _init_params(Wx, Wh, b, 4, "LSTM")
        self.cache = None

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b, D, H, dt = _gate_params(self.params, 4, "LSTM")
        x, N = _step_input(x, D, dt)
        h_prev = _state("h_prev", h_prev, N, H, dt)
        c_prev = _state("c_prev", c_prev, N, H, dt)
        h_next, c_next, gates = _lstm_step(x, h_prev, c_prev, Wx, Wh, b, H)
        self.cache = (x, h_prev, c_prev, gates, D, H)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        if self.cache is None:
            raise RuntimeError("LSTM.backward called before forward")
        Wx, Wh, b, D, H, dt = _gate_params(self.params, 4, "LSTM")
        x, h_prev, c_prev, gates, fD, fH = self.cache
        _check_unchanged("LSTM", D, H, fD, fH, Wx)
        N = x.shape[0]
        dh_next = _state("dh_next", dh_next, N, H, dt)
        dc = _numeric("dc_next", dc_next)
        if dc.ndim == 0:
            dc_next = np.full((N, H), dc, dtype=dt)
        else:
            dc_next = _state("dc_next", dc, N, H, dt)
        x, h_prev, c_prev = (a.astype(dt, copy=False) for a in (x, h_prev, c_prev))
        gates = tuple(a.astype(dt, copy=False) for a in gates)
        dx, dh_prev, dc_prev, dWx, dWh, db = _lstm_step_back(
            dh_next, dc_next, x, h_prev, c_prev, gates, Wx, Wh)
        _write_grads(self.grads, dWx, dWh, db)
        return dx, dh_prev, dc_prev


class TimeLSTM:
    """An LSTM over T time steps (batch first).

    xs (N,T,D) -> hs (N,T,H). ``backward(dhs)`` returns dxs (N,T,D), sets
    ``dh`` and ``dc`` to the gradients of the initial h and c, and writes the
    sums over time of dWx, dWh, db into ``grads`` in place. With
    ``stateful=True`` the last ``h`` and ``c`` are carried to the next call;
    ``set_state(h, c=None)`` (c None: zeros) and ``reset_state()``.
    """

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params, self.grads = _init_params(Wx, Wh, b, 4, "TimeLSTM")
        self.h, self.c = None, None
        self.dh, self.dc = None, None
        self.stateful = stateful
        self._cache = None

    # forward in two halves so that TimeBiLSTM can validate both directions
    # before it changes anything
    def _prepare(self, xs, name="xs"):
        Wx, Wh, b, D, H, dt = _gate_params(self.params, 4, "TimeLSTM")
        xs = _numeric(name, xs)
        _ndim(name, xs, 3, "(N, T, D)")
        N, T = xs.shape[:2]
        xs = _array(name, xs, (N, T, D), "(N, T, D) with D = Wx.shape[0] = %d" % D, dt)
        if self.stateful and self.h is not None:
            h0 = _state("h", self.h, N, H, dt).copy()
        else:
            h0 = np.zeros((N, H), dtype=dt)
        if self.stateful and self.c is not None:
            c0 = _state("c", self.c, N, H, dt).copy()
        else:
            c0 = np.zeros((N, H), dtype=dt)
        return xs, h0, c0, Wx, Wh, b, D, H, dt

    def _run(self, prepared):
        xs, h0, c0, Wx, Wh, b, D, H, dt = prepared
        N, T = xs.shape[:2]
        hs = np.empty((N, T, H), dtype=dt)
        cs = np.empty((N, T, H), dtype=dt)
        gates = []
        h, c = h0, c0
        for t in range(T):
            h, c, gt = _lstm_step(xs[:, t, :], h, c, Wx, Wh, b, H)
            hs[:, t, :] = h
            cs[:, t, :] = c
            gates.append(gt)
        self._cache = (xs, h0, c0, hs, cs, gates, D, H)
        self.h = hs[:, -1, :].copy() if T > 0 else h0.copy()
        self.c = cs[:, -1, :].copy() if T > 0 else c0.copy()
        return hs

    def forward(self, xs):
        return self._run(self._prepare(xs))

    def _prepare_back(self, dhs, name="dhs"):
        if self._cache is None:
            raise RuntimeError("TimeLSTM.backward called before forward")
        Wx, Wh, b, D, H, dt = _gate_params(self.params, 4, "TimeLSTM")
        xs, h0, c0, hs, cs, gates, fD, fH = self._cache
        _check_unchanged("TimeLSTM", D, H, fD, fH, Wx)
        N, T = xs.shape[:2]
        dhs = _array(name, dhs, (N, T, H), "(N, T, H) like hs", dt)
        return dhs, Wx, Wh, dt

    def _run_back(self, prepared):
        dhs, Wx, Wh, dt = prepared
        xs, h0, c0, hs, cs, gates, D, H = self._cache
        xs, h0, c0, hs, cs = (a.astype(dt, copy=False) for a in (xs, h0, c0, hs, cs))
        N, T = xs.shape[:2]
        dxs = np.empty((N, T, D), dtype=dt)
        dWx = np.zeros((D, 4 * H), dtype=dt)
        dWh = np.zeros((H, 4 * H), dtype=dt)
        db = np.zeros(4 * H, dtype=dt)
        dh = np.zeros((N, H), dtype=dt)
        dc = np.zeros((N, H), dtype=dt)
        for t in reversed(range(T)):
            h_prev = hs[:, t - 1, :] if t > 0 else h0
            c_prev = cs[:, t - 1, :] if t > 0 else c0
            gt = tuple(a.astype(dt, copy=False) for a in gates[t])
            dx, dh, dc, dWx_t, dWh_t, db_t = _lstm_step_back(
                dhs[:, t, :] + dh, dc, xs[:, t, :], h_prev, c_prev, gt, Wx, Wh)
            dxs[:, t, :] = dx
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        _write_grads(self.grads, dWx, dWh, db)
        self.dh, self.dc = dh, dc
        return dxs

    def backward(self, dhs):
        return self._run_back(self._prepare_back(dhs))

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h, self.c = None, None


# --------------------------------------------------------------------------
# GRU cell (the book's variant)
# --------------------------------------------------------------------------

def _gru_step(x, h_prev, Wx, Wh, b, H):
    ax = x @ Wx + b                                   # (N, 3H): z, r, h~ input parts
    ah = h_prev @ Wh[:, :2 * H]                      # (N, 2H): z, r recurrent parts
    z = _sigmoid(ax[:, :H] + ah[:, :H])
    r = _sigmoid(ax[:, H:2 * H] + ah[:, H:])
    rh = r * h_prev
    hh = np.tanh(ax[:, 2 * H:] + rh @ Wh[:, 2 * H:])
    h_next = (1 - z) * h_prev + z * hh
    return h_next, (z, r, hh)


def _gru_step_back(dh_next, x, h_prev, gates, Wx, Wh, H):
    """Return dx, dh_prev, dWx, dWh, db."""
    z, r, hh = gates
    one = z.dtype.type(1)
    dA_h = dh_next * z * (one - hh * hh)
    dA_z = dh_next * (hh - h_prev) * z * (one - z)
    drh = dA_h @ Wh[:, 2 * H:].T                     # d loss / d (r * h_prev)
    dA_r = drh * h_prev * r * (one - r)
    dA = np.concatenate((dA_z, dA_r, dA_h), axis=1)
    dx = dA @ Wx.T
    dh_prev = dh_next * (one - z) + r * drh + dA[:, :2 * H] @ Wh[:, :2 * H].T
    dWh = np.concatenate((h_prev.T @ dA[:, :2 * H], (r * h_prev).T @ dA_h), axis=1)
    return dx, dh_prev, x.T @ dA, dWh, dA.sum(axis=0)


class GRU:
    """One GRU step, the book's variant (blocks z, r, h~; see the module docstring).

    Wx (D,3H), Wh (H,3H), b (3H,). forward(x (N,D), h_prev (N,H)) -> h_next;
    backward(dh_next) -> (dx, dh_prev), dWx, dWh, db written into ``grads``.
    """

    def __init__(self, Wx, Wh, b):
        self.params, self.grads = _init_params(Wx, Wh, b, 3, "GRU")
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b, D, H, dt = _gate_params(self.params, 3, "GRU")
        x, N = _step_input(x, D, dt)
        h_prev = _state("h_prev", h_prev, N, H, dt)
        h_next, gates = _gru_step(x, h_prev, Wx, Wh, b, H)
        self.cache = (x, h_prev, gates, D, H)
        return h_next

    def backward(self, dh_next):
        if self.cache is None:
            raise RuntimeError("GRU.backward called before forward")
        Wx, Wh, b, D, H, dt = _gate_params(self.params, 3, "GRU")
        x, h_prev, gates, fD, fH = self.cache
        _check_unchanged("GRU", D, H, fD, fH, Wx)
        dh_next = _state("dh_next", dh_next, x.shape[0], H, dt)
        x, h_prev = x.astype(dt, copy=False), h_prev.astype(dt, copy=False)
        gates = tuple(a.astype(dt, copy=False) for a in gates)
        dx, dh_prev, dWx, dWh, db = _gru_step_back(dh_next, x, h_prev, gates, Wx, Wh, H)
        _write_grads(self.grads, dWx, dWh, db)
        return dx, dh_prev


class TimeGRU(HiddenState):
    """The book's GRU over T time steps (batch first): xs (N,T,D) -> hs (N,T,H);
    backward(dhs) -> dxs, ``dh`` (gradient of the initial h), grads in place;
    ``stateful``, ``h``, ``set_state(h)``, ``reset_state()`` as TimeRNN."""

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params, self.grads = _init_params(Wx, Wh, b, 3, "TimeGRU")
        self.h, self.dh = None, None
        self.stateful = stateful
        self._cache = None

    def forward(self, xs):
        Wx, Wh, b, D, H, dt = _gate_params(self.params, 3, "TimeGRU")
        xs = _numeric("xs", xs)
        _ndim("xs", xs, 3, "(N, T, D)")
        N, T = xs.shape[:2]
        xs = _array("xs", xs, (N, T, D), "(N, T, D) with D = Wx.shape[0] = %d" % D, dt)
        if self.stateful and self.h is not None:
            h0 = _state("h", self.h, N, H, dt).copy()
        else:
            h0 = np.zeros((N, H), dtype=dt)
        hs = np.empty((N, T, H), dtype=dt)
        gates = []
        h = h0
        for t in range(T):
            h, gt = _gru_step(xs[:, t, :], h, Wx, Wh, b, H)
            hs[:, t, :] = h
            gates.append(gt)
        self._cache = (xs, h0, hs, gates, D, H)
        self.h = hs[:, -1, :].copy() if T > 0 else h0.copy()
        return hs

    def backward(self, dhs):
        if self._cache is None:
            raise RuntimeError("TimeGRU.backward called before forward")
        Wx, Wh, b, D, H, dt = _gate_params(self.params, 3, "TimeGRU")
        xs, h0, hs, gates, fD, fH = self._cache
        _check_unchanged("TimeGRU", D, H, fD, fH, Wx)
        N, T = xs.shape[:2]
        dhs = _array("dhs", dhs, (N, T, H), "(N, T, H) like hs", dt)
        xs, h0, hs = (a.astype(dt, copy=False) for a in (xs, h0, hs))
        dxs = np.empty((N, T, D), dtype=dt)
        dWx = np.zeros((D, 3 * H), dtype=dt)
        dWh = np.zeros((H, 3 * H), dtype=dt)
        db = np.zeros(3 * H, dtype=dt)
        dh = np.zeros((N, H), dtype=dt)
        for t in reversed(range(T)):
            h_prev = hs[:, t - 1, :] if t > 0 else h0
            gt = tuple(a.astype(dt, copy=False) for a in gates[t])
            dx, dh, dWx_t, dWh_t, db_t = _gru_step_back(
                dhs[:, t, :] + dh, xs[:, t, :], h_prev, gt, Wx, Wh, H)
            dxs[:, t, :] = dx
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        _write_grads(self.grads, dWx, dWh, db)
        self.dh = dh
        return dxs


# --------------------------------------------------------------------------
# TimeBiLSTM
# --------------------------------------------------------------------------

class TimeBiLSTM:
    """Two TimeLSTMs, one over xs and one over xs reversed in time.

    forward(xs (N,T,D)) -> (N,T,H1+H2): [hs of the forward LSTM, hs of the
    backward LSTM put back in time order]; backward(dhs) -> dxs, the sum of
    both directions. ``params``/``grads``: [Wx1, Wh1, b1, Wx2, Wh2, b2]. With
    ``stateful`` each direction carries its own state (the backward one from
    its last step, i.e. t = 0, as the book does); ``reset_state()`` clears both.
    """

    def __init__(self, Wx1, Wh1, b1, Wx2, Wh2, b2, stateful=False):
        fwd = TimeLSTM(Wx1, Wh1, b1, stateful)
        bwd = TimeLSTM(Wx2, Wh2, b2, stateful)
        if np.shape(Wx1)[0] != np.shape(Wx2)[0]:
            raise ValueError("Wx2 must have as many rows as Wx1 (both directions read the "
                             "same xs): Wx1 has shape %s, Wx2 has shape %s"
                             % (np.shape(Wx1), np.shape(Wx2)))
        self.forward_lstm, self.backward_lstm = fwd, bwd
        self.params = fwd.params + bwd.params
        self.grads = fwd.grads + bwd.grads

    def forward(self, xs):
        xs = _numeric("xs", xs)
        _ndim("xs", xs, 3, "(N, T, D)")
        p1 = self.forward_lstm._prepare(xs)
        p2 = self.backward_lstm._prepare(xs[:, ::-1], "xs")
        if p1[-1] != p2[-1]:  # compute the two halves in one dtype
            raise TypeError("both directions must have the same parameter dtype: "
                            "Wx1/Wh1/b1 compute in %s, Wx2/Wh2/b2 in %s" % (p1[-1], p2[-1]))
        o1 = self.forward_lstm._run(p1)
        o2 = self.backward_lstm._run(p2)
        return np.concatenate((o1, o2[:, ::-1]), axis=2)

    def backward(self, dhs):
        if self.forward_lstm._cache is None:
            raise RuntimeError("TimeBiLSTM.backward called before forward")
        H1 = self.forward_lstm._cache[-1]
        H2 = self.backward_lstm._cache[-1]
        N, T = self.forward_lstm._cache[0].shape[:2]
        dhs = _numeric("dhs", dhs)
        _ndim("dhs", dhs, 3, "(N, T, H1+H2)")
        _shape("dhs", dhs, (N, T, H1 + H2), "(N, T, H1+H2) like the output")
        p1 = self.forward_lstm._prepare_back(dhs[:, :, :H1], "dhs")
        p2 = self.backward_lstm._prepare_back(dhs[:, ::-1, H1:], "dhs")
        dxs1 = self.forward_lstm._run_back(p1)
        dxs2 = self.backward_lstm._run_back(p2)
        return dxs1 + dxs2[:, ::-1]

    def reset_state(self):
        self.forward_lstm.reset_state()
        self.backward_lstm.reset_state()
