"""Files you can trust (issue 24): loading never runs code, every file is
written all or nothing, `train` checks every flag and file and survives
signals, the models' calls are all or nothing, h0=None follows the book, the
loaders and the bridge name what is wrong.

Every run here is tiny (a 40-word corpus, D = H = 4): the whole module takes
seconds."""
import csv
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import rnnscratch
from rnnscratch.models import base as models_base
from rnnscratch.models import files
from rnnscratch.models import reference as ref_models
from rnnscratch.tools import train as train_cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------
# crafted pickles: nothing in them ever runs
# --------------------------------------------------------------------------

class _System:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Exec:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


class _Subprocess:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (subprocess.call, (["touch", self.marker],))


def _payloads(marker, arrays):
    """(name, bytes) of hostile pickles, each of which creates `marker` when
    unpickled by pickle.load."""
    out = []
    for proto in (0, 2, 4, 5):
        out.append((f"os.system-p{proto}", pickle.dumps([_System(marker)], protocol=proto)))
        out.append((f"exec-p{proto}", pickle.dumps(_Exec(marker), protocol=proto)))
        out.append((f"subprocess-p{proto}",
                    pickle.dumps(list(arrays) + [_Subprocess(marker)], protocol=proto)))
    # the payload hidden as the last entry after valid arrays, and in an object array
    obj = np.empty(1, dtype=object)
    obj[0] = _System(marker)
    out.append(("object-array", pickle.dumps(list(arrays[:-1]) + [obj])))
    # hand-written opcodes: GLOBAL posix system + REDUCE
    out.append(("raw-global", b"cposix\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR."))
    return out


@pytest.fixture
def marker(tmp_path):
    m = tmp_path / "MARKER"
    yield str(m)
    assert not m.exists(), "a crafted pickle ran its code"


def test_crafted_weights_never_run_and_change_nothing(tmp_path, marker):
    m = rnnscratch.Rnnlm(11, 3, 4)
    arrays = [p.astype(np.float16) for p in m.params]
    before = [p.copy() for p in m.params]
    for name, data in _payloads(marker, arrays):
        path = tmp_path / f"{name}.pkl"
        path.write_bytes(data)
        with pytest.raises(ValueError) as e:
            m.load_params(str(path))
        assert str(path) in str(e.value), name
        with pytest.raises(ValueError):
            files.load_weights(path)
        assert not os.path.exists(marker), name
    assert all(np.array_equal(p, q) for p, q in zip(before, m.params))


def test_a_crafted_pickle_is_refused_before_any_object_is_built(tmp_path, marker, monkeypatch):
    """The payload after valid arrays: refused from the opcodes alone, before
    even the arrays ahead of it are built."""
    files.load_weights  # noqa: B018 (the table of allowed names is built on first use)
    files.safe_unpickle(io.BytesIO(pickle.dumps([np.ones(1)])))
    built = []
    for key, fn in list(files._ALLOWED.items()):
        monkeypatch.setitem(files._ALLOWED, key,
                            lambda *a, _fn=fn, _k=key, **k: built.append(_k) or _fn(*a, **k))
    arrays = [np.ones(3, np.float16), np.zeros(2, np.float16)]
    for proto in (2, 4, 5):
        path = tmp_path / f"p{proto}.pkl"
        path.write_bytes(pickle.dumps(arrays + [_System(marker)], protocol=proto))
        with pytest.raises(ValueError, match="posix.system|os.system|nt.system"):
            files.load_weights(path)
    assert built == []
    # a global named through a crafted stack (not two plain strings) is refused too
    crafted = (b"\x80\x04\x8c\x05posix\x94\x8c\x06system\x94\x85\x94\x8c\x01x\x93"
               b"\x8c\x04true\x85R.")
    with pytest.raises(ValueError, match="not a safe pickle"):
        files.safe_unpickle(io.BytesIO(crafted), "crafted")


def test_the_books_format_reads_in_every_protocol_and_saves_byte_for_byte(tmp_path):
    a = rnnscratch.BetterRnnlm(13, 4, 4)
    a.save_params(str(tmp_path / "a.pkl"))
    book_bytes = pickle.dumps([p.astype(np.float16) for p in a.params])  # the book's dump
    assert (tmp_path / "a.pkl").read_bytes() == book_bytes
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        for seq in (list, tuple):
            p = tmp_path / f"p{proto}{seq.__name__}.pkl"
            p.write_bytes(pickle.dumps(seq(x.astype(np.float16) for x in a.params),
                                       protocol=proto))
            b = rnnscratch.BetterRnnlm(13, 4, 4)
            b.load_params(str(p))
            assert all(np.array_equal(x.astype(np.float16).astype("f"), y)
                       for x, y in zip(a.params, b.params))
    # NumPy 1.x module names (numpy.core.multiarray) read too
    data = pickle.dumps([np.ones(2, np.float16)], protocol=2).replace(
        b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert files.safe_unpickle(io.BytesIO(data))[0].tolist() == [1, 1]


def test_truncated_and_garbage_weights_are_one_valueerror(tmp_path):
    m = rnnscratch.Rnnlm(11, 3, 4)
    m.save_params(str(tmp_path / "good.pkl"))
    good = (tmp_path / "good.pkl").read_bytes()
    before = [p.copy() for p in m.params]
    rng = np.random.default_rng(0)
    cuts = [0, 1, 2, 17, len(good) // 2, len(good) - 2, len(good) - 1]
    bad = [good[:n] for n in cuts] + [rng.bytes(n) for n in (1, 50, 500)] + [b"\x80\x05garbage"]
    for i, data in enumerate(bad):
        p = tmp_path / f"bad{i}.pkl"
        p.write_bytes(data)
        with pytest.raises(ValueError, match=str(p).replace("\\", "\\\\")):
            m.load_params(str(p))
    assert all(np.array_equal(p, q) for p, q in zip(before, m.params))


# --------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------

def test_atomic_write_keeps_the_old_file_on_any_failure(tmp_path):
    path = tmp_path / "f.bin"
    files.atomic_write(path, lambda f: f.write(b"old"))
    for exc in (RuntimeError("disk"), KeyboardInterrupt()):
        def write(f, exc=exc):
            f.write(b"new, half")
            raise exc
        with pytest.raises(type(exc)):
            files.atomic_write(path, write)
        assert path.read_bytes() == b"old"
        assert sorted(os.listdir(tmp_path)) == ["f.bin"]  # no temporary left
    files.atomic_write(path, lambda f: f.write("néw"), mode="w")
    assert path.read_bytes() == "néw".encode()


def test_save_params_interrupted_leaves_the_previous_file(tmp_path, monkeypatch):
    m = rnnscratch.Rnnlm(11, 3, 4)
    path = str(tmp_path / "Rnnlm.pkl")
    m.save_params(path)
    old = open(path, "rb").read()

    def dump(obj, f):
        f.write(pickle.dumps(obj)[:40])
        raise KeyboardInterrupt  # a second Ctrl-C in the middle of the write

    monkeypatch.setattr(models_base.pickle, "dump", dump)
    for p in m.params:
        p += 1
    with pytest.raises(KeyboardInterrupt):
        m.save_params(path)
    assert open(path, "rb").read() == old
    assert os.listdir(tmp_path) == ["Rnnlm.pkl"]


# --------------------------------------------------------------------------
# train: a tiny run
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(1)
    vocab = [f"w{i}" for i in range(30)]
    lines = [" ".join(vocab[j] for j in rng.integers(0, 30, rng.integers(3, 9)))
             for _ in range(260)]
    path = tmp_path_factory.mktemp("corpus") / "text.txt"
    path.write_text("\n".join(lines))
    return str(path)


TINY = ["--model", "rnnlm", "--wordvec", "4", "--hidden", "4", "--batch-size", "2",
        "--time-size", "5", "--eval-batch-size", "2", "--eval-interval", "4", "--lr", "5",
        "--epochs", "2", "--quiet"]


def targs(corpus, out, *extra):
    return ["--corpus", corpus, "--out-dir", str(out), *TINY, *extra]


def run(corpus, out, *extra, stop_after=None):
    return train_cli.run(train_cli.parse_args(targs(corpus, out, *extra)), stop_after=stop_after)


def main_rc(argv, capsys):
    """(exit status, stderr) of `train` (argparse's exits included)."""
    try:
        rc = train_cli.main(argv)
    except SystemExit as e:
        rc = e.code
    return rc, capsys.readouterr().err


def one_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    assert "Traceback" not in err
    return lines[-1]


def key_rows(out):
    with open(os.path.join(out, "log.csv"), newline="", encoding="utf-8") as f:
        return [(r["epoch"], r["iteration"], r["split"], r["perplexity"], r["lr"])
                for r in csv.DictReader(f)]


def same_result(a, b):
    """The two run folders ended with the same weights, checkpoint and log."""
    sa, sb = train_cli.read_state(os.path.join(a, "state.npz")), train_cli.read_state(
        os.path.join(b, "state.npz"))
    assert sa.done and sb.done and sa.epoch == sb.epoch
    assert all(np.array_equal(p, q) for p, q in zip(sa.params, sb.params))
    assert sa.lr == sb.lr and sa.best_ppl == sb.best_ppl
    assert open(os.path.join(a, "Rnnlm.pkl"), "rb").read() == \
        open(os.path.join(b, "Rnnlm.pkl"), "rb").read()
    assert key_rows(a) == key_rows(b)


@pytest.fixture(scope="module")
def full(corpus, tmp_path_factory):
    """The uninterrupted run every interrupted one must end equal to."""
    out = tmp_path_factory.mktemp("full") / "run"
    r = run(corpus, out)
    assert r["finished"]
    return str(out)


@pytest.fixture(scope="module")
def saved_run(corpus, tmp_path_factory):
    """A run stopped mid-epoch 2: its folder holds a state with every field."""
    out = tmp_path_factory.mktemp("saved") / "run"
    r = run(corpus, out, "--optimizer", "adam", stop_after=lambda s: s.epoch == 1
            and s.iteration == 3)
    assert r["stopped"] == "stopped"
    return str(out)


def test_every_written_file_goes_through_atomic_write(corpus, tmp_path, monkeypatch):
    seen = []
    real = files.atomic_write

    def spy(path, write, mode="wb"):
        seen.append(os.path.basename(os.fspath(path)))
        return real(path, write, mode)

    monkeypatch.setattr(train_cli, "atomic_write", spy)
    monkeypatch.setattr(models_base, "atomic_write", spy)
    out = tmp_path / "run"
    run(corpus, out, "--plot", str(out / "curve.png"), "--epochs", "1")
    assert {"state.npz", "log.csv", "Rnnlm.pkl", "curve.png"} <= set(seen)
    assert sorted(os.listdir(out)) == ["Rnnlm.pkl", "curve.png", "log.csv", "state.npz"]


# --------------------------------------------------------------------------
# train: crafted and damaged files
# --------------------------------------------------------------------------

def test_test_on_best_with_a_crafted_checkpoint_runs_nothing(corpus, tmp_path, marker, capsys):
    out = tmp_path / "run"
    run(corpus, out, stop_after=lambda s: s.epoch == 1 and s.iteration == 1)
    with open(out / "Rnnlm.pkl", "wb") as f:
        pickle.dump([_System(marker)], f)
    rc, err = main_rc(["--resume", "--out-dir", str(out), "--epochs", "1", "--test-on", "best"],
                      capsys)
    assert rc == 2
    line = one_line(err)
    assert line.startswith("train: ") and str(out / "Rnnlm.pkl") in line and "--test-on" in line


def test_an_old_pickled_state_is_refused_unread(tmp_path, marker, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with open(out / "state.pkl", "wb") as f:
        pickle.dump({"version": 1, "x": _System(marker)}, f)
    rc, err = main_rc(["--resume", "--out-dir", str(out)], capsys)
    assert rc == 2
    line = one_line(err)
    assert f"train: {out / 'state.pkl'}: " in line and "no longer read" in line


def test_a_state_with_a_pickled_object_array_is_refused(saved_run, tmp_path, marker, capsys):
    out = tmp_path / "run"
    os.makedirs(out)
    with np.load(os.path.join(saved_run, "state.npz")) as z:
        arrays = {k: z[k] for k in z.files}
    obj = np.empty(1, dtype=object)
    obj[0] = _System(marker)
    arrays["param.0"] = obj
    np.savez(out / "state.npz", **arrays)  # allow_pickle: the object array is a pickle
    rc, err = main_rc(["--resume", "--out-dir", str(out)], capsys)
    assert rc == 2 and f"train: {out / 'state.npz'}: " in one_line(err)


def _meta_edit(edit):
    def apply(arrays):
        meta = json.loads(arrays["meta"].tobytes())
        edit(meta)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    return apply


def _set(path, value):
    def edit(meta):
        d = meta
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return _meta_edit(edit)


def _drop(key):
    return _meta_edit(lambda m: m.pop(key))


def _wrong_param(arrays):
    arrays["param.1"] = np.zeros((3, 3), np.float32)


def _drop_param(arrays):
    del arrays["param.2"]


def _extra(arrays):
    arrays["surprise"] = np.zeros(1)


def _no_meta(arrays):
    del arrays["meta"]


def _meta_not_json(arrays):
    arrays["meta"] = np.frombuffer(b"{not json", np.uint8)


def _bad_rng(arrays):
    arrays["rng.key"] = np.zeros(5, np.uint32)


def _opt_shape(arrays):
    arrays["opt.m.0"] = np.zeros((2, 2), np.float32)


STATE_DAMAGE = {
    "lr nan": _set(["lr"], float("nan")),
    "lr negative": _set(["lr"], -1.0),
    "lr text": _set(["lr"], "20"),
    "iteration -5": _set(["iteration"], -5),
    "iteration past the epoch": _set(["iteration"], 10**6),
    "epoch 1.5": _set(["epoch"], 1.5),
    "time_idx off": _set(["time_idx"], 7),
    "best_ppl nan": _set(["best_ppl"], float("nan")),
    "loss_count -3": _set(["loss_count"], -3),
    "log rows": _set(["log"], [["1", "2"]]),
    "hidden 0": _set(["settings", "hidden"], 0),
    "model unknown": _set(["settings", "model"], "gpt"),
    "dropout 1": _set(["settings", "dropout"], 1.0),
    "settings missing a flag": _meta_edit(lambda m: m["settings"].pop("seed")),
    "version": _set(["version"], 1),
    "not ours": _set(["format"], "something else"),
    "missing epoch": _drop("epoch"),
    "missing rng": _drop("rng"),
    "n_params": _set(["n_params"], 99),
    "wrong param shape": _wrong_param,
    "missing param": _drop_param,
    "extra array": _extra,
    "no meta": _no_meta,
    "meta not JSON": _meta_not_json,
    "rng": _bad_rng,
    "optimizer shape": _opt_shape,
}


@pytest.mark.parametrize("damage", sorted(STATE_DAMAGE))
def test_a_damaged_state_is_one_line(saved_run, tmp_path, damage, capsys):
    out = tmp_path / "run"
    os.makedirs(out)
    with np.load(os.path.join(saved_run, "state.npz")) as z:
        arrays = {k: z[k] for k in z.files}
    STATE_DAMAGE[damage](arrays)
    np.savez(out / "state.npz", **arrays)
    rc, err = main_rc(["--resume", "--out-dir", str(out)], capsys)
    assert rc == 2, damage
    line = one_line(err)
    assert line.startswith(f"train: {out / 'state.npz'}: ") and "; " in line, line


def test_truncated_and_garbage_states_are_one_line(saved_run, tmp_path, capsys):
    good = open(os.path.join(saved_run, "state.npz"), "rb").read()
    rng = np.random.default_rng(3)
    cases = [good[:n] for n in (0, 10, 100, len(good) // 3, len(good) - 30, len(good) - 1)]
    cases += [rng.bytes(400), b"PK\x03\x04" + rng.bytes(100)]
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    cases.append(buf.getvalue())  # a .npy, not an archive
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF  # a bad CRC inside
    cases.append(bytes(flipped))
    for i, data in enumerate(cases):
        out = tmp_path / f"r{i}"
        out.mkdir()
        (out / "state.npz").write_bytes(data)
        rc, err = main_rc(["--resume", "--out-dir", str(out)], capsys)
        assert rc == 2, i
        assert one_line(err).startswith(f"train: {out / 'state.npz'}: "), (i, err)


@pytest.mark.parametrize("damage", [b"\xff\xfe\x00garbage\x80\x81", b"epoch,iter\n\x00\x00\"",
                                    b"", "épo,\"unterminated\n".encode("latin-1")])
def test_a_damaged_log_does_not_block_resume(corpus, full, tmp_path, damage):
    out = tmp_path / "run"
    run(corpus, out, stop_after=lambda s: s.epoch == 0 and s.iteration == 9)
    (out / "log.csv").write_bytes(damage)
    assert run(corpus, out, "--resume")["finished"]
    same_result(full, str(out))


# --------------------------------------------------------------------------
# train: flags
# --------------------------------------------------------------------------

BAD_FLAGS = [
    (["--train-words", "-5000"], "--train-words"), (["--val-words", "-5000"], "--val-words"),
    (["--test-words", "-1"], "--test-words"), (["--max-grad", "nan"], "--max-grad"),
    (["--max-grad", "inf"], "--max-grad"), (["--max-grad", "-1"], "--max-grad"),
    (["--lr", "inf"], "--lr"), (["--lr", "nan"], "--lr"), (["--lr", "0"], "--lr"),
    (["--lr", "-2"], "--lr"), (["--lr", "x"], "--lr"),
    (["--save-minutes", "-1"], "--save-minutes"), (["--save-minutes", "0"], "--save-minutes"),
    (["--save-minutes", "nan"], "--save-minutes"), (["--threads", "-1"], "--threads"),
    (["--threads", "0"], "--threads"), (["--dropout", "1.0"], "--dropout"),
    (["--dropout", "-0.1"], "--dropout"), (["--dropout", "nan"], "--dropout"),
    (["--epochs", "0"], "--epochs"), (["--epochs", "2.5"], "--epochs"),
    (["--seed", "-1"], "--seed"), (["--seed", "1.5"], "--seed"),
    (["--seed", str(2**32)], "--seed"), (["--max-minutes", "-1"], "--max-minutes"),
    (["--max-minutes", "nan"], "--max-minutes"), (["--lr-decay", "0.5"], "--lr-decay"),
    (["--lr-decay", "inf"], "--lr-decay"), (["--batch-size", "0"], "--batch-size"),
    (["--time-size", "-3"], "--time-size"), (["--eval-interval", "0"], "--eval-interval"),
    (["--eval-batch-size", "0"], "--eval-batch-size"), (["--wordvec", "0"], "--wordvec"),
    (["--hidden", "-1"], "--hidden"), (["--corpus", "/no/such/file.txt"], "--corpus"),
    (["--data-dir", "/no/such/dir"], "--data-dir"), (["--plot", "/no/such/dir/c.png"], "--plot"),
    (["--plot", "curve.notaformat"], "--plot"), (["--out-dir", __file__], "--out-dir"),
]


@pytest.mark.parametrize("flags,name", BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
def test_every_bad_flag_is_one_line_before_any_work(corpus, tmp_path, flags, name, capsys,
                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    # the flag given last wins (argparse), so the bad one replaces the good one
    argv = ["--corpus", corpus, "--out-dir", str(tmp_path / "r"), "--quiet"] + flags
    rc, err = main_rc(argv, capsys)
    assert rc == 2
    line = one_line(err)
    assert f"argument {name}" in line, line
    assert not (tmp_path / "r").exists()


def test_better_rnnlm_with_untied_sizes_is_one_line(corpus, tmp_path, capsys):
    rc, err = main_rc(["--corpus", corpus, "--out-dir", str(tmp_path / "r"), "--model",
                       "better-rnnlm", "--wordvec", "4", "--hidden", "5"], capsys)
    assert rc == 2 and "--wordvec 4 and --hidden 5" in one_line(err)
    assert not (tmp_path / "r").exists()


def test_non_utf8_corpus_is_one_line_with_the_line(tmp_path, capsys):
    p = tmp_path / "latin1.txt"
    p.write_bytes(b"one two\nthree f\xe9e\n")
    rc, err = main_rc(["--corpus", str(p), "--out-dir", str(tmp_path / "r")], capsys)
    assert rc == 2 and one_line(err).startswith(f"train: {p}: line 2: not UTF-8")


def test_missing_ptb_is_one_line_with_the_search_path(tmp_path, monkeypatch, capsys):
    from rnnscratch.datasets import ptb

    monkeypatch.delenv("RNNSCRATCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(ptb, "_download", lambda name: (_ for _ in ()).throw(
        OSError("network is unreachable")))
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, err = main_rc(["--model", "rnnlm", "--data-dir", str(empty)], capsys)
    assert rc == 2
    line = one_line(err)
    assert line.startswith("train: PTB: ptb.train.txt was not found in any of: ")
    assert str(empty) in line and "network is unreachable" in line
    assert not (tmp_path / "run-rnnlm").exists()


def _fake_book(root):
    """The book's layout: dataset/ with tiny PTB files, ch06/."""
    rng = np.random.default_rng(5)
    words = [f"v{i}" for i in range(20)]

    def text(n):  # PTB's lines: " w w w \n"
        return "".join(" " + " ".join(words[j] for j in rng.integers(0, 20, 6)) + " \n"
                       for _ in range(n))
    (root / "dataset").mkdir(parents=True)
    (root / "dataset" / "ptb.train.txt").write_text(" " + " ".join(words) + " \n" + text(60))
    (root / "dataset" / "ptb.valid.txt").write_text(text(12))
    (root / "dataset" / "ptb.test.txt").write_text(text(12))
    (root / "ch06").mkdir()


def _env():
    env = dict(os.environ)
    env.pop("RNNSCRATCH_DATA", None)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_train_in_the_books_ch06_reads_its_dataset_and_resumes_without_options(tmp_path):
    book = tmp_path / "book"
    _fake_book(book)
    env = _env()
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # no cached PTB to fall back on
    cmd = [sys.executable, "-m", "rnnscratch", "train", "--model", "rnnlm", "--wordvec", "4",
           "--hidden", "4", "--batch-size", "2", "--time-size", "5", "--eval-batch-size", "2",
           "--epochs", "2", "--quiet", "--max-minutes", "0"]
    r = subprocess.run(cmd, cwd=book / "ch06", env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "--max-minutes reached" in r.stdout
    st = train_cli.read_state(str(book / "ch06" / "run-rnnlm" / "state.npz"))
    assert st.settings["data_dir"] == str(book / "dataset")
    # --resume alone, in the folder of the runs: the saved settings come back
    r = subprocess.run([sys.executable, "-m", "rnnscratch", "train", "--resume", "--quiet"],
                       cwd=book / "ch06", env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "resumed run-rnnlm" in r.stdout and "done: 2 epochs" in r.stdout
    assert "D=4 H=4" in r.stdout


def test_resume_in_the_run_folder_and_its_refusals(corpus, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run-rnnlm"
    run(corpus, out, stop_after=lambda s: s.iteration == 2)
    capsys.readouterr()
    # a changed run setting is refused by name
    for flag, value in (("--lr", "10"), ("--hidden", "5"), ("--model", "simple-rnnlm"),
                        ("--seed", "2")):
        rc, err = main_rc(["--resume", "--out-dir", str(out), flag, value], capsys)
        assert rc == 2
        assert f"{flag} " in one_line(err) and "differs from the saved run" in one_line(err)
    # a new run over a saved one is refused
    rc, err = main_rc(targs(corpus, out), capsys)
    assert rc == 2 and "a saved run is there; --resume continues it" in one_line(err)
    # --resume with nothing else, inside the run folder
    monkeypatch.chdir(out)
    assert train_cli.main(["--resume", "--epochs", "1"]) == 0
    assert "resumed ." in capsys.readouterr().out
    # and from the folder above it (one run-*/ folder there); --epochs may grow
    monkeypatch.chdir(tmp_path)
    assert train_cli.main(["--resume"]) == 0
    assert "finished (1 epochs)" in capsys.readouterr().out  # the last session's --epochs
    assert train_cli.main(["--resume", "--epochs", "2"]) == 0
    assert "done: 2 epochs" in capsys.readouterr().out


def test_a_failed_resume_creates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc, err = main_rc(["--resume"], capsys)
    assert rc == 2 and "no saved run here" in one_line(err)
    rc, err = main_rc(["--resume", "--model", "rnnlm"], capsys)
    assert rc == 2 and "no saved run in run-rnnlm" in one_line(err)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------
# train: signals
# --------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [s for s in ("SIGTERM", "SIGHUP", "SIGINT")
                                 if hasattr(signal, s)])
def test_sigterm_and_sighup_save_like_ctrl_c(corpus, full, tmp_path, sig, capsys):
    out = tmp_path / "run"
    sent = []

    def kill(state):
        if state.epoch == 1 and state.iteration == 2 and not sent:
            sent.append(1)
            os.kill(os.getpid(), getattr(signal, sig))
        return False
    r = run(corpus, out, "--plot", str(tmp_path / "c.png"), stop_after=kill)
    assert r["stopped"] == f"interrupted ({sig})"
    text = capsys.readouterr().out
    assert "--resume continues at epoch 2, iteration 3 /" in text  # the iteration in progress ends
    assert (tmp_path / "c.png").stat().st_size > 0  # the plot at the stop too
    assert run(corpus, out, "--resume")["finished"]
    same_result(full, str(out))


class _SecondSignal(Exception):
    pass


@pytest.mark.parametrize("target", ["state.npz", "log.csv", "Rnnlm.pkl", "curve.png"])
def test_a_second_signal_during_each_save_loses_nothing(corpus, full, tmp_path, monkeypatch,
                                                        target, capsys):
    """KeyboardInterrupt (what a second Ctrl-C/SIGTERM raises) in the middle of
    writing each kind of file, at its 1st, 2nd, 3rd... write: the run resumes
    and ends with the uninterrupted run's weights, checkpoint and log."""
    real = files.atomic_write
    out = tmp_path / "run"
    extra = {"curve.png": ["--plot", str(out / "curve.png")],
             "state.npz": ["--save-minutes", "1e-9"]}.get(target, [])
    for nth in (1, 3):
        count = [0]

        def flaky(path, write, mode="wb"):
            if os.path.basename(os.fspath(path)) == target:
                count[0] += 1
                if count[0] == nth:
                    def half(f):
                        write(f)
                        f.truncate(max(0, f.tell() // 2))
                        raise KeyboardInterrupt
                    return real(path, half, mode)
            return real(path, write, mode)

        monkeypatch.setattr(train_cli, "atomic_write", flaky)
        monkeypatch.setattr(models_base, "atomic_write", flaky)
        resume = os.path.exists(out / "state.npz")
        try:
            run(corpus, out, *extra, *(["--resume"] if resume else []))
        except KeyboardInterrupt:
            err = capsys.readouterr().err
            assert "stopped at once: the run " in err
            if os.path.exists(out / "state.npz"):
                st = train_cli.read_state(str(out / "state.npz"))
                assert f"at epoch {st.epoch + 1}, iteration {st.iteration} /" in err
        monkeypatch.setattr(train_cli, "atomic_write", real)
        monkeypatch.setattr(models_base, "atomic_write", real)
        assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
    extra = [a for a in extra if a not in ("--save-minutes", "1e-9")]  # the rest at full speed
    resume = ["--resume"] if os.path.exists(out / "state.npz") else []
    assert run(corpus, out, *extra, *resume)["finished"]
    same_result(full, str(out))


def test_real_signals_at_random_points_then_resume_to_the_same_end(corpus, full, tmp_path):
    """A subprocess run killed by SIGINT/SIGTERM (once or twice in a row) at
    random moments, saving at every iteration, resumed until it finishes."""
    import time

    out = tmp_path / "run"
    env = _env()
    env["PYTHONUNBUFFERED"] = "1"
    base_cmd = [sys.executable, "-m", "rnnscratch", "train", *targs(corpus, out),
                "--save-minutes", "1e-9"]
    rng = np.random.default_rng(11)
    rounds = stops = 0
    while rounds < 12:
        resume = ["--resume"] if os.path.exists(out / "state.npz") else []
        p = subprocess.Popen(base_cmd + resume, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        head = ""
        if rounds < 3:
            # the run has started (its header printed: Python's own startup, before
            # train's handlers exist, is not what this tests), then a random moment
            while "parameters;" not in head:
                line = p.stdout.readline()
                if not line:
                    break
                head += line
            time.sleep(float(rng.uniform(0.0, 0.6)))
            sig = [signal.SIGINT, signal.SIGTERM][rounds % 2]
            p.send_signal(sig)
            if rounds % 3 == 2:  # a second one at once: stop during whatever runs
                time.sleep(float(rng.uniform(0.0, 0.05)))
                if p.poll() is None:
                    p.send_signal(sig)
        o, e = p.communicate(timeout=120)
        o = head + o
        assert "Traceback" not in e, e
        stops += ("interrupted (SIG" in o) + ("stopped at once" in e)
        rounds += 1
        # done, or a signal landed after the last save: the resume says it is finished
        if p.returncode == 0 and ("done:" in o or "is finished" in o + e):
            break
    assert rounds < 12 and stops >= 2  # the signals did stop the run
    same_result(full, str(out))


# --------------------------------------------------------------------------
# models: all or nothing
# --------------------------------------------------------------------------

MODEL_CASES = [
    (rnnscratch.SimpleRnnlm, (23, 5, 6), "rnn_layer"),
    (rnnscratch.Rnnlm, (23, 5, 6), "lstm_layer"),
    (rnnscratch.BetterRnnlm, (23, 6, 6), "lstm_layers"),
    (ref_models.SimpleRnnlm if hasattr(ref_models, "SimpleRnnlm") else rnnscratch.SimpleRnnlm,
     (23, 5, 6), "rnn_layer"),
    (ref_models.Rnnlm, (23, 5, 6), "lstm_layer"),
    (ref_models.BetterRnnlm, (23, 6, 6), "lstm_layers"),
]


def _state_of(m):
    layers = list(m.layers) + [m.loss_layer]
    return ([g.copy() for g in m.grads], [p.copy() for p in m.params],
            [dict(vars(l)) for l in layers], np.random.get_state()[1].copy())


def _same_state(a, b):
    assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a[0], b[0])), "grads"
    assert all(np.array_equal(x, y) for x, y in zip(a[1], b[1])), "params"
    for da, db in zip(a[2], b[2]):
        assert da.keys() == db.keys() and all(da[k] is db[k] for k in da), "layer attributes"
    assert np.array_equal(a[3], b[3]), "np.random"


@pytest.mark.parametrize("cls,size,attr", MODEL_CASES,
                         ids=[f"{c.__module__.split('.')[-1]}.{c.__name__}"
                              for c, _, _ in MODEL_CASES])
@pytest.mark.parametrize("how", ["class", "instance"])
def test_backward_failing_in_a_middle_layer_changes_nothing(cls, size, attr, how, monkeypatch):
    np.random.seed(0)
    m = cls(*size)
    rng = np.random.default_rng(1)
    xs, ts = rng.integers(0, size[0], (3, 4)), rng.integers(0, size[0], (3, 4))
    m.forward(xs, ts)
    m.backward()  # the grads hold one step's values
    m.forward(xs, ts)
    rec = getattr(m, attr)
    rec = rec[0] if isinstance(rec, list) else rec  # the first recurrent layer: all others ran

    def boom(*a, **k):
        raise MemoryError("injected")
    if how == "class":
        monkeypatch.setattr(type(rec), "backward", boom)
    else:
        monkeypatch.setattr(rec, "backward", boom)
    before = _state_of(m)
    with pytest.raises(MemoryError):
        m.backward()
    _same_state(before, _state_of(m))
    monkeypatch.undo()
    m.backward()  # and the model still works


def test_the_guard_is_written_once():
    """issue 20: one 'snapshot __dict__, restore on error' guard in rnnscratch/."""
    hits = []  # the imported package's sources (a checkout's, or an installed wheel's)
    for root, _, names in os.walk(os.path.dirname(os.path.abspath(rnnscratch.__file__))):
        for n in names:
            if n.endswith(".py"):
                text = open(os.path.join(root, n), encoding="utf-8").read()
                hits += [n] * text.count("__dict__.clear()")
    assert hits == ["base.py"]


@pytest.mark.parametrize("cls", [rnnscratch.BetterRnnlmGen, ref_models.BetterRnnlmGen])
def test_a_failed_generate_leaves_dropout_and_state_as_they_were(cls):
    np.random.seed(3)
    m2 = cls(17, 4, 4)
    m2.forward(np.zeros((1, 3), int), np.zeros((1, 3), int))
    flags = [l.train_flg for l in m2.drop_layers]
    state = [(h.copy(), c.copy()) for h, c in m2.get_state()]
    rng_before = np.random.get_state()[1].copy()
    with pytest.raises(ValueError):
        m2.generate(999, sample_size=4)  # id out of range, after dropout was switched off
    assert [l.train_flg for l in m2.drop_layers] == flags == [True, True, True]
    assert all(np.array_equal(h, h2) and np.array_equal(c, c2)
               for (h, c), (h2, c2) in zip(state, m2.get_state()))
    assert np.array_equal(np.random.get_state()[1], rng_before)


# --------------------------------------------------------------------------
# h0=None: the book's step-0 product with a zero state
# --------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("name,G", [("TimeLSTM", 4), ("TimeRNN", 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_h0_none_propagates_inf_and_nan_in_wh_like_the_book(name, G, bad, dtype):
    from rnnscratch import reference

    rng = np.random.default_rng(2)
    N, T, D, H = 3, 4, 5, 6
    Wx = rng.standard_normal((D, G * H)).astype(dtype)
    Wh = rng.standard_normal((H, G * H)).astype(dtype)
    b = rng.standard_normal(G * H).astype(dtype)
    Wh[2, 3] = bad
    Wh[4, G * H - 1] = bad
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    with np.errstate(all="ignore"):
        ours = getattr(rnnscratch, name)(Wx, Wh, b).forward(xs)
        theirs = getattr(reference, name)(Wx, Wh, b).forward(xs)
    assert np.isnan(ours[:, 0]).any()
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    fin = ~np.isnan(theirs)
    np.testing.assert_allclose(ours[fin], theirs[fin], rtol=1e-5, atol=1e-6)
    # finite weights: unchanged, the same bits as with the state made of zeros
    Wh[np.isnan(Wh) | np.isinf(Wh)] = 0.5
    a = getattr(rnnscratch, name)(Wx, Wh, b).forward(xs)
    assert np.isfinite(a).all()


# --------------------------------------------------------------------------
# loaders and the bridge
# --------------------------------------------------------------------------

def test_ptb_names_a_non_utf8_file_and_its_line(tmp_path):
    from rnnscratch.datasets import ptb

    d = tmp_path / "ptb"
    d.mkdir()
    (d / "ptb.train.txt").write_bytes(b" a b c \n d e \n f \xff g \n")
    for n in ("valid", "test"):
        (d / f"ptb.{n}.txt").write_text(" a b \n")
    with pytest.raises(ValueError, match=r"ptb.train.txt: line 3: not UTF-8 text \(byte 0xff"):
        ptb.load_data("train", data_dir=str(d), download=False)
    (d / "ptb.train.txt").write_bytes(b"\xef\xbb\xbfa b c \n d e \n")
    corpus, w2i, _ = ptb.load_data("train", data_dir=str(d), download=False)
    assert list(w2i)[:3] == ["a", "b", "c"]  # the byte-order mark is not part of a word


def test_sequence_names_a_non_utf8_file_reads_a_bom_and_checks_the_seed(tmp_path):
    from rnnscratch.datasets import sequence

    good = "12+3 _15 \n4+56 _60 \n7+8  _15 \n"
    (tmp_path / "plain.txt").write_text(good, encoding="utf-8")
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + good.encode())
    (tmp_path / "bin.txt").write_bytes(b"12+3 _15 \n4+5\x886_60 \n")
    sequence.reset_vocab()
    a = sequence.load_data("plain.txt", data_dir=str(tmp_path))
    sequence.reset_vocab()
    b = sequence.load_data("bom.txt", data_dir=str(tmp_path))
    assert all(np.array_equal(x, y) for x, y in zip(a[0] + a[1], b[0] + b[1]))
    with pytest.raises(ValueError, match=r"bin.txt: line 2: not UTF-8"):
        sequence.load_data("bin.txt", data_dir=str(tmp_path))
    vocab = dict(sequence.get_vocab()[0])
    for seed, exc in (("abc", TypeError), (1.5, TypeError), (True, TypeError),
                      (-1, ValueError), (2**32, ValueError)):
        with pytest.raises(exc, match="seed"):
            sequence.load_data("plain.txt", seed=seed, data_dir=str(tmp_path))
    assert sequence.get_vocab()[0] == vocab
    sequence.reset_vocab()


def test_torch_bridge_messages():
    torch = pytest.importorskip("torch")
    from rnnscratch.torch_bridge import from_torch, to_torch

    for layer in (rnnscratch.TimeLSTM(np.zeros((3, 0), "f"), np.zeros((0, 0), "f"),
                                      np.zeros(0, "f")),
                  rnnscratch.TimeRNN(np.zeros((3, 0), "f"), np.zeros((0, 0), "f"),
                                     np.zeros(0, "f"))):
        with pytest.raises(ValueError, match="hidden size H=0"):
            to_torch(layer)
    with pytest.raises(TypeError, match=r"torch.bfloat16.*module.float\(\)"):
        from_torch(torch.nn.LSTM(3, 2, batch_first=True).to(torch.bfloat16))


def test_max_minutes_writes_the_plot_and_names_the_epoch_to_resume(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    r = run(corpus, out, "--max-minutes", "0", "--plot", str(tmp_path / "c.svg"))
    assert r["stopped"] == "--max-minutes reached"
    assert "--resume continues at epoch 1, iteration 1 /" in capsys.readouterr().out
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")
    with open(out / "log.csv", newline="") as f:
        assert next(csv.reader(f))[0] == "epoch"


def test_the_ptb_download_and_sequence_files_are_written_all_or_nothing(tmp_path,
                                                                         monkeypatch):
    from rnnscratch.datasets import ptb, sequence

    # a download whose MD5 is wrong leaves neither a file nor a temporary
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    class Resp(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(ptb.urllib.request, "urlopen", lambda url, timeout=60: Resp(b"bad"))
    with pytest.raises(OSError, match="expected MD5"):
        ptb._download("ptb.test.txt")
    assert os.listdir(tmp_path / "cache" / "rnnscratch" / "ptb") == []
    # make_addition into a file: through atomic_write (an interruption keeps the old file)
    path = tmp_path / "addition.txt"
    sequence.make_addition(str(path), size=20)
    good = path.read_bytes()

    real = files.atomic_write

    def interrupted(p, write, mode="wb"):
        def half(f):
            f.write("12+")
            raise KeyboardInterrupt
        return real(p, half, mode)

    monkeypatch.setattr(files, "atomic_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sequence.make_addition(str(path), size=30, seed=1)
    monkeypatch.undo()
    assert path.read_bytes() == good and sorted(os.listdir(tmp_path)) == ["addition.txt", "cache"]
