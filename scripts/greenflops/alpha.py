"""α-FLOPs (Asperti, Evangelista and Marzolla 2021, Section 5) and the time models fitted on
timings.

The paper corrects the FLOPs of a convolution by the factor (eq. 5 / eq. 6)::

    α_K(S) = ((1 − β_K) · S_K / S + β_K) ** γ_K,      S = W · H

with ``0 < β_K ≪ 1``, ``0 < γ_K ≤ 1`` and ``S_1 = 1``; ``S_K`` "grows slowly with K". Here:

* ``S`` is the number of output positions of one call, ``batch · H_out · W_out``: the paper's
  ``W · H`` (stride 1, same padding, batch 1) and its Section 6.1 reading of the batch size as one
  more spatial axis (a dense layer has ``S = batch``).
* ``K`` is the kernel area ``K_h · K_w``; the kernel class is ``k1`` (K = 1) or ``kn`` (K > 1), the
  paper's two cases. ``S_K = 1 + s_k · ln K`` with ``s_k = 1`` by default (a known implementation
  uses ``ln(K_h·K_w) + 1``); ``s_k`` may be fitted.
* α-FLOPs = α · FLOPs, and a predicted time is ``scale · α-FLOPs`` (``scale`` in ms per GFLOP).

A *time model* (:class:`TimeModel`) maps layer features (:class:`Features`) and a parameter dict to
predicted milliseconds. :data:`MODEL_NAMES` lists them; names starting with ``alpha`` are the
α family. Fitting lives in :mod:`greenflops.alpha_fit`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "DTYPE_BYTES",
    "Features",
    "KNOWN_IMPL_SCALE_MS_PER_GFLOP",
    "MODEL_NAMES",
    "PAPER_T2000",
    "ParamSpec",
    "TimeModel",
    "alpha_factor",
    "alpha_flops",
    "channel_efficiency",
    "features_from_frame",
    "get_model",
    "is_alpha_family",
    "kernel_class",
    "predicted_time_ms",
    "roofline_time_ms",
    "s_k",
]

#: The paper's parameters on an NVIDIA Quadro T2000 (Section 5): kernel class -> (β, γ).
PAPER_T2000: dict[str, tuple[float, float]] = {"k1": (0.02, 0.99), "kn": (0.001, 0.56)}

#: Time scale of a known α-FLOPs implementation: 0.0375 ms per million multiply-adds, i.e.
#: 0.0375 / 2 ms per MFLOP = 18.75 ms per GFLOP (T2000).
KNOWN_IMPL_SCALE_MS_PER_GFLOP: float = 0.0375 / 2 * 1e3

#: Bytes per element of each contract dtype (tf32 is stored as float32).
DTYPE_BYTES: dict[str, int] = {
    "float64": 8,
    "float32": 4,
    "tf32": 4,
    "bfloat16": 2,
    "float16": 2,
}


# --------------------------------------------------------------------------------------------
# The α correction
# --------------------------------------------------------------------------------------------


def s_k(k_area: float | np.ndarray, slope: float = 1.0) -> float | np.ndarray:
    """``S_K = 1 + slope · ln K`` for kernel area ``K = K_h · K_w`` (so ``S_1 = 1``).

    With ``slope = 1`` this is the ``ln(K_h·K_w) + 1`` of a known α-FLOPs implementation.
    """
    k = np.asarray(k_area, dtype=float)
    if np.any(k < 1):
        raise ValueError("kernel area K must be >= 1")
    out = 1.0 + slope * np.log(k)
    return float(out) if out.ndim == 0 else out


def alpha_factor(
    s: float | np.ndarray,
    beta: float | np.ndarray,
    gamma: float | np.ndarray,
    sk: float | np.ndarray = 1.0,
) -> float | np.ndarray:
    """α_K(S) = ((1 − β) · S_K / S + β) ** γ (eq. 6 of the paper; equal to eq. 5).

    ``s`` is the spatial size ``S``, ``sk`` is ``S_K``. Properties (Section 5.1): ``α = 1`` when
    ``β = 1`` or when ``S = S_K``; ``α < 1`` for ``S > S_K``; ``α → β ** γ`` for large ``S``.
    Where ``S < S_K`` (a kernel larger than its input) the formula gives ``α > 1``, kept as is.
    """
    s_arr = np.asarray(s, dtype=float)
    if np.any(s_arr <= 0):
        raise ValueError("S must be > 0")
    out = ((1.0 - np.asarray(beta, dtype=float)) * np.asarray(sk, dtype=float) / s_arr
           + np.asarray(beta, dtype=float)) ** np.asarray(gamma, dtype=float)
    return float(out) if np.ndim(out) == 0 else out


def kernel_class(k_area: int | np.ndarray) -> str | np.ndarray:
    """The paper's two kernel classes: ``"k1"`` for K = 1, ``"kn"`` for K > 1."""
    k = np.asarray(k_area)
    out = np.where(k <= 1, "k1", "kn")
    return str(out) if out.ndim == 0 else out


def alpha_flops(
    flops: float | np.ndarray,
    s: float | np.ndarray,
    k_area: float | np.ndarray,
    params: Mapping[str, float] | None = None,
) -> float | np.ndarray:
    """α-FLOPs = α_K(S) · FLOPs with the parameters in ``params`` (default: the paper's T2000 ones).

    ``params`` keys: ``beta_k1``, ``gamma_k1``, ``beta_kn``, ``gamma_kn`` and optionally
    ``sk_slope`` (default 1, i.e. ``S_K = ln K + 1``).
    """
    p = _paper_params() if params is None else dict(params)
    k = np.asarray(k_area, dtype=float)
    one = k <= 1
    beta = np.where(one, p["beta_k1"], p["beta_kn"])
    gamma = np.where(one, p["gamma_k1"], p["gamma_kn"])
    sk = s_k(k, p.get("sk_slope", 1.0))
    out = np.asarray(flops, dtype=float) * alpha_factor(s, beta, gamma, sk)
    return float(out) if np.ndim(out) == 0 else out


def predicted_time_ms(
    flops: float | np.ndarray,
    s: float | np.ndarray,
    k_area: float | np.ndarray,
    scale_ms_per_gflop: float,
    params: Mapping[str, float] | None = None,
    overhead_ms: float = 0.0,
) -> float | np.ndarray:
    """Predicted time ``overhead_ms + scale · α-FLOPs / 1e9`` in milliseconds."""
    af = alpha_flops(flops, s, k_area, params)
    out = overhead_ms + scale_ms_per_gflop * np.asarray(af) / 1e9
    return float(out) if np.ndim(out) == 0 else out


def channel_efficiency(
    c_red: float | np.ndarray, c_out: float | np.ndarray, c_red_half: float, c_out_half: float
) -> float | np.ndarray:
    """Slow-down from short channel axes, ``(1 + c_red_half / c_red) · (1 + c_out_half / c_out)``.

    Hockney's half-performance length along the reduction axis ``c_red = C_in · K_h · K_w`` and
    the output-channel axis: a GEMM of inner size ``n`` runs at ``n / (n + n_half)`` of full
    speed. Both halves 0 give 1 (no correction). Used by the ``alpha_ext`` model only.
    """
    out = (1.0 + c_red_half / np.asarray(c_red, dtype=float)) * (
        1.0 + c_out_half / np.asarray(c_out, dtype=float)
    )
    return float(out) if np.ndim(out) == 0 else out


def roofline_time_ms(
    flops: float | np.ndarray, bytes_moved: float | np.ndarray, peak_gflops: float,
    bandwidth_gbs: float,
) -> float | np.ndarray:
    """Roofline time ``max(FLOPs / peak, bytes / bandwidth)`` in milliseconds."""
    if peak_gflops <= 0 or bandwidth_gbs <= 0:
        raise ValueError("peak_gflops and bandwidth_gbs must be > 0")
    out = 1e3 * np.maximum(np.asarray(flops, dtype=float) / (peak_gflops * 1e9),
                           np.asarray(bytes_moved, dtype=float) / (bandwidth_gbs * 1e9))
    return float(out) if np.ndim(out) == 0 else out


def _paper_params() -> dict[str, float]:
    (b1, g1), (bn, gn) = PAPER_T2000["k1"], PAPER_T2000["kn"]
    return {"beta_k1": b1, "gamma_k1": g1, "beta_kn": bn, "gamma_kn": gn, "sk_slope": 1.0}


# --------------------------------------------------------------------------------------------
# Layer features
# --------------------------------------------------------------------------------------------


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
    unknown = sorted(set(dtype) - set(DTYPE_BYTES))
    if unknown:
        raise ValueError(f"unknown dtype(s): {', '.join(unknown)}")
    elem = np.array([DTYPE_BYTES[d] for d in dtype], dtype=float)
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


# --------------------------------------------------------------------------------------------
# Time models
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """One fitted parameter: name, start value, bounds and whether it is fitted on a log scale."""

    name: str
    init: float
    lower: float
    upper: float
    log: bool = False
    unit: str = ""
    doc: str = ""
    #: range the random starts of a multi-start fit are drawn from (log-uniform if ``log``)
    start_range: tuple[float, float] | None = None
    #: value that switches this parameter's term off (nested-model warm starts); None: ``init``
    neutral: float | None = None
    #: cap the upper bound at the smallest measured time of the fit (a per-call overhead cannot
    #: exceed the fastest call it is part of)
    cap_at_min_time: bool = False


@dataclass(frozen=True)
class TimeModel:
    """A time model: its parameters and a function ``predict(params, features) -> ms``.

    ``scale`` parameters are per dtype (``scale_ms_per_gflop`` for a single-dtype device,
    ``scale_ms_per_gflop.<dtype>`` with several); a dtype absent from the fit predicts NaN.
    """

    name: str
    description: str
    shape_params: tuple[ParamSpec, ...]
    predict_fn: Callable[[Mapping[str, float], Features, np.ndarray], np.ndarray]
    needs_scale: bool = True
    fixed: Mapping[str, float] = field(default_factory=dict)

    @property
    def is_alpha(self) -> bool:
        return is_alpha_family(self.name)

    def param_specs(self, dtypes: Sequence[str]) -> list[ParamSpec]:
        """Every fitted parameter for data with these dtypes."""
        specs = list(self.shape_params)
        if self.needs_scale:
            for dtype in scale_keys(dtypes):
                specs.append(ParamSpec(dtype, 1.0, 1e-9, 1e9, log=True, unit="ms/GFLOP",
                                       doc="milliseconds per GFLOP (per α-GFLOP for α models)"))
        return specs

    def predict(self, params: Mapping[str, float], x: Features) -> np.ndarray:
        """Predicted milliseconds for each row of ``x``."""
        full = {**self.fixed, **params}
        return self.predict_fn(full, x, _scale_per_row(full, x.dtype))


def scale_keys(dtypes: Sequence[str]) -> list[str]:
    """Names of the scale parameters for data with these dtypes (sorted, deterministic)."""
    unique = sorted(set(dtypes))
    if len(unique) <= 1:
        return ["scale_ms_per_gflop"]
    return [f"scale_ms_per_gflop.{d}" for d in unique]


def _scale_per_row(params: Mapping[str, float], dtype: np.ndarray) -> np.ndarray:
    if "scale_ms_per_gflop" in params:
        return np.full(len(dtype), float(params["scale_ms_per_gflop"]))
    return np.array([params.get(f"scale_ms_per_gflop.{d}", np.nan) for d in dtype], dtype=float)


def is_alpha_family(name: str) -> bool:
    """Model names starting with ``alpha`` are α-family models."""
    return name.startswith("alpha")


_BETA = dict(lower=1e-6, upper=1.0, log=True, unit="", doc="parallel fraction β of eq. 6",
             start_range=(1e-4, 0.5))
_GAMMA = dict(lower=0.05, upper=1.0, unit="", doc="exponent γ of eq. 6", start_range=(0.2, 1.0))


def _alpha_specs(sk_fitted: bool) -> tuple[ParamSpec, ...]:
    specs = [
        ParamSpec("beta_k1", 0.05, **_BETA),
        ParamSpec("gamma_k1", 0.8, **_GAMMA),
        ParamSpec("beta_kn", 0.05, **_BETA),
        ParamSpec("gamma_kn", 0.8, **_GAMMA),
    ]
    if sk_fitted:
        specs.append(ParamSpec("sk_slope", 1.0, 0.0, 50.0, unit="",
                               doc="S_K = 1 + sk_slope · ln K", start_range=(0.0, 5.0),
                               neutral=1.0))
    return tuple(specs)


_OVERHEAD = ParamSpec("overhead_ms", 1e-3, 1e-12, 1e3, log=True, unit="ms",
                      doc="constant per-call overhead c0 (at most the fastest measured call)",
                      start_range=(1e-4, 1.0), neutral=1e-12, cap_at_min_time=True)
_MEMORY = ParamSpec("ms_per_gb", 1.0, 1e-9, 1e4, log=True, unit="ms/GB",
                    doc="time per GB of input + weights + output moved (1 / effective bandwidth)",
                    start_range=(1e-2, 1e2), neutral=1e-9)
#: Memory roof of the fitted rooflines: starts at 1–100 GB/s and stays on in warm starts (with a
#: max(), a memory term that is below the compute term everywhere has zero gradient).
_MEMORY_ROOF = ParamSpec("ms_per_gb", 50.0, 1e-3, 1e5, log=True, unit="ms/GB",
                         doc="1 / bandwidth W of the memory roof (W = 1000 / ms_per_gb GB/s)",
                         start_range=(10.0, 1e3))
_CHANNEL = (
    ParamSpec("c_red_half", 1.0, 1e-3, 1e5, log=True, unit="channels",
              doc="half-performance length of the reduction axis C_in·K_h·K_w",
              start_range=(0.1, 100.0), neutral=1e-3),
    ParamSpec("c_out_half", 1.0, 1e-3, 1e5, log=True, unit="channels",
              doc="half-performance length of the output-channel axis C_out",
              start_range=(0.1, 100.0), neutral=1e-3),
)


def _flops_predict(p, x, scale):
    return scale * x.flops / 1e9


def _flops_overhead_predict(p, x, scale):
    return p["overhead_ms"] + scale * x.flops / 1e9


def _alpha_predict(p, x, scale):
    return p.get("overhead_ms", 0.0) + scale * alpha_flops(x.flops, x.s, x.k_area, p) / 1e9


def _alpha_ext_predict(p, x, scale):
    eff = channel_efficiency(x.c_in * x.k_area, x.c_out, p["c_red_half"], p["c_out_half"])
    return p["overhead_ms"] + scale * eff * alpha_flops(x.flops, x.s, x.k_area, p) / 1e9


def _alpha_mem_predict(p, x, scale):
    return _alpha_ext_predict(p, x, scale) + p["ms_per_gb"] * x.bytes_moved / 1e9


def _roofline_fit_predict(p, x, scale):
    compute = scale * x.flops / 1e9
    return p["overhead_ms"] + np.maximum(compute, p["ms_per_gb"] * x.bytes_moved / 1e9)


def _alpha_roofline_predict(p, x, scale):
    compute = scale * alpha_flops(x.flops, x.s, x.k_area, p) / 1e9
    return p["overhead_ms"] + np.maximum(compute, p["ms_per_gb"] * x.bytes_moved / 1e9)


def _roofline_predict(p, x, scale):
    return roofline_time_ms(x.flops, x.bytes_moved, p["peak_gflops"], p["mem_bandwidth_gbs"])


_MODELS: dict[str, TimeModel] = {
    m.name: m
    for m in (
        TimeModel("flops", "time ∝ FLOPs (one scale per dtype)", (), _flops_predict),
        TimeModel("flops_overhead", "time = overhead + scale · FLOPs", (_OVERHEAD,),
                  _flops_overhead_predict),
        TimeModel("roofline", "max(FLOPs / peak, bytes / bandwidth), from device.yaml; not fitted",
                  (), _roofline_predict, needs_scale=False),
        TimeModel("roofline_fit",
                  "c0 + max(FLOPs / P, bytes / W) with c0, P = 1000 / scale_ms_per_gflop GFLOP/s "
                  "and W = 1000 / ms_per_gb GB/s fitted",
                  (_OVERHEAD, _MEMORY_ROOF), _roofline_fit_predict),
        TimeModel("alpha_paper",
                  "α-FLOPs with the paper's T2000 β, γ and S_K = ln K + 1; only the scale fitted",
                  (), _alpha_predict, fixed=_paper_params()),
        TimeModel("alpha_fit", "α-FLOPs (eq. 6), β and γ per kernel class refitted, S_K = ln K + 1",
                  _alpha_specs(False), _alpha_predict, fixed={"sk_slope": 1.0}),
        TimeModel("alpha_fit_sk",
                  "α-FLOPs (eq. 6), β, γ per kernel class and S_K = 1 + s·ln K fitted",
                  _alpha_specs(True), _alpha_predict),
        TimeModel("alpha_overhead", "alpha_fit_sk plus a constant per-call overhead",
                  _alpha_specs(True) + (_OVERHEAD,), _alpha_predict),
        TimeModel("alpha_ext",
                  "alpha_overhead times a channel-axis efficiency "
                  "(1 + c_red_half/(C_in·K)) · (1 + c_out_half/C_out)",
                  _alpha_specs(True) + (_OVERHEAD,) + _CHANNEL, _alpha_ext_predict),
        TimeModel("alpha_ext_mem",
                  "alpha_ext plus a memory-traffic term ms_per_gb · (input + weight + output bytes)",
                  _alpha_specs(True) + (_OVERHEAD,) + _CHANNEL + (_MEMORY,), _alpha_mem_predict),
        TimeModel("alpha_roofline",
                  "α-FLOPs under a fitted roofline: c0 + max(α_K(S) · FLOPs / P, bytes / W), "
                  "β, γ per kernel class, S_K = ln K + 1",
                  _alpha_specs(False) + (_OVERHEAD, _MEMORY_ROOF), _alpha_roofline_predict,
                  fixed={"sk_slope": 1.0}),
    )
}

#: Every model, in report order: FLOPs baselines, roofline, then the α family.
MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)


def get_model(name: str) -> TimeModel:
    """The time model called ``name`` (one of :data:`MODEL_NAMES`)."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}") from None

