"""`python -m rnnscratch check --course DIR`: a course folder's classes against ours.

DIR holds a `common/` package (the book's, or a student's own rewrite of it).
Its modules are imported in isolation (nothing else in the process sees
them), and every class or function patch() would replace is run next to
ours on the same random data: forward values, gradients, updated parameters,
perplexities. The result is one row per name:

    matches             the same numbers (float64 data, relative 1e-6)
    differs             what differs first, by how much
    not in the course   the course module does not define it
    not available       rnnscratch has no version yet
    not compiled        rnnscratch's version is NumPy code (not compared, not patched)
    not compared        both exist, but no comparison is written for it yet
    raised              calling the course's version raised (the message)
"""
import collections
import contextlib
import importlib
import io
import os

import numpy as np

from .. import patching, testing
from .course import isolated as _isolated

__all__ = ["check_course", "format_rows", "CourseRow"]

CourseRow = collections.namedtuple("CourseRow", "module name ours result detail")

RTOL = 1e-6


def _first_failure(comparisons):
    bad = [c for c in comparisons if not c.ok]
    if not bad:
        worst = max((c.rel_error or 0.0 for c in comparisons), default=0.0)
        return True, "largest relative error %.2g" % worst
    return False, bad[0].describe()


def _compare_all(pairs):
    return _first_failure([testing._compare(n, got, exp, RTOL) for n, got, exp in pairs])


def _from_report(report):
    if report.ok:
        return True, str(report).split(": OK, ", 1)[-1]
    for case in report.cases:
        if not case.ok:
            lines = case.lines()
            return False, "case %s: %s" % (case.label, lines[0] if lines else "differs")
    return False, str(report).splitlines()[0]


# -- the comparisons: (book object, our object) -> (ok, detail) ------------------

def _time_embedding(book, ours, rng):
    V, D, N, T = 11, 4, 3, 5
    W = rng.standard_normal((V, D))
    xs = rng.integers(0, V, (N, T))
    xs[0, :2] = 3  # repeated ids add up
    dout = rng.standard_normal((N, T, D))
    out = []
    for cls in (book, ours):
        layer = cls(W.copy())
        y = layer.forward(xs.copy())
        layer.backward(dout.copy())
        out.append((y, layer.grads[0]))
    return _compare_all([("out", out[0][0], out[1][0]), ("dW", out[0][1], out[1][1])])


def _time_affine(book, ours, rng):
    N, T, D, V = 3, 4, 5, 6
    W, b = rng.standard_normal((D, V)), rng.standard_normal(V)
    x, dout = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, V))
    res = []
    for cls in (book, ours):
        layer = cls(W.copy(), b.copy())
        y = layer.forward(x.copy())
        dx = layer.backward(dout.copy())
        res.append([y, dx] + list(layer.grads))
    names = ("out", "dx", "dW", "db")
    return _compare_all([(n, g, e) for n, g, e in zip(names, res[0], res[1])])


def _time_softmax_with_loss(book, ours, rng):
    N, T, V = 3, 4, 7
    xs = rng.standard_normal((N, T, V)) * 3
    ts = rng.integers(0, V, (N, T))
    ts[1, 2] = -1  # ignore_label
    res = []
    for cls in (book, ours):
        layer = cls()
        loss = layer.forward(xs.copy(), ts.copy())
        dx = layer.backward(1)
        res.append((loss, dx))
    return _compare_all([("loss", res[0][0], res[1][0]), ("dx", res[0][1], res[1][1])])


def _time_bilstm(book, ours, rng):
    N, T, D, H = 3, 4, 5, 2
    ws = []
    for _ in range(2):
        ws += [rng.standard_normal((D, 4 * H)) / np.sqrt(D),
               rng.standard_normal((H, 4 * H)) / np.sqrt(H), rng.standard_normal(4 * H) * 0.1]
    xs, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, 2 * H))
    res = []
    for cls in (book, ours):
        layer = cls(*[w.copy() for w in ws])
        hs = layer.forward(xs.copy())
        dxs = layer.backward(dhs.copy())
        res.append([hs, dxs] + list(layer.grads))
    names = ["hs", "dxs"] + ["%s (%s)" % (g, d) for d in ("forward", "backward")
                             for g in ("dWx", "dWh", "db")]
    return _compare_all([(n, g, e) for n, g, e in zip(names, res[0], res[1])])


def _optimizer(book, ours, rng):
    shapes = ((3, 4), (4,))
    params0 = [rng.standard_normal(s) for s in shapes]
    steps = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]
    res = []
    for cls in (book, ours):
        opt = cls()
        params = [p.copy() for p in params0]
        for grads in steps:
            opt.update(params, [g.copy() for g in grads])
        res.append(params)
    return _compare_all([("param %d after 3 updates" % i, g, e)
                         for i, (g, e) in enumerate(zip(res[0], res[1]))])


def _clip_grads(book, ours, rng):
    pairs = []
    for max_norm in (0.5, 1e3):  # clipped, and left alone
        grads0 = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
        res = []
        for fn in (book, ours):
            grads = [g.copy() for g in grads0]
            fn(grads, max_norm)
            res.append(grads)
        pairs += [("grad %d (max_norm %g)" % (i, max_norm), g, e)
                  for i, (g, e) in enumerate(zip(res[0], res[1]))]
    return _compare_all(pairs)


class _StubLM:
    """A language model whose loss is a fixed function of its batch."""

    def __init__(self, V):
        self.params = [np.linspace(-1, 1, V)]
        self.grads = [np.zeros(V)]
        self.seen = []

    def forward(self, xs, ts):
        self.seen.append((np.array(xs), np.array(ts)))
        self.xs, self.ts = np.asarray(xs), np.asarray(ts)
        w = self.params[0]
        return float(np.mean((w[self.xs] - 0.01 * self.ts) ** 2) + 1.0)

    def backward(self, dout=1):
        w = self.params[0]
        g = np.zeros_like(w)
        np.add.at(g, self.xs, 2 * (w[self.xs] - 0.01 * self.ts) / self.xs.size)
        self.grads[0][...] = g


class _PlainSGD:
    def update(self, params, grads):
        for p, g in zip(params, grads):
            p -= 0.5 * g


def _eval_perplexity(book, ours, rng):
    corpus = rng.integers(0, 20, 237)
    res = []
    for fn in (book, ours):
        model = _StubLM(20)
        ppl = fn(model, corpus, batch_size=3, time_size=7)
        res.append((ppl, np.concatenate([x.ravel() for x, _ in model.seen])))
    return _compare_all([("perplexity", res[0][0], res[1][0]), ("batches", res[0][1], res[1][1])])


def _rnnlm_trainer(book, ours, rng):
    corpus = rng.integers(0, 20, 400)
    res = []
    for cls in (book, ours):
        model = _StubLM(20)
        trainer = cls(model, _PlainSGD())
        trainer.fit(corpus[:-1], corpus[1:], max_epoch=2, batch_size=3, time_size=6,
                    max_grad=0.05, eval_interval=5)
        res.append((model.params[0], np.asarray(trainer.ppl_list, dtype=float)))
    return _compare_all([("parameters after fit", res[0][0], res[1][0]),
                         ("ppl_list", res[0][1], res[1][1])])


def _via(check):
    return lambda book, ours, rng: _from_report(check(book))


COMPARISONS = {
    "RNN": _via(testing.check_rnn),
    "TimeRNN": _via(testing.check_time_rnn),
    "LSTM": _via(testing.check_lstm),
    "TimeLSTM": _via(testing.check_time_lstm),
    "GRU": _via(testing.check_gru),
    "TimeGRU": _via(testing.check_time_gru),
    "TimeEmbedding": _time_embedding,
    "TimeAffine": _time_affine,
    "TimeSoftmaxWithLoss": _time_softmax_with_loss,
    "TimeBiLSTM": _time_bilstm,
    "SGD": _optimizer, "Momentum": _optimizer, "Nesterov": _optimizer,
    "AdaGrad": _optimizer, "RMSprop": _optimizer, "Adam": _optimizer,
    "clip_grads": _clip_grads,
    "eval_perplexity": _eval_perplexity,
    "RnnlmTrainer": _rnnlm_trainer,
}


def check_course(course_dir, package="common", seed=0):
    """A CourseRow for every name patch() replaces, comparing DIR/<package>/ with ours."""
    if not os.path.isdir(os.path.join(course_dir, package)):
        raise ValueError("course_dir: %s has no %s/ folder" % (course_dir, package))
    rows = []
    with _isolated(course_dir, (package,)), contextlib.redirect_stdout(io.StringIO()):
        modules = {}
        for suffix in dict.fromkeys(r[0] for r in patching.TABLE):
            try:
                modules[suffix] = importlib.import_module("%s.%s" % (package, suffix))
            except Exception as e:  # missing file, a missing dependency, a syntax error
                modules[suffix] = "%s: %s" % (type(e).__name__, e)
        for suffix, name, attr in patching.TABLE:
            modname = "%s.%s" % (package, suffix)
            mod = modules[suffix]
            ours = patching._replacement(attr)
            ours_name = "rnnscratch." + attr
            if isinstance(mod, str):
                if isinstance(mod, str) and mod.startswith("ModuleNotFoundError: No module "
                                                          "named '%s'" % modname):
                    rows.append(CourseRow(modname, name, ours_name, "not in the course",
                                          "no %s.py" % suffix))
                else:
                    rows.append(CourseRow(modname, name, ours_name, "raised",
                                          "importing %s: %s" % (modname, mod)))
                continue
            book = mod.__dict__.get(name)
            if book is None:
                rows.append(CourseRow(modname, name, ours_name, "not in the course", ""))
            elif ours is None:
                if patching._exists(attr):
                    rows.append(CourseRow(modname, name, ours_name, "not compiled",
                                          "rnnscratch.%s is NumPy code too" % attr))
                else:
                    rows.append(CourseRow(modname, name, ours_name, "not available",
                                          "no compiled %s in this rnnscratch" % attr))
            elif name not in COMPARISONS:
                rows.append(CourseRow(modname, name, ours_name, "not compared", ""))
            else:
                rng = np.random.default_rng(seed)
                try:
                    ok, detail = COMPARISONS[name](book, ours, rng)
                except Exception as e:
                    rows.append(CourseRow(modname, name, ours_name, "raised",
                                          testing._describe_exception(name, e)))
                    continue
                rows.append(CourseRow(modname, name, ours_name,
                                      "matches" if ok else "differs", detail))
    return rows


def format_rows(rows, course_dir=""):
    width = max(len(r.name) for r in rows)
    head = "course %s compared with rnnscratch" % course_dir if course_dir else ""
    lines = [head] if head else []
    lines.append("%-*s  %-18s  %-19s  %s" % (width, "name", "module", "result", "detail"))
    for r in rows:
        lines.append("%-*s  %-18s  %-19s  %s" % (width, r.name, r.module, r.result, r.detail))
    counts = collections.Counter(r.result for r in rows)
    lines.append(", ".join("%d %s" % (n, k) for k, n in counts.items()))
    return "\n".join(lines)
