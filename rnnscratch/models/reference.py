"""The models built from the NumPy reference layers (rnnscratch.reference):
the same compositions as the compiled models of this package, over the
reference layer classes. The oracle of the model tests and the slow baseline
of the benchmarks; rnnscratch.reference itself holds layers only and imports
nothing of the compiled package."""
from ..reference.lm import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from ..reference.rnn import TimeRNN
from . import seq2seq as _m
from .base import RnnlmBase, reference_layers
from .better_rnnlm import BetterRnnlmModel
from .gen import GenMixin
from .rnnlm import RnnlmModel

__all__ = ["SimpleRnnlm", "Rnnlm", "BetterRnnlm", "RnnlmGen", "BetterRnnlmGen",
           "Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
           "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq"]


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


# --- chapters 7-8: the encoder-decoders over the reference layers ---
_ref = staticmethod(_m.reference_layers)


class Encoder(_m.Encoder):
    __doc__ = _m.Encoder.__doc__
    _layers = _ref


class Decoder(_m.Decoder):
    __doc__ = _m.Decoder.__doc__
    _layers = _ref


class Seq2seq(_m.Seq2seq):
    __doc__ = _m.Seq2seq.__doc__
    _layers = _ref
    _encoder_class = Encoder
    _decoder_class = Decoder


class PeekyDecoder(_m.PeekyDecoder):
    __doc__ = _m.PeekyDecoder.__doc__
    _layers = _ref


class PeekySeq2seq(_m.PeekySeq2seq):
    __doc__ = _m.PeekySeq2seq.__doc__
    _layers = _ref
    _encoder_class = Encoder
    _decoder_class = PeekyDecoder


class AttentionEncoder(_m.AttentionEncoder):
    __doc__ = _m.AttentionEncoder.__doc__
    _layers = _ref


class AttentionDecoder(_m.AttentionDecoder):
    __doc__ = _m.AttentionDecoder.__doc__
    _layers = _ref


class AttentionSeq2seq(_m.AttentionSeq2seq):
    __doc__ = _m.AttentionSeq2seq.__doc__
    _layers = _ref
    _encoder_class = AttentionEncoder
    _decoder_class = AttentionDecoder
