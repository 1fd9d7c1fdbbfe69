"""RnnlmTrainer, eval_perplexity, remove_duplicate: the course's loops, vectorized."""
import numpy as np

from rnnscratch import models as C
from rnnscratch.training.optim import SGD
from rnnscratch.training.trainer import RnnlmTrainer, eval_perplexity, remove_duplicate


def course_get_batch(x, t, batch_size, time_size, time_idx):
    """The course's get_batch, element by element."""
    batch_x = np.empty((batch_size, time_size), dtype="i")
    batch_t = np.empty((batch_size, time_size), dtype="i")
    data_size = len(x)
    jump = data_size // batch_size
    offsets = [i * jump for i in range(batch_size)]
    for time in range(time_size):
        for i, offset in enumerate(offsets):
            batch_x[i, time] = x[(offset + time_idx) % data_size]
            batch_t[i, time] = t[(offset + time_idx) % data_size]
        time_idx += 1
    return batch_x, batch_t, time_idx


def test_get_batch_matches_the_course_loop():
    corpus = np.random.default_rng(0).integers(0, 50, 233)
    xs, ts = corpus[:-1], corpus[1:]
    trainer = RnnlmTrainer(None, None)
    trainer.time_idx = 0
    ref_idx = 0
    for _ in range(12):  # wraps around the corpus
        bx, bt = trainer.get_batch(xs, ts, 7, 5)
        ex, et, ref_idx = course_get_batch(xs, ts, 7, 5, ref_idx)
        np.testing.assert_array_equal(bx, ex)
        np.testing.assert_array_equal(bt, et)
        assert bx.dtype == np.int32 and trainer.time_idx == ref_idx


def small_corpus():
    words = ("the cat sat on the mat . the dog ran to the cat . a bird sang in the tree . "
             * 12).split()
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
    return np.array([vocab[w] for w in words]), len(vocab)


def test_fit_perplexity_falls(capsys):
    corpus, V = small_corpus()
    np.random.seed(0)
    model = C.SimpleRnnlm(V, 16, 16)
    trainer = RnnlmTrainer(model, SGD(0.5))
    trainer.fit(corpus[:-1], corpus[1:], max_epoch=25, batch_size=4, time_size=5,
                max_grad=5.0, eval_interval=5)
    out = capsys.readouterr().out
    assert "| epoch 1 |  iter 1 / 12 | time 0[s] | perplexity" in out
    ppl = trainer.ppl_list
    assert len(ppl) == 25 * 3 and all(isinstance(p, float) for p in ppl)
    assert ppl[-1] < ppl[0] / 2
    assert trainer.current_epoch == 25
    # evaluation reads the corpus the same way and does not change the model
    before = [p.copy() for p in model.params]
    model.reset_state()
    ppl_eval = eval_perplexity(model, corpus, batch_size=4, time_size=5)
    assert 1 <= ppl_eval < ppl[0] / 2
    assert all(np.array_equal(p, q) for p, q in zip(before, model.params))
    assert "evaluating perplexity" in capsys.readouterr().out


def test_eval_perplexity_matches_the_course_loop():
    corpus, V = small_corpus()
    np.random.seed(1)
    model = C.SimpleRnnlm(V, 8, 8)
    batch_size, time_size = 3, 4
    max_iters = (len(corpus) - 1) // (batch_size * time_size)
    jump = (len(corpus) - 1) // batch_size
    total = 0.0
    for it in range(max_iters):
        xs = np.zeros((batch_size, time_size), dtype=np.int32)
        ts = np.zeros((batch_size, time_size), dtype=np.int32)
        offsets = [it * time_size + i * jump for i in range(batch_size)]
        for t in range(time_size):
            for i, off in enumerate(offsets):
                xs[i, t] = corpus[(off + t) % len(corpus)]
                ts[i, t] = corpus[(off + t + 1) % len(corpus)]
        total += model.forward(xs, ts)
    expect = np.exp(total / max_iters)
    model.reset_state()
    got = eval_perplexity(model, corpus, batch_size, time_size)
    assert abs(got - expect) <= 1e-9 * expect


def test_remove_duplicate_weight_tying():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 3))
    b = rng.standard_normal(5)
    params = [W, b, W.T, W]
    grads = [np.ones((5, 3)), np.ones(5), np.full((3, 5), 2.0), np.full((5, 3), 3.0)]
    g0 = grads[0]
    p, g = remove_duplicate(params, grads)
    assert len(p) == 2 and p[0] is W and p[1] is b
    assert g[0] is g0
    np.testing.assert_array_equal(g[0], np.full((5, 3), 6.0))
    assert len(params) == 4  # the caller's lists are untouched
    # equal shapes and values but separate arrays are not merged
    p, g = remove_duplicate([W, W.T.copy()], [np.ones((5, 3)), np.ones((3, 5))])
    assert len(p) == 2
