"""The models built from the NumPy reference layers: the same compositions as
the compiled models (rnnscratch.models), over the reference layer classes."""
from ..models.base import RnnlmBase, reference_layers
from ..models.better_rnnlm import BetterRnnlmModel
from ..models.gen import GenMixin
from ..models.rnnlm import RnnlmModel
from .gated import TimeLSTM  # noqa: F401  (the namespace's classes, for readers)
from .lm import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .rnn import TimeRNN

__all__ = ["SimpleRnnlm", "Rnnlm", "BetterRnnlm", "RnnlmGen", "BetterRnnlmGen"]


class SimpleRnnlm(RnnlmBase):
    """The chapter-5 model built from the NumPy reference layers (see rnnscratch.SimpleRnnlm)."""

    _layer_classes = (TimeEmbedding, TimeRNN, TimeAffine, TimeSoftmaxWithLoss)


class Rnnlm(RnnlmModel):
    """The chapter-6 LSTM model built from the NumPy reference layers (see rnnscratch.Rnnlm)."""

    _layer_namespace = staticmethod(reference_layers)


class BetterRnnlm(BetterRnnlmModel):
    """The chapter-6 improved model built from the NumPy reference layers
    (see rnnscratch.BetterRnnlm); the layers run one by one, the tied
    gradient merged into grads[0] after backward."""

    _layer_namespace = staticmethod(reference_layers)


class RnnlmGen(GenMixin, Rnnlm):
    def get_state(self):
        return self.lstm_layer.h, self.lstm_layer.c

    def set_state(self, state):
        self.lstm_layer.set_state(*state)


class BetterRnnlmGen(GenMixin, BetterRnnlm):
    def get_state(self):
        return [(layer.h, layer.c) for layer in self.lstm_layers]

    def set_state(self, states):
        for layer, state in zip(self.lstm_layers, states):
            layer.set_state(*state)
