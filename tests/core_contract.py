"""The contract of ``rnnscratch._core``, as one table.

For each function: its arguments in order (name, default), the shape of each
array argument in the package's legend (N batch, T time steps, D input
features, H hidden units, V vocabulary, S encoder steps; M, K, N for the plain
matrix product),
its role, and what it returns. The other statements of the contract are
checked against this table by tests/test_contract.py: the real functions
(called with keywords, and positionally), rnnscratch/_core.pyi (signatures and
shape comments), the first paragraph of each docstring, and the kernel list of
the README. test_fuzz.py and test_core_errors.py take their argument lists and
shapes from it.

Why here and not in the package: nothing in the package reads it (the C code
parses its own arguments, the classes call the kernels by keyword or position
as written), so shipping it would add a second copy of the contract to the
installed package with no user. The statements users and type checkers read
are _core.pyi, the docstrings and the README; this table is what ties them to
the C functions, and it belongs with the tests that do the tying.

Roles
  P    parameter: decides the compute dtype (float32 when the result type of the
       P arguments is float16/float32, else float64)
  I    input array (any numeric dtype, converted)
  ids  integer ids (word ids, labels) in [0, V)
  O    gradient array written in place (floating, writeable, no overlap)
  R    result buffer the caller may pass (C-contiguous, compute dtype)
  S    scalar (activation name, flags, labels, factors, counts)
optional=True: None is accepted (h_prev/h0 = zeros, no bias, no db).
A shape of "*" is any shape (the same for the arguments marked so). A legend
letter may carry a multiplier: "D4H" is (D, 4H), the gated layers' weights.

Adding a kernel: one ``Fn`` entry below; test_contract.py then requires it in
_core, in _core.pyi, in its docstring and in the README's list.
"""
import re
from dataclasses import dataclass

import numpy as np

REQUIRED = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()


@dataclass(frozen=True)
class A:
    name: str
    shape: str = ""          # legend letters; "" for a scalar, "*" for any shape
    role: str = "I"
    optional: bool = False   # None accepted
    default: object = REQUIRED

    @property
    def has_default(self):
        return self.default is not REQUIRED

    @property
    def is_array(self):
        return self.role != "S"


@dataclass(frozen=True)
class Ret:
    name: str
    shape: str = ""          # "" for a scalar (the loss)


@dataclass(frozen=True)
class Fn:
    name: str
    args: tuple
    returns: tuple = ()      # the returned values, in order
    returns_text: str = None  # for the non-kernel functions: what the docstring says
    kind: str = "kernel"     # "kernel" (arrays in/out), "update" (in place), "control"
    positional_only: bool = False  # METH_O functions: no keywords (the .pyi writes "/")

    def arg(self, name):
        return next(a for a in self.args if a.name == name)

    @property
    def names(self):
        return tuple(a.name for a in self.args)

    @property
    def required(self):
        return sum(not a.has_default for a in self.args)

    def signature(self):
        """As the docstrings and the README write it."""
        parts = [a.name if not a.has_default else "%s=%r" % (a.name, a.default)
                 for a in self.args]
        s = "%s(%s)" % (self.name, ", ".join(parts))
        if self.returns_text is not None:
            return s + " -> " + self.returns_text
        if self.kind == "control":
            return s
        if not self.returns:
            return s + " -> None"
        if len(self.returns) == 1:
            return s + " -> " + self.returns[0].name
        return s + " -> (%s)" % ", ".join(r.name for r in self.returns)


ACT = A("activation", role="S", default="tanh")
ACC = A("accumulate", role="S", default=False)
IGN = A("ignore_label", role="S", default=-1)


def _gated(kind):
    """LSTM (gate blocks f, g, i, o: Wx (D,4H)) or GRU (z, r, h~: Wx (D,3H)); the cache
    the forward returns is (N,[T,]4H) for both."""
    k = "4H" if kind == "lstm" else "3H"
    W = (A("Wx", "D" + k, "P"), A("Wh", "H" + k, "P"))
    b = A("b", k, "P", optional=True, default=None)
    grads = (A("dWx", "D" + k, "O"), A("dWh", "H" + k, "O"),
             A("db", k, "O", optional=True, default=None), ACC, b)
    if kind == "lstm":
        return (
            Fn("lstm_forward", (
                A("x", "ND"), A("h_prev", "NH", optional=True),
                A("c_prev", "NH", optional=True)) + W + (b,),
                (Ret("h_next", "NH"), Ret("c_next", "NH"), Ret("cache", "N4H"))),
            Fn("lstm_backward", (
                A("dh_next", "NH"), A("dc_next", "NH", optional=True), A("x", "ND"),
                A("h_prev", "NH", optional=True), A("c_prev", "NH", optional=True),
                A("c_next", "NH"), A("cache", "N4H")) + W + grads,
                (Ret("dx", "ND"), Ret("dh_prev", "NH"), Ret("dc_prev", "NH"))),
            Fn("time_lstm_forward", (
                A("xs", "NTD"), A("h0", "NH", optional=True),
                A("c0", "NH", optional=True)) + W + (b,),
                (Ret("hs", "NTH"), Ret("cs", "NTH"), Ret("cache", "NT4H"))),
            Fn("time_lstm_backward", (
                A("dhs", "NTH"), A("dcT", "NH", optional=True), A("xs", "NTD"),
                A("h0", "NH", optional=True), A("c0", "NH", optional=True), A("hs", "NTH"),
                A("cs", "NTH"), A("cache", "NT4H")) + W + grads,
                (Ret("dxs", "NTD"), Ret("dh0", "NH"), Ret("dc0", "NH"))),
        )
    return (
        Fn("gru_forward", (A("x", "ND"), A("h_prev", "NH", optional=True)) + W + (b,),
           (Ret("h_next", "NH"), Ret("cache", "N4H"))),
        Fn("gru_backward", (
            A("dh_next", "NH"), A("x", "ND"), A("h_prev", "NH", optional=True),
            A("cache", "N4H")) + W + grads,
            (Ret("dx", "ND"), Ret("dh_prev", "NH"))),
        Fn("time_gru_forward", (A("xs", "NTD"), A("h0", "NH", optional=True)) + W + (b,),
           (Ret("hs", "NTH"), Ret("cache", "NT4H"))),
        Fn("time_gru_backward", (
            A("dhs", "NTH"), A("xs", "NTD"), A("h0", "NH", optional=True), A("hs", "NTH"),
            A("cache", "NT4H")) + W + grads,
            (Ret("dxs", "NTD"), Ret("dh0", "NH"))),
    )


CONTRACT = (
    Fn("rnn_forward", (
        A("x", "ND"), A("h_prev", "NH", optional=True), A("Wx", "DH", "P"), A("Wh", "HH", "P"),
        A("b", "H", "P", optional=True, default=None), ACT),
        (Ret("h_next", "NH"),)),
    Fn("rnn_backward", (
        A("dh_next", "NH"), A("x", "ND"), A("h_prev", "NH", optional=True), A("h_next", "NH"),
        A("Wx", "DH", "P"), A("Wh", "HH", "P"), A("dWx", "DH", "O"), A("dWh", "HH", "O"),
        A("db", "H", "O", optional=True, default=None), ACT, ACC,
        A("b", "H", "P", optional=True, default=None)),
        (Ret("dx", "ND"), Ret("dh_prev", "NH"))),
    Fn("time_rnn_forward", (
        A("xs", "NTD"), A("h0", "NH", optional=True), A("Wx", "DH", "P"), A("Wh", "HH", "P"),
        A("b", "H", "P", optional=True, default=None), ACT),
        (Ret("hs", "NTH"),)),
    Fn("time_rnn_backward", (
        A("dhs", "NTH"), A("xs", "NTD"), A("h0", "NH", optional=True), A("hs", "NTH"),
        A("Wx", "DH", "P"), A("Wh", "HH", "P"), A("dWx", "DH", "O"), A("dWh", "HH", "O"),
        A("db", "H", "O", optional=True, default=None), ACT, ACC,
        A("b", "H", "P", optional=True, default=None)),
        (Ret("dxs", "NTD"), Ret("dh0", "NH"))),
    *_gated("lstm"),
    *_gated("gru"),
    Fn("embedding_forward", (A("xs", "NT", "ids"), A("W", "VD", "P")),
       (Ret("out", "NTD"),)),
    Fn("embedding_backward", (
        A("dout", "NTD"), A("xs", "NT", "ids"), A("W", "VD", "P"), A("dW", "VD", "O"), ACC),
        ()),
    Fn("time_affine_forward", (
        A("x", "NTD"), A("W", "DV", "P"), A("b", "V", "P", optional=True, default=None)),
        (Ret("out", "NTV"),)),
    Fn("time_affine_backward", (
        A("dout", "NTV"), A("x", "NTD"), A("W", "DV", "P"), A("dW", "DV", "O"),
        A("db", "V", "O", optional=True, default=None), ACC),
        (Ret("dx", "NTD"),)),
    # chapter 6: the backward of the tied head, dE in the embedding's own layout
    Fn("tied_affine_backward", (
        A("dout", "NTV"), A("x", "NTD"), A("E", "VD", "P"), A("dE", "VD", "O"),
        A("db", "V", "O", optional=True, default=None), ACC),
        (Ret("dx", "NTD"),)),
    Fn("softmax_cross_entropy_forward", (A("xs", "NTV", "P"), A("ts", "NT", "ids"), IGN),
       (Ret("loss"), Ret("ys", "NTV"))),
    Fn("softmax_cross_entropy_backward", (
        A("ys", "NTV", "P"), A("ts", "NT", "ids"), A("dout", role="S", default=1.0), IGN),
        (Ret("dxs", "NTV"),)),
    Fn("affine_softmax_cross_entropy", (
        A("x", "NTD"), A("W", "DV", "P"), A("ts", "NT", "ids"),
        A("b", "V", "P", optional=True, default=None), IGN,
        A("out", "NTV", "R", optional=True, default=None)),
        (Ret("loss"), Ret("dscore", "NTV"))),
    # chapter 6 (branch ch6): the head of a weight-tied model, W = E.T read without a copy
    Fn("tied_affine_softmax_cross_entropy", (
        A("x", "NTD"), A("E", "VD", "P"), A("ts", "NT", "ids"),
        A("b", "V", "P", optional=True, default=None), IGN,
        A("out", "NTV", "R", optional=True, default=None)),
        (Ret("loss"), Ret("dscore", "NTV"))),
    Fn("matmul", (A("a", "MK", "P"), A("b", "KN", "P"), A("packed", role="S", default=False)),
       (Ret("c", "MN"),)),
    # attention (chapter 8): S the encoder's steps, T the decoder's
    Fn("attention_weight_forward", (A("hs_enc", "NSH", "P"), A("hs_dec", "NTH", "P")),
       (Ret("a", "NTS"),)),
    Fn("weight_sum_forward", (A("hs_enc", "NSH", "P"), A("a", "NTS")),
       (Ret("c", "NTH"),)),
    Fn("time_attention_forward", (A("hs_enc", "NSH", "P"), A("hs_dec", "NTH", "P")),
       (Ret("c", "NTH"), Ret("a", "NTS"))),
    Fn("weight_sum_backward", (A("dc", "NTH"), A("hs_enc", "NSH", "P"), A("a", "NTS")),
       (Ret("dhs_enc", "NSH"), Ret("da", "NTS"))),
    Fn("attention_weight_backward", (
        A("da", "NTS"), A("hs_enc", "NSH", "P"), A("hs_dec", "NTH", "P"), A("a", "NTS")),
        (Ret("dhs_enc", "NSH"), Ret("dhs_dec", "NTH"))),
    Fn("time_attention_backward", (
        A("dc", "NTH"), A("hs_enc", "NSH", "P"), A("hs_dec", "NTH", "P"), A("a", "NTS")),
        (Ret("dhs_enc", "NSH"), Ret("dhs_dec", "NTH"))),
    Fn("sgd_update", (A("param", "*", "O"), A("grad", "*", "I"), A("lr", role="S")),
       (), kind="update"),
    Fn("adam_update", (A("param", "*", "O"), A("grad", "*", "I"), A("m", "*", "O"),
                       A("v", "*", "O"), A("c1", role="S"), A("c2", role="S"),
                       A("lr_t", role="S")),
       (), kind="update"),
    Fn("sum_squares", (A("x", "*", "I"),), returns_text="numpy scalar", kind="update"),
    Fn("set_num_threads", (A("n", role="S"),), kind="control", positional_only=True),
    Fn("get_num_threads", (), returns_text="int", kind="control"),
    Fn("_pool_selftest", (A("jobs", role="S"),), returns_text="int", kind="control",
       positional_only=True),
    Fn("_set_blas", (A("on", role="S"),), returns_text="bool", kind="control",
       positional_only=True),
    Fn("get_simd_path", (), returns_text="str", kind="control"),
    Fn("set_simd_path", (A("name", role="S"),), kind="control", positional_only=True),
    Fn("available_simd_paths", (), returns_text="list", kind="control"),
)

BY_NAME = {f.name: f for f in CONTRACT}
KERNELS = tuple(f for f in CONTRACT if f.kind == "kernel")


DIMS = dict(N=2, T=3, D=4, H=5, V=6, M=3, K=7, S=8)
_LAYOUTS = ("C", "F", "strided", "reversed")


def tokens(legend):
    """the dimensions of a legend: "NT4H" -> ["N", "T", "4H"]"""
    return re.findall(r"[0-9]*[A-Z]", legend)


def token_size(token, dims):
    """the size of one dimension token: "4H" -> 4 * dims["H"]"""
    return int(token[:-1] or 1) * dims[token[-1]]


def _shape(legend, dims):
    return (3, 2) if legend == "*" else tuple(token_size(t, dims) for t in tokens(legend))


def _relayout(a, kind):
    if kind == "F":
        return np.asfortranarray(a)
    if kind == "strided":
        big = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
        v = big[tuple(slice(None, None, 2) for _ in a.shape)]
        v[...] = a
        return v
    if kind == "reversed":
        rev = tuple(slice(None, None, -1) for _ in a.shape)
        return a[rev].copy()[rev]
    return a


def good_arguments(fn, rng, dims=DIMS, mixed=False):
    """{name: a valid value} for every argument of ``fn`` (scalars: their defaults,
    or a valid value when required). mixed=True: the arrays cycle through memory
    layouts and dtypes (inputs float64/float32/float16, gradients float64/float32),
    as callers pass them."""
    kw = {}
    i = 0
    mixed = mixed and fn.kind == "kernel"  # the updates take one dtype, C order
    for a in fn.args:
        if a.role == "S":
            if a.has_default:
                kw[a.name] = a.default
            else:
                from rnnscratch import _core
                kw[a.name] = {"lr": 0.1, "c1": 0.1, "c2": 0.001, "lr_t": 0.001,
                              "n": _core.get_num_threads(), "jobs": 0,
                              "name": _core.get_simd_path(),
                              "on": _core.blas != "none"}[a.name]  # the default
            continue
        shape = _shape(a.shape, dims)
        if a.role == "ids":
            v = rng.integers(0, dims["V"], size=shape).astype(np.int32 if mixed else np.int64)
        elif a.role == "O":
            v = np.zeros(shape, (np.float64, np.float32)[i % 2] if mixed else np.float64)
        elif a.role == "R":
            v = np.empty(shape)
        else:
            dt = (np.float64, np.float32, np.float16)[i % 3] if mixed and a.role == "I" \
                else np.float64
            v = (rng.standard_normal(shape) * 0.5).astype(dt)
        if mixed and a.role != "R":
            v = _relayout(v, _LAYOUTS[i % len(_LAYOUTS)])
        kw[a.name] = v
        i += 1
    return kw
