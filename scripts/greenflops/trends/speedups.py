"""Mixed-precision speed-ups of Desislavov et al. (2021), Tables 3-4.

* Speed-up of a benchmark run = its throughput / the FP32 throughput of the same benchmark
  (task, model, framework, batch size) on the reference GPU: the same GPU, except A100, which has
  no FP32 runs and is compared with V100 FP32 (Table 3's caption). The reference map is part of
  the trends specification (``workflow/resources/trends.yaml``).
* Table 4 = the mean speed-up per task, GPU and precision (unrounded here; the paper prints two
  decimals, and its Table 9 multiplies by the unrounded means).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = [
    "BENCHMARK_KEY",
    "DOMAINS",
    "benchmark_speedups",
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
