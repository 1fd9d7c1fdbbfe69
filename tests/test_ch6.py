"""Chapter 6 without the book: the compiled models against their reference
twins, the fused and tied head against the layers run one by one,
save/load errors, eval_perplexity against the training path, generation,
and `python -m rnnscratch train` interrupted and resumed."""
import csv
import os
import pickle

import numpy as np
import pytest

import rnnscratch
from rnnscratch import reference
from rnnscratch.models import reference as ref_models
from rnnscratch.tools import train as train_cli
from rnnscratch.training.trainer import eval_perplexity, params_and_grads, remove_duplicate

MODELS = {"Rnnlm": (29, 6, 5), "BetterRnnlm": (29, 6, 6, 0.5)}


def build(mod, name, seed=0):
    np.random.seed(seed)
    return getattr(mod, name)(*MODELS[name])


def data(V, N=3, T=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))


def snapshot(model):
    return ([p.copy() for p in model.params], [g.copy() for g in model.grads],
            [(None if l.h is None else l.h.copy(), None if l.c is None else l.c.copy())
             for l in model._lstms], np.random.get_state()[1].copy())


def assert_same_snapshot(a, b):
    for x, y in zip(a[0] + a[1], b[0] + b[1]):
        assert np.array_equal(x, y)
    for (h1, c1), (h2, c2) in zip(a[2], b[2]):
        assert (h1 is None) == (h2 is None) and (h1 is None or np.array_equal(h1, h2))
        assert (c1 is None) == (c2 is None) and (c1 is None or np.array_equal(c1, c2))
    assert np.array_equal(a[3], b[3])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_compiled_equals_reference(name):
    ours, ref = build(rnnscratch, name), build(ref_models, name)
    V = MODELS[name][0]
    for k in range(3):
        xs, ts = data(V, seed=k)
        np.random.seed(k)
        lo = ours.forward(xs, ts)
        ours.backward()
        np.random.seed(k)
        lr = ref.forward(xs, ts)
        ref.backward()
        assert lo == pytest.approx(lr, rel=1e-5)
        for i, (g, h) in enumerate(zip(ours.unique_params_grads()[1], ref.unique_params_grads()[1])):
            np.testing.assert_allclose(g, h, rtol=1e-4, atol=1e-6, err_msg=f"grads[{i}]")


def test_fused_head_is_used_and_equals_layers_one_by_one():
    """The compiled BetterRnnlm with its head fused, against the same model
    whose loss layer is swapped for the reference one (runs the layers one by
    one and merges the tied gradient afterwards)."""
    a, b = build(rnnscratch, "BetterRnnlm"), build(rnnscratch, "BetterRnnlm")
    b.loss_layer = reference.TimeSoftmaxWithLoss()
    assert a._fused() and not b._fused()
    xs, ts = data(29)
    for m in (a, b):
        np.random.seed(1)
        m.forward(xs, ts)
        m.backward()
    assert a._dscore is not None and b._dscore is None
    for g, h in zip(a.grads, b.grads):
        np.testing.assert_allclose(g, h, rtol=1e-5, atol=1e-7)
    assert not np.any(b.grads[7]) and not np.any(a.grads[7])


def test_unique_params_grads_is_remove_duplicate():
    m = build(rnnscratch, "BetterRnnlm")
    xs, ts = data(29)
    m.forward(xs, ts)
    m.backward()
    p1, g1 = m.unique_params_grads()
    p2, g2 = remove_duplicate(m.params, [g.copy() for g in m.grads])
    assert len(p1) == len(p2) == 8 and all(x is y for x, y in zip(p1, p2))
    for x, y in zip(g1, g2):
        assert np.array_equal(x, y)
    assert params_and_grads(m)[0] == p1
    # a model without unique_params_grads goes through remove_duplicate
    plain = build(rnnscratch, "Rnnlm")
    plain.__dict__["unique_params_grads"] = None
    assert len(params_and_grads(plain)[0]) == 6


def test_dout_scales_the_gradients():
    a, b = build(rnnscratch, "BetterRnnlm"), build(rnnscratch, "BetterRnnlm")
    xs, ts = data(29)
    for m, dout in ((a, 1), (b, 2.5)):
        np.random.seed(3)
        m.forward(xs, ts)
        m.backward(dout)
    for g, h in zip(a.unique_params_grads()[1], b.unique_params_grads()[1]):
        np.testing.assert_allclose(h, 2.5 * g, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("mod", [rnnscratch, ref_models], ids=["compiled", "reference"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_eval_perplexity_equals_the_training_paths_loss(mod, name):
    """eval_perplexity's forward-only path gives exp of the mean of what
    forward(xs, ts, train_flg=False) gives on the same batches."""
    V = MODELS[name][0]
    corpus = np.random.default_rng(2).integers(0, V, 200)
    m1, m2 = build(mod, name), build(mod, name)
    ppl = eval_perplexity(m1, corpus, batch_size=4, time_size=6, progress=False)
    jump = (len(corpus) - 1) // 4
    losses = []
    for it in range((len(corpus) - 1) // 24):
        pos = np.arange(4)[:, None] * jump + it * 6 + np.arange(6)[None, :]
        losses.append(m2.forward(corpus[pos % len(corpus)], corpus[(pos + 1) % len(corpus)],
                                 train_flg=False))
    assert ppl == pytest.approx(float(np.exp(np.mean(losses))), rel=1e-6)
    # the compiled models keep nothing for backward after an evaluation
    assert m1._fused() == (mod is rnnscratch)
    if m1._fused():
        with pytest.raises(RuntimeError, match="before forward"):
            m1.backward()


def test_eval_perplexity_too_short_corpus():
    with pytest.raises(ValueError, match="corpus"):
        eval_perplexity(build(rnnscratch, "Rnnlm"), np.arange(10), batch_size=4, time_size=6)


def test_eval_loss_does_not_touch_parameters_or_generator():
    m = build(rnnscratch, "BetterRnnlm")
    before = [p.copy() for p in m.params]
    state = np.random.get_state()[1].copy()
    xs, ts = data(29)
    m.eval_loss(xs, ts)
    assert all(np.array_equal(p, q) for p, q in zip(before, m.params))
    assert np.array_equal(state, np.random.get_state()[1])  # no dropout mask drawn


@pytest.mark.parametrize("mod", [rnnscratch, ref_models], ids=["compiled", "reference"])
def test_failed_forward_changes_nothing(mod):
    m = build(mod, "BetterRnnlm")
    xs, ts = data(29)
    np.random.seed(0)
    m.forward(xs, ts)
    m.backward()
    before = snapshot(m)
    bad = ts.copy()
    bad[1, 2] = 29  # out of range
    with pytest.raises(ValueError):
        m.forward(xs, bad)
    assert_same_snapshot(before, snapshot(m))
    with pytest.raises((ValueError, IndexError)):
        m.forward(np.full((3, 5), 40), ts)
    assert_same_snapshot(before, snapshot(m))


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        build(rnnscratch, "BetterRnnlm").backward()


def test_better_rnnlm_needs_d_equal_h():
    with pytest.raises(ValueError, match="wordvec_size"):
        rnnscratch.BetterRnnlm(10, 4, 6)


def test_reset_state_and_lstm_state():
    m = build(rnnscratch, "BetterRnnlm")
    xs, ts = data(29)
    m.forward(xs, ts)
    assert all(h is not None for h, c in m.get_lstm_state())
    m.reset_state()
    assert all(h is None and c is None for h, c in m.get_lstm_state())


def test_predict_shapes_and_dropout_flag():
    m = build(rnnscratch, "BetterRnnlm")
    xs, _ = data(29)
    s1 = m.predict(xs)
    assert s1.shape == (3, 5, 29)
    m.reset_state()
    assert np.array_equal(m.predict(xs), s1)  # train_flg False: no dropout, deterministic
    m.reset_state()
    assert not np.array_equal(m.predict(xs, train_flg=True), s1)


# --------------------------------------------------------------------------
# save_params / load_params
# --------------------------------------------------------------------------

def test_save_load_round_trip_default_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a, b = build(rnnscratch, "BetterRnnlm", 1), build(rnnscratch, "BetterRnnlm", 2)
    a.save_params()
    with open("BetterRnnlm.pkl", "rb") as f:
        saved = pickle.load(f)
    assert isinstance(saved, list) and len(saved) == 9
    assert all(s.dtype == np.float16 for s in saved)
    b.load_params()
    for p, q in zip(a.params, b.params):
        assert np.array_equal(p.astype(np.float16).astype("f"), q)
    assert np.shares_memory(b.params[7], b.params[0])


def test_load_params_errors_change_nothing(tmp_path):
    m = build(rnnscratch, "Rnnlm")
    before = [p.copy() for p in m.params]
    with pytest.raises(IOError, match="No file"):
        m.load_params(str(tmp_path / "missing.pkl"))
    short = tmp_path / "short.pkl"
    with open(short, "wb") as f:
        pickle.dump([p.astype(np.float16) for p in m.params[:-1]], f)
    with pytest.raises(ValueError, match="expected a list of 6 arrays"):
        m.load_params(str(short))
    wrong = tmp_path / "wrong.pkl"
    arrays = [p.astype(np.float16) for p in m.params]
    arrays[-1] = np.zeros(3, np.float16)  # the last one wrong: nothing written before the check
    with open(wrong, "wb") as f:
        pickle.dump(arrays, f)
    with pytest.raises(ValueError, match=r"array 5: expected shape \(29,\)"):
        m.load_params(str(wrong))
    notlist = tmp_path / "dict.pkl"
    with open(notlist, "wb") as f:
        pickle.dump({"a": 1}, f)
    with pytest.raises(TypeError, match="expected a list"):
        m.load_params(str(notlist))
    strs = tmp_path / "strs.pkl"
    with open(strs, "wb") as f:
        pickle.dump([np.array(["x"])] * 6, f)
    with pytest.raises(TypeError, match="array 0"):
        m.load_params(str(strs))
    assert all(np.array_equal(p, q) for p, q in zip(before, m.params))


def test_simple_rnnlm_gains_save_load(tmp_path):
    a = rnnscratch.SimpleRnnlm(11, 3, 4)
    a.save_params(str(tmp_path / "s.pkl"))
    b = rnnscratch.SimpleRnnlm(11, 3, 4)
    b.load_params(str(tmp_path / "s.pkl"))
    assert np.array_equal(a.params[0].astype(np.float16).astype("f"), b.params[0])


# --------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [rnnscratch.RnnlmGen, rnnscratch.BetterRnnlmGen,
                                 ref_models.RnnlmGen, ref_models.BetterRnnlmGen])
def test_generate(cls):
    np.random.seed(0)
    m = cls(13, 4, 4)
    np.random.seed(1)
    ids = m.generate(3, skip_ids=[0, 5], sample_size=25)
    assert len(ids) == 25 and ids[0] == 3 and not set(ids[1:]) & {0, 5}
    assert all(type(i) is int and 0 <= i < 13 for i in ids)
    state = m.get_state()
    np.random.seed(2)
    a = m.generate(1, sample_size=5)
    m.set_state(state)
    np.random.seed(2)
    assert m.generate(1, sample_size=5) == a


# --------------------------------------------------------------------------
# python -m rnnscratch train
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def text_corpus(tmp_path_factory):
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(40)]
    lines = [" ".join(vocab[j] for j in rng.integers(0, 40, rng.integers(3, 12)))
             for _ in range(700)]
    path = tmp_path_factory.mktemp("corpus") / "text.txt"
    path.write_text("\n".join(lines))
    return str(path)


def train_args(corpus, out, *extra):
    return train_cli.parse_args(
        ["--corpus", corpus, "--out-dir", str(out), "--batch-size", "4", "--time-size", "6",
         "--eval-batch-size", "3", "--eval-interval", "5", "--lr", "5", "--quiet", *extra])


def log_rows(out):
    with open(os.path.join(out, "log.csv"), newline="") as f:
        return [(r["epoch"], r["iteration"], r["split"], r["perplexity"], r["lr"])
                for r in csv.DictReader(f)]


@pytest.mark.parametrize("model,size", [("better-rnnlm", "8"), ("rnnlm", "7"),
                                        ("simple-rnnlm", "7")])
def test_train_interrupted_and_resumed_equals_uninterrupted(text_corpus, tmp_path, model, size,
                                                            capsys):
    flags = ["--model", model, "--epochs", "3", "--wordvec", size, "--hidden", size,
             "--lr-decay", "4"]
    full = tmp_path / "full"
    r_full = train_cli.run(train_args(text_corpus, full, *flags))
    assert r_full["finished"] and r_full["epochs"] == 3 and r_full["test_ppl"] > 1

    part = tmp_path / "part"
    # stopped mid-epoch 2 (the state then holds a data position and LSTM states)...
    r1 = train_cli.run(train_args(text_corpus, part, *flags),
                       stop_after=lambda s: s.epoch == 1 and s.iteration == 7)
    assert not r1["finished"] and r1["stopped"] == "stopped"
    # ... and again at an epoch boundary, then resumed to the end
    r2 = train_cli.run(train_args(text_corpus, part, "--resume", *flags),
                       stop_after=lambda s: s.epoch == 1 and s.iteration == 9999)
    assert r2["finished"]
    assert r2["test_ppl"] == r_full["test_ppl"] and r2["best_ppl"] == r_full["best_ppl"]
    a = train_cli.read_state(full / "state.npz")
    b = train_cli.read_state(part / "state.npz")
    for p, q in zip(a.params, b.params):
        assert np.array_equal(p, q)
    assert a.lr == b.lr and a.epoch == b.epoch == 3
    assert log_rows(full) == log_rows(part)
    name = train_cli.MODELS[model][0]
    with open(full / f"{name}.pkl", "rb") as f1, open(part / f"{name}.pkl", "rb") as f2:
        assert all(np.array_equal(x, y) for x, y in zip(pickle.load(f1), pickle.load(f2)))
    # a finished run resumed does nothing more
    r3 = train_cli.run(train_args(text_corpus, part, "--resume", *flags))
    assert r3["finished"] and "finished" in capsys.readouterr().out


def test_train_lr_schedule_and_log(text_corpus, tmp_path, monkeypatch):
    """lr divided by 4 after an epoch whose validation perplexity is not the
    best so far, kept otherwise; the best checkpoint saved only then. The
    validation perplexities are fixed here (10, 12, 11, 9) so that both
    branches run."""
    from rnnscratch.training import trainer as trainer_mod

    real = trainer_mod.eval_perplexity
    fixed = iter([10.0, 12.0, 11.0, 9.0])
    calls = []

    def fake(model, corpus, *a, **k):
        calls.append(len(corpus))
        if len(calls) <= 4:
            return next(fixed)
        return real(model, corpus, *a, **k)  # the test set

    monkeypatch.setattr(trainer_mod, "eval_perplexity", fake)
    out = tmp_path / "run"
    saves = []
    monkeypatch.setattr(rnnscratch.Rnnlm, "save_params",
                        lambda self, f=None: saves.append(f) or None)
    r = train_cli.run(train_args(text_corpus, out, "--model", "rnnlm", "--epochs", "4",
                                 "--wordvec", "5", "--hidden", "5", "--lr", "8",
                                 "--plot", str(tmp_path / "curve.png")))
    rows = log_rows(out)
    valid = [r_ for r_ in rows if r_[2] == "valid"]
    assert [float(v[3]) for v in valid] == [10, 12, 11, 9]
    # a valid row shows the lr its epoch was trained with
    assert [float(v[4]) for v in valid] == [8, 8, 2, 0.5]
    assert len(saves) == 2  # epochs 1 and 4
    assert r["best_ppl"] == 9.0 and r["test_ppl"] > 1
    assert [r_[2] for r_ in rows].count("test") == 1
    assert os.path.getsize(tmp_path / "curve.png") > 0


def test_train_max_minutes_stops_and_resumes(text_corpus, tmp_path):
    out = tmp_path / "run"
    flags = ["--model", "rnnlm", "--epochs", "1", "--wordvec", "4", "--hidden", "4"]
    r = train_cli.run(train_args(text_corpus, out, "--max-minutes", "0", *flags))
    assert r["stopped"] == "--max-minutes reached" and r["epochs"] == 0
    st = train_cli.read_state(out / "state.npz")
    assert st.iteration == 1 and st.time_idx == 6
    assert train_cli.run(train_args(text_corpus, out, "--resume", *flags))["finished"]


def test_train_resume_errors(text_corpus, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SystemExit, match="no saved run"):
        train_cli.run(train_args(text_corpus, out, "--resume", "--model", "rnnlm"))
    train_cli.run(train_args(text_corpus, out, "--model", "rnnlm", "--epochs", "1",
                             "--wordvec", "4", "--hidden", "4", "--max-minutes", "0"))
    with pytest.raises(SystemExit, match="--hidden 5 differs from the saved run.s 4"):
        train_cli.run(train_args(text_corpus, out, "--resume", "--model", "rnnlm", "--epochs", "1",
                                 "--wordvec", "4", "--hidden", "5"))


@pytest.mark.parametrize("flags,msg", [
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--batch-size", "0"], "argument --batch-size: must be at least 1"),
    (["--lr", "0"], "argument --lr: must be a finite number > 0"),
    (["--lr-decay", "0.5"], "argument --lr-decay: must be a finite number >= 1"),
])
def test_train_bad_flags_refused_by_the_parser(text_corpus, tmp_path, flags, msg, capsys):
    with pytest.raises(SystemExit) as e:
        train_args(text_corpus, tmp_path / "r", "--model", "rnnlm", *flags)
    assert e.value.code == 2 and msg in capsys.readouterr().err


@pytest.mark.parametrize("flags,msg", [
    (["--train-words", "20"], "too few for one batch"),
    (["--val-words", "10"], "validation words are too few"),
])
def test_train_bad_flags(text_corpus, tmp_path, flags, msg):
    with pytest.raises(SystemExit, match=msg):
        train_cli.run(train_args(text_corpus, tmp_path / "r", "--model", "rnnlm",
                                 "--wordvec", "4", "--hidden", "4", *flags))
    assert not (tmp_path / "r").exists()  # nothing created by a run that did not start


def test_train_command_line(text_corpus, tmp_path, capsys):
    from rnnscratch.__main__ import main

    rc = main(["train", "--model", "rnnlm", "--corpus", text_corpus, "--out-dir",
               str(tmp_path / "cli"), "--epochs", "1", "--wordvec", "4", "--hidden", "4",
               "--batch-size", "4", "--time-size", "6", "--eval-batch-size", "3", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0 and "valid perplexity" in out and "test perplexity" in out


def test_demo_rnnlm_short_run(capsys):
    from rnnscratch.tools import demo

    assert demo.main(["--model", "rnnlm", "--epochs", "3", "--compare-epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "Rnnlm" in out and "agree within" in out
    ppl = [float(ln.split("perplexity")[1].split("|")[0]) for ln in out.splitlines()
           if ln.startswith("| epoch")]
    assert len(ppl) == 3 and ppl[-1] < ppl[0]


# --------------------------------------------------------------------------
# _core.tied_affine_softmax_cross_entropy: the tied head without a copy
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 1, 1, 2), (4, 9, 33, 301), (3, 5, 64, 4100)])
def test_tied_head_equals_untied_bit_for_bit(dtype, shape):
    from rnnscratch import _core

    N, T, D, V = shape
    rng = np.random.default_rng(V)
    E = rng.standard_normal((V, D)).astype(dtype)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    b = rng.standard_normal(V).astype(dtype)
    ts = rng.integers(0, V, (N, T))
    ts[0, 0] = -1
    for bias in (b, None):
        l1, g1 = _core.affine_softmax_cross_entropy(x, np.ascontiguousarray(E.T), ts, bias)
        l2, g2 = _core.tied_affine_softmax_cross_entropy(x, E, ts, bias)
        assert (l1 == l2 or (np.isnan(l1) and np.isnan(l2))) and np.array_equal(g1, g2)
        assert g2.dtype == dtype
        # out= reused
        l3, g3 = _core.tied_affine_softmax_cross_entropy(x, E, ts, bias, -1, out=g2)
        assert g3 is g2 and l3 == l2 or np.isnan(l2)


def test_tied_head_errors_name_the_argument():
    from rnnscratch import _core

    E = np.zeros((7, 4), np.float32)
    x = np.zeros((2, 3, 4), np.float32)
    ts = np.zeros((2, 3), np.int64)
    with pytest.raises(ValueError, match="x: expected shape"):
        _core.tied_affine_softmax_cross_entropy(np.zeros((2, 3, 5), np.float32), E, ts)
    with pytest.raises(ValueError, match="E: expected a 2-d array"):
        _core.tied_affine_softmax_cross_entropy(x, E[0], ts)
    with pytest.raises(ValueError, match=r"b: expected shape"):
        _core.tied_affine_softmax_cross_entropy(x, E, ts, np.zeros(4, np.float32))
    bad = ts.copy()
    bad[1, 2] = 7
    with pytest.raises(ValueError, match=r"ts: label 7 at \[1, 2\].*V=7 from E"):
        _core.tied_affine_softmax_cross_entropy(x, E, bad)
    out = np.zeros((2, 3, 7), np.float64)
    with pytest.raises(TypeError, match="out: expected dtype float32"):
        _core.tied_affine_softmax_cross_entropy(x, E, ts, out=out)
    with pytest.raises(ValueError, match="out"):
        _core.tied_affine_softmax_cross_entropy(x, E, ts, out=np.zeros((2, 3, 6), np.float32))
    with pytest.raises(TypeError, match="ignore_label"):
        _core.tied_affine_softmax_cross_entropy(x, E, ts, ignore_label="a")


def test_better_rnnlm_uses_the_tied_kernel(monkeypatch):
    """The tied model's head reads E directly; the untied call is not made
    (it would copy E.T into a C-ordered (D,V) matrix)."""
    from rnnscratch import _core

    calls = []
    real = _core.affine_softmax_cross_entropy
    monkeypatch.setattr(_core, "affine_softmax_cross_entropy",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    m = build(rnnscratch, "BetterRnnlm")
    xs, ts = data(29)
    m.forward(xs, ts)
    assert calls == []
    # a W that is no longer a view of E (replaced by a user) goes the untied way
    m.layers[-1].params[0] = np.ascontiguousarray(m.params[7])
    m.forward(xs, ts)
    assert calls == [1]


# --------------------------------------------------------------------------
# _core.tied_affine_backward: the tied head's backward in E's own layout
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 1, 1, 2), (4, 9, 33, 301), (3, 5, 64, 4100),
                                   (20, 35, 13, 1000)])
def test_tied_backward_equals_untied_bit_for_bit(dtype, shape):
    """dx, dE = dW.T and db of time_affine_backward with W = E.T, bit for bit
    (the same FMA chain over the rows for every element), and close to the
    float64 formulas; Fortran-order and strided inputs give the same."""
    from rnnscratch import _core

    N, T, D, V = shape
    rng = np.random.default_rng(D + V)
    E = rng.standard_normal((V, D)).astype(dtype)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    dout = rng.standard_normal((N, T, V)).astype(dtype)
    dW, db1 = np.zeros((D, V), dtype), np.zeros(V, dtype)
    dx1 = _core.time_affine_backward(dout, x, np.ascontiguousarray(E.T), dW, db1)
    dE, db2 = np.full((V, D), np.nan, dtype), np.full(V, np.nan, dtype)
    dx2 = _core.tied_affine_backward(dout, x, E, dE, db2)
    assert np.array_equal(dx1, dx2) and np.array_equal(dW.T, dE) and np.array_equal(db1, db2)
    x64, d64 = x.astype(np.float64).reshape(-1, D), dout.astype(np.float64).reshape(-1, V)
    E64 = E.astype(np.float64)
    eps = 1e-6 if dtype == np.float32 else 1e-14

    def close(got, want, bound):  # within eps times the sum of |terms| of each element
        assert np.all(np.abs(got - want) <= eps * bound + eps), np.abs(got - want).max()

    close(dE, d64.T @ x64, np.abs(d64).T @ np.abs(x64))
    close(dx2.reshape(-1, D), d64 @ E64, np.abs(d64) @ np.abs(E64))
    close(db2, d64.sum(axis=0), np.abs(d64).sum(axis=0))
    # accumulate adds; db None leaves no bias gradient; odd layouts read the same
    dE2, db3 = dE.copy(), db2.copy()
    _core.tied_affine_backward(dout, x, E, dE2, db3, accumulate=True)
    close(dE2, dE + d64.T @ x64, np.abs(dE) + np.abs(d64).T @ np.abs(x64))
    close(db3, db2 + d64.sum(axis=0), np.abs(db2) + np.abs(d64).sum(axis=0))
    dE3 = np.zeros((V, D), dtype)
    dx3 = _core.tied_affine_backward(np.asfortranarray(dout), x[:, ::-1][:, ::-1],
                                     np.asfortranarray(E), dE3)
    assert np.array_equal(dx3, dx2) and np.array_equal(dE3, dE)


def test_tied_backward_errors_name_the_argument():
    from rnnscratch import _core

    E = np.zeros((7, 4), np.float32)
    x = np.zeros((2, 3, 4), np.float32)
    dout = np.zeros((2, 3, 7), np.float32)
    dE = np.zeros((7, 4), np.float32)
    with pytest.raises(ValueError, match="x: expected shape"):
        _core.tied_affine_backward(dout, np.zeros((2, 3, 5), np.float32), E, dE)
    with pytest.raises(ValueError, match="dout: expected shape"):
        _core.tied_affine_backward(np.zeros((2, 3, 6), np.float32), x, E, dE)
    with pytest.raises(ValueError, match="dE: expected shape"):
        _core.tied_affine_backward(dout, x, E, np.zeros((4, 7), np.float32))
    with pytest.raises(ValueError, match="db: expected shape"):
        _core.tied_affine_backward(dout, x, E, dE, np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="dE"):
        _core.tied_affine_backward(dout, x, E, np.zeros((7, 4), np.int64))
    before = dE.copy()
    with pytest.raises(ValueError):
        _core.tied_affine_backward(dout, x, E, dE, np.zeros(3, np.float32))
    assert np.array_equal(dE, before)  # nothing written on a failed call
