"""The time models fitted on timings: FLOPs baselines, rooflines, the α family, the GPU family
and a learned reference.

A *time model* (:class:`~greenflops.alpha.timemodel.TimeModel`) maps layer features
(:class:`~greenflops.alpha.features.Features`) and a parameter dict to predicted milliseconds;
each fitted parameter is a :class:`~greenflops.alpha.timemodel.ParamSpec` (start value, bounds,
unit, meaning). :data:`MODEL_NAMES` lists them; names starting with ``alpha`` are the α family
(:mod:`greenflops.alpha.formula`); the GPU family (implicit GEMM, tiles, waves, a smooth roofline)
is :mod:`greenflops.alpha.gpu_models`; the gradient-boosted trees are
:mod:`greenflops.alpha.learned`. Fitting lives in :mod:`greenflops.alpha.fitting`.
"""

from __future__ import annotations

import numpy as np

from greenflops.alpha.formula import (
    alpha_flops,
    channel_efficiency,
    paper_params,
    roofline_time_ms,
    smooth_max,
)
from greenflops.alpha.gpu_models import GPU_MODELS
from greenflops.alpha.jacobians import jacobian_for
from greenflops.alpha.learned import LEARNED_MODELS
from greenflops.alpha.timemodel import ParamSpec, TimeModel, is_alpha_family, scale_keys

__all__ = [
    "GPU_FAMILY",
    "MODEL_NAMES",
    "ParamSpec",
    "TimeModel",
    "get_model",
    "is_alpha_family",
    "is_gpu_family",
    "is_learned",
    "scale_keys",
]


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
#: How the per-call floor of ``alpha_floor`` overlaps the work, as the GPU family's ``q``; no
#: prior, like the rest of the α family. Its neutral 1 makes the floor a plain additive overhead
#: (``alpha_overhead``), where a warm start from that model begins.
_FLOOR_Q = ParamSpec("q", 2.0, 1.0, 20.0, log=True, unit="1",
                     doc="overlap of the per-call floor and the work (1: adds, 20: max)",
                     start_range=(1.0, 8.0), neutral=1.0)
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


def _alpha_floor_predict(p, x, scale):
    body = scale * alpha_flops(x.flops, x.s, x.k_area, p) / 1e9
    return smooth_max(p["q"], np.full_like(body, p["overhead_ms"]), body)


def _alpha_ext_predict(p, x, scale):
    eff = channel_efficiency(x.c_red, x.c_out, p["c_red_half"], p["c_out_half"])
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
        TimeModel("flops", "time ∝ FLOPs (one scale per dtype)", (), _flops_predict,
                  jacobian_fn=jacobian_for("flops")),
        TimeModel("flops_overhead", "time = overhead + scale · FLOPs", (_OVERHEAD,),
                  _flops_overhead_predict, jacobian_fn=jacobian_for("flops")),
        TimeModel("roofline", "max(FLOPs / peak, bytes / bandwidth), from device.yaml; not fitted",
                  (), _roofline_predict, needs_scale=False),
        TimeModel("roofline_fit",
                  "c0 + max(FLOPs / P, bytes / W) with c0, P = 1000 / scale_ms_per_gflop GFLOP/s "
                  "and W = 1000 / ms_per_gb GB/s fitted",
                  (_OVERHEAD, _MEMORY_ROOF), _roofline_fit_predict,
                  jacobian_fn=jacobian_for("roofline_fit")),
        TimeModel("alpha_paper",
                  "α-FLOPs with the paper's T2000 β, γ and S_K = ln K + 1; only the scale fitted",
                  (), _alpha_predict, fixed=paper_params(), jacobian_fn=jacobian_for("alpha")),
        TimeModel("alpha_fit", "α-FLOPs (eq. 6), β and γ per kernel class refitted, S_K = ln K + 1",
                  _alpha_specs(False), _alpha_predict, fixed={"sk_slope": 1.0},
                  jacobian_fn=jacobian_for("alpha")),
        TimeModel("alpha_fit_sk",
                  "α-FLOPs (eq. 6), β, γ per kernel class and S_K = 1 + s·ln K fitted",
                  _alpha_specs(True), _alpha_predict, jacobian_fn=jacobian_for("alpha")),
        TimeModel("alpha_overhead", "alpha_fit_sk plus a constant per-call overhead",
                  _alpha_specs(True) + (_OVERHEAD,), _alpha_predict,
                  jacobian_fn=jacobian_for("alpha")),
        TimeModel("alpha_ext",
                  "alpha_overhead times a channel-axis efficiency "
                  "(1 + c_red_half/(C_in·K)) · (1 + c_out_half/C_out)",
                  _alpha_specs(True) + (_OVERHEAD,) + _CHANNEL, _alpha_ext_predict,
                  jacobian_fn=jacobian_for("alpha_ext")),
        TimeModel("alpha_ext_mem",
                  "alpha_ext plus a memory-traffic term ms_per_gb · (input + weight + output bytes)",
                  _alpha_specs(True) + (_OVERHEAD,) + _CHANNEL + (_MEMORY,), _alpha_mem_predict,
                  jacobian_fn=jacobian_for("alpha_ext_mem")),
        TimeModel("alpha_roofline",
                  "α-FLOPs under a fitted roofline: c0 + max(α_K(S) · FLOPs / P, bytes / W), "
                  "β, γ per kernel class, S_K = ln K + 1",
                  _alpha_specs(False) + (_OVERHEAD, _MEMORY_ROOF), _alpha_roofline_predict,
                  fixed={"sk_slope": 1.0}, jacobian_fn=jacobian_for("alpha_roofline")),
        TimeModel("alpha_floor",
                  "alpha_fit_sk under a per-call floor c0 that the work hides as it grows: "
                  "(c0^q + (scale · α_K(S) · FLOPs)^q)^(1/q), q = 1 adding it",
                  _alpha_specs(True) + (_OVERHEAD, _FLOOR_Q), _alpha_floor_predict,
                  jacobian_fn=jacobian_for("alpha_floor")),
        *GPU_MODELS,
        *LEARNED_MODELS,
    )
}

#: Every model, in report order: FLOPs baselines, roofline, the α family, the GPU family (from
#: the simplest member to the fullest) and the learned reference.
MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)
#: The GPU family (:mod:`greenflops.alpha.gpu_models`).
GPU_FAMILY: tuple[str, ...] = tuple(m.name for m in GPU_MODELS)


def is_gpu_family(name: str) -> bool:
    """Whether ``name`` is a member of the GPU family."""
    return name in GPU_FAMILY


def is_learned(name: str) -> bool:
    """Whether ``name`` is a learned model (no parameters to report)."""
    return name in _MODELS and _MODELS[name].kind == "learned"


def get_model(name: str) -> TimeModel:
    """The time model called ``name`` (one of :data:`MODEL_NAMES`)."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}") from None

