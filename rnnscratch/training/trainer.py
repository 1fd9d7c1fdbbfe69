"""Training loop and evaluation of the chapter-5 language models (course semantics).

RnnlmTrainer(model, optimizer).fit(xs, ts, max_epoch, batch_size, time_size,
max_grad, eval_interval) runs truncated BPTT over a corpus: the batch rows read
the corpus sequentially from `batch_size` evenly spaced offsets, so the
stateful RNN carries its hidden state from one block of `time_size` steps to
the next. Batches are built with one fancy-indexing operation, not a Python
loop per element.
"""
import os
import sys
import time

import numpy as np

from .optim import clip_and_update

__all__ = ["RnnlmTrainer", "eval_perplexity", "remove_duplicate", "make_batch",
           "params_and_grads", "Progress", "Trainer", "eval_seq2seq"]


def make_batch(x, t, offsets, time_idx, time_size):
    """batch_x[i, k] = x[(offsets[i] + time_idx + k) % len(x)], same for t, as int32."""
    pos = (np.asarray(offsets)[:, None] + (time_idx + np.arange(time_size))[None, :]) % len(x)
    return np.asarray(x)[pos].astype(np.int32), np.asarray(t)[pos].astype(np.int32)


def _is_transposed_view(a, b):
    """Whether b is exactly a.T as memory (same buffer, shape and strides
    reversed): then their values are equal without comparing them."""
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    return (a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype
            and a.shape[::-1] == b.shape and a.strides[::-1] == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def params_and_grads(model):
    """The lists the optimizer updates, the book's remove_duplicate(params,
    grads) semantics: a model that merges its own shared gradients in place
    (unique_params_grads(), the chapter-6 models) is asked for them; any other
    model's lists go through remove_duplicate."""
    unique = getattr(model, "unique_params_grads", None)
    if callable(unique):
        return unique()
    return remove_duplicate(model.params, model.grads)


def remove_duplicate(params, grads):
    """Merge parameters that are shared between layers (the same array, or one the
    transpose of the other as in weight tying), adding up their gradients.
    Returns new lists; the gradient arrays of the kept parameters are updated in place."""
    params, grads = list(params), list(grads)
    while True:
        found = False
        L = len(params)
        for i in range(L - 1):
            for j in range(i + 1, L):
                if params[i] is params[j]:
                    grads[i] += grads[j]
                    found = True
                elif (params[i].ndim == 2 and params[j].ndim == 2
                      and params[i].T.shape == params[j].shape
                      and np.may_share_memory(params[i], params[j])
                      and (_is_transposed_view(params[i], params[j])
                           or np.array_equal(params[i].T, params[j]))):
                    grads[i] += grads[j].T
                    found = True
                if found:
                    params.pop(j)
                    grads.pop(j)
                    break
            if found:
                break
        if not found:
            return params, grads


def _step(model, optimizer, batch_x, batch_t, max_grad, params_grads):
    """One iteration of the book's trainers: forward, backward, the unique
    (params, grads) (``params_grads()``), clip_grads when max_grad, update
    (the two in one pass over each array: clip_and_update); the loss."""
    loss = model.forward(batch_x, batch_t)
    model.backward()
    params, grads = params_grads()
    if max_grad is not None:
        clip_and_update(optimizer, params, grads, max_grad)
    else:
        optimizer.update(params, grads)
    return loss


def _fit_loop(trainer, max_epoch, max_iters, eval_interval, epoch, max_grad, params_grads,
              what, value_of, history):
    """The training loop of both trainers (the book's): epoch() starts an epoch
    and returns batch(iters) -> (batch_x, batch_t); every eval_interval-th
    iteration value_of(the mean loss since the last report) is printed as
    `what` and appended to history."""
    model, optimizer = trainer.model, trainer.optimizer
    total_loss = 0
    loss_count = 0

    start_time = time.time()
    for _ in range(max_epoch):
        batch = epoch()
        for iters in range(max_iters):
            batch_x, batch_t = batch(iters)

            total_loss += _step(model, optimizer, batch_x, batch_t, max_grad, params_grads)
            loss_count += 1

            if (eval_interval is not None) and (iters % eval_interval) == 0:
                value = value_of(total_loss / loss_count)
                elapsed_time = time.time() - start_time
                print('| epoch %d |  iter %d / %d | time %d[s] | %s %.2f'
                      % (trainer.current_epoch + 1, iters + 1, max_iters, elapsed_time, what,
                         value))
                history.append(float(value))
                total_loss, loss_count = 0, 0

        trainer.current_epoch += 1


def _plot(values, eval_interval, ylabel, ylim=None):
    """The book's trainers' plot(): values against iterations (x eval_interval)."""
    import matplotlib.pyplot as plt

    x = np.arange(len(values))
    if ylim is not None:
        plt.ylim(*ylim)
    plt.plot(x, values, label='train')
    plt.xlabel('iterations (x' + str(eval_interval) + ')')
    plt.ylabel(ylabel)
    plt.show()


class RnnlmTrainer:
    """fit(xs, ts, max_epoch=10, batch_size=20, time_size=35, max_grad=None,
    eval_interval=20); `ppl_list` holds the perplexity every eval_interval
    iterations; plot(ylim=None) draws it (matplotlib)."""

    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer
        self.time_idx = None
        self.ppl_list = None
        self.eval_interval = None
        self.current_epoch = 0

    def get_batch(self, x, t, batch_size, time_size):
        data_size = len(x)
        jump = data_size // batch_size
        offsets = np.arange(batch_size) * jump
        batch_x, batch_t = make_batch(x, t, offsets, self.time_idx, time_size)
        self.time_idx += time_size
        return batch_x, batch_t

    def fit(self, xs, ts, max_epoch=10, batch_size=20, time_size=35,
            max_grad=None, eval_interval=20):
        data_size = len(xs)
        max_iters = data_size // (batch_size * time_size)
        self.time_idx = 0
        self.ppl_list = []
        self.eval_interval = eval_interval
        model = self.model

        def epoch():
            return lambda iters: self.get_batch(xs, ts, batch_size, time_size)

        _fit_loop(self, max_epoch, max_iters, eval_interval, epoch, max_grad,
                  lambda: params_and_grads(model), "perplexity", np.exp, self.ppl_list)

    def plot(self, ylim=None):
        _plot(self.ppl_list, self.eval_interval, 'perplexity', ylim)


class Progress:
    """A one-line progress bar on a stream (stderr by default), drawn only
    once `delay` seconds have passed (a short job prints nothing) and at most
    `interval` times a second: `update(done, extra="")`, `close()`."""

    def __init__(self, total, label="", stream=None, delay=1.0, interval=0.2, width=24):
        self.total, self.label = total, label
        self.stream = sys.stderr if stream is None else stream
        self.delay, self.interval, self.width = delay, interval, width
        self.start = time.perf_counter()
        self._last = None
        self.shown = False

    def update(self, done, extra=""):
        now = time.perf_counter()
        if now - self.start < self.delay and done < self.total:
            return
        if self._last is not None and now - self._last < self.interval and done < self.total:
            return
        if not self.shown and done >= self.total and now - self.start < self.delay:
            return
        self._last = now
        self.shown = True
        filled = int(self.width * done / self.total) if self.total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label}[{bar}] {done}/{self.total} {extra}\x1b[K")
        self.stream.flush()

    def close(self):
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def eval_perplexity(model, corpus, batch_size=10, time_size=35, progress=True):
    """exp(mean loss) of `model` over `corpus` read as the book does: batch
    row i from offset i * jump, jump = (len(corpus) - 1) // batch_size, the
    stateful model carried across blocks of time_size words, no updates.

    A model with eval_loss(xs, ts) (the chapter-6 models) is run through it:
    dropout off, nothing kept for backward, the head's buffer reused. Others:
    forward(xs, ts, train_flg=False), or forward(xs, ts).

    progress=True prints what the book's prints, on stdout: 'evaluating
    perplexity ...', an 'i / n' counter rewritten in place ('\\r') after each
    block, then an empty line (a script run with `python -m rnnscratch run`
    prints the same lines); progress='bar': a progress bar on stderr instead,
    shown once the evaluation takes more than a second; False: silent."""
    corpus = np.asarray(corpus)
    corpus_size = len(corpus)
    max_iters = (corpus_size - 1) // (batch_size * time_size)
    if max_iters < 1:
        raise ValueError(f"corpus: {corpus_size} words are too few for one batch of "
                         f"{batch_size} x {time_size} (+1) words")
    jump = (corpus_size - 1) // batch_size
    offsets = np.arange(batch_size) * jump
    steps = np.arange(time_size)
    run = getattr(model, "eval_loss", None)
    if not callable(run):
        def run(xs, ts):
            try:
                return model.forward(xs, ts, train_flg=False)
            except TypeError:
                return model.forward(xs, ts)

    if progress not in (True, False, "bar"):
        raise ValueError(f"progress: expected True, False or 'bar', got {progress!r}")
    book_style = progress is True
    if book_style:
        print("evaluating perplexity ...")
    bar = Progress(max_iters, "evaluating perplexity ") if progress == "bar" else None
    total_loss = 0.0
    try:
        for iters in range(max_iters):
            pos = offsets[:, None] + (iters * time_size + steps)[None, :]
            xs = corpus[pos % corpus_size].astype(np.int32)
            ts = corpus[(pos + 1) % corpus_size].astype(np.int32)
            total_loss += float(run(xs, ts))
            if book_style:
                sys.stdout.write("\r%d / %d" % (iters, max_iters))
                sys.stdout.flush()
            elif bar:
                bar.update(iters + 1)
    finally:
        if bar:
            bar.close()
    if book_style:
        print("")
    return float(np.exp(total_loss / max_iters))
    for iters in range(max_iters):
        pos = offsets[:, None] + (iters * time_size + steps)[None, :]
        xs = corpus[pos % corpus_size].astype(np.int32)
        ts = corpus[(pos + 1) % corpus_size].astype(np.int32)
        try:
            loss = model.forward(xs, ts, train_flg=False)
        except TypeError:
            loss = model.forward(xs, ts)
        total_loss += loss

        sys.stdout.write('\r%d / %d' % (iters, max_iters))
        sys.stdout.flush()

    print('')
    ppl = np.exp(total_loss / max_iters)
    return ppl


# --------------------------------------------------------------------------
# seq2seq branch: the book's Trainer (common/trainer.py) and eval_seq2seq
# (common/util.py), used by chapters 1-4 and 7-8
# --------------------------------------------------------------------------

class Trainer:
    """The book's mini-batch trainer. fit(x, t, max_epoch=10, batch_size=32,
    max_grad=None, eval_interval=20): every epoch the rows are shuffled with
    np.random.permutation (NumPy's global generator, as the book draws it),
    then data_size // batch_size iterations of forward / backward /
    remove_duplicate / clip_grads (when max_grad) / optimizer.update. Every
    eval_interval iterations the mean loss since the last report is printed
    and appended to `loss_list`. plot(ylim=None) draws loss_list (matplotlib)."""

    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer
        self.loss_list = []
        self.eval_interval = None
        self.current_epoch = 0

    def fit(self, x, t, max_epoch=10, batch_size=32, max_grad=None, eval_interval=20):
        x, t = np.asarray(x), np.asarray(t)
        if len(x) != len(t):
            raise ValueError(f"t: expected {len(x)} rows like x, got {len(t)}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
        if eval_interval is not None and (isinstance(eval_interval, bool) or not isinstance(
                eval_interval, (int, np.integer)) or eval_interval < 1):
            raise ValueError(f"eval_interval: expected a positive integer or None, "
                             f"got {eval_interval!r}")
        data_size = len(x)
        max_iters = data_size // batch_size
        self.eval_interval = eval_interval
        model = self.model

        def epoch():  # the rows shuffled again, as the book does at every epoch
            nonlocal x, t
            idx = np.random.permutation(np.arange(data_size))
            x = x[idx]
            t = t[idx]
            return lambda iters: (x[iters * batch_size:(iters + 1) * batch_size],
                                  t[iters * batch_size:(iters + 1) * batch_size])

        _fit_loop(self, max_epoch, max_iters, eval_interval, epoch, max_grad,
                  lambda: remove_duplicate(model.params, model.grads), "loss", lambda v: v,
                  self.loss_list)

    def plot(self, ylim=None):
        _plot(self.loss_list, self.eval_interval, 'loss', ylim)


def eval_seq2seq(model, question, correct, id_to_char, verbose=False, is_reverse=False):
    """1 when model.generate(question, correct[0], len(correct) - 1) is
    correct[1:] exactly, else 0 (the book's common/util.eval_seq2seq). question
    (1, T_in) ids, correct (T_out,) or (1, T_out) ids whose first is the start
    symbol. verbose prints Q / T / the guess marked right or wrong (the
    question reversed back when is_reverse)."""
    correct = np.asarray(correct).flatten()
    if correct.size < 1:
        raise ValueError("correct: expected at least the start symbol, got an empty array")
    start_id = correct[0]
    correct = correct[1:]
    guess = model.generate(question, start_id, len(correct))

    question = ''.join([id_to_char[int(c)] for c in np.asarray(question).flatten()])
    correct = ''.join([id_to_char[int(c)] for c in correct])
    guess = ''.join([id_to_char[int(c)] for c in guess])

    if verbose:
        if is_reverse:
            question = question[::-1]
        colors = {'ok': '\033[92m', 'fail': '\033[91m', 'close': '\033[0m'}
        print('Q', question)
        print('T', correct)
        is_windows = os.name == 'nt'
        if correct == guess:
            mark = 'O' if is_windows else colors['ok'] + '\u2611' + colors['close']
        else:
            mark = 'X' if is_windows else colors['fail'] + '\u2612' + colors['close']
        print(mark + ' ' + guess)
        print('---')

    return 1 if guess == correct else 0
