"""rnnscratch.datasets.binary_addition, and the exercise's network learning it."""
import numpy as np
import pytest

import rnnscratch
from rnnscratch.datasets import binary_addition, from_bits, to_bits


def test_shapes_dtype_and_lsb_first():
    X, Y = binary_addition(50, seed=0)
    assert X.shape == (50, 8, 2) and Y.shape == (50, 8, 1)
    assert X.dtype == Y.dtype == np.float64
    assert set(np.unique(X)) <= {0.0, 1.0} and set(np.unique(Y)) <= {0.0, 1.0}
    a, b, s = from_bits(X[:, :, 0]), from_bits(X[:, :, 1]), from_bits(Y[:, :, 0])
    np.testing.assert_array_equal(a + b, s)
    assert a.max() < 128 and b.max() < 128  # the sum fits in 8 bits
    # least significant bit first: bit t is (value >> t) & 1
    np.testing.assert_array_equal(X[:, 0, 0], a % 2)
    np.testing.assert_array_equal(X[:, 7, 0], 0)


def test_seed_and_bits():
    np.testing.assert_array_equal(binary_addition(20, seed=3)[0], binary_addition(20, seed=3)[0])
    assert not np.array_equal(binary_addition(20, seed=3)[0], binary_addition(20, seed=4)[0])
    X, Y = binary_addition(1000, bits=4, seed=1, dtype=np.float32)
    assert X.shape == (1000, 4, 2) and X.dtype == np.float32
    assert from_bits(X[:, :, 0]).max() == 7
    np.testing.assert_array_equal(from_bits(X[..., 0]) + from_bits(X[..., 1]), from_bits(Y[..., 0]))
    assert binary_addition(0)[0].shape == (0, 8, 2)
    for bad in (dict(n_samples=-1), dict(n_samples=2.5), dict(n_samples=3, bits=0)):
        with pytest.raises(ValueError):
            binary_addition(**bad)


def test_bits_helpers():
    assert to_bits([6], 4).tolist() == [[0, 1, 1, 0]]
    assert from_bits(np.array([[0.2, 0.9, 0.7, 0.1]])).tolist() == [6]


def all_pairs(bits=8):
    """Every addition a + b with a, b < 2**(bits-1): X (n, bits, 2), sums (n,)."""
    a, b = np.divmod(np.arange(1 << (2 * (bits - 1))), 1 << (bits - 1))
    X = np.stack([to_bits(a, bits), to_bits(b, bits)], axis=-1).astype(np.float64)
    return X, a + b


def sigmoid(a):
    return 0.5 * (np.tanh(0.5 * a) + 1)


class Adam:
    """Adam on a list of arrays, updated in place."""

    def __init__(self, params, lr):
        self.params, self.lr, self.t = params, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m += 0.1 * (g - m)
            v += 0.001 * (g * g - v)
            p -= self.lr * (m / (1 - 0.9 ** self.t)) / (np.sqrt(v / (1 - 0.999 ** self.t)) + 1e-8)


def test_exercise_network_learns_exact_sums():
    """The exercise's network: sigmoid RNN without bias, sigmoid output without
    bias, mean squared error. 400 mini-batches of 256 random additions."""
    rng = np.random.default_rng(0)
    H = 16
    W_in = rng.standard_normal((2, H))
    W = rng.standard_normal((H, H)) / np.sqrt(H)
    W_out = rng.standard_normal((H, 1)) / np.sqrt(H)
    rnn = rnnscratch.TimeRNN(W_in, W, None, activation="sigmoid")
    opt = Adam(rnn.params + [W_out], lr=0.05)

    X, Y = binary_addition(400 * 256, seed=0)
    for Xb, Yb in zip(np.split(X, 400), np.split(Y, 400)):
        hs = rnn.forward(Xb)                                   # (N, 8, H)
        y = sigmoid(hs @ W_out)                                # (N, 8, 1)
        dA = 2 * (y - Yb) * y * (1 - y) / Yb.size              # d mean((y - Y)^2) / d(hs @ W_out)
        dW_out = hs.reshape(-1, H).T @ dA.reshape(-1, 1)
        rnn.backward(dA @ W_out.T)
        opt.step(rnn.grads + [dW_out])

    X_all, sums = all_pairs()
    predicted = from_bits(sigmoid(rnn.forward(X_all) @ W_out)[:, :, 0])
    wrong = np.flatnonzero(predicted != sums)
    assert wrong.size == 0, "%d of %d sums wrong, e.g. %s" % (
        wrong.size, sums.size, [(int(sums[i]), int(predicted[i])) for i in wrong[:5]])
