"""The registry of the figures of the trends carried through 2025 (stage trends2025).

Each :class:`ExtendedFigure` names the figure's file (``figures/trends2025/<stem>.{png,pdf}``), its
place in the report (category "Beyond the papers", :attr:`subcategory` and :attr:`labels`) and
the function that draws it from the figure job's tables (:data:`TABLES`, named as the inputs of
rule ``trends2025_figures``). Its caption is ``workflow/report/trends2025/<id>.rst``. Adding a
figure is one entry here (and its caption file); a trend added to
:data:`greenflops.trends.extended.TRENDS` gets its both-fits figure by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from greenflops.trends.extended import TRENDS, Trend

__all__ = ["FIGURES", "TABLES", "ExtendedFigure"]

#: The tables the figure job reads (names of its inputs in workflow/rules/trends2025.smk).
TABLES = ("efficiency", "energy", "fits", "points", "bands", "human")
#: Report subcategory of the both-fits figures.
BOTH_FITS = "Paper period vs through 2025"


@dataclass(frozen=True)
class ExtendedFigure:
    """One figure: ``figures/trends2025/<stem>.{png,pdf}``."""

    id: str  #: caption file name; "fig03" for the paper's figures, a trend id otherwise
    stem: str
    subcategory: str  #: report subcategory
    labels: dict[str, str]  #: report labels
    draw: Callable[[Mapping[str, pd.DataFrame]], Any]  #: the job's tables -> a Figure


def _extended(figure: str) -> Callable[[Mapping[str, pd.DataFrame]], Any]:
    def draw(t: Mapping[str, pd.DataFrame]) -> Any:
        from greenflops.trends import figures2025 as f

        if figure == "fig03":
            return f.extended_flops(t["energy"], t["fits"])
        if figure == "fig08":
            return f.extended_efficiency(t["efficiency"], t["fits"])
        return f.extended_joules(t["energy"], t["fits"], figure,
                                 t["human"] if figure == "fig13" else None)

    return draw


def _both(trend: Trend) -> Callable[[Mapping[str, pd.DataFrame]], Any]:
    def draw(t: Mapping[str, pd.DataFrame]) -> Any:
        from greenflops.trends.figures2025 import both_fits

        return both_fits(t["points"], t["bands"], t["fits"], trend)

    return draw


_CV = "cv_models.csv (Table 2), cv_models_2021_2025.csv"
_GPU = "gpus.csv (Table 8), gpus_2021_2025.csv"
_CV_J = f"{_CV}, Fig. 8 fit through 2025"
_DATA = {"gflops": _CV, "gflops_per_watt": _GPU, "joules": _CV_J}


def _paper_figure(figure: str, name: str, data: str) -> ExtendedFigure:
    number = int(figure[3:])
    return ExtendedFigure(figure, f"{figure}_{name}_2025", f"Fig. {number:02d}",
                          {"figure": f"Fig. {number} through 2025", "data": data},
                          _extended(figure))


#: Every figure: the paper's Figs. 3, 8, 9, 13 through 2025, then both fits of every trend.
FIGURES: tuple[ExtendedFigure, ...] = (
    _paper_figure("fig03", "cv_gflops_over_time", _CV),
    _paper_figure("fig08", "gpu_adapted_gflops_per_watt", _GPU),
    _paper_figure("fig09", "cv_joules_over_time", _CV_J),
    _paper_figure("fig13", "cv_joules_vs_human", _CV_J),
    *(ExtendedFigure(t.id, f"both_fits_{t.id}", BOTH_FITS,
                     {"trend": t.name, "data": _DATA[t.quantity]}, _both(t)) for t in TRENDS),
)
