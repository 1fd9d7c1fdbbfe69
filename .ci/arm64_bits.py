"""Fingerprints of kernel results on one SIMD path, for comparing bits across
machines (the arm64 lane compares NEON under emulation with this machine's
AVX2): one line per result, "name dtype sha256-of-the-bytes".

    python3 arm64_bits.py PACKAGE_DIR PATH      (PACKAGE_DIR "" = as installed)

Inputs are made with integer arithmetic only (no random generator, whose
streams could differ between NumPy versions), so both sides compute on the
same numbers. Covered: the gemm (plain, packed, transposed operands, edge
tiles, several k blocks), tanh/sigmoid/relu recurrences, LSTM/GRU forward and
backward (gate epilogues), the softmax cross-entropy head, attention.
"""
import hashlib
import sys

if len(sys.argv) != 3:
    sys.exit("usage: arm64_bits.py PACKAGE_DIR PATH")
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])

import numpy as np  # noqa: E402

import rnnscratch  # noqa: E402
from rnnscratch import _core  # noqa: E402

_core.set_simd_path(sys.argv[2])
rnnscratch.set_num_threads(2)
_seed = [12345]


def data(shape, dtype, scale=1.0):
    """Deterministic values in [-scale, scale): a 32-bit LCG, exact in float64."""
    n = int(np.prod(shape))
    k = np.arange(n, dtype=np.uint64) + np.uint64(_seed[0])
    _seed[0] += n
    u = (k * np.uint64(2654435761) + np.uint64(40503)) % np.uint64(2 ** 32)
    x = (u.astype(np.float64) / 2.0 ** 32 - 0.5) * (2 * scale)
    return x.reshape(shape).astype(dtype)


def out(name, *arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    print("%-28s %-8s %s" % (name, arrays[0].dtype, h.hexdigest()[:32]))


for dt in (np.float32, np.float64):
    for (M, N, K) in [(7, 13, 5), (20, 650, 650), (70, 33, 300), (6, 16, 1000), (130, 200, 70)]:
        a, b = data((M, K), dt), data((K, N), dt)
        out("matmul %dx%dx%d" % (M, N, K), _core.matmul(a, b))
        out("matmul packed %dx%dx%d" % (M, N, K), _core.matmul(a, b, packed=True))
        out("matmul aT bT %dx%dx%d" % (M, N, K),
            _core.matmul(np.asfortranarray(a), np.asfortranarray(b)))
    N, T, D, H = 5, 7, 19, 23
    xs = data((N, T, D), dt)
    for act in ("tanh", "sigmoid", "relu"):  # the activation kernels, both branches of each
        layer = rnnscratch.TimeRNN(data((D, H), dt, 0.3), data((H, H), dt, 0.3),
                                   data((H,), dt, 0.1), activation=act)
        hs = layer.forward(xs * 8)
        dxs = layer.backward(data((N, T, H), dt))
        out("TimeRNN " + act, hs, dxs, *layer.grads)
    layer = rnnscratch.TimeLSTM(data((D, 4 * H), dt, 0.3), data((H, 4 * H), dt, 0.3),
                                data((4 * H,), dt, 0.1))
    hs = layer.forward(xs * 4)
    dxs = layer.backward(data((N, T, H), dt))
    out("TimeLSTM", hs, dxs, *layer.grads)
    layer = rnnscratch.TimeGRU(data((D, 3 * H), dt, 0.3), data((H, 3 * H), dt, 0.3),
                               data((3 * H,), dt, 0.1))
    hs = layer.forward(xs * 4)
    dxs = layer.backward(data((N, T, H), dt))
    out("TimeGRU", hs, dxs, *layer.grads)
    V = 37
    loss, dscore = _core.affine_softmax_cross_entropy(
        data((N, T, H), dt), data((H, V), dt), (np.arange(N * T) * 7 % V).reshape(N, T),
        data((V,), dt))
    out("affine softmax CE", np.asarray(loss, dtype=dt), dscore)
    att = rnnscratch.TimeAttention()
    hs_enc, hs_dec = data((N, 9, H), dt), data((N, T, H), dt)
    c = att.forward(hs_enc, hs_dec)
    denc, ddec = att.backward(data((N, T, H), dt))
    out("TimeAttention", c, denc, ddec)
