"""Drawing the figures of Desislavov et al. (2021) with matplotlib (one function per kind of plot).

Every function takes processed tables (``data/processed/``) and returns a ``Figure``; which
function draws which paper figure is :data:`greenflops.trends.registry.FIGURES`, and the caller
saves it with :func:`greenflops.io.outputs.save_figure`. Axes, log scales and colour schemes follow
the paper: trends on a log y axis, dashed = SOTA / running-maximum fit, solid = all models,
dotted = yearly mean; years coloured from purple (old) to yellow (new) with viridis.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

__all__ = [
    "accuracy_vs_joules",
    "accuracy_vs_time",
    "adapted_efficiency",
    "flops_vs_time",
    "glue_over_time",
    "joules_vs_time",
    "pareto_accuracy_vs_flops",
    "params_vs_flops",
    "theoretical_efficiency",
]

FIGSIZE = (6.4, 4.4)
FAMILY_STYLE = {
    "cnn": ("tab:blue", "o", "CNN"),
    "transformer": ("tab:orange", "^", "Transformer"),
    "hybrid": ("tab:green", "s", "Hybrid"),
}
PRECISION_STYLE = {
    "FP32": ("tab:blue", "o"),
    "FP16": ("tab:orange", "s"),
    "FP16/FP32 Tensor": ("tab:red", "^"),
}


def _new(figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    ax.grid(True, which="major", alpha=0.3)
    return fig, ax


def year_colors(years: pd.Series | np.ndarray) -> dict[int, tuple[float, ...]]:
    """Discrete viridis colour per calendar year: oldest purple, newest yellow."""
    unique = sorted({int(y) for y in years})
    cmap = matplotlib.colormaps["viridis"]
    if len(unique) == 1:
        return {unique[0]: cmap(0.5)}
    return {y: cmap(i / (len(unique) - 1)) for i, y in enumerate(unique)}


def _year_legend(ax: plt.Axes, colors: Mapping[int, tuple[float, ...]], loc: str = "best", **kw) -> None:
    handles = [
        Line2D([], [], marker="o", linestyle="", color=c, label=str(y), markersize=6)
        for y, c in colors.items()
    ]
    ax.add_artist(ax.legend(handles=handles, title="Year", loc=loc, fontsize=7, title_fontsize=8, **kw))


def _fit_line(ax: plt.Axes, fit: pd.Series, x0: float, x1: float, style: str, color: str, label: str) -> None:
    xs = np.linspace(x0, x1, 50)
    ys = 10.0 ** (fit["intercept"] + fit["slope_log10_per_year"] * xs)
    factor = 10.0 ** fit["slope_log10_per_year"]
    ax.plot(xs, ys, style, color=color, linewidth=1.6,
            label=f"{label}: ×{factor:.2f}/year (n={int(fit['n'])})")


def _get_fit(fits: pd.DataFrame, figure: str, quantity: str, subset: str, domain: str | None = None) -> pd.Series:
    sel = (fits["figure"] == figure) & (fits["quantity"] == quantity) & (fits["subset"] == subset)
    if domain is not None:
        sel &= fits["domain"] == domain
    rows = fits[sel]
    if len(rows) != 1:
        raise ValueError(f"expected one fit {figure}/{domain}/{quantity}/{subset}, found {len(rows)}")
    return rows.iloc[0]


def _bubble_sizes(gflops: pd.Series, max_gflops: float) -> np.ndarray:
    """Marker area (pt²) growing with the square root of GFLOPs, so that 0.3 and 5000 both show."""
    return 12.0 + 900.0 * np.sqrt(np.asarray(gflops, dtype=float) / max_gflops)


def _size_legend(ax: plt.Axes, examples: list[float], max_gflops: float, loc: str) -> None:
    handles = [
        Line2D([], [], marker="o", linestyle="", color="grey", alpha=0.4,
               markersize=float(np.sqrt(_bubble_sizes(pd.Series([g]), max_gflops)[0])), label=f"{g:g} GFLOPs")
        for g in examples
    ]
    ax.add_artist(ax.legend(handles=handles, loc=loc, fontsize=7, labelspacing=1.3, borderpad=0.9,
                            title="Forward pass", title_fontsize=8))


def _color_legend(ax: plt.Axes, entries: list[tuple[str, object]], loc: str) -> None:
    handles = [Line2D([], [], marker="o", linestyle="", color=c, alpha=0.6, markersize=7, label=label)
               for label, c in entries]
    ax.legend(handles=handles, loc=loc, fontsize=8)


def params_vs_flops(models: pd.DataFrame, correlation: pd.DataFrame) -> Figure:
    """Fig. 1: parameters vs GFLOPs (log-log) per architecture family, with Pearson r."""
    fig, ax = _new()
    r_by = correlation.set_index("family")
    for family, (color, marker, name) in FAMILY_STYLE.items():
        part = models[models["architecture"] == family]
        if part.empty:
            continue
        r = r_by.loc[family, "pearson_r"] if family in r_by.index else np.nan
        label = f"{name} (r = {r:.3f})" if np.isfinite(r) else f"{name} (n = {len(part)})"
        ax.scatter(part["params_m"], part["gflops"], color=color, marker=marker, s=22, alpha=0.8, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Parameters (millions)")
    ax.set_ylabel("GFLOPs per forward pass")
    ax.set_title("Parameters vs FLOPs (ImageNet models)", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def accuracy_vs_time(models: pd.DataFrame) -> Figure:
    """Fig. 2: Top-1 accuracy over time; bubble area grows with GFLOPs; colour = extra data."""
    fig, ax = _new()
    max_g = float(models["gflops"].max())
    for extra, color, label in ((False, "tab:blue", "ImageNet-1k only"), (True, "tab:red", "Extra training data")):
        part = models[(models["extra_data"] != "none") == extra]
        ax.scatter(part["x"], part["top1_accuracy_pct"], s=_bubble_sizes(part["gflops"], max_g),
                   color=color, alpha=0.45, edgecolors="k", linewidths=0.3, label=label)
    ax.set_xlabel("Release date (year)")
    ax.set_ylabel("Top-1 accuracy (%)")
    ax.set_title("ImageNet Top-1 accuracy over time (bubble: GFLOPs)", fontsize=10)
    _size_legend(ax, [1, 100, 1000], max_g, "lower right")
    _color_legend(ax, [("ImageNet-1k only", "tab:blue"), ("Extra training data", "tab:red")], "upper left")
    return fig


def flops_vs_time(models: pd.DataFrame, fits: pd.DataFrame, figure: str, domain: str) -> Figure:
    """Fig. 3 (CV) / Fig. 6 (NLP): GFLOPs over time, log y; dashed = SOTA or running max, solid = all."""
    fig, ax = _new()
    x0, x1 = float(models["x"].min()), float(models["x"].max())
    if domain == "cv":
        flag, subset, sota_label = "sota_per_year", "sota_per_year", "Best Top-1 per year"
        ax.scatter(models["x"], models["gflops"], s=18, color="tab:blue", alpha=0.6, label="All models")
    else:
        flag, subset, sota_label = "running_max", "running_max", "Most demanding when released"
        tokens = sorted(models["input_tokens"].unique())
        cmap = matplotlib.colormaps["plasma"]
        for i, t in enumerate(tokens):
            part = models[models["input_tokens"] == t]
            ax.scatter(part["x"], part["gflops"], s=28, color=cmap(i / max(len(tokens) - 1, 1) * 0.85),
                       label=f"{t} input tokens", zorder=3)
        for _, m in models.iterrows():
            ax.annotate(m["model"], (m["x"], m["gflops"]), fontsize=6, xytext=(3, 2), textcoords="offset points")
    sota = models[models[flag]]
    ax.scatter(sota["x"], sota["gflops"], s=60, facecolors="none", edgecolors="k", linewidths=1.0,
               label=sota_label, zorder=4)
    _fit_line(ax, _get_fit(fits, figure, "gflops", subset, domain), x0, x1, "--", "k", f"Fit, {sota_label.lower()}")
    _fit_line(ax, _get_fit(fits, figure, "gflops", "all", domain), x0, x1, "-", "tab:gray", "Fit, all models")
    ax.set_yscale("log")
    ax.set_xlabel("Release date (year)")
    ax.set_ylabel("GFLOPs per forward pass" + (" (input length in legend)" if domain == "nlp" else ""))
    ax.set_title(("ImageNet" if domain == "cv" else "NLP") + " models: GFLOPs over time", fontsize=10)
    ax.legend(loc="upper left", fontsize=7)
    return fig


def pareto_accuracy_vs_flops(models: pd.DataFrame, front: pd.DataFrame) -> Figure:
    """Fig. 4: Top-1 accuracy vs GFLOPs (log x), coloured by year, Pareto frontier in grey."""
    fig, ax = _new()
    colors = year_colors(models["year"])
    ax.scatter(models["gflops"], models["top1_accuracy_pct"], c=[colors[y] for y in models["year"]],
               s=26, edgecolors="k", linewidths=0.3, zorder=3)
    f = front.sort_values("gflops")
    ax.step(f["gflops"], f["top1_accuracy_pct"], where="post", color="grey", linewidth=2, alpha=0.7,
            label="Pareto frontier", zorder=2)
    ax.set_xscale("log")
    ax.set_xlabel("GFLOPs per forward pass")
    ax.set_ylabel("Top-1 accuracy (%)")
    ax.set_title("ImageNet: accuracy vs GFLOPs", fontsize=10)
    _year_legend(ax, colors, loc="lower right")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def glue_vs_flops(models: pd.DataFrame) -> Figure:
    """Fig. 5: GLUE score vs GFLOPs (log x, 128-token input), coloured by year, names shown."""
    fig, ax = _new()
    scored = models[models["glue_score"].notna()]
    colors = year_colors(scored["year"])
    ax.scatter(scored["gflops"], scored["glue_score"], c=[colors[y] for y in scored["year"]], s=40,
               edgecolors="k", linewidths=0.3, zorder=3)
    for _, m in scored.iterrows():
        ax.annotate(m["model"], (m["gflops"], m["glue_score"]), fontsize=7, xytext=(4, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("GFLOPs per forward pass (128 tokens)")
    ax.set_ylabel("GLUE score")
    ax.set_title("NLP: GLUE score vs GFLOPs", fontsize=10)
    _year_legend(ax, colors, loc="lower right")
    return fig


def glue_over_time(models: pd.DataFrame) -> Figure:
    """Fig. 15: GLUE score over time; bubble area grows with GFLOPs; colour by year."""
    fig, ax = _new()
    scored = models[models["glue_score"].notna()]
    colors = year_colors(scored["year"])
    max_g = float(scored["gflops"].max())
    ax.scatter(scored["x"], scored["glue_score"], s=_bubble_sizes(scored["gflops"], max_g),
               c=[colors[y] for y in scored["year"]], alpha=0.6, edgecolors="k", linewidths=0.3)
    for _, m in scored.iterrows():
        ax.annotate(m["model"], (m["x"], m["glue_score"]), fontsize=7, xytext=(5, 3), textcoords="offset points")
    ax.set_xlabel("Release date (year)")
    ax.set_ylabel("GLUE score")
    ax.set_title("NLP: GLUE score over time (bubble: GFLOPs, 128 tokens)", fontsize=10)
    _size_legend(ax, [5, 30, 80], max_g, "lower right")
    return fig


def theoretical_efficiency(gpus: pd.DataFrame) -> Figure:
    """Fig. 7: theoretical GFLOPS/W of Nvidia GPUs (Table 8) by precision over time, log y."""
    fig, ax = _new()
    for precision, (color, marker) in PRECISION_STYLE.items():
        part = gpus[gpus["precision"] == precision]
        for gtype, fill in (("desktop", color), ("server", "none")):
            sub = part[part["type"] == gtype]
            if sub.empty:
                continue
            ax.scatter(sub["x"], sub["gflops_per_watt"], marker=marker, s=34, facecolors=fill,
                       edgecolors=color, linewidths=1.2, label=f"{precision} ({gtype})")
    ax.set_yscale("log")
    ax.set_xlabel("Launch date (year)")
    ax.set_ylabel("Theoretical GFLOPS per Watt")
    ax.set_title("Nvidia GPUs: theoretical GFLOPS/W by precision (Table 8)", fontsize=10)
    ax.legend(loc="upper left", fontsize=7)
    return fig


def adapted_efficiency(efficiency: pd.DataFrame, fits: pd.DataFrame) -> Figure:
    """Fig. 8: GFLOPS/W adapted to CV and NLP (Table 9) with the two log-linear fits."""
    fig, ax = _new()
    base = efficiency[(~efficiency["adapted"]) & (efficiency["domain"] == "cv")]
    ax.scatter(base["x"], base["gflops_per_watt"], s=24, color="tab:gray", label="FP32 (both domains)")
    x0, x1 = float(efficiency["x"].min()), float(efficiency["x"].max())
    for domain, color, name in (("cv", "tab:blue", "CV (CNN)"), ("nlp", "tab:red", "NLP")):
        part = efficiency[efficiency["adapted"] & (efficiency["domain"] == domain)]
        ax.scatter(part["x"], part["gflops_per_watt"], s=40, marker="^", color=color,
                   label=f"{name}: Mixed/TF32 adapted")
        for _, r in part.iterrows():
            ax.annotate(f"{r['gpu']} {r['precision']}", (r["x"], r["gflops_per_watt"]), fontsize=6,
                        xytext=(4, -3 if domain == "cv" else 3), textcoords="offset points", color=color)
        _fit_line(ax, _get_fit(fits, "fig08", "gflops_per_watt", "fp32_and_adapted", domain), x0, x1, "-",
                  color, f"Fit {name}")
    ax.set_yscale("log")
    ax.set_xlabel("Launch date (year)")
    ax.set_ylabel("GFLOPS per Watt")
    ax.set_title("Nvidia GPUs: GFLOPS/W adapted for CV and NLP (Table 9)", fontsize=10)
    ax.legend(loc="upper left", fontsize=7)
    return fig


def joules_vs_time(
    models: pd.DataFrame,
    fits: pd.DataFrame,
    figure: str,
    domain: str,
    human: pd.DataFrame | None = None,
) -> Figure:
    """Figs. 9-10 (and 13-14 with ``human``): Joules per forward pass over time, log y.

    Dashed: fit on the best model per year (CV) or running maximum of GFLOPs (NLP); solid: fit on
    all models; dotted: mean Joules per calendar year. ``human`` adds the internal and external
    energy a person uses in one second as horizontal lines.
    """
    from greenflops.trends.selection import yearly_mean

    fig, ax = _new()
    flag = "sota_per_year" if domain == "cv" else "running_max"
    sota_label = "Best Top-1 per year" if domain == "cv" else "Most demanding when released"
    x0, x1 = float(models["x"].min()), float(models["x"].max())
    ax.scatter(models["x"], models["joules"], s=18, color="tab:blue", alpha=0.6, label="All models")
    sota = models[models[flag]]
    ax.scatter(sota["x"], sota["joules"], s=60, facecolors="none", edgecolors="k", linewidths=1.0,
               label=sota_label, zorder=4)
    _fit_line(ax, _get_fit(fits, figure, "joules", flag, domain), x0, x1, "--", "k", f"Fit, {sota_label.lower()}")
    _fit_line(ax, _get_fit(fits, figure, "joules", "all", domain), x0, x1, "-", "tab:gray", "Fit, all models")
    means = yearly_mean(models, "joules")
    ax.plot(means["x"], means["mean"], ":", color="tab:purple", linewidth=1.8, marker=".", label="Mean per year")
    if human is not None:
        for _, h in human.iterrows():
            name = "Human body (internal)" if h["reference"] == "internal" else "Human, all energy (external)"
            color = "tab:green" if h["reference"] == "internal" else "tab:brown"
            ax.axhline(h["joules_per_second"], color=color, linewidth=1.4, linestyle="-.")
            ax.annotate(f"{name}: {h['joules_per_second']:,.0f} J in 1 s", (x0, h["joules_per_second"]),
                        xytext=(0, 3), textcoords="offset points", fontsize=7, color=color)
    if domain == "nlp":
        for _, m in models.iterrows():
            ax.annotate(m["model"], (m["x"], m["joules"]), fontsize=6, xytext=(3, 2), textcoords="offset points")
    ax.set_yscale("log")
    ax.set_xlabel("Release date (year)")
    ax.set_ylabel("Joules per forward pass (estimated)")
    where = "ImageNet (CV)" if domain == "cv" else "NLP"
    title = f"{where}: estimated energy per forward pass"
    ax.set_title(title + (" vs a human's energy in 1 s" if human is not None else ""), fontsize=10)
    if human is not None:
        ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9), fontsize=7)
    else:
        ax.legend(loc="upper left", fontsize=7)
    return fig


def accuracy_vs_joules(models: pd.DataFrame, domain: str) -> Figure:
    """Figs. 11-12: Top-1 accuracy (CV) or GLUE (NLP) vs Joules (log x), coloured by year."""
    fig, ax = _new()
    score = "top1_accuracy_pct" if domain == "cv" else "glue_score"
    scored = models[models[score].notna()]
    colors = year_colors(scored["year"])
    ax.scatter(scored["joules"], scored[score], c=[colors[y] for y in scored["year"]], s=30,
               edgecolors="k", linewidths=0.3, zorder=3)
    if domain == "nlp":
        for _, m in scored.iterrows():
            ax.annotate(m["model"], (m["joules"], m[score]), fontsize=7, xytext=(4, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("Joules per forward pass (estimated)")
    ax.set_ylabel("Top-1 accuracy (%)" if domain == "cv" else "GLUE score")
    ax.set_title(("ImageNet: Top-1 accuracy" if domain == "cv" else "NLP: GLUE score") + " vs Joules", fontsize=10)
    _year_legend(ax, colors, loc="lower right")
    return fig
