"""The registry of layer classes the test suites loop over.

One entry per layer class: how to build one for an implementation, a dtype and
an rng; its forward inputs and its upstream gradient for given sizes; a
uniform adapter to run it (``entry.forward(layer, inputs)``,
``entry.backward(layer, douts)``); what to compare after a call
(``entry.outputs``); its bad-argument cases (argument, bad value, accepted
exception types, message regex). The suites that loop over it:
test_fuzz.py (compiled vs its twin on arbitrary arguments),
test_failure_state.py (a call that raises changes nothing),
test_memory.py (no growth, no reference leaks), test_concurrency.py (threads,
fork, 1 vs 2 threads bit-identical) and test_core_errors.py (every class-level
error names the argument, and the layer stays usable).

Layer classes are reached only through public paths: ``rnnscratch.X``,
``rnnscratch.reference.X``, ``rnnscratch.diveintocode.X``. An entry whose class
is missing from one of its implementations is a FAILURE of every suite
(``entry.cls`` raises AssertionError), never a skip.

Sizes use the package's legend: N batch, T time steps, D input features,
H hidden units, V vocabulary. An argument's shape is written as its legend
letters ("NTD" is (N, T, D)); ``shape_of("NTD", sz)`` turns it into a tuple.

How to add a layer (say TimeLSTM)
---------------------------------
1. Write one subclass of ``Entry`` below, next to the one it most resembles
   (TimeLSTM: copy ``TimeRNNEntry``; TimeDropout or an attention layer: copy
   ``TimeAffineEntry``), and set its class attributes:

   name           the public class name, e.g. "TimeLSTM"
   impls          the public modules holding it, compiled first:
                  ("rnnscratch", "rnnscratch.reference"); the second is the
                  oracle twin. A class without a NumPy twin lists its one module
                  and overrides ``pair()`` to return an oracle object with the
                  same forward/backward (see SimpleRNNEntry).
   variants       {label: options}: the option sets that the deterministic
                  suites (failure state, errors, memory, concurrency) run, each
                  one; options that are not constructor arguments (``bias``,
                  ``one_hot``, ``scale``) are consumed by ``build``/``inputs``
   options        {option: every choice}: the fuzz draws one choice per option
   dtypes         the parameter dtypes the deterministic suites run
                  ((float32, float64) unless the class fixes its own)
   fuzz_dtypes    the parameter dtypes the fuzz draws (float16, int64, >f8 ...)
   forward_args   one ``Arg(name, legend shape, kind, none_ok, aliases)`` per
   backward_args  positional argument of forward / backward, named as the error
                  messages name them ("xs", "dhs", ...). kind "float", "ids"
                  (integer ids in [0, V)) or "scalar"; none_ok=True when None
                  is valid (an initial state). The generic bad cases (None,
                  wrong shape/ndim, 0-d, complex/object/str/datetime dtypes,
                  ragged lists, objects whose __array__ raises, out-of-range
                  ids, ...) are derived from these; each must raise with a
                  message naming the argument.
   grad_cases     ((index into layer.grads, "readonly" | "int"), ...): that
                  gradient array made unusable, then backward must raise and
                  change nothing
   state_attrs    attributes that must survive a failing call unchanged and
                  are compared between runs (TimeRNN: "h", "dh")
   compare_attrs  attributes compared with the twin by the fuzz
   state_shape    the legend of set_state()'s argument, if the class has one
   (and, rarely: fuzz_sizes, fuzz_terms, guards_backward, resync_after_error,
   unnamed: see Entry)
   and write its methods:
   build(cls, dtype, rng, sz, layout, **opts)   weights from rng (``weights()``:
                  contractive scale), ``layout()`` applied to the first weight
                  (the fuzz passes other memory layouts), then cls(...). The
                  same rng state gives the same layer (twins are built so).
   inputs(rng, sz, dtype, **opts) / douts(rng, sz, **opts)   the good positional
                  arguments of forward / backward (lists), float64 unless ids
                  (``dtype`` is for a class without parameters, as the softmax)
   extra_bad(sz, opts)   the layer's own bad cases (``Bad``), precise: the
                  message must name the argument and show the actual shape or
                  dtype (``shown("xs", (N, T, D + 1))``).
   Override forward/backward/outputs only if the class's calls are not
   ``layer.forward(*inputs)`` / ``layer.backward(*douts)`` with arrays back.
2. Add an instance to ``REGISTRY`` at the bottom. Every suite now covers the
   layer; ``python -m pytest tests/test_failure_state.py tests/test_core_errors.py
   tests/test_fuzz.py tests/test_memory.py tests/test_concurrency.py`` runs them.
3. Its kernels need no entry here: tests/core_contract.py reads their C tables
   (_core._signatures()), test_contract.py checks them against _core.pyi, the
   docstrings and the README, and test_fuzz.py fuzzes them once its kernel oracle
   has the formula (CONTRIBUTING.md, "Adding a layer").
"""
import importlib
import re
from dataclasses import dataclass

import threading

import numpy as np

# np.random is global: layers that draw their weights from it (the book's models)
# are built under this lock, so threads building them at once get their own seeds' weights
NP_RANDOM_LOCK = threading.Lock()

FAIL_EXC = (ValueError, TypeError, IndexError, RuntimeError)


@dataclass(frozen=True)
class Sizes:
    N: int = 3
    T: int = 4
    D: int = 5
    H: int = 6
    V: int = 7

    def __getitem__(self, k):
        return getattr(self, k)


def shape_of(legend, sz):
    return tuple(sz[c] for c in legend)


@dataclass(frozen=True)
class Arg:
    name: str             # as the error messages spell it
    shape: str = ""       # legend letters
    kind: str = "float"   # "float" | "ids" | "scalar"
    none_ok: bool = False  # None is a valid value (zeros initial state)
    aliases: tuple = ()   # other names the messages may use for it (the kernel's name)


@dataclass
class Bad:
    """One bad call. call: "forward" | "backward" (``arg`` is replaced by
    ``value`` in the good arguments) or "grad" (``arg`` is an index of
    layer.grads, ``value`` "readonly" or "int"; then backward is called).
    The call must raise one of ``exc`` with a message matching ``match``
    (re.search)."""
    label: str
    call: str
    arg: object
    value: object
    exc: tuple = FAIL_EXC
    match: str = r"\S"


def name_re(name):
    """The argument's name as a word of its own ('Wx' not inside 'dWx')."""
    return r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(name)


def shown(name, *details):
    """A regex: the name, then (later in the message) one of the details: a
    shape tuple as Python prints it, a dtype, or a string."""
    alts = []
    for d in details:
        if isinstance(d, tuple):
            alts.append(re.escape(str(d)))
        elif isinstance(d, np.dtype):
            alts.append("(%s|%s)" % (re.escape(str(d)), re.escape(d.name)))
        else:
            alts.append(re.escape(str(d)))
    if not alts:
        return name_re(name)
    return "%s.*(%s)" % (name_re(name), "|".join(alts))


# --------------------------------------------------------------------------
# generic bad values, by kind of argument
# --------------------------------------------------------------------------

class Boom:
    """An object whose conversion to an array raises."""

    def __array__(self, dtype=None, copy=None):
        raise ValueError("conversion refused")


def _ragged():
    return [[1.0, 2.0], [3.0]]


def bad_arrays(shape):
    """{label: bad value} for an argument that should be a float array of ``shape``."""
    wrong = tuple(s + 1 for s in shape)
    return {
        "None": None,
        "wrong shape": np.zeros(wrong),
        "wrong ndim": np.zeros(shape + (1,)),
        "0-d": np.float64(1.0),
        "complex": np.zeros(shape, complex),
        "object": np.zeros(shape, object),
        "str": np.full(shape, "a"),
        "datetime": np.zeros(shape, "datetime64[s]"),
        "ragged list": _ragged(),
        "__array__ raises": Boom(),
        "empty wrong": np.zeros((0,) * len(shape) if len(shape) > 1 else (0, 0)),
    }


def bad_ids(shape, V):
    """{label: bad value} for an argument of integer ids in [0, V) of ``shape``."""
    out = {k: v for k, v in bad_arrays(shape).items() if k != "0-d"}
    too_big = np.zeros(shape, int)
    too_big[(-1,) * len(shape)] = V
    neg = np.zeros(shape, int)
    neg[(0,) * len(shape)] = -2
    out.update({"float ids": np.zeros(shape), "id == V": too_big, "id < 0": neg,
                "uint64 max": np.full(shape, np.iinfo(np.uint64).max, np.uint64)})
    return out


def weights(rng, *shape, dtype=np.float64, scale=0.4):
    """Weights scaled by 1/sqrt(fan-in): the recurrence stays contractive.
    Integer dtypes (parameters are numbers like any other) get small integers."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return rng.integers(-3 if dtype.kind == "i" else 0, 4, size=shape).astype(dtype)
    fan = shape[0] if len(shape) > 1 else 1
    return (rng.standard_normal(shape) * scale / np.sqrt(max(fan, 1))).astype(dtype)


def _same(a):
    return a


def ids(rng, shape, V, low=0):
    """Integer ids in [low, V) (zeros when V == 0: invalid unless the array is empty)."""
    return rng.integers(low, V, size=shape) if V else np.zeros(shape, int)


def randn(rng, *shape, scale=1.0):
    return rng.standard_normal(shape) * scale


# --------------------------------------------------------------------------
# the entry base class
# --------------------------------------------------------------------------

class Entry:
    name = None
    impls = ("rnnscratch", "rnnscratch.reference")
    variants = {"": {}}
    # every choice of every option, for the fuzz suite (which draws one per option)
    options = {}
    dtypes = (np.float32, np.float64)
    fuzz_dtypes = ("float64", "float32", "float16", "int64", ">f8")
    fuzz_sizes = {}        # legend letter -> sizes to draw from (default: test_fuzz.SIZES)
    fuzz_terms = 50        # the tolerance's number of O(1) terms per element
    state_shape = None     # legend of the state set_state() takes, if the class has one
    any_shape = False      # forward takes an array of any shape (TimeDropout, as the book's)
    resync_after_error = False  # reset_state() both after a failed forward (the fuzz)
    compare_attrs = ()     # attributes compared with the twin after backward
    # the modules whose class raises RuntimeError on backward() before forward()
    guards_backward = ("rnnscratch", "rnnscratch.reference", "rnnscratch.diveintocode")
    forward_args = ()
    backward_args = ()
    grad_cases = ()
    state_attrs = ()
    # KNOWN GAPS of the package, reported: (argument, generic bad kind) whose error
    # message is NumPy's own and does not name the argument. Remove when fixed.
    unnamed = frozenset()

    # ---- the class ------------------------------------------------------
    def cls(self, impl):
        """The class in module ``impl`` (a public path). Missing = failure."""
        mod = importlib.import_module(impl)
        c = getattr(mod, self.name, None)
        assert c is not None, "%s.%s does not exist (registry entry %s)" % (
            impl, self.name, self.id)
        return c

    @property
    def id(self):
        return self.name if self.impls[0] != "rnnscratch.diveintocode" else \
            "diveintocode." + self.name

    def make(self, impl, dtype, rng, sz=Sizes(), variant="", opts=None, layout=_same):
        """A layer of module ``impl`` with the variant's options (or ``opts``),
        weights from rng; ``layout`` maps the first weight array to another
        memory layout with the same values."""
        opts = self.variants[variant] if opts is None else opts
        return self.build(self.cls(impl), np.dtype(dtype), rng, sz, layout, **opts)

    def pair(self, dtype, rng_seed, sz, variant="", opts=None, layout=_same):
        """(compiled, its twin) with the same weights."""
        ours = self.make(self.impls[0], dtype, np.random.default_rng(rng_seed), sz, variant,
                         opts, layout)
        twin = self.make(self.impls[1], dtype, np.random.default_rng(rng_seed), sz, variant,
                         opts, layout)
        return ours, twin

    # ---- to override ------------------------------------------------------
    def build(self, cls, dtype, rng, sz, layout, **opts):
        raise NotImplementedError

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        raise NotImplementedError

    def douts(self, rng, sz, **opts):
        raise NotImplementedError

    def extra_bad(self, sz, opts):
        return []

    def inputs_valid(self, sz, opts):
        """False when inputs() cannot make valid inputs for these sizes."""
        return True

    def comparable(self, inputs, sz, valid):
        """False when the twins' results are not expected to agree within the
        tolerance (valid: the inputs are valid ones)."""
        return True

    def param_arrays(self, layer):
        """The parameter arrays the layer reads at each call (perturbed in place by
        the gradient check)."""
        return list(getattr(layer, "params", []))

    def grad_arrays(self, layer):
        """The gradients of param_arrays(), in the same order."""
        return self.grads(layer)

    # ---- the uniform adapter ------------------------------------------------
    @staticmethod
    def forward(layer, inputs):
        return layer.forward(*inputs)

    @staticmethod
    def backward(layer, douts):
        return layer.backward(*douts)

    def grads(self, layer):
        return list(getattr(layer, "grads", []))

    def outputs(self, layer, fwd, bwd):
        """Everything to compare after forward+backward: the returned values,
        copies of the gradients, the state attributes."""
        out = []
        for r in (fwd, bwd):
            if isinstance(r, tuple):
                out += list(r)
            elif r is not None:
                out.append(r)
        out += [np.array(g, copy=True) for g in self.grads(layer)]
        out += [getattr(layer, a) for a in self.state_attrs]
        return [np.asarray(o) if not isinstance(o, np.ndarray) else o for o in out]

    def run(self, layer, inputs, douts):
        fwd = self.forward(layer, inputs)
        bwd = self.backward(layer, douts)
        return self.outputs(layer, fwd, bwd)

    # ---- bad cases ------------------------------------------------------------
    def bad_cases(self, sz=Sizes(), variant=""):
        opts = self.variants[variant]
        out = []
        for call, args in (("forward", self.fwd_args(opts)), ("backward", self.bwd_args(opts))):
            for a in args:
                if a.kind == "scalar":
                    continue
                shape = shape_of(a.shape, sz)
                vals = bad_ids(shape, sz.V) if a.kind == "ids" else bad_arrays(shape)
                for k, v in vals.items():
                    if k == "None" and a.none_ok:
                        continue
                    named = "|".join(name_re(n) for n in (a.name,) + a.aliases)
                    if (a.name, k) in self.unnamed:
                        named = r"\S"  # KNOWN GAP (see `unnamed`)
                    out.append(Bad("%s %s %s" % (call, a.name, k), call, a.name, v,
                                   match=named))
        for i, how in self.grad_cases:
            out.append(Bad("backward %s grads[%d]" % ("read-only" if how == "readonly" else
                                                      "int", i), "grad", i, how))
        out += self.extra_bad(sz, opts)
        labels = [b.label for b in out]
        assert len(set(labels)) == len(labels), labels
        return out

    def fwd_args(self, opts):
        return self.forward_args

    def bwd_args(self, opts):
        return self.backward_args

    def apply_bad(self, layer, bad, inputs, douts, undo):
        """Make the failing call. ``undo`` gets callables that put a gradient
        array made unusable back (so that the state can be compared)."""
        if bad.call in ("forward", "backward"):
            names = [a.name for a in (self.fwd_args(self.opts_of(layer)) if bad.call == "forward"
                                      else self.bwd_args(self.opts_of(layer)))]
            args = list(inputs if bad.call == "forward" else douts)
            args[names.index(bad.arg)] = bad.value
            return (self.forward if bad.call == "forward" else self.backward)(layer, args)
        i = bad.arg
        grads = layer.grads
        if bad.value == "readonly":
            grads[i].flags.writeable = False
            undo.append(lambda: setattr(grads[i].flags, "writeable", True))
        else:
            saved = grads[i]
            grads[i] = saved.astype(np.int64)
            undo.append(lambda: grads.__setitem__(i, saved))
        return self.backward(layer, douts)

    def opts_of(self, layer):
        return {}

    def all_cases(self):
        """(variant, dtype) pairs, for parametrizing."""
        return [(v, dt) for v in self.variants for dt in self.dtypes]


# --------------------------------------------------------------------------
# the entries
# --------------------------------------------------------------------------

def _rnn_weights(rng, dtype, sz, bias=True, layout=_same):
    Wx = layout(weights(rng, sz.D, sz.H, dtype=dtype))
    Wh = weights(rng, sz.H, sz.H, dtype=dtype)
    b = weights(rng, sz.H, dtype=dtype, scale=0.2) if bias else None
    return Wx, Wh, b


class RNNEntry(Entry):
    name = "RNN"
    variants = {"tanh": {"activation": "tanh"},
                "relu-nobias": {"activation": "relu", "bias": False}}
    options = {"activation": ("tanh", "relu", "sigmoid"), "bias": (True, False)}
    forward_args = (Arg("x", "ND"), Arg("h_prev", "NH", none_ok=True))
    backward_args = (Arg("dh_next", "NH"),)
    grad_cases = ((-1, "readonly"), (1, "int"))

    def build(self, cls, dtype, rng, sz, layout, bias=True, **opts):
        return cls(*_rnn_weights(rng, dtype, sz, bias, layout), **opts)

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        # inputs of any numeric dtype are converted: h_prev comes as float32
        return [randn(rng, sz.N, sz.D), randn(rng, sz.N, sz.H).astype(np.float32)]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.H)]

    def opts_of(self, layer):
        return {}

    def extra_bad(self, sz, opts):
        N, D, H = sz.N, sz.D, sz.H
        f, b = "forward", "backward"
        return [
            Bad("forward x 1-d", f, "x", np.ones(D), ValueError, shown("x", (D,))),
            Bad("forward x 3-d", f, "x", np.ones((N, 1, D)), ValueError, shown("x", (N, 1, D))),
            Bad("forward x D+2", f, "x", np.ones((N, D + 2)), ValueError,
                "%s|%s" % (shown("x", (N, D + 2)), shown("Wx", (D, H)))),
            Bad("forward h_prev N+1", f, "h_prev", np.ones((N + 1, H)), ValueError,
                "%s|%s" % (shown("h_prev", (N + 1, H)), shown("x", (N, D)))),
            Bad("forward h_prev H+1", f, "h_prev", np.ones((N, H + 1)), ValueError,
                shown("h_prev", (N, H + 1))),
            Bad("forward x complex128", f, "x", np.ones((N, D), complex), TypeError,
                shown("x", np.dtype(complex))),
            Bad("forward h_prev str named", f, "h_prev", np.array([["h"] * H] * N), TypeError,
                shown("h_prev")),
            Bad("forward x is None", f, "x", None, TypeError, shown("x")),
            Bad("backward dh_next H+1", b, "dh_next", np.ones((N, H + 1)), ValueError,
                shown("dh_next", (N, H + 1))),
            Bad("backward dh_next N+1", b, "dh_next", np.ones((N + 1, H)), ValueError,
                shown("dh_next", (N + 1, H))),
            Bad("backward dh_next 3-d", b, "dh_next", np.ones((N, 1, H)), ValueError,
                shown("dh_next", (N, 1, H))),
            Bad("backward dh_next complex128", b, "dh_next", np.ones((N, H), complex), TypeError,
                shown("dh_next", np.dtype(complex))),
        ]


def _sequence_bad(sz, wx_cols):
    """The precise bad cases of a sequence layer's xs and dhs (TimeRNN, TimeLSTM,
    TimeGRU): Wx has ``wx_cols`` columns."""
    N, T, D, H = sz.N, sz.T, sz.D, sz.H
    f, b = "forward", "backward"
    return [
        Bad("forward xs 2-d", f, "xs", np.ones((N, D)), ValueError, shown("xs", (N, D))),
        Bad("forward xs 4-d", f, "xs", np.ones((N, T, D, 1)), ValueError,
            shown("xs", (N, T, D, 1))),
        Bad("forward xs D+1", f, "xs", np.ones((N, T, D + 1)), ValueError,
            "%s|%s" % (shown("xs", (N, T, D + 1)), shown("Wx", (D, wx_cols)))),
        Bad("forward xs complex128", f, "xs", np.ones((N, T, D), complex), TypeError,
            shown("xs", np.dtype(complex))),
        Bad("forward xs object dtype", f, "xs", np.ones((N, T, D), object), TypeError,
            shown("xs", np.dtype(object))),
        Bad("forward xs a str", f, "xs", "xs", TypeError, shown("xs")),
        Bad("backward dhs T+1", b, "dhs", np.ones((N, T + 1, H)), ValueError,
            shown("dhs", (N, T + 1, H))),
        Bad("backward dhs H-1", b, "dhs", np.ones((N, T, H - 1)), ValueError,
            shown("dhs", (N, T, H - 1))),
        Bad("backward dhs N+1", b, "dhs", np.ones((N + 1, T, H)), ValueError,
            shown("dhs", (N + 1, T, H))),
        Bad("backward dhs 2-d", b, "dhs", np.ones((N, T * H)), ValueError,
            shown("dhs", (N, T * H))),
        Bad("backward dhs complex128", b, "dhs", np.ones((N, T, H), complex), TypeError,
            shown("dhs", np.dtype(complex))),
        Bad("backward dhs is None", b, "dhs", None, TypeError, shown("dhs")),
    ]


class TimeRNNEntry(Entry):
    name = "TimeRNN"
    variants = {"sigmoid": {"activation": "sigmoid"},
                "sigmoid-stateful": {"activation": "sigmoid", "stateful": True},
                "tanh-stateful": {"activation": "tanh", "stateful": True},
                "relu-stateful-nobias": {"activation": "relu", "stateful": True, "bias": False}}
    options = {"activation": ("tanh", "relu", "sigmoid"), "bias": (True, False),
               "stateful": (False, True)}
    state_shape = "NH"
    compare_attrs = ("h", "dh")
    forward_args = (Arg("xs", "NTD"),)
    backward_args = (Arg("dhs", "NTH"),)
    grad_cases = ((0, "readonly"), (-1, "int"))
    state_attrs = ("h", "dh")

    def build(self, cls, dtype, rng, sz, layout, bias=True, **opts):
        return cls(*_rnn_weights(rng, dtype, sz, bias, layout), **opts)

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, sz.T, sz.D)]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.T, sz.H)]

    def opts_of(self, layer):
        return {}

    def extra_bad(self, sz, opts):
        N, T, D, H = sz.N, sz.T, sz.D, sz.H
        f = "forward"
        out = _sequence_bad(sz, H)
        if opts.get("stateful"):  # the state h was left by a batch of another size
            out.append(Bad("forward xs other batch than h", f, "xs",
                           np.zeros((N + 1, T, D)), ValueError, shown("h", (N, H))))
        return out


class TimeEmbeddingEntry(Entry):
    name = "TimeEmbedding"
    guards_backward = ("rnnscratch",)  # the reference mirrors the book: no guard
    forward_args = (Arg("xs", "NT", "ids"),)
    backward_args = (Arg("dout", "NTD"),)
    grad_cases = ((0, "readonly"), (0, "int"))

    fuzz_dtypes = ("float64", "float32", "float16", "int64")

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls(layout(weights(rng, sz.V, sz.D, dtype=dtype, scale=3.0)))

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [ids(rng, (sz.N, sz.T), sz.V)]

    def inputs_valid(self, sz, opts):
        return sz.V > 0 or sz.N * sz.T == 0

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.T, sz.D)]

    def extra_bad(self, sz, opts):
        N, T, D, V = sz.N, sz.T, sz.D, sz.V
        x = self.forward_args[0].name  # xs (TimeEmbedding), idx (Embedding)
        return [
            Bad("forward %s id out of range" % x, "forward", x, np.full((N, T), V), ValueError,
                shown(x, "range")),
            Bad("forward %s float ids message" % x, "forward", x, np.zeros((N, T)), TypeError,
                shown(x, np.dtype(np.float64))),
            Bad("backward dout D+1", "backward", "dout", np.ones((N, T, D + 1)), ValueError,
                shown("dout", (N, T, D + 1))),
        ]


class TimeAffineEntry(Entry):
    name = "TimeAffine"
    guards_backward = ("rnnscratch",)  # the reference mirrors the book: no guard
    variants = {"bias": {}, "nobias": {"bias": False}}
    options = {"bias": (True, False)}
    fuzz_dtypes = ("float64", "float32", "float16", "int64")
    forward_args = (Arg("x", "NTD"),)
    backward_args = (Arg("dout", "NTV"),)
    grad_cases = ((-1, "readonly"), (0, "int"))

    def build(self, cls, dtype, rng, sz, layout, bias=True, **opts):
        W = weights(rng, sz.D, sz.V, dtype=dtype)
        W = np.asfortranarray(W) if layout is _same else layout(W)  # F: weight tying's layout
        b = weights(rng, sz.V, dtype=dtype, scale=0.2) if bias else None
        return cls(W, b)

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, sz.T, sz.D).astype(np.float32)]  # any dtype is converted

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.T, sz.V)]

    def extra_bad(self, sz, opts):
        N, T, D, V = sz.N, sz.T, sz.D, sz.V
        return [
            Bad("forward x D+1", "forward", "x", np.ones((N, T, D + 1)), ValueError,
                "%s|%s" % (shown("x", (N, T, D + 1)), shown("W", (D, V)))),
            Bad("backward dout V+1", "backward", "dout", np.ones((N, T, V + 1)), ValueError,
                shown("dout", (N, T, V + 1))),
        ]


class _AttentionEntry(Entry):
    """The attention layers (chapter 8): no parameters; the hidden states set
    the dtype. The encoder's length S is the letter D here (hs "NDH")."""
    guards_backward = ("rnnscratch", "rnnscratch.reference")
    fuzz_dtypes = ("float64", "float32", "float16", "int64")

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls()

    def states(self, rng, shape, dtype):
        return np.asarray(rng.uniform(-1.0, 1.0, shape)).astype(dtype) \
            if np.dtype(dtype).kind == "f" else rng.integers(-1, 2, size=shape).astype(dtype)

    # (call, argument, legend letter): that size one too large, the message shows it
    wrong_sizes = ()

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        # hidden states in (-1, 1) of the dtype; the weights a (WeightSum) in [0, 1)
        return [rng.uniform(0.0, 1.0, shape_of(a.shape, sz)) if a.name == "a" else
                self.states(rng, shape_of(a.shape, sz), dtype) for a in self.forward_args]

    def douts(self, rng, sz, **opts):
        return [randn(rng, *shape_of(a.shape, sz)) for a in self.backward_args]

    def extra_bad(self, sz, opts):
        out = []
        for call, name, letter in self.wrong_sizes:
            args = self.forward_args if call == "forward" else self.backward_args
            legend = next(a.shape for a in args if a.name == name)
            shape = tuple(sz[c] + (c == letter) for c in legend)
            out.append(Bad("%s %s %s+1" % (call, name, "S" if letter == "D" else letter), call,
                           name, np.ones(shape), ValueError, shown(name, shape)))
        return out


class TimeAttentionEntry(_AttentionEntry):
    name = "TimeAttention"
    forward_args = (Arg("hs_enc", "NDH"), Arg("hs_dec", "NTH"))
    backward_args = (Arg("dout", "NTH"),)
    state_attrs = ("attention_weights",)
    wrong_sizes = (("forward", "hs_dec", "H"), ("forward", "hs_dec", "N"),
                   ("backward", "dout", "T"))


class AttentionEntry(_AttentionEntry):
    name = "Attention"
    forward_args = (Arg("hs", "NDH"), Arg("h", "NH"))
    backward_args = (Arg("dout", "NH"),)
    state_attrs = ("attention_weight",)
    wrong_sizes = (("forward", "h", "H"),)


class AttentionWeightEntry(_AttentionEntry):
    name = "AttentionWeight"
    forward_args = (Arg("hs", "NDH"), Arg("h", "NH"))
    backward_args = (Arg("da", "ND"),)
    wrong_sizes = (("backward", "da", "D"),)


class WeightSumEntry(_AttentionEntry):
    name = "WeightSum"
    forward_args = (Arg("hs", "NDH"), Arg("a", "ND"))
    backward_args = (Arg("dc", "NH"),)
    wrong_sizes = (("forward", "a", "D"),)


class TimeSoftmaxWithLossEntry(Entry):
    name = "TimeSoftmaxWithLoss"
    guards_backward = ("rnnscratch",)  # the reference mirrors the book: no guard
    variants = {"ids": {}, "one-hot": {"one_hot": "int32"}}
    # one_hot: the dtype of one-hot targets, or False for ids (some = ignore_label -1);
    # scale: of the logits (the loss is compared with the twin's for |logits| <= 1e3)
    options = {"one_hot": (False, "int32", "float32"), "scale": (1, 100, 1e4)}
    fuzz_dtypes = ("float64", "float32", "float16", "int64")
    forward_args = (Arg("xs", "NTV"), Arg("ts", "NT", "ids"))
    backward_args = (Arg("dout", kind="scalar"),)
    DOUTS = (1, 0.5, 2.0, np.float64(3), np.int8(3))
    unnamed = frozenset((a, k) for a in ("xs", "ts") for k in ("ragged list", "__array__ raises"))

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls()

    def inputs(self, rng, sz, dtype=np.float64, one_hot=False, scale=5.0, **opts):
        # the logits set the dtype (the layer has no parameters)
        xs = np.asarray(weights(rng, sz.N, sz.T, sz.V, dtype=dtype, scale=1.0) * scale)
        if one_hot:
            ts = np.zeros((sz.N, sz.T, sz.V), dtype=one_hot)
            if sz.V:
                np.put_along_axis(ts, ids(rng, (sz.N, sz.T), sz.V)[..., None], 1, 2)
        else:
            ts = ids(rng, (sz.N, sz.T), sz.V, low=-1) if sz.V else np.full((sz.N, sz.T), -1)
        return [xs, ts]

    def comparable(self, inputs, sz, valid):
        return valid and float(np.max(np.abs(inputs[0]), initial=0)) <= 1e3

    def outputs(self, layer, fwd, bwd):
        return [np.float64(fwd), bwd]

    def douts(self, rng, sz, **opts):
        return [self.DOUTS[int(rng.integers(len(self.DOUTS)))]]

    def extra_bad(self, sz, opts):
        N, T, V = sz.N, sz.T, sz.V
        return [
            Bad("forward one-hot wrong shape", "forward", "ts", np.zeros((N, T, V + 1)),
                ValueError, shown("ts", (N, T, V + 1))),
            Bad("forward ts label out of range", "forward", "ts", np.full((N, T), V), ValueError,
                shown("ts", "range")),
            Bad("backward dout str", "backward", "dout", "x", FAIL_EXC, r"\S"),
            Bad("backward dout list", "backward", "dout", [1, 2], FAIL_EXC, r"\S"),
        ]


MODEL_IMPLS = ("rnnscratch", "rnnscratch.models.reference")


class SimpleRnnlmEntry(Entry):
    name = "SimpleRnnlm"
    impls = MODEL_IMPLS
    guards_backward = ("rnnscratch",)  # the reference mirrors the book: no guard
    dtypes = (np.float32,)  # the model draws its own float32 weights, as the book's does
    fuzz_dtypes = ("float32",)
    fuzz_sizes = {"V": (1, 2, 3, 5), "D": (1, 2, 3, 5), "H": (1, 2, 3, 5)}
    fuzz_terms = 100
    resync_after_error = True
    forward_args = (Arg("xs", "NT", "ids"), Arg("ts", "NT", "ids"))
    backward_args = (Arg("dout", kind="scalar"),)
    grad_cases = ((3, "readonly"),)
    unnamed = frozenset(("ts", k) for k in ("ragged list", "__array__ raises"))

    def build(self, cls, dtype, rng, sz, layout, **opts):
        seed = int(rng.integers(2**31))
        with NP_RANDOM_LOCK:  # the model draws from np.random: one thread at a time
            np.random.seed(seed)
            return cls(sz.V, sz.D, sz.H)

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [ids(rng, (sz.N, sz.T), sz.V), ids(rng, (sz.N, sz.T), sz.V)]

    def comparable(self, inputs, sz, valid):
        return sz.N * sz.T > 0  # no positions: the loss is a mean over nothing

    def douts(self, rng, sz, **opts):
        return [1]

    def outputs(self, layer, fwd, bwd):
        return [np.float64(fwd)] + [np.array(g, copy=True) for g in layer.grads] + \
            [layer.rnn_layer.h]

    def extra_bad(self, sz, opts):
        N, T, V = sz.N, sz.T, sz.V
        return [
            Bad("forward ts other shape", "forward", "ts", np.zeros((N, T - 2), int), ValueError,
                r"\S"),
            Bad("forward ts label out of range", "forward", "ts", np.full((N, T), V), ValueError,
                shown("ts", "range")),
            Bad("backward dout str", "backward", "dout", "x", FAIL_EXC, r"\S"),
        ]


class _SimpleRNNOracle:
    """diveintocode.SimpleRNN computed by rnnscratch.reference.TimeRNN (its oracle twin)."""

    def __init__(self, layer):
        from rnnscratch import reference
        self.layer = layer
        # the weights as built (a layer without optimizer must keep them)
        self.W_x, self.W_h, self.B = (np.array(a, copy=True) for a in (layer.W_x, layer.W_h,
                                                                        layer.B))
        self.ref = reference.TimeRNN(layer.W_x, layer.W_h, layer.B, stateful=True,
                                     activation=layer.activation)

    def forward(self, X, h0=None):
        self.ref.set_state(h0)
        self.X = X
        hs = self.ref.forward(X)
        self.hs = hs
        if self.layer.return_sequences:
            return hs
        N, T = np.shape(X)[:2]
        if T == 0:
            return np.zeros((N, self.layer.n_nodes)) if h0 is None else np.asarray(h0)
        return hs[:, -1]

    def backward(self, dh):
        dh = np.asarray(dh)
        if self.layer.return_sequences:
            dhs = dh
        else:
            if dh.shape != (self.hs.shape[0], self.hs.shape[2]):
                raise ValueError("dh: shape %s" % (dh.shape,))
            dhs = np.zeros(self.hs.shape)
            if self.hs.shape[1]:
                dhs[:, -1] = dh
        dX = self.ref.backward(dhs)
        self.dW_x, self.dW_h, self.dB = self.ref.grads[:3] if len(self.ref.grads) > 2 else \
            (*self.ref.grads, None)
        self.dh0 = self.ref.dh
        if not self.layer.return_sequences and self.hs.shape[1] == 0:
            self.dh0 = self.dh0 + dh  # the output was the initial state itself
        return dX


class SimpleRNNEntry(Entry):
    """diveintocode.SimpleRNN: the scratch course's layer (weights W_x, W_h, B as
    attributes, no grads list); its twin is the NumPy reference TimeRNN."""
    name = "SimpleRNN"
    impls = ("rnnscratch.diveintocode",)
    variants = {"last": {}, "sequences-relu": {"return_sequences": True, "activation": "relu"}}
    options = {"activation": ("tanh", "relu", "sigmoid"), "return_sequences": (False, True)}
    fuzz_dtypes = ("float64", "float32")
    compare_attrs = ("dW_x", "dW_h", "dB", "dh0")
    # the messages name X and dh (return_sequences=True) by the kernel's names xs, dhs
    forward_args = (Arg("X", "NTD", aliases=("xs",)), Arg("h0", "NH", none_ok=True))
    state_attrs = ("W_x", "W_h", "B", "dW_x", "dW_h", "dB", "dh0")
    unnamed = frozenset(("dh", k) for k in ("ragged list", "__array__ raises"))

    def bwd_args(self, opts):
        if opts.get("return_sequences"):
            return (Arg("dh", "NTH", aliases=("dhs",)),)
        return (Arg("dh", "NH"),)

    def opts_of(self, layer):
        return {"return_sequences": layer.return_sequences}

    def build(self, cls, dtype, rng, sz, layout, optimizer=True, **opts):
        from rnnscratch import diveintocode
        L = cls(sz.D, sz.H, diveintocode.XavierInitializer(random_state=int(rng.integers(2**31))),
                diveintocode.SGD(0.1) if optimizer else None, **opts)
        L.W_x, L.W_h, L.B = (a.astype(dtype) for a in (L.W_x, L.W_h, L.B))
        L.W_x = layout(L.W_x)
        return L

    def param_arrays(self, layer):
        return [layer.W_x, layer.W_h, layer.B]

    def grad_arrays(self, layer):
        return [layer.dW_x, layer.dW_h, layer.dB]

    def pair(self, dtype, rng_seed, sz, variant="", opts=None, layout=_same):
        """(the layer, the NumPy oracle): the oracle computes the same numbers only
        when the layer does not update itself, so the layer has no optimizer here."""
        opts = dict(self.variants[variant] if opts is None else opts, optimizer=False)
        ours = self.make(self.impls[0], dtype, np.random.default_rng(rng_seed), sz, opts=opts,
                         layout=layout)
        return ours, _SimpleRNNOracle(ours)

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, sz.T, sz.D), None]

    def douts(self, rng, sz, return_sequences=False, **opts):
        return [randn(rng, sz.N, sz.T, sz.H) if return_sequences else randn(rng, sz.N, sz.H)]

    def outputs(self, layer, fwd, bwd):
        return [fwd, bwd] + [getattr(layer, a) for a in self.state_attrs]

    def extra_bad(self, sz, opts):
        N, H = sz.N, sz.H
        return [Bad("forward h0 H+1", "forward", "h0", np.zeros((N, H + 1)), ValueError,
                    shown("h0", (N, H + 1)))]



# --------------------------------------------------------------------------
# the gated layers (chapters 6-8): LSTM, GRU, their Time versions, TimeBiLSTM,
# TimeDropout, TimeSigmoidWithLoss
# --------------------------------------------------------------------------

def _gated_weights(rng, dtype, sz, G, layout=_same):
    Wx = layout(weights(rng, sz.D, G * sz.H, dtype=dtype))
    Wh = weights(rng, sz.H, G * sz.H, dtype=dtype)
    b = weights(rng, G * sz.H, dtype=dtype, scale=0.2)
    return Wx, Wh, b


def _gated_cell_bad(sz, state_names, out_names):
    """The precise bad cases of LSTM/GRU: x, the previous state(s), the upstream
    gradient(s) of the next state(s)."""
    N, D, H = sz.N, sz.D, sz.H
    f, b = "forward", "backward"
    out = [
        Bad("forward x 1-d", f, "x", np.ones(D), ValueError, shown("x", (D,))),
        Bad("forward x 3-d", f, "x", np.ones((N, 1, D)), ValueError, shown("x", (N, 1, D))),
        Bad("forward x D+2", f, "x", np.ones((N, D + 2)), ValueError,
            "%s|%s" % (shown("x", (N, D + 2)), shown("Wx", (D, 4 * H), (D, 3 * H)))),
        Bad("forward x complex128", f, "x", np.ones((N, D), complex), TypeError,
            shown("x", np.dtype(complex))),
        Bad("forward x is None", f, "x", None, TypeError, shown("x")),
    ]
    for s in state_names:
        out += [
            Bad("forward %s N+1" % s, f, s, np.ones((N + 1, H)), ValueError,
                "%s|%s" % (shown(s, (N + 1, H)), shown("x", (N, D)))),
            Bad("forward %s H+1" % s, f, s, np.ones((N, H + 1)), ValueError,
                shown(s, (N, H + 1))),
            Bad("forward %s str named" % s, f, s, np.array([["h"] * H] * N), TypeError,
                shown(s)),
            Bad("forward %s is None" % s, f, s, None, TypeError, shown(s, "None")),
        ]
    for d in out_names:
        out += [
            Bad("backward %s H+1" % d, b, d, np.ones((N, H + 1)), ValueError,
                shown(d, (N, H + 1))),
            Bad("backward %s N+1" % d, b, d, np.ones((N + 1, H)), ValueError,
                shown(d, (N + 1, H))),
            Bad("backward %s 3-d" % d, b, d, np.ones((N, 1, H)), ValueError,
                shown(d, (N, 1, H))),
            Bad("backward %s complex128" % d, b, d, np.ones((N, H), complex), TypeError,
                shown(d, np.dtype(complex))),
            Bad("backward %s is None" % d, b, d, None, TypeError, shown(d, "None")),
        ]
    return out


class LSTMEntry(Entry):
    """One LSTM step. backward(dh_next, dc_next): dc_next may be a scalar (the book's
    TimeLSTM passes 0), variant "scalar-dc". The adapter's backward also takes ONE
    array of shape (2, N, H) (the gradient check's upstream of the pair (h_next,
    c_next)) and splits it."""
    name = "LSTM"
    variants = {"": {}, "scalar-dc": {"dc": "scalar"}}
    options = {"dc": ("array", "scalar")}
    forward_args = (Arg("x", "ND"), Arg("h_prev", "NH"), Arg("c_prev", "NH"))
    backward_args = (Arg("dh_next", "NH"), Arg("dc_next", "NH"))
    grad_cases = ((-1, "readonly"), (1, "int"))
    G = 4
    states = ("h_prev", "c_prev")
    upstream = ("dh_next", "dc_next")

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls(*_gated_weights(rng, dtype, sz, self.G, layout))

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        # inputs of any numeric dtype are converted: h_prev comes as float32
        return [randn(rng, sz.N, sz.D), randn(rng, sz.N, sz.H).astype(np.float32),
                randn(rng, sz.N, sz.H)]

    def douts(self, rng, sz, dc="array", **opts):
        dh = randn(rng, sz.N, sz.H)
        return [dh, randn(rng, sz.N, sz.H) if dc == "array" else 0]

    @staticmethod
    def backward(layer, douts):
        if len(douts) == 1:  # the gradient check: one (2, N, H) array for (h_next, c_next)
            douts = list(douts[0])
        return layer.backward(*douts)

    def bad_cases(self, sz=Sizes(), variant=""):
        # a 0-d dc_next is valid (a scalar broadcast to (N, H)), not a bad case
        return [b for b in super().bad_cases(sz, variant)
                if b.label != "backward dc_next 0-d"]

    def extra_bad(self, sz, opts):
        N, H = sz.N, sz.H
        return _gated_cell_bad(sz, self.states, self.upstream) + [
            Bad("backward dc_next str scalar", "backward", "dc_next", "0", TypeError,
                shown("dc_next", "str", "<U1")),
            Bad("backward dc_next complex scalar", "backward", "dc_next", 1j, TypeError,
                shown("dc_next", "complex")),
            Bad("backward dc_next 1-d", "backward", "dc_next", np.zeros(H), ValueError,
                shown("dc_next", (H,))),
            Bad("backward dc_next (1, H)", "backward", "dc_next", np.zeros((1, H)),
                ValueError, shown("dc_next", (1, H))) if N != 1 else
            Bad("backward dc_next (2, H)", "backward", "dc_next", np.zeros((2, H)),
                ValueError, shown("dc_next", (2, H))),
        ]


class GRUEntry(LSTMEntry):
    name = "GRU"
    variants = {"": {}}
    options = {}
    forward_args = (Arg("x", "ND"), Arg("h_prev", "NH"))
    backward_args = (Arg("dh_next", "NH"),)
    grad_cases = ((0, "readonly"), (2, "int"))
    G = 3
    states = ("h_prev",)
    upstream = ("dh_next",)

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, sz.D), randn(rng, sz.N, sz.H).astype(np.float32)]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.H)]

    backward = staticmethod(Entry.backward)

    def bad_cases(self, sz=Sizes(), variant=""):
        return Entry.bad_cases(self, sz, variant)

    def extra_bad(self, sz, opts):
        return _gated_cell_bad(sz, self.states, self.upstream)


class TimeLSTMEntry(Entry):
    """TimeLSTM. The stateful variants take the initial state as extra inputs (h, c)
    given to set_state() before forward (None: leave the carried state), so that the
    gradient check covers dh and dc, the gradients of the initial state, and the bad
    cases cover a bad state (the error names h or c). A failing forward leaves the
    state the adapter set back as it was (set_state is the caller's, not the call)."""
    name = "TimeLSTM"
    variants = {"": {}, "stateful": {"stateful": True}}
    options = {"stateful": (False, True)}
    state_shape = "NH"
    compare_attrs = ("h", "c", "dh", "dc")
    state_attrs = ("h", "c", "dh", "dc")
    grad_cases = ((0, "readonly"), (-1, "int"))
    backward_args = (Arg("dhs", "NTH"),)
    G = 4
    state_names = ("h", "c")
    grad_names = ("dh", "dc")  # the gradients of the initial state, in state_names' order

    def fwd_args(self, opts):
        args = (Arg("xs", "NTD"),)
        if opts.get("stateful"):
            args += tuple(Arg(s, "NH", none_ok=True) for s in self.state_names)
        return args

    def opts_of(self, layer):
        return {"stateful": layer.stateful}

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls(*_gated_weights(rng, dtype, sz, self.G, layout), **opts)

    def inputs(self, rng, sz, dtype=np.float64, stateful=False, **opts):
        xs = randn(rng, sz.N, sz.T, sz.D)
        if not stateful:
            return [xs]
        return [xs] + [randn(rng, sz.N, sz.H, scale=0.5) for _ in self.state_names]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.T, sz.H)]

    def forward(self, layer, inputs):
        xs, state = inputs[0], list(inputs[1:])
        if not any(s is not None for s in state):
            return layer.forward(xs)
        saved = [getattr(layer, s) for s in self.state_names]
        layer.set_state(*[s if s is not None else v for s, v in zip(state, saved)])
        try:
            return layer.forward(xs)
        except BaseException:
            for s, v in zip(self.state_names, saved):
                setattr(layer, s, v)
            raise

    def backward(self, layer, douts):
        dxs = layer.backward(*douts)
        if not layer.stateful:
            return dxs
        # (the names are constants: a string made at each call ("d" + s) shows as growth
        # in test_memory, the interpreter's attribute cache keeps some of them)
        return (dxs,) + tuple(getattr(layer, d) for d in self.grad_names)

    def extra_bad(self, sz, opts):
        N, T, D, H = sz.N, sz.T, sz.D, sz.H
        f = "forward"
        out = _sequence_bad(sz, self.G * H)
        if opts.get("stateful"):
            for s in self.state_names:
                out += [
                    Bad("forward state %s H+1" % s, f, s, np.ones((N, H + 1)), ValueError,
                        shown(s, (N, H + 1))),
                    Bad("forward state %s 1-d" % s, f, s, np.ones(H), ValueError,
                        shown(s, (H,))),
                    Bad("forward state %s complex" % s, f, s, np.ones((N, H), complex),
                        TypeError, shown(s, np.dtype(complex))),
                ]
            # the state left by a batch of another size: xs of N+1 rows
            out.append(Bad("forward xs other batch than h", f, "xs", np.zeros((N + 1, T, D)),
                           ValueError, "%s|%s" % (shown("h", (N, H)), shown("c", (N, H)))))
        return out


class TimeGRUEntry(TimeLSTMEntry):
    name = "TimeGRU"
    compare_attrs = ("h", "dh")
    state_attrs = ("h", "dh")
    G = 3
    state_names = ("h",)
    grad_names = ("dh",)


class TimeBiLSTMEntry(Entry):
    """Two TimeLSTMs (forward and reversed time) on two threads."""
    name = "TimeBiLSTM"
    variants = {"": {}, "stateful": {"stateful": True}}
    options = {"stateful": (False, True), "H2": ("same", "other")}
    forward_args = (Arg("xs", "NTD"),)
    backward_args = (Arg("dhs", "NTH", aliases=()),)
    # (an int array put into TimeBiLSTM.grads is not seen: the list is a concatenation of
    # the two TimeLSTMs' lists, as the book's; the arrays are shared, so read-only is)
    grad_cases = ((1, "readonly"), (5, "readonly"))

    def build(self, cls, dtype, rng, sz, layout, H2="same", **opts):
        w1 = _gated_weights(rng, dtype, sz, 4, layout)
        sz2 = sz if H2 == "same" else Sizes(sz.N, sz.T, sz.D, sz.H + 1, sz.V)
        w2 = _gated_weights(rng, dtype, sz2, 4)
        return cls(*w1, *w2, **opts)

    def bwd_args(self, opts):
        return (Arg("dhs", "NTK"),)  # K = H1 + H2

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, sz.T, sz.D)]

    def douts(self, rng, sz, H2="same", **opts):
        return [randn(rng, sz.N, sz.T, 2 * sz.H + (H2 != "same"))]

    def bad_cases(self, sz=Sizes(), variant=""):
        # the generic cases of dhs need K = H1 + H2 in the sizes
        return super().bad_cases(_BiSizes(sz), variant)

    def extra_bad(self, sz, opts):
        N, T, D, H = sz.N, sz.T, sz.D, sz.H
        f, b = "forward", "backward"
        return [
            Bad("forward xs 2-d", f, "xs", np.ones((N, D)), ValueError, shown("xs", (N, D))),
            Bad("forward xs D+1", f, "xs", np.ones((N, T, D + 1)), ValueError,
                "%s|%s" % (shown("xs", (N, T, D + 1)), shown("Wx", (D, 4 * H)))),
            Bad("forward xs complex128", f, "xs", np.ones((N, T, D), complex), TypeError,
                shown("xs", np.dtype(complex))),
            Bad("forward xs a str", f, "xs", "xs", TypeError, shown("xs")),
            Bad("backward dhs H1 only", b, "dhs", np.ones((N, T, H)), ValueError,
                shown("dhs", (N, T, H))),
            Bad("backward dhs T+1", b, "dhs", np.ones((N, T + 1, 2 * H)), ValueError,
                shown("dhs", (N, T + 1, 2 * H))),
            Bad("backward dhs complex128", b, "dhs", np.ones((N, T, 2 * H), complex),
                TypeError, shown("dhs", np.dtype(complex))),
            Bad("backward dhs is None", b, "dhs", None, TypeError, shown("dhs")),
        ]


class _BiSizes(Sizes):
    """Sizes with K = 2H (TimeBiLSTM's output features, both directions of H)."""

    def __init__(self, sz):
        for c in "NTDHV":
            object.__setattr__(self, c, sz[c])

    @property
    def K(self):
        return 2 * self.H


class TimeDropoutEntry(Entry):
    """TimeDropout draws its mask from np.random's global generator: the adapter's
    forward seeds it (from the seed the layer got at build and the input's shape)
    under NP_RANDOM_LOCK, so that twins, threads and repeated calls draw the same
    mask. forward accepts an array of any shape (the book's class), so the generic
    wrong-shape cases of xs are valid calls, not bad ones."""
    name = "TimeDropout"
    variants = {"train": {"dropout_ratio": 0.5}, "eval": {"dropout_ratio": 0.3, "train": False},
                "ratio0": {"dropout_ratio": 0.0}}
    options = {"dropout_ratio": (0.0, 0.25, 0.5, 0.9), "train": (True, False)}
    fuzz_dtypes = ("float64", "float32", "float16", "int64", ">f8")
    forward_args = (Arg("xs", "NTD"),)
    backward_args = (Arg("dout", "NTD"),)
    any_shape = True
    ANY_SHAPE_OK = ("wrong shape", "wrong ndim", "0-d", "empty wrong")

    def build(self, cls, dtype, rng, sz, layout, dropout_ratio=0.5, train=True, **opts):
        L = cls(dropout_ratio)
        L.train_flg = train
        L.registry_seed = int(rng.integers(2**31))
        return L

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [np.asarray(randn(rng, sz.N, sz.T, sz.D)).astype(dtype)]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.T, sz.D)]

    @staticmethod
    def forward(layer, inputs):
        import zlib
        shape = getattr(inputs[0], "shape", None)
        seed = (layer.registry_seed + zlib.crc32(repr(shape).encode())) % 2**32
        with NP_RANDOM_LOCK:  # the layer draws from np.random: one thread at a time
            np.random.seed(seed)
            return layer.forward(*inputs)

    def bad_cases(self, sz=Sizes(), variant=""):
        return [b for b in super().bad_cases(sz, variant)
                if not (b.call == "forward" and b.label.split(" ", 2)[2] in self.ANY_SHAPE_OK)]

    def extra_bad(self, sz, opts):
        N, T, D = sz.N, sz.T, sz.D
        f, b = "forward", "backward"
        return [
            Bad("forward xs complex128", f, "xs", np.ones((N, T, D), complex), TypeError,
                shown("xs", np.dtype(complex))),
            Bad("forward xs a str", f, "xs", "xs", TypeError, shown("xs", "str", "<U")),
            Bad("backward dout D+1", b, "dout", np.ones((N, T, D + 1)), ValueError,
                shown("dout", (N, T, D + 1))),
            Bad("backward dout 2-d", b, "dout", np.ones((N, T * D)), ValueError,
                shown("dout", (N, T * D))),
            Bad("backward dout complex128", b, "dout", np.ones((N, T, D), complex), TypeError,
                shown("dout", np.dtype(complex))),
        ]


class TimeSigmoidWithLossEntry(Entry):
    """Binary cross-entropy of sigmoid(xs (N,T)) against labels ts (N,T) of 0/1."""
    name = "TimeSigmoidWithLoss"
    # (float labels are fuzzed, not in a variant: the gradient check would take them
    # for an input to differentiate)
    variants = {"int-labels": {}, "bool-labels": {"labels": "bool"}}
    options = {"labels": ("int64", "float32", "bool"), "scale": (1, 100, 1e4)}
    fuzz_dtypes = ("float64", "float32", "float16", "int64")
    forward_args = (Arg("xs", "NT"), Arg("ts", "NT"))
    backward_args = (Arg("dout", kind="scalar"),)
    DOUTS = (1, 0.5, 2.0, np.float64(3), np.int8(3))

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls()

    # scale: of the logits. The default keeps the probabilities of the labels away from 0:
    # the book's loss has its 1e-7 inside the log, its gradient has not, so the two differ
    # by about 1e-7 / p relative (the gradient check's 1e-6 needs p > 0.1)
    def inputs(self, rng, sz, dtype=np.float64, labels="int64", scale=0.5, **opts):
        xs = np.asarray(weights(rng, sz.N, sz.T, dtype=dtype, scale=1.0) * scale)
        return [xs, rng.integers(0, 2, size=(sz.N, sz.T)).astype(labels)]

    def comparable(self, inputs, sz, valid):
        return valid and sz.N * sz.T > 0

    def outputs(self, layer, fwd, bwd):
        return [np.float64(fwd), bwd]

    def douts(self, rng, sz, **opts):
        return [self.DOUTS[int(rng.integers(len(self.DOUTS)))]]

    def extra_bad(self, sz, opts):
        N, T = sz.N, sz.T
        f, b = "forward", "backward"
        two = np.zeros((N, T), int)
        two[-1, -1] = 2
        half = np.zeros((N, T))
        half[0, 0] = 0.5
        return [
            Bad("forward xs 3-d", f, "xs", np.ones((N, T, 1)), ValueError,
                shown("xs", (N, T, 1))),
            Bad("forward xs complex128", f, "xs", np.ones((N, T), complex), TypeError,
                shown("xs", np.dtype(complex))),
            Bad("forward ts T+1", f, "ts", np.zeros((N, T + 1), int), ValueError,
                shown("ts", (N, T + 1))),
            Bad("forward ts label 2", f, "ts", two, ValueError, shown("ts", "2")),
            Bad("forward ts label 0.5", f, "ts", half, ValueError, shown("ts", "0.5")),
            Bad("forward ts label -1", f, "ts", -np.ones((N, T), int), ValueError,
                shown("ts", "-1")),
            Bad("backward dout str", b, "dout", "x", TypeError, shown("dout", "str")),
            Bad("backward dout list", b, "dout", [1, 2], TypeError, shown("dout", "list")),
            Bad("backward dout None", b, "dout", None, TypeError, shown("dout", "None")),
            Bad("backward dout complex", b, "dout", 1j, TypeError, shown("dout", "complex")),
        ]

# --------------------------------------------------------------------------
# seq2seq branch: the book's common/layers.py and the chapters 7-8 models
# --------------------------------------------------------------------------

class _AnyShapeEntry(Entry):
    """A layer whose forward input may have any shape (or any N): the generic
    'wrong shape' / 'wrong ndim' values of that argument are valid for it."""
    any_shape_args = ()    # forward arguments of any shape
    any_ndim_args = ()     # ... and any number of dimensions

    def bad_cases(self, sz=Sizes(), variant=""):
        drop = set()
        for a in self.any_shape_args:
            drop |= {"forward %s wrong shape" % a}
        for a in self.any_ndim_args:
            drop |= {"forward %s wrong ndim" % a, "forward %s 0-d" % a,
                     "forward %s empty wrong" % a}
        return [b for b in super().bad_cases(sz, variant) if b.label not in drop]


class MatMulEntry(Entry):
    name = "MatMul"
    fuzz_dtypes = ("float64", "float32", "float16", "int64")
    forward_args = (Arg("x", "ND"),)
    backward_args = (Arg("dout", "NH"),)
    grad_cases = ((0, "readonly"),)

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls(layout(weights(rng, sz.D, sz.H, dtype=dtype)))

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, sz.D)]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.H)]

    def extra_bad(self, sz, opts):
        N, D, H = sz.N, sz.D, sz.H
        return [
            Bad("forward x D+1", "forward", "x", np.ones((N, D + 1)), ValueError,
                "%s|%s" % (shown("x", (N, D + 1)), shown("W", (D, H)))),
            Bad("forward x 3-d", "forward", "x", np.ones((N, 1, D)), ValueError,
                shown("x", (N, 1, D))),
            Bad("backward dout H+1", "backward", "dout", np.ones((N, H + 1)), ValueError,
                shown("dout", (N, 1, H + 1), (N, H + 1))),
        ]


class AffineEntry(MatMulEntry):
    name = "Affine"

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls(layout(weights(rng, sz.D, sz.H, dtype=dtype)),
                   weights(rng, sz.H, dtype=dtype, scale=0.2))


class SoftmaxEntry(_AnyShapeEntry):
    name = "Softmax"
    guards_backward = ("rnnscratch", "rnnscratch.reference")
    dtypes = (np.float32, np.float64)
    fuzz_dtypes = ("float64", "float32", "float16")
    forward_args = (Arg("x", "NV"),)
    backward_args = (Arg("dout", "NV"),)
    any_shape_args = ("x",)

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls()

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, sz.V, scale=3.0).astype(dtype)]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.V)]

    def comparable(self, inputs, sz, valid):
        return valid and float(np.max(np.abs(inputs[0]), initial=0)) <= 1e3

    def extra_bad(self, sz, opts):
        N, V = sz.N, sz.V
        return [Bad("forward x 3-d", "forward", "x", np.ones((N, V, 2)), ValueError,
                    shown("x", (N, V, 2))),
                Bad("backward dout V+1", "backward", "dout", np.ones((N, V + 1)), ValueError,
                    shown("dout", (N, V + 1)))]


class BasicSoftmaxWithLossEntry(Entry):
    name = "SoftmaxWithLoss"
    # the book's loss takes log(y + 1e-7) and its backward gives (y - t) / N, the
    # derivative without the 1e-7: they differ by about 1e-7 / y relative (1.8e-5 at the
    # smallest y of the check's inputs); a formula error is of order 1
    gradcheck_max_rel = 1e-4
    guards_backward = ("rnnscratch", "rnnscratch.reference")
    variants = {"ids": {}, "one-hot": {"one_hot": "int32"}}
    options = {"one_hot": (False, "int32", "float32")}
    fuzz_dtypes = ("float64", "float32", "float16")
    forward_args = (Arg("x", "NV"), Arg("t", "N", "ids"))
    backward_args = (Arg("dout", kind="scalar"),)
    DOUTS = (1, 0.5, 2.0, np.float64(3), np.int8(3))

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls()

    def inputs(self, rng, sz, dtype=np.float64, one_hot=False, **opts):
        x = (randn(rng, sz.N, sz.V) * 3).astype(dtype)
        t = ids(rng, (sz.N,), sz.V)
        if one_hot and sz.V:
            t = np.eye(sz.V, dtype=one_hot)[t]
        return [x, t]

    def inputs_valid(self, sz, opts):
        return sz.V > 0 or sz.N == 0

    def comparable(self, inputs, sz, valid):
        return valid and sz.N > 0

    def outputs(self, layer, fwd, bwd):
        return [np.float64(fwd), bwd]

    def douts(self, rng, sz, **opts):
        return [self.DOUTS[int(rng.integers(len(self.DOUTS)))]]

    def extra_bad(self, sz, opts):
        N, V = sz.N, sz.V
        return [
            Bad("forward t one-hot V+1", "forward", "t", np.zeros((N, V + 1)), ValueError,
                shown("t", (N, V + 1))),
            Bad("forward t id V", "forward", "t", np.full(N, V), ValueError, shown("t", "range")),
            Bad("forward t id -1", "forward", "t", np.full(N, -1), ValueError,
                shown("t", "range")),
            Bad("forward x 3-d", "forward", "x", np.ones((N, V, 1)), ValueError,
                shown("x", (N, V, 1))),
            Bad("backward dout str", "backward", "dout", "x", FAIL_EXC, r"\S"),
            Bad("backward dout list", "backward", "dout", [1, 2], FAIL_EXC, r"\S"),
        ]


class SigmoidEntry(_AnyShapeEntry):
    name = "Sigmoid"
    guards_backward = ("rnnscratch", "rnnscratch.reference")
    fuzz_dtypes = ("float64", "float32", "float16")
    forward_args = (Arg("x", "NTD"),)
    backward_args = (Arg("dout", "NTD"),)
    any_shape_args = ("x",)
    any_ndim_args = ("x",)
    any_shape = True

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls()

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, sz.T, sz.D, scale=4.0).astype(dtype)]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.T, sz.D)]

    def extra_bad(self, sz, opts):
        N, T, D = sz.N, sz.T, sz.D
        return [Bad("backward dout D+1", "backward", "dout", np.ones((N, T, D + 1)), ValueError,
                    shown("dout", (N, T, D + 1)))]


class SigmoidWithLossEntry(Entry):
    name = "SigmoidWithLoss"
    guards_backward = ("rnnscratch", "rnnscratch.reference")
    fuzz_dtypes = ("float64", "float32", "float16")
    forward_args = (Arg("x", "N"), Arg("t", "N", "ids"))
    backward_args = (Arg("dout", kind="scalar"),)

    def build(self, cls, dtype, rng, sz, layout, **opts):
        return cls()

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, scale=4.0).astype(dtype), rng.integers(0, 2, sz.N)]

    def comparable(self, inputs, sz, valid):
        return valid and sz.N > 0

    def outputs(self, layer, fwd, bwd):
        return [np.float64(fwd), bwd]

    def douts(self, rng, sz, **opts):
        return [1]

    def bad_cases(self, sz=Sizes(), variant=""):
        # t's generic 'wrong ndim' is (N, 1): valid for scores (N,); the layer's own
        # cases check shapes
        return [b for b in super().bad_cases(sz, variant)
                if b.label not in ("forward t wrong ndim", "forward x wrong ndim")]

    def extra_bad(self, sz, opts):
        N = sz.N
        return [
            Bad("forward t label 2", "forward", "t", np.full(N, 2), ValueError, shown("t", "0 or 1")),
            Bad("forward t label -1", "forward", "t", np.full(N, -1), ValueError,
                shown("t", "0 or 1")),
            Bad("forward t N+1", "forward", "t", np.zeros(N + 1, int), ValueError,
                shown("t", (N + 1,))),
            Bad("forward x (N, 2)", "forward", "x", np.zeros((N, 2)), ValueError,
                shown("x", (N, 2))),
            Bad("backward dout str", "backward", "dout", "x", FAIL_EXC, r"\S"),
        ]


class DropoutEntry(_AnyShapeEntry):
    """The mask comes from NumPy's global generator, as the book draws it: the
    adapter seeds it before each forward so the twins draw the same mask."""
    name = "Dropout"
    guards_backward = ("rnnscratch", "rnnscratch.reference")
    # (evaluation passes, train_flg=False, are in the fuzz's options: no mask for a backward)
    variants = {"train": {}, "ratio-0.2": {"dropout_ratio": 0.2}}
    options = {"train_flg": (True, False), "dropout_ratio": (0.5, 0.0, 0.9)}
    fuzz_dtypes = ("float64", "float32", "float16")
    forward_args = (Arg("x", "NTD"),)
    backward_args = (Arg("dout", "NTD"),)
    any_shape_args = ("x",)
    any_ndim_args = ("x",)
    any_shape = True

    def build(self, cls, dtype, rng, sz, layout, train_flg=True, **opts):
        L = cls(**opts)
        L._registry_train_flg = train_flg
        return L

    @staticmethod
    def forward(layer, inputs):
        with NP_RANDOM_LOCK:  # the mask is drawn from np.random: one thread at a time
            np.random.seed(1234)
            return layer.forward(*inputs, train_flg=getattr(layer, "_registry_train_flg", True))

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [randn(rng, sz.N, sz.T, sz.D).astype(dtype)]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.T, sz.D)]

    def extra_bad(self, sz, opts):
        N, T, D = sz.N, sz.T, sz.D
        return [Bad("backward dout D+1", "backward", "dout", np.ones((N, T, D + 1)), ValueError,
                    shown("dout", (N, T, D + 1)))]


class EmbeddingEntry(_AnyShapeEntry, TimeEmbeddingEntry):
    """common/layers.py's Embedding: TimeEmbedding's weights, inputs and cases, its ids
    named idx and of any shape."""
    name = "Embedding"
    guards_backward = Entry.guards_backward
    forward_args = (Arg("idx", "NT", "ids"),)
    any_shape_args = ("idx",)
    any_ndim_args = ("idx",)

    def bad_cases(self, sz=Sizes(), variant=""):
        # 'wrong ndim' of ids keeps integer ids valid at any shape; a float one is not
        return [b for b in super().bad_cases(sz, variant)
                if not (b.call == "forward" and b.label.endswith(("wrong shape", "wrong ndim")))]


class Seq2seqEntry(Entry):
    """The chapter-7 model: forward(xs (N,T) ids, ts (N,T) ids) -> loss."""
    name = "Seq2seq"
    impls = MODEL_IMPLS
    guards_backward = ()
    dtypes = (np.float32,)  # the model draws its own float32 weights, as the book's does
    fuzz_dtypes = ("float32",)
    fuzz_sizes = {"V": (1, 2, 3, 5), "D": (1, 2, 3, 5), "H": (1, 2, 3, 5), "T": (0, 1, 2, 3, 5)}
    fuzz_terms = 100
    forward_args = (Arg("xs", "NT", "ids"), Arg("ts", "NT", "ids"))
    backward_args = (Arg("dout", kind="scalar"),)
    grad_cases = ((9, "readonly"),)   # the decoder's affine b: the first gradient backward writes

    def build(self, cls, dtype, rng, sz, layout, **opts):
        seed = int(rng.integers(2**31))
        with NP_RANDOM_LOCK:  # the model draws from np.random: one thread at a time
            np.random.seed(seed)
            return cls(sz.V, sz.D, sz.H)

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [ids(rng, (sz.N, sz.T), sz.V), ids(rng, (sz.N, sz.T), sz.V)]

    def inputs_valid(self, sz, opts):
        return sz.T >= 2 and sz.V > 0

    def comparable(self, inputs, sz, valid):
        return valid and sz.N > 0

    def douts(self, rng, sz, **opts):
        return [1]

    def outputs(self, layer, fwd, bwd):
        return [np.float64(fwd)] + [np.array(g, copy=True) for g in layer.grads]

    def extra_bad(self, sz, opts):
        N, T, V = sz.N, sz.T, sz.V
        return [
            Bad("forward ts one step", "forward", "ts", np.zeros((N, 1), int), ValueError,
                shown("ts", (N, 1))),
            Bad("forward ts other batch", "forward", "ts", np.zeros((N + 1, T), int), ValueError,
                shown("ts", (N + 1, T))),
            Bad("forward ts label out of range", "forward", "ts", np.full((N, T), V), ValueError,
                shown("ts", "range")),
            Bad("backward dout str", "backward", "dout", "x", FAIL_EXC, r"\S"),
        ]


class PeekySeq2seqEntry(Seq2seqEntry):
    name = "PeekySeq2seq"


class AttentionSeq2seqEntry(Seq2seqEntry):
    name = "AttentionSeq2seq"


class RnnlmEntry(SimpleRnnlmEntry):
    """The chapter-6 model: forward(xs (N,T) ids, ts (N,T) ids) -> loss,
    backward(dout=1); the LSTM's state carries over (stateful)."""
    name = "Rnnlm"
    grad_cases = ((5, "readonly"),)   # the affine's b: the first gradient backward writes
    unnamed = frozenset()

    def outputs(self, layer, fwd, bwd):
        return [np.float64(fwd)] + [np.array(g, copy=True) for g in layer.grads] + \
            [layer.lstm_layer.h, layer.lstm_layer.c]


class RnnlmGenEntry(RnnlmEntry):
    name = "RnnlmGen"


class BetterRnnlmEntry(RnnlmEntry):
    """Two LSTM layers, dropout, the embedding tied to the output head. Every
    forward draws its dropout masks from np.random seeded the same way, so the
    compiled model and its twin see the same masks."""
    name = "BetterRnnlm"
    variants = {"": {"dropout_ratio": 0.5}, "no dropout": {"dropout_ratio": 0.0}}
    options = {"dropout_ratio": (0.0, 0.5)}
    grad_cases = ((8, "readonly"),)   # the output head's b: the first gradient backward writes

    def build(self, cls, dtype, rng, sz, layout, dropout_ratio=0.5, **opts):
        seed = int(rng.integers(2**31))
        with NP_RANDOM_LOCK:
            np.random.seed(seed)
            return cls(sz.V, sz.H, sz.H, dropout_ratio)  # tied: wordvec_size = hidden_size

    def opts_of(self, layer):
        return {}

    @staticmethod
    def forward(layer, inputs):
        with NP_RANDOM_LOCK:  # the dropout masks: the same draws for both twins
            np.random.seed(1234)
            return layer.forward(*inputs)

    def outputs(self, layer, fwd, bwd):
        return [np.float64(fwd)] + [np.array(g, copy=True) for g in layer.grads] + \
            [x for lstm in layer.lstm_layers for x in (lstm.h, lstm.c)]


class BetterRnnlmGenEntry(BetterRnnlmEntry):
    name = "BetterRnnlmGen"


class EncoderEntry(Entry):
    """The chapter-7 encoder: forward(xs (N,T) ids) -> h (N,H), backward(dh) -> None."""
    name = "Encoder"
    impls = MODEL_IMPLS
    guards_backward = ()
    dtypes = (np.float32,)  # the parts draw their own float32 weights, as the book's do
    fuzz_dtypes = ("float32",)
    fuzz_sizes = {"V": (1, 2, 3, 5), "D": (1, 2, 3, 5), "H": (1, 2, 3, 5)}
    fuzz_terms = 100
    forward_args = (Arg("xs", "NT", "ids"),)
    backward_args = (Arg("dh", "NH", "float"),)
    grad_cases = ((3, "readonly"),)   # the LSTM's b: the first gradient backward writes

    def build(self, cls, dtype, rng, sz, layout, **opts):
        seed = int(rng.integers(2**31))
        with NP_RANDOM_LOCK:  # the parts draw from np.random: one thread at a time
            np.random.seed(seed)
            return cls(sz.V, sz.D, sz.H)

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [ids(rng, (sz.N, sz.T), sz.V)]

    def inputs_valid(self, sz, opts):
        return sz.T >= 1 and sz.V > 0

    def comparable(self, inputs, sz, valid):
        return valid

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.H)]

    def outputs(self, layer, fwd, bwd):
        return [np.asarray(fwd)] + [np.array(g, copy=True) for g in layer.grads]


class AttentionEncoderEntry(EncoderEntry):
    """forward(xs) -> hs (N,T,H), backward(dhs (N,T,H)) -> None."""
    name = "AttentionEncoder"
    backward_args = (Arg("dhs", "NTH", "float"),)

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.T, sz.H)]


class DecoderEntry(EncoderEntry):
    """forward(xs (N,T) ids, h (N,H)) -> score (N,T,V), backward(dscore) -> dh."""
    name = "Decoder"
    forward_args = (Arg("xs", "NT", "ids"), Arg("h", "NH", "float"))
    backward_args = (Arg("dscore", "NTV", "float"),)
    grad_cases = ((5, "readonly"),)   # the affine's b: the first gradient backward writes

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [ids(rng, (sz.N, sz.T), sz.V), randn(rng, sz.N, sz.H)]

    def douts(self, rng, sz, **opts):
        return [randn(rng, sz.N, sz.T, sz.V)]


class PeekyDecoderEntry(DecoderEntry):
    name = "PeekyDecoder"


class AttentionDecoderEntry(DecoderEntry):
    """forward(xs (N,T) ids, enc_hs (N,T',H)) -> score, backward(dscore) -> denc_hs."""
    name = "AttentionDecoder"
    forward_args = (Arg("xs", "NT", "ids"), Arg("enc_hs", "NTH", "float"))

    def inputs(self, rng, sz, dtype=np.float64, **opts):
        return [ids(rng, (sz.N, sz.T), sz.V), randn(rng, sz.N, sz.T, sz.H)]


REGISTRY = [RNNEntry(), TimeRNNEntry(), TimeEmbeddingEntry(), TimeAffineEntry(),
            TimeSoftmaxWithLossEntry(), SimpleRnnlmEntry(), SimpleRNNEntry(),
            LSTMEntry(), TimeLSTMEntry(), GRUEntry(), TimeGRUEntry(), TimeBiLSTMEntry(),
            TimeDropoutEntry(), TimeSigmoidWithLossEntry(),
            TimeAttentionEntry(), AttentionEntry(), AttentionWeightEntry(), WeightSumEntry()]
REGISTRY += [MatMulEntry(), AffineEntry(), SoftmaxEntry(), BasicSoftmaxWithLossEntry(),
             SigmoidEntry(), SigmoidWithLossEntry(), DropoutEntry(), EmbeddingEntry()]
# the models and their parts (twins: rnnscratch.models.reference)
REGISTRY += [RnnlmEntry(), RnnlmGenEntry(), BetterRnnlmEntry(), BetterRnnlmGenEntry(),
             EncoderEntry(), DecoderEntry(), PeekyDecoderEntry(), AttentionEncoderEntry(),
             AttentionDecoderEntry(), Seq2seqEntry(), PeekySeq2seqEntry(),
             AttentionSeq2seqEntry()]
BY_ID = {e.id: e for e in REGISTRY}


def cases(*, dtypes=None):
    """(entry, variant, dtype) triples of the whole registry, for parametrize."""
    out = []
    for e in REGISTRY:
        for v, dt in e.all_cases():
            if dtypes is None or dt in dtypes:
                out.append((e, v, dt))
    return out


def case_id(entry, variant, dtype=None):
    s = entry.id + ("-" + variant if variant else "")
    return s + ("-" + np.dtype(dtype).name if dtype is not None else "")
