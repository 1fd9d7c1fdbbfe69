"""rnnscratch: the RNN layers of the "from scratch" deep-learning courses,
computed by C kernels, with the courses' APIs and a pure-NumPy reference.

    from rnnscratch import RNN, TimeRNN      # instead of common.time_layers
"""
try:
    from . import _core
except ImportError:  # a source checkout without an in-place build
    from ._loader import load_installed_core

    _core = load_installed_core()
from ._layers import RNN, TimeRNN
from . import reference

__version__ = "0.1.0"

__all__ = ["RNN", "TimeRNN", "reference"]

