"""The contract of ``rnnscratch._core``, from its one statement: the C tables.

Each _core function is one table in csrc/bind_*.c (CoreFn, csrc/args.h): its
arguments in order (name, kind, shape, role, whether None is accepted, the
default), its results and its kernel. ``_core._signatures()`` hands them to
Python; CONTRACT below is built from them, plus what a table cannot say (the
functions of one argument or none, which have no table). tests/test_contract.py checks every other statement of the
contract against it: rnnscratch/_core.pyi (signatures and shape comments), the
README's kernel list, the functions themselves (called with keywords, and
positionally), and the first paragraph of each docstring (made from the table
at import). test_fuzz.py,
test_memory.py and test_core_errors.py take their argument lists and shapes
from it.

Shapes are written in the package's legend (N batch, T time steps, D input
features, H hidden units, V vocabulary, S encoder steps; M, K, N for the plain
matrix product) without spaces: "D4H" is (D, 4H), the gated layers' weights;
"*" is any shape (the same for the arguments marked so).

Roles
  P    parameter: decides the compute dtype (float32 when the result type of the
       P arguments is float16/float32, else float64)
  I    input array (any numeric dtype, converted)
  ids  integer ids (word ids, labels) in [0, V)
  O    gradient array written in place (floating, writeable, no overlap),
       or added to with accumulate=True
  R    result buffer the caller may pass (C-contiguous, compute dtype)
  S    scalar (activation name, flags, labels, factors, counts)
optional=True: None is accepted (h_prev/h0 = zeros, no bias, no db).

Adding a kernel: its table in csrc/bind_<family>.c; test_contract.py then
requires it in _core.pyi, in its docstring and in the README's list.
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
    kind: str = ""           # the C table's kind: array, activation, bool, float, int, out

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


def _legend(spec):
    """the C table's shape "N T 4H" as this module writes it: "NT4H" ("*": any shape)"""
    return (spec or "").replace(" ", "")


def _from_table(name, entry):
    """One Fn from the C table of a _core function (_core._signatures())."""
    args = []
    for t in entry["args"]:
        aname, kind, spec, role, nullable = t[:5]
        args.append(A(aname, _legend(spec), role, nullable,
                      t[5] if len(t) > 5 else REQUIRED, kind))
    update = any(kind == "array" and spec == "*" for _, kind, spec, *_ in entry["args"])
    return Fn(name, tuple(args), tuple(Ret(r, _legend(s)) for r, s in entry["returns"]),
              returns_text=entry["returns_text"], kind="update" if update else "kernel")


# What the C tables do not say: the functions of one argument or none, which
# take no table (METH_O, METH_NOARGS: positional only).
CONTROL = (
    Fn("set_num_threads", (A("n", role="S"),), kind="control", positional_only=True),
    Fn("get_num_threads", (), returns_text="int", kind="control"),
    Fn("_pool_selftest", (A("jobs", role="S"),), returns_text="int", kind="control",
       positional_only=True),
    Fn("_pool_timing", (A("jobs", role="S"), A("gap_us", role="S")), returns_text="tuple",
       kind="control", positional_only=True),
    Fn("_cpu_topology", (), returns_text="tuple", kind="control"),
    Fn("_gemm_blocking", (), returns_text="dict", kind="control"),
    Fn("_set_gemm_blocking", (A("kc", role="S"), A("mc", role="S"), A("nc", role="S")),
       kind="control", positional_only=True),
    Fn("_set_blas", (A("on", role="S"),), returns_text="bool", kind="control",
       positional_only=True),
    Fn("_set_recurrence_split", (A("mode", role="S"),), returns_text="str", kind="control",
       positional_only=True),
    Fn("_recurrence_split", (A("N", role="S"), A("H", role="S"), A("double", role="S")),
       returns_text="tuple", kind="control", positional_only=True),
    Fn("get_simd_path", (), returns_text="str", kind="control"),
    Fn("set_simd_path", (A("name", role="S"),), kind="control", positional_only=True),
    Fn("available_simd_paths", (), returns_text="list", kind="control"),
    Fn("_signatures", (), returns_text="dict", kind="control"),
)


def _contract():
    from rnnscratch import _core
    return tuple(_from_table(n, e) for n, e in _core._signatures().items()) + CONTROL


CONTRACT = _contract()
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
                              "n": _core.get_num_threads(), "jobs": 0, "gap_us": 0.0,
                              "kc": 0, "mc": 0, "nc": 0, "mode": "auto",
                              "N": 1, "H": 1, "double": False,
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
