"""The encoder-decoder models of the book's chapters 7 and 8 (ch07/seq2seq.py,
ch07/peeky_seq2seq.py, ch08/attention_seq2seq.py), written once as a
composition over a namespace of layer classes.

    Encoder, Decoder, Seq2seq                  chapter 7
    PeekyDecoder, PeekySeq2seq                 chapter 7, the encoder's h fed to
                                               every decoder step and to the affine
    AttentionEncoder, AttentionDecoder,        chapter 8
    AttentionSeq2seq

The classes here are built from the compiled layers: rnnscratch.TimeEmbedding,
TimeAffine, TimeSoftmaxWithLoss, and rnnscratch.TimeLSTM / rnnscratch.TimeAttention
as soon as the package exports them (until then the NumPy twins of those two,
rnnscratch.reference.TimeLSTM / TimeAttention, are used; the namespace is read
when a model is constructed). rnnscratch.reference holds the same models built
from the NumPy twins only.

Book API: constructors (vocab_size, wordvec_size, hidden_size); `params` and
`grads` lists in the book's order; weights drawn from np.random.randn in the
book's order with its scales (so a seeded run starts from the book's weights);
Seq2seq-type models: forward(xs (N,T_in), ts (N,T_out)) -> loss, backward(dout=1),
generate(xs (1,T_in), start_id, sample_size) -> list of ids; save_params /
load_params in the book's pickle format (a list of float16 arrays).

One extension: a keyword `dtype` (default float32, the book's) for the weights;
float64 is what the gradient checks use.

A call that raises (a bad argument found by any layer) leaves the model and
its layers as they were.
"""
import numpy as np

from .._policy import check_id_range, check_numeric
from .base import (BaseModel, all_or_nothing, compiled_layers,  # noqa: F401 (re-exported)
                   reference_layers)

__all__ = ["Encoder", "Decoder", "Seq2seq", "PeekyDecoder", "PeekySeq2seq",
           "AttentionEncoder", "AttentionDecoder", "AttentionSeq2seq",
           "compiled_layers", "reference_layers", "save_params", "load_params"]


# --------------------------------------------------------------- helpers
def _sizes(vocab_size, wordvec_size, hidden_size):
    out = []
    for name, v in (("vocab_size", vocab_size), ("wordvec_size", wordvec_size),
                    ("hidden_size", hidden_size)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        out.append(int(v))
    return out


def _dtype(dtype):
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected float32 or float64, got {dt}")
    return dt


def _start(part, vocab_size, wordvec_size, hidden_size, dtype):
    """The checked sizes V, D, H, the dtype and the layer namespace of a part,
    and its part.embed, a TimeEmbedding of embed_W (V,D) / 100: the first
    weights every part draws."""
    V, D, H = _sizes(vocab_size, wordvec_size, hidden_size)
    dt = _dtype(dtype)
    L = part._layers()
    part.embed = L.TimeEmbedding((np.random.randn(V, D) / 100).astype(dt))
    return V, D, H, dt, L


def _lstm_weights(dt, D, H):
    """Wx (D,4H) / sqrt(D), Wh (H,4H) / sqrt(H) in that order, b zeros."""
    Wx = (np.random.randn(D, 4 * H) / np.sqrt(D)).astype(dt)
    Wh = (np.random.randn(H, 4 * H) / np.sqrt(H)).astype(dt)
    return Wx, Wh, np.zeros(4 * H).astype(dt)


def _ids(name, value, ndim=2, V=None):
    try:
        a = np.asarray(value)
    except Exception as exc:  # ragged lists, objects whose __array__ raises
        raise TypeError(f"{name}: expected an array of integer ids ({exc})") from None
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an array of integer ids, got dtype {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array of ids of shape (N, T), "
                         f"got shape {a.shape}")
    if V is not None:
        check_id_range(name, a, V)
    return a


def _objects(model):
    """Every object whose attributes a call changes: the model, its parts, their layers."""
    out, stack, seen = [], [model], set()
    while stack:
        o = stack.pop()
        if id(o) in seen or not hasattr(o, "__dict__"):
            continue
        seen.add(id(o))
        out.append(o)
        for v in vars(o).values():
            if hasattr(v, "params") and hasattr(v, "forward"):
                stack.append(v)
            elif isinstance(v, (list, tuple)):
                stack.extend(x for x in v if hasattr(x, "params") and hasattr(x, "forward"))
    return out


def _atomic(model, fn, *args):
    """fn(*args); when it raises, every object of the model gets its
    attributes back (the shared guard, base.all_or_nothing). Nested calls
    (a Seq2seq calling its encoder) are covered by the outermost one."""
    return all_or_nothing(_objects(model), lambda keep: fn(*args))


def _array(name, value, shape, legend):
    """value as an array of numbers of exactly ``shape`` (legend: its letters),
    else ValueError/TypeError naming the argument: a part checks what it is
    handed before any layer runs, so a bad call changes nothing."""
    a = check_numeric(name, value)
    if a.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {legend} = {tuple(shape)}, got {a.shape}")
    return a


def _hidden(part):
    """H of a part: its LSTM's Wh (H, 4H)."""
    return np.shape(part.lstm.params[1])[0]


def _score_shape(part):
    """(N, T, V) of the scores of the part's last forward."""
    shape = getattr(part, "_score_shape", None)
    if shape is None:
        raise RuntimeError(f"{type(part).__name__}.backward() called before forward()")
    return shape


def _affine_backward(part, dscore):
    """The part's TimeAffine backward of dscore, checked against the scores
    of its last forward (N, T, V)."""
    dscore = _array("dscore", dscore, _score_shape(part), "(N, T, V)")
    return part.affine.backward(dscore)


def _single(name, a):
    if a.shape[0] != 1:
        raise ValueError(f"{name}: generate() takes one sequence: expected a batch of 1, "
                         f"got shape {a.shape}")


def save_params(model, file_name=None):
    """The book's BaseModel.save_params for any model with `params`
    (BaseModel's, see models/base.py)."""
    BaseModel.save_params(model, file_name)


def load_params(model, file_name=None):
    """The book's BaseModel.load_params for any model with `params`: the count
    and every shape checked before anything is written (ValueError)."""
    BaseModel.load_params(model, file_name)


def _greedy(step, start_id, sample_size):
    """The decoders' generate(): sample_size ids, each the argmax of
    step(x (1,1) the previous id) -> scores, starting from start_id."""
    sampled, sample_id = [], start_id
    for _ in range(int(sample_size)):
        score = step(np.array(sample_id).reshape((1, 1)))
        sample_id = int(np.argmax(np.asarray(score).reshape(-1)))
        sampled.append(sample_id)
    return sampled


def _collect(obj, layers):
    obj.params, obj.grads = [], []
    for layer in layers:
        obj.params += layer.params
        obj.grads += layer.grads


# --------------------------------------------------------------- chapter 7
class Encoder:
    """TimeEmbedding -> TimeLSTM (stateless). forward(xs (N,T) ids) -> h (N,H),
    the last hidden state; backward(dh (N,H)) -> None.
    params: [embed W (V,D), lstm Wx (D,4H), Wh (H,4H), b (4H,)]."""

    _layers = staticmethod(compiled_layers)

    def __init__(self, vocab_size, wordvec_size, hidden_size, dtype=np.float32):
        V, D, H, dt, L = _start(self, vocab_size, wordvec_size, hidden_size, dtype)
        Wx, Wh, b = _lstm_weights(dt, D, H)
        self.lstm = L.TimeLSTM(Wx, Wh, b, stateful=False)
        _collect(self, (self.embed, self.lstm))
        self.hs = None

    def _forward_hs(self, xs):
        return self.lstm.forward(self.embed.forward(xs))

    def forward(self, xs):
        def run():
            hs = self._forward_hs(xs)
            self.hs = hs
            return hs[:, -1, :]
        return _atomic(self, run)

    def backward(self, dh):
        if self.hs is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        N, T, H = self.hs.shape
        dh = _array("dh", dh, (N, H), "(N, H)")
        dhs = np.zeros_like(self.hs)
        dhs[:, -1, :] = dh
        return self.embed.backward(self.lstm.backward(dhs))


class Decoder:
    """TimeEmbedding -> TimeLSTM (stateful, started from the encoder's h) ->
    TimeAffine. forward(xs (N,T) ids, h (N,H)) -> scores (N,T,V);
    backward(dscore) -> dh (N,H); generate(h (1,H), start_id, sample_size) ->
    list of sample_size ids (greedy: argmax at every step).
    params: [embed W (V,D), lstm Wx (D,4H), Wh (H,4H), b (4H,), affine W (H,V), b (V,)]."""

    _layers = staticmethod(compiled_layers)

    def __init__(self, vocab_size, wordvec_size, hidden_size, dtype=np.float32):
        V, D, H, dt, L = _start(self, vocab_size, wordvec_size, hidden_size, dtype)
        Wx, Wh, b = _lstm_weights(dt, D, H)
        affine_W = (np.random.randn(H, V) / np.sqrt(H)).astype(dt)
        affine_b = np.zeros(V).astype(dt)
        self.lstm = L.TimeLSTM(Wx, Wh, b, stateful=True)
        self.affine = L.TimeAffine(affine_W, affine_b)
        _collect(self, (self.embed, self.lstm, self.affine))

    def forward(self, xs, h):
        def run():
            x = _ids("xs", xs)
            self.lstm.set_state(_array("h", h, (x.shape[0], _hidden(self)), "(N, H)"))
            score = self.affine.forward(self.lstm.forward(self.embed.forward(x)))
            self._score_shape = score.shape
            return score
        return _atomic(self, run)

    def backward(self, dscore):
        dout = _affine_backward(self, dscore)
        dout = self.lstm.backward(dout)
        self.embed.backward(dout)
        return self.lstm.dh

    def _step(self, x, h):
        return self.affine.forward(self.lstm.forward(self.embed.forward(x)))

    def generate(self, h, start_id, sample_size):
        def run():
            hh = np.asarray(h)
            if hh.ndim != 2:
                raise ValueError(f"h: expected shape (1, H), got {hh.shape}")
            _single("h", hh)
            self.lstm.set_state(h)
            return _greedy(lambda x: self._step(x, h), start_id, sample_size)
        return _atomic(self, run)


class Seq2seq(BaseModel):
    """Encoder + Decoder + TimeSoftmaxWithLoss. forward(xs (N,T_in), ts (N,T_out))
    -> loss: the decoder reads ts[:, :-1] and is scored against ts[:, 1:];
    backward(dout=1) -> None; generate(xs (1,T_in), start_id, sample_size) -> ids.
    params / grads: the encoder's, then the decoder's."""

    _layers = staticmethod(compiled_layers)
    _encoder_class = Encoder
    _decoder_class = Decoder

    def __init__(self, vocab_size, wordvec_size, hidden_size, dtype=np.float32):
        args = vocab_size, wordvec_size, hidden_size
        self.encoder = self._encoder_class(*args, dtype=dtype)
        self.decoder = self._decoder_class(*args, dtype=dtype)
        self.softmax = self._layers().TimeSoftmaxWithLoss()
        self.params = self.encoder.params + self.decoder.params
        self.grads = self.encoder.grads + self.decoder.grads

    def forward(self, xs, ts):
        def run():
            t = _ids("ts", ts, V=np.shape(self.decoder.embed.params[0])[0])
            x = _ids("xs", xs)
            if t.shape[1] < 2:
                raise ValueError(f"ts: expected at least 2 time steps (the start symbol and "
                                 f"one target), got shape {t.shape}")
            if x.shape[0] != t.shape[0]:
                raise ValueError(f"ts: expected the batch size of xs, {x.shape[0]}, "
                                 f"got shape {t.shape}")
            decoder_xs, decoder_ts = t[:, :-1], t[:, 1:]
            h = self.encoder.forward(x)
            score = self.decoder.forward(decoder_xs, h)
            return self.softmax.forward(score, decoder_ts)
        return _atomic(self, run)

    def backward(self, dout=1):
        dout = self.softmax.backward(dout)
        dh = self.decoder.backward(dout)
        return self.encoder.backward(dh)

    def generate(self, xs, start_id, sample_size):
        def run():
            x = _ids("xs", xs)
            _single("xs", x)
            h = self.encoder.forward(x)
            return self.decoder.generate(h, start_id, sample_size)
        return _atomic(self, run)


class PeekyDecoder(Decoder):
    """The decoder that peeks: the encoder's h is concatenated to the embedded
    input of every step (LSTM input [h, x], H+D wide) and to every LSTM output
    (affine input [h, hs], 2H wide). forward(xs, h) -> scores (N,T,V);
    backward(dscore) -> dh (N,H), the sum of the three paths; generate as Decoder.
    params: [embed W (V,D), lstm Wx (H+D,4H), Wh (H,4H), b (4H,), affine W (2H,V), b (V,)]."""

    def __init__(self, vocab_size, wordvec_size, hidden_size, dtype=np.float32):
        V, D, H, dt, L = _start(self, vocab_size, wordvec_size, hidden_size, dtype)
        Wx = (np.random.randn(H + D, 4 * H) / np.sqrt(H + D)).astype(dt)
        Wh = (np.random.randn(H, 4 * H) / np.sqrt(H)).astype(dt)
        b = np.zeros(4 * H).astype(dt)
        affine_W = (np.random.randn(H + H, V) / np.sqrt(H + H)).astype(dt)
        affine_b = np.zeros(V).astype(dt)
        self.lstm = L.TimeLSTM(Wx, Wh, b, stateful=True)
        self.affine = L.TimeAffine(affine_W, affine_b)
        _collect(self, (self.embed, self.lstm, self.affine))
        self.cache = None

    @staticmethod
    def _peek(h, out):
        """[h repeated over T, out] along the features."""
        N, T = out.shape[:2]
        h = np.asarray(h)
        if h.ndim != 2 or h.shape[0] != N:
            raise ValueError(f"h: expected shape (N, H) with N = {N}, got {h.shape}")
        hs = np.broadcast_to(h[:, None, :].astype(out.dtype, copy=False), (N, T, h.shape[1]))
        return np.concatenate((hs, out), axis=2)

    def _step(self, x, h):
        out = self._peek(h, self.embed.forward(x))
        out = self._peek(h, self.lstm.forward(out))
        return self.affine.forward(out)

    def forward(self, xs, h):
        def run():
            x = _ids("xs", xs)
            hh = _array("h", h, (x.shape[0], _hidden(self)), "(N, H)")
            self.lstm.set_state(hh)
            score = self._step(x, hh)
            self.cache = hh.shape[1]
            self._score_shape = score.shape
            return score
        return _atomic(self, run)

    def backward(self, dscore):
        if self.cache is None:
            raise RuntimeError("PeekyDecoder.backward() called before forward()")
        H = self.cache
        dout = _affine_backward(self, dscore)
        dout, dhs0 = dout[:, :, H:], dout[:, :, :H]
        dout = self.lstm.backward(dout)
        dembed, dhs1 = dout[:, :, H:], dout[:, :, :H]
        self.embed.backward(dembed)
        return self.lstm.dh + (dhs0 + dhs1).sum(axis=1)


class PeekySeq2seq(Seq2seq):
    """Seq2seq with a PeekyDecoder (same API, params: the encoder's, then the
    peeky decoder's)."""

    _decoder_class = PeekyDecoder


# --------------------------------------------------------------- chapter 8
class AttentionEncoder(Encoder):
    """The Encoder that returns every hidden state: forward(xs) -> hs (N,T,H);
    backward(dhs (N,T,H)) -> None."""

    def forward(self, xs):
        def run():
            hs = self._forward_hs(xs)
            self.hs = hs
            return hs
        return _atomic(self, run)

    def backward(self, dhs):
        if self.hs is None:
            raise RuntimeError("AttentionEncoder.backward() called before forward()")
        dhs = _array("dhs", dhs, self.hs.shape, "(N, T, H)")
        return self.embed.backward(self.lstm.backward(dhs))


class AttentionDecoder:
    """TimeEmbedding -> TimeLSTM (stateful, started from the encoder's last h) ->
    TimeAttention over the encoder's states -> TimeAffine on [context, h].
    forward(xs (N,T) ids, enc_hs (N,T_enc,H)) -> scores (N,T,V);
    backward(dscore) -> denc_hs (N,T_enc,H); generate(enc_hs (1,T_enc,H),
    start_id, sample_size) -> ids. `attention` is the TimeAttention layer (its
    `attention_weights` after a call are the weights of that call's steps).
    params: [embed W (V,D), lstm Wx (D,4H), Wh (H,4H), b (4H,), affine W (2H,V), b (V,)]."""

    _layers = staticmethod(compiled_layers)

    def __init__(self, vocab_size, wordvec_size, hidden_size, dtype=np.float32):
        V, D, H, dt, L = _start(self, vocab_size, wordvec_size, hidden_size, dtype)
        Wx, Wh, b = _lstm_weights(dt, D, H)
        affine_W = (np.random.randn(2 * H, V) / np.sqrt(2 * H)).astype(dt)
        affine_b = np.zeros(V).astype(dt)
        self.lstm = L.TimeLSTM(Wx, Wh, b, stateful=True)
        self.attention = L.TimeAttention()
        self.affine = L.TimeAffine(affine_W, affine_b)
        _collect(self, (self.embed, self.lstm, self.attention, self.affine))

    def _step(self, x, enc_hs):
        dec_hs = self.lstm.forward(self.embed.forward(x))
        c = self.attention.forward(enc_hs, dec_hs)
        out = np.concatenate((c, dec_hs), axis=2)
        return self.affine.forward(out)

    def _enc_hs(self, enc_hs, N=None):
        e = check_numeric("enc_hs", enc_hs)
        H = _hidden(self)
        if e.ndim != 3 or e.shape[1] < 1 or e.shape[2] != H or (N is not None and e.shape[0] != N):
            raise ValueError(f"enc_hs: expected shape (N, T_enc, H) with T_enc >= 1, H = {H}"
                             + ("" if N is None else f", N = {N} (from xs)")
                             + f", got {e.shape}")
        return e

    def forward(self, xs, enc_hs):
        def run():
            x = _ids("xs", xs)
            e = self._enc_hs(enc_hs, x.shape[0])
            self.lstm.set_state(e[:, -1])
            score = self._step(x, e)
            self._score_shape = score.shape
            return score
        return _atomic(self, run)

    def backward(self, dscore):
        dout = _affine_backward(self, dscore)
        H = dout.shape[2] // 2
        dc, ddec_hs0 = dout[:, :, :H], dout[:, :, H:]
        denc_hs, ddec_hs1 = self.attention.backward(dc)
        dout = self.lstm.backward(ddec_hs0 + ddec_hs1)
        if not (isinstance(denc_hs, np.ndarray) and denc_hs.flags.writeable
                and denc_hs.base is None):
            denc_hs = np.array(denc_hs)
        denc_hs[:, -1] += self.lstm.dh
        self.embed.backward(dout)
        return denc_hs

    def generate(self, enc_hs, start_id, sample_size):
        def run():
            e = self._enc_hs(enc_hs)
            _single("enc_hs", e)
            self.lstm.set_state(e[:, -1])
            return _greedy(lambda x: self._step(x, e), start_id, sample_size)
        return _atomic(self, run)


class AttentionSeq2seq(Seq2seq):
    """Seq2seq with an AttentionEncoder and an AttentionDecoder (same API;
    params: the encoder's, then the decoder's)."""

    _encoder_class = AttentionEncoder
    _decoder_class = AttentionDecoder
