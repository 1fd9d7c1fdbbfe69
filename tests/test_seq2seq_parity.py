"""Chapters 7-8 (issue 15) against the book's own code: the plain layers of
common/layers.py, the models of ch07/ and ch08/ (same seed: the same weights;
then loss, every gradient, generated sequences), the dataset loader
(dataset/sequence.py: same split, same ids), the Trainer (same loss curve from
the same seed) and eval_seq2seq.

The book's code is loaded from $RNNSCRATCH_COURSE_DIR (the directory holding
common/, ch07/, ch08/, dataset/; .ci/run points it at ../shared/course);
without it this module is skipped with that reason, as test_course_parity.py.
The book's data files are used when they lie in ../shared/data/sequence beside
the repository; the loader is compared on generated files in any case.

Implementations: rnnscratch.X and rnnscratch.reference.X. AttentionSeq2seq is
compared with the book's model over the book's TimeAttention (injected into
our composition), and over the package's own TimeAttention when it has one.

Tolerances as test_course_parity.py: float32 runs on both sides, a few
hundred roundoffs relative to the largest magnitude (1e-4); float64 1e-10.
"""
import importlib
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_close_to_scale  # noqa: E402
from needs import course_dir  # noqa: E402

COURSE_DIR = course_dir("ch07", "seq2seq.py")

import rnnscratch  # noqa: E402
from rnnscratch.tools import course  # noqa: E402
from rnnscratch import reference  # noqa: E402
from rnnscratch.models import reference as ref_models  # noqa: E402
from rnnscratch.datasets import sequence  # noqa: E402
from rnnscratch.models import seq2seq as m  # noqa: E402

RTOL32 = 1e-4
RTOL64 = 1e-10
DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "sequence"


@pytest.fixture(scope="module")
def book():
    b = course.load(COURSE_DIR, "common.layers", "ch07.seq2seq", "ch07.peeky_seq2seq",
                    "ch08.attention_seq2seq", "ch08.attention_layer", "common.optimizer",
                    "common.trainer", "common.util", "dataset.sequence", paths=("ch07",))
    return types.SimpleNamespace(layers=b.layers, s2s=b.seq2seq, peeky=b.peeky_seq2seq,
                                 att=b.attention_seq2seq, att_layer=b.attention_layer,
                                 optimizer=b.optimizer, trainer=b.trainer, util=b.util,
                                 seq=b.sequence)


def close(ours, theirs, what, rtol=RTOL32):
    assert_close_to_scale(ours, theirs, what, rtol)


IMPLS = (rnnscratch, reference)
IMPL_IDS = ("rnnscratch", "reference")


# --------------------------------------------------------------------------
# common/layers.py
# --------------------------------------------------------------------------
SHAPES = [(1, 1, 1), (3, 5, 2), (7, 4, 9), (16, 13, 6)]   # (N, D, H)


def _layouts(a):
    return [a, np.asfortranarray(a), np.repeat(a, 2, axis=-1)[..., ::2]] if a.ndim > 1 else [a]


@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=["N%d-D%d-H%d" % s for s in SHAPES])
def test_matmul_affine(book, impl, shape, dt, rng):
    N, Dd, Hh = shape
    rtol = RTOL32 if dt == np.float32 else RTOL64
    W = rng.standard_normal((Dd, Hh)).astype(dt)
    b = rng.standard_normal(Hh).astype(dt)
    x = rng.standard_normal((N, Dd)).astype(dt)
    dout = rng.standard_normal((N, Hh)).astype(dt)
    for name, args in (("MatMul", (W,)), ("Affine", (W, b))):
        theirs = getattr(book.layers, name)(*[a.copy() for a in args])
        yo = theirs.forward(x.copy())
        dxo = theirs.backward(dout.copy())
        for xl in _layouts(x):
            ours = getattr(impl, name)(*[a.copy() for a in args])
            close(ours.forward(xl), yo, name + " out", rtol)
            close(ours.backward(dout), dxo, name + " dx", rtol)
            for g1, g2 in zip(ours.grads, theirs.grads):
                close(g1, g2, name + " grads", rtol)
                assert g1.dtype == dt


@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
def test_softmax_sigmoid_losses(book, impl, dt, rng):
    rtol = RTOL32 if dt == np.float32 else RTOL64
    for N, Vv in ((1, 2), (4, 7), (9, 3)):  # V = 1: the book takes ids (1,) for one-hot
        x = (rng.standard_normal((N, Vv)) * 3).astype(dt)
        d = rng.standard_normal((N, Vv)).astype(dt)
        t = rng.integers(0, Vv, N)
        onehot = np.eye(Vv, dtype=int)[t]
        # Softmax (2-d and 1-d)
        theirs, ours = book.layers.Softmax(), impl.Softmax()
        close(ours.forward(x), theirs.forward(x.copy()), "Softmax out", rtol)
        close(ours.backward(d), theirs.backward(d.copy()), "Softmax dx", rtol)
        # 1-d: the book's forward (its backward sums over an axis 1 a vector lacks)
        y1 = ours.forward(x[0])
        close(y1, theirs.forward(x[0].copy()), "Softmax 1-d out", rtol)
        close(ours.backward(d[0]), y1 * d[0] - y1 * np.sum(y1 * d[0]), "Softmax 1-d dx", rtol)
        # SoftmaxWithLoss, ids and one-hot
        for tt in (t, onehot):
            theirs, ours = book.layers.SoftmaxWithLoss(), impl.SoftmaxWithLoss()
            close(ours.forward(x, tt), theirs.forward(x.copy(), tt.copy()), "loss", rtol)
            close(ours.backward(), theirs.backward(), "SoftmaxWithLoss dx", rtol)
            close(ours.backward(2.5), theirs.backward(2.5), "SoftmaxWithLoss dx*2.5", rtol)
    for N in (1, 6):
        x = (rng.standard_normal(N) * 4).astype(dt)
        t = rng.integers(0, 2, N)
        theirs, ours = book.layers.Sigmoid(), impl.Sigmoid()
        xx = (rng.standard_normal((N, 3)) * 4).astype(dt)
        close(ours.forward(xx), theirs.forward(xx.copy()), "Sigmoid out", rtol)
        close(ours.backward(xx), theirs.backward(xx.copy()), "Sigmoid dx", rtol)
        theirs, ours = book.layers.SigmoidWithLoss(), impl.SigmoidWithLoss()
        close(ours.forward(x, t), theirs.forward(x.copy(), t.copy()), "SigmoidWithLoss", rtol)
        close(ours.backward(), theirs.backward(), "SigmoidWithLoss dx", rtol)


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
def test_dropout_same_mask(book, impl, rng):
    x = rng.standard_normal((5, 7)).astype(np.float32)
    d = rng.standard_normal((5, 7)).astype(np.float32)
    for ratio in (0.5, 0.2, 0.0):
        theirs, ours = book.layers.Dropout(ratio), impl.Dropout(ratio)
        np.random.seed(9)
        yt = theirs.forward(x.copy())
        np.random.seed(9)
        yo = ours.forward(x)
        assert np.array_equal(yo, yt)
        assert np.array_equal(ours.backward(d), theirs.backward(d.copy()))
        close(ours.forward(x, train_flg=False), theirs.forward(x.copy(), train_flg=False), "eval")


@pytest.mark.parametrize("dt", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
def test_embedding(book, impl, dt, rng):
    rtol = RTOL32 if dt == np.float32 else RTOL64
    W = rng.standard_normal((6, 4)).astype(dt)
    for idx in (np.array([0, 3, 3, 5, 0]), np.array(2), rng.integers(0, 6, (3, 4))):
        theirs, ours = book.layers.Embedding(W.copy()), impl.Embedding(W.copy())
        close(ours.forward(idx), theirs.forward(idx), "Embedding out", rtol)
        d = rng.standard_normal(idx.shape + (4,)).astype(dt)
        assert ours.backward(d) is None and theirs.backward(d.copy()) is None
        close(ours.grads[0], theirs.grads[0], "Embedding dW", rtol)


# --------------------------------------------------------------------------
# the models
# --------------------------------------------------------------------------
def _attention_family(mod, layers, attention):
    def kit():
        L = types.SimpleNamespace(**{n: getattr(layers(), n) for n in layers().__all__})
        L.TimeAttention = attention
        return L

    class AE(mod.AttentionEncoder):
        _layers = staticmethod(kit)

    class AD(mod.AttentionDecoder):
        _layers = staticmethod(kit)

    class AS(mod.AttentionSeq2seq):
        _layers = staticmethod(kit)
        _encoder_class, _decoder_class = AE, AD
    return AS


def _pairs(book, name):
    """[(label, our class)] and the book's class."""
    if name == "Seq2seq":
        return [("rnnscratch", rnnscratch.Seq2seq), ("reference", ref_models.Seq2seq)], \
            book.s2s.Seq2seq
    if name == "PeekySeq2seq":
        return [("rnnscratch", rnnscratch.PeekySeq2seq),
                ("reference", ref_models.PeekySeq2seq)], book.peeky.PeekySeq2seq
    ta = book.att_layer.TimeAttention
    out = [("rnnscratch+book attention", _attention_family(m, m.compiled_layers, ta)),
           ("reference+book attention",
            _attention_family(ref_models, m.reference_layers, ta))]
    if hasattr(rnnscratch, "TimeAttention") or hasattr(reference, "TimeAttention"):
        out += [("rnnscratch", rnnscratch.AttentionSeq2seq),
                ("reference", ref_models.AttentionSeq2seq)]
    return out, book.att.AttentionSeq2seq


MODEL_SIZES = [(13, 16, 32, 4, 7, 5), (5, 3, 7, 1, 1, 2), (59, 16, 24, 3, 29, 11)]


@pytest.mark.parametrize("sizes", MODEL_SIZES, ids=["V%d-D%d-H%d-N%d-Tin%d-Tout%d" % s
                                                    for s in MODEL_SIZES])
@pytest.mark.parametrize("name", ["Seq2seq", "PeekySeq2seq", "AttentionSeq2seq"])
def test_model_matches_book(book, name, sizes, rng):
    Vv, Dd, Hh, N, T_in, T_out = sizes
    ours_list, book_cls = _pairs(book, name)
    np.random.seed(21)
    theirs = book_cls(Vv, Dd, Hh)
    batches = [(rng.integers(0, Vv, (N, T_in)), rng.integers(0, Vv, (N, T_out)))
               for _ in range(2)]
    book_run = []
    for xs, ts in batches:
        loss = theirs.forward(xs, ts)
        theirs.backward()
        book_run.append((loss, [np.array(g) for g in theirs.grads]))
    gen = [[int(i) for i in theirs.generate(xs[:1], int(ts[0, 0]), T_out + 2)]
           for xs, ts in batches]
    for label, cls in ours_list:
        np.random.seed(21)
        ours = cls(Vv, Dd, Hh)
        np.random.seed(21)
        fresh = book_cls(Vv, Dd, Hh)
        assert len(ours.params) == len(fresh.params)
        for i, (p, q) in enumerate(zip(ours.params, fresh.params)):
            assert p.dtype == q.dtype and np.array_equal(p, q), (label, i)
        for (xs, ts), (loss, grads), g in zip(batches, book_run, gen):
            close(ours.forward(xs, ts), loss, f"{label} loss")
            ours.backward()
            for i, (g1, g2) in enumerate(zip(ours.grads, grads)):
                close(g1, g2, f"{label} grads[{i}]")
            assert ours.generate(xs[:1], int(ts[0, 0]), T_out + 2) == g, label


@pytest.mark.parametrize("name", ["Seq2seq", "PeekySeq2seq", "AttentionSeq2seq"])
def test_save_load_interchange_with_book(book, name, tmp_path):
    ours_list, book_cls = _pairs(book, name)
    label, cls = ours_list[0]
    np.random.seed(1)
    ours = cls(9, 4, 6)
    np.random.seed(2)
    theirs = book_cls(9, 4, 6)
    p1 = str(tmp_path / "ours.pkl")
    ours.save_params(p1)
    theirs.load_params(p1)
    for a, b in zip(ours.params, theirs.params):
        assert np.array_equal(a.astype(np.float16).astype("f"), b)
    np.random.seed(3)
    theirs = book_cls(9, 4, 6)
    p2 = str(tmp_path / "book.pkl")
    theirs.save_params(p2)
    ours.load_params(p2)
    for a, b in zip(ours.params, theirs.params):
        assert np.array_equal(a, b.astype(np.float16).astype("f"))


# --------------------------------------------------------------------------
# the loader, the trainer, eval_seq2seq
# --------------------------------------------------------------------------
def _book_load(book, path, seed=1984):
    book.seq.char_to_id.clear()
    book.seq.id_to_char.clear()
    saved = book.seq.__file__
    book.seq.__file__ = os.path.join(os.path.dirname(path), "sequence.py")
    try:
        out = book.seq.load_data(os.path.basename(path), seed)
        after = np.random.rand()
    finally:
        book.seq.__file__ = saved
    return out, book.seq.get_vocab(), after


def _files(tmp_path):
    files = [sequence.make_addition(str(tmp_path / "addition.txt"), size=3000, seed=5) and
             str(tmp_path / "addition.txt"),
             sequence.make_dates(str(tmp_path / "date.txt"), size=2000, seed=5) and
             str(tmp_path / "date.txt")]
    for name in ("addition.txt", "date.txt"):
        if (DATA_DIR / name).is_file():
            files.append(str(DATA_DIR / name))
    return files


def test_loader_matches_book(book, tmp_path):
    for path in _files(tmp_path):
        for seed in (1984, 7):
            (b_train, b_test), b_vocab, b_after = _book_load(book, path, seed)
            sequence.reset_vocab()
            (x, t), (xt, tt) = sequence.load_data(os.path.basename(path), seed,
                                                  data_dir=os.path.dirname(path))
            after = np.random.rand()
            for a, b in zip((x, t, xt, tt), b_train + b_test):
                assert a.dtype == b.dtype and np.array_equal(a, b), path
            assert sequence.get_vocab() == b_vocab
            assert after == b_after     # the generator left as the book leaves it


def test_trainer_curve_and_accuracy_match_book(book, tmp_path):
    """The same seed, the same data: the book's Trainer on the book's
    PeekySeq2seq and ours on ours give the same loss curve and the same
    eval_seq2seq accuracy after each epoch."""
    path = _files(tmp_path)[0]
    results = []
    for side in ("book", "ours"):
        if side == "book":
            book.seq.char_to_id.clear()
            book.seq.id_to_char.clear()
            saved = book.seq.__file__
            book.seq.__file__ = os.path.join(os.path.dirname(path), "sequence.py")
            try:
                (x, t), (xt, tt) = book.seq.load_data("addition.txt")  # seeds np.random
            finally:
                book.seq.__file__ = saved
            id_to_char = book.seq.id_to_char
            Vv = len(id_to_char)
            model = book.peeky.PeekySeq2seq(Vv, 16, 64)
            trainer = book.trainer.Trainer(model, book.optimizer.Adam())
            evaluate = book.util.eval_seq2seq
        else:
            sequence.reset_vocab()
            (x, t), (xt, tt) = sequence.load_data("addition.txt", data_dir=os.path.dirname(path))
            id_to_char = sequence.get_vocab()[1]
            Vv = len(id_to_char)
            model = rnnscratch.PeekySeq2seq(Vv, 16, 64)
            trainer = rnnscratch.Trainer(model, rnnscratch.Adam())
            evaluate = rnnscratch.eval_seq2seq
        x, xt = x[:, ::-1], xt[:, ::-1]
        accs = []
        for _ in range(2):
            trainer.fit(x[:1280], t[:1280], max_epoch=1, batch_size=128, max_grad=5.0,
                        eval_interval=2)
            accs.append(sum(evaluate(model, xt[[i]], tt[i], id_to_char, is_reverse=True)
                            for i in range(40)))
        results.append((trainer.loss_list, accs))
    (lb, ab), (lo, ao) = results
    assert len(lb) == len(lo) == 10
    np.testing.assert_allclose(lo, lb, rtol=1e-3)
    assert ao == ab


def test_adam_matches_book(book, rng):
    shapes = [(16, 512), (128, 512), (512,), (13, 16)]
    for dt in (np.float32, np.float64):
        ours = [rng.standard_normal(s).astype(dt) for s in shapes]
        theirs = [p.copy() for p in ours]
        a, b = rnnscratch.Adam(0.005), book.optimizer.Adam(0.005)
        for _ in range(6):
            grads = [rng.standard_normal(s).astype(dt) for s in shapes]
            a.update(ours, [g.copy() for g in grads])
            b.update(theirs, [g.copy() for g in grads])
        for x, y in zip(ours + a.m + a.v, theirs + b.m + b.v):
            assert x.dtype == y.dtype and np.array_equal(x, y)
