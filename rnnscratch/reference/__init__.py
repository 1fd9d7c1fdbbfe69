"""The pure-NumPy reference: a twin of every compiled class, written from the
formulas, one time step at a time. The oracle of the test suite and the slow
baseline of the benchmarks; same APIs as the compiled classes.

rnn       RNN, TimeRNN (the formulas in its docstring)
lm        TimeEmbedding, TimeAffine, TimeSoftmaxWithLoss
models    SimpleRnnlm, Rnnlm, BetterRnnlm, RnnlmGen, BetterRnnlmGen
attention WeightSum, AttentionWeight, Attention, TimeAttention (chapter 8)
basic     MatMul, Affine, Softmax, SoftmaxWithLoss, Sigmoid, SigmoidWithLoss, Dropout,
          Embedding (the book's common/layers.py)
seq2seq   Encoder, Decoder, Seq2seq, PeekyDecoder, PeekySeq2seq, AttentionEncoder,
          AttentionDecoder, AttentionSeq2seq (chapters 7-8, over these twins)
gated     LSTM, TimeLSTM, GRU, TimeGRU, TimeDropout, TimeBiLSTM, TimeSigmoidWithLoss
_checks   the argument checks the layers share

The dtype rule, the activation names and check are rnnscratch._policy's, the
same as the compiled classes' (ACTIVATIONS and compute_dtype are re-exported
here).
"""
from .._policy import ACTIVATIONS, compute_dtype
from .attention import Attention, AttentionWeight, TimeAttention, WeightSum
from .gated import GRU, LSTM, TimeBiLSTM, TimeDropout, TimeGRU, TimeLSTM, TimeSigmoidWithLoss
from .lm import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .models import BetterRnnlm, BetterRnnlmGen, Rnnlm, RnnlmGen, SimpleRnnlm
from .rnn import RNN, TimeRNN
# the per-step arithmetic, for tests that rebuild a loop from it
from .rnn import _activate, _step_backward  # noqa: F401

__all__ = ["RNN", "TimeRNN", "ACTIVATIONS", "compute_dtype",
           "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss", "SimpleRnnlm",
           "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeDropout", "TimeBiLSTM", "TimeSigmoidWithLoss",
           "WeightSum", "AttentionWeight", "Attention", "TimeAttention",
           "Rnnlm", "BetterRnnlm", "RnnlmGen", "BetterRnnlmGen"]

# --- seq2seq branch: basic (the book's common/layers.py) and the chapters 7-8 models ---
from .basic import (Affine, Dropout, Embedding, MatMul, Sigmoid,  # noqa: E402
                    SigmoidWithLoss, Softmax, SoftmaxWithLoss)
from .seq2seq import (AttentionDecoder, AttentionEncoder, AttentionSeq2seq,  # noqa: E402
                      Decoder, Encoder, PeekyDecoder, PeekySeq2seq, Seq2seq)

__all__ += ["MatMul", "Affine", "Softmax", "SoftmaxWithLoss", "Sigmoid", "SigmoidWithLoss",
            "Dropout", "Embedding", "Encoder", "Decoder", "Seq2seq", "PeekyDecoder",
            "PeekySeq2seq", "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq"]
