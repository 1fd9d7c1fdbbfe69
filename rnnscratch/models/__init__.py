"""The models built from the compiled layers.

base           RnnlmBase, the chapter-5 model's composition (shared with
               rnnscratch.reference.SimpleRnnlm, which only swaps the layers)
simple_rnnlm   SimpleRnnlm
seq2seq        the chapters 7-8 encoder-decoders (Seq2seq, PeekySeq2seq,
               AttentionSeq2seq and their parts), one composition over a
               namespace of layer classes (shared with rnnscratch.reference)
"""
from .base import RnnlmBase
from .simple_rnnlm import SimpleRnnlm

__all__ = ["RnnlmBase", "SimpleRnnlm"]

# --- seq2seq (chapters 7-8) ---
from .seq2seq import (AttentionDecoder, AttentionEncoder, AttentionSeq2seq,  # noqa: E402
                      Decoder, Encoder, PeekyDecoder, PeekySeq2seq, Seq2seq)

__all__ += ["Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
            "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq"]
