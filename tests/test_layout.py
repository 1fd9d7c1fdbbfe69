"""The package layout: layers, models, training tools, reference, front-ends
apart; public names where they were; no import cycle; pyproject ships every
subpackage."""
import ast
import importlib
import os
import pathlib
import subprocess
import sys
import tomllib

import pytest

import rnnscratch

ROOT = pathlib.Path(__file__).resolve().parents[1]  # the checkout these tests belong to
# the imported package: the checkout's, or the installed wheel's (.ci/wheel_tests.py runs these
# tests on a copy of tests/ beside no sources)
PACKAGE = pathlib.Path(rnnscratch.__file__).resolve().parent


def _modules():
    """{module name: path} of every .py file of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def test_public_names():
    for name in rnnscratch.__all__:
        assert getattr(rnnscratch, name) is not None, name
    assert rnnscratch.optim is rnnscratch.training.optim
    assert rnnscratch.trainer is rnnscratch.training.trainer
    for name in ("SGD", "Momentum", "AdaGrad", "Adam", "clip_grads"):
        assert getattr(rnnscratch.optim, name) is getattr(rnnscratch, name)
    for name in ("RnnlmTrainer", "eval_perplexity", "make_batch", "remove_duplicate"):
        assert hasattr(rnnscratch.trainer, name)
    assert rnnscratch.RNN is rnnscratch.layers.rnn.RNN
    assert rnnscratch.TimeAffine is rnnscratch.layers.lm.TimeAffine
    assert rnnscratch.SimpleRnnlm is rnnscratch.models.simple_rnnlm.SimpleRnnlm
    assert issubclass(rnnscratch.models.reference.SimpleRnnlm, rnnscratch.models.RnnlmBase)
    seq2seq = ["Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
               "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq"]
    assert sorted(rnnscratch.reference.__all__) == sorted(
        ["RNN", "TimeRNN", "ACTIVATIONS", "compute_dtype",
         "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss",
         "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeDropout", "TimeBiLSTM", "TimeSigmoidWithLoss",
         "WeightSum", "AttentionWeight", "Attention", "TimeAttention",
         "MatMul", "Affine", "Softmax", "SoftmaxWithLoss", "Sigmoid", "SigmoidWithLoss",
         "Dropout", "Embedding"])
    assert sorted(rnnscratch.models.reference.__all__) == sorted(
        ["SimpleRnnlm", "Rnnlm", "BetterRnnlm", "RnnlmGen", "BetterRnnlmGen"] + seq2seq)
    assert rnnscratch.Seq2seq is rnnscratch.models.seq2seq.Seq2seq
    for name in rnnscratch.reference.__all__:
        assert getattr(rnnscratch.reference, name) is not None, name
    # the reference models are the compiled models' compositions over other
    # layer classes: the same class body, never a subclass of a compiled model
    for name in rnnscratch.models.reference.__all__:
        ref = getattr(rnnscratch.models.reference, name)
        assert ref is not getattr(rnnscratch, name), name


def test_the_two_optimizer_families_are_different_classes():
    from rnnscratch import diveintocode

    assert diveintocode.SGD is not rnnscratch.SGD
    assert diveintocode.AdaGrad is not rnnscratch.AdaGrad
    assert rnnscratch.SGD.__module__ == "rnnscratch.training.optim"
    assert diveintocode.SGD.__module__ == "rnnscratch.diveintocode"


def _imports(name, path):
    """The package modules `name` imports anywhere: at module level and inside
    functions (a deferred import still ties two modules together)."""
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name if is_pkg else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    base = base.rsplit(".", 1)[0]
                target = base + ("." + node.module if node.module else "")
            else:
                target = node.module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:
                    found.add(sub)
                elif target in MODULES and target != "rnnscratch":
                    found.add(target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in MODULES and a.name != "rnnscratch"}
    found.discard(name)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_the_cycle_test_sees_imports_inside_functions():
    # models.base reaches the compiled layers only inside a function
    assert "rnnscratch.layers" in GRAPH["rnnscratch.models.base"]
    assert "rnnscratch.reference" in GRAPH["rnnscratch.models.base"]


def test_no_import_cycle():
    graph = {name: {m for m in deps if not name.startswith(m + ".")} for name, deps in GRAPH.items()}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_reference_is_a_leaf():
    """rnnscratch.reference imports nothing of the compiled package: only the
    pure-Python rules (_policy) and itself."""
    for name, deps in GRAPH.items():
        if name == "rnnscratch.reference" or name.startswith("rnnscratch.reference."):
            outside = {d for d in deps if not d.startswith("rnnscratch.reference")}
            assert outside <= {"rnnscratch._policy"}, (name, outside)


def test_the_library_never_imports_the_tools():
    for name, deps in GRAPH.items():
        if not name.startswith("rnnscratch.tools") and name != "rnnscratch.__main__":
            assert not {d for d in deps if d.startswith("rnnscratch.tools")}, name


def test_the_package_root_holds_the_library():
    root = [p.name for p in PACKAGE.glob("*.py")]
    assert len(root) <= 10, sorted(root)


SUBMODULES = sorted(m for m in MODULES
                    if m.count(".") >= 1 and m.split(".")[1] in
                    ("layers", "models", "training", "reference", "_policy"))


@pytest.mark.parametrize("module", SUBMODULES)
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, cwd=ROOT, env=env,
                   timeout=120)
    importlib.import_module(module)


def test_pyproject_lists_every_subpackage():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert packages == listed
