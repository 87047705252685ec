"""Printed vs regenerated: every number of Desislavov et al. (2021) the pipeline re-derives.

:func:`regenerated_values` collects the re-derived numbers as (item, key, value) rows keyed as in
``data/raw/tables/trends_paper_values.csv``; :func:`fidelity_table` joins them with the printed
ones and judges each difference against the printed rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from greenflops.trends.energy import gflops_per_watt

__all__ = ["fidelity_table", "regenerated_values"]


def fidelity_table(
    regenerated: pd.DataFrame, printed: pd.DataFrame, tolerance_units: float = 0.5
) -> pd.DataFrame:
    """Join printed and regenerated values on (item, key) and judge each difference.

    ``printed``: item, key, paper_value, rounding_unit, source, explanation. ``regenerated``:
    item, key, value. ``status`` is ``match`` when ``|value - paper| <= tolerance_units ·
    rounding_unit`` (the paper rounded), ``explained`` when not but an explanation is recorded,
    ``UNEXPLAINED`` otherwise, and ``missing`` when the pipeline has no value for a printed one.
    Regenerated values the paper does not print are left out (a key typo in the printed table
    shows up as ``missing``).
    """
    out = printed.merge(regenerated, on=["item", "key"], how="left", validate="one_to_one")
    out["abs_diff"] = out["value"] - out["paper_value"]
    out["rel_diff"] = out["abs_diff"] / out["paper_value"]
    explained = out["explanation"].fillna("").astype(str).str.len() > 0
    within = out["abs_diff"].abs() <= tolerance_units * out["rounding_unit"] * (1 + 1e-9)
    out["status"] = np.where(
        out["value"].isna(),
        "missing",
        np.where(within, "match", np.where(explained, "explained", "UNEXPLAINED")),
    )
    return out[
        ["item", "key", "paper_value", "value", "abs_diff", "rel_diff", "rounding_unit", "status", "explanation", "source"]
    ].reset_index(drop=True)


def regenerated_values(
    *,
    benchmark_speedups: pd.DataFrame,
    speedups: pd.DataFrame,
    gpus: pd.DataFrame,
    efficiency: pd.DataFrame,
    estimates: pd.DataFrame,
    correlation: pd.DataFrame,
    human: pd.DataFrame,
) -> pd.DataFrame:
    """Every re-derived number the paper prints, as (item, key, value) rows keyed as in
    ``trends_paper_values.csv``."""
    rows: list[tuple[str, str, float]] = []
    for _, b in benchmark_speedups.iterrows():
        key = "|".join(str(b[c]) for c in ("task", "model", "framework", "batch_size", "gpu", "precision"))
        rows.append(("table3_speedup", key, b["speedup"]))
    for _, s in speedups.iterrows():
        rows.append(("table4_speedup", f"{s['task']}|{s['gpu']}|{s['precision']}", s["speedup"]))
    for _, g in gpus.iterrows():
        rows.append(
            ("table8_gflops_per_watt", f"{g['gpu']}|{g['precision']}", gflops_per_watt(g["tflops"], g["watts_tdp"]))
        )
    for _, e in efficiency.iterrows():
        if not e["adapted"]:
            if e["domain"] == "cv":  # the FP32 rows are shared: printed once
                rows.append(("table9_gflops_per_watt", f"fp32|{e['gpu']}|{e['precision']}", e["gflops_per_watt"]))
            continue
        key = f"{e['domain']}|{e['gpu']}|{e['precision']}"
        rows.append(("table9_tflops", key, e["tflops"]))
        rows.append(("table9_gflops_per_watt", key, e["gflops_per_watt"]))
    for _, e in estimates.iterrows():
        for factor in ("d_sigma", "w_sigma", "r_sigma", "check_r_sigma_squared", "check_gflops_ratio"):
            if not pd.isna(e[factor]):
                rows.append(("estimate_factor", f"{e['model']}|{factor}", e[factor]))
        rows.append(("estimated_gflops", str(e["model"]), e["gflops"]))
    for _, c in correlation.iterrows():
        rows.append(("fig1_pearson_r", str(c["family"]), c["pearson_r"]))
    for _, h in human.iterrows():
        rows.append(("human_energy_joules_per_second", str(h["reference"]), h["joules_per_second"]))
    return pd.DataFrame(rows, columns=["item", "key", "value"]).astype({"value": float})
