"""What the time models see of each timed layer: :class:`Features`, built from timing rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenflops.timing.contract import COLUMN_DEFAULTS, DTYPES

__all__ = ["GROUPED_NOTE", "Features", "features_from_frame", "split_grouped"]


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
    groups: np.ndarray | None = None  #: convolution groups (None: 1 for every row)

    @property
    def c_red(self) -> np.ndarray:
        """Length of each output's reduction, ``C_in / groups · K_h · K_w`` (a GEMM's inner
        size; 1 · K for a depthwise convolution)."""
        groups = 1.0 if self.groups is None else self.groups
        return self.c_in / groups * self.k_area

    def __len__(self) -> int:
        return len(self.flops)

    def subset(self, mask: np.ndarray) -> Features:
        """The rows where ``mask`` is true."""
        return Features(**{name: None if getattr(self, name) is None else getattr(self, name)[mask]
                           for name in self.__dataclass_fields__})


def _out_size(size: np.ndarray, kernel: np.ndarray, stride: np.ndarray, padding: np.ndarray):
    return (size + 2 * padding - kernel) // stride + 1


def features_from_frame(frame: pd.DataFrame) -> Features:
    """Features of timing rows in the contract format (``workflow/schemas/timings.schema.yaml``).

    S is the number of output positions, ``batch · H_out · W_out``, whatever the groups: it is
    read from the row's FLOPs as ``S = FLOPs · groups / (2·K_h·K_w·C_in·C_out)`` (eq. 4 with
    ``C_in / groups`` inputs per output), so S follows the output-size convention of the data
    ("same" output for even kernels, for example). A depthwise layer with 96 channels at 56×56
    has S = 3136, not 3136 / 96. The optional ``groups`` column defaults to 1; bytes count the
    weight as ``C_out · C_in / groups · K_h · K_w``.
    """
    def col(name: str) -> np.ndarray:
        return frame[name].to_numpy(dtype=np.int64)

    batch, h, w = col("batch"), col("h"), col("w")
    k_h, k_w, stride, padding = col("k_h"), col("k_w"), col("stride"), col("padding")
    c_in, c_out = col("c_in"), col("c_out")
    groups = (col("groups") if "groups" in frame.columns
              else np.full(len(frame), COLUMN_DEFAULTS["groups"], dtype=np.int64))
    if np.any(groups < 1) or np.any(c_in % groups) or np.any(c_out % groups):
        raise ValueError("groups must be >= 1 and divide c_in and c_out")
    h_out = _out_size(h, k_h, stride, padding)
    w_out = _out_size(w, k_w, stride, padding)
    if np.any(h_out < 1) or np.any(w_out < 1):
        raise ValueError("a kernel does not fit its padded input (output size < 1)")
    dtype = frame["dtype"].astype(str).to_numpy()
    unknown = sorted(set(dtype) - set(DTYPES))
    if unknown:
        raise ValueError(f"unknown dtype(s): {', '.join(unknown)}")
    elem = np.array([DTYPES[d].bytes for d in dtype], dtype=float)
    n_elem = (batch * c_in * h * w + c_out * (c_in // groups) * k_h * k_w
              + batch * c_out * h_out * w_out)
    flops = frame["flops"].to_numpy(dtype=float)
    # S from the FLOPs the row states (eq. 4: FLOPs = 2·K·(C_in/groups)·C_out·S), so S follows
    # whichever output-size convention the timings used ("same" output for even kernels, say).
    s = np.maximum(np.round(flops * groups / (2.0 * k_h * k_w * c_in * c_out)), 1.0)
    return Features(
        flops=flops,
        s=s,
        k_area=(k_h * k_w).astype(float),
        c_in=c_in.astype(float),
        c_out=c_out.astype(float),
        bytes_moved=n_elem.astype(float) * elem,
        dtype=dtype,
        groups=groups.astype(float),
    )


#: Why the conv/dense time models leave grouped convolutions out (params.yaml notes).
GROUPED_NOTE = ("{n} grouped-convolution rows (groups > 1; sweeps {sweeps}) are left out of "
                "these fits: a depthwise or grouped layer is bandwidth- and overhead-bound, not "
                "the GEMM that the α form and FLOPs scales describe; greenflops.networks.costs "
                "fits them (data/processed/networks/<device_id>/op_costs.yaml)")


def split_grouped(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Timing rows split into dense ones (``groups`` 1, or no ``groups`` column) and grouped
    convolutions (``groups`` > 1), each with its index reset."""
    if "groups" not in frame.columns:
        return frame.reset_index(drop=True), frame.iloc[0:0].reset_index(drop=True)
    grouped = frame["groups"].to_numpy() > 1
    return (frame[~grouped].reset_index(drop=True), frame[grouped].reset_index(drop=True))
