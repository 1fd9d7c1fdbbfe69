"""The gated recurrent layers of the book (chapter 6 on), computed by
rnnscratch._core: LSTM, TimeLSTM, GRU, TimeGRU, TimeBiLSTM; and the two
layers that have no loop to compile, TimeDropout and TimeSigmoidWithLoss
(whole-array NumPy, the same classes as rnnscratch.reference's).

Shapes: N batch, T time steps, D input features, H hidden units.
LSTM: Wx (D,4H), Wh (H,4H), b (4H,), gate blocks of H columns f, g, i, o:
    f, g, i, o = σ, tanh, σ, σ of (x·Wx + h_prev·Wh + b)
    c_next = f⊙c_prev + g⊙i,   h_next = o⊙tanh(c_next)
GRU (the book's variant): Wx (D,3H), Wh (H,3H), b (3H,), blocks z, r, h~:
    z, r = σ(x·Wx + h_prev·Wh + b) (their blocks)
    h~ = tanh(x·Wxh + (r⊙h_prev)·Whh + bh),   h_next = (1−z)⊙h_prev + z⊙h~

State (params, grads, caches, the stateful h and c) lives here; the
arithmetic and the argument checks happen in C. A call that raises changes
no parameter, gradient or state.
"""
import os
import threading

import numpy as np

from .._loader import _core
from .._policy import (NUMERIC_KINDS, HiddenState, backward_cache, check_numeric, compute_dtype,
                       grads_like)
from ..reference.numpy_layers import TimeDropout, TimeSigmoidWithLoss  # noqa: F401 (shared)

__all__ = ["LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM", "TimeDropout",
           "TimeSigmoidWithLoss"]


def _renamed_state_error(e, arg, attr):
    """An error the kernel raised about `arg` (h0, c0), which the caller knows
    as the layer's state `attr`: say so."""
    if str(e).startswith(arg + ":"):
        return type(e)(f"{attr} (the state carried by stateful=True or set by set_state):"
                       + str(e)[len(arg) + 1:])
    return e


def _not_none(name, value, legend):
    """The book's cells take their previous state and upstream gradients as arrays:
    None is an error (the Time layers' zero initial state is theirs, not the cells')."""
    if value is None:
        raise TypeError(f"{name}: expected an array of shape {legend}, got None")


def _scalar_or_array(name, value, like):
    """dc_next as the book passes it: an (N, H) array, or a number (the book's TimeLSTM
    passes 0) broadcast to like's shape. Arrays of other shapes go on to the kernel,
    whose error names the argument."""
    _not_none(name, value, "(N, H) or a number")
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return value
    try:
        a = np.asarray(value)
    except Exception as e:  # ragged lists, objects whose __array__ raises
        raise TypeError(f"{name}: expected an array of shape (N, H) or a number, got "
                        f"{type(value).__name__} ({e})") from None
    if a.ndim > 0:
        return value
    if a.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"{name}: expected a number or an array of shape (N, H), got "
                        f"{value!r} (type {type(value).__name__}, dtype {a.dtype})")
    return np.broadcast_to(a.astype(like.dtype), like.shape)


def _zero_state(xs, params):
    """Explicit zeros (N, H) for an initial state the layer does not hold, when xs and
    Wh are arrays of the right ndim (otherwise None: the kernel reports the bad
    argument). The kernels read a None state as a term left out (c = g⊙i for
    f⊙c_prev + g⊙i, GRU h = z⊙h~ for (1−z)⊙h_prev + z⊙h~), which differs from the
    book's f⊙0 when a gate is not finite (inf in xs gives NaN there, not 0)."""
    Wh = params[1]
    if not (isinstance(xs, np.ndarray) and xs.ndim == 3 and isinstance(Wh, np.ndarray)
            and Wh.ndim == 2):
        return None
    try:
        dt = compute_dtype(params)
    except TypeError:
        return None
    return np.zeros((xs.shape[0], Wh.shape[0]), dt)


class _Gated:
    """params = [Wx, Wh, b], grads shaped like them, for G gate blocks."""

    def _init_params(self, Wx, Wh, b):
        if b is None:
            raise TypeError(f"b: expected an array of shape ({self.G}H,), got None "
                            f"(the book's {type(self).__name__} always has a bias)")
        self.params = [Wx, Wh, b]
        self.grads = grads_like(self.params, ("Wx", "Wh", "b"))


# --------------------------------------------------------------------------
# LSTM
# --------------------------------------------------------------------------

class LSTM(_Gated):
    """One LSTM step. forward(x (N,D), h_prev (N,H), c_prev (N,H)) -> (h_next,
    c_next); backward(dh_next, dc_next) -> (dx, dh_prev, dc_prev), gradients
    written into `grads` in place."""

    G = 4

    def __init__(self, Wx, Wh, b):
        self._init_params(Wx, Wh, b)
        self.cache = None

    def forward(self, x, h_prev, c_prev):
        _not_none("h_prev", h_prev, "(N, H)")
        _not_none("c_prev", c_prev, "(N, H)")
        Wx, Wh, b = self.params
        h_next, c_next, gates = _core.lstm_forward(x, h_prev, c_prev, Wx, Wh, b)
        self.cache = (x, h_prev, c_prev, c_next, gates)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        x, h_prev, c_prev, c_next, gates = backward_cache(self.cache, "LSTM")
        Wx, Wh, b = self.params
        dc_next = _scalar_or_array("dc_next", dc_next, c_next)  # the book passes dc = 0
        return _core.lstm_backward(dh_next, dc_next, x, h_prev, c_prev, c_next, gates, Wx, Wh,
                                   self.grads[0], self.grads[1], self.grads[2], b=b)


class TimeLSTM(_Gated):
    """T LSTM steps at once, the loop over time in C.

    forward(xs (N,T,D)) -> hs (N,T,H); backward(dhs (N,T,H)) -> dxs (N,T,D),
    with `dh` and `dc` (N,H) the gradients of the initial h and c. With
    stateful=True the last `h` and `c` carry into the next forward (each
    starts from zeros while it is None); set_state(h, c=None), reset_state().
    """

    G = 4

    def __init__(self, Wx, Wh, b, stateful=False):
        self._init_params(Wx, Wh, b)
        self.stateful = stateful
        self.h, self.c = None, None
        self.dh, self.dc = None, None
        self.cache = None

    def forward(self, xs):
        Wx, Wh, b = self.params
        h0 = self.h if (self.stateful and self.h is not None) else None
        c0 = self.c if (self.stateful and self.c is not None) else None
        c0_held = c0 is not None
        if not c0_held:
            c0 = _zero_state(xs, self.params)
        try:
            hs, cs, gates = _core.time_lstm_forward(xs, h0, c0, Wx, Wh, b)
        except (ValueError, TypeError) as e:
            e2 = _renamed_state_error(e, "h0", "h") if h0 is not None else e
            e2 = _renamed_state_error(e2, "c0", "c") if c0_held else e2
            if e2 is e:
                raise
            raise e2 from None
        self.cache = (xs, h0, c0, hs, cs, gates)
        N, T, H = hs.shape
        self.h = hs[:, -1].copy() if T else (h0 if h0 is not None else np.zeros((N, H), hs.dtype))
        self.c = cs[:, -1].copy() if T else (c0 if c0 is not None else np.zeros((N, H), hs.dtype))
        return hs

    def backward(self, dhs):
        xs, h0, c0, hs, cs, gates = backward_cache(self.cache, "TimeLSTM")
        Wx, Wh, b = self.params
        dxs, dh0, dc0 = _core.time_lstm_backward(dhs, None, xs, h0, c0, hs, cs, gates, Wx, Wh,
                                                 self.grads[0], self.grads[1], self.grads[2],
                                                 b=b)
        self.dh, self.dc = dh0, dc0
        return dxs

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h, self.c = None, None


# --------------------------------------------------------------------------
# GRU
# --------------------------------------------------------------------------

class GRU(_Gated):
    """One GRU step (the book's variant). forward(x (N,D), h_prev (N,H)) ->
    h_next; backward(dh_next) -> (dx, dh_prev), gradients into `grads`."""

    G = 3

    def __init__(self, Wx, Wh, b):
        self._init_params(Wx, Wh, b)
        self.cache = None

    def forward(self, x, h_prev):
        _not_none("h_prev", h_prev, "(N, H)")
        Wx, Wh, b = self.params
        h_next, gates = _core.gru_forward(x, h_prev, Wx, Wh, b)
        self.cache = (x, h_prev, gates)
        return h_next

    def backward(self, dh_next):
        x, h_prev, gates = backward_cache(self.cache, "GRU")
        Wx, Wh, b = self.params
        return _core.gru_backward(dh_next, x, h_prev, gates, Wx, Wh,
                                  self.grads[0], self.grads[1], self.grads[2], b=b)


class TimeGRU(_Gated, HiddenState):
    """T GRU steps at once, the loop over time in C. forward(xs (N,T,D)) ->
    hs (N,T,H); backward(dhs) -> dxs, with `dh` the gradient of the initial
    h; stateful, set_state(h), reset_state() as TimeRNN."""

    G = 3

    def __init__(self, Wx, Wh, b, stateful=False):
        self._init_params(Wx, Wh, b)
        self.stateful = stateful
        self.h, self.dh = None, None
        self.cache = None

    def forward(self, xs):
        Wx, Wh, b = self.params
        h0 = self.h if (self.stateful and self.h is not None) else None
        h0_held = h0 is not None
        if not h0_held:
            h0 = _zero_state(xs, self.params)
        try:
            hs, gates = _core.time_gru_forward(xs, h0, Wx, Wh, b)
        except (ValueError, TypeError) as e:
            e2 = _renamed_state_error(e, "h0", "h") if h0_held else e
            if e2 is e:
                raise
            raise e2 from None
        self.cache = (xs, h0, hs, gates)
        N, T, H = hs.shape
        self.h = hs[:, -1].copy() if T else (h0 if h0 is not None else np.zeros((N, H), hs.dtype))
        return hs

    def backward(self, dhs):
        xs, h0, hs, gates = backward_cache(self.cache, "TimeGRU")
        Wx, Wh, b = self.params
        dxs, dh0 = _core.time_gru_backward(dhs, xs, h0, hs, gates, Wx, Wh,
                                           self.grads[0], self.grads[1], self.grads[2], b=b)
        self.dh = dh0
        return dxs


# --------------------------------------------------------------------------
# TimeBiLSTM: the two directions at the same time
# --------------------------------------------------------------------------

class _Beside:
    """Runs a function on a second OS thread while the caller runs another:
    the kernels release the GIL, so the two directions of a TimeBiLSTM use
    two cores. One helper thread per process, started at first use."""

    _lock = threading.Lock()
    _pool = None

    @classmethod
    def run(cls, f1, f2):
        """(f1(), f2()), f2 on the helper thread; the first exception raised
        (f1's before f2's) after both have finished."""
        with cls._lock:
            if cls._pool is None:
                from concurrent.futures import ThreadPoolExecutor
                cls._pool = ThreadPoolExecutor(max_workers=1,
                                               thread_name_prefix="rnnscratch-bilstm")
        fut = cls._pool.submit(f2)
        try:
            r1 = f1()
        finally:
            e2 = fut.exception()
        if e2 is not None:
            raise e2
        return r1, fut.result()


def _forget_pool_in_child():
    """A forked child has no helper thread (only the forking thread survives a fork),
    but would see the parent's pool and queue work that no thread runs: start anew."""
    _Beside._lock = threading.Lock()
    _Beside._pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def _layer_state(layer):
    return (layer.h, layer.c, layer.dh, layer.dc, layer.cache)


def _set_layer_state(layer, state):
    layer.h, layer.c, layer.dh, layer.dc, layer.cache = state


class TimeBiLSTM:
    """Two TimeLSTMs, one over xs and one over xs reversed in time, computed
    at the same time on two threads.

    forward(xs (N,T,D)) -> (N,T,H1+H2): [the forward LSTM's hs, the backward
    LSTM's hs put back in time order]; backward(dhs) -> dxs, the sum of both
    directions. params/grads: [Wx1, Wh1, b1, Wx2, Wh2, b2]; forward_lstm and
    backward_lstm are the two TimeLSTMs.
    """

    def __init__(self, Wx1, Wh1, b1, Wx2, Wh2, b2, stateful=False):
        fwd = TimeLSTM(Wx1, Wh1, b1, stateful)
        bwd = TimeLSTM(Wx2, Wh2, b2, stateful)
        if np.shape(Wx1)[:1] != np.shape(Wx2)[:1]:
            raise ValueError(f"Wx2: expected as many rows as Wx1 (both directions read the same "
                             f"xs): Wx1 has shape {np.shape(Wx1)}, Wx2 {np.shape(Wx2)}")
        self.forward_lstm, self.backward_lstm = fwd, bwd
        self.params = fwd.params + bwd.params
        self.grads = fwd.grads + bwd.grads

    def _both(self, f1, f2):
        """Run both directions; if either raises, both layers and every
        gradient are as they were."""
        layers = (self.forward_lstm, self.backward_lstm)
        saved = [_layer_state(l) for l in layers]
        grads = [g.copy() for g in self.grads]
        try:
            return _Beside.run(f1, f2)
        except BaseException:
            for l, s in zip(layers, saved):
                _set_layer_state(l, s)
            for g, s in zip(self.grads, grads):
                g[...] = s
            raise

    def forward(self, xs):
        dt1 = compute_dtype(self.forward_lstm.params)
        dt2 = compute_dtype(self.backward_lstm.params)
        if dt1 != dt2:
            raise TypeError(f"Wx2: both directions must compute in one dtype: Wx1/Wh1/b1 give "
                            f"{dt1}, Wx2/Wh2/b2 {dt2}")
        xs_arr = check_numeric("xs", xs)
        if xs_arr.ndim != 3:
            raise ValueError(f"xs: expected a 3-d array of shape (N, T, D), got shape "
                             f"{xs_arr.shape}")
        o1, o2 = self._both(lambda: self.forward_lstm.forward(xs_arr),
                            lambda: self.backward_lstm.forward(xs_arr[:, ::-1]))
        return np.concatenate((o1, o2[:, ::-1]), axis=2)

    def backward(self, dhs):
        c1, c2 = self.forward_lstm.cache, self.backward_lstm.cache
        if c1 is None or c2 is None:
            raise RuntimeError("TimeBiLSTM.backward() called before forward()")
        N, T, H1 = c1[3].shape
        H2 = c2[3].shape[2]
        dhs = check_numeric("dhs", dhs)
        if dhs.shape != (N, T, H1 + H2):
            raise ValueError(f"dhs: expected shape (N, T, H1+H2) = {(N, T, H1 + H2)} like the "
                             f"output, got {dhs.shape}")
        d1, d2 = self._both(lambda: self.forward_lstm.backward(dhs[:, :, :H1]),
                            lambda: self.backward_lstm.backward(dhs[:, ::-1, H1:]))
        return d1 + d2[:, ::-1]

    def reset_state(self):
        self.forward_lstm.reset_state()
        self.backward_lstm.reset_state()
