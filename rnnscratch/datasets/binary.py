"""Binary addition: the sequence task of the RNN exercise (a + b, bit by bit).

Bits are least significant first, so the carry flows forward in time, which
is what the recurrence can learn: at step t the network sees bit t of a and
of b and must output bit t of a + b.
"""
import numpy as np

__all__ = ["binary_addition", "to_bits", "from_bits"]


def to_bits(values, bits):
    """Integers (n,) -> their binary digits (n, bits), least significant first."""
    values = np.asarray(values, dtype=np.int64)
    return ((values[..., None] >> np.arange(bits)) & 1).astype(np.int64)


def from_bits(digits):
    """Binary digits (..., bits), least significant first -> integers (...).

    Digits are rounded at 0.5, so network outputs in [0, 1] can be passed directly.
    """
    digits = np.asarray(digits)
    if digits.dtype.kind == "f":
        digits = digits >= 0.5
    digits = digits.astype(np.int64)
    return digits @ (np.int64(1) << np.arange(digits.shape[-1], dtype=np.int64))


def binary_addition(n_samples, bits=8, seed=None, dtype=np.float64):
    """Random additions a + b with a, b < 2**(bits-1), so the sum fits in ``bits``.

    Returns X (n_samples, bits, 2): X[i, t] = (bit t of a_i, bit t of b_i), and
    Y (n_samples, bits, 1): Y[i, t, 0] = bit t of a_i + b_i, both least
    significant bit first, of ``dtype`` (0.0 / 1.0). ``seed``: an int, a
    ``np.random.Generator`` or None.
    """
    if int(n_samples) != n_samples or n_samples < 0:
        raise ValueError("n_samples: expected a non-negative integer, got %r" % (n_samples,))
    if int(bits) != bits or not 1 <= bits <= 62:
        raise ValueError("bits: expected an integer from 1 to 62, got %r" % (bits,))
    n_samples, bits = int(n_samples), int(bits)
    rng = np.random.default_rng(seed)
    high = 1 << (bits - 1)
    a = rng.integers(0, high, size=n_samples)
    b = rng.integers(0, high, size=n_samples)
    X = np.stack([to_bits(a, bits), to_bits(b, bits)], axis=-1).astype(dtype)
    Y = to_bits(a + b, bits)[:, :, None].astype(dtype)
    return X, Y
