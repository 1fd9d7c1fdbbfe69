"""Rnnlm, the chapter-6 LSTM language model (the book's ch06/rnnlm.py).

TimeEmbedding -> TimeLSTM(stateful) -> TimeAffine -> TimeSoftmaxWithLoss,
float32, weights drawn from np.random.randn with the book's scales, in the
book's order. One composition (RnnlmModel) over a namespace of layer
classes: rnnscratch.Rnnlm uses the compiled layers (fused output head),
rnnscratch.models.reference.Rnnlm the NumPy twins.
"""
import numpy as np

from .base import LstmLmBase, compiled_layers

__all__ = ["Rnnlm", "RnnlmModel"]


class RnnlmModel(LstmLmBase):
    """Rnnlm(vocab_size=10000, wordvec_size=100, hidden_size=100).

    params / grads: [embed W (V,D), lstm Wx (D,4H), Wh (H,4H), b (4H,),
    affine W (H,V), b (V,)]. Initial weights: embed randn/100, Wx randn/sqrt(D),
    Wh randn/sqrt(H), affine W randn/sqrt(H), biases 0 (drawn in that order).
    predict(xs (N,T) ids, train_flg=False) -> scores (N,T,V);
    forward(xs, ts, train_flg=True) -> loss (train_flg: no dropout here, kept
    for the book's eval_perplexity); backward(dout=1); reset_state();
    save_params / load_params (the book's format); lstm_layer.
    """

    def __init__(self, vocab_size=10000, wordvec_size=100, hidden_size=100):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        embed_W = (rn(V, D) / 100).astype("f")
        lstm_Wx = (rn(D, 4 * H) / np.sqrt(D)).astype("f")
        lstm_Wh = (rn(H, 4 * H) / np.sqrt(H)).astype("f")
        lstm_b = np.zeros(4 * H).astype("f")
        affine_W = (rn(H, V) / np.sqrt(H)).astype("f")
        affine_b = np.zeros(V).astype("f")

        L = self._layers()
        layers = [
            L.TimeEmbedding(embed_W),
            L.TimeLSTM(lstm_Wx, lstm_Wh, lstm_b, stateful=True),
            L.TimeAffine(affine_W, affine_b),
        ]
        self.lstm_layer = layers[1]
        self._assemble(layers, [layers[1]], [], tied=False)


class Rnnlm(RnnlmModel):
    __doc__ = RnnlmModel.__doc__ + """
    Built from the compiled layers (rnnscratch.layers); forward() runs the
    output head fused.
    """
    _layers = staticmethod(compiled_layers)
