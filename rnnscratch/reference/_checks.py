"""Argument checks of the NumPy reference layers (one copy, shared by
reference.rnn and reference.lm). Errors name the argument, the expected and
the actual shape or dtype."""
import numpy as np

from .._policy import check_id_range, check_numeric

__all__ = ["check_numeric", "check_ndim", "check_shape", "check_ids"]


def check_ndim(name, a, ndim, legend):
    """ValueError unless a has ndim dimensions; legend: the shape in letters, '(N, D)'."""
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array of shape {legend}, "
                         f"got shape {a.shape}")


def check_shape(name, a, expected, legend):
    """ValueError unless a.shape == expected; legend: the shape in letters and
    where they come from, '(N, D) with D = Wx.shape[0] = 3'."""
    if a.shape != tuple(expected):
        raise ValueError(f"{name}: expected shape {tuple(expected)} = {legend}, "
                         f"got {a.shape}")


def check_ids(name, value, V, ignore=None):
    """value as an (N, T) array of integer ids in [0, V) (or == ignore)."""
    a = np.asarray(value)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an array of integer ids, got dtype {a.dtype}")
    check_ndim(name, a, 2, "(N, T)")
    check_id_range(name, a, V, ignore)
    return a
