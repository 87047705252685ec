"""The answer to "did the trends hold?": one run per adaptation variant, the answer and sensitivity
tables, and the report's paragraph, all generated from the comparison
(:mod:`greenflops.trends.extended`).

* :class:`Analysis` -- the inputs and the paper period; :meth:`Analysis.run` adapts the new GPUs
  by one variant and compares both periods;
* :func:`answer_table` -- one row per trend: paper-period vs through-2025 doubling time with its
  95% CI, and how many post-2021 points lie inside the paper-period prediction interval;
* :func:`sensitivity_table` -- the answer's hardware and Joules rows under every variant;
* :func:`answer_markdown`, :func:`sensitivity_markdown`, :func:`verdict_paragraph` -- as text.

A doubling time's CI is ``log10(2) / (slope CI)``, bounds swapped; when the slope's CI reaches
zero the upper bound is ``inf`` (no significant growth).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from greenflops.io.render import to_markdown
from greenflops.trends.adaptation import AdaptationSpec, new_gpu_rows, paper_adaptation_factors
from greenflops.trends.extended import (
    TRENDS,
    Baseline,
    Comparison,
    PeriodResult,
    analyse_period,
    baseline,
    compare,
    new_cv_rows,
    trend_fit,
)
from greenflops.trends.prediction import binomial_cdf

__all__ = [
    "Analysis",
    "Run",
    "answer_markdown",
    "answer_table",
    "doubling_ci",
    "last_dates",
    "sensitivity_markdown",
    "sensitivity_table",
    "verdict_paragraph",
]

LOG2 = math.log10(2.0)


@dataclass(frozen=True)
class Run:
    """One adaptation variant: the comparison and the through-2025 analysis."""

    variant: str
    include_excluded: bool
    comparison: Comparison
    extended: PeriodResult


@dataclass(frozen=True)
class Analysis:
    """The paper's inputs and the new tables, with what every variant shares: the adaptation
    factors and the paper period (:class:`Baseline`)."""

    table9: pd.DataFrame  #: Table 9 as the paper's gpu_efficiency job computes it
    models: pd.DataFrame  #: cv_models_resolved.csv as the paper's energy job reads it
    new_gpus: pd.DataFrame
    new_models: pd.DataFrame
    spec: AdaptationSpec
    factors: pd.DataFrame  #: :func:`paper_adaptation_factors`
    base: Baseline

    @classmethod
    def of(cls, table9: pd.DataFrame, gpus: pd.DataFrame, models: pd.DataFrame,
           new_gpus: pd.DataFrame, new_models: pd.DataFrame, spec: AdaptationSpec,
           display_names: Mapping[str, str], confidence: float = 0.95) -> Analysis:
        """From the paper's ``table9``, ``gpus`` (Table 8) and ``models``, the curated post-2021
        ``new_gpus`` and ``new_models``, and ``display_names`` (Table 8 -> Table 9 GPU names)."""
        factors = paper_adaptation_factors(table9, gpus, display_names,
                                           spec.paper_tensor_precision)
        base = baseline(analyse_period(table9, models), confidence)
        return cls(table9, models, new_gpus, new_models, spec, factors, base)

    def run(self, variant: str | None = None, include_excluded: bool = False) -> Run:
        """Both periods compared with the new GPUs adapted by ``variant`` (default: the
        headline), the excluded GPUs in or out."""
        name = variant or self.spec.headline
        new_eff = new_gpu_rows(self.new_gpus, self.factors, self.spec.variants[name], self.spec,
                               include_excluded=include_excluded)
        extended = analyse_period(self.table9, self.models, new_eff, new_cv_rows(self.new_models))
        return Run(name, include_excluded, compare(self.base, extended), extended)


def doubling_ci(slope_low: float, slope_high: float) -> tuple[float, float]:
    """The doubling time's CI of a slope CI (decades per year): ``inf`` where it reaches zero."""
    low = LOG2 / slope_high if slope_high > 0 else math.inf
    high = LOG2 / slope_low if slope_low > 0 else math.inf
    return low, high


def _growth_pct(slope: float) -> float:
    """Growth per year, in percent, of a slope in decades per year."""
    return (10.0 ** float(slope) - 1.0) * 100.0


def answer_table(comparison: Comparison) -> pd.DataFrame:
    """One row per trend of :data:`TRENDS`: n, doubling time and its CI, growth per year in both
    periods; the post-2021 points inside / above / below the paper-period prediction interval,
    and ``p_coverage`` = P(at most that many inside | each inside with the interval's confidence)."""
    rows = []
    confidence = float(comparison.bands["confidence"].iloc[0])
    for t in TRENDS:
        row: dict[str, Any] = {"trend": t.id, "name": t.name}
        for period, tag in (("paper", "paper"), ("through_2025", "2025")):
            f = trend_fit(comparison.fits, t, period)
            low, high = doubling_ci(float(f["slope_ci_low"]), float(f["slope_ci_high"]))
            row |= {f"n_{tag}": int(f["n"]), f"doubling_{tag}": float(f["doubling_time_years"]),
                    f"doubling_{tag}_ci_low": low, f"doubling_{tag}_ci_high": high,
                    f"growth_pct_{tag}": _growth_pct(f["slope_log10_per_year"]),
                    f"x_max_{tag}": float(f["x_max"])}
        v = comparison.verdicts[comparison.verdicts["trend"] == t.id]
        inside = int((v["side"] == "inside").sum())
        row |= {"n_new": len(v), "n_inside": inside, "n_above": int((v["side"] == "above").sum()),
                "n_below": int((v["side"] == "below").sum()),
                "p_coverage": binomial_cdf(inside, len(v), confidence) if len(v) else math.nan}
        rows.append(row)
    return pd.DataFrame(rows)


def sensitivity_table(runs: Iterable[Run]) -> pd.DataFrame:
    """The answer's rows that depend on the adaptation (every trend but the GFLOPs ones) under
    each run: long format, one row per run and trend."""
    frames = []
    for r in runs:
        answer = answer_table(r.comparison)
        answer = answer[~answer["trend"].str.startswith("cv_gflops")]
        frames.append(answer.assign(variant=r.variant, include_excluded_gpus=r.include_excluded))
    out = pd.concat(frames, ignore_index=True)
    first = ["variant", "include_excluded_gpus", "trend"]
    return out[first + [c for c in out.columns if c not in first and c != "name"]]


def _years(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.2f}"


def _doubling(row: Mapping[str, Any], tag: str) -> str:
    """"1.96 [1.32, 3.79]" (years)."""
    low, high = row[f"doubling_{tag}_ci_low"], row[f"doubling_{tag}_ci_high"]
    return f"{_years(row[f'doubling_{tag}'])} [{_years(low)}, {_years(high)}]"


def _inside(row: Mapping[str, Any]) -> str:
    if not row["n_new"]:
        return "no post-2021 points"
    return (f"{row['n_inside']}/{row['n_new']} (above {row['n_above']}, below {row['n_below']}; "
            f"P = {row['p_coverage']:.2g})")


def answer_markdown(answer: pd.DataFrame, headline: str, confidence: float) -> str:
    """The answer table as Markdown, with how to read it (``confidence``: of the prediction
    intervals; the slope CIs are the paper's, 95%)."""
    level = f"{confidence:.0%}"
    shown = pd.DataFrame({
        "name": answer["name"],
        "n_paper": answer["n_paper"],
        "doubling_paper": [_doubling(r, "paper") for _, r in answer.iterrows()],
        "n_2025": answer["n_2025"],
        "doubling_2025": [_doubling(r, "2025") for _, r in answer.iterrows()],
        "inside": [_inside(r) for _, r in answer.iterrows()],
    })
    headers = ["Trend", "Paper period: n", "doubling, years [95% CI]", "Through 2025: n",
               "doubling, years [95% CI]", f"Post-2021 points inside the paper-period {level} PI"]
    notes = [
        "Same method as the paper: OLS of log10(y) on the decimal year; 95% CI of the slope (t, "
        "n - 2 dof); doubling time = log10(2) / slope, its CI from the slope's (∞: the slope's CI "
        "reaches zero, no significant growth). Paper period: the paper's rows only (equal to "
        "data/processed/trend_fits.csv). Through 2025: plus every used post-2021 row "
        "(data/raw/tables/gpus_2021_2025.csv, cv_models_2021_2025.csv).",
        f"New GPUs adapted by `{headline}` (workflow/resources/trends2025.yaml; other choices: the "
        f"sensitivity table). PI: the paper-period fit's {level} prediction interval of one new "
        "observation at the point's date; every point in data/processed/trends2025/verdicts.csv. "
        "P: the chance of at most that many inside if each new point fell inside with probability "
        f"{confidence:g} (the points are not independent: a guide, not a test).",
    ]
    return to_markdown(shown, headers=headers, notes=notes,
                       title="Did the trends hold? Paper period vs through 2025")


def sensitivity_markdown(sensitivity: pd.DataFrame, headline: str,
                         descriptions: Mapping[str, str], confidence: float) -> str:
    """The sensitivity table as Markdown: one row per run, one column per trend."""
    names = {t.id: t.name for t in TRENDS}
    runs = sensitivity[["variant", "include_excluded_gpus"]].drop_duplicates()
    trends = list(dict.fromkeys(sensitivity["trend"]))
    rows = []
    for _, run_ in runs.iterrows():
        part = sensitivity[(sensitivity["variant"] == run_["variant"])
                           & (sensitivity["include_excluded_gpus"] == run_["include_excluded_gpus"])]
        label = run_["variant"] + (" (headline)" if run_["variant"] == headline else "")
        row = {"Adaptation of new GPUs": label,
               "Excluded GPUs": "included" if run_["include_excluded_gpus"] else "left out"}
        for trend in trends:
            r = part[part["trend"] == trend].iloc[0]
            row[names[trend]] = f"{_doubling(r, '2025')}; {r['n_inside']}/{r['n_new']} in PI"
        rows.append(row)
    notes = ["Through-2025 doubling time, years [95% CI]; post-2021 points inside the paper-period "
             f"{confidence:.0%} prediction interval. Variants (workflow/resources/trends2025.yaml):"]
    notes += [f"- `{name}`: {text}" for name, text in descriptions.items()]
    notes += ["- excluded GPUs: paper-window launches and export variants (exclude_reason in "
              "data/raw/tables/gpus_2021_2025.csv), left out of every other run."]
    return to_markdown(pd.DataFrame(rows), title="How much the answer depends on adapting new GPUs",
                       notes=notes)


def _verdict(row: Mapping[str, Any], confidence: float) -> str:
    n, inside = row["n_new"], row["n_inside"]
    if not n:
        return "no post-2021 point to judge."
    share = f"{inside} of {n} post-2021 points" if n > 1 else "the one post-2021 point"
    where = f"above {row['n_above']}, below {row['n_below']}"
    text = f"{share} lie inside the paper-period fit's {confidence:.0%} prediction interval ({where})"
    if inside == n:
        text += ": the new data fall within it"
    elif row["p_coverage"] >= 0.05:
        text += (f": consistent with its coverage (P = {row['p_coverage']:.2g} of at most "
                 f"{inside} inside if the trend held)")
    else:
        side = "below" if row["n_below"] > row["n_above"] else "above"
        text += (f": fewer than its coverage allows (P = {row['p_coverage']:.2g} of at most "
                 f"{inside} inside if the trend held); the new data depart from it, mostly {side}")
    return text + ("" if n >= 5 else ", from too few points to say more") + "."


def verdict_paragraph(answer: pd.DataFrame, confidence: float, headline: str,
                      last_dates: Mapping[str, str]) -> str:
    """The report's paragraph: per trend, whether the post-2021 data fall within the paper-period
    fit's prediction interval, with the doubling times of both periods. ``last_dates``: the latest
    date of the used post-2021 rows per table (what "through 2025" reaches)."""
    lines = [
        "# Did the trends hold after 2021?",
        "",
        "For each trend of Desislavov et al. (2021), the paper's fit on its own rows (paper "
        "period) gives a prediction interval for a new observation at any date; the post-2021 "
        f"rows (GPUs up to {last_dates.get('gpus', 'none')}, CV models up to "
        f"{last_dates.get('cv_models', 'none')}) either fall within it or not. New GPUs are "
        f"adapted by `{headline}` (docs/trends2025.md).",
        "",
    ]
    for _, r in answer.iterrows():
        lines.append(
            f"- **{r['name']}**: {_verdict(r, confidence)} Doubling time {_doubling(r, 'paper')} "
            f"years in the paper period (n = {r['n_paper']}), {_doubling(r, '2025')} through 2025 "
            f"(n = {r['n_2025']})."
        )
    lines += [
        "",
        "The points are not independent draws (GPUs of one generation, models of one family), so "
        "P, the chance of so few points inside if each fell inside with the interval's "
        "confidence, is a guide rather than a test. Generated from "
        "data/processed/trends2025/answer.csv.",
    ]
    return "\n".join(lines) + "\n"


def last_dates(new: Mapping[str, tuple[pd.DataFrame, str]]) -> dict[str, str]:
    """Latest date of the used rows (no ``exclude_reason``) of each new table: name -> (table,
    date column)."""
    out = {}
    for name, (table, column) in new.items():
        used = table[table["exclude_reason"].isna() | (table["exclude_reason"].astype(str) == "")]
        dates = used[column].dropna().astype(str)
        if len(dates):
            out[name] = max(dates)
    return out

