"""The front-door problems a new user met, one test (or more) each.

- the PTB loader looks in the book's dataset/ folder (next to the running
  script, one level up, and DIR/dataset for data_dir=DIR);
- its in-memory cache is keyed on the file's content, not size and mtime;
- command-line mistakes are one argparse-style line, exit status 2, found
  before any work starts (outputs checked for writability first);
- environment values that cannot be read are ignored with a warning;
- the scratch-course classifier validates its hyper-parameters and its
  defaults learn a 10-step sign-of-sum task;
- rnnscratch.testing finds rebound gradient arrays, prints the first failing
  case in full and the others in one line, and says where the bug likely is.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rnnscratch.tools import demo
from rnnscratch.__main__ import main as cli_main
from rnnscratch.datasets import ptb
from rnnscratch.diveintocode import ScratchSimpleRNNClassifier
from rnnscratch.reference import RNN as RefRNN, TimeRNN as RefTimeRNN
from rnnscratch.testing import check_rnn, check_time_rnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRAIN = " the cat sat \n the dog sat down \n"
VALID = " dog sat \n"
TEST = " the cat \n"


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("RNNSCRATCH_DATA", None)
    env.update(extra)
    return env


def _write_ptb(d, train=TRAIN):
    d.mkdir(parents=True, exist_ok=True)
    (d / "ptb.train.txt").write_text(train)
    (d / "ptb.valid.txt").write_text(VALID)
    (d / "ptb.test.txt").write_text(TEST)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("RNNSCRATCH_DATA", raising=False)
    monkeypatch.setattr(ptb, "cache_dir", lambda: str(tmp_path / "cache"))
    return tmp_path


# --------------------------------------------------------------------------
# PTB: the book's dataset/ folder
# --------------------------------------------------------------------------

def test_ptb_found_in_the_books_dataset_folder_of_the_running_script(tmp_path):
    book = tmp_path / "book"
    _write_ptb(book / "dataset")
    (book / "ch05").mkdir()
    (book / "ch05" / "train.py").write_text(textwrap.dedent("""
        from rnnscratch.datasets import ptb
        corpus, w2i, _ = ptb.load_data('train', download=False)
        print(len(corpus), len(w2i))
    """))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # run from another working directory: the script's location decides
    r = subprocess.run([sys.executable, str(book / "ch05" / "train.py")], cwd=elsewhere,
                       capture_output=True, text=True,
                       env=_env(XDG_CACHE_HOME=str(tmp_path / "cache")))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["9", "6"]


def test_ptb_dataset_next_to_the_script_and_in_data_dir(isolated, monkeypatch):
    book = isolated / "book"
    _write_ptb(book / "dataset")
    (book / "train.py").write_text("")
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__file__", str(book / "train.py"), raising=False)
    assert str(book / "dataset") in ptb.search_dirs()
    corpus, w2i, _ = ptb.load_data("train", download=False)
    assert len(corpus) == 9 and len(w2i) == 6
    # data_dir=DIR finds DIR/dataset, wherever the script is
    monkeypatch.setattr(main, "__file__", str(isolated / "nowhere.py"), raising=False)
    corpus, _, _ = ptb.load_data("valid", data_dir=str(book), download=False)
    assert list(corpus) == [4, 2, 3]


def test_ptb_notebook_uses_the_working_directory(isolated, monkeypatch):
    book = isolated / "book"
    _write_ptb(book / "dataset")
    (book / "ch05").mkdir()
    monkeypatch.delattr(sys.modules["__main__"], "__file__", raising=False)
    monkeypatch.chdir(book / "ch05")
    corpus, _, _ = ptb.load_data("test", download=False)
    assert list(corpus) == [0, 1, 3]


# --------------------------------------------------------------------------
# PTB: content-keyed cache
# --------------------------------------------------------------------------

def test_ptb_cache_follows_the_content_not_size_and_mtime(isolated):
    d = isolated / "data"
    _write_ptb(d)
    path = d / "ptb.train.txt"
    _, w2i, _ = ptb.load_data("train", data_dir=str(d), download=False)
    assert w2i["the"] == 0
    st = os.stat(path)
    # rewritten in place: same size, same modification time, other words
    path.write_text(TRAIN.replace("the", "eht"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size and os.stat(path).st_mtime_ns == st.st_mtime_ns
    corpus, w2i, _ = ptb.load_data("train", data_dir=str(d), download=False)
    assert "the" not in w2i and w2i["eht"] == 0
    # the valid split is read with the new vocabulary
    with pytest.raises(ValueError, match="not in the vocabulary"):
        ptb.load_data("test", data_dir=str(d), download=False)


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------

def _cli_error(capsys, fn, args):
    with pytest.raises(SystemExit) as e:
        fn(args)
    out = capsys.readouterr()
    assert e.value.code == 2, out
    assert "Traceback" not in out.err and out.out == "", out   # nothing ran
    lines = [ln for ln in out.err.splitlines() if not ln.startswith(("usage:", "  "))]
    assert len(lines) == 1, out.err
    return lines[0]


@pytest.mark.parametrize("args, message", [
    (["--corpus", "missing.txt"], "argument --corpus: missing.txt does not exist"),
    (["--corpus", "."], "argument --corpus: . is a directory"),
    (["--data-dir", "."], "argument --data-dir: only used with --data ptb"),
    (["--data", "ptb", "--data-dir", "nowhere"], "argument --data-dir: nowhere does not exist"),
    (["--lr", "nan"], "argument --lr: must be a finite number"),
    (["--lr", "-1"], "argument --lr: must be greater than 0"),
    (["--words", "-3"], "argument --words: must be at least 1"),
    (["--compare-epochs", "-1"], "argument --compare-epochs: must be 0 or more"),
    (["--plot", "no/such/dir/p.png"], "argument --plot: cannot write no/such/dir/p.png"),
    (["--plot", "."], "argument --plot: . is a directory"),
])
def test_demo_mistakes_are_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    line = _cli_error(capsys, demo.main, args)
    assert message in line and line.startswith("python -m rnnscratch demo: error:")


def test_demo_ptb_without_data_is_one_line(isolated, monkeypatch, capsys):
    def offline(file_name):
        raise OSError("network is unreachable")

    monkeypatch.setattr(ptb, "_download", offline)
    monkeypatch.chdir(isolated)
    monkeypatch.delattr(sys.modules["__main__"], "__file__", raising=False)
    line = _cli_error(capsys, demo.main, ["--data", "ptb", "--epochs", "1"])
    assert "PTB: ptb.train.txt was not found" in line and "network is unreachable" in line


def test_demo_plot_under_a_file_fails_before_the_run(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("")
    line = _cli_error(capsys, demo.main, ["--plot", str(tmp_path / "notes.txt" / "p.png")])
    assert "notes.txt is not a directory" in line


@pytest.mark.parametrize("args, message", [
    (["--threads", "0"], "argument --threads: must be at least 1, got 0"),
    (["--json", "no/such/dir/r.json"], "argument --json: cannot write"),
    (["--plot", "no/such/dir/r.png"], "argument --plot: cannot write"),
    (["--json", "."], "argument --json: . is a directory"),
])
def test_bench_mistakes_are_one_line_before_the_run(tmp_path, monkeypatch, capsys, args,
                                                    message):
    from rnnscratch.tools import bench

    monkeypatch.chdir(tmp_path)

    def no_run(*a, **k):
        raise AssertionError("the benchmark ran before the arguments were checked")

    monkeypatch.setattr(bench, "run_bench", no_run)
    monkeypatch.setattr(bench, "run_lm_bench", no_run)
    line = _cli_error(capsys, bench.main, args)
    assert message in line


@pytest.mark.parametrize("args, message", [
    (["check", "--batch", "-1"], "argument --batch: must be at least 1, got -1"),
    (["check", "--time", "0"], "argument --time: must be at least 1, got 0"),
    (["bench", "--threads", "0"], "argument --threads: must be at least 1"),
    (["demo", "--lr", "nan"], "argument --lr: must be a finite number"),
])
def test_cli_entry_point_errors(capsys, args, message):
    line = _cli_error(capsys, cli_main, args)
    assert message in line


def test_cli_errors_in_a_fresh_process(tmp_path):
    r = subprocess.run([sys.executable, "-m", "rnnscratch", "demo", "--corpus", "missing.txt"],
                       cwd=tmp_path, capture_output=True, text=True, env=_env())
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines()[-1] == ("python -m rnnscratch demo: error: argument --corpus: "
                                         "missing.txt does not exist")


# --------------------------------------------------------------------------
# environment values
# --------------------------------------------------------------------------

def _threads_with(**env):
    code = ("import warnings, rnnscratch; "
            "print(rnnscratch.get_num_threads())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=_env(**env))
    assert r.returncode == 0, r.stderr
    return int(r.stdout), r.stderr


@pytest.mark.parametrize("value", ["1x", "abc", "-1", "0", "2.5"])
def test_unreadable_thread_counts_are_ignored_with_a_warning(value):
    default, err0 = _threads_with()
    n, err = _threads_with(RNNSCRATCH_NUM_THREADS=value)
    assert n == default      # not read as 1 (or anything else)
    assert "RuntimeWarning" in err and "RNNSCRATCH_NUM_THREADS=%r" % value in err
    assert "RNNSCRATCH_NUM_THREADS" not in err0


def test_readable_thread_counts_are_used_without_warning():
    n, err = _threads_with(RNNSCRATCH_NUM_THREADS=" 1 ")
    assert n == 1 and err == ""
    n, err = _threads_with(OMP_NUM_THREADS="1,2")   # OpenMP's nested form: the first level
    assert n == 1 and err == ""


def test_other_environment_values_warn():
    from rnnscratch._config import environment_problems

    probs = dict(environment_problems({"RNNSCRATCH_PAR_FLOPS": "fast",
                                       "OMP_NUM_THREADS": "many",
                                       "RNNSCRATCH_DATA": "/no/such/dir"}))
    assert set(probs) == {"RNNSCRATCH_PAR_FLOPS", "OMP_NUM_THREADS", "RNNSCRATCH_DATA"}
    assert environment_problems({"RNNSCRATCH_PAR_FLOPS": "1e6", "OMP_NUM_THREADS": "2",
                                 "RNNSCRATCH_NUM_THREADS": "3"}) == []
    # OMP_NUM_THREADS is not read when RNNSCRATCH_NUM_THREADS is set
    assert environment_problems({"OMP_NUM_THREADS": "x", "RNNSCRATCH_NUM_THREADS": "2"}) == []


# --------------------------------------------------------------------------
# the scratch-course classifier
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(batch_size=-1), ValueError, "batch_size: expected a whole number >= 1, got -1"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(epochs=0), ValueError, "epochs"),
    (dict(n_nodes=2.5), TypeError, "n_nodes"),
    (dict(lr=float("nan")), ValueError, "lr: expected a finite number > 0, got nan"),
    (dict(lr=0), ValueError, "lr"),
    (dict(lr="0.1"), TypeError, "lr"),
    (dict(activation="softplus"), ValueError, "activation"),
    (dict(initializer=-0.1), ValueError, "initializer"),
])
def test_classifier_rejects_hyper_parameters_that_cannot_work(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        ScratchSimpleRNNClassifier(**kwargs)
    clf = ScratchSimpleRNNClassifier()
    for k, v in kwargs.items():  # set after construction: fit() checks again
        setattr(clf, k, v)
    X = np.zeros((4, 3, 1))
    with pytest.raises(exc, match=message):
        clf.fit(X, np.array([0, 1, 0, 1]))
    assert not hasattr(clf, "rnn")


def test_classifier_rejects_bad_data():
    X = np.random.default_rng(0).standard_normal((6, 3, 2))
    y = np.array([0, 1, 0, 1, 0, 1])
    clf = ScratchSimpleRNNClassifier(epochs=1)
    with pytest.raises(ValueError, match="at least 2 different labels"):
        clf.fit(X, np.zeros(6))
    Xn = X.copy()
    Xn[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="X: contains NaN"):
        clf.fit(Xn, y)
    with pytest.raises(ValueError, match="X: expected at least one sample"):
        clf.fit(X[:0], y[:0])
    with pytest.raises(TypeError, match="X"):
        clf.fit(np.array([["a", "b"]] * 6), y)
    with pytest.raises(ValueError, match="X_val, y_val: give both"):
        clf.fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="X_val: expected shape"):
        clf.fit(X, y, X[:, :2], y)
    with pytest.raises(ValueError, match="y_val: expected shape"):
        clf.fit(X, y, X, y[:3])


def test_xavier_gain_is_checked():
    from rnnscratch.diveintocode import XavierInitializer

    with pytest.raises(ValueError, match="gain: expected a number > 0"):
        XavierInitializer(gain=0)
    W1 = XavierInitializer(0).W(4, 3)
    W2 = XavierInitializer(0, gain=0.5).W(4, 3)
    np.testing.assert_allclose(W2, W1 * 0.5)


def _sign_of_sum(n, seed, T=10):
    X = np.random.default_rng(seed).standard_normal((n, T, 1))
    return X, (X[:, :, 0].sum(axis=1) > 0).astype(int)


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
def test_classifier_defaults_learn_the_sign_of_sum(seed):
    X, y = _sign_of_sum(600, 100 + seed)
    X_val, y_val = _sign_of_sum(2000, 200 + seed)
    clf = ScratchSimpleRNNClassifier(random_state=seed).fit(X, y)
    # the previous defaults reached 0.88-0.94 here (0.896 for seed 5)
    assert np.mean(clf.predict(X_val) == y_val) >= 0.945


# --------------------------------------------------------------------------
# rnnscratch.testing
# --------------------------------------------------------------------------

class TimeRNNRebindingGrads(RefTimeRNN):
    """Right numbers, but backward puts new arrays into self.grads."""

    def backward(self, dhs):
        dxs = super().backward(dhs)
        for i in range(len(self.grads)):
            self.grads[i] = self.grads[i].copy()
        return dxs


def test_rebound_grads_are_caught():
    report = check_time_rnn(TimeRNNRebindingGrads)
    assert not report.ok
    assert report.failures == ["grads identity"]
    text = str(report)
    assert "self.grads[i][...] = ..." in text and "grads[0] (dWx)" in text
    assert "diagnosis: grads rebound" in text
    assert check_time_rnn(RefTimeRNN).ok


class RNNWrongDerivative:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        h = np.tanh(x @ Wx + h_prev @ Wh + b)
        self.cache = (x, h_prev, h)
        return h

    def _dt(self, dh, h):
        return dh * (1 - h)          # the bug: 1 - h, not 1 - h**2

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        x, h_prev, h = self.cache
        dt = self._dt(dh_next, h)
        self.grads[0][...] = x.T @ dt
        self.grads[1][...] = h_prev.T @ dt
        self.grads[2][...] = dt.sum(axis=0)
        return self._dx(dt), dt @ Wh.T

    def _dx(self, dt):
        return dt @ self.params[0].T


class RNNWrongDx(RNNWrongDerivative):
    def _dt(self, dh, h):
        return dh * (1 - h ** 2)

    def _dx(self, dt):
        return dt @ self.params[0].T * 0.5   # the bug


def test_report_first_case_in_full_the_rest_in_one_line():
    text = str(check_rnn(RNNWrongDerivative))
    lines = text.splitlines()
    cases = [ln for ln in lines if ln.startswith("  case ")]
    assert len(cases) == 1                              # one case in full
    detail = [ln for ln in lines if ln.startswith("    ")]
    assert len(detail) == 5                             # its 5 wrong quantities
    (rest,) = [ln for ln in lines if "more failing cases" in ln]
    assert rest.startswith("  3 more failing cases: N=1 D=1 H=3: dx, dh_prev, dWx, dWh, db;")


def test_diagnosis_of_the_activation_derivative():
    text = str(check_rnn(RNNWrongDerivative))
    assert ("diagnosis: the forward pass is right and every gradient is wrong: look at the "
            "derivative of the activation") in text


def test_diagnosis_of_dx_only():
    report = check_rnn(RNNWrongDx)
    assert report.failures == ["dx"]
    assert "diagnosis: only dx is wrong: it is dt . Wx.T" in str(report)


def test_correct_classes_get_no_diagnosis():
    assert "diagnosis" not in str(check_rnn(RefRNN))
