"""rnnscratch._policy: the one copy of the dtype rule, the activation check
and the numeric check, and the classes that follow them (including the
scratch course's SimpleRNN with a bias of another dtype than its weights)."""
import pathlib
import re

import numpy as np
import pytest

import rnnscratch
from rnnscratch import _policy, diveintocode, reference

PACKAGE = pathlib.Path(rnnscratch.__file__).parent

RULE = [  # dtypes of the parameters -> compute dtype
    ((np.float32, np.float32, np.float32), np.float32),
    ((np.float16, np.float16, np.float16), np.float32),
    ((np.float16, np.float32, np.float16), np.float32),
    ((np.float64, np.float64, np.float64), np.float64),
    ((np.float32, np.float32, np.float64), np.float64),
    ((np.float32, np.float32, np.int64), np.float64),
    ((np.float32, np.float32, np.float16), np.float32),
    ((np.int32, np.int32, np.int32), np.float64),
    ((np.bool_, np.bool_, np.bool_), np.float64),
    ((np.int8, np.float16, np.float16), np.float32),
]


@pytest.mark.parametrize("dtypes, expected", RULE)
def test_compute_dtype_rule(dtypes, expected):
    arrays = [np.zeros(2, dtype=d) for d in dtypes]
    assert _policy.compute_dtype(*arrays) == expected
    assert _policy.compute_dtype(arrays) == expected
    assert _policy.compute_dtype(tuple(arrays)) == expected
    assert _policy.compute_dtype(*dtypes) == expected
    assert _policy.compute_dtype(*arrays, None) == expected  # an absent bias
    assert isinstance(_policy.compute_dtype(*arrays), np.dtype)


def test_one_copy_of_each_rule():
    """Every public alias is the _policy function, and no module of the
    package computes the rule or lists the activations itself."""
    assert reference.compute_dtype is _policy.compute_dtype
    assert reference.ACTIVATIONS is _policy.ACTIVATIONS
    duplicates = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_policy.py":
            continue
        text = path.read_text()
        for pattern in (r"np\.result_type\(", r"def (compute_dtype|check_activation|grads_like)\b",
                        r"\(\s*[\"']tanh[\"'],\s*[\"']relu[\"'],\s*[\"']sigmoid[\"']\s*\)",
                        r"kind (not )?in [\"']biuf[\"']"):
            for m in re.finditer(pattern, text):
                line = text.count("\n", 0, m.start()) + 1
                duplicates.append(f"{path.relative_to(PACKAGE)}:{line}: {m.group(0)}")
    assert duplicates == []


ACTIVATION_MAKERS = {
    "RNN": lambda act: rnnscratch.RNN(np.ones((2, 3)), np.ones((3, 3)), activation=act),
    "TimeRNN": lambda act: rnnscratch.TimeRNN(np.ones((2, 3)), np.ones((3, 3)), activation=act),
    "reference.RNN": lambda act: reference.RNN(np.ones((2, 3)), np.ones((3, 3)), activation=act),
    "reference.TimeRNN": lambda act: reference.TimeRNN(np.ones((2, 3)), np.ones((3, 3)),
                                                       activation=act),
    "SimpleRNN": lambda act: diveintocode.SimpleRNN(2, 3, activation=act),
}


@pytest.mark.parametrize("maker", ACTIVATION_MAKERS, ids=list(ACTIVATION_MAKERS))
@pytest.mark.parametrize("bad", ["softmax", "Tanh", "", None, 1, ("tanh",)])
def test_activation_check_is_the_same_everywhere(maker, bad):
    with pytest.raises(ValueError) as e:
        ACTIVATION_MAKERS[maker](bad)
    assert str(e.value) == f"activation: expected 'tanh', 'relu' or 'sigmoid', got {bad!r}"


@pytest.mark.parametrize("maker", ACTIVATION_MAKERS, ids=list(ACTIVATION_MAKERS))
@pytest.mark.parametrize("act", _policy.ACTIVATIONS)
def test_activation_check_accepts_the_three(maker, act):
    assert ACTIVATION_MAKERS[maker](act).activation == act


def test_numeric_check_names_the_argument():
    assert _policy.check_numeric("x", [1, 2]).dtype.kind == "i"
    a = np.ones(3)
    assert _policy.check_numeric("x", a) is a
    with pytest.raises(TypeError, match=r"^x: expected an array of numbers, got dtype <U1$"):
        _policy.check_numeric("x", ["a"])
    with pytest.raises(TypeError, match=r"^x: expected an array of numbers, got list"):
        _policy.check_numeric("x", [[1, 2], [3]])  # ragged
    with pytest.raises(TypeError, match=r"^Wh: expected an array of numbers, got dtype complex128"):
        _policy.grads_like([np.ones(2), np.ones(2, complex)], ("Wx", "Wh"))
    with pytest.raises(TypeError, match=r"^params\[1\]: expected an array of numbers"):
        _policy.grads_like([np.ones(2), np.array(["x"])])
    g = _policy.grads_like([np.ones((2, 3), np.float16), np.ones(3, np.int8)])
    assert [x.shape for x in g] == [(2, 3), (3,)]
    assert all(x.dtype == np.float32 and not x.any() for x in g)


@pytest.mark.parametrize("make", [
    lambda W, b: rnnscratch.TimeAffine(W, b), lambda W, b: reference.TimeAffine(W, b),
    lambda W, b: rnnscratch.TimeRNN(W, np.ones((3, 3)), b),
    lambda W, b: reference.TimeRNN(W, np.ones((3, 3)), b)],
    ids=["TimeAffine", "reference.TimeAffine", "TimeRNN", "reference.TimeRNN"])
def test_constructors_name_a_non_numeric_parameter(make):
    with pytest.raises(TypeError, match=r"^b: expected an array of numbers, got dtype object"):
        make(np.ones((3, 3)), np.array([None, None, None]))


# --------------------------------------------------------------------------
# SimpleRNN: the bias takes part in the dtype rule in backward as in forward
# --------------------------------------------------------------------------

MIXED = [  # (W_x / W_h dtype, B dtype) -> compute dtype
    (np.float32, np.float64, np.float64),
    (np.float32, np.int64, np.float64),
    (np.float16, np.float32, np.float32),
    (np.float32, np.float16, np.float32),
    (np.float64, np.float32, np.float64),
]


@pytest.mark.parametrize("w_dtype, b_dtype, expected", MIXED)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_simple_rnn_mixed_bias_dtype(rng, w_dtype, b_dtype, expected, return_sequences):
    N, T, D, H = 3, 4, 2, 5
    rnn = diveintocode.SimpleRNN(D, H, return_sequences=return_sequences)
    rnn.W_x = (rng.standard_normal((D, H)) * 0.5).astype(w_dtype)
    rnn.W_h = (rng.standard_normal((H, H)) * 0.3).astype(w_dtype)
    rnn.B = (rng.standard_normal(H) * 2).astype(b_dtype)
    X = rng.standard_normal((N, T, D)).astype(np.float32)
    dh = rng.standard_normal((N, T, H) if return_sequences else (N, H))
    out = rnn.forward(X)
    dX = rnn.backward(dh)
    for name, a in [("h", out), ("dX", dX), ("dW_x", rnn.dW_x), ("dW_h", rnn.dW_h),
                    ("dB", rnn.dB), ("dh0", rnn.dh0)]:
        assert a.dtype == expected, name

    # the same numbers as the reference TimeRNN with these parameters
    ref = reference.TimeRNN(rnn.W_x, rnn.W_h, rnn.B)
    hs = ref.forward(X)
    dhs = dh if return_sequences else np.zeros(hs.shape)
    if not return_sequences:
        dhs[:, -1] = dh
    ref_dX = ref.backward(dhs)
    rtol = 1e-4 if expected == np.float32 else 1e-10
    np.testing.assert_allclose(out, hs if return_sequences else hs[:, -1], rtol=rtol, atol=rtol)
    for got, want in [(dX, ref_dX), (rnn.dW_x, ref.grads[0]), (rnn.dW_h, ref.grads[1]),
                      (rnn.dB, ref.grads[2]), (rnn.dh0, ref.dh)]:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
