"""rnnscratch.testing for the gated layers: check_lstm, check_time_lstm,
check_gru, check_time_gru (and their assert_ forms).

The student classes below are written the way the book's students write
them (one cell class, a Time class that loops over cells and stores its
outputs in float32 'f' buffers); the broken ones each carry one mistake that
the report must name.
"""
import re

import numpy as np
import pytest

from rnnscratch import reference
from rnnscratch.testing import (assert_gru, assert_lstm, assert_time_gru, assert_time_lstm,
                                check_gru, check_lstm, check_time_gru, check_time_lstm)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# --------------------------------------------------------------------------
# course-style students (correct)
# --------------------------------------------------------------------------

class StudentLSTM:
    gate_order = "fgio"  # where each gate's block sits in Wx/Wh/b

    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.cache = None

    def _blocks(self, A, H):
        return {k: A[:, j * H:(j + 1) * H] for j, k in enumerate(self.gate_order)}

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        a = self._blocks(x @ Wx + h_prev @ Wh + b, H)
        f, g, i, o = sigmoid(a["f"]), np.tanh(a["g"]), sigmoid(a["i"]), sigmoid(a["o"])
        c_next = f * c_prev + g * i
        h_next = o * np.tanh(c_next)
        self.cache = (x, h_prev, c_prev, f, g, i, o, c_next)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        Wx, Wh, b = self.params
        x, h_prev, c_prev, f, g, i, o, c_next = self.cache
        H = Wh.shape[0]
        t = np.tanh(c_next)
        ds = dc_next + dh_next * o * (1 - t ** 2)
        d = {"f": ds * c_prev * f * (1 - f), "g": ds * i * (1 - g ** 2),
             "i": ds * g * i * (1 - i), "o": dh_next * t * o * (1 - o)}
        dA = np.empty((x.shape[0], 4 * H), dtype=ds.dtype)
        for j, k in enumerate(self.gate_order):
            dA[:, j * H:(j + 1) * H] = d[k]
        self.grads[0][...] = x.T @ dA
        self.grads[1][...] = h_prev.T @ dA
        self.grads[2][...] = dA.sum(axis=0)
        return dA @ Wx.T, dA @ Wh.T, self._dc_prev(ds, f)

    def _dc_prev(self, ds, f):
        return ds * f


class StudentTimeLSTM:
    cell = StudentLSTM

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.layers = None
        self.h, self.c, self.dh = None, None, None
        self.stateful = stateful

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h, self.c = None, None

    def forward(self, xs):
        N, T, _ = xs.shape
        H = self.params[1].shape[0]
        hs = np.empty((N, T, H), dtype="f")
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype="f")
        if not self.stateful or self.c is None:
            self.c = np.zeros((N, H), dtype="f")
        self.layers = []
        for t in range(T):
            layer = self.cell(*self.params)
            self.h, self.c = layer.forward(xs[:, t], self.h, self.c)
            hs[:, t] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        N, T, _ = dhs.shape
        D = self.params[0].shape[0]
        dxs = np.empty((N, T, D), dtype="f")
        dh, dc = 0, 0
        sums = [0, 0, 0]
        for t in reversed(range(T)):
            dx, dh, dc = self.layers[t].backward(dhs[:, t] + dh, self._dc_to_step(dc))
            dxs[:, t] = dx
            sums = [s + g for s, g in zip(sums, self.layers[t].grads)]
        for g, s in zip(self.grads, sums):
            g[...] = s
        self.dh = dh
        return dxs

    def _dc_to_step(self, dc):
        return dc


class StudentGRU:
    reset_before_product = True
    z_weighs_new = True

    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(p) for p in self.params]

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        sl = [slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)]
        z = sigmoid(x @ Wx[:, sl[0]] + h_prev @ Wh[:, sl[0]] + b[sl[0]])
        r = sigmoid(x @ Wx[:, sl[1]] + h_prev @ Wh[:, sl[1]] + b[sl[1]])
        if self.reset_before_product:
            rec = (r * h_prev) @ Wh[:, sl[2]]
        else:  # the other GRU (cuDNN/PyTorch): not the book's
            rec = r * (h_prev @ Wh[:, sl[2]])
        hh = np.tanh(x @ Wx[:, sl[2]] + rec + b[sl[2]])
        self.cache = (x, h_prev, z, r, hh)
        if self.z_weighs_new:
            return (1 - z) * h_prev + z * hh
        return z * h_prev + (1 - z) * hh

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        x, h_prev, z, r, hh = self.cache
        H = Wh.shape[0]
        dt = dh_next * z * (1 - hh ** 2)
        drh = dt @ Wh[:, 2 * H:].T
        dtz = dh_next * (hh - h_prev) * z * (1 - z)
        dtr = drh * h_prev * r * (1 - r)
        dA = np.hstack((dtz, dtr, dt))
        self.grads[0][...] = x.T @ dA
        self.grads[1][...] = np.hstack((h_prev.T @ dtz, h_prev.T @ dtr, (r * h_prev).T @ dt))
        self.grads[2][...] = dA.sum(axis=0)
        dh_prev = dh_next * (1 - z) + r * drh + dtz @ Wh[:, :H].T + dtr @ Wh[:, H:2 * H].T
        return dA @ Wx.T, dh_prev


class StudentTimeGRU:
    cell = StudentGRU

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.h, self.dh = None, None
        self.stateful = stateful

    def set_state(self, h):
        self.h = h

    def forward(self, xs):
        N, T, _ = xs.shape
        H = self.params[1].shape[0]
        hs = np.empty((N, T, H), dtype="f")
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype="f")
        self.layers = []
        for t in range(T):
            layer = self.cell(*self.params)
            self.h = layer.forward(xs[:, t], self.h)
            hs[:, t] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        N, T, _ = dhs.shape
        dxs = np.empty((N, T, self.params[0].shape[0]), dtype="f")
        dh = 0
        sums = [0, 0, 0]
        for t in reversed(range(T)):
            dx, dh = self.layers[t].backward(dhs[:, t] + dh)
            dxs[:, t] = dx
            sums = [s + g for s, g in zip(sums, self.layers[t].grads)]
        for g, s in zip(self.grads, sums):
            g[...] = s
        self.dh = dh
        return dxs


# --------------------------------------------------------------------------
# broken students
# --------------------------------------------------------------------------

class LSTMGatesSwapped(StudentLSTM):
    gate_order = "igfo"  # input and forget blocks swapped


class LSTMWrongDcPrev(StudentLSTM):
    def _dc_prev(self, ds, f):
        return ds  # forgot the forget gate


class LSTMForwardReturnsH(StudentLSTM):
    def forward(self, x, h_prev, c_prev):
        return super().forward(x, h_prev, c_prev)[0]


class LSTMRaising(StudentLSTM):
    def backward(self, dh_next, dc_next):
        return dh_next @ Wx.T  # noqa: F821 (the bug under test)


class TimeLSTMOfSwappedGates(StudentTimeLSTM):
    cell = LSTMGatesSwapped


class TimeLSTMWithoutC(reference.TimeLSTM):
    def forward(self, xs):
        hs = super().forward(xs)
        del self.c
        return hs


class TimeLSTMDroppingDcBetweenSteps(StudentTimeLSTM):
    """Passes dc = 0 to every step (forgets the cell's gradient path)."""

    def _dc_to_step(self, dc):
        return 0


class GRUResetAfterProduct(StudentGRU):
    reset_before_product = False


class GRUSwappedZ(StudentGRU):
    z_weighs_new = False


class TimeGRUOfResetAfterProduct(StudentTimeGRU):
    cell = GRUResetAfterProduct


class TimeGRUWrongDWh(reference.TimeGRU):
    def backward(self, dhs):
        dxs = super().backward(dhs)
        self.grads[1] *= 1.01
        return dxs


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [StudentLSTM, reference.LSTM])
def test_correct_lstm_passes(cls):
    report = check_lstm(cls)
    assert report.ok, str(report)
    assert str(report).startswith("check_lstm(%s): OK, h, c, dx, dh_prev, dc_prev, dWx, dWh, db"
                                  % cls.__name__)
    assert_lstm(cls)


@pytest.mark.parametrize("cls", [StudentTimeLSTM, reference.TimeLSTM])
def test_correct_time_lstm_passes(cls):
    report = check_time_lstm(cls)
    assert report.ok, str(report)
    assert len(report.cases) == 5 and "stateful=True from set_state(h0, c0)" in \
        report.cases[-1].label
    assert_time_lstm(cls)


@pytest.mark.parametrize("cls", [StudentGRU, reference.GRU])
def test_correct_gru_passes(cls):
    report = check_gru(cls)
    assert report.ok, str(report)
    assert_gru(cls)


@pytest.mark.parametrize("cls", [StudentTimeGRU, reference.TimeGRU])
def test_correct_time_gru_passes(cls):
    report = check_time_gru(cls)
    assert report.ok, str(report)
    assert_time_gru(cls)


def test_float32_students_pass_and_1_percent_fails():
    # the course students store hs and dxs as float32: float32 tolerance
    report = check_time_lstm(StudentTimeLSTM)
    assert report.ok and all(c.rtol == 1e-4 for c in report.cases)
    assert not check_time_gru(TimeGRUWrongDWh).ok


def test_swapped_lstm_gates_are_reported():
    report = check_lstm(LSTMGatesSwapped)
    assert not report.ok and not report
    assert {"h", "c", "dx", "dWx"} <= set(report.failures)
    text = str(report)
    assert text.startswith("check_lstm(LSTMGatesSwapped): FAILED, differing: h, c")
    assert re.search(r"h: largest error \S+ \(relative \S+\) at index \(\d+, \d+\)", text)
    with pytest.raises(AssertionError, match="differing: h, c"):
        assert_lstm(LSTMGatesSwapped)
    report = check_time_lstm(TimeLSTMOfSwappedGates)
    assert {"hs", "c", "dxs", "dh", "stateful hs", "stateful c"} <= set(report.failures)


def test_one_wrong_lstm_gradient_is_the_only_one_named():
    report = check_lstm(LSTMWrongDcPrev)
    assert report.failures == ["dc_prev"], str(report)
    assert "dc_prev: largest error" in str(report)


def test_time_lstm_missing_c_and_dc_path():
    report = check_time_lstm(TimeLSTMWithoutC)
    assert set(report.failures) == {"c", "stateful c"}, str(report)
    assert "missing: forward did not set the attribute c" in str(report)
    report = check_time_lstm(TimeLSTMDroppingDcBetweenSteps)
    failing = set(report.failures)
    # T = 1 cases cannot tell; the others must, in dxs, dh and every gradient
    assert {"dxs", "dh", "dWx", "dWh", "db"} <= failing and "hs" not in failing, str(report)
    assert not next(c for c in report.cases if c.label == "N=4 T=6 D=1 H=3").ok


def test_lstm_wrong_return_and_raising():
    report = check_lstm(LSTMForwardReturnsH)
    assert not report.ok
    assert ("forward(x, h_prev, c_prev) returned ndarray, expected a pair (h_next, c_next)"
            in str(report))
    report = check_lstm(LSTMRaising)
    text = str(report)
    assert "backward(dh_next, dc_next) raised NameError" in text
    assert "test_testing_gated.py" in text and "Wx.T" in text and "the same" in text


@pytest.mark.parametrize("cls", [GRUResetAfterProduct, GRUSwappedZ])
def test_other_gru_variants_are_reported(cls):
    """The GRU of other libraries is not the book's: the check says so."""
    report = check_gru(cls)
    assert not report.ok and "h" in report.failures, str(report)
    with pytest.raises(AssertionError, match="check_gru"):
        assert_gru(cls)


def test_time_gru_errors_are_named():
    report = check_time_gru(TimeGRUOfResetAfterProduct)
    assert {"hs", "dxs", "stateful hs"} <= set(report.failures)
    report = check_time_gru(TimeGRUWrongDWh)
    assert set(report.failures) == {"dWh", "stateful dWh"}
    with pytest.raises(AssertionError, match=r"dWh: largest error .* \(relative 0\.01\)"):
        assert_time_gru(TimeGRUWrongDWh)


def test_options_and_constructor_errors():
    assert len(check_gru(StudentGRU, shapes=[(2, 3, 4)], seed=3).cases) == 1
    assert len(check_time_gru(StudentTimeGRU, stateful=False).cases) == 4
    assert check_lstm(LSTMWrongDcPrev, rtol=2.0).ok  # rtol overrides the dtype's
    report = check_time_lstm(lambda Wx, Wh, b: 1 / 0)
    assert "raised ZeroDivisionError" in str(report)
    # build= for classes with other constructors
    report = check_time_gru(None, build=lambda Wx, Wh, b: StudentTimeGRU(Wx, Wh, b))
    assert report.ok, str(report)
    # an LSTM is not a GRU: shapes do not fit, reported rather than raised
    assert not check_gru(StudentLSTM).ok
