"""rnnscratch.patch(), unpatch(), patched(), `python -m rnnscratch run`, %load_ext.

The mechanism is tested on a small stand-in `common` package written here
(its own code, shaped like the book's: `from common.np import *`, a helper,
classes); the book's real files are used by test_course_scripts.py.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rnnscratch
from rnnscratch import patching

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FAKE_NP = "import numpy as np\n"
FAKE_TIME_LAYERS = textwrap.dedent("""
    from common.np import *

    SETTING = 'kept'

    def helper(x):
        return np.asarray(x) * 2

    class RNN:
        pass

    class TimeRNN:
        def __init__(self, Wx, Wh, b, stateful=False):
            self.params = [Wx, Wh, b]

    class TimeEmbedding:
        pass

    class Ghost:
        '''a class rnnscratch does not have'''
""")
FAKE_OPTIMIZER = textwrap.dedent("""
    from common.np import *

    class SGD:
        def __init__(self, lr=0.01):
            self.lr = lr

    class Nesterov:
        pass
""")
FAKE_MODEL = textwrap.dedent("""
    from common.time_layers import *

    def build():
        return TimeRNN(np.zeros((2, 3)), np.zeros((3, 3)), np.zeros(3))
""")


def _forget_common():
    for name in list(sys.modules):
        if name == "common" or name.startswith("common.") or name in ("fake_model",):
            del sys.modules[name]


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A stand-in book package `common` on sys.path; cleaned up afterwards."""
    pkg = tmp_path / "common"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "np.py").write_text(FAKE_NP)
    (pkg / "time_layers.py").write_text(FAKE_TIME_LAYERS)
    (pkg / "optimizer.py").write_text(FAKE_OPTIMIZER)
    (tmp_path / "fake_model.py").write_text(FAKE_MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    _forget_common()
    yield tmp_path
    rnnscratch.unpatch()
    _forget_common()


def _status(entries, module, name):
    (e,) = [e for e in entries if e.module == module and e.name == name]
    return e.status


def test_patch_before_import_replaces_only_what_we_have(course):
    entries = rnnscratch.patch()
    assert _status(entries, "common.time_layers", "TimeRNN") == "pending"
    import common.time_layers as tl
    import fake_model

    assert tl.TimeRNN is rnnscratch.TimeRNN and tl.RNN is rnnscratch.RNN
    assert tl.TimeEmbedding is rnnscratch.TimeEmbedding
    # everything else the module defines is kept, np included
    assert tl.np is np and tl.SETTING == "kept" and tl.helper(2) == 4
    assert tl.Ghost.__module__ == "common.time_layers"
    # a model file's star import sees ours (and np)
    assert fake_model.TimeRNN is rnnscratch.TimeRNN and fake_model.np is np
    assert isinstance(fake_model.build(), rnnscratch.TimeRNN)
    entries = rnnscratch.patched()
    assert _status(entries, "common.time_layers", "TimeRNN") == "replaced"
    assert _status(entries, "common.time_layers", "TimeBiLSTM") in ("not defined",
                                                                    "not available")
    # the module keeps its real loader (tracebacks, inspect.getsource)
    assert type(tl.__loader__).__name__ == "SourceFileLoader"


def test_already_imported_modules_and_copies_are_patched(course):
    import common.optimizer as opt
    import common.time_layers as tl
    import fake_model

    book_TimeRNN, book_SGD = tl.TimeRNN, opt.SGD
    main_ns = sys.modules["__main__"].__dict__
    had = "TimeRNN" in main_ns
    old = main_ns.get("TimeRNN")
    main_ns["TimeRNN"] = book_TimeRNN   # a notebook that star-imported first
    try:
        rnnscratch.patch()
        assert tl.TimeRNN is rnnscratch.TimeRNN and opt.SGD is rnnscratch.SGD
        assert fake_model.TimeRNN is rnnscratch.TimeRNN
        assert main_ns["TimeRNN"] is rnnscratch.TimeRNN
        rnnscratch.unpatch()
        assert tl.TimeRNN is book_TimeRNN and opt.SGD is book_SGD
        assert fake_model.TimeRNN is book_TimeRNN and main_ns["TimeRNN"] is book_TimeRNN
    finally:
        if had:
            main_ns["TimeRNN"] = old
        else:
            main_ns.pop("TimeRNN", None)


def test_unpatch_restores_modules_imported_while_on(course):
    rnnscratch.patch()
    import common.time_layers as tl
    import fake_model

    assert fake_model.TimeRNN is rnnscratch.TimeRNN
    entries = rnnscratch.unpatch()
    assert tl.TimeRNN.__module__ == "common.time_layers"
    assert fake_model.TimeRNN is tl.TimeRNN
    assert not rnnscratch.is_patched()
    assert {e.status for e in entries} <= {"off", "not available", "not compiled"}
    # no finder is left behind: a new import is the book's
    _forget_common()
    import common.time_layers as tl2

    assert tl2.TimeRNN.__module__ == "common.time_layers"


def test_exclude_keeps_the_students_class(course):
    rnnscratch.patch(exclude=["TimeRNN", "common.optimizer.SGD"])
    import common.optimizer as opt
    import common.time_layers as tl

    assert tl.TimeRNN.__module__ == "common.time_layers"
    assert opt.SGD.__module__ == "common.optimizer"
    assert tl.RNN is rnnscratch.RNN
    entries = rnnscratch.patched()
    assert _status(entries, "common.time_layers", "TimeRNN") == "excluded"
    assert _status(entries, "common.optimizer", "SGD") == "excluded"


def test_exclude_errors():
    with pytest.raises(ValueError, match="exclude: 'TimeRNNN' is not a name patch"):
        rnnscratch.patch(exclude=["TimeRNNN"])
    with pytest.raises(TypeError, match="exclude: expected names"):
        rnnscratch.patch(exclude=[3])
    with pytest.raises(TypeError, match="exclude: expected a list"):
        rnnscratch.patch(exclude=3)
    with pytest.raises(ValueError, match="packages: expected package names"):
        rnnscratch.patch(packages=["not a name"])
    assert not rnnscratch.is_patched()


def test_rows_without_a_compiled_class_are_not_applied(course, monkeypatch):
    # a row whose rnnscratch attribute does not exist, and one that would point
    # at a NumPy reference class: neither is applied
    table = patching.TABLE + (("time_layers", "Ghost", "NoSuchThing"),
                              ("optimizer", "Nesterov", "reference.TimeRNN"))
    monkeypatch.setattr(patching, "TABLE", table)
    rnnscratch.patch()
    import common.optimizer as opt
    import common.time_layers as tl

    assert tl.Ghost.__module__ == "common.time_layers"
    assert opt.Nesterov.__module__ == "common.optimizer"
    status = {e.name: e.status for e in rnnscratch.patched()}
    assert status["Ghost"] == "not available" and status["Nesterov"] == "not compiled"


def test_a_row_lights_up_when_the_attribute_appears(course, monkeypatch):
    class Ghost:
        __module__ = "rnnscratch.layers.ghost"

    monkeypatch.setattr(patching, "TABLE",
                        patching.TABLE + (("time_layers", "Ghost", "Ghost"),))
    monkeypatch.setattr(rnnscratch, "Ghost", Ghost, raising=False)
    rnnscratch.patch()
    import common.time_layers as tl

    assert tl.Ghost is Ghost
    assert _status(rnnscratch.patched(), "common.time_layers", "Ghost") == "replaced"


def test_gpu_mode_is_left_alone(course):
    (course / "common" / "config.py").write_text("GPU = True\n")
    import common.config  # noqa: F401

    rnnscratch.patch()
    with pytest.warns(RuntimeWarning, match="GPU is True"):
        import common.time_layers as tl
    assert tl.TimeRNN.__module__ == "common.time_layers"


def test_reload_repatches(course):
    import importlib

    rnnscratch.patch()
    import common.time_layers as tl

    importlib.reload(tl)
    assert tl.TimeRNN is rnnscratch.TimeRNN and tl.helper(1) == 2


def test_report_lists_every_row(course):
    rnnscratch.patch()
    text = patching.report()
    assert text.splitlines()[0].split() == ["book", "rnnscratch", "status"]
    assert len(text.splitlines()) == len(patching.TABLE) + 1
    assert "common.time_layers.TimeRNN" in text
    assert repr(rnnscratch.patched()) == text   # a notebook shows the table


def test_ipython_extension(course):
    IPython = pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "rnnscratch")
        assert rnnscratch.is_patched()
        shell.run_cell("from common.time_layers import *")
        assert shell.user_ns["TimeRNN"] is rnnscratch.TimeRNN
        assert shell.user_ns["np"] is np
        shell.run_line_magic("unload_ext", "rnnscratch")
        assert not rnnscratch.is_patched()
    finally:
        rnnscratch.unpatch()
        InteractiveShell.clear_instance()
    del IPython


# --------------------------------------------------------------------------
# python -m rnnscratch run
# --------------------------------------------------------------------------

SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.append('..')
    from common.time_layers import *
    print('argv', sys.argv)
    print('name', __name__)
    print('file', __file__)
    print('path0', sys.path[0])
    print('cwd', os.getcwd())
    print('helper', helper(21))
    print('class', TimeRNN.__module__)
""")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _course_tree(tmp_path):
    pkg = tmp_path / "book" / "common"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "np.py").write_text(FAKE_NP)
    (pkg / "time_layers.py").write_text(FAKE_TIME_LAYERS)
    ch = tmp_path / "book" / "ch05"
    ch.mkdir()
    (ch / "script.py").write_text(SCRIPT)
    return ch


def test_run_is_python_script(tmp_path):
    ch = _course_tree(tmp_path)
    plain = subprocess.run([sys.executable, "script.py", "a", "--b"], cwd=ch,
                           capture_output=True, text=True, env=_env())
    ran = subprocess.run([sys.executable, "-m", "rnnscratch", "run", "script.py", "a", "--b"],
                         cwd=ch, capture_output=True, text=True, env=_env())
    assert plain.returncode == 0 and ran.returncode == 0, plain.stderr + ran.stderr
    p, r = plain.stdout.splitlines(), ran.stdout.splitlines()
    assert p[:-1] == r[:-1]            # argv, __main__, __file__, sys.path[0], cwd, np
    assert p[-1] == "class common.time_layers"
    assert r[-1] == "class rnnscratch.layers.rnn"
    assert ran.stderr == ""


def test_run_exit_status_and_traceback(tmp_path):
    (tmp_path / "fails.py").write_text("def f():\n    raise KeyError('boom')\nf()\n")
    (tmp_path / "exits.py").write_text("import sys\nprint('bye')\nsys.exit(3)\n")
    r = subprocess.run([sys.executable, "-m", "rnnscratch", "run", "fails.py"], cwd=tmp_path,
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 1
    assert r.stderr.startswith("Traceback (most recent call last):")
    assert "KeyError: 'boom'" in r.stderr and "patching.py" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "rnnscratch", "run", "exits.py"], cwd=tmp_path,
                       capture_output=True, text=True, env=_env())
    assert (r.returncode, r.stdout) == (3, "bye\n")


def test_run_verbose_lists_the_replacements(tmp_path):
    ch = _course_tree(tmp_path)
    r = subprocess.run([sys.executable, "-m", "rnnscratch", "run", "-v", "script.py"], cwd=ch,
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 0
    assert "common.time_layers.TimeRNN" in r.stderr and "replaced" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["run"], "the following arguments are required: SCRIPT"),
    (["run", "missing.py"], "argument SCRIPT: missing.py does not exist"),
    (["run", "."], "argument SCRIPT: . is a directory"),
    (["run", "--exclude", "Nope", "x.py"], "argument --exclude: 'Nope' is not a name"),
])
def test_run_errors_are_one_line(tmp_path, args, message):
    (tmp_path / "x.py").write_text("")
    r = subprocess.run([sys.executable, "-m", "rnnscratch", *args], cwd=tmp_path,
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
