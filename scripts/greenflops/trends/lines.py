"""Every fitted trend line of Desislavov et al. (2021), and the energy per forward pass.

* :func:`hardware_fits` -- Fig. 8's GFLOPS/W trend per domain (CV: FP32 + CNN-adapted rows of
  Table 9; NLP: FP32 + NLP-adapted rows);
* :func:`add_energy` -- GFLOPS/W of the trend at each model's release date and Joules per forward
  pass (the paper's eqs. 1-2, "Energy Consumption Analysis");
* :func:`cv_fits` / :func:`nlp_fits` -- every fitted line of Figs. 3, 6, 9, 10, 13 and 14.

Rows of every returned frame are in a deterministic order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from greenflops.trends.energy import joules_per_forward_pass
from greenflops.trends.fits import LogLinearFit, decimal_year, fit_log_linear
from greenflops.trends.selection import best_per_year, running_max, yearly_mean

__all__ = [
    "FIT_COLUMNS",
    "add_energy",
    "add_time_columns",
    "cv_fits",
    "efficiency_fit",
    "fit_row",
    "hardware_fits",
    "nlp_fits",
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
