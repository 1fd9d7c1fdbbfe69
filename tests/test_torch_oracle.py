"""PyTorch as an independent oracle for TimeRNN (forward, BPTT, every gradient).

torch.nn.RNN computes h_t = f(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), so with
W_ih = Wxᵀ, W_hh = Whᵀ, b_ih = b, b_hh = 0 it is our TimeRNN. CI installs
torch==2.13.0 (CPU); the package itself never needs it.
"""
import numpy as np
import pytest

import needs

import rnnscratch

torch = needs.torch()


def torch_rnn(Wx, Wh, b, activation):
    D, H = Wx.shape
    rnn = torch.nn.RNN(D, H, batch_first=True, nonlinearity=activation).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(Wx.T.copy()))
        rnn.weight_hh_l0.copy_(torch.from_numpy(Wh.T.copy()))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    return rnn


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("N,T,D,H", [(1, 1, 1, 1), (3, 7, 5, 4), (8, 20, 33, 17), (16, 35, 100, 100)])
def test_time_rnn_matches_torch(N, T, D, H, activation):
    rng = np.random.default_rng(N * 1000 + T * 10 + D)
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, H)) * 0.5 / np.sqrt(H)
    b = rng.standard_normal(H) * 0.1
    xs = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    dhs = rng.standard_normal((N, T, H))

    layer = rnnscratch.TimeRNN(Wx, Wh, b, stateful=True, activation=activation)
    layer.set_state(h0)
    hs = layer.forward(xs)
    dxs = layer.backward(dhs)

    rnn = torch_rnn(Wx, Wh, b, activation)
    x = torch.from_numpy(xs).requires_grad_(True)
    h = torch.from_numpy(h0[None]).requires_grad_(True)
    out, _ = rnn(x, h)
    out.backward(torch.from_numpy(dhs))

    def close(ours, theirs):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)

    close(hs, out)
    close(dxs, x.grad)
    close(layer.dh, h.grad[0])
    close(layer.grads[0], rnn.weight_ih_l0.grad.T)
    close(layer.grads[1], rnn.weight_hh_l0.grad.T)
    close(layer.grads[2], rnn.bias_ih_l0.grad)
