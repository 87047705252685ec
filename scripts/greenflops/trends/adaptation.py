"""Table 9 rows for GPUs the paper never measured: adapting peaks to inference throughput.

The paper's Table 9 replaces the tensor-core peaks of Table 8 by *measured* mixed-precision
inference throughput: FP32 peak of the reference GPU × the NGC speed-up of Table 4
(:mod:`greenflops.trends.efficiency`). Those speed-ups exist for V100, T4 and A100 only, so a GPU
launched after 2021 needs a stated choice. :func:`paper_adaptation_factors` expresses what the
paper's measurements imply relative to each measured GPU's own Table 8 peaks:

* ``speedup_vs_own_fp32`` = adapted Mixed TFLOPS / the GPU's own FP32 peak;
* ``realization`` = adapted Mixed TFLOPS / the GPU's own FP16/FP32 tensor peak (the fraction of
  the tensor peak that inference realized);

and :func:`new_gpu_rows` applies one **variant** (``workflow/resources/trends2025.yaml``,
``adaptation.variants``) to the new GPUs: a basis (none, the GPU's own FP32 peak or its dense
FP16/BF16 tensor peak) times a factor (none, or one of the two above, of one measured GPU or
their mean), floored at the GPU's own FP32 peak.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from greenflops.trends.energy import gflops_per_watt

__all__ = [
    "EFFICIENCY_COLUMNS",
    "AdaptationSpec",
    "Variant",
    "new_gpu_rows",
    "paper_adaptation_factors",
    "used_rows",
]

#: Columns of Table 9 (``data/processed/gpu_efficiency.csv``), which the new rows share.
EFFICIENCY_COLUMNS = [
    "domain", "gpu", "precision", "tflops", "watts", "launch_date", "type", "gflops_per_watt",
    "adapted", "speedup",
]
#: Table 9's precision of the measured mixed-precision rows (the factors are derived from them).
MIXED = "Mixed"
DOMAINS = ("cv", "nlp")


@dataclass(frozen=True)
class Variant:
    """One way to adapt a new GPU: ``basis`` peak × ``factor`` of ``factor_gpu``."""

    name: str
    basis: str  #: "none" (FP32 rows only), "fp32" or "tensor"
    factor: str = "none"  #: "none", "speedup_vs_own_fp32" or "realization"
    factor_gpu: str = "mean"  #: a measured GPU (Table 9 name) or "mean" of them

    def __post_init__(self) -> None:
        if self.basis not in ("none", "fp32", "tensor"):
            raise ValueError(f"variant {self.name}: unknown basis {self.basis!r}")
        if self.factor not in ("none", "speedup_vs_own_fp32", "realization"):
            raise ValueError(f"variant {self.name}: unknown factor {self.factor!r}")


@dataclass(frozen=True)
class AdaptationSpec:
    """The ``adaptation`` section of ``workflow/resources/trends2025.yaml``."""

    variants: Mapping[str, Variant]
    headline: str
    tensor_precisions: tuple[str, ...]  #: new-table precisions of a tensor basis, preferred first
    accumulate: str  #: the accumulate mode a tensor basis must have
    adapted_types: tuple[str, ...]  #: GPU types that get adapted rows
    paper_tensor_precision: str  #: Table 8's tensor precision (denominator of ``realization``)
    floor_at_own_fp32: bool = True

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any]) -> AdaptationSpec:
        variants = {
            name: Variant(name, v["basis"], v.get("factor", "none"), v.get("factor_gpu", "mean"))
            for name, v in spec["variants"].items()
        }
        if spec["headline"] not in variants:
            raise ValueError(f"headline variant {spec['headline']!r} is not among the variants")
        return cls(
            variants=variants,
            headline=spec["headline"],
            tensor_precisions=tuple(spec["tensor_precisions"]),
            accumulate=spec["accumulate"],
            adapted_types=tuple(spec["adapted_types"]),
            paper_tensor_precision=spec["paper_tensor_precision"],
            floor_at_own_fp32=bool(spec["floor_at_own_fp32"]),
        )


def paper_adaptation_factors(
    efficiency: pd.DataFrame,
    gpus: pd.DataFrame,
    display_names: Mapping[str, str],
    paper_tensor_precision: str,
) -> pd.DataFrame:
    """What the paper's measured speed-ups mean relative to each measured GPU's own peaks.

    ``efficiency`` = Table 9 (both domains), ``gpus`` = Table 8, ``display_names`` = Table 8 name
    -> Table 9 name (trends spec, ``table9.display_names``). One row per (domain, measured GPU):
    ``adapted_tflops`` (Table 9's Mixed row), ``own_fp32_tflops`` and ``tensor_peak_tflops``
    (Table 8), ``speedup_vs_own_fp32`` and ``realization``; then a ``mean`` row per domain (the
    unweighted mean of each factor over the measured GPUs).
    """
    table8_name = {shown: name for name, shown in display_names.items()}

    def peak(gpu: str, precision: str) -> float:
        hit = gpus[(gpus["gpu"] == gpu) & (gpus["precision"] == precision)]["tflops"]
        if len(hit) != 1:
            raise ValueError(f"Table 8 has {len(hit)} {precision!r} rows for {gpu!r}, need 1")
        return float(hit.iloc[0])

    rows: list[dict[str, Any]] = []
    for domain in sorted(efficiency["domain"].unique()):
        mixed = efficiency[(efficiency["domain"] == domain) & efficiency["adapted"].astype(bool)
                           & (efficiency["precision"] == MIXED)]
        if mixed.empty:
            raise ValueError(f"Table 9 has no measured {MIXED} rows for domain {domain!r}")
        part = []
        for _, r in mixed.iterrows():
            name = table8_name.get(r["gpu"], r["gpu"])
            adapted, fp32 = float(r["tflops"]), peak(name, "FP32")
            tensor = peak(name, paper_tensor_precision)
            part.append({"domain": domain, "gpu": r["gpu"], "adapted_tflops": adapted,
                         "own_fp32_tflops": fp32, "tensor_peak_tflops": tensor,
                         "speedup_vs_own_fp32": adapted / fp32, "realization": adapted / tensor})
        rows += part
        rows.append({"domain": domain, "gpu": "mean", "adapted_tflops": math.nan,
                     "own_fp32_tflops": math.nan, "tensor_peak_tflops": math.nan,
                     "speedup_vs_own_fp32": float(np.mean([p["speedup_vs_own_fp32"] for p in part])),
                     "realization": float(np.mean([p["realization"] for p in part]))})
    return pd.DataFrame(rows)


def used_rows(new_gpus: pd.DataFrame, include_excluded: bool = False) -> pd.DataFrame:
    """Rows of the new GPU table that may enter a fit: with power and date, and without an
    ``exclude_reason`` unless ``include_excluded``."""
    ok = new_gpus["watts_tdp"].notna() & new_gpus["launch_date"].notna()
    if not include_excluded:
        ok &= new_gpus["exclude_reason"].isna() | (new_gpus["exclude_reason"].astype(str) == "")
    return new_gpus[ok]


def _tensor_peaks(gpus: pd.DataFrame, spec: AdaptationSpec) -> pd.DataFrame:
    """One tensor row per GPU: the first of ``spec.tensor_precisions`` with ``spec.accumulate``."""
    rank = {p: i for i, p in enumerate(spec.tensor_precisions)}
    t = gpus[gpus["precision"].isin(rank) & (gpus["accumulate"] == spec.accumulate)].copy()
    t["_rank"] = t["precision"].map(rank)
    t = t.sort_values(["gpu", "_rank"], kind="mergesort").groupby("gpu", sort=False).head(1)
    return t.drop(columns="_rank")


def _factor(factors: pd.DataFrame, domain: str, variant: Variant) -> float:
    if variant.factor == "none":
        return 1.0
    hit = factors[(factors["domain"] == domain) & (factors["gpu"] == variant.factor_gpu)]
    if len(hit) != 1:
        raise ValueError(f"variant {variant.name}: no {variant.factor} of {variant.factor_gpu!r} "
                         f"in domain {domain!r}")
    return float(hit[variant.factor].iloc[0])


def new_gpu_rows(
    new_gpus: pd.DataFrame,
    factors: pd.DataFrame,
    variant: Variant,
    spec: AdaptationSpec,
    *,
    include_excluded: bool = False,
    domains: Sequence[str] = DOMAINS,
) -> pd.DataFrame:
    """Table 9 rows (:data:`EFFICIENCY_COLUMNS`) of the new GPUs under ``variant``, per domain.

    Every variant keeps the FP32 rows of every used GPU (``adapted`` false), as Table 9 keeps every
    FP32 row. Adapted rows (precision ``Mixed``, ``adapted`` true) are made for GPUs of
    ``spec.adapted_types`` only, as the paper adapts only data-center GPUs: basis peak × factor,
    floored at the GPU's own FP32 peak (``spec.floor_at_own_fp32``); ``speedup`` = adapted / own
    FP32 (NaN when the GPU has no FP32 row). INT8, FP8, TF32 and other-accumulate rows are never a
    basis. The rows follow the table's order, per domain.
    """
    gpus = used_rows(new_gpus, include_excluded)
    fp32 = gpus[gpus["precision"] == "FP32"]
    own_fp32 = dict(zip(fp32["gpu"], fp32["tflops"].astype(float)))
    adaptable = gpus[gpus["type"].isin(spec.adapted_types)]
    if variant.basis == "fp32":
        basis = adaptable[adaptable["precision"] == "FP32"]
    elif variant.basis == "tensor":
        basis = _tensor_peaks(adaptable, spec)
    else:
        basis = adaptable.iloc[0:0]
    own = basis["gpu"].map(own_fp32).to_numpy(dtype=float)  # NaN: no FP32 row
    frames = []
    for domain in domains:
        frames.append(_rows(domain, fp32, fp32["tflops"].to_numpy(dtype=float), "FP32", False,
                            np.ones(len(fp32))))
        tflops = basis["tflops"].to_numpy(dtype=float) * _factor(factors, domain, variant)
        if spec.floor_at_own_fp32:
            # mixed precision is not deployed where it is slower than FP32
            tflops = np.where(tflops < own, own, tflops)
        frames.append(_rows(domain, basis, tflops, MIXED, True, tflops / own))
    frames = [f for f in frames if len(f)]
    out = (pd.concat(frames, ignore_index=True) if frames
           else _rows("", fp32, np.empty(0), MIXED, True, np.empty(0)).iloc[0:0])
    out.insert(7, "gflops_per_watt", gflops_per_watt(out["tflops"].to_numpy(dtype=float),
                                                     out["watts"].to_numpy(dtype=float)))
    return out[EFFICIENCY_COLUMNS]


def _rows(domain: str, gpus: pd.DataFrame, tflops: np.ndarray, precision: str, adapted: bool,
          speedup: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "domain": domain, "gpu": gpus["gpu"].to_numpy(), "precision": precision, "tflops": tflops,
        "watts": gpus["watts_tdp"].to_numpy(dtype=int),
        "launch_date": gpus["launch_date"].astype(str).to_numpy(),
        "type": gpus["type"].to_numpy(), "adapted": adapted, "speedup": speedup,
    }, columns=[c for c in EFFICIENCY_COLUMNS if c != "gflops_per_watt"])
