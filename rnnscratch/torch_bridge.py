"""From the book's layers to PyTorch and back, with the same numbers.

    from rnnscratch.torch_bridge import to_torch, from_torch
    rnn = to_torch(time_rnn)         # torch.nn.RNN(batch_first=True), the same weights
    layer = from_torch(rnn)          # rnnscratch.TimeRNN again
    net = to_torch(model)            # SimpleRnnlm / Rnnlm / BetterRnnlm -> LanguageModel

Only this module imports torch. Conversions copy the weights (the two sides
do not share memory) and keep their dtype (the book's float32 stays float32).

=========================  ================================  ==============================
ours (or the book's)        torch                             weights
=========================  ================================  ==============================
TimeRNN(Wx, Wh, b)          nn.RNN(D, H, batch_first=True)    weight_ih = Wx.T, weight_hh =
                            (tanh or relu)                    Wh.T, bias_ih = b, bias_hh = 0
TimeLSTM(Wx, Wh, b)         nn.LSTM(D, H, batch_first=True)   gate blocks reordered: the book
                                                              stacks f, g, i, o; torch i, f, g, o
TimeGRU(Wx, Wh, b)          BookGRU(D, H)                     Wx, Wh, b as they are (see below)
TimeEmbedding(W)            nn.Embedding(V, D)                weight = W
TimeAffine(W, b)            nn.Linear(D, V)                   weight = W.T, bias = b
TimeDropout(ratio)          nn.Dropout(ratio)                 (different random masks)
a model with .layers and    LanguageModel                     each layer as above; weight tying
.loss_layer (chapter 5/6)                                     (TimeAffine(embed_W.T)) kept
=========================  ================================  ==============================

The book's GRU is not torch's: torch applies the reset gate after the
recurrent product, r * (h W_hn + b_hn), the book before it, (r * h) W_hh,
and torch's z keeps the old state where the book's z takes the new one. A
conversion to nn.GRU would silently compute something else, so TimeGRU maps
to ``BookGRU``, a small torch module with the book's formulas.

``LanguageModel`` is the book's language model as an nn.Module: forward(xs,
ts=None) returns the mean cross-entropy over the labels that are not -1
(the book's TimeSoftmaxWithLoss) or, without ts, the scores (N, T, V); its
recurrent state is carried between calls like the book's stateful layers
(truncated BPTT: detached), reset_state() drops it; train()/eval() switch
dropout as the book's train_flg.
"""
import numpy as np

try:
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError("rnnscratch.torch_bridge needs PyTorch (pip install torch); the rest "
                      "of rnnscratch does not") from e

__all__ = ["to_torch", "from_torch", "BookGRU", "LanguageModel", "lstm_to_torch_order",
           "lstm_from_torch_order"]

# the book's LSTM gate blocks are f, g, i, o; torch's are i, f, g, o
_BOOK_LSTM = "fgio"
_TORCH_LSTM = "ifgo"


def _blocks(a, order_from, order_to, axis):
    H = a.shape[axis] // 4
    parts = {k: np.take(a, np.arange(i * H, (i + 1) * H), axis=axis)
             for i, k in enumerate(order_from)}
    return np.concatenate([parts[k] for k in order_to], axis=axis)


def lstm_to_torch_order(a, axis=-1):
    """Gate blocks along ``axis`` from the book's f, g, i, o to torch's i, f, g, o."""
    return _blocks(np.asarray(a), _BOOK_LSTM, _TORCH_LSTM, axis)


def lstm_from_torch_order(a, axis=-1):
    """Gate blocks along ``axis`` from torch's i, f, g, o to the book's f, g, i, o."""
    return _blocks(np.asarray(a), _TORCH_LSTM, _BOOK_LSTM, axis)


def _t(a):
    """A torch tensor holding a copy of the array, of its float dtype."""
    a = np.array(a, copy=True)
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    return torch.from_numpy(np.ascontiguousarray(a))


def _np(t):
    if t.dtype not in (torch.float16, torch.float32, torch.float64):
        raise TypeError(f"from_torch: the module's parameters are {t.dtype}, which NumPy has "
                        f"no dtype for; convert the module first (module.float() or "
                        f"module.double())")
    return t.detach().cpu().numpy().copy()


def _check_hidden(layer, H):
    if H < 1:
        raise ValueError(f"to_torch: a {type(layer).__name__} with hidden size H={H} has no "
                         f"torch counterpart (torch needs hidden_size >= 1)")


def _torch_dtype(*arrays):
    """float32 when the book's layer computes in float32 (rnnscratch's dtype rule)."""
    from ._policy import compute_dtype

    return torch.float32 if compute_dtype(*arrays) == np.float32 else torch.float64


def _kind(obj):
    """The book's class name of a layer or model (by name: ours, the reference
    twins and the book's own classes all convert)."""
    return type(obj).__name__


def _gate_count(layer):
    Wx, Wh = layer.params[0], layer.params[1]
    H = np.shape(Wh)[0]
    return np.shape(Wh)[1] // H if H else 0


# --------------------------------------------------------------------------
# the book's GRU in torch
# --------------------------------------------------------------------------

class BookGRU(nn.Module):
    """The book's TimeGRU as a torch module: parameters Wx (D, 3H), Wh (H, 3H),
    b (3H,) with blocks z, r, h~ (the book's layout), batch first:

        z = sigmoid(x Wxz + h Whz + bz),  r = sigmoid(x Wxr + h Whr + br)
        h~ = tanh(x Wxh + (r * h) Whh + bh),  h_next = (1 - z) * h + z * h~

    forward(xs (N, T, D), h0=None (N, H)) -> (hs (N, T, H), h_T (N, H)).
    """

    def __init__(self, input_size, hidden_size, dtype=torch.float32):
        super().__init__()
        D, H = input_size, hidden_size
        self.input_size, self.hidden_size = D, H
        self.Wx = nn.Parameter(torch.randn(D, 3 * H, dtype=dtype) / np.sqrt(D))
        self.Wh = nn.Parameter(torch.randn(H, 3 * H, dtype=dtype) / np.sqrt(H))
        self.b = nn.Parameter(torch.zeros(3 * H, dtype=dtype))

    def forward(self, xs, h0=None):
        N, T, _ = xs.shape
        H = self.hidden_size
        h = xs.new_zeros((N, H)) if h0 is None else h0
        Wxz, Wxr, Wxh = self.Wx[:, :H], self.Wx[:, H:2 * H], self.Wx[:, 2 * H:]
        Whz, Whr, Whh = self.Wh[:, :H], self.Wh[:, H:2 * H], self.Wh[:, 2 * H:]
        bz, br, bh = self.b[:H], self.b[H:2 * H], self.b[2 * H:]
        out = []
        for t in range(T):
            x = xs[:, t]
            z = torch.sigmoid(x @ Wxz + h @ Whz + bz)
            r = torch.sigmoid(x @ Wxr + h @ Whr + br)
            h_hat = torch.tanh(x @ Wxh + (r * h) @ Whh + bh)
            h = (1 - z) * h + z * h_hat
            out.append(h)
        return torch.stack(out, dim=1), h


# --------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------

def _rnn_to_torch(layer):
    params = list(layer.params)
    Wx, Wh = params[0], params[1]
    _check_hidden(layer, np.shape(Wh)[0])
    b = params[2] if len(params) > 2 else None
    activation = getattr(layer, "activation", "tanh")
    if activation not in ("tanh", "relu"):
        raise ValueError("layer: torch's nn.RNN has no %r activation (only 'tanh' and 'relu')"
                         % (activation,))
    D, H = np.shape(Wx)
    dtype = _torch_dtype(Wx, Wh)
    m = nn.RNN(D, H, batch_first=True, nonlinearity=activation, bias=b is not None, dtype=dtype)
    with torch.no_grad():
        m.weight_ih_l0.copy_(_t(np.asarray(Wx).T))
        m.weight_hh_l0.copy_(_t(np.asarray(Wh).T))
        if b is not None:
            m.bias_ih_l0.copy_(_t(b))
            m.bias_hh_l0.zero_()
    return m


def _lstm_to_torch(layer):
    Wx, Wh, b = layer.params
    D, H = np.shape(Wx)[0], np.shape(Wh)[0]
    _check_hidden(layer, H)
    m = nn.LSTM(D, H, batch_first=True, dtype=_torch_dtype(Wx, Wh, b))
    with torch.no_grad():
        m.weight_ih_l0.copy_(_t(lstm_to_torch_order(Wx, axis=1).T))
        m.weight_hh_l0.copy_(_t(lstm_to_torch_order(Wh, axis=1).T))
        m.bias_ih_l0.copy_(_t(lstm_to_torch_order(b, axis=0)))
        m.bias_hh_l0.zero_()
    return m


def _gru_to_torch(layer):
    Wx, Wh, b = layer.params
    _check_hidden(layer, np.shape(Wh)[0])
    m = BookGRU(np.shape(Wx)[0], np.shape(Wh)[0], dtype=_torch_dtype(Wx, Wh, b))
    with torch.no_grad():
        m.Wx.copy_(_t(Wx))
        m.Wh.copy_(_t(Wh))
        m.b.copy_(_t(b))
    return m


def _embedding_to_torch(layer):
    (W,) = layer.params[:1]
    V, D = np.shape(W)
    m = nn.Embedding(V, D, dtype=_torch_dtype(W))
    with torch.no_grad():
        m.weight.copy_(_t(W))
    return m


def _affine_to_torch(layer):
    W = layer.params[0]
    b = layer.params[1] if len(layer.params) > 1 else None
    D, V = np.shape(W)
    m = nn.Linear(D, V, bias=b is not None, dtype=_torch_dtype(W))
    with torch.no_grad():
        m.weight.copy_(_t(np.asarray(W).T))
        if b is not None:
            m.bias.copy_(_t(b))
    return m


def _dropout_to_torch(layer):
    return nn.Dropout(float(layer.dropout_ratio))


def _layer_to_torch(layer):
    kind = _kind(layer)
    if kind in ("TimeRNN", "TimeLSTM", "TimeGRU"):
        _check_hidden(layer, np.shape(layer.params[1])[0])  # the gate count needs H >= 1
        G = _gate_count(layer)
        return {1: _rnn_to_torch, 4: _lstm_to_torch, 3: _gru_to_torch}[G](layer)
    convert = {"TimeEmbedding": _embedding_to_torch, "TimeAffine": _affine_to_torch,
               "TimeDropout": _dropout_to_torch}.get(kind)
    if convert is None:
        raise TypeError("to_torch: no torch counterpart for %s (TimeRNN, TimeLSTM, TimeGRU, "
                        "TimeEmbedding, TimeAffine, TimeDropout and the language models "
                        "built from them convert)" % kind)
    return convert(layer)


# --------------------------------------------------------------------------
# the language models
# --------------------------------------------------------------------------

class LanguageModel(nn.Module):
    """The book's language models (SimpleRnnlm, Rnnlm, BetterRnnlm, ...) in torch.

    ``layers``: an nn.ModuleList of nn.Embedding, nn.RNN / nn.LSTM / BookGRU,
    nn.Dropout and a last nn.Linear, in the order of the book's model;
    ``tied``: the Linear layer uses the embedding's weight (weight tying).
    forward(xs (N, T) int, ts=None) -> the loss (mean cross-entropy over labels
    that are not -1) or the scores (N, T, V). ``stateful``: the recurrent
    states are carried (detached) between calls, as the book's stateful
    layers; reset_state() forgets them.
    """

    def __init__(self, layers, tied=False, stateful=True):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.tied = tied
        if tied:
            self.layers[-1].weight = self.layers[0].weight
        self.stateful = stateful
        self._states = {}

    def reset_state(self):
        self._states = {}

    def predict(self, xs):
        x = torch.as_tensor(np.asarray(xs) if not torch.is_tensor(xs) else xs).long()
        for i, layer in enumerate(self.layers):
            if isinstance(layer, (nn.RNN, nn.LSTM, BookGRU)):
                state = self._states.get(i) if self.stateful else None
                x, state = layer(x, state)
                if self.stateful:
                    self._states[i] = (tuple(s.detach() for s in state)
                                       if isinstance(state, tuple) else state.detach())
            else:
                x = layer(x)
        return x

    def forward(self, xs, ts=None):
        scores = self.predict(xs)
        if ts is None:
            return scores
        ts = torch.as_tensor(np.asarray(ts) if not torch.is_tensor(ts) else ts).long()
        return nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]),
                                           ts.reshape(-1), ignore_index=-1)


def _is_tied(model):
    embed, affine = model.layers[0], model.layers[-1]
    if _kind(embed) != "TimeEmbedding" or _kind(affine) != "TimeAffine":
        return False
    E, W = np.asarray(embed.params[0]), np.asarray(affine.params[0])
    return (W.shape == E.T.shape and np.shares_memory(W, E)
            and W.__array_interface__["data"][0] == E.__array_interface__["data"][0])


def _model_to_torch(model):
    layers = list(model.layers)
    if not layers or _kind(layers[0]) != "TimeEmbedding" or _kind(layers[-1]) != "TimeAffine":
        raise TypeError("to_torch: a model converts when its layers run from a TimeEmbedding "
                        "to a TimeAffine (the book's language models); got %s"
                        % [_kind(l) for l in layers])
    loss = getattr(model, "loss_layer", None)
    if loss is not None and _kind(loss) != "TimeSoftmaxWithLoss":
        raise TypeError("to_torch: the model's loss_layer must be a TimeSoftmaxWithLoss, got %s"
                        % _kind(loss))
    tied = _is_tied(model)
    mods = [_layer_to_torch(l) for l in layers]
    recurrent = [l for l in layers if _kind(l) in ("TimeRNN", "TimeLSTM", "TimeGRU")]
    stateful = all(getattr(l, "stateful", False) for l in recurrent) if recurrent else False
    net = LanguageModel(mods, tied=tied, stateful=stateful)
    net.book_class = type(model).__name__
    return net


def to_torch(obj):
    """The torch counterpart of a layer or a language model (weights copied).

    TimeRNN -> nn.RNN, TimeLSTM -> nn.LSTM, TimeGRU -> BookGRU, TimeEmbedding
    -> nn.Embedding, TimeAffine -> nn.Linear, TimeDropout -> nn.Dropout, and a
    model with ``layers`` and ``loss_layer`` (SimpleRnnlm, Rnnlm, BetterRnnlm,
    yours built the same way) -> LanguageModel. Works for rnnscratch's
    classes, the NumPy reference and the book's own ones. Recurrent modules
    are batch first, like the book's (N, T, D).
    """
    if hasattr(obj, "loss_layer") and isinstance(getattr(obj, "layers", None), (list, tuple)):
        return _model_to_torch(obj)
    if not hasattr(obj, "params"):
        raise TypeError("to_torch: expected one of the book's layers or models, got %s"
                        % type(obj).__name__)
    return _layer_to_torch(obj)


# --------------------------------------------------------------------------
# back from torch
# --------------------------------------------------------------------------

def _ours(name):
    """The compiled class rnnscratch exports under the book's name."""
    import rnnscratch

    return getattr(rnnscratch, name)


def _check_recurrent(m, what):
    if m.num_layers != 1 or m.bidirectional:
        raise ValueError("module: one layer, one direction converts to a %s; got num_layers=%d, "
                         "bidirectional=%s (convert nn.%s layer by layer)"
                         % (what, m.num_layers, m.bidirectional, type(m).__name__))
    if getattr(m, "proj_size", 0):
        raise ValueError("module: nn.LSTM with proj_size=%d has no book counterpart" % m.proj_size)


def _bias(m):
    if not m.bias:
        return None
    return _np(m.bias_ih_l0) + _np(m.bias_hh_l0)


def _rnn_from_torch(m, stateful):
    _check_recurrent(m, "TimeRNN")
    import rnnscratch

    Wx, Wh = _np(m.weight_ih_l0).T.copy(), _np(m.weight_hh_l0).T.copy()
    return rnnscratch.TimeRNN(Wx, Wh, _bias(m), stateful=stateful, activation=m.nonlinearity)


def _lstm_from_torch(m, stateful):
    _check_recurrent(m, "TimeLSTM")
    Wx = lstm_from_torch_order(_np(m.weight_ih_l0).T, axis=1)
    Wh = lstm_from_torch_order(_np(m.weight_hh_l0).T, axis=1)
    b = _bias(m)
    if b is None:
        b = np.zeros(Wx.shape[1], dtype=Wx.dtype)
    b = lstm_from_torch_order(b, axis=0)
    return _ours("TimeLSTM")(np.ascontiguousarray(Wx), np.ascontiguousarray(Wh),
                             np.ascontiguousarray(b), stateful=stateful)


def _gru_from_torch(m, stateful):
    return _ours("TimeGRU")(_np(m.Wx), _np(m.Wh), _np(m.b), stateful=stateful)


def _module_to_layer(m, stateful=False):
    import rnnscratch

    if isinstance(m, nn.RNN):
        return _rnn_from_torch(m, stateful)
    if isinstance(m, nn.LSTM):
        return _lstm_from_torch(m, stateful)
    if isinstance(m, BookGRU):
        return _gru_from_torch(m, stateful)
    if isinstance(m, nn.GRU):
        raise TypeError("from_torch: nn.GRU is not the book's GRU (torch applies the reset gate "
                        "after the recurrent product); train a torch_bridge.BookGRU instead")
    if isinstance(m, nn.Embedding):
        return rnnscratch.TimeEmbedding(_np(m.weight))
    if isinstance(m, nn.Linear):
        b = _np(m.bias) if m.bias is not None else None
        return rnnscratch.TimeAffine(np.ascontiguousarray(_np(m.weight).T), b)
    if isinstance(m, nn.Dropout):
        return _ours("TimeDropout")(m.p)
    raise TypeError("from_torch: no book counterpart for %s (nn.RNN, nn.LSTM, BookGRU, "
                    "nn.Embedding, nn.Linear, nn.Dropout and LanguageModel convert)"
                    % type(m).__name__)


class _LayeredLM:
    """A language model in the book's form, built from converted layers:
    ``layers``, ``loss_layer``, ``params``/``grads`` (shared weights once),
    predict(xs, train_flg=False), forward(xs, ts, train_flg=True),
    backward(dout=1), reset_state()."""

    def __init__(self, layers, tied):
        self.layers = layers
        self.loss_layer = _ours("TimeSoftmaxWithLoss")()
        self.params, self.grads = [], []
        for layer in layers:
            self.params += layer.params
            self.grads += layer.grads

    def predict(self, xs, train_flg=False):
        for layer in self.layers:
            if hasattr(layer, "train_flg"):
                layer.train_flg = train_flg
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def forward(self, xs, ts, train_flg=True):
        return self.loss_layer.forward(self.predict(xs, train_flg), ts)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def reset_state(self):
        for layer in self.layers:
            if hasattr(layer, "reset_state"):
                layer.reset_state()


def _model_from_torch(net):
    import rnnscratch

    mods = list(net.layers)
    kinds = [type(m).__name__ for m in mods]
    stateful = net.stateful
    if kinds == ["Embedding", "RNN", "Linear"] and not net.tied:
        emb, rnn, lin = mods
        _check_recurrent(rnn, "TimeRNN")
        if rnn.nonlinearity == "tanh" and rnn.bias and lin.bias is not None:
            V, D = emb.weight.shape
            state = np.random.get_state()  # building it draws weights we overwrite
            try:
                model = rnnscratch.SimpleRnnlm(V, D, rnn.hidden_size)
            finally:
                np.random.set_state(state)
            layer = _rnn_from_torch(rnn, True)
            values = [_np(emb.weight)] + list(layer.params) + [_np(lin.weight).T, _np(lin.bias)]
            for p, v in zip(model.params, values):
                p[...] = v
            return model
    layers = [_module_to_layer(m, stateful) for m in mods]
    if net.tied:
        # TimeAffine(embed_W.T): the same memory, as the book's BetterRnnlm
        E = layers[0].params[0]
        b = layers[-1].params[1] if len(layers[-1].params) > 1 else None
        layers[-1] = rnnscratch.TimeAffine(E.T, b)
    return _LayeredLM(layers, net.tied)


def from_torch(module, stateful=False):
    """Our layer or model for a torch module (weights copied).

    nn.RNN -> rnnscratch.TimeRNN; nn.LSTM -> TimeLSTM (torch's gate order
    turned into the book's, bias_ih + bias_hh as b); BookGRU -> TimeGRU;
    nn.Embedding, nn.Linear, nn.Dropout -> TimeEmbedding, TimeAffine,
    TimeDropout; LanguageModel -> SimpleRnnlm (embedding, tanh RNN, linear),
    otherwise a model of the book's form built from the converted layers.
    Gated layers are rnnscratch's compiled class when the package has it,
    else its NumPy reference twin. nn.GRU is refused (not the book's GRU).
    ``stateful`` applies to a single recurrent layer.
    """
    if isinstance(module, LanguageModel):
        return _model_from_torch(module)
    if not isinstance(module, nn.Module):
        raise TypeError("from_torch: expected a torch.nn.Module, got %s" % type(module).__name__)
    return _module_to_layer(module, stateful)
