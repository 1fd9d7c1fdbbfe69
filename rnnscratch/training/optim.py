"""Optimizers and gradient clipping with the course's semantics.

`update(params, grads)` changes the parameter arrays in place (the layers hold
references to them); state (velocities, squared-gradient sums) is created on
the first call, one array per parameter, in the order of `params`.
`clip_grads(grads, max_norm)` scales the gradient arrays in place when their
global L2 norm exceeds max_norm. `clip_and_update(optimizer, params, grads,
max_norm)` is the two calls in a row, with the same numbers, the rescale done
in the optimizer's pass over each array (SGD, Adam: one pass instead of two).

These are the book's optimizers (common/optimizer.py). The scratch course's
SGD and AdaGrad (rnnscratch.diveintocode) share two of the names but not the
interface: there a layer calls optimizer.update(layer) on itself. Each family
rejects the other's call with a TypeError that names the right class.
"""
import threading

import numpy as np

from .._loader import _core

__all__ = ["SGD", "Momentum", "AdaGrad", "Adam", "clip_grads", "clip_and_update"]


_NOT_GIVEN = object()

# attributes of a scratch-course layer (rnnscratch.diveintocode.SimpleRNN, FC)
_SCRATCH_LAYER_ATTRS = ("W", "B", "W_x", "W_h")


def _check_update_args(optimizer, params, grads):
    """update(params, grads) takes two lists; update(layer) is the scratch
    course's call (rnnscratch.diveintocode): TypeError naming the right class."""
    if grads is _NOT_GIVEN:
        got = "only one argument (%s)" % type(params).__name__
    elif (not isinstance(params, (list, tuple, np.ndarray))
          and any(hasattr(params, a) for a in _SCRATCH_LAYER_ATTRS)):
        got = "a %s layer as params" % type(params).__name__
    else:
        return
    name = type(optimizer).__name__
    raise TypeError(
        f"{name}.update(params, grads): rnnscratch.{optimizer._book_name} is the book's "
        f"optimizer (common/optimizer.py): it takes the list of parameter arrays and the "
        f"list of their gradients, got {got}. For a scratch-course layer that calls "
        f"optimizer.update(layer) on itself, use {optimizer._scratch_twin}.")


def _sgd_fast(p, g, lr):
    """Whether _core.sgd_update gives exactly `p -= lr * g` here: same-dtype
    float32/float64 C-contiguous ndarrays, lr a Python number, p writeable and
    either g itself or apart from it."""
    return (type(p) is np.ndarray and type(g) is np.ndarray and type(lr) in (float, int)
            and p.dtype == g.dtype and p.dtype.type in (np.float32, np.float64)
            and p.shape == g.shape and p.flags.c_contiguous and g.flags.c_contiguous
            and p.flags.writeable and p.dtype.isnative
            and (p is g or not np.may_share_memory(p, g)))


class SGD:
    """W <- W - lr * dW  (one C pass per array when it is a plain float array;
    the same numbers as NumPy's `W -= lr * dW`)"""

    _book_name = "SGD"
    _scratch_twin = "rnnscratch.diveintocode.SGD"

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads=_NOT_GIVEN):
        _check_update_args(self, params, grads)
        self._update(params, grads, None)

    def _update(self, params, grads, rate):
        """The step, after `g *= rate` for every g when rate is not None (the
        clip's rescale; in the same C pass where the arithmetic allows)."""
        lr = self.lr
        for p, g in zip(params, grads):
            if _sgd_fast(p, g, lr) and (rate is None or _scale_exact(g, rate)):
                _core.sgd_update(p, g, lr, 1.0 if rate is None else rate)
            else:
                if rate is not None:
                    g *= rate
                p -= lr * g


class Momentum:
    """v <- momentum * v - lr * dW;  W <- W + v"""

    _book_name = "Momentum"
    _scratch_twin = "rnnscratch.diveintocode.SGD or rnnscratch.diveintocode.AdaGrad"

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads=_NOT_GIVEN):
        _check_update_args(self, params, grads)
        if self.v is None:
            self.v = [np.zeros_like(p) for p in params]
        for i, (p, g) in enumerate(zip(params, grads)):
            self.v[i] = self.momentum * self.v[i] - self.lr * g
            p += self.v[i]


class AdaGrad:
    """h <- h + dW*dW;  W <- W - lr * dW / (sqrt(h) + 1e-7)"""

    _book_name = "AdaGrad"
    _scratch_twin = "rnnscratch.diveintocode.AdaGrad"

    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads=_NOT_GIVEN):
        _check_update_args(self, params, grads)
        if self.h is None:
            self.h = [np.zeros_like(p) for p in params]
        for i, (p, g) in enumerate(zip(params, grads)):
            self.h[i] += g * g
            p -= self.lr * g / (np.sqrt(self.h[i]) + 1e-7)


def _adam_fast(p, g, m, v, c1, c2, lr_t):
    """Whether _core.adam_update computes exactly the book's expressions here:
    plain native C-contiguous float32/float64 ndarrays of one dtype and shape,
    p, m, v writeable, Python-float coefficients and a NumPy float64 step size
    (so the step's product is float64, as the book's). Overlapping arrays are
    refused by the kernel (ValueError, nothing written): the NumPy path then."""
    t = p.dtype
    return (type(p) is np.ndarray and type(g) is np.ndarray and type(m) is np.ndarray
            and type(v) is np.ndarray and t.type in (np.float32, np.float64) and t.isnative
            and g.dtype == t and m.dtype == t and v.dtype == t
            and p.shape == g.shape == m.shape == v.shape
            and p.flags.c_contiguous and g.flags.c_contiguous and m.flags.c_contiguous
            and v.flags.c_contiguous and p.flags.aligned and g.flags.aligned
            and m.flags.aligned and v.flags.aligned
            and p.flags.writeable and m.flags.writeable and v.flags.writeable
            and type(c1) is float and type(c2) is float and type(lr_t) is np.float64)


class Adam:
    """Adam (Kingma & Ba), in the course's form:
    m += (1-beta1)(g-m);  v += (1-beta2)(g*g-v);
    W -= lr * sqrt(1-beta2^t)/(1-beta1^t) * m / (sqrt(v) + 1e-7)"""

    _book_name = "Adam"
    _scratch_twin = "rnnscratch.diveintocode.SGD or rnnscratch.diveintocode.AdaGrad"

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads=_NOT_GIVEN):
        _check_update_args(self, params, grads)
        self._update(params, grads, None)

    def _update(self, params, grads, rate):
        """The step, after `g *= rate` for every g when rate is not None (the
        clip's rescale; in the same C pass where the arithmetic allows)."""
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        c1, c2 = 1 - self.beta1, 1 - self.beta2
        for i, (p, g) in enumerate(zip(params, grads)):
            m, v = self.m[i], self.v[i]
            if _adam_fast(p, g, m, v, c1, c2, lr_t) and (rate is None or _scale_exact(g, rate)):
                # one C pass: the same operations on the same dtypes in the same
                # order (so the same numbers, bit for bit), no temporary arrays
                try:
                    _core.adam_update(p, g, m, v, c1, c2, lr_t, 1.0 if rate is None else rate)
                    continue
                except ValueError:  # overlapping arrays (nothing written): NumPy's way below
                    pass
            if rate is not None:
                g *= rate
            self.m[i] += c1 * (g - self.m[i])
            self.v[i] += c2 * (g ** 2 - self.v[i])
            p -= lr_t * self.m[i] / (np.sqrt(self.v[i]) + 1e-7)


_clip_buffers = threading.local()  # per thread: a reusable buffer for the squares


def _sum_of_squares(g):
    """np.sum(g ** 2), the book's expression and its exact arithmetic
    (the gradients' dtype, NumPy's pairwise sum over the C-ordered squares):
    for float32/float64 one C pass (_core.sum_squares, no array of squares),
    for other float arrays a reusable per-thread buffer for the squares."""
    if not (type(g) is np.ndarray and g.flags.c_contiguous and g.dtype.kind == "f"
            and g.dtype.isnative and g.size):
        return np.sum(np.asarray(g) ** 2)
    if g.dtype.type in (np.float32, np.float64) and g.flags.aligned:
        return _core.sum_squares(g)
    buf = getattr(_clip_buffers, "buf", None)
    if buf is None or buf.dtype != g.dtype or buf.size < g.size:
        buf = _clip_buffers.buf = np.empty(g.size, dtype=g.dtype)
    sq = buf[:g.size].reshape(g.shape)
    np.square(g, out=sq)
    return np.sum(sq)


def clip_grads(grads, max_norm):
    """Scale every gradient by max_norm / (norm + 1e-6) when the global norm
    sqrt(sum of squares of all gradients) is larger than max_norm. In place.

    The norm is computed with the book's arithmetic (common/util.py): each
    array's np.sum(g ** 2) in the gradients' dtype (float32 for the course's
    models), added up, its np.sqrt. Bit for bit the book's rate when the
    gradients are the book's: the rate scales every parameter's update, so a
    norm computed more precisely than the book's (float64) shifts all of them
    at once, and the book's recipe (SGD lr 20) amplifies such a shift within a
    few dozen iterations (measured: 3e-3 against 3e-5 after 30 iterations of
    BetterRnnlm). The squares are summed in C without an array of squares
    (float32/float64) or through a reusable per-thread buffer (other dtypes)."""
    rate = _clip_rate(grads, max_norm)
    if rate is not None:
        for g in grads:
            g *= rate


def _clip_rate(grads, max_norm):
    """The book's rate max_norm / (norm + 1e-6), or None when it is not below 1."""
    total_norm = 0
    for g in grads:
        total_norm += _sum_of_squares(g)
    total_norm = np.sqrt(total_norm)
    rate = max_norm / (total_norm + 1e-6)
    return rate if rate < 1 else None


def _scale_exact(g, rate):
    """Whether the kernel's `g * (REAL)rate` is NumPy's `g *= rate`: so when
    rate is a NumPy scalar of g's dtype (the book's rate is float32 for float32
    gradients); any other rate takes NumPy's own multiply."""
    return getattr(rate, "dtype", None) == g.dtype


def clip_and_update(optimizer, params, grads, max_norm):
    """clip_grads(grads, max_norm) then optimizer.update(params, grads): the
    same numbers and the same arrays afterwards (the gradients rescaled in
    place, the parameters updated), with the rescale done inside the
    optimizer's one pass over each array (rnnscratch's SGD and Adam; any
    other optimizer gets the two calls)."""
    rate = _clip_rate(grads, max_norm)
    fused = getattr(optimizer, "_update", None)
    if (fused is not None and type(optimizer) in (SGD, Adam)
            and len({id(g) for g in grads}) == len(grads)):  # each array rescaled once
        _check_update_args(optimizer, params, grads)
        fused(params, grads, rate)
        return
    if rate is not None:
        for g in grads:
            g *= rate
    optimizer.update(params, grads)
