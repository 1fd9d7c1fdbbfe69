"""Valid calls of the _core kernels, made from the contract table
(tests/core_contract.py): the generic kernel tests (test_simd_paths.py: every
path and thread count; test_core_errors.py: every bad argument named) start
from these and change one thing."""
import numpy as np

from core_contract import KERNELS, token_size, tokens

BY_KERNEL = {f.name: f for f in KERNELS}


def array_args(fname):
    """(name, legend, role, optional) of the kernel's array arguments (no result buffers)."""
    return [(a.name, a.shape, a.role, a.optional) for a in BY_KERNEL[fname].args
            if a.role not in ("S", "R")]


def shape_of(legend, dims):
    return tuple(token_size(t, dims) for t in tokens(legend))


def kernel_args(fname, dims, dtype, seed, **scalars):
    """Valid keyword arguments of kernel ``fname`` at sizes ``dims``: arrays of
    ``dtype`` (parameters scaled by 1/sqrt(fan-in)), ids in [0, V), gradient
    arrays filled with numbers (accumulate=True adds to them)."""
    rng = np.random.default_rng(seed)
    kw = {}
    for name, legend, role, _ in array_args(fname):
        shape = shape_of(legend, dims)
        if role == "ids":
            kw[name] = rng.integers(0, dims["V"], size=shape)
        else:
            scale = 1.0 / np.sqrt(shape[0]) if role == "P" and len(shape) > 1 else 1.0
            kw[name] = (rng.standard_normal(shape) * scale).astype(dtype)
    kw.update(scalars)
    return kw
