"""α-FLOPs (Asperti, Evangelista and Marzolla 2021, Section 5): the correction and its relatives.

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

Also here: the channel-axis efficiency, the roofline time and the smooth maximum (of a per-call
floor and the work) that some time models (:mod:`greenflops.alpha.models`,
:mod:`greenflops.alpha.gpu_models`) combine with it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "KNOWN_IMPL_SCALE_MS_PER_GFLOP",
    "PAPER_T2000",
    "alpha_factor",
    "alpha_flops",
    "channel_efficiency",
    "kernel_class",
    "paper_params",
    "predicted_time_ms",
    "roofline_time_ms",
    "s_k",
    "smooth_max",
]


#: The paper's parameters on an NVIDIA Quadro T2000 (Section 5): kernel class -> (β, γ).
PAPER_T2000: dict[str, tuple[float, float]] = {"k1": (0.02, 0.99), "kn": (0.001, 0.56)}

#: Time scale of a known α-FLOPs implementation: 0.0375 ms per million multiply-adds, i.e.
#: 0.0375 / 2 ms per MFLOP = 18.75 ms per GFLOP (T2000).
KNOWN_IMPL_SCALE_MS_PER_GFLOP: float = 0.0375 / 2 * 1e3


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
    p = paper_params() if params is None else dict(params)
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


def smooth_max(q: float, *terms: np.ndarray) -> np.ndarray:
    """``(Σ tᵢ^q)^(1/q)`` of non-negative terms, without overflow: q = 1 is their sum, and the
    result falls to their maximum as q grows (within a factor ``n^(1/q)``)."""
    mx = np.asarray(terms[0], dtype=float)
    for t in terms[1:]:
        mx = np.maximum(mx, t)
    mx = np.where(mx > 0, mx, 1.0)
    return mx * sum((np.asarray(t, dtype=float) / mx) ** q for t in terms) ** (1.0 / q)


def paper_params() -> dict[str, float]:
    (b1, g1), (bn, gn) = PAPER_T2000["k1"], PAPER_T2000["kn"]
    return {"beta_k1": b1, "gamma_k1": g1, "beta_kn": bn, "gamma_kn": gn, "sk_slope": 1.0}

