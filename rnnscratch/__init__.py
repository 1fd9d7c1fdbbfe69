"""rnnscratch: the RNN layers of the "from scratch" deep-learning courses,
computed by C kernels, with the courses' APIs and a pure-NumPy reference.

    from rnnscratch import RNN, TimeRNN      # instead of common.time_layers

The package:

    layers/        the compiled layers (RNN, TimeRNN; the language model's; LSTM, GRU, ...;
                   the book's common/layers.py)
    models/        the models built from them (SimpleRnnlm; Seq2seq, PeekySeq2seq,
                   AttentionSeq2seq and their parts)
    training/      the book's optimizers, clip_grads, RnnlmTrainer, Trainer,
                   eval_seq2seq (optim, trainer)
    reference/     the NumPy twin of every class above
    diveintocode   the scratch course's front-end: SimpleRNN, FC, and its own
                   SGD/AdaGrad (update(layer), not the book's update(params, grads))
    testing        check a student's class against ours
    datasets, text, bench, demo, __main__   data, preprocessing, command line
    _policy        the rules all of them share (dtype, activation, checks)
"""
try:
    from . import _core
except ImportError:  # a source checkout without an in-place build
    from ._loader import load_installed_core

    _core = load_installed_core()
from ._config import get_num_threads, set_num_threads, show_config
from .layers import RNN, TimeAffine, TimeEmbedding, TimeRNN, TimeSoftmaxWithLoss
# gated layers (chapter 6 on)
from .layers import (GRU, LSTM, TimeBiLSTM, TimeDropout, TimeGRU, TimeLSTM,
                     TimeSigmoidWithLoss)
from .models import SimpleRnnlm
from .training import SGD, AdaGrad, Adam, Momentum, RnnlmTrainer, clip_grads, eval_perplexity
from .training import optim, trainer  # rnnscratch.optim, rnnscratch.trainer
from . import datasets, diveintocode, layers, models, reference, testing, text, training

# --- chapter 6 (branch ch6): the LSTM language models, generation, BaseModel ---
from .models import BaseModel, BetterRnnlm, BetterRnnlmGen, Rnnlm, RnnlmGen
# --- end chapter 6 ---
# --- seq2seq (chapters 7-8): the book's plain layers, the encoder-decoders, Trainer ---
from .layers import (Affine, Dropout, Embedding, MatMul, Sigmoid,  # noqa: E402
                     SigmoidWithLoss, Softmax, SoftmaxWithLoss)
from .models import (AttentionDecoder, AttentionEncoder, AttentionSeq2seq,  # noqa: E402
                     Decoder, Encoder, PeekyDecoder, PeekySeq2seq, Seq2seq)
from .training import Trainer, eval_seq2seq  # noqa: E402

__version__ = "0.1.0"

# --- front door (frontdoor branch): patch() the book's own scripts, Jupyter extension ---
from .patching import is_patched, patch, patched, unpatch  # noqa: E402
from ._config import check_environment as _check_environment  # noqa: E402

_check_environment()  # unreadable RNNSCRATCH_* / OMP_NUM_THREADS values: a warning


def load_ipython_extension(ipython):
    """``%load_ext rnnscratch``: patch() on, for the cells that follow."""
    patch()
    n = sum(e.status in ("replaced", "pending") for e in patched())
    print("rnnscratch: the book's classes in common.* are replaced by %d compiled ones "
          "(rnnscratch.patched() lists them; %%unload_ext rnnscratch undoes it)" % n)


def unload_ipython_extension(ipython):
    """``%unload_ext rnnscratch``: unpatch()."""
    unpatch()
# --- end front door ---

__all__ = [
    "set_num_threads", "get_num_threads", "show_config",
    "RNN", "TimeRNN", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss", "SimpleRnnlm",
    "SGD", "Momentum", "AdaGrad", "Adam", "clip_grads", "RnnlmTrainer", "eval_perplexity",
    "datasets", "diveintocode", "optim", "reference", "testing", "text", "trainer",
    "layers", "models", "training",
    "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM", "TimeDropout", "TimeSigmoidWithLoss",
    "patch", "unpatch", "patched", "is_patched",
    "BaseModel", "Rnnlm", "BetterRnnlm", "RnnlmGen", "BetterRnnlmGen",
]
__all__ += [  # seq2seq (chapters 7-8)
    "MatMul", "Affine", "Softmax", "SoftmaxWithLoss", "Sigmoid", "SigmoidWithLoss", "Dropout",
    "Embedding", "Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
    "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq", "Trainer", "eval_seq2seq",
]

# --- attention (chapter 8): WeightSum, AttentionWeight, Attention, TimeAttention ---
from .layers.attention import Attention, AttentionWeight, TimeAttention, WeightSum  # noqa: E402
__all__ += ["WeightSum", "AttentionWeight", "Attention", "TimeAttention"]
# --- end attention ---
