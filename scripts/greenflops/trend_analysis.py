"""The analyses behind the figures and tables of Desislavov et al. (2021), as pure functions.

* :func:`hardware_fits` -- Fig. 8's GFLOPS/W trend per domain (CV: FP32 + CNN-adapted rows of
  Table 9; NLP: FP32 + NLP-adapted rows);
* :func:`add_energy` -- GFLOPS/W of the trend at each model's release date and Joules per forward
  pass (the paper's eqs. 1-2, "Energy Consumption Analysis");
* :func:`cv_fits` / :func:`nlp_fits` -- every fitted line of Figs. 3, 6, 9, 10, 13 and 14;
* :func:`similar_flops` -- Table 1's models with FLOPs close to a reference model;
* :func:`params_flops_correlation` -- Fig. 1's Pearson correlations per architecture family;
* :func:`fidelity_table` -- printed vs regenerated numbers.

Rows of every returned frame are in a deterministic order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from greenflops.energy import (
    joules_per_forward_pass,
    watts_from_kcal_per_day,
    watts_from_kwh_per_year,
)
from greenflops.trends import (
    LogLinearFit,
    best_per_year,
    decimal_year,
    fit_log_linear,
    running_max,
    yearly_mean,
)

__all__ = [
    "FIT_COLUMNS",
    "add_energy",
    "add_time_columns",
    "cv_fits",
    "efficiency_fit",
    "fidelity_table",
    "fit_row",
    "hardware_fits",
    "nlp_fits",
    "params_flops_correlation",
    "human_energy_references",
    "regenerated_values",
    "similar_flops",
]

FIT_COLUMNS = [
    "figure",
    "domain",
    "quantity",
    "subset",
    "n",
    "slope_log10_per_year",
    "intercept",
    "r2",
    "slope_ci_low",
    "slope_ci_high",
    "doubling_time_years",
    "x_min",
    "x_max",
]


def add_time_columns(frame: pd.DataFrame, date: str) -> pd.DataFrame:
    """Copy of ``frame`` with ``year`` (calendar year) and ``x`` (decimal year) of column ``date``."""
    out = frame.copy()
    out["x"] = [decimal_year(d) for d in out[date]]
    out["year"] = [int(str(d)[:4]) for d in out[date]]
    return out


def fit_row(
    figure: str, domain: str, quantity: str, subset: str, x: Sequence[float], y: Sequence[float]
) -> dict[str, Any]:
    """One row of ``trend_fits.csv``: the OLS fit of log10(y) on x and its x range."""
    fit = fit_log_linear(x, y)
    return {
        "figure": figure,
        "domain": domain,
        "quantity": quantity,
        "subset": subset,
        **fit.as_dict(),
        "x_min": float(np.min(x)),
        "x_max": float(np.max(x)),
    }


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=FIT_COLUMNS)


def hardware_fits(efficiency: pd.DataFrame) -> pd.DataFrame:
    """Fig. 8: log-linear fit of GFLOPS/W on the launch date, one per domain of Table 9."""
    eff = add_time_columns(efficiency, "launch_date")
    rows = []
    for domain in sorted(eff["domain"].unique()):
        part = eff[eff["domain"] == domain]
        rows.append(
            fit_row("fig08", domain, "gflops_per_watt", "fp32_and_adapted", part["x"], part["gflops_per_watt"])
        )
    return _frame(rows)


def efficiency_fit(fits: pd.DataFrame, domain: str) -> LogLinearFit:
    """The Fig. 8 GFLOPS/W trend of ``domain`` as a :class:`LogLinearFit`."""
    row = fits[(fits["figure"] == "fig08") & (fits["domain"] == domain)]
    if len(row) != 1:
        raise ValueError(f"expected one Fig. 8 fit for domain {domain!r}, found {len(row)}")
    r = row.iloc[0]
    return LogLinearFit(
        n=int(r["n"]),
        slope_log10_per_year=float(r["slope_log10_per_year"]),
        intercept=float(r["intercept"]),
        r2=float(r["r2"]),
        slope_ci_low=float(r["slope_ci_low"]),
        slope_ci_high=float(r["slope_ci_high"]),
        doubling_time_years=float(r["doubling_time_years"]),
    )


def add_energy(models: pd.DataFrame, fit: LogLinearFit, date: str = "release_date") -> pd.DataFrame:
    """Add ``x``, ``year``, ``gflops_per_watt`` (the trend at the release date) and ``joules``."""
    out = add_time_columns(models, date)
    out["gflops_per_watt"] = fit.predict(out["x"].to_numpy())
    out["joules"] = joules_per_forward_pass(out["gflops"].to_numpy(), out["gflops_per_watt"].to_numpy())
    return out


def mark_cv_sota(energy: pd.DataFrame) -> pd.DataFrame:
    """Flag ``sota_per_year``: the most accurate CV model of each calendar year (ties: fewer GFLOPs)."""
    out = energy.copy()
    chosen = best_per_year(out, "top1_accuracy_pct", "year", cost="gflops").index
    out["sota_per_year"] = out.index.isin(chosen)
    return out


def mark_nlp_running_max(energy: pd.DataFrame) -> pd.DataFrame:
    """Flag ``running_max``: NLP models that, when released, needed more GFLOPs than all before."""
    out = energy.copy()
    chosen = running_max(out, "gflops", "release_date").index
    out["running_max"] = out.index.isin(chosen)
    return out


def _domain_fits(
    energy: pd.DataFrame, domain: str, sota_flag: str, sota_subset: str, figures: Mapping[str, str]
) -> pd.DataFrame:
    sota = energy[energy[sota_flag]]
    means = yearly_mean(energy, "joules")
    rows = [
        fit_row(figures["gflops"], domain, "gflops", sota_subset, sota["x"], sota["gflops"]),
        fit_row(figures["gflops"], domain, "gflops", "all", energy["x"], energy["gflops"]),
    ]
    for fig in figures["joules"]:
        rows += [
            fit_row(fig, domain, "joules", sota_subset, sota["x"], sota["joules"]),
            fit_row(fig, domain, "joules", "all", energy["x"], energy["joules"]),
            fit_row(fig, domain, "joules", "yearly_mean", means["x"], means["mean"]),
        ]
    return _frame(rows)


def cv_fits(energy_cv: pd.DataFrame) -> pd.DataFrame:
    """Fitted lines of Figs. 3, 9 and 13 (CV): best-accuracy-per-year, all models, yearly means."""
    return _domain_fits(
        energy_cv, "cv", "sota_per_year", "sota_per_year", {"gflops": "fig03", "joules": ["fig09", "fig13"]}
    )


def nlp_fits(energy_nlp: pd.DataFrame) -> pd.DataFrame:
    """Fitted lines of Figs. 6, 10 and 14 (NLP): running maximum of GFLOPs, all, yearly means."""
    return _domain_fits(
        energy_nlp, "nlp", "running_max", "running_max", {"gflops": "fig06", "joules": ["fig10", "fig14"]}
    )


def similar_flops(frame: pd.DataFrame, reference_model: str, max_ratio: float) -> pd.DataFrame:
    """Table 1: models whose GFLOPs are within ``max_ratio`` of ``reference_model``'s, both ways.

    Sorted by release date, then accuracy (descending), then name. Adds ``gflops_ratio``.
    """
    ref = frame[frame["model"] == reference_model]
    if len(ref) != 1:
        raise ValueError(f"reference model {reference_model!r} found {len(ref)} times, need 1")
    ref_gflops = float(ref["gflops"].iloc[0])
    ratio = frame["gflops"] / ref_gflops
    kept = frame[(ratio <= max_ratio * (1 + 1e-12)) & (ratio >= (1 - 1e-12) / max_ratio)].copy()
    kept["gflops_ratio"] = kept["gflops"] / ref_gflops
    return kept.sort_values(
        ["release_date", "top1_accuracy_pct", "model"], ascending=[True, False, True], kind="mergesort"
    )


def params_flops_correlation(
    frame: pd.DataFrame,
    paper_r: Mapping[str, float],
    distinct_points: bool,
    min_points: int = 3,
) -> pd.DataFrame:
    """Pearson r of params vs GFLOPs per architecture family (and ``all``), as in Fig. 1.

    Both variants are returned: over all rows (``pearson_r_all_rows``) and over distinct
    (params, GFLOPs) points (``pearson_r_distinct``); ``pearson_r`` is the one ``distinct_points``
    selects. r is NaN for fewer than ``min_points`` points. ``paper_r`` gives the printed values.
    """
    from scipy import stats  # imported here: the table-only jobs skip its import cost

    rows = []
    families = sorted(frame["architecture"].unique()) + ["all"]
    for family in families:
        part = frame if family == "all" else frame[frame["architecture"] == family]
        distinct = part.drop_duplicates(["params_m", "gflops"])

        def r_of(p: pd.DataFrame) -> float:
            if len(p) < min_points:
                return math.nan
            return float(stats.pearsonr(p["params_m"], p["gflops"])[0])

        r_all, r_distinct = r_of(part), r_of(distinct)
        chosen = distinct if distinct_points else part
        paper = paper_r.get(family, math.nan)
        rows.append(
            {
                "family": family,
                "n": len(chosen),
                "pearson_r": r_distinct if distinct_points else r_all,
                "paper_r": paper,
                "n_rows": len(part),
                "pearson_r_all_rows": r_all,
                "n_distinct_points": len(distinct),
                "pearson_r_distinct": r_distinct,
                "pearson_r_log10": (
                    float(stats.pearsonr(np.log10(chosen["params_m"]), np.log10(chosen["gflops"]))[0])
                    if len(chosen) >= min_points
                    else math.nan
                ),
            }
        )
    return pd.DataFrame(rows)


def fidelity_table(
    regenerated: pd.DataFrame, printed: pd.DataFrame, tolerance_units: float = 0.5
) -> pd.DataFrame:
    """Join printed and regenerated values on (item, key) and judge each difference.

    ``printed``: item, key, paper_value, rounding_unit, source, explanation. ``regenerated``:
    item, key, value. ``status`` is ``match`` when ``|value - paper| <= tolerance_units ·
    rounding_unit`` (the paper rounded), ``explained`` when not but an explanation is recorded,
    ``UNEXPLAINED`` otherwise, and ``missing`` when the pipeline has no value for a printed one.
    Regenerated values the paper does not print are left out (a key typo in the printed table
    shows up as ``missing``).
    """
    out = printed.merge(regenerated, on=["item", "key"], how="left", validate="one_to_one")
    out["abs_diff"] = out["value"] - out["paper_value"]
    out["rel_diff"] = out["abs_diff"] / out["paper_value"]
    explained = out["explanation"].fillna("").astype(str).str.len() > 0
    within = out["abs_diff"].abs() <= tolerance_units * out["rounding_unit"] * (1 + 1e-9)
    out["status"] = np.where(
        out["value"].isna(),
        "missing",
        np.where(within, "match", np.where(explained, "explained", "UNEXPLAINED")),
    )
    return out[
        ["item", "key", "paper_value", "value", "abs_diff", "rel_diff", "rounding_unit", "status", "explanation", "source"]
    ].reset_index(drop=True)


def regenerated_values(
    *,
    benchmark_speedups: pd.DataFrame,
    speedups: pd.DataFrame,
    gpus: pd.DataFrame,
    efficiency: pd.DataFrame,
    estimates: pd.DataFrame,
    correlation: pd.DataFrame,
    human: pd.DataFrame,
) -> pd.DataFrame:
    """Every re-derived number the paper prints, as (item, key, value) rows keyed as in
    ``trends_paper_values.csv``."""
    from greenflops.energy import gflops_per_watt

    rows: list[tuple[str, str, float]] = []
    for _, b in benchmark_speedups.iterrows():
        key = "|".join(str(b[c]) for c in ("task", "model", "framework", "batch_size", "gpu", "precision"))
        rows.append(("table3_speedup", key, b["speedup"]))
    for _, s in speedups.iterrows():
        rows.append(("table4_speedup", f"{s['task']}|{s['gpu']}|{s['precision']}", s["speedup"]))
    for _, g in gpus.iterrows():
        rows.append(
            ("table8_gflops_per_watt", f"{g['gpu']}|{g['precision']}", gflops_per_watt(g["tflops"], g["watts_tdp"]))
        )
    for _, e in efficiency.iterrows():
        if not e["adapted"]:
            if e["domain"] == "cv":  # the FP32 rows are shared: printed once
                rows.append(("table9_gflops_per_watt", f"fp32|{e['gpu']}|{e['precision']}", e["gflops_per_watt"]))
            continue
        key = f"{e['domain']}|{e['gpu']}|{e['precision']}"
        rows.append(("table9_tflops", key, e["tflops"]))
        rows.append(("table9_gflops_per_watt", key, e["gflops_per_watt"]))
    for _, e in estimates.iterrows():
        for factor in ("d_sigma", "w_sigma", "r_sigma", "check_r_sigma_squared", "check_gflops_ratio"):
            if not pd.isna(e[factor]):
                rows.append(("estimate_factor", f"{e['model']}|{factor}", e[factor]))
        rows.append(("estimated_gflops", str(e["model"]), e["gflops"]))
    for _, c in correlation.iterrows():
        rows.append(("fig1_pearson_r", str(c["family"]), c["pearson_r"]))
    for _, h in human.iterrows():
        rows.append(("human_energy_joules_per_second", str(h["reference"]), h["joules_per_second"]))
    return pd.DataFrame(rows, columns=["item", "key", "value"]).astype({"value": float})


def human_energy_references(cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Figs. 13-14 references: a human's internal (food) and external (all energy) use per second.

    ``cfg`` is ``config["trends"]["human_energy"]``; the result has one row per reference with its
    input, unit, Joules per second and source.
    """
    return pd.DataFrame(
        [
            {
                "reference": "internal",
                "input_value": float(cfg["internal_kcal_per_day"]),
                "input_unit": "kcal/day",
                "joules_per_second": watts_from_kcal_per_day(float(cfg["internal_kcal_per_day"])),
                "source": cfg["internal_source"],
            },
            {
                "reference": "external",
                "input_value": float(cfg["external_kwh_per_year"]),
                "input_unit": "kWh/year",
                "joules_per_second": watts_from_kwh_per_year(float(cfg["external_kwh_per_year"])),
                "source": cfg["external_source"],
            },
        ]
    )
