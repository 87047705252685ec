"""Prediction intervals of a log-linear trend: does a new point fall where the trend said it would?

A trend of Desislavov et al. (2021) is an OLS fit of ``log10(y)`` on the decimal year
(:func:`greenflops.trends.fits.fit_log_linear`). The 95% **prediction interval** at ``x0`` is the
interval for *one new observation* there (wider than the confidence band of the line)::

    yhat(x0) ± t(0.975, n-2) · s · sqrt(1 + 1/n + (x0 - xbar)² / Sxx)

with ``s² = SSR / (n - 2)`` and ``Sxx = Σ (x - xbar)²`` of the fitted points, in log10 units.
:func:`prediction_band` fits it (scipy only for the t quantile); :class:`PredictionBand` holds
everything needed to draw it or to judge a point afterwards, so a figure job rebuilds it from a
table row without scipy (:meth:`PredictionBand.from_row`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BAND_COLUMNS", "PredictionBand", "binomial_cdf", "prediction_band", "verdicts"]

#: Columns of a band as a table row (:meth:`PredictionBand.as_dict`).
BAND_COLUMNS = ["n", "slope", "intercept", "s", "x_mean", "sxx", "t", "confidence"]


@dataclass(frozen=True)
class PredictionBand:
    """OLS fit of ``log10(y)`` on ``x`` with what a prediction interval needs (log10 units)."""

    n: int
    slope: float
    intercept: float
    s: float  #: residual standard error, n - 2 degrees of freedom
    x_mean: float
    sxx: float  #: Σ (x - x_mean)² of the fitted points
    t: float  #: t quantile of the confidence level, n - 2 degrees of freedom
    confidence: float = 0.95

    def predict_log10(self, x: float | Sequence[float] | np.ndarray) -> np.ndarray:
        """``log10(y)`` on the fitted line at ``x``."""
        return self.intercept + self.slope * np.asarray(x, dtype=float)

    def half_width(self, x: float | Sequence[float] | np.ndarray) -> np.ndarray:
        """Half-width (log10 units) of the interval of ONE new observation at ``x``."""
        x = np.asarray(x, dtype=float)
        return self.t * self.s * np.sqrt(1.0 + 1.0 / self.n + (x - self.x_mean) ** 2 / self.sxx)

    def bounds(self, x: float | Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of ``y`` (not its log) at ``x``."""
        centre, half = self.predict_log10(x), self.half_width(x)
        return 10.0 ** (centre - half), 10.0 ** (centre + half)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | pd.Series) -> PredictionBand:
        """The band of one row of a bands table (columns :data:`BAND_COLUMNS`)."""
        return cls(n=int(row["n"]), **{c: float(row[c]) for c in BAND_COLUMNS if c != "n"})


def prediction_band(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> PredictionBand:
    """Fit ``log10(y) = intercept + slope·x`` by OLS; the band of a new observation.

    The same line as :func:`greenflops.trends.fits.fit_log_linear` (to rounding). Needs at least 3
    points (the residual variance has ``n - 2`` degrees of freedom), positive ``y`` and two
    distinct ``x``; raises ``ValueError`` otherwise.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    n = int(xa.size)
    if n < 3 or ya.size != n:
        raise ValueError(f"a prediction interval needs at least 3 (x, y) points, got {n}")
    if np.any(ya <= 0):
        raise ValueError("y must be positive to be fitted on a log scale")
    la = np.log10(ya)
    x_mean = float(xa.mean())
    sxx = float(((xa - x_mean) ** 2).sum())
    if sxx == 0:
        raise ValueError("all x are equal: no slope can be fitted")
    slope = float(((xa - x_mean) * (la - la.mean())).sum() / sxx)
    intercept = float(la.mean() - slope * x_mean)
    resid = la - (intercept + slope * xa)
    s = math.sqrt(float((resid**2).sum()) / (n - 2))
    from scipy import stats  # here: drawing a band from a table row needs no scipy

    t = float(stats.t.ppf(0.5 + confidence / 2, n - 2))
    return PredictionBand(n, slope, intercept, s, x_mean, sxx, t, confidence)


def verdicts(band: PredictionBand, points: pd.DataFrame, x: str = "x", y: str = "y") -> pd.DataFrame:
    """Where each of ``points`` lies relative to ``band``; the rows of ``points`` with
    ``predicted``, ``pi_low``, ``pi_high``, ``z`` and ``side`` added.

    ``z`` = residual of ``log10(y)`` in units of the half-width (``|z| <= 1``: inside); ``side`` is
    ``inside``, ``above`` or ``below``. Order and index of ``points`` kept.
    """
    xs = points[x].to_numpy(dtype=float)
    centre = band.predict_log10(xs)
    half = band.half_width(xs)
    resid = np.log10(points[y].to_numpy(dtype=float)) - centre
    inside = np.abs(resid) <= half  # no division: also right for a zero-width band
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(half > 0, resid / np.where(half > 0, half, 1.0), np.sign(resid) * np.inf)
    out = points.copy()
    out["predicted"] = 10.0**centre
    out["pi_low"] = 10.0 ** (centre - half)
    out["pi_high"] = 10.0 ** (centre + half)
    out["z"] = z
    out["side"] = np.where(inside, "inside", np.where(resid > 0, "above", "below"))
    return out


def binomial_cdf(k: int, n: int, p: float) -> float:
    """``P(X <= k)`` for ``X ~ Binomial(n, p)``: how likely at most ``k`` of ``n`` new points fall
    inside an interval that covers each with probability ``p`` (1.0 when ``k >= n``)."""
    if n < 0 or not 0.0 <= p <= 1.0:
        raise ValueError("need n >= 0 and 0 <= p <= 1")
    return float(min(1.0, sum(math.comb(n, i) * p**i * (1.0 - p) ** (n - i) for i in range(k + 1))))
