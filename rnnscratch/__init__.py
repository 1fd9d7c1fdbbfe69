"""rnnscratch: the recurrent layers and models of the "from scratch"
deep-learning courses (ゼロから作るDeep Learning ❷ chapters 5-8, the scratch
course's SimpleRNN), computed by C kernels, with the courses' APIs and a
pure-NumPy reference.

    from rnnscratch import TimeLSTM      # instead of common.time_layers

The package:

    layers/       the compiled layers (RNN, TimeRNN; the language model's; LSTM,
                  GRU, ...; attention; the book's common/layers.py)
    models/       the models, one composition each, built from the compiled
                  layers and (models.reference) from the NumPy ones
    training/     the book's optimizers, clip_grads, RnnlmTrainer, Trainer,
                  eval_seq2seq (optim, trainer)
    reference/    the NumPy twin of every layer; imports nothing compiled
    datasets/     PTB, the book's sequence files, binary addition
    tools/        the command line: run, demo, train, bench, check, info
    diveintocode  the scratch course's front-end: SimpleRNN, FC, and its own
                  SGD/AdaGrad (update(layer), not the book's update(params, grads))
    testing       check a student's class against ours
    patching      patch(): the book's own scripts on the compiled classes
    text          preprocessing (the book's common/util.py)
    torch_bridge  to_torch / from_torch
    _policy       the rules all of them share (dtype, activation, checks)
    _config       threads, SIMD path, environment
"""
from ._loader import _core  # noqa: F401  (rnnscratch._core)
from ._config import check_environment as _check_environment
from ._config import get_num_threads, set_num_threads, show_config
from .layers import (GRU, LSTM, RNN, Affine, Attention, AttentionWeight, Dropout, Embedding,
                     MatMul, Sigmoid, SigmoidWithLoss, Softmax, SoftmaxWithLoss, TimeAffine,
                     TimeAttention, TimeBiLSTM, TimeDropout, TimeEmbedding, TimeGRU, TimeLSTM,
                     TimeRNN, TimeSigmoidWithLoss, TimeSoftmaxWithLoss, WeightSum)
from .models import (AttentionDecoder, AttentionEncoder, AttentionSeq2seq, BaseModel,
                     BetterRnnlm, BetterRnnlmGen, Decoder, Encoder, PeekyDecoder, PeekySeq2seq,
                     Rnnlm, RnnlmGen, Seq2seq, SimpleRnnlm)
from .training import (SGD, AdaGrad, Adam, Momentum, RnnlmTrainer, Trainer, clip_grads,
                       eval_perplexity, eval_seq2seq)
from .training import optim, trainer  # rnnscratch.optim, rnnscratch.trainer
from . import datasets, diveintocode, layers, models, reference, testing, text, training
from .patching import is_patched, patch, patched, unpatch

__version__ = "0.1.0"

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


__all__ = [
    # configuration
    "set_num_threads", "get_num_threads", "show_config",
    # layers (rnnscratch.layers)
    "RNN", "TimeRNN", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss",
    "LSTM", "TimeLSTM", "GRU", "TimeGRU", "TimeBiLSTM", "TimeDropout", "TimeSigmoidWithLoss",
    "WeightSum", "AttentionWeight", "Attention", "TimeAttention",
    "MatMul", "Affine", "Softmax", "SoftmaxWithLoss", "Sigmoid", "SigmoidWithLoss", "Dropout",
    "Embedding",
    # models (rnnscratch.models)
    "BaseModel", "SimpleRnnlm", "Rnnlm", "BetterRnnlm", "RnnlmGen", "BetterRnnlmGen",
    "Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
    "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq",
    # training (rnnscratch.training)
    "SGD", "Momentum", "AdaGrad", "Adam", "clip_grads", "RnnlmTrainer", "eval_perplexity",
    "Trainer", "eval_seq2seq",
    # the book's scripts on the compiled classes
    "patch", "unpatch", "patched", "is_patched",
    # subpackages and modules
    "datasets", "diveintocode", "optim", "reference", "testing", "text", "trainer",
    "layers", "models", "training",
]
