"""Type stub of rnnscratch._core, the C kernels.

Shapes: N batch, T time steps, D input features, H hidden units.
Arrays in: any layout and numeric dtype. Compute dtype: float32 when
np.result_type(Wx, Wh, b) is float16/float32, else float64. Arrays out: new,
C-contiguous, compute dtype. Gradient arrays (dWx, dWh, db) are written in
place (any floating dtype and layout), overwritten unless accumulate=True.
"""
from typing import Literal, Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

Activation = Literal["tanh", "relu", "sigmoid"]
compiler: str

def rnn_forward(
    x: ArrayLike,                 # (N, D)
    h_prev: Optional[ArrayLike],  # (N, H) or None = zeros
    Wx: ArrayLike,                # (D, H)
    Wh: ArrayLike,                # (H, H)
    b: Optional[ArrayLike] = ...,  # (H,) or None
    activation: Activation = ...,
) -> NDArray[np.floating]: ...    # h_next (N, H)

def rnn_backward(
    dh_next: ArrayLike,           # (N, H)
    x: ArrayLike,                 # (N, D)
    h_prev: Optional[ArrayLike],  # (N, H) or None = zeros
    h_next: ArrayLike,            # (N, H) forward output
    Wx: ArrayLike,                # (D, H)
    Wh: ArrayLike,                # (H, H)
    dWx: NDArray[np.floating],    # (D, H) written
    dWh: NDArray[np.floating],    # (H, H) written
    db: Optional[NDArray[np.floating]] = ...,  # (H,) written
    activation: Activation = ...,
    accumulate: bool = ...,
    b: Optional[ArrayLike] = ...,  # (H,) the layer's bias: only for the dtype rule
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # dx (N, D), dh_prev (N, H)

def time_rnn_forward(
    xs: ArrayLike,                # (N, T, D)
    h0: Optional[ArrayLike],      # (N, H) or None = zeros
    Wx: ArrayLike,                # (D, H)
    Wh: ArrayLike,                # (H, H)
    b: Optional[ArrayLike] = ...,  # (H,) or None
    activation: Activation = ...,
) -> NDArray[np.floating]: ...    # hs (N, T, H)

def time_rnn_backward(
    dhs: ArrayLike,               # (N, T, H)
    xs: ArrayLike,                # (N, T, D)
    h0: Optional[ArrayLike],      # (N, H) or None = zeros
    hs: ArrayLike,                # (N, T, H) forward output
    Wx: ArrayLike,                # (D, H)
    Wh: ArrayLike,                # (H, H)
    dWx: NDArray[np.floating],    # (D, H) written
    dWh: NDArray[np.floating],    # (H, H) written
    db: Optional[NDArray[np.floating]] = ...,  # (H,) written
    activation: Activation = ...,
    accumulate: bool = ...,
    b: Optional[ArrayLike] = ...,  # (H,) the layer's bias: only for the dtype rule
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # dxs (N, T, D), dh0 (N, H)

# --- gated layers: LSTM (gate blocks f, g, i, o) and GRU (blocks z, r, h~) ---
# LSTM cache (N, [T,] 4H): the activations f, g, i, o of each step.
# GRU cache (N, [T,] 4H): z, r, h~, r*h_prev of each step.
# Gradient arrays: written (accumulate=False) or added to (accumulate=True).
def lstm_forward(
    x: ArrayLike,                 # (N, D)
    h_prev: Optional[ArrayLike],  # (N, H) or None = zeros
    c_prev: Optional[ArrayLike],  # (N, H) or None = zeros
    Wx: ArrayLike,                # (D, 4H)
    Wh: ArrayLike,                # (H, 4H)
    b: Optional[ArrayLike] = ...,  # (4H,) or None
) -> Tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]: ...  # h_next (N, H), c_next (N, H), cache (N, 4H)

def lstm_backward(
    dh_next: ArrayLike,           # (N, H)
    dc_next: Optional[ArrayLike],  # (N, H) or None = zeros
    x: ArrayLike,                 # (N, D)
    h_prev: Optional[ArrayLike],  # (N, H) or None = zeros
    c_prev: Optional[ArrayLike],  # (N, H) or None = zeros
    c_next: ArrayLike,            # (N, H) forward output
    cache: ArrayLike,             # (N, 4H) forward output
    Wx: ArrayLike,                # (D, 4H)
    Wh: ArrayLike,                # (H, 4H)
    dWx: NDArray[np.floating],    # (D, 4H)
    dWh: NDArray[np.floating],    # (H, 4H)
    db: Optional[NDArray[np.floating]] = ...,  # (4H,)
    accumulate: bool = ...,
    b: Optional[ArrayLike] = ...,  # (4H,) the layer's bias: only for the dtype rule
) -> Tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]: ...  # dx (N, D), dh_prev (N, H), dc_prev (N, H)

def time_lstm_forward(
    xs: ArrayLike,                # (N, T, D)
    h0: Optional[ArrayLike],      # (N, H) or None = zeros
    c0: Optional[ArrayLike],      # (N, H) or None = zeros
    Wx: ArrayLike,                # (D, 4H)
    Wh: ArrayLike,                # (H, 4H)
    b: Optional[ArrayLike] = ...,  # (4H,) or None
) -> Tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]: ...  # hs (N, T, H), cs (N, T, H), cache (N, T, 4H)

def time_lstm_backward(
    dhs: ArrayLike,               # (N, T, H) upstream gradient of hs
    dcT: Optional[ArrayLike],     # (N, H) upstream gradient of cs[:, -1], or None = zeros
    xs: ArrayLike,                # (N, T, D)
    h0: Optional[ArrayLike],      # (N, H) or None = zeros
    c0: Optional[ArrayLike],      # (N, H) or None = zeros
    hs: ArrayLike,                # (N, T, H) forward output
    cs: ArrayLike,                # (N, T, H) forward output
    cache: ArrayLike,             # (N, T, 4H) forward output
    Wx: ArrayLike,                # (D, 4H)
    Wh: ArrayLike,                # (H, 4H)
    dWx: NDArray[np.floating],    # (D, 4H)
    dWh: NDArray[np.floating],    # (H, 4H)
    db: Optional[NDArray[np.floating]] = ...,  # (4H,)
    accumulate: bool = ...,
    b: Optional[ArrayLike] = ...,  # (4H,) the layer's bias: only for the dtype rule
) -> Tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]: ...  # dxs (N, T, D), dh0 (N, H), dc0 (N, H)

def gru_forward(
    x: ArrayLike,                 # (N, D)
    h_prev: Optional[ArrayLike],  # (N, H) or None = zeros
    Wx: ArrayLike,                # (D, 3H)
    Wh: ArrayLike,                # (H, 3H)
    b: Optional[ArrayLike] = ...,  # (3H,) or None
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # h_next (N, H), cache (N, 4H)

def gru_backward(
    dh_next: ArrayLike,           # (N, H)
    x: ArrayLike,                 # (N, D)
    h_prev: Optional[ArrayLike],  # (N, H) or None = zeros
    cache: ArrayLike,             # (N, 4H) forward output
    Wx: ArrayLike,                # (D, 3H)
    Wh: ArrayLike,                # (H, 3H)
    dWx: NDArray[np.floating],    # (D, 3H)
    dWh: NDArray[np.floating],    # (H, 3H)
    db: Optional[NDArray[np.floating]] = ...,  # (3H,)
    accumulate: bool = ...,
    b: Optional[ArrayLike] = ...,  # (3H,) the layer's bias: only for the dtype rule
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # dx (N, D), dh_prev (N, H)

def time_gru_forward(
    xs: ArrayLike,                # (N, T, D)
    h0: Optional[ArrayLike],      # (N, H) or None = zeros
    Wx: ArrayLike,                # (D, 3H)
    Wh: ArrayLike,                # (H, 3H)
    b: Optional[ArrayLike] = ...,  # (3H,) or None
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # hs (N, T, H), cache (N, T, 4H)

def time_gru_backward(
    dhs: ArrayLike,               # (N, T, H)
    xs: ArrayLike,                # (N, T, D)
    h0: Optional[ArrayLike],      # (N, H) or None = zeros
    hs: ArrayLike,                # (N, T, H) forward output
    cache: ArrayLike,             # (N, T, 4H) forward output
    Wx: ArrayLike,                # (D, 3H)
    Wh: ArrayLike,                # (H, 3H)
    dWx: NDArray[np.floating],    # (D, 3H)
    dWh: NDArray[np.floating],    # (H, 3H)
    db: Optional[NDArray[np.floating]] = ...,  # (3H,)
    accumulate: bool = ...,
    b: Optional[ArrayLike] = ...,  # (3H,) the layer's bias: only for the dtype rule
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # dxs (N, T, D), dh0 (N, H)

# --- language-model layers (V vocabulary) ---
def embedding_forward(
    xs: ArrayLike,                # (N, T) integer word ids in [0, V)
    W: ArrayLike,                 # (V, D)
) -> NDArray[np.floating]: ...    # (N, T, D)

def embedding_backward(
    dout: ArrayLike,              # (N, T, D)
    xs: ArrayLike,                # (N, T) ids
    W: ArrayLike,                 # (V, D): only for the dtype rule and V
    dW: NDArray[np.floating],     # (V, D) written: rows scatter-added in (n, t) order
    accumulate: bool = ...,
) -> None: ...

def time_affine_forward(
    x: ArrayLike,                 # (N, T, D)
    W: ArrayLike,                 # (D, V) any layout
    b: Optional[ArrayLike] = ...,  # (V,)
) -> NDArray[np.floating]: ...    # (N, T, V)

def time_affine_backward(
    dout: ArrayLike,              # (N, T, V)
    x: ArrayLike,                 # (N, T, D)
    W: ArrayLike,                 # (D, V)
    dW: NDArray[np.floating],     # (D, V) written
    db: Optional[NDArray[np.floating]] = ...,  # (V,) written
    accumulate: bool = ...,
) -> NDArray[np.floating]: ...    # dx (N, T, D)

def tied_affine_backward(
    dout: ArrayLike,              # (N, T, V)
    x: ArrayLike,                 # (N, T, D)
    E: ArrayLike,                 # (V, D) the tied embedding matrix (W = E.T)
    dE: NDArray[np.floating],     # (V, D) written
    db: Optional[NDArray[np.floating]] = ...,  # (V,) written
    accumulate: bool = ...,
) -> NDArray[np.floating]: ...    # dx (N, T, D)

def softmax_cross_entropy_forward(
    xs: ArrayLike,                # (N, T, V) logits
    ts: ArrayLike,                # (N, T) ids; ignore_label rows left out of the mean
    ignore_label: int = ...,
) -> Tuple[float, NDArray[np.floating]]: ...  # (loss, ys (N, T, V) probabilities)

def softmax_cross_entropy_backward(
    ys: ArrayLike,                # (N, T, V) from forward
    ts: ArrayLike,                # (N, T) ids
    dout: float = ...,
    ignore_label: int = ...,
) -> NDArray[np.floating]: ...    # dxs (N, T, V)

def affine_softmax_cross_entropy(
    x: ArrayLike,                 # (N, T, D)
    W: ArrayLike,                 # (D, V) any layout
    ts: ArrayLike,                # (N, T) ids; ignore_label rows left out of the mean
    b: Optional[ArrayLike] = ...,  # (V,)
    ignore_label: int = ...,
    out: Optional[NDArray[np.floating]] = ...,  # (N, T, V) C-contiguous, compute dtype
) -> Tuple[float, NDArray[np.floating]]: ...  # (loss, dscore (N, T, V) for dout = 1)

# --- chapter 6 (branch ch6): the output head of a weight-tied model ---
def tied_affine_softmax_cross_entropy(
    x: ArrayLike,                 # (N, T, D)
    E: ArrayLike,                 # (V, D) the embedding matrix: W = E.T, read without a copy
    ts: ArrayLike,                # (N, T) ids; ignore_label rows left out of the mean
    b: Optional[ArrayLike] = ...,  # (V,)
    ignore_label: int = ...,
    out: Optional[NDArray[np.floating]] = ...,  # (N, T, V) C-contiguous, compute dtype
) -> Tuple[float, NDArray[np.floating]]: ...  # (loss, dscore (N, T, V)): as with W = E.T

# --- the optimizer step ---
def sgd_update(
    param: NDArray[np.floating],  # float32/float64, C-contiguous, updated in place
    grad: NDArray[np.floating],   # same shape and dtype
    lr: float,
    scale: float = ...,           # != 1: grad *= scale first, in place (a clip's rate)
) -> None: ...

def adam_update(
    param: NDArray[np.floating],  # float32/float64, C-contiguous, updated in place
    grad: NDArray[np.floating],   # same shape and dtype
    m: NDArray[np.floating],      # first moment, updated in place
    v: NDArray[np.floating],      # second moment, updated in place
    c1: float,                    # 1 - beta1
    c2: float,                    # 1 - beta2
    lr_t: float,                  # the step size (float64)
    scale: float = ...,           # != 1: grad *= scale first, in place (a clip's rate)
) -> None: ...                    # the book's Adam expressions, bit for bit; no overlaps

def sum_squares(
    x: NDArray[np.floating],      # float32/float64, C-contiguous
) -> np.floating: ...             # np.sum(x ** 2) bit for bit: NumPy's pairwise sum, x's dtype

# --- the matrix product, threads and kernel paths ---
def matmul(
    a: ArrayLike,                 # (M, K), read through its strides
    b: ArrayLike,                 # (K, N)
    packed: bool = ...,           # pack b first, as the per-step RNN product does
) -> NDArray[np.floating]: ...    # (M, N)

def set_num_threads(n: int, /) -> None: ...
def get_num_threads() -> int: ...
def _pool_selftest(jobs: int, /) -> int: ...  # for the tests: 0 when the thread pool is sound
def _pool_timing(jobs: int, gap_us: float, /) -> tuple: ...  # (threads, wake_us, trip_us): bench --only pool
def _cpu_topology() -> tuple: ...  # (logical CPUs this process may use, physical cores among them)
def _gemm_blocking() -> dict: ...  # cache sizes and the gemm's (kc, mc, nc) per dtype, this path
def _set_gemm_blocking(kc: int, mc: int, nc: int, /) -> None: ...  # tests/bench: 0 = from the caches
def _set_recurrence_split(mode: str, /) -> str: ...  # 'auto' | 'rows' | 'columns' for TimeLSTM; returns the old one
def _recurrence_split(N: int, H: int, double: bool, /) -> tuple: ...  # ('rows', 0) or ('columns', tasks) now
def _signatures() -> dict: ...  # the C tables of the functions here (csrc/bind_*.c), for the tests
max_threads: int
build_flags: str
blas: str                         # the gemm's CBLAS backend: "none", "openblas (...)", "accelerate"
blas_min_flops: float             # products of at least this many flops (2MNK) go to it

def _set_blas(on: bool, /) -> bool: ...  # for tests/benchmarks: large products to CBLAS or ours
def get_simd_path() -> str: ...
def set_simd_path(name: Literal["portable", "avx2", "avx512", "neon", "best"], /) -> None: ...
def available_simd_paths() -> list: ...

# --- attention (chapter 8; S encoder steps, T decoder steps). hs_enc and
# hs_dec choose the compute dtype (float32 when both are float16/float32). ---
def attention_weight_forward(
    hs_enc: ArrayLike,            # (N, S, H)
    hs_dec: ArrayLike,            # (N, T, H)
) -> NDArray[np.floating]: ...    # a (N, T, S): softmax over S of hs_dec . hs_encᵀ

def weight_sum_forward(
    hs_enc: ArrayLike,            # (N, S, H)
    a: ArrayLike,                 # (N, T, S)
) -> NDArray[np.floating]: ...    # c (N, T, H) = a @ hs_enc

def time_attention_forward(
    hs_enc: ArrayLike,            # (N, S, H)
    hs_dec: ArrayLike,            # (N, T, H)
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # (c (N, T, H), a (N, T, S))

def weight_sum_backward(
    dc: ArrayLike,                # (N, T, H)
    hs_enc: ArrayLike,            # (N, S, H)
    a: ArrayLike,                 # (N, T, S)
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # (dhs_enc (N, S, H), da (N, T, S))

def attention_weight_backward(
    da: ArrayLike,                # (N, T, S)
    hs_enc: ArrayLike,            # (N, S, H)
    hs_dec: ArrayLike,            # (N, T, H)
    a: ArrayLike,                 # (N, T, S) the forward output
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # (dhs_enc (N, S, H), dhs_dec (N, T, H))

def time_attention_backward(
    dc: ArrayLike,                # (N, T, H)
    hs_enc: ArrayLike,            # (N, S, H)
    hs_dec: ArrayLike,            # (N, T, H)
    a: ArrayLike,                 # (N, T, S) from time_attention_forward
) -> Tuple[NDArray[np.floating], NDArray[np.floating]]: ...  # (dhs_enc (N, S, H) summed over T, dhs_dec (N, T, H))
