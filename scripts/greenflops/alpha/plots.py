"""The figures of the α-FLOPs stage on a device, from its ``predictions.csv`` and ``fit_report.csv``.

Solid lines are measured times, dashed lines the α-FLOPs prediction of one model, as in the paper.
Functions return matplotlib figures; :func:`greenflops.io.outputs.save_figure` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from greenflops.alpha.models import MODEL_NAMES  # noqa: E402
from greenflops.alpha.smoothness import flops_levels  # noqa: E402
from greenflops.timing.contract import KEY_COLUMNS  # noqa: E402
from greenflops.timing.grids import sweep_lines  # noqa: E402

__all__ = ["plot_paper_figure", "plot_pred_vs_measured", "second_model"]

_AXIS_LABEL = {"flops": "FLOPs", "batch": "batch size", "c_in": "$C_{in}$",
               "c_out": "$C_{out}$", "h": "H", "w": "W", "k_h": "kernel size K", "k_w": "$K_w$"}


def _nothing_to_draw(device_id: str, title: str):
    """A figure saying that the device's fit has no rows to show (every model was skipped)."""
    fig, ax = plt.subplots(figsize=(5.2, 2.0))
    ax.axis("off")
    ax.text(0.5, 0.5, f"{title} on {device_id}: no model was fitted\n(too few rows; see "
            "params.yaml notes)", ha="center", va="center", fontsize=9)
    return fig


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


def second_model(params: Mapping[str, Any], dashed: str | None) -> str | None:
    """The device's recommended model (``recommended_model`` of ``params.yaml``, chosen once in
    :func:`greenflops.alpha.recommend.recommend`), drawn dotted beside the dashed α model where
    it differs from it; None otherwise."""
    rec = params.get("recommended_model") or None
    return rec if rec and rec != dashed else None


def _merge_pred(measured: pd.DataFrame, sweep: pd.DataFrame, model: str, col: str
                ) -> pd.DataFrame:
    key_cols = [c for c in KEY_COLUMNS if c != "sweep"]
    pred = sweep[sweep["model"] == model][key_cols + ["time_ms_pred"]]
    return measured.merge(pred.rename(columns={"time_ms_pred": col}), on=key_cols, how="left")


def _panel(ax, frame: pd.DataFrame, panel: Mapping[str, Any], model: str | None,
           second: str | None = None) -> None:
    sweep = frame[(frame["sweep"] == panel["sweep"]) & (frame["scope"] == "in_sample")]
    measured = sweep[sweep["model"] == sweep["model"].iloc[0]].copy()
    lines = list(panel["lines"])
    x = panel["x"]
    measured["flops_level"] = flops_levels(measured["flops"])
    measured["_label"] = [_line_label(r, lines) for r in measured.to_dict("records")]
    if model is not None:
        measured = _merge_pred(measured, sweep, model, "_pred_dashed")
    if second is not None:
        measured = _merge_pred(measured, sweep, second, "_pred_dotted")
    cmap = plt.get_cmap("tab10")
    order = sorted(measured["_label"].unique(),
                   key=lambda lab: (measured.loc[measured["_label"] == lab, "flops"].max(), lab))
    for i, label in enumerate(order):
        rows = measured[measured["_label"] == label].sort_values(x, kind="mergesort")
        color = cmap(i % 10)
        ax.plot(rows[x], rows["time_ms"], "-o", color=color, ms=3, lw=1.4, label=label)
        if model is not None:
            ax.plot(rows[x], rows["_pred_dashed"], "--", color=color, lw=1.2)
        if second is not None:
            ax.plot(rows[x], rows["_pred_dotted"], ":", color=color, lw=1.4)
    if x in ("flops", "batch") or measured[x].max() / max(measured[x].min(), 1) > 20:
        ax.set_xscale("log")
    if measured["time_ms"].max() / measured["time_ms"].min() > 20:
        ax.set_yscale("log")
    _quiet_minor_labels(ax)
    ax.set_xlabel(_AXIS_LABEL.get(x, x))
    ax.set_ylabel("time per call (ms)")
    ax.set_title(panel["sweep"], fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6, ncol=1 if len(order) < 8 else 2)


def _quiet_minor_labels(ax) -> None:
    """Log axes ticked at 1, 2 and 5 per decade with plain labels, and no minor ticks (by default
    they draw eight per decade, and drawing them is most of a figure's drawing time)."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.minorticks_off()
    for axis, scale, limits in ((ax.xaxis, ax.get_xscale(), ax.get_xlim()),
                                (ax.yaxis, ax.get_yscale(), ax.get_ylim())):
        if scale == "log":
            decades = np.log10(max(limits) / min(limits))
            subs = (1.0, 2.0, 5.0) if decades <= 3 else (1.0,)
            axis.set_major_locator(LogLocator(base=10, subs=subs))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _margins(fig, left: float = 0.7, right: float = 0.2, bottom: float = 0.55,
             top: float = 0.45, wspace: float = 0.3, hspace: float = 0.3) -> None:
    """Fixed margins in inches (a tight layout measures every text, which costs seconds)."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=wspace, hspace=hspace)


def plot_paper_figure(predictions: pd.DataFrame, spec: Mapping[str, Any], model: str,
                      device_id: str, second: str | None = None):
    """One paper figure: one panel per sweep of ``spec['sweeps']``, its lines as the sweep's
    family draws them (:func:`greenflops.timing.grids.sweep_lines`); dashed ``model`` and
    dotted ``second`` (the recommended model, :func:`second_model`) if ``predicted``."""
    if predictions.empty:
        return _nothing_to_draw(device_id, spec["paper"])
    lines = sweep_lines(spec["sweeps"])
    panels = [{"sweep": sweep, **lines[sweep]} for sweep in spec["sweeps"]]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        predicted = bool(spec.get("predicted"))
        _panel(ax, predictions, panel, model if predicted else None,
               second if predicted else None)
    drawn = [f"dashed: {model}"] if spec.get("predicted") and model else []
    if spec.get("predicted") and second:
        drawn.append(f"dotted: {second}, recommended")
    # the models on a second line: one panel is too narrow for the whole title on one
    suffix = f"\n({'; '.join(drawn)})" if drawn else ""
    fig.suptitle(f"{spec['paper']} regenerated on {device_id}{suffix}", fontsize=10)
    _margins(fig, top=0.75 if drawn else 0.45)
    return fig


def plot_pred_vs_measured(predictions: pd.DataFrame, report: pd.DataFrame, device_id: str):
    """Predicted vs measured (log-log) for every model, in-sample, with each model's LOSO and
    k-fold MAPE."""
    if predictions.empty:
        return _nothing_to_draw(device_id, "Predicted vs measured")
    ins = predictions[predictions["scope"] == "in_sample"]
    fitted = set(ins["model"])
    models = [m for m in MODEL_NAMES if m in fitted]
    cols = min(4, len(models))
    rows = int(np.ceil(len(models) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    both = np.concatenate([ins["time_ms"].to_numpy(), ins["time_ms_pred"].to_numpy()])
    both = both[np.isfinite(both) & (both > 0)]
    lo = float(both.min()) / 1.5
    hi = float(both.max()) * 1.5
    sweeps = sorted(ins["sweep"].unique())
    cmap = plt.get_cmap("tab10")
    color_of = {sweep: cmap(i % 10) for i, sweep in enumerate(sweeps)}
    for ax, model in zip(axes.flat, models):
        sub = ins[ins["model"] == model]
        # rasterized: thousands of markers as one image in the PDF (smaller, faster to write)
        ax.scatter(sub["time_ms"], sub["time_ms_pred"], s=6,
                   c=[color_of[s] for s in sub["sweep"]], rasterized=True)
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        _quiet_minor_labels(ax)
        rep = report[report["model"] == model].set_index("scope")["mape_pct"]
        title = f"{model}\nMAPE in-sample {rep.get('in_sample', np.nan):.1f}%"
        title += f", LOSO {rep.get('loso', np.nan):.1f}%"
        if "kfold" in rep:
            title += f", k-fold {rep['kfold']:.1f}%"
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("measured (ms)", fontsize=8)
        ax.set_ylabel("predicted (ms)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(models):]:
        ax.axis("off")
    from matplotlib.lines import Line2D

    axes.flat[0].legend(handles=[Line2D([], [], marker="o", ls="", ms=3, color=c, label=s)
                                 for s, c in color_of.items()], fontsize=5, loc="upper left")
    fig.suptitle(f"Predicted vs measured time per call, {device_id}", fontsize=10)
    _margins(fig, left=0.7, bottom=0.5, top=0.75, wspace=0.45, hspace=0.6)
    return fig
