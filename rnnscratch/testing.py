"""Check a student's own RNN, LSTM or GRU class against ours.

    from rnnscratch.testing import check_time_rnn
    report = check_time_rnn(MyTimeRNN)   # builds MyTimeRNN(Wx, Wh, b) and ours
    print(report)                        # what differs, by how much, where
    report.ok                            # True when everything agrees

Three styles are covered:

=====================  ==========================================  =================================
check_rnn(cls)         ``cls(Wx, Wh, b)``, forward(x, h_prev),     h, dx, dh_prev, dWx, dWh, db
                       backward(dh_next) -> (dx, dh_prev), grads
check_time_rnn(cls)    ``cls(Wx, Wh, b)``, forward(xs),            hs, dxs, dh, dWx, dWh, db
                       backward(dhs) -> dxs, grads, dh, set_state
check_simple_rnn(cls)  ``cls(n_features, n_nodes, initializer,     h, dX, dW_x, dW_h, dB
                       optimizer)``; W_x, W_h, B set by us;
                       forward(X), backward(dh) -> dX
check_lstm(cls)        ``cls(Wx, Wh, b)`` (gates f, g, i, o),      h, c, dx, dh_prev, dc_prev,
                       forward(x, h_prev, c_prev) -> (h, c),       dWx, dWh, db
                       backward(dh, dc) -> (dx, dh_prev, dc_prev)
check_time_lstm(cls)   ``cls(Wx, Wh, b)``, forward(xs),            hs, c, dxs, dh, dWx, dWh, db
                       backward(dhs), grads, dh, c, set_state
check_gru(cls)         ``cls(Wx, Wh, b)`` (the book's GRU: z, r,   h, dx, dh_prev, dWx, dWh, db
                       h~), forward(x, h_prev), backward(dh)
check_time_gru(cls)    ``cls(Wx, Wh, b)``, forward(xs),            hs, dxs, dh, dWx, dWh, db
                       backward(dhs), grads, dh, set_state
=====================  ==========================================  =================================

The gated checks compare with the compiled ``rnnscratch.LSTM`` (etc.).

Every check runs several shapes with the same random float64 weights and
inputs for both classes. A quantity agrees when its largest error is below
``rtol`` times its largest magnitude; ``rtol`` follows the least precise dtype
the student's class returns in that case (float64: 1e-6, float32: 1e-4,
float16: 1e-2), so a correct class computing or storing in float32 (the
language-model book's ``dtype='f'``) passes, while a 1% error fails. A class
that raises gets a report naming the call, the exception and the line.

``assert_rnn``, ``assert_time_rnn``, ``assert_simple_rnn``, ``assert_lstm``,
``assert_time_lstm``, ``assert_gru``, ``assert_time_gru`` raise
``AssertionError`` with the report's text (for pytest).
"""
import os
import traceback

import numpy as np

from ._policy import check_numeric

__all__ = ["check_rnn", "check_time_rnn", "check_simple_rnn",
           "check_lstm", "check_time_lstm", "check_gru", "check_time_gru",
           "assert_rnn", "assert_time_rnn", "assert_simple_rnn",
           "assert_lstm", "assert_time_lstm", "assert_gru", "assert_time_gru", "CheckReport"]

RNN_SHAPES = ((4, 3, 5), (1, 1, 3), (3, 6, 2), (7, 5, 8))              # (N, D, H)
TIME_RNN_SHAPES = ((2, 3, 4, 5), (1, 1, 3, 2), (4, 6, 1, 3), (3, 7, 5, 8))  # (N, T, D, H)

RTOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-4,
        np.dtype(np.float16): 1e-2}


# --------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------

class Comparison:
    """One quantity of one case: ``name``, ``ok`` and, when it could be
    compared, ``max_error`` (absolute), ``rel_error`` (relative to the largest
    expected magnitude), ``index`` (where the largest error is), ``got``,
    ``expected`` (the values there); otherwise ``problem`` says why not."""

    def __init__(self, name, ok, problem=None, max_error=None, rel_error=None,
                 index=None, got=None, expected=None):
        self.name, self.ok, self.problem = name, ok, problem
        self.max_error, self.rel_error, self.index = max_error, rel_error, index
        self.got, self.expected = got, expected

    def describe(self):
        if self.problem is not None:
            return "%s: %s" % (self.name, self.problem)
        return ("%s: largest error %.3g (relative %.3g) at index %s: got %.10g, expected %.10g"
                % (self.name, self.max_error, self.rel_error, self.index,
                   self.got, self.expected))


class CaseResult:
    """The comparisons of one shape; ``error`` is set when a call raised."""

    def __init__(self, label):
        self.label = label
        self.comparisons = []
        self.error = None
        self.rtol = None

    @property
    def ok(self):
        return self.error is None and all(c.ok for c in self.comparisons)

    def lines(self):
        out = [] if self.error is None else [self.error]
        out += [c.describe() for c in self.comparisons if not c.ok]
        return out


class CheckReport:
    """The outcome of a check: ``ok``, ``cases`` (CaseResult list), ``failures``
    (the names of the quantities that differ) and a readable ``str()``."""

    def __init__(self, title, quantities):
        self.title = title
        self.quantities = quantities
        self.cases = []
        self.notes = []

    @property
    def ok(self):
        return bool(self.cases) and all(c.ok for c in self.cases)

    def __bool__(self):
        return self.ok

    @property
    def failures(self):
        names = []
        for case in self.cases:
            if case.error is not None and "raised" not in names:
                names.append("raised")
            names += [c.name for c in case.comparisons if not c.ok and c.name not in names]
        return names

    def __str__(self):
        if self.ok:
            worst = max((c.rel_error for case in self.cases for c in case.comparisons
                         if c.rel_error is not None), default=0.0)
            lines = ["%s: OK, %s agree in %d cases (largest relative error %.2g)"
                     % (self.title, ", ".join(self.quantities), len(self.cases), worst)]
        else:
            bad = [n for n in self.failures if n != "raised"]
            head = "%s: FAILED" % self.title
            if bad:
                head += ", differing: " + ", ".join(bad)
            lines = [head]
            failing = [c for c in self.cases if not c.ok]
            passing = [c for c in self.cases if c.ok]
            if failing:
                # the first failing case in full ...
                first = failing[0]
                tol = "" if first.rtol is None else " (tolerance: relative %.0e)" % first.rtol
                lines.append("  case %s%s:" % (first.label, tol))
                lines += ["    " + line for line in first.lines()]
                # ... the others in one line
                rest = []
                for case in failing[1:]:
                    if case.lines() == first.lines():
                        rest.append("%s: the same" % case.label)
                    else:
                        names = (["raised"] if case.error is not None else []) + \
                            [c.name for c in case.comparisons if not c.ok]
                        rest.append("%s: %s" % (case.label, ", ".join(names)))
                if rest:
                    lines.append("  %d more failing case%s: %s"
                                 % (len(rest), "s" if len(rest) > 1 else "", "; ".join(rest)))
            if passing:
                lines.append("  passing: " + "; ".join(c.label for c in passing))
            lines += ["  diagnosis: " + d for d in diagnose(self)]
        lines += ["  note: " + n for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__

    def raise_if_failed(self):
        if not self.ok:
            raise AssertionError(str(self))
        return self


_FORWARD = {"h", "hs", "c"}
_INPUT_GRAD = {"dx", "dxs", "dX"}
_STATE_GRAD = {"dh_prev", "dh", "dc_prev"}
_WEIGHT_GRAD = {"dWx", "dWh", "db", "dW_x", "dW_h", "dB"}

_ONLY = {
    "dx": "only dx is wrong: it is dt . Wx.T (the input weight); check which weight "
          "backward multiplies for dx",
    "dxs": "only dxs is wrong: each step's dx is dt . Wx.T (the input weight); check which "
           "weight backward multiplies for dx, and that dxs[:, t] is stored for every t",
    "dX": "only dX is wrong: it is dA . W_x.T (the input weight); check which weight "
          "backward multiplies for dX",
    "dh_prev": "only dh_prev is wrong: it is dt . Wh.T (the recurrent weight)",
    "dh": "only dh is wrong: it is the gradient reaching the initial state, the dh left "
          "after the loop over t (self.dh = dh), dt . Wh.T at t = 0",
    "dc_prev": "only dc_prev is wrong: it is dc * f (the forget gate), with dc = dc_next + "
               "dh_next * o * (1 - tanh(c_next)**2)",
    "dWx": "only dWx is wrong: it is x.T . dt (summed over time steps in a Time layer)",
    "dW_x": "only dW_x is wrong: it is X_t.T . dA summed over time steps",
    "dWh": "only dWh is wrong: it is h_prev.T . dt, with the state *before* the step "
           "(h_prev), not the one it produced",
    "dW_h": "only dW_h is wrong: it is h_{t-1}.T . dA, with the state before the step",
    "db": "only db is wrong: it is dt summed over the batch (axis 0), and over time steps "
          "in a Time layer",
    "dB": "only dB is wrong: it is dA summed over the batch (axis 0) and over time steps",
    "c": "only c is wrong: forward must keep the last cell state in self.c",
}


def diagnose(report):
    """One-line hints where the pattern of failures tells where the bug is."""
    failing = set()
    for case in report.cases:
        for c in case.comparisons:
            if not c.ok:
                name = c.name[len("stateful "):] if c.name.startswith("stateful ") else c.name
                failing.add(name)
    out = []
    if IDENTITY in failing:
        out.append("grads rebound: write gradients into the arrays, self.grads[0][...] = dWx "
                   "(not self.grads[0] = dWx); the book's optimizers update the arrays a "
                   "model collected at construction")
        failing.discard(IDENTITY)
    if any(c.error is not None for c in report.cases) and not failing:
        out.append("a call raised: the first failing case shows the call, the exception "
                   "and the line")
        return out
    if not failing:
        return out
    with_state = [c for c in report.cases if "stateful" in c.label]
    plain = [c for c in report.cases if "stateful" not in c.label]
    stateful_only = (with_state and plain and all(c.ok for c in plain)
                     and not all(c.ok for c in with_state))
    if stateful_only:
        out.append("only the stateful case differs: with stateful=True, forward must start "
                   "from self.h (set by set_state) and leave the last state in self.h")
        return out
    forward = failing & _FORWARD
    grads_all = {n for case in report.cases for c in case.comparisons
                 for n in [c.name.replace("stateful ", "")]
                 if n in (_INPUT_GRAD | _STATE_GRAD | _WEIGHT_GRAD)}
    backward = failing & (_INPUT_GRAD | _STATE_GRAD | _WEIGHT_GRAD)
    if forward:
        out.append("the forward values already differ (%s): check the formula, the order of "
                   "the weight blocks and of the arguments; the gradients follow from it"
                   % ", ".join(sorted(forward)))
        return out
    if backward and backward == grads_all and len(backward) > 1:
        out.append("the forward pass is right and every gradient is wrong: look at the "
                   "derivative of the activation (tanh: 1 - h**2 from the output h; "
                   "sigmoid: h * (1 - h); relu: h > 0), or at the gradient coming in")
    elif len(backward) == 1:
        out.append(_ONLY.get(next(iter(backward)), "only %s is wrong" % next(iter(backward))))
    elif backward and backward <= _WEIGHT_GRAD and (grads_all - _WEIGHT_GRAD):
        out.append("dx and dh are right but the weight gradients (%s) are wrong: they must be "
                   "added up over the time steps (+= into the sums, or grads[i][...] = sum "
                   "after the loop), each step with its own x and h_prev"
                   % ", ".join(sorted(backward)))
    elif backward and backward <= (_STATE_GRAD | _WEIGHT_GRAD) and not backward & _INPUT_GRAD:
        out.append("the input gradient is right but %s are wrong: follow what flows back "
                   "through the state (dh_prev = dt . Wh.T) and into dWh"
                   % ", ".join(sorted(backward)))
    return out


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _describe_exception(where, exc):
    """'forward raised NameError: ... (file.py:12 in backward: code)'."""
    msg = "%s raised %s: %s" % (where, type(exc).__name__, exc)
    frames = traceback.extract_tb(exc.__traceback__)
    here = os.path.dirname(os.path.abspath(__file__))
    numpy_dir = os.path.dirname(np.__file__)
    own = ([f for f in frames if not f.filename.startswith((here, numpy_dir))]
           or [f for f in frames if os.path.abspath(f.filename) != os.path.abspath(__file__)])
    if own:
        f = own[-1]
        msg += " (%s:%d in %s: %s)" % (os.path.basename(f.filename), f.lineno, f.name,
                                       (f.line or "").strip())
    return msg


def _float_dtype(value):
    """The floating dtype of an array-like result, or None."""
    try:
        dt = np.asarray(value).dtype
    except Exception:
        return None
    return dt if dt.kind == "f" else None


def _case_rtol(values, rtol):
    """The tolerance for a case: given, or from the least precise float dtype."""
    if rtol is not None:
        return rtol
    dtypes = [d for d in map(_float_dtype, values) if d is not None]
    if not dtypes:
        return RTOL[np.dtype(np.float64)]
    return max(RTOL.get(d, 1e-2) for d in dtypes)


def _compare(name, got, expected, rtol):
    expected = np.asarray(expected, dtype=np.float64)
    if got is None:
        return Comparison(name, False, "missing (None)")
    try:
        g = check_numeric(name, got).astype(np.float64)
    except Exception:
        return Comparison(name, False, "not an array of numbers (got %s)" % type(got).__name__)
    if g.shape != expected.shape:
        return Comparison(name, False, "shape %s, expected %s" % (g.shape, expected.shape))
    if expected.size == 0:
        return Comparison(name, True, max_error=0.0, rel_error=0.0)
    bad = ~np.isfinite(g)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        return Comparison(name, False, "%d non-finite values, first at index %s"
                          % (int(bad.sum()), where))
    err = np.abs(g - expected)
    flat = int(np.argmax(err))
    index = tuple(int(i) for i in np.unravel_index(flat, err.shape))
    scale = float(np.max(np.abs(expected)))
    max_error = float(err.flat[flat])
    rel = max_error / scale if scale > 0 else max_error
    return Comparison(name, rel <= rtol, max_error=max_error, rel_error=rel, index=index,
                      got=float(g.flat[flat]), expected=float(expected.flat[flat]))


def _weights(rng, D, H):
    """Float64 weights that keep the recurrence contractive, like the courses'."""
    Wx = rng.standard_normal((D, H)) / np.sqrt(D) * 0.8
    Wh = rng.standard_normal((H, H)) / np.sqrt(H) * 0.5
    b = rng.standard_normal(H) * 0.2
    return Wx, Wh, b


def _grads_of(layer, names):
    """The student's gradients after backward: ``grads`` as a list/tuple, or a
    dict keyed by parameter name."""
    grads = getattr(layer, "grads", None)
    if grads is None:
        return [None] * len(names), "the class has no attribute 'grads'"
    if isinstance(grads, dict):
        keys = {"dWx": ("Wx", "dWx"), "dWh": ("Wh", "dWh"), "db": ("b", "Wb", "db")}
        out = []
        for n in names:
            out.append(next((grads[k] for k in keys[n] if k in grads), None))
        return out, None
    grads = list(grads)
    return grads + [None] * (len(names) - len(grads)), None


IDENTITY = "grads identity"


def _grads_before(layer):
    """The gradient arrays a model would collect right after construction
    (``model.grads += layer.grads``), or None when there is no such list."""
    grads = getattr(layer, "grads", None)
    return list(grads) if isinstance(grads, (list, tuple)) else None


def _check_identity(case, layer, before, names):
    """A failing comparison when backward rebound grads[i] instead of writing
    into the array: a model's grads list and the optimizer keep the old one."""
    after = getattr(layer, "grads", None)
    if not before or not isinstance(after, (list, tuple)):
        return
    lost = [i for i, (a, b) in enumerate(zip(before, after)) if a is not b]
    if len(after) != len(before):
        problem = ("the grads list changed length in backward (%d -> %d): a model collected "
                   "the arrays at construction and keeps the old ones"
                   % (len(before), len(after)))
    elif lost:
        which = ", ".join("grads[%d] (%s)" % (i, names[i] if i < len(names) else "?")
                          for i in lost)
        problem = ("backward replaced %s by new arrays (self.grads[i] = ...) instead of "
                   "writing into them (self.grads[i][...] = ...): a model's grads list and "
                   "its optimizer keep the old arrays, which never change, so the model does "
                   "not learn" % which)
    else:
        return
    case.comparisons.append(Comparison(IDENTITY, False, problem))


def _title(fn, cls):
    return "%s(%s)" % (fn, getattr(cls, "__name__", repr(cls)))


# --------------------------------------------------------------------------
# check_rnn
# --------------------------------------------------------------------------

def check_rnn(cls, shapes=RNN_SHAPES, activation="tanh", rtol=None, seed=0, build=None):
    """Compare a course-style ``RNN`` class with ``rnnscratch.RNN``.

    cls : built as ``cls(Wx, Wh, b)`` (or ``build(Wx, Wh, b)``); Wx (D,H), Wh (H,H), b (H,).
    shapes : (N, D, H) triples. For each, forward(x (N,D), h_prev (N,H)) -> h and
    backward(dh_next (N,H)) -> (dx, dh_prev) are compared, and the gradients
    read from ``grads`` ([dWx, dWh, db]) after backward.
    rtol : fixed tolerance instead of the dtype-based one.
    Returns a CheckReport.
    """
    from .layers import RNN

    names = ("h", "dx", "dh_prev", "dWx", "dWh", "db")
    report = CheckReport(_title("check_rnn", cls), names)
    rng = np.random.default_rng(seed)
    make = build if build is not None else cls
    for N, D, H in shapes:
        case = CaseResult("N=%d D=%d H=%d" % (N, D, H))
        report.cases.append(case)
        Wx, Wh, b = _weights(rng, D, H)
        x, h_prev, dh_next = (rng.standard_normal(s) for s in ((N, D), (N, H), (N, H)))

        ours = RNN(Wx, Wh, b, activation=activation)
        h_ref = ours.forward(x, h_prev)
        dx_ref, dh_prev_ref = ours.backward(dh_next)
        expected = [h_ref, dx_ref, dh_prev_ref] + list(ours.grads)

        stage = "%s(Wx, Wh, b)" % getattr(cls, "__name__", "cls")
        try:
            layer = make(Wx.copy(), Wh.copy(), b.copy())
            before = _grads_before(layer)
            stage = "forward(x, h_prev)"
            h = layer.forward(x.copy(), h_prev.copy())
            stage = "backward(dh_next)"
            out = layer.backward(dh_next.copy())
        except Exception as exc:
            case.error = _describe_exception(stage, exc)
            continue
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            case.error = ("backward(dh_next) returned %s, expected a pair (dx, dh_prev)"
                          % type(out).__name__)
            out = (None, None)
        grads, problem = _grads_of(layer, names[3:])
        if problem and problem not in report.notes:
            report.notes.append(problem)
        got = [h, out[0], out[1]] + grads[:3]
        case.rtol = _case_rtol(got, rtol)
        case.comparisons = [_compare(n, g, e, case.rtol) for n, g, e in zip(names, got, expected)]
        _check_identity(case, layer, before, names[3:])
    return report


# --------------------------------------------------------------------------
# check_time_rnn
# --------------------------------------------------------------------------

def check_time_rnn(cls, shapes=TIME_RNN_SHAPES, activation="tanh", rtol=None, seed=0,
                   build=None, stateful=True):
    """Compare a course-style ``TimeRNN`` class with ``rnnscratch.TimeRNN``.

    cls : built as ``cls(Wx, Wh, b)`` (or ``build(Wx, Wh, b)``).
    shapes : (N, T, D, H) tuples. For each, forward(xs (N,T,D)) -> hs (N,T,H) and
    backward(dhs (N,T,H)) -> dxs (N,T,D) are compared, with ``dh`` (N,H) (the
    gradient of the initial state) and ``grads`` ([dWx, dWh, db]) after backward.
    stateful : also check one case built with ``stateful=True`` and started from
    ``set_state(h0)`` (quantities named 'stateful hs', 'stateful dh', ...).
    Returns a CheckReport.
    """
    return _check_time("check_time_rnn", cls, "TimeRNN", shapes, rtol, seed, build, stateful,
                       activation=activation)


# --------------------------------------------------------------------------
# check_simple_rnn
# --------------------------------------------------------------------------

_SIMPLE_PARAMS = (("W_x", "Wx", "w_x"), ("W_h", "Wh", "w_h"), ("B", "b", "W_b"))


class _NoUpdate:
    """An optimizer whose update leaves the layer unchanged (lr = 0)."""

    lr = 0.0

    def update(self, layer):
        return layer


def _build_simple(cls, D, H):
    """Try the course's constructor forms; return the layer or raise the first error."""
    from .diveintocode import SimpleInitializer

    first = None
    for args in ((D, H, SimpleInitializer(0.01), _NoUpdate()), (D, H)):
        try:
            return cls(*args)
        except TypeError as exc:
            first = first or exc
    raise first


def check_simple_rnn(cls, shapes=TIME_RNN_SHAPES, activation="tanh", rtol=None, seed=0,
                     build=None):
    """Compare a scratch-course ``SimpleRNN`` class with ``rnnscratch.diveintocode.SimpleRNN``.

    cls : built as ``cls(n_features, n_nodes, initializer, optimizer)`` (with an
    optimizer that changes nothing), else ``cls(n_features, n_nodes)``, or by
    ``build(n_features, n_nodes)``; then its W_x (D,H), W_h (H,H), B (H,) are
    set to our random weights (also under the names Wx/Wh/b or w_x/w_h when
    the instance uses those).
    shapes : (N, T, D, H). forward(X (N,T,D)) -> h (N,H) (or every h (N,T,H),
    then backward gets dh (N,T,H)); backward(dh) -> dX (N,T,D); dW_x, dW_h, dB
    read from the instance after backward.
    Returns a CheckReport.
    """
    from .diveintocode import SimpleRNN

    names = ("h", "dX", "dW_x", "dW_h", "dB")
    report = CheckReport(_title("check_simple_rnn", cls), names)
    rng = np.random.default_rng(seed)
    for N, T, D, H in shapes:
        case = CaseResult("N=%d T=%d D=%d H=%d" % (N, T, D, H))
        report.cases.append(case)
        Wx, Wh, b = _weights(rng, D, H)
        X, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))

        stage = "%s(n_features, n_nodes, ...)" % getattr(cls, "__name__", "cls")
        try:
            layer = build(D, H) if build is not None else _build_simple(cls, D, H)
            used = []
            for aliases, value in zip(_SIMPLE_PARAMS, (Wx, Wh, b)):
                present = [a for a in aliases if hasattr(layer, a)]
                if not present:
                    note = ("the instance had no attribute %s before the check set it"
                            % aliases[0])
                    if note not in report.notes:
                        report.notes.append(note)
                for a in present or aliases[:1]:
                    setattr(layer, a, value.copy())
                used.append((present or aliases[:1])[0])
            stage = "forward(X)"
            h = layer.forward(X.copy())
            sequences = np.ndim(h) == 3
            dh = dhs if sequences else dhs[:, -1]
            stage = "backward(dh)"
            dX = layer.backward(dh.copy())
        except Exception as exc:
            case.error = _describe_exception(stage, exc)
            continue

        ours = SimpleRNN(D, H, activation=activation, return_sequences=sequences)
        ours.W_x, ours.W_h, ours.B = Wx, Wh, b
        expected = [ours.forward(X), ours.backward(dh), ours.dW_x, ours.dW_h, ours.dB]
        grads = [getattr(layer, "d" + p, None) for p in used]
        for i, g in enumerate(grads):  # other spellings of the gradient names
            if g is None:
                grads[i] = next((getattr(layer, "d" + a) for a in _SIMPLE_PARAMS[i]
                                 if getattr(layer, "d" + a, None) is not None), None)
        got = [h, dX] + grads
        case.rtol = _case_rtol(got, rtol)
        case.comparisons = [_compare(n, g, e, case.rtol) for n, g, e in zip(names, got, expected)]
    return report


# --------------------------------------------------------------------------
# the gated layers: check_lstm, check_gru, check_time_lstm, check_time_gru
# --------------------------------------------------------------------------

def _ours(name):
    """The compiled class rnnscratch exports under the book's name."""
    from . import layers

    return getattr(layers, name)


def _gate_weights(rng, D, H, G):
    """Float64 weights of G gate blocks, scaled like _weights."""
    Wx = rng.standard_normal((D, G * H)) / np.sqrt(D) * 0.8
    Wh = rng.standard_normal((H, G * H)) / np.sqrt(H) * 0.5
    b = rng.standard_normal(G * H) * 0.2
    return Wx, Wh, b


def _check_cell(fn, cls, lstm, shapes, rtol, seed, build):
    """check_lstm (lstm=True) and check_gru (lstm=False)."""
    G = 4 if lstm else 3
    if lstm:
        names = ("h", "c", "dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")
        fwd_call, bwd_call = "forward(x, h_prev, c_prev)", "backward(dh_next, dc_next)"
        fwd_out, bwd_out = "a pair (h_next, c_next)", "a triple (dx, dh_prev, dc_prev)"
    else:
        names = ("h", "dx", "dh_prev", "dWx", "dWh", "db")
        fwd_call, bwd_call = "forward(x, h_prev)", "backward(dh_next)"
        fwd_out, bwd_out = None, "a pair (dx, dh_prev)"
    n_fwd, n_bwd = (2, 3) if lstm else (1, 2)
    report = CheckReport(_title(fn, cls), names)
    rng = np.random.default_rng(seed)
    make = build if build is not None else cls
    Ours = _ours("LSTM" if lstm else "GRU")
    for N, D, H in shapes:
        case = CaseResult("N=%d D=%d H=%d" % (N, D, H))
        report.cases.append(case)
        Wx, Wh, b = _gate_weights(rng, D, H, G)
        inputs = [rng.standard_normal((N, D))] + [rng.standard_normal((N, H))
                                                  for _ in range(n_fwd)]
        douts = [rng.standard_normal((N, H)) for _ in range(n_fwd)]

        ours = Ours(Wx, Wh, b)
        out_ref = ours.forward(*inputs)
        out_ref = list(out_ref) if lstm else [out_ref]
        expected = out_ref + list(ours.backward(*douts)) + list(ours.grads)

        stage = "%s(Wx, Wh, b)" % getattr(cls, "__name__", "cls")
        try:
            layer = make(Wx.copy(), Wh.copy(), b.copy())
            before = _grads_before(layer)
            stage = fwd_call
            out = layer.forward(*(a.copy() for a in inputs))
            stage = bwd_call
            back = layer.backward(*(a.copy() for a in douts))
        except Exception as exc:
            case.error = _describe_exception(stage, exc)
            continue
        problems = []
        if not lstm:
            out = [out]
        elif not (isinstance(out, (tuple, list)) and len(out) == n_fwd):
            problems.append("%s returned %s, expected %s"
                            % (fwd_call, type(out).__name__, fwd_out))
            out = [None] * n_fwd
        if not (isinstance(back, (tuple, list)) and len(back) == n_bwd):
            problems.append("%s returned %s, expected %s"
                            % (bwd_call, type(back).__name__, bwd_out))
            back = [None] * n_bwd
        if problems:
            case.error = "; ".join(problems)
        grads, problem = _grads_of(layer, names[-3:])
        if problem and problem not in report.notes:
            report.notes.append(problem)
        got = list(out) + list(back) + grads[:3]
        case.rtol = _case_rtol(got, rtol)
        case.comparisons = [_compare(n, g, e, case.rtol) for n, g, e in zip(names, got, expected)]
        _check_identity(case, layer, before, names[-3:])
    return report


def _check_time(fn, cls, ours_name, shapes, rtol, seed, build, stateful, **ours_kw):
    """check_time_rnn, check_time_lstm and check_time_gru: cls against our
    class `ours_name` (built with ours_kw too)."""
    lstm = ours_name == "TimeLSTM"
    G = {"TimeRNN": 1, "TimeLSTM": 4, "TimeGRU": 3}[ours_name]
    names = (("hs", "c") if lstm else ("hs",)) + ("dxs", "dh", "dWx", "dWh", "db")
    report = CheckReport(_title(fn, cls), names)
    rng = np.random.default_rng(seed)
    Ours = _ours(ours_name)
    runs = [(shape, False) for shape in shapes]
    if stateful and shapes:
        runs.append((shapes[0], True))
    set_call = "set_state(h0, c0)" if lstm else "set_state(h0)"
    for (N, T, D, H), with_state in runs:
        label = "N=%d T=%d D=%d H=%d" % (N, T, D, H)
        case = CaseResult(label + (", stateful=True from %s" % set_call if with_state else ""))
        report.cases.append(case)
        Wx, Wh, b = _gate_weights(rng, D, H, G)
        xs, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
        state = [rng.standard_normal((N, H)) for _ in range(2 if lstm else 1)]

        ours = Ours(Wx, Wh, b, stateful=with_state, **ours_kw)
        if with_state:
            ours.set_state(*state)
        hs_ref = ours.forward(xs)
        c_ref = [ours.c] if lstm else []
        dxs_ref = ours.backward(dhs)
        expected = [hs_ref] + c_ref + [dxs_ref, ours.dh] + list(ours.grads)

        name = getattr(cls, "__name__", "cls")
        stage = "%s(Wx, Wh, b%s)" % (name, ", stateful=True" if with_state else "")
        try:
            if build is not None:
                layer = build(Wx.copy(), Wh.copy(), b.copy())
                if with_state:
                    layer.stateful = True
            elif with_state:
                layer = cls(Wx.copy(), Wh.copy(), b.copy(), stateful=True)
            else:
                layer = cls(Wx.copy(), Wh.copy(), b.copy())
            before = _grads_before(layer)
            if with_state:
                stage = set_call
                layer.set_state(*(a.copy() for a in state))
            stage = "forward(xs)"
            hs = layer.forward(xs.copy())
            c = [getattr(layer, "c", None)] if lstm else []
            if lstm and c[0] is not None:
                c = [np.array(c[0], copy=True)]  # before backward can touch it
            stage = "backward(dhs)"
            dxs = layer.backward(dhs.copy())
        except Exception as exc:
            case.error = _describe_exception(stage, exc)
            continue
        dh = getattr(layer, "dh", None)
        grads, problem = _grads_of(layer, names[-3:])
        if problem and problem not in report.notes:
            report.notes.append(problem)
        got = [hs] + c + [dxs, dh] + grads[:3]
        case.rtol = _case_rtol(got, rtol)
        prefix = "stateful " if with_state else ""
        case.comparisons = [_compare(prefix + n, g, e, case.rtol)
                            for n, g, e in zip(names, got, expected)]
        if lstm and c[0] is None:
            case.comparisons[1].problem = "missing: forward did not set the attribute c"
        if dh is None:
            case.comparisons[names.index("dh")].problem = \
                "missing: backward did not set the attribute dh"
        _check_identity(case, layer, before, names[-3:])
    return report


def check_lstm(cls, shapes=RNN_SHAPES, rtol=None, seed=0, build=None):
    """Compare a course-style ``LSTM`` class with ours (``rnnscratch.LSTM``).

    cls : built as ``cls(Wx, Wh, b)`` (or ``build(Wx, Wh, b)``); Wx (D,4H),
    Wh (H,4H), b (4H,), gate blocks f, g, i, o (the book's order).
    shapes : (N, D, H). For each, forward(x (N,D), h_prev (N,H), c_prev (N,H))
    -> (h_next, c_next) and backward(dh_next, dc_next) -> (dx, dh_prev,
    dc_prev) are compared, and ``grads`` ([dWx, dWh, db]) after backward.
    Returns a CheckReport.
    """
    return _check_cell("check_lstm", cls, True, shapes, rtol, seed, build)


def check_gru(cls, shapes=RNN_SHAPES, rtol=None, seed=0, build=None):
    """Compare a course-style ``GRU`` class with ours (``rnnscratch.GRU``).

    cls : built as ``cls(Wx, Wh, b)``; Wx (D,3H), Wh (H,3H), b (3H,), blocks
    z, r, h~ of the book's GRU: h~ = tanh(x.Wxh + (r*h_prev).Whh + bh),
    h_next = (1-z)*h_prev + z*h~.
    shapes : (N, D, H). forward(x, h_prev) -> h_next, backward(dh_next) ->
    (dx, dh_prev) and ``grads`` are compared. Returns a CheckReport.
    """
    return _check_cell("check_gru", cls, False, shapes, rtol, seed, build)


def check_time_lstm(cls, shapes=TIME_RNN_SHAPES, rtol=None, seed=0, build=None,
                    stateful=True):
    """Compare a course-style ``TimeLSTM`` class with ours (``rnnscratch.TimeLSTM``).

    cls : built as ``cls(Wx, Wh, b)`` (or ``build(Wx, Wh, b)``).
    shapes : (N, T, D, H). forward(xs (N,T,D)) -> hs (N,T,H), the attribute
    ``c`` after forward (the last cell state), backward(dhs) -> dxs, ``dh``
    (gradient of the initial h) and ``grads`` are compared.
    stateful : also check a case built with ``stateful=True`` and started
    from ``set_state(h0, c0)`` ('stateful hs', ...). Returns a CheckReport.
    """
    return _check_time("check_time_lstm", cls, "TimeLSTM", shapes, rtol, seed, build, stateful)


def check_time_gru(cls, shapes=TIME_RNN_SHAPES, rtol=None, seed=0, build=None,
                   stateful=True):
    """Compare a course-style ``TimeGRU`` class with ours (``rnnscratch.TimeGRU``).

    As check_time_rnn: hs, dxs, dh and ``grads`` compared; the stateful case
    starts from ``set_state(h0)``. Returns a CheckReport.
    """
    return _check_time("check_time_gru", cls, "TimeGRU", shapes, rtol, seed, build, stateful)


# --------------------------------------------------------------------------
# pytest-style assertions
# --------------------------------------------------------------------------

def _asserting(check):
    """The pytest-style twin of ``check``: AssertionError with the report's
    text unless ok, else the report."""
    def assert_(cls, **kwargs):
        return check(cls, **kwargs).raise_if_failed()
    assert_.__name__ = assert_.__qualname__ = check.__name__.replace("check_", "assert_")
    assert_.__doc__ = ("%s(cls, **kwargs); AssertionError with the report's text unless ok."
                       % check.__name__)
    return assert_


assert_rnn = _asserting(check_rnn)
assert_time_rnn = _asserting(check_time_rnn)
assert_simple_rnn = _asserting(check_simple_rnn)
assert_lstm = _asserting(check_lstm)
assert_time_lstm = _asserting(check_time_lstm)
assert_gru = _asserting(check_gru)
assert_time_gru = _asserting(check_time_gru)
