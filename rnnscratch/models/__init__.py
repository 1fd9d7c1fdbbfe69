"""The models built from the compiled layers.

base           RnnlmBase, the chapter-5 model's composition (shared with
               rnnscratch.reference.SimpleRnnlm, which only swaps the layers)
simple_rnnlm   SimpleRnnlm
"""
from .base import RnnlmBase
from .simple_rnnlm import SimpleRnnlm

__all__ = ["RnnlmBase", "SimpleRnnlm"]
