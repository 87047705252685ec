"""Figures and the Fig. 3a table of the α-FLOPs stage, from ``predictions.csv`` and
``fit_report.csv``.

Solid lines are measured times, dashed lines the α-FLOPs prediction of one model, as in the paper.
Functions return matplotlib figures; :func:`greenflops.outputs.save_figure` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from greenflops.alpha import (  # noqa: E402
    KNOWN_IMPL_SCALE_MS_PER_GFLOP,
    MODEL_NAMES,
    is_alpha_family,
    predicted_time_ms,
)
from greenflops.alpha_fit import flops_levels  # noqa: E402

__all__ = [
    "fig3a_markdown",
    "fig3a_table",
    "figure_model",
    "flops_levels",
    "plot_paper_figure",
    "plot_pred_vs_measured",
]

#: Paper's Fig. 1a / 3a FLOPs level.
FIG3A_FLOPS = 327.68e6

_AXIS_LABEL = {"flops": "FLOPs", "batch": "batch size", "c_in": "$C_{in}$",
               "c_out": "$C_{out}$", "h": "H", "w": "W", "k_h": "kernel size K", "k_w": "$K_w$"}


def figure_model(report: pd.DataFrame, choice: str) -> str:
    """The α model to draw: ``choice`` itself, or for ``best`` the lowest LOSO MAPE (in-sample
    if there is no LOSO)."""
    if choice != "best":
        return choice
    alpha = report[report["model"].map(is_alpha_family) & report["mape_pct"].notna()]
    for scope in ("loso", "in_sample"):
        sub = alpha[alpha["scope"] == scope]
        if len(sub):
            return str(sub.sort_values(["mape_pct", "model"]).iloc[0]["model"])
    raise ValueError("no alpha-family model in the fit report")


def _line_label(row: Mapping[str, Any], lines: list[str]) -> str:
    parts = []
    for col in lines:
        if col == "flops_level":
            parts.append(str(row["flops_level"]))
        elif col == "op":
            parts.append("dense" if row["op"] == "linear" else "conv")
        else:
            parts.append(f"{col}={row[col]}")
    return ", ".join(parts)


def _panel(ax, frame: pd.DataFrame, panel: Mapping[str, Any], model: str | None) -> None:
    sweep = frame[(frame["sweep"] == panel["sweep"]) & (frame["scope"] == "in_sample")]
    measured = sweep[sweep["model"] == sweep["model"].iloc[0]].copy()
    lines = list(panel["lines"])
    x = panel["x"]
    measured["flops_level"] = flops_levels(measured["flops"])
    measured["_label"] = [_line_label(r, lines) for r in measured.to_dict("records")]
    pred = None
    if model is not None:
        pred = sweep[sweep["model"] == model].copy()
        key_cols = ["op", "batch", "c_in", "c_out", "h", "w", "k_h", "k_w", "stride", "padding",
                    "dtype"]
        pred = pred[key_cols + ["time_ms_pred"]]
        measured = measured.merge(pred, on=key_cols, how="left", suffixes=("", "_m"))
    cmap = plt.get_cmap("tab10")
    order = sorted(measured["_label"].unique(),
                   key=lambda lab: (measured.loc[measured["_label"] == lab, "flops"].max(), lab))
    for i, label in enumerate(order):
        rows = measured[measured["_label"] == label].sort_values(x, kind="mergesort")
        color = cmap(i % 10)
        ax.plot(rows[x], rows["time_ms"], "-o", color=color, ms=3, lw=1.4, label=label)
        if model is not None:
            col = "time_ms_pred_m" if "time_ms_pred_m" in rows else "time_ms_pred"
            ax.plot(rows[x], rows[col], "--", color=color, lw=1.2)
    if x in ("flops", "batch") or measured[x].max() / max(measured[x].min(), 1) > 20:
        ax.set_xscale("log")
    if measured["time_ms"].max() / measured["time_ms"].min() > 20:
        ax.set_yscale("log")
    ax.set_xlabel(_AXIS_LABEL.get(x, x))
    ax.set_ylabel("time per call (ms)")
    ax.set_title(panel["sweep"], fontsize=9)
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=6, ncol=1 if len(order) < 8 else 2)


def plot_paper_figure(predictions: pd.DataFrame, spec: Mapping[str, Any], model: str,
                      device_id: str):
    """One paper figure: one panel per ``spec['panels']``; dashed ``model`` if ``predicted``."""
    panels = list(spec["panels"])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        _panel(ax, predictions, panel, model if spec.get("predicted") else None)
    suffix = f" (dashed: {model})" if spec.get("predicted") else ""
    fig.suptitle(f"{spec['paper']} regenerated on {device_id}{suffix}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_pred_vs_measured(predictions: pd.DataFrame, report: pd.DataFrame, device_id: str):
    """Predicted vs measured (log-log) for every model, in-sample, with each model's LOSO MAPE."""
    ins = predictions[predictions["scope"] == "in_sample"]
    models = [m for m in MODEL_NAMES if m in set(ins["model"])]
    cols = min(4, len(models))
    rows = int(np.ceil(len(models) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    both = np.concatenate([ins["time_ms"].to_numpy(), ins["time_ms_pred"].to_numpy()])
    both = both[np.isfinite(both) & (both > 0)]
    lo = float(both.min()) / 1.5
    hi = float(both.max()) * 1.5
    sweeps = sorted(ins["sweep"].unique())
    cmap = plt.get_cmap("tab10")
    for ax, model in zip(axes.flat, models):
        sub = ins[ins["model"] == model]
        for i, sweep in enumerate(sweeps):
            part = sub[sub["sweep"] == sweep]
            ax.scatter(part["time_ms"], part["time_ms_pred"], s=6, color=cmap(i % 10),
                       label=sweep)
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        rep = report[report["model"] == model].set_index("scope")["mape_pct"]
        title = f"{model}\nMAPE in-sample {rep.get('in_sample', np.nan):.1f}%"
        title += f", LOSO {rep.get('loso', np.nan):.1f}%"
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("measured (ms)", fontsize=8)
        ax.set_ylabel("predicted (ms)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(models):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=5, loc="upper left")
    fig.suptitle(f"Predicted vs measured time per call, {device_id}", fontsize=10)
    fig.tight_layout()
    return fig


def fig3a_table(predictions: pd.DataFrame, reference: pd.DataFrame,
                model: str) -> tuple[pd.DataFrame, str]:
    """Measured vs predicted times of the paper's Fig. 1a / 3a configurations on this device.

    Rows are the reference configurations (dense, conv1..conv4). A configuration timed on this
    device with the same shape is matched exactly; otherwise the level of ``dense_vs_conv``
    nearest to 327.68 MFLOPs is used, matching by the spatial shape (op, W, H), and the note says
    so. Predictions are the in-sample predictions of ``model``.
    """
    pred = predictions[(predictions["sweep"] == "dense_vs_conv")
                       & (predictions["scope"] == "in_sample")]
    ours = pred[pred["model"] == model]
    shape = ["op", "w", "h", "c_in", "c_out", "k_h", "k_w"]
    exact = reference.merge(ours[shape + ["flops", "time_ms", "time_ms_pred"]], on=shape,
                            how="left", suffixes=("_t2000", ""))
    note = "configurations matched exactly"
    if exact["time_ms"].isna().all() and len(ours):
        levels = flops_levels(ours["flops"])
        level_flops = ours.groupby(levels)["flops"].median()
        nearest = (np.log(level_flops) - np.log(FIG3A_FLOPS)).abs().idxmin()
        level = ours[levels == nearest]
        note = (f"no configuration of exactly 327.68 MFLOPs on this device; nearest level "
                f"{nearest} matched by (op, W, H)")
        exact = reference.merge(level[["op", "w", "h", "c_in", "c_out", "k_h", "k_w", "flops",
                                       "time_ms", "time_ms_pred"]],
                                on=["op", "w", "h"], how="left", suffixes=("_t2000", ""))
    elif exact["time_ms"].isna().any():
        note = "configurations matched exactly; some are not timed on this device"
    out = pd.DataFrame({
        "config_id": exact["config_id"],
        "op": exact["op"],
        "w": exact["w"],
        "h": exact["h"],
        "c_in": exact.get("c_in", exact.get("c_in_t2000")),
        "c_out": exact.get("c_out", exact.get("c_out_t2000")),
        "flops": exact["flops"],
        "time_ms_measured": exact["time_ms"],
        "time_ms_predicted": exact["time_ms_pred"],
        "model": model,
        "t2000_time_ms_measured": exact["time_ms_measured"],
        "t2000_time_ms_predicted": exact["time_ms_predicted"],
    })
    # The paper's printed β, γ (S_K = ln K + 1) with the known implementation's scale: what its
    # Fig. 3a predictions would be if computed from the printed parameters.
    out["t2000_time_ms_recomputed"] = predicted_time_ms(
        reference["flops"].to_numpy(dtype=float), (reference["w"] * reference["h"]).to_numpy(),
        (reference["k_h"] * reference["k_w"]).to_numpy(), KNOWN_IMPL_SCALE_MS_PER_GFLOP)
    out["ape_pct"] = 100 * (out["time_ms_predicted"] - out["time_ms_measured"]).abs() / out[
        "time_ms_measured"]
    out["t2000_ape_pct"] = 100 * (out["t2000_time_ms_predicted"] - out["t2000_time_ms_measured"]
                                  ).abs() / out["t2000_time_ms_measured"]
    return out, note


def fig3a_markdown(table: pd.DataFrame, note: str, device_id: str, model: str) -> str:
    """The Fig. 3a table as Markdown."""
    def fmt(v: Any, digits: int = 4) -> str:
        return "–" if pd.isna(v) else f"{float(v):.{digits}g}"

    lines = [
        f"# Fig. 3a on {device_id}: 327.68 MFLOPs configurations",
        "",
        f"Predicted: model `{model}` (in-sample). T2000 columns: Asperti et al. (2021), Fig. 1a / "
        "3a (data/raw/tables/alpha_t2000_reference.csv). T2000 recomputed: the paper's printed "
        "beta, gamma (K = 1: 0.02, 0.99) with S = W*H and a known implementation's 0.0375 ms per "
        "million multiply-adds. Note: " + note + ".",
        "",
        "| config | op | (W, H, C_in, C_out) | time (ms) | predicted (ms) | APE % | "
        "T2000 time (ms) | T2000 predicted (ms) | T2000 APE % | T2000 recomputed (ms) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table.to_dict("records"):
        dims = (f"({r['w']}, {r['h']}, {fmt(r['c_in'], 6)}, {fmt(r['c_out'], 6)})")
        lines.append(
            f"| {r['config_id']} | {r['op']} | {dims} | {fmt(r['time_ms_measured'])} | "
            f"{fmt(r['time_ms_predicted'])} | {fmt(r['ape_pct'], 3)} | "
            f"{fmt(r['t2000_time_ms_measured'])} | {fmt(r['t2000_time_ms_predicted'])} | "
            f"{fmt(r['t2000_ape_pct'], 3)} | {fmt(r['t2000_time_ms_recomputed'])} |")
    return "\n".join(lines) + "\n"
