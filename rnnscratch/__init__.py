"""rnnscratch: the RNN layers of the "from scratch" deep-learning courses,
computed by C kernels, with the courses' APIs and a pure-NumPy reference.

    from rnnscratch import RNN, TimeRNN      # instead of common.time_layers
"""
try:
    from . import _core
except ImportError:  # a source checkout without an in-place build
    from ._loader import load_installed_core

    _core = load_installed_core()
from ._config import get_num_threads, set_num_threads, show_config
from ._layers import RNN, TimeRNN
from ._lm_layers import SimpleRnnlm, TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .optim import SGD, AdaGrad, Adam, Momentum, clip_grads
from .trainer import RnnlmTrainer, eval_perplexity
from . import datasets, diveintocode, optim, reference, testing, text, trainer

__version__ = "0.1.0"

__all__ = [
    "set_num_threads", "get_num_threads", "show_config",
    "RNN", "TimeRNN", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss", "SimpleRnnlm",
    "SGD", "Momentum", "AdaGrad", "Adam", "clip_grads", "RnnlmTrainer", "eval_perplexity",
    "datasets", "diveintocode", "optim", "reference", "testing", "text", "trainer",
]

