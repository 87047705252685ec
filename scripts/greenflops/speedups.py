"""Mixed-precision speed-ups (Tables 3-4) and adapted GPU efficiency (Table 9) of Desislavov et al. (2021).

* Speed-up of a benchmark run = its throughput / the FP32 throughput of the same benchmark
  (task, model, framework, batch size) on the reference GPU: the same GPU, except A100, which has
  no FP32 runs and is compared with V100 FP32 (Table 3's caption). The reference map is config.
* Table 4 = the mean speed-up per task, GPU and precision (unrounded here; the paper prints two
  decimals, and its Table 9 multiplies by the unrounded means).
* Table 9 = Table 8's FP32 rows (minus the rows the paper leaves out, listed in config) plus, per
  domain, "adapted" rows: ``TFLOPS = FP32 TFLOPS of the reference GPU × mean speed-up``, with the
  power, launch date and type of the GPU itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from greenflops.energy import gflops_per_watt

__all__ = [
    "BENCHMARK_KEY",
    "DOMAINS",
    "benchmark_speedups",
    "gpu_efficiency_table",
    "mean_speedups",
]

#: Columns that identify one benchmark in Table 3 (the GPU memory size is not part of it).
BENCHMARK_KEY = ["task", "model", "framework", "batch_size"]
#: Table 3's task name of each domain of the processed tables.
DOMAINS = {"cv": "CV", "nlp": "NLP"}


def benchmark_speedups(throughput: pd.DataFrame, fp32_reference: Mapping[str, str]) -> pd.DataFrame:
    """Speed-up of every non-FP32 run of Table 3 over the FP32 run of its reference GPU.

    ``fp32_reference`` maps each GPU to the GPU whose FP32 throughput is the baseline (e.g.
    ``{"V100": "V100", "T4": "T4", "A100": "V100"}``). Raises ``ValueError`` when a GPU has no
    reference or a benchmark lacks the FP32 run it needs.
    """
    rows = []
    for _, run in throughput.iterrows():
        if run["precision"] == "FP32":
            continue
        if run["gpu"] not in fp32_reference:
            raise ValueError(f"no FP32 reference GPU configured for {run['gpu']!r}")
        ref_gpu = fp32_reference[run["gpu"]]
        same = (throughput[BENCHMARK_KEY] == run[BENCHMARK_KEY]).all(axis=1)
        base = throughput[same & (throughput["gpu"] == ref_gpu) & (throughput["precision"] == "FP32")]
        if len(base) != 1:
            what = ", ".join(f"{k}={run[k]!r}" for k in BENCHMARK_KEY)
            raise ValueError(
                f"benchmark ({what}) on {run['gpu']} {run['precision']}: expected one FP32 run on "
                f"{ref_gpu}, found {len(base)}"
            )
        rows.append(
            {
                **{k: run[k] for k in BENCHMARK_KEY},
                "gpu": run["gpu"],
                "precision": run["precision"],
                "reference_gpu": ref_gpu,
                "throughput": float(run["throughput"]),
                "reference_throughput": float(base["throughput"].iloc[0]),
                "speedup": float(run["throughput"]) / float(base["throughput"].iloc[0]),
            }
        )
    return pd.DataFrame(rows)


def mean_speedups(
    per_benchmark: pd.DataFrame,
    gpu_order: Sequence[str] = ("V100", "A100", "T4"),
    precision_order: Sequence[str] = ("TF32", "Mixed"),
) -> pd.DataFrame:
    """Table 4: mean speed-up per (task, gpu, precision) with ``n_benchmarks``, in a fixed order."""
    grouped = per_benchmark.groupby(["task", "gpu", "precision"], sort=False)["speedup"]
    out = pd.DataFrame({"speedup": grouped.mean(), "n_benchmarks": grouped.size()}).reset_index()
    out["_g"] = out["gpu"].map({g: i for i, g in enumerate(gpu_order)}).fillna(len(gpu_order))
    out["_p"] = out["precision"].map({p: i for i, p in enumerate(precision_order)}).fillna(9)
    out = out.sort_values(["task", "_g", "gpu", "_p", "precision"], kind="mergesort")
    return out.drop(columns=["_g", "_p"]).reset_index(drop=True)[
        ["task", "gpu", "precision", "speedup", "n_benchmarks"]
    ]


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
