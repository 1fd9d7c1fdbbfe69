"""python -m rnnscratch bench: TimeRNN and the language model, measured in one run.

TimeRNN: forward+backward of rnnscratch.TimeRNN (C kernels) against
rnnscratch.reference.TimeRNN (NumPy) and, when importable, torch.nn.RNN on the
CPU with the same thread count.
Language model (issue 4): the chapter-5 training loop (SimpleRnnlm, 1000 words,
batch 10, 5 time steps, SGD 0.1) and one training iteration of
SimpleRnnlm(10000, 100, 100) at batch 20 x 35 steps (the PTB setting), with the
compiled layers against the NumPy reference layers, same weights and batches.
Chapter 6 (issue 14, `--only ch6`): one training iteration of Rnnlm and
BetterRnnlm at the PTB size against the book's classes and PyTorch, and
(`--fidelity K`) the per-iteration losses of BetterRnnlm against the book's.
Seq2seq (issue 15, --only seq2seq): one Adam iteration of Seq2seq on the
addition data and of AttentionSeq2seq on the dates, batch 128, against the
book's classes ($RNNSCRATCH_COURSE_DIR) and the NumPy reference models.
Every figure is a median over repeats after a warm-up; the ratios come from
this one run on this one machine.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
import types

import numpy as np

from ..models.files import atomic_write
from . import course
from .course import find_course_dir

SIZES = [(10, 5, 100, 100), (20, 35, 100, 100), (20, 35, 650, 650), (64, 100, 1024, 1024)]


def rnn_flops(N, T, D, H):
    """Forward 2·N·T·H·(D+H); backward about twice that."""
    return 3 * 2 * N * T * H * (D + H)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_time(fn, min_time, min_repeats, warmup=2):
    # Let the previous contender's idle worker threads (OpenBLAS, OpenMP) stop
    # spinning first: they would take the core this one's second thread needs.
    time.sleep(0.3)
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_repeats or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 200:
            break
    return statistics.median(times)


def make_data(N, T, D, H, dtype, seed=0):
    rng = np.random.default_rng(seed)
    Wx = (rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype)
    Wh = (rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype)
    b = np.zeros(H, dtype=dtype)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)
    return Wx, Wh, b, xs, dhs


def numpy_step(module, Wx, Wh, b, xs, dhs):
    layer = module.TimeRNN(Wx, Wh, b)

    def run():
        layer.forward(xs)
        layer.backward(dhs)

    return run


def torch_step(torch, Wx, Wh, b, xs, dhs):
    D, H = Wx.shape
    tdtype = torch.float32 if Wx.dtype == np.float32 else torch.float64
    rnn = torch.nn.RNN(D, H, batch_first=True, nonlinearity="tanh").to(tdtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wx.T)))
        rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wh.T)))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    return _torch_run(torch, rnn, xs, dhs)


def _torch_run(torch, module, xs, dhs):
    """One timed forward + backward of a torch recurrent module (batch_first)."""
    x = torch.from_numpy(xs).requires_grad_(True)
    g = torch.from_numpy(dhs)

    def run():
        module.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = module(x)
        out.backward(g)

    return run


def matmul_rate(dtype, min_time, min_repeats):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6400, 1024)).astype(dtype)
    w = rng.standard_normal((1024, 1024)).astype(dtype)
    t = median_time(lambda: a @ w, min_time, min_repeats, warmup=1)
    return 2 * 6400 * 1024 * 1024 / t / 1e9


def run_bench(quick=False, threads=None, sizes=None, dtypes=("float32", "float64"), out=print):
    import rnnscratch
    from rnnscratch import reference

    try:
        import torch
    except ImportError:
        torch = None
    if threads is not None:
        rnnscratch.set_num_threads(threads)
    nthreads = rnnscratch.get_num_threads()
    if torch is not None:
        torch.set_num_threads(nthreads)
    min_time, min_repeats = (0.2, 3) if quick else (1.0, 7)
    sizes = sizes or SIZES

    info = {
        "date": datetime.date.today().isoformat(),
        "machine": cpu_name(),
        "cpus": os.cpu_count(),
        "threads": nthreads,
        "kernel_path": rnnscratch._core.get_simd_path(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "python": sys.version.split()[0],
    }
    out(f"rnnscratch bench  {info['date']}  {info['machine']}  {nthreads} thread(s)  "
        f"kernel path {info['kernel_path']}  numpy {info['numpy']}  torch {info['torch'] or '-'}")
    out("forward+backward of TimeRNN, median of repeats after warm-up, ms; ratios = other / rnnscratch")
    header = (f"{'N':>3} {'T':>4} {'D':>5} {'H':>5} {'dtype':>8} {'rnnscratch':>11} {'reference':>11} "
              f"{'torch':>9} {'vs ref':>7} {'vs torch':>9} {'GFLOP/s':>8}")
    out(header)
    rows = []
    for dtype in dtypes:
        for (N, T, D, H) in sizes:
            data = make_data(N, T, D, H, np.dtype(dtype))
            t_ours = median_time(numpy_step(rnnscratch, *data), min_time, min_repeats)
            t_ref = median_time(numpy_step(reference, *data), min_time, min_repeats)
            t_torch = (median_time(torch_step(torch, *data), min_time, min_repeats)
                       if torch is not None else None)
            gflops = rnn_flops(N, T, D, H) / t_ours / 1e9
            row = dict(N=N, T=T, D=D, H=H, dtype=dtype, rnnscratch_ms=t_ours * 1e3,
                       reference_ms=t_ref * 1e3,
                       torch_ms=t_torch * 1e3 if t_torch is not None else None,
                       speedup_vs_reference=t_ref / t_ours,
                       speedup_vs_torch=t_torch / t_ours if t_torch is not None else None,
                       gflops=gflops)
            rows.append(row)
            torch_s = f"{row['torch_ms']:9.3f}" if t_torch is not None else f"{'-':>9}"
            vs_torch = f"{row['speedup_vs_torch']:8.1f}x" if t_torch is not None else f"{'-':>9}"
            out(f"{N:>3} {T:>4} {D:>5} {H:>5} {dtype:>8} {row['rnnscratch_ms']:11.3f} "
                f"{row['reference_ms']:11.3f} {torch_s} {row['speedup_vs_reference']:6.1f}x "
                f"{vs_torch} {gflops:8.1f}")
    rates = {}
    for dtype in dtypes:
        rates[dtype] = matmul_rate(np.dtype(dtype), min_time, min_repeats)
        out(f"numpy matmul (6400x1024)@(1024x1024) {dtype}: {rates[dtype]:.1f} GFLOP/s")
    big = [r for r in rows if (r["N"], r["T"], r["D"], r["H"]) == (64, 100, 1024, 1024)]
    for r in big:
        out(f"{r['dtype']} 64x100x1024x1024: rnnscratch at {r['gflops'] / rates[r['dtype']] * 100:.0f}% "
            f"of numpy's matmul rate")
    by = {(r["N"], r["T"], r["D"], r["H"], r["dtype"]): r for r in rows}
    for (N, T, D, H) in sizes:
        a, b = by.get((N, T, D, H, "float32")), by.get((N, T, D, H, "float64"))
        if a and b:
            out(f"float64/float32 time at {N}x{T}x{D}x{H}: {b['rnnscratch_ms'] / a['rnnscratch_ms']:.2f}")
    return {"info": info, "rows": rows, "numpy_matmul_gflops": rates}


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


def _alternate(contenders, blocks, out_times):
    """Run each contender's block in turn, `blocks` times, after a pause that
    lets the other one's idle threads stop spinning; collect its times."""
    for _ in range(blocks):
        for name, block in contenders:
            time.sleep(0.3)
            out_times[name] += block()


def run_lm_bench(quick=False, out=print):
    """The two language-model figures of issue 4, compiled vs reference layers."""
    from .demo import train_chapter5
    from ..models import SimpleRnnlm
    from ..models.reference import SimpleRnnlm as RefSimpleRnnlm
    from ..training.optim import SGD
    from ..training.trainer import make_batch

    res = {}
    # 1. the chapter-5 loop: whole epochs of train_chapter5
    corpus, src = _lm_corpus(1000)
    V = int(corpus.max()) + 1
    models = {}
    for name, cls in (("rnnscratch", SimpleRnnlm), ("reference", RefSimpleRnnlm)):
        np.random.seed(1)
        models[name] = cls(V, 100, 100)
    per_block = 2 if quick else 5
    times = {"rnnscratch": [], "reference": []}

    def epochs(name):
        return lambda: train_chapter5(models[name], corpus, per_block)[1][1:]

    _alternate([(n, epochs(n)) for n in times], 2 if quick else 6, times)
    iters = (len(corpus) - 1) // 50
    ch5 = {n: statistics.median(t) for n, t in times.items()}
    res["chapter5"] = dict(corpus=src, words=len(corpus), V=V, iters_per_epoch=iters,
                           rnnscratch_ms_per_epoch=ch5["rnnscratch"] * 1e3,
                           reference_ms_per_epoch=ch5["reference"] * 1e3,
                           speedup=ch5["reference"] / ch5["rnnscratch"])
    out(f"chapter-5 loop ({src}, first {len(corpus)} words, V={V}, batch 10 x 5 steps, "
        f"{iters} iterations/epoch): rnnscratch {ch5['rnnscratch'] * 1e3:.1f} ms/epoch, "
        f"reference {ch5['reference'] * 1e3:.1f} ms/epoch: {res['chapter5']['speedup']:.1f}x")

    # 2. SimpleRnnlm(10000, 100, 100), batch 20 x 35: one training iteration
    corpus, src = _lm_corpus()
    V, N, T = 10000, 20, 35
    corpus = np.minimum(corpus, V - 1)
    xs, ts = corpus[:-1], corpus[1:]
    offsets = np.arange(N) * ((len(corpus) - 1) // N)
    state = {}
    for name, cls in (("rnnscratch", SimpleRnnlm), ("reference", RefSimpleRnnlm)):
        np.random.seed(1)
        state[name] = [cls(V, 100, 100), SGD(0.1), 0]
    per_block = 3 if quick else 8
    times = {"rnnscratch": [], "reference": []}

    def iterations(name):
        def block():
            model, opt, pos = state[name]
            out_t = []
            for i in range(per_block + 1):  # the first one is a warm-up
                bx, bt = make_batch(xs, ts, offsets, pos, T)
                pos += T
                t0 = time.perf_counter()
                model.forward(bx, bt)
                model.backward()
                opt.update(model.params, model.grads)
                if i:
                    out_t.append(time.perf_counter() - t0)
            state[name][2] = pos
            return out_t
        return block

    _alternate([(n, iterations(n)) for n in times], 2 if quick else 8, times)
    it = {n: statistics.median(t) for n, t in times.items()}
    epoch_iters = (len(corpus) - 1) // (N * T)
    res["ptb_iteration"] = dict(corpus=src, V=V, N=N, T=T,
                                rnnscratch_ms=it["rnnscratch"] * 1e3,
                                reference_ms=it["reference"] * 1e3,
                                speedup=it["reference"] / it["rnnscratch"],
                                iters_per_epoch=epoch_iters)
    out(f"SimpleRnnlm(10000, 100, 100), batch 20 x 35 steps, SGD ({src}): rnnscratch "
        f"{it['rnnscratch'] * 1e3:.1f} ms/iteration, reference {it['reference'] * 1e3:.1f} "
        f"ms/iteration: {res['ptb_iteration']['speedup']:.1f}x (one epoch = {epoch_iters} "
        f"iterations: about {it['rnnscratch'] * epoch_iters:.0f} s vs "
        f"{it['reference'] * epoch_iters:.0f} s)")
    return res


# --------------------------------------------------------------------------
# chapter 6: one training iteration of Rnnlm / BetterRnnlm at the PTB size
# --------------------------------------------------------------------------

CH6_MODELS = {"Rnnlm": (10000, 100, 100), "BetterRnnlm": (10000, 650, 650)}


def _course_dir(course_dir=None):
    return find_course_dir(course_dir, need=os.path.join("ch06", "better_rnnlm.py"))


def _book_ch6(course_dir):
    """The book's ch06 models, trainer and optimizer (imported from course_dir)."""
    b = course.load(course_dir, "ch06.rnnlm", "ch06.better_rnnlm", "common.trainer",
                    "common.util", "common.optimizer")
    return types.SimpleNamespace(Rnnlm=b.rnnlm.Rnnlm, BetterRnnlm=b.better_rnnlm.BetterRnnlm,
                                 trainer=b.trainer, util=b.util, SGD=b.optimizer.SGD)


def _ch6_step_ours(model, lr=20.0, max_grad=0.25):
    from ..training.optim import SGD, clip_grads
    from ..training.trainer import params_and_grads

    opt = SGD(lr)

    def step(bx, bt):
        loss = model.forward(bx, bt)
        model.backward()
        params, grads = params_and_grads(model)
        clip_grads(grads, max_grad)
        opt.update(params, grads)
        return loss
    return step


def _ch6_step_book(book, model, lr=20.0, max_grad=0.25):
    opt = book.SGD(lr)

    def step(bx, bt):
        loss = model.forward(bx, bt)
        model.backward()
        params, grads = book.trainer.remove_duplicate(model.params, model.grads)
        book.util.clip_grads(grads, max_grad)
        opt.update(params, grads)
        return loss
    return step


def _ch6_step_torch(torch, name, V, D, H, lr=20.0, max_grad=0.25):
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

    def step(bx, bt):
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
    return step


def _ptb_batches(V, N, T):
    corpus, src = _lm_corpus()
    corpus = np.minimum(corpus, V - 1)
    xs, ts = corpus[:-1], corpus[1:]
    offsets = np.arange(N) * ((len(corpus) - 1) // N)
    from ..training.trainer import make_batch

    def batch(i):
        return make_batch(xs, ts, offsets, i * T, T)
    return batch, src, (len(corpus) - 1) // (N * T)


def run_ch6_bench(quick=False, threads=None, course_dir=None, models=("Rnnlm", "BetterRnnlm"),
                  fidelity=0, out=print, dims=None):
    """Chapter 6 (issue 14): one training iteration (forward, backward, merge
    of the tied gradient, clip 0.25, SGD) of Rnnlm(10000, 100, 100) and
    BetterRnnlm(10000, 650, 650) at batch 20 x 35, rnnscratch against the
    book's classes (when course_dir or $RNNSCRATCH_COURSE_DIR holds them) and
    PyTorch; with fidelity=K, the per-iteration losses of our BetterRnnlm and
    the book's over K iterations from the same weights and dropout seeds.
    dims: {name: (V, D, H)} instead of the book's sizes (the tests' small runs)."""
    import rnnscratch

    dims = dict(CH6_MODELS, **(dims or {}))
    try:
        import torch
    except ImportError:
        torch = None
    if threads is not None:
        rnnscratch.set_num_threads(threads)
    nthreads = rnnscratch.get_num_threads()
    if torch is not None:
        torch.set_num_threads(nthreads)
    cdir = _course_dir(course_dir)
    book = _book_ch6(cdir) if cdir else None
    N, T = 20, 35
    batch, src, epoch_iters = _ptb_batches(min(d[0] for d in dims.values()), N, T)
    lstm_cls = rnnscratch.models.base.compiled_layers().TimeLSTM
    res = {"info": dict(date=datetime.date.today().isoformat(), machine=cpu_name(),
                        threads=nthreads, corpus=src, N=N, T=T, iters_per_epoch=epoch_iters,
                        time_lstm=f"{lstm_cls.__module__}.{lstm_cls.__name__}",
                        torch=torch.__version__ if torch is not None else None),
           "models": {}}
    out(f"chapter 6: one training iteration (forward, backward, clip 0.25, SGD), batch {N} x {T}, "
        f"{src}; {nthreads} thread(s); TimeLSTM used: {res['info']['time_lstm']}")
    if lstm_cls.__module__.startswith("rnnscratch.reference"):
        out("  (the compiled TimeLSTM is not there yet: rnnscratch's models run the NumPy "
            "reference TimeLSTM/TimeDropout inside; the figures are not the compiled ones)")
    per_block, blocks = (2, 2) if quick else (4, 4)
    for name in models:
        V, D, H = dims[name]
        contenders = []
        np.random.seed(1)
        contenders.append(("rnnscratch", _ch6_step_ours(getattr(rnnscratch, name)(V, D, H))))
        if book is not None:
            np.random.seed(1)
            contenders.append(("book", _ch6_step_book(book, getattr(book, name)(V, D, H))))
        if torch is not None:
            torch.manual_seed(1)
            contenders.append(("torch", _ch6_step_torch(torch, name, V, D, H)))
        pos = {n: 0 for n, _ in contenders}
        times = {n: [] for n, _ in contenders}

        def block_of(n, step):
            def block():
                ts_ = []
                for i in range(per_block + 1):  # the first one is a warm-up
                    bx, bt = batch(pos[n])
                    pos[n] += 1
                    t0 = time.perf_counter()
                    step(bx, bt)
                    if i:
                        ts_.append(time.perf_counter() - t0)
                return ts_
            return block

        _alternate([(n, block_of(n, s)) for n, s in contenders], blocks, times)
        med = {n: statistics.median(t) * 1e3 for n, t in times.items()}
        row = {f"{n}_ms": v for n, v in med.items()}
        for n in med:
            if n != "rnnscratch":
                row[f"speedup_vs_{n}"] = med[n] / med["rnnscratch"]
        res["models"][name] = row
        parts = [f"{n} {v:.0f} ms" for n, v in med.items()]
        ratios = [f"{row[k]:.2f}x vs {k[11:]}" for k in row if k.startswith("speedup_vs_")]
        out(f"{name}({V}, {D}, {H}): " + ", ".join(parts) + ("; " + ", ".join(ratios) if ratios else "")
            + f"; one epoch ({epoch_iters} iterations) about {med['rnnscratch'] * epoch_iters / 6e4:.0f} min")
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
    so, sb = _ch6_step_ours(ours), _ch6_step_book(book, theirs)
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


# seq2seq (chapters 7-8)
# --------------------------------------------------------------------------

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
    """(x, t, description): the book's file when it can be found, else generated."""
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


def run_seq2seq_bench(quick=False, out=print, course_dir=None):
    """One training iteration (forward, backward, clip_grads(5.0), Adam) of
    Seq2seq(V, 16, 128) on the addition data and of AttentionSeq2seq(V, 16, 256)
    on the dates, batch 128, for rnnscratch's models, the book's classes (when
    $RNNSCRATCH_COURSE_DIR points at them) and rnnscratch.reference's."""
    from .. import models
    from ..datasets import sequence
    from ..models import reference
    from ..training.optim import Adam, clip_grads

    book = book_modules(course_dir)
    res = {"threads": None}
    try:
        import rnnscratch
        res["threads"] = rnnscratch.get_num_threads()
        res["compiled_TimeLSTM"] = hasattr(rnnscratch, "TimeLSTM")
        res["compiled_TimeAttention"] = hasattr(rnnscratch, "TimeAttention")
    except Exception:  # pragma: no cover
        pass
    cases = [("Seq2seq", "addition.txt", sequence.make_addition, 16, 128, "Seq2seq",
              "seq2seq", False),
             ("AttentionSeq2seq", "date.txt", sequence.make_dates, 16, 256, "AttentionSeq2seq",
              "attention_seq2seq", True)]
    N = 128
    for label, fname, make, D, H, cls_name, book_mod, reverse in cases:
        x, t, src, V = _seq2seq_data(fname, make, 50000)
        if reverse:
            x = x[:, ::-1]
        contenders = {"rnnscratch": (getattr(models, cls_name), Adam, clip_grads),
                      "reference": (getattr(reference, cls_name), Adam, clip_grads)}
        if book is not None:
            contenders["book"] = (getattr(book[book_mod], cls_name), book["optimizer"].Adam,
                                  book["util"].clip_grads)
        state, times = {}, {}
        for name, (cls, opt, clip) in list(contenders.items()):
            np.random.seed(1)
            try:
                state[name] = [cls(V, D, H), opt(), clip, 0]
            except ImportError as exc:  # no TimeAttention in this build
                out(f"{label}: {name} unavailable ({exc})")
                continue
            times[name] = []
        per_block = 2 if quick else 5

        def iterations(name):
            def block():
                model, opt, clip, pos = state[name]
                got = []
                for i in range(per_block + 1):  # the first one is a warm-up
                    lo = (pos * N) % (len(x) - N)
                    bx = np.ascontiguousarray(x[lo:lo + N])
                    bt = t[lo:lo + N]
                    pos += 1
                    t0 = time.perf_counter()
                    model.forward(bx, bt)
                    model.backward()
                    clip(model.grads, 5.0)
                    opt.update(model.params, model.grads)
                    if i:
                        got.append(time.perf_counter() - t0)
                state[name][3] = pos
                return got
            return block

        _alternate([(n, iterations(n)) for n in times], 2 if quick else 4, times)
        ms = {n: statistics.median(v) * 1e3 for n, v in times.items() if v}
        row = dict(model=label, data=src, V=V, D=D, H=H, N=N, T_in=x.shape[1],
                   T_out=t.shape[1] - 1, ms=ms)
        base = "book" if "book" in ms else "reference"
        if "rnnscratch" in ms:
            row["speedup_vs_" + base] = ms[base] / ms["rnnscratch"]
        res[label] = row
        parts = ", ".join(f"{n} {v:.1f} ms" for n, v in ms.items())
        ratio = (f": {row['speedup_vs_' + base]:.1f}x vs {base}"
                 if "speedup_vs_" + base in row else "")
        out(f"{label}({V}, {D}, {H}), batch {N}, {x.shape[1]} -> {t.shape[1] - 1} steps, "
            f"Adam ({src}): {parts}{ratio}")
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
            vals = [r[key] for r in rs]
            if any(v is None for v in vals):
                continue
            ax.bar(x + (i - 1) * w, vals, w, label=name)
        ax.set_yscale("log")
        ax.set_xticks(x, labels, rotation=15)
        ax.set_ylabel("forward+backward time (ms, log)")
        ax.set_title(f"TimeRNN {dtype}, {result['info']['threads']} thread(s)")
        ax.legend()
    fig.suptitle(f"{result['info']['machine']}, {result['info']['date']}")
    fig.tight_layout()
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    atomic_write(path, lambda f: fig.savefig(f, dpi=100, format=fmt))


def main(argv=None):
    from .args import check_output_file, positive_int

    p = argparse.ArgumentParser(prog="python -m rnnscratch bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats: a short run")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="thread count for all contenders")
    p.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    p.add_argument("--json", metavar="FILE", help="save the numbers as JSON")
    p.add_argument("--plot", metavar="FILE", help="save a chart of the TimeRNN table "
                   "(needs matplotlib)")
    p.add_argument("--only", choices=["rnn", "lm", "gated", "ch6", "seq2seq"], default=None,
                   help="only the TimeRNN table, the language-model figures, the "
                        "TimeLSTM/TimeGRU table, the chapter-6 models (Rnnlm, BetterRnnlm) or "
                        "the chapters 7-8 encoder-decoder iterations (ch6 and seq2seq: only "
                        "on request)")
    p.add_argument("--course-dir", metavar="DIR", default=None,
                   help="ch6: the book's code (holding ch06/), else $RNNSCRATCH_COURSE_DIR")
    p.add_argument("--model", choices=["Rnnlm", "BetterRnnlm", "both"], default="both",
                   help="ch6: which model (default both)")
    p.add_argument("--fidelity", type=int, default=0, metavar="K",
                   help="ch6: also compare K iterations of BetterRnnlm with the book's")
    args = p.parse_args(argv)
    dtypes = ("float32", "float64") if args.dtype == "both" else (args.dtype,)
    # every mistake before the run, not after it (the results would be lost)
    if args.plot and args.only in ("lm", "gated", "ch6", "seq2seq"):
        p.error("argument --plot: it draws the TimeRNN table; drop --only %s" % args.only)
    check_output_file(p, "--json", args.json)
    check_output_file(p, "--plot", args.plot)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            p.error("argument --plot: needs matplotlib (pip install matplotlib)")
    result = {}
    if args.only == "ch6":
        models = ("Rnnlm", "BetterRnnlm") if args.model == "both" else (args.model,)
        result["ch6"] = run_ch6_bench(quick=args.quick, threads=args.threads,
                                      course_dir=args.course_dir, models=models,
                                      fidelity=args.fidelity)
        if args.json:
            atomic_write(args.json, lambda f: json.dump(result, f, indent=2), mode="w")
        return 0
    if args.only == "seq2seq":
        import rnnscratch
        if args.threads is not None:
            rnnscratch.set_num_threads(args.threads)
        print("seq2seq, one training iteration (compiled models vs the book's classes and "
              "the NumPy reference, same weights and batches):")
        result["seq2seq"] = run_seq2seq_bench(quick=args.quick)
    if args.only in (None, "rnn"):
        result = run_bench(quick=args.quick, threads=args.threads, dtypes=dtypes)
    if args.only in (None, "gated"):
        if args.threads is not None:
            import rnnscratch
            rnnscratch.set_num_threads(args.threads)
        result["gated"] = run_gated_bench(quick=args.quick)
    if args.only in (None, "lm"):
        if args.only == "lm" and args.threads is not None:
            import rnnscratch
            rnnscratch.set_num_threads(args.threads)
        print("language model, compiled layers vs the NumPy reference layers, same weights "
              "and batches:")
        result["lm"] = run_lm_bench(quick=args.quick)
    if args.json:
        atomic_write(args.json, lambda f: json.dump(result, f, indent=2), mode="w")
    if args.plot:
        plot(result, args.plot)
    return 0


# --- the gated layers (--only gated) ---
# The gated-layer figures of `python -m rnnscratch bench` (--only gated):
# forward+backward of TimeLSTM and TimeGRU, float32, against the book's own
# classes (from $RNNSCRATCH_COURSE_DIR's common/time_layers.py when it is set,
# else rnnscratch.reference's twins) and torch.nn.LSTM / torch.nn.GRU
# (batch_first, same thread count) when torch is importable.
# 
# torch's GRU applies the reset gate after its product with Whh, the book's
# before: the same FLOPs, a different function; it is timed as the peer, not
# compared. GFLOP/s counts forward 2·N·T·G·H·(D+H) (G = 4 gates for the LSTM,
# 3 for the GRU) and backward twice that.

# N, T, D, H: chapter-6 Rnnlm, a BetterRnnlm layer, chapter-8 seq2seq, large
GATED_SIZES = [(20, 35, 100, 100), (20, 35, 650, 650), (128, 29, 16, 256), (64, 100, 1024, 1024)]
BOOK_MAX_FLOPS = 2e10  # the book's classes are not timed above this (minutes per repeat)


def gated_flops(N, T, D, H, G):
    return 3 * 2 * N * T * G * H * (D + H)


def book_layers():
    """(module with TimeLSTM and TimeGRU, its name): the book's classes when
    $RNNSCRATCH_COURSE_DIR points at them, else rnnscratch.reference."""
    course_dir = find_course_dir(need=os.path.join("common", "time_layers.py"))
    if course_dir is not None:
        return course.load(course_dir, "common.time_layers").time_layers, "the book's classes"
    from .. import reference
    return reference, "rnnscratch.reference (no $RNNSCRATCH_COURSE_DIR)"


def _data(N, T, D, H, G, seed=0):
    rng = np.random.default_rng(seed)
    Wx = (rng.standard_normal((D, G * H)) / np.sqrt(D)).astype(np.float32)
    Wh = (rng.standard_normal((H, G * H)) / np.sqrt(H)).astype(np.float32)
    b = np.zeros(G * H, np.float32)
    xs = rng.standard_normal((N, T, D)).astype(np.float32)
    dhs = rng.standard_normal((N, T, H)).astype(np.float32)
    return Wx, Wh, b, xs, dhs


def _layer_step(cls, Wx, Wh, b, xs, dhs):
    layer = cls(Wx, Wh, b)

    def run():
        layer.forward(xs)
        layer.backward(dhs)

    return run


def _torch_step(torch, kind, N, T, D, H, xs, dhs):
    mod = (torch.nn.LSTM if kind == "LSTM" else torch.nn.GRU)(D, H, batch_first=True)
    return _torch_run(torch, mod, xs, dhs)


def run_gated_bench(quick=False, sizes=None, out=print):
    import rnnscratch

    try:
        import torch
        torch.set_num_threads(rnnscratch.get_num_threads())
    except ImportError:
        torch = None
    min_time, min_repeats = (0.2, 3) if quick else (1.0, 5)
    book, book_name = book_layers()
    peak = matmul_rate(np.float32, min_time, min_repeats)
    out(f"TimeLSTM and TimeGRU, float32 forward+backward, {rnnscratch.get_num_threads()} "
        f"thread(s); 'book' = {book_name}; ms, median of repeats; ratios = other / rnnscratch; "
        f"% of peak = of numpy's float32 matmul rate, {peak:.0f} GFLOP/s")
    out(f"{'layer':>8} {'N':>4} {'T':>4} {'D':>5} {'H':>5} {'rnnscratch':>11} {'book':>10} "
        f"{'torch':>9} {'vs book':>8} {'vs torch':>9} {'GFLOP/s':>8} {'% peak':>7}")
    rows = []
    for kind, G in (("LSTM", 4), ("GRU", 3)):
        for (N, T, D, H) in (sizes or GATED_SIZES):
            Wx, Wh, b, xs, dhs = _data(N, T, D, H, G)
            flops = gated_flops(N, T, D, H, G)
            t_ours = median_time(_layer_step(getattr(rnnscratch, "Time" + kind), Wx, Wh, b, xs,
                                             dhs), min_time, min_repeats)
            t_book = (median_time(_layer_step(getattr(book, "Time" + kind), Wx, Wh, b, xs, dhs),
                                  min_time if flops < 1e9 else 0, min(min_repeats, 3), warmup=1)
                      if flops <= BOOK_MAX_FLOPS else None)
            t_torch = (median_time(_torch_step(torch, kind, N, T, D, H, xs, dhs), min_time,
                                   min_repeats) if torch is not None else None)
            gf = flops / t_ours / 1e9
            row = dict(layer="Time" + kind, N=N, T=T, D=D, H=H, rnnscratch_ms=t_ours * 1e3,
                       book_ms=None if t_book is None else t_book * 1e3,
                       torch_ms=None if t_torch is None else t_torch * 1e3,
                       speedup_vs_book=None if t_book is None else t_book / t_ours,
                       speedup_vs_torch=None if t_torch is None else t_torch / t_ours,
                       gflops=gf, peak_fraction=gf / peak)
            rows.append(row)

            def f(v, w, fmt):
                return f"{'-':>{w}}" if v is None else format(v, fmt).rjust(w)

            out(f"{kind:>8} {N:>4} {T:>4} {D:>5} {H:>5} {t_ours * 1e3:11.2f} "
                f"{f(row['book_ms'], 10, '.1f')} {f(row['torch_ms'], 9, '.2f')} "
                f"{f(row['speedup_vs_book'], 7, '.1f')}x {f(row['speedup_vs_torch'], 8, '.2f')}x "
                f"{gf:8.1f} {gf / peak * 100:6.0f}%")
    return {"book": book_name, "numpy_matmul_gflops_float32": peak, "rows": rows}
