"""The chapter-5 model's composition, shared by the compiled SimpleRnnlm and
its NumPy twin: they differ only in the layer classes they are built from."""
import numpy as np


class RnnlmBase:
    """The chapter-5 language model: TimeEmbedding -> TimeRNN(stateful) ->
    TimeAffine -> TimeSoftmaxWithLoss, float32, weights drawn from
    np.random.randn with the course's scales.

    params / grads: [embed W (V,D), rnn Wx (D,H), Wh (H,H), b (H,), affine W (H,V), b (V,)].
    forward(xs (N,T), ts (N,T)) -> loss; backward(dout=1); reset_state().
    """

    _layer_classes = None  # (Embedding, TimeRNN, Affine, SoftmaxWithLoss) classes, set by subclasses

    def __init__(self, vocab_size=10000, wordvec_size=100, hidden_size=100):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        embed_W = (rn(V, D) / 100).astype("f")
        rnn_Wx = (rn(D, H) / np.sqrt(D)).astype("f")
        rnn_Wh = (rn(H, H) / np.sqrt(H)).astype("f")
        rnn_b = np.zeros(H).astype("f")
        affine_W = (rn(H, V) / np.sqrt(H)).astype("f")
        affine_b = np.zeros(V).astype("f")

        Embedding, RNN, Affine, Loss = self._layer_classes
        self.layers = [
            Embedding(embed_W),
            RNN(rnn_Wx, rnn_Wh, rnn_b, stateful=True),
            Affine(affine_W, affine_b),
        ]
        self.loss_layer = Loss()
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
        saved = [dict(layer.__dict__) for layer in layers]
        try:
            return self.loss_layer.forward(self.predict(xs), ts)
        except BaseException:
            for layer, state in zip(layers, saved):
                layer.__dict__.clear()
                layer.__dict__.update(state)
            raise

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def reset_state(self):
        self.rnn_layer.reset_state()
