"""Analytic Jacobians of the FLOPs baselines, fitted rooflines and α models.

Every one of these models predicts ``t = c0 + combine(body, memory)`` with
``body = scale · eff · α_K(S) · FLOPs / 1e9`` (α = 1 for the FLOPs models, ``eff`` the
channel efficiency of ``alpha_ext``), ``memory = ms_per_gb · bytes / 1e9`` and ``combine`` a sum
(``alpha_ext_mem``) or a max (the fitted rooflines); or, with a floor (``alpha_floor``),
``t = (c0^q + body^q)^(1/q)``, whose weights are ``w_c0 = (c0/t)^q`` and ``w_body = (body/t)^q``
and ``∂ ln t / ∂ ln q = w_c0 · ln(c0/t) + w_body · ln(body/t)``. :func:`jacobian_for` returns
``jac(params, features, names) -> (t, ∂ ln t / ∂ u)`` in fit coordinates ``u`` (``ln θ`` for the
parameters fitted on a log scale, ``θ`` for γ and ``sk_slope``), so the fit needs one model
evaluation per Jacobian instead of one per parameter.

With ``A = (1 − β)·S_K/S + β`` and ``α = A^γ``::

    ∂ ln α / ∂ ln β = γ · β · (1 − S_K/S) / A      ∂ ln α / ∂ γ = ln A
    ∂ ln α / ∂ s    = γ · (1 − β) · ln K / (S · A)   (S_K = 1 + s · ln K)
    ∂ ln eff / ∂ ln h = (h / c) / (1 + h / c)        (each half-performance length h of axis c)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from greenflops.alpha.formula import channel_efficiency, smooth_max

__all__ = ["jacobian_for"]

#: How each variant combines its terms: (uses α, uses channel efficiency, memory: None | "sum" |
#: "max" | "floor": no memory term, the overhead as a smooth floor).
VARIANTS = {
    "flops": (False, False, None),
    "alpha": (True, False, None),
    "alpha_ext": (True, True, None),
    "alpha_ext_mem": (True, True, "sum"),
    "alpha_roofline": (True, False, "max"),
    "alpha_floor": (True, False, "floor"),
    "roofline_fit": (False, False, "max"),
}


def _per_row(p: Mapping[str, float], name: str, one: np.ndarray) -> np.ndarray:
    """A per-kernel-class parameter (``beta``, ``gamma``) for every row."""
    return np.where(one, p[f"{name}_k1"], p[f"{name}_kn"])


def jacobian_for(variant: str) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The analytic Jacobian of a model of :data:`VARIANTS`."""
    use_alpha, use_eff, memory = VARIANTS[variant]

    def jac(p: Mapping[str, float], x: Any, names: Sequence[str]
            ) -> tuple[np.ndarray, np.ndarray]:
        n = len(x)
        if "scale_ms_per_gflop" in p:
            scale = np.full(n, float(p["scale_ms_per_gflop"]))
        else:
            scale = np.array([p.get(f"scale_ms_per_gflop.{d}", np.nan) for d in x.dtype])
        one = x.k_area <= 1
        body = scale * x.flops / 1e9
        if use_alpha:
            beta, gamma = _per_row(p, "beta", one), _per_row(p, "gamma", one)
            ln_k = np.log(x.k_area)
            sk = 1.0 + p.get("sk_slope", 1.0) * ln_k
            a = (1.0 - beta) * sk / x.s + beta
            body = body * a**gamma
        if use_eff:
            c_red = x.c_red
            body = body * channel_efficiency(c_red, x.c_out, p["c_red_half"], p["c_out_half"])
        c0 = p.get("overhead_ms", 0.0)
        mem = p["ms_per_gb"] * x.bytes_moved / 1e9 if memory in ("sum", "max") else np.zeros(n)
        w_c0 = None
        if memory == "floor":
            q = p["q"]
            t = smooth_max(q, np.full(n, c0), body)
            w_c0, w_body, w_mem = (c0 / t) ** q, (body / t) ** q, np.zeros(n)
        elif memory == "max":
            on_body = body >= mem
            t = c0 + np.maximum(body, mem)
            w_body = np.where(on_body, body, 0.0) / t
            w_mem = np.where(on_body, 0.0, mem) / t
        else:
            t = c0 + body + mem
            w_body, w_mem = body / t, mem / t
        out = np.zeros((n, len(names)))
        for k, name in enumerate(names):
            if name == "scale_ms_per_gflop":
                col = w_body
            elif name.startswith("scale_ms_per_gflop."):
                col = w_body * (x.dtype == name.split(".", 1)[1])
            elif name == "overhead_ms":
                col = w_c0 if w_c0 is not None else np.full(n, c0) / t
            elif name == "q":
                col = w_c0 * np.log(c0 / t) + w_body * np.log(body / t)
            elif name == "ms_per_gb":
                col = w_mem
            elif name in ("beta_k1", "beta_kn"):
                rows = one if name.endswith("k1") else ~one
                col = w_body * gamma * beta * (1.0 - sk / x.s) / a * rows
            elif name in ("gamma_k1", "gamma_kn"):
                rows = one if name.endswith("k1") else ~one
                col = w_body * np.log(a) * rows
            elif name == "sk_slope":
                col = w_body * gamma * (1.0 - beta) * ln_k / (x.s * a)
            elif name in ("c_red_half", "c_out_half"):
                axis = x.c_red if name == "c_red_half" else x.c_out
                r = p[name] / axis
                col = w_body * r / (1.0 + r)
            else:
                raise KeyError(f"no analytic derivative for parameter {name!r} of {variant}")
            out[:, k] = col
        return t, out

    return jac
