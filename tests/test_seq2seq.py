"""Chapters 7-8 (issue 15), the parts that need neither the book's code nor its
data files: the encoder-decoder models (compiled vs their NumPy twins, float64
central-difference gradient checks, generate, save/load, failed calls), the
character datasets' generators and loader, Trainer and eval_seq2seq.

Parity with the book's own classes and loader is in test_seq2seq_parity.py.

The twins are rnnscratch.models.reference's: the same compositions over the
NumPy reference layers.
"""
import os
import pickle
import types

import numpy as np
import pytest

from central_difference import numerical_gradient

import rnnscratch
from rnnscratch import reference
from rnnscratch.models import reference as ref_models
from rnnscratch.datasets import sequence
from rnnscratch.models import seq2seq as m

V, D, H = 11, 3, 4
MODELS = ("Seq2seq", "PeekySeq2seq", "AttentionSeq2seq")


def model_classes(name):
    """(compiled, twin) classes."""
    return getattr(rnnscratch, name), getattr(ref_models, name)


def batch(rng, N=3, T_in=5, T_out=4):
    return rng.integers(0, V, (N, T_in)), rng.integers(0, V, (N, T_out))


# --------------------------------------------------------------------------
# structure: the book's params order, shapes, initial scales
# --------------------------------------------------------------------------
EXPECTED_SHAPES = {
    "Seq2seq": [(V, D), (D, 4 * H), (H, 4 * H), (4 * H,),
                (V, D), (D, 4 * H), (H, 4 * H), (4 * H,), (H, V), (V,)],
    "PeekySeq2seq": [(V, D), (D, 4 * H), (H, 4 * H), (4 * H,),
                     (V, D), (H + D, 4 * H), (H, 4 * H), (4 * H,), (2 * H, V), (V,)],
    "AttentionSeq2seq": [(V, D), (D, 4 * H), (H, 4 * H), (4 * H,),
                         (V, D), (D, 4 * H), (H, 4 * H), (4 * H,), (2 * H, V), (V,)],
}


@pytest.mark.parametrize("name", MODELS)
def test_params_order_shapes_and_initial_draws(name):
    for cls in model_classes(name):
        np.random.seed(5)
        model = cls(V, D, H)
        assert [p.shape for p in model.params] == EXPECTED_SHAPES[name]
        assert all(p.dtype == np.float32 for p in model.params)
        assert [g.shape for g in model.grads] == EXPECTED_SHAPES[name]
        # the draws, in the book's order, with the book's scales
        np.random.seed(5)
        rn = np.random.randn
        fan = {2: lambda s: s[0]}
        for i, p in enumerate(model.params):
            if p.ndim == 1:
                assert not p.any()
                continue
            scale = 100.0 if i in (0, 4) else np.sqrt(p.shape[0])
            expect = ((rn(*p.shape) / 100) if i in (0, 4) else (rn(*p.shape) / scale)).astype("f")
            assert np.array_equal(p, expect), (name, i)
        del fan


@pytest.mark.parametrize("name", MODELS)
def test_compiled_matches_twin(name, rng):
    ours_cls, twin_cls = model_classes(name)
    np.random.seed(3)
    ours = ours_cls(V, D, H)
    np.random.seed(3)
    twin = twin_cls(V, D, H)
    for _ in range(2):
        xs, ts = batch(rng)
        lo, lt = ours.forward(xs, ts), twin.forward(xs, ts)
        assert abs(lo - lt) <= 1e-5 * max(1, abs(lt))
        ours.backward()
        twin.backward()
        for i, (g1, g2) in enumerate(zip(ours.grads, twin.grads)):
            np.testing.assert_allclose(g1, g2, rtol=0, atol=1e-5 * max(1, np.abs(g2).max()),
                                       err_msg=f"{name} grads[{i}]")
        assert ours.generate(xs[:1], ts[0, 0], 6) == twin.generate(xs[:1], ts[0, 0], 6)


# --------------------------------------------------------------------------
# float64 central differences
# --------------------------------------------------------------------------
def _gradcheck(model, xs, ts, rng, per_param=12, eps=1e-6):
    model.forward(xs, ts)
    model.backward()
    analytic = [np.array(g, copy=True) for g in model.grads]
    for i, (p, g) in enumerate(zip(model.params, analytic)):
        flat = p.reshape(-1)
        picks = rng.choice(flat.size, size=min(per_param, flat.size), replace=False)
        num = numerical_gradient(lambda: model.forward(xs, ts), p, eps, picks).reshape(-1)
        for k in picks:
            assert abs(num[k] - g.reshape(-1)[k]) <= 1e-6 + 1e-5 * abs(num[k]), (
                i, k, num[k], g.reshape(-1)[k])


@pytest.mark.parametrize("which", [0, 1], ids=["compiled", "reference"])
@pytest.mark.parametrize("name", MODELS)
def test_gradcheck_float64(name, which, rng):
    cls = model_classes(name)[which]
    np.random.seed(7)
    model = cls(V, D, H, dtype=np.float64)
    assert all(p.dtype == np.float64 for p in model.params + model.grads)
    # larger weights than the book's 1/100 embedding so every path matters
    for p in model.params:
        p += rng.standard_normal(p.shape) * 0.3
    xs, ts = batch(rng, N=2, T_in=4, T_out=4)
    _gradcheck(model, xs, ts, rng)


# --------------------------------------------------------------------------
# generate, backward(dout), save/load, failed calls
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_generate_is_greedy_decoding(name, rng):
    """generate() equals decoding step by step with the teacher-forced forward:
    each id is the argmax of the scores given the ids before it."""
    cls = model_classes(name)[0]
    np.random.seed(11)
    model = cls(V, D, H)
    for p in model.params:
        p += (rng.standard_normal(p.shape) * 0.5).astype(p.dtype)
    xs, _ = batch(rng, N=1)
    start = 3
    got = model.generate(xs, start, 5)
    assert isinstance(got, list) and len(got) == 5 and all(type(i) is int for i in got)
    seq = [start]
    for _ in range(5):
        ts = np.array([seq + [0]])
        model.forward(xs, ts)
        enc = model.encoder
        h = enc.hs if name == "AttentionSeq2seq" else enc.hs[:, -1]
        score = model.decoder.forward(ts[:, :-1], h)
        seq.append(int(np.argmax(score[0, -1])))
    assert got == seq[1:]
    assert model.generate(xs, start, 0) == []


@pytest.mark.parametrize("name", MODELS)
def test_backward_dout_scales(name, rng):
    cls = model_classes(name)[0]
    np.random.seed(2)
    model = cls(V, D, H)
    xs, ts = batch(rng)
    model.forward(xs, ts)
    model.backward()
    g1 = [np.array(g) for g in model.grads]
    model.forward(xs, ts)
    model.backward(2.0)
    for a, b in zip(g1, model.grads):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", MODELS)
def test_save_load_book_format(name, tmp_path, rng):
    cls = model_classes(name)[0]
    np.random.seed(1)
    a = cls(V, D, H)
    path = str(tmp_path / "m.pkl")
    a.save_params(path)
    with open(path, "rb") as f:
        raw = pickle.load(f)
    assert isinstance(raw, list) and all(r.dtype == np.float16 for r in raw)
    assert [r.shape for r in raw] == [p.shape for p in a.params]
    np.random.seed(2)
    b = cls(V, D, H)
    before = [np.array(p) for p in b.params]
    ids_before = [id(p) for p in b.params]
    b.load_params(path)
    assert [id(p) for p in b.params] == ids_before  # written in place: layers see them
    for p, r in zip(b.params, raw):
        assert np.array_equal(p, r.astype("f"))
    xs, ts = batch(rng)
    assert b.forward(xs, ts) != 0
    # default file name: the class name, in the working directory
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        a.save_params()
        assert os.path.isfile(type(a).__name__ + ".pkl")
        b.load_params()
    finally:
        os.chdir(cwd)
    # mismatches write nothing
    with open(path, "wb") as f:
        pickle.dump(raw[:-1], f)
    snap = [np.array(p) for p in b.params]
    with pytest.raises(ValueError, match="list of %d arrays" % len(raw)):
        b.load_params(path)
    bad = list(raw)
    bad[-1] = np.zeros(bad[-1].shape[0] + 1, np.float16)
    with open(path, "wb") as f:
        pickle.dump(bad, f)
    with pytest.raises(ValueError, match=r"params\[%d\]" % (len(raw) - 1)):
        b.load_params(path)
    assert all(np.array_equal(p, s) for p, s in zip(b.params, snap))
    with pytest.raises(IOError, match="No file"):
        b.load_params(str(tmp_path / "absent.pkl"))
    del before


def _state(model):
    out = {}
    for o in m._objects(model):
        for k, v in vars(o).items():
            out[(id(o), k)] = np.array(v, copy=True) if isinstance(v, np.ndarray) else v
    return out


def _same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, np.ndarray):
            assert isinstance(y, np.ndarray) and np.array_equal(x, y), k
        else:
            assert x is y or x == y, k


@pytest.mark.parametrize("name", MODELS)
def test_bad_calls_raise_and_change_nothing(name, rng):
    cls = model_classes(name)[0]
    np.random.seed(4)
    model = cls(V, D, H)
    xs, ts = batch(rng)
    model.forward(xs, ts)
    model.backward()
    N = xs.shape[0]
    bad_forward = [
        (dict(xs=xs.astype(float)), TypeError, "xs"),
        (dict(ts=ts.astype(float)), TypeError, "ts"),
        (dict(xs=xs[0]), ValueError, "xs"),
        (dict(ts=ts[:, :1]), ValueError, "ts"),
        (dict(ts=ts[:-1]), ValueError, "ts"),
        (dict(ts=np.c_[ts[:, :-1], np.full(N, V)]), ValueError, "ts"),  # found by the loss, last
        (dict(xs=np.full_like(xs, V)), ValueError, "xs"),
        (dict(xs=np.full_like(xs, -1)), ValueError, "xs"),
    ]
    for change, exc, word in bad_forward:
        args = dict(xs=xs, ts=ts)
        args.update(change)
        before = _state(model)
        grads = [np.array(g) for g in model.grads]
        with pytest.raises(exc, match=word):
            model.forward(args["xs"], args["ts"])
        _same_state(before, _state(model))
        assert all(np.array_equal(g, h) for g, h in zip(grads, model.grads))
    before = _state(model)
    for bad in ("x", [1, 2], None):
        with pytest.raises((TypeError, ValueError)):
            model.backward(bad)
    _same_state(before, _state(model))
    for bad_x, exc in ((xs, ValueError), (xs[:1].astype(float), TypeError)):
        with pytest.raises(exc, match="xs"):
            model.generate(bad_x, 0, 3)
        _same_state(before, _state(model))
    with pytest.raises(ValueError):
        model.generate(xs[:1], V, 3)     # start id out of range
    _same_state(before, _state(model))
    # still usable
    assert np.isfinite(model.forward(xs, ts))
    assert N == 3


@pytest.mark.parametrize("part", ["Encoder", "Decoder", "PeekyDecoder"])
def test_parts_alone(part, rng):
    """The parts have the book's signatures: Encoder.forward(xs) -> h (N,H),
    backward(dh) -> None; decoders forward(xs, h) -> scores, backward -> dh."""
    for mod in (rnnscratch, ref_models):
        np.random.seed(0)
        layer = getattr(mod, part)(V, D, H)
        xs = rng.integers(0, V, (2, 3))
        if part == "Encoder":
            h = layer.forward(xs)
            assert h.shape == (2, H)
            assert layer.backward(np.ones((2, H))) is None
            with pytest.raises(ValueError, match="dh"):
                layer.backward(np.ones((2, H + 1)))
        else:
            score = layer.forward(xs, rng.standard_normal((2, H)))
            assert score.shape == (2, 3, V)
            dh = layer.backward(np.ones_like(score))
            assert dh.shape == (2, H)
            with pytest.raises(ValueError, match="h"):
                layer.generate(rng.standard_normal((2, H)), 0, 2)


def test_attention_models_are_built_over_each_sides_time_attention():
    for mod, layers in ((rnnscratch, rnnscratch.layers), (ref_models, reference)):
        model = mod.AttentionSeq2seq(V, D, H)
        assert type(model.decoder.attention) is layers.TimeAttention


def test_constructor_arguments():
    for bad in (0, -1, 2.5, True, "3", None):
        with pytest.raises(ValueError, match="hidden_size"):
            rnnscratch.Seq2seq(V, D, bad)
        with pytest.raises(ValueError, match="vocab_size"):
            ref_models.Seq2seq(bad, D, H)
    with pytest.raises(ValueError, match="dtype"):
        rnnscratch.Seq2seq(V, D, H, dtype=np.float16)


def test_layer_namespaces():
    ours = m.compiled_layers()
    ref = m.reference_layers()
    assert ours.TimeEmbedding is rnnscratch.TimeEmbedding
    assert ours.TimeAffine is rnnscratch.TimeAffine
    assert ref.TimeLSTM is reference.TimeLSTM
    # the compiled LSTM as soon as the package exports one, its twin meanwhile
    assert ours.TimeLSTM is rnnscratch.TimeLSTM
    np.random.seed(0)
    model = rnnscratch.Seq2seq(V, D, H)
    assert type(model.encoder.lstm) is ours.TimeLSTM
    assert type(ref_models.Seq2seq(V, D, H).decoder.lstm) is reference.TimeLSTM


# --------------------------------------------------------------------------
# datasets
# --------------------------------------------------------------------------
def test_generators_format(tmp_path):
    text = sequence.make_addition(str(tmp_path / "addition.txt"), size=500, seed=3)
    assert open(tmp_path / "addition.txt").read() == text
    lines = text.splitlines()
    assert len(lines) == 500
    pairs = set()
    for line in lines:
        assert len(line) == 12 and line[7] == "_"
        a, b = (int(v) for v in line[:7].split("+"))
        assert 0 <= a <= 999 and 0 <= b <= 999
        assert int(line[8:]) == a + b
        pairs.add((min(a, b), max(a, b)))
    assert len(pairs) == 500
    text = sequence.make_dates(size=300, seed=1)
    import datetime
    for line in text.splitlines():
        assert len(line) == 40 and line[29] == "_"
        d = datetime.date.fromisoformat(line[30:])
        q = line[:29].strip()
        assert str(d.year) in q or q.endswith("/%02d" % (d.year % 100))
    assert sequence.make_dates(size=5, seed=1) == sequence.make_dates(size=5, seed=1)
    for bad in (0, -3, 1.5):
        with pytest.raises(ValueError, match="size"):
            sequence.make_addition(size=bad)


def test_load_data_split_vocab_and_search(tmp_path, monkeypatch):
    sequence.make_addition(str(tmp_path / "addition.txt"), size=200, seed=0)
    sequence.reset_vocab()
    (x_tr, t_tr), (x_te, t_te) = sequence.load_data("addition.txt", data_dir=tmp_path)
    assert x_tr.shape == (180, 7) and t_tr.shape == (180, 5)
    assert x_te.shape == (20, 7) and t_te.shape == (20, 5)
    char_to_id, id_to_char = sequence.get_vocab()
    assert set(char_to_id) == set("0123456789+ _")
    assert all(id_to_char[i] == c for c, i in char_to_id.items())
    # every answer starts with the start symbol
    assert np.all(t_tr[:, 0] == char_to_id["_"])
    lines = open(tmp_path / "addition.txt").read().splitlines()
    rows = {"".join(id_to_char[int(i)] for i in np.r_[x, t]) for x, t in zip(x_tr, t_tr)}
    assert rows <= set(lines)
    # the global generator is left seeded as the book leaves it
    a = np.random.rand()
    np.random.seed(1984)
    np.random.shuffle(np.arange(200))
    assert np.random.rand() == a
    # the environment variable, then the dataset/ folder beside the caller
    monkeypatch.setenv(sequence.ENV_VAR, str(tmp_path))
    (x2, _), _ = sequence.load_data("addition.txt")
    assert np.array_equal(x2, x_tr)
    monkeypatch.delenv(sequence.ENV_VAR)
    with pytest.raises(FileNotFoundError, match="make_addition"):
        sequence.load_data("addition.txt", data_dir=tmp_path / "nowhere")
    (tmp_path / "dataset").mkdir()
    os.replace(tmp_path / "addition.txt", tmp_path / "dataset" / "addition.txt")
    monkeypatch.chdir(tmp_path)
    assert sequence.find_file("addition.txt").endswith(os.path.join("dataset", "addition.txt"))
    (tmp_path / "dataset" / "bad.txt").write_text("1+1  _2\n1+10  _11\n")
    with pytest.raises(ValueError, match="padded"):
        sequence.load_data("bad.txt")
    (tmp_path / "dataset" / "bad2.txt").write_text("1+1 2\n")
    with pytest.raises(ValueError, match="'_'"):
        sequence.load_data("bad2.txt")
    with pytest.raises(TypeError, match="file_name"):
        sequence.load_data(3)


# --------------------------------------------------------------------------
# Trainer, eval_seq2seq
# --------------------------------------------------------------------------
def test_trainer_learns_and_records(capsys):
    text = sequence.make_addition(size=400, seed=2)
    sequence.reset_vocab()
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "a.txt"), "w") as f:
            f.write(text)
        (x, t), (xt, tt) = sequence.load_data("a.txt", data_dir=d)
    char_to_id, id_to_char = sequence.get_vocab()
    np.random.seed(0)
    model = rnnscratch.PeekySeq2seq(len(char_to_id), 8, 32)
    trainer = rnnscratch.Trainer(model, rnnscratch.Adam())
    trainer.fit(x[:, ::-1], t, max_epoch=3, batch_size=32, max_grad=5.0, eval_interval=5)
    out = capsys.readouterr().out
    assert out.count("| epoch") == len(trainer.loss_list) == 3 * 3
    assert trainer.loss_list[-1] < trainer.loss_list[0]
    assert trainer.current_epoch == 3
    # eval_seq2seq: 1 exactly when the generated answer is the target
    q, c = xt[:1, ::-1], tt[0]
    guess = model.generate(q, c[0], len(c) - 1)
    got = rnnscratch.eval_seq2seq(model, q, c, id_to_char, verbose=True, is_reverse=True)
    assert got == int(guess == [int(i) for i in c[1:]])
    shown = capsys.readouterr().out
    assert shown.startswith("Q " + "".join(id_to_char[int(i)] for i in xt[0]))
    fake = types.SimpleNamespace(generate=lambda xs, s, n: [int(i) for i in c[1:]])
    assert rnnscratch.eval_seq2seq(fake, q, c, id_to_char) == 1
    fake = types.SimpleNamespace(generate=lambda xs, s, n: [int(c[1])] * n
                                 if c[1] != c[2] else [int(c[1]) + 1] * n)
    assert rnnscratch.eval_seq2seq(fake, q, c, id_to_char) == 0
    with pytest.raises(ValueError, match="t"):
        trainer.fit(x, t[:-1])
    with pytest.raises(ValueError, match="batch_size"):
        trainer.fit(x, t, batch_size=0)
    with pytest.raises(ValueError, match="correct"):
        rnnscratch.eval_seq2seq(model, q, np.array([], int), id_to_char)


# --------------------------------------------------------------------------
# Adam: the in-place path gives the book's expressions bit for bit
# --------------------------------------------------------------------------
def _book_adam_step(state, params, grads, lr=0.001, beta1=0.9, beta2=0.999):
    """The book's Adam.update, written out (its expressions, its dtypes)."""
    if not state:
        state.update(m=[np.zeros_like(p) for p in params], v=[np.zeros_like(p) for p in params],
                     iter=0)
    state["iter"] += 1
    it = state["iter"]
    lr_t = lr * np.sqrt(1.0 - beta2 ** it) / (1.0 - beta1 ** it)
    for i in range(len(params)):
        state["m"][i] += (1 - beta1) * (grads[i] - state["m"][i])
        state["v"][i] += (1 - beta2) * (grads[i] ** 2 - state["v"][i])
        params[i] -= lr_t * state["m"][i] / (np.sqrt(state["v"][i]) + 1e-7)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_adam_in_place_path_is_bit_exact(dt, rng):
    shapes = [(16, 512), (3, 5), (7,), (0,), (1,)]
    ours = [rng.standard_normal(s).astype(dt) for s in shapes]
    book = [p.copy() for p in ours]
    opt, state = rnnscratch.Adam(0.01), {}
    for k in range(12):
        grads = [(rng.standard_normal(s) * (10.0 if k % 4 == 0 else 1e-3)).astype(dt)
                 for s in shapes]
        opt.update(ours, [g.copy() for g in grads])
        _book_adam_step(state, book, grads, lr=0.01)
    for a, b in zip(ours + opt.m + opt.v, book + state["m"] + state["v"]):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    # other arrays (a float64 gradient of float32 parameters, a view) take the plain path
    p = rng.standard_normal((4, 3)).astype(np.float32)
    q = p.copy()
    opt, state = rnnscratch.Adam(), {}
    g = rng.standard_normal((4, 3))
    opt.update([p], [g])
    _book_adam_step(state, [q], [g])
    assert p.dtype == np.float32 and np.array_equal(p, q)
