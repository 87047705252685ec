"""Which points a trend line is fitted to, as in Desislavov et al. (2021).

* :func:`best_per_year` -- the most accurate model of each calendar year (the paper's dashed
  "models with highest accuracy per year" in Figs. 3 and 9);
* :func:`running_max` -- models that, when released, need more than every earlier model (the
  dashed "most demanding model" line of Figs. 6 and 10);
* :func:`yearly_mean` -- the mean per calendar year (the dotted line of Figs. 9 and 10);
* :func:`pareto_front` -- the accuracy-vs-cost Pareto frontier of Fig. 4.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["best_per_year", "pareto_front", "running_max", "yearly_mean"]


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
