"""The traps a student met on the way in (issue 21), one test (or more) each.

- a module the book's script imports that is not installed (matplotlib): one
  line naming it and the pip command, status 1, no traceback; an error of
  rnnscratch's own keeps its traceback;
- the book's ch08 layout (ch07/peeky_seq2seq.py imports `seq2seq` relative
  to ch07): `run` adds ../ch07 and says so under -v;
- GPU = True in the book's config: one warning, saying to set GPU = False;
- `run -v` lists NumPy classes as "not compiled", never "replaced";
- `check --course` has a result and a reason in every row; `check` alone
  compares every compiled class with its NumPy twin;
- the `book` extra; the READMEs (install first, every command valid, lengths).
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import rnnscratch
from rnnscratch import patching
from rnnscratch.__main__ import main
from rnnscratch.tools.check import check_compiled, check_course

import needs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(**extra):
    env = dict(os.environ)
    # (no empty entry: that would put the working directory on sys.path)
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    env["MPLBACKEND"] = "Agg"
    env.update(extra)
    return env


def _python(args, cwd, **extra):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          env=_env(**extra), timeout=300)


@pytest.fixture
def course_dir():
    return needs.course_dir("ch08", "attention_seq2seq.py")


def _forget_common():
    for name in list(sys.modules):
        if name == "common" or name.startswith("common."):
            del sys.modules[name]


# --------------------------------------------------------------------------
# a module the script needs is not installed
# --------------------------------------------------------------------------

# `import matplotlib` fails in the child as if matplotlib were not installed
NO_MATPLOTLIB = ("import sys; sys.modules['matplotlib'] = None; "
                 "from rnnscratch.__main__ import main; sys.exit(main(sys.argv[1:]))")


def _fake_book(tmp_path, trainer_source="import matplotlib.pyplot as plt\n\nclass Trainer:\n"
                                        "    pass\n"):
    root = tmp_path / "book"
    (root / "common").mkdir(parents=True)
    (root / "common" / "__init__.py").write_text("")
    (root / "common" / "trainer.py").write_text(trainer_source)
    (root / "ch06").mkdir()
    return root


def test_missing_matplotlib_is_one_line_with_the_pip_command(tmp_path):
    root = _fake_book(tmp_path)
    (root / "ch06" / "train_rnnlm.py").write_text(
        "import sys\nsys.path.append('..')\nfrom common.trainer import Trainer\nprint('ran')\n")
    r = _python(["-c", NO_MATPLOTLIB, "run", "train_rnnlm.py"], root / "ch06")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "ran" not in r.stdout
    (line,) = r.stderr.strip().splitlines()
    assert "'matplotlib'" in line and 'pip install "rnnscratch[book]"' in line, line
    assert "train_rnnlm.py" in line


def test_missing_module_of_the_script_itself(tmp_path):
    (tmp_path / "s.py").write_text("import not_a_module_xq7\n")
    r = _python(["-m", "rnnscratch", "run", "s.py"], tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == ("rnnscratch run: s.py needs the module 'not_a_module_xq7', "
                                "which is not installed: pip install not_a_module_xq7")


def test_cupy_missing_with_gpu_true_says_gpu_false(tmp_path):
    root = _fake_book(tmp_path, trainer_source="import cupy as np\n")
    (root / "ch06" / "t.py").write_text("import sys\nsys.path.append('..')\n"
                                        "import common.trainer\n")
    r = _python(["-m", "rnnscratch", "run", "t.py"], root / "ch06")
    if r.returncode == 0:
        pytest.skip("cupy is installed here")
    assert "Traceback" not in r.stderr and "set GPU = False" in r.stderr


def test_errors_of_rnnscratch_itself_keep_their_traceback(tmp_path):
    # a missing submodule of rnnscratch: its traceback, as python would
    (tmp_path / "s.py").write_text("import rnnscratch.no_such_part\n")
    r = _python(["-m", "rnnscratch", "run", "s.py"], tmp_path)
    assert r.returncode == 1
    assert "Traceback" in r.stderr and "No module named 'rnnscratch.no_such_part'" in r.stderr
    # an import inside rnnscratch's own code of a module it does not declare
    own = os.path.join(os.path.dirname(rnnscratch.__file__), "tools", "_not_a_file.py")
    try:
        exec(compile("import not_a_module_xq7\n", own, "exec"), {})
    except ModuleNotFoundError as e:
        assert patching._missing_module_line(e, "s.py", str(tmp_path)) is None
    else:
        raise AssertionError("the import should fail")
    # ... while an optional dependency (matplotlib for RnnlmTrainer.plot) gets the line
    try:
        exec(compile("raise ModuleNotFoundError(\"No module named 'matplotlib'\", "
                     "name='matplotlib')\n", own, "exec"), {})
    except ModuleNotFoundError as e:
        assert "rnnscratch[book]" in patching._missing_module_line(e, "s.py", str(tmp_path))


def test_a_book_script_run_from_another_folder_says_cd(tmp_path):
    root = _fake_book(tmp_path, trainer_source="class Trainer:\n    pass\n")
    (root / "ch06" / "t.py").write_text("import sys\nsys.path.append('..')\n"
                                        "from common.trainer import Trainer\n")
    r = _python(["-m", "rnnscratch", "run", "ch06/t.py"], root)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "No module named 'common'" in r.stderr and "cd " in r.stderr, r.stderr
    assert _python(["-m", "rnnscratch", "run", "t.py"], root / "ch06").returncode == 0


# --------------------------------------------------------------------------
# the book's ch08 layout
# --------------------------------------------------------------------------

CH08_TRAIN = textwrap.dedent("""
    # the book's ch08/train.py, trimmed: it imports chapter 7's models
    import sys
    sys.path.append('..')
    import numpy as np
    from common.optimizer import Adam
    from common.trainer import Trainer
    from attention_seq2seq import AttentionSeq2seq
    from ch07.seq2seq import Seq2seq
    from ch07.peeky_seq2seq import PeekySeq2seq

    np.random.seed(0)
    x = np.random.randint(0, 12, (40, 7))
    t = np.random.randint(0, 12, (40, 5))
    for cls in (AttentionSeq2seq, PeekySeq2seq):
        model = cls(12, 8, 16)
        trainer = Trainer(model, Adam())
        trainer.fit(x, t, max_epoch=1, batch_size=10, max_grad=5.0)
        print(cls.__name__, 'loss', round(float(trainer.loss_list[-1]), 4))
    print('layer', type(model.encoder.lstm).__module__)
""")


@pytest.fixture
def book_ch08(tmp_path, course_dir):
    root = tmp_path / "book"
    shutil.copytree(os.path.join(course_dir, "common"), root / "common")
    for ch in ("ch07", "ch08"):
        shutil.copytree(os.path.join(course_dir, ch), root / ch)
    (root / "ch08" / "train.py").write_text(CH08_TRAIN)
    return root


def test_ch08_as_shipped_fails_under_python_and_runs_with_run(book_ch08):
    cwd = book_ch08 / "ch08"
    plain = _python(["train.py"], cwd)
    assert plain.returncode == 1 and "No module named 'seq2seq'" in plain.stderr
    r = _python(["-m", "rnnscratch", "run", "-v", "train.py"], cwd)
    assert r.returncode == 0, r.stderr
    assert "layer rnnscratch." in r.stdout
    assert "ch07" in r.stderr and "added to sys.path" in r.stderr and "book's own bug" in r.stderr
    quiet = _python(["-m", "rnnscratch", "run", "train.py"], cwd)
    assert quiet.returncode == 0 and "sys.path" not in quiet.stderr
    assert quiet.stdout == r.stdout


def test_ch08_layout_only_when_chapter_7_is_imported(tmp_path):
    root = tmp_path / "book"
    (root / "ch07").mkdir(parents=True)
    (root / "ch07" / "seq2seq.py").write_text("X = 1\n")
    (root / "ch08").mkdir()
    (root / "ch08" / "other.py").write_text("import json\n")
    (root / "ch08" / "uses.py").write_text("import seq2seq\nprint(seq2seq.X)\n")
    r = _python(["-m", "rnnscratch", "run", "-v", "other.py"], root / "ch08")
    assert r.returncode == 0 and "sys.path" not in r.stderr
    r = _python(["-m", "rnnscratch", "run", "uses.py"], root / "ch08")
    assert r.returncode == 0 and r.stdout.strip() == "1", r.stderr
    # elsewhere (not ch08), a module of a sibling chapter is named, not "pip install"
    (root / "ch09").mkdir()
    (root / "ch09" / "uses.py").write_text("import seq2seq\n")
    r = _python(["-m", "rnnscratch", "run", "uses.py"], root / "ch09")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "ch07/seq2seq.py" in r.stderr and "pip install" not in r.stderr


# --------------------------------------------------------------------------
# GPU = True, run -v
# --------------------------------------------------------------------------

@pytest.fixture
def gpu_book(tmp_path, monkeypatch):
    pkg = tmp_path / "common"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "config.py").write_text("GPU = True\n")
    for mod, body in (("time_layers", "class TimeRNN:\n    pass\n"),
                      ("layers", "class Affine:\n    pass\n"),
                      ("optimizer", "class SGD:\n    pass\n"),
                      ("trainer", "class Trainer:\n    pass\n"),
                      ("util", "def clip_grads(g, m):\n    pass\n"),
                      ("base_model", "class BaseModel:\n    pass\n")):
        (pkg / (mod + ".py")).write_text("from common.config import GPU\n" + body)
    monkeypatch.syspath_prepend(str(tmp_path))
    _forget_common()
    yield tmp_path
    rnnscratch.unpatch()
    _forget_common()


def test_gpu_true_warns_once_and_says_gpu_false(gpu_book):
    import common.config  # noqa: F401

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rnnscratch.patch()
        import common.base_model  # noqa: F401
        import common.layers as layers
        import common.optimizer  # noqa: F401
        import common.time_layers  # noqa: F401
        import common.trainer  # noqa: F401
        import common.util  # noqa: F401
    ours = [w for w in caught if "rnnscratch" in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in ours]
    assert "set GPU = False" in str(ours[0].message)
    assert layers.Affine.__module__ == "common.layers"


BOOK_LAYERS = textwrap.dedent("""
    import numpy as np

    class Softmax:
        def forward(self, x):
            return x

    class Dropout:
        def __init__(self, dropout_ratio=0.5):
            pass

    class Affine:
        def __init__(self, W, b):
            pass
""")


def test_run_v_does_not_call_numpy_classes_replaced(tmp_path):
    pkg = tmp_path / "common"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "layers.py").write_text(BOOK_LAYERS)
    (tmp_path / "s.py").write_text(
        "import common.layers as L\n"
        "print(L.Softmax.__module__, L.Dropout.__module__, L.Affine.__module__)\n")
    r = _python(["-m", "rnnscratch", "run", "-v", "s.py"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["common.layers", "common.layers", "rnnscratch.layers.basic"]
    status = {ln.split()[0]: " ".join(ln.split()[2:]) for ln in r.stderr.splitlines()[1:]
              if ln.strip()}
    assert status["common.layers.Affine"] == "replaced"
    for name in ("Softmax", "Dropout", "Sigmoid", "SigmoidWithLoss"):
        assert status["common.layers." + name] == "not compiled", status
    assert status["common.time_layers.TimeDropout"] == "not compiled"


def test_numpy_only_classes_are_never_patch_replacements():
    for name in ("Softmax", "Sigmoid", "SigmoidWithLoss", "Dropout", "TimeDropout",
                 "TimeSigmoidWithLoss"):
        assert patching._replacement(name) is None, name
    for name in ("Affine", "MatMul", "SoftmaxWithLoss", "Embedding", "TimeLSTM", "Trainer"):
        assert patching._replacement(name) is getattr(rnnscratch, name)


# --------------------------------------------------------------------------
# check --course, check
# --------------------------------------------------------------------------

def test_check_course_has_a_result_and_reason_in_every_row(course_dir, capsys):
    rows = check_course(course_dir)
    assert [r.name for r in rows] == [name for _, name, _ in patching.TABLE]
    for r in rows:
        assert r.detail.strip(), r
        assert r.result in ("matches", "not available"), r
    # the names patch() replaces are all compared
    for name in ("Affine", "MatMul", "SoftmaxWithLoss", "Embedding", "Dropout", "Trainer",
                 "eval_seq2seq", "BaseModel", "TimeDropout", "TimeSigmoidWithLoss"):
        (r,) = [r for r in rows if r.name == name]
        assert r.result == "matches", r
    assert main(["check", "--course", course_dir]) == 0
    out = capsys.readouterr().out
    assert "not compared" not in out


STUDENT_LAYERS = textwrap.dedent("""
    import numpy as np

    class Affine:
        def __init__(self, W, b):
            self.params = [W, b]
            self.grads = [np.zeros_like(W), np.zeros_like(b)]

        def forward(self, x):
            self.x = x
            return x @ self.params[0] + self.params[1]

        def backward(self, dout):
            self.grads[0][...] = self.x.T @ dout
            self.grads[1][...] = dout.sum(axis=1)[:1].sum()   # the bug: db
            return dout @ self.params[0].T

    class Dropout:
        def __init__(self, dropout_ratio=0.5):
            self.dropout_ratio = dropout_ratio

        def forward(self, x, train_flg=True):
            if train_flg:
                self.mask = np.random.rand(*x.shape) > self.dropout_ratio
                return x * self.mask
            return x * (1.0 - self.dropout_ratio)

        def backward(self, dout):
            return dout          # the bug: no mask
""")
STUDENT_TRAINER = textwrap.dedent("""
    class Trainer:
        def __init__(self, model, optimizer):
            self.model, self.optimizer, self.loss_list = model, optimizer, []

        def fit(self, x, t, max_epoch=10, batch_size=32, max_grad=None, eval_interval=20):
            raise NotImplementedError('fit is homework')
""")


def test_check_course_finds_a_students_bugs_in_the_new_rows(tmp_path):
    pkg = tmp_path / "common"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "layers.py").write_text(STUDENT_LAYERS)
    (pkg / "trainer.py").write_text(STUDENT_TRAINER)
    rows = {r.name: r for r in check_course(str(tmp_path))}
    assert rows["Affine"].result == "differs" and "grads[1]" in rows["Affine"].detail
    assert rows["Dropout"].result == "differs" and "backward" in rows["Dropout"].detail
    assert rows["Trainer"].result == "raised" and "fit is homework" in rows["Trainer"].detail
    assert rows["Softmax"].result == "not in the course"
    assert rows["Softmax"].detail == "common.layers defines no Softmax"
    assert all(r.detail for r in rows.values())


def _compiled_classes_with_a_twin():
    from rnnscratch.models import reference as model_reference

    out = []
    for name in rnnscratch.__all__:
        obj = getattr(rnnscratch, name)
        if (isinstance(obj, type) and not patching._numpy_only(obj)
                and (hasattr(rnnscratch.reference, name) or hasattr(model_reference, name))):
            out.append(name)
    return out


def test_check_compares_every_compiled_class(capsys):
    rows = check_compiled()
    names = [r.name for r in rows]
    classes = _compiled_classes_with_a_twin()
    assert names[:len(classes)] == classes
    assert names[len(classes):] == [
        "RNN(activation='relu')", "TimeRNN(activation='relu')", "RNN(activation='sigmoid')",
        "TimeRNN(activation='sigmoid')", "TimeRNN float32", "TimeLSTM float32"]
    for must in ("TimeRNN", "TimeLSTM", "TimeGRU", "TimeAttention", "Affine", "Embedding",
                 "Rnnlm", "BetterRnnlm", "AttentionSeq2seq"):
        assert must in names
    assert all(r.result == "matches" for r in rows), [r for r in rows if r.result != "matches"]
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "OK: every compiled class agrees" in out and "BetterRnnlm" in out


def test_check_fails_when_a_compiled_class_differs(monkeypatch, capsys):
    class WrongLSTM(rnnscratch.TimeLSTM):
        def backward(self, dhs):
            dxs = super().backward(dhs)
            self.grads[1][...] *= 1.01
            return dxs

    monkeypatch.setattr(rnnscratch, "TimeLSTM", WrongLSTM)
    (row,) = [r for r in check_compiled() if r.name == "TimeLSTM"]
    assert row.result == "differs" and "grads[1]" in row.detail
    assert main(["check"]) == 1
    assert "MISMATCH: TimeLSTM" in capsys.readouterr().out


# --------------------------------------------------------------------------
# the book extra, the READMEs
# --------------------------------------------------------------------------

def test_book_extra_brings_matplotlib():
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    assert any(req.startswith("matplotlib") for req in extras["book"])


def _read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def _commands(text):
    """The `python -m rnnscratch ...` lines of the code blocks."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    lines = []
    for b in blocks:
        for ln in b.splitlines():
            ln = ln.split("#")[0].strip()
            m = re.search(r"python -m rnnscratch (.*)", ln)
            if m:
                lines.append(m.group(1).split())
    return lines


SUBCOMMANDS = ("run", "demo", "train", "bench", "check", "info")


@pytest.mark.parametrize("readme", ["README.md", "README.ja.md"])
def test_readme_commands_exist(readme):
    cmds = _commands(_read(readme))
    assert {c[0] for c in cmds} >= {"run", "train", "check"}
    helps = {}
    for cmd in cmds:
        sub = cmd[0]
        assert sub in SUBCOMMANDS, cmd
        if sub not in helps:
            r = _python(["-m", "rnnscratch", sub, "--help"], ROOT)
            assert r.returncode == 0, r.stderr
            helps[sub] = r.stdout
        for word in cmd[1:]:
            if word.startswith("--"):
                flag = word.split("=")[0]
                assert flag in helps[sub], "%s: %s %s is not an option" % (readme, sub, flag)


def test_readme_is_for_the_student_first():
    text = _read("README.md")
    lines = text.splitlines()
    assert len(lines) <= 420, len(lines)
    assert "README.ja.md" in "\n".join(lines[:15])
    install = text.index("pip install")
    assert install < text.index("python -m rnnscratch run")
    assert install < text.index("%load_ext rnnscratch")
    assert "https://github.com/<owner>/rnnscratch" in text
    assert "python -m pytest -q tests" in text      # .ci/run runs it
    assert 'pip install "rnnscratch[book]"' in text
    assert "No module named 'seq2seq'" in text     # the book's ch08 bug
    assert "from rnnscratch import *" in text
    assert "GPU = False" in text
    assert "BENCHMARKS.md" in text and "CONTRIBUTING.md" in text
    for chapter in ("Chapter 5", "Chapter 6", "Chapter 7", "Chapter 8"):
        assert chapter in text
    # the lab notes live in BENCHMARKS.md
    assert "5× targets" not in text and "GFLOP/s" not in text


def test_benchmarks_tables_have_date_and_machine():
    text = _read("BENCHMARKS.md")
    assert "5×" in text
    sections = re.split(r"\n## ", text)[1:]
    assert len(sections) >= 3
    for s in sections:
        if re.search(r"^\| ", s, re.M):   # a section with a table
            assert re.search(r"20\d\d-\d\d-\d\d", s), s[:80]
            assert re.search(r"EPYC|Zen|machine", s), s[:80]


def test_japanese_quick_start_covers_the_traps():
    text = _read("README.ja.md")
    for must in ("Colab", "Windows", "macOS", "Linux", "%load_ext rnnscratch",
                 "cd deep-learning-from-scratch-2/ch06",
                 "python -m rnnscratch run train_rnnlm.py", "rnnscratch.testing",
                 "--resume", "--plot", 'pip install "rnnscratch[book]"',
                 "No module named 'seq2seq'", "GPU = False", "from rnnscratch import *",
                 "check --course", "パープレキシティ", "勾配クリッピング", "RNNLM",
                 "00_colab_quickstart.ipynb", "python -m pytest -q tests"):
        assert must in text, must
    assert len(text.splitlines()) <= 400


def test_colab_notebook_badge_and_offline_switches():
    import json

    with open(os.path.join(ROOT, "notebooks", "00_colab_quickstart.ipynb"),
              encoding="utf-8") as f:
        nb = json.load(f)
    cells = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
             for c in nb["cells"]]
    assert "colab-badge.svg" in cells[0]
    assert ("colab.research.google.com/github/<owner>/rnnscratch/blob/main/notebooks/"
            "00_colab_quickstart.ipynb") in cells[0]
    code = "\n".join(cells)
    assert "https://github.com/oreilly-japan/deep-learning-from-scratch-2" in code
    assert 'rnnscratch[book] @ git+{REPO}' in code and "%pip install" in code
    assert "%load_ext rnnscratch" in code and "%unload_ext rnnscratch" in code
    # the switches tests/test_notebooks.py sets to run it offline
    for var in ("RNNSCRATCH_BOOK_URL", "RNNSCRATCH_PIP_ARGS", "RNNSCRATCH_QUICKSTART_DIR",
                "RNNSCRATCH_QUICKSTART_ITERS"):
        assert var in code
    with open(os.path.join(ROOT, "tests", "test_notebooks.py"), encoding="utf-8") as f:
        runner = f.read()
    for var in ("RNNSCRATCH_BOOK_URL", "RNNSCRATCH_PIP_ARGS", "RNNSCRATCH_QUICKSTART_DIR",
                "RNNSCRATCH_QUICKSTART_ITERS"):
        assert var in runner
