"""`python -m rnnscratch check`: ours against a reference, one row per name.

``check --course DIR``: DIR holds a `common/` package (the book's, or a
student's own rewrite of it). Its modules are imported in isolation (nothing
else in the process sees them), and every class or function patch() would
replace is run next to ours on the same random data: forward values,
gradients, updated parameters, perplexities, saved files. Names whose
rnnscratch version is NumPy code (Softmax, Dropout, TimeDropout, ...) are
compared too, though patch() never swaps them in. One row per name, always
with the reason:

    matches             the same numbers (float64 data, relative 1e-6; float32: 1e-4)
    differs             what differs first, by how much
    raised              calling the course's version raised (the message, the line)
    not in the course   the course module does not define it
    not available       rnnscratch has no version (Nesterov, RMSprop)
    not compared        no comparison is written for it (a bug of this file: tested)

``check`` alone (check_compiled): every compiled layer and model class of
rnnscratch against its NumPy twin in rnnscratch.reference /
rnnscratch.models.reference, on the same random data (forward, backward,
every gradient, generate()).
"""
import collections
import contextlib
import importlib
import io
import os

import numpy as np

from .. import patching, testing
from .course import isolated as _isolated

__all__ = ["check_course", "check_compiled", "format_rows", "CourseRow"]

CourseRow = collections.namedtuple("CourseRow", "module name ours result detail")

RTOL = 1e-6


def _first_failure(comparisons):
    bad = [c for c in comparisons if not c.ok]
    if not bad:
        worst = max((c.rel_error or 0.0 for c in comparisons), default=0.0)
        return True, "largest relative error %.2g" % worst
    return False, bad[0].describe()


def _compare_all(pairs):
    """(name, got, expected) triples; the tolerance follows the results' dtype
    (float64: 1e-6; float32, as the book's models compute: 1e-4)."""
    return _first_failure([testing._compare(n, got, exp,
                                            max(RTOL, testing._case_rtol([got, exp], None)))
                           for n, got, exp in pairs])


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


# -- any layer or model: build both alike, run forward and backward on the same data --

def _copied(values):
    return [v.copy() if isinstance(v, np.ndarray) else v for v in values]


def _flat(name, value):
    """(name, array) pairs of a result that may be an array, a number, a tuple or None."""
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        out = []
        for i, v in enumerate(value):
            out += _flat("%s[%d]" % (name, i), v)
        return out
    return [(name, value)]


def _exercise(cls, ctor, inputs, loss, extra):
    """Build cls(*ctor) (np.random seeded, for the models' initial weights),
    forward(*inputs), backward; what to compare, by name."""
    np.random.seed(1234)
    obj = cls(*_copied(ctor))
    return obj, lambda: _run_built(obj, inputs, loss, extra)


def _run_built(obj, inputs, loss, extra):
    np.random.seed(99)  # dropout masks drawn alike
    out = obj.forward(*_copied(inputs))
    if loss:
        back = obj.backward(1)
    else:
        rng = np.random.default_rng(7)
        dout = [rng.standard_normal(np.shape(o)) for o in (out if isinstance(out, tuple)
                                                           else (out,))]
        back = obj.backward(*dout)
    res = _flat("forward", out) + _flat("backward", back)
    res += [("grads[%d]" % i, g) for i, g in enumerate(getattr(obj, "grads", []))]
    if extra is not None:
        np.random.seed(5)
        res += _flat(extra[0], extra[1](obj))
    return res


def _generic(ctor, inputs, loss=False, extra=None):
    """A comparison for classes built as cls(*ctor(rng)) that run
    forward(*inputs(rng)) then backward(1) (a loss) or backward(dout).
    The second object gets the first one's parameters (same starting point
    whatever order a constructor draws its random numbers in)."""
    def compare(book, ours, rng):
        args, data = ctor(rng), inputs(rng)
        a, run_a = _exercise(book, args, data, loss, extra)
        b, run_b = _exercise(ours, args, data, loss, extra)
        for p, q in zip(getattr(b, "params", []), getattr(a, "params", [])):
            if np.shape(p) == np.shape(q):
                p[...] = q
        got, expected = run_a(), run_b()
        if [n for n, _ in got] != [n for n, _ in expected]:
            return False, "results differ in kind: %s against %s" % (
                ", ".join(n for n, _ in got), ", ".join(n for n, _ in expected))
        return _compare_all([(n, g, e) for (n, g), (_, e) in zip(got, expected)])
    return compare


def _n(rng, *shape):
    return rng.standard_normal(shape)


N_, S_, T_, D_, H_, V_ = 3, 5, 4, 6, 7, 11


def _ids(rng, *shape):
    return rng.integers(0, V_, shape)


_matmul = _generic(lambda r: [_n(r, D_, H_)], lambda r: [_n(r, N_, D_)])
_affine = _generic(lambda r: [_n(r, D_, H_), _n(r, H_)], lambda r: [_n(r, N_, D_)])
_softmax = _generic(lambda r: [], lambda r: [_n(r, N_, V_) * 3])
_softmax_with_loss = _generic(lambda r: [], lambda r: [_n(r, N_, V_) * 3, _ids(r, N_)], loss=True)
_sigmoid = _generic(lambda r: [], lambda r: [_n(r, N_, D_)])
_sigmoid_with_loss = _generic(lambda r: [], lambda r: [_n(r, N_), r.integers(0, 2, N_)],
                              loss=True)
_dropout = _generic(lambda r: [0.3], lambda r: [_n(r, N_, D_)])
_embedding = _generic(lambda r: [_n(r, V_, D_)], lambda r: [np.array([1, 3, 3, 0, 10])])
_time_dropout = _generic(lambda r: [0.3], lambda r: [_n(r, N_, T_, D_)])
_time_sigmoid_with_loss = _generic(lambda r: [], lambda r: [_n(r, N_, T_),
                                                            r.integers(0, 2, (N_, T_))],
                                   loss=True)
_weight_sum = _generic(lambda r: [], lambda r: [_n(r, N_, S_, H_),
                                                np.abs(_n(r, N_, S_)) / S_])
_attention_weight = _generic(lambda r: [], lambda r: [_n(r, N_, S_, H_), _n(r, N_, H_)])
_attention = _attention_weight
_time_attention = _generic(lambda r: [], lambda r: [_n(r, N_, S_, H_), _n(r, N_, T_, H_)])


class _StubSeq2seq:
    """A seq2seq-shaped model whose loss is a fixed function of its batch."""

    def __init__(self):
        self.params = [np.linspace(-1, 1, 12)]
        self.grads = [np.zeros(12)]

    def forward(self, xs, ts):
        self.xs, self.ts = np.asarray(xs), np.asarray(ts)
        w = self.params[0]
        return float(np.mean((w[self.xs].sum(axis=1) - 0.1 * self.ts.sum(axis=1)) ** 2) + 1)

    def backward(self, dout=1):
        w = self.params[0]
        r = 2 * (w[self.xs].sum(axis=1) - 0.1 * self.ts.sum(axis=1)) / len(self.xs)
        g = np.zeros_like(w)
        np.add.at(g, self.xs, np.repeat(r[:, None], self.xs.shape[1], axis=1))
        self.grads[0][...] = g * dout

    def generate(self, xs, start_id, sample_size):
        # right for questions whose first id is even, wrong otherwise
        xs = np.asarray(xs).ravel()
        ans = [int(x) % 12 for x in xs[:sample_size]]
        if xs[0] % 2:
            ans[0] = (ans[0] + 1) % 12
        return ans


def _trainer(book, ours, rng):
    x = rng.integers(0, 12, (50, 4))
    t = rng.integers(0, 12, (50, 3))
    res = []
    for cls in (book, ours):
        model = _StubSeq2seq()
        trainer = cls(model, _PlainSGD())
        np.random.seed(3)  # the book's fit shuffles with np.random.permutation
        trainer.fit(x, t, max_epoch=2, batch_size=8, max_grad=0.5, eval_interval=2)
        res.append((model.params[0], np.asarray(trainer.loss_list, dtype=float)))
    return _compare_all([("parameters after fit", res[0][0], res[1][0]),
                         ("loss_list", res[0][1], res[1][1])])


def _eval_seq2seq(book, ours, rng):
    id_to_char = dict(enumerate("0123456789+_"))
    questions = [rng.integers(0, 12, (1, 5)) for _ in range(12)]
    scores = []
    for fn in (book, ours):
        model = _StubSeq2seq()
        row = []
        for q in questions:
            correct = np.concatenate([[11], q.ravel()[:4]])
            for reverse in (False, True):
                # positional: the book's keyword is spelled `verbos`
                row.append(fn(model, q, correct, id_to_char, False, reverse))
        scores.append(np.array(row, dtype=float))
    return _compare_all([("results (0/1) of 24 questions", scores[0], scores[1])])


def _base_model(book, ours, rng):
    import pickle
    import tempfile

    params = [rng.standard_normal((3, 4)).astype("f"), rng.standard_normal(4).astype("f")]

    def model(cls):
        m = cls.__new__(cls)
        try:
            cls.__init__(m)
        except TypeError:
            pass
        m.params = [p.copy() for p in params]
        m.grads = [np.zeros_like(p) for p in params]
        return m

    pairs = []
    with tempfile.TemporaryDirectory() as d:
        files = {}
        for who, cls in (("book", book), ("ours", ours)):
            files[who] = os.path.join(d, who + ".pkl")
            model(cls).save_params(files[who])
        with open(files["book"], "rb") as f:
            saved_book = pickle.load(f)
        with open(files["ours"], "rb") as f:
            saved_ours = pickle.load(f)
        if len(saved_ours) != len(saved_book):
            return False, "saved %d arrays, ours %d" % (len(saved_book), len(saved_ours))
        pairs += [("saved param %d" % i, b, o) for i, (b, o) in enumerate(zip(saved_book,
                                                                              saved_ours))]
        # each loads the other's file
        for who, cls, other in (("ours", ours, "book"), ("book", book, "ours")):
            m = model(cls)
            for p in m.params:
                p[...] = 0
            m.load_params(files[other])
            pairs += [("%s loading the %s file: param %d" % (who, other, i), p,
                       q.astype(np.float16).astype(np.float32))   # the format is float16
                      for i, (p, q) in enumerate(zip(m.params, params))]
    return _compare_all(pairs)


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
    "MatMul": _matmul, "Affine": _affine, "Softmax": _softmax,
    "SoftmaxWithLoss": _softmax_with_loss, "Sigmoid": _sigmoid,
    "SigmoidWithLoss": _sigmoid_with_loss, "Dropout": _dropout, "Embedding": _embedding,
    "TimeDropout": _time_dropout, "TimeSigmoidWithLoss": _time_sigmoid_with_loss,
    "Trainer": _trainer, "eval_seq2seq": _eval_seq2seq, "BaseModel": _base_model,
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
                rows.append(CourseRow(modname, name, ours_name, "not in the course",
                                      "%s defines no %s" % (modname, name)))
                continue
            note = ""
            if ours is None:
                if not patching._exists(attr):
                    rows.append(CourseRow(modname, name, ours_name, "not available",
                                          "no %s in this rnnscratch" % attr))
                    continue
                # NumPy code in rnnscratch too (never patched), but still worth comparing
                ours = getattr(importlib.import_module("rnnscratch"), attr)
                note = " (rnnscratch's is NumPy code: compared, not patched)"
            # a TABLE row without a comparison is a bug here
            rows.append(_compared(modname, name, ours_name, COMPARISONS, book, ours, seed, note))
    return rows


def _compared(where, name, ours_name, cases, theirs, ours, seed, note=""):
    """The row of comparing ours with theirs by cases[name] (a generator
    seeded with seed): 'not compared' when cases has none for name, else
    'matches', 'differs' or 'raised'."""
    if name not in cases:
        return CourseRow(where, name, ours_name, "not compared",
                         "no comparison is written for %s" % name)
    try:
        ok, detail = cases[name](theirs, ours, np.random.default_rng(seed))
    except Exception as e:
        return CourseRow(where, name, ours_name, "raised", testing._describe_exception(name, e))
    return CourseRow(where, name, ours_name, "matches" if ok else "differs", detail + note)


# -- python -m rnnscratch check: every compiled class against its NumPy twin ---------

def _model_cases(N, T, D, H):
    V = 13
    def ids(r, *shape):
        return r.integers(0, V, shape)

    def lm(ctor):
        return _generic(lambda r: ctor, lambda r: [ids(r, N, T), ids(r, N, T)], loss=True)

    def seq2seq():
        return _generic(lambda r: [V, D, H], lambda r: [ids(r, N, T + 1), ids(r, N, T)],
                        loss=True,
                        extra=("generate", lambda m: m.generate(np.array([[1, 2, 3, 4]]), 5, 6)))

    def gen(ctor):
        return _generic(lambda r: ctor, lambda r: [ids(r, N, T), ids(r, N, T)], loss=True,
                        extra=("generate", lambda m: (m.reset_state(), m.generate(1, None, 8))[1]))

    return {
        "SimpleRnnlm": lm([V, D, H]),
        "Rnnlm": lm([V, D, H]),
        "BetterRnnlm": lm([V, H, H, 0.5]),
        "RnnlmGen": gen([V, D, H]),
        "BetterRnnlmGen": gen([V, H, H, 0.5]),
        "Encoder": _generic(lambda r: [V, D, H], lambda r: [ids(r, N, T)]),
        "Decoder": _generic(lambda r: [V, D, H], lambda r: [ids(r, N, T), _n(r, N, H)]),
        "PeekyDecoder": _generic(lambda r: [V, D, H], lambda r: [ids(r, N, T), _n(r, N, H)]),
        "AttentionEncoder": _generic(lambda r: [V, D, H], lambda r: [ids(r, N, T)]),
        "AttentionDecoder": _generic(lambda r: [V, D, H],
                                     lambda r: [ids(r, N, T), _n(r, N, T + 2, H)]),
        "Seq2seq": seq2seq(), "PeekySeq2seq": seq2seq(), "AttentionSeq2seq": seq2seq(),
    }


def _layer_cases(N, T, D, H):
    r_ = (lambda r: [r.standard_normal((D, H)) / np.sqrt(D), r.standard_normal((H, H)) * 0.5
                     / np.sqrt(H), r.standard_normal(H) * 0.1])

    def gates(G):
        return lambda r: [r.standard_normal((D, G * H)) / np.sqrt(D),
                          r.standard_normal((H, G * H)) / np.sqrt(H),
                          r.standard_normal(G * H) * 0.1]

    seqs = lambda r: [r.standard_normal((N, T, D))]           # noqa: E731
    step = lambda r: [r.standard_normal((N, D)), r.standard_normal((N, H))]   # noqa: E731
    lstm_step = lambda r: [r.standard_normal((N, D)), r.standard_normal((N, H)),  # noqa: E731
                           r.standard_normal((N, H))]
    V = 11
    return {
        "RNN": _generic(r_, step), "TimeRNN": _generic(r_, seqs),
        "LSTM": _generic(gates(4), lstm_step), "TimeLSTM": _generic(gates(4), seqs),
        "GRU": _generic(gates(3), step), "TimeGRU": _generic(gates(3), seqs),
        "TimeBiLSTM": _generic(lambda r: gates(4)(r) + gates(4)(r), seqs),
        "TimeEmbedding": _generic(lambda r: [r.standard_normal((V, D))],
                                  lambda r: [r.integers(0, V, (N, T))]),
        "TimeAffine": _generic(lambda r: [r.standard_normal((D, H)), r.standard_normal(H)],
                               seqs),
        "TimeSoftmaxWithLoss": _generic(lambda r: [], lambda r: [
            r.standard_normal((N, T, V)) * 3, r.integers(0, V, (N, T))], loss=True),
        "MatMul": _matmul, "Affine": _affine, "SoftmaxWithLoss": _softmax_with_loss,
        "Embedding": _embedding, "WeightSum": _weight_sum,
        "AttentionWeight": _attention_weight, "Attention": _attention,
        "TimeAttention": _time_attention,
    }


def check_compiled(N=4, T=6, D=5, H=7, seed=0):
    """A CourseRow per compiled class of rnnscratch (layers and models), each
    run next to its NumPy twin (rnnscratch.reference, rnnscratch.models.reference)
    on the same random float64 data (the models: their own float32 weights):
    forward, backward, every gradient (and generate() for the models)."""
    import rnnscratch
    from ..models import reference as model_reference

    cases = dict(_layer_cases(N, T, D, H))
    cases.update(_model_cases(N, T, D, H))
    rows = []
    for name in rnnscratch.__all__:
        ours = getattr(rnnscratch, name)
        if not isinstance(ours, type) or patching._numpy_only(ours):
            continue
        twin = (getattr(rnnscratch.reference, name, None)
                or getattr(model_reference, name, None))
        where = "rnnscratch.reference" if hasattr(rnnscratch.reference, name) \
            else "rnnscratch.models.reference"
        if twin is None:
            continue  # optimizers, trainers, BaseModel: no NumPy twin (check --course has them)
        rows.append(_compared(where, name, "rnnscratch." + name, cases, twin, ours, seed))
    # the recurrent layers' other settings: activations, float32 (the book's dtype='f')
    for label, name, case in _variant_cases(N, T, D, H):
        ours, twin = getattr(rnnscratch, name), getattr(rnnscratch.reference, name)
        rows.append(_compared("rnnscratch.reference", label, "rnnscratch." + name,
                              {label: case}, twin, ours, seed))
    return rows


def _variant_cases(N, T, D, H):
    def f32(make):
        return lambda r: [a.astype(np.float32) if isinstance(a, np.ndarray) else a
                          for a in make(r)]

    rnn_w = (lambda r: [r.standard_normal((D, H)) / np.sqrt(D), r.standard_normal((H, H)) * 0.5
                        / np.sqrt(H), r.standard_normal(H) * 0.1])
    lstm_w = (lambda r: [r.standard_normal((D, 4 * H)) / np.sqrt(D),
                         r.standard_normal((H, 4 * H)) / np.sqrt(H),
                         r.standard_normal(4 * H) * 0.1])
    seqs = lambda r: [r.standard_normal((N, T, D))]           # noqa: E731
    step = lambda r: [r.standard_normal((N, D)), r.standard_normal((N, H))]   # noqa: E731
    out = []
    for act in ("relu", "sigmoid"):
        out.append(("RNN(activation=%r)" % act, "RNN",
                    _generic(lambda r, a=act: rnn_w(r) + [a], step)))
        out.append(("TimeRNN(activation=%r)" % act, "TimeRNN",
                    _generic(lambda r, a=act: rnn_w(r) + [False, a], seqs)))
    out.append(("TimeRNN float32", "TimeRNN", _generic(f32(rnn_w), f32(seqs))))
    out.append(("TimeLSTM float32", "TimeLSTM", _generic(f32(lstm_w), f32(seqs))))
    return out


def format_rows(rows, course_dir="", title=None):
    width = max(len(r.name) for r in rows)
    head = title or ("course %s compared with rnnscratch" % course_dir if course_dir else "")
    lines = [head] if head else []
    mw = max(18, max(len(r.module) for r in rows))
    lines.append("%-*s  %-*s  %-17s  %s" % (width, "name", mw, "module", "result", "detail"))
    for r in rows:
        lines.append("%-*s  %-*s  %-17s  %s" % (width, r.name, mw, r.module, r.result, r.detail))
    counts = collections.Counter(r.result for r in rows)
    lines.append(", ".join("%d %s" % (n, k) for k, n in counts.items()))
    return "\n".join(lines)
