"""The models built from the NumPy reference layers (rnnscratch.reference):
each compiled model's composition with the reference layer classes swapped
in, nothing else changed. The oracle of the model tests and the slow baseline
of the benchmarks; rnnscratch.reference itself holds layers only and imports
nothing of the compiled package.

With the compiled layers out of the way, the output heads run the book's way
(TimeAffine, then TimeSoftmaxWithLoss; a tied gradient merged into grads[0]
after backward)."""
from . import better_rnnlm, gen, rnnlm, seq2seq
from .base import RnnlmBase, reference_layers

__all__ = ["SimpleRnnlm", "Rnnlm", "BetterRnnlm", "RnnlmGen", "BetterRnnlmGen",
           "Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
           "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq"]


def _twin(compiled, **attrs):
    """The class ``compiled`` over the reference layers (``attrs``: the layer
    namespace, and the parts' classes for a whole encoder-decoder)."""
    doc = "%s built from the NumPy reference layers (see rnnscratch.%s).\n\n%s" % (
        compiled.__name__, compiled.__name__, compiled.__doc__ or "")
    return type(compiled.__name__, (compiled,),
                dict(attrs, __module__=__name__, __qualname__=compiled.__name__, __doc__=doc))


class SimpleRnnlm(RnnlmBase):
    """The chapter-5 model built from the NumPy reference layers (see rnnscratch.SimpleRnnlm)."""

    _layers = staticmethod(reference_layers)


_lm = _s2s = dict(_layers=staticmethod(reference_layers))

# chapter 6: Rnnlm, BetterRnnlm and their generators
Rnnlm = _twin(rnnlm.Rnnlm, **_lm)
BetterRnnlm = _twin(better_rnnlm.BetterRnnlm, **_lm)
RnnlmGen = _twin(gen.RnnlmGen, **_lm)
BetterRnnlmGen = _twin(gen.BetterRnnlmGen, **_lm)

# chapters 7-8: the encoder-decoders and their parts
Encoder = _twin(seq2seq.Encoder, **_s2s)
Decoder = _twin(seq2seq.Decoder, **_s2s)
PeekyDecoder = _twin(seq2seq.PeekyDecoder, **_s2s)
AttentionEncoder = _twin(seq2seq.AttentionEncoder, **_s2s)
AttentionDecoder = _twin(seq2seq.AttentionDecoder, **_s2s)
Seq2seq = _twin(seq2seq.Seq2seq, _encoder_class=Encoder, _decoder_class=Decoder, **_s2s)
PeekySeq2seq = _twin(seq2seq.PeekySeq2seq, _encoder_class=Encoder,
                     _decoder_class=PeekyDecoder, **_s2s)
AttentionSeq2seq = _twin(seq2seq.AttentionSeq2seq, _encoder_class=AttentionEncoder,
                         _decoder_class=AttentionDecoder, **_s2s)
