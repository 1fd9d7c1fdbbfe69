"""The compiled layers: the course's classes, computed by rnnscratch._core.

rnn   RNN, TimeRNN                                     (common/time_layers.py)
lm    TimeEmbedding, TimeAffine, TimeSoftmaxWithLoss   (the chapter-5 model's others)
gated LSTM, TimeLSTM, GRU, TimeGRU, TimeBiLSTM,          (chapter 6 on)
      TimeDropout, TimeSigmoidWithLoss
attention  WeightSum, AttentionWeight, Attention, TimeAttention  (ch08/attention_layer.py)
basic MatMul, Affine, Softmax, SoftmaxWithLoss, Sigmoid, SigmoidWithLoss, Dropout,
      Embedding                                        (common/layers.py)
"""
from .attention import Attention, AttentionWeight, TimeAttention, WeightSum
from .basic import (Affine, Dropout, Embedding, MatMul, Sigmoid, SigmoidWithLoss, Softmax,
                    SoftmaxWithLoss)
from .gated import (GRU, LSTM, TimeBiLSTM, TimeDropout, TimeGRU, TimeLSTM,
                    TimeSigmoidWithLoss)
from .lm import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .rnn import RNN, TimeRNN

__all__ = ["RNN", "TimeRNN", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss",
           "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM", "TimeDropout", "TimeSigmoidWithLoss",
           "WeightSum", "AttentionWeight", "Attention", "TimeAttention",
           "MatMul", "Affine", "Softmax", "SoftmaxWithLoss", "Sigmoid", "SigmoidWithLoss",
           "Dropout", "Embedding"]
