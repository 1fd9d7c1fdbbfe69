"""python -m rnnscratch bench: rnnscratch against NumPy, the book's classes and PyTorch, in one run.

Every figure comes from interleaved rounds (tools/rounds.py): in each round
NumPy's float32 2048² matmul, rnnscratch and each peer run back to back; the
speedups and the share of the matmul rate are medians of per-round values,
printed with their quartiles [q1-q3]. The first line records the CPU, its
cores, the SIMD path, the thread count and the load average.

    --only targets   the performance issue's table: each workload with its goal
    --only rnn       TimeRNN against the NumPy reference and torch.nn.RNN
    --only gated     TimeLSTM and TimeGRU against the book's classes and torch
    --only lm        chapter 5: the training loop and a SimpleRnnlm PTB iteration
    --only ch6       Rnnlm and BetterRnnlm, one PTB iteration, against the book and torch
    --only seq2seq   Seq2seq (addition) and AttentionSeq2seq (dates), one Adam iteration
    --only pool      the thread pool's wake-up and fork/join latencies
    --only overhead  a notebook-sized call's time, apart: wrapper, arguments, kernels
The book's classes come from $RNNSCRATCH_COURSE_DIR (or --course-dir); where
they are absent rnnscratch.reference's NumPy twins stand in, and the line says so.
"""
import argparse
import json
import os
import statistics
import types

import numpy as np

from ..models.files import atomic_write
from . import course
from .course import find_course_dir
from .rounds import machine, machine_line, run_rounds, spread, summarize, summary_dict

SIZES = [(10, 5, 100, 100), (20, 35, 100, 100), (20, 35, 650, 650), (64, 100, 1024, 1024)]
# N, T, D, H: chapter-6 Rnnlm, a BetterRnnlm layer, chapter-8 seq2seq, large
GATED_SIZES = [(20, 35, 100, 100), (20, 35, 650, 650), (128, 29, 16, 256), (64, 100, 1024, 1024)]
BOOK_MAX_FLOPS = 2e10  # the book's classes are not timed above this (seconds per call)
CH6_MODELS = {"Rnnlm": (10000, 100, 100), "BetterRnnlm": (10000, 650, 650)}


def rounds_for(quick, rounds=None):
    return rounds or (3 if quick else 9)


# ---- flop counts (forward + backward ≈ 3 × forward) ----

def rnn_flops(N, T, D, H):
    """TimeRNN: forward 2·N·T·H·(D+H); backward about twice that."""
    return 3 * 2 * N * T * H * (D + H)


def gated_flops(N, T, D, H, G):
    """TimeLSTM (G=4) / TimeGRU (G=3)."""
    return 3 * 2 * N * T * G * H * (D + H)


def affine_flops(rows, H, V):
    return 3 * 2 * rows * H * V


def lm_flops(name, V, D, H, N=20, T=35):
    """Rnnlm: one LSTM layer and the output layer; BetterRnnlm: two layers."""
    layers = 2 if name == "BetterRnnlm" else 1
    return layers * gated_flops(N, T, D, H, 4) + affine_flops(N * T, H, V)


def seq2seq_flops(attention, V, D, H, N, T_in, T_out):
    """Encoder and decoder LSTMs, the output layer; with attention its two
    batched products (scores and context: 2·N·T_out·T_in·H each) and the
    output layer over [context | h]."""
    f = gated_flops(N, T_in, D, H, 4) + gated_flops(N, T_out, D, H, 4)
    if attention:
        return f + 3 * 4 * N * T_out * T_in * H + affine_flops(N * T_out, 2 * H, V)
    return f + affine_flops(N * T_out, H, V)


# ---- the contenders' steps (each call: one forward + backward, or one iteration) ----

def make_data(N, T, D, H, dtype, seed=0, G=1):
    rng = np.random.default_rng(seed)
    Wx = (rng.standard_normal((D, G * H)) / np.sqrt(D)).astype(dtype)
    Wh = (rng.standard_normal((H, G * H)) / np.sqrt(H)).astype(dtype)
    b = np.zeros(G * H, dtype=dtype)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    return Wx, Wh, b, xs, dhs


def layer_step(cls, Wx, Wh, b, xs, dhs):
    layer = cls(Wx, Wh, b)

    def run():
        layer.forward(xs)
        layer.backward(dhs)
    return run


def torch_layer_step(torch, kind, Wx, Wh, b, xs, dhs):
    """torch.nn.RNN / LSTM / GRU (batch_first) with our weights (RNN) or its own."""
    D, GH = Wx.shape
    H = dhs.shape[-1]
    tdtype = torch.float32 if Wx.dtype == np.float32 else torch.float64
    if kind == "RNN":
        mod = torch.nn.RNN(D, H, batch_first=True, nonlinearity="tanh").to(tdtype)
        with torch.no_grad():
            mod.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wx.T)))
            mod.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wh.T)))
            mod.bias_ih_l0.copy_(torch.from_numpy(b))
            mod.bias_hh_l0.zero_()
    else:
        mod = getattr(torch.nn, kind)(D, H, batch_first=True).to(tdtype)
    x = torch.from_numpy(xs).requires_grad_(True)
    g = torch.from_numpy(dhs)

    def run():
        mod.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = mod(x)
        out.backward(g)
    return run


def one_thread(step):
    """step() on one rnnscratch thread (the per-call thread decision's check)."""
    import rnnscratch

    def run():
        n = rnnscratch.get_num_threads()
        rnnscratch.set_num_threads(1)
        try:
            step()
        finally:
            rnnscratch.set_num_threads(n)
    return run


def row_split(step):
    """step() with TimeLSTM's recurrence split by batch rows (the column
    split's check, where the automatic rule picks columns)."""
    from .._loader import _core

    def run():
        old = _core._set_recurrence_split("rows")
        try:
            step()
        finally:
            _core._set_recurrence_split(old)
    return run


def _columns_chosen(N, H):
    from .._loader import _core
    return _core._recurrence_split(N, H, False)[0] == "columns"


def _torch():
    try:
        import torch
    except ImportError:
        return None
    import rnnscratch
    torch.set_num_threads(rnnscratch.get_num_threads())
    return torch


def book_layers(course_dir=None):
    """(module with TimeRNN, TimeLSTM and TimeGRU, its name): the book's
    classes when the course folder is found, else rnnscratch.reference."""
    course_dir = find_course_dir(course_dir, need=os.path.join("common", "time_layers.py"))
    if course_dir is not None:
        return course.load(course_dir, "common.time_layers").time_layers, "the book's classes"
    from .. import reference
    return reference, "rnnscratch.reference (no $RNNSCRATCH_COURSE_DIR)"


# ---- one workload measured in rounds, printed as one line ----

def measure(label, steps, flops, rounds, out, ours="rnnscratch"):
    """Time `steps` ({name: step}, ours first) in interleaved rounds; print one
    line; return the figures (summary_dict) with the per-round times."""
    times = run_rounds(steps, rounds)
    s = summarize(times, flops, ours=ours)
    parts = [f"{n} {sp.fmt('.3g')} ms" for n, sp in s["ms"].items()]
    line = f"{label}: " + ", ".join(parts)
    if s["vs"]:
        line += "; " + ", ".join(f"{sp.fmt('.2f', 'x')} vs {n}" for n, sp in s["vs"].items())
    if "share" in s:
        line += (f"; {s['gflops'].fmt('.1f')} GFLOP/s = {s['share'].fmt('.0%')} of the matmul rate "
                 f"({s['matmul_gflops'].fmt('.0f')} GFLOP/s)")
    out(line)
    res = summary_dict(s)
    res["times_s"] = times
    return res


def _legacy_row(fig, names):
    """Medians under the old keys (name_ms, speedup_vs_name), beside the spreads."""
    row = {}
    for n in names:
        if n in fig["ms"]:
            row[f"{n}_ms"] = fig["ms"][n]["median"]
        if n in fig["vs"]:
            row[f"speedup_vs_{n}"] = fig["vs"][n]["median"]
    return row


# ---- TimeRNN (--only rnn) ----

def run_bench(quick=False, threads=None, sizes=None, dtypes=("float32", "float64"), out=print,
              rounds=None):
    import rnnscratch
    from rnnscratch import reference

    if threads is not None:
        rnnscratch.set_num_threads(threads)
    torch = _torch()
    info = machine()
    out("rnnscratch bench  " + machine_line(info))
    out("TimeRNN forward+backward: ms [quartiles of rounds]; ratios = other / rnnscratch, per round")
    rows = []
    for dtype in dtypes:
        for (N, T, D, H) in sizes or SIZES:
            data = make_data(N, T, D, H, np.dtype(dtype))
            steps = {"rnnscratch": layer_step(rnnscratch.TimeRNN, *data),
                     "reference": layer_step(reference.TimeRNN, *data)}
            if torch is not None:
                steps["torch"] = torch_layer_step(torch, "RNN", *data)
            fig = measure(f"TimeRNN {N}x{T}x{D}x{H} {dtype}", steps, rnn_flops(N, T, D, H),
                          rounds_for(quick, rounds), out)
            row = dict(N=N, T=T, D=D, H=H, dtype=dtype, gflops=fig["gflops"]["median"],
                       share=fig["share"]["median"], spread=fig)
            row.update(_legacy_row(fig, ("rnnscratch", "reference", "torch")))
            rows.append(row)
    return {"info": info, "rows": rows,
            "numpy_matmul_gflops": {"float32": statistics.median(
                r["spread"]["matmul_gflops"]["median"] for r in rows)}}


# ---- TimeLSTM / TimeGRU (--only gated) ----

def run_gated_bench(quick=False, sizes=None, out=print, rounds=None, course_dir=None):
    import rnnscratch

    torch = _torch()
    book, book_name = book_layers(course_dir)
    out(f"TimeLSTM and TimeGRU, float32 forward+backward; 'book' = {book_name}")
    rows = []
    for kind, G in (("LSTM", 4), ("GRU", 3)):
        for (N, T, D, H) in sizes or GATED_SIZES:
            data = make_data(N, T, D, H, np.float32, G=G)
            flops = gated_flops(N, T, D, H, G)
            steps = {"rnnscratch": layer_step(getattr(rnnscratch, "Time" + kind), *data)}
            if flops <= BOOK_MAX_FLOPS:
                steps["book"] = layer_step(getattr(book, "Time" + kind), *data)
            if torch is not None:
                steps["torch"] = torch_layer_step(torch, kind, *data)
            fig = measure(f"Time{kind} {N}x{T}x{D}x{H}", steps, flops,
                          rounds_for(quick, rounds), out)
            row = dict(layer="Time" + kind, N=N, T=T, D=D, H=H, gflops=fig["gflops"]["median"],
                       peak_fraction=fig["share"]["median"], spread=fig)
            row.update(_legacy_row(fig, ("rnnscratch", "book", "torch")))
            rows.append(row)
    return {"book": book_name, "rows": rows}


# ---- language models: chapter 5 (--only lm) and chapter 6 (--only ch6) ----

def _lm_corpus(words=None):
    """(ids, description): the Penn Treebank training set when it is on disk
    ($RNNSCRATCH_DATA, the cache; never downloaded here), else the demo's
    standard-library English text."""
    from ..datasets import ptb
    from .demo import stdlib_text, to_ids, tokenize

    try:
        corpus, _, _ = ptb.load_data("train", download=False)
        src = "Penn Treebank (ptb.train.txt)"
    except (OSError, ValueError):
        text, src = stdlib_text()
        corpus = to_ids(tokenize(text))[0]
    return (corpus if words is None else corpus[:words]), src


def _ptb_batches(V, N, T):
    from ..training.trainer import make_batch

    corpus, src = _lm_corpus()
    corpus = np.minimum(corpus, V - 1)
    xs, ts = corpus[:-1], corpus[1:]
    offsets = np.arange(N) * ((len(corpus) - 1) // N)

    def batch(i):
        return make_batch(xs, ts, offsets, i * T, T)
    return batch, src, (len(corpus) - 1) // (N * T)


def iteration_step(one, batch):
    """A step that trains on the next batch each call: one(bx, bt)."""
    pos = [0]

    def run():
        bx, bt = batch(pos[0])
        pos[0] += 1
        one(bx, bt)
    return run


def sgd_iteration(model, opt):
    def one(bx, bt):
        model.forward(bx, bt)
        model.backward()
        opt.update(model.params, model.grads)
    return one


def run_lm_bench(quick=False, out=print, rounds=None):
    """Chapter 5: the training loop's epoch (SimpleRnnlm, 1000 words, batch 10 x
    5) and one PTB iteration of SimpleRnnlm(10000, 100, 100) at batch 20 x 35,
    compiled layers against the NumPy reference layers, same weights and batches."""
    from .demo import train_chapter5
    from ..models import SimpleRnnlm
    from ..models.reference import SimpleRnnlm as RefSimpleRnnlm
    from ..training.optim import SGD

    res = {}
    classes = (("rnnscratch", SimpleRnnlm), ("reference", RefSimpleRnnlm))
    corpus, src = _lm_corpus(1000)
    V = int(corpus.max()) + 1
    steps = {}
    for name, cls in classes:
        np.random.seed(1)
        model = cls(V, 100, 100)
        steps[name] = lambda model=model: train_chapter5(model, corpus, 1)
    iters = (len(corpus) - 1) // 50
    fig = measure(f"chapter-5 loop ({src}, first {len(corpus)} words, V={V}, batch 10 x 5, "
                  f"{iters} iterations), ms per epoch", steps, None, rounds_for(quick, rounds), out)
    res["chapter5"] = dict(corpus=src, words=len(corpus), V=V, iters_per_epoch=iters,
                           rnnscratch_ms_per_epoch=fig["ms"]["rnnscratch"]["median"],
                           reference_ms_per_epoch=fig["ms"]["reference"]["median"],
                           speedup=fig["vs"]["reference"]["median"], spread=fig)

    V, N, T = 10000, 20, 35
    batch, src, epoch_iters = _ptb_batches(V, N, T)
    steps = {}
    for name, cls in classes:
        np.random.seed(1)
        steps[name] = iteration_step(sgd_iteration(cls(V, 100, 100), SGD(0.1)), batch)
    flops = gated_flops(N, T, 100, 100, 1) + affine_flops(N * T, 100, V)
    fig = measure(f"SimpleRnnlm(10000, 100, 100), batch 20 x 35, SGD ({src}), ms per iteration",
                  steps, flops, rounds_for(quick, rounds), out)
    res["ptb_iteration"] = dict(corpus=src, V=V, N=N, T=T, iters_per_epoch=epoch_iters,
                                rnnscratch_ms=fig["ms"]["rnnscratch"]["median"],
                                reference_ms=fig["ms"]["reference"]["median"],
                                speedup=fig["vs"]["reference"]["median"], spread=fig)
    return res


def _course_dir(course_dir=None):
    return find_course_dir(course_dir, need=os.path.join("ch06", "better_rnnlm.py"))


def _book_ch6(course_dir):
    """The book's ch06 models, trainer and optimizer (imported from course_dir)."""
    b = course.load(course_dir, "ch06.rnnlm", "ch06.better_rnnlm", "common.trainer",
                    "common.util", "common.optimizer")
    return types.SimpleNamespace(Rnnlm=b.rnnlm.Rnnlm, BetterRnnlm=b.better_rnnlm.BetterRnnlm,
                                 trainer=b.trainer, util=b.util, SGD=b.optimizer.SGD)


def ch6_iteration_ours(model, lr=20.0, max_grad=0.25):
    """The book's ch06 recipe with rnnscratch's trainer pieces: forward,
    backward, the tied gradient merged, clip 0.25 and SGD in one pass."""
    from ..training.optim import SGD, clip_and_update
    from ..training.trainer import params_and_grads

    opt = SGD(lr)

    def one(bx, bt):
        loss = model.forward(bx, bt)
        model.backward()
        params, grads = params_and_grads(model)
        clip_and_update(opt, params, grads, max_grad)
        return loss
    return one


def ch6_iteration_book(book, model, lr=20.0, max_grad=0.25):
    opt = book.SGD(lr)

    def one(bx, bt):
        loss = model.forward(bx, bt)
        model.backward()
        params, grads = book.trainer.remove_duplicate(model.params, model.grads)
        book.util.clip_grads(grads, max_grad)
        opt.update(params, grads)
        return loss
    return one


def ch6_iteration_torch(torch, name, V, D, H, lr=20.0, max_grad=0.25):
    """The same model in PyTorch (CPU, float32): embedding, LSTM(s), dropout
    and tying as the book's, the state carried (detached) across batches."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, D)
            better = name == "BetterRnnlm"
            self.lstm = nn.LSTM(D, H, num_layers=2 if better else 1, batch_first=True,
                                dropout=0.5 if better else 0.0)
            self.drop = nn.Dropout(0.5 if better else 0.0)
            self.out = nn.Linear(H, V)
            if better:
                self.out.weight = self.embed.weight  # weight tying

        def forward(self, x, state):
            h, state = self.lstm(self.drop(self.embed(x)), state)
            return self.out(self.drop(h)), state

    net = Net()
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    st = {"state": None}

    def one(bx, bt):
        x = torch.from_numpy(np.ascontiguousarray(bx, dtype=np.int64))
        t = torch.from_numpy(np.ascontiguousarray(bt, dtype=np.int64))
        opt.zero_grad()
        score, state = net(x, st["state"])
        st["state"] = tuple(s.detach() for s in state)
        loss = loss_fn(score.reshape(-1, V), t.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), max_grad)
        opt.step()
        return float(loss.detach())
    return one


def ch6_steps(name, dims, batch, book, torch, single=False):
    """{contender: step} for one training iteration of the chapter-6 model."""
    import rnnscratch

    V, D, H = dims
    np.random.seed(1)
    steps = {"rnnscratch": iteration_step(
        ch6_iteration_ours(getattr(rnnscratch, name)(V, D, H)), batch)}
    if single:
        np.random.seed(1)
        steps["1 thread"] = one_thread(iteration_step(
            ch6_iteration_ours(getattr(rnnscratch, name)(V, D, H)), batch))
        if _columns_chosen(batch(0)[0].shape[0], H):
            np.random.seed(1)
            steps["row split"] = row_split(iteration_step(
                ch6_iteration_ours(getattr(rnnscratch, name)(V, D, H)), batch))
    if book is not None:
        np.random.seed(1)
        steps["book"] = iteration_step(ch6_iteration_book(book, getattr(book, name)(V, D, H)),
                                       batch)
    if torch is not None:
        torch.manual_seed(1)
        steps["torch"] = iteration_step(ch6_iteration_torch(torch, name, V, D, H), batch)
    return steps


def run_ch6_bench(quick=False, threads=None, course_dir=None, models=("Rnnlm", "BetterRnnlm"),
                  fidelity=0, out=print, dims=None, rounds=None):
    """Chapter 6 (issue 14): one training iteration (forward, backward, merge
    of the tied gradient, clip 0.25, SGD) of Rnnlm(10000, 100, 100) and
    BetterRnnlm(10000, 650, 650) at batch 20 x 35, rnnscratch against the
    book's classes (when course_dir or $RNNSCRATCH_COURSE_DIR holds them) and
    PyTorch; with fidelity=K, the per-iteration losses of our BetterRnnlm and
    the book's over K iterations from the same weights and dropout seeds.
    dims: {name: (V, D, H)} instead of the book's sizes (the tests' small runs)."""
    import rnnscratch

    dims = dict(CH6_MODELS, **(dims or {}))
    if threads is not None:
        rnnscratch.set_num_threads(threads)
    torch = _torch()
    cdir = _course_dir(course_dir)
    book = _book_ch6(cdir) if cdir else None
    N, T = 20, 35
    batch, src, epoch_iters = _ptb_batches(min(d[0] for d in dims.values()), N, T)
    lstm_cls = rnnscratch.models.base.compiled_layers().TimeLSTM
    info = machine()
    res = {"info": dict(info, corpus=src, N=N, T=T, iters_per_epoch=epoch_iters,
                        time_lstm=f"{lstm_cls.__module__}.{lstm_cls.__name__}"),
           "models": {}}
    out(f"chapter 6: one training iteration (forward, backward, clip 0.25, SGD), batch {N} x {T}, "
        f"{src}; " + machine_line(info))
    for name in models:
        V, D, H = dims[name]
        fig = measure(f"{name}({V}, {D}, {H})", ch6_steps(name, dims[name], batch, book, torch),
                      lm_flops(name, V, D, H, N, T), rounds_for(quick, rounds), out)
        row = _legacy_row(fig, ("rnnscratch", "book", "torch"))
        row["spread"] = fig
        row["epoch_minutes"] = row["rnnscratch_ms"] * epoch_iters / 6e4
        res["models"][name] = row
        names = [n for n in ("rnnscratch", "book", "torch") if n + "_ms" in row]
        out(f"  one epoch ({epoch_iters} iterations): "
            + ", ".join(f"{n} {row[n + '_ms'] * epoch_iters / 6e4:.0f} min" for n in names))
        if name == "BetterRnnlm":  # the book's train_better_rnnlm.py: max_epoch = 40
            row["forty_epochs_hours"] = {n: row[n + "_ms"] * epoch_iters * 40 / 3.6e6 for n in names}
            out("  40 epochs (the book's train_better_rnnlm.py), projected: "
                + ", ".join(f"{n} {h:.1f} h" for n, h in row["forty_epochs_hours"].items()))
    if fidelity:
        if book is None:
            out("fidelity: needs the book's code (--course-dir or $RNNSCRATCH_COURSE_DIR)")
        else:
            res["fidelity"] = ch6_fidelity(book, fidelity, batch, out=out,
                                           dims=dims["BetterRnnlm"])
    return res


def ch6_fidelity(book, iters, batch, out=print, dims=None):
    """Our BetterRnnlm and the book's from the same weights, the same batches
    and the same np.random seed before every iteration (the dropout masks),
    trained with the book's recipe: the worst relative difference of the
    per-iteration losses."""
    import rnnscratch

    V, D, H = dims or CH6_MODELS["BetterRnnlm"]
    np.random.seed(1)
    ours = rnnscratch.BetterRnnlm(V, D, H)
    np.random.seed(1)
    theirs = book.BetterRnnlm(V, D, H)
    so, sb = ch6_iteration_ours(ours), ch6_iteration_book(book, theirs)
    worst, losses = 0.0, []
    for i in range(iters):
        bx, bt = batch(i)
        np.random.seed(1000 + i)
        lo = float(so(bx, bt))
        np.random.seed(1000 + i)
        lb = float(sb(bx, bt))
        worst = max(worst, abs(lo - lb) / abs(lb))
        losses.append((lo, lb))
    out(f"fidelity: BetterRnnlm({V}, {D}, {H}), {iters} iterations from the same weights and dropout seeds: "
        f"losses {losses[0][1]:.4f} -> {losses[-1][1]:.4f} (book), worst relative difference "
        f"{worst:.2e}")
    return {"iterations": iters, "worst_rel_diff": worst, "losses": losses}


# ---- seq2seq, chapters 7-8 (--only seq2seq) ----

def book_modules(course_dir=None):
    """The book's ch07.seq2seq, ch08.attention_seq2seq and common.optimizer,
    imported from course_dir (default $RNNSCRATCH_COURSE_DIR); None when absent."""
    course_dir = find_course_dir(course_dir, need=os.path.join("ch07", "seq2seq.py"))
    if course_dir is None:
        return None
    b = course.load(course_dir, "ch07.seq2seq", "ch08.attention_seq2seq", "common.optimizer",
                    "common.util", paths=("ch07",))
    return vars(b)


def _seq2seq_data(file_name, make, size):
    """(x, t, description, V): the book's file when it can be found, else generated."""
    from ..datasets import sequence

    sequence.reset_vocab()
    try:
        (x, t), _ = sequence.load_data(file_name)
        src = file_name
    except FileNotFoundError:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            make(os.path.join(d, file_name), size=size)
            (x, t), _ = sequence.load_data(file_name, data_dir=d)
        src = f"{file_name} generated by sequence.{make.__name__}"
    return x, t, src, len(sequence.get_vocab()[0])


# label, data file, generator, D, H, class, the book's module, reversed input
SEQ2SEQ_CASES = {
    "Seq2seq": ("addition.txt", "make_addition", 16, 128, "seq2seq", False),
    "AttentionSeq2seq": ("date.txt", "make_dates", 16, 256, "attention_seq2seq", True),
}


def seq2seq_steps(label, N=128, course_dir=None, single=False, out=print):
    """(steps, flops, description): one Adam iteration (forward, backward,
    clip_grads(5.0), Adam) of the chapter 7-8 model on its data, for
    rnnscratch, the book's class (or rnnscratch.reference's twin)."""
    from .. import models
    from ..datasets import sequence
    from ..models import reference
    from ..training.optim import Adam, clip_and_update, clip_grads

    fname, make, D, H, book_mod, reverse = SEQ2SEQ_CASES[label]
    x, t, src, V = _seq2seq_data(fname, getattr(sequence, make), 50000)
    if reverse:
        x = x[:, ::-1]
    book = book_modules(course_dir)

    def batch(i):
        lo = (i * N) % (len(x) - N)
        return np.ascontiguousarray(x[lo:lo + N]), t[lo:lo + N]

    def ours(model, opt):
        def one(bx, bt):
            model.forward(bx, bt)
            model.backward()
            clip_and_update(opt, model.params, model.grads, 5.0)
        return one

    def theirs(model, opt, clip):
        def one(bx, bt):
            model.forward(bx, bt)
            model.backward()
            clip(model.grads, 5.0)
            opt.update(model.params, model.grads)
        return one

    steps = {}
    np.random.seed(1)
    steps["rnnscratch"] = iteration_step(ours(getattr(models, label)(V, D, H), Adam()), batch)
    if single:
        np.random.seed(1)
        steps["1 thread"] = one_thread(iteration_step(ours(getattr(models, label)(V, D, H),
                                                           Adam()), batch))
    np.random.seed(1)
    if book is not None:
        steps["book"] = iteration_step(theirs(getattr(book[book_mod], label)(V, D, H),
                                              book["optimizer"].Adam(), book["util"].clip_grads),
                                       batch)
    else:
        steps["reference"] = iteration_step(theirs(getattr(reference, label)(V, D, H), Adam(),
                                                   clip_grads), batch)
    flops = seq2seq_flops(label == "AttentionSeq2seq", V, D, H, N, x.shape[1], t.shape[1] - 1)
    desc = f"{label}({V}, {D}, {H}), batch {N}, {x.shape[1]} -> {t.shape[1] - 1} steps, Adam ({src})"
    return steps, flops, desc


def run_seq2seq_bench(quick=False, out=print, course_dir=None, rounds=None):
    """One training iteration of Seq2seq(V, 16, 128) on the addition data and
    of AttentionSeq2seq(V, 16, 256) on the dates, batch 128, rnnscratch
    against the book's classes (else rnnscratch.reference's)."""
    import rnnscratch

    res = {"threads": rnnscratch.get_num_threads()}
    for label in SEQ2SEQ_CASES:
        steps, flops, desc = seq2seq_steps(label, course_dir=course_dir)
        fig = measure(desc, steps, flops, rounds_for(quick, rounds), out)
        row = dict(model=label, ms={n: v["median"] for n, v in fig["ms"].items()}, spread=fig)
        for n, v in fig["vs"].items():
            row["speedup_vs_" + n] = v["median"]
        res[label] = row
    return res


# ---- the thread pool (--only pool) ----

def run_pool_bench(jobs=2000, out=print):
    """The pool's latencies: how late the slowest worker joins a job and the
    fork/join round trip of empty tasks, for jobs back to back (the workers
    spinning), 100 µs apart, and 3 ms apart (the workers asleep)."""
    from .._loader import _core

    res = {}
    out("thread pool: empty jobs of one task per thread; microseconds: median, 90th, 99th "
        "percentile, max")
    for gap in (0, 100, 3000):
        n = jobs if gap < 1000 else max(50, jobs // 10)
        nt, wake, trip = _core._pool_timing(n, gap)

        def pct(xs):
            q = statistics.quantiles(xs, n=100, method="inclusive")
            return {"median": q[49], "p90": q[89], "p99": q[98], "max": max(xs)}
        w, t = pct(wake), pct(trip)
        res[f"gap_{gap}us"] = {"threads": nt, "jobs": n, "wake_us": w, "trip_us": t}
        f = lambda d: " / ".join(f"{d[k]:.1f}" for k in ("median", "p90", "p99", "max"))  # noqa: E731
        out(f"  {nt} threads, jobs {gap} us apart ({n}): wake-up {f(w)}; fork/join {f(t)}")
    return res


# ---- per-call overhead at notebook sizes (--only overhead) ----

OVERHEAD_SIZES = [("TimeRNN", (10, 5, 100, 100)), ("TimeLSTM", (20, 35, 100, 100)),
                  ("TimeRNN", (1, 1, 4, 4))]


def _core_steps(kind, Wx, Wh, b, xs, dhs):
    """forward+backward as the class makes them, straight on _core (no class)."""
    from .._loader import _core

    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    if kind == "TimeRNN":
        def run():
            hs = _core.time_rnn_forward(xs, None, Wx, Wh, b, "tanh")
            _core.time_rnn_backward(dhs, xs, None, hs, Wx, Wh, dWx, dWh, db, "tanh", b=b)
    else:
        N, H = xs.shape[0], dhs.shape[-1]
        c0 = np.zeros((N, H), dtype=xs.dtype)

        def run():
            hs, cs, gates = _core.time_lstm_forward(xs, None, c0, Wx, Wh, b)
            _core.time_lstm_backward(dhs, None, xs, None, c0, hs, cs, gates, Wx, Wh,
                                     dWx, dWh, db, b=b)
    return run


def run_overhead_bench(quick=False, rounds=None, out=print):
    """Where a notebook-sized call's time goes, measured apart in interleaved
    rounds: the class (what the student calls), the same _core calls without
    the class, those calls with T = 0 (the argument checks and the output
    arrays, no arithmetic), and the class on one thread (the pool's share)."""
    import rnnscratch

    res = {"info": machine(), "rows": []}
    out("overhead  " + machine_line(res["info"]))
    out("forward+backward, float32, µs: median [quartiles] of per-round values; "
        "wrapper = class - _core, arguments = _core with T = 0, kernels = _core - arguments")
    for kind, (N, T, D, H) in OVERHEAD_SIZES:
        G = 4 if kind == "TimeLSTM" else 1
        data = make_data(N, T, D, H, np.float32, G=G)
        Wx, Wh, b, xs, dhs = data
        steps = {"class": layer_step(getattr(rnnscratch, kind), *data),
                 "_core": _core_steps(kind, *data),
                 "_core, T=0": _core_steps(kind, Wx, Wh, b, xs[:, :0], dhs[:, :0]),
                 "class, 1 thread": one_thread(layer_step(getattr(rnnscratch, kind), *data))}
        times = run_rounds(steps, rounds_for(quick, rounds), matmul=False)
        us = {n: [t * 1e6 for t in ts] for n, ts in times.items()}
        parts = {
            "class": spread(us["class"]),
            "wrapper": spread([a - c for a, c in zip(us["class"], us["_core"])]),
            "arguments": spread(us["_core, T=0"]),
            "kernels": spread([c - z for c, z in zip(us["_core"], us["_core, T=0"])]),
            "class, 1 thread": spread(us["class, 1 thread"]),
        }
        out(f"{kind} {N}x{T}x{D}x{H}: " + ", ".join(f"{n} {sp.fmt('.1f')}"
                                                    for n, sp in parts.items()))
        res["rows"].append(dict(kind=kind, size=(N, T, D, H),
                                us={n: sp.as_dict() for n, sp in parts.items()}))
    return res


# ---- the performance issue's table (--only targets) ----

# workload -> (goal share of the matmul rate or None, {peer: goal speedup})
TARGETS = [
    ("BetterRnnlm", 0.85, {"torch": 1.2}),
    ("Rnnlm", 0.70, {"torch": 2.0}),
    ("TimeLSTM 20x35x650x650", 0.95, {"torch": 1.5}),
    ("TimeLSTM 64x100x1024x1024", 0.90, {"torch": 1.15}),
    ("TimeLSTM 20x35x100x100", None, {"torch": 2.0}),
    ("TimeLSTM 128x29x16x256", None, {"torch": 1.4}),
    ("Seq2seq", None, {"book": 3.0}),
    ("AttentionSeq2seq", 0.85, {}),
    ("TimeRNN 10x5x100x100", None, {"book": 8.0}),
]


def target_steps(name, course_dir=None, out=print):
    """(steps, flops, description) of one row of TARGETS, with the
    '1 thread' contender (ours on one thread) beside the peers."""
    import rnnscratch

    torch = _torch()
    if name in CH6_MODELS:
        cdir = _course_dir(course_dir)
        book = _book_ch6(cdir) if cdir and name == "Rnnlm" else None
        V, D, H = CH6_MODELS[name]
        batch, src, _ = _ptb_batches(V, 20, 35)
        return (ch6_steps(name, (V, D, H), batch, book, torch, single=True),
                lm_flops(name, V, D, H), f"{name}({V}, {D}, {H}) PTB iteration")
    if name in SEQ2SEQ_CASES:
        return seq2seq_steps(name, course_dir=course_dir, single=True, out=out)
    kind, size = name.split()
    N, T, D, H = map(int, size.split("x"))
    G = {"TimeLSTM": 4, "TimeGRU": 3, "TimeRNN": 1}[kind]
    data = make_data(N, T, D, H, np.float32, G=G)
    steps = {"rnnscratch": layer_step(getattr(rnnscratch, kind), *data),
             "1 thread": one_thread(layer_step(getattr(rnnscratch, kind), *data))}
    if kind == "TimeLSTM" and _columns_chosen(N, H):
        steps["row split"] = row_split(layer_step(rnnscratch.TimeLSTM, *data))
    if kind == "TimeRNN":
        book, _ = book_layers(course_dir)
        steps["book"] = layer_step(book.TimeRNN, *data)
    if torch is not None and kind != "TimeRNN":
        steps["torch"] = torch_layer_step(torch, kind[4:], *data)
    return steps, gated_flops(N, T, D, H, G), f"{name} float32 forward+backward"


def run_targets(quick=False, rounds=None, course_dir=None, only=None, out=print):
    info = machine()
    out("targets  " + machine_line(info))
    out("each row: ms [quartiles of rounds]; speedup = peer / ours per round; share = of numpy's "
        "float32 2048² matmul rate in the same round; '1 thread' = ours on one thread; "
        "'row split' = ours with TimeLSTM's recurrence split by rows (where columns are chosen)")
    res = {"info": info, "rows": []}
    for name, share_goal, vs_goal in TARGETS:
        if only and name not in only:
            continue
        steps, flops, desc = target_steps(name, course_dir=course_dir, out=out)
        fig = measure(desc, steps, flops, rounds_for(quick, rounds), out)
        times = fig["times_s"]
        late = sum(a > b for a, b in zip(times["rnnscratch"], times["1 thread"]))
        verdict = []
        if share_goal is not None:
            got = fig["share"]["median"]
            verdict.append(f"share {got:.0%} (goal {share_goal:.0%}: "
                           f"{'met' if got >= share_goal else 'not met'})")
        for peer, goal in vs_goal.items():
            if peer == "book" and peer not in fig["vs"] and "reference" in fig["vs"]:
                peer_key = "reference"
            else:
                peer_key = peer
            if peer_key in fig["vs"]:
                got = fig["vs"][peer_key]["median"]
                verdict.append(f"{got:.2f}x vs {peer_key} (goal {goal}x: "
                               f"{'met' if got >= goal else 'not met'})")
            else:
                verdict.append(f"vs {peer}: not measured (not available here)")
        verdict.append(f"2 threads slower than 1 in {late} of {len(times['rnnscratch'])} rounds")
        out("  -> " + "; ".join(verdict))
        fig.pop("times_s")
        res["rows"].append(dict(workload=name, description=desc, flops=flops, figures=fig,
                                rounds_two_threads_slower=late, goal_share=share_goal,
                                goal_vs=vs_goal))
    info_after = machine()
    out(f"load average after: {info_after['load_average']}")
    res["load_average_after"] = info_after["load_average"]
    return res


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    dtypes = sorted({r["dtype"] for r in rows})
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6 * len(dtypes), 4), squeeze=False)
    for ax, dtype in zip(axes[0], dtypes):
        rs = [r for r in rows if r["dtype"] == dtype]
        labels = [f"{r['N']}x{r['T']}x{r['D']}x{r['H']}" for r in rs]
        x = np.arange(len(rs))
        series = [("rnnscratch", "rnnscratch_ms"), ("reference (NumPy)", "reference_ms"),
                  ("torch.nn.RNN", "torch_ms")]
        w = 0.27
        for i, (name, key) in enumerate(series):
            vals = [r.get(key) for r in rs]
            if any(v is None for v in vals):
                continue
            ax.bar(x + (i - 1) * w, vals, w, label=name)
        ax.set_yscale("log")
        ax.set_xticks(x, labels, rotation=15)
        ax.set_ylabel("forward+backward time (ms, log)")
        ax.set_title(f"TimeRNN {dtype}, {result['info']['threads']} thread(s)")
        ax.legend()
    fig.suptitle(f"{result['info']['cpu']}, {result['info']['date']}")
    fig.tight_layout()
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    atomic_write(path, lambda f: fig.savefig(f, dpi=100, format=fmt))


ONLY = ("targets", "rnn", "lm", "gated", "ch6", "seq2seq", "pool", "overhead")


def main(argv=None):
    from .args import check_output_file, positive_int

    p = argparse.ArgumentParser(prog="python -m rnnscratch bench",
                                description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 rounds instead of 9: a short run")
    p.add_argument("--rounds", type=positive_int, default=None,
                   help="interleaved rounds per workload (default 9, --quick 3)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="thread count for all contenders")
    p.add_argument("--dtype", choices=["float32", "float64", "both"], default="both",
                   help="rnn: the TimeRNN table's dtypes")
    p.add_argument("--json", metavar="FILE", help="save the numbers as JSON")
    p.add_argument("--plot", metavar="FILE", help="save a chart of the TimeRNN table "
                   "(needs matplotlib)")
    p.add_argument("--only", choices=ONLY, default=None,
                   help="one part (default: rnn, gated and lm; targets, ch6, seq2seq and pool "
                        "only on request)")
    p.add_argument("--workload", action="append", default=None, metavar="NAME",
                   help="targets: only this row (repeatable), e.g. 'BetterRnnlm' or "
                        "'TimeLSTM 20x35x650x650'")
    p.add_argument("--course-dir", metavar="DIR", default=None,
                   help="the book's code (holding ch06/, common/), else $RNNSCRATCH_COURSE_DIR")
    p.add_argument("--model", choices=["Rnnlm", "BetterRnnlm", "both"], default="both",
                   help="ch6: which model (default both)")
    p.add_argument("--fidelity", type=int, default=0, metavar="K",
                   help="ch6: also compare K iterations of BetterRnnlm with the book's")
    args = p.parse_args(argv)
    dtypes = ("float32", "float64") if args.dtype == "both" else (args.dtype,)
    # every mistake before the run, not after it (the results would be lost)
    if args.plot and args.only not in (None, "rnn"):
        p.error("argument --plot: it draws the TimeRNN table; drop --only %s" % args.only)
    if args.workload and args.only != "targets":
        p.error("argument --workload: goes with --only targets")
    names = [t[0] for t in TARGETS]
    for w in args.workload or ():
        if w not in names:
            p.error(f"argument --workload: expected one of {', '.join(repr(n) for n in names)}, "
                    f"got {w!r}")
    check_output_file(p, "--json", args.json)
    check_output_file(p, "--plot", args.plot)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            p.error("argument --plot: needs matplotlib (pip install matplotlib)")
    import rnnscratch
    if args.threads is not None:
        rnnscratch.set_num_threads(args.threads)
    kw = dict(quick=args.quick, rounds=args.rounds)
    result = {}
    if args.only == "targets":
        result["targets"] = run_targets(course_dir=args.course_dir, only=args.workload, **kw)
    elif args.only == "ch6":
        models = ("Rnnlm", "BetterRnnlm") if args.model == "both" else (args.model,)
        result["ch6"] = run_ch6_bench(course_dir=args.course_dir, models=models,
                                      fidelity=args.fidelity, **kw)
    elif args.only == "seq2seq":
        out = print
        out("seq2seq, one training iteration (compiled models vs the book's classes or the NumPy "
            "reference, same weights and batches):")
        result["seq2seq"] = run_seq2seq_bench(course_dir=args.course_dir, **kw)
    elif args.only == "pool":
        result["pool"] = run_pool_bench()
    elif args.only == "overhead":
        result["overhead"] = run_overhead_bench(**kw)
    else:
        if args.only in (None, "rnn"):
            result = run_bench(dtypes=dtypes, **kw)
        if args.only in (None, "gated"):
            result["gated"] = run_gated_bench(course_dir=args.course_dir, **kw)
        if args.only in (None, "lm"):
            print("language model, compiled layers vs the NumPy reference layers, same weights "
                  "and batches:")
            result["lm"] = run_lm_bench(**kw)
    if args.json:
        atomic_write(args.json, lambda f: json.dump(result, f, indent=2), mode="w")
    if args.plot:
        plot(result, args.plot)
    return 0
