"""The models built from the compiled layers.

base           BaseModel (save_params / load_params in the book's format);
               RnnlmBase, the chapter-5 model's composition, and LstmLmBase,
               the chapter-6 models' (each shared with rnnscratch.reference,
               whose models only swap the layer classes)
simple_rnnlm   SimpleRnnlm
rnnlm          Rnnlm (one LSTM layer)
better_rnnlm   BetterRnnlm (two LSTM layers, dropout, weight tying)
gen            RnnlmGen, BetterRnnlmGen (text generation, chapter 7)
seq2seq        the chapters 7-8 encoder-decoders (Seq2seq, PeekySeq2seq,
               AttentionSeq2seq and their parts), one composition over a
               namespace of layer classes (shared with rnnscratch.reference)
"""
from .base import BaseModel, LstmLmBase, RnnlmBase
from .better_rnnlm import BetterRnnlm
from .gen import BetterRnnlmGen, RnnlmGen
from .rnnlm import Rnnlm
from .simple_rnnlm import SimpleRnnlm

__all__ = ["BaseModel", "RnnlmBase", "LstmLmBase", "SimpleRnnlm", "Rnnlm", "BetterRnnlm",
           "RnnlmGen", "BetterRnnlmGen"]

# --- seq2seq (chapters 7-8) ---
from .seq2seq import (AttentionDecoder, AttentionEncoder, AttentionSeq2seq,  # noqa: E402
                      Decoder, Encoder, PeekyDecoder, PeekySeq2seq, Seq2seq)

__all__ += ["Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
            "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq"]
