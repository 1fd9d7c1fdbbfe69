"""`python -m rnnscratch demo`: the chapter-5 language model, end to end
(`--model rnnlm`: chapter 6's LSTM model, Rnnlm, on the same work).

Trains SimpleRnnlm with the course's chapter-5 settings (the first 1000 words,
batch 10, D = H = 100, 5 time steps, SGD lr 0.1, 100 epochs, truncated BPTT
with a stateful RNN), prints the perplexity of every epoch with a progress
bar, then trains the same model built from the NumPy reference layers
(rnnscratch.reference) from the same initial weights on the same batches for
a few epochs, and prints both perplexities and the speed-up.

Default corpus: the Python Language Reference text that ships inside every
CPython standard library (pydoc_data/topics.py, the text behind help('if')),
prose paragraphs only: real English, no download, about 200,000 words. If a
distribution strips it, the docstrings of a few standard-library modules are
used instead (read from their source files, so it works under python -OO).
`--data ptb` uses the Penn Treebank (rnnscratch.datasets.ptb, as the course),
`--corpus FILE` any text file.
"""
import argparse
import ast
import importlib.util
import os
import re
import sys
import time

import numpy as np

from ..models.files import atomic_write

__all__ = ["main", "stdlib_text", "tokenize", "to_ids", "train_chapter5"]

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+|[.!?](?=\s|$)")
_FALLBACK_MODULES = ("argparse", "textwrap", "difflib", "statistics", "fractions", "random",
                     "heapq", "bisect", "shutil", "tempfile", "zipfile", "calendar",
                     "string", "functools", "contextlib", "dataclasses", "enum", "pathlib")


def _prose(text):
    """The paragraphs of a reStructuredText-like help text, without code blocks
    (indented lines) and heading underlines."""
    keep = []
    for line in text.splitlines():
        if not line.strip():
            keep.append("")
        elif line[0].isspace() or set(line.strip()) <= set("*=-~^#"):
            continue
        else:
            keep.append(line)
    return "\n".join(keep)


def stdlib_text():
    """(text, description) of English text from the standard library."""
    try:
        from pydoc_data.topics import topics

        text = "\n\n".join(_prose(topics[k]) for k in topics)
        if len(text.split()) > 2000:
            return text, "the Python Language Reference (pydoc_data.topics, standard library)"
    except Exception:
        pass
    parts = []
    for name in _FALLBACK_MODULES:
        try:
            spec = importlib.util.find_spec(name)
            with open(spec.origin, encoding="utf-8") as f:
                tree = ast.parse(f.read())
        except Exception:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    parts.append(_prose(doc))
    return "\n\n".join(parts), "docstrings of standard-library modules"


def tokenize(text):
    """Lower-case words; '.', '!' and '?' at the end of a sentence become '<eos>'."""
    return ["<eos>" if w in ".!?" else w for w in _WORD.findall(text.lower())]


def to_ids(words):
    """(corpus, word_to_id, id_to_word), ids in order of first appearance (as the course)."""
    word_to_id = {}
    for w in words:
        if w not in word_to_id:
            word_to_id[w] = len(word_to_id)
    corpus = np.array([word_to_id[w] for w in words], dtype=np.int64)
    return corpus, word_to_id, {i: w for w, i in word_to_id.items()}


def load_corpus(args):
    """(corpus ids, description) for the demo's options."""
    if args.data == "ptb":
        from ..datasets import ptb

        corpus, _, _ = ptb.load_data("train", data_dir=args.data_dir)
        return corpus[:args.words], "Penn Treebank (ptb.train.txt)"
    if args.corpus:
        with open(args.corpus, encoding="utf-8", errors="replace") as f:
            text = f.read()
        source = args.corpus
    else:
        text, source = stdlib_text()
    words = tokenize(text)[:args.words]
    if len(words) < 2:
        raise ValueError(f"{source} holds fewer than 2 words")
    return to_ids(words)[0], source


def train_chapter5(model, corpus, epochs, batch_size=10, time_size=5, lr=0.1,
                   on_epoch=None):
    """The course's chapter-5 training loop (train_custom_loop.py) for `model`.

    xs = corpus[:-1], ts = corpus[1:]; batch row i reads from offset i*jump,
    jump = (len(corpus) - 1) // batch_size, sequentially across iterations.
    Returns the per-epoch perplexities and wall times; on_epoch(epoch, ppl, secs)
    is called after every epoch.
    """
    from ..training.optim import SGD
    from ..training.trainer import make_batch

    corpus = np.asarray(corpus)
    xs, ts = corpus[:-1], corpus[1:]
    data_size = len(xs)
    max_iters = data_size // (batch_size * time_size)
    if max_iters == 0:
        raise ValueError(f"a corpus of {len(corpus)} words is too short for batch {batch_size} "
                         f"x {time_size} time steps")
    jump = (len(corpus) - 1) // batch_size
    offsets = np.arange(batch_size) * jump
    optimizer = SGD(lr)
    time_idx = 0
    ppl_list, times = [], []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        total_loss, loss_count = 0.0, 0
        for _ in range(max_iters):
            batch_x, batch_t = make_batch(xs, ts, offsets, time_idx, time_size)
            time_idx += time_size
            loss = model.forward(batch_x, batch_t)
            model.backward()
            optimizer.update(model.params, model.grads)
            total_loss += loss
            loss_count += 1
        ppl = float(np.exp(total_loss / loss_count))
        times.append(time.perf_counter() - t0)
        ppl_list.append(ppl)
        if on_epoch:
            on_epoch(epoch, ppl, times[-1])
    return ppl_list, times


def _bar(done, total, width=24):
    filled = int(round(width * done / total)) if total else width
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _parser():
    from .args import nonnegative_int, positive_float, positive_int

    p = argparse.ArgumentParser(
        prog="python -m rnnscratch demo",
        description="Train the chapter-5 RNN language model (SimpleRnnlm) with the compiled "
                    "layers, then time the NumPy reference layers on the same work.")
    p.add_argument("--model", choices=("simple-rnnlm", "rnnlm"), default="simple-rnnlm",
                   help="simple-rnnlm: chapter 5's RNN model (default); rnnlm: chapter 6's "
                        "LSTM model (Rnnlm)")
    p.add_argument("--data", choices=("stdlib", "ptb"), default="stdlib",
                   help="corpus: English text from the standard library (default) or the "
                        "Penn Treebank training set")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="with --data ptb: directory holding ptb.train.txt, or the book's "
                        "folder with dataset/ (else $RNNSCRATCH_DATA, the cache, or a download)")
    p.add_argument("--corpus", metavar="FILE", default=None,
                   help="train on the words of this text file instead")
    p.add_argument("--words", type=positive_int, default=1000,
                   help="corpus size in words (default 1000)")
    p.add_argument("--epochs", type=positive_int, default=100, help="training epochs (default 100)")
    p.add_argument("--batch-size", type=positive_int, default=10)
    p.add_argument("--time-size", type=positive_int, default=5)
    p.add_argument("--hidden", type=positive_int, default=100, help="D = H (default 100)")
    p.add_argument("--lr", type=positive_float, default=0.1)
    p.add_argument("--compare-epochs", type=nonnegative_int, default=5, metavar="K",
                   help="epochs trained with the reference layers for the timing "
                        "(default 5; 0 skips the comparison)")
    p.add_argument("--seed", type=nonnegative_int, default=1,
                   help="seed of np.random for the initial weights")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="save the perplexity curve to FILE (needs matplotlib)")
    return p


def _check_args(parser, args):
    """Every mistake in the options, found before any work starts (parser.error: exit 2)."""
    from .args import check_input_dir, check_input_file, check_output_file

    if args.corpus and args.data == "ptb":
        parser.error("use either --data ptb or --corpus FILE")
    if args.data_dir is not None and args.data != "ptb":
        parser.error("argument --data-dir: only used with --data ptb")
    if args.seed > 2 ** 32 - 1:
        parser.error("argument --seed: must be below 2**32, got %d" % args.seed)
    check_input_file(parser, "--corpus", args.corpus)
    check_input_dir(parser, "--data-dir", args.data_dir)
    check_output_file(parser, "--plot", args.plot)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("argument --plot: needs matplotlib (pip install matplotlib)")


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    _check_args(parser, args)

    import rnnscratch
    from ..models import reference

    if args.model == "rnnlm":
        from ..models import Rnnlm as Model
        from ..models.reference import Rnnlm as RefModel
        title = "chapter-6 LSTM language model (Rnnlm)"
    else:
        from ..models import SimpleRnnlm as Model
        from ..models.reference import SimpleRnnlm as RefModel
        title = "chapter-5 RNN language model (SimpleRnnlm)"

    try:
        corpus, source = load_corpus(args)
    except (OSError, ValueError) as e:  # no PTB files and no download, unreadable file
        parser.error(str(e))
    if len(corpus) - 1 < args.batch_size * args.time_size:
        parser.error(f"{source}: {len(corpus)} words are too few for batch {args.batch_size} "
                     f"x {args.time_size} time steps (raise --words or lower --batch-size/"
                     f"--time-size)")
    V = int(corpus.max()) + 1
    D = H = args.hidden
    print(f"rnnscratch {rnnscratch.__version__} demo: {title}")
    print(f"corpus: {source}, first {len(corpus)} words, vocabulary {V}")
    print(f"model: V={V} D={D} H={H}; batch {args.batch_size}, {args.time_size} time steps, "
          f"SGD lr {args.lr}, {args.epochs} epochs")

    def report(epoch, ppl, secs):
        print(f"| epoch {epoch + 1:{len(str(args.epochs))}d}/{args.epochs} "
              f"{_bar(epoch + 1, args.epochs)} perplexity {ppl:9.2f} | {secs * 1e3:7.1f} ms",
              flush=True)

    loop = dict(batch_size=args.batch_size, time_size=args.time_size, lr=args.lr)
    try:
        np.random.seed(args.seed)
        model = Model(V, D, H)
        t0 = time.perf_counter()
        ppl, times = train_chapter5(model, corpus, args.epochs, on_epoch=report, **loop)
    except ValueError as e:
        raise SystemExit(f"demo: {e}")
    total = time.perf_counter() - t0
    print(f"compiled: {args.epochs} epochs in {total:.2f} s ({total / args.epochs * 1e3:.1f} ms "
          f"per epoch); perplexity {ppl[0]:.2f} -> {ppl[-1]:.2f}")

    K = min(args.compare_epochs, args.epochs)
    if K > 0:
        np.random.seed(args.seed)  # the same initial weights, drawn in the same order
        ref_model = RefModel(V, D, H)
        print(f"reference ({reference.__name__}): the same model, weights and batches, "
              f"{K} epochs ...", flush=True)
        ref_ppl, ref_times = train_chapter5(ref_model, corpus, K, **loop)
        worst = max(abs(a - b) / b for a, b in zip(ppl[:K], ref_ppl))
        t_c = sum(times[:K]) / K
        t_r = sum(ref_times) / K
        print("  epoch  compiled ppl  reference ppl")
        for i in range(K):
            print(f"  {i + 1:5d}  {ppl[i]:12.2f}  {ref_ppl[i]:13.2f}")
        print(f"perplexities agree within {worst * 100:.3g}% over {K} epochs")
        print(f"time per epoch: compiled {t_c * 1e3:.1f} ms, reference {t_r * 1e3:.1f} ms: "
              f"speed-up {t_r / t_c:.1f}x "
              f"(the {args.epochs} epochs would take about {t_r * args.epochs:.1f} s with the "
              f"reference layers)")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        ax.plot(np.arange(1, len(ppl) + 1), ppl, label="train")
        ax.set_xlabel("epochs")
        ax.set_ylabel("perplexity")
        ax.set_title(f"{Model.__name__}, {source.split(' (')[0]}")
        fmt = os.path.splitext(args.plot)[1].lstrip(".").lower() or "png"
        atomic_write(args.plot, lambda f: fig.savefig(f, format=fmt))
        plt.close(fig)
        print(f"perplexity curve saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
