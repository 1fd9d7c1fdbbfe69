"""rnnscratch.testing: checking a student's own class against the compiled one.

The student classes below are written the way the courses write them.
"""
import re

import numpy as np
import pytest

from rnnscratch import diveintocode, reference
from rnnscratch.testing import (assert_rnn, assert_simple_rnn, assert_time_rnn, check_rnn,
                                check_simple_rnn, check_time_rnn)


# --------------------------------------------------------------------------
# course-style student classes (correct)
# --------------------------------------------------------------------------

class CourseRNN:
    """The language-model book's RNN: grads written in place."""

    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        h_next = np.tanh(np.dot(h_prev, Wh) + np.dot(x, Wx) + b)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next ** 2)
        self.grads[0][...] = np.dot(x.T, dt)
        self.grads[1][...] = np.dot(h_prev.T, dt)
        self.grads[2][...] = np.sum(dt, axis=0)
        return np.dot(dt, Wx.T), np.dot(dt, Wh.T)


class CourseTimeRNN:
    """The book's TimeRNN: one CourseRNN per step, hs and dxs stored as dtype 'f'."""

    layer_class = CourseRNN

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers = None
        self.h, self.dh = None, None
        self.stateful = stateful

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        D, H = Wx.shape
        self.layers = []
        hs = np.empty((N, T, H), dtype="f")
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype="f")
        for t in range(T):
            layer = self.layer_class(*self.params)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D, H = Wx.shape
        dxs = np.empty((N, T, D), dtype="f")
        dh = 0
        grads = [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh = layer.backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh
        return dxs


class Float32TimeRNN(reference.TimeRNN):
    """Computes everything in float32 (casts its parameters)."""

    def __init__(self, Wx, Wh, b, stateful=False):
        super().__init__(*(np.float32(p) for p in (Wx, Wh, b)), stateful=stateful)


class CourseSimpleRNN:
    """The scratch course's SimpleRNN: loops over time, owns its optimizer."""

    def __init__(self, n_features, n_nodes, initializer, optimizer):
        self.optimizer = optimizer
        self.W_x = initializer.W(n_features, n_nodes)
        self.W_h = initializer.W(n_nodes, n_nodes)
        self.B = initializer.B(n_nodes)

    def forward(self, X):
        N, T, _ = X.shape
        self.X = X
        self.h = np.zeros((N, T + 1, self.W_h.shape[0]))
        for t in range(T):
            a = X[:, t] @ self.W_x + self.h[:, t] @ self.W_h + self.B
            self.h[:, t + 1] = np.tanh(a)
        return self.h[:, -1]

    def backward(self, dh):
        T = self.X.shape[1]
        self.dW_x = np.zeros_like(self.W_x)
        self.dW_h = np.zeros_like(self.W_h)
        self.dB = np.zeros_like(self.B)
        dX = np.zeros_like(self.X)
        for t in reversed(range(T)):
            dA = dh * (1 - self.h[:, t + 1] ** 2)
            self.dW_x += self.X[:, t].T @ dA
            self.dW_h += self.h[:, t].T @ dA
            self.dB += dA.sum(axis=0)
            dX[:, t] = dA @ self.W_x.T
            dh = dA @ self.W_h.T
        self.optimizer.update(self)
        return dX


# --------------------------------------------------------------------------
# broken ones
# --------------------------------------------------------------------------

class RNNWrongDWh(CourseRNN):
    def backward(self, dh_next):
        out = super().backward(dh_next)
        self.grads[1] *= 1.01  # a 1% error in one gradient
        return out


class TimeRNNWrongDb(reference.TimeRNN):
    def backward(self, dhs):
        dxs = super().backward(dhs)
        self.grads[2] *= 0.99
        return dxs


class TimeRNNWithoutDh(reference.TimeRNN):
    def backward(self, dhs):
        dxs = super().backward(dhs)
        self.dh = None
        return dxs


class RNNRaising(CourseRNN):
    def backward(self, dh_next):
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next ** 2)
        return np.dot(dt, Wx.T), np.dot(dt, Wh.T)  # noqa: F821 (the bug under test)


class RNNWrongShape(CourseRNN):
    def forward(self, x, h_prev):
        return super().forward(x, h_prev)[:, :1]


class SimpleRNNWrongDB(CourseSimpleRNN):
    def backward(self, dh):
        dX = super().backward(dh)
        self.dB = self.dB * 1.01
        return dX


class SimpleRNNWrongDX(CourseSimpleRNN):
    def backward(self, dh):
        return super().backward(dh) * 1.01


class SimpleRNNSequences(diveintocode.SimpleRNN):
    def __init__(self, n_features, n_nodes, initializer, optimizer):
        super().__init__(n_features, n_nodes, initializer, optimizer, return_sequences=True)


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

def failing_names(report):
    return set(report.failures)


CORRECT = [(check_rnn, assert_rnn, c) for c in (CourseRNN, reference.RNN)] + \
    [(check_time_rnn, assert_time_rnn, c)
     for c in (CourseTimeRNN, reference.TimeRNN, Float32TimeRNN)] + \
    [(check_simple_rnn, assert_simple_rnn, c)
     for c in (CourseSimpleRNN, diveintocode.SimpleRNN, SimpleRNNSequences)]


@pytest.mark.parametrize("check,assert_ok,cls", CORRECT,
                         ids=["%s-%s" % (c.__name__, k.__name__) for c, _, k in CORRECT])
def test_correct_layers_pass(check, assert_ok, cls):
    """check_X says OK (its report's first line names the class), assert_X does not raise."""
    report = check(cls)
    assert report.ok and report, str(report)
    assert str(report).startswith("%s(%s): OK" % (check.__name__, cls.__name__))
    assert_ok(cls)


def test_course_time_rnn_returns_float32_and_still_passes():
    xs = np.ones((2, 3, 4))
    layer = CourseTimeRNN(np.ones((4, 5)), np.ones((5, 5)), np.ones(5))
    assert layer.forward(xs).dtype == np.float32
    assert check_time_rnn(CourseTimeRNN).ok


def test_wrong_dwh_is_named_with_error_and_index():
    report = check_rnn(RNNWrongDWh)
    assert not report.ok and not report
    assert failing_names(report) == {"dWh"}
    text = str(report)
    assert text.startswith("check_rnn(RNNWrongDWh): FAILED, differing: dWh")
    line = next(l for l in text.splitlines() if l.strip().startswith("dWh:"))
    assert re.search(r"relative 0\.01\b", line), line
    assert re.search(r"at index \(\d+, \d+\)", line)
    for other in ("h:", "dx:", "dh_prev:", "dWx:", "db:"):
        assert not any(l.strip().startswith(other) for l in text.splitlines())
    with pytest.raises(AssertionError, match="dWh"):
        assert_rnn(RNNWrongDWh)


def test_wrong_db_in_time_rnn_is_named():
    report = check_time_rnn(TimeRNNWrongDb)
    assert failing_names(report) == {"db", "stateful db"}
    with pytest.raises(AssertionError, match=r"db: largest error .* \(relative 0\.01\)"):
        assert_time_rnn(TimeRNNWrongDb)


def test_missing_dh_is_named():
    report = check_time_rnn(TimeRNNWithoutDh)
    assert "dh" in failing_names(report)
    assert "backward did not set the attribute dh" in str(report)


def test_simple_rnn_errors_are_named():
    assert failing_names(check_simple_rnn(SimpleRNNWrongDB)) == {"dB"}
    assert failing_names(check_simple_rnn(SimpleRNNWrongDX)) == {"dX"}
    with pytest.raises(AssertionError, match="dB"):
        assert_simple_rnn(SimpleRNNWrongDB)


def test_raising_class_gets_a_report():
    report = check_rnn(RNNRaising)
    assert not report.ok
    text = str(report)
    assert "backward(dh_next) raised NameError" in text
    assert "test_testing.py" in text and "Wx.T" in text  # where it happened
    assert "the same" in text  # repeated errors are not printed again
    with pytest.raises(AssertionError, match="NameError"):
        assert_rnn(RNNRaising)


def test_constructor_errors_and_wrong_signatures():
    report = check_time_rnn(lambda Wx, Wh, b: 1 / 0)
    assert "raised ZeroDivisionError" in str(report)
    report = check_simple_rnn(CourseRNN)  # not a SimpleRNN at all
    assert not report.ok and "raised" in str(report)


def test_wrong_shape_is_reported():
    report = check_rnn(RNNWrongShape)
    assert "h" in failing_names(report)
    assert re.search(r"h: shape \(\d+, 1\), expected \(\d+, \d+\)", str(report))


def test_options():
    report = check_rnn(CourseRNN, shapes=[(2, 3, 4)], seed=5)
    assert len(report.cases) == 1 and report.ok
    assert len(check_time_rnn(reference.TimeRNN, stateful=False).cases) == 4
    # a sigmoid class checked with activation='sigmoid'
    assert check_time_rnn(lambda Wx, Wh, b: reference.TimeRNN(Wx, Wh, b, activation="sigmoid"),
                          activation="sigmoid", stateful=False).ok
    # rtol overrides the dtype-based tolerance
    assert check_rnn(RNNWrongDWh, rtol=0.02).ok
