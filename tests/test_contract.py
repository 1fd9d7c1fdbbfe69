"""The _core contract's one statement, the C tables (csrc/bind_*.c, handed to
Python by _core._signatures() and read by tests/core_contract.py), against
every other statement of it: rnnscratch/_core.pyi (the same signatures, shape
comments and scalar types: the one check of the hand-written stub), the
functions themselves (they accept exactly the table's arguments, by keyword
and by position, with the table's defaults), the first paragraph of each
docstring (made from the table at import), and the README's kernel list."""
import ast
import io
import pathlib
import re
import tokenize

import numpy as np
import pytest

from core_contract import BY_NAME, CONTRACT, good_arguments, tokens
from rnnscratch import _core

ROOT = pathlib.Path(__file__).resolve().parent.parent
# the stub beside the imported module: the checkout's, or the installed wheel's (.ci/wheel_tests.py)
PYI = pathlib.Path(_core.__file__).resolve().parent / "_core.pyi"
README = ROOT / "README.md"


def test_table_covers_every_callable_of_core():
    callables = {n for n in dir(_core) if callable(getattr(_core, n)) and
                 (not n.startswith("__"))}
    assert callables == set(BY_NAME), (
        "in _core, not in tests/core_contract.py: %s; in the table, not in _core: %s"
        % (sorted(callables - set(BY_NAME)), sorted(set(BY_NAME) - callables)))


def _copy(kw):
    return {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
            for k, v in kw.items()}


def _results(fn, kw, ret):
    """What a call produced: its returned values and the arrays it writes."""
    out = list(ret) if isinstance(ret, tuple) else [ret]
    out += [kw[a.name] for a in fn.args if a.role in ("O", "R")]
    return [np.asarray(o) if o is not None and not isinstance(o, (str, list)) else o
            for o in out]


def _same(r1, r2, what):
    assert len(r1) == len(r2), what
    for a, b in zip(r1, r2):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=what)
        else:
            assert a == b, what


@pytest.mark.parametrize("fn", CONTRACT, ids=[f.name for f in CONTRACT])
def test_core_accepts_exactly_the_table_arguments(fn):
    f = getattr(_core, fn.name)
    rng = np.random.default_rng(0)
    kw = good_arguments(fn, rng)
    simd, threads = _core.get_simd_path(), _core.get_num_threads()
    try:
        if fn.positional_only:
            with pytest.raises(TypeError):
                f(**_copy(kw))
            f(*[kw[n] for n in fn.names])
            with pytest.raises(TypeError):
                f(*[kw[n] for n in fn.names], None)
            with pytest.raises(TypeError):
                f()
            return
        by_kw = _copy(kw)
        r_kw = _results(fn, by_kw, f(**by_kw))  # every argument by keyword
        by_pos = _copy(kw)
        r_pos = _results(fn, by_pos, f(*[by_pos[n] for n in fn.names]))  # all by position
        if fn.kind != "control":
            _same(r_kw, r_pos, "%s: keywords vs positions" % fn.name)
        for a in fn.args:
            if a.has_default:  # left out = passed as the table's default
                explicit = _copy(kw)
                explicit[a.name] = a.default
                r_exp = _results(fn, explicit, f(**explicit))
                left = _copy(kw)
                del left[a.name]
                r_left = f(**left)
                left[a.name] = a.default
                if fn.kind != "control":
                    _same(_results(fn, left, r_left), r_exp, "%s without %s" % (fn.name, a.name))
        with pytest.raises(TypeError):
            f(**_copy(kw), bogus_argument=1)
        with pytest.raises(TypeError):
            vals = _copy(kw)
            f(*[vals[n] for n in fn.names], None)  # one positional too many
        for a in fn.args:
            if not a.has_default:
                with pytest.raises(TypeError, match=re.escape(a.name)):
                    f(**{k: v for k, v in _copy(kw).items() if k != a.name})
    finally:
        _core.set_simd_path(simd)
        _core.set_num_threads(threads)


# --------------------------------------------------------------------------
# _core.pyi
# --------------------------------------------------------------------------

def _comments(source):
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string
    return out


_LEGEND = re.compile(r"\(([0-9]*[A-Z](?:, [0-9]*[A-Z])*,?)\)")


def _legend(shape):
    t = tokens(shape)
    return "(%s)" % (", ".join(t) + ("," if len(t) == 1 else ""))


_ANNOTATION = {"activation": "Activation", "bool": "bool", "float": "float", "int": "int",
               "out": "Optional[NDArray[np.floating]]"}


def _pyi_functions():
    source = PYI.read_text()
    tree = ast.parse(source)
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}, _comments(source)


def test_pyi_declares_the_table():
    defs, comments = _pyi_functions()
    assert set(defs) == set(BY_NAME), (sorted(set(defs) ^ set(BY_NAME)))
    for fn in CONTRACT:
        d = defs[fn.name]
        args = d.args.posonlyargs + d.args.args
        assert bool(d.args.posonlyargs) == fn.positional_only, (
            "%s: positional-only in the table: %s" % (fn.name, fn.positional_only))
        assert [a.arg for a in args] == list(fn.names), fn.name
        n_defaults = len(d.args.defaults)
        has_default = [False] * (len(args) - n_defaults) + [True] * n_defaults
        assert has_default == [a.has_default for a in fn.args], fn.name
        for node, a in zip(args, fn.args):
            if a.kind in _ANNOTATION:  # the scalars and out=: the type the table's kind takes
                assert ast.unparse(node.annotation) == _ANNOTATION[a.kind], (
                    "%s(%s): .pyi annotation %s, table kind %s" % (
                        fn.name, a.name, ast.unparse(node.annotation), a.kind))
            if a.role == "S" or a.shape == "*":
                continue
            c = comments.get(node.lineno, "")
            m = _LEGEND.search(c)
            assert m and m.group(0) == _legend(a.shape), (
                "%s(%s): .pyi comment %r, table %s" % (fn.name, a.name, c, _legend(a.shape)))
            if a.optional:
                assert "Optional" in ast.unparse(node.annotation), (fn.name, a.name)
        want = [_legend(r.shape) for r in fn.returns if r.shape]
        got = _LEGEND.findall(comments.get(d.end_lineno, ""))
        assert ["(%s)" % g for g in got] == want, (fn.name, comments.get(d.end_lineno))


# --------------------------------------------------------------------------
# docstrings and README
# --------------------------------------------------------------------------

def _first_paragraph(doc):
    para = (doc or "").strip().split("\n\n")[0]
    return " ".join(para.split())


@pytest.mark.parametrize("fn", CONTRACT, ids=[f.name for f in CONTRACT])
def test_docstring_first_line_is_the_signature(fn):
    first = _first_paragraph(getattr(_core, fn.name).__doc__)
    sig = fn.signature()
    assert first.startswith(sig), "%s docstring starts %r, table says %r" % (
        fn.name, first[:len(sig) + 20], sig)
    rest = first[len(sig):]
    assert rest == "" or rest[0] in ":. ", (fn.name, rest)


def _readme_kernel_section():
    text = README.read_text()
    start = text.index("### The kernels: `rnnscratch._core`")
    end = text.index("\n## ", start)
    return text[start:end]


def test_readme_lists_every_kernel_with_the_table_signature():
    section = _readme_kernel_section()
    block = section.split("```")[1]
    entries = []
    for line in block.strip("\n").split("\n"):
        if line.startswith((" ", "\t")) and entries:
            entries[-1] += " " + line.strip()
        elif line.strip():
            entries.append(line.strip())
    want = [f.signature() for f in CONTRACT if f.kind != "control"]
    # every kernel once, with the table's signature (in the README's own order)
    assert sorted(entries) == sorted(want) and len(set(entries)) == len(entries)
    for f in CONTRACT:  # the other functions are named in the text
        if f.kind == "control" and not f.name.startswith("_"):
            assert f.name in section, f.name
