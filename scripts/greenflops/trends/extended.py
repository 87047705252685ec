"""Did the trends of Desislavov et al. (2021) hold? The paper's fits with the rows through 2025.

The same analysis as the paper's, run twice: on the paper's rows (the **paper period**) and on the
paper's rows plus the curated post-2021 rows (**through 2025**; ``extension_tables`` of
``workflow/resources/tables.yaml``). :func:`analyse_period` chains the paper's own functions
(:func:`greenflops.trends.lines.hardware_fits`, ``add_energy``, ``mark_cv_sota``, ``cv_fits``) in
the order the paper's jobs run them, with the Fig. 8 fit passing through its CSV text as it does
between those jobs (:func:`as_written`), so that with no new rows every number equals the paper
outputs bit for bit. :func:`baseline` fits each trend's paper-period 95% prediction interval
(:mod:`greenflops.trends.prediction`) and :func:`compare` says where each post-2021 point lies.

The trends compared are :data:`TRENDS`; the new GPUs' Table 9 rows come from
:mod:`greenflops.trends.adaptation`. Everything returns new DataFrames; nothing reads files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenflops.io.outputs import CSV_FLOAT_FORMAT
from greenflops.trends.lines import (
    FIT_COLUMNS,
    add_energy,
    add_time_columns,
    cv_fits,
    efficiency_fit,
    hardware_fits,
    mark_cv_sota,
)
from greenflops.trends.prediction import BAND_COLUMNS, PredictionBand, prediction_band, verdicts
from greenflops.trends.selection import yearly_mean

__all__ = [
    "CV_COLUMNS",
    "TRENDS",
    "Baseline",
    "Comparison",
    "PeriodResult",
    "Trend",
    "analyse_period",
    "as_written",
    "baseline",
    "check_post_paper",
    "compare",
    "new_cv_rows",
    "trend_fit",
    "trend_of",
    "trend_points",
]

#: Columns of the new CV rows that the paper's analysis reads (as in cv_models_resolved.csv).
CV_COLUMNS = ["model", "extra_data", "architecture", "release_date", "top1_accuracy_pct",
              "params_m", "gflops"]
PAPER, POST = "paper", "post_paper"


@dataclass(frozen=True)
class Trend:
    """One fitted trend of the paper: a row of its fits (figure, domain, quantity, subset)."""

    id: str  #: short name, used in file names: "cv_gflops_all"
    figure: str
    domain: str
    quantity: str
    subset: str
    name: str  #: what a reader calls it

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.figure, self.domain, self.quantity, self.subset)


#: The trends compared, in the order of the answer table (Fig. 13 repeats Fig. 9's lines).
TRENDS: tuple[Trend, ...] = (
    Trend("cv_gflops_all", "fig03", "cv", "gflops", "all",
          "CV GFLOPs per forward pass, all models (Fig. 3, solid)"),
    Trend("cv_gflops_best", "fig03", "cv", "gflops", "sota_per_year",
          "CV GFLOPs, most accurate model per year (Fig. 3, dashed)"),
    Trend("gpu_gflops_per_watt_cv", "fig08", "cv", "gflops_per_watt", "fp32_and_adapted",
          "GPU GFLOPS/W adapted for CV (Fig. 8)"),
    Trend("gpu_gflops_per_watt_nlp", "fig08", "nlp", "gflops_per_watt", "fp32_and_adapted",
          "GPU GFLOPS/W adapted for NLP (Fig. 8)"),
    Trend("cv_joules_all", "fig09", "cv", "joules", "all",
          "CV Joules per forward pass, all models (Figs. 9/13, solid)"),
    Trend("cv_joules_best", "fig09", "cv", "joules", "sota_per_year",
          "CV Joules, most accurate model per year (Figs. 9/13, dashed)"),
    Trend("cv_joules_mean", "fig09", "cv", "joules", "yearly_mean",
          "CV Joules, mean per year (Figs. 9/13, dotted)"),
)


def trend_of(trend_id: str) -> Trend:
    """The trend named ``trend_id``."""
    for trend in TRENDS:
        if trend.id == trend_id:
            return trend
    raise ValueError(f"unknown trend {trend_id!r}; known: {', '.join(t.id for t in TRENDS)}")


def as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as the next job reads it back from a processed CSV (``write_csv``'s float
    format, then ``pd.read_csv``): the paper's energy job reads the Fig. 8 fit this way."""
    text = frame.to_csv(index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")
    return pd.read_csv(io.StringIO(text))


def check_post_paper(new: pd.DataFrame, date: str, cutoff: str, table: str) -> None:
    """Raise ``ValueError`` unless exactly the rows of ``new`` dated on or before ``cutoff`` (the
    latest date of the paper's own table) have ``exclude_reason`` ``paper_window``: those are rows
    the paper could have had, not post-2021 evidence, and would change the paper-period sample."""
    dated = new[new[date].notna()]
    early = dated[date].astype(str) <= cutoff
    marked = dated["exclude_reason"].astype(str) == "paper_window"
    for what, bad in (("on or before", early & ~marked), ("after", ~early & marked)):
        if bad.any():
            row = dated[bad].iloc[0]
            raise ValueError(
                f"{table}: {row.iloc[0]!r} is dated {row[date]}, {what} the paper's latest date "
                f"{cutoff}: its exclude_reason must {'' if what.startswith('on') else 'not '}be "
                "paper_window"
            )


def new_cv_rows(new_models: pd.DataFrame) -> pd.DataFrame:
    """The used rows of the new CV table (no ``exclude_reason``), in :data:`CV_COLUMNS`."""
    used = new_models[new_models["exclude_reason"].isna()
                      | (new_models["exclude_reason"].astype(str) == "")]
    if used["gflops"].isna().any():
        raise ValueError("a used row of the new CV table has no GFLOPs")
    return used[CV_COLUMNS].reset_index(drop=True)


@dataclass(frozen=True)
class PeriodResult:
    """The paper's analysis on one set of rows; ``period`` column: paper | post_paper."""

    efficiency: pd.DataFrame  #: Table 9 rows, then the new GPUs' rows
    energy: pd.DataFrame  #: CV models with x, year, GFLOPS/W, Joules, sota_per_year
    fits: pd.DataFrame  #: FIT_COLUMNS: Fig. 8 (both domains), then Figs. 3, 9, 13 (CV)


def analyse_period(
    table9: pd.DataFrame,
    models: pd.DataFrame,
    new_efficiency: pd.DataFrame | None = None,
    new_models: pd.DataFrame | None = None,
) -> PeriodResult:
    """The paper's Figs. 3, 8, 9 and 13 fits on its rows plus ``new_efficiency`` (Table 9 rows of
    the new GPUs) and ``new_models`` (:data:`CV_COLUMNS`); without them, the paper period.

    ``table9`` = Table 9 as the paper's gpu_efficiency job computes it, ``models`` =
    ``cv_models_resolved.csv`` as read by the energy job. Joules use the Fig. 8 CV fit of the
    same rows (so a post-2021 model gets the hardware trend through 2025 at its date).
    """
    efficiency = table9.assign(period=PAPER)
    if new_efficiency is not None and len(new_efficiency):
        efficiency = pd.concat([efficiency, new_efficiency.assign(period=POST)], ignore_index=True)
    hw = hardware_fits(efficiency)
    cv = models.assign(period=PAPER)
    if new_models is not None and len(new_models):
        cv = pd.concat([cv, new_models.assign(period=POST)], ignore_index=True)
    energy = mark_cv_sota(add_energy(cv, efficiency_fit(as_written(hw), "cv")))
    fits = pd.concat([hw, cv_fits(energy)], ignore_index=True)[FIT_COLUMNS]
    return PeriodResult(efficiency, energy, fits)


def trend_points(result: PeriodResult) -> pd.DataFrame:
    """The points each trend of :data:`TRENDS` is fitted to: ``trend``, ``x``, ``y``, ``label``,
    ``kind`` (fp32 | adapted | model | best_per_year | yearly_mean) and ``period``.

    A yearly mean is ``post_paper`` when its year is after the last year of the paper's rows.
    """
    eff = add_time_columns(result.efficiency, "launch_date")
    energy = result.energy
    last_paper_year = int(energy.loc[energy["period"] == PAPER, "year"].max())
    means = yearly_mean(energy, "joules")
    frames = []
    for t in TRENDS:
        if t.figure == "fig08":
            part = eff[eff["domain"] == t.domain]
            frame = pd.DataFrame({
                "x": part["x"], "y": part["gflops_per_watt"],
                "label": part["gpu"] + " " + part["precision"],
                "kind": np.where(part["adapted"].astype(bool), "adapted", "fp32"),
                "period": part["period"]})
        elif t.subset == "yearly_mean":
            frame = pd.DataFrame({
                "x": means["x"], "y": means["mean"],
                "label": [f"{y} mean of {n}" for y, n in zip(means["year"], means["n"])],
                "kind": "yearly_mean",
                "period": np.where(means["year"] > last_paper_year, POST, PAPER)})
        else:
            part = energy[energy["sota_per_year"]] if t.subset == "sota_per_year" else energy
            frame = pd.DataFrame({
                "x": part["x"], "y": part[t.quantity], "label": part["model"],
                "kind": "best_per_year" if t.subset == "sota_per_year" else "model",
                "period": part["period"]})
        frames.append(frame.assign(trend=t.id))
    columns = ["trend", "x", "y", "label", "kind", "period"]
    return pd.concat(frames, ignore_index=True)[columns]


@dataclass(frozen=True)
class Baseline:
    """The paper period, what every comparison measures against: its analysis, the points of
    each trend and each trend's prediction band (the same for every adaptation variant)."""

    result: PeriodResult
    points: pd.DataFrame  #: :func:`trend_points` of ``result``
    bands: pd.DataFrame  #: ``trend`` + BAND_COLUMNS


def baseline(paper: PeriodResult, confidence: float = 0.95) -> Baseline:
    """The paper period's points and, per trend, its ``confidence`` prediction band."""
    points = trend_points(paper)
    bands = []
    for t in TRENDS:
        base = points[points["trend"] == t.id]
        bands.append({"trend": t.id, **prediction_band(base["x"], base["y"], confidence).as_dict()})
    return Baseline(paper, points, pd.DataFrame(bands, columns=["trend", *BAND_COLUMNS]))


@dataclass(frozen=True)
class Comparison:
    """Paper period vs through 2025 for every trend of :data:`TRENDS`."""

    fits: pd.DataFrame  #: ``period`` (paper | through_2025) + FIT_COLUMNS
    points: pd.DataFrame  #: ``fit`` (paper | through_2025) + trend_points columns
    bands: pd.DataFrame  #: ``trend`` + BAND_COLUMNS: each trend's paper-period interval
    verdicts: pd.DataFrame  #: every post-2021 point of every trend against that interval


def compare(base: Baseline, extended: PeriodResult) -> Comparison:
    """Fits of both periods, and for every post-2021 point (through-2025 values: a new model's
    Joules use the hardware trend through 2025) its predicted value, the bounds of the
    paper-period prediction interval, ``z`` and ``side``."""
    fits = pd.concat([base.result.fits.assign(period="paper"),
                      extended.fits.assign(period="through_2025")], ignore_index=True)
    fits = fits[["period", *FIT_COLUMNS]]
    new = trend_points(extended)
    judged = []
    for t in TRENDS:
        band = PredictionBand.from_row(base.bands[base.bands["trend"] == t.id].iloc[0])
        judged.append(verdicts(band, new[(new["trend"] == t.id) & (new["period"] == POST)]))
    points = pd.concat([base.points.assign(fit="paper"), new.assign(fit="through_2025")],
                       ignore_index=True)
    columns = ["trend", "x", "y", "label", "kind", "predicted", "pi_low", "pi_high", "z", "side"]
    return Comparison(
        fits=fits,
        points=points[["fit", "trend", "x", "y", "label", "kind", "period"]],
        bands=base.bands,
        verdicts=pd.concat(judged, ignore_index=True)[columns],
    )


def trend_fit(fits: pd.DataFrame, trend: Trend, period: str) -> pd.Series:
    """The row of ``fits`` (a :class:`Comparison`'s) of ``trend`` in ``period``."""
    f = fits[(fits["period"] == period) & (fits["figure"] == trend.figure)
             & (fits["domain"] == trend.domain) & (fits["quantity"] == trend.quantity)
             & (fits["subset"] == trend.subset)]
    if len(f) != 1:
        raise ValueError(f"expected one {period} fit of {trend.id}, found {len(f)}")
    return f.iloc[0]

