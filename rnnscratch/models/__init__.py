"""The models built from the compiled layers.

base           BaseModel (save_params / load_params in the book's format);
               RnnlmBase, the chapter-5 model's composition, and LstmLmBase,
               the chapter-6 models' (each shared with rnnscratch.reference,
               whose models only swap the layer classes)
simple_rnnlm   SimpleRnnlm
rnnlm          Rnnlm (one LSTM layer)
better_rnnlm   BetterRnnlm (two LSTM layers, dropout, weight tying)
gen            RnnlmGen, BetterRnnlmGen (text generation, chapter 7)
"""
from .base import BaseModel, LstmLmBase, RnnlmBase
from .better_rnnlm import BetterRnnlm
from .gen import BetterRnnlmGen, RnnlmGen
from .rnnlm import Rnnlm
from .simple_rnnlm import SimpleRnnlm

__all__ = ["BaseModel", "RnnlmBase", "LstmLmBase", "SimpleRnnlm", "Rnnlm", "BetterRnnlm",
           "RnnlmGen", "BetterRnnlmGen"]
