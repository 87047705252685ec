"""What the time models see of each timed layer: :class:`Features`, built from timing rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenflops.timing.contract import DTYPES

__all__ = ["Features", "features_from_frame"]


@dataclass(frozen=True)
class Features:
    """What the time models see of each timed layer (one entry per timing row)."""

    flops: np.ndarray  #: FLOPs of one call (2 per multiply-add)
    s: np.ndarray  #: output positions of one call, batch · H_out · W_out
    k_area: np.ndarray  #: K_h · K_w
    c_in: np.ndarray
    c_out: np.ndarray
    bytes_moved: np.ndarray  #: input + weights + output bytes of one call
    dtype: np.ndarray  #: dtype name of each row

    def __len__(self) -> int:
        return len(self.flops)

    def subset(self, mask: np.ndarray) -> Features:
        """The rows where ``mask`` is true."""
        return Features(**{name: getattr(self, name)[mask] for name in self.__dataclass_fields__})


def _out_size(size: np.ndarray, kernel: np.ndarray, stride: np.ndarray, padding: np.ndarray):
    return (size + 2 * padding - kernel) // stride + 1


def features_from_frame(frame: pd.DataFrame) -> Features:
    """Features of timing rows in the contract format (``workflow/schemas/timings.schema.yaml``).

    The contract's ``flops`` column is used as given, and ``S = FLOPs / (2·K_h·K_w·C_in·C_out)``
    (= ``batch · H_out · W_out``) is read from it, so S follows the output-size convention of the
    data ("same" output for even kernels, for example).
    """
    def col(name: str) -> np.ndarray:
        return frame[name].to_numpy(dtype=np.int64)

    batch, h, w = col("batch"), col("h"), col("w")
    k_h, k_w, stride, padding = col("k_h"), col("k_w"), col("stride"), col("padding")
    c_in, c_out = col("c_in"), col("c_out")
    h_out = _out_size(h, k_h, stride, padding)
    w_out = _out_size(w, k_w, stride, padding)
    if np.any(h_out < 1) or np.any(w_out < 1):
        raise ValueError("a kernel does not fit its padded input (output size < 1)")
    dtype = frame["dtype"].astype(str).to_numpy()
    unknown = sorted(set(dtype) - set(DTYPES))
    if unknown:
        raise ValueError(f"unknown dtype(s): {', '.join(unknown)}")
    elem = np.array([DTYPES[d].bytes for d in dtype], dtype=float)
    n_elem = batch * c_in * h * w + c_out * c_in * k_h * k_w + batch * c_out * h_out * w_out
    flops = frame["flops"].to_numpy(dtype=float)
    # S from the FLOPs the row states (eq. 4: FLOPs = 2·K·C_in·C_out·S), so S follows whichever
    # output-size convention the timings used ("same" output for even kernels, say).
    s = np.maximum(np.round(flops / (2.0 * k_h * k_w * c_in * c_out)), 1.0)
    return Features(
        flops=flops,
        s=s,
        k_area=(k_h * k_w).astype(float),
        c_in=c_in.astype(float),
        c_out=c_out.astype(float),
        bytes_moved=n_elem.astype(float) * elem,
        dtype=dtype,
    )

