"""Chapter 6 against the book's own models (ch06/rnnlm.py, ch06/better_rnnlm.py,
ch07/rnnlm_gen.py, common/trainer.py, common/util.py), loaded from
$RNNSCRATCH_COURSE_DIR (skipped without it, like test_course_parity).

Same initial weights (the same np.random.seed before both constructors: the
weights are drawn in the same order), same batches, the same seed before
each forward (the dropout masks): the losses and every gradient after the
book's remove_duplicate agree; the book's trainer and ours give the same
weights; save_params files load both ways; eval_perplexity and generate agree.

float32 tolerance: the gradients are sums over N*T <= 40 positions of
products through at most 8 steps of 2 LSTM layers; both sides round to
float32 but add in other orders (the tied gradient: one product d.T @ x plus
a scatter-add, against the book's per-step sums and a transposed add), a
few hundred unit roundoffs of the largest magnitude: 1e-4 of it, while a
wrong formula (a missing tied half, a mask drawn in another order) is off
by more than 1e-2.
"""
import importlib
import os
import sys
import types

import numpy as np
import pytest

from needs import course_dir  # noqa: E402

COURSE_DIR = course_dir("ch06", "better_rnnlm.py")

import rnnscratch  # noqa: E402
from rnnscratch.tools import course  # noqa: E402
from rnnscratch.models import reference  # noqa: E402  (the reference models)
from rnnscratch.training.trainer import RnnlmTrainer, eval_perplexity, params_and_grads  # noqa: E402

RTOL = 1e-4


@pytest.fixture(scope="module")
def book():
    b = course.load(COURSE_DIR, "ch06.rnnlm", "ch06.better_rnnlm", "ch07.rnnlm_gen",
                    "common.trainer", "common.optimizer", "common.util")
    assert os.path.abspath(b.better_rnnlm.__file__).startswith(os.path.abspath(COURSE_DIR))
    return types.SimpleNamespace(rnnlm=b.rnnlm, better=b.better_rnnlm, gen=b.rnnlm_gen,
                                 trainer=b.trainer, optimizer=b.optimizer, util=b.util)


MODELS = {
    "Rnnlm": ((37, 6, 5), lambda b: b.rnnlm.Rnnlm),
    "BetterRnnlm": ((37, 8, 8, 0.5), lambda b: b.better.BetterRnnlm),
}
IMPLS = [pytest.param(rnnscratch, id="compiled"), pytest.param(reference, id="reference")]


def close(ours, theirs, what, rtol=RTOL):
    o = np.asarray(ours, dtype=np.float64)
    t = np.asarray(theirs, dtype=np.float64)
    assert o.shape == t.shape, f"{what}: shape {o.shape}, the book's {t.shape}"
    scale = max(1.0, float(np.max(np.abs(t)))) if t.size else 1.0
    err = float(np.max(np.abs(o - t))) if t.size else 0.0
    assert err <= rtol * scale, f"{what}: max |diff| {err:.3g} > {rtol:g} * {scale:.3g}"


def pair(book, name, mod, seed=3):
    args, book_cls = MODELS[name]
    np.random.seed(seed)
    theirs = book_cls(book)(*args)
    np.random.seed(seed)
    ours = getattr(mod, name)(*args)
    return theirs, ours, args[0]


def batches(V, N=4, T=6, count=3, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, V, (N, T)).astype(np.int32),
             rng.integers(0, V, (N, T)).astype(np.int32)) for _ in range(count)]


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("mod", IMPLS)
def test_same_initial_weights_params_order_and_layers(book, name, mod):
    theirs, ours, _ = pair(book, name, mod)
    assert len(ours.params) == len(theirs.params) == len(ours.grads)
    for i, (p, q) in enumerate(zip(theirs.params, ours.params)):
        assert p.shape == q.shape and p.dtype == q.dtype, i
        assert np.array_equal(p, q), f"params[{i}]"
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    if name == "BetterRnnlm":
        # the tied matrix: the affine W is a view of the embedding's
        assert ours.params[7].base is ours.params[0] or np.shares_memory(ours.params[7],
                                                                          ours.params[0])
        assert ours.params[7].shape == ours.params[0].T.shape
        assert len(ours.lstm_layers) == 2 and len(ours.drop_layers) == 3
    else:
        assert ours.lstm_layer is ours.layers[1]


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("mod", IMPLS)
def test_loss_and_every_gradient(book, name, mod):
    """Stateful runs of three batches: the losses, and the gradients after the
    book's remove_duplicate (ours: unique_params_grads, and the book's
    remove_duplicate applied to our lists gives the same)."""
    theirs, ours, V = pair(book, name, mod)
    for k, (xs, ts) in enumerate(batches(V)):
        np.random.seed(100 + k)
        lt = theirs.forward(xs, ts)
        theirs.backward()
        np.random.seed(100 + k)
        lo = ours.forward(xs, ts)
        ours.backward()
        close(lo, lt, f"loss {k}")
        _, gt = book.trainer.remove_duplicate(theirs.params, [g.copy() for g in theirs.grads])
        _, go = ours.unique_params_grads()
        _, gb = book.trainer.remove_duplicate(ours.params, [g.copy() for g in ours.grads])
        assert len(go) == len(gt) == len(gb)
        for i, (a, b, c) in enumerate(zip(go, gt, gb)):
            close(a, b, f"batch {k} merged grads[{i}]")
            close(c, b, f"batch {k} book-merged grads[{i}] of ours")
        for layer_o, layer_t in zip(ours.lstm_layers if name == "BetterRnnlm" else [ours.lstm_layer],
                                    theirs.lstm_layers if name == "BetterRnnlm" else [theirs.lstm_layer]):
            close(layer_o.h, layer_t.h, f"batch {k} h")
            close(layer_o.c, layer_t.c, f"batch {k} c")


@pytest.mark.parametrize("mod", IMPLS)
def test_tied_gradient_is_merged_in_place(book, mod):
    """grads[0] holds the sum of both uses, grads[7] stays zero; backward
    writes into the same arrays every step (no new (V,D) array)."""
    theirs, ours, V = pair(book, "BetterRnnlm", mod)
    ids = [id(g) for g in ours.grads]
    for k, (xs, ts) in enumerate(batches(V, count=2)):
        np.random.seed(7 + k)
        ours.forward(xs, ts)
        ours.backward()
        np.random.seed(7 + k)
        theirs.forward(xs, ts)
        theirs.backward()
        assert [id(g) for g in ours.grads] == ids
        assert not np.any(ours.grads[7])
        close(ours.grads[0], theirs.grads[0] + theirs.grads[7].T, "tied sum")
        assert np.shares_memory(ours.grads[0], ours.layers[0].grads[0])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_book_trainer_and_ours_give_the_same_weights(book, name):
    """The book's RnnlmTrainer (remove_duplicate, clip, SGD) on the book's
    model and ours on ours: the same weights after 2 epochs."""
    theirs, ours, V = pair(book, name, rnnscratch)
    rng = np.random.default_rng(5)
    corpus = rng.integers(0, V, 300)
    xs, ts = corpus[:-1], corpus[1:]
    np.random.seed(11)
    book.trainer.RnnlmTrainer(theirs, book.optimizer.SGD(1.0)).fit(
        xs, ts, max_epoch=2, batch_size=3, time_size=7, max_grad=0.25, eval_interval=None)
    np.random.seed(11)
    RnnlmTrainer(ours, rnnscratch.SGD(1.0)).fit(
        xs, ts, max_epoch=2, batch_size=3, time_size=7, max_grad=0.25, eval_interval=None)
    for i, (p, q) in enumerate(zip(ours.params, theirs.params)):
        close(p, q, f"params[{i}]", rtol=1e-3)


def test_book_trainer_on_our_model(book):
    """Our BetterRnnlm under the book's own trainer: the same weights as the
    book's model under it (its remove_duplicate adds our zero grads[7])."""
    theirs, ours, V = pair(book, "BetterRnnlm", rnnscratch)
    corpus = np.random.default_rng(6).integers(0, V, 200)
    for model in (theirs, ours):
        np.random.seed(12)
        book.trainer.RnnlmTrainer(model, book.optimizer.SGD(1.0)).fit(
            corpus[:-1], corpus[1:], max_epoch=1, batch_size=3, time_size=7, max_grad=0.25,
            eval_interval=None)
    for i, (p, q) in enumerate(zip(ours.params, theirs.params)):
        close(p, q, f"params[{i}]", rtol=1e-3)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("mod", IMPLS)
def test_save_params_files_both_ways(book, name, mod, tmp_path, monkeypatch):
    args, book_cls = MODELS[name]
    monkeypatch.chdir(tmp_path)
    np.random.seed(1)
    theirs = book_cls(book)(*args)
    np.random.seed(2)
    ours = getattr(mod, name)(*args)
    theirs.save_params()  # <Name>.pkl, the default of both
    assert os.path.exists(f"{name}.pkl")
    ours.load_params()
    for p, q in zip(ours.params, theirs.params):
        assert np.array_equal(p, q.astype(np.float16).astype("f"))
    # ours -> the book's
    np.random.seed(4)
    ours2 = getattr(mod, name)(*args)
    ours2.save_params("sub/../ours.pkl" if False else "ours.pkl")
    np.random.seed(5)
    theirs2 = book_cls(book)(*args)
    theirs2.load_params("ours.pkl")
    for p, q in zip(ours2.params, theirs2.params):
        assert np.array_equal(q, p.astype(np.float16).astype("f"))
    theirs2.save_params("theirs2.pkl")  # the same float16 values: the same bytes
    assert open("theirs2.pkl", "rb").read() == open("ours.pkl", "rb").read()
    if name == "BetterRnnlm":  # the tie survives a load on both sides
        assert np.shares_memory(ours.params[7], ours.params[0])
        assert np.array_equal(ours.params[7], ours.params[0].T)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("mod", IMPLS)
def test_eval_perplexity_matches_the_books(book, name, mod, capsys):
    theirs, ours, V = pair(book, name, mod)
    corpus = np.random.default_rng(9).integers(0, V, 400)
    pt = book.util.eval_perplexity(theirs, corpus, batch_size=5, time_size=6)
    po = eval_perplexity(ours, corpus, batch_size=5, time_size=6)
    close(po, pt, "perplexity")
    assert isinstance(po, float)


@pytest.mark.parametrize("name", ["RnnlmGen", "BetterRnnlmGen"])
@pytest.mark.parametrize("mod", IMPLS)
def test_generate_like_the_book(book, name, mod):
    base = "Rnnlm" if name == "RnnlmGen" else "BetterRnnlm"
    args, _ = MODELS[base]
    np.random.seed(3)
    theirs = getattr(book.gen, name)(*args)
    np.random.seed(3)
    ours = getattr(mod, name)(*args)
    # the book's generate() stops at int() of a 1-element array under NumPy 2
    # (ch07/rnnlm_gen.py); its loop, over the book model's predict, here:
    np.random.seed(21)
    wt, x = [2], 2
    while len(wt) < 30:
        score = theirs.predict(np.array(x).reshape(1, 1)).flatten()
        e = np.exp(score - score.max())
        sampled = np.random.choice(len(e), size=1, p=e / e.sum())
        if int(sampled[0]) not in (0, 1):
            x = sampled
            wt.append(int(sampled[0]))
    np.random.seed(21)
    wo = ours.generate(2, skip_ids=[0, 1], sample_size=30)
    assert wo == wt
    assert len(wo) == 30 and wo[0] == 2 and not set(wo[1:]) & {0, 1}
    assert all(type(w) is int for w in wo)
    st = ours.get_state()
    ours.set_state(st)
    assert ours.get_state() is not None


def test_ch6_bench_and_fidelity_small(book):
    """bench --only ch6's code on small models: every contender runs, the
    speedups are the medians of the per-round ratios, the fidelity run agrees."""
    from rnnscratch.tools import bench

    lines = []
    res = bench.run_ch6_bench(quick=True, course_dir=COURSE_DIR, fidelity=6, out=lines.append,
                              dims={"Rnnlm": (300, 8, 8), "BetterRnnlm": (300, 8, 8)})
    for name in ("Rnnlm", "BetterRnnlm"):
        row = res["models"][name]
        assert row["rnnscratch_ms"] > 0 and row["book_ms"] > 0
        t = row["spread"]["times_s"]
        per_round = [b / o for b, o in zip(t["book"], t["rnnscratch"])]
        assert row["speedup_vs_book"] == pytest.approx(sorted(per_round)[len(per_round) // 2])
    fid = res["fidelity"]
    assert fid["iterations"] == 6 and len(fid["losses"]) == 6
    assert fid["worst_rel_diff"] < 1e-4
    assert any("fidelity" in ln for ln in lines) and res["info"]["time_lstm"]


@pytest.mark.parametrize("name,G", [("TimeLSTM", 4), ("TimeRNN", 1)])
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_h0_none_with_inf_or_nan_in_wh_like_the_book(book, name, G, bad):
    """Step 0 from h = None: the book computes h·Wh with a zero state, so an
    inf or NaN in Wh gives NaN in its column (issue 24)."""
    time_layers = course.load(COURSE_DIR, "common.time_layers").time_layers
    rng = np.random.default_rng(4)
    N, T, D, H = 2, 3, 4, 5
    Wx = rng.standard_normal((D, G * H)).astype("f")
    Wh = rng.standard_normal((H, G * H)).astype("f")
    b = rng.standard_normal(G * H).astype("f")
    Wh[1, 2] = bad
    xs = rng.standard_normal((N, T, D)).astype("f")
    with np.errstate(all="ignore"):
        theirs = getattr(time_layers, name)(Wx, Wh, b).forward(xs)
        ours = getattr(rnnscratch, name)(Wx, Wh, b).forward(xs)
    assert np.isnan(theirs[:, 0]).any()
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
