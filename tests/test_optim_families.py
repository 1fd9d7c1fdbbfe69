"""The book's optimizers (rnnscratch.SGD ..., update(params, grads)) and the
scratch course's (rnnscratch.diveintocode.SGD / AdaGrad, update(layer)) share
names, not interfaces: each rejects the other's call with a TypeError naming
the right class, and changes nothing when it does."""
import numpy as np
import pytest

import rnnscratch
from rnnscratch import diveintocode as dic

BOOK = [(rnnscratch.SGD, "rnnscratch.diveintocode.SGD"),
        (rnnscratch.Momentum, "rnnscratch.diveintocode.SGD"),
        (rnnscratch.AdaGrad, "rnnscratch.diveintocode.AdaGrad"),
        (rnnscratch.Adam, "rnnscratch.diveintocode.SGD")]
SCRATCH = [(dic.SGD, "rnnscratch.SGD"), (dic.AdaGrad, "rnnscratch.AdaGrad")]


def _scratch_layer(kind):
    """A scratch-course layer after backward: parameters and their gradients set."""
    rng = np.random.default_rng(3)
    if kind == "SimpleRNN":
        layer = dic.SimpleRNN(2, 3, dic.XavierInitializer(random_state=0))
        layer.forward(rng.standard_normal((4, 5, 2)))
        layer.backward(rng.standard_normal((4, 3)))
    else:
        layer = dic.FC(2, 3, dic.XavierInitializer(random_state=0))
        layer.forward(rng.standard_normal((4, 2)))
        layer.backward(rng.standard_normal((4, 3)))
    return layer


def _snapshot(layer):
    return {k: np.array(v, copy=True) for k, v in vars(layer).items()
            if isinstance(v, np.ndarray)}


def _optimizer_state(opt):
    return {k: v for k, v in vars(opt).items()}


@pytest.mark.parametrize("cls, twin", BOOK, ids=[c.__name__ for c, _ in BOOK])
@pytest.mark.parametrize("kind", ["SimpleRNN", "FC"])
def test_book_optimizer_given_a_scratch_layer(cls, twin, kind):
    layer = _scratch_layer(kind)
    before = _snapshot(layer)
    opt = cls()
    state = _optimizer_state(opt)
    with pytest.raises(TypeError) as e:
        opt.update(layer)
    msg = str(e.value)
    assert "book's optimizer" in msg and f"rnnscratch.{cls.__name__}" in msg
    assert twin in msg and f"only one argument ({kind})" in msg
    # the layer given as params, with some second argument
    with pytest.raises(TypeError, match=rf"{kind} layer as params.*{twin}"):
        opt.update(layer, [layer.dB])
    after = _snapshot(layer)
    assert before.keys() == after.keys()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert _optimizer_state(opt) == state  # no state created


@pytest.mark.parametrize("cls, twin", BOOK, ids=[c.__name__ for c, _ in BOOK])
def test_book_optimizer_given_one_list(cls, twin):
    params = [np.ones((2, 3)), np.ones(3)]
    opt = cls()
    with pytest.raises(TypeError, match=rf"only one argument \(list\).*{twin}"):
        opt.update(params)
    assert all((p == 1).all() for p in params)
    assert _optimizer_state(opt) == _optimizer_state(cls())


@pytest.mark.parametrize("cls", [c for c, _ in BOOK], ids=[c.__name__ for c, _ in BOOK])
def test_book_optimizer_still_takes_params_and_grads(cls):
    params = [np.ones((2, 3)), np.ones(3)]
    grads = [np.full((2, 3), 0.5), np.full(3, -0.5)]
    cls().update(params, grads)
    assert (params[0] < 1).all() and (params[1] > 1).all()
    t = (np.ones(2),)  # a tuple of arrays is a list of parameters too
    cls().update(t, (np.ones(2),))
    assert (t[0] < 1).all()


def test_scratch_layer_with_the_book_optimizer_raises_in_backward():
    rng = np.random.default_rng(0)
    rnn = dic.SimpleRNN(2, 3, dic.XavierInitializer(random_state=0), rnnscratch.SGD(0.1))
    W_x = rnn.W_x.copy()
    rnn.forward(rng.standard_normal((4, 5, 2)))
    with pytest.raises(TypeError, match=r"rnnscratch\.diveintocode\.SGD"):
        rnn.backward(rng.standard_normal((4, 3)))
    assert np.array_equal(rnn.W_x, W_x)
    clf = dic.ScratchSimpleRNNClassifier(n_nodes=3, epochs=1, optimizer=rnnscratch.AdaGrad())
    with pytest.raises(TypeError, match=r"rnnscratch\.diveintocode\.AdaGrad"):
        clf.fit(rng.standard_normal((6, 4, 2)), np.arange(6) % 2)


@pytest.mark.parametrize("cls, twin", SCRATCH, ids=[c.__name__ for c, _ in SCRATCH])
def test_scratch_optimizer_given_params_and_grads(cls, twin):
    params = [np.ones((2, 3)), np.ones(3)]
    grads = [np.full((2, 3), 0.5), np.full(3, -0.5)]
    opt = cls()
    with pytest.raises(TypeError) as e:
        opt.update(params, grads)
    msg = str(e.value)
    assert "scratch course's optimizer" in msg and "two arguments (list, list)" in msg
    assert f"use {twin} " in msg and f"rnnscratch.diveintocode.{cls.__name__}" in msg
    with pytest.raises(TypeError, match=rf"a list instead of a layer.*{twin}"):
        opt.update(params)
    with pytest.raises(TypeError, match=rf"a tuple instead of a layer.*{twin}"):
        opt.update(tuple(params))
    assert all((p == 1).all() for p in params)
    # a layer together with a second argument is not the scratch call either
    layer = _scratch_layer("FC")
    before = _snapshot(layer)
    with pytest.raises(TypeError, match=rf"two arguments \(FC, list\).*{twin}"):
        opt.update(layer, grads)
    after = _snapshot(layer)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    if cls is dic.AdaGrad:
        assert len(opt._H) == 0  # no running sums created


@pytest.mark.parametrize("cls", [c for c, _ in SCRATCH], ids=[c.__name__ for c, _ in SCRATCH])
def test_scratch_optimizer_still_takes_a_layer(cls):
    layer = _scratch_layer("FC")
    W, dW = layer.W.copy(), layer.dW.copy()
    assert cls(lr=0.1).update(layer) is layer
    assert not np.array_equal(layer.W, W)
    if cls is dic.SGD:
        assert np.array_equal(layer.W, W - 0.1 * dW)
