"""The chapter-5 model built from the NumPy reference layers."""
from ..models.base import RnnlmBase
from .lm import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .rnn import TimeRNN

__all__ = ["SimpleRnnlm"]


class SimpleRnnlm(RnnlmBase):
    """The chapter-5 model built from the NumPy reference layers (see rnnscratch.SimpleRnnlm)."""

    _layer_classes = (TimeEmbedding, TimeRNN, TimeAffine, TimeSoftmaxWithLoss)
