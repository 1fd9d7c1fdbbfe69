"""Our gemm kernels vs the CBLAS backend, side by side (interleaved in one
run), on chapter-6 shapes. Needs a CBLAS build (RNNSCRATCH_BLAS=openblas):

    RNNSCRATCH_BLAS=openblas python setup.py build_ext --inplace
    python notes/bench-arm-blas.py [repeats]

Each row: the median of `repeats` timings of each backend, the two measured
alternately so that load from other processes hits both alike.
"""
import sys
import time

import numpy as np

import rnnscratch
from rnnscratch import _core

if _core.blas == "none":
    sys.exit("bench-arm-blas: this build has no CBLAS backend (RNNSCRATCH_BLAS=openblas)")
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
rng = np.random.default_rng(0)
f32 = np.float32


def r(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(f32)


N, T, D, H, V = 20, 35, 650, 650, 10000
xs, Wx = r(N * T, D), r(D, 4 * H, scale=0.04)
dA = r(N * T, 4 * H)
X, W, b = r(N, T, H), r(H, V, scale=0.04), r(V, scale=0.1)
ts = rng.integers(0, V, (N, T))
dout = r(N * T, V, scale=1e-4)
lstm_w = (r(D, 4 * H, scale=0.04), r(H, 4 * H, scale=0.04), r(4 * H, scale=0.1))
lstm_x, lstm_dh = r(N, T, D), r(N, T, H)


def lstm_step():
    layer = rnnscratch.TimeLSTM(*lstm_w)
    layer.forward(lstm_x)
    layer.backward(lstm_dh)


cases = [
    ("xs.Wx      700x2600x650 (LSTM fwd, all steps)", 2 * 700 * 2600 * 650,
     lambda: _core.matmul(xs, Wx)),
    ("xs^T.dA    650x2600x700 (LSTM dWx)", 2 * 650 * 2600 * 700,
     lambda: _core.matmul(xs.T, dA)),
    ("dA.Wx^T    700x650x2600 (LSTM dxs)", 2 * 700 * 650 * 2600,
     lambda: _core.matmul(dA, Wx.T)),
    ("TimeLSTM(20,35,650,650) fwd+bwd", None, lstm_step),
    ("head fwd   700x10000x650 + softmax CE", 2 * 700 * 10000 * 650,
     lambda: _core.affine_softmax_cross_entropy(X, W, ts, b)),
    ("head dW    650x10000x700", 2 * 650 * 10000 * 700,
     lambda: _core.matmul(X.reshape(-1, H).T, dout)),
    ("head dx    700x650x10000", 2 * 700 * 650 * 10000,
     lambda: _core.matmul(dout, W.T)),
]

print("rnnscratch gemm backends, float32, %d threads, SIMD path %s, median of %d, "
      "interleaved" % (rnnscratch.get_num_threads(), _core.get_simd_path(), reps))
print("CBLAS: %s (products >= %.3g flops)" % (_core.blas, _core.blas_min_flops))
print("%-44s %12s %12s %8s" % ("", "ours ms", "CBLAS ms", "ours/CBLAS"))
before = _core._set_blas(True)
try:
    for name, flops, fn in cases:
        t = {False: [], True: []}
        for on in (False, True):   # warm-up
            _core._set_blas(on)
            fn()
        for _ in range(reps):
            for on in (False, True):
                _core._set_blas(on)
                t0 = time.perf_counter()
                fn()
                t[on].append(time.perf_counter() - t0)
        a, c = np.median(t[False]), np.median(t[True])
        rate = ("  (%.0f / %.0f GFLOP/s)" % (flops / a * 1e-9, flops / c * 1e-9)) if flops else ""
        print("%-44s %12.1f %12.1f %8.2f%s" % (name, a * 1e3, c * 1e3, a / c, rate))
finally:
    _core._set_blas(before)
