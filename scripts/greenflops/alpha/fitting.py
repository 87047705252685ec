"""Fitting one time model to measured times: least squares on the relative error.

:func:`fit_model` minimises the relative error ``predicted / measured − 1`` (or, among
:data:`RESIDUALS`, ``ln(predicted / measured)``) with bounds and several starts
(:func:`scipy.optimize.least_squares`, method ``trf``); standard errors come from the Jacobian at
the optimum (``σ² (JᵀJ)⁻¹``). The relative error is what the fits are judged on (MAPE): a fit on
``ln`` ratios weighs a twofold over-prediction (100% off) like a twofold under-prediction (50%
off), so a model that cannot describe every row settles where it over-predicts some by far more
than the metric forgives. Models may add weak priors (one pseudo-residual per parameter,
:class:`~greenflops.alpha.timemodel.ParamSpec`), parameters fixed where the rows give no
contrast, and an analytic Jacobian (the GPU family). A learned model
(:mod:`greenflops.alpha.learned`) is fitted by its estimator instead. Validation across sweeps
and folds is :mod:`greenflops.alpha.validation`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from greenflops.alpha.device_facts import DeviceFacts
from greenflops.alpha.features import Features
from greenflops.alpha.models import ParamSpec, TimeModel, get_model

__all__ = ["DEFAULT_RESIDUAL", "OBJECTIVES", "RESIDUALS", "FitResult", "fit_model"]

#: What a fit minimises per row (config ``alpha.residual``), as ``params.yaml`` states it.
OBJECTIVES = {
    "relative": "least squares on the relative error predicted / measured - 1 (what MAPE counts)",
    "log": "least squares on log(predicted) - log(measured)",
}
RESIDUALS = tuple(OBJECTIVES)
DEFAULT_RESIDUAL = "relative"


@dataclass
class FitResult:
    """A fitted model: parameter values and standard errors (natural units), fit statistics."""

    model: str
    params: dict[str, float]
    stderr: dict[str, float]
    at_bound: dict[str, bool]
    n: int
    rms_log_residual: float
    starts: int
    cost: float
    specs: list[ParamSpec] = field(default_factory=list)
    #: parameters fixed at a neutral value because the rows give their term no contrast
    inactive: dict[str, float] = field(default_factory=dict)
    #: a learned model's fitted estimator (predicts ms from features); None otherwise
    predictor: Any = None

    def predict(self, x: Features) -> np.ndarray:
        if self.predictor is not None:
            return self.predictor.predict(x)
        return get_model(self.model).predict(self.params, x)


def _to_internal(spec: ParamSpec, value: float) -> float:
    return math.log(value) if spec.log else value


def _to_natural(spec: ParamSpec, value: float) -> float:
    return math.exp(value) if spec.log else value


def _bounds(specs: Sequence[ParamSpec]) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([_to_internal(s, s.lower) for s in specs])
    hi = np.array([_to_internal(s, s.upper) for s in specs])
    return lo, hi


def _draw_start(spec: ParamSpec, rng: np.random.Generator) -> float:
    lo, hi = spec.start_range if spec.start_range is not None else (spec.lower, spec.upper)
    if spec.log:
        return float(rng.uniform(math.log(lo), math.log(hi)))
    return float(rng.uniform(lo, hi))


def _params_of(specs: Sequence[ParamSpec], u: np.ndarray) -> dict[str, float]:
    return {s.name: _to_natural(s, float(v)) for s, v in zip(specs, u)}


def fit_model(
    model: TimeModel | str,
    x: Features,
    time_ms: np.ndarray,
    *,
    starts: int = 8,
    seed: int = 0,
    fixed: Mapping[str, float] | None = None,
    warm_starts: Sequence[Mapping[str, float]] = (),
    loss: str = "linear",
    f_scale: float = 1.0,
    residual: str = DEFAULT_RESIDUAL,
) -> FitResult:
    """Fit ``model`` to measured ``time_ms`` by least squares on ``residual`` (:data:`RESIDUALS`).

    ``starts`` starting points: the specs' own start values, then random ones (seeded, so the
    fit is deterministic) drawn from each parameter's ``start_range``; then each of
    ``warm_starts`` (parameter values of an earlier fit). ``starts=0`` starts from the warm starts
    only (a fold of a cross-validation, warm-started at the fit on all rows). The scale parameters start
    at the value that zeroes the mean log residual of each dtype. ``fixed`` adds constants the
    model needs but does not fit (the roofline's peak and bandwidth). Parameters marked
    ``cap_at_min_time`` (per-call overheads) are bounded by the fastest measured time, or the
    device's measured per-call floor when that is faster
    (:meth:`~greenflops.alpha.device_facts.DeviceFacts.fastest_call_ms`). ``loss`` and
    ``f_scale`` are :func:`scipy.optimize.least_squares`'s (robust loss, residual scale).
    """
    if residual not in RESIDUALS:
        raise ValueError(f"residual must be one of {RESIDUALS}, not {residual!r}")
    relative = residual == "relative"
    model = get_model(model) if isinstance(model, str) else model
    y = np.asarray(time_ms, dtype=float)
    if len(y) != len(x) or len(y) == 0:
        raise ValueError("need one measured time per feature row, and at least one row")
    if np.any(~np.isfinite(y)) or np.any(y <= 0):
        raise ValueError("measured times must be finite and > 0")
    if model.kind == "learned":
        from greenflops.alpha.learned import fit_trees

        fitted = fit_trees(x, y, loss=loss, f_scale=f_scale)
        res = np.log(fitted.predict(x)) - np.log(y)
        return FitResult(model.name, {}, {}, {}, len(y), float(np.sqrt(np.mean(res**2))), 0,
                         float(0.5 * np.sum(res**2)), [], predictor=fitted)
    log_y = np.log(y)
    inactive = model.inactive(x)
    extra = {**inactive, **dict(fixed or {})}
    specs = [s for s in model.specs_for(x, y) if s.name not in extra]
    if not specs:
        pred = model.predict(extra, x)
        res = np.log(pred) - log_y
        return FitResult(model.name, dict(extra), {k: 0.0 for k in extra},
                         {k: False for k in extra}, len(y),
                         float(np.sqrt(np.mean(res**2))), 0, float(0.5 * np.sum(res**2)), [])
    scale_idx = [i for i, s in enumerate(specs) if s.name.startswith("scale_ms_per_gflop")]
    lo, hi = _bounds(specs)
    fastest = (x.device or DeviceFacts()).fastest_call_ms(y)
    for i, spec in enumerate(specs):
        if spec.cap_at_min_time:  # an overhead cannot exceed the fastest call it is part of
            hi[i] = min(hi[i], _to_internal(spec, fastest))
            lo[i] = min(lo[i], hi[i] - 1e-6)

    priors = [(i, s.prior, s.prior_sd) for i, s in enumerate(specs)
              if s.prior is not None and s.prior_sd]
    prior_rows = np.zeros((len(priors), len(specs)))
    for row, (i, _, sd) in enumerate(priors):
        prior_rows[row, i] = 1.0 / sd

    def residuals(u: np.ndarray) -> np.ndarray:
        pred = model.predict({**extra, **_params_of(specs, u)}, x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = pred / y - 1.0 if relative else np.log(pred) - log_y
        r = np.where(np.isfinite(r), r, 1e3)
        if priors:
            r = np.concatenate([r, [(u[i] - m) / sd for i, m, sd in priors]])
        return r

    names = [s.name for s in specs]
    analytic = model.jacobian_fn is not None  # in fit coordinates (ln θ for log parameters)

    def jacobian(u: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            pred, jac = model.jacobian_fn({**model.fixed, **extra, **_params_of(specs, u)}, x,
                                          names)
            if relative:  # ∂(t/y − 1)/∂u = (t/y) · ∂ln t/∂u
                jac = jac * (pred / y)[:, None]
        jac = np.where(np.isfinite(jac), jac, 0.0)
        return np.vstack([jac, prior_rows]) if priors else jac

    def profiled_scale(u: np.ndarray) -> np.ndarray:
        """Set every scale so that the mean log residual of its dtype is zero."""
        u = u.copy()
        for i in scale_idx:
            u[i] = 0.0  # scale 1
        if not scale_idx:
            return u
        pred = model.predict({**extra, **_params_of(specs, u)}, x)
        for i in scale_idx:
            name = specs[i].name
            rows = (np.ones(len(y), bool) if name == "scale_ms_per_gflop"
                    else x.dtype == name.split(".", 1)[1])
            u[i] = float(np.mean(log_y[rows] - np.log(pred[rows])))
        return np.clip(u, lo + 1e-9, hi - 1e-9)

    rng = np.random.default_rng(seed)
    initial = [np.array([_to_internal(s, s.init) for s in specs])][: max(0, starts)]
    initial += [np.array([_draw_start(s, rng) for s in specs]) for _ in range(starts - 1)]
    for warm in warm_starts:
        initial.append(np.array([
            _to_internal(s, warm.get(s.name, s.neutral if s.neutral is not None else s.init))
            for s in specs
        ]))
    if not initial:
        raise ValueError("no starting point: give starts >= 1 or a warm start")
    best = None
    tol = {} if model.tol is None else {"ftol": model.tol, "xtol": model.tol}
    for u0 in initial:
        u0 = profiled_scale(np.clip(u0, lo + 1e-9, hi - 1e-9))
        sol = least_squares(residuals, u0, jac=jacobian if analytic else "2-point",
                            bounds=(lo, hi), method="trf", x_scale="jac", max_nfev=400,
                            loss=loss, f_scale=f_scale, **tol)
        if best is None or sol.cost < best.cost - 1e-12:
            best = sol
    assert best is not None
    n, p = len(y), len(specs)
    values = _params_of(specs, best.x)
    data_res = best.fun[:n]
    stderr = _stderr(best.jac, data_res, specs, best.x, n, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_res = np.log(model.predict({**extra, **values}, x)) - log_y
    at_bound = {s.name: bool(best.active_mask[i] != 0) for i, s in enumerate(specs)}
    return FitResult(
        model=model.name,
        params={**extra, **values},
        stderr={**{k: 0.0 for k in extra}, **stderr},
        at_bound={**{k: False for k in extra}, **at_bound},
        n=n,
        rms_log_residual=float(np.sqrt(np.mean(log_res**2))),
        starts=len(initial),
        cost=float(best.cost),
        specs=list(specs),
        inactive=dict(inactive),
    )


def _stderr(jac: np.ndarray, res: np.ndarray, specs: Sequence[ParamSpec], u: np.ndarray, n: int,
            p: int) -> dict[str, float]:
    """Standard errors in natural units from ``σ² (JᵀJ)⁻¹`` (NaN where not identifiable)."""
    dof = max(n - p, 1)
    sigma2 = float(np.sum(res**2)) / dof
    jtj = jac.T @ jac
    out: dict[str, float] = {}
    try:
        eig = np.linalg.eigvalsh(jtj)
        singular = eig.min() <= eig.max() * 1e-12
        cov = np.linalg.pinv(jtj) * sigma2
    except np.linalg.LinAlgError:
        singular, cov = True, np.full((p, p), np.nan)
    for i, spec in enumerate(specs):
        var = cov[i, i]
        if singular and (np.linalg.norm(jac[:, i]) == 0 or not np.isfinite(var)):
            out[spec.name] = float("nan")
            continue
        sd = math.sqrt(max(var, 0.0))
        out[spec.name] = _to_natural(spec, float(u[i])) * sd if spec.log else sd
    return out

