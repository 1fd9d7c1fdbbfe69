"""rnnscratch.diveintocode: the scratch course's SimpleRNN, its pieces and the classifier."""
import numpy as np
import pytest

from central_difference import numerical_gradient

from rnnscratch import reference
from rnnscratch.diveintocode import (
    FC, SGD, AdaGrad, HeInitializer, ReLU, ScratchSimpleRNNClassifier, Sigmoid,
    SimpleInitializer, SimpleRNN, Softmax, SoftmaxWithCrossEntropy, Tanh,
    XavierInitializer, cross_entropy, softmax)

# the course's worked example (problem 2)
X_EX = np.array([[[1, 2], [2, 3], [3, 4]]]) / 100
WX_EX = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100
WH_EX = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) / 100
B_EX = np.array([1, 1, 1, 1])


def example_layer(**kwargs):
    rnn = SimpleRNN(2, 4, **kwargs)
    rnn.W_x, rnn.W_h, rnn.B = WX_EX, WH_EX, B_EX
    return rnn


def random_layer(rng, N=3, T=4, D=2, H=5, **kwargs):
    rnn = SimpleRNN(D, H, **kwargs)
    rnn.W_x = rng.standard_normal((D, H)) * 0.6
    rnn.W_h = rng.standard_normal((H, H)) * 0.3
    rnn.B = rng.standard_normal(H) * 0.2
    return rnn, rng.standard_normal((N, T, D))


# --------------------------------------------------------------------------
# forward
# --------------------------------------------------------------------------

def test_worked_example_last_h():
    h = example_layer().forward(X_EX)
    assert h.shape == (1, 4)
    np.testing.assert_allclose(h, [[0.79494228, 0.81839002, 0.83939649, 0.85584174]],
                               atol=1e-8)


def test_worked_example_every_h():
    hs = example_layer(return_sequences=True).forward(X_EX)
    assert hs.shape == (1, 3, 4)
    np.testing.assert_allclose(hs[0, 0], [0.76188798, 0.76213958, 0.76239095, 0.76255841],
                               atol=1e-8)
    np.testing.assert_allclose(hs[0, 1], [0.792209, 0.8141834, 0.83404912, 0.84977719],
                               atol=1e-8)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_forward_matches_reference(rng, activation):
    rnn, X = random_layer(rng, activation=activation, return_sequences=True)
    expected = reference.TimeRNN(rnn.W_x, rnn.W_h, rnn.B, activation=activation).forward(X)
    np.testing.assert_allclose(rnn.forward(X), expected, rtol=1e-12, atol=1e-14)


def test_initial_state(rng):
    rnn, X = random_layer(rng, return_sequences=True)
    h0 = rng.standard_normal((X.shape[0], rnn.n_nodes))
    ref = reference.TimeRNN(rnn.W_x, rnn.W_h, rnn.B, stateful=True)
    ref.set_state(h0)
    np.testing.assert_allclose(rnn.forward(X, h0), ref.forward(X), rtol=1e-12, atol=1e-14)


def test_float32_parameters_compute_in_float32(rng):
    rnn, X = random_layer(rng)
    rnn.W_x, rnn.W_h, rnn.B = (a.astype(np.float32) for a in (rnn.W_x, rnn.W_h, rnn.B))
    h = rnn.forward(X)
    assert h.dtype == np.float32
    rnn.backward(np.ones_like(h))
    assert rnn.dW_x.dtype == rnn.dW_h.dtype == rnn.dB.dtype == np.float32


def test_zero_time_steps(rng):
    rnn, X = random_layer(rng, T=0)
    h = rnn.forward(X)
    assert h.shape == (3, 5) and not h.any()
    dX = rnn.backward(np.ones((3, 5)))
    assert dX.shape == (3, 0, 2)
    assert not rnn.dW_x.any() and not rnn.dB.any()


# --------------------------------------------------------------------------
# backward: finite differences (float64)
# --------------------------------------------------------------------------

numerical_grad = numerical_gradient  # tests/central_difference.py


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_backward_finite_differences(rng, activation, return_sequences):
    rnn, X = random_layer(rng, activation=activation, return_sequences=return_sequences)
    G = rng.standard_normal(rnn.forward(X).shape)  # loss = sum(G * output)

    def loss():
        return float(np.sum(G * rnn.forward(X)))

    rnn.forward(X)
    dX = rnn.backward(G)
    analytic = {"dX": dX, "dW_x": rnn.dW_x, "dW_h": rnn.dW_h, "dB": rnn.dB}
    numeric = {"dX": numerical_grad(loss, X), "dW_x": numerical_grad(loss, rnn.W_x),
               "dW_h": numerical_grad(loss, rnn.W_h), "dB": numerical_grad(loss, rnn.B)}
    for name in analytic:
        assert analytic[name].shape == numeric[name].shape, name
        np.testing.assert_allclose(analytic[name], numeric[name], rtol=1e-5, atol=1e-7,
                                   err_msg=name)


def test_backward_last_state_equals_sequence_with_zeros(rng):
    rnn, X = random_layer(rng)
    seq, _ = random_layer(np.random.default_rng(0), return_sequences=True)
    seq.W_x, seq.W_h, seq.B = rnn.W_x, rnn.W_h, rnn.B
    dh = rng.standard_normal((3, 5))
    rnn.forward(X)
    dX = rnn.backward(dh)
    dhs = np.zeros(seq.forward(X).shape)
    dhs[:, -1] = dh
    np.testing.assert_allclose(dX, seq.backward(dhs), rtol=1e-13)
    np.testing.assert_allclose(rnn.dW_h, seq.dW_h, rtol=1e-13)


def test_backward_errors(rng):
    rnn, X = random_layer(rng)
    with pytest.raises(RuntimeError):
        rnn.backward(np.ones((3, 5)))
    rnn.forward(X)
    with pytest.raises(ValueError, match="dh"):
        rnn.backward(np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match="activation"):
        SimpleRNN(2, 3, activation="softplus")


# --------------------------------------------------------------------------
# optimizers
# --------------------------------------------------------------------------

def test_sgd_update_through_backward(rng):
    rnn, X = random_layer(rng, optimizer=SGD(lr=0.1))
    before = [rnn.W_x.copy(), rnn.W_h.copy(), rnn.B.copy()]
    rnn.forward(X)
    rnn.backward(rng.standard_normal((3, 5)))
    for W, old, dW in zip((rnn.W_x, rnn.W_h, rnn.B), before, (rnn.dW_x, rnn.dW_h, rnn.dB)):
        np.testing.assert_allclose(W, old - 0.1 * dW, rtol=1e-14)


def test_sgd_updates_the_worked_examples_integer_bias():
    rnn = example_layer(optimizer=SGD(lr=0.5))
    rnn.forward(X_EX)
    rnn.backward(np.ones((1, 4)))
    np.testing.assert_allclose(rnn.B, 1 - 0.5 * rnn.dB)
    assert rnn.B.dtype == np.float64


def test_adagrad_update(rng):
    opt = AdaGrad(lr=0.1)
    fc = FC(3, 2, SimpleInitializer(0.1, random_state=0), opt)
    X = rng.standard_normal((4, 3))
    W0 = fc.W.copy()
    H = np.zeros_like(W0)
    for _ in range(2):
        dA = rng.standard_normal((4, 2))
        fc.forward(X)
        fc.backward(dA)
        H += (X.T @ dA) ** 2
        W0 = W0 - 0.1 * (X.T @ dA) / (np.sqrt(H) + 1e-7)
        np.testing.assert_allclose(fc.W, W0, rtol=1e-12)
    # one AdaGrad shared by two layers keeps separate sums
    rnn, Xs = random_layer(rng, optimizer=opt)
    W_h = rnn.W_h.copy()
    rnn.forward(Xs)
    rnn.backward(np.ones((3, 5)))
    np.testing.assert_allclose(rnn.W_h, W_h - 0.1 * rnn.dW_h / (np.abs(rnn.dW_h) + 1e-7),
                               rtol=1e-12)


def test_fc_forward_backward(rng):
    fc = FC(3, 2, XavierInitializer(random_state=1), SGD(0.0))
    X = rng.standard_normal((4, 3))
    np.testing.assert_allclose(fc.forward(X), X @ fc.W + fc.B)
    dA = rng.standard_normal((4, 2))
    np.testing.assert_allclose(fc.backward(dA), dA @ fc.W.T)
    np.testing.assert_allclose(fc.dW, X.T @ dA)
    np.testing.assert_allclose(fc.dB, dA.sum(0))


def test_initializers():
    W = XavierInitializer(random_state=0).W(400, 300)
    assert W.shape == (400, 300) and abs(W.std() - 1 / 20) < 0.002
    W = HeInitializer(random_state=0).W(200, 300)
    assert abs(W.std() - 0.1) < 0.004
    s = SimpleInitializer(0.01, random_state=0)
    assert s.W(300, 300).std() == pytest.approx(0.01, rel=0.05)
    assert s.B(7).shape == (7,) and XavierInitializer().B(5).shape == (5,)
    np.random.seed(3)  # without random_state: the global NumPy stream, as in the course
    a = SimpleInitializer(1.0).W(2, 2)
    np.random.seed(3)
    np.testing.assert_array_equal(a, np.random.randn(2, 2))


# --------------------------------------------------------------------------
# activations and softmax
# --------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [Tanh, Sigmoid, ReLU])
def test_activation_backward(rng, cls):
    A = rng.standard_normal((3, 4))
    dZ = rng.standard_normal((3, 4))
    act = cls()
    act.forward(A)
    numeric = numerical_grad(lambda: float(np.sum(dZ * cls().forward(A))), A)
    np.testing.assert_allclose(act.backward(dZ), numeric, rtol=1e-6, atol=1e-8)


def test_softmax_with_cross_entropy(rng):
    A = rng.standard_normal((5, 3)) * 3
    labels = rng.integers(0, 3, 5)
    Y = np.eye(3)[labels]
    out = SoftmaxWithCrossEntropy()
    Z = out.forward(A)
    np.testing.assert_allclose(Z.sum(1), 1)
    np.testing.assert_allclose(Z, softmax(A))
    def exact_loss():  # the mean cross-entropy without the 1e-7 guard inside log
        logZ = A - A.max(1, keepdims=True)
        logZ -= np.log(np.exp(logZ).sum(1, keepdims=True))
        return -np.sum(Y * logZ) / len(A)

    numeric = numerical_grad(exact_loss, A)
    np.testing.assert_allclose(out.backward(Z, Y), numeric, rtol=1e-5, atol=1e-8)
    assert out.loss == pytest.approx(-np.mean(np.log(Z[np.arange(5), labels] + 1e-7)))
    assert cross_entropy(Z, labels) == pytest.approx(out.loss)  # class indices work too
    assert Softmax is SoftmaxWithCrossEntropy
    assert np.isfinite(softmax(np.array([[1000.0, -1000.0]]))).all()


# --------------------------------------------------------------------------
# the classifier
# --------------------------------------------------------------------------

def sum_task(n, seed, T=8, D=2):
    """label = whether feature 0 summed over time is positive."""
    X = np.random.default_rng(seed).standard_normal((n, T, D))
    return X, (X[:, :, 0].sum(axis=1) > 0).astype(int)


def test_classifier_defaults_learn_the_sum_task():
    X, y = sum_task(3000, 0, T=5)
    X_val, y_val = sum_task(1000, 1, T=5)
    clf = ScratchSimpleRNNClassifier(random_state=0)
    clf.fit(X, y, X_val, y_val)
    assert np.mean(clf.predict(X_val) == y_val) >= 0.9
    assert len(clf.loss_train) == len(clf.loss_val) == clf.epochs
    assert clf.loss_train[-1] < clf.loss_train[0]
    assert clf.loss_val[-1] < clf.loss_val[0]


def test_classifier_string_labels_three_classes(capsys):
    X, _ = sum_task(1500, 2, T=6, D=1)
    s = X[:, :, 0].sum(axis=1)
    y = np.where(s < -1.0, "neg", np.where(s > 1.0, "pos", "mid"))
    clf = ScratchSimpleRNNClassifier(n_nodes=16, epochs=8, optimizer="adagrad", lr=0.05,
                                     random_state=1, verbose=True)
    clf.fit(X[:1000], y[:1000])
    assert list(clf.classes_) == ["mid", "neg", "pos"]
    proba = clf.predict_proba(X[1000:])
    assert proba.shape == (500, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    pred = clf.predict(X[1000:])
    assert pred.dtype.kind == "U" and set(pred) <= {"neg", "mid", "pos"}
    assert np.mean(pred == y[1000:]) > 0.75
    assert clf.loss_val == []
    assert "epoch 8/8" in capsys.readouterr().out


def test_classifier_is_reproducible_and_accepts_2d_input():
    X, y = sum_task(200, 3, T=5, D=1)
    a = ScratchSimpleRNNClassifier(epochs=2, random_state=5).fit(X[:, :, 0], y)
    b = ScratchSimpleRNNClassifier(epochs=2, random_state=5).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_train == b.loss_train


def test_classifier_options():
    X, y = sum_task(100, 4, T=4, D=2)
    for opts in (dict(initializer="he", activation="relu"), dict(initializer=0.05),
                 dict(initializer=XavierInitializer(random_state=0), optimizer=SGD(0.01)),
                 dict(activation="sigmoid", optimizer="adagrad")):
        clf = ScratchSimpleRNNClassifier(epochs=1, random_state=0, **opts).fit(X, y)
        assert clf.predict(X).shape == (100,)
    with pytest.raises(ValueError, match="optimizer"):
        ScratchSimpleRNNClassifier(optimizer="adam").fit(X, y)
    with pytest.raises(ValueError, match="y"):
        ScratchSimpleRNNClassifier().fit(X, y[:10])
    with pytest.raises(RuntimeError):
        ScratchSimpleRNNClassifier().predict(X)
