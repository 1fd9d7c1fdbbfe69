"""Training tools with the book's semantics (common/optimizer.py, common/trainer.py).

optim     SGD, Momentum, AdaGrad, Adam: update(params, grads) with the lists of
          parameter arrays and gradients; clip_grads; clip_and_update (the clip
          and the step in one pass)
trainer   RnnlmTrainer, eval_perplexity (and make_batch, remove_duplicate);
          Trainer, eval_seq2seq (the book's common/trainer.py, common/util.py)

The scratch course's optimizers, whose update(layer) a layer calls on itself,
are rnnscratch.diveintocode.SGD and rnnscratch.diveintocode.AdaGrad.
"""
from . import optim, trainer
from .optim import SGD, AdaGrad, Adam, Momentum, clip_and_update, clip_grads
from .trainer import RnnlmTrainer, Trainer, eval_perplexity, eval_seq2seq

__all__ = ["SGD", "Momentum", "AdaGrad", "Adam", "clip_grads", "clip_and_update",
           "RnnlmTrainer", "Trainer", "eval_perplexity", "eval_seq2seq", "optim", "trainer"]
