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

def get_simd_path() -> str: ...
def set_simd_path(name: Literal["portable", "avx2", "avx512", "best"]) -> None: ...
def available_simd_paths() -> list: ...
