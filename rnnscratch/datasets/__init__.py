"""Small data sets for the course exercises.

binary_addition(n_samples, bits=8, seed=None) -> X (n, bits, 2), Y (n, bits, 1)
ptb                                            the Penn Treebank loader (submodule,
                                               imported on first use)
sequence                                       the chapters 7-8 character datasets
                                               (load_data, get_vocab, make_addition,
                                               make_dates; imported on first use)
"""
import importlib

from .binary import binary_addition, from_bits, to_bits

__all__ = ["binary_addition", "to_bits", "from_bits", "ptb", "sequence"]


def __getattr__(name):
    # submodules that are imported lazily, on first attribute access
    if name in ("ptb", "sequence"):
        return importlib.import_module("." + name, __name__)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
