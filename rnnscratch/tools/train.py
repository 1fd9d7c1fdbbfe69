"""`python -m rnnscratch train`: the chapter-6 language models on PTB, resumable.

The book's recipe (ch06/train_better_rnnlm.py) by default: SGD with lr 20,
gradients clipped to norm 0.25, batches of 20 rows x 35 time steps read by
truncated BPTT (each epoch from the start of the corpus, the model's state
reset at the end of it); after every epoch the validation perplexity, the
best weights saved (the book's file format, <ClassName>.pkl), the learning
rate divided by 4 when the validation perplexity did not improve; at the end
the test perplexity. Every hyper-parameter is a flag, checked before any work
(one line naming the flag and its range, exit status 2).

PTB is found the way rnnscratch.datasets.ptb finds it: --data-dir,
$RNNSCRATCH_DATA, the book's dataset/ folder in or above the working
directory (so `python -m rnnscratch train` started in the book's ch06 reads
../dataset/), the cache, else a download.

Everything lives in --out-dir (default ./run-<model>):
  <ClassName>.pkl  the best weights, the book's format;
  state.npz        the full state of the run: NumPy arrays (weights in
                   float32, optimizer state, LSTM states, NumPy's generator)
                   and one JSON document (settings, epoch, iteration, data
                   position, lr, best perplexity, running loss, the log's
                   rows), read with allow_pickle=False: it cannot carry code;
  log.csv          the training perplexity every --eval-interval iterations
                   and the validation/test perplexities (rewritten from the
                   state on --resume, so a damaged copy does not matter);
  --plot FILE      the curves, written whenever the run stops.
Every file is written all or nothing (models.files.atomic_write). The state
is written at the end of every epoch, every --save-minutes, when the run
stops (Ctrl-C, SIGTERM, SIGHUP: after the iteration in progress; at
--max-minutes) and at the end. `--resume` continues from it with the saved
settings (only --epochs may grow; a flag that differs from the saved run is
refused, by name), and the run ends exactly where the uninterrupted run would
have. A second signal stops at once (the last saved state stays). A damaged
or foreign state file is refused in one line naming it and what to do.
"""
import argparse
import csv
import glob
import io
import json
import math
import os
import signal
import sys
import time

import numpy as np

from ..models.files import atomic_write
from .args import check_input_dir, check_input_file, check_output_file

__all__ = ["main", "run", "parse_args", "read_state", "MODELS", "STATE_VERSION", "STATE_FILE",
           "TrainError"]

STATE_VERSION = 2
STATE_FILE = "state.npz"
OLD_STATE_FILE = "state.pkl"  # version 1 (a pickle): refused, see _load_state

# model -> (class name in rnnscratch, default wordvec, hidden, epochs)
MODELS = {
    "rnnlm": ("Rnnlm", 100, 100, 4),
    "better-rnnlm": ("BetterRnnlm", 650, 650, 40),
    "simple-rnnlm": ("SimpleRnnlm", 100, 100, 4),
}

# the flags that define the run: saved, restored by --resume, and refused
# when given again with another value
_RUN_KEYS = ("model", "wordvec", "hidden", "dropout", "batch_size", "time_size", "lr",
             "max_grad", "lr_decay", "optimizer", "seed", "train_words", "val_words",
             "test_words", "corpus", "eval_batch_size", "eval_interval")
# saved and restored by --resume unless given again (then the new value holds)
_SESSION_KEYS = ("epochs", "data_dir", "no_test", "test_on", "plot", "reference")


class TrainError(SystemExit):
    """A bad flag or file: one line for the user (`train: ...`), exit status 2."""


def _flag(key):
    return "--" + key.replace("_", "-")


# --------------------------------------------------------------------------
# the flags

def _int_in(lo, hi=None, what=""):
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            rng = f"at least {lo}" if hi is None else f"in [{lo}, {hi}]"
            raise argparse.ArgumentTypeError(f"must be {rng}{what}, got {v}")
        return v
    return parse


def _float_in(lo, hi=None, lo_open=False, hi_open=True, what=""):
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
        bad = not math.isfinite(v) or (v <= lo if lo_open else v < lo)
        if hi is not None:
            bad = bad or (v >= hi if hi_open else v > hi)
        if bad:
            if hi is None:
                rng = f"a finite number {'>' if lo_open else '>='} {lo:g}"
            else:
                rng = (f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}")
            raise argparse.ArgumentTypeError(f"must be {rng}{what}, got {text!r}")
        return v
    return parse


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        """One line (no usage block): `python -m rnnscratch train: error: ...`,
        exit status 2."""
        self.exit(2, f"{self.prog}: error: {message} (--help lists the flags)\n")


def _parser():
    pos = _int_in(1)
    p = _Parser(
        prog="python -m rnnscratch train",
        description="Train a chapter-6 language model (the book's recipe by default), "
                    "resumable after Ctrl-C, SIGTERM or a crash.")
    p.add_argument("--model", choices=sorted(MODELS), default="better-rnnlm",
                   help="rnnlm (1 LSTM, D=H=100), better-rnnlm (2 LSTMs, D=H=650, dropout, "
                        "weight tying; default), simple-rnnlm (chapter 5's RNN)")
    p.add_argument("--epochs", type=pos, default=None,
                   help="epochs (default: the book's, 4 for rnnlm and simple-rnnlm, 40 for "
                        "better-rnnlm); a finished run resumed with a larger N continues")
    p.add_argument("--wordvec", type=pos, default=None, help="D (default 100, or 650)")
    p.add_argument("--hidden", type=pos, default=None, help="H (default 100, or 650)")
    p.add_argument("--dropout", type=_float_in(0.0, 1.0), default=0.5,
                   help="better-rnnlm's dropout ratio, in [0, 1) (default 0.5)")
    p.add_argument("--batch-size", type=pos, default=20)
    p.add_argument("--time-size", type=pos, default=35)
    p.add_argument("--lr", type=_float_in(0.0, lo_open=True), default=20.0,
                   help="initial learning rate, > 0 (default 20)")
    p.add_argument("--max-grad", type=_float_in(0.0, what=" (0: no clipping)"), default=0.25,
                   help="clip the gradients' global norm to this (default 0.25; 0: no clipping)")
    p.add_argument("--lr-decay", type=_float_in(1.0), default=4.0,
                   help="divide lr by this (>= 1) when the validation perplexity does not "
                        "improve (default 4; 1: never)")
    p.add_argument("--optimizer", choices=("sgd", "momentum", "adagrad", "adam"), default="sgd")
    p.add_argument("--seed", type=_int_in(0, 2**32 - 1), default=1,
                   help="seed of np.random (initial weights, dropout masks; default 1)")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="directory holding ptb.{train,valid,test}.txt (else $RNNSCRATCH_DATA, "
                        "the book's dataset/ here or one level up, the cache, or a download)")
    p.add_argument("--corpus", metavar="FILE", default=None,
                   help="train on this UTF-8 text file instead of PTB (words split on white "
                        "space, line ends as <eos>; 80/10/10 split into train/valid/test)")
    p.add_argument("--train-words", type=_int_in(0, what=" (0: all)"), default=0,
                   help="use only the first N words of the training set (0: all)")
    p.add_argument("--val-words", type=_int_in(0, what=" (0: all)"), default=0,
                   help="first N words of the validation set (0: all)")
    p.add_argument("--test-words", type=_int_in(0, what=" (0: all)"), default=0,
                   help="first N words of the test set (0: all)")
    p.add_argument("--eval-batch-size", type=pos, default=10,
                   help="batch rows of the perplexity evaluation (the book's 10)")
    p.add_argument("--eval-interval", type=pos, default=20,
                   help="log the training perplexity every N iterations (default 20)")
    p.add_argument("--no-test", action="store_true", help="skip the test perplexity")
    p.add_argument("--test-on", choices=("last", "best"), default="last",
                   help="evaluate the test set with the last weights (the book) or the best "
                        "checkpoint")
    p.add_argument("--out-dir", metavar="DIR", default=None,
                   help="where the checkpoint, log.csv and state.npz go (default "
                        "./run-<model>; with --resume and no --model: the run folder you are "
                        "in, or the one run-*/ folder here)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in --out-dir with its saved settings")
    p.add_argument("--max-minutes", type=_float_in(0.0), default=None,
                   help="stop (state saved) after this many minutes of this session")
    p.add_argument("--save-minutes", type=_float_in(0.0, lo_open=True), default=10.0,
                   help="also save the state every N > 0 minutes within an epoch (default 10)")
    p.add_argument("--threads", type=pos, default=None, help="rnnscratch.set_num_threads(N)")
    p.add_argument("--reference", action="store_true",
                   help="build the model from the NumPy reference layers (slow; for checks)")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="save the perplexity curves to FILE (needs matplotlib) whenever the "
                        "run stops")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def parse_args(argv=None):
    """The flags, checked (argparse's one line and exit status 2 on a bad
    one), with `given`: the set of the flags the command line gave (what
    --resume compares with the saved run)."""
    p = _parser()
    args = p.parse_args(argv)
    q = _parser()
    for a in q._actions:
        a.default = argparse.SUPPRESS
    args.given = set(vars(q.parse_args(argv)))
    check_input_file(p, "--corpus", args.corpus)
    check_input_dir(p, "--data-dir", args.data_dir)
    if args.plot is not None and args.out_dir is not None and os.path.abspath(
            os.path.dirname(os.path.abspath(args.plot))) == os.path.abspath(args.out_dir) \
            and not os.path.exists(args.out_dir):
        pass  # into the run folder, made when the run starts
    else:
        check_output_file(p, "--plot", args.plot)
    if args.out_dir is not None and os.path.exists(args.out_dir) \
            and not os.path.isdir(args.out_dir):
        p.error(f"argument --out-dir: {args.out_dir} is not a directory")
    if args.plot is not None:
        _check_plot(p.error, args.plot)
    return args


def _check_plot(error, path):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        error("argument --plot: needs matplotlib (pip install matplotlib)")
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if ext not in FigureCanvasAgg.get_supported_filetypes():
        error(f"argument --plot: {path}: unknown image format {ext!r} (expected a file name "
              f"ending in .png, .pdf, .svg, ...)")


def _given(args):
    """The flags given on the command line (parse_args); for a Namespace
    made otherwise, those that differ from the defaults."""
    given = getattr(args, "given", None)
    if given is not None:
        return set(given)
    defaults = vars(_parser().parse_args([]))
    return {k for k, v in vars(args).items() if k in defaults and defaults[k] != v}


# --------------------------------------------------------------------------
# data

def _text_corpus(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TrainError(f"train: {path}: cannot read it ({e.strerror or e}); "
                         f"check --corpus") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise TrainError(f"train: {path}: line {line}: not UTF-8 text (byte "
                         f"0x{data[e.start]:02x}); --corpus takes a UTF-8 text file") from None
    words = text.replace("\n", " <eos> ").split()
    w2i = {}
    ids = np.array([w2i.setdefault(w, len(w2i)) for w in words], dtype=np.int64)
    n = len(ids)
    a, b = int(n * 0.8), int(n * 0.9)
    return ids[:a], ids[a:b], ids[b:], len(w2i)


def _ptb_dir(args):
    """The directory holding PTB (the search of datasets.ptb), or one line
    with the search path."""
    from ..datasets import ptb

    try:
        return ptb.locate(args.data_dir)
    except FileNotFoundError as e:
        raise TrainError(f"train: {e} Or train on your own text with --corpus FILE.") from None


def load_corpora(args):
    """(train, val, test, V) word-id arrays."""
    if args.corpus:
        train, val, test, V = _text_corpus(args.corpus)
    else:
        from ..datasets import ptb

        d = _ptb_dir(args)
        try:
            train, w2i, _ = ptb.load_data("train", data_dir=d)
            val = ptb.load_data("val", data_dir=d)[0]
            test = ptb.load_data("test", data_dir=d)[0]
        except FileNotFoundError as e:
            raise TrainError(f"train: {e}") from None
        except ValueError as e:  # not UTF-8, words outside the vocabulary
            raise TrainError(f"train: {e}; the PTB files in {d} are damaged: put fresh "
                             f"copies there") from None
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
    from ..models import reference

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
# the run's state on disk: state.npz (arrays + one JSON document, no pickle)

class _Bad(Exception):
    """What is wrong with a state file (the caller adds its name)."""


class RunState:
    """Everything that decides the rest of a run."""

    def __init__(self, settings):
        self.version = STATE_VERSION
        self.settings = dict(settings)
        self.epoch = 0          # completed epochs
        self.iteration = 0      # completed iterations of the current epoch
        self.time_idx = 0       # the data position of the batches
        self.lr = settings["lr"]
        self.best_ppl = float("inf")
        self.total_loss = 0.0   # running loss since the last logged interval
        self.loss_count = 0
        self.elapsed = 0.0      # training seconds over all sessions
        self.words = 0          # words trained over all sessions
        self.log = []           # the rows of log.csv (lists of strings)
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

    def restore(self, model, optimizer, path):
        """Everything into the model, optimizer and np.random, after checking
        it fits them: _Bad otherwise (nothing is half restored that the run
        would use: the caller stops)."""
        from ..training.trainer import params_and_grads

        try:
            model.set_params(self.params, source="the saved weights")
        except (TypeError, ValueError) as e:
            raise _Bad(str(e)) from None
        targets = params_and_grads(model)[0]
        for k, v in self.optimizer.items():
            if k not in vars(optimizer):
                raise _Bad(f"the optimizer state has {k!r}, which {type(optimizer).__name__} "
                           f"does not have")
            if isinstance(v, list):
                if len(v) != len(targets) or any(
                        a.shape != np.shape(p) for a, p in zip(v, targets)):
                    raise _Bad(f"the optimizer's {k} does not fit the model's parameters")
                v = [_copy(a) for a in v]
            setattr(optimizer, k, v)
        layers = _recurrent_layers(model)
        if len(self.recurrent) != len(layers):
            raise _Bad(f"{len(self.recurrent)} recurrent states for {len(layers)} layers")
        B, H = self.settings["batch_size"], self.settings["hidden"]
        for h, c in self.recurrent:
            for a in (h, c):
                if a is not None and a.shape != (B, H):
                    raise _Bad(f"a recurrent state of shape {a.shape}, expected {(B, H)}")
        set_recurrent_state(model, self.recurrent)
        try:
            np.random.set_state(self.rng)
        except (TypeError, ValueError) as e:
            raise _Bad(f"the random generator's state is not valid ({e})") from None


def _state_arrays_and_meta(state):
    arrays = {f"param.{i}": p for i, p in enumerate(state.params)}
    opt_scalars, opt_lists = {}, {}
    for k, v in state.optimizer.items():
        if isinstance(v, list):
            opt_lists[k] = len(v)
            arrays.update({f"opt.{k}.{i}": a for i, a in enumerate(v)})
        elif v is None:
            opt_lists[k] = None
        else:
            opt_scalars[k] = float(v) if isinstance(v, (float, np.floating)) else int(v)
    rec = []
    for i, (h, c) in enumerate(state.recurrent):
        rec.append([h is not None, c is not None])
        if h is not None:
            arrays[f"rec.{i}.h"] = h
        if c is not None:
            arrays[f"rec.{i}.c"] = c
    name, key, pos, has_gauss, cached = state.rng
    arrays["rng.key"] = np.asarray(key, dtype=np.uint32)
    meta = {
        "format": "rnnscratch train state", "version": STATE_VERSION,
        "settings": state.settings, "epoch": state.epoch, "iteration": state.iteration,
        "time_idx": state.time_idx, "lr": float(state.lr),
        "best_ppl": None if math.isinf(state.best_ppl) else float(state.best_ppl),
        "total_loss": float(state.total_loss), "loss_count": state.loss_count,
        "elapsed": float(state.elapsed), "words": state.words, "done": bool(state.done),
        "log": state.log, "n_params": len(state.params),
        "optimizer": {"scalars": opt_scalars, "lists": opt_lists}, "recurrent": rec,
        "rng": {"name": name, "pos": int(pos), "has_gauss": int(has_gauss),
                "cached_gaussian": float(cached)},
    }
    text = json.dumps(meta, allow_nan=False, separators=(",", ":"))
    arrays["meta"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return arrays


def save_state(path, state):
    """state.npz, all or nothing."""
    arrays = _state_arrays_and_meta(state)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def _is_int(v, lo=0, hi=None):
    return type(v) is int and v >= lo and (hi is None or v <= hi)


def _is_num(v):
    return type(v) in (int, float) and math.isfinite(v)


def _check_settings(s):
    if not isinstance(s, dict):
        raise _Bad("the saved settings are not a table")
    p = _parser()
    actions = {a.dest: a for a in p._actions}
    for k in _RUN_KEYS + _SESSION_KEYS:
        if k not in s:
            raise _Bad(f"the saved settings lack {_flag(k)}")
        v, a = s[k], actions[k]
        if isinstance(a, argparse._StoreTrueAction):
            ok = type(v) is bool
        elif v is None:
            ok = a.default is None and k not in ("wordvec", "hidden", "epochs")
        elif a.choices is not None:
            ok = v in a.choices
        elif a.type is None:
            ok = isinstance(v, str)
        else:
            try:
                ok = type(v) in (int, float) and a.type(repr(v)) == v
            except argparse.ArgumentTypeError:
                ok = False
        if not ok:
            raise _Bad(f"the saved setting {_flag(k)} {v!r} is not valid")


def read_state(path):
    """The run state in `path` (state.npz), checked field by field: a
    RunState, or _Bad saying what is wrong. Nothing is unpickled
    (allow_pickle=False)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise _Bad("not a state file (a single array, not an .npz archive)")
            arrays = {k: z[k] for k in z.files}
    except _Bad:
        raise
    except MemoryError:
        raise _Bad("damaged (it asks for more memory than there is)") from None
    except Exception as e:  # truncated zip, bad CRC, object arrays, garbage
        raise _Bad(f"not a readable state file ({type(e).__name__}: {e})") from None
    if "meta" not in arrays:
        raise _Bad("not a state file of `train` (no meta entry)")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"),
                          parse_constant=lambda c: float("nan"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _Bad(f"its meta entry is not JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != "rnnscratch train state":
        raise _Bad("not a state file of `train`")
    if meta.get("version") != STATE_VERSION:
        raise _Bad(f"a state file of version {meta.get('version')!r}, this rnnscratch reads "
                   f"version {STATE_VERSION}")
    need = {"settings": dict, "epoch": int, "iteration": int, "time_idx": int, "lr": float,
            "total_loss": float, "loss_count": int, "elapsed": float, "words": int,
            "done": bool, "log": list, "n_params": int, "optimizer": dict, "recurrent": list,
            "rng": dict}
    for k in need:
        if k not in meta:
            raise _Bad(f"the field {k!r} is missing")
    _check_settings(meta["settings"])
    for k in ("epoch", "iteration", "time_idx", "loss_count", "words", "n_params"):
        if not _is_int(meta[k]):
            raise _Bad(f"{k} is {meta[k]!r}, expected a whole number >= 0")
    for k in ("total_loss", "elapsed"):
        if not (_is_num(meta[k]) and meta[k] >= 0):
            raise _Bad(f"{k} is {meta[k]!r}, expected a finite number >= 0")
    if not (_is_num(meta["lr"]) and meta["lr"] > 0):
        raise _Bad(f"lr is {meta['lr']!r}, expected a finite number > 0")
    best = meta.get("best_ppl")
    if best is not None and not (_is_num(best) and best >= 1):
        raise _Bad(f"best_ppl is {best!r}, expected a finite perplexity >= 1 (or null)")
    if type(meta["done"]) is not bool:
        raise _Bad(f"done is {meta['done']!r}, expected true or false")
    if meta["time_idx"] != meta["iteration"] * meta["settings"]["time_size"]:
        raise _Bad(f"time_idx {meta['time_idx']} does not match iteration "
                   f"{meta['iteration']} x --time-size {meta['settings']['time_size']}")
    for i, row in enumerate(meta["log"]):
        if not (isinstance(row, list) and len(row) == len(LOG_FIELDS)
                and all(isinstance(x, str) for x in row)):
            raise _Bad(f"log row {i} is not {len(LOG_FIELDS)} strings")

    def arr(key, kinds="f"):
        if key not in arrays:
            raise _Bad(f"the array {key!r} is missing")
        a = arrays.pop(key)
        if a.dtype.kind not in kinds:
            raise _Bad(f"the array {key!r} has dtype {a.dtype}")
        return a

    st = RunState.__new__(RunState)
    st.version = STATE_VERSION
    st.settings = meta["settings"]
    for k in ("epoch", "iteration", "time_idx", "lr", "total_loss", "loss_count", "elapsed",
              "words", "done", "log"):
        setattr(st, k, meta[k])
    st.best_ppl = float("inf") if best is None else float(best)
    st.params = [arr(f"param.{i}") for i in range(meta["n_params"])]
    opt = meta["optimizer"]
    if not (isinstance(opt.get("scalars"), dict) and isinstance(opt.get("lists"), dict)):
        raise _Bad("the optimizer state is not valid")
    st.optimizer = {}
    for k, v in opt["scalars"].items():
        if not _is_num(v):
            raise _Bad(f"the optimizer's {k} is {v!r}, expected a finite number")
        st.optimizer[k] = v
    if "lr" in st.optimizer and not st.optimizer["lr"] > 0:
        raise _Bad(f"the optimizer's lr is {st.optimizer['lr']!r}, expected > 0")
    for k, n in opt["lists"].items():
        if n is not None and not _is_int(n):
            raise _Bad(f"the optimizer's {k} has a count of {n!r}")
        st.optimizer[k] = None if n is None else [arr(f"opt.{k}.{i}") for i in range(n)]
    st.recurrent = []
    for i, flags in enumerate(meta["recurrent"]):
        if not (isinstance(flags, list) and len(flags) == 2
                and all(type(x) is bool for x in flags)):
            raise _Bad(f"recurrent state {i} is not valid")
        st.recurrent.append(tuple(arr(f"rec.{i}.{n}") if has else None
                                  for n, has in zip("hc", flags)))
    r = meta["rng"]
    key = arr("rng.key", "u")
    if not (r.get("name") == "MT19937" and key.shape == (624,) and _is_int(r.get("pos"), 0, 624)
            and r.get("has_gauss") in (0, 1) and _is_num(r.get("cached_gaussian"))):
        raise _Bad("the random generator's state is not valid")
    st.rng = ("MT19937", key.astype(np.uint32), r["pos"], r["has_gauss"], r["cached_gaussian"])
    if arrays:
        raise _Bad(f"it holds arrays no state has: {', '.join(sorted(arrays)[:3])}")
    return st


def _what_to_do(out_dir):
    return (f"restore a good copy of it, or start the run again (delete {out_dir} or choose "
            f"another --out-dir)")


def _load_state(out_dir):
    """The RunState saved in out_dir, or one line (TrainError) naming the
    file, what is wrong and what to do."""
    path = os.path.join(out_dir, STATE_FILE)
    old = os.path.join(out_dir, OLD_STATE_FILE)
    if not os.path.exists(path):
        if os.path.exists(old):
            raise TrainError(
                f"train: {old}: a state file of an older rnnscratch (a pickle, which can "
                f"carry code, so it is no longer read); finish that run with the version "
                f"that started it, or start it again (delete {out_dir} or choose another "
                f"--out-dir)")
        raise TrainError(f"train: --resume: no saved run in {out_dir} ({path} does not "
                         f"exist); start one without --resume, or give its folder as "
                         f"--out-dir")
    try:
        return read_state(path)
    except _Bad as e:
        raise TrainError(f"train: {path}: {e}; {_what_to_do(out_dir)}") from None
    except OSError as e:
        raise TrainError(f"train: {path}: cannot read it ({e.strerror or e})") from None


def _find_run_dir(args, given):
    """--out-dir, or for --resume without --out-dir and --model: the run
    folder we are in, else the one run-*/ folder here that holds a state."""
    if args.out_dir:
        return args.out_dir
    if args.resume and "model" not in given:
        if any(os.path.exists(f) for f in (STATE_FILE, OLD_STATE_FILE)):
            return "."
        found = sorted(d for d in glob.glob("run-*") if os.path.isdir(d) and any(
            os.path.exists(os.path.join(d, f)) for f in (STATE_FILE, OLD_STATE_FILE)))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise TrainError(f"train: --resume: several saved runs here ({', '.join(found)}); "
                             f"choose one with --out-dir")
        raise TrainError(f"train: --resume: no saved run here ({os.path.abspath('.')} has no "
                         f"{STATE_FILE} and no run-*/ folder with one); give its folder as "
                         f"--out-dir")
    return f"run-{args.model}"


def _settings_of(args):
    s = {k: getattr(args, k) for k in _RUN_KEYS + _SESSION_KEYS}
    for k in ("corpus", "data_dir", "plot"):
        if s[k] is not None:
            s[k] = os.path.abspath(s[k])
    return s


def _apply_saved(args, given, saved):
    """args take the saved run's settings; a run setting given again with
    another value is refused by name."""
    now = _settings_of(args)
    diff = [k for k in _RUN_KEYS if k in given and now[k] != saved[k]]
    if diff:
        raise TrainError("train: --resume: " + ", ".join(
            f"{_flag(k)} {getattr(args, k)} differs from the saved run's {saved[k]}"
            for k in diff) + "; a run keeps its settings (leave the flag out, or start a "
            "new run with another --out-dir)")
    if "epochs" in given and args.epochs < saved["epochs"]:
        pass  # fewer epochs: the run stops earlier (allowed, as before)
    for k in _RUN_KEYS:
        setattr(args, k, saved[k])
    for k in _SESSION_KEYS:
        if k not in given:
            setattr(args, k, saved[k])


LOG_FIELDS = ("epoch", "iteration", "split", "perplexity", "lr", "elapsed_s", "words_per_s")


def write_log(path, rows):
    """log.csv from the state's rows, all or nothing."""
    def write(f):
        w = csv.writer(f)
        w.writerow(LOG_FIELDS)
        w.writerows(rows)
    atomic_write(path, write, mode="w")


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


_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                 if hasattr(signal, n))


class _Interrupt:
    """Ctrl-C, SIGTERM (a job scheduler, `timeout`) or SIGHUP (the terminal
    closed) set a flag the loop checks after each iteration: the state is
    saved, then the run stops. A second one raises KeyboardInterrupt at once
    (every file is written all or nothing, so the last saved state stays)."""

    def __init__(self):
        self.requested = None
        self.old = {}

    def __enter__(self):
        def handler(signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = signal.Signals(signum).name
            sys.stderr.write(f"\n{self.requested}: saving the state after this iteration "
                             f"(again to stop at once)\n")

        for sig in _SIGNALS:
            try:
                self.old[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):  # not the main thread
                pass
        return self

    def __exit__(self, *exc):
        for sig, old in self.old.items():
            signal.signal(sig, old)
        return False


# --------------------------------------------------------------------------
# the run

def _prepare(args):
    """Flags resolved, the saved run read (--resume): (out_dir, state or None).
    Nothing is created on disk here."""
    given = _given(args)
    out_dir = _find_run_dir(args, given)
    if args.resume:
        state = _load_state(out_dir)
        _apply_saved(args, given, state.settings)
        return out_dir, state
    name, dw, dh, de = MODELS[args.model]
    args.wordvec = dw if args.wordvec is None else args.wordvec
    args.hidden = dh if args.hidden is None else args.hidden
    args.epochs = de if args.epochs is None else args.epochs
    for f in (STATE_FILE, OLD_STATE_FILE):
        if os.path.exists(os.path.join(out_dir, f)):
            raise TrainError(f"train: {os.path.join(out_dir, f)}: a saved run is there; "
                             f"--resume continues it, or start a new one with another "
                             f"--out-dir (or delete {out_dir})")
    return out_dir, None


def _check_numbers(args):
    """The checks of parse_args again, for a Namespace made otherwise."""
    p = _parser()
    for a in p._actions:
        v = getattr(args, a.dest, None)
        if v is None or a.type is None or isinstance(v, bool):
            continue
        try:
            ok = type(v) in (int, float) and a.type(repr(v)) == v
            why = "" if ok else f"invalid value {v!r}"
        except argparse.ArgumentTypeError as e:
            ok, why = False, str(e)
        if not ok:
            raise TrainError(f"train: argument {a.option_strings[0]}: {why}")
    if args.model == "better-rnnlm" and args.wordvec != args.hidden:
        raise TrainError(f"train: --wordvec {args.wordvec} and --hidden {args.hidden}: "
                         f"better-rnnlm ties the weights and needs them equal")


def run(args, stop_after=None):
    """Train as the flags say (args from parse_args). stop_after(state) ->
    bool is checked after every iteration (for tests: an interruption at a
    chosen point). Returns a dict of the results (epochs done, best and test
    perplexity, finished). A bad flag or file raises TrainError (one line)."""
    from .. import set_num_threads
    from ..training.optim import clip_grads
    from ..training.trainer import eval_perplexity, make_batch, params_and_grads

    out_dir, state = _prepare(args)
    _check_numbers(args)
    if args.plot is not None:
        def plot_error(msg):
            raise TrainError("train: " + msg)
        _check_plot(plot_error, args.plot)
    name = MODELS[args.model][0]
    if args.threads:
        set_num_threads(args.threads)
    state_path = os.path.join(out_dir, STATE_FILE)
    log_path = os.path.join(out_dir, "log.csv")
    best_path = os.path.join(out_dir, name + ".pkl")

    if not args.corpus:
        args.data_dir = _ptb_dir(args)
    train, val, test, V = load_corpora(args)
    xs, ts = train[:-1], train[1:]
    data_size = len(xs)
    B, T = args.batch_size, args.time_size
    max_iters = data_size // (B * T)
    if max_iters < 1:
        raise TrainError(f"train: {len(train)} training words are too few for one batch of "
                         f"{B} x {T} (--train-words, --batch-size, --time-size)")
    for split, c in (("validation", val), ("test", test)):
        if (len(c) - 1) // (args.eval_batch_size * T) < 1 and not (split == "test" and args.no_test):
            raise TrainError(f"train: {len(c)} {split} words are too few for one evaluation "
                             f"batch of {args.eval_batch_size} x {T} (--eval-batch-size, "
                             f"--{'val' if split == 'validation' else 'test'}-words)")
    offsets = np.arange(B) * (data_size // B)

    model = build_model(args, V)
    optimizer = build_optimizer(args)
    if state is not None:
        if state.iteration > max_iters:
            raise TrainError(f"train: {state_path}: iteration {state.iteration} is past the "
                             f"{max_iters} iterations of an epoch; {_what_to_do(out_dir)}")
        if state.done and state.epoch >= args.epochs:
            print(f"train: the run in {out_dir} is finished ({state.epoch} epochs); "
                  f"--epochs N with a larger N continues it")
            return {"finished": True, "epochs": state.epoch, "best_ppl": state.best_ppl,
                    "test_ppl": None}
        try:
            state.restore(model, optimizer, state_path)
        except _Bad as e:
            raise TrainError(f"train: {state_path}: {e}; {_what_to_do(out_dir)}") from None
        state.done = False
        state.settings = _settings_of(args)  # the session keys as this session has them
        print(f"resumed {out_dir}: epoch {state.epoch + 1}, iteration {state.iteration} / "
              f"{max_iters}, lr {state.lr:g}, best validation perplexity {state.best_ppl:.2f}")
    else:
        state = RunState(_settings_of(args))
        os.makedirs(out_dir, exist_ok=True)
    optimizer.lr = state.lr

    n_params = sum(int(np.size(p)) for p in params_and_grads(model)[0])
    impl = "reference" if args.reference else "compiled"
    lstm_cls = type(getattr(model, "_lstms", [None])[0]) if hasattr(model, "_lstms") else None
    print(f"{name} ({impl}; recurrent layer {lstm_cls.__module__ + '.' + lstm_cls.__name__ if lstm_cls else 'TimeRNN'}): "
          f"V={V} D={args.wordvec} H={args.hidden}, {n_params:,} parameters; "
          f"{len(train):,} training words, {max_iters} iterations of {B} x {T} per epoch; "
          f"{args.optimizer} lr {args.lr:g}, clip {args.max_grad:g}, {args.epochs} epochs")

    def log_row(epoch, iteration, split, ppl, speed=""):
        state.log.append([str(epoch), str(iteration), split, f"{ppl:.4f}", f"{state.lr:g}",
                          f"{state.elapsed:.1f}", speed if speed == "" else f"{speed:.0f}"])
        write_log(log_path, state.log)

    saved = {"epoch": state.epoch, "iteration": state.iteration,
             "any": os.path.exists(state_path)}

    def checkpoint():
        state.capture(model, optimizer)
        save_state(state_path, state)
        saved.update(epoch=state.epoch, iteration=state.iteration, any=True)
        if os.path.exists(os.path.join(out_dir, OLD_STATE_FILE)):
            os.remove(os.path.join(out_dir, OLD_STATE_FILE))

    def plot():
        if args.plot:
            try:
                plot_log(state.log, args.plot, name)
            except OSError as e:
                print(f"train: --plot {args.plot}: cannot write it ({e.strerror or e})",
                      file=sys.stderr)
            else:
                print(f"perplexity curves saved to {args.plot}", flush=True)

    session_start = time.perf_counter()
    last_save = session_start
    bar = _Bar(args.quiet)
    words_per_iter = B * T
    result = {"finished": False, "test_ppl": None}
    stopped = None
    with _Interrupt() as intr:
        try:
            write_log(log_path, state.log)  # the rows of the saved state (a damaged copy replaced)
            while state.epoch < args.epochs and not state.done:
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
                        stopped = f"interrupted ({intr.requested})"
                    elif args.max_minutes is not None and now - session_start > args.max_minutes * 60:
                        stopped = "--max-minutes reached"
                    elif stop_after is not None and stop_after(state):
                        stopped = "stopped"
                    if stopped:
                        break
                    if now - last_save > args.save_minutes * 60 and state.iteration < max_iters:
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
            bar.clear()
            if stopped:
                checkpoint()
                print(f"{stopped}: state saved in {state_path}; --resume continues at epoch "
                      f"{state.epoch + 1}, iteration {state.iteration} / {max_iters}",
                      flush=True)
                result.update(epochs=state.epoch, best_ppl=state.best_ppl, stopped=stopped)
                plot()
                return result

            test_ppl = None
            if not args.no_test:
                if args.test_on == "best" and os.path.exists(best_path):
                    try:
                        model.load_params(best_path)
                    except (TypeError, ValueError) as e:
                        raise TrainError(f"train: {e}; --test-on last, or restore the "
                                         f"file") from None
                model.reset_state()
                test_ppl = eval_perplexity(model, test, args.eval_batch_size, T,
                                           progress=False if args.quiet else "bar")
                model.reset_state()
                log_row(state.epoch, max_iters, "test", test_ppl)
                print(f"test perplexity ({args.test_on} weights): {test_ppl:.2f}")
            state.done = True
            checkpoint()
            print(f"done: {state.epoch} epochs, {_hms(state.elapsed)} of training, best "
                  f"validation perplexity {state.best_ppl:.2f}; best weights in {best_path}, "
                  f"curve in {log_path}")
            plot()
        except KeyboardInterrupt:
            bar.clear()
            if saved["any"]:
                where = (f"continues with --resume at epoch {saved['epoch'] + 1}, iteration "
                         f"{saved['iteration']} / {max_iters} (the last saved state)")
            else:
                where = "has no saved state yet: start it again"
            print(f"stopped at once: the run {where}", file=sys.stderr, flush=True)
            plot()
            raise
    result.update(finished=True, epochs=state.epoch, best_ppl=state.best_ppl, test_ppl=test_ppl)
    return result


def plot_log(rows, out, title=""):
    """The perplexity curves of log rows (lists of strings in LOG_FIELDS'
    order, or a log.csv path) into the image file `out`, all or nothing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if isinstance(rows, (str, os.PathLike)):
        with open(rows, newline="", encoding="utf-8") as f:
            rows = [[r[k] for k in LOG_FIELDS] for r in csv.DictReader(f)]
    rows = [dict(zip(LOG_FIELDS, r)) for r in rows]
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
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fmt = os.path.splitext(out)[1].lstrip(".").lower() or "png"
    try:
        atomic_write(out, lambda f: fig.savefig(f, format=fmt))
    finally:
        plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args)
    except TrainError as e:
        print(e.code, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
