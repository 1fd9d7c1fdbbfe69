"""The pure-NumPy reference: a twin of every compiled layer, written from the
formulas, one time step at a time. The oracle of the test suite and the slow
baseline of the benchmarks; same APIs as the compiled classes. A leaf: it
imports nothing of the compiled package (the models built from these layers
are rnnscratch.models.reference).

rnn       RNN, TimeRNN (the formulas in its docstring)
lm        TimeEmbedding, TimeAffine, TimeSoftmaxWithLoss
gated     LSTM, TimeLSTM, GRU, TimeGRU, TimeDropout, TimeBiLSTM, TimeSigmoidWithLoss
attention WeightSum, AttentionWeight, Attention, TimeAttention (chapter 8)
basic     MatMul, Affine, Softmax, SoftmaxWithLoss, Sigmoid, SigmoidWithLoss, Dropout,
          Embedding (the book's common/layers.py)
_checks   the argument checks the layers share

The dtype rule, the activation names and check are rnnscratch._policy's, the
same as the compiled classes' (ACTIVATIONS and compute_dtype are re-exported
here).
"""
from .._policy import ACTIVATIONS, compute_dtype
from .attention import Attention, AttentionWeight, TimeAttention, WeightSum
from .basic import (Affine, Dropout, Embedding, MatMul, Sigmoid, SigmoidWithLoss, Softmax,
                    SoftmaxWithLoss)
from .gated import GRU, LSTM, TimeBiLSTM, TimeDropout, TimeGRU, TimeLSTM, TimeSigmoidWithLoss
from .lm import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .rnn import RNN, TimeRNN
# the per-step arithmetic, for tests that rebuild a loop from it
from .rnn import _activate, _step_backward  # noqa: F401

__all__ = ["RNN", "TimeRNN", "ACTIVATIONS", "compute_dtype",
           "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss",
           "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeDropout", "TimeBiLSTM", "TimeSigmoidWithLoss",
           "WeightSum", "AttentionWeight", "Attention", "TimeAttention",
           "MatMul", "Affine", "Softmax", "SoftmaxWithLoss", "Sigmoid", "SigmoidWithLoss",
           "Dropout", "Embedding"]
