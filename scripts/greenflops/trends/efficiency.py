"""Table 9 of Desislavov et al. (2021): GPU efficiency adapted to CV and NLP inference.

Table 9 = Table 8's FP32 rows (minus the rows the paper leaves out, listed in the trends spec)
plus, per domain, "adapted" rows: ``TFLOPS = FP32 TFLOPS of the reference GPU × mean speed-up``
(Table 4, :mod:`greenflops.trends.speedups`), with the power, launch date and type of the GPU
itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from greenflops.trends.energy import gflops_per_watt
from greenflops.trends.speedups import DOMAINS

__all__ = ["gpu_efficiency_table"]


def _excluded(gpu: str, precision: str, exclude_rows: Sequence[Mapping[str, Any]]) -> bool:
    return any(r["gpu"] == gpu and r["precision"] == precision for r in exclude_rows)


def gpu_efficiency_table(
    gpus: pd.DataFrame,
    speedups: pd.DataFrame,
    *,
    base_precisions: Sequence[str],
    exclude_rows: Sequence[Mapping[str, Any]],
    gpu_names: Mapping[str, str],
    fp32_reference: Mapping[str, str],
    display_names: Mapping[str, str],
    precision_order: Sequence[str] = ("FP32", "TF32", "Mixed"),
) -> pd.DataFrame:
    """Table 9, one row per (domain, GPU, precision).

    ``base_precisions``: Table 8 precisions kept as measured (FP32); ``exclude_rows``: Table 8 rows
    left out (``gpu``, ``precision``); ``gpu_names`` maps Table 3 GPU names to Table 8 names;
    ``display_names`` renames Table 8 GPUs as Table 9 prints them. The kept rows are repeated for
    each domain (``adapted`` false); each domain then gets its adapted rows (``adapted`` true).
    Rows: domain, then unadapted before adapted, then launch date, then precision order, then
    Table 8 order.
    """
    table8 = gpus.reset_index(drop=True).copy()
    table8["_order"] = range(len(table8))

    def row_of(gpu: str, precision: str) -> pd.Series:
        found = table8[(table8["gpu"] == gpu) & (table8["precision"] == precision)]
        if len(found) != 1:
            raise ValueError(f"GPU table has {len(found)} rows for {gpu!r} {precision!r}, need 1")
        return found.iloc[0]

    base = table8[
        table8["precision"].isin(list(base_precisions))
        & ~table8.apply(lambda r: _excluded(r["gpu"], r["precision"], exclude_rows), axis=1)
    ]
    records = []
    for domain, task in DOMAINS.items():
        for _, r in base.iterrows():
            records.append(
                {
                    "domain": domain,
                    "gpu": display_names.get(r["gpu"], r["gpu"]),
                    "precision": r["precision"],
                    "tflops": float(r["tflops"]),
                    "watts": int(r["watts_tdp"]),
                    "launch_date": r["launch_date"],
                    "type": r["type"],
                    "adapted": False,
                    "speedup": 1.0,
                    "_order": int(r["_order"]),
                }
            )
        for _, s in speedups[speedups["task"] == task].iterrows():
            if s["gpu"] not in gpu_names or s["gpu"] not in fp32_reference:
                raise ValueError(f"GPU {s['gpu']!r} of the speed-ups has no name/reference in config")
            board = row_of(gpu_names[s["gpu"]], "FP32")
            reference = row_of(gpu_names[fp32_reference[s["gpu"]]], "FP32")
            records.append(
                {
                    "domain": domain,
                    "gpu": display_names.get(board["gpu"], board["gpu"]),
                    "precision": s["precision"],
                    "tflops": float(reference["tflops"]) * float(s["speedup"]),
                    "watts": int(board["watts_tdp"]),
                    "launch_date": board["launch_date"],
                    "type": board["type"],
                    "adapted": True,
                    "speedup": float(s["speedup"]),
                    "_order": int(board["_order"]),
                }
            )
    out = pd.DataFrame(records)
    out["gflops_per_watt"] = gflops_per_watt(out["tflops"].to_numpy(), out["watts"].to_numpy())
    prec_rank = {p: i for i, p in enumerate(precision_order)}
    out["_p"] = out["precision"].map(prec_rank).fillna(len(prec_rank))
    out = out.sort_values(
        ["domain", "adapted", "launch_date", "_p", "_order"], kind="mergesort"
    ).reset_index(drop=True)
    return out[
        [
            "domain",
            "gpu",
            "precision",
            "tflops",
            "watts",
            "launch_date",
            "type",
            "gflops_per_watt",
            "adapted",
            "speedup",
        ]
    ]
