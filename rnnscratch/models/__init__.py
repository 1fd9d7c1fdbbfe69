"""The models: each one composition over a namespace of layer classes, built
twice, from the compiled layers (here) and from the NumPy reference layers
(reference).

base           BaseModel (save_params / load_params in the book's format);
               RnnlmBase, the chapter-5 model's composition, and LstmLmBase,
               the chapter-6 models'
simple_rnnlm   SimpleRnnlm
rnnlm          Rnnlm (one LSTM layer)
better_rnnlm   BetterRnnlm (two LSTM layers, dropout, weight tying)
gen            RnnlmGen, BetterRnnlmGen (text generation, chapter 7)
seq2seq        the chapters 7-8 encoder-decoders (Seq2seq, PeekySeq2seq,
               AttentionSeq2seq and their parts)
reference      every model above built from rnnscratch.reference's layers
"""
from .base import BaseModel, LstmLmBase, RnnlmBase
from .better_rnnlm import BetterRnnlm
from .gen import BetterRnnlmGen, RnnlmGen
from .rnnlm import Rnnlm
from .seq2seq import (AttentionDecoder, AttentionEncoder, AttentionSeq2seq, Decoder, Encoder,
                      PeekyDecoder, PeekySeq2seq, Seq2seq)
from .simple_rnnlm import SimpleRnnlm
from . import reference

__all__ = ["BaseModel", "RnnlmBase", "LstmLmBase", "SimpleRnnlm", "Rnnlm", "BetterRnnlm",
           "RnnlmGen", "BetterRnnlmGen",
           "Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
           "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq", "reference"]
