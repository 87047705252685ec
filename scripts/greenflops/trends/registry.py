"""The registry of the trends figures: one entry per figure of Desislavov et al. (2021).

Each :class:`TrendFigure` names the figure's file, the job that draws it (``group``: the jobs of
``workflow/rules/trends.smk`` read different tables, so that a change to one model table reruns
only the figures drawn from it), what it is drawn from, and the function that draws it from the
group's tables. Its caption is ``workflow/report/trends/<id>.rst``. Adding a figure is one entry
here plus one drawing function in :mod:`greenflops.trends.figures` (and its caption file).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["FIGURES", "GROUPS", "TrendFigure", "figures_of"]

#: The figure jobs, each with the tables it reads (names of its inputs in trends.smk).
GROUPS: dict[str, tuple[str, ...]] = {
    "hardware": ("gpus", "efficiency", "fits"),
    "cv": ("models", "correlation", "energy", "fits", "human"),
    "nlp": ("energy", "fits", "human"),
}


@dataclass(frozen=True)
class TrendFigure:
    """One figure: ``figures/trends/<id>_<name>.{png,pdf}``, drawn by job ``group``."""

    id: str  #: "fig07": the paper's figure number
    name: str  #: the rest of the file stem
    group: str  #: the job that draws it (a key of :data:`GROUPS`)
    data: str  #: what it is drawn from, as the report labels it
    draw: Callable[[Mapping[str, pd.DataFrame]], Any]  #: the group's tables -> a Figure

    @property
    def stem(self) -> str:
        return f"{self.id}_{self.name}"

    @property
    def paper(self) -> str:
        """The paper's figure label, zero-padded so that labels sort: "Fig. 07"."""
        return f"Fig. {int(self.id[3:]):02d}"


def _fig01(t):
    from greenflops.trends import figures

    return figures.params_vs_flops(t["models"], t["correlation"])


def _fig04(t):
    from greenflops.trends import figures
    from greenflops.trends.selection import pareto_front

    energy = t["energy"]
    return figures.pareto_accuracy_vs_flops(energy, pareto_front(energy, "gflops", "top1_accuracy_pct"))


def _fig07(t):
    from greenflops.trends import figures
    from greenflops.trends.lines import add_time_columns

    gpus = t["gpus"].copy()
    gpus["gflops_per_watt"] = 1000.0 * gpus["tflops"] / gpus["watts_tdp"]
    return figures.theoretical_efficiency(add_time_columns(gpus, "launch_date"))


def _fig08(t):
    from greenflops.trends import figures
    from greenflops.trends.lines import add_time_columns

    return figures.adapted_efficiency(add_time_columns(t["efficiency"], "launch_date"), t["fits"])


@dataclass(frozen=True)
class _Table:
    """A keyword argument of a drawing function that is one of the group's tables."""

    name: str


def _plot(function: str, *tables: str, **kwargs: Any) -> Callable[[Mapping[str, pd.DataFrame]], Any]:
    """A drawing function of :mod:`greenflops.trends.figures` applied to the named tables
    (positional), with keyword arguments (a :class:`_Table` keyword is a table too)."""

    def draw(t: Mapping[str, pd.DataFrame]) -> Any:
        from greenflops.trends import figures

        named = {k: t[v.name] if isinstance(v, _Table) else v for k, v in kwargs.items()}
        return getattr(figures, function)(*(t[name] for name in tables), **named)

    return draw


_CV = "cv_models.csv (Table 2)"
_CV_J = "cv_models.csv (Table 2), Fig. 8 fit"
_NLP = "nlp_models.csv (Table 7)"
_NLP_J = "nlp_models.csv (Table 7), Fig. 8 fit"

#: Every figure, in the paper's order.
FIGURES: tuple[TrendFigure, ...] = (
    TrendFigure("fig01", "params_vs_flops", "cv", _CV, _fig01),
    TrendFigure("fig02", "accuracy_over_time", "cv", _CV, _plot("accuracy_vs_time", "energy")),
    TrendFigure("fig03", "cv_gflops_over_time", "cv", _CV,
                _plot("flops_vs_time", "energy", "fits", figure="fig03", domain="cv")),
    TrendFigure("fig04", "accuracy_vs_gflops_pareto", "cv", _CV, _fig04),
    TrendFigure("fig05", "glue_vs_gflops", "nlp", _NLP, _plot("glue_vs_flops", "energy")),
    TrendFigure("fig06", "nlp_gflops_over_time", "nlp", _NLP,
                _plot("flops_vs_time", "energy", "fits", figure="fig06", domain="nlp")),
    TrendFigure("fig07", "gpu_theoretical_gflops_per_watt", "hardware", "gpus.csv (Table 8)",
                _fig07),
    TrendFigure("fig08", "gpu_adapted_gflops_per_watt", "hardware",
                "gpus.csv (Table 8), precision_throughput.csv (Table 3)", _fig08),
    TrendFigure("fig09", "cv_joules_over_time", "cv", _CV_J,
                _plot("joules_vs_time", "energy", "fits", figure="fig09", domain="cv")),
    TrendFigure("fig10", "nlp_joules_over_time", "nlp", _NLP_J,
                _plot("joules_vs_time", "energy", "fits", figure="fig10", domain="nlp")),
    TrendFigure("fig11", "accuracy_vs_joules", "cv", _CV_J,
                _plot("accuracy_vs_joules", "energy", domain="cv")),
    TrendFigure("fig12", "glue_vs_joules", "nlp", _NLP_J,
                _plot("accuracy_vs_joules", "energy", domain="nlp")),
    TrendFigure("fig13", "cv_joules_vs_human", "cv", _CV_J,
                _plot("joules_vs_time", "energy", "fits", figure="fig13", domain="cv",
                      human=_Table("human"))),
    TrendFigure("fig14", "nlp_joules_vs_human", "nlp", _NLP_J,
                _plot("joules_vs_time", "energy", "fits", figure="fig14", domain="nlp",
                      human=_Table("human"))),
    TrendFigure("fig15", "glue_over_time", "nlp", _NLP, _plot("glue_over_time", "energy")),
)


def figures_of(group: str) -> list[TrendFigure]:
    """The figures one job draws, in the paper's order."""
    if group not in GROUPS:
        raise ValueError(f"unknown figure group {group!r}; known: {', '.join(GROUPS)}")
    return [f for f in FIGURES if f.group == group]
