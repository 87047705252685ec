"""What a time model is: :class:`TimeModel` (a prediction function and its :class:`ParamSpec`\\ s).

The registry of models is :mod:`greenflops.alpha.models`; fitting is
:mod:`greenflops.alpha.fitting`. A model is either fitted by least squares on log residuals
(``kind="least_squares"``: the FLOPs baselines, rooflines, the α family and the GPU family) or
learned by an estimator that has no parameters to report (``kind="learned"``: the
gradient-boosted trees of :mod:`greenflops.alpha.learned`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ParamSpec", "TimeModel", "is_alpha_family", "scale_keys"]


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
    #: weak prior: the fit adds the pseudo-residual ``(u − prior) / prior_sd`` in fit units
    #: (``u = ln value`` for a log parameter); None: no prior
    prior: float | None = None
    prior_sd: float | None = None


#: ``predict_fn(params, features, scale_per_row) -> ms``
PredictFn = Callable[[Mapping[str, float], Any, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class TimeModel:
    """A time model: its parameters and a function ``predict(params, features) -> ms``.

    ``scale`` parameters are per dtype (``scale_ms_per_gflop`` for a single-dtype device,
    ``scale_ms_per_gflop.<dtype>`` with several); a dtype absent from the fit predicts NaN.

    Models whose parameters depend on the data and the device (the GPU family) give
    ``specs_fn(features, times)``; ``inactive_fn(features)`` names parameters whose term has no
    contrast in the rows (fixed at a neutral value instead of fitted); ``jacobian_fn(params,
    features, names)`` returns the prediction and ``∂ ln t / ∂ u`` in fit coordinates (``u =
    ln θ`` for a parameter fitted on a log scale, else ``θ``): analytic, one evaluation per
    Jacobian. ``group`` names the models that warm-start each other (each extends the one
    before); ``tol`` is the fit's ``ftol = xtol`` (None: scipy's default).
    """

    name: str
    description: str
    shape_params: tuple[ParamSpec, ...]
    predict_fn: PredictFn
    needs_scale: bool = True
    fixed: Mapping[str, float] = field(default_factory=dict)
    kind: str = "least_squares"
    group: str | None = None
    specs_fn: Callable[[Any, np.ndarray | None], list[ParamSpec]] | None = None
    inactive_fn: Callable[[Any], dict[str, float]] | None = None
    jacobian_fn: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None
    tol: float | None = None
    #: the device facts the model uses, if any (params.yaml records them with the fit)
    uses_device: bool = False

    @property
    def is_alpha(self) -> bool:
        return is_alpha_family(self.name)

    def param_specs(self, dtypes: Sequence[str]) -> list[ParamSpec]:
        """Every fitted parameter for data with these dtypes (models without ``specs_fn``)."""
        specs = list(self.shape_params)
        if self.needs_scale:
            for dtype in scale_keys(dtypes):
                specs.append(ParamSpec(dtype, 1.0, 1e-9, 1e9, log=True, unit="ms/GFLOP",
                                       doc="milliseconds per GFLOP (per α-GFLOP for α models)"))
        return specs

    def specs_for(self, x: Any, time_ms: np.ndarray | None = None) -> list[ParamSpec]:
        """The parameters fitted on features ``x`` (and measured times, which some models start
        from): every spec less the inactive ones."""
        specs = (self.specs_fn(x, time_ms) if self.specs_fn is not None
                 else self.param_specs(list(x.dtype)))
        inactive = self.inactive(x)
        return [s for s in specs if s.name not in inactive]

    def inactive(self, x: Any) -> dict[str, float]:
        """Parameters fixed at their neutral value on ``x`` (no contrast in the rows)."""
        return dict(self.inactive_fn(x)) if self.inactive_fn is not None else {}

    def predict(self, params: Mapping[str, float], x: Any) -> np.ndarray:
        """Predicted milliseconds for each row of ``x``."""
        full = {**self.fixed, **params}
        scale = _scale_per_row(full, x.dtype) if self.needs_scale else np.ones(len(x))
        return self.predict_fn(full, x, scale)


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
