"""Exponential trends over time, as fitted in Desislavov et al. (2021): log-linear OLS and selections.

The paper draws every trend as a straight line on a logarithmic y axis, i.e. an ordinary
least-squares fit of ``log10(y)`` on the date. Here the date is a decimal year
(:func:`decimal_year`), so the slope is in decades (factors of ten) per year and the intercept is
``log10(y)`` at year 0 (extrapolated: only the line matters, not the intercept alone).

Selections of the points a line is fitted to:

* :func:`best_per_year` -- the most accurate model of each calendar year (the paper's dashed
  "models with highest accuracy per year" in Figs. 3 and 9);
* :func:`running_max` -- models that, when released, need more than every earlier model (the
  dashed "most demanding model" line of Figs. 6 and 10);
* :func:`yearly_mean` -- the mean per calendar year (the dotted line of Figs. 9 and 10);
* :func:`pareto_front` -- the accuracy-vs-cost Pareto frontier of Fig. 4.
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
    "best_per_year",
    "decimal_year",
    "doubling_time_years",
    "fit_log_linear",
    "pareto_front",
    "running_max",
    "yearly_mean",
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


def best_per_year(
    frame: pd.DataFrame, score: str, year: str = "year", cost: str | None = None
) -> pd.DataFrame:
    """Rows with the highest ``score`` in each calendar ``year`` (the SOTA of that year).

    Ties on the score go to the lower ``cost`` when given, then to the earlier row in ``frame``,
    so the choice is deterministic. Rows with a missing score are ignored. Returns the chosen
    rows in year order, index kept.
    """
    scored = frame[frame[score].notna()]
    order = [year, score] + ([cost] if cost else [])
    ascending = [True, False] + ([True] if cost else [])
    ranked = scored.sort_values(order, ascending=ascending, kind="mergesort")
    return ranked.groupby(year, sort=True).head(1).sort_values(year, kind="mergesort")


def running_max(frame: pd.DataFrame, value: str, date: str) -> pd.DataFrame:
    """Rows whose ``value`` exceeds that of every model released strictly before them.

    Models are taken in ``date`` order; models released the same day are compared with the
    earlier dates only, and the largest of them is kept if it sets a record (so a day that sets a
    record contributes one point). The first model always qualifies. Index kept, date order.
    """
    ordered = frame.sort_values([date, value], ascending=[True, False], kind="mergesort")
    chosen: list[object] = []
    best = -math.inf
    for _day, group in ordered.groupby(date, sort=True):
        top_index = group[value].idxmax()
        top = float(group.loc[top_index, value])
        if top > best:
            chosen.append(top_index)
            best = top
    return frame.loc[chosen]


def yearly_mean(frame: pd.DataFrame, value: str, year: str = "year") -> pd.DataFrame:
    """Arithmetic mean of ``value`` per calendar ``year``: columns ``year``, ``x``, ``mean``, ``n``.

    ``x`` is the middle of the year (``year + 0.5``), where the mean is drawn and fitted.
    """
    grouped = frame.groupby(year, sort=True)[value]
    out = pd.DataFrame({"mean": grouped.mean(), "n": grouped.size()}).reset_index()
    out = out.rename(columns={year: "year"})
    out["x"] = out["year"].astype(float) + 0.5
    return out[["year", "x", "mean", "n"]]


def pareto_front(frame: pd.DataFrame, cost: str, score: str) -> pd.DataFrame:
    """Rows not dominated by another (lower-or-equal cost with higher score, or lower cost and equal score).

    Returned in increasing cost (and increasing score), the order to draw the frontier in.
    """
    ordered = frame.sort_values([cost, score], ascending=[True, False], kind="mergesort")
    chosen: list[object] = []
    best = -math.inf
    for index, row in ordered.iterrows():
        if float(row[score]) > best:
            chosen.append(index)
            best = float(row[score])
    return frame.loc[chosen]
