"""The gated-layer figures of `python -m rnnscratch bench` (--only gated):
forward+backward of TimeLSTM and TimeGRU, float32, against the book's own
classes (from $RNNSCRATCH_COURSE_DIR's common/time_layers.py when it is set,
else rnnscratch.reference's twins) and torch.nn.LSTM / torch.nn.GRU
(batch_first, same thread count) when torch is importable.

torch's GRU applies the reset gate after its product with Whh, the book's
before: the same FLOPs, a different function; it is timed as the peer, not
compared. GFLOP/s counts forward 2·N·T·G·H·(D+H) (G = 4 gates for the LSTM,
3 for the GRU) and backward twice that.
"""
import contextlib
import os
import sys

import numpy as np

# N, T, D, H: chapter-6 Rnnlm, a BetterRnnlm layer, chapter-8 seq2seq, large
SIZES = [(20, 35, 100, 100), (20, 35, 650, 650), (128, 29, 16, 256), (64, 100, 1024, 1024)]
BOOK_MAX_FLOPS = 2e10  # the book's classes are not timed above this (minutes per repeat)


def gated_flops(N, T, D, H, G):
    return 3 * 2 * N * T * G * H * (D + H)


@contextlib.contextmanager
def _on_path(path):
    sys.path.insert(0, path)
    try:
        yield
    finally:
        sys.path.remove(path)


def book_layers():
    """(module with TimeLSTM and TimeGRU, its name): the book's classes when
    $RNNSCRATCH_COURSE_DIR points at them, else rnnscratch.reference."""
    course = os.environ.get("RNNSCRATCH_COURSE_DIR")
    if course and os.path.isfile(os.path.join(course, "common", "time_layers.py")):
        saved = {k: v for k, v in sys.modules.items() if k == "common" or k.startswith("common.")}
        for k in saved:
            del sys.modules[k]
        try:
            with _on_path(course):
                import common.time_layers as tl
        finally:
            for k in [k for k in sys.modules if k == "common" or k.startswith("common.")]:
                del sys.modules[k]
            sys.modules.update(saved)
        return tl, "the book's classes"
    from . import reference
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
    x = torch.from_numpy(xs).requires_grad_(True)
    g = torch.from_numpy(dhs)

    def run():
        mod.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = mod(x)
        out.backward(g)

    return run


def run_gated_bench(quick=False, sizes=None, out=print):
    import rnnscratch
    from .bench import matmul_rate, median_time

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
        for (N, T, D, H) in (sizes or SIZES):
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
