"""Energy per forward pass, the two papers side by side.

For each network and batch, on each device that has energy data or a known power:

(a) **the trends paper's method** (Desislavov et al. 2021): joules = FLOPs ÷ (GFLOPS/W) of the
    GPU, from its Table 9 row adapted to CV (``data/processed/gpu_efficiency.csv``); only for
    the GPUs of Table 9;
(b) **predicted time × power**: the device's predicted time (the recommended combination with
    its whole-network correction, :mod:`greenflops.networks.validation`) times its power: the
    power limit NVML read (``power_limit_w`` in device.yaml) or, for a GPU of the tables, its
    TDP (an estimate: a GPU does not draw its TDP on every layer);
(c) **measured joules** per forward pass where NVML's energy counter gave them.

Where a value is missing the row says why; it is never filled in. Devices are the timing
datasets (matched to a Table 9 GPU by name and precision: :func:`match_gpu`) and the GPUs of
Table 9 named in ``workflow/resources/networks.yaml`` (``energy.gpus``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ENERGY_COLUMNS", "PRECISION_OF_DTYPE", "energy_table", "match_gpu", "normalise"]

#: The Table 9 precision whose adapted GFLOPS/W applies to a dataset's dtype.
PRECISION_OF_DTYPE = {"float32": "FP32", "tf32": "TF32", "bfloat16": "Mixed", "float16": "Mixed"}

ENERGY_COLUMNS = ["network", "batch", "gflops", "device", "kind", "gpu", "precision",
                  "gflops_per_watt", "j_trends", "predicted_ms", "power_w", "power_source",
                  "j_time_power", "measured_j", "j_per_image_trends", "j_per_image_time_power",
                  "j_per_image_measured", "note"]

_DROP = ("nvidia", "geforce", "tesla", "sxm4", "sxm5", "sxm", "pcie", "gb", "hbm3", "hbm2e",
         "hbm2", "hbm3e")


def normalise(name: str) -> str:
    """A GPU name reduced for matching: lower case, vendor/line words and memory sizes
    dropped (``"NVIDIA A100-SXM4-40GB"`` → ``"a100"``, ``"Tesla V100"`` → ``"v100"``)."""
    words = re.split(r"[^a-z0-9]+", str(name).lower())
    keep = [w for w in words if w and w not in _DROP and not re.fullmatch(r"\d+gb", w)]
    return " ".join(keep)


def match_gpu(name: str, efficiency: pd.DataFrame, precision: str) -> pd.Series | None:
    """The CV row of Table 9 (``gpu_efficiency.csv``) for a device called ``name`` at
    ``precision``: the row whose normalised GPU name equals the device's (or is a whole-word
    prefix of it); None when there is none."""
    want = normalise(name)
    if not want:
        return None
    cv = efficiency[(efficiency["domain"] == "cv") & (efficiency["precision"] == precision)]
    for _, row in cv.iterrows():
        gpu = normalise(row["gpu"])
        if gpu and (want == gpu or want.startswith(gpu + " ")):
            return row
    return None


def _j(gflops: float, gflops_per_watt: float | None) -> float | None:
    return None if not gflops_per_watt else gflops / gflops_per_watt


def energy_table(predictions: pd.DataFrame, cost_models: Mapping[str, Mapping[str, Any]],
                 devices: Mapping[str, Mapping[str, Any]], efficiency: pd.DataFrame,
                 reference: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    """The side-by-side table (:data:`ENERGY_COLUMNS`), one row per network, batch and device.

    ``predictions``: every network's predictions (:data:`~greenflops.networks.validation.
    PREDICTION_COLUMNS`); ``cost_models``: device id → cost_model.yaml; ``devices``: device id →
    device.yaml; ``efficiency``: gpu_efficiency.csv (Table 9, with each GPU's TDP from Table
    8); ``reference``: the Table 9 rows (gpu, precision) shown for every network.
    """
    from greenflops.networks.costs import NetCorrection
    from greenflops.networks.predict import COMBO

    rows: list[dict[str, Any]] = []
    combo = predictions[predictions["model"] == COMBO]
    keys = combo[["network", "batch", "input_shape", "gflops"]].drop_duplicates(
        ["network", "input_shape"])
    for key in keys.sort_values(["network", "batch"], kind="mergesort").to_dict("records"):
        net, batch, gflops = key["network"], int(key["batch"]), float(key["gflops"])
        matched: set[tuple[str, str]] = set()
        for device_id, facts in sorted(devices.items()):
            dtype = str(facts.get("dtype") or "float32")
            precision = PRECISION_OF_DTYPE.get(dtype, "FP32")
            kind = "gpu" if facts.get("device_type") in ("cuda", "mps", "other") else "cpu"
            row = match_gpu(str(facts.get("name", "")), efficiency, precision)
            if row is not None:
                matched.add((str(row["gpu"]), precision))
            pred = combo[(combo["device_id"] == device_id) & (combo["network"] == net)
                         & (combo["input_shape"] == key["input_shape"])]
            predicted = measured = None
            if len(pred):
                p = pred.iloc[0]
                corr = NetCorrection(**(cost_models.get(device_id, {}).get("correction") or {}))
                if np.isfinite(p["predicted_ms"]):
                    predicted = float(corr.apply(p["dense_ms"], p["grouped_ms"], p["other_ms"],
                                                 p["n_ops"]))
                else:  # no op costs on this device: its model on the matrix products
                    model = cost_models.get(device_id, {}).get("time_model")
                    alone = predictions[(predictions["device_id"] == device_id)
                                        & (predictions["network"] == net)
                                        & (predictions["input_shape"] == key["input_shape"])
                                        & (predictions["model"] == model)]
                    predicted = float(alone["predicted_ms"].iloc[0]) if len(alone) else None
                m = p.get("measured_energy_j")
                measured = float(m) if m is not None and np.isfinite(m) else None
            power, source = facts.get("power_limit_w"), "power limit (NVML)"
            if not power and row is not None:
                power, source = float(row["watts"]), "TDP of Table 8 (estimate)"
            notes = []
            if row is None:
                notes.append("(a) n/a: not a GPU of Table 9" if kind == "cpu" else
                             f"(a) n/a: no {precision} row of Table 9 for {facts.get('name')}")
            if not power:
                notes.append("(b) n/a: no known power (device.yaml has no power_limit_w and the "
                             "device is not a GPU of Table 8)")
            if measured is None:
                notes.append("(c) not measured: " + ("no NVML energy counter on a CPU"
                                                     if kind == "cpu" else
                                                     "no energy in this device's network "
                                                     "timings"))
            gpw = None if row is None else float(row["gflops_per_watt"])
            rows.append(_row(net, batch, gflops, device_id, kind,
                             None if row is None else str(row["gpu"]), precision, gpw,
                             predicted, power if power else None, source if power else None,
                             measured, "; ".join(notes)))
        for ref in reference:
            if (ref["gpu"], ref["precision"]) in matched:
                continue
            sel = efficiency[(efficiency["domain"] == "cv") & (efficiency["gpu"] == ref["gpu"])
                             & (efficiency["precision"] == ref["precision"])]
            gpw = float(sel["gflops_per_watt"].iloc[0]) if len(sel) else None
            watts = float(sel["watts"].iloc[0]) if len(sel) else None
            rows.append(_row(net, batch, gflops, f"{ref['gpu']} {ref['precision']}", "table9",
                             ref["gpu"], ref["precision"], gpw, None, watts,
                             "TDP of Table 8 (estimate)", None,
                             "(b) n/a: no timing data of this GPU, so no predicted time; "
                             "(c) not measured"))
    return pd.DataFrame(rows, columns=ENERGY_COLUMNS)


def _row(net: str, batch: int, gflops: float, device: str, kind: str, gpu: str | None,
         precision: str, gpw: float | None, predicted: float | None, power: float | None,
         source: str | None, measured: float | None, note: str) -> dict[str, Any]:
    j_a = _j(gflops, gpw)
    j_b = None if predicted is None or power is None else predicted / 1e3 * power
    return {"network": net, "batch": batch, "gflops": gflops, "device": device, "kind": kind,
            "gpu": gpu, "precision": precision, "gflops_per_watt": gpw, "j_trends": j_a,
            "predicted_ms": predicted, "power_w": power if j_b is not None else None,
            "power_source": source if j_b is not None else None, "j_time_power": j_b,
            "measured_j": measured,
            "j_per_image_trends": None if j_a is None else j_a / batch,
            "j_per_image_time_power": None if j_b is None else j_b / batch,
            "j_per_image_measured": None if measured is None else measured / batch,
            "note": note}
