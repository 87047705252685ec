"""Drawing the trends carried through 2025 (matplotlib; no scipy: bands and fits come as tables).

* :func:`extended_flops` / :func:`extended_joules` -- the paper's Figs. 3, 9 and 13 drawn by the
  paper's own functions (:mod:`greenflops.trends.figures`) on the rows through 2025 with the
  through-2025 fits, the post-2021 rows marked;
* :func:`extended_efficiency` -- Fig. 8 through 2025: Table 9 and the new GPUs' rows;
* :func:`both_fits` -- one trend: its paper-period fit with the 95% prediction interval and its
  through-2025 fit on the same axes, the paper's rows and the post-2021 rows.

Which function draws which figure is :data:`greenflops.trends.registry2025.FIGURES`; inputs are the
tables of ``data/processed/trends2025/`` (``period``: paper | post_paper; fits: ``period`` paper |
through_2025).

Cheap to draw by design (the whole stage has a budget of a few seconds): fixed margins instead of
a layout engine, and log axes without minor ticks and with plain tick labels, which cost most of
a log-scaled figure's rendering time.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

from greenflops.trends import figures  # noqa: E402
from greenflops.trends.extended import Trend  # noqa: E402
from greenflops.trends.lines import add_time_columns  # noqa: E402
from greenflops.trends.prediction import PredictionBand  # noqa: E402

__all__ = ["both_fits", "extended_efficiency", "extended_flops", "extended_joules"]

NEW_COLOR = "tab:orange"
PAPER_COLOR = "tab:blue"
LATER_COLOR = "tab:red"
YLABEL = {"gflops": "GFLOPs per forward pass", "joules": "Joules per forward pass (estimated)",
          "gflops_per_watt": "GFLOPS per Watt"}


#: Position of the axes in every figure (left, bottom, width, height; no layout engine), with room
#: for a two-line title.
POSITION = (0.13, 0.11, 0.85, 0.78)


def _light(fig: Figure) -> Figure:
    """Fixed axes position, and on a log y axis no minor ticks and plain labels ("0.01", "1,000")."""
    fig.set_layout_engine("none")
    for ax in fig.axes:
        ax.set_position(POSITION)
        if ax.get_yscale() == "log":
            ax.yaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.10g}"))
    return fig


def _new() -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=figures.FIGSIZE)
    ax.grid(True, which="major", alpha=0.3)
    return fig, ax


def _period_fits(fits: pd.DataFrame, period: str) -> pd.DataFrame:
    return fits[fits["period"] == period].drop(columns="period")


def _mark_new(fig: Figure, rows: pd.DataFrame, y: str, title: str, **legend) -> Figure:
    """Ring the post-2021 ``rows`` on the figure's axes, retitle it and redo its legend."""
    ax = fig.axes[0]
    new = rows[rows["period"] == "post_paper"]
    ax.scatter(new["x"], new[y], s=34, marker="D", facecolors="none", edgecolors=NEW_COLOR,
               linewidths=1.1, label=f"Post-2021 rows (n={len(new)})", zorder=5)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, **legend)
    return _light(fig)


def extended_flops(energy: pd.DataFrame, fits: pd.DataFrame) -> Figure:
    """Fig. 3 through 2025: GFLOPs of the paper's and the post-2021 ImageNet models over time."""
    fig = figures.flops_vs_time(energy, _period_fits(fits, "through_2025"), "fig03", "cv")
    return _mark_new(fig, energy, "gflops", "ImageNet models: GFLOPs over time, through 2025",
                     loc="upper left")


def extended_joules(energy: pd.DataFrame, fits: pd.DataFrame, figure: str,
                    human: pd.DataFrame | None = None) -> Figure:
    """Fig. 9 (13 with ``human``) through 2025: Joules per forward pass, with the hardware trend
    through 2025 at each model's date."""
    fig = figures.joules_vs_time(energy, _period_fits(fits, "through_2025"), figure, "cv", human)
    title = "ImageNet (CV): estimated energy per forward pass, through 2025"
    if human is not None:
        return _mark_new(fig, energy, "joules", title + "\nvs a human's energy in 1 s",
                         loc="upper right", bbox_to_anchor=(1.0, 0.9))
    return _mark_new(fig, energy, "joules", title, loc="upper left")


def _line(ax: plt.Axes, fit: pd.Series, xs: np.ndarray, style: str, color: str, label: str) -> None:
    ys = 10.0 ** (fit["intercept"] + fit["slope_log10_per_year"] * xs)
    ax.plot(xs, ys, style, color=color, linewidth=1.6,
            label=f"{label}: doubling {fit['doubling_time_years']:.2f} y (n={int(fit['n'])})")


def _fit(fits: pd.DataFrame, trend: Trend, period: str) -> pd.Series:
    f = fits[(fits["period"] == period) & (fits["figure"] == trend.figure)
             & (fits["domain"] == trend.domain) & (fits["quantity"] == trend.quantity)
             & (fits["subset"] == trend.subset)]
    if len(f) != 1:
        raise ValueError(f"expected one {period} fit of {trend.id}, found {len(f)}")
    return f.iloc[0]


def extended_efficiency(efficiency: pd.DataFrame, fits: pd.DataFrame) -> Figure:
    """Fig. 8 through 2025: FP32 and adapted GFLOPS/W of the paper's GPUs and the new ones, with
    the through-2025 fit of each domain."""
    eff = add_time_columns(efficiency, "launch_date")
    fig, ax = _new()
    cv = eff[eff["domain"] == "cv"]
    for period, face, name in (("paper", "tab:gray", "FP32, paper"),
                               ("post_paper", "none", "FP32, post-2021")):
        part = cv[(~cv["adapted"].astype(bool)) & (cv["period"] == period)]
        ax.scatter(part["x"], part["gflops_per_watt"], s=24, marker="o", facecolors=face,
                   edgecolors="tab:gray", label=f"{name} (n={len(part)})")
    xs = np.linspace(float(eff["x"].min()), float(eff["x"].max()), 50)
    for domain, color, name in (("cv", "tab:blue", "CV"), ("nlp", "tab:red", "NLP")):
        part = eff[eff["adapted"].astype(bool) & (eff["domain"] == domain)]
        for period, marker in (("paper", "^"), ("post_paper", "D")):
            sub = part[part["period"] == period]
            ax.scatter(sub["x"], sub["gflops_per_watt"], s=34, marker=marker, color=color,
                       alpha=0.8, label=f"{name} adapted, {period.replace('_', '-')} (n={len(sub)})")
        fit = _period_fits(fits, "through_2025")
        row = fit[(fit["figure"] == "fig08") & (fit["domain"] == domain)].iloc[0]
        _line(ax, row, xs, "-", color, f"Fit {name}")
    ax.set_yscale("log")
    ax.set_xlabel("Launch date (year)")
    ax.set_ylabel("GFLOPS per Watt")
    ax.set_title("Nvidia GPUs: GFLOPS/W adapted for CV and NLP, through 2025", fontsize=10)
    ax.legend(loc="upper left", fontsize=6.5)
    return _light(fig)


def both_fits(points: pd.DataFrame, bands: pd.DataFrame, fits: pd.DataFrame, trend: Trend) -> Figure:
    """One trend: the paper-period fit (dashed) with its 95% prediction interval (band) and the
    through-2025 fit (solid); the paper's rows as the paper period fits them, the post-2021 rows
    as the through-2025 fit does (open squares: FP32 rows of new GPUs)."""
    pts = points[points["trend"] == trend.id]
    old = pts[pts["fit"] == "paper"]
    new = pts[(pts["fit"] == "through_2025") & (pts["period"] == "post_paper")]
    band = PredictionBand.from_row(bands[bands["trend"] == trend.id].iloc[0])
    fig, ax = _new()
    x0 = float(pts["x"].min()) - 0.3
    x1 = max(float(pts["x"].max()), 2025.0) + 0.5
    xs = np.linspace(x0, x1, 200)
    low, high = band.bounds(xs)
    ax.fill_between(xs, low, high, color=PAPER_COLOR, alpha=0.12, linewidth=0,
                    label=f"Paper-period {band.confidence:.0%} prediction interval")
    _line(ax, _fit(fits, trend, "paper"), xs, "--", PAPER_COLOR, "Paper-period fit")
    _line(ax, _fit(fits, trend, "through_2025"), xs, "-", LATER_COLOR, "Through-2025 fit")
    ax.scatter(old["x"], old["y"], s=16, color=PAPER_COLOR, alpha=0.7,
               label=f"Paper's rows (n={len(old)})", zorder=3)
    rows = "adapted rows" if trend.quantity == "gflops_per_watt" else "rows"
    for kind, marker, face, name in (("fp32", "s", "none", "FP32 rows"),
                                     (None, "D", NEW_COLOR, rows)):
        sub = new[new["kind"] == kind] if kind else new[new["kind"] != "fp32"]
        if len(sub):
            ax.scatter(sub["x"], sub["y"], s=26, marker=marker, facecolors=face,
                       edgecolors=NEW_COLOR, label=f"Post-2021 {name} (n={len(sub)})", zorder=4)
    if trend.subset in ("sota_per_year", "yearly_mean"):
        for _, r in new.iterrows():  # name the few new points, left of them near the edge
            right = r["x"] > x1 - 4
            ax.annotate(str(r["label"]), (r["x"], r["y"]), fontsize=6.5, textcoords="offset points",
                        xytext=(-5, 4) if right else (5, 4), ha="right" if right else "left")
    ax.set_xlim(x0, x1)
    ax.set_yscale("log")
    ax.set_xlabel("Release or launch date (year)")
    ax.set_ylabel(YLABEL[trend.quantity])
    ax.set_title(f"{trend.name}:\npaper period vs through 2025", fontsize=9)
    ax.legend(loc="upper left", fontsize=6.5)
    return _light(fig)
