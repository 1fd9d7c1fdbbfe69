"""A call that raises changes nothing (issue 7).

For every layer class of the registry (tests/registry.py), each of its
variants, and every bad-argument case of the registry (generic: None, wrong
shape/ndim, 0-d, complex/object/str/datetime dtypes, ragged lists, objects
whose __array__ raises, out-of-range and non-integer ids; gradient arrays
made read-only or integer; and the layer's own cases): after a good
forward+backward (so that caches, states and gradients are populated), the
failing call must raise the registry's exception with a message matching its
regex (the argument's name), and leave every parameter, every gradient array
(values and identity) and the layer state (h, dh, cache, idx, x, ...) exactly
as they were; the next good call must give bit-identical results to a twin
layer that never saw the failing call. And the state a layer keeps is its own,
not a view of an array it returned.
"""
import re
import warnings

import numpy as np
import pytest

import rnnscratch
from registry import REGISTRY, Sizes, case_id

SZ = Sizes(N=3, T=4, D=5, H=6, V=7)


def state(obj, seen=None):
    """Everything a layer holds, recursively: arrays by identity and bytes."""
    if seen is None:
        seen = {}
    if isinstance(obj, np.ndarray):
        return ("nd", id(obj), obj.dtype.str, obj.shape, obj.strides,
                obj.tobytes() if obj.dtype.kind != "O" else None)
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, id(obj) if isinstance(obj, list) else None,
                [state(v, seen) for v in obj])
    if isinstance(obj, dict):
        return ("dict", sorted((k, state(v, seen)) for k, v in obj.items()))
    if hasattr(obj, "__dict__") and type(obj).__module__.startswith("rnnscratch"):
        if id(obj) in seen:
            return ("seen", id(obj))
        seen[id(obj)] = True
        return ("obj", type(obj).__name__, sorted((k, state(v, seen))
                                                    for k, v in vars(obj).items()))
    return ("val", repr(obj))


def _all_params():
    out = []
    for e in REGISTRY:
        for variant in e.variants:
            for bad in e.bad_cases(SZ, variant):
                for dt in e.dtypes:
                    out.append(pytest.param(e, variant, bad, dt,
                                            id="%s-%s" % (case_id(e, variant, dt), bad.label)))
    return out


@pytest.mark.parametrize("entry,variant,bad,dtype", _all_params())
def test_failed_call_changes_nothing(entry, variant, bad, dtype):
    impl = entry.impls[0]  # the compiled classes (the reference is the oracle)
    opts = entry.variants[variant]

    def good_run(L, seed):
        rng = np.random.default_rng(seed)
        return entry.run(L, entry.inputs(rng, SZ, dtype, **opts), entry.douts(rng, SZ, **opts))

    L = entry.make(impl, dtype, np.random.default_rng(11), SZ, variant)
    twin = entry.make(impl, dtype, np.random.default_rng(11), SZ, variant)
    r0, t0 = good_run(L, 12), good_run(twin, 12)  # populate caches, states and gradients
    for a, b in zip(r0, t0):
        np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(12)
    inputs, douts = entry.inputs(rng, SZ, dtype, **opts), entry.douts(rng, SZ, **opts)
    before = state(L)
    grads_ids = [id(g) for g in entry.grads(L)]
    undo = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(bad.exc) as ei:
            entry.apply_bad(L, bad, inputs, douts, undo)
    for u in undo:
        u()
    msg = str(ei.value)
    assert msg.strip(), "empty error message"
    assert re.search(bad.match, msg), "%s: message %r does not match %r" % (
        bad.label, msg, bad.match)
    assert state(L) == before, "state changed by a failing call: %s" % bad.label
    assert [id(g) for g in entry.grads(L)] == grads_ids
    # the next good call: exactly what the twin computes
    r1, t1 = good_run(L, 13), good_run(twin, 13)
    assert len(r1) == len(t1)
    for a, b in zip(r1, t1):
        np.testing.assert_array_equal(a, b)


def test_every_registry_class_exists_in_its_implementations():
    """A registry entry whose class is missing from one of its modules fails here
    (and in every suite that builds it), it is never skipped."""
    for e in REGISTRY:
        for impl in e.impls:
            assert isinstance(e.cls(impl), type), (e.id, impl)


def test_simple_rnnlm_failed_forward_keeps_state_direct():
    """Bad labels after good ids: the failed call leaves the stateful h as it was."""
    np.random.seed(0)
    m = rnnscratch.SimpleRnnlm(5, 3, 4)
    ids = np.zeros((2, 3), int)
    m.forward(ids, ids)
    h = m.rnn_layer.h.copy()
    with pytest.raises(ValueError):
        m.forward(ids, ids + 5)  # label 5 out of range
    assert np.array_equal(m.rnn_layer.h, h)


def _state_cases():
    return [pytest.param(e, v, impl, id="%s-%s-%s" % (e.id, v, impl.rsplit(".", 1)[-1]))
            for e in REGISTRY if e.state_attrs for v in e.variants for impl in e.impls]


@pytest.mark.parametrize("entry,variant,impl", _state_cases())
def test_state_is_not_a_view_of_what_the_call_returned(entry, variant, impl):
    """The state a layer keeps (TimeRNN's h, TimeLSTM's h and c, ...) is its own: a
    caller writing into the arrays forward and backward returned (hs, dxs, ...)
    does not change it."""
    opts = entry.variants[variant]
    L = entry.make(impl, entry.dtypes[-1], np.random.default_rng(3), SZ, variant)
    rng = np.random.default_rng(4)
    returned = []
    for r in (entry.forward(L, entry.inputs(rng, SZ, entry.dtypes[-1], **opts)),
              entry.backward(L, entry.douts(rng, SZ, **opts))):
        returned += [a for a in (r if isinstance(r, tuple) else (r,))
                     if isinstance(a, np.ndarray) and a.flags.writeable]
    kept = {a: np.array(getattr(L, a), copy=True) for a in entry.state_attrs
            if isinstance(getattr(L, a), np.ndarray)}
    # (the adapters of the stateful gated layers return the state gradients dh, dc
    # themselves, as the gradient check's inputs: those are the state, not views of it)
    for a in returned:
        if not any(a is getattr(L, name) for name in kept):
            a[...] = 12345
    for name, before in kept.items():
        np.testing.assert_array_equal(getattr(L, name), before, err_msg="%s.%s" % (entry.id, name))


def test_the_guard_saves_numpys_generator_only_where_a_call_may_draw(monkeypatch):
    """The models' guard saves np.random's state (about 20 µs) only for calls
    that may draw from it: BetterRnnlm (dropout) and the generators' generate,
    not Rnnlm or Seq2seq; and a failed BetterRnnlm call still gives it back."""
    from rnnscratch.models import BetterRnnlm, BetterRnnlmGen, Rnnlm, Seq2seq

    saved = []
    real = np.random.get_state
    monkeypatch.setattr(np.random, "get_state", lambda *a: saved.append(1) or real(*a))
    rng = np.random.default_rng(0)
    xs, ts = rng.integers(0, 30, (2, 3)), rng.integers(0, 30, (2, 3))
    for cls, draws in ((Rnnlm, False), (BetterRnnlm, True)):
        m = cls(30, 8, 8)
        saved.clear()
        m.forward(xs, ts)
        m.backward()
        assert bool(saved) == draws, cls.__name__
    s2s = Seq2seq(13, 4, 6)
    x, t = rng.integers(0, 13, (2, 5)), rng.integers(0, 13, (2, 4))
    saved.clear()
    s2s.forward(x, t)
    s2s.backward()
    assert not saved
    gen = BetterRnnlmGen(30, 8, 8)
    saved.clear()
    gen.generate(1, sample_size=3)
    assert saved
    # a failing call of a model with dropout: the generator as before
    m = BetterRnnlm(30, 8, 8)
    np.random.seed(5)
    before = real()
    with pytest.raises(ValueError):
        m.forward(xs, np.full((2, 3), 99))
    after = real()
    assert before[1].tolist() == after[1].tolist() and before[2] == after[2]
