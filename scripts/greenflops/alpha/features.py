"""What the time models see of each timed layer: :class:`Features`, built from timing rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from greenflops.alpha.device_facts import DeviceFacts
from greenflops.timing.contract import COLUMN_DEFAULTS, DTYPES

__all__ = ["ARRAYS", "GROUPED_NOTE", "Features", "features_from_frame", "split_grouped"]

#: The per-row arrays of :class:`Features` (what :meth:`Features.subset` cuts).
ARRAYS = ("flops", "s", "k_area", "c_in", "c_out", "bytes_moved", "dtype", "groups", "batch",
          "h", "w", "k_h", "k_w", "stride", "is_conv", "h_out", "w_out", "elem_bytes",
          "bytes_read")


@dataclass(frozen=True)
class Features:
    """What the time models see of each timed layer (one entry per timing row).

    ``s`` is also the implicit GEMM's ``M`` (output positions), ``c_out`` its ``N`` and
    ``c_red = C_in / groups · k_area`` its ``K`` (:mod:`greenflops.alpha.kernels`). ``device`` holds the device
    facts the GPU models use. Derived per-row data that is costly to build (kernel candidates)
    is computed once on the features a fit starts from and cut for each subset
    (:meth:`cached`), so validation folds do not rebuild it.
    """

    flops: np.ndarray  #: FLOPs of one call (2 per multiply-add)
    s: np.ndarray  #: output positions of one call, batch · H_out · W_out
    k_area: np.ndarray  #: K_h · K_w
    c_in: np.ndarray
    c_out: np.ndarray
    bytes_moved: np.ndarray  #: input + weights + output bytes of one call
    dtype: np.ndarray  #: dtype name of each row
    groups: np.ndarray | None = None  #: convolution groups (None: 1 for every row)
    batch: np.ndarray | None = None
    h: np.ndarray | None = None
    w: np.ndarray | None = None
    k_h: np.ndarray | None = None
    k_w: np.ndarray | None = None
    stride: np.ndarray | None = None
    is_conv: np.ndarray | None = None  #: conv2d (True) or linear
    h_out: np.ndarray | None = None
    w_out: np.ndarray | None = None
    elem_bytes: np.ndarray | None = None
    #: compulsory traffic as the GPU models count it: the input rows a strided kernel reads
    #: (``min(1, K_h / stride)`` of them), the weights and the ``M · C_out`` outputs
    bytes_read: np.ndarray | None = None
    device: DeviceFacts | None = None
    rows: np.ndarray | None = None  #: positions in the features these were cut from
    origin: Features | None = field(default=None, repr=False, compare=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def c_red(self) -> np.ndarray:
        """Length of each output's reduction, ``C_in / groups · K_h · K_w`` (a GEMM's inner
        size; 1 · K for a depthwise convolution)."""
        groups = 1.0 if self.groups is None else self.groups
        return self.c_in / groups * self.k_area

    def __len__(self) -> int:
        return len(self.flops)

    def subset(self, mask: np.ndarray) -> Features:
        """The rows where ``mask`` is true (or at the given sorted positions)."""
        mask = np.asarray(mask)
        index = np.flatnonzero(mask) if mask.dtype == bool else mask
        base = self.rows if self.rows is not None else np.arange(len(self))
        values = {name: (getattr(self, name)[index] if getattr(self, name) is not None else None)
                  for name in ARRAYS}
        return Features(**values, device=self.device, rows=base[index],
                        origin=self.origin or self)

    def with_device(self, device: DeviceFacts | None) -> Features:
        """The same rows with other device facts (and no cached data)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)
                  if f.name in ARRAYS}
        return Features(**values, device=device)

    def cached(self, key: str, build: Callable[[Features], Any],
               cut: Callable[[Any, np.ndarray], Any]) -> Any:
        """Per-row data ``build(features)`` made once on the features these were cut from and
        cut to these rows with ``cut(value, positions)``; kept for later calls."""
        if key not in self._cache:
            if self.origin is None:
                self._cache[key] = build(self)
            else:
                self._cache[key] = cut(self.origin.cached(key, build, cut), self.rows)
        return self._cache[key]


def _out_size(size: np.ndarray, kernel: np.ndarray, stride: np.ndarray, padding: np.ndarray):
    return (size + 2 * padding - kernel) // stride + 1


def features_from_frame(frame: pd.DataFrame, device: DeviceFacts | None = None) -> Features:
    """Features of timing rows in the contract format (``workflow/schemas/timings.schema.yaml``).

    S is the number of output positions, ``batch · H_out · W_out``, whatever the groups: it is
    read from the row's FLOPs as ``S = FLOPs · groups / (2·K_h·K_w·C_in·C_out)`` (eq. 4 with
    ``C_in / groups`` inputs per output), so S follows the output-size convention of the data
    ("same" output for even kernels, for example). A depthwise layer with 96 channels at 56×56
    has S = 3136, not 3136 / 96. The optional ``groups`` column defaults to 1; bytes count the
    weight as ``C_out · C_in / groups · K_h · K_w``.
    ``device``: the facts of the device (:func:`greenflops.alpha.device_facts.device_facts`),
    for the GPU models.
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
    is_conv = (frame["op"].astype(str) == "conv2d").to_numpy()
    rows_read = np.minimum(1.0, k_h / np.maximum(stride, 1))
    bytes_read = (batch * c_in * h * w * rows_read + c_out * (c_in // groups) * k_h * k_w
                  + s * c_out) * elem
    return Features(
        flops=flops,
        s=s,
        k_area=(k_h * k_w).astype(float),
        c_in=c_in.astype(float),
        c_out=c_out.astype(float),
        bytes_moved=n_elem.astype(float) * elem,
        dtype=dtype,
        groups=groups.astype(float),
        batch=batch, h=h, w=w, k_h=k_h, k_w=k_w, stride=stride, is_conv=is_conv,
        h_out=np.where(is_conv, h_out, 1), w_out=np.where(is_conv, w_out, 1),
        elem_bytes=elem, bytes_read=bytes_read.astype(float), device=device,
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
