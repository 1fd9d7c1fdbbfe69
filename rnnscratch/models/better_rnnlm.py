"""BetterRnnlm, the chapter-6 improved language model (the book's
ch06/better_rnnlm.py): two stateful LSTM layers, dropout before, between and
after them, and the output affine tied to the embedding (W = embed_W.T).

One composition (BetterRnnlmModel) over a namespace of layer classes:
rnnscratch.BetterRnnlm uses the compiled layers (fused, tied output head),
rnnscratch.models.reference.BetterRnnlm the NumPy twins.
"""
import numpy as np

from .base import LstmLmBase, compiled_layers

__all__ = ["BetterRnnlm", "BetterRnnlmModel"]


class BetterRnnlmModel(LstmLmBase):
    """BetterRnnlm(vocab_size=10000, wordvec_size=650, hidden_size=650,
    dropout_ratio=0.5).

    layers: TimeEmbedding, TimeDropout, TimeLSTM, TimeDropout, TimeLSTM,
    TimeDropout, TimeAffine(embed_W.T, b); lstm_layers, drop_layers.
    params / grads: [embed W (V,D), Wx1 (D,4H), Wh1 (H,4H), b1 (4H,),
    Wx2 (H,4H), Wh2 (H,4H), b2 (4H,), affine W = embed_W.T (D,V), b (V,)]
    (weight tying needs D == H). Initial weights drawn in that order with the
    book's scales (embed randn/100, Wx randn/sqrt(fan-in), Wh randn/sqrt(H),
    biases 0). After backward() grads[0] holds the whole gradient of the tied
    matrix and grads[7] is zero (see LstmLmBase).
    predict(xs, train_flg=False) -> scores; forward(xs, ts, train_flg=True)
    -> loss (dropout masks from np.random.rand, as the book); backward(dout=1);
    reset_state(); save_params / load_params (the book's format).
    """

    def __init__(self, vocab_size=10000, wordvec_size=650, hidden_size=650,
                 dropout_ratio=0.5):
        V, D, H = vocab_size, wordvec_size, hidden_size
        if D != H:
            raise ValueError(f"wordvec_size: weight tying needs wordvec_size == hidden_size, "
                             f"got wordvec_size={D}, hidden_size={H}")
        rn = np.random.randn
        embed_W = (rn(V, D) / 100).astype("f")
        lstm_Wx1 = (rn(D, 4 * H) / np.sqrt(D)).astype("f")
        lstm_Wh1 = (rn(H, 4 * H) / np.sqrt(H)).astype("f")
        lstm_b1 = np.zeros(4 * H).astype("f")
        lstm_Wx2 = (rn(H, 4 * H) / np.sqrt(H)).astype("f")
        lstm_Wh2 = (rn(H, 4 * H) / np.sqrt(H)).astype("f")
        lstm_b2 = np.zeros(4 * H).astype("f")
        affine_b = np.zeros(V).astype("f")

        L = self._layers()
        layers = [
            L.TimeEmbedding(embed_W),
            L.TimeDropout(dropout_ratio),
            L.TimeLSTM(lstm_Wx1, lstm_Wh1, lstm_b1, stateful=True),
            L.TimeDropout(dropout_ratio),
            L.TimeLSTM(lstm_Wx2, lstm_Wh2, lstm_b2, stateful=True),
            L.TimeDropout(dropout_ratio),
            L.TimeAffine(embed_W.T, affine_b),  # weight tying
        ]
        self.lstm_layers = [layers[2], layers[4]]
        self._assemble(layers, self.lstm_layers, [layers[1], layers[3], layers[5]], tied=True)


class BetterRnnlm(BetterRnnlmModel):
    __doc__ = BetterRnnlmModel.__doc__ + """
    Built from the compiled layers (rnnscratch.layers); forward() runs the
    tied output head fused.
    """
    _layers = staticmethod(compiled_layers)
