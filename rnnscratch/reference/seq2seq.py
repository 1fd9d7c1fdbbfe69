"""The chapter-7 and chapter-8 encoder-decoder models built from the NumPy
reference layers: the composition of rnnscratch.models.seq2seq over
rnnscratch.reference's TimeEmbedding, TimeLSTM, TimeAffine,
TimeSoftmaxWithLoss and TimeAttention (see that module for the API)."""
from ..models import seq2seq as _m

__all__ = ["Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
           "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq"]

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
