"""rnnscratch.torch_bridge: to_torch / from_torch give the same outputs and gradients."""
import os
import sys

import numpy as np
import pytest

import needs
from needs import course_dir

torch = needs.torch()

import rnnscratch  # noqa: E402
from rnnscratch import reference  # noqa: E402
from rnnscratch.torch_bridge import (BookGRU, LanguageModel, from_torch,  # noqa: E402
                                     lstm_from_torch_order, lstm_to_torch_order, to_torch)

torch.manual_seed(0)


def close(a, b, rtol=1e-9, atol=1e-9):
    a = a.detach().numpy() if torch.is_tensor(a) else np.asarray(a)
    b = b.detach().numpy() if torch.is_tensor(b) else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _weights(rng, D, H, G, dtype=np.float64):
    return (rng.standard_normal((D, G * H)).astype(dtype) / np.sqrt(D),
            rng.standard_normal((H, G * H)).astype(dtype) / np.sqrt(H),
            rng.standard_normal(G * H).astype(dtype) * 0.1)


def _run_torch(module, xs, dhs):
    x = torch.tensor(xs, requires_grad=True)
    out = module(x)
    hs = out[0] if isinstance(out, tuple) else out
    (hs * torch.tensor(dhs)).sum().backward()
    return hs, x.grad


def test_lstm_gate_order_helpers():
    H = 2
    book = np.concatenate([np.full(H, k) for k in (1, 2, 3, 4)])  # f g i o
    np.testing.assert_array_equal(lstm_to_torch_order(book), [3, 3, 1, 1, 2, 2, 4, 4])
    np.testing.assert_array_equal(lstm_from_torch_order(lstm_to_torch_order(book)), book)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_time_rnn_to_nn_rnn(activation):
    rng = np.random.default_rng(1)
    N, T, D, H = 3, 5, 4, 6
    Wx, Wh, b = _weights(rng, D, H, 1)
    xs, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    layer = rnnscratch.TimeRNN(Wx, Wh, b, activation=activation)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)
    m = to_torch(layer)
    assert isinstance(m, torch.nn.RNN) and m.batch_first and m.nonlinearity == activation
    ths, tdx = _run_torch(m, xs, dhs)
    close(ths, hs)
    close(tdx, dxs)
    close(m.weight_ih_l0.grad.T, layer.grads[0])
    close(m.weight_hh_l0.grad.T, layer.grads[1])
    close(m.bias_ih_l0.grad, layer.grads[2])
    # the weights were copied, not shared
    with torch.no_grad():
        m.weight_ih_l0.zero_()
    assert np.any(layer.params[0] != 0)


def test_nn_rnn_to_time_rnn_float32():
    m = torch.nn.RNN(4, 5, batch_first=True)          # float32, both biases non-zero
    layer = from_torch(m, stateful=True)
    assert isinstance(layer, rnnscratch.TimeRNN) and layer.stateful
    assert layer.params[0].dtype == np.float32
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((2, 3, 4)).astype(np.float32)
    dhs = rng.standard_normal((2, 3, 5)).astype(np.float32)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)
    ths, tdx = _run_torch(m, xs, dhs)
    close(ths, hs, rtol=1e-5, atol=1e-6)
    close(tdx, dxs, rtol=1e-5, atol=1e-6)
    close(m.bias_hh_l0.grad, layer.grads[2], rtol=1e-5, atol=1e-6)


def test_rnn_conversion_errors():
    with pytest.raises(ValueError, match="no 'sigmoid' activation"):
        to_torch(rnnscratch.TimeRNN(np.zeros((2, 3)), np.zeros((3, 3)), np.zeros(3),
                                    activation="sigmoid"))
    with pytest.raises(ValueError, match="num_layers=2"):
        from_torch(torch.nn.RNN(2, 3, num_layers=2))
    with pytest.raises(TypeError, match="nn.GRU is not the book's GRU"):
        from_torch(torch.nn.GRU(2, 3))
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        from_torch(object())
    with pytest.raises(TypeError, match="no torch counterpart for TimeSoftmaxWithLoss"):
        to_torch(rnnscratch.TimeSoftmaxWithLoss())


def _time_lstm():
    return getattr(rnnscratch, "TimeLSTM", None) or reference.TimeLSTM


def test_time_lstm_to_nn_lstm_and_back():
    rng = np.random.default_rng(3)
    N, T, D, H = 2, 4, 3, 5
    Wx, Wh, b = _weights(rng, D, H, 4)
    xs, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    layer = _time_lstm()(Wx, Wh, b)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)
    m = to_torch(layer)
    assert isinstance(m, torch.nn.LSTM)
    ths, tdx = _run_torch(m, xs, dhs)
    close(ths, hs)
    close(tdx, dxs)
    close(lstm_from_torch_order(m.weight_ih_l0.grad.numpy().T, axis=1), layer.grads[0])
    close(lstm_from_torch_order(m.weight_hh_l0.grad.numpy().T, axis=1), layer.grads[1])
    close(lstm_from_torch_order(m.bias_ih_l0.grad.numpy(), axis=0), layer.grads[2])
    # back: a torch LSTM with both biases, float64
    m2 = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    back = from_torch(m2)
    close(back.forward(xs), m2(torch.tensor(xs))[0])


def test_book_gru_is_exact_and_not_torchs_gru():
    rng = np.random.default_rng(4)
    N, T, D, H = 3, 4, 2, 5
    Wx, Wh, b = _weights(rng, D, H, 3)
    xs, dhs = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    TimeGRU = getattr(rnnscratch, "TimeGRU", None) or reference.TimeGRU
    layer = TimeGRU(Wx, Wh, b)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)
    m = to_torch(layer)
    assert isinstance(m, BookGRU)
    ths, tdx = _run_torch(m, xs, dhs)
    close(ths, hs)
    close(tdx, dxs)
    for p, g in zip((m.Wx, m.Wh, m.b), layer.grads):
        close(p.grad, g)
    back = from_torch(m)
    close(back.forward(xs), hs)
    # torch's GRU with the same blocks computes something else
    g = torch.nn.GRU(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        z, r, n = (slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H))
        g.weight_ih_l0.copy_(torch.tensor(np.concatenate([Wx[:, r], Wx[:, z], Wx[:, n]], 1).T))
        g.weight_hh_l0.copy_(torch.tensor(np.concatenate([Wh[:, r], Wh[:, z], Wh[:, n]], 1).T))
    assert not np.allclose(g(torch.tensor(xs))[0].detach().numpy(), hs, atol=1e-3)


def _lm_batches(rng, V, N=4, T=5):
    return [(rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))) for _ in range(2)]


def test_simple_rnnlm_to_torch_same_losses_and_gradients():
    np.random.seed(5)
    V, D, H = 30, 8, 7
    model = rnnscratch.SimpleRnnlm(V, D, H)
    net = to_torch(model)
    assert isinstance(net, LanguageModel) and net.stateful and not net.tied
    rng = np.random.default_rng(6)
    for xs, ts in _lm_batches(rng, V):      # two batches: the state is carried
        ts[0, 0] = -1                       # ignore_label
        loss = model.forward(xs, ts)
        model.backward()
        net.zero_grad()
        tloss = net(xs, ts)
        tloss.backward()
        close(tloss, loss, rtol=1e-5)
        emb, rnn, lin = net.layers
        torch_grads = [emb.weight.grad, rnn.weight_ih_l0.grad.T, rnn.weight_hh_l0.grad.T,
                       rnn.bias_ih_l0.grad, lin.weight.grad.T, lin.bias.grad]
        for g, t in zip(model.grads, torch_grads):
            close(t, g, rtol=2e-4, atol=2e-6)
    model.reset_state()
    net.reset_state()
    xs, ts = _lm_batches(rng, V)[0]
    close(net(xs, ts), model.forward(xs, ts), rtol=1e-5)


def test_language_model_back_to_simple_rnnlm():
    torch.manual_seed(1)
    V, D, H = 20, 6, 5
    net = LanguageModel([torch.nn.Embedding(V, D), torch.nn.RNN(D, H, batch_first=True),
                         torch.nn.Linear(H, V)])
    state = np.random.get_state()
    model = from_torch(net)
    assert type(model) is rnnscratch.SimpleRnnlm
    assert np.all(np.random.get_state()[1] == state[1])   # the global generator is untouched
    rng = np.random.default_rng(7)
    for xs, ts in _lm_batches(rng, V):
        close(model.forward(xs, ts), net(xs, ts), rtol=1e-5)


def test_chapter6_shapes_lstm_and_tied_dropout_models():
    torch.manual_seed(2)
    V, H = 25, 6
    rng = np.random.default_rng(8)
    # Rnnlm: embedding, LSTM, linear
    net = LanguageModel([torch.nn.Embedding(V, H), torch.nn.LSTM(H, H, batch_first=True),
                         torch.nn.Linear(H, V)])
    model = from_torch(net)
    for xs, ts in _lm_batches(rng, V):
        close(model.forward(xs, ts), net(xs, ts), rtol=1e-5)
    # BetterRnnlm: dropout, two LSTMs, weight tying; in eval mode (no dropout)
    net = LanguageModel([torch.nn.Embedding(V, H), torch.nn.Dropout(0.5),
                         torch.nn.LSTM(H, H, batch_first=True), torch.nn.Dropout(0.5),
                         torch.nn.LSTM(H, H, batch_first=True), torch.nn.Dropout(0.5),
                         torch.nn.Linear(H, V)], tied=True)
    net.eval()
    model = from_torch(net)
    E, W = model.layers[0].params[0], model.layers[-1].params[0]
    assert np.shares_memory(E, W) and W.shape == E.T.shape
    xs, ts = _lm_batches(rng, V)[0]
    loss = model.forward(xs, ts, train_flg=False)
    model.backward()
    tloss = net(xs, ts)
    tloss.backward()
    close(tloss, loss, rtol=1e-5)
    # the tied weight's gradient: the embedding's and the affine's, added
    close(net.layers[0].weight.grad, model.grads[0] + model.grads[-2].T, rtol=1e-4, atol=1e-6)
    # and to torch again: tying survives
    again = to_torch(model)
    assert again.tied and again.layers[-1].weight is again.layers[0].weight


def test_the_books_better_rnnlm_to_torch():
    from rnnscratch.tools import course

    better_rnnlm = course.load(course_dir("ch06", "better_rnnlm.py"), "ch06.better_rnnlm").better_rnnlm
    np.random.seed(9)
    # dropout 0: the same masks (all ones) on both sides; the book's TimeDropout
    # cannot run backward with train_flg=False
    model = better_rnnlm.BetterRnnlm(vocab_size=30, wordvec_size=8, hidden_size=8,
                                     dropout_ratio=0.0)
    net = to_torch(model)
    assert net.tied and net.stateful and net.book_class == "BetterRnnlm"
    rng = np.random.default_rng(10)
    for xs, ts in _lm_batches(rng, 30):
        loss = model.forward(xs, ts)
        model.backward()
        net.zero_grad()
        tloss = net(xs, ts)
        tloss.backward()
        close(tloss, loss, rtol=1e-5)
        lstm = net.layers[2]
        close(lstm_from_torch_order(lstm.weight_ih_l0.grad.numpy().T, axis=1),
              model.grads[1], rtol=1e-3, atol=1e-6)
