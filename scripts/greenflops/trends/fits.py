"""Exponential trends over time, as fitted in Desislavov et al. (2021): log-linear OLS and selections.

The paper draws every trend as a straight line on a logarithmic y axis, i.e. an ordinary
least-squares fit of ``log10(y)`` on the date. Here the date is a decimal year
(:func:`decimal_year`), so the slope is in decades (factors of ten) per year and the intercept is
``log10(y)`` at year 0 (extrapolated: only the line matters, not the intercept alone).

The points a line is fitted to are chosen in :mod:`greenflops.trends.selection`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = [
    "LogLinearFit",
    "decimal_year",
    "doubling_time_years",
    "fit_log_linear",
]


def decimal_year(date: str | dt.date | pd.Timestamp) -> float:
    """Date as a fractional year: ``year + (day of year - 1) / days in that year``.

    ``2020-01-01`` -> 2020.0; ``2021-07-02`` -> 2021.5 (day 183 of 365). Accepts ISO strings.
    """
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    elif isinstance(date, pd.Timestamp):
        date = date.date()
    elif isinstance(date, dt.datetime):
        date = date.date()
    start = dt.date(date.year, 1, 1)
    days_in_year = (dt.date(date.year + 1, 1, 1) - start).days
    return date.year + (date - start).days / days_in_year


def doubling_time_years(slope_log10_per_year: float) -> float:
    """Years for the fitted quantity to double: ``log10(2) / slope`` (negative: halving time).

    A zero slope has no doubling time (``inf``).
    """
    if slope_log10_per_year == 0:
        return math.inf
    return math.log10(2) / slope_log10_per_year


@dataclass(frozen=True)
class LogLinearFit:
    """OLS fit ``log10(y) = intercept + slope * x`` with a 95% (or other) CI of the slope."""

    n: int
    slope_log10_per_year: float
    intercept: float
    r2: float
    slope_ci_low: float
    slope_ci_high: float
    doubling_time_years: float

    def predict(self, x: float | Sequence[float] | np.ndarray) -> np.ndarray:
        """``y`` (not its log) on the fitted line at decimal years ``x``."""
        return 10.0 ** (self.intercept + self.slope_log10_per_year * np.asarray(x, dtype=float))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def fit_log_linear(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> LogLinearFit:
    """Fit ``log10(y)`` on ``x`` by ordinary least squares (:func:`scipy.stats.linregress`).

    The slope's confidence interval uses the t distribution with ``n - 2`` degrees of freedom
    (``slope ± t * stderr``); with exactly two points it is undefined (NaN). Raises ``ValueError``
    for fewer than two points, non-positive ``y``, or all-equal ``x``.
    """
    x_arr = np.asarray(x, dtype=float)
    y_arr = np.asarray(y, dtype=float)
    if x_arr.shape != y_arr.shape or x_arr.ndim != 1:
        raise ValueError("x and y must be 1-D sequences of the same length")
    n = int(x_arr.size)
    if n < 2:
        raise ValueError(f"a line needs at least 2 points, got {n}")
    if not np.all(np.isfinite(x_arr)) or not np.all(np.isfinite(y_arr)):
        raise ValueError("x and y must be finite")
    if np.any(y_arr <= 0):
        raise ValueError("y must be positive to be fitted on a log scale")
    if np.all(x_arr == x_arr[0]):
        raise ValueError("all x are equal: no slope can be fitted")
    from scipy import stats  # imported here: jobs that only select rows skip its import cost

    result = stats.linregress(x_arr, np.log10(y_arr))
    slope = float(result.slope)
    if n > 2:
        t = float(stats.t.ppf(0.5 + confidence / 2, n - 2))
        half = t * float(result.stderr)
        low, high = slope - half, slope + half
    else:
        low = high = math.nan
    return LogLinearFit(
        n=n,
        slope_log10_per_year=slope,
        intercept=float(result.intercept),
        r2=float(result.rvalue) ** 2,
        slope_ci_low=low,
        slope_ci_high=high,
        doubling_time_years=doubling_time_years(slope),
    )
