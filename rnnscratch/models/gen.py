"""Text generation with the chapter-6 models (the book's ch07/rnnlm_gen.py):
RnnlmGen and BetterRnnlmGen, built from the compiled layers.

generate(start_id, skip_ids=None, sample_size=100) feeds one word at a time
(a (1,1) batch) through the stateful model and samples the next word from the
softmax of its scores with np.random.choice, like the book; sampled ids in
skip_ids are drawn again. get_state() / set_state(state) save and restore
the LSTM state(s).
"""
import numpy as np

from .base import all_or_nothing
from .better_rnnlm import BetterRnnlm
from .rnnlm import Rnnlm

__all__ = ["RnnlmGen", "BetterRnnlmGen", "GenMixin"]


def _softmax1d(x):
    x = x - np.max(x)
    return np.exp(x) / np.sum(np.exp(x))


class GenMixin:
    _draws_random = True  # generate samples with np.random.choice (the guard saves its state)

    def generate(self, start_id, skip_ids=None, sample_size=100):
        """The book's generate, all or nothing: when it raises, the LSTM
        state, dropout's flags and np.random are as before the call."""
        return all_or_nothing([self] + list(self.layers) + [self.loss_layer],
                              lambda keep: self._generate(start_id, skip_ids, sample_size))

    def _generate(self, start_id, skip_ids, sample_size):
        word_ids = [start_id]
        x = start_id
        while len(word_ids) < sample_size:
            x = np.array(x).reshape(1, 1)
            score = self.predict(x)
            p = _softmax1d(np.asarray(score).flatten())
            sampled = np.random.choice(len(p), size=1, p=p)
            if skip_ids is None or sampled not in skip_ids:
                x = sampled
                word_ids.append(int(x[0]))
        return word_ids


class RnnlmGen(GenMixin, Rnnlm):
    """Rnnlm with generate(start_id, skip_ids=None, sample_size=100),
    get_state() -> (h, c), set_state((h, c))."""

    def get_state(self):
        return self.lstm_layer.h, self.lstm_layer.c

    def set_state(self, state):
        self.lstm_layer.set_state(*state)


class BetterRnnlmGen(GenMixin, BetterRnnlm):
    """BetterRnnlm with generate(start_id, skip_ids=None, sample_size=100),
    get_state() -> [(h, c), (h, c)], set_state(states)."""

    def get_state(self):
        return [(layer.h, layer.c) for layer in self.lstm_layers]

    def set_state(self, states):
        for layer, state in zip(self.lstm_layers, states):
            layer.set_state(*state)
