"""Training tools with the book's semantics (common/optimizer.py, common/trainer.py).

optim     SGD, Momentum, AdaGrad, Adam: update(params, grads) with the lists of
          parameter arrays and gradients; clip_grads
trainer   RnnlmTrainer, eval_perplexity (and make_batch, remove_duplicate);
          Trainer, eval_seq2seq (the book's common/trainer.py, common/util.py)

The scratch course's optimizers, whose update(layer) a layer calls on itself,
are rnnscratch.diveintocode.SGD and rnnscratch.diveintocode.AdaGrad.
"""
from . import optim, trainer
from .optim import SGD, AdaGrad, Adam, Momentum, clip_grads
from .trainer import RnnlmTrainer, eval_perplexity

__all__ = ["SGD", "Momentum", "AdaGrad", "Adam", "clip_grads", "RnnlmTrainer",
           "eval_perplexity", "optim", "trainer"]

# --- seq2seq branch: the book's Trainer and eval_seq2seq (in trainer.py) ---
from .trainer import Trainer, eval_seq2seq  # noqa: E402

__all__ += ["Trainer", "eval_seq2seq"]
