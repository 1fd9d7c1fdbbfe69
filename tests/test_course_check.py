"""python -m rnnscratch check --course DIR: a course folder's classes against ours."""
import sys
import textwrap

import pytest

from rnnscratch.__main__ import main
from rnnscratch.tools.check import check_course

STUDENT_TIME_LAYERS = textwrap.dedent("""
    import numpy as np

    class TimeAffine:
        def __init__(self, W, b):
            self.params = [W, b]
            self.grads = [np.zeros_like(W), np.zeros_like(b)]

        def forward(self, x):
            self.x = x
            return x @ self.params[0] + self.params[1]

        def backward(self, dout):
            W, b = self.params
            x2 = self.x.reshape(-1, self.x.shape[-1])
            d2 = dout.reshape(-1, dout.shape[-1])
            self.grads[0][...] = x2.T @ d2
            self.grads[1][...] = d2.sum(axis=0)
            return dout @ W.T
""")
STUDENT_OPTIMIZER = textwrap.dedent("""
    class SGD:
        def __init__(self, lr=0.01):
            self.lr = lr

        def update(self, params, grads):
            for p, g in zip(params, grads):
                p -= 2 * self.lr * g      # the bug
""")
STUDENT_UTIL = textwrap.dedent("""
    def clip_grads(grads, max_norm):
        raise RuntimeError('not written yet')
""")


@pytest.fixture
def student(tmp_path):
    pkg = tmp_path / "common"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "time_layers.py").write_text(STUDENT_TIME_LAYERS)
    (pkg / "optimizer.py").write_text(STUDENT_OPTIMIZER)
    (pkg / "util.py").write_text(STUDENT_UTIL)
    return tmp_path


def _row(rows, name):
    (r,) = [r for r in rows if r.name == name]
    return r


def test_rows_for_a_students_folder(student):
    before = {k for k in sys.modules if k == "common" or k.startswith("common.")}
    rows = check_course(str(student))
    assert _row(rows, "TimeAffine").result == "matches"
    sgd = _row(rows, "SGD")
    assert sgd.result == "differs" and "param 0 after 3 updates" in sgd.detail
    clip = _row(rows, "clip_grads")
    assert clip.result == "raised" and "not written yet" in clip.detail
    assert _row(rows, "TimeRNN").result == "not in the course"
    assert _row(rows, "RnnlmTrainer").result == "not in the course"  # no trainer.py
    assert _row(rows, "RnnlmTrainer").detail == "no trainer.py"
    # nothing of the student's package is left in the process
    after = {k for k in sys.modules if k == "common" or k.startswith("common.")}
    assert after == before


def test_cli_table_and_status(student, capsys):
    assert main(["check", "--course", str(student)]) == 1   # something differs
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:3] == ["name", "module", "result"]
    assert any(ln.startswith("SGD") and "differs" in ln for ln in out.splitlines())


@pytest.mark.parametrize("args, message", [
    (["check", "--course", "nowhere"], "argument --course: nowhere does not exist"),
    (["check", "--course", "."], "has no common/ folder"),
    (["check", "--batch", "-1"], "argument --batch: must be at least 1, got -1"),
    (["check", "--hidden", "x"], "argument --hidden: invalid int value: 'x'"),
])
def test_check_errors_are_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
