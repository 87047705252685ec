"""Tables 1, 4 and 9 of Desislavov et al. (2021) as the paper prints them.

Each builder returns a :class:`PaperTable`: the rows, the number format of each column, a title
and notes; :mod:`greenflops.io.render` writes it as Markdown and LaTeX.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["PaperTable", "similar_flops", "table01", "table04", "table09"]


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


@dataclass(frozen=True)
class PaperTable:
    """A table as printed: rows, a number format per column (e.g. ``".2f"``), title and notes."""

    frame: pd.DataFrame
    formats: Mapping[str, str]
    title: str
    notes: tuple[str, ...] = ()


def table01(models: pd.DataFrame, table1: Mapping[str, Any]) -> PaperTable:
    """Table 1: models whose GFLOPs are within ``max_gflops_ratio`` of the reference model's,
    marking the rows the paper prints (``table1`` is the trends spec's ``table1`` section)."""
    kept = similar_flops(models, table1["reference_model"], table1["max_gflops_ratio"])
    out = pd.DataFrame(
        {
            "Model": kept["model"],
            "Top-1 Accuracy": kept["top1_accuracy_pct"],
            "GFLOPs": kept["gflops"],
            "Year": kept["release_date"].str[:4],
            "Extra data": kept["extra_data"],
            "In paper's Table 1": kept["model"].isin(table1["paper_models"]),
        }
    )
    title = (
        f"Table 1: models with GFLOPs within a factor {table1['max_gflops_ratio']:g} of "
        f"{table1['reference_model']}'s"
    )
    notes = (
        "Criterion (workflow/resources/trends.yaml, table1): reference GFLOPs / ratio <= GFLOPs <= reference GFLOPs x "
        "ratio. The paper's Table 1 prints a hand-picked subset; the last column marks it.",
    )
    return PaperTable(out, {"Top-1 Accuracy": ".2f", "GFLOPs": ".2f"}, title, notes)


def table04(speedups: pd.DataFrame, fp32_reference: Mapping[str, str]) -> PaperTable:
    """Table 4: mean speed-ups per GPU and precision, CV and NLP side by side."""
    keys = list(dict.fromkeys(zip(speedups["gpu"], speedups["precision"])))
    by = speedups.set_index(["task", "gpu", "precision"])

    def cell(task: str, gpu: str, precision: str, column: str) -> float:
        key = (task, gpu, precision)
        return float(by.loc[key, column]) if key in by.index else float("nan")

    out = pd.DataFrame(
        {
            "GPU": [g for g, _ in keys],
            "Precision speed-up": [f"{p} speed-up ratio to {fp32_reference[g]} FP32" for g, p in keys],
            "CV models": [cell("CV", g, p, "speedup") for g, p in keys],
            "NLP models": [cell("NLP", g, p, "speedup") for g, p in keys],
            "CV benchmarks": [cell("CV", g, p, "n_benchmarks") for g, p in keys],
            "NLP benchmarks": [cell("NLP", g, p, "n_benchmarks") for g, p in keys],
        }
    )
    title = "Table 4: mixed-precision speed-ups for inference (mean over Table 3's benchmarks)"
    notes = ("Derived from Table 3 (data/raw/tables/precision_throughput.csv); two decimals as printed.",)
    formats = {"CV models": ".2f", "NLP models": ".2f", "CV benchmarks": ".0f", "NLP benchmarks": ".0f"}
    return PaperTable(out, formats, title, notes)


def table09(efficiency: pd.DataFrame, table9: Mapping[str, Any]) -> PaperTable:
    """Table 9: the FP32 rows, then the CNN- and NLP-adapted rows (``table9``: the trends spec's
    ``table9`` section, whose exclusions the notes list with their reasons)."""
    eff = efficiency
    base = eff[(~eff["adapted"]) & (eff["domain"] == "cv")].assign(Adapted="No")
    cv = eff[eff["adapted"] & (eff["domain"] == "cv")].assign(Adapted="For CNN")
    nlp = eff[eff["adapted"] & (eff["domain"] == "nlp")].assign(Adapted="For NLP")
    rows = pd.concat([base, cv, nlp], ignore_index=True)
    out = pd.DataFrame(
        {
            "Adapted": rows["Adapted"],
            "GPU": rows["gpu"],
            "Precision": rows["precision"],
            "TFLOPS": rows["tflops"],
            "Watts": rows["watts"],
            "Launch date": rows["launch_date"],
            "Type": rows["type"].str.capitalize(),
            "GFLOPS/Watt": rows["gflops_per_watt"],
        }
    )
    title = "Table 9: GPU throughput and power, adapted to CV and NLP inference"
    left_out = "; ".join(f"{r['gpu']} {r['precision']}: {r['reason']}" for r in table9["exclude"])
    notes = (
        "FP32 rows are shared by both domains (gpu_efficiency.csv repeats them under domain cv and nlp). "
        "Adapted TFLOPS = FP32 TFLOPS of the reference GPU x the unrounded mean speed-up of Table 4.",
        f"Table 8 rows left out (workflow/resources/trends.yaml, table9): {left_out}",
    )
    return PaperTable(out, {"TFLOPS": ".2f", "GFLOPS/Watt": ".2f"}, title, notes)
