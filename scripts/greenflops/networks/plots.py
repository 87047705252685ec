"""The networks stage's figures: predicted vs measured time per device, and energy per forward
pass by the two papers' methods. Functions return matplotlib figures;
:func:`greenflops.io.outputs.save_figure` writes them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["plot_energy", "plot_pred_vs_measured"]


def plot_pred_vs_measured(tables: Mapping[str, pd.DataFrame],
                          methods: Sequence[str]) -> plt.Figure:
    """One panel per device with measured networks: predicted vs measured milliseconds of each
    of ``methods`` (log-log, the diagonal and ±15 % band), batch 1 dots and batch 8 squares."""
    devices = [d for d in sorted(tables) if not tables[d].empty]
    n = max(len(devices), 1)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 4.8), squeeze=False)
    if not devices:
        axes[0, 0].text(0.5, 0.5, "no device has measured networks yet", ha="center",
                        va="center", transform=axes[0, 0].transAxes)
        axes[0, 0].set_axis_off()
        return fig
    cmap = plt.get_cmap("tab10")
    for ax, device in zip(axes[0], devices):
        table = tables[device]
        shown = [m for m in methods if m in set(table["method"])]
        lo, hi = table["measured_ms"].min() / 2, table["measured_ms"].max() * 2
        grid = np.geomspace(lo, hi, 50)
        ax.plot(grid, grid, color="0.3", lw=0.8)
        ax.fill_between(grid, grid * 0.85, grid * 1.15, color="0.85", lw=0,
                        label="±15 %")
        for i, method in enumerate(shown):
            sub = table[(table["method"] == method) & table["predicted_ms"].notna()]
            mape = sub["ape_pct"].mean()
            for batch, marker in ((1, "o"), (8, "s")):
                b = sub[sub["batch"] == batch]
                ax.scatter(b["measured_ms"], b["predicted_ms"], s=22, marker=marker,
                           color=cmap(i % 10), alpha=0.85,
                           label=f"{method} (MAPE {mape:.0f} %)" if batch == 1 else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("measured time per forward pass (ms)")
        ax.set_ylabel("predicted (ms)")
        ax.set_title(device, fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Whole torchvision networks: predicted from their ops vs measured "
                 "(dots batch 1, squares batch 8)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_energy(table: pd.DataFrame, batch: int = 1) -> plt.Figure:
    """Joules per image at ``batch`` for every network: one bar per (device, method) that has
    a value, log scale; methods (a) hatched-free, (b) dotted, (c) solid edge."""
    sub = table[table["batch"] == batch]
    nets = list(dict.fromkeys(sub["network"]))
    series = []
    for device in dict.fromkeys(sub["device"]):
        for col, label, hatch in (("j_per_image_trends", "(a) FLOPs ÷ GFLOPS/W", ""),
                                  ("j_per_image_time_power", "(b) time × power", ".."),
                                  ("j_per_image_measured", "(c) measured", "//")):
            vals = sub[sub["device"] == device].set_index("network")[col]
            if vals.notna().any():
                series.append((f"{device}: {label}", vals, hatch))
    fig, ax = plt.subplots(figsize=(max(8.0, 0.9 * len(nets) + 3), 4.8))
    if not series:
        ax.text(0.5, 0.5, "no energy estimate available", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    width = 0.8 / len(series)
    cmap = plt.get_cmap("tab10")
    x = np.arange(len(nets))
    for i, (label, vals, hatch) in enumerate(series):
        y = [float(vals.get(n, np.nan)) if pd.notna(vals.get(n, np.nan)) else np.nan
             for n in nets]
        ax.bar(x - 0.4 + width * (i + 0.5), y, width, label=label, color=cmap(i % 10),
               hatch=hatch, edgecolor="0.2", linewidth=0.4)
    ax.set_yscale("log")
    ax.set_xticks(x, nets, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("joules per image")
    ax.set_title(f"Energy per forward pass (batch {batch}): the trends paper's FLOPs ÷ GFLOPS/W "
                 "beside predicted time × power and NVML", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
