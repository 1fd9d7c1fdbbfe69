"""What the models share.

BaseModel   save_params / load_params in the book's file format
            (common/base_model.py): a pickled list of float16 arrays, one per
            entry of `params` in order, default file name ClassName.pkl.
RnnlmBase   the chapter-5 model's composition, shared by the compiled
            SimpleRnnlm and its NumPy twin: they differ only in the layer
            classes they are built from.
"""
import os
import pickle
import threading

import numpy as np

from .files import atomic_write, load_weights


class BaseModel:
    """save_params(file_name=None) / load_params(file_name=None) in the book's
    format, so a file saved by the book's class of the same name loads into
    ours and the other way round.

    The file holds `[p.astype(float16) for p in self.params]` (pickled), the
    tied embed_W.T of BetterRnnlm included, exactly as the book writes it.
    load_params checks the count and every shape before writing anything:
    a file that does not fit raises ValueError and changes no parameter.

    The file is read by a restricted unpickler (models.files.load_weights):
    only lists and NumPy arrays can come out of it, and a file naming
    anything else (a crafted pickle that would run code) is refused with a
    ValueError naming it, before anything in it is called. save_params
    writes all or nothing (models.files.atomic_write): an interruption
    leaves the previous file whole.
    """

    params = None
    grads = None

    def _file(self, file_name):
        if file_name is None:
            return type(self).__name__ + ".pkl"
        file_name = os.fspath(file_name)
        if "/" in file_name:
            file_name = file_name.replace("/", os.sep)
        return file_name

    def save_params(self, file_name=None):
        file_name = BaseModel._file(self, file_name)  # also for any object with params
        params = [np.asarray(p).astype(np.float16) for p in self.params]
        atomic_write(file_name, lambda f: pickle.dump(params, f))

    def load_params(self, file_name=None):
        file_name = BaseModel._file(self, file_name)
        if not os.path.exists(file_name):
            raise IOError("No file: " + file_name)
        loaded = load_weights(file_name)
        BaseModel.set_params(self, loaded, source=file_name)

    def set_params(self, arrays, source="arrays"):
        """Write `arrays` (one per entry of params, any float dtype) into the
        parameters in place, after checking the count and every shape."""
        if not isinstance(arrays, (list, tuple)):
            raise TypeError(f"{source}: expected a list of {len(self.params)} arrays, "
                            f"got {type(arrays).__name__}")
        if len(arrays) != len(self.params):
            raise ValueError(f"{source}: expected a list of {len(self.params)} arrays (the "
                             f"params of {type(self).__name__}), got {len(arrays)}")
        new = []
        for i, (p, a) in enumerate(zip(self.params, arrays)):
            a = np.asarray(a)
            if a.dtype.kind not in "fiu":
                raise TypeError(f"{source}: array {i}: expected numbers, got dtype {a.dtype}")
            if a.shape != np.shape(p):
                raise ValueError(f"{source}: array {i}: expected shape {np.shape(p)} "
                                 f"(params[{i}] of {type(self).__name__}), got {a.shape}")
            new.append(a.astype("f"))  # the book's load: float16 -> float32
        for p, a in zip(self.params, new):
            p[...] = a


# --------------------------------------------------------------------------
# All or nothing: the one guard of the models' calls
# --------------------------------------------------------------------------

_local = threading.local()


class _Snapshot:
    """What a guarded call may change, as it was before the call: the
    attributes of every object (a shallow copy of each __dict__: layer
    caches, states, flags such as dropout's train_flg), NumPy's global
    generator, and copies of the arrays the call announced (keep()) before
    writing them in place."""

    def __init__(self):
        self.objs, self.dicts, self.kept = [], [], {}
        self.rng = None  # NumPy's generator: saved only when an object may draw

    def add(self, objs):
        seen = {id(o) for o in self.objs}
        for o in objs:
            if id(o) not in seen and hasattr(o, "__dict__"):
                seen.add(id(o))
                self.objs.append(o)
                self.dicts.append(dict(vars(o)))
                if self.rng is None and _may_draw(o):
                    self.rng = np.random.get_state()

    def keep(self, arrays):
        for a in arrays:
            if isinstance(a, np.ndarray) and id(a) not in self.kept:
                self.kept[id(a)] = (a, a.copy())

    def restore(self):
        for a, copy in self.kept.values():
            a[...] = copy
        for o, d in zip(self.objs, self.dicts):
            o.__dict__.clear()
            o.__dict__.update(d)
        if self.rng is not None:
            np.random.set_state(self.rng)


def _may_draw(obj):
    """Whether a call may draw from NumPy's global generator through obj:
    a dropout layer (its masks), a class that says so (_draws_random: the
    generators' sampling), or any class that is not rnnscratch's own (its
    code is unknown). Saving the generator's state costs ~20 µs a call; the
    models without dropout (Rnnlm, the seq2seq models) skip it."""
    cls = type(obj)
    return (getattr(cls, "_draws_random", False) or "dropout_ratio" in vars(obj)
            or not cls.__module__.startswith("rnnscratch."))


def all_or_nothing(objs, fn):
    """fn(keep) with everything restored when it raises (any exception, a
    KeyboardInterrupt included): the attributes of `objs`, NumPy's global
    generator, and the arrays fn passed to keep(arrays) before writing them
    in place (the grads: copied only when fn asks, so a call that needs no
    copy costs none). Nested calls (a Seq2seq calling its encoder, generate
    calling predict) join the outermost one, which restores."""
    outer = getattr(_local, "snap", None)
    if outer is not None:
        outer.add(objs)
        return fn(outer.keep)
    snap = _Snapshot()
    snap.add(objs)
    _local.snap = snap
    try:
        return fn(snap.keep)
    except BaseException:
        snap.restore()
        raise
    finally:
        _local.snap = None


def _layer_marks(layers):
    """Identity marks of the layers' attributes, params and grads after a
    forward: backward compares them to know that nothing has touched the
    layers since (then the compiled layers' backward, each checked against
    its own cache, cannot fail half way and no grads need copying)."""
    return [(layer, dict(vars(layer)), tuple(getattr(layer, "params", ())),
             tuple(getattr(layer, "grads", ()))) for layer in layers]


def _trusted():
    """The compiled layer classes with the backward they were defined with:
    each checks its arguments against its own cache before writing, so in a
    chain fresh from forward none can fail half way."""
    from .. import layers as L

    return {cls: cls.__dict__["backward"] for cls in (
        L.TimeEmbedding, L.TimeAffine, L.TimeSoftmaxWithLoss, L.TimeRNN, L.TimeLSTM,
        L.TimeDropout) if "backward" in cls.__dict__}


_TRUSTED = _trusted()


def _untouched(marks, layers):
    if marks is None or len(marks) != len(layers):
        return False
    for (layer, d, params, grads), now in zip(marks, layers):
        if layer is not now:
            return False
        cls = type(layer)
        if _TRUSTED.get(cls) is None or cls.__dict__.get("backward") is not _TRUSTED[cls]:
            return False  # a class of someone else's, or one patched since import
        v = vars(layer)
        if len(v) != len(d) or any(v.get(k, _local) is not x for k, x in d.items()):
            return False
        if tuple(layer.params) != params or tuple(layer.grads) != grads:
            return False
        for p, g in zip(params, grads):
            if not (isinstance(g, np.ndarray) and isinstance(p, np.ndarray)
                    and g.shape == p.shape and g.dtype == p.dtype and g.flags.writeable):
                return False
    return True


def _backward_chain(model, layers, run):
    """run(keep) as one all-or-nothing call. keep(grads) is a no-op when the
    layers are exactly as the model's last forward left them (the usual
    forward/backward pair: no copy at all); otherwise it copies the grads a
    layer is about to overwrite, so that a later layer's failure restores
    them."""
    fast = _untouched(getattr(model, "_marks", None), layers)
    model._marks = None  # a second backward after one forward takes the copying path

    def body(keep):
        return run((lambda arrays: None) if fast else keep)
    return all_or_nothing([model] + list(layers), body)


class RnnlmBase(BaseModel):
    """The chapter-5 language model: TimeEmbedding -> TimeRNN(stateful) ->
    TimeAffine -> TimeSoftmaxWithLoss, float32, weights drawn from
    np.random.randn with the course's scales.

    params / grads: [embed W (V,D), rnn Wx (D,H), Wh (H,H), b (H,), affine W (H,V), b (V,)].
    forward(xs (N,T), ts (N,T)) -> loss; backward(dout=1); reset_state().
    """

    _layers = None  # the layer namespace (compiled_layers or reference_layers), set by subclasses

    def __init__(self, vocab_size=10000, wordvec_size=100, hidden_size=100):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        embed_W = (rn(V, D) / 100).astype("f")
        rnn_Wx = (rn(D, H) / np.sqrt(D)).astype("f")
        rnn_Wh = (rn(H, H) / np.sqrt(H)).astype("f")
        rnn_b = np.zeros(H).astype("f")
        affine_W = (rn(H, V) / np.sqrt(H)).astype("f")
        affine_b = np.zeros(V).astype("f")

        L = self._layers()
        self.layers = [
            L.TimeEmbedding(embed_W),
            L.TimeRNN(rnn_Wx, rnn_Wh, rnn_b, stateful=True),
            L.TimeAffine(affine_W, affine_b),
        ]
        self.loss_layer = L.TimeSoftmaxWithLoss()
        self.rnn_layer = self.layers[1]

        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def predict(self, xs):
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def forward(self, xs, ts):
        # A call that raises (say, a label out of range, found by the loss layer
        # after the RNN has moved its state on) leaves the model as it was.
        layers = self.layers + [self.loss_layer]
        loss = all_or_nothing([self] + layers,
                              lambda keep: self.loss_layer.forward(self.predict(xs), ts))
        self._marks = _layer_marks(layers)
        return loss

    def backward(self, dout=1):
        layers = self.layers + [self.loss_layer]

        def run(keep):
            keep(self.loss_layer.grads if hasattr(self.loss_layer, "grads") else ())
            d = self.loss_layer.backward(dout)
            for layer in reversed(self.layers):
                keep(layer.grads)
                d = layer.backward(d)
            return d
        return _backward_chain(self, layers, run)

    def reset_state(self):
        self.rnn_layer.reset_state()


# --------------------------------------------------------------------------
# The chapter-6 models' composition (Rnnlm, BetterRnnlm; compiled and reference)
# --------------------------------------------------------------------------

def compiled_layers():
    """The layer classes the compiled models are built from: rnnscratch.layers.
    Every model class names its namespace in ``_layers`` (a function, so that
    the layer modules are imported only when a model is built)."""
    from .. import layers

    return layers


def reference_layers():
    """The NumPy reference layers, under the same names: rnnscratch.reference."""
    from .. import reference

    return reference


def _is_transpose_of(W, E):
    """W is exactly E.T as memory (E a C-contiguous 2-d ndarray)."""
    return (type(W) is np.ndarray and type(E) is np.ndarray and E.ndim == 2 and W.ndim == 2
            and E.flags.c_contiguous and W.dtype == E.dtype and W.shape == E.shape[::-1]
            and W.strides == E.strides[::-1]
            and W.__array_interface__["data"][0] == E.__array_interface__["data"][0])


class LstmLmBase(BaseModel):
    """The composition of the chapter-6 language models over a namespace of
    layer classes (`_layers()`: compiled_layers or reference_layers).

    layers = [TimeEmbedding, (TimeDropout,) TimeLSTM, (TimeDropout, TimeLSTM,
    TimeDropout,) TimeAffine]; loss_layer = TimeSoftmaxWithLoss; params and
    grads: the layers' lists concatenated in that order (the book's order).

    Output head. When the embedding, affine and loss layers are the compiled
    classes, forward() runs TimeAffine + softmax + cross-entropy fused
    (_core.affine_softmax_cross_entropy; tied: _core.tied_affine_softmax_
    cross_entropy, which reads the embedding matrix as it is instead of
    copying its transpose every step): the (N,T,V) scores and
    probabilities are never stored, the gradient of the scores is ready for
    backward(). Otherwise the layers run one after the other (the book's way).

    Weight tying (BetterRnnlm): the affine layer's W is embed_W.T, a view of
    the embedding matrix, and both appear in params (the book's file format
    saves both). backward() leaves the whole gradient of the tied matrix, the
    sum of both uses, in grads[0] (the embedding's, (V,D)), computed in place
    with no (V,D) temporary, and the affine layer's gradient of W at zero.
    So the book's remove_duplicate (which adds grads[j].T into grads[i]),
    a loop over all params without merging, clip_grads over all grads, and
    our RnnlmTrainer (which asks unique_params_grads() and skips the zero
    entry) all give the book's update.
    """

    _layers = staticmethod(compiled_layers)

    def _assemble(self, layers, lstm_layers, drop_layers, tied):
        self.layers = layers
        self.loss_layer = self._layers().TimeSoftmaxWithLoss()
        self._lstms = list(lstm_layers)
        self.drop_layers = list(drop_layers)
        self._tied = tied
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads
        self._dscore = None
        self._eval_out = None

    # --- the fused head applies when the head's layers are the compiled classes
    def _fused(self):
        from .. import layers as compiled

        return (type(self.layers[0]) is compiled.TimeEmbedding
                and type(self.layers[-1]) is compiled.TimeAffine
                and type(self.loss_layer) is compiled.TimeSoftmaxWithLoss)

    def _tied_index(self):
        """Index in params of the affine layer's W (the tied embed_W.T)."""
        return len(self.params) - len(self.layers[-1].params)

    def predict(self, xs, train_flg=False):
        for layer in self.drop_layers:
            layer.train_flg = train_flg
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def _body(self, xs, train_flg):
        """Every layer but the affine one: the hidden states the head reads."""
        for layer in self.drop_layers:
            layer.train_flg = train_flg
        for layer in self.layers[:-1]:
            xs = layer.forward(xs)
        return xs

    def _head(self, hs, ts, out):
        from .._loader import _core
        from .._policy import label_ids

        affine = self.layers[-1]
        W = affine.params[0]
        b = affine.params[1] if len(affine.params) > 1 else None
        shape = tuple(np.shape(hs)[:2]) + (np.shape(W)[-1],)
        ts = label_ids(ts, shape, "the scores")
        ignore = self.loss_layer.ignore_label
        if self._tied:
            E = self.layers[0].params[0]
            if _is_transpose_of(W, E):
                # E read as it is: no (D,V) copy of the tied matrix per step
                return _core.tied_affine_softmax_cross_entropy(hs, E, ts, b, ignore, out=out)
        return _core.affine_softmax_cross_entropy(hs, W, ts, b, ignore, out=out)

    def _guarded(self, run):
        """run() all or nothing (see all_or_nothing); the layers' marks kept
        for backward."""
        layers = self.layers + [self.loss_layer]
        # not the model itself: its _dscore/_eval_out are set after the call, and
        # a snapshot holding them would stop _reusable from writing over them
        out = all_or_nothing(layers, lambda keep: run())
        self._marks = _layer_marks(layers)
        return out

    def forward(self, xs, ts, train_flg=True):
        return self._loss(xs, ts, train_flg, keep=True)

    def eval_loss(self, xs, ts):
        """The loss of one batch without training: dropout off, nothing kept
        for backward (the stateful LSTMs still carry h and c on). The head
        writes into a scratch buffer reused from one call to the next."""
        return self._loss(xs, ts, False, keep=False)

    def _loss(self, xs, ts, train_flg, keep):
        """The loss of forward (keep: the fused head's dscore in _dscore, its
        input in the affine, for backward) and of eval_loss (the head's result
        in the scratch _eval_out, nothing kept)."""
        if not self._fused():
            self._dscore = None
            return self._guarded(
                lambda: self.loss_layer.forward(self.predict(xs, train_flg), ts))
        buffer = "_dscore" if keep else "_eval_out"

        def run():
            hs = self._body(xs, train_flg)
            loss, out = self._head(hs, ts, self._reusable(getattr(self, buffer), hs))
            if keep:
                self.layers[-1].x = hs
            return loss, out

        loss, out = self._guarded(run)
        setattr(self, buffer, out)
        if not keep:
            self._dscore = None  # the layers' caches are the evaluation's now
        return loss

    def _reusable(self, out, hs):
        """A previous (N,T,V) buffer, when it has the shape and dtype the head
        will produce: written over instead of allocating at every step."""
        import sys

        from .._policy import compute_dtype

        if out is None or sys.getrefcount(out) > 3:
            return None  # 3: the owner's reference, `out`, getrefcount's argument
        affine = self.layers[-1]
        W = affine.params[0]
        shape = tuple(np.shape(hs)[:2]) + (np.shape(W)[-1],)
        if out.shape != shape or out.dtype != compute_dtype([np.asarray(p) for p in affine.params]):
            return None
        return out

    def backward(self, dout=1):
        """All or nothing: a failure in any layer leaves params, grads, the
        layers' state and flags as they were. Right after forward (the
        layers untouched since) no grads are copied; otherwise the grads a
        layer overwrites are copied first."""
        layers = self.layers + [self.loss_layer]
        if not self._fused():
            def run(keep):
                keep(getattr(self.loss_layer, "grads", ()))
                d = self.loss_layer.backward(dout)
                for layer in reversed(self.layers):
                    keep(layer.grads)
                    d = layer.backward(d)
                if self._tied:
                    keep(self.grads)
                    self._merge_tied()
                return d
            return _backward_chain(self, layers, run)
        if self._dscore is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")

        def run(keep):
            d = self._dscore  # (N,T,V), the gradient of the scores for dout = 1
            if dout != 1:
                d = d * d.dtype.type(dout)
            if self._tied:
                keep(self.layers[-1].grads)
                keep(self.layers[0].grads)
                d = self._tied_head_backward(d)
                # the affine layer's gradient of W (D,V) is part of the tied one in
                # grads[0]: overwritten with zeros, as every backward overwrites its grads
                self.layers[-1].grads[0][...] = 0
                for layer in reversed(self.layers[1:-1]):
                    keep(layer.grads)
                    d = layer.backward(d)
                from .._loader import _core

                embed = self.layers[0]
                _core.embedding_backward(d, embed.idx, embed.params[0], embed.grads[0],
                                         accumulate=True)
                return None
            for layer in reversed(self.layers):
                keep(layer.grads)
                d = layer.backward(d)
            return d
        return _backward_chain(self, layers, run)

    def _tied_head_backward(self, d):
        """The affine layer's backward with W = E.T (E the embedding matrix,
        (V,D)), in C (_core.tied_affine_backward): db = sum of d, dx = d @ E,
        and the affine part of the tied gradient, d.T @ x, written straight
        into the embedding's gradient in its own (V,D) layout (the
        embedding's scatter-add is accumulated onto it afterwards). No
        transposed copy of E or of its gradient, and no call into NumPy's
        BLAS, whose idle threads would spin on the cores the next kernel
        runs on."""
        from .._loader import _core

        affine, embed = self.layers[-1], self.layers[0]
        db = affine.grads[1] if len(affine.grads) > 1 else None
        return _core.tied_affine_backward(d, affine.x, embed.params[0], embed.grads[0], db)

    def _merge_tied(self):
        """Unfused path: add the affine layer's gradient of W (D,V) into the
        embedding's (V,D) in place, then zero it (see the class docstring)."""
        j = self._tied_index()
        gA = self.grads[j]
        np.add(self.grads[0], gA.T, out=self.grads[0])
        gA[...] = 0

    def unique_params_grads(self):
        """(params, grads) with the tied duplicate left out: what the book's
        remove_duplicate returns for this model, without comparing or adding
        (V,D) arrays. New lists of the same arrays."""
        params, grads = list(self.params), list(self.grads)
        if self._tied:
            j = self._tied_index()
            del params[j], grads[j]
        return params, grads

    def reset_state(self):
        for layer in self._lstms:
            layer.reset_state()

    # --- the recurrent state, for the trainer's resumable runs
    def get_lstm_state(self):
        return [(layer.h, layer.c) for layer in self._lstms]

    def set_lstm_state(self, states):
        for layer, (h, c) in zip(self._lstms, states):
            layer.set_state(h, c)
