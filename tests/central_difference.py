"""The one finite-difference helper of the suite: float64 central differences."""
import numpy as np


def numerical_gradient(f, arr, eps=1e-6, indices=None):
    """d f() / d arr by central differences (f returns a scalar): each element
    of ``arr`` (an ndarray, perturbed in place and restored) moved by +-eps.
    ``indices``: the flat indices to differentiate (None: all); the others
    stay 0 in the float64 result, of arr's shape."""
    grad = np.zeros(arr.shape, dtype=np.float64)
    flat_grad = grad.reshape(-1)
    if indices is None:
        indices = range(arr.size)
    for k in indices:
        idx = np.unravel_index(k, arr.shape)
        old = arr[idx]
        arr[idx] = old + eps
        fp = f()
        arr[idx] = old - eps
        fm = f()
        arr[idx] = old
        flat_grad[k] = (fp - fm) / (2 * eps)
    return grad
