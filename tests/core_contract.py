"""The contract of ``rnnscratch._core``, as one table.

For each function: its arguments in order (name, default), the shape of each
array argument in the package's legend (N batch, T time steps, D input
features, H hidden units, V vocabulary; M, K, N for the plain matrix product),
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
A shape of "*" is any shape (the same for the arguments marked so).

Adding a kernel: one ``Fn`` entry below; test_contract.py then requires it in
_core, in _core.pyi, in its docstring and in the README's list.
"""
from dataclasses import dataclass

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
    Fn("matmul", (A("a", "MK", "P"), A("b", "KN", "P"), A("packed", role="S", default=False)),
       (Ret("c", "MN"),)),
    Fn("sgd_update", (A("param", "*", "O"), A("grad", "*", "I"), A("lr", role="S")),
       (), kind="update"),
    Fn("set_num_threads", (A("n", role="S"),), kind="control", positional_only=True),
    Fn("get_num_threads", (), returns_text="int", kind="control"),
    Fn("_pool_selftest", (A("jobs", role="S"),), returns_text="int", kind="control",
       positional_only=True),
    Fn("get_simd_path", (), returns_text="str", kind="control"),
    Fn("set_simd_path", (A("name", role="S"),), kind="control", positional_only=True),
    Fn("available_simd_paths", (), returns_text="list", kind="control"),
)

BY_NAME = {f.name: f for f in CONTRACT}
KERNELS = tuple(f for f in CONTRACT if f.kind == "kernel")
