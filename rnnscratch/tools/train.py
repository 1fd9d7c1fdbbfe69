"""`python -m rnnscratch train`: the chapter-6 language models on PTB, resumable.

The book's recipe (ch06/train_better_rnnlm.py) by default: SGD with lr 20,
gradients clipped to norm 0.25, batches of 20 rows x 35 time steps read by
truncated BPTT (each epoch from the start of the corpus, the model's state
reset at the end of it); after every epoch the validation perplexity, the
best weights saved (the book's file format, <ClassName>.pkl), the learning
rate divided by 4 when the validation perplexity did not improve; at the end
the test perplexity. Every hyper-parameter is a flag.

Everything lives in --out-dir: the best checkpoint, log.csv (the training
perplexity every --eval-interval iterations and the validation/test
perplexities), and state.pkl, the full state of the run (weights in float32,
optimizer state, learning rate, epoch, position in the data, the LSTM states,
NumPy's global generator, best perplexity, the running loss). It is written
at the end of every epoch, every --save-minutes, at Ctrl-C (after the
iteration in progress) and when --max-minutes runs out; `--resume` continues
from it, and the run ends exactly where the uninterrupted run would have.
A second Ctrl-C stops at once (the last saved state stays).
"""
import argparse
import csv
import math
import os
import pickle
import signal
import sys
import time

import numpy as np

__all__ = ["main", "run", "MODELS", "STATE_VERSION"]

STATE_VERSION = 1

# model -> (class name in rnnscratch, default wordvec, hidden, epochs)
MODELS = {
    "rnnlm": ("Rnnlm", 100, 100, 4),
    "better-rnnlm": ("BetterRnnlm", 650, 650, 40),
    "simple-rnnlm": ("SimpleRnnlm", 100, 100, 4),
}

# the flags that define the run: a resumed run must agree on them
_RUN_KEYS = ("model", "wordvec", "hidden", "dropout", "batch_size", "time_size", "max_grad",
             "lr_decay", "optimizer", "seed", "train_words", "val_words", "test_words",
             "corpus", "eval_batch_size")


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m rnnscratch train",
        description="Train a chapter-6 language model (the book's recipe by default), "
                    "resumable after Ctrl-C or a crash.")
    p.add_argument("--model", choices=sorted(MODELS), default="better-rnnlm",
                   help="rnnlm (1 LSTM, D=H=100), better-rnnlm (2 LSTMs, D=H=650, dropout, "
                        "weight tying; default), simple-rnnlm (chapter 5's RNN)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs (default: the book's, 4 for rnnlm and simple-rnnlm, 40 for "
                        "better-rnnlm)")
    p.add_argument("--wordvec", type=int, default=None, help="D (default 100, or 650)")
    p.add_argument("--hidden", type=int, default=None, help="H (default 100, or 650)")
    p.add_argument("--dropout", type=float, default=0.5, help="better-rnnlm's dropout ratio")
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--time-size", type=int, default=35)
    p.add_argument("--lr", type=float, default=20.0, help="initial learning rate (default 20)")
    p.add_argument("--max-grad", type=float, default=0.25,
                   help="clip the gradients' global norm to this (default 0.25; 0: no clipping)")
    p.add_argument("--lr-decay", type=float, default=4.0,
                   help="divide lr by this when the validation perplexity does not improve "
                        "(default 4; 1: never)")
    p.add_argument("--optimizer", choices=("sgd", "momentum", "adagrad", "adam"), default="sgd")
    p.add_argument("--seed", type=int, default=1,
                   help="seed of np.random (initial weights, dropout masks; default 1)")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="directory holding ptb.{train,valid,test}.txt (else $RNNSCRATCH_DATA, "
                        "the cache, or a download)")
    p.add_argument("--corpus", metavar="FILE", default=None,
                   help="train on this text file instead of PTB (words split on white space, "
                        "line ends as <eos>; 80/10/10 split into train/valid/test)")
    p.add_argument("--train-words", type=int, default=0,
                   help="use only the first N words of the training set (0: all)")
    p.add_argument("--val-words", type=int, default=0, help="first N words of the validation set")
    p.add_argument("--test-words", type=int, default=0, help="first N words of the test set")
    p.add_argument("--eval-batch-size", type=int, default=10,
                   help="batch rows of the perplexity evaluation (the book's 10)")
    p.add_argument("--eval-interval", type=int, default=20,
                   help="log the training perplexity every N iterations (default 20)")
    p.add_argument("--no-test", action="store_true", help="skip the test perplexity")
    p.add_argument("--test-on", choices=("last", "best"), default="last",
                   help="evaluate the test set with the last weights (the book) or the best "
                        "checkpoint")
    p.add_argument("--out-dir", metavar="DIR", default=None,
                   help="where the checkpoint, log.csv and state.pkl go (default "
                        "./run-<model>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in --out-dir/state.pkl")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop (state saved) after this many minutes of this session")
    p.add_argument("--save-minutes", type=float, default=10.0,
                   help="also save the state every N minutes within an epoch (default 10)")
    p.add_argument("--threads", type=int, default=None, help="rnnscratch.set_num_threads(N)")
    p.add_argument("--reference", action="store_true",
                   help="build the model from the NumPy reference layers (slow; for checks)")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="save the perplexity curves to FILE (needs matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


# --------------------------------------------------------------------------
# data

def _text_corpus(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        words = f.read().replace("\n", " <eos> ").split()
    w2i = {}
    ids = np.array([w2i.setdefault(w, len(w2i)) for w in words], dtype=np.int64)
    n = len(ids)
    a, b = int(n * 0.8), int(n * 0.9)
    return ids[:a], ids[a:b], ids[b:], len(w2i)


def load_corpora(args):
    """(train, val, test, V) word-id arrays."""
    if args.corpus:
        train, val, test, V = _text_corpus(args.corpus)
    else:
        from ..datasets import ptb

        train, w2i, _ = ptb.load_data("train", data_dir=args.data_dir)
        val = ptb.load_data("val", data_dir=args.data_dir)[0]
        test = ptb.load_data("test", data_dir=args.data_dir)[0]
        V = len(w2i)
    if args.train_words:
        train = train[:args.train_words]
    if args.val_words:
        val = val[:args.val_words]
    if args.test_words:
        test = test[:args.test_words]
    return np.asarray(train), np.asarray(val), np.asarray(test), V


# --------------------------------------------------------------------------
# model and optimizer

def build_model(args, V):
    import rnnscratch
    from rnnscratch import reference

    mod = reference if args.reference else rnnscratch
    cls = getattr(mod, MODELS[args.model][0])
    np.random.seed(args.seed)
    if args.model == "better-rnnlm":
        return cls(V, args.wordvec, args.hidden, args.dropout)
    return cls(V, args.wordvec, args.hidden)


def build_optimizer(args):
    from ..training import optim

    cls = {"sgd": optim.SGD, "momentum": optim.Momentum, "adagrad": optim.AdaGrad,
           "adam": optim.Adam}[args.optimizer]
    return cls(lr=args.lr)


def _recurrent_layers(model):
    lstms = getattr(model, "_lstms", None)
    if lstms is not None:
        return list(lstms)
    rnn = getattr(model, "rnn_layer", None) or getattr(model, "lstm_layer", None)
    return [rnn] if rnn is not None else []


def _copy(x):
    return None if x is None else np.array(x, copy=True)


def get_recurrent_state(model):
    return [(_copy(getattr(l, "h", None)), _copy(getattr(l, "c", None)))
            for l in _recurrent_layers(model)]


def set_recurrent_state(model, states):
    for layer, (h, c) in zip(_recurrent_layers(model), states):
        layer.h = _copy(h)
        if hasattr(layer, "c"):
            layer.c = _copy(c)


def _optimizer_state(opt):
    return {k: ([_copy(a) for a in v] if isinstance(v, list) else v)
            for k, v in vars(opt).items()}


# --------------------------------------------------------------------------
# the run's state on disk

class RunState:
    """Everything that decides the rest of a run."""

    def __init__(self, args):
        self.version = STATE_VERSION
        self.config = {k: getattr(args, k) for k in _RUN_KEYS}
        self.epoch = 0          # completed epochs
        self.iteration = 0      # completed iterations of the current epoch
        self.time_idx = 0       # the data position of the batches
        self.lr = args.lr
        self.best_ppl = float("inf")
        self.total_loss = 0.0   # running loss since the last logged interval
        self.loss_count = 0
        self.elapsed = 0.0      # training seconds over all sessions
        self.words = 0          # words trained over all sessions
        self.log_rows = 0       # rows of log.csv that belong to this state
        self.params = None
        self.optimizer = None
        self.recurrent = None
        self.rng = None
        self.done = False

    def capture(self, model, optimizer):
        self.params = [np.array(p, dtype=np.asarray(p).dtype, copy=True) for p in model.params]
        self.optimizer = _optimizer_state(optimizer)
        self.recurrent = get_recurrent_state(model)
        self.rng = np.random.get_state()

    def restore(self, model, optimizer):
        model.set_params(self.params, source="state.pkl")
        for k, v in self.optimizer.items():
            setattr(optimizer, k, [_copy(a) for a in v] if isinstance(v, list) else v)
        set_recurrent_state(model, self.recurrent)
        np.random.set_state(self.rng)


def save_state(path, state):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(vars(state), f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_state(path, args):
    with open(path, "rb") as f:
        d = pickle.load(f)
    if not isinstance(d, dict) or d.get("version") != STATE_VERSION:
        raise SystemExit(f"train: {path} is not a state file of this version")
    state = RunState.__new__(RunState)
    vars(state).update(d)
    diff = {k: (v, getattr(args, k)) for k, v in state.config.items() if getattr(args, k) != v}
    if diff:
        raise SystemExit("train: --resume with other settings than the saved run: " + ", ".join(
            f"--{k.replace('_', '-')} {new} (saved {old})" for k, (old, new) in diff.items()))
    return state


LOG_FIELDS = ("epoch", "iteration", "split", "perplexity", "lr", "elapsed_s", "words_per_s")


def _keep_log_rows(path, n):
    """log.csv cut to the header and its first n rows (rows written after the
    saved state belong to work that is done again)."""
    rows = []
    if os.path.exists(path):
        with open(path, newline="") as f:
            rows = list(csv.reader(f))[1:1 + n]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(LOG_FIELDS)
        w.writerows(rows)


# --------------------------------------------------------------------------
# display

def _hms(s):
    if not math.isfinite(s):
        return "?"
    s = int(round(s))
    h, m = divmod(s, 3600)
    m, s = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class _Bar:
    def __init__(self, quiet):
        self.quiet = quiet or not sys.stderr.isatty() and os.environ.get("RNNSCRATCH_BAR") != "1"
        self.last = 0.0
        self.shown = False

    def show(self, text, force=False):
        if self.quiet:
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        self.shown = True
        sys.stderr.write("\r" + text + "\x1b[K")
        sys.stderr.flush()

    def clear(self):
        if self.shown and not self.quiet:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
        self.shown = False


class _Interrupt:
    """Ctrl-C sets a flag the loop checks after each iteration; a second one
    raises KeyboardInterrupt at once."""

    def __init__(self):
        self.requested = False
        self.old = None

    def __enter__(self):
        def handler(signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True
            sys.stderr.write("\ninterrupt: saving the state after this iteration "
                             "(Ctrl-C again to stop at once)\n")

        try:
            self.old = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread
            self.old = None
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        return False


# --------------------------------------------------------------------------
# the run

def run(args, stop_after=None):
    """Train as the flags say. stop_after(state) -> bool is checked after
    every iteration (for tests: an interruption at a chosen point). Returns a
    dict of the results (epochs done, best and test perplexity, finished)."""
    from .. import set_num_threads
    from ..training.optim import clip_grads
    from ..training.trainer import eval_perplexity, make_batch, params_and_grads

    name, dw, dh, de = MODELS[args.model]
    args.wordvec = dw if args.wordvec is None else args.wordvec
    args.hidden = dh if args.hidden is None else args.hidden
    args.epochs = de if args.epochs is None else args.epochs
    for flag in ("epochs", "wordvec", "hidden", "batch_size", "time_size", "eval_batch_size",
                 "eval_interval"):
        if getattr(args, flag) < 1:
            raise SystemExit(f"train: --{flag.replace('_', '-')} must be at least 1")
    if not args.lr > 0 or args.lr_decay < 1 or args.max_grad < 0:
        raise SystemExit("train: --lr must be > 0, --lr-decay >= 1, --max-grad >= 0")
    if args.threads:
        set_num_threads(args.threads)
    out_dir = args.out_dir or f"run-{args.model}"
    os.makedirs(out_dir, exist_ok=True)
    state_path = os.path.join(out_dir, "state.pkl")
    log_path = os.path.join(out_dir, "log.csv")
    best_path = os.path.join(out_dir, name + ".pkl")

    train, val, test, V = load_corpora(args)
    xs, ts = train[:-1], train[1:]
    data_size = len(xs)
    B, T = args.batch_size, args.time_size
    max_iters = data_size // (B * T)
    if max_iters < 1:
        raise SystemExit(f"train: {len(train)} training words are too few for one batch of "
                         f"{B} x {T}")
    for split, c in (("validation", val), ("test", test)):
        if (len(c) - 1) // (args.eval_batch_size * T) < 1 and not (split == "test" and args.no_test):
            raise SystemExit(f"train: {len(c)} {split} words are too few for one evaluation "
                             f"batch of {args.eval_batch_size} x {T}")
    offsets = np.arange(B) * (data_size // B)

    model = build_model(args, V)
    optimizer = build_optimizer(args)
    if args.resume:
        if not os.path.exists(state_path):
            raise SystemExit(f"train: --resume: no saved run in {out_dir} ({state_path})")
        state = load_state(state_path, args)
        if state.done and state.epoch >= args.epochs:
            print(f"train: the run in {out_dir} is finished ({state.epoch} epochs); "
                  f"--epochs N with a larger N continues it")
            return {"finished": True, "epochs": state.epoch, "best_ppl": state.best_ppl,
                    "test_ppl": None}
        state.done = False
        state.restore(model, optimizer)
        _keep_log_rows(log_path, state.log_rows)
        print(f"resumed {out_dir}: epoch {state.epoch + 1}, iteration {state.iteration} / "
              f"{max_iters}, lr {state.lr:g}, best validation perplexity {state.best_ppl:.2f}")
    else:
        state = RunState(args)
        _keep_log_rows(log_path, 0)
    optimizer.lr = state.lr

    n_params = sum(int(np.size(p)) for p in params_and_grads(model)[0])
    impl = "reference" if args.reference else "compiled"
    lstm_cls = type(getattr(model, "_lstms", [None])[0]) if hasattr(model, "_lstms") else None
    print(f"{name} ({impl}; recurrent layer {lstm_cls.__module__ + '.' + lstm_cls.__name__ if lstm_cls else 'TimeRNN'}): "
          f"V={V} D={args.wordvec} H={args.hidden}, {n_params:,} parameters; "
          f"{len(train):,} training words, {max_iters} iterations of {B} x {T} per epoch; "
          f"{args.optimizer} lr {args.lr:g}, clip {args.max_grad:g}, {args.epochs} epochs")

    log_file = open(log_path, "a", newline="")
    log = csv.writer(log_file)

    def log_row(epoch, iteration, split, ppl, speed=""):
        log.writerow([epoch, iteration, split, f"{ppl:.4f}", f"{state.lr:g}",
                      f"{state.elapsed:.1f}", speed if speed == "" else f"{speed:.0f}"])
        log_file.flush()
        state.log_rows += 1

    def checkpoint():
        state.capture(model, optimizer)
        save_state(state_path, state)

    session_start = time.perf_counter()
    last_save = session_start
    bar = _Bar(args.quiet)
    words_per_iter = B * T
    result = {"finished": False, "test_ppl": None}
    stopped = None
    with _Interrupt() as intr:
        try:
            while state.epoch < args.epochs and not state.done:
                if state.iteration == 0 and state.time_idx == 0:
                    pass  # an epoch starts at the corpus start, as the book's fit(max_epoch=1)
                t_epoch = time.perf_counter()
                it0 = state.iteration
                while state.iteration < max_iters:
                    t0 = time.perf_counter()
                    batch_x, batch_t = make_batch(xs, ts, offsets, state.time_idx, T)
                    loss = model.forward(batch_x, batch_t)
                    model.backward()
                    params, grads = params_and_grads(model)
                    if args.max_grad > 0:
                        clip_grads(grads, args.max_grad)
                    optimizer.update(params, grads)
                    state.time_idx += T
                    state.total_loss += float(loss)
                    state.loss_count += 1
                    state.elapsed += time.perf_counter() - t0
                    state.words += words_per_iter
                    it = state.iteration
                    state.iteration += 1
                    if it % args.eval_interval == 0:
                        log_row(state.epoch + 1, it + 1, "train",
                                math.exp(state.total_loss / state.loss_count),
                                state.words / max(state.elapsed, 1e-9))
                        state.total_loss, state.loss_count = 0.0, 0
                    now = time.perf_counter()
                    done_here = state.iteration - it0
                    secs_per_iter = (now - t_epoch) / done_here
                    left_epoch = secs_per_iter * (max_iters - state.iteration)
                    left_run = left_epoch + secs_per_iter * max_iters * (
                        args.epochs - state.epoch - 1)
                    filled = 20 * state.iteration // max_iters
                    bar.show(f"epoch {state.epoch + 1}/{args.epochs} [{'#' * filled}"
                             f"{'.' * (20 - filled)}] {state.iteration}/{max_iters} | loss "
                             f"{float(loss):.3f} | {words_per_iter / secs_per_iter:,.0f} words/s"
                             f" | epoch left {_hms(left_epoch)} | run left {_hms(left_run)}",
                             force=state.iteration == max_iters)
                    if intr.requested:
                        stopped = "interrupted"
                    elif args.max_minutes is not None and now - session_start > args.max_minutes * 60:
                        stopped = "--max-minutes reached"
                    elif stop_after is not None and stop_after(state):
                        stopped = "stopped"
                    if stopped:
                        break
                    if args.save_minutes and now - last_save > args.save_minutes * 60 \
                            and state.iteration < max_iters:
                        checkpoint()
                        last_save = now
                if stopped:
                    break
                bar.clear()
                # end of epoch: the book's validation, checkpoint and lr schedule
                epoch_secs = time.perf_counter() - t_epoch
                model.reset_state()
                ppl = eval_perplexity(model, val, args.eval_batch_size, T,
                                      progress=False if args.quiet else "bar")
                improved = ppl < state.best_ppl
                log_row(state.epoch + 1, max_iters, "valid", ppl)
                if improved:
                    state.best_ppl = ppl
                    model.save_params(best_path)
                else:
                    state.lr /= args.lr_decay
                    optimizer.lr = state.lr
                model.reset_state()
                print(f"| epoch {state.epoch + 1}/{args.epochs} | {_hms(epoch_secs)} | "
                      f"{(max_iters - it0) * words_per_iter / max(epoch_secs, 1e-9):,.0f} words/s"
                      f" | valid perplexity {ppl:.2f}"
                      + (" (best, saved)" if improved else f" | lr -> {state.lr:g}"), flush=True)
                state.epoch += 1
                state.iteration = 0
                state.time_idx = 0
                checkpoint()
                last_save = time.perf_counter()
        except KeyboardInterrupt:
            bar.clear()
            log_file.close()
            print(f"stopped at once: the run continues from the last saved state with "
                  f"--resume (epoch {state.epoch + 1})", file=sys.stderr)
            raise
    bar.clear()
    if stopped:
        checkpoint()
        log_file.close()
        print(f"{stopped}: state saved in {state_path} (epoch {state.epoch + 1}, iteration "
              f"{state.iteration} / {max_iters}); continue with --resume", flush=True)
        result.update(epochs=state.epoch, best_ppl=state.best_ppl, stopped=stopped)
        return result

    test_ppl = None
    if not args.no_test:
        if args.test_on == "best" and os.path.exists(best_path):
            model.load_params(best_path)
        model.reset_state()
        test_ppl = eval_perplexity(model, test, args.eval_batch_size, T,
                                   progress=False if args.quiet else "bar")
        model.reset_state()
        log_row(state.epoch, max_iters, "test", test_ppl)
        print(f"test perplexity ({args.test_on} weights): {test_ppl:.2f}")
    state.done = True
    checkpoint()
    log_file.close()
    print(f"done: {state.epoch} epochs, {_hms(state.elapsed)} of training, best validation "
          f"perplexity {state.best_ppl:.2f}; best weights in {best_path}, curve in {log_path}")
    if args.plot:
        plot_log(log_path, args.plot, name)
        print(f"perplexity curves saved to {args.plot}")
    result.update(finished=True, epochs=state.epoch, best_ppl=state.best_ppl, test_ppl=test_ppl)
    return result


def plot_log(log_path, out, title=""):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("train: --plot needs matplotlib (pip install matplotlib)")
    with open(log_path, newline="") as f:
        rows = list(csv.DictReader(f))
    iters = {}
    for r in rows:  # iterations per epoch, for an x axis in epochs
        if r["split"] == "valid":
            iters[int(r["epoch"])] = int(r["iteration"])
    per = max(iters.values()) if iters else max((int(r["iteration"]) for r in rows), default=1)
    fig, ax = plt.subplots()
    for split, style in (("train", "-"), ("valid", "o-")):
        pts = [((int(r["epoch"]) - 1) + int(r["iteration"]) / per, float(r["perplexity"]))
               for r in rows if r["split"] == split]
        if pts:
            ax.plot(*zip(*pts), style, label=split)
    tests = [float(r["perplexity"]) for r in rows if r["split"] == "test"]
    if tests:
        ax.axhline(tests[-1], ls="--", color="gray", label=f"test {tests[-1]:.1f}")
    ax.set_xlabel("epochs")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    fig.savefig(out)
    plt.close(fig)


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        run(args)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
