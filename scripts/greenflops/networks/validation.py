"""Predicted vs measured whole networks, and what each device's cost model is worth.

:func:`prediction_rows` turns one network's op tables into its predictions on every device (one
row per device, batch and time model, with the measured time where the device has one).
:func:`validate_device` compares them with the measured times of one device:

* every time model of the device alone (``flops``, the α family, ...: the per-op sum over the
  matrix products, other ops 0), as the device's fit gives it;
* ``flops_lono``: time ∝ FLOPs with the scale fitted on the *other* networks' measured times
  (leave-one-network-out): the best a FLOPs-proportional model can do on networks;
* ``combo``: the device's model on dense ops + grouped-conv cost + op costs
  (:mod:`greenflops.networks.predict`), from layer and op sweeps only;
* ``combo_lono``: ``combo`` with the whole-network correction
  (:class:`~greenflops.networks.costs.NetCorrection`) fitted leave-one-network-out (both
  batches of the held-out network left out): the *recommended combination*, whose error is
  out of sample by construction.

:func:`cost_model` is what the ``cost`` command uses on a device: its model, its op costs, the
correction fitted on every measured network, and the validated (LONO) error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from greenflops.alpha.document import device_time_model
from greenflops.networks.costs import NetCorrection, fit_net_correction, lono_predictions
from greenflops.networks.predict import COMBO, network_totals, predict_ops

__all__ = [
    "COMBO_LONO",
    "FLOPS_LONO",
    "PREDICTION_COLUMNS",
    "TARGET_MAPE_PCT",
    "cost_model",
    "prediction_rows",
    "summary_rows",
    "validate_device",
]

COMBO_LONO = "combo_lono"
FLOPS_LONO = "flops_lono"
#: The issue's target: MAPE of the recommended combination across the networks on a device.
TARGET_MAPE_PCT = 15.0
#: Columns of a network's predictions (data/processed/networks/by_network/<n>/predictions.csv).
PREDICTION_COLUMNS = ["network", "device_id", "dtype", "input_shape", "batch", "gflops", "n_ops",
                      "model", "predicted_ms", "dense_ms", "grouped_ms", "other_ms",
                      "measured_ms", "measured_iqr_ms", "measured_energy_j"]


def prediction_rows(network: str, op_tables: Mapping[str, pd.DataFrame],
                    devices: Mapping[str, Mapping[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions of one network on every device, and its per-op table.

    ``op_tables``: input shape → op table. ``devices``: device id → ``{"params": params.yaml
    document, "op_costs": {kind: LinearCost} or None, "measured": network timing rows or
    None}``. Returns (predictions, :data:`PREDICTION_COLUMNS`; per-op rows: device, input shape,
    op, component, FLOPs, bytes, the combination's milliseconds and share of its sum, and the
    device model's alone).
    """
    rows: list[dict[str, Any]] = []
    per_op: list[pd.DataFrame] = []
    for device_id, dev in sorted(devices.items()):
        params = dev["params"]
        dtypes = (params.get("data") or {}).get("dtypes") or ["float32"]
        measured = dev.get("measured")
        chosen = device_time_model(params)
        for shape, ops in op_tables.items():
            pred = predict_ops(ops, params, dev.get("op_costs"))
            totals = network_totals(pred)
            batch = int(shape.split("x")[0])
            meas: dict[str, Any] = {}
            if measured is not None:
                hit = measured[measured["input_shape"] == shape]
                if len(hit):
                    m = hit.iloc[0]
                    meas = {"measured_ms": float(m["time_ms"]),
                            "measured_iqr_ms": _num(m.get("time_ms_iqr")),
                            "measured_energy_j": _num(m.get("energy_j"))}
            base = {"network": network, "device_id": device_id, "dtype": str(dtypes[0]),
                    "input_shape": shape, "batch": batch, "gflops": totals["gflops"],
                    "n_ops": int(totals["n_ops"])}
            for col in [c for c in pred.columns if c.startswith("ms_")]:
                model = col.removeprefix("ms_")
                parts = ({k: totals[k] for k in ("dense_ms", "grouped_ms", "other_ms")}
                         if model == COMBO else {})
                rows.append({**base, "model": model, "predicted_ms": totals[col], **parts,
                             **meas})
            total = totals[f"ms_{COMBO}"]
            op = pred[["index", "module", "module_type", "kind", "component", "flops",
                       "bytes_moved"]].copy()
            op.insert(0, "input_shape", shape)
            op.insert(0, "device_id", device_id)
            op["ms"] = pred[f"ms_{COMBO}"]
            op["share"] = op["ms"] / total if np.isfinite(total) and total > 0 else np.nan
            op["model"] = chosen
            op["ms_model_alone"] = pred[f"ms_{chosen}"] if f"ms_{chosen}" in pred else np.nan
            per_op.append(op)
    return (pd.DataFrame(rows, columns=PREDICTION_COLUMNS),
            pd.concat(per_op, ignore_index=True) if per_op else pd.DataFrame())


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _wide(predictions: pd.DataFrame, device_id: str) -> pd.DataFrame:
    """One row per measured (network, batch) of a device: measured, parts, a column per model."""
    sub = predictions[(predictions["device_id"] == device_id)
                      & predictions["measured_ms"].notna()]
    if sub.empty:
        return pd.DataFrame()
    keys = ["network", "input_shape", "batch", "gflops", "n_ops", "measured_ms"]
    wide = sub.set_index([*keys, "model"])["predicted_ms"].unstack("model").reset_index()
    wide.columns.name = None
    parts = sub[sub["model"] == COMBO].set_index(["network", "input_shape"])[
        ["dense_ms", "grouped_ms", "other_ms"]]
    wide = wide.join(parts, on=["network", "input_shape"])
    return wide.sort_values(["network", "batch"], kind="mergesort").reset_index(drop=True)


def validate_device(predictions: pd.DataFrame, device_id: str,
                    params: Mapping[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """APE of every method on every measured network of one device (long: network, batch,
    method, predicted, measured, APE) and the device's facts (full-data correction, MAPEs,
    target check). Empty frame and ``{"networks": 0}`` when nothing is measured."""
    wide = _wide(predictions, device_id)
    if wide.empty:
        return pd.DataFrame(), {"networks": 0}
    measured = wide["measured_ms"].to_numpy(float)
    nets = wide["network"].to_numpy()
    methods: dict[str, np.ndarray] = {}
    models = [m for m in dict.fromkeys(predictions.loc[predictions["device_id"] == device_id,
                                                       "model"]) if m in wide.columns]
    for model in models:
        methods[model] = wide[model].to_numpy(float)
    if "flops" in wide:
        # FLOPs proportional, scale fitted on the other networks (NNLS on relative errors).
        flops_parts = pd.DataFrame({"dense_ms": wide["flops"], "grouped_ms": 0.0,
                                    "other_ms": 0.0, "n_ops": 0.0})
        methods[FLOPS_LONO] = lono_predictions(flops_parts, measured, nets, terms=("a_dense",))
    has_combo = COMBO in wide and wide[COMBO].notna().all()
    facts: dict[str, Any] = {"networks": int(len(set(nets))), "rows": int(len(wide)),
                             "time_model": device_time_model(params)}
    if has_combo:
        parts = wide[["dense_ms", "grouped_ms", "other_ms", "n_ops"]].astype(float)
        methods[COMBO_LONO] = lono_predictions(parts, measured, nets)
        # Only where leave-one-network-out can validate it (2 other networks per fold): an
        # unvalidated in-sample correction would reach the cost command and the energy table.
        if len(set(nets)) >= 3:
            facts["correction"] = fit_net_correction(parts, measured).to_dict()
    rows = []
    for method, pred in methods.items():
        for i in range(len(wide)):
            p = float(pred[i])
            rows.append({"network": nets[i], "input_shape": wide["input_shape"].iat[i],
                         "batch": int(wide["batch"].iat[i]), "gflops": float(wide["gflops"].iat[i]),
                         "method": method, "predicted_ms": p if np.isfinite(p) else np.nan,
                         "measured_ms": measured[i],
                         "ape_pct": 100 * abs(p - measured[i]) / measured[i]
                         if np.isfinite(p) else np.nan})
    table = pd.DataFrame(rows)
    mape = table.groupby("method", sort=False)["ape_pct"].mean()
    facts["mape_pct"] = {m: _num(v) for m, v in mape.items()}
    facts["mape_pct_by_batch"] = {
        int(b): {m: _num(v) for m, v in g.groupby("method", sort=False)["ape_pct"].mean().items()}
        for b, g in table.groupby("batch")}
    recommended = COMBO_LONO if COMBO_LONO in mape and np.isfinite(mape[COMBO_LONO]) else None
    facts["recommended"] = recommended
    if recommended and "flops" in methods:
        ape = table.pivot_table(index=["network", "batch"], columns="method", values="ape_pct")
        miss = ape[ape["flops"] > TARGET_MAPE_PCT]
        facts["target"] = {
            "mape_pct": _num(mape[recommended]), "target_pct": TARGET_MAPE_PCT,
            "met": bool(mape[recommended] <= TARGET_MAPE_PCT),
            "flops_misses": int(len(miss)),
            "better_than_flops_where_it_misses": int((miss[recommended] < miss["flops"]).sum()),
            "rows_not_better": [f"{n} b{b}" for (n, b), r in miss.iterrows()
                                if not r[recommended] < r["flops"]],
        }
    return table, facts


def cost_model(device_id: str, params: Mapping[str, Any],
               op_costs_doc: Mapping[str, Any] | None,
               facts: Mapping[str, Any]) -> dict[str, Any]:
    """The ``cost_model.yaml`` of a device: what the ``cost`` command prices ops with."""
    chosen = device_time_model(params)
    model_doc = (params.get("models") or {}).get(chosen) or {}
    validated = None
    if facts.get("recommended"):
        mape = facts["mape_pct"]
        validated = {
            "method": "leave-one-network-out: each network predicted by a correction fitted on "
                      "the other measured networks",
            "networks": facts["networks"], "rows": facts["rows"],
            "mape_pct": mape.get(COMBO_LONO),
            "mape_pct_by_batch": {b: v.get(COMBO_LONO)
                                  for b, v in facts["mape_pct_by_batch"].items()},
            "uncorrected_mape_pct": mape.get(COMBO),
            "flops_mape_pct": mape.get("flops"), "flops_lono_mape_pct": mape.get(FLOPS_LONO),
        }
    return {
        "device_id": device_id,
        "time_model": chosen,
        "time_model_loso_mape_pct": (model_doc.get("mape_pct") or {}).get("loso"),
        "op_costs": None if op_costs_doc is None else op_costs_doc["costs"],
        "correction": facts.get("correction") or NetCorrection().to_dict(),
        "validated": validated,
        "note": _note(op_costs_doc is not None, validated is not None, facts),
    }


def _note(has_costs: bool, validated: bool, facts: Mapping[str, Any]) -> str:
    if validated:
        return ""
    parts = []
    if not has_costs:
        parts.append("no op sweep on this device: only the matrix products are priced (other "
                     "ops 0)")
    measured = int(facts.get("networks", 0))
    parts.append("not validated on whole networks: " + (
        "none measured on this device (rule network_timing)" if not measured else
        f"{measured} measured, at least 3 are needed for leave-one-network-out"
        if has_costs else "the combination needs op costs")
        + "; the whole-network correction is neutral")
    return "; ".join(parts)


def summary_rows(facts_by_device: Mapping[str, Mapping[str, Any]],
                 methods: Sequence[str]) -> pd.DataFrame:
    """MAPE (%) of each method per device (devices with measured networks)."""
    rows = []
    for device_id, facts in sorted(facts_by_device.items()):
        if not facts.get("networks"):
            continue
        rows.append({"device": device_id, "networks": facts["networks"],
                     **{m: (facts["mape_pct"] or {}).get(m) for m in methods}})
    return pd.DataFrame(rows, columns=["device", "networks", *methods])
