"""Every device's time models side by side: out-of-sample MAPE and median APE per device × model
(rule ``alpha_cross_device``: ``figures/tables/alpha_cross_device.{csv,md}`` and a figure).

The numbers are read from each device's ``fit_report.csv`` and the recommendation from its
``params.yaml`` (chosen once, :func:`greenflops.alpha.recommend.recommend`); nothing is refitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from greenflops.alpha.models import MODEL_NAMES, is_alpha_family, is_gpu_family, is_learned
from greenflops.io.render import to_markdown

__all__ = ["COLUMNS", "REFERENCES", "cross_device_markdown", "cross_device_table",
           "model_family", "plot_cross_device"]

#: The baselines every recommendation is compared with (issue 11's targets).
REFERENCES: tuple[str, ...] = ("flops_overhead", "alpha_paper")

COLUMNS = ["device", "model", "family", "recommended", "primary_scope", "loso_mape_pct",
           "loso_median_ape_pct", "kfold_mape_pct", "kfold_median_ape_pct", "n"]


def model_family(name: str) -> str:
    """``alpha``, ``gpu``, ``learned`` or ``baseline``."""
    if is_learned(name):
        return "learned"
    if is_gpu_family(name):
        return "gpu"
    return "alpha" if is_alpha_family(name) else "baseline"


def cross_device_table(reports: Mapping[str, pd.DataFrame],
                       params: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per device and fitted model (columns :data:`COLUMNS`): LOSO and k-fold MAPE
    and median APE, whether it is the device's ``recommended_model`` and the device's primary
    scope (``recommended_scope``: LOSO from 3 sweeps, else k-fold)."""
    rows = []
    for device in sorted(reports):
        rep = reports[device]
        doc = params.get(device) or {}
        rec = doc.get("recommended_model")
        primary = doc.get("recommended_scope") or "loso"
        order = {m: i for i, m in enumerate(MODEL_NAMES)}
        for model in sorted(set(rep["model"]), key=lambda m: (order.get(m, len(order)), m)):
            sub = rep[rep["model"] == model].set_index("scope")

            def get(scope: str, col: str, sub: pd.DataFrame = sub) -> float:
                return float(sub.loc[scope, col]) if scope in sub.index else float("nan")

            n = sub["n"].max() if "n" in sub else np.nan
            rows.append({"device": device, "model": model, "family": model_family(model),
                         "recommended": model == rec, "primary_scope": primary,
                         "loso_mape_pct": get("loso", "mape_pct"),
                         "loso_median_ape_pct": get("loso", "median_ape_pct"),
                         "kfold_mape_pct": get("kfold", "mape_pct"),
                         "kfold_median_ape_pct": get("kfold", "median_ape_pct"),
                         "n": int(n) if pd.notna(n) else 0})
    return pd.DataFrame(rows, columns=COLUMNS)


def _primary(table: pd.DataFrame, what: str = "mape") -> pd.Series:
    loso, kfold = table[f"loso_{what}_pct"], table[f"kfold_{what}_pct"]
    return loso.where(table["primary_scope"] == "loso", kfold)


def _fmt(v: float) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.1f}"


def cross_device_markdown(table: pd.DataFrame) -> str:
    """Two tables: the recommended model of each device against the reference baselines and the
    learned reference, then every model's out-of-sample MAPE in each device's primary scope."""
    if table.empty:
        return "# α time models across devices\n\nNo device was fitted.\n"
    t = table.assign(primary_mape=_primary(table), primary_median=_primary(table, "median_ape"))
    rows = []
    for device, sub in t.groupby("device", sort=True):
        by = sub.set_index("model")
        rec = sub[sub["recommended"]]
        row = {"device": device, "scope": str(sub["primary_scope"].iloc[0]),
               "recommended": rec["model"].iloc[0] if len(rec) else "–",
               "MAPE %": _fmt(rec["primary_mape"].iloc[0]) if len(rec) else "–",
               "median APE %": _fmt(rec["primary_median"].iloc[0]) if len(rec) else "–",
               "other scope MAPE %": "–"}
        if len(rec):
            other = "kfold" if row["scope"] == "loso" else "loso"
            row["other scope MAPE %"] = _fmt(rec[f"{other}_mape_pct"].iloc[0])
        for ref in (*REFERENCES, "gbt"):
            row[f"{ref} MAPE %"] = (_fmt(by.loc[ref, "primary_mape"]) if ref in by.index
                                    else "–")
        alpha = sub[sub["family"] == "alpha"].sort_values(["loso_mape_pct", "model"])
        row["best α (LOSO)"] = (f"{alpha['model'].iloc[0]} ({_fmt(alpha['primary_mape'].iloc[0])})"
                                if len(alpha) else "–")
        rows.append(row)
    head = pd.DataFrame(rows)
    pivot = t.pivot_table(index="model", columns="device", values="primary_mape",
                          aggfunc="first")
    models = [m for m in MODEL_NAMES if m in pivot.index]
    pivot = pivot.reindex(models)
    grid = pd.DataFrame({"model": models,
                         **{d: [_fmt(pivot.loc[m, d]) + (" **(rec.)**" if bool(
                             t[(t["device"] == d) & (t["model"] == m)]["recommended"].any())
                             else "") for m in models] for d in pivot.columns}})
    note = ("Out of sample: LOSO (leave one sweep out) where a device has at least 3 sweeps, "
            "else a seeded 5-fold split (scope). MAPE and median APE of the pooled held-out "
            "predictions, after the guards of greenflops.alpha.bounds (fit_report.csv's "
            "mape_unguarded_pct: without them). The recommended model: the rule of "
            "docs/alpha.md, from each device's params.yaml. Every number: "
            "figures/tables/alpha_cross_device.csv.")
    notes = [note]
    top = to_markdown(head, title="α time models across devices", notes=notes)
    body = to_markdown(grid, title=None)
    return (top + "\n## Out-of-sample MAPE % of every model (each device's primary scope)\n\n"
            + body)


def plot_cross_device(table: pd.DataFrame):
    """Out-of-sample MAPE (each device's primary scope) per device: the recommended model, the
    reference baselines, the best α model and the learned reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table.assign(primary_mape=_primary(table))
    devices = sorted(t["device"].unique())
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(devices) + 2.5), 4.2))
    series = [("recommended", "*", "tab:green", 110), ("flops_overhead", "s", "tab:gray", 30),
              ("alpha_paper", "^", "tab:red", 30), ("best α", "o", "tab:blue", 30),
              ("gbt", "x", "tab:purple", 30)]
    for label, marker, color, size in series:
        xs, ys = [], []
        for i, d in enumerate(devices):
            sub = t[t["device"] == d]
            if label == "recommended":
                pick = sub[sub["recommended"]]
            elif label == "best α":
                pick = sub[sub["family"] == "alpha"].sort_values(["loso_mape_pct", "model"])[:1]
            else:
                pick = sub[sub["model"] == label]
            if len(pick) and np.isfinite(pick["primary_mape"].iloc[0]):
                xs.append(i)
                ys.append(float(pick["primary_mape"].iloc[0]))
        ax.scatter(xs, ys, marker=marker, color=color, s=size, label=label, zorder=3)
    for i, d in enumerate(devices):
        rec = t[(t["device"] == d) & t["recommended"]]
        if len(rec):
            ax.annotate(str(rec["model"].iloc[0]), (i, float(rec["primary_mape"].iloc[0])),
                        textcoords="offset points", xytext=(0, -12), ha="center", fontsize=6)
    ax.set_xticks(range(len(devices)))
    ax.set_xticklabels(devices, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("out-of-sample MAPE (%)")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.minorticks_off()
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncol=3)
    ax.set_title("α time models across devices: out-of-sample MAPE (LOSO, or 5-fold under 3 "
                 "sweeps)", fontsize=9)
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=0.8 / width, right=1 - 0.2 / width, bottom=1.3 / height,
                        top=1 - 0.4 / height)
    return fig
